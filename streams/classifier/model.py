"""The escalation classifier: a frozen sentence encoder plus a small trained head.

How an article is scored (see docs/MODEL_CARD.md for why):

1. The title and the body are split into sentences with exact character offsets
   (:mod:`streams.classifier.sentences`); the title and the first ``max_sentences`` sentences
   are kept.
2. Each sentence is embedded by the encoder (all-MiniLM-L6-v2 by default; ONNX Runtime int8
   or transformers+torch fp32), mean-pooled and L2-normalised.
3. Four linear models give a probability per category; their weighted mean is the article's
   score: ``embedding`` — logistic regression on [max-pool, mean-pool] of the sentence
   embeddings; ``word`` — logistic regression on word 1–2 gram TF-IDF of the kept text;
   ``char`` — logistic regression on character 2–5 gram TF-IDF of the kept text; ``cue``
   (:mod:`streams.classifier.cues`) — per category, word TF-IDF of only the sentences with
   that category's cue words, with a weight per category.
4. A category is signalled when its score reaches its threshold (chosen on out-of-fold
   predictions at training time, stored with the head). Articles whose kept text has more than
   ``long_words`` words (250) use their own cue weights and thresholds, calibrated on long
   articles (:func:`streams.training.train.calibrate`).
5. Evidence (only for articles with a signal): the same models applied to each sentence alone
   score the sentences; the best sentence of a signalled category is its evidence, with any
   other sentence that passes the category's threshold on its own (at most three, in reading
   order).

The head is numpy-only: neither scikit-learn nor torch is needed at run time with the ONNX
backend.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from schemas import CATEGORIES, Evidence, ModelInfo, Signal
from schemas.events import Article
from streams.classifier.base import Assessment
from streams.classifier.cues import CueModel
from streams.classifier.lexical import LexicalModel
from streams.classifier.sentences import Span, article_spans

__all__ = [
    "ARTIFACTS_DIR",
    "DEFAULT_HEAD_VERSION",
    "EscalationClassifier",
    "Head",
    "combine_weighted",
    "load_classifier",
    "shipped_artifact",
]

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_HEAD_VERSION = "minilm-context-v6"
MAX_EVIDENCE = 3
DEFAULT_ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def shipped_artifact() -> Path:
    return ARTIFACTS_DIR / DEFAULT_HEAD_VERSION


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
    return out


def kept_spans(title: str, body: str, max_sentences: int) -> list[Span]:
    """Title sentences plus the first ``max_sentences`` body sentences."""
    spans = article_spans(title, body)
    titles = [s for s in spans if s.field == "title"]
    bodies = [s for s in spans if s.field == "body"][:max_sentences]
    return titles + bodies


def kept_text(title: str, body: str, spans: Sequence[Span]) -> str:
    """The text the lexical models read: the title and the body up to the last kept sentence.

    Training passages are read as ``title + "\\n" + body``; a body is cut after its last
    kept sentence so that a very long article costs no more than ``max_sentences`` sentences.
    """
    body_spans = [s for s in spans if s.field == "body"]
    end = body_spans[-1].end if body_spans else 0
    return f"{title}\n{body[:end]}"


def word_counts(texts: Sequence[str]) -> np.ndarray:
    """Whitespace-separated words per text: the length that routes an article to its
    calibration, in training and in serving alike."""
    return np.array([len(t.split()) for t in texts], dtype=int)


def encode_per_article(encoder: Any, spans: Sequence[Sequence[Span]]) -> np.ndarray:
    """Sentence embeddings [n_sentences, dim], one encoder call per article.

    Each article's sentences are batched only with each other: int8 dynamic quantisation
    scales activations per batch, so batching across articles would make an article's scores
    depend on its neighbours in the batch. Per article, the result is deterministic.
    """
    parts = [encoder.encode([s.text for s in ss]) for ss in spans if ss]
    if not parts:
        return np.zeros((0, int(getattr(encoder, "dim", 1) or 1)), dtype=np.float32)
    return np.concatenate(parts)


@dataclass
class EmbeddingHead:
    """Standardised [max-pool, mean-pool] features -> one logistic regression per category."""

    mean: np.ndarray  # [2d]
    scale: np.ndarray  # [2d]
    coef: np.ndarray  # [2d, k]
    intercept: np.ndarray  # [k]

    @staticmethod
    def pool(sentence_embeddings: np.ndarray) -> np.ndarray:
        return np.concatenate([sentence_embeddings.max(0), sentence_embeddings.mean(0)])

    def logits(self, features: np.ndarray) -> np.ndarray:
        out: np.ndarray = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return out

    def save(self, directory: Path) -> None:
        np.savez_compressed(
            directory / "embedding_head.npz",
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )

    @classmethod
    def load(cls, directory: Path) -> EmbeddingHead:
        with np.load(directory / "embedding_head.npz") as z:
            return cls(
                z["mean"].astype(np.float64),
                z["scale"].astype(np.float64),
                z["coef"].astype(np.float64),
                z["intercept"].astype(np.float64),
            )


@dataclass
class SentenceHead:
    """Linear layer on a sentence embedding -> per-sentence logits; article = max over sentences."""

    coef: np.ndarray  # [d, k]
    intercept: np.ndarray  # [k]

    def logits(self, sentence_embeddings: np.ndarray) -> np.ndarray:
        out: np.ndarray = sentence_embeddings @ self.coef + self.intercept
        return out

    @classmethod
    def load(cls, directory: Path) -> SentenceHead:
        with np.load(directory / "sentence_head.npz") as z:
            return cls(z["coef"].astype(np.float64), z["intercept"].astype(np.float64))


@dataclass
class Head:
    """Everything trained: the component models, their weights in the average, the thresholds.

    Components (those with a weight in the manifest are used): ``sentence`` — the fine-tuned
    sentence scorer, max over sentences; ``embedding`` — LR on pooled frozen embeddings;
    ``word`` / ``char`` — TF-IDF LRs on the text; ``cue`` — per category, a TF-IDF LR on the
    sentences with that category's cue words. A weight is one number or one per category.
    """

    categories: tuple[str, ...]
    weights: dict[str, np.ndarray]
    thresholds: np.ndarray
    manifest: dict[str, Any]
    #: articles whose kept text has more than ``long_words`` words use ``long_weights`` and
    #: ``long_thresholds`` (calibrated on long articles); None: one calibration for all.
    long_words: int | None = None
    long_weights: dict[str, np.ndarray] | None = None
    long_thresholds: np.ndarray | None = None
    word: LexicalModel | None = None
    char: LexicalModel | None = None
    embedding: EmbeddingHead | None = None
    sentence: SentenceHead | None = None
    cue: CueModel | None = None

    @classmethod
    def load(cls, directory: Path) -> Head:
        directory = Path(directory)
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        thresholds = json.loads((directory / "thresholds.json").read_text(encoding="utf-8"))
        categories = tuple(manifest["categories"])
        if categories != tuple(CATEGORIES):
            raise ValueError(f"artifact {directory} has categories {categories}, expected {CATEGORIES}")
        weights = _checked_weights(manifest["weights"], len(categories), directory)
        long_words = manifest.get("long_words")
        long_weights = long_thresholds = None
        if long_words is not None:
            if isinstance(long_words, bool) or not isinstance(long_words, int) or long_words < 1:
                raise ValueError(f"{directory}: long_words must be a positive integer, got {long_words!r}")
            if "long_weights" not in manifest or "long_thresholds" not in thresholds:
                raise ValueError(
                    f"{directory}: long_words is set but long_weights or long_thresholds is missing"
                )
            if thresholds.get("long_words", long_words) != long_words:
                raise ValueError(f"{directory}: manifest.json and thresholds.json disagree on long_words")
            long_weights = _checked_weights(manifest["long_weights"], len(categories), directory)
            long_thresholds = np.array([thresholds["long_thresholds"][c] for c in categories])
        # a component whose weight is 0 in both calibrations is neither saved nor needed
        used = {k for w in (weights, long_weights or {}) for k, v in w.items() if np.any(v)}
        return cls(
            categories=categories,
            weights=weights,
            thresholds=np.array([thresholds["thresholds"][c] for c in categories]),
            manifest=manifest,
            long_words=None if long_words is None else int(long_words),
            long_weights=long_weights,
            long_thresholds=long_thresholds,
            word=LexicalModel.load(directory, "word") if "word" in used else None,
            char=LexicalModel.load(directory, "char") if "char" in used else None,
            embedding=EmbeddingHead.load(directory) if "embedding" in used else None,
            sentence=SentenceHead.load(directory) if "sentence" in used else None,
            cue=CueModel.load(directory) if "cue" in used else None,
        )

    def is_long(self, texts: Sequence[str]) -> np.ndarray:
        """Per kept text, whether the long-article calibration applies."""
        if self.long_words is None:
            return np.zeros(len(texts), dtype=bool)
        return word_counts(texts) > self.long_words

    def thresholds_for(self, long: np.ndarray) -> np.ndarray:
        """The thresholds [n, k] of articles that are long or not (:meth:`is_long`)."""
        return thresholds_by_length(long, self.thresholds, self.long_thresholds)

    def combine(self, probs: dict[str, np.ndarray], long: np.ndarray | None = None) -> np.ndarray:
        """The weighted mean of component probabilities; rows where ``long`` use the long weights."""
        return combine_by_length(probs, long, self.weights, self.long_weights)

    def component_probs(
        self,
        sentence_embeddings: np.ndarray,
        offsets: np.ndarray,
        texts: Sequence[str],
        sentences: Sequence[str],
    ) -> dict[str, np.ndarray]:
        """Per component, article probabilities [n, k].

        ``offsets`` delimit each article's rows in ``sentence_embeddings`` and ``sentences`` (the
        kept sentences' texts); ``texts`` are the articles' kept texts.
        """
        n = len(texts)
        k = len(self.categories)
        out: dict[str, np.ndarray] = {}
        if self.word is not None:
            out["word"] = self.word.predict_proba(texts)
        if self.char is not None:
            out["char"] = self.char.predict_proba(texts)
        if self.embedding is not None:
            dim = sentence_embeddings.shape[1]
            pooled = np.zeros((n, 2 * dim))
            for i in range(n):
                e = sentence_embeddings[offsets[i] : offsets[i + 1]]
                if len(e):
                    pooled[i] = EmbeddingHead.pool(e)
            out["embedding"] = _sigmoid(self.embedding.logits(pooled))
        if self.sentence is not None:
            sl = self.sentence.logits(sentence_embeddings) if len(sentence_embeddings) else np.zeros((0, k))
            art = np.full((n, k), -40.0)
            for i in range(n):
                if offsets[i + 1] > offsets[i]:
                    art[i] = sl[offsets[i] : offsets[i + 1]].max(0)
            out["sentence"] = _sigmoid(art)
        if self.cue is not None:
            out["cue"] = self.cue.predict_proba([sentences[offsets[i] : offsets[i + 1]] for i in range(n)])
        return out

    def sentence_scores(self, sentence_embeddings: np.ndarray, sentences: Sequence[str]) -> np.ndarray:
        """A score per sentence [n_sentences, k], to rank sentences as evidence.

        With a sentence scorer: its per-sentence probability. Otherwise each sentence is scored
        by the article models as if it were a one-sentence article.
        """
        if self.sentence is not None:
            return _sigmoid(self.sentence.logits(sentence_embeddings))
        offsets = np.arange(len(sentences) + 1)
        # the passage weights whatever a sentence's length: evidence is compared with the
        # passage thresholds
        return self.combine(self.component_probs(sentence_embeddings, offsets, sentences, sentences))


class EscalationClassifier:
    """The :class:`~streams.classifier.base.Classifier` of the service (thread-safe)."""

    def __init__(
        self,
        artifact: str | Path = "",
        *,
        encoder: str = "",
        backend: str = "onnx",
        batch_size: int = 32,
        max_sentences: int = 64,
        threads: int = 0,
    ) -> None:
        self.artifact_dir = Path(artifact) if artifact else shipped_artifact()
        self.head = Head.load(self.artifact_dir)
        # The head was trained on one encoder's embeddings: an artifact trained with a custom
        # encoder records its path, used when the setting is empty.
        self.encoder_setting = encoder or str(self.head.manifest.get("encoder_path", ""))
        self.encoder_name = encoder or str(self.head.manifest.get("encoder", "")) or DEFAULT_ENCODER_NAME
        self.backend = backend
        self.batch_size = batch_size
        self.max_sentences = max_sentences
        self.threads = threads
        self._encoder: Any = None
        self._lock = threading.Lock()
        self.model_info = ModelInfo(
            encoder=self.encoder_name,
            head_version=str(self.head.manifest["head_version"]),
            thresholds_version=str(self.head.manifest["thresholds_version"]),
        )

    # -- encoder (lazy) ------------------------------------------------------------------------

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._load_encoder()
        return self._encoder

    def _load_encoder(self) -> Any:
        from streams.classifier.encoder import OnnxEncoder, TorchEncoder

        overrides_name = self.head.manifest.get("encoder_overrides")
        overrides = self.artifact_dir / overrides_name if overrides_name else None
        if self.backend == "torch":
            return TorchEncoder(self.encoder_setting, batch_size=self.batch_size, overrides=overrides)
        onnx_path = None
        shipped = self.artifact_dir / "encoder-int8.onnx"
        if shipped.exists() and self.encoder_setting == str(self.head.manifest.get("encoder_path", "")):
            onnx_path = shipped  # exported (with any fine-tuned layers) at training time
        return OnnxEncoder(
            self.encoder_setting,
            onnx_path=onnx_path,
            batch_size=self.batch_size,
            threads=self.threads or None,
            overrides=overrides,
        )

    # -- scoring -------------------------------------------------------------------------------

    def score(
        self, articles: Sequence[Article]
    ) -> tuple[np.ndarray, np.ndarray, list[list[Span]], list[np.ndarray]]:
        """Article scores [n, k], their thresholds [n, k] (by article length), the kept sentence
        spans and per-sentence scores of each article.

        Sentences are scored (to pick evidence) only in articles with at least one signal; the
        others get an empty [0, k] array — most articles of a news stream have no signal.
        """
        spans = [kept_spans(a.title, a.body, self.max_sentences) for a in articles]
        flat = [s.text for ss in spans for s in ss]
        emb = encode_per_article(self.encoder, spans)
        offsets = np.cumsum([0] + [len(ss) for ss in spans])
        texts = [kept_text(a.title, a.body, ss) for a, ss in zip(articles, spans, strict=True)]
        long = self.head.is_long(texts)  # each article with its length's calibration
        scores = self.head.combine(self.head.component_probs(emb, offsets, texts, flat), long)
        thresholds = self.head.thresholds_for(long)
        k = len(self.head.categories)
        per_article = [np.zeros((0, k)) for _ in articles]
        signalled = [i for i in range(len(articles)) if np.any(scores[i] >= thresholds[i]) and spans[i]]
        if signalled:
            rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in signalled])
            sent = self.head.sentence_scores(emb[rows], [flat[r] for r in rows])
            start = 0
            for i in signalled:
                n = offsets[i + 1] - offsets[i]
                per_article[i] = sent[start : start + n]
                start += n
        return scores, thresholds, spans, per_article

    def signals_for(
        self, scores: np.ndarray, thresholds: np.ndarray, spans: Sequence[Span], sent_scores: np.ndarray
    ) -> list[Signal]:
        signals: list[Signal] = []
        if not spans:
            return signals
        for j, category in enumerate(self.head.categories):
            threshold = thresholds[j]
            if scores[j] < threshold:
                continue
            col = sent_scores[:, j]
            best = int(np.argmax(col))
            chosen = {best}
            for i in np.argsort(-col)[:MAX_EVIDENCE]:
                if col[i] >= self.head.thresholds[j]:  # a sentence is scored as a short passage
                    chosen.add(int(i))
            chosen_sorted = sorted(chosen, key=lambda i: (spans[i].field != "title", spans[i].start))
            evidence = [
                Evidence(field=spans[i].field, start=spans[i].start, end=spans[i].end, text=spans[i].text)
                for i in chosen_sorted[:MAX_EVIDENCE]
            ]
            signals.append(
                Signal(category=category, score=float(np.clip(scores[j], 0, 1)), evidence=evidence)
            )
        # the contract: categories over their thresholds, highest score first
        signals.sort(key=lambda sig: -sig.score)
        return signals

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        from streams.classifier.actors import extract_actors
        from streams.classifier.severity import score_severity

        if not articles:
            return []
        scores, thresholds, spans, sent_scores = self.score(articles)
        out: list[Assessment] = []
        for i, article in enumerate(articles):
            signals = self.signals_for(scores[i], thresholds[i], spans[i], sent_scores[i])
            actors = extract_actors(article, signals, sentences=spans[i])
            severity, level = score_severity(signals, actors)
            out.append(
                Assessment(
                    scores={
                        c: float(np.clip(scores[i, j], 0, 1)) for j, c in enumerate(self.head.categories)
                    },
                    signals=signals,
                    actors=actors,
                    severity=severity,
                    level=level,
                )
            )
        return out


def _checked_weights(raw: dict[str, Any], k: int, where: Path) -> dict[str, np.ndarray]:
    """The manifest's component weights, each one number or one per category, checked at load
    time (not at the first article): finite, not negative, every category weighted."""
    weights: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        w = np.asarray(value, dtype=np.float64)
        if w.ndim > 1 or (w.ndim == 1 and len(w) != k):
            raise ValueError(f"{where}: weight of {name!r} must be a number or {k} numbers, got {value!r}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"{where}: weight of {name!r} must be finite and not negative, got {value!r}")
        if np.any(w):
            weights[name] = w
    total = sum((np.broadcast_to(w, (k,)) for w in weights.values()), np.zeros(k))
    if not np.all(total > 0):
        raise ValueError(f"{where}: some category has no component weight: {raw!r}")
    return weights


def combine_weighted(probs: dict[str, np.ndarray], weights: dict[str, Any]) -> np.ndarray:
    """The weighted mean of component probabilities [n, k]; a weight is a number or one per category.

    Components whose weight is zero everywhere are skipped; every category needs some weight.
    """
    out: Any = 0.0
    total: Any = 0.0
    for name, weight in weights.items():
        w = np.asarray(weight, dtype=np.float64)
        if not np.any(w):
            continue
        out = out + w * probs[name]
        total = total + w
    if not np.all(np.asarray(total) > 0):
        raise ValueError(f"a category has no component weight: {weights}")
    result: np.ndarray = out / total
    return result


def combine_by_length(
    probs: dict[str, np.ndarray],
    long: np.ndarray | None,
    weights: dict[str, Any],
    long_weights: dict[str, Any] | None,
) -> np.ndarray:
    """:func:`combine_weighted` with ``weights``, and ``long_weights`` on the rows where ``long``."""
    out = combine_weighted(probs, weights)
    if long is not None and long_weights is not None and long.any():
        out[long] = combine_weighted({c: p[long] for c, p in probs.items()}, long_weights)
    return out


def thresholds_by_length(
    long: np.ndarray, thresholds: np.ndarray, long_thresholds: np.ndarray | None
) -> np.ndarray:
    """Per row, ``long_thresholds`` where ``long``, else ``thresholds``: [n, k]."""
    out = np.tile(thresholds, (len(long), 1))
    if long_thresholds is not None:
        out[long] = long_thresholds
    return out


def load_classifier(settings: Any = None) -> EscalationClassifier:
    """Build the classifier from ``ClassifierSettings`` (or defaults); the encoder loads lazily."""
    if settings is None:
        return EscalationClassifier()
    return EscalationClassifier(
        artifact=getattr(settings, "artifact", ""),
        encoder=getattr(settings, "encoder", ""),
        backend=getattr(settings, "backend", "onnx"),
        batch_size=getattr(settings, "batch_size", 32),
        max_sentences=getattr(settings, "max_sentences", 64),
        threads=getattr(settings, "threads", 0),
    )


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
