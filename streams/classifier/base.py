"""The classifier's interface: what the pipeline calls, whatever the model behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas import ESCALATION_CATEGORIES, Level, ModelInfo, Signal
from schemas.events import Article


@dataclass(frozen=True)
class Assessment:
    """What the classifier says of one article."""

    scores: dict[str, float]
    signals: list[Signal]
    actors: list[str]
    severity: int
    level: Level


class Classifier(Protocol):
    """Synchronous and CPU-bound: the worker calls ``assess`` from an executor, in batches."""

    model_info: ModelInfo

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        """One assessment per article, in order."""
        ...


def is_escalation(signals: Sequence[Signal]) -> bool:
    """True when any signal is one of the eight escalation categories."""
    return any(s.category in ESCALATION_CATEGORIES for s in signals)
