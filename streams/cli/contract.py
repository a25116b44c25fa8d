"""``flashpoint contract export|check``: write or verify the published contract files.

Thin commands over :mod:`streams.admin.contract`, which renders the JSON Schemas and the
AsyncAPI document from the models and the topic registry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from streams.admin.contract import SCHEMAS_DIR, contract_drift, export_contract
from streams.cli.base import F


def _directory_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=SCHEMAS_DIR,
        show_default=True,
        help=help,
    )


@click.group(name="contract")
def contract_group() -> None:
    """The published wire contract: JSON Schemas and the AsyncAPI document."""


@contract_group.command(name="export")
@_directory_option("Directory to write json/*.json and asyncapi.yaml into.")
def export_command(directory: Path) -> None:
    """Write schemas/json/<Model>.json and schemas/asyncapi.yaml from the models and registry."""
    for path in export_contract(directory):
        click.echo(f"wrote {path}")


@contract_group.command(name="check")
@_directory_option("Directory holding the committed contract files.")
def check_command(directory: Path) -> None:
    """Fail when the committed contract files differ from what `export` would write."""
    drifted = contract_drift(directory)
    if drifted:
        for path in drifted:
            click.echo(f"out of date: {path}", err=True)
        raise click.ClickException(
            "the contract files drifted from the code: run `flashpoint contract export`"
        )
    click.echo("contract files are up to date")
