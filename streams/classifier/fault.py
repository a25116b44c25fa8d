"""Fault drills: a classifier wrapper that raises on chosen articles.

Operators use it to rehearse poison-article handling on a staging cluster
(``FLASHPOINT_CLASSIFIER__FAIL_ON=<regex>``); the end-to-end tests use it the same way.
"""

from __future__ import annotations

import re
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
