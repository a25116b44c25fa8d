"""Numpy-only TF-IDF + linear models: the lexical part of the classifier's head.

Training uses scikit-learn (``TfidfVectorizer`` + ``LogisticRegression``); this module stores
what those fitted (vocabulary, idf, coefficients) and reproduces their scores without
scikit-learn at run time, with scikit-learn's analyzers: ``"word"`` = lower-cased 1–2 grams of
``(?u)\\b\\w\\w+\\b`` tokens; ``"char_wb"`` = lower-cased character 2–5 grams inside
space-padded words. Sublinear tf, smooth idf, L2 normalisation.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from streams.classifier.artifact import LexicalFile

__all__ = ["ANALYZERS", "TOKEN_PATTERN", "LexicalModel", "char_wb_ngrams", "word_ngrams"]

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)
_WHITESPACE = re.compile(r"\s\s+")
CHAR_RANGE = (2, 5)


def word_ngrams(text: str) -> list[str]:
    """Lower-cased unigrams and bigrams, as scikit-learn's word analyzer, ngram_range=(1, 2)."""
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def _word_char_ngrams(word: str) -> list[str]:
    lo, hi = CHAR_RANGE
    out: list[str] = []
    w = f" {word} "
    size = len(w)
    for n in range(lo, hi + 1):
        offset = 0
        out.append(w[offset : offset + n])
        while offset + n < size:
            offset += 1
            out.append(w[offset : offset + n])
        if offset == 0:  # the word is shorter than n
            break
    return out


def char_wb_ngrams(text: str) -> list[str]:
    """Character n-grams inside word boundaries, as scikit-learn's ``char_wb`` analyzer."""
    out: list[str] = []
    for word in _WHITESPACE.sub(" ", text.lower()).split():
        out.extend(_word_char_ngrams(word))
    return out


@functools.lru_cache(maxsize=200_000)
def _word_char_hashes(word: str) -> tuple[int, ...]:
    return tuple(term_hash(g) for g in _word_char_ngrams(word))


def _char_wb_hashes(text: str) -> list[int]:
    out: list[int] = []
    for word in _WHITESPACE.sub(" ", text.lower()).split():
        out.extend(_word_char_hashes(word))
    return out


def _word_hashes(text: str) -> list[int]:
    return [_cached_term_hash(t) for t in word_ngrams(text)]


def term_hash(term: str) -> int:
    """A stable 64-bit hash of an n-gram (the artifact stores hashes, not the training text)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


HASH_DESCRIPTION = "blake2b-64 of the utf-8 n-gram, little-endian"

_cached_term_hash = functools.lru_cache(maxsize=200_000)(term_hash)

ANALYZERS = {"word": word_ngrams, "char_wb": char_wb_ngrams}
#: n-gram hashes of a text, per analyzer (memoised per word / term: news vocabulary repeats)
HASHERS = {"word": _word_hashes, "char_wb": _char_wb_hashes}


class LexicalModel:
    """``predict_logits(texts) -> [n, k]`` from a stored vocabulary, idf and linear weights.

    The vocabulary is kept as 64-bit hashes of the n-grams, so an artifact holds no n-gram
    strings from its training data.
    """

    def __init__(
        self,
        vocabulary_hashes: Sequence[int] | np.ndarray,
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        analyzer: str = "word",
    ):
        self.analyzer = analyzer
        self._hashes = HASHERS[analyzer]
        self.vocabulary = {int(h): i for i, h in enumerate(vocabulary_hashes)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)  # [vocab, k]
        self.intercept = np.asarray(intercept, dtype=np.float64)  # [k]

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(indices, L2-normalised tf-idf values) of the terms of ``text`` in the vocabulary."""
        vocabulary = self.vocabulary
        counts = Counter(h for h in self._hashes(text) if h in vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        val = tf * self.idf[idx]
        return idx, val / np.linalg.norm(val)

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.tile(self.intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            idx, val = self.features(text)
            if len(idx):
                out[row] += val @ self.coef[idx]
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out: np.ndarray = 1.0 / (1.0 + np.exp(-self.predict_logits(texts)))
        return out

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: Path, name: str) -> None:
        hashes = np.zeros(len(self.vocabulary), dtype=np.uint64)
        for h, i in self.vocabulary.items():
            hashes[i] = h
        meta = LexicalFile.model_validate({"analyzer": self.analyzer, "hash": HASH_DESCRIPTION})
        (directory / f"{name}.json").write_text(meta.dump(), encoding="utf-8")
        np.savez_compressed(
            directory / f"{name}.npz",
            vocabulary_hashes=hashes,
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )

    @classmethod
    def load(cls, directory: Path, name: str) -> LexicalModel:
        meta = LexicalFile.load(directory / f"{name}.json")
        with np.load(directory / f"{name}.npz") as z:
            return cls(z["vocabulary_hashes"], z["idf"], z["coef"], z["intercept"], meta.analyzer)
