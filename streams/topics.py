"""The one registry of Flashpoint's topics: names, retention, key and value schema, and codecs.

No topic name is written anywhere else; code asks this module, with the settings' prefix. Each
:class:`TopicSpec` also owns its payloads' wire format: ``encode``/``decode`` turn an event into
the message value and back, ``encode_key``/``decode_key`` do the same for the key, so no caller
serialises by hand. (The worker reads the input topic through
:func:`streams.pipeline.decode.decode_article` instead, which turns a bad payload into a dead
letter where ``decode`` raises.)
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel

from schemas import Alert, Article, ClassifiedArticle, DeadLetter, StoryInput
from streams.config import Settings
from streams.pipeline.decode import max_message_bytes

DAY_MS: Final = 24 * 60 * 60 * 1000
MIB: Final = 1024 * 1024

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True)
class TopicSpec(Generic[EventT]):
    """One topic as Flashpoint declares it, with the codec of its keys and values."""

    name: str
    role: Literal["input", "output", "dead_letter", "internal"]
    description: str
    value_schema: type[EventT]
    #: What the key holds, for people (the contract documents).
    key_description: str
    #: The key an event is published with (None: no key).
    key_of: Callable[[EventT], bytes | None]
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int
    #: ``max.message.bytes`` of the topic from the size of the largest valid input
    #: (:func:`input_max_bytes`); None = the broker's default (about 1 MiB).
    size_limit: Callable[[int], int] | None = None
    #: A partition count the topic must have whatever the settings say (None: the settings').
    fixed_partitions: int | None = None

    def full_name(self, prefix: str) -> str:
        """The name on the broker: the environment's prefix + the registry name."""
        return f"{prefix}{self.name}"

    def partitions(self, settings: Settings) -> int:
        """How many partitions the topic is created with."""
        return self.fixed_partitions or settings.partitions

    def max_message_bytes(self, settings: Settings) -> int | None:
        """The topic's ``max.message.bytes``, derived from ``max_body_chars`` (None: broker default)."""
        return None if self.size_limit is None else self.size_limit(input_max_bytes(settings.max_body_chars))

    def config(self, settings: Settings) -> dict[str, str]:
        """Kafka topic configs this topic is created with."""
        cfg = {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}
        limit = self.max_message_bytes(settings)
        if limit is not None:
            cfg["max.message.bytes"] = str(limit)
        if settings.replication > 1:
            cfg["min.insync.replicas"] = str(min(2, settings.replication))
        return cfg

    def encode(self, event: EventT) -> bytes:
        """The message value of ``event``: its JSON, UTF-8. Refuses an event of another schema."""
        if not isinstance(event, self.value_schema):
            raise TypeError(f"{self.name} carries {self.value_schema.__name__}, not {type(event).__name__}")
        return event.model_dump_json().encode("utf-8")

    def decode(self, value: bytes | None, *, max_body_chars: int | None = None) -> EventT:
        """The event in a message value; raises ``ValueError`` when it does not hold one.

        ``max_body_chars`` is the service's body limit, for events that carry an article.
        """
        if value is None:
            raise ValueError(f"a null value is not a {self.value_schema.__name__}")
        context = None if max_body_chars is None else {"max_body_chars": max_body_chars}
        return self.value_schema.model_validate_json(value, context=context)

    def encode_key(self, event: EventT) -> bytes | None:
        """The message key ``event`` is published with."""
        return self.key_of(event)

    def decode_key(self, key: bytes | None) -> str | None:
        """A message key as text (UTF-8; a key that is not is shown with escapes)."""
        return None if key is None else key.decode("utf-8", errors="backslashreplace")


#: Room in a record for its key (an id: at most 256 characters) and the record's framing.
RECORD_SLACK_BYTES: Final = 64 * 1024


def input_max_bytes(max_body_chars: int) -> int:
    """The largest input record a valid article can need: its value written in the costliest
    JSON escaping (:func:`streams.pipeline.decode.max_message_bytes`), its key and framing.

    Every size limit derives from this one, so a valid article always fits the input topic and
    its dead letter the dead-letter topic.
    """
    return max_message_bytes(max_body_chars) + RECORD_SLACK_BYTES


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _original_key(dead: DeadLetter) -> bytes | None:
    return None if dead.original_key is None else base64.b64decode(dead.original_key)


