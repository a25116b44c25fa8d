"""The agent's publishing: broker acknowledgement before counting, retries only where they help."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError, TopicAuthorizationFailedError

from schemas import Article
from streams.config import Settings
from streams.pipeline.classify import classify_articles
from streams.pipeline.route import Output
from streams.topics import CLASSIFIED
from streams.worker import agents
from streams.worker.agents import Runtime, is_retriable
from tests.support.fakes import KeywordClassifier
from tests.unit.test_pipeline import T0


class FlakyTopic:
    """Fails the first ``failures`` sends (at send time or on the ack), then acknowledges."""

    def __init__(self, failures: int, error: Exception, at_send: bool) -> None:
        self.failures, self.error, self.at_send = failures, error, at_send
        self.sent: list[bytes] = []

    async def send(self, key: bytes | None, value: bytes, force: bool) -> Any:
        assert force
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            if self.at_send:
                raise self.error
            future.set_exception(self.error)
        else:
            self.sent.append(value)
            future.set_result(None)
        return future


def _runtime(topic: FlakyTopic) -> Runtime:
    runtime = Runtime(
        app=None, settings=Settings(producer_retries_max_seconds=5), load_classifier=lambda s: None
    )  # type: ignore[arg-type,return-value]
    runtime.output_topic = lambda spec: topic  # type: ignore[assignment,method-assign,return-value]
    return runtime


def _output() -> Output:
    article = Article(id="a", body="Washington warned of a strike.")
    (classified,) = classify_articles(KeywordClassifier(), [article], [T0])
    return Output(CLASSIFIED, b"a", classified)  # type: ignore[arg-type]


@pytest.mark.parametrize("at_send", [True, False])
def test_a_retriable_send_failure_is_retried_until_acknowledged(at_send: bool) -> None:
    topic = FlakyTopic(2, KafkaTimeoutError("broker away"), at_send)
    runtime = _runtime(topic)
    asyncio.run(runtime.publish([_output()]))
    assert len(topic.sent) == 1
    assert runtime.metrics.classified._value.get() == 1
    assert runtime.metrics.send_retries._value.get() >= 1


def test_a_non_retriable_failure_stops_the_worker_without_committing(monkeypatch: pytest.MonkeyPatch) -> None:
    crashed: list[str] = []

    def fake_crash(reason: str) -> None:
        crashed.append(reason)
        raise SystemExit(agents.EXIT_WITHOUT_COMMIT)

    monkeypatch.setattr(agents, "crash", fake_crash)
    topic = FlakyTopic(1, TopicAuthorizationFailedError("no"), at_send=False)
    runtime = _runtime(topic)
    with pytest.raises(SystemExit):
        asyncio.run(runtime.publish([_output()]))
    assert topic.sent == []
    assert "retrying cannot help" in crashed[0]
    assert runtime.metrics.classified._value.get() == 0


def test_retriability_follows_the_error_chain() -> None:
    wrapped = RuntimeError("send failed")
    wrapped.__cause__ = KafkaTimeoutError()
    assert is_retriable(wrapped)
    assert is_retriable(ConnectionResetError())
    assert not is_retriable(TopicAuthorizationFailedError())
    assert not is_retriable(ValueError("message too large"))
