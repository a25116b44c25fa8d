"""Which offsets of one input partition this worker processed, and how far that lets it commit.

Kept by the worker itself (:mod:`streams.worker.consumer`) from what its agents finished, not
from Faust's acknowledgement flags: a commit covers only an unbroken run of processed offsets
starting at the committed offset, so a record that was never processed (dropped with a buffer,
skipped by a fetch position, filtered as already read) holds the commit back instead of being
stepped over. A held-back partition keeps its lag, which liveness reports; its restart reads the
record again. Repeats are possible, losses are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionLedger:
    """One owned partition: the offset the next commit continues from, and what is done past it."""

    #: The committed offset (the next record to process), as the last commit or seek left it.
    next_commit: int
    done: set[int] = field(default_factory=set)
    #: Since when (monotonic seconds) the commit has been held back at which offset.
    held: tuple[int, float] | None = None

    def processed(self, offset: int) -> None:
        """Record that the record at ``offset`` was processed and its outputs acknowledged."""
        if offset >= self.next_commit:
            self.done.add(offset)

    def advance(self) -> int | None:
        """The new committed offset, if the run of processed offsets grew; else None."""
        start = offset = self.next_commit
        while offset in self.done:
            self.done.discard(offset)
            offset += 1
        if offset == start:
            return None
        self.next_commit = offset
        return offset

    @property
    def held_back(self) -> bool:
        """Whether later records are done while the next one to commit is not."""
        return bool(self.done) and self.next_commit not in self.done

    def held_for(self, now: float) -> float:
        """How long the commit has been held back at its current offset (0 when it is not)."""
        if not self.held_back:
            self.held = None
            return 0.0
        if self.held is None or self.held[0] != self.next_commit:
            self.held = (self.next_commit, now)
        return now - self.held[1]

    def restart_clock(self, now: float) -> None:
        """After the held-back records were asked for again: wait as long again before the next try."""
        self.held = (self.next_commit, now)
