"""Thin Faust wiring of the two agents, each publishing its outputs before acknowledging its input.

* ``classify_articles`` reads ``news.articles.v1`` (N partitions, scales out): decode, classify
  in the executor (copies of what this worker just classified reuse it,
  :mod:`streams.pipeline.copies`), then one StoryInput per valid article to the single-partition
  ``news.stories.input.v1``; dead letters straight to the DLQ.
* ``assign_stories`` reads ``news.stories.input.v1``: one worker of the group owns its one
  partition, so every article meets the same story state (Faust tables,
  :mod:`streams.worker.tables`), whatever input partition it came from. It publishes the
  ClassifiedArticle and the story's alert messages (:mod:`streams.pipeline.assign`).

Delivery is at-least-once. A batch's offsets are recorded as processed only after every output
of the batch has been acknowledged by the broker (acks=all, idempotent producer; see
:mod:`streams.worker.publisher`), and, for the story agent, after the tables' changelog writes
too; the consumer commits only unbroken runs of processed offsets
(:mod:`streams.worker.consumer`).
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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NoReturn

import faust
from faust.types import TP, EventT

from schemas import ErrorType, StoryInput
from streams import __version__
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings
from streams.pipeline.assign import StoryAssigner
from streams.pipeline.copies import CopyCache
from streams.pipeline.decode import Source, make_dead_letter, utc_now
from streams.pipeline.route import Message, Output, route_to_stories
from streams.pipeline.stories import stage_config
from streams.pipeline.story_tables import StoryTables
from streams.topics import ARTICLES, DEAD_LETTERS, MIB, STORY_INPUTS, max_produced_bytes
from streams.worker.metrics import Metrics
from streams.worker.probes import BrokerCheck, Liveness, group_joined
from streams.worker.publisher import DeliveryError, Publisher
from streams.worker.tables import story_tables, within_event

log = logging.getLogger("flashpoint.agents")

#: Exit code when the worker stops itself without committing (EX_SOFTWARE).
EXIT_WITHOUT_COMMIT = 70
#: The story agent's batches: placing an article takes about a millisecond, so a batch mostly
#: saves broker round trips.
STORY_BATCH_MAX = 32
STORY_BATCH_WITHIN = 0.05
#: How often liveness reads the input partitions' offsets, and how long one read may take.
PROGRESS_INTERVAL = 5.0
PROGRESS_READ_TIMEOUT = 10.0


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
    copies: CopyCache = field(init=False)
    #: The story stage's tables; set by :func:`wire`.
    tables: StoryTables | None = None
    #: The story stage, built from the tables on the first batch after each rebalance.
    assigner: StoryAssigner | None = None
    assigner_rebalance: int = -1
    #: Where the offsets :meth:`watch_progress` reads are reported too (the lag gauge; set by the
    #: app once its sensors exist).
    report_offsets: Callable[[Mapping[TP, tuple[int, int]]], None] = lambda offsets: None
    liveness: Liveness = field(init=False)
    broker_check: BrokerCheck = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = Publisher(
            send=self.send,
            prefix=self.settings.topic_prefix,
            retry_for_seconds=self.settings.producer_retries_max_seconds,
            on_delivered=self.metrics.count_delivered,
            on_retry=lambda out: self.metrics.send_retries.inc(),
            dead_letter_max_bytes=min(
                DEAD_LETTERS.max_message_bytes(self.settings) or MIB, max_produced_bytes(self.settings)
            ),
        )
        stories = self.settings.stories
        self.copies = CopyCache(stories.copy_cache_size, stories.window_hours)
        self.story_config, self.families = stage_config(stories)
        self.liveness = Liveness(self.settings.liveness_stall_seconds)
        self.broker_check = BrokerCheck(self.settings.broker_servers().split(","))

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

    async def ready(self) -> dict[str, bool]:
        """The readiness checks, each true or false (:mod:`streams.worker.probes`)."""
        return {
            "model_loaded": self.model_ready.is_set(),
            "topics_present": self.topics_present,
            "broker_reachable": await self.broker_check.reachable(),
            "group_joined": group_joined(self.app),
        }

    def health(self) -> dict[str, Any]:
        """Liveness: whether every assigned input partition progresses while it has lag."""
        stalled = self.liveness.stalled_for()
        return {
            "alive": stalled < self.liveness.stall_seconds,
            "input_lag": self.liveness.lag,
            "stalled_seconds": round(stalled, 1),
        }

    async def watch_progress(self) -> None:
        """Read the end and committed offsets of this worker's input partitions (both agents'
        topics) for liveness and the lag gauge; the end offsets come from the broker, so a
        partition this worker never fetched from counts as well."""
        app = self.app
        prefix = self.settings.topic_prefix
        watched = {ARTICLES.full_name(prefix), STORY_INPUTS.full_name(prefix)}
        if app.rebalancing:  # recovery and seeks in progress: offsets say nothing yet
            self.liveness.unknown()
            return
        consumer = app.consumer
        reread_held_back = getattr(consumer, "reread_held_back", None)
        if reread_held_back is not None:
            await reread_held_back(self.settings.held_back_reread_seconds)
        partitions = [tp for tp in consumer.assignment() if tp.topic in watched]
        if not partitions:  # an idle extra replica
            self.liveness.observe({})
            return
        try:
            ends = await asyncio.wait_for(consumer.highwaters(*partitions), PROGRESS_READ_TIMEOUT)
        except Exception as exc:
            reachable = await self.broker_check.reachable()
            if reachable:
                log.warning("end offsets unreadable while the broker answers: %s", type(exc).__name__)
            self.liveness.offsets_unreadable(reachable)
            return
        # Faust's own record of each partition's committed offset: read from the broker when the
        # partition was assigned, then updated on every commit.
        committed: Mapping[TP, int | None] = consumer._committed_offset  # type: ignore[attr-defined]
        offsets = {tp: (end, committed.get(tp) or 0) for tp, end in ends.items() if end is not None}
        self.liveness.observe(offsets)
        self.report_offsets(offsets)

    async def process(self, events: Sequence[EventT[bytes]]) -> None:
        """Classify one batch for the story stage; return once the broker has every output."""
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
        stage = await asyncio.get_running_loop().run_in_executor(
            self.executor,
            lambda: route_to_stories(
                self.classifier,  # type: ignore[arg-type]
                messages,
                received_at=received_at,
                max_body_chars=self.settings.max_body_chars,
                app_version=__version__,
                copies=self.copies,
            ),
        )
        self.metrics.classify_seconds.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(messages))
        self.metrics.model_passes.inc(stage.model_passes)
        self.metrics.copies_reused.inc(stage.copies_reused)
        self.metrics.withdrawals.inc(stage.withdrawals)
        await self.publisher.publish([out for outputs in stage.routed for out in outputs])
        latency = (utc_now() - received_at).total_seconds()
        for _ in messages:
            self.metrics.latency_seconds.observe(latency)

    def story_assigner(self) -> StoryAssigner:
        """The story stage, rebuilt from the tables after every rebalance (they are recovered
        before the agent gets an event, and another worker may have advanced them meanwhile)."""
        rebalances = int(getattr(self.app, "rebalancing_count", 0))
        if self.assigner is None or self.assigner_rebalance != rebalances:
            assert self.tables is not None
            started = time.perf_counter()
            self.assigner = StoryAssigner(self.tables, self.story_config, self.families)
            self.assigner_rebalance = rebalances
            log.info(
                "story stage rebuilt from the tables in %.2f s: %d active stories, %d articles",
                time.perf_counter() - started,
                len(self.assigner.stage.state.stories.stories),
                len(self.assigner.stage.state.placements),
            )
        return self.assigner

    def _story_outputs(self, event: EventT[bytes]) -> list[Output]:
        message = event.message
        source = Source(message.topic, message.partition, message.offset, message.key)
        try:
            item: StoryInput = STORY_INPUTS.decode(message.value, max_body_chars=self.settings.max_body_chars)
        except ValueError as exc:  # only a bug or a foreign producer writes this topic
            dead = make_dead_letter(
                message.value,
                source,
                error_type=ErrorType.INTERNAL_ERROR,
                error_message=f"unreadable story input: {exc}",
                article_id=None,
                app_version=__version__,
                received_at=utc_now(),
            )
            return [Output(DEAD_LETTERS, dead)]
        with within_event(event):
            assigned = self.story_assigner().assign(item)
        if assigned.placement is not None and not item.article.withdrawn:
            self.metrics.story_articles.inc()
            if assigned.placement.duplicate_of is not None:
                self.metrics.story_copies.inc()
        return assigned.outputs

    async def process_stories(self, events: Sequence[EventT[bytes]]) -> None:
        """Place a batch of articles in stories, publish, and flush the tables' changelogs."""
        started = time.perf_counter()
        outputs = [out for event in events for out in self._story_outputs(event)]
        self.metrics.story_seconds.observe(time.perf_counter() - started)
        await self.publisher.publish(outputs)
        # The changelog writes are buffered by Faust, not tied to the input's offset: wait for
        # them too, so a committed input never has its state change lost.
        await self.app.producer.flush()

    async def process_or_crash(
        self, events: Sequence[EventT[bytes]], process: Callable[[Sequence[EventT[bytes]]], Any] | None = None
    ) -> None:
        """Process a batch (by default :meth:`process`); any error stops the worker before
        Faust can ack the batch."""
        try:
            await (process or self.process)(events)
        except asyncio.CancelledError:
            raise
        except DeliveryError as exc:
            crash(str(exc))
        except Exception as exc:
            log.exception("unexpected error while processing a batch of %d", len(events))
            crash(f"unexpected {type(exc).__name__}: {exc}")
        else:
            self.record_processed(events)

    def record_processed(self, events: Sequence[EventT[bytes]]) -> None:
        """Tell the consumer which inputs are done: only these offsets may be committed
        (:mod:`streams.worker.consumer`)."""
        record = getattr(self.app.consumer, "record_processed", None)
        if record is not None:
            record([event.message for event in events])


