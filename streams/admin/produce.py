"""Send JSON Lines articles to the input topic (``flashpoint produce`` and the demo).

Each line becomes one message, sent as-is and keyed by its article id. A line that is not a
valid article is checked with the worker's own decoder first, so the operator learns before
sending what the worker would dead-letter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from schemas import DeadLetter
from streams import __version__
from streams.config import Settings
from streams.pipeline.decode import Source, decode_article
from streams.topics import ARTICLES

#: Told about each line that is not a valid article: (line number, why).
OnInvalid = Callable[[int, DeadLetter], None]


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines of a binary stream without their line ending, numbered from 1."""
    for number, raw in enumerate(stream, start=1):
        yield number, raw.rstrip(b"\r\n")


@dataclass(frozen=True)
class SendResult:
    """How many lines went to the broker (all acknowledged) and how many were held back."""

    sent: int
    rejected: int


def _ignore(number: int, dead: DeadLetter) -> None:
    return None


def send_lines(
    settings: Settings,
    lines: Iterable[tuple[int, bytes]],
    *,
    raw: bool,
    on_invalid: OnInvalid = _ignore,
) -> SendResult:
    """Send each line as one message to the input topic, keyed by its article id.

    A line that is not a valid article is reported to ``on_invalid``; without ``raw`` it is not
    sent, with ``raw`` it is sent anyway (keyed by its id when it has a readable one). Returns
    once the broker has acknowledged every sent message.
    """
    from kafka import KafkaProducer

    topic = ARTICLES.full_name(settings.topic_prefix)
    producer = KafkaProducer(bootstrap_servers=settings.broker_servers().split(","), acks="all")
    sent = rejected = 0
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
            futures.append(producer.send(topic, key=key, value=line))
        producer.flush()
        for future in futures:
            future.get(timeout=60)  # raises the delivery error, if any
            sent += 1
    finally:
        producer.close()
    return SendResult(sent=sent, rejected=rejected)
