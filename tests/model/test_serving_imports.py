"""The service's classifier (ONNX backend) loads and classifies without torch, scikit-learn,
matplotlib or click."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from schemas.events import Article
from streams.classifier.classifier import load_classifier

article = Article(
    id="a-1",
    title="Troops mass near the frontier",
    body="Satellite images show tanks and artillery massing near the frontier. The navy moved warships.",
)
[assessment] = load_classifier().assess([article])
print(json.dumps({
    "scores": len(assessment.scores),
    "loaded": [m for m in ("torch", "sklearn", "matplotlib", "click") if m in sys.modules],
}))
"""


def test_the_onnx_classifier_runs_without_training_libraries() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["scores"] == 9
    assert out["loaded"] == []
