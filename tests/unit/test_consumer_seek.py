"""The worker's seek to committed offsets sends input partitions without one to their beginning
(wiring, with a fake aiokafka consumer; the e2e kill and failover tests run the real one)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from streams.worker.app import AtLeastOnceConsumerThread

ARTICLES_0 = TopicPartition("news.articles.v1", 0)
ARTICLES_1 = TopicPartition("news.articles.v1", 1)
ARTICLES_2 = TopicPartition("news.articles.v1", 2)
CHANGELOG = TopicPartition("app-story-terms-changelog", 0)


class FakeAIOKafkaConsumer:
    def __init__(self, committed: dict[TopicPartition, int | None]) -> None:
        self.committed = committed
        self.to_beginning: list[TopicPartition] = []

    async def seek_to_committed(self) -> dict[TopicPartition, int | None]:
        return self.committed

    async def seek_to_beginning(self, *partitions: TopicPartition) -> None:
        self.to_beginning += partitions


class FakeFaustConsumer:
    def _is_changelog_tp(self, tp: Any) -> bool:
        return str(tp.topic).endswith("-changelog")


def test_input_partitions_without_a_committed_offset_go_back_to_their_beginning() -> None:
    fake = FakeAIOKafkaConsumer({ARTICLES_0: 17, ARTICLES_1: None, ARTICLES_2: 0, CHANGELOG: None})
    thread = object.__new__(AtLeastOnceConsumerThread)
    thread._ensure_consumer = lambda: fake  # type: ignore[method-assign]
    thread.consumer = FakeFaustConsumer()  # type: ignore[assignment]
    committed = asyncio.run(thread._seek_to_committed_or_beginning())
    assert committed == fake.committed  # Faust still learns the committed offsets as they are
    # The committed partition stays where aiokafka put it; the changelog is the recovery's.
    assert sorted(fake.to_beginning) == [ARTICLES_1, ARTICLES_2]
