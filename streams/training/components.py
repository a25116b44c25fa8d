"""Fitting the head's component models with scikit-learn, and scoring a fitted head on the
training matrix with the serving code (:meth:`~streams.classifier.head.Components.probabilities`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from schemas import CATEGORIES
from streams.classifier.cues import CueModel, load_lexicon
from streams.classifier.head import Components, EmbeddingHead, SentenceHead
from streams.classifier.lexical import CHAR_RANGE, TOKEN_PATTERN, LexicalModel, term_hash
from streams.training import recipe
from streams.training.features import Features
from streams.training.recipe import is_on

__all__ = [
    "FittedHead",
    "fit_components",
    "fit_cue",
    "fit_embedding",
    "fit_lexical",
    "fit_sentence_head",
    "predict_components",
    "tfidf_vectorizer",
]


#: Standard deviations below this count as 0 when the embedding features are standardised.
MIN_SCALE = 1e-9


def tfidf_vectorizer(analyzer: str, *, min_df: int = 2, max_features: int | None = None) -> TfidfVectorizer:
    """The TF-IDF settings :class:`~streams.classifier.lexical.LexicalModel` reproduces."""
    if analyzer == "word":
        return TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=min_df,
            token_pattern=TOKEN_PATTERN,
            max_features=max_features,
        )
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=CHAR_RANGE,
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
    )


def _balanced_logistic_regressions(
    x: Any, y: np.ndarray, c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One class-balanced logistic regression per column of ``y``: coef [features, k], intercept [k]."""
    k = y.shape[1]
    coef = np.zeros((x.shape[1], k))
    intercept = np.zeros(k)
    for j in range(k):
        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
        lr.fit(x, y[:, j])
        coef[:, j] = lr.coef_[0]
        intercept[j] = lr.intercept_[0]
    return coef, intercept


def fit_lexical(
    texts: Sequence[str],
    y: np.ndarray,
    *,
    analyzer: str = "word",
    c: float = 30.0,
    min_df: int = 2,
    max_features: int | None = None,
    seed: int = 0,
) -> LexicalModel:
    """TF-IDF + logistic regressions, keeping only what scoring needs (n-grams as hashes)."""
    vec = tfidf_vectorizer(analyzer, min_df=min_df, max_features=max_features)
    x = vec.fit_transform(texts)
    coef, intercept = _balanced_logistic_regressions(x, y, c, seed)
    hashes = np.zeros(len(vec.vocabulary_), dtype=np.uint64)
    for term, i in vec.vocabulary_.items():
        hashes[i] = term_hash(term)
    if len(set(hashes.tolist())) != len(hashes):
        raise ValueError("n-gram hash collision in the vocabulary")
    return LexicalModel(hashes, vec.idf_, coef, intercept, analyzer)


def _constant(positives: int, n: int) -> LexicalModel:
    """A model without features: ~0 with no positive example, ~1 with no negative one, else 0.5
    (what a class-balanced regression gives when no cue text separates the classes)."""
    if positives == 0:
        logit = -7.0
    elif positives == n:
        logit = 7.0
    else:
        logit = 0.0
    return LexicalModel(np.zeros(0, np.uint64), np.zeros(0), np.zeros((0, 1)), np.array([logit]))


def fit_cue(
    articles: Sequence[Sequence[str]],
    y: np.ndarray,
    *,
    c: float,
    min_df: int = 1,
    seed: int = 0,
    lexicon: str | Path = recipe.CUE_LEXICON,
) -> CueModel:
    """One single-output lexical model per category on its cue texts."""
    cue = CueModel(load_lexicon(lexicon), {}, Path(lexicon))
    for j, cat in enumerate(CATEGORIES):
        texts = [cue.cue_text(cat, sentences) for sentences in articles]
        positives = int(y[:, j].sum())
        if 0 < positives < len(texts) and any(texts):
            cue.models[cat] = fit_lexical(
                texts, y[:, j : j + 1], analyzer="word", c=c, min_df=min_df, seed=seed
            )
        else:  # nothing to learn from (tiny training files): a constant
            cue.models[cat] = _constant(positives, len(texts))
    return cue


