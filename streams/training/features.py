"""The training matrix: every labelled article's kept text, sentences and embeddings (computed
once, with the serving code), and the synthetic long articles the calibration adds to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from schemas.events import Article
from streams.classifier.encoder import OnnxEncoder, TorchEncoder
from streams.classifier.features import (
    ArticleFeatures,
    encode_per_article,
    kept_spans,
    pool,
    pooled_per_article,
    word_counts,
)
from streams.training.dataset import Dataset
from streams.training.grouping import group_near_duplicates
from streams.training.recipe import CONCAT_PARTS, MAX_SENTENCES, is_on

__all__ = ["Features", "build_features", "build_training_features"]


@dataclass
class Features:
    """What the components are fitted on, for every article of a dataset."""

    texts: list[str]
    y: np.ndarray
    sentences: list[list[str]] | None = None  # the kept sentences' texts, per article
    pooled: np.ndarray | None = None  # [n, 2d] frozen [max, mean] pooled sentence embeddings
    cache: Any = None  # finetune.HiddenCache of every kept sentence
    art_sents: list[np.ndarray] | None = None  # sentence ids of each article in the cache
    base_model: Any = None  # the frozen transformers encoder (for fine-tuning)
    embeddings: list[np.ndarray] | None = None  # per article, its frozen sentence embeddings
    #: rows every fit includes and no fold, threshold or metric uses (the supplement)
    train_only: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: the sentence model's training examples: embeddings [m, d], labels [m, k], and the row of
    #: the passage (or supplement item) each comes from — a fit on rows R uses those of R
    sent_x: np.ndarray | None = None
    sent_y: np.ndarray | None = None
    sent_source: np.ndarray | None = None
    #: rows that are single labelled sentences as one-sentence articles (the flash protocol),
    #: the passage each comes from, and whether that passage is labelled (its sentences labelled
    #: one by one) or not (its sentences negatives); no fit uses these rows
    sentence_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    sentence_source: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    sentence_labelled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: per labelled passage, its kept sentences' labels [n_spans, k] from the sentence file
    span_y: dict[int, np.ndarray] = field(default_factory=dict)

    def words(self, idx: np.ndarray) -> np.ndarray:
        return word_counts([self.texts[i] for i in idx])

    def n_sentences(self, idx: np.ndarray) -> np.ndarray:
        assert self.sentences is not None
        return np.array([len(self.sentences[i]) for i in idx], dtype=int)

    def sentence_rows_of(self, passages: np.ndarray) -> np.ndarray:
        """The one-sentence rows of the sentences of ``passages``."""
        return self.sentence_rows[np.isin(self.sentence_source, passages)]

    def select(self, idx: np.ndarray) -> ArticleFeatures:
        """The articles at ``idx`` as the head's components read them."""
        emb = offsets = None
        if self.embeddings is not None:
            parts = [self.embeddings[i] for i in idx]
            offsets = np.cumsum([0] + [len(e) for e in parts])
            dim = self.embeddings[0].shape[1] if self.embeddings else 1
            emb = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return ArticleFeatures(
            texts=[self.texts[i] for i in idx],
            sentences=[] if self.sentences is None else [self.sentences[i] for i in idx],
            pooled=None if self.pooled is None else self.pooled[idx],
            sentence_embeddings=emb,
            offsets=offsets,
        )

    def add_concatenations(self, groups: np.ndarray, pool_rows: np.ndarray, n: int, rng: Any) -> np.ndarray:
        """Append ``n`` synthetic long articles and return their indices.

        Each joins CONCAT_PARTS passages of ``pool_rows`` from different groups (stories), in
        random order; its labels are the union of theirs. ``groups`` covers the original
        passages only: the features grow, the passages keep their indices 0..n-1 (group the
        texts before any concatenation is added). The parts' sentence embeddings are reused as
        they are (each passage encoded alone; int8 activations are scaled per call, so an
        article encoded in one call differs slightly: cosine >= 0.99).
        """
        if len({int(groups[b]) for b in pool_rows}) < 2:
            raise ValueError("concatenations need passages of at least two stories")
        if (self.pooled is None) != (self.embeddings is None):
            raise ValueError("pooled features need the sentence embeddings to be concatenated")
        lo, hi = CONCAT_PARTS
        first = len(self.texts)
        new_y, new_pooled = [], []
        for _ in range(n):
            k = int(rng.integers(lo, hi + 1))
            chosen: list[int] = []
            seen: set[int] = set()
            for b in rng.permutation(pool_rows):
                if int(groups[b]) not in seen:
                    chosen.append(int(b))
                    seen.add(int(groups[b]))
                    if len(chosen) == k:
                        break
            self.texts.append("\n".join(self.texts[b] for b in chosen))
            new_y.append(self.y[chosen].max(0))
            if self.sentences is not None:
                self.sentences.append([s for b in chosen for s in self.sentences[b]])
            if self.embeddings is not None:
                self.embeddings.append(np.concatenate([self.embeddings[b] for b in chosen]))
                new_pooled.append(pool(self.embeddings[-1]))
            if self.art_sents is not None:
                self.art_sents.append(np.concatenate([self.art_sents[b] for b in chosen]))
        if n:
            self.y = np.vstack([self.y, np.array(new_y)])
            if self.pooled is not None and new_pooled:
                self.pooled = np.vstack([self.pooled, np.array(new_pooled)])
        return np.arange(first, len(self.texts))


