"""The whole path on an embedded local Kafka, then a clean shutdown (``flashpoint demo``).

:func:`run_demo` starts a private single-node broker and a worker, sends the bundled sample
articles, reports every alert (with its evidence) and dead letter as it arrives, and stops
everything it started. It reports through a ``say`` callable, so it needs no terminal.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from schemas import Alert, DeadLetter
from streams.admin.produce import send_lines
from streams.admin.tail import describe
from streams.config import Settings
from streams.topics import ALERTS, ARTICLES, CLASSIFIED, DEAD_LETTERS
from streams.worker.process import WorkerError, WorkerProcess

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "articles.jsonl"

Say = Callable[[str], None]


class DemoError(RuntimeError):
    """The demo did not see every article come through."""


@dataclass
class Tally:
    """What came out of the worker for the articles sent."""

    expected: int
    accounted: int = 0
    alerts: int = 0
    escalations: int = 0
    dead: int = 0

    def summary(self) -> str:
        """The demo's closing line."""
        calm = self.accounted - self.escalations - self.dead
        return (
            f"▶ {self.accounted} of {self.expected} articles accounted for: {self.alerts} alerts, "
            f"{calm} without escalation, {self.dead} dead-lettered"
        )


def run_demo(base: Settings, articles: Path, timeout: float, say: Say) -> Tally:
    """Run broker, worker and samples end to end; raises :class:`DemoError` if any went missing."""
    from streams.localkafka import free_port_block, start_cluster, stop_cluster

    work = Path(tempfile.mkdtemp(prefix="flashpoint-demo-"))
    say("▶ starting a local Apache Kafka (KRaft) …")
    started = time.monotonic()
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    say(f"  broker ready at {cluster.bootstrap} in {time.monotonic() - started:.1f} s")
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
        say("▶ starting a worker and loading the classifier …")
        worker.start().wait_ready(timeout=180)
        say(f"  worker ready (log: {worker.log_path})")
        lines = [(n, line.rstrip(b"\n")) for n, line in enumerate(articles.read_bytes().splitlines(True), 1)]
        sent = send_lines(settings, lines, raw=True).sent
        say(f"▶ sent {sent} sample articles to {ARTICLES.full_name(prefix)}; alerts as they arrive:\n")
        tally = _report_outputs(settings, sent, timeout, say)
        say(tally.summary())
    finally:
        say("\n▶ shutting down …")
        try:
            say(f"  worker exited with code {worker.terminate()}")
        except WorkerError as exc:
            say(f"  {exc}")
        finally:
            worker.stop_quietly()
            stop_cluster(cluster)
        say("  broker stopped")
    if tally.accounted < tally.expected:
        raise DemoError(
            f"only {tally.accounted} of {tally.expected} articles came through in {timeout:.0f} s"
        )
    return tally


def _report_outputs(settings: Settings, expected: int, timeout: float, say: Say) -> Tally:
    """Read the output topics until every sent article is accounted for, or the timeout."""
    from kafka import KafkaConsumer

    specs = {spec.full_name(settings.topic_prefix): spec for spec in (CLASSIFIED, ALERTS, DEAD_LETTERS)}
    consumer = KafkaConsumer(
        *specs, bootstrap_servers=settings.broker_servers().split(","), auto_offset_reset="earliest"
    )
    tally = Tally(expected=expected)
    deadline = time.monotonic() + timeout
    try:
        while tally.accounted < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    event = specs[record.topic].decode(record.value)
                    if isinstance(event, Alert):
                        tally.alerts += 1
                        say(describe(event) + "\n")
                    elif isinstance(event, DeadLetter):
                        tally.accounted += 1
                        tally.dead += 1
                        say("[DEAD LETTER] " + describe(event) + "\n")
                    else:
                        tally.accounted += 1
                        tally.escalations += event.escalation
    finally:
        consumer.close()
    return tally
