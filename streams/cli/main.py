"""``flashpoint``: Faust's own CLI (worker, send, agents, tables, ...) plus the project's commands.

The project's commands are plain click commands added to Faust's root group, so
``flashpoint worker`` and ``flashpoint kafka up`` share one entry point and one ``--help``.
Faust's CLI needs the worker's app, whose import (Faust, the story stage's libraries) costs
seconds of CPU; a project command named first runs without it. Each
command group lives in its own module here, on the shared :mod:`streams.cli.base`; the logic
they call lives outside ``streams.cli`` and never imports click.
"""

from __future__ import annotations

import sys

import click


def project_commands() -> list[click.Command]:
    """Every command Flashpoint adds to Faust's CLI."""
    from streams.cli.classify import classify_command
    from streams.cli.cluster import cluster_command
    from streams.cli.contract import contract_group
    from streams.cli.demo import demo_command
    from streams.cli.kafka import kafka_group
    from streams.cli.model import eval_command, train_command
    from streams.cli.produce import produce_command
    from streams.cli.tail import tail_command
    from streams.cli.topics import topics_group

    return [
        kafka_group,
        topics_group,
        contract_group,
        classify_command,
        cluster_command,
        train_command,
        eval_command,
        produce_command,
        tail_command,
        demo_command,
    ]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``flashpoint`` console script."""
    args = sys.argv[1:] if argv is None else argv
    commands = project_commands()
    if args and args[0] in {command.name for command in commands}:
        project = click.Group(name="flashpoint", commands=commands)
        project.main(args=args, prog_name="flashpoint")
        return

    from faust.cli.faust import cli

    from streams.worker.app import app

    for command in commands:
        cli.add_command(command)
    app.main()
