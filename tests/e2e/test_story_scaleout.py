"""Stories with two workers in one group: the same stories as one worker makes.

The classify agent scales with the input's partitions; the story agent reads a one-partition
topic, so whichever worker owns it sees every article. Two workers sharing a 2-partition input
must therefore group a stream into the same stories as one worker does, even when every story's
articles are split across both partitions (and so arrive at the story stage in another order).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from schemas import ClassifiedArticle
from streams.localkafka import Cluster
from streams.worker.process import WorkerProcess
from tests.e2e.harness import OutputReader, input_topic, start_worker
from tests.e2e.story_stream import StoryArticle, grouping, send_to_partitions, story_stream, written_grouping
from tests.e2e.test_pipeline import _check_alert_versions, _metric

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

PARTITIONS = 2


def _partitioned(stream: list[StoryArticle]) -> list[tuple[int, StoryArticle]]:
    """Each story's articles alternate between the partitions, so every story is split."""
    seen: dict[str, int] = {}
    out = []
    for item in stream:
        n = seen.get(item.story, len(seen))  # stories start on alternating partitions
        seen[item.story] = n + 1
        out.append((n % PARTITIONS, item))
    return out


def _run(
    kafka: Cluster, prefix: str, tmp: Path, workers: int, stream: list[StoryArticle]
) -> tuple[list[ClassifiedArticle], list[float]]:
    """Run ``workers`` workers of one group on the stream; the classified articles read back and
    how many input articles each worker took."""
    env = {"FLASHPOINT_PARTITIONS": str(PARTITIONS)}
    started: list[WorkerProcess] = []
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        for n in range(workers):
            home = tmp / f"worker-{n}"
            home.mkdir(parents=True)
            started.append(start_worker(kafka, prefix, home, **env))
        for worker in started:
            worker.wait_ready()
        placed = _partitioned(stream)
        send_to_partitions(kafka.bootstrap, input_topic(prefix), [(p, item.input) for p, item in placed])
        out = reader.read_until(lambda o: o.complete(len(stream)), timeout=300)
        assert len(out.classified) == len(stream)
        assert not out.dead
        _check_alert_versions(out.alerts)
        taken = _articles_in(started, len(stream))
        for worker in started:
            assert worker.terminate() == 0, worker.log_tail()
        return out.classified, taken
    finally:
        reader.close()
        for worker in started:
            worker.stop_quietly()


def _articles_in(workers: list[WorkerProcess], total: int, timeout: float = 30) -> list[float]:
    """Each worker's count of input articles, once they add up to ``total`` (counters move
    when the broker acknowledges, a moment after the reader may see the output)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = [_metric(w.get("/metrics")[1], "flashpoint_articles_in_total").get((), 0.0) for w in workers]
        if sum(counts) >= total or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)  # polling the workers' HTTP endpoints


def test_two_workers_in_one_group_make_the_same_stories_as_one(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    stream = story_stream()
    assert len({p for p, item in _partitioned(stream) if item.story == "dniester"}) == PARTITIONS

    alone, _ = _run(kafka, f"e2e-one-{unique}.", tmp_path / "one", 1, stream)
    shared, taken = _run(kafka, f"e2e-two-{unique}.", tmp_path / "two", 2, stream)

    # Both workers classified part of the input: the stream really was split between them.
    assert sum(taken) == len(stream), taken
    assert min(taken) > 0, taken
    assert grouping(shared) == grouping(alone)
    assert grouping(shared) == written_grouping(stream)
    # Each set of wire copies has one original, whichever copy arrived first.
    for run in (alone, shared):
        copies = {c.article_id: c.duplicate_of for c in run if c.article_id.startswith("dn-")}
        assert sum(original is None for original in copies.values()) == 1, copies
        assert {original for original in copies.values() if original} <= set(copies)
