"""Choosing a head's calibration on out-of-fold scores: per length bucket, the per-category
``cue`` weights and then the F1-best thresholds (:class:`~streams.classifier.head.Calibration`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from streams.classifier.head import Calibration, combine_weighted
from streams.training.evaluation import f1
from streams.training.recipe import (
    CUE_WEIGHT_GRID,
    LONG_WORDS,
    SENTENCE_BUCKETS,
    SENTENCE_WEIGHT_GRID,
    SHORT_SENTENCES,
    SHORT_WORDS,
    is_on,
)

__all__ = ["best_threshold", "calibrate", "choose_category_weights", "sentence_thresholds"]


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold maximising F1 of ``scores >= t``; the midpoint to the next lower score.

    F1 at every cut between distinct scores, from cumulative counts in descending score order
    (the highest cut on ties).
    """
    order = np.argsort(-scores)
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    positives = t.sum()
    f1_at = 2 * tp / np.maximum(tp + fp + positives, 1)
    last_of_run = np.r_[s[1:] != s[:-1], True]  # only cut between distinct scores
    f1_at = np.where(last_of_run, f1_at, -1)
    if positives == 0:
        return float(min(1.0, s[0] + 1e-6))
    i = int(np.argmax(f1_at))
    if i + 1 < len(s):
        return float((s[i] + s[i + 1]) / 2)
    return float(s[i])


def choose_category_weights(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    weights: dict[str, Any],
    name: str = "cue",
    grid: Sequence[float] = CUE_WEIGHT_GRID,
    *,
    also: Sequence[tuple[str, Sequence[float]]] = (),
) -> dict[str, Any]:
    """Per category, the weight of component ``name`` (from ``grid``) — and jointly of each
    component of ``also`` (from its grid) — whose combined out-of-fold score reaches the best F1
    at its own best threshold; the smallest weights on ties. Components not on are left as
    they are."""
    searched = [(n, sorted(g)) for n, g in [(name, grid), *also] if is_on(weights, n)]
    if not searched:
        return dict(weights)
    chosen = np.zeros((len(searched), y.shape[1]))
    for j in range(y.shape[1]):
        best = -1.0
        for combo in itertools.product(*(g for _, g in searched)):
            trial = {**weights, **{n: w for (n, _), w in zip(searched, combo, strict=True)}}
            try:
                o = combine_weighted(oof, trial)[:, j]
            except ValueError:  # every weight 0
                continue
            score = f1(y[:, j], (o >= best_threshold(o, y[:, j])).astype(int))
            if score > best + 1e-12:
                best = score
                chosen[:, j] = combo
    return {**weights, **{n: [float(w) for w in chosen[i]] for i, (n, _) in enumerate(searched)}}


def calibrate(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    words: np.ndarray,
    weights: dict[str, Any],
    *,
    choose_weights: bool = True,
    synthetic: np.ndarray | None = None,
    n_sentences: np.ndarray | None = None,
    one_sentence: np.ndarray | None = None,
) -> Calibration:
    """Per length bucket, the cue (and sentence) weights (unless not ``choose_weights``) and
    then the F1-best thresholds on out-of-fold scores.

    The sentence model's weight is searched in the buckets that SENTENCE_BUCKETS allows (the
    short one); in the others it is 0.

    The passage calibration is chosen on the real articles of at most LONG_WORDS words (rows
    not ``synthetic`` nor ``one_sentence``), the long one on every article over LONG_WORDS
    words, real or synthetic. With ``one_sentence`` rows (single held-out sentences classified
    as one-sentence articles) there is a third, short calibration for articles of at most
    SHORT_SENTENCES kept sentences (``n_sentences``) and SHORT_WORDS words, chosen on those rows
    and the real short articles, and the sentence model's evidence thresholds are the F1-best cuts of its
    probability on the one-sentence rows. A bucket without articles takes the passages'.
    """
    n = len(words)
    synthetic = np.zeros(n, dtype=bool) if synthetic is None else synthetic
    one = np.zeros(n, dtype=bool) if one_sentence is None else one_sentence
    with_short = bool(one.any()) and n_sentences is not None
    short = (
        (np.asarray(n_sentences) <= SHORT_SENTENCES) & (words <= SHORT_WORDS)
        if with_short
        else np.zeros(n, dtype=bool)
    )
    short = short | one if with_short else short
    long = (words > LONG_WORDS) & ~short
    passage = ~long & ~synthetic & ~short
    masks = [passage, long] + ([short] if with_short else [])
    masks = [m if m.any() else np.ones_like(m) for m in masks]
    found: list[tuple[dict[str, Any], np.ndarray]] = []
    also = [("sentence", SENTENCE_WEIGHT_GRID)]
    for bucket, mask in enumerate(masks):
        part = {c: p[mask] for c, p in oof.items()}
        w = dict(weights)
        if choose_weights:
            if bucket < len(SENTENCE_BUCKETS) and not SENTENCE_BUCKETS[bucket] and is_on(w, "sentence"):
                w["sentence"] = 0.0  # the sentence model gives evidence only
            w = choose_category_weights(part, y[mask], w, also=also)
        o = combine_weighted(part, w)
        found.append((w, np.array([best_threshold(o[:, j], y[mask, j]) for j in range(y.shape[1])])))
    (weights_short, thresholds), (weights_long, long_thresholds) = found[:2]
    cal = Calibration(weights_short, thresholds, LONG_WORDS, weights_long, long_thresholds)
    if with_short:
        cal = Calibration(
            weights_short,
            thresholds,
            LONG_WORDS,
            weights_long,
            long_thresholds,
            short_sentences=SHORT_SENTENCES,
            short_words=SHORT_WORDS,
            short_weights=found[2][0],
            short_thresholds=found[2][1],
            sentence_thresholds=sentence_thresholds(oof, y, one) if "sentence" in oof else None,
        )
    return cal


def sentence_thresholds(oof: dict[str, np.ndarray], y: np.ndarray, one_sentence: np.ndarray) -> np.ndarray:
    """Per category, the F1-best cut of the sentence model's probability on single sentences."""
    p, t = oof["sentence"][one_sentence], y[one_sentence]
    return np.array([best_threshold(p[:, j], t[:, j]) for j in range(y.shape[1])])
