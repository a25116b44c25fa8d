"""``flashpoint tail``: print what arrives on an output topic, one line per event.

A thin command over :mod:`streams.admin.tail`; the topic's own codec decodes each message.
"""

from __future__ import annotations

import click

from streams.admin.tail import describe, tail_topic
from streams.cli.base import load_settings, reported
from streams.topics import by_short_name


@click.command("tail")
@click.argument(
    "kind",
    type=click.Choice(["alerts", "alert-state", "classified", "dlq", "story-inputs"]),
    default="alerts",
)
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
    """Print what arrives on a topic: alerts show their story's lifecycle (version, status, what
    changed, publishers) and evidence; alert-state is the compacted latest version of each."""
    settings = load_settings()
    spec = by_short_name(kind)
    seen = 0
    with (
        reported(settings.broker_servers()),
        tail_topic(settings, spec, from_beginning=from_beginning, idle_timeout=idle_timeout) as records,
    ):
        try:
            for record in records:
                if as_json:
                    click.echo(record.value.decode("utf-8"))
                else:
                    try:
                        click.echo(describe(spec.decode(record.value)))
                    except ValueError as exc:
                        click.echo(f"(unreadable message at offset {record.offset}: {exc})", err=True)
                seen += 1
                if max_messages is not None and seen >= max_messages:
                    break
        except KeyboardInterrupt:
            pass
