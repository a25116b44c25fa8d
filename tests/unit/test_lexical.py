"""The numpy TF-IDF of streams/classifier/lexical.py reproduces scikit-learn's TfidfVectorizer."""

from __future__ import annotations

import numpy as np
import pytest

from streams.classifier.lexical import LexicalModel, term_hash
from streams.training.components import tfidf_vectorizer
from tests.support.corpus import ALL_ARTICLES

TEXTS = [f"{title}\n{body}" for _, title, body, _ in ALL_ARTICLES]
# unseen words, repeated terms, punctuation, case, one-letter tokens and an empty text
PROBES = [
    "The Minister WARNED the minister: warned, warned again!",
    "A b c -- x y z",
    "",
    "Troops massed near the frontier; tanks and artillery followed.",
]


def _tfidf_as_numpy(model: LexicalModel, texts: list[str]) -> np.ndarray:
    """The model's L2-normalised TF-IDF rows, as a dense matrix over its vocabulary."""
    out = np.zeros((len(texts), len(model.vocabulary)))
    for row, text in enumerate(texts):
        idx, val = model.features(text)
        out[row, idx] = val
    return out


@pytest.mark.parametrize(
    ("analyzer", "min_df", "max_features"),
    [("word", 1, None), ("word", 2, None), ("char_wb", 1, None), ("char_wb", 2, 500)],
)
def test_numpy_tfidf_matches_scikit_learn(analyzer: str, min_df: int, max_features: int | None) -> None:
    vectorizer = tfidf_vectorizer(analyzer, min_df=min_df, max_features=max_features)
    vectorizer.fit(TEXTS)
    hashes = np.zeros(len(vectorizer.vocabulary_), dtype=np.uint64)
    for term, i in vectorizer.vocabulary_.items():
        hashes[i] = term_hash(term)
    k = 1
    model = LexicalModel(hashes, vectorizer.idf_, np.zeros((len(hashes), k)), np.zeros(k), analyzer)
    texts = TEXTS[:10] + PROBES
    expected = vectorizer.transform(texts).toarray()
    assert expected.any()
    np.testing.assert_allclose(_tfidf_as_numpy(model, texts), expected, rtol=0, atol=1e-12)
