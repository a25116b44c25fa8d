"""Fault drills: classifier wrappers that raise on chosen articles, or never return.

Operators use them to rehearse poison-article handling (``FLASHPOINT_CLASSIFIER__FAIL_ON=<regex>``)
and a wedged model that liveness must catch (``FLASHPOINT_CLASSIFIER__STALL_ON=<regex>``) on a
staging cluster; the end-to-end tests use them the same way.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from schemas import ModelInfo
from schemas.events import Article
from streams.classifier.base import Assessment, Classifier


class PoisonArticleError(RuntimeError):
    """Raised by the drill for an article that matches its pattern."""


class FailingClassifier:
    """Delegates to ``inner`` but raises for any batch holding an article that matches ``pattern``."""

    def __init__(self, inner: Classifier, pattern: str) -> None:
        self.inner = inner
        self.pattern = re.compile(pattern)
        self.model_info: ModelInfo = inner.model_info

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        """Assess, or raise when an article matches the drill's pattern."""
        for article in articles:
            if self.pattern.search(article.title) or self.pattern.search(article.body):
                raise PoisonArticleError(
                    f"fault drill: article {article.id} matches {self.pattern.pattern!r}"
                )
        return self.inner.assess(articles)


class StallingClassifier:
    """Delegates to ``inner`` but never returns for a batch holding an article that matches
    ``pattern``: the model thread blocks until the process exits, as a wedged model would."""

    def __init__(self, inner: Classifier, pattern: str) -> None:
        self.inner = inner
        self.pattern = re.compile(pattern)
        self.model_info: ModelInfo = inner.model_info
        self._never = threading.Event()

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        """Assess, or block for good when an article matches the drill's pattern."""
        if any(self.pattern.search(a.title) or self.pattern.search(a.body) for a in articles):
            self._never.wait()
        return self.inner.assess(articles)
