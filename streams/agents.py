"""Thin Faust wiring: read article events, call the pure pipeline, write the outputs.

Delivery is at-least-once. A batch's offsets are acknowledged only after every output of the
batch (classified article, alert, dead letter) has been acknowledged by the broker (acks=all,
idempotent producer); Faust commits acknowledged offsets. If the broker stays unreachable past
``producer_retries_max_seconds`` the worker exits with code 70 *without* committing, so a
restarted worker reprocesses the batch: repeats are possible, losses are not, and repeated
alerts carry identical ``alert_id``s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from faust.types import EventT
from pydantic import BaseModel
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from schemas import DeadLetter
from schemas.events import Article
from streams import __version__
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings
from streams.metrics import Metrics
from streams.pipeline.alert import build_alert
from streams.pipeline.classify import ClassificationFailure, classify_articles
from streams.pipeline.decode import Source, decode_article, make_dead_letter, utc_now
from streams.topics import ALERTS, ARTICLES, CLASSIFIED, DEAD_LETTERS, TopicSpec

log = logging.getLogger("flashpoint.agents")

#: Exit code when the broker could not take our outputs in time (EX_SOFTWARE).
EXIT_BROKER_UNAVAILABLE = 70


def _where(source: Source, article_id: str | None) -> dict[str, object]:
    """Log record fields saying which message a line is about (keys in JSON logs)."""
    return {
        "topic": source.topic,
        "partition": source.partition,
        "offset": source.offset,
        "article_id": article_id,
    }


@dataclass
class Outgoing:
    """One message to publish, and what to count once the broker has it."""

    topic: TopicSpec
    key: bytes | None
    value: BaseModel
    on_delivered: Callable[[], None]


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
        self.classifier = await loop.run_in_executor(
            self.executor, self.load_classifier, self.settings.classifier
        )
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
        outgoing: list[Outgoing] = []
        valid: list[tuple[Article, Source, bytes | None]] = []
        for event in events:
            message = event.message
            source = Source(message.topic, message.partition, message.offset, message.key)
            decoded = decode_article(
                message.value,
                source,
                max_body_chars=self.settings.max_body_chars,
                app_version=__version__,
                now=lambda: received_at,
            )
            if isinstance(decoded, DeadLetter):
                log.warning(
                    "dead letter %s at %s[%s]@%s (article %s): %s",
                    decoded.error_type,
                    source.topic,
                    source.partition,
                    source.offset,
                    decoded.article_id,
                    decoded.error_message[:300],
                    extra=_where(source, decoded.article_id),
                )
                outgoing.append(self._dead_letter_out(decoded, source.key))
            else:
                valid.append((decoded, source, message.value))

        if valid:
            articles = [a for a, _, _ in valid]
            started = time.perf_counter()
            results = await asyncio.get_running_loop().run_in_executor(
                self.executor, classify_articles, self.classifier, articles, [received_at] * len(articles)
            )
            self.metrics.classify_seconds.observe(time.perf_counter() - started)
            self.metrics.batch_size.observe(len(articles))
            for (article, source, raw), result in zip(valid, results, strict=True):
                key = article.id.encode("utf-8")
                if isinstance(result, ClassificationFailure):
                    dead = make_dead_letter(
                        raw,
                        source,
                        error_type=result.error_type,
                        error_message=result.error_message,
                        article_id=article.id,
                        app_version=__version__,
                        received_at=received_at,
                    )
                    log.error(
                        "article %s at %s[%s]@%s dead-lettered: %s",
                        article.id,
                        source.topic,
                        source.partition,
                        source.offset,
                        result.error_message,
                        extra=_where(source, article.id),
                    )
                    outgoing.append(self._dead_letter_out(dead, source.key))
                    continue
                alert = build_alert(result, article)
                log.debug(
                    "classified %s v%d: level %s, signals %s",
                    article.id,
                    article.version,
                    result.level,
                    ",".join(sig.category for sig in result.signals) or "-",
                    extra=_where(source, article.id),
                )
                count = partial(self.metrics.count_outputs, result, alerted=alert is not None)
                outgoing.append(Outgoing(CLASSIFIED, key, result, count))
                if alert is not None:
                    outgoing.append(Outgoing(ALERTS, key, alert, lambda: None))
        await self.publish(outgoing)
        self.metrics.latency_seconds.observe((utc_now() - received_at).total_seconds())

    def _dead_letter_out(self, dead: DeadLetter, key: bytes | None) -> Outgoing:
        return Outgoing(DEAD_LETTERS, key, dead, lambda: self.metrics.count_dead_letter(dead))

    async def publish(self, outgoing: Sequence[Outgoing]) -> None:
        """Send in order, then wait until the broker acknowledged every message (with retries)."""
        pending = [(out, await self._send(out)) for out in outgoing]
        for out, future in pending:
            try:
                await future
            except Exception as exc:
                log.warning("send to %s failed (%r); retrying", out.topic.name, exc)
                await self._send_until_acknowledged(out)
            out.on_delivered()

    async def _send(self, out: Outgoing) -> Any:
        topic = self.output_topic(out.topic)
        return await topic.send(key=out.key, value=out.value.model_dump_json().encode("utf-8"))

    async def _send_until_acknowledged(self, out: Outgoing) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_delay(self.settings.producer_retries_max_seconds),
                wait=wait_exponential(multiplier=0.5, max=15),
                retry=retry_if_exception_type(Exception),
                reraise=True,
            ):
                with attempt:
                    self.metrics.send_retries.inc()
                    await (await self._send(out))
        except Exception as exc:
            log.critical(
                "broker did not acknowledge a message to %s within %.0f s (%r): exiting without "
                "committing, so a restarted worker reprocesses this batch",
                out.topic.name,
                self.settings.producer_retries_max_seconds,
                exc,
            )
            logging.shutdown()
            os._exit(EXIT_BROKER_UNAVAILABLE)


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
            task = asyncio.ensure_future(runtime.process(events))
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
