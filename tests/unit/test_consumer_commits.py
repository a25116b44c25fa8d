"""The worker's consumer commits only what it processed of partitions it owns
(:mod:`streams.worker.consumer`): its offset bookkeeping on the real Faust consumer object, with
the broker calls replaced. The e2e fault run, failover and kill -9 tests run it on a real broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from faust.types import TP

from streams.config import Settings
from streams.worker.app import build_app
from streams.worker.consumer import AtLeastOnceConsumer

INPUT = "news.articles.v1"
P0, P1, P2 = TP(INPUT, 0), TP(INPUT, 1), TP(INPUT, 2)
CHANGELOG = TP("flashpoint-story-terms-changelog", 0)


class Record:
    """What Faust's consumer reads of a message when it is acknowledged."""

    def __init__(self, tp: TP, offset: int) -> None:
        self.tp, self.topic, self.offset, self.acked = tp, tp.topic, offset, False


@pytest.fixture
def consumer(tmp_path: Any) -> Iterator[AtLeastOnceConsumer]:
    app = build_app(Settings(data_dir=str(tmp_path)))
    consumer = app.consumer
    assert isinstance(consumer, AtLeastOnceConsumer)
    consumer.app.topics.acks_enabled_for = lambda topic: topic == INPUT  # type: ignore[method-assign]
    consumer.app.tables._changelogs = {CHANGELOG.topic: None}  # type: ignore[attr-defined]
    return consumer


def seek_after_rebalance(
    consumer: AtLeastOnceConsumer, committed: Mapping[TP, int | None], firsts: Mapping[TP, int]
) -> list[tuple[TP, int]]:
    """Run the consumer's seek after an assignment of ``committed``'s partitions; the explicit
    seeks it made."""
    seeks: list[tuple[TP, int]] = []

    async def seek_to_committed() -> Mapping[TP, int | None]:
        return committed

    async def earliest_offsets(*partitions: TP) -> Mapping[TP, int]:
        return {tp: firsts[tp] for tp in partitions}

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    consumer.seek_to_committed = seek_to_committed  # type: ignore[method-assign]
    consumer.earliest_offsets = earliest_offsets  # type: ignore[method-assign]
    consumer.seek = seek  # type: ignore[method-assign]
    consumer.assignment = lambda: set(committed)  # type: ignore[method-assign]
    asyncio.run(consumer.perform_seek())
    return seeks


def ack(consumer: AtLeastOnceConsumer, tp: TP, *offsets: int) -> list[bool]:
    """Faust's acknowledgement of messages (what its take buffer does after a batch)."""
    return [consumer.ack(Record(tp, offset)) for offset in offsets]


def done(consumer: AtLeastOnceConsumer, tp: TP, *offsets: int) -> None:
    """The agents' report that these inputs were processed and their outputs acknowledged."""
    consumer.record_processed([Record(tp, offset) for offset in offsets])


def commit(consumer: AtLeastOnceConsumer) -> dict[TP, int]:
    """What Faust's commit timer would commit now."""
    return consumer._filter_committable_offsets(list(consumer._filter_tps_with_pending_acks()))


def test_a_run_that_continues_the_committed_offset_is_committed(consumer: AtLeastOnceConsumer) -> None:
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    done(consumer, P0, 10, 11, 12)
    assert commit(consumer) == {P0: 13}


def test_a_run_after_an_unprocessed_record_waits(consumer: AtLeastOnceConsumer) -> None:
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    done(consumer, P0, 12, 13)
    assert commit(consumer) == {}  # 10 and 11 not processed yet
    done(consumer, P0, 10, 11)
    assert commit(consumer) == {P0: 14}


def test_no_offset_is_stepped_over_not_even_one(consumer: AtLeastOnceConsumer) -> None:
    # Faust alone allows a run to start one past the committed offset, and commits 13 here.
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    done(consumer, P0, 11, 12)
    assert commit(consumer) == {}


def test_at_offset_0_the_run_must_start_at_the_beginning(consumer: AtLeastOnceConsumer) -> None:
    # Faust alone skips its check when the committed offset is 0 and would commit 7 here.
    seek_after_rebalance(consumer, {P0: None}, {P0: 0})
    done(consumer, P0, 5, 6)
    assert commit(consumer) == {}


