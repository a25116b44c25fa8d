"""Grouped cross-validation: out-of-fold component scores (stories never split across folds)
and the nested estimate, where each outer fold's calibration is chosen on its own inner folds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from schemas import CATEGORIES
from streams.classifier.head import Calibration
from streams.training.calibration import calibrate
from streams.training.components import fit_components, predict_components
from streams.training.evaluation import metrics_from_predictions
from streams.training.features import Features
from streams.training.recipe import CONCAT_PER_PASSAGE, is_on

__all__ = ["calibration_record", "cross_validate", "grouped_folds", "out_of_fold"]


def grouped_folds(
    idx: np.ndarray, groups: np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, test) splits of the rows ``idx``, each story (group) in one test part."""
    gkf = GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(idx[a], idx[b]) for a, b in gkf.split(idx, groups=groups[idx])]


def _n_concatenations(passages: np.ndarray) -> int:
    return round(CONCAT_PER_PASSAGE * len(passages))


def out_of_fold(
    idx: np.ndarray,
    feats: Features,
    groups: np.ndarray,
    *,
    k: int,
    seed: int,
    weights: dict[str, Any],
    epochs: int = 6,
    rng: Any = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Grouped k-fold out-of-fold component probabilities, and the rows they are for: the
    passages ``idx`` and, with ``rng``, synthetic long articles made of each held-out fold's
    passages (appended to ``feats``)."""
    oof: dict[str, list[np.ndarray]] = {}
    rows: list[np.ndarray] = []
    for tr, te in grouped_folds(idx, groups, k, seed):
        fitted = fit_components(feats, tr, weights, seed, epochs)
        held = te
        if rng is not None:
            held = np.concatenate([te, feats.add_concatenations(groups, te, _n_concatenations(te), rng)])
        for name, p in predict_components(fitted, feats, held).items():
            oof.setdefault(name, []).append(p)
        rows.append(held)
    return {name: np.concatenate(p) for name, p in oof.items()}, np.concatenate(rows)


def cross_validate(
    feats: Features,
    groups: np.ndarray,
    weights: dict[str, Any],
    *,
    folds: int = 5,
    inner_folds: int = 4,
    seed: int = 0,
    epochs: int = 6,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Nested grouped CV: thresholds from the outer-training part's own OOF predictions.

    The per-category ``cue`` weights are chosen the same way, on the inner OOF scores, and both
    per length bucket (:func:`~streams.training.calibration.calibrate`). Besides the passages,
    each test fold also yields as many synthetic long articles (concatenations of its
    passages), reported as ``long_articles``. Also reports each component alone, the ensemble
    without ``cue`` (each with its own nested calibration) and the ensemble with
    ``one_calibration`` chosen on the passages for every length, so the value of each part is
    visible.
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(len(groups))
    names = [k for k in weights if is_on(weights, k)]
    variants: dict[str, dict[str, Any]] = {"ensemble": weights, "one_calibration": weights}
    if "cue" in names and len(names) > 1:
        variants["without_cue"] = {k: w for k, w in weights.items() if k != "cue"}
    variants.update({f"only_{k}": {k: 1.0} for k in names})
    preds = {v: np.zeros((len(idx), len(CATEGORIES)), dtype=int) for v in variants}
    long_preds: dict[str, list[np.ndarray]] = {v: [] for v in variants}
    long_rows: list[np.ndarray] = []
    fold_calibrations = []
    for f, (tr, te) in enumerate(grouped_folds(idx, groups, folds, seed)):
        oof, rows = out_of_fold(
            tr, feats, groups, k=inner_folds, seed=seed + 1, weights=weights, epochs=epochs, rng=rng
        )
        fitted = fit_components(feats, tr, weights, seed, epochs)
        long_te = feats.add_concatenations(groups, te, _n_concatenations(te), rng)
        long_rows.append(long_te)
        test = predict_components(fitted, feats, np.concatenate([te, long_te]))
        words = feats.words(np.concatenate([te, long_te]))
        passages = rows < len(idx)
        for v, base in variants.items():
            if v == "one_calibration":  # from the passages alone, for every length
                part = {c: p[passages] for c, p in oof.items()}
                none_long = np.zeros(int(passages.sum()), dtype=int)
                cal = calibrate(part, feats.y[rows[passages]], none_long, base)
                pred = cal.predict(test, np.zeros(len(words), dtype=int))
            else:
                cal = calibrate(
                    oof,
                    feats.y[rows],
                    feats.words(rows),
                    base,
                    choose_weights=v == "ensemble",
                    synthetic=~passages,
                )
                pred = cal.predict(test, words)
            preds[v][te] = pred[: len(te)]
            long_preds[v].append(pred[len(te) :])
            if v == "ensemble":
                fold_calibrations.append(calibration_record(cal))
        if progress:
            progress(f"fold {f + 1}/{folds} done")
    y = feats.y[idx]
    long_y = feats.y[np.concatenate(long_rows)]
    out = metrics_from_predictions(y, preds["ensemble"])
    out["long_articles"] = metrics_from_predictions(long_y, np.concatenate(long_preds["ensemble"]))
    out["components"] = {}
    for v, p in preds.items():
        if v == "ensemble":
            continue
        m = metrics_from_predictions(y, p)
        ml = metrics_from_predictions(long_y, np.concatenate(long_preds[v]))
        out["components"][v] = {
            "macro_f1": m["macro_f1"],
            "escalation_f1": m["escalation"]["f1"],
            "f1": {c: m["categories"][c]["f1"] for c in CATEGORIES},
            "long_articles": {"macro_f1": ml["macro_f1"], "escalation_f1": ml["escalation"]["f1"]},
        }
    out.update(
        {
            "folds": folds,
            "inner_folds": inner_folds,
            "seed": seed,
            "groups": len(set(groups.tolist())),
            "fold_calibrations": fold_calibrations,
        }
    )
    return out


def calibration_record(cal: Calibration) -> dict[str, Any]:
    """A calibration as JSON values (thresholds to 4 decimals), as metrics.json reports them."""

    def weights(w: dict[str, Any] | None) -> dict[str, Any]:
        return {c: (v if np.isscalar(v) else [float(x) for x in v]) for c, v in (w or {}).items()}

    long_thresholds = cal.thresholds if cal.long_thresholds is None else cal.long_thresholds
    return {
        "weights": weights(cal.weights),
        "thresholds": [round(float(t), 4) for t in cal.thresholds],
        "long_weights": weights(cal.long_weights),
        "long_thresholds": [round(float(t), 4) for t in long_thresholds],
    }