def wire(
    app: faust.App, settings: Settings, load_classifier: Callable[[ClassifierSettings], Classifier]
) -> Runtime:
    """Attach the agent, the model-loading task and the web views to ``app``."""
    runtime = Runtime(app=app, settings=settings, load_classifier=load_classifier)
    runtime.tables = story_tables(app)
    stories_source = app.topic(
        STORY_INPUTS.full_name(settings.topic_prefix),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=1,
    )
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

    @app.agent(stories_source, name="assign_stories")
    async def assign_stories_agent(stream: Any) -> None:  # one partition: one owner in the group
        async for events in stream.take_events(STORY_BATCH_MAX, within=STORY_BATCH_WITHIN):
            task = asyncio.ensure_future(runtime.process_or_crash(events, runtime.process_stories))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                await task
                raise

    @app.timer(PROGRESS_INTERVAL)  # type: ignore[untyped-decorator]
    async def watch_progress() -> None:
        await runtime.watch_progress()

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        state = runtime.health()
        alive = state.pop("alive")
        return web.json({"status": "ok" if alive else "stalled", **state}, status=200 if alive else 503)

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        checks = await runtime.ready()
        ok = all(checks.values())
        return web.json({"ready": ok, **checks}, status=200 if ok else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # Prometheus text format 0.0.4 (aiohttp adds the utf-8 charset itself).
        return web.text(runtime.metrics.render().decode("utf-8"), content_type="text/plain; version=0.0.4")

    return runtime
