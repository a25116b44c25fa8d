"""A keyword classifier for wiring tests only: it follows the Classifier protocol, not the codebook.

The real model is tested in tests/model and end to end in tests/e2e; this fake keeps the
pipeline's unit tests fast and lets them make the classifier fail on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from schemas import CATEGORIES, Evidence, ModelInfo, Signal
from schemas.events import Article
from streams.classifier.base import Assessment

KEYWORDS = {
    "threat": "warned",
    "use_of_force": "strike",
    "sanctions": "sanction",
    "de_escalation": "ceasefire",
}


class KeywordClassifier:
    """Signals a category when its keyword appears in a sentence; raises on ``explode``."""

    model_info = ModelInfo(encoder="keyword-fake", head_version="fake-1", thresholds_version="fake-1")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        self.calls.append(len(articles))
        results = []
        for article in articles:
            if "explode" in article.body:
                raise RuntimeError("the fake model exploded")
            signals = []
            for category, word in KEYWORDS.items():
                for m in re.finditer(r"[^.]*\b" + word + r"[^.]*\.?", article.body):
                    ev = Evidence(field="body", start=m.start(), end=m.end(), text=m.group())
                    signals.append(Signal(category=category, score=0.9, evidence=[ev]))  # type: ignore[arg-type]
                    break
            scores = {c: (0.9 if any(s.category == c for s in signals) else 0.1) for c in CATEGORIES}
            escalating = [s for s in signals if s.category != "de_escalation"]
            results.append(
                Assessment(
                    scores=scores,
                    signals=signals,
                    actors=["US"] if "Washington" in article.body else [],
                    severity=60 if escalating else 0,
                    level="medium" if escalating else "none",
                )
            )
        return results
