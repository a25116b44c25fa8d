"""The trained head: component models → component probabilities → combined scores → signals.

The components (see docs/MODEL_CARD.md): ``embedding`` — logistic regression on pooled
sentence embeddings; ``word`` / ``char`` — TF-IDF logistic regressions on the kept text;
``cue`` — per category, a TF-IDF regression on the sentences with that category's cue words;
``sentence`` — a fine-tuned sentence scorer, max over sentences (experimental). A
:class:`Calibration` averages their probabilities with weights per category and compares the
result with thresholds, both chosen separately for long articles. Training, evaluation and
serving all score with :meth:`Components.probabilities` and :meth:`Calibration.scores`.
Numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from schemas import CATEGORIES
from streams.classifier.artifact import Artifact, Manifest, Thresholds, Weight, Weights
from streams.classifier.cues import CueModel
from streams.classifier.features import ArticleFeatures
from streams.classifier.lexical import LexicalModel

__all__ = [
    "Calibration",
    "Components",
    "EmbeddingHead",
    "Head",
    "SentenceHead",
    "combine_weighted",
    "evidence_rows",
    "sigmoid",
]

#: A calibration's component weights as arrays: a scalar, or one weight per category.
WeightArrays = dict[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
    return out


@dataclass
class EmbeddingHead:
    """Standardised [max-pool, mean-pool] features -> one logistic regression per category."""

    mean: np.ndarray  # [2d]
    scale: np.ndarray  # [2d]
    coef: np.ndarray  # [2d, k]
    intercept: np.ndarray  # [k]

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
    """The sentence model: a linear layer on each sentence's embedding -> per-sentence logits
    (one logistic regression per category, fitted on sentence labels); an article's
    ``sentence`` probability is that of its highest-scoring sentence."""

    coef: np.ndarray  # [d, k]
    intercept: np.ndarray  # [k]

    def logits(self, sentence_embeddings: np.ndarray) -> np.ndarray:
        out: np.ndarray = sentence_embeddings @ self.coef + self.intercept
        return out

    def probabilities(self, sentence_embeddings: np.ndarray) -> np.ndarray:
        """Per sentence, per category [n, k]."""
        return sigmoid(self.logits(sentence_embeddings))

    def save(self, directory: Path) -> None:
        np.savez_compressed(
            directory / "sentence_head.npz",
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )

    @classmethod
    def load(cls, directory: Path) -> SentenceHead:
        with np.load(directory / "sentence_head.npz") as z:
            return cls(z["coef"].astype(np.float64), z["intercept"].astype(np.float64))


@dataclass
class Components:
    """The fitted component models (None: not part of the head)."""

    word: LexicalModel | None = None
    char: LexicalModel | None = None
    embedding: EmbeddingHead | None = None
    cue: CueModel | None = None
    sentence: SentenceHead | None = None

    def probabilities(self, articles: ArticleFeatures) -> dict[str, np.ndarray]:
        """Per component, the articles' probabilities [n, k]."""
        out: dict[str, np.ndarray] = {}
        if self.word is not None:
            out["word"] = self.word.predict_proba(articles.texts)
        if self.char is not None:
            out["char"] = self.char.predict_proba(articles.texts)
        if self.embedding is not None:
            if articles.pooled is None:
                raise ValueError("the embedding component needs pooled sentence embeddings")
            out["embedding"] = sigmoid(self.embedding.logits(articles.pooled))
        if self.cue is not None:
            out["cue"] = self.cue.predict_proba(articles.sentences)
        if self.sentence is not None:
            out["sentence"] = sigmoid(self._sentence_article_logits(articles))
        return out

    def _sentence_article_logits(self, articles: ArticleFeatures) -> np.ndarray:
        assert self.sentence is not None
        if articles.sentence_embeddings is None or articles.offsets is None:
            raise ValueError("the sentence component needs the sentence embeddings")
        k = len(CATEGORIES)
        emb, offsets = articles.sentence_embeddings, articles.offsets
        logits = self.sentence.logits(emb) if len(emb) else np.zeros((0, k))
        out = np.full((len(articles), k), -40.0)
        for i in range(len(articles)):
            if offsets[i + 1] > offsets[i]:
                out[i] = logits[offsets[i] : offsets[i + 1]].max(0)
        return out

    def save(self, directory: Path) -> None:
        """Write the components' arrays (a fine-tuned ``sentence`` scorer is written by fine-tuning)."""
        stale_files = (
            "word.json",
            "word.npz",
            "char.json",
            "char.npz",
            "embedding_head.npz",
            "sentence_head.npz",
        )
        for stale in stale_files:
            (directory / stale).unlink(missing_ok=True)
        if self.word is not None:
            self.word.save(directory, "word")
        if self.char is not None:
            self.char.save(directory, "char")
        if self.embedding is not None:
            self.embedding.save(directory)
        if self.sentence is not None:
            self.sentence.save(directory)
        if self.cue is not None:
            self.cue.save(directory)
        else:
            CueModel.remove(directory)

    @classmethod
    def load(cls, directory: Path, names: set[str]) -> Components:
        """The components ``names`` stored in ``directory``."""
        return cls(
            word=LexicalModel.load(directory, "word") if "word" in names else None,
            char=LexicalModel.load(directory, "char") if "char" in names else None,
            embedding=EmbeddingHead.load(directory) if "embedding" in names else None,
            cue=CueModel.load(directory) if "cue" in names else None,
            sentence=SentenceHead.load(directory) if "sentence" in names else None,
        )


