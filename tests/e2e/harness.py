"""Helpers for the end-to-end tests: inputs to send, sending them, and collecting the outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from schemas import Alert, ClassifiedArticle, DeadLetter
from streams.localkafka import Cluster, free_port_block
from streams.topics import ALERT_STATE, ALERTS, ARTICLES, CLASSIFIED, DEAD_LETTERS, TopicSpec
from streams.worker.process import WorkerProcess
from tests.support.corpus import ALL_ARTICLES

MAX_BODY_CHARS = 20_000
POISON = "POISON-PILL-7f3a"


@dataclass(frozen=True)
class Input:
    """One message to send and what should become of it."""

    raw: bytes
    key: bytes | None
    article: tuple[str, int] | None  # (id, version) when it is a valid article
    error_type: str | None  # the dead letter's expected error_type, when it is not


def article_json(aid: str, title: str, body: str, version: int = 1, **extra: Any) -> bytes:
    return json.dumps(
        {"id": aid, "title": title, "body": body, "version": version, "language": "en", **extra}
    ).encode()


def valid_inputs(versions: int = 1) -> list[Input]:
    """Every corpus article, in ``versions`` versions (later ones with an updated title)."""
    out = []
    for version in range(1, versions + 1):
        for aid, title, body, _ in ALL_ARTICLES:
            t = title if version == 1 else f"{title} (update {version})"
            out.append(Input(article_json(aid, t, body, version), aid.encode(), (aid, version), None))
    return out


def malformed_inputs() -> list[Input]:
    """Inputs that must be dead-lettered by the decoder, each with its expected error type."""
    long_body = "The talks went on for hours without result. " * 600  # ~27 000 chars > limit
    cases: list[tuple[bytes, str]] = [
        (b'{"id": "bad-json-1", "body": "unterminated', "invalid_json"),
        (b"this is not json at all", "invalid_json"),
        (b"[1, 2, 3]", "not_an_object"),
        (b'{"title": "no id here", "body": "Some text."}', "invalid_article"),
        (b'{"id": "x-unknown", "body": "Some text.", "colour": "red"}', "invalid_article"),
        (b'{"id": "x-lang", "body": "Some text.", "language": "english"}', "invalid_article"),
        (json.dumps({"id": "x-too-long", "body": long_body}).encode(), "invalid_article"),
        (b'{"id": "x-latin1", "body": "caf\xe9 au lait"}', "not_utf8"),
        (b"\xff\xfe\x00\x01 binary garbage", "not_utf8"),
        (b'{"id": "x-empty", "body": ""}', "invalid_article"),
        (b'{"id": "x-markup", "body": "<p>  </p><br/>"}', "invalid_article"),
        (b"", "empty_message"),
    ]
    return [Input(raw, None, None, error) for raw, error in cases]


def poison_input() -> Input:
    # Its own text: a near-copy of a corpus article would reuse that article's classification
    # (the copy cache) and never reach the failing model.
    body = (
        "The harbour master of Tallinn said on Sunday that a ferry had been held at the quay for "
        f"six hours while inspectors searched its cargo deck. {POISON}"
    )
    return Input(
        article_json("poison-1", "Ferry held in Tallinn", body), b"poison-1", None, "classifier_error"
    )


def send(
    bootstrap: str, topic: str, inputs: list[Input], security: dict[str, Any] | None = None
) -> dict[tuple[int, int], Input]:
    """Send every input; return them by (partition, offset) as the broker acknowledged them.

    ``security``: kafka-python options of a secured broker (:func:`streams.kafka_clients.client_options`).
    """
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","), acks="all", max_request_size=2_000_000, **(security or {})
    )
    try:
        futures = [(producer.send(topic, key=i.key, value=i.raw), i) for i in inputs]
        producer.flush()
        placed = {}
        for future, item in futures:
            meta = future.get(timeout=30)
            placed[(meta.partition, meta.offset)] = item
        return placed
    finally:
        producer.close()


@dataclass
class Outputs:
    """Everything read back from the output topics."""

    classified: list[ClassifiedArticle] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    #: What the compacted state topic held, in the order read.
    state: list[Alert] = field(default_factory=list)

    def accounted(self) -> int:
        return len({(c.article_id, c.article_version) for c in self.classified}) + len(
            {(d.source_partition, d.source_offset) for d in self.dead}
        )

    def complete(self, inputs: int) -> bool:
        """Every input accounted for, and an alert read for the story of every escalation: the
        alerts topic is polled beside the classified topic, so an alert can arrive after."""
        alerted = {a.story_id for a in self.alerts}
        escalated = {c.story_id for c in self.classified if c.escalation}
        return self.accounted() >= inputs and escalated <= alerted

    def latest_alerts(self) -> dict[str, Alert]:
        """The newest version of every alert, from the alerts topic."""
        latest: dict[str, Alert] = {}
        for alert in self.alerts:
            held = latest.get(alert.alert_id)
            if held is None or alert.version > held.version:
                latest[alert.alert_id] = alert
        return latest


class OutputReader:
    """Reads the output topics of one prefix from the beginning, incrementally."""

    def __init__(self, bootstrap: str, prefix: str, security: dict[str, Any] | None = None) -> None:
        self.topics: dict[str, TopicSpec[Any]] = {
            s.full_name(prefix): s for s in (CLASSIFIED, ALERTS, DEAD_LETTERS, ALERT_STATE)
        }
        self.consumer = KafkaConsumer(
            *self.topics,
            bootstrap_servers=bootstrap.split(","),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            fetch_max_bytes=50_000_000,
            **(security or {}),
        )
        self.out = Outputs()

    def read_until(
        self, done: Callable[[Outputs], bool], timeout: float, on_poll: Callable[[], None] | None = None
    ) -> Outputs:
        """Poll (blocking on the broker) until ``done(outputs)`` or the timeout; ``on_poll`` runs
        between polls (a :class:`Supervised` worker's check)."""
        deadline = time.monotonic() + timeout
        while not done(self.out) and time.monotonic() < deadline:
            if on_poll is not None:
                on_poll()
            for records in self.consumer.poll(timeout_ms=500).values():
                for r in records:
                    event = self.topics[r.topic].decode(r.value)
                    # Every output is keyed as its topic says (article id, or the original key).
                    assert r.key == self.topics[r.topic].encode_key(event), (r.topic, r.key)
                    if isinstance(event, ClassifiedArticle):
                        self.out.classified.append(event)
                    elif self.topics[r.topic] is ALERT_STATE:
                        self.out.state.append(event)
                    elif isinstance(event, Alert):
                        self.out.alerts.append(event)
                    else:
                        self.out.dead.append(event)
        if not done(self.out):
            raise AssertionError(
                f"outputs incomplete after {timeout:.0f} s: {len(self.out.classified)} classified, "
                f"{len(self.out.alerts)} alerts, {len(self.out.dead)} dead letters"
            )
        return self.out

    def close(self) -> None:
        self.consumer.close()


def start_worker(kafka: Cluster, prefix: str, tmp: Path, **extra: str) -> WorkerProcess:
    env = {
        "FLASHPOINT_BROKER": kafka.broker_url,
        "FLASHPOINT_TOPIC_PREFIX": prefix,
        "FLASHPOINT_APP_ID": f"fp-{prefix.strip('.')}",
        "FLASHPOINT_DATA_DIR": str(tmp / "faust"),
        "FLASHPOINT_PARTITIONS": "3",
        "FLASHPOINT_MAX_BODY_CHARS": str(MAX_BODY_CHARS),
        "FLASHPOINT_BATCH_MAX": "8",
        "FLASHPOINT_BATCH_WITHIN": "0.3",
        **extra,
    }
    return WorkerProcess(env, free_port_block(1), tmp / "worker.log").start()


class Supervised:
    """A worker that is restarted when its ``/health`` fails, as its supervisor (Kubernetes'
    liveness probe) would restart it: a test through it sees the system as deployed, and
    counts the restarts it needed."""

    def __init__(self, start: Callable[[], WorkerProcess], every: float = 5.0) -> None:
        self.start = start
        self.worker = start()
        self.every = every
        self.restarts = 0
        self._checked = time.monotonic()

    def check(self) -> None:
        """Probe ``/health`` (at most every ``every`` seconds); restart the worker on a 503."""
        if time.monotonic() - self._checked < self.every:
            return
        status, body = self.worker.get("/health")
        self._checked = time.monotonic()
        if status == 503:
            print(f"supervisor: /health answered {body}: restarting the worker")
            self.worker.kill()
            self.worker = self.start()
            self.restarts += 1


def committed_offsets(bootstrap: str, group: str, topic: str) -> int:
    """The sum over partitions of the group's committed offsets on ``topic``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def input_topic(prefix: str) -> str:
    return ARTICLES.full_name(prefix)
