"""Read an output topic as it fills, and describe its events for people (``flashpoint tail``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from schemas import (
    Alert,
    Change,
    ClassifiedArticle,
    DeadLetter,
    LevelRaised,
    NewActors,
    NewCategory,
    PublishersCrossed,
    StoryInput,
)
from streams.config import Settings
from streams.kafka_clients import client_options
from streams.topics import TopicSpec


def _change_text(change: Change) -> str:
    if isinstance(change, NewCategory):
        return f"new category {change.value}"
    if isinstance(change, LevelRaised):
        return f"level {change.from_} → {change.to}"
    if isinstance(change, NewActors):
        return f"new actors {', '.join(change.value)}"
    if isinstance(change, PublishersCrossed):
        return f"{change.value}+ independent publishers"
    return f"retracted: {change.reason.replace('_', ' ')}"


def describe_alert(alert: Alert) -> str:
    """An alert's lifecycle for people: story, version, status, what changed, publishers."""
    changed = "; ".join(_change_text(c) for c in alert.changes) or "first report"
    head = f"[{alert.status.upper()} v{alert.version}] [{alert.level.upper()} {alert.severity:>3}]"
    lines = [f"{head} {alert.summary}"]
    lines.append(
        f"      story {alert.story_id} · alert {alert.alert_id} · {changed} · "
        f"{alert.independent_publishers} publisher(s), {len(alert.article_ids)} article(s)"
    )
    if alert.status != "retracted":
        for signal in alert.signals:
            for ev in signal.evidence[:1]:
                span = f"{ev.field}[{ev.start}:{ev.end}]"
                lines.append(f"      {signal.category} {signal.score:.2f} · {span} “{ev.text}”")
        lines.append(f"      explained by article {alert.article.id} v{alert.article.version}")
    return "\n".join(lines)


def describe(event: Alert | ClassifiedArticle | DeadLetter | StoryInput) -> str:
    """One human-readable line for an event (alerts: their lifecycle and evidence, several lines)."""
    if isinstance(event, Alert):
        return describe_alert(event)
    if isinstance(event, ClassifiedArticle):
        cats = ",".join(s.category for s in event.signals) or "-"
        flag = "ESCALATION" if event.escalation else "no-escalation"
        actors = ",".join(event.actors) or "-"
        story = f" story={event.story_id}" if event.story_id else ""
        copy = f" copy-of={event.duplicate_of}" if event.duplicate_of else ""
        return (
            f"{event.article_id} v{event.article_version} {flag} {event.level} {event.severity} "
            f"{cats} actors={actors}{story}{copy}"
        )
    if isinstance(event, StoryInput):
        kind = (
            "withdrawal"
            if event.article.withdrawn
            else ("copy of " + event.copy_of if event.copy_of else "classified")
        )
        return f"{event.article.id} v{event.article.version} {kind}"
    where = f"{event.source_topic}[{event.source_partition}]@{event.source_offset}"
    return f"{event.error_type} {event.article_id or '-'} {where}: {event.error_message}"


@contextmanager
def tail_topic(
    settings: Settings,
    spec: TopicSpec[Any],
    *,
    from_beginning: bool = False,
    idle_timeout: float | None = None,
) -> Iterator[Iterator[Any]]:
    """The records of ``spec``'s topic as they arrive (kafka-python ``ConsumerRecord``s).

    Starts at the newest message, or the oldest with ``from_beginning``; the iteration ends
    after ``idle_timeout`` seconds without a message (never, when None). Commits nothing.
    """
    from kafka import KafkaConsumer

    options: dict[str, Any] = {}
    if idle_timeout is not None:
        options["consumer_timeout_ms"] = int(idle_timeout * 1000)
    consumer = KafkaConsumer(
        spec.full_name(settings.topic_prefix),
        bootstrap_servers=settings.broker_servers().split(","),
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        **options,
        **client_options(settings.kafka),
    )
    try:
        yield iter(consumer)
    finally:
        consumer.close()
