"""Read an output topic as it fills, and describe its events for people (``flashpoint tail``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from schemas import Alert, ClassifiedArticle, DeadLetter
from streams.config import Settings
from streams.topics import TopicSpec


def describe(event: Alert | ClassifiedArticle | DeadLetter) -> str:
    """One human-readable line for an event (alerts add one line per signal's first evidence)."""
    if isinstance(event, Alert):
        lines = [f"[{event.level.upper()} {event.severity:>3}] {event.summary}"]
        lines.append(f"      alert {event.alert_id} · article {event.article.id} v{event.article.version}")
        for signal in event.signals:
            for ev in signal.evidence[:1]:
                span = f"{ev.field}[{ev.start}:{ev.end}]"
                lines.append(f"      {signal.category} {signal.score:.2f} · {span} “{ev.text}”")
        return "\n".join(lines)
    if isinstance(event, ClassifiedArticle):
        cats = ",".join(s.category for s in event.signals) or "-"
        flag = "ESCALATION" if event.escalation else "no-escalation"
        actors = ",".join(event.actors) or "-"
        return (
            f"{event.article_id} v{event.article_version} {flag} {event.level} {event.severity} "
            f"{cats} actors={actors}"
        )
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
    )
    try:
        yield iter(consumer)
    finally:
        consumer.close()
