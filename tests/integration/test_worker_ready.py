"""The worker's web endpoints on a real broker: /ready waits for the model, /health does not,
and the web server listens on the configured interface only (loopback by default)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from streams.localkafka import Cluster, free_port_block
from streams.worker.process import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.model]


def listening_addresses(port: int) -> list[str]:
    """The local addresses of the sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:  # IPv4, little-endian
                    found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.append("::" if int(address, 16) == 0 else address)
    return sorted(found)


def test_ready_is_false_until_the_model_is_loaded(kafka: Cluster, unique: str, tmp_path: Path) -> None:
    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    port = free_port_block(1)
    env = {
        "FLASHPOINT_BROKER": kafka.broker_url,
        "FLASHPOINT_TOPIC_PREFIX": f"ready-{unique}.",
        "FLASHPOINT_APP_ID": f"ready-{unique}",
        "FLASHPOINT_DATA_DIR": str(tmp_path / "faust"),
        "FLASHPOINT_PARTITIONS": "1",
    }
    worker = WorkerProcess(
        env, port, tmp_path / "worker.log", command=[sys.executable, "-m", "tests.worker_entry", str(fifo)]
    ).start()
    try:
        # Connected and subscribed, the model held back: alive but not ready.
        deadline = time.monotonic() + 120
        state = None
        while time.monotonic() < deadline:
            state = worker.ready_state()
            if state and state["group_joined"] and state["topics_present"]:
                break
            time.sleep(0.2)  # polling the worker's HTTP endpoint
        assert state == {
            "ready": False,
            "model_loaded": False,
            "topics_present": True,
            "broker_reachable": True,
            "group_joined": True,
        }
        assert worker.get("/ready")[0] == 503
        assert worker.get("/health") == (200, '{"status":"ok","input_lag":0,"stalled_seconds":0.0}')
        assert listening_addresses(port) == ["127.0.0.1"]
        with fifo.open("w", encoding="utf-8") as gate:
            gate.write("go")
        seen = worker.wait_ready(timeout=180)
        assert seen[-1] == {
            "ready": True,
            "model_loaded": True,
            "topics_present": True,
            "broker_reachable": True,
            "group_joined": True,
        }
        assert worker.get("/ready")[0] == 200
        assert worker.terminate() == 0, worker.log_tail()
    finally:
        worker.stop_quietly()