ARTICLES: Final = TopicSpec(
    name="news.articles.v1",
    role="input",
    description="Articles to classify (Article JSON); every version of a story keyed by its id.",
    value_schema=Article,
    key_description="article id (UTF-8)",
    key_of=lambda article: _utf8(article.id),
    cleanup_policy="delete",
    retention_ms=7 * DAY_MS,
    # Any valid article, however its producer escapes it.
    size_limit=lambda largest_input: largest_input,
)
CLASSIFIED: Final = TopicSpec(
    name="news.classified.v1",
    role="output",
    description="One ClassifiedArticle per valid input article, escalation or not.",
    value_schema=ClassifiedArticle,
    key_description="article id (UTF-8)",
    key_of=lambda classified: _utf8(classified.article_id),
    cleanup_policy="delete",
    retention_ms=7 * DAY_MS,
)
ALERTS: Final = TopicSpec(
    name="news.alerts.v1",
    role="output",
    description=(
        "Every version of every story's alert (created, updated, retracted); "
        "(alert_id, version) identifies a message."
    ),
    value_schema=Alert,
    key_description="alert id (UTF-8): one per story, so a story's versions stay in order",
    key_of=lambda alert: _utf8(alert.alert_id),
    cleanup_policy="delete",
    retention_ms=30 * DAY_MS,
)
ALERT_STATE: Final = TopicSpec(
    name="news.alerts.state.v1",
    role="output",
    description=(
        "Compacted: the latest version of every story's alert, the same Alert payload as "
        "news.alerts.v1; read it whole to rebuild the current picture."
    ),
    value_schema=Alert,
    key_description="alert id (UTF-8)",
    key_of=lambda alert: _utf8(alert.alert_id),
    cleanup_policy="compact",
    # Compaction keeps every key's latest value; nothing is deleted by age.
    retention_ms=-1,
)
STORY_INPUTS: Final = TopicSpec(
    name="news.stories.input.v1",
    role="internal",
    description=(
        "Internal: each valid article with its classification (none for a withdrawal), from the "
        "classify agent to the story agent. One partition, so one worker holds every story."
    ),
    value_schema=StoryInput,
    key_description="article id (UTF-8)",
    key_of=lambda item: _utf8(item.article.id),
    cleanup_policy="delete",
    retention_ms=7 * DAY_MS,
    # The article as normalised (never longer than its input) and its classification, whose
    # evidence quotes the article: twice the input fits both.
    size_limit=lambda largest_input: 2 * largest_input,
    fixed_partitions=1,
)
DEAD_LETTERS: Final = TopicSpec(
    name="news.articles.dlq.v1",
    role="dead_letter",
    description="Inputs that could not be processed, with the original bytes and the reason.",
    value_schema=DeadLetter,
    key_description="original key when there was one",
    key_of=_original_key,
    cleanup_policy="delete",
    retention_ms=30 * DAY_MS,
    # A dead letter carries the original key and value in base64 (4/3 of the input record)
    # and the original key again as its own key: 7/3 of the input, plus the reason, fits any
    # whole. (One that does not, from a topic created elsewhere, is cut to fit.)
    size_limit=lambda largest_input: largest_input * 7 // 3 + RECORD_SLACK_BYTES,
)

REGISTRY: Final[tuple[TopicSpec[Any], ...]] = (
    ARTICLES,
    CLASSIFIED,
    ALERTS,
    ALERT_STATE,
    DEAD_LETTERS,
    STORY_INPUTS,
)
#: The word the CLI uses for each topic.
SHORT_NAMES: Final[dict[str, TopicSpec[Any]]] = {
    "articles": ARTICLES,
    "classified": CLASSIFIED,
    "alerts": ALERTS,
    "alert-state": ALERT_STATE,
    "dlq": DEAD_LETTERS,
    "story-inputs": STORY_INPUTS,
}


def max_produced_bytes(settings: Settings) -> int:
    """The largest message Flashpoint itself produces (its producer's max request size)."""
    return max(spec.max_message_bytes(settings) or MIB for spec in REGISTRY)


def by_short_name(short: str) -> TopicSpec[Any]:
    """Look up a topic by the word the CLI uses (a key of :data:`SHORT_NAMES`)."""
    return SHORT_NAMES[short]
