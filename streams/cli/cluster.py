"""``flashpoint cluster``: JSON Lines articles in, one story placement (or error) per line out.

A thin command over :func:`streams.admin.cluster.cluster_lines`: the stream's story stage,
without Kafka.
"""

from __future__ import annotations

from typing import IO

import click

from streams.admin.produce import numbered_lines
from streams.cli.base import load_settings, output_option


@click.command("cluster")
@click.argument("input_file", metavar="[INPUT]", type=click.File("rb"), default="-")
@output_option("Output JSONL, or - for stdout.")
def cluster_command(input_file: IO[bytes], output: IO[str]) -> None:
    """Group JSON Lines articles into stories, in the order given, without Kafka.

    INPUT is a path or - for stdin. Each line gives {"article_id", "story_id", "duplicate_of"}
    (duplicate_of: the article it copies, or null), or {"line": N, "error": {...}} for a line the
    worker would dead-letter. Event time is the article's published_at when it has one.
    """
    # Imported here, not at the top: the story stage's libraries take seconds to load, and
    # every other command of the CLI would pay for them.
    from streams.admin.cluster import cluster_lines
    from streams.pipeline.stories import StoryStage, stage_config

    settings = load_settings()
    stage = StoryStage(*stage_config(settings.stories))
    count = cluster_lines(numbered_lines(input_file), output, settings=settings, stage=stage)
    click.echo(f"{count} stories", err=True)