def fit_embedding(pooled: np.ndarray, y: np.ndarray, *, c: float, seed: int) -> EmbeddingHead:
    """Standardised pooled embeddings -> class-balanced logistic regressions."""
    scaler = StandardScaler().fit(pooled)
    # a feature constant up to float noise (std ~1e-33) stays unscaled rather than blown up
    scaler.scale_[scaler.scale_ < MIN_SCALE] = 1.0
    coef, intercept = _balanced_logistic_regressions(scaler.transform(pooled), y, c, seed)
    return EmbeddingHead(scaler.mean_, scaler.scale_, coef, intercept)


def fit_sentence_head(x: np.ndarray, y: np.ndarray, *, c: float, seed: int) -> SentenceHead:
    """The sentence model: class-balanced logistic regressions on sentence embeddings."""
    coef, intercept = _balanced_logistic_regressions(x, y, c, seed)
    return SentenceHead(coef, intercept)


@dataclass
class FittedHead:
    """The components fitted on some rows; ``sentence_scorer`` is the fine-tuned (torch) one."""

    components: Components = field(default_factory=Components)
    sentence_scorer: Any = None  # finetune.SentenceScorer


def fit_components(
    feats: Features, idx: np.ndarray, weights: dict[str, Any], seed: int, epochs: int = 6
) -> FittedHead:
    """Fit the components weighted in ``weights`` on the rows ``idx`` and the supplement."""
    idx = np.concatenate([np.asarray(idx, dtype=int), feats.train_only])
    y = feats.y[idx]
    texts = [feats.texts[i] for i in idx]
    fitted = FittedHead()
    parts = fitted.components
    if is_on(weights, "word"):
        parts.word = fit_lexical(texts, y, analyzer="word", c=recipe.WORD_C, seed=seed)
    if is_on(weights, "char"):
        parts.char = fit_lexical(
            texts, y, analyzer="char_wb", c=recipe.CHAR_C, max_features=recipe.CHAR_MAX_FEATURES, seed=seed
        )
    if is_on(weights, "embedding"):
        assert feats.pooled is not None
        parts.embedding = fit_embedding(feats.pooled[idx], y, c=recipe.EMBEDDING_C, seed=seed)
    if is_on(weights, "cue"):
        assert feats.sentences is not None
        parts.cue = fit_cue(
            [feats.sentences[i] for i in idx],
            y,
            c=recipe.CUE_C,
            min_df=recipe.CUE_MIN_DF,
            seed=seed,
            lexicon=recipe.CUE_LEXICON,
        )
    if is_on(weights, "sentence") and feats.cache is None:
        assert feats.sent_x is not None
        assert feats.sent_y is not None
        assert feats.sent_source is not None
        rows = np.isin(feats.sent_source, idx)
        parts.sentence = fit_sentence_head(
            feats.sent_x[rows], feats.sent_y[rows], c=recipe.SENTENCE_C, seed=seed
        )
    elif is_on(weights, "sentence"):
        from streams.training.finetune import fit_sentence_scorer

        assert feats.cache is not None
        assert feats.art_sents is not None
        fitted.sentence_scorer = fit_sentence_scorer(
            feats.base_model, feats.cache, feats.art_sents, feats.y, idx, epochs=epochs, seed=seed
        )
    return fitted


def predict_components(fitted: FittedHead, feats: Features, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per component, the probabilities [len(idx), k] of the rows ``idx``."""
    out = fitted.components.probabilities(feats.select(idx))
    if fitted.sentence_scorer is not None:
        out["sentence"] = fitted.sentence_scorer.article_scores(feats.cache, feats.art_sents, list(idx))
    return out
