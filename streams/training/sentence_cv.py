"""Grouped cross-validation of a sentence classifier, and the "flash" protocol.

Any model enters as ``fit_predict(train_rows, test_rows) -> probabilities [len(test_rows), 9]``
over the rows of a :class:`~streams.training.sentence_data.SentenceSet`. For each outer fold
(stories never split, :func:`~streams.training.sentence_data.sentence_folds`):

* the thresholds are the per-category F1-best cuts on the out-of-fold probabilities of
  ``inner_folds`` grouped folds of the **outer training part only**
  (:func:`~streams.training.calibration.best_threshold`), or a fixed cut given up front;
* the model fitted on the whole outer training part scores the held-out sentences.

Reported on the pooled held-out predictions:

* ``sentences``: the labelled sentences (the sentences of labelled passages, labelled one by
  one) — the sentence-level CV;
* ``flash``: the same sentences plus every sentence of the held-out unlabelled passages as a
  negative, each classified on its own like a one-sentence wire flash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from streams.training.calibration import best_threshold
from streams.training.evaluation import metrics_from_predictions
from streams.training.sentence_data import SentenceSet, sentence_folds

__all__ = ["FitPredict", "cross_validate_sentences", "inner_thresholds", "sentence_metrics"]

FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def inner_thresholds(
    sentences: SentenceSet, rows: np.ndarray, fit_predict: FitPredict, *, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-category F1-best thresholds on grouped ``folds``-fold out-of-fold probabilities of
    ``rows`` (all of them: labelled sentences and unlabelled passages' negatives), and those
    probabilities."""
    oof = np.zeros((len(rows), sentences.y.shape[1]))
    position = {r: i for i, r in enumerate(rows)}
    for tr, te in sentence_folds(sentences, folds, seed, rows):
        oof[[position[r] for r in te]] = fit_predict(tr, te)
    y = sentences.y[rows]
    return np.array([best_threshold(oof[:, j], y[:, j]) for j in range(y.shape[1])]), oof


def sentence_metrics(sentences: SentenceSet, rows: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """``sentences`` (labelled sentences only) and ``flash`` (all) metrics of 0/1 ``pred``."""
    labelled = sentences.labelled[rows]
    y = sentences.y[rows]
    return {
        "sentences": metrics_from_predictions(y[labelled], pred[labelled]),
        "flash": metrics_from_predictions(y, pred),
    }


def cross_validate_sentences(
    sentences: SentenceSet,
    fit_predict: FitPredict,
    *,
    folds: int = 5,
    inner_folds: int = 3,
    seed: int = 0,
    fixed_thresholds: tuple[float, ...] = (0.5,),
    only_folds: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Nested grouped CV (see the module doc). Besides the inner-fold thresholds (``nested``;
    skipped when ``inner_folds`` is 0), each cut in ``fixed_thresholds`` is reported as
    ``fixed_<cut>``: chosen before any fold was seen, it needs no inner fits. ``only_folds``
    (0-based) tests those outer folds alone: a partial estimate, for expensive models."""
    rows_all: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    thresholds: list[np.ndarray] = []
    for f, (tr, te) in enumerate(sentence_folds(sentences, folds, seed)):
        if only_folds is not None and f not in only_folds:
            continue
        if inner_folds:
            t, _ = inner_thresholds(sentences, tr, fit_predict, folds=inner_folds, seed=seed + 1)
            thresholds.append(t)
        probs.append(fit_predict(tr, te))
        rows_all.append(te)
        if progress:
            progress(f"fold {f + 1}/{folds} done")
    rows = np.concatenate(rows_all)
    p = np.concatenate(probs)
    out: dict[str, Any] = {"folds": folds, "inner_folds": inner_folds, "seed": seed, "n": len(rows)}
    if only_folds is not None:
        out["only_folds"] = sorted(only_folds)
    if inner_folds:
        cut = np.concatenate(
            [np.broadcast_to(t, (len(te), len(t))) for t, te in zip(thresholds, rows_all, strict=True)]
        )
        out["nested"] = sentence_metrics(sentences, rows, p >= cut)
        out["nested"]["thresholds"] = [[round(float(x), 4) for x in t] for t in thresholds]
    for cut_value in fixed_thresholds:
        out[f"fixed_{cut_value}"] = sentence_metrics(sentences, rows, p >= cut_value)
    out["probabilities"] = {"rows": rows, "p": p}
    return out
