"""The shipped classifier on bench/data/flashes.jsonl: 127 wire flashes (1-3 sentences) written for
Flashpoint as a held-out set. None is in the training file or the training supplement, and none
tells the same story as an item of either (tests/unit/test_supplement.py checks the supplement).

The floors sit under the figures measured for the shipped head (docs/MODEL_CARD.md), so that a
head that loses short texts — as the one trained without the supplement did (escalation F1
0.788, macro-F1 0.659) — fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.classifier.model import EscalationClassifier, load_classifier
from streams.classifier.train import DEFAULT_SUPPLEMENT, evaluate, load_dataset

pytestmark = pytest.mark.model

FLASHES = Path(__file__).resolve().parents[2] / "bench" / "data" / "flashes.jsonl"


@pytest.fixture(scope="module")
def classifier() -> EscalationClassifier:
    return load_classifier()


def test_short_flashes_are_recognised(classifier: EscalationClassifier) -> None:
    metrics, _, _, _ = evaluate(classifier, FLASHES)
    assert metrics["n"] == 127
    assert not metrics["trained_on_this_file"]
    escalation = metrics["escalation"]
    assert escalation["f1"] >= 0.85, escalation
    assert escalation["precision"] >= 0.9, escalation
    assert metrics["macro_f1"] >= 0.74, metrics["categories"]


def test_eval_knows_the_supplement_as_training_data(classifier: EscalationClassifier) -> None:
    supplement = load_dataset(DEFAULT_SUPPLEMENT)
    metrics, _, _, _ = evaluate(classifier, supplement)
    assert metrics["trained_on_this_file"]
