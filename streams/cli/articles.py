"""The project's own commands that work on articles: ``classify``, ``produce`` and ``tail``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from itertools import islice
from typing import IO, Any

import click

from schemas import Alert, ClassifiedArticle, DeadLetter
from streams import __version__
from streams.config import Settings, get_settings
from streams.pipeline.decode import Source, decode_article, utc_now
from streams.pipeline.route import Message, route_batch
from streams.topics import ARTICLES, by_short_name


def _error_line(line_no: int, error_type: str, message: str) -> str:
    return json.dumps({"line": line_no, "error": {"type": error_type, "message": message}})


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(stream, start=1):
        yield number, raw.rstrip(b"\r\n")


@click.command("classify")
@click.argument("input_file", metavar="[INPUT]", type=click.File("rb"), default="-")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Output JSONL.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Articles per batch.")
def classify_command(input_file: IO[bytes], output: IO[str], batch_size: int | None) -> None:
    """Classify JSON Lines articles without Kafka: one ClassifiedArticle (or error) per input line.

    INPUT is a path or - for stdin. An invalid line yields {"line": N, "error": {...}} and
    processing continues; the exit code is non-zero only when the input cannot be read. The
    lines go through the worker's own pipeline (route_batch): what the worker would dead-letter
    is reported as an error line.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from streams.worker.app import default_classifier_loader

    settings = get_settings()
    classifier = default_classifier_loader(settings.classifier)
    size = batch_size or settings.batch_max
    show = sys.stderr.isatty()
    total = None
    if show and input_file.seekable():  # a file, not a pipe: the bar can show a total and an ETA
        total = sum(1 for _ in input_file)
        input_file.seek(0)
    progress = tqdm(total=total, unit=" articles", file=sys.stderr, disable=not show)
    with logging_redirect_tqdm() if show else nullcontext():  # log lines above the bar, not through it
        _classify_lines(
            classifier,
            _numbered_lines(input_file),
            output=output,
            size=size,
            settings=settings,
            progress=progress,
        )
    progress.close()


def _classify_lines(
    classifier: Any,
    lines: Iterator[tuple[int, bytes]],
    *,
    output: IO[str],
    size: int,
    settings: Settings,
    progress: Any,
) -> None:
    while chunk := list(islice(lines, size)):
        routed = route_batch(
            classifier,
            [Message(raw, Source(None, None, number, None)) for number, raw in chunk],
            received_at=utc_now(),
            max_body_chars=settings.max_body_chars,
            app_version=__version__,
        )
        for (number, _), outputs in zip(chunk, routed, strict=True):
            value = outputs[0].value
            if isinstance(value, DeadLetter):
                output.write(_error_line(number, value.error_type, value.error_message) + "\n")
            else:
                output.write(value.model_dump_json() + "\n")
        output.flush()
        progress.update(len(chunk))


def _key_of(raw: bytes) -> bytes | None:
    """The article id of a JSON line, as the message key; None when there is none to read."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"].strip():
        return str(value["id"]).strip().encode("utf-8")
    return None


def send_lines(settings: Settings, lines: Iterable[tuple[int, bytes]], *, raw: bool) -> tuple[int, int]:
    """Send each line as one message to the input topic, keyed by its article id.

    Without ``raw`` a line that is not a valid article is reported on stderr and not sent.
    Returns (sent, rejected) once the broker has acknowledged every sent message.
    """
    from kafka import KafkaProducer

    topic = ARTICLES.full_name(settings.topic_prefix)
    producer = KafkaProducer(bootstrap_servers=settings.broker_servers().split(","), acks="all")
    sent = rejected = 0
    futures = []
    try:
        for number, line in lines:
            if not raw:
                decoded = decode_article(
                    line,
                    Source(None, None, None, None),
                    max_body_chars=settings.max_body_chars,
                    app_version=__version__,
                )
                if isinstance(decoded, DeadLetter):
                    click.echo(
                        f"line {number}: not sent: {decoded.error_type}: {decoded.error_message}", err=True
                    )
                    rejected += 1
                    continue
            futures.append(producer.send(topic, key=_key_of(line), value=line))
        producer.flush()
        for future in futures:
            future.get(timeout=60)  # raises the delivery error, if any
            sent += 1
    finally:
        producer.close()
    return sent, rejected


@click.command("produce")
@click.argument("input_file", metavar="FILE.jsonl", type=click.File("rb"))
@click.option("--raw", is_flag=True, help="Send every line as-is, even ones that are not valid articles.")
def produce_command(input_file: IO[bytes], raw: bool) -> None:
    """Send JSON Lines articles to the input topic, one message per line, keyed by article id."""
    settings = get_settings()
    sent, rejected = send_lines(settings, _numbered_lines(input_file), raw=raw)
    topic = ARTICLES.full_name(settings.topic_prefix)
    click.echo(
        f"sent {sent} message(s) to {topic}" + (f"; {rejected} invalid line(s) not sent" if rejected else "")
    )
    if rejected:
        sys.exit(1)


def describe(kind: str, value: bytes) -> str:
    """One human-readable line (plus evidence lines for alerts) for a message of ``kind``."""
    if kind == "alerts":
        alert = Alert.model_validate_json(value)
        lines = [f"[{alert.level.upper()} {alert.severity:>3}] {alert.summary}"]
        lines.append(f"      alert {alert.alert_id} · article {alert.article.id} v{alert.article.version}")
        for signal in alert.signals:
            for ev in signal.evidence[:1]:
                where = f"{ev.field}[{ev.start}:{ev.end}]"
                lines.append(f"      {signal.category} {signal.score:.2f} · {where} “{ev.text}”")
        return "\n".join(lines)
    if kind == "classified":
        c = ClassifiedArticle.model_validate_json(value)
        cats = ",".join(s.category for s in c.signals) or "-"
        flag = "ESCALATION" if c.escalation else "no-escalation"
        actors = ",".join(c.actors) or "-"
        return f"{c.article_id} v{c.article_version} {flag} {c.level} {c.severity} {cats} actors={actors}"
    dead = DeadLetter.model_validate_json(value)
    where = f"{dead.source_topic}[{dead.source_partition}]@{dead.source_offset}"
    return f"{dead.error_type} {dead.article_id or '-'} {where}: {dead.error_message}"


@click.command("tail")
@click.argument("kind", type=click.Choice(["alerts", "classified", "dlq"]), default="alerts")
@click.option("--json", "as_json", is_flag=True, help="Print each message's JSON as it is on the wire.")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest message instead of new ones.")
@click.option(
    "--max", "max_messages", type=click.IntRange(min=1), default=None, help="Stop after N messages."
)
@click.option(
    "--idle-timeout", type=float, default=None, help="Stop after this many seconds without a message."
)
def tail_command(
    kind: str, as_json: bool, from_beginning: bool, max_messages: int | None, idle_timeout: float | None
) -> None:
    """Print what arrives on an output topic, one line each (alerts also show their evidence)."""
    from kafka import KafkaConsumer

    settings = get_settings()
    topic = by_short_name(kind).full_name(settings.topic_prefix)
    options: dict[str, Any] = {}
    if idle_timeout is not None:
        options["consumer_timeout_ms"] = int(idle_timeout * 1000)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.broker_servers().split(","),
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        **options,
    )
    seen = 0
    try:
        for message in consumer:
            if as_json:
                click.echo(message.value.decode("utf-8"))
            else:
                try:
                    click.echo(describe(kind, message.value))
                except ValueError as exc:
                    click.echo(f"(unreadable message at offset {message.offset}: {exc})", err=True)
            seen += 1
            if max_messages is not None and seen >= max_messages:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
