"""Liveness on a real worker: a wedged model (the stall drill) turns /health to 503 within
``liveness_stall_seconds`` plus one offset read, while /ready stays true; before it, the worker
with an idle input is alive."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from streams.localkafka import Cluster
from tests.e2e.harness import Input, OutputReader, article_json, input_topic, send, start_worker

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

WEDGE = "WEDGE-MARKER-51c2"
STALL_SECONDS = 6.0


def _send(bootstrap: str, topic: str, aid: str, body: str) -> None:
    send(bootstrap, topic, [Input(article_json(aid, "Harbour news", body), aid.encode(), (aid, 1), None)])


def test_a_wedged_model_makes_health_fail_and_ready_stay_true(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"live-{unique}."
    worker = start_worker(
        kafka,
        prefix,
        tmp_path,
        FLASHPOINT_PARTITIONS="1",
        FLASHPOINT_LIVENESS_STALL_SECONDS=str(STALL_SECONDS),
        FLASHPOINT_CLASSIFIER__STALL_ON=WEDGE,
    )
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        worker.wait_ready()
        _send(kafka.bootstrap, input_topic(prefix), "live-1", "The ferry left the harbour on time on Monday.")
        reader.read_until(lambda o: any(c.article_id == "live-1" for c in o.classified), timeout=120)
        status, body = worker.get("/health")
        assert status == 200, body

        _send(kafka.bootstrap, input_topic(prefix), "live-2", f"The ferry was held at the quay. {WEDGE}")
        wedged_at = time.monotonic()
        seen: list[tuple[int, str]] = []
        deadline = wedged_at + 120
        while time.monotonic() < deadline:
            seen.append(worker.get("/health"))
            if seen[-1][0] == 503:
                break
            time.sleep(0.5)  # polling the worker's HTTP endpoint
        failed_after = time.monotonic() - wedged_at
        status, body = seen[-1]
        assert status == 503, (seen[-3:], worker.log_tail())
        state = json.loads(body)
        assert state["status"] == "stalled", state
        assert state["input_lag"] >= 1, state
        assert state["stalled_seconds"] >= STALL_SECONDS, state
        # Within the stall bound plus two offset reads (5 s apart) and slack.
        assert failed_after < STALL_SECONDS + 30, failed_after
        # A wedged model is a liveness failure, not a readiness one: the broker is fine.
        assert worker.get("/ready")[0] == 200
        print(f"/health turned 503 {failed_after:.1f} s after the wedging article was sent: {state}")
    finally:
        reader.close()
        worker.stop_quietly()
