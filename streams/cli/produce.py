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
        if not raw:
            click.echo(f"line {number}: not sent: {dead.error_type}: {dead.error_message}", err=True)

    with reported(settings.broker_servers()):
        result = send_lines(settings, numbered_lines(input_file), raw=raw, on_invalid=report_invalid)
    topic = ARTICLES.full_name(settings.topic_prefix)
    rejected = f"; {result.rejected} invalid line(s) not sent" if result.rejected else ""
    click.echo(f"sent {result.sent} message(s) to {topic}{rejected}")
    if result.rejected:
        sys.exit(1)
