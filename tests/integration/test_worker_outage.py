"""Readiness during a broker outage: /ready turns false once the broker is gone, /health stays
true (a worker with nothing to read is alive; restarting it would not bring the broker back),
and the Kafka clients' retries do not flood the log.

The test starts a broker of its own, since it stops it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.localkafka import Cluster, free_port_block, start_cluster, stop_cluster, stop_node
from streams.worker.process import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.model]


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[Cluster]:
    cluster = start_cluster(
        nodes=1, port=free_port_block(2), state_dir=tmp_path / "kafka", die_with_parent=True
    )
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def test_ready_turns_false_while_the_broker_is_down(own_kafka: Cluster, tmp_path: Path) -> None:
    env = {
        "FLASHPOINT_BROKER": own_kafka.broker_url,
        "FLASHPOINT_APP_ID": "outage",
        "FLASHPOINT_DATA_DIR": str(tmp_path / "faust"),
        "FLASHPOINT_PARTITIONS": "1",
    }
    worker = WorkerProcess(env, free_port_block(1), tmp_path / "worker.log").start()
    try:
        worker.wait_ready(timeout=180)
        stop_node(own_kafka, own_kafka.nodes[0].node_id)
        deadline = time.monotonic() + 60
        state = worker.ready_state()
        while time.monotonic() < deadline and state is not None and state["broker_reachable"]:
            time.sleep(0.5)  # polling the worker's HTTP endpoint
            state = worker.ready_state()
        assert state is not None, worker.log_tail()
        assert state["broker_reachable"] is False, (state, worker.log_tail())
        assert state["ready"] is False
        assert worker.get("/ready")[0] == 503
        assert worker.get("/health")[0] == 200, worker.log_tail()
        # The clients retry many times a second while the broker is down; the log stays short.
        lines_before = len(worker.log_path.read_bytes().splitlines())
        time.sleep(20)  # a measured window of the outage
        outage_lines = len(worker.log_path.read_bytes().splitlines()) - lines_before
        assert outage_lines <= 60, (outage_lines, worker.log_tail(80))
    finally:
        worker.stop_quietly()