def _weight_arrays(weights: Mapping[str, Weight]) -> WeightArrays:
    """Weights as float arrays, without the components weighted 0 everywhere."""
    arrays = {name: np.asarray(w, dtype=np.float64) for name, w in weights.items()}
    return {name: w for name, w in arrays.items() if np.any(w)}


def combine_weighted(
    probs: Mapping[str, np.ndarray], weights: Mapping[str, Weight | np.ndarray]
) -> np.ndarray:
    """The weighted mean of component probabilities [n, k]; a weight is a number or one per category.

    Components whose weight is zero everywhere are skipped; every category needs some weight.
    """
    out: np.ndarray | float = 0.0
    total: np.ndarray | float = 0.0
    for name, weight in weights.items():
        w = np.asarray(weight, dtype=np.float64)
        if not np.any(w):
            continue
        out = out + w * probs[name]
        total = total + w
    if not np.all(np.asarray(total) > 0):
        raise ValueError(f"a category has no component weight: {dict(weights)}")
    result: np.ndarray = np.asarray(out / total)
    return result


#: Length buckets of a calibration: what :meth:`Calibration.buckets` returns per article.
PASSAGE, LONG, SHORT = 0, 1, 2


@dataclass
class Calibration:
    """Component weights and thresholds for passages, (when ``long_words`` is set) for articles
    of more than ``long_words`` words, and (when ``short_sentences`` is set) for articles of at
    most ``short_sentences`` kept sentences and (when ``short_words`` is set) at most
    ``short_words`` kept words: wire flashes, which the sentence model judges mainly.
    ``sentence_thresholds``: the sentence model's probability at which a sentence is evidence."""

    weights: Weights
    thresholds: np.ndarray  # [k]
    long_words: int | None = None
    long_weights: Weights | None = None
    long_thresholds: np.ndarray | None = None  # [k]
    short_sentences: int | None = None
    short_words: int | None = None
    short_weights: Weights | None = None
    short_thresholds: np.ndarray | None = None  # [k]
    sentence_thresholds: np.ndarray | None = None  # [k]
    _arrays: tuple[WeightArrays, WeightArrays | None, WeightArrays | None] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        long = None if self.long_weights is None else _weight_arrays(self.long_weights)
        short = None if self.short_weights is None else _weight_arrays(self.short_weights)
        self._arrays = (_weight_arrays(self.weights), long, short)

    def is_long(self, words: np.ndarray) -> np.ndarray:
        """Per article of ``words`` kept words, whether the long calibration applies."""
        if self.long_words is None:
            return np.zeros(len(words), dtype=bool)
        return np.asarray(words) > self.long_words

    def buckets(self, words: np.ndarray, n_sentences: np.ndarray | None = None) -> np.ndarray:
        """Per article, PASSAGE, LONG or SHORT: short (at most ``short_sentences`` kept
        sentences and ``short_words`` kept words) before long (more than ``long_words`` words)."""
        out = np.where(self.is_long(words), LONG, PASSAGE)
        if self.short_sentences is not None and n_sentences is not None:
            short = np.asarray(n_sentences) <= self.short_sentences
            if self.short_words is not None:
                short &= np.asarray(words) <= self.short_words
            out = np.where(short, SHORT, out)
        return out

    def combine(self, probs: Mapping[str, np.ndarray], buckets: np.ndarray | None = None) -> np.ndarray:
        """Combined scores [n, k]: each article with its bucket's weights (the passage weights
        where ``buckets`` is None or the bucket has no calibration of its own). A boolean
        ``buckets`` marks the long articles."""
        weights, long_weights, short_weights = self._arrays
        out = combine_weighted(probs, weights)
        if buckets is None:
            return out
        b = np.asarray(buckets)
        if b.dtype == bool:
            b = np.where(b, LONG, PASSAGE)
        for bucket, w in ((LONG, long_weights), (SHORT, short_weights)):
            rows = b == bucket
            if w is not None and rows.any():
                out[rows] = combine_weighted({c: p[rows] for c, p in probs.items()}, w)
        return out

    def thresholds_for(self, buckets: np.ndarray) -> np.ndarray:
        """The thresholds [n, k] of articles in ``buckets`` (boolean: long or not)."""
        b = np.asarray(buckets)
        if b.dtype == bool:
            b = np.where(b, LONG, PASSAGE)
        out = np.tile(self.thresholds, (len(b), 1))
        if self.long_thresholds is not None:
            out[b == LONG] = self.long_thresholds
        if self.short_thresholds is not None:
            out[b == SHORT] = self.short_thresholds
        return out

    def scores(
        self, probs: Mapping[str, np.ndarray], words: np.ndarray, n_sentences: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Combined scores [n, k] of articles with component probabilities ``probs``, ``words``
        kept words and ``n_sentences`` kept sentences, and the thresholds [n, k] each is
        compared with."""
        buckets = self.buckets(words, n_sentences)
        return self.combine(probs, buckets), self.thresholds_for(buckets)

    def predict(
        self, probs: Mapping[str, np.ndarray], words: np.ndarray, n_sentences: np.ndarray | None = None
    ) -> np.ndarray:
        """Signals [n, k] (0/1)."""
        scores, thresholds = self.scores(probs, words, n_sentences)
        return (scores >= thresholds).astype(int)

    def used_components(self) -> set[str]:
        weights, long_weights, short_weights = self._arrays
        return set(weights) | set(long_weights or {}) | set(short_weights or {})

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Calibration:
        m, t = artifact.manifest, artifact.thresholds

        def array(values: dict[str, float] | None) -> np.ndarray | None:
            return None if values is None else np.array([values[c] for c in CATEGORIES])

        return cls(
            weights=m.weights,
            thresholds=np.array([t.thresholds[c] for c in CATEGORIES]),
            long_words=m.long_words,
            long_weights=m.long_weights,
            long_thresholds=array(t.long_thresholds),
            short_sentences=m.short_sentences,
            short_words=m.short_words,
            short_weights=m.short_weights,
            short_thresholds=array(t.short_thresholds),
            sentence_thresholds=array(t.sentence_thresholds),
        )

    def thresholds_file(
        self,
        version: str,
        method: str,
        long_method: str | None,
        short_method: str | None = None,
        sentence_method: str | None = None,
    ) -> Thresholds:
        """``thresholds.json`` of this calibration (rounded to 6 decimals)."""

        def per_category(values: np.ndarray | None) -> dict[str, float] | None:
            if values is None:
                return None
            return {c: round(float(v), 6) for c, v in zip(CATEGORIES, values, strict=True)}

        return Thresholds(
            thresholds_version=version,
            method=method,
            thresholds=per_category(self.thresholds) or {},
            long_method=None if self.long_thresholds is None else long_method,
            long_thresholds=per_category(self.long_thresholds),
            short_method=None if self.short_thresholds is None else short_method,
            short_thresholds=per_category(self.short_thresholds),
            sentence_method=None if self.sentence_thresholds is None else sentence_method,
            sentence_thresholds=per_category(self.sentence_thresholds),
        )


@dataclass
class Head:
    """A loaded artifact: the components, their calibration, and the artifact's description."""

    components: Components
    calibration: Calibration
    artifact: Artifact

    @property
    def manifest(self) -> Manifest:
        return self.artifact.manifest

    @classmethod
    def load(cls, directory: Path) -> Head:
        """Read and validate the artifact at ``directory``; load the components it weights."""
        directory = Path(directory)
        artifact = Artifact.read(directory)
        calibration = Calibration.from_artifact(artifact)
        return cls(Components.load(directory, calibration.used_components()), calibration, artifact)

    def scores(self, articles: ArticleFeatures) -> tuple[np.ndarray, np.ndarray]:
        """Combined scores [n, k] and the thresholds [n, k] each is compared with."""
        return self.calibration.scores(
            self.components.probabilities(articles), articles.words(), articles.n_sentences()
        )

    def sentence_scores(self, sentences: ArticleFeatures) -> np.ndarray:
        """A score per sentence [n_sentences, k], to rank sentences as evidence.

        With a sentence model: its per-sentence probability. Otherwise each sentence is scored
        by the article models as a one-sentence article, with the passage weights whatever
        its length: evidence is compared with the passage thresholds.
        """
        sentence = self.components.sentence
        if sentence is not None and sentences.sentence_embeddings is not None:
            return sentence.probabilities(sentences.sentence_embeddings)
        return self.calibration.combine(self.components.probabilities(sentences))

    def evidence_thresholds(self) -> np.ndarray:
        """Per category, the sentence score at which a sentence is evidence: the sentence
        model's own thresholds when the artifact has them, else the passage thresholds."""
        t = self.calibration.sentence_thresholds
        return self.calibration.thresholds if t is None else t


def evidence_rows(col: np.ndarray, threshold: float, limit: int) -> list[int]:
    """The evidence of one signal among sentences scored ``col``: those reaching ``threshold``,
    best first, at most ``limit``; the best sentence alone when none does."""
    order = np.argsort(-col, kind="stable")
    chosen = [int(i) for i in order[:limit] if col[i] >= threshold]
    return chosen or [int(order[0])]
