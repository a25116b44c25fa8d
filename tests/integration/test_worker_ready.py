"""The worker's web endpoints on a real broker: /ready waits for the model, /health does not."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.app import FlashpointApp, build_app, default_classifier_loader
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings
from streams.kafka_local import Cluster, free_port_block

pytestmark = [pytest.mark.kafka, pytest.mark.model]


def _get(port: int, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


def _poll(port: int, path: str, until: Callable[[int, dict[str, Any]], bool], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = _get(port, path)
        if until(status, body):
            return body
        time.sleep(0.2)  # polling another server's HTTP endpoint
    raise AssertionError(f"{path} never satisfied the condition; last: {status} {body}")


@pytest.fixture
def running_app(kafka: Cluster, unique: str, tmp_path: Path) -> Iterator[tuple[FlashpointApp, int, threading.Event]]:
    """The real app with the real model, in a thread, its model load held until the test opens a gate."""
    gate = threading.Event()

    def gated_loader(settings: ClassifierSettings) -> Classifier:
        assert gate.wait(timeout=300)
        return default_classifier_loader(settings)

    port = free_port_block(1)
    settings = Settings(
        broker=kafka.broker_url, topic_prefix=f"ready-{unique}.", app_id=f"ready-{unique}",
        web_port=port, data_dir=str(tmp_path / "faust"), partitions=1,
    )
    app = build_app(settings, gated_loader)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: (asyncio.set_event_loop(loop), loop.run_until_complete(app.start()), loop.run_forever()), daemon=True)
    thread.start()
    try:
        yield app, port, gate
    finally:
        gate.set()
        asyncio.run_coroutine_threadsafe(app.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)


def test_ready_is_false_until_the_model_is_loaded(running_app: tuple[FlashpointApp, int, threading.Event]) -> None:
    app, port, gate = running_app
    # Connected and subscribed, but the model is held back: not ready.
    body = _poll(port, "/ready", lambda s, b: s != 0 and b.get("consumer_assigned") and b.get("topics_present"))
    assert body["ready"] is False
    assert body["model_loaded"] is False
    assert _get(port, "/ready")[0] == 503
    assert _get(port, "/health") == (200, {"status": "ok"})
    gate.set()
    body = _poll(port, "/ready", lambda s, b: s == 200)
    assert body == {"ready": True, "model_loaded": True, "topics_present": True, "consumer_assigned": True}
