"""Choosing a head's calibration on out-of-fold scores: per length bucket, the per-category
``cue`` weights and then the F1-best thresholds (:class:`~streams.classifier.head.Calibration`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from streams.classifier.head import Calibration, combine_weighted
from streams.training.evaluation import f1
from streams.training.recipe import CUE_WEIGHT_GRID, LONG_WORDS, is_on

__all__ = ["best_threshold", "calibrate", "choose_category_weights"]


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
) -> dict[str, Any]:
    """Per category, the weight of component ``name`` (from ``grid``) whose combined out-of-fold
    score reaches the best F1 at its own best threshold; the smallest weight on ties."""
    if not is_on(weights, name):
        return dict(weights)
    chosen = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        best = -1.0
        for w in sorted(grid):
            o = combine_weighted(oof, {**weights, name: w})[:, j]
            score = f1(y[:, j], (o >= best_threshold(o, y[:, j])).astype(int))
            if score > best + 1e-12:
                best, chosen[j] = score, w
    return {**weights, name: [float(w) for w in chosen]}


def calibrate(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    words: np.ndarray,
    weights: dict[str, Any],
    *,
    choose_weights: bool = True,
    synthetic: np.ndarray | None = None,
) -> Calibration:
    """Per length bucket, the cue weights (unless not ``choose_weights``) and then the F1-best
    thresholds on out-of-fold scores.

    The passage calibration is chosen on the real articles of at most LONG_WORDS words (rows
    not ``synthetic``), the long one on every article over LONG_WORDS words, real or synthetic.
    A bucket without articles takes the other's.
    """
    found: list[tuple[dict[str, Any], np.ndarray]] = []
    long = words > LONG_WORDS
    short = ~long if synthetic is None else ~long & ~synthetic
    masks = [m if m.any() else np.ones_like(m) for m in (short, long)]
    for mask in masks:
        part = {c: p[mask] for c, p in oof.items()}
        w = choose_category_weights(part, y[mask], weights) if choose_weights else dict(weights)
        o = combine_weighted(part, w)
        found.append((w, np.array([best_threshold(o[:, j], y[mask, j]) for j in range(y.shape[1])])))
    (weights_short, thresholds), (weights_long, long_thresholds) = found
    return Calibration(weights_short, thresholds, LONG_WORDS, weights_long, long_thresholds)
