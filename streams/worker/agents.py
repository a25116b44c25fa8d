"""Thin Faust wiring: read article events, run the pipeline in an executor, publish the outputs.

Delivery is at-least-once. A batch's offsets are acknowledged only after every output of the
batch (classified article, alert, dead letter) has been acknowledged by the broker (acks=all,
idempotent producer; see :mod:`streams.worker.publisher`); Faust commits acknowledged offsets.
Faust acknowledges a batch's events even when the code handling it raises, so nothing may
escape that code: an output the broker will not acknowledge, a model that cannot be loaded, or
any unexpected error makes the worker exit with code 70 *without* committing. Its supervisor
restarts it and the batch is processed again: repeats are possible, losses are not, and
repeated alerts carry identical ``alert_id``s.
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

from streams import __version__
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings
from streams.pipeline.decode import Source, utc_now
from streams.pipeline.route import Message, route_batch
from streams.topics import ARTICLES
from streams.worker.metrics import Metrics
from streams.worker.publisher import DeliveryError, Publisher

log = logging.getLogger("flashpoint.agents")

#: Exit code when the worker stops itself without committing (EX_SOFTWARE).
EXIT_WITHOUT_COMMIT = 70


def crash(reason: str) -> NoReturn:
    """Exit at once, without committing offsets: the batch in hand is processed again on restart."""
    log.critical("%s: exiting without committing, so a restarted worker reprocesses this batch", reason)
    logging.shutdown()
    os._exit(EXIT_WITHOUT_COMMIT)


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
    publisher: Publisher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = Publisher(
            send=self.send,
            prefix=self.settings.topic_prefix,
            retry_for_seconds=self.settings.producer_retries_max_seconds,
            on_delivered=lambda out: self.metrics.count_delivered(out.value),
            on_retry=lambda out: self.metrics.send_retries.inc(),
        )

    async def send(self, topic: str, key: bytes | None, value: bytes) -> Any:
        """Queue one message on ``topic``; the returned future resolves on the broker's ack."""
        if topic not in self.topics:
            # Raw bytes in and out: the registry's TopicSpec encoded key and value already.
            self.topics[topic] = self.app.topic(
                topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
            )
        # force=True: publish now, never attached to the input event's ack.
        return await self.topics[topic].send(key=key, value=value, force=True)

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
        await self.publisher.publish([out for outputs in routed for out in outputs])
        latency = (utc_now() - received_at).total_seconds()
        for _ in messages:
            self.metrics.latency_seconds.observe(latency)

    async def process_or_crash(self, events: Sequence[EventT[bytes]]) -> None:
        """:meth:`process`, where any error stops the worker before Faust can ack the batch."""
        try:
            await self.process(events)
        except asyncio.CancelledError:
            raise
        except DeliveryError as exc:
            crash(str(exc))
        except Exception as exc:
            log.exception("unexpected error while processing a batch of %d", len(events))
            crash(f"unexpected {type(exc).__name__}: {exc}")


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
