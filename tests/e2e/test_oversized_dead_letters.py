"""Inputs at the broker's maximum message size whose dead letters cannot fit whole.

A dead letter carries the original key and value in base64 and the original key again as its
own key: for a value near the input topic's 1 MiB limit, or a 780 KB key with a 260 KB invalid
value, it comes to 1.4-2.2 MB. The worker must still dead-letter them (cut, flagged, with the
original's size and SHA-256) and go on to the next article, never exit on the same offset.
The dead-letter topic is created beforehand with the broker's default limit (about 1 MiB), as
an operator's own topic tooling might leave it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from streams.localkafka import Cluster
from streams.topics import DEAD_LETTERS
from tests.e2e.harness import Input, OutputReader, article_json, input_topic, send, start_worker

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]


def test_oversized_dead_letters_are_cut_and_the_partition_moves_on(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"big-{unique}."
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap.split(","))
    try:  # no max.message.bytes: the broker's default
        admin.create_topics([NewTopic(DEAD_LETTERS.full_name(prefix), 1, 1)])
    finally:
        admin.close()
    worker = start_worker(kafka, prefix, tmp_path, FLASHPOINT_PARTITIONS="1")
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        worker.wait_ready()
        near_limit = b'{"id": "big-1", "body": "' + b"x" * 1_000_000  # invalid JSON: unterminated
        big_key, invalid_value = b"k" * 780_000, b"\xff" * 260_000
        inputs = [
            Input(near_limit, b"big-1", None, "invalid_json"),
            Input(invalid_value, big_key, None, "not_utf8"),
            Input(
                article_json("after-1", "Talks", "Ministers met in Geneva."), b"after-1", ("after-1", 1), None
            ),
        ]
        placed = send(kafka.bootstrap, input_topic(prefix), inputs)
        out = reader.read_until(lambda o: len(o.dead) >= 2 and len(o.classified) >= 1, timeout=180)
        assert [c.article_id for c in out.classified] == ["after-1"]
        by_offset = {d.source_offset: d for d in out.dead}
        assert len(by_offset) == 2, "each oversized input dead-lettered exactly once"
        for (_, offset), item in placed.items():
            if item.error_type is None:
                continue
            dead = by_offset[offset]
            assert dead.error_type == item.error_type
            assert dead.original_size == len(item.raw)
            assert dead.original_sha256 == hashlib.sha256(item.raw).hexdigest()
            assert item.raw.startswith(dead.original_bytes())
            assert dead.source_topic == input_topic(prefix)
            assert dead.source_partition == 0
        near_limit_letter, big_key_letter = by_offset[min(by_offset)], by_offset[max(by_offset)]
        assert near_limit_letter.original_truncated
        assert big_key_letter.original_key_truncated
        assert big_key_letter.original_key_size == len(big_key)
        assert worker.process is not None
        assert worker.process.poll() is None, worker.log_tail()  # never exited on the input
        assert worker.terminate() == 0, worker.log_tail()
    finally:
        reader.close()
        worker.stop_quietly()
