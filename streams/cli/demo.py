"""``flashpoint demo``: the whole path on an embedded local Kafka, then a clean shutdown.

A thin command over :func:`streams.admin.demo.run_demo`.
"""

from __future__ import annotations

from pathlib import Path

import click

from streams.admin.demo import SAMPLES, run_demo
from streams.cli.base import load_settings, reported


@click.command("demo")
@click.option("--articles", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=SAMPLES)
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait for results.")
def demo_command(articles: Path, timeout: float) -> None:
    """Run the main job on an embedded local Kafka with the sample articles."""
    settings = load_settings()
    with reported():
        run_demo(settings, articles, timeout, say=click.echo)
