"""The worker's Kafka consumer: Faust's aiokafka consumer, committing only offsets of records this
worker processed while it owned their partition.

Faust commits the longest run of acknowledged offsets of each partition, and its bookkeeping can
step over records that never reached the agent: after a revocation (the committed offset
forgotten, the commit timer still running, the old generation's commit accepted), at a
committed offset of 0 or none, with its one-offset allowance, through its read-offset filter
after a stale batch, and because its streams acknowledge, unprocessed, a message fetched in the
generation before a rebalance. The fault run lost inputs that way with every offset committed.
So, for the input topics (those with acknowledgements; not the tables' changelogs):

* commits come from a :class:`~streams.worker.ledger.PartitionLedger` per owned partition, fed by
  the agents once a batch's outputs are acknowledged (:meth:`AtLeastOnceConsumer.record_processed`);
* a partition is owned from the seek to its committed offset until its revocation, and every
  seek leaves an explicit position (the committed offset, else the first one kept);
* the read-offset filter is off: a record delivered again is processed again (a repeat);
* a partition held back (later records done, the next one not) is read again from its committed
  offset (:meth:`AtLeastOnceConsumer.reread_held_back`, from the worker's progress timer).

docs/OPERATIONS.md ("Commits cover only processed inputs") has the operator's side, including
why input topics are written without transactions and never compacted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from mode.utils.futures import notify

from streams.worker.ledger import PartitionLedger

log = logging.getLogger("flashpoint.consumer")


class AtLeastOnceConsumer(aiokafka_driver.Consumer):
    """Faust's aiokafka consumer that commits only what this worker processed of what it owns."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: The owned input partitions' ledgers.
        self.ledgers: dict[TP, PartitionLedger] = {}
        super().__init__(*args, **kwargs)
        self._read_offset = UnfilteredReadOffsets(self.tracks)

    def tracks(self, tp: TP) -> bool:
        """Whether ``tp`` is an input partition (its commits come from a ledger)."""
        return bool(self.app.topics.acks_enabled_for(tp.topic)) and not self._is_changelog_tp(tp)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self.ledgers.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        inputs = [tp for tp in self.assignment() if self.tracks(tp)]
        firsts = await self.earliest_offsets(*inputs) if inputs else {}
        for tp in inputs:
            committed, first = self._committed_offset.get(tp), firsts.get(tp)
            start = committed if committed is not None else 0
            if first is not None and (committed is None or committed < first):
                if committed is not None:
                    log.warning(
                        "%s[%d]: offsets %d to %d were deleted by retention before this group "
                        "processed them; continuing at %d",
                        tp.topic,
                        tp.partition,
                        committed,
                        first - 1,
                        first,
                    )
                await self.seek(tp, first)  # explicit: aiokafka skips a partition without one
                start = first
            self._committed_offset[tp] = start
            self.ledgers[tp] = PartitionLedger(start)

    def record_processed(self, messages: Sequence[Any]) -> None:
        """The agents' report: these messages were processed and their outputs acknowledged."""
        for message in messages:
            ledger = self.ledgers.get(message.tp)
            if ledger is not None:
                ledger.processed(message.offset)

    def ack(self, message: Any) -> bool:
        if not self.tracks(message.tp):
            return bool(super().ack(message))
        # Faust's acknowledgement only releases the message; the ledger decides the commit.
        message.acked = True
        self._unacked_messages.discard(message)
        notify(self._waiting_for_ack)
        return True

    def _filter_tps_with_pending_acks(self, topics: Any = None) -> Iterator[TP]:
        yield from super()._filter_tps_with_pending_acks(topics)
        for tp, ledger in list(self.ledgers.items()):
            if ledger.done and (topics is None or tp in topics or tp.topic in topics):
                yield tp

    def _new_offset(self, tp: TP) -> int | None:
        if not self.tracks(tp):
            offset: int | None = super()._new_offset(tp)
            return offset
        ledger = self.ledgers.get(tp)
        return ledger.advance() if ledger is not None else None

    async def reread_held_back(self, after: float, now: float | None = None) -> list[tuple[TP, int]]:
        """Seek each partition whose commit has been held back for ``after`` seconds to its
        committed offset, so the records from there are delivered (and processed) again."""
        now = time.monotonic() if now is None else now
        reread = []
        for tp, ledger in list(self.ledgers.items()):
            held = ledger.held_for(now)
            if held < after:
                continue
            log.warning(
                "%s[%d]: offset %d was not processed in %.0f s while %d later ones were; "
                "reading the partition again from it",
                tp.topic,
                tp.partition,
                ledger.next_commit,
                held,
                len(ledger.done),
            )
            ledger.restart_clock(now)
            try:
                await self.seek(tp, ledger.next_commit)
            except Exception as exc:  # e.g. revoked meanwhile: the next owner starts there anyway
                log.warning("%s[%d]: could not seek back: %s", tp.topic, tp.partition, type(exc).__name__)
                continue
            reread.append((tp, ledger.next_commit))
        return reread


class UnfilteredReadOffsets(dict[TP, int | None]):
    """Faust's record of the last offset read per partition, which its fetch loop uses to drop
    records it believes already read: unknown (so nothing is dropped) for input partitions."""

    def __init__(self, tracks: Callable[[TP], bool]) -> None:
        super().__init__()
        self._tracks = tracks

    def __missing__(self, tp: TP) -> None:
        return None

    def __getitem__(self, tp: TP) -> int | None:
        if self._tracks(tp):
            return None
        return super().__getitem__(tp)
