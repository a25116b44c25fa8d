"""Send JSON Lines articles to the input topic (``flashpoint produce`` and the demo).

Each line becomes one message, sent as-is and keyed by its article id. A line that is not a
valid article is checked with the worker's own decoder first, so the operator learns before
sending what the worker would dead-letter. Every line's fate is reported: sent, held back as
invalid, or not taken by the broker (too large); one bad line never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from schemas import DeadLetter
from streams import __version__
from streams.config import Settings
from streams.kafka_clients import client_options
from streams.pipeline.decode import Source, decode_article
from streams.topics import ARTICLES

#: Told about each line that is not a valid article: (line number, why).
OnInvalid = Callable[[int, DeadLetter], None]


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines of a binary stream without their line ending, numbered from 1."""
    for number, raw in enumerate(stream, start=1):
        yield number, raw.rstrip(b"\r\n")


#: Told about each line the broker did not take: (line number, why).
OnFailed = Callable[[int, str], None]


@dataclass(frozen=True)
class SendResult:
    """How many lines the broker acknowledged, how many were held back as invalid, and how
    many it did not take (too large for the topic, refused)."""

    sent: int
    rejected: int
    failed: int = 0


def _ignore(number: int, dead: DeadLetter) -> None:
    return None


def _ignore_failed(number: int, reason: str) -> None:
    return None


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def send_lines(
    settings: Settings,
    lines: Iterable[tuple[int, bytes]],
    *,
    raw: bool,
    on_invalid: OnInvalid = _ignore,
    on_failed: OnFailed = _ignore_failed,
) -> SendResult:
    """Send each line as one message to the input topic, keyed by its article id.

    A line that is not a valid article is reported to ``on_invalid``; without ``raw`` it is not
    sent, with ``raw`` it is sent anyway (keyed by its id when it has a readable one). Returns
    once the broker has acknowledged or refused every sent message; a line the broker does not
    take (too large, refused) goes to ``on_failed`` and the others are still sent. A broker that
    cannot be reached raises :class:`kafka.errors.KafkaError` after a bounded wait.
    """
    from kafka import KafkaProducer
    from kafka.errors import KafkaError, KafkaTimeoutError

    topic = ARTICLES.full_name(settings.topic_prefix)
    producer = KafkaProducer(
        bootstrap_servers=settings.broker_servers().split(","),
        acks="all",
        # Any valid article must fit: the input topic's limit is derived from max_body_chars.
        max_request_size=ARTICLES.max_message_bytes(settings),
        **client_options(settings.kafka),
    )
    sent = rejected = failed = 0
    futures = []
    try:
        for number, line in lines:
            decoded = decode_article(
                line,
                Source(None, None, None, None),
                max_body_chars=settings.max_body_chars,
                app_version=__version__,
            )
            if isinstance(decoded, DeadLetter):
                on_invalid(number, decoded)
                if not raw:
                    rejected += 1
                    continue
                key = decoded.article_id.encode("utf-8") if decoded.article_id else None
            else:
                key = ARTICLES.encode_key(decoded)
            try:
                futures.append((number, producer.send(topic, key=key, value=line)))
            except KafkaTimeoutError:  # no metadata within max_block_ms: the broker is gone
                raise
            except KafkaError as exc:  # refused before sending: too large for the producer
                on_failed(number, _reason(exc))
                failed += 1
        producer.flush()
        for number, future in futures:
            try:
                future.get(timeout=60)
            except KafkaError as exc:  # refused by the broker (too large for the topic, ...)
                on_failed(number, _reason(exc))
                failed += 1
            else:
                sent += 1
    finally:
        producer.close()
    return SendResult(sent=sent, rejected=rejected, failed=failed)
