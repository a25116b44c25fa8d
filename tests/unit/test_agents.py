"""Publishing a batch: broker acknowledgement before counting, retries only where they help.

The publisher is tested without Faust or a broker: ``send`` is a fake that fails the way
aiokafka's producer does, with aiokafka's own error classes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
)
from tenacity import wait_none

from schemas import Article
from streams.pipeline.classify import classify_articles
from streams.pipeline.route import Output
from streams.topics import CLASSIFIED
from streams.worker.publisher import DeliveryError, Publisher, is_retriable
from tests.support.corpus import T0
from tests.support.fakes import KeywordClassifier


class FlakySend:
    """Fails the first ``failures`` sends (when queued or on the ack), then acknowledges."""

    def __init__(self, failures: int, error: Exception, *, at_send: bool) -> None:
        self.failures, self.error, self.at_send = failures, error, at_send
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.attempts = 0

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> Awaitable[Any]:
        self.attempts += 1
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            if self.at_send:
                raise self.error
            acknowledged.set_exception(self.error)
        else:
            self.sent.append((topic, key, value))
            acknowledged.set_result(None)
        return acknowledged


def _output(article_id: str = "a") -> Output:
    article = Article(id=article_id, body="Washington warned of a strike.")
    (classified,) = classify_articles(KeywordClassifier(), [article], [T0])
    return Output(CLASSIFIED, classified)  # type: ignore[arg-type]


def _publisher(send: FlakySend, delivered: list[Output], retries: list[Output]) -> Publisher:
    return Publisher(
        send=send,
        prefix="test.",
        retry_for_seconds=5,
        wait=wait_none(),
        on_delivered=delivered.append,
        on_retry=retries.append,
    )


@pytest.mark.parametrize("at_send", [True, False], ids=["when-queued", "on-ack"])
@pytest.mark.parametrize(
    "error",
    [KafkaTimeoutError(), RequestTimedOutError(), NotLeaderForPartitionError(), KafkaConnectionError()],
    ids=lambda e: type(e).__name__,
)
def test_a_retriable_failure_is_retried_until_acknowledged(error: Exception, at_send: bool) -> None:
    send = FlakySend(2, error, at_send=at_send)
    delivered: list[Output] = []
    retries: list[Output] = []
    out = _output()
    asyncio.run(_publisher(send, delivered, retries).publish([out]))
    assert send.sent == [("test.news.classified.v1", b"a", CLASSIFIED.encode(out.value))]  # type: ignore[arg-type]
    assert delivered == [out]
    assert len(retries) == 2
    assert send.attempts == 3


@pytest.mark.parametrize(
    "error", [TopicAuthorizationFailedError(), MessageSizeTooLargeError()], ids=lambda e: type(e).__name__
)
def test_a_non_retriable_failure_is_a_delivery_error_without_retry(error: Exception) -> None:
    send = FlakySend(1, error, at_send=False)
    delivered: list[Output] = []
    retries: list[Output] = []
    with pytest.raises(DeliveryError, match="retrying cannot help"):
        asyncio.run(_publisher(send, delivered, retries).publish([_output()]))
    assert send.sent == []
    assert delivered == []
    assert retries == []


def test_a_failure_that_outlasts_the_retry_bound_is_a_delivery_error() -> None:
    send = FlakySend(1_000_000, RequestTimedOutError(), at_send=False)
    publisher = _publisher(send, [], [])
    publisher.retry_for_seconds = 0.05
    with pytest.raises(DeliveryError, match="did not acknowledge"):
        asyncio.run(publisher.publish([_output()]))
    assert send.sent == []


def test_outputs_are_queued_in_order_and_each_counted_once_acknowledged() -> None:
    send = FlakySend(0, RuntimeError("unused"), at_send=False)
    delivered: list[Output] = []
    outputs = [_output("a"), _output("b"), _output("c")]
    asyncio.run(_publisher(send, delivered, []).publish(outputs))
    assert [key for _, key, _ in send.sent] == [b"a", b"b", b"c"]
    assert delivered == outputs


def test_retriability_follows_the_error_chain() -> None:
    wrapped = RuntimeError("send failed")
    wrapped.__cause__ = RequestTimedOutError()
    assert is_retriable(wrapped)
    assert is_retriable(KafkaTimeoutError())  # flagged not retriable by aiokafka; a retry cures it
    assert is_retriable(ConnectionResetError())
    assert not is_retriable(TopicAuthorizationFailedError())
    assert not is_retriable(MessageSizeTooLargeError())
    assert not is_retriable(ValueError("message too large"))
