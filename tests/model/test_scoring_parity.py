"""One scoring path: a head fitted and calibrated by the training code, written as an artifact
and loaded by the service, scores the same articles as training did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from streams.classifier.artifact import DataFile, Manifest, shipped_artifact
from streams.classifier.classifier import EscalationClassifier
from streams.training import recipe
from streams.training.calibration import calibrate
from streams.training.components import fit_components, predict_components
from streams.training.crossval import out_of_fold
from streams.training.dataset import DEFAULT_SUPPLEMENT, load_dataset, load_supplements
from streams.training.features import build_training_features
from streams.training.train import write_artifact
from tests.support.corpus import ALL_ARTICLES

pytestmark = pytest.mark.model

SHIPPED_ENCODER = shipped_artifact() / "encoder-int8.onnx"
#: float32 storage of the coefficients moves a probability by ~1e-7
TOLERANCE = 1e-6


def test_the_service_reproduces_the_training_scores(tmp_path: Path) -> None:
    data_path = tmp_path / "labelled.jsonl"
    rows = [{"id": i, "title": t, "body": b, "labels": sorted(ls)} for i, t, b, ls in ALL_ARTICLES]
    data_path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = load_dataset(data_path)
    weights = dict(recipe.WEIGHTS_FROZEN)
    # the short codebook examples join every fit, so that every fold sees every category
    extra, _ = load_supplements([DEFAULT_SUPPLEMENT], data)
    feats, groups = build_training_features(data, extra, weights, onnx_path=SHIPPED_ENCODER)
    idx = np.arange(len(data.articles))
    oof, oof_rows = out_of_fold(
        idx, feats, groups, k=3, seed=0, weights=weights, rng=np.random.default_rng(0)
    )
    passages = oof_rows < len(idx)
    cal = calibrate(oof, feats.y[oof_rows], feats.words(oof_rows), weights, synthetic=~passages)
    fitted = fit_components(feats, idx, dict.fromkeys(cal.used_components(), 1.0), seed=0)
    training_scores, training_thresholds = cal.scores(
        predict_components(fitted, feats, idx), feats.words(idx)
    )

    out = tmp_path / "artifact"
    out.mkdir()
    manifest = Manifest.load(shipped_artifact() / "manifest.json").model_copy(
        update={
            "head_version": "parity",
            "data": DataFile(path=data_path.name, sha256=data.sha256, n=len(idx)),
            "supplement": None,
        }
    )
    write_artifact(out, fitted, cal, manifest, threshold_folds=3)
    (out / "encoder-int8.onnx").symlink_to(SHIPPED_ENCODER)

    served_scores, served_thresholds, _, _ = EscalationClassifier(out).score(data.articles)
    difference = float(np.abs(served_scores - training_scores).max())
    print(f"max |served - training| score difference: {difference:.2e}")
    assert difference < TOLERANCE
    # thresholds are stored to 6 decimals
    assert np.abs(served_thresholds - training_thresholds).max() <= 5e-7 + 1e-12
    assert (served_scores >= served_thresholds).any()
