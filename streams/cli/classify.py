"""``flashpoint classify``: JSON Lines articles in, one ClassifiedArticle (or error) per line out.

A thin command over :func:`streams.admin.classify.classify_lines`; it adds a progress bar when
stderr is a terminal.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import IO

import click

from streams.admin.produce import numbered_lines
from streams.cli.base import load_settings, output_option


@click.command("classify")
@click.argument("input_file", metavar="[INPUT]", type=click.File("rb"), default="-")
@output_option("Output JSONL, or - for stdout.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Articles per batch.")
def classify_command(input_file: IO[bytes], output: IO[str], batch_size: int | None) -> None:
    """Classify JSON Lines articles without Kafka: one ClassifiedArticle (or error) per input line.

    INPUT is a path or - for stdin. An invalid line yields {"line": N, "error": {...}} and
    processing continues; the exit code is non-zero only when the input cannot be read. The
    lines go through the worker's own pipeline (route_batch): what the worker would dead-letter
    is reported as an error line. An article in a language other than English is not judged:
    its line says "language_supported": false, and a summary on stderr counts them.
    """
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    # Imported here, not at the top: the pipeline's libraries take seconds to load, and every
    # other command of the CLI would pay for them.
    from streams.admin.classify import classify_lines
    from streams.worker.app import default_classifier_loader

    settings = load_settings()
    classifier = default_classifier_loader(settings.classifier)
    show = sys.stderr.isatty()
    total = None
    if show and input_file.seekable():  # a file, not a pipe: the bar can show a total and an ETA
        total = sum(1 for _ in input_file)
        input_file.seek(0)
    progress = tqdm(total=total, unit=" articles", file=sys.stderr, disable=not show)
    with logging_redirect_tqdm() if show else nullcontext():  # log lines above the bar, not through it
        not_judged = classify_lines(
            classifier,
            numbered_lines(input_file),
            output,
            batch_size=batch_size or settings.batch_max,
            settings=settings,
            on_batch=progress.update,
        )
    progress.close()
    if not_judged:
        languages = ", ".join(f"{lang} {n}" for lang, n in sorted(not_judged.items()))
        click.echo(
            f"{sum(not_judged.values())} article(s) not judged, in a language the English-only model "
            f'does not support ({languages}): "language_supported": false in their lines',
            err=True,
        )
