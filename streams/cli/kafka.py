"""``flashpoint kafka up|down|status|stop-node|start-node``: a real local Apache Kafka (KRaft).

``stop-node`` and ``start-node`` are for fault drills on a 3-node cluster: stop or kill one node,
keeping its data, and start it again on that data.

Thin commands over :mod:`streams.localkafka`: parse the options, call the launcher, print. A
launcher error becomes a one-line click error (exit 1, no traceback) through
:func:`streams.cli.base.reported`.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from streams.cli.base import reported, timeout_option
from streams.config import LOCAL_BROKER_PORT
from streams.localkafka import (
    READY_TIMEOUT_S,
    kafka_version,
    load_cluster,
    recorded_cluster,
    start_cluster,
    start_node,
    stop_cluster,
    stop_node,
)

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the running cluster is recorded (default: the user state dir).",
)


@click.group("kafka")
def kafka_group() -> None:
    """A real local Apache Kafka (KRaft) for the demo and the tests, without Docker."""


@kafka_group.command("up")
@click.option(
    "--nodes", type=click.Choice(["1", "3"]), default="1", show_default=True, help="Broker/controller nodes."
)
@click.option(
    "--port",
    type=int,
    default=LOCAL_BROKER_PORT,
    show_default=True,
    help="First broker port; brokers use PORT..PORT+N-1, controllers the next N ports.",
)
@click.option(
    "--secure",
    is_flag=True,
    help="SASL_SSL listener (SCRAM-SHA-512 user, throw-away CA); prints the client settings.",
)
@timeout_option(READY_TIMEOUT_S, "Seconds to wait for every broker to serve requests.")
@_state_dir_option
def up_command(nodes: str, port: int, secure: bool, timeout: float, state_dir: Path | None) -> None:
    """Start Kafka in the background; print the bootstrap servers once it serves requests.

    Exits non-zero without touching it when a cluster recorded in the state dir is running.
    With --secure, also prints the FLASHPOINT_KAFKA__* settings a client needs (the password
    stays in the file they name).
    """
    with reported():
        cluster = start_cluster(int(nodes), port, state_dir, timeout=timeout, secure=secure)
        version = kafka_version()
    click.echo(
        f"Kafka {version} ready in {cluster.ready_seconds:.1f} s: {len(cluster.nodes)} node(s), "
        f"data in {cluster.work_dir}",
        err=True,
    )
    click.echo(f"FLASHPOINT_BROKER={cluster.broker_url}", err=True)
    for name, value in cluster.client_environment().items():
        click.echo(f"{name}={value}", err=True)
    click.echo(cluster.bootstrap)


@kafka_group.command("down")
@_state_dir_option
def down_command(state_dir: Path | None) -> None:
    """Stop every Kafka process that `up` started and delete its data."""
    with reported():
        cluster = stop_cluster(state_dir=state_dir)
    if cluster is None:
        click.echo("no local Kafka recorded; nothing to stop")
    else:
        click.echo(f"stopped {len(cluster.nodes)} node(s) ({cluster.bootstrap})")


@kafka_group.command("status")
@_state_dir_option
def status_command(state_dir: Path | None) -> None:
    """Report whether the local Kafka runs (exit 0) or not (exit 1)."""
    with reported():
        cluster = load_cluster(state_dir)
    running = cluster.running_nodes() if cluster else []
    if cluster is None or not running:
        click.echo("not running")
        raise SystemExit(1)
    total = len(cluster.nodes)
    label = "running" if len(running) == total else "degraded"
    click.echo(f"{label}: {len(running)}/{total} node(s), bootstrap {cluster.bootstrap}")
    for node in cluster.nodes:
        state = "up" if node in running else "down"
        click.echo(f"  node {node.node_id}: {state}, pid {node.pid}, {node.bootstrap}, log {node.log_file}")


_node_argument = click.argument("node_id", metavar="NODE", type=click.IntRange(min=1))


@kafka_group.command("stop-node")
@_node_argument
@click.option("--kill", is_flag=True, help="SIGKILL (a crash) instead of SIGTERM (a controlled shutdown).")
@_state_dir_option
def stop_node_command(node_id: int, kill: bool, state_dir: Path | None) -> None:
    """Stop node NODE of the running cluster and keep its data, for `start-node`."""
    with reported():
        cluster = recorded_cluster(state_dir)
        was_running = stop_node(cluster, node_id, kill=kill)
    node = cluster.node(node_id)
    if not was_running:
        click.echo(f"node {node_id} was not running")
    else:
        verb = "killed" if kill else "stopped"
        click.echo(f"node {node_id} {verb} ({node.bootstrap}); data kept in {node.directory}")


@kafka_group.command("start-node")
@_node_argument
@timeout_option(READY_TIMEOUT_S, "Seconds to wait for the node to serve requests.")
@_state_dir_option
def start_node_command(node_id: int, timeout: float, state_dir: Path | None) -> None:
    """Start stopped node NODE again on its data (same config and ports); return once it serves."""
    with reported():
        cluster = recorded_cluster(state_dir)
        started = time.monotonic()
        node = start_node(cluster, node_id, timeout=timeout)
    took = time.monotonic() - started
    click.echo(f"node {node_id} serving again in {took:.1f} s: {node.bootstrap}, pid {node.pid}")
