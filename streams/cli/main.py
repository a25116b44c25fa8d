"""``flashpoint``: Faust's own CLI (worker, send, agents, tables, ...) plus the project's commands.

The project's commands are plain click commands added to Faust's root group, so
``flashpoint worker`` and ``flashpoint kafka up`` share one entry point and one ``--help``. Each
command group lives in its own module here, on the shared :mod:`streams.cli.base`; the logic
they call lives outside ``streams.cli`` and never imports click.
"""

from __future__ import annotations

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


def main() -> None:
    """Entry point of the ``flashpoint`` console script."""
    from faust.cli.faust import cli

    from streams.worker.app import app

    for command in project_commands():
        cli.add_command(command)
    app.main()
