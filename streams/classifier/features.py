"""What the head reads of an article: its kept sentences, its kept text, its length and its
sentence embeddings — computed the same way for training, evaluation and serving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streams.classifier.encoder import Encoder
from streams.classifier.sentences import Span, article_spans

__all__ = [
    "ArticleFeatures",
    "encode_per_article",
    "kept_spans",
    "kept_text",
    "pool",
    "pooled_per_article",
    "word_counts",
]


def kept_spans(title: str, body: str, max_sentences: int) -> list[Span]:
    """Title sentences plus the first ``max_sentences`` body sentences."""
    spans = article_spans(title, body)
    titles = [s for s in spans if s.field == "title"]
    bodies = [s for s in spans if s.field == "body"][:max_sentences]
    return titles + bodies


def kept_text(title: str, body: str, spans: Sequence[Span]) -> str:
    """The text the lexical models read: the title and the body up to the last kept sentence.

    A body is cut after its last kept sentence so that a very long article costs no more than
    ``max_sentences`` sentences.
    """
    body_spans = [s for s in spans if s.field == "body"]
    end = body_spans[-1].end if body_spans else 0
    return f"{title}\n{body[:end]}"


def word_counts(texts: Sequence[str]) -> np.ndarray:
    """Whitespace-separated words per kept text: the length that routes an article to its
    calibration."""
    return np.array([len(t.split()) for t in texts], dtype=int)


def encode_per_article(encoder: Encoder, spans: Sequence[Sequence[Span]]) -> np.ndarray:
    """Sentence embeddings [n_sentences, dim], one encoder call per article.

    Each article's sentences are batched only with each other: int8 dynamic quantisation
    scales activations per batch, so batching across articles would make an article's scores
    depend on its neighbours in the batch. Per article, the result is deterministic.
    """
    parts = [encoder.encode([s.text for s in ss]) for ss in spans if ss]
    if not parts:
        return np.zeros((0, int(getattr(encoder, "dim", 1) or 1)), dtype=np.float32)
    return np.concatenate(parts)


def pool(sentence_embeddings: np.ndarray) -> np.ndarray:
    """[max-pool, mean-pool] of one article's sentence embeddings: the ``embedding`` features."""
    return np.concatenate([sentence_embeddings.max(0), sentence_embeddings.mean(0)])


def pooled_per_article(sentence_embeddings: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """:func:`pool` of each article's rows ``offsets[i]:offsets[i + 1]`` (zeros without sentences)."""
    n = len(offsets) - 1
    out = np.zeros((n, 2 * sentence_embeddings.shape[1]))
    for i in range(n):
        rows = sentence_embeddings[offsets[i] : offsets[i + 1]]
        if len(rows):
            out[i] = pool(rows)
    return out


@dataclass(frozen=True)
class ArticleFeatures:
    """What the components score, for n articles.

    ``texts``: the kept texts (lexical components); ``sentences``: the kept sentences' texts
    per article (``cue``); ``pooled``: [n, 2d] pooled sentence embeddings (``embedding``), None
    when no component needs them; ``sentence_embeddings`` and ``offsets``: every kept
    sentence's embedding, article i's at rows ``offsets[i]:offsets[i + 1]`` (``sentence``).
    """

    texts: Sequence[str]
    sentences: Sequence[Sequence[str]]
    pooled: np.ndarray | None = None
    sentence_embeddings: np.ndarray | None = None
    offsets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def words(self) -> np.ndarray:
        return word_counts(self.texts)

    def n_sentences(self) -> np.ndarray:
        """Kept sentences per article: what routes a wire flash to its calibration."""
        return np.array([len(s) for s in self.sentences], dtype=int)

    @classmethod
    def of_sentences(cls, sentences: Sequence[str], embeddings: np.ndarray | None) -> ArticleFeatures:
        """Each sentence as a one-sentence article (to score sentences as evidence)."""
        offsets = np.arange(len(sentences) + 1)
        return cls(
            texts=list(sentences),
            sentences=[[s] for s in sentences],
            pooled=None if embeddings is None else pooled_per_article(embeddings, offsets),
            sentence_embeddings=embeddings,
            offsets=offsets,
        )
