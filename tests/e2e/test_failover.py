"""Failover: a worker killed with SIGKILL has its partitions resumed by the survivor within
15 s (the session timeout, 10 s by default, plus the rebalance), not Faust's default 60 s."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from streams.localkafka import Cluster
from tests.e2e.harness import OutputReader, article_json, input_topic, start_worker

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

FAILOVER_BOUND_SECONDS = 15.0


def _send_to_each_partition(bootstrap: str, topic: str, name: str) -> set[str]:
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:
        ids = set()
        for partition in (0, 1):
            aid = f"{name}-p{partition}"
            body = f"Ministers met in Geneva for talks, round {name} {partition}."
            producer.send(
                topic, key=aid.encode(), value=article_json(aid, "Talks", body), partition=partition
            )
            ids.add(aid)
        producer.flush()
        return ids
    finally:
        producer.close()


def test_a_killed_workers_partitions_resume_on_the_survivor_within_15_s(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"fo-{unique}."
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = start_worker(kafka, prefix, tmp_path / "a", FLASHPOINT_PARTITIONS="2")
    second = start_worker(kafka, prefix, tmp_path / "b", FLASHPOINT_PARTITIONS="2")
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        first.wait_ready()
        second.wait_ready()
        warm = _send_to_each_partition(kafka.bootstrap, input_topic(prefix), "warm")
        reader.read_until(lambda o: warm <= {c.article_id for c in o.classified}, timeout=120)

        first.kill()
        killed_at = time.monotonic()
        after = _send_to_each_partition(kafka.bootstrap, input_topic(prefix), "after")
        reader.read_until(lambda o: after <= {c.article_id for c in o.classified}, timeout=90)
        resumed_in = time.monotonic() - killed_at
        assert resumed_in < FAILOVER_BOUND_SECONDS, (resumed_in, second.log_tail())
    finally:
        reader.close()
        first.stop_quietly()
        second.stop_quietly()
