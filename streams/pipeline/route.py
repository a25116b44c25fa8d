"""From a batch of raw input messages to the messages to publish: the worker's whole logic.

``route_batch`` decodes each message, classifies the valid articles (isolating poison ones),
and returns, per input and in input order, what must be published: a dead letter, or a
classified article plus an alert when it is an escalation. It is synchronous and CPU-bound;
the agent runs it in its executor, ``flashpoint classify`` calls it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas import Alert, ClassifiedArticle, DeadLetter
from schemas.events import Article
from streams.classifier.base import Classifier
from streams.pipeline.alert import build_alert
from streams.pipeline.classify import ClassificationFailure, classify_articles
from streams.pipeline.decode import Source, decode_article, make_dead_letter
from streams.topics import ALERTS, CLASSIFIED, DEAD_LETTERS, TopicSpec

log = logging.getLogger("flashpoint.pipeline")


@dataclass(frozen=True)
class Message:
    """One input message: its value and where it was read."""

    value: bytes | None
    source: Source


@dataclass(frozen=True)
class Output:
    """One event to publish, on the registry topic whose codec gives its key and value bytes."""

    topic: TopicSpec[Any]
    value: ClassifiedArticle | Alert | DeadLetter

    @property
    def key(self) -> bytes | None:
        """The message key, as the topic derives it from the event."""
        return self.topic.encode_key(self.value)

    def encode(self) -> bytes:
        """The message value, as the topic encodes the event."""
        return self.topic.encode(self.value)


def where(source: Source, article_id: str | None) -> dict[str, object]:
    """Log record fields saying which message a line is about (keys in JSON logs)."""
    return {
        "topic": source.topic,
        "partition": source.partition,
        "offset": source.offset,
        "article_id": article_id,
    }


def _dead(dead: DeadLetter, source: Source) -> list[Output]:
    place = f"{source.topic}[{source.partition}]@{source.offset}" if source.topic else f"line {source.offset}"
    log.warning(
        "dead letter %s at %s (article %s): %s",
        dead.error_type,
        place,
        dead.article_id,
        dead.error_message[:300],
        extra=where(source, dead.article_id),
    )
    return [Output(DEAD_LETTERS, dead)]


def route_batch(
    classifier: Classifier,
    messages: Sequence[Message],
    *,
    received_at: datetime,
    max_body_chars: int,
    app_version: str,
) -> list[list[Output]]:
    """The outputs of each message, in input order (one list per message)."""
    routed: list[list[Output]] = [[] for _ in messages]
    valid: list[tuple[int, Article]] = []
    for i, message in enumerate(messages):
        decoded = decode_article(
            message.value,
            message.source,
            max_body_chars=max_body_chars,
            app_version=app_version,
            now=lambda: received_at,
        )
        if isinstance(decoded, DeadLetter):
            routed[i] = _dead(decoded, message.source)
        else:
            valid.append((i, decoded))
    if not valid:
        return routed
    results = classify_articles(classifier, [a for _, a in valid], [received_at] * len(valid))
    for (i, article), result in zip(valid, results, strict=True):
        source = messages[i].source
        if isinstance(result, ClassificationFailure):
            dead = make_dead_letter(
                messages[i].value,
                source,
                error_type=result.error_type,
                error_message=result.error_message,
                article_id=article.id,
                app_version=app_version,
                received_at=received_at,
            )
            routed[i] = _dead(dead, source)
            continue
        routed[i] = [Output(CLASSIFIED, result)]
        alert = build_alert(result, article)
        if alert is not None:
            routed[i].append(Output(ALERTS, alert))
        log.debug(
            "classified %s v%d: level %s, signals %s",
            article.id,
            article.version,
            result.level,
            ",".join(s.category for s in result.signals) or "-",
            extra=where(source, article.id),
        )
    return routed
