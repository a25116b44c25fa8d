"""Precision, recall and F1 of a head's signals (scikit-learn's), and :func:`evaluate`: a loaded
classifier scored on a labelled file through the service's code path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from schemas import CATEGORIES, ESCALATION_CATEGORIES
from streams.classifier.classifier import EscalationClassifier
from streams.training.dataset import Dataset, load_dataset

__all__ = ["evaluate", "f1", "metrics_from_predictions", "prf"]


def prf(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 (0 where undefined) and support of 0/1 predictions of one label."""
    precision, recall, f, _ = precision_recall_fscore_support(
        y, pred, average="binary", pos_label=1, labels=[0, 1], zero_division=0.0
    )
    return {"precision": float(precision), "recall": float(recall), "f1": float(f), "support": int(y.sum())}


def f1(y: np.ndarray, pred: np.ndarray) -> float:
    """F1 of 0/1 predictions of one label (0 where undefined)."""
    return float(f1_score(y, pred, average="binary", labels=[0, 1], zero_division=0.0))


def metrics_from_predictions(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Per-category and escalation P/R/F1, and macro-F1.

    A category with neither examples nor signals in ``y`` / ``pred`` has no F1 (0/0); it is left
    out of the macro average, and ``macro_categories`` names the categories averaged (with
    none, ``macro_f1`` is None). A category with signals but no examples counts, with F1 0.
    """
    y = y.astype(int)
    pred = pred.astype(int)
    per = {c: prf(y[:, j], pred[:, j]) for j, c in enumerate(CATEGORIES)}
    n_esc = len(ESCALATION_CATEGORIES)
    escalation = prf(y[:, :n_esc].any(1).astype(int), pred[:, :n_esc].any(1).astype(int))
    defined = [c for j, c in enumerate(CATEGORIES) if y[:, j].any() or pred[:, j].any()]
    return {
        "categories": per,
        "escalation": escalation,
        "macro_f1": float(np.mean([per[c]["f1"] for c in defined])) if defined else None,
        "macro_categories": defined,
        "n": len(y),
    }


def evaluate(
    classifier: EscalationClassifier,
    data: str | Path | Dataset,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
    """Score a labelled file with a loaded classifier: (metrics, scores [n, 9], the thresholds
    each was compared with [n, 9], labels [n, 9]).

    ``data`` is a labelled file's path or a :class:`~streams.training.dataset.Dataset`.
    """
    if not isinstance(data, Dataset):
        data = load_dataset(data)
    scores = np.zeros(data.y.shape)
    thresholds = np.zeros(data.y.shape)
    for start in range(0, len(data.articles), batch_size):
        batch = data.articles[start : start + batch_size]
        s, t, _, _ = classifier.score(batch)
        scores[start : start + len(batch)] = s
        thresholds[start : start + len(batch)] = t
        if progress:
            progress(len(batch))
    pred = scores >= thresholds
    metrics = metrics_from_predictions(data.y, pred)
    metrics["data_sha256"] = data.sha256
    manifest = classifier.head.manifest
    trained_on = {manifest.data.sha256, *(s.sha256 for s in manifest.supplement or [])}
    metrics["trained_on_this_file"] = data.sha256 in trained_on
    return metrics, scores, thresholds, data.y