def build_training_features(
    data: Dataset,
    extra: Dataset | None,
    weights: dict[str, Any],
    sentences: str | Path | None = None,
    **kwargs: Any,
) -> tuple[Features, np.ndarray]:
    """:func:`build_features` of ``data`` followed by the supplement ``extra`` (marked
    ``train_only``), and the near-duplicate groups of ``data``'s articles, which alone are split
    into folds. With a ``sentences`` file (``dev-sentences.jsonl``: the labelled passages'
    sentences, labelled one by one) the sentence model's examples and the one-sentence rows
    are added (:func:`add_sentences`)."""
    feats = build_features(data if extra is None else data.joined(extra), weights, **kwargs)
    n = len(data.y)
    feats.train_only = np.arange(n, len(feats.texts))
    groups = group_near_duplicates(feats.texts[:n])
    if sentences is not None:
        add_sentences(feats, data, sentences, groups, **kwargs)
    return feats, groups


def add_sentences(
    feats: Features,
    data: Dataset,
    sentences_path: str | Path,
    groups: np.ndarray,
    *,
    encoder: str = "",
    backend: str = "onnx",
    onnx_path: Path | None = None,
    max_sentences: int = MAX_SENTENCES,
    **_: Any,
) -> None:
    """Add the sentence model's examples and the one-sentence rows to ``feats`` (whose first
    rows are ``data``'s passages, then the supplement).

    * Each sentence of the sentence file, and each sentence of ``data``'s unlabelled passages
      (a negative), becomes a one-sentence article: encoded alone, as the service encodes a
      one-sentence flash. These rows are scored out of fold (flash protocol) and are the
      sentence model's examples, tied to their passage.
    * The supplement's items give examples too: every sentence of an item with no category
      (a negative), and the one sentence of a one-sentence item (its labels).
    * Each labelled passage's kept sentences get the labels of the sentence-file sentence they
      overlap most (``span_y``), to measure evidence.
    """
    from streams.training.sentence_data import load_sentence_set, span_labels

    sset = load_sentence_set(data.path, sentences_path, groups=groups)
    articles = [Article(id=f"sentence-{i}", title="", body=t) for i, t in enumerate(sset.texts)]
    one = build_features(
        Dataset(articles, sset.y, "", ""),
        {"embedding": 1.0},
        encoder=encoder,
        backend=backend,
        onnx_path=onnx_path,
        max_sentences=max_sentences,
    )
    assert feats.sentences is not None
    assert one.sentences is not None
    assert feats.embeddings is not None
    assert one.embeddings is not None
    assert feats.pooled is not None
    assert one.pooled is not None
    first = len(feats.texts)
    feats.texts.extend(one.texts)
    feats.sentences.extend(one.sentences)
    feats.embeddings.extend(one.embeddings)
    feats.pooled = np.vstack([feats.pooled, one.pooled])
    feats.y = np.vstack([feats.y, sset.y])
    feats.sentence_rows = np.arange(first, len(feats.texts))
    feats.sentence_source = sset.passage.copy()
    feats.sentence_labelled = sset.labelled.copy()
    xs, ys, src = [], [], []
    for r, p in zip(feats.sentence_rows, sset.passage, strict=True):
        for e in feats.embeddings[r]:  # a sentence the splitter cuts in two: both parts
            xs.append(e)
            ys.append(feats.y[r])
            src.append(p)
    for r in feats.train_only:
        emb = feats.embeddings[r]
        if not feats.y[r].any() or len(emb) == 1:
            for e in emb:
                xs.append(e)
                ys.append(feats.y[r])
                src.append(r)
    feats.sent_x = np.array(xs, dtype=np.float32)
    feats.sent_y = np.array(ys, dtype=int)
    feats.sent_source = np.array(src, dtype=int)
    feats.span_y = span_labels(data, sentences_path, max_sentences)


def build_features(
    data: Dataset,
    weights: dict[str, Any],
    *,
    encoder: str = "",
    backend: str = "onnx",
    onnx_path: Path | None = None,
    finetune_layers: int = 0,
    max_sentences: int = MAX_SENTENCES,
) -> Features:
    """The features of ``data`` that the components with a weight in ``weights`` need."""
    spans = [kept_spans(a.title, a.body, max_sentences) for a in data.articles]
    feats = Features(texts=data.texts(max_sentences), y=data.y)
    feats.sentences = [[s.text for s in ss] for ss in spans]
    offsets = np.cumsum([0] + [len(ss) for ss in spans])
    if is_on(weights, "embedding") or (is_on(weights, "sentence") and not finetune_layers):
        enc = TorchEncoder(encoder) if backend == "torch" else OnnxEncoder(encoder, onnx_path=onnx_path)
        emb = encode_per_article(enc, spans)
        feats.pooled = pooled_per_article(emb, offsets)
        feats.embeddings = [emb[offsets[i] : offsets[i + 1]] for i in range(len(spans))]
    if finetune_layers and is_on(weights, "sentence"):
        from streams.training.finetune import hidden_cache

        torch_enc = TorchEncoder(encoder)
        model: Any = torch_enc._model
        n_layers = int(model.config.num_hidden_layers)
        flat = [s.text for ss in spans for s in ss]
        feats.cache = hidden_cache(torch_enc, flat, n_layers - finetune_layers)
        feats.art_sents = [np.arange(offsets[i], offsets[i + 1]) for i in range(len(spans))]
        feats.base_model = torch_enc._model
    return feats
