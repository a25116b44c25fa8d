"""Grouped cross-validation: out-of-fold component scores (stories never split across folds)
and the nested estimate, where each outer fold's calibration is chosen on its own inner folds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from schemas import CATEGORIES
from streams.classifier.classifier import MAX_EVIDENCE
from streams.classifier.head import Calibration, evidence_rows
from streams.training.calibration import calibrate
from streams.training.components import fit_components, predict_components
from streams.training.evaluation import metrics_from_predictions
from streams.training.features import Features
from streams.training.recipe import CONCAT_PER_PASSAGE, is_on

__all__ = ["calibrate_rows", "calibration_record", "cross_validate", "grouped_folds", "out_of_fold"]


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
    passages ``idx``, with ``rng`` synthetic long articles made of each held-out fold's
    passages (appended to ``feats``), and the one-sentence rows of the held-out passages'
    sentences (when ``feats`` has them)."""
    oof: dict[str, list[np.ndarray]] = {}
    rows: list[np.ndarray] = []
    for tr, te in grouped_folds(idx, groups, k, seed):
        fitted = fit_components(feats, tr, weights, seed, epochs)
        held = te
        if rng is not None:
            held = np.concatenate([te, feats.add_concatenations(groups, te, _n_concatenations(te), rng)])
        held = np.concatenate([held, feats.sentence_rows_of(te)])
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
    visible. ``without_sentence`` (today's components, their cue weights chosen like the
    ensemble's) is the head before the sentence model, on the same folds.

    With the sentence file's rows in ``feats``, each outer test fold's sentences are also
    classified one by one (``flash``; the labelled ones: ``sentences``), and the evidence of
    the held-out passages' signals is checked against their sentences' labels (``evidence``).
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(len(groups))
    names = [k for k in weights if is_on(weights, k)]
    variants: dict[str, dict[str, Any]] = {"ensemble": weights, "one_calibration": weights}
    if "cue" in names and len(names) > 1:
        variants["without_cue"] = {k: w for k, w in weights.items() if k != "cue"}
    if "sentence" in names and len(names) > 1:
        variants["without_sentence"] = {k: w for k, w in weights.items() if k != "sentence"}
    variants.update({f"only_{k}": {k: 1.0} for k in names})
    preds = {v: np.zeros((len(idx), len(CATEGORIES)), dtype=int) for v in variants}
    long_preds: dict[str, list[np.ndarray]] = {v: [] for v in variants}
    flash_preds: dict[str, list[np.ndarray]] = {v: [] for v in variants}
    long_rows: list[np.ndarray] = []
    flash_rows: list[np.ndarray] = []
    fold_calibrations = []
    evidence = _EvidenceCount()
    for f, (tr, te) in enumerate(grouped_folds(idx, groups, folds, seed)):
        oof, rows = out_of_fold(
            tr, feats, groups, k=inner_folds, seed=seed + 1, weights=weights, epochs=epochs, rng=rng
        )
        fitted = fit_components(feats, tr, weights, seed, epochs)
        long_te = feats.add_concatenations(groups, te, _n_concatenations(te), rng)
        sent_te = feats.sentence_rows_of(te)
        long_rows.append(long_te)
        flash_rows.append(sent_te)
        test_rows = np.concatenate([te, long_te, sent_te])
        test = predict_components(fitted, feats, test_rows)
        calibrated = _calibrated_variants(
            feats, variants, inner=(oof, rows), test=(test, test_rows), n_passages=len(idx)
        )
        for v, (cal, pred) in calibrated.items():
            preds[v][te] = pred[: len(te)]
            long_preds[v].append(pred[len(te) : len(te) + len(long_te)])
            flash_preds[v].append(pred[len(te) + len(long_te) :])
            if v == "ensemble":
                fold_calibrations.append(calibration_record(cal))
                evidence.add(feats, fitted, cal, te, pred[: len(te)])
        if progress:
            progress(f"fold {f + 1}/{folds} done")
    y = feats.y[idx]
    long_y = feats.y[np.concatenate(long_rows)]
    flash_all = np.concatenate(flash_rows)
    flash_y = feats.y[flash_all]
    labelled = np.isin(flash_all, feats.sentence_rows[feats.sentence_labelled])
    out = metrics_from_predictions(y, preds["ensemble"])
    out["long_articles"] = metrics_from_predictions(long_y, np.concatenate(long_preds["ensemble"]))
    if len(flash_all):
        flash = np.concatenate(flash_preds["ensemble"])
        out["flash"] = metrics_from_predictions(flash_y, flash)
        out["sentences"] = metrics_from_predictions(flash_y[labelled], flash[labelled])
        out["evidence"] = evidence.report()
    out["components"] = _variant_reports(
        preds,
        long_preds=long_preds,
        flash_preds=flash_preds,
        y=y,
        long_y=long_y,
        flash_y=flash_y,
        labelled=labelled,
    )
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


def calibrate_rows(
    oof: dict[str, np.ndarray],
    feats: Features,
    rows: np.ndarray,
    weights: dict[str, Any],
    n_passages: int,
    *,
    choose_weights: bool = True,
) -> Calibration:
    """:func:`~streams.training.calibration.calibrate` on the out-of-fold scores ``oof`` of
    ``rows`` of ``feats``: rows under ``n_passages`` are the labelled passages, the one-sentence
    rows are single sentences, every other row a synthetic long article."""
    one = np.isin(rows, feats.sentence_rows)
    return calibrate(
        oof,
        feats.y[rows],
        feats.words(rows),
        weights,
        choose_weights=choose_weights,
        synthetic=(rows >= n_passages) & ~one,
        n_sentences=feats.n_sentences(rows),
        one_sentence=one,
    )


def _calibrated_variants(
    feats: Features,
    variants: dict[str, dict[str, Any]],
    *,
    inner: tuple[dict[str, np.ndarray], np.ndarray],
    test: tuple[dict[str, np.ndarray], np.ndarray],
    n_passages: int,
) -> dict[str, tuple[Calibration, np.ndarray]]:
    """Per variant, its calibration chosen on the inner out-of-fold scores of ``inner`` (scores,
    rows), and its signals on the outer test rows of ``test`` (component probabilities, rows)."""
    oof, rows = inner
    probs, test_rows = test
    words = feats.words(test_rows)
    passages = rows < n_passages
    out = {}
    for v, base in variants.items():
        if v == "one_calibration":  # from the passages alone, for every length
            part = {c: p[passages] for c, p in oof.items()}
            none_long = np.zeros(int(passages.sum()), dtype=int)
            cal = calibrate(part, feats.y[rows[passages]], none_long, base)
            out[v] = (cal, cal.predict(probs, np.zeros(len(words), dtype=int)))
            continue
        cal = calibrate_rows(
            oof, feats, rows, base, n_passages, choose_weights=v in ("ensemble", "without_sentence")
        )
        out[v] = (cal, cal.predict(probs, words, feats.n_sentences(test_rows)))
    return out


def _variant_reports(
    preds: dict[str, np.ndarray],
    *,
    long_preds: dict[str, list[np.ndarray]],
    flash_preds: dict[str, list[np.ndarray]],
    y: np.ndarray,
    long_y: np.ndarray,
    flash_y: np.ndarray,
    labelled: np.ndarray,
) -> dict[str, Any]:
    """``components`` of the nested CV: each variant but the ensemble, in brief."""
    out: dict[str, Any] = {}
    for v, p in preds.items():
        if v == "ensemble":
            continue
        m = metrics_from_predictions(y, p)
        ml = metrics_from_predictions(long_y, np.concatenate(long_preds[v]))
        out[v] = {
            "macro_f1": m["macro_f1"],
            "escalation_f1": m["escalation"]["f1"],
            "f1": {c: m["categories"][c]["f1"] for c in CATEGORIES},
            "long_articles": {"macro_f1": ml["macro_f1"], "escalation_f1": ml["escalation"]["f1"]},
        }
        if len(flash_y):
            fp = np.concatenate(flash_preds[v])
            mf = metrics_from_predictions(flash_y, fp)
            ms = metrics_from_predictions(flash_y[labelled], fp[labelled])
            out[v]["flash"] = {
                "macro_f1": mf["macro_f1"],
                "escalation_f1": mf["escalation"]["f1"],
                "escalation_recall": mf["escalation"]["recall"],
                "sentences_macro_f1": ms["macro_f1"],
                "sentences_threat_f1": ms["categories"]["threat"]["f1"],
            }
    return out


class _EvidenceCount:
    """Evidence precision on held-out passages: per category, the signals of labelled passages
    whose first evidence sentence carries that category in the sentence file (``span_y``), and
    the same counting every signal of an unlabelled passage as a miss (its sentences carry no
    label)."""

    def __init__(self) -> None:
        k = len(CATEGORIES)
        self.signals = np.zeros(k, dtype=int)
        self.hits = np.zeros(k, dtype=int)
        self.unlabelled_signals = np.zeros(k, dtype=int)

    def add(self, feats: Features, fitted: Any, cal: Calibration, te: np.ndarray, pred: np.ndarray) -> None:
        sentence = fitted.components.sentence
        if sentence is None or feats.embeddings is None or cal.sentence_thresholds is None:
            return
        for i, p in zip(te, pred, strict=True):
            if not p.any() or not len(feats.embeddings[i]):
                continue
            span_y = feats.span_y.get(int(i))
            if span_y is None:
                self.unlabelled_signals += p
                continue
            probs = sentence.probabilities(feats.embeddings[i])
            for j in np.flatnonzero(p):
                first = evidence_rows(probs[:, j], cal.sentence_thresholds[j], MAX_EVIDENCE)[0]
                self.signals[j] += 1
                self.hits[j] += int(span_y[first, j])

    def report(self) -> dict[str, Any]:
        def share(h: float, n: float) -> float:
            return round(float(h) / n, 4) if n else 0.0

        return {
            "per_category": {
                c: {
                    "signals": int(self.signals[j]),
                    "first_carries": int(self.hits[j]),
                    "precision": share(self.hits[j], self.signals[j]),
                }
                for j, c in enumerate(CATEGORIES)
            },
            "precision": share(self.hits.sum(), self.signals.sum()),
            "signals": int(self.signals.sum()),
            "unlabelled_passage_signals": int(self.unlabelled_signals.sum()),
            "precision_counting_unlabelled": share(
                self.hits.sum(), self.signals.sum() + self.unlabelled_signals.sum()
            ),
        }


def calibration_record(cal: Calibration) -> dict[str, Any]:
    """A calibration as JSON values (thresholds to 4 decimals), as metrics.json reports them."""

    def weights(w: dict[str, Any] | None) -> dict[str, Any]:
        return {c: (v if np.isscalar(v) else [float(x) for x in v]) for c, v in (w or {}).items()}

    long_thresholds = cal.thresholds if cal.long_thresholds is None else cal.long_thresholds
    out = {
        "weights": weights(cal.weights),
        "thresholds": [round(float(t), 4) for t in cal.thresholds],
        "long_weights": weights(cal.long_weights),
        "long_thresholds": [round(float(t), 4) for t in long_thresholds],
    }
    if cal.short_thresholds is not None:
        out["short_weights"] = weights(cal.short_weights)
        out["short_thresholds"] = [round(float(t), 4) for t in cal.short_thresholds]
    if cal.sentence_thresholds is not None:
        out["sentence_thresholds"] = [round(float(t), 4) for t in cal.sentence_thresholds]
    return out
