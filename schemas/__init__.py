"""Flashpoint's wire contract: the pydantic v2 models of every event on its Kafka topics.

This package imports nothing heavy (no Faust, no torch), so downstream consumers can depend
on it alone to read Flashpoint's topics.
"""

from schemas.errors import ErrorType
from schemas.events import (
    CATEGORIES,
    ESCALATION_CATEGORIES,
    SCHEMA_VERSION,
    Alert,
    AlertStatus,
    Article,
    ArticleRef,
    Category,
    ClassifiedArticle,
    DeadLetter,
    Evidence,
    Level,
    ModelInfo,
    Signal,
)

__all__ = [
    "CATEGORIES",
    "ESCALATION_CATEGORIES",
    "SCHEMA_VERSION",
    "Alert",
    "AlertStatus",
    "Article",
    "ArticleRef",
    "Category",
    "ClassifiedArticle",
    "DeadLetter",
    "ErrorType",
    "Evidence",
    "Level",
    "ModelInfo",
    "Signal",
]
