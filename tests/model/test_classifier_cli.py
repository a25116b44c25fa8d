"""``flashpoint eval`` (and the metrics it prints) on a small labelled file written for the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from schemas import CATEGORIES
from streams.cli.model import eval_command
from streams.training.calibration import best_threshold
from streams.training.evaluation import metrics_from_predictions
from tests.support.corpus import MODEL_HARD_NEGATIVES, MODEL_POSITIVES

pytestmark = pytest.mark.model


def test_eval_prints_metrics_and_writes_plot(tmp_path: Path) -> None:
    data = tmp_path / "labelled.jsonl"
    rows = [
        {"id": f"p{i}", "title": t, "body": b, "labels": [c]} for i, (c, t, b) in enumerate(MODEL_POSITIVES)
    ]
    rows += [
        {"id": f"n{i}", "title": t, "body": b, "labels": []} for i, (t, b) in enumerate(MODEL_HARD_NEGATIVES)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    plot = tmp_path / "pr.png"
    out_json = tmp_path / "metrics.json"
    result = CliRunner().invoke(
        eval_command, ["--data", str(data), "--plot", str(plot), "--json-out", str(out_json)]
    )
    assert result.exit_code == 0, result.output
    for c in CATEGORIES:
        assert c in result.output
    assert "macro-F1" in result.output
    assert "escalation" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads(out_json.read_text())
    assert metrics["n"] == len(rows)
    assert metrics["escalation"]["support"] == len(MODEL_POSITIVES) - 1  # all but de_escalation
    assert not metrics["trained_on_this_file"]


def test_metrics_from_predictions_by_hand() -> None:
    y = np.zeros((4, len(CATEGORIES)), dtype=int)
    pred = np.zeros_like(y)
    y[0, 0] = y[1, 0] = 1  # two threats
    pred[0, 0] = pred[2, 0] = 1  # one hit, one false alarm
    y[3, -1] = pred[3, -1] = 1  # de-escalation: not an escalation
    m = metrics_from_predictions(y, pred)
    assert m["categories"]["threat"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["escalation"]["support"] == 2
    assert m["escalation"]["f1"] == pytest.approx(0.5)
    assert m["categories"]["de_escalation"]["f1"] == 1.0


def test_best_threshold_maximises_f1() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.1])
    labels = np.array([1, 1, 0, 1, 0, 0])
    t = best_threshold(scores, labels)
    assert 0.3 < t < 0.4  # take the top four: F1 = 6/7, the best cut
    assert best_threshold(np.array([0.2, 0.6]), np.array([0, 1])) == pytest.approx(0.4)
