"""``flashpoint produce``: send JSON Lines articles to the input topic, one message per line.

A thin command over :func:`streams.admin.produce.send_lines`.
"""

from __future__ import annotations

import sys
from typing import IO

import click

from schemas import DeadLetter
from streams.admin.produce import numbered_lines, send_lines
from streams.cli.base import load_settings, reported
from streams.topics import ARTICLES


@click.command("produce")
@click.argument("input_file", metavar="FILE.jsonl", type=click.File("rb"))
@click.option("--raw", is_flag=True, help="Send every line as-is, even ones that are not valid articles.")
def produce_command(input_file: IO[bytes], raw: bool) -> None:
    """Send JSON Lines articles to the input topic, one message per line, keyed by article id."""
    settings = load_settings()

    def report_invalid(number: int, dead: DeadLetter) -> None:
        fate = "sent as-is, the worker will dead-letter it" if raw else "not sent"
        click.echo(f"line {number}: {fate}: {dead.error_type}: {dead.error_message}", err=True)

    def report_failed(number: int, reason: str) -> None:
        click.echo(f"line {number}: not sent: the broker did not take it: {reason}", err=True)

    with reported(f"broker at {settings.broker_servers()}"):
        result = send_lines(
            settings, numbered_lines(input_file), raw=raw, on_invalid=report_invalid, on_failed=report_failed
        )
    topic = ARTICLES.full_name(settings.topic_prefix)
    rejected = f"; {result.rejected} invalid line(s) not sent" if result.rejected else ""
    failed = f"; {result.failed} line(s) the broker did not take" if result.failed else ""
    click.echo(f"sent {result.sent} message(s) to {topic}{rejected}{failed}")
    if result.rejected or result.failed:
        sys.exit(1)
