"""``flashpoint topics create|list``: Flashpoint's topics on the broker, from the registry.

Thin commands over :mod:`streams.admin.topics`, which holds the create and describe logic.
"""

from __future__ import annotations

import click

from streams.admin.topics import DEFAULT_TIMEOUT_S, create_topics, describe_topics
from streams.cli.base import load_settings, reported, timeout_option

_timeout = timeout_option(DEFAULT_TIMEOUT_S, "Seconds to wait for the broker to answer.", name="timeout_s")


def _format_config(config: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in config.items())


@click.group(name="topics")
def topics_group() -> None:
    """Create and inspect Flashpoint's Kafka topics (from the topic registry)."""


@topics_group.command(name="create")
@_timeout
def create_command(timeout_s: float) -> None:
    """Create the missing topics; existing ones are reported, never altered."""
    settings = load_settings()
    with reported(settings.broker_servers()):
        created = create_topics(settings, timeout_s=timeout_s)
        states = {state.name: state for state in describe_topics(settings, timeout_s=timeout_s)}
    for name, was_created in created.items():
        state = states[name]
        verb = "created" if was_created else "exists "
        click.echo(
            f"{verb} {name} partitions={state.partitions} replication={state.replication} "
            f"{_format_config(state.config)}"
        )
        for line in state.drift:
            click.echo(f"  drift: {line}", err=True)
    count = sum(created.values())
    click.echo(f"{count} created, {len(created) - count} already present")


@topics_group.command(name="list")
@_timeout
def list_command(timeout_s: float) -> None:
    """Show every registry topic with partitions, replication and config read from the broker."""
    settings = load_settings()
    with reported(settings.broker_servers()):
        states = describe_topics(settings, timeout_s=timeout_s)
    for state in states:
        if not state.exists:
            click.echo(f"{state.name}  MISSING (run `flashpoint topics create`)")
            continue
        click.echo(
            f"{state.name}  partitions={state.partitions} replication={state.replication}  "
            f"{_format_config(state.config)}"
        )
        for line in state.drift:
            click.echo(f"  drift: {line}")
