"""Which labelled passages tell the same story (the same wire story from several outlets), so
that they share a cross-validation fold and a supplement never retells a test passage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from streams.training.recipe import DUP_COSINE, DUP_SHINGLES

__all__ = ["group_near_duplicates", "near_duplicate_pairs", "overlapping"]

#: Word n-grams two texts must share DUP_SHINGLES of; an n-gram in this many texts or more is
#: boilerplate, not a shared story.
SHINGLE_WORDS = 8
SHINGLE_MAX_TEXTS = 50


def near_duplicate_pairs(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, a < b, of texts that tell the same story: word 1-2 gram TF-IDF cosine
    over DUP_COSINE, or at least DUP_SHINGLES shared word 8-grams."""
    pairs: set[tuple[int, int]] = set()
    if len(texts) > 1:
        v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
        sim = (v @ v.T).tocoo()
        for a, b, s in zip(sim.row, sim.col, sim.data, strict=True):
            if a < b and s > DUP_COSINE:
                pairs.add((int(a), int(b)))
    shingles: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        words = t.lower().split()
        n = SHINGLE_WORDS
        for s in {" ".join(words[j : j + n]) for j in range(len(words) - n + 1)}:
            shingles.setdefault(s, []).append(i)
    shared: dict[tuple[int, int], int] = {}
    for ids in shingles.values():
        if 1 < len(ids) < SHINGLE_MAX_TEXTS:
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    shared[(ids[x], ids[y])] = shared.get((ids[x], ids[y]), 0) + 1
    pairs.update(pair for pair, count in shared.items() if count >= DUP_SHINGLES)
    return sorted(pairs)


def group_near_duplicates(texts: Sequence[str]) -> np.ndarray:
    """A story id per text: texts joined by chains of near-duplicate pairs share one.

    The id is the largest index in the story: the folds are drawn over the ids in sorted order,
    so this numbering is part of what makes a fold assignment reproducible.
    """
    n = len(texts)
    pairs = np.array(near_duplicate_pairs(texts), dtype=int).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    largest = np.zeros(n, dtype=int)
    np.maximum.at(largest, component, np.arange(n))
    out: np.ndarray = largest[component]
    return out


def overlapping(texts: Sequence[str], reference: Sequence[str]) -> list[int]:
    """Indices of ``texts`` that are near-duplicates of some text of ``reference``.

    A supplement item that tells the same story as a passage of the training file would sit in
    every fold's training part while that passage is tested: such items are left out of the fit.
    """
    n = len(texts)
    return sorted({a for a, b in near_duplicate_pairs([*texts, *reference]) if a < n <= b})
