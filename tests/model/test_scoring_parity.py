"""One scoring path: a head fitted and calibrated by the training code, written as an artifact
and loaded by the service, scores the same articles as training did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from schemas.events import Article
from streams.classifier.artifact import DataFile, Manifest, shipped_artifact
from streams.classifier.classifier import EscalationClassifier
from streams.training import recipe
from streams.training.components import fit_components, predict_components
from streams.training.crossval import calibrate_rows, out_of_fold
from streams.training.dataset import DEFAULT_SUPPLEMENT, load_dataset, load_supplements
from streams.training.features import build_training_features
from streams.training.sentence_data import load_sentence_set
from streams.training.train import write_artifact
from tests.support.corpus import ALL_ARTICLES
from tests.support.sentence_files import write_sentence_file

pytestmark = pytest.mark.model

SHIPPED_ENCODER = shipped_artifact() / "encoder-int8.onnx"
#: float32 storage of the coefficients moves a probability by ~1e-7
TOLERANCE = 1e-6


def test_the_service_reproduces_the_training_scores(tmp_path: Path) -> None:
    data_path = tmp_path / "labelled.jsonl"
    rows = [{"id": i, "title": t, "body": b, "labels": sorted(ls)} for i, t, b, ls in ALL_ARTICLES]
    data_path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sentences_path = write_sentence_file(tmp_path / "labelled-sentences.jsonl")
    data = load_dataset(data_path)
    weights = dict(recipe.WEIGHTS_SENTENCES)
    # the short codebook examples join every fit, so that every fold sees every category
    extra, _ = load_supplements([DEFAULT_SUPPLEMENT], data)
    feats, groups = build_training_features(
        data, extra, weights, sentences=sentences_path, onnx_path=SHIPPED_ENCODER
    )
    idx = np.arange(len(data.articles))
    oof, oof_rows = out_of_fold(
        idx, feats, groups, k=3, seed=0, weights=weights, rng=np.random.default_rng(0)
    )
    cal = calibrate_rows(oof, feats, oof_rows, weights, len(idx))
    assert cal.short_thresholds is not None
    fitted = fit_components(feats, idx, dict.fromkeys(cal.used_components(), 1.0), seed=0)
    assert fitted.components.sentence is not None
    # the articles and their sentences, each as a one-sentence article (short calibration)
    scored = np.concatenate([idx, feats.sentence_rows])
    training_scores, training_thresholds = cal.scores(
        predict_components(fitted, feats, scored), feats.words(scored), feats.n_sentences(scored)
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

    # the sentence rows of training: the sentence file's, then the unlabelled articles' sentences
    one_sentence_articles = [
        Article(id=f"sentence-{n}", title="", body=text)
        for n, text in enumerate(load_sentence_set(data_path, sentences_path).texts)
    ]
    assert len(one_sentence_articles) == len(feats.sentence_rows)
    served_scores, served_thresholds, _, _ = EscalationClassifier(out).score(
        [*data.articles, *one_sentence_articles]
    )
    difference = float(np.abs(served_scores - training_scores).max())
    print(f"max |served - training| score difference: {difference:.2e}")
    assert difference < TOLERANCE
    # thresholds are stored to 6 decimals
    assert np.abs(served_thresholds - training_thresholds).max() <= 5e-7 + 1e-12
    assert (served_scores >= served_thresholds).any()
