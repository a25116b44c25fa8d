"""What every ``flashpoint`` command shares: settings, common options, errors as click errors.

Each command module under ``streams.cli`` is a thin layer: it parses its options with the
decorators here, loads the settings with :func:`load_settings`, calls the logic (which never
imports click) and prints. :func:`reported` turns the project's expected failures (a broker
that refuses, a worker that dies, a demo that comes up short) into a one-line click error with exit
code 1 instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from streams.config import Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])


def load_settings() -> Settings:
    """The process's settings from the environment; an invalid value is a usage error."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise click.UsageError(f"invalid FLASHPOINT_* setting: {exc}") from exc


def output_option(help: str = "Output file, or - for stdout.") -> Callable[[F], F]:
    """``-o/--output``: a UTF-8 text file opened for writing, stdout by default."""
    return click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help=help)


def timeout_option(default: float | None, help: str, *, name: str = "timeout") -> Callable[[F], F]:
    """``--timeout``: seconds, positive."""
    return click.option(
        "--timeout",
        name,
        type=click.FloatRange(min=0.1),
        default=default,
        show_default=default is not None,
        help=help,
    )


def _expected_errors() -> tuple[type[Exception], ...]:
    """The failures a command reports in one line; imported only when a command runs."""
    from aiokafka.errors import KafkaError as AioKafkaError
    from kafka.errors import KafkaError

    from streams.admin.demo import DemoError
    from streams.localkafka import KafkaLauncherError
    from streams.worker.process import WorkerError

    return (KafkaError, AioKafkaError, DemoError, KafkaLauncherError, WorkerError)


@contextmanager
def reported(context: str = "") -> Iterator[None]:
    """Turn the project's expected failures into a :class:`click.ClickException`.

    ``context`` (e.g. the broker address) prefixes the message. Anything else propagates with
    its traceback, as a bug should.
    """
    try:
        yield
    except _expected_errors() as exc:
        # Both Kafka clients' errors name their class in their text; an empty text says nothing.
        detail = str(exc) or type(exc).__name__
        raise click.ClickException(f"{context}: {detail}" if context else detail) from exc
