"""The service's classifier: articles → sentences → encoder → head → signals with evidence,
actors and severity (:class:`EscalationClassifier`, built by :func:`load_classifier`).

With the default ONNX backend it needs neither torch nor scikit-learn; docs/MODEL_CARD.md
describes the model.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from schemas import Evidence, ModelInfo, Signal
from schemas.events import Article
from streams.classifier.actors import extract_actors
from streams.classifier.artifact import shipped_artifact
from streams.classifier.base import Assessment
from streams.classifier.encoder import Encoder
from streams.classifier.features import (
    ArticleFeatures,
    encode_per_article,
    kept_spans,
    kept_text,
    pooled_per_article,
)
from streams.classifier.head import Head, evidence_rows
from streams.classifier.sentences import Span
from streams.classifier.severity import score_severity

if TYPE_CHECKING:
    from streams.config import ClassifierSettings

__all__ = ["DEFAULT_ENCODER_NAME", "EscalationClassifier", "load_classifier"]

MAX_EVIDENCE = 3
DEFAULT_ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


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
        manifest = self.head.manifest
        # The head was trained on one encoder's embeddings: an artifact trained with a custom
        # encoder records its path, used when the setting is empty.
        self.encoder_setting = encoder or manifest.encoder_path
        self.encoder_name = encoder or manifest.encoder or DEFAULT_ENCODER_NAME
        self.backend = backend
        self.batch_size = batch_size
        self.max_sentences = max_sentences
        self.threads = threads
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()
        self.model_info = ModelInfo(
            encoder=self.encoder_name,
            head_version=manifest.head_version,
            thresholds_version=self.head.artifact.thresholds.thresholds_version,
        )

    # -- encoder (lazy) ------------------------------------------------------------------------

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._load_encoder()
        return self._encoder

    def _load_encoder(self) -> Encoder:
        from streams.classifier.encoder import OnnxEncoder, TorchEncoder

        manifest = self.head.manifest
        overrides = self.artifact_dir / manifest.encoder_overrides if manifest.encoder_overrides else None
        if self.backend == "torch":
            return TorchEncoder(self.encoder_setting, batch_size=self.batch_size, overrides=overrides)
        onnx_path = None
        shipped = self.artifact_dir / "encoder-int8.onnx"
        if shipped.exists() and self.encoder_setting == manifest.encoder_path:
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
        needs_embeddings = bool(self.head.components.embedding or self.head.components.sentence)
        emb = encode_per_article(self.encoder, spans) if needs_embeddings else None
        offsets = np.cumsum([0] + [len(ss) for ss in spans])
        features = ArticleFeatures(
            texts=[kept_text(a.title, a.body, ss) for a, ss in zip(articles, spans, strict=True)],
            sentences=[[s.text for s in ss] for ss in spans],
            pooled=None if emb is None else pooled_per_article(emb, offsets),
            sentence_embeddings=emb,
            offsets=offsets,
        )
        scores, thresholds = self.head.scores(features)
        k = len(self.head.artifact.manifest.categories)
        per_article = [np.zeros((0, k)) for _ in articles]
        signalled = [i for i in range(len(articles)) if np.any(scores[i] >= thresholds[i]) and spans[i]]
        if signalled and emb is not None and self.head.components.sentence is not None:
            # the sentence model's probabilities (what the `sentence` component took the max of)
            for i in signalled:
                per_article[i] = self.head.components.sentence.probabilities(emb[offsets[i] : offsets[i + 1]])
        elif signalled:
            rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in signalled])
            one_sentence_articles = ArticleFeatures.of_sentences(
                [flat[r] for r in rows], None if emb is None else emb[rows]
            )
            sent = self.head.sentence_scores(one_sentence_articles)
            start = 0
            for i in signalled:
                n = offsets[i + 1] - offsets[i]
                per_article[i] = sent[start : start + n]
                start += n
        return scores, thresholds, spans, per_article

    def signals_for(
        self, scores: np.ndarray, thresholds: np.ndarray, spans: Sequence[Span], sent_scores: np.ndarray
    ) -> list[Signal]:
        """The signals of one article: categories over their thresholds, highest score first.

        A signal's evidence is the sentences whose sentence score reaches the evidence threshold
        (with a sentence model: the sentences it signals), best first, at most three; the best
        sentence alone when none does.
        """
        signals: list[Signal] = []
        if not spans:
            return signals
        evidence_thresholds = self.head.evidence_thresholds()
        for j, category in enumerate(self.head.manifest.categories):
            if scores[j] < thresholds[j]:
                continue
            chosen = evidence_rows(sent_scores[:, j], evidence_thresholds[j], MAX_EVIDENCE)
            evidence = [
                Evidence(field=spans[i].field, start=spans[i].start, end=spans[i].end, text=spans[i].text)
                for i in chosen
            ]
            signals.append(
                Signal(category=category, score=float(np.clip(scores[j], 0, 1)), evidence=evidence)
            )
        signals.sort(key=lambda sig: -sig.score)
        return signals

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        if not articles:
            return []
        scores, thresholds, spans, sent_scores = self.score(articles)
        categories = self.head.manifest.categories
        out: list[Assessment] = []
        for i, article in enumerate(articles):
            signals = self.signals_for(scores[i], thresholds[i], spans[i], sent_scores[i])
            actors = extract_actors(article, signals, sentences=spans[i])
            severity, level = score_severity(signals, actors)
            out.append(
                Assessment(
                    scores={c: float(np.clip(scores[i, j], 0, 1)) for j, c in enumerate(categories)},
                    signals=signals,
                    actors=actors,
                    severity=severity,
                    level=level,
                )
            )
        return out


def load_classifier(settings: ClassifierSettings | None = None) -> EscalationClassifier:
    """Build the classifier from ``ClassifierSettings`` (or defaults); the encoder loads lazily."""
    if settings is None:
        return EscalationClassifier()
    return EscalationClassifier(
        artifact=settings.artifact,
        encoder=settings.encoder,
        backend=settings.backend,
        batch_size=settings.batch_size,
        max_sentences=settings.max_sentences,
        threads=settings.threads,
    )
