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
    ArticleStatus,
    Category,
    Change,
    Classification,
    ClassifiedArticle,
    DeadLetter,
    Evidence,
    Level,
    LevelRaised,
    ModelInfo,
    NewActors,
    NewCategory,
    PublishersCrossed,
    Retracted,
    RetractionReason,
    Signal,
    StoryInput,
)

__all__ = [
    "CATEGORIES",
    "ESCALATION_CATEGORIES",
    "SCHEMA_VERSION",
    "Alert",
    "AlertStatus",
    "Article",
    "ArticleRef",
    "ArticleStatus",
    "Category",
    "Change",
    "Classification",
    "ClassifiedArticle",
    "DeadLetter",
    "ErrorType",
    "Evidence",
    "Level",
    "LevelRaised",
    "ModelInfo",
    "NewActors",
    "NewCategory",
    "PublishersCrossed",
    "Retracted",
    "RetractionReason",
    "Signal",
    "StoryInput",
]
