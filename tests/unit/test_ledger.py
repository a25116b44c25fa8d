"""A partition's ledger commits only unbroken runs of processed offsets."""

from __future__ import annotations

from streams.worker.ledger import PartitionLedger


def test_the_run_grows_only_from_the_committed_offset() -> None:
    ledger = PartitionLedger(next_commit=5)
    ledger.processed(7)
    assert ledger.advance() is None
    assert ledger.held_back
    ledger.processed(5)
    assert ledger.advance() == 6
    assert ledger.held_back
    ledger.processed(6)
    assert ledger.advance() == 8
    assert not ledger.held_back
    assert ledger.advance() is None


def test_offsets_below_the_committed_one_are_ignored() -> None:
    ledger = PartitionLedger(next_commit=5)
    ledger.processed(3)  # a repeat of a committed record
    assert ledger.done == set()
    assert ledger.advance() is None