def test_faust_s_acknowledgements_alone_commit_nothing(consumer: AtLeastOnceConsumer) -> None:
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    assert ack(consumer, P0, 10, 11) == [True, True]
    assert not consumer._unacked_messages  # released, so a revocation's wait for acks ends
    assert commit(consumer) == {}
    done(consumer, P0, 10, 11)
    assert commit(consumer) == {P0: 12}


def test_a_revoked_partition_s_late_work_is_never_committed(consumer: AtLeastOnceConsumer) -> None:
    seek_after_rebalance(consumer, {P0: 10, P1: 4}, {P0: 0, P1: 0})
    done(consumer, P0, 10)
    asyncio.run(consumer.on_partitions_revoked({P0, P1}))
    # The batch in flight finishes after the revocation: processed, but not this worker's to
    # commit (Faust forgot the committed offset, and would commit 13 unchecked).
    done(consumer, P0, 11, 12)
    ack(consumer, P0, 11, 12)
    assert commit(consumer) == {}


def test_partitions_without_a_committed_offset_are_sought_to_their_first_offset(
    consumer: AtLeastOnceConsumer,
) -> None:
    seeks = seek_after_rebalance(
        consumer, {P0: 17, P1: None, P2: None, CHANGELOG: None}, {P0: 0, P1: 0, P2: 40}
    )
    # Explicit offsets (not aiokafka's lazy seek to beginning); the committed one is aiokafka's
    # own seek's, the changelog the table recovery's.
    assert sorted(seeks) == [(P1, 0), (P2, 40)]
    assert set(consumer.ledgers) == {P0, P1, P2}
    done(consumer, P2, 45)
    assert commit(consumer) == {}  # commits of P2 start at its first offset, 40
    done(consumer, P2, *range(40, 45))
    assert commit(consumer) == {P2: 46}


def test_a_committed_offset_deleted_by_retention_continues_at_the_first_kept_one(
    consumer: AtLeastOnceConsumer, caplog: pytest.LogCaptureFixture
) -> None:
    seeks = seek_after_rebalance(consumer, {P0: 3}, {P0: 40})
    assert seeks == [(P0, 40)]
    assert "offsets 3 to 39 were deleted by retention" in caplog.text
    done(consumer, P0, 40)
    assert commit(consumer) == {P0: 41}


def test_a_held_back_partition_is_read_again_from_its_committed_offset(
    consumer: AtLeastOnceConsumer, caplog: pytest.LogCaptureFixture
) -> None:
    seek_after_rebalance(consumer, {P0: 10, P1: 4}, {P0: 0, P1: 0})
    done(consumer, P0, 11, 12)  # 10 never reached the agent
    done(consumer, P1, 4)
    commit(consumer)
    seeks: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    consumer.seek = seek  # type: ignore[method-assign]
    assert asyncio.run(consumer.reread_held_back(20, now=100.0)) == []  # the clock starts
    assert asyncio.run(consumer.reread_held_back(20, now=119.0)) == []
    assert asyncio.run(consumer.reread_held_back(20, now=120.0)) == [(P0, 10)]
    assert seeks == [(P0, 10)]
    assert "offset 10 was not processed in 20 s" in caplog.text
    assert asyncio.run(consumer.reread_held_back(20, now=130.0)) == []  # as long again before a retry
    done(consumer, P0, 10)
    assert commit(consumer) == {P0: 13}
    assert asyncio.run(consumer.reread_held_back(20, now=200.0)) == []


def test_faust_s_fetch_loop_drops_nothing_it_believes_already_read_of_an_input(
    consumer: AtLeastOnceConsumer,
) -> None:
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    consumer._read_offset[P0] = 57  # a stale batch's offset, set after the seek
    consumer._read_offset[CHANGELOG] = 9
    assert consumer._read_offset[P0] is None  # so 10..56, delivered again, are not dropped
    assert consumer._read_offset[CHANGELOG] == 9  # the tables' recovery keeps Faust's filter


def test_a_failed_seek_back_is_reported_and_tried_again_later(
    consumer: AtLeastOnceConsumer, caplog: pytest.LogCaptureFixture
) -> None:
    seek_after_rebalance(consumer, {P0: 10}, {P0: 0})
    done(consumer, P0, 11)

    async def seek(tp: TP, offset: int) -> None:
        raise RuntimeError("partition no longer assigned")

    consumer.seek = seek  # type: ignore[method-assign]
    asyncio.run(consumer.reread_held_back(5, now=0.0))
    assert asyncio.run(consumer.reread_held_back(5, now=5.0)) == []
    assert "could not seek back: RuntimeError" in caplog.text
