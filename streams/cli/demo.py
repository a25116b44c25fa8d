"""``flashpoint demo``: the whole path on an embedded local Kafka, then a clean shutdown.

Starts a private single-node broker, a worker, sends the bundled sample articles, prints every
alert (with its evidence) and dead letter as it arrives, and stops everything it started.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import click

from streams.cli.articles import describe, send_lines
from streams.config import get_settings
from streams.topics import ALERTS, CLASSIFIED, DEAD_LETTERS
from streams.worker.process import WorkerError, WorkerProcess

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "articles.jsonl"


@click.command("demo")
@click.option("--articles", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=SAMPLES)
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait for results.")
def demo_command(articles: Path, timeout: float) -> None:
    """Run the main job on an embedded local Kafka with the sample articles."""
    from kafka import KafkaConsumer

    from streams.localkafka.launcher import free_port_block, start_cluster, stop_cluster

    base = get_settings()
    work = Path(tempfile.mkdtemp(prefix="flashpoint-demo-"))
    click.echo("▶ starting a local Apache Kafka (KRaft) …")
    started = time.monotonic()
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    click.echo(f"  broker ready at {cluster.bootstrap} in {time.monotonic() - started:.1f} s")
    web_port = free_port_block(1)
    prefix = f"demo{int(time.time())}."
    settings = base.model_copy(
        update={"broker": cluster.broker_url, "topic_prefix": prefix, "web_port": web_port}
    )
    env = {
        "FLASHPOINT_BROKER": cluster.broker_url,
        "FLASHPOINT_TOPIC_PREFIX": prefix,
        "FLASHPOINT_DATA_DIR": str(work / "faust"),
    }
    worker = WorkerProcess(env, web_port, work / "worker.log", loglevel="warn")
    try:
        click.echo("▶ starting a worker and loading the classifier …")
        worker.start().wait_ready(timeout=180)
        click.echo(f"  worker ready (log: {worker.log_path})")
        lines = [(n, line.rstrip(b"\n")) for n, line in enumerate(articles.read_bytes().splitlines(True), 1)]
        sent, _ = send_lines(settings, lines, raw=True)
        click.echo(f"▶ sent {sent} sample articles to {prefix}news.articles.v1; alerts as they arrive:\n")
        _print_outputs(settings.broker_servers(), prefix, sent, timeout, KafkaConsumer)
    except WorkerError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        click.echo("\n▶ shutting down …")
        try:
            click.echo(f"  worker exited with code {worker.terminate()}")
        except WorkerError as exc:
            click.echo(f"  {exc}")
        finally:
            worker.stop_quietly()
            stop_cluster(cluster)
        click.echo("  broker stopped")


def _print_outputs(bootstrap: str, prefix: str, expected: int, timeout: float, consumer_type: type) -> None:
    topics = {spec.full_name(prefix): spec for spec in (CLASSIFIED, ALERTS, DEAD_LETTERS)}
    consumer = consumer_type(*topics, bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest")
    accounted = alerts = escalations = dead = 0
    deadline = time.monotonic() + timeout
    try:
        while accounted < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    spec = topics[record.topic]
                    if spec is ALERTS:
                        alerts += 1
                        click.echo(describe("alerts", record.value) + "\n")
                    elif spec is DEAD_LETTERS:
                        accounted += 1
                        dead += 1
                        click.echo("[DEAD LETTER] " + describe("dlq", record.value) + "\n")
                    else:
                        accounted += 1
                        escalations += bool(json.loads(record.value)["escalation"])
    finally:
        consumer.close()
    click.echo(
        f"▶ {accounted} of {expected} articles accounted for: {alerts} alerts, "
        f"{accounted - escalations - dead} without escalation, {dead} dead-lettered"
    )
    if accounted < expected:
        raise click.ClickException(f"only {accounted} of {expected} articles came through in {timeout:.0f} s")
