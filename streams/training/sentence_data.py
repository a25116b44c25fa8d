"""Sentence-level training data: the labelled sentences of the labelled passages
(``dev-sentences.jsonl``) plus every sentence of the unlabelled passages as a negative, each
sentence tied to its passage and its passage's story group, so that folds never split a
passage (nor a story told by several outlets) between training and test.

The sentences of an unlabelled passage are cut by the service's own splitter
(:func:`streams.classifier.sentences.article_spans`): a passage with no category carries no
category in any of its sentences (the data README).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from schemas import CATEGORIES
from streams.classifier.sentences import article_spans
from streams.training.crossval import grouped_folds
from streams.training.dataset import Dataset, DatasetError, file_sha256, load_dataset
from streams.training.grouping import group_near_duplicates

__all__ = ["SentenceSet", "load_sentence_set", "sentence_folds", "sentence_set", "span_labels"]


@dataclass
class SentenceSet:
    """Sentences with labels [n, 9] (0/1), the row of their passage in ``passages``, that
    passage's story group, and whether the passage is labelled (its sentences labelled one by
    one) or unlabelled (its sentences negatives by construction)."""

    texts: list[str]
    y: np.ndarray
    passage: np.ndarray
    group: np.ndarray
    labelled: np.ndarray
    passages: Dataset
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.texts)


def _sentence_rows(path: str | Path) -> list[dict[str, object]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            unknown = set(row.get("labels", [])) - set(CATEGORIES)
            if unknown or not isinstance(row.get("text"), str) or "id" not in row:
                raise DatasetError(f"{path}:{n}: bad sentence row")
            rows.append(row)
    return rows


def sentence_set(passages: Dataset, rows: Sequence[dict[str, object]], groups: np.ndarray) -> SentenceSet:
    """The sentence rows of the labelled passages, in their order, then the split sentences of
    every passage without labels. ``groups`` are the passages' story groups."""
    index = {a.id: i for i, a in enumerate(passages.articles)}
    texts: list[str] = []
    labels: list[list[int]] = []
    passage: list[int] = []
    covered: set[int] = set()
    for row in rows:
        pid = str(row["id"])
        if pid not in index:
            raise DatasetError(f"sentence of unknown passage {pid}")
        i = index[pid]
        covered.add(i)
        texts.append(str(row["text"]))
        row_labels = row.get("labels", [])
        assert isinstance(row_labels, list)
        labels.append([int(c in row_labels) for c in CATEGORIES])
        passage.append(i)
    n_labelled = len(texts)
    for i, article in enumerate(passages.articles):
        if i in covered:
            continue
        if passages.y[i].any():
            raise DatasetError(f"labelled passage {article.id} has no labelled sentences")
        for span in article_spans(article.title, article.body):
            texts.append(span.text)
            labels.append([0] * len(CATEGORIES))
            passage.append(i)
    p = np.array(passage, dtype=int)
    labelled = np.zeros(len(texts), dtype=bool)
    labelled[:n_labelled] = True
    return SentenceSet(
        texts=texts,
        y=np.array(labels, dtype=int).reshape(-1, len(CATEGORIES)),
        passage=p,
        group=np.asarray(groups)[p],
        labelled=labelled,
        passages=passages,
    )


def load_sentence_set(
    passages_path: str | Path, sentences_path: str | Path, groups: np.ndarray | None = None
) -> SentenceSet:
    """:func:`sentence_set` of a passages file and its sentence file, grouped by
    :func:`~streams.training.grouping.group_near_duplicates` of the passages' kept texts (the
    same groups as the passage-level cross-validation) unless ``groups`` are given."""
    passages = load_dataset(passages_path)
    if groups is None:
        groups = group_near_duplicates(passages.texts())
    out = sentence_set(passages, _sentence_rows(sentences_path), groups)
    out.sha256 = file_sha256(sentences_path)
    return out


def span_labels(passages: Dataset, sentences_path: str | Path, max_sentences: int) -> dict[int, np.ndarray]:
    """Per labelled passage (row in ``passages``), the labels [n_spans, k] of its kept
    sentences (the service's splitter): each takes the labels of the sentence-file sentence of
    the same field that it overlaps most (none: no label)."""
    from streams.classifier.features import kept_spans

    index = {a.id: i for i, a in enumerate(passages.articles)}
    by_passage: dict[int, list[dict[str, object]]] = {}
    for row in _sentence_rows(sentences_path):
        by_passage.setdefault(index[str(row["id"])], []).append(row)
    out: dict[int, np.ndarray] = {}
    for i, rows in by_passage.items():
        a = passages.articles[i]
        spans = kept_spans(a.title, a.body, max_sentences)
        y = np.zeros((len(spans), len(CATEGORIES)), dtype=int)
        for s, span in enumerate(spans):
            best, overlap = None, 0
            for row in rows:
                if row.get("field") != span.field:
                    continue
                o = min(span.end, int(row["end"])) - max(span.start, int(row["start"]))  # type: ignore[call-overload]
                if o > overlap:
                    best, overlap = row, o
            if best is not None:
                labels = best.get("labels", [])
                assert isinstance(labels, list)
                y[s] = [int(c in labels) for c in CATEGORIES]
        out[i] = y
    return out


def sentence_folds(
    sentences: SentenceSet, k: int, seed: int, idx: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` grouped (train, test) splits of the sentence rows ``idx`` (default: all): every
    story group, hence every passage, has all its sentences in one test part."""
    rows = np.arange(len(sentences)) if idx is None else np.asarray(idx)
    return grouped_folds(rows, sentences.group, k, seed)
