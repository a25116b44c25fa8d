"""The one registry of Flashpoint's topics: names, partitions, retention, key and value schema.

No topic name is written anywhere else; code asks this module, with the settings' prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from pydantic import BaseModel

from schemas import Alert, Article, ClassifiedArticle, DeadLetter
from streams.config import Settings

DAY_MS: Final = 24 * 60 * 60 * 1000
MIB: Final = 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    """One topic as Flashpoint declares it."""

    name: str
    role: Literal["input", "output", "dead_letter"]
    description: str
    value_schema: type[BaseModel]
    key: str
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int
    #: ``max.message.bytes`` of the topic; None = the broker's default (about 1 MiB).
    max_message_bytes: int | None = None

    def full_name(self, prefix: str) -> str:
        """The name on the broker: the environment's prefix + the registry name."""
        return f"{prefix}{self.name}"

    def config(self, settings: Settings) -> dict[str, str]:
        """Kafka topic configs this topic is created with."""
        cfg = {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}
        if self.max_message_bytes is not None:
            cfg["max.message.bytes"] = str(self.max_message_bytes)
        if settings.replication > 1:
            cfg["min.insync.replicas"] = str(min(2, settings.replication))
        return cfg


ARTICLES: Final = TopicSpec(
    name="news.articles.v1",
    role="input",
    description="Articles to classify (Article JSON); every version of a story keyed by its id.",
    value_schema=Article,
    key="article id (UTF-8)",
    cleanup_policy="delete",
    retention_ms=7 * DAY_MS,
    # Stated, not inherited from the broker, because the dead-letter topic must hold any of them.
    max_message_bytes=MIB,
)
CLASSIFIED: Final = TopicSpec(
    name="news.classified.v1",
    role="output",
    description="One ClassifiedArticle per valid input article, escalation or not.",
    value_schema=ClassifiedArticle,
    key="article id (UTF-8)",
    cleanup_policy="delete",
    retention_ms=7 * DAY_MS,
)
ALERTS: Final = TopicSpec(
    name="news.alerts.v1",
    role="output",
    description="An Alert for every escalation; alert_id is deterministic for de-duplication.",
    value_schema=Alert,
    key="article id (UTF-8)",
    cleanup_policy="delete",
    retention_ms=30 * DAY_MS,
)
DEAD_LETTERS: Final = TopicSpec(
    name="news.articles.dlq.v1",
    role="dead_letter",
    description="Inputs that could not be processed, with the original bytes and the reason.",
    value_schema=DeadLetter,
    key="original key when there was one",
    cleanup_policy="delete",
    retention_ms=30 * DAY_MS,
    # A dead letter carries the original key and value in base64 (4/3 of the input, which
    # max.message.bytes of ARTICLES bounds) plus the reason: twice the input limit fits it.
    max_message_bytes=2 * MIB,
)

REGISTRY: Final[tuple[TopicSpec, ...]] = (ARTICLES, CLASSIFIED, ALERTS, DEAD_LETTERS)


def by_short_name(short: str) -> TopicSpec:
    """Look up a topic by the word the CLI uses: articles, classified, alerts, dlq."""
    table = {"articles": ARTICLES, "classified": CLASSIFIED, "alerts": ALERTS, "dlq": DEAD_LETTERS}
    return table[short]
