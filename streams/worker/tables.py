"""The story stage's Faust tables: one per kind of state, each with a changelog topic.

Every table has one partition, like the story-input topic the story agent reads, so the one
worker that owns that partition holds the whole state, and a worker that takes it over after a
restart or rebalance recovers it from the changelogs (RocksDB keeps a local copy, so only the
changelog's tail is read again). Keys and values are JSON; the tables are written from outside
a single event's context (the agent writes through after each article of a batch), so they
partition by key (``use_partitioner``), which with one partition is always partition 0.
"""

from __future__ import annotations

import importlib.util
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import faust
from faust import streams as faust_streams
from faust.types import EventT, TableT

from streams.pipeline.story_tables import StoryTables

log = logging.getLogger("flashpoint.tables")

#: Table names; the changelog topic of each is ``<app id>-<name>-changelog``.
TABLE_NAMES: Final = {
    "articles": "story-articles",
    "stories": "story-stories",
    "fingerprints": "story-fingerprints",
    "terms": "story-terms",
    "meta": "story-meta",
    "alerts": "story-alerts",
}


def table_store(wanted: str) -> str:
    """The store URL to use: ``wanted``, unless it is RocksDB and rocksdict is not installed."""
    if wanted.startswith("rocksdb") and importlib.util.find_spec("rocksdict") is None:
        log.warning("rocksdict is not installed: the story tables use the memory store (recovered at start)")
        return "memory://"
    return wanted


def story_tables(app: faust.App) -> StoryTables:
    """Declare the story stage's tables on ``app``."""

    def table(name: str) -> TableT[str, Any]:
        return app.Table(
            name,
            partitions=1,
            schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
            use_partitioner=True,
            help=f"story stage state: {name}",
        )

    return StoryTables(**{field: table(name) for field, name in TABLE_NAMES.items()})


@contextmanager
def within_event(event: EventT[Any]) -> Iterator[None]:
    """Make ``event`` Faust's current event while writing tables on its behalf.

    The agent takes events in batches, where Faust sets no current event; the RocksDB store
    files each write under the current event's partition (always 0 here), so it needs one.
    """
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)
