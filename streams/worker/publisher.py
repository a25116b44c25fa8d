"""Publish a batch's outputs and wait until the broker has acknowledged every one.

:class:`Publisher` knows nothing of Faust: it takes a ``send`` callable (topic name, key, value)
that queues one message and returns an awaitable resolved by the broker's acknowledgement. Sends
that fail for a reason retrying can fix are retried with backoff, bounded in time; any other
failure, or a retriable one that outlasts the bound, raises :class:`DeliveryError`, and the
caller must then stop without committing the batch's input offsets.

Dead letters are cut to fit the dead-letter topic before they are sent
(:mod:`streams.pipeline.dead_letter_size`); one the broker still refuses as too large (its
topic was created with a smaller limit) is cut to half and sent again, so an input never
stops its partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, RecordTooLargeError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential
from tenacity.wait import wait_base

from schemas import DeadLetter
from streams.pipeline.dead_letter_size import fit_dead_letter, wire_size
from streams.pipeline.route import Output
from streams.topics import DEAD_LETTERS, MIB

log = logging.getLogger("flashpoint.publisher")

#: Queue one message: (topic name, key, value) -> an awaitable the broker's ack resolves.
Send = Callable[[str, bytes | None, bytes], Awaitable[Awaitable[Any]]]

#: Errors aiokafka flags as not retriable that a bounded retry can still cure: its producer
#: raises KafkaTimeoutError when the broker did not answer within the request timeout (a
#: broker restarting, a leader moving), which is the transient case the retry is for.
RETRIABLE_DESPITE_FLAG: tuple[type[BaseException], ...] = (KafkaTimeoutError,)
#: The producer's (RecordTooLargeError) and the broker's (MessageSizeTooLargeError) refusals.
TOO_LARGE: tuple[type[BaseException], ...] = (RecordTooLargeError, MessageSizeTooLargeError)
#: The smallest limit a refused dead letter is cut down to before the worker gives up.
MIN_DEAD_LETTER_BYTES = 16 * 1024


class DeliveryError(Exception):
    """A message the broker did not acknowledge and will not: the batch must not be committed."""


def is_retriable(exc: BaseException) -> bool:
    """Whether retrying could help: Kafka errors say so themselves; connection problems can."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RETRIABLE_DESPITE_FLAG):
            return True
        flag = getattr(seen, "retriable", None)
        if flag is not None:
            return bool(flag)
        if isinstance(seen, ConnectionError | TimeoutError | asyncio.TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _ignore(_: object) -> None:
    return None


@dataclass
class Publisher:
    """Sends outputs in order; returns once the broker acknowledged each of them."""

    send: Send
    #: The deployment's topic prefix, prepended to every registry name.
    prefix: str = ""
    #: How long retriable failures of one message are retried before giving up.
    retry_for_seconds: float = 120.0
    wait: wait_base = field(default_factory=lambda: wait_exponential(multiplier=0.5, max=15))
    #: Called once per acknowledged output (the metrics count it).
    on_delivered: Callable[[Output], None] = _ignore
    #: Called before each retried send.
    on_retry: Callable[[Output], None] = _ignore
    #: The largest dead letter sent whole: the dead-letter topic's and the producer's limit.
    dead_letter_max_bytes: int = 2 * MIB

    async def publish(self, outgoing: Sequence[Output]) -> None:
        """Queue every output, then await each acknowledgement, retrying where it helps.

        Raises :class:`DeliveryError` for the first output that cannot be delivered.
        """
        pending: list[tuple[Output, Awaitable[Any] | None, BaseException | None]] = []
        for out in map(self._fitted, outgoing):
            try:
                pending.append((out, await self._send(out), None))
            except Exception as exc:  # raised by send itself: buffer full, metadata, too large
                pending.append((out, None, exc))
        for queued, acknowledged, send_error in pending:
            out, error = queued, send_error
            if acknowledged is not None:
                try:
                    await acknowledged
                except Exception as exc:
                    error = exc
            if error is not None and _caused_by(error, TOO_LARGE) and isinstance(out.value, DeadLetter):
                out, error = await self._send_smaller(out, error)
            if error is not None:
                await self._send_until_acknowledged(out, error)
            self.on_delivered(out)

    def _fitted(self, out: Output) -> Output:
        if out.topic is DEAD_LETTERS and isinstance(out.value, DeadLetter):
            fitted = fit_dead_letter(out.value, self.dead_letter_max_bytes)
            if fitted is not out.value:
                log.warning(
                    "dead letter of %s bytes cut to fit %d bytes (original_truncated)",
                    out.value.original_size,
                    self.dead_letter_max_bytes,
                )
                return Output(out.topic, fitted)
        return out

    async def _send_smaller(self, out: Output, error: BaseException) -> tuple[Output, BaseException | None]:
        """Cut a refused dead letter to half its size until the broker takes it (or the floor)."""
        assert isinstance(out.value, DeadLetter)
        while _caused_by(error, TOO_LARGE):
            limit = wire_size(out.value) // 2
            if limit < MIN_DEAD_LETTER_BYTES:
                return out, error
            # Later dead letters of this worker start from the limit the broker accepts.
            self.dead_letter_max_bytes = min(self.dead_letter_max_bytes, limit)
            log.warning(
                "the broker refused a dead letter as too large (%r); cutting it to %d bytes", error, limit
            )
            out = Output(out.topic, fit_dead_letter(out.value, limit))
            try:
                await (await self._send(out))
            except Exception as exc:
                error = exc
            else:
                return out, None
        return out, error

    async def _send(self, out: Output) -> Awaitable[Any]:
        return await self.send(out.topic.full_name(self.prefix), out.key, out.encode())

    async def _send_until_acknowledged(self, out: Output, error: BaseException) -> None:
        name = out.topic.full_name(self.prefix)
        if not is_retriable(error):
            raise DeliveryError(f"send to {name} failed and retrying cannot help ({error!r})") from error
        log.warning("send to %s failed (%r); retrying", name, error)
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_delay(self.retry_for_seconds),
                wait=self.wait,
                retry=retry_if_exception(is_retriable),
                reraise=True,
            ):
                with attempt:
                    self.on_retry(out)
                    await (await self._send(out))
        except Exception as exc:
            raise DeliveryError(
                f"the broker did not acknowledge a message to {name} within "
                f"{self.retry_for_seconds:.0f} s ({exc!r})"
            ) from exc
