"""``flashpoint produce`` reports every line's fate and never ends in a traceback: a line too
large for the broker is reported and skipped, the others sent; a broker that is down gives one
clear line and a non-zero exit after a bounded wait."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.localkafka import Cluster, free_port_block


def produce(path: Path, broker: str, *extra: str, prefix: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLASHPOINT_BROKER": broker, "FLASHPOINT_TOPIC_PREFIX": prefix}
    return subprocess.run(
        [sys.executable, "-m", "streams", "produce", str(path), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _lines(path: Path) -> Path:
    path.write_bytes(
        b'{"id": "p-1", "body": "Ministers met in Geneva."}\n'
        + b'{"id": "p-2", "body": "'
        + b"x" * 4_000_000  # over the input topic's limit
        + b"\n"
        + b'{"id": "p-3", "body": "Talks resumed in Vienna."}\n'
    )
    return path


@pytest.mark.kafka
def test_a_line_too_large_for_the_broker_is_reported_and_the_rest_sent(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    done = produce(_lines(tmp_path / "in.jsonl"), kafka.broker_url, "--raw", prefix=f"{unique}.")
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    assert "line 2: sent as-is, the worker will dead-letter it: message_too_large" in done.stderr
    assert "line 2: not sent: the broker did not take it: MessageSizeTooLargeError" in done.stderr
    assert f"sent 2 message(s) to {unique}.news.articles.v1; 1 line(s) the broker did not take" in done.stdout


@pytest.mark.slow
def test_a_broker_that_is_down_gives_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    started = time.monotonic()
    done = produce(_lines(tmp_path / "in.jsonl"), f"kafka://127.0.0.1:{free_port_block(1)}", "--raw")
    assert time.monotonic() - started < 90
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    assert "broker at 127.0.0.1:" in errors[0]
