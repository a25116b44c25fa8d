"""Thin Faust wiring: read article events, run the pipeline in an executor, publish the outputs.

Delivery is at-least-once. A batch's offsets are acknowledged only after every output of the
batch (classified article, alert, dead letter) has been acknowledged by the broker (acks=all,
idempotent producer); Faust commits acknowledged offsets. Faust acknowledges a batch's events
even when the code handling it raises, so nothing may escape that code: a send that keeps
failing past ``producer_retries_max_seconds`` (or fails for a reason that retrying cannot fix),
a model that cannot be loaded, or any unexpected error makes the worker exit with code 70
*without* committing. Its supervisor restarts it and the batch is processed again: repeats are
possible, losses are not, and repeated alerts carry identical ``alert_id``s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NoReturn

import faust
from faust.exceptions import ConsumerNotStarted
from faust.types import EventT
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from streams import __version__
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings
from streams.pipeline.decode import Source, utc_now
from streams.pipeline.route import Message, Output, route_batch
from streams.topics import ARTICLES, TopicSpec
from streams.worker.metrics import Metrics

log = logging.getLogger("flashpoint.agents")

#: Exit code when the worker stops itself without committing (EX_SOFTWARE).
EXIT_WITHOUT_COMMIT = 70


def crash(reason: str) -> NoReturn:
    """Exit at once, without committing offsets: the batch in hand is processed again on restart."""
    log.critical("%s: exiting without committing, so a restarted worker reprocesses this batch", reason)
    logging.shutdown()
    os._exit(EXIT_WITHOUT_COMMIT)


def is_retriable(exc: BaseException) -> bool:
    """Whether retrying could help: Kafka errors say so themselves; connection problems can."""
    seen: BaseException | None = exc
    while seen is not None:
        flag = getattr(seen, "retriable", None)
        if flag is not None:
            return bool(flag)
        if isinstance(seen, (ConnectionError, TimeoutError, asyncio.TimeoutError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class Runtime:
    """What the agent needs besides Faust: the model, the executor, metrics, readiness."""

    app: faust.App
    settings: Settings
    load_classifier: Callable[[ClassifierSettings], Classifier]
    metrics: Metrics = field(default_factory=Metrics)
    classifier: Classifier | None = None
    model_ready: asyncio.Event = field(default_factory=asyncio.Event)
    topics_present: bool = False
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier")
    )
    topics: dict[str, faust.TopicT] = field(default_factory=dict)

    def output_topic(self, spec: TopicSpec) -> faust.TopicT:
        """The Faust topic object of a registry topic (raw bytes in and out)."""
        name = spec.full_name(self.settings.topic_prefix)
        if name not in self.topics:
            self.topics[name] = self.app.topic(
                name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
            )
        return self.topics[name]

    async def load_model(self) -> None:
        """Load the classifier in the executor (never on the event loop), then mark ready."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            self.classifier = await loop.run_in_executor(
                self.executor, self.load_classifier, self.settings.classifier
            )
        except Exception as exc:
            log.exception("the classifier could not be loaded")
            crash(f"no classifier ({type(exc).__name__}: {exc})")
        self.metrics.model_loaded.set(1)
        self.model_ready.set()
        log.info("classifier loaded in %.1f s: %s", time.perf_counter() - started, self.classifier.model_info)

    def ready(self) -> dict[str, bool]:
        """The readiness checks, each true or false."""
        try:
            assigned = bool(self.app.consumer.assignment())
        except ConsumerNotStarted:
            assigned = False
        return {
            "model_loaded": self.model_ready.is_set(),
            "topics_present": self.topics_present,
            "consumer_assigned": assigned,
        }

    async def process(self, events: Sequence[EventT[bytes]]) -> None:
        """Decode, classify and publish one batch; return once the broker has every output."""
        await self.model_ready.wait()
        assert self.classifier is not None
        received_at = utc_now()
        self.metrics.articles_in.inc(len(events))
        messages = [
            Message(
                e.message.value, Source(e.message.topic, e.message.partition, e.message.offset, e.message.key)
            )
            for e in events
        ]
        started = time.perf_counter()
        routed = await asyncio.get_running_loop().run_in_executor(
            self.executor,
            lambda: route_batch(
                self.classifier,  # type: ignore[arg-type]
                messages,
                received_at=received_at,
                max_body_chars=self.settings.max_body_chars,
                app_version=__version__,
            ),
        )
        self.metrics.classify_seconds.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(messages))
        await self.publish([out for outputs in routed for out in outputs])
        latency = (utc_now() - received_at).total_seconds()
        for _ in messages:
            self.metrics.latency_seconds.observe(latency)

    async def process_or_crash(self, events: Sequence[EventT[bytes]]) -> None:
        """:meth:`process`, where any error stops the worker before Faust can ack the batch."""
        try:
            await self.process(events)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("unexpected error while processing a batch of %d", len(events))
            crash(f"unexpected {type(exc).__name__}: {exc}")

    async def publish(self, outgoing: Sequence[Output]) -> None:
        """Send in order, then wait until the broker acknowledged every message (with retries)."""
        pending: list[tuple[Output, Any, BaseException | None]] = []
        for out in outgoing:
            try:
                pending.append((out, await self._send(out), None))
            except Exception as exc:  # raised by send itself: buffer full, metadata, too large
                pending.append((out, None, exc))
        for out, future, send_error in pending:
            error = send_error
            if future is not None:
                try:
                    await future
                except Exception as exc:
                    error = exc
            if error is not None:
                await self._send_until_acknowledged(out, error)
            self.metrics.count_delivered(out.value)

    async def _send(self, out: Output) -> Any:
        topic = self.output_topic(out.topic)
        # force=True: publish now, never attached to the input event's ack.
        return await topic.send(key=out.key, value=out.value.model_dump_json().encode("utf-8"), force=True)

    async def _send_until_acknowledged(self, out: Output, error: BaseException) -> None:
        name = out.topic.full_name(self.settings.topic_prefix)
        if not is_retriable(error):
            crash(f"send to {name} failed and retrying cannot help ({error!r})")
        log.warning("send to %s failed (%r); retrying", name, error)
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_delay(self.settings.producer_retries_max_seconds),
                wait=wait_exponential(multiplier=0.5, max=15),
                retry=retry_if_exception(is_retriable),
                reraise=True,
            ):
                with attempt:
                    self.metrics.send_retries.inc()
                    await (await self._send(out))
        except Exception as exc:
            crash(
                f"the broker did not acknowledge a message to {name} within "
                f"{self.settings.producer_retries_max_seconds:.0f} s ({exc!r})"
            )


def wire(
    app: faust.App, settings: Settings, load_classifier: Callable[[ClassifierSettings], Classifier]
) -> Runtime:
    """Attach the agent, the model-loading task and the web views to ``app``."""
    runtime = Runtime(app=app, settings=settings, load_classifier=load_classifier)
    source = app.topic(
        ARTICLES.full_name(settings.topic_prefix),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    @app.task  # type: ignore[untyped-decorator]
    async def load_model() -> None:
        await runtime.load_model()

    @app.agent(source, name="classify_articles")
    async def classify_articles_agent(stream: Any) -> None:  # a faust Stream of raw bytes
        async for events in stream.take_events(settings.batch_max, within=settings.batch_within):
            # Shielded: a stop request (SIGTERM) lets the in-flight batch finish and publish
            # before its offsets are acknowledged and committed.
            task = asyncio.ensure_future(runtime.process_or_crash(events))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                await task
                raise

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        checks = runtime.ready()
        ok = all(checks.values())
        return web.json({"ready": ok, **checks}, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # Prometheus text format 0.0.4 (aiohttp adds the utf-8 charset itself).
        return web.text(runtime.metrics.render().decode("utf-8"), content_type="text/plain; version=0.0.4")

    return runtime
