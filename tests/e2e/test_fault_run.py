"""The fault run of issue 17 on three brokers: nothing is lost, and the stream recovers promptly.

A 3-broker KRaft cluster from the launcher (replication factor 3, ``min.insync.replicas`` 2; the
worker's producer is idempotent with acks=all), two workers in one group on a 4-partition input
topic whose partitions one broker leads. While 500 articles arrive at a steady rate, that broker
is killed with SIGKILL, then the worker that runs the story stage; then both are started again
(the broker on its data through the launcher, the worker on its data dir). Every input must end
up classified or dead-lettered, repeats must be identical but for their processing times, and
after each kill every input partition must deliver again within a bound. The timings are
printed; ``bench/bench_faults.py`` is the longer version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.localkafka import Cluster, free_port_block, start_cluster, stop_cluster
from streams.topics import CLASSIFIED, DEAD_LETTERS, STORY_INPUTS
from tests.e2e.fault_articles import fault_articles
from tests.e2e.fault_run import (
    DEAD_LETTER_TIMES,
    PROCESSING_TIMES,
    FaultRun,
    identical_repeats,
)

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

INPUTS = 500
#: Inputs sent before the restarts; the rest after both, so the restarted worker has work.
HOLD_AT = 420
#: At most this many articles per second, and at most WINDOW without output yet (the stream
#: follows the machine's speed, just short of saturation).
RATE = 8.0
WINDOW = 16
#: Generous: the broker's fencing (9 s) or the group's session (8 s) plus a rebalance, on a
#: shared 2-core machine.
RECOVERY_BOUND_S = 60.0
#: The broker that leads every input partition until it is killed.
LEADER = 2


@pytest.fixture
def three_brokers(tmp_path: Path) -> Iterator[Cluster]:
    """A 3-node cluster of its own (it loses a node), beside the session's single broker."""
    cluster = start_cluster(
        nodes=3, port=free_port_block(6), state_dir=tmp_path / "kafka", die_with_parent=True
    )
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def test_kill_9_of_the_input_leader_and_of_a_worker_loses_nothing(
    three_brokers: Cluster, unique: str, tmp_path: Path
) -> None:
    run = FaultRun(three_brokers, f"fault-{unique}.", tmp_path, partitions=4)
    inputs = fault_articles(INPUTS, "fa")
    try:
        run.create_input_topic(LEADER)
        run.start_workers(2)
        for spec in (CLASSIFIED, DEAD_LETTERS, STORY_INPUTS):
            assert run.topic_config(spec.full_name(run.prefix))["min.insync.replicas"] == "2"
        assert all(len(isr) == 3 for _, isr in run.input_partitions().values())

        run.start_stream(inputs, rate=RATE, window=WINDOW, hold_at=[HOLD_AT])
        run.wait_outputs(40, timeout=180)
        (leader,) = set(run.input_leaders().values())
        assert leader == LEADER
        broker_kill = run.wait_recovered(run.kill_broker(leader), timeout=RECOVERY_BOUND_S)
        assert LEADER not in set(run.input_leaders().values())
        victim = run.story_worker()
        worker_kill = run.wait_recovered(run.kill_worker(victim), timeout=RECOVERY_BOUND_S)
        run.restart_broker(leader)
        worker_back = run.restart_worker(victim)
        run.release_stream()
        placed = run.finish(timeout=300)
        ended = time.monotonic()
        # After the restarts, every input partition delivers again (a restarted worker takes its
        # share of the partitions and processes them).
        run.wait_recovered(worker_back, timeout=RECOVERY_BOUND_S)
        # The restarted broker caught up from its data and is in every input partition's ISR again.
        run.wait_until(
            lambda: all(isr == [1, 2, 3] for _, isr in run.input_partitions().values()), 60, "the ISR to be 3"
        )
        observer = run.observer
        assert observer is not None
        classified, dead = list(observer.classified), list(observer.dead)
    finally:
        run.close()

    print(f"fault run: {INPUTS} inputs (at most {RATE}/s, {WINDOW} pending), 2 workers, 3 brokers")
    for line in run.report(ended):
        print(f"  {line}")
    # Both kills landed mid-stream.
    for fault in (broker_kill, worker_kill):
        assert 0 < fault.sent_before < HOLD_AT, fault

    # Every input accounted for: each valid article classified, each invalid one dead-lettered.
    valid = {i.article[0] for i in placed.values() if i.article}
    invalid = {pos for pos, i in placed.items() if i.article is None}
    assert {c.article_id for c in classified} == valid
    assert {(d.source_partition, d.source_offset) for d in dead} == invalid
    assert all(d.error_type == "invalid_article" for d in dead)
    # Repeats (inputs processed again after a kill) are the same message but for processing times.
    repeated = identical_repeats(classified, lambda c: (c.article_id, c.article_version), PROCESSING_TIMES)
    identical_repeats(dead, lambda d: (d.source_partition, d.source_offset), DEAD_LETTER_TIMES)
    print(
        f"  outputs: {len(classified)} classified, {len(dead)} dead letters, {len(repeated)} inputs repeated"
    )

    for fault in (broker_kill, worker_kill):
        assert fault.all_partitions is not None
        assert fault.all_partitions < RECOVERY_BOUND_S, fault
