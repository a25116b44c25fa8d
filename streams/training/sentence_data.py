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

__all__ = ["SentenceSet", "load_sentence_set", "sentence_folds", "sentence_set"]


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


def load_sentence_set(passages_path: str | Path, sentences_path: str | Path) -> SentenceSet:
    """:func:`sentence_set` of a passages file and its sentence file, grouped by
    :func:`~streams.training.grouping.group_near_duplicates` of the passages' kept texts (the
    same groups as the passage-level cross-validation)."""
    passages = load_dataset(passages_path)
    groups = group_near_duplicates(passages.texts())
    out = sentence_set(passages, _sentence_rows(sentences_path), groups)
    out.sha256 = file_sha256(sentences_path)
    return out


def sentence_folds(
    sentences: SentenceSet, k: int, seed: int, idx: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` grouped (train, test) splits of the sentence rows ``idx`` (default: all): every
    story group, hence every passage, has all its sentences in one test part."""
    rows = np.arange(len(sentences)) if idx is None else np.asarray(idx)
    return grouped_folds(rows, sentences.group, k, seed)
