"""The fault drill of issue 17 on a 3-broker cluster: a paced stream, kills, restarts, timings.

:class:`FaultRun` runs workers (``python -m streams worker``, as in production) on a cluster
from the project's launcher, sends a stream of inputs at a fixed rate from a thread (kafka-python,
idempotent, acks=all), reads the output topics from another and records when every output
first appeared. Faults are recorded as :class:`Fault` events; a fault's recovery is read from the
outputs of the inputs sent *after* it, per input partition (each input is sent to partition
``i % partitions``): the first such output, and the moment every partition has delivered one
(for a killed worker or broker, that is when its partitions run again elsewhere).

The end-to-end test (``test_fault_run.py``) and the benchmark (``bench/bench_faults.py``) both
drive it; neither sleeps in place of an event: every wait polls the outputs with a deadline.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from schemas import ClassifiedArticle, DeadLetter
from streams.config import Settings
from streams.localkafka import Cluster, start_node, stop_node
from streams.topics import ARTICLES, CLASSIFIED, DEAD_LETTERS, STORY_INPUTS, TopicSpec
from streams.worker.process import WorkerProcess
from tests.e2e.harness import MAX_BODY_CHARS, Input, start_worker

#: The classification's processing times: a reprocessed input has new ones, nothing else may differ.
PROCESSING_TIMES = {"received_at", "classified_at"}
#: A dead letter's own time.
DEAD_LETTER_TIMES = {"received_at"}
#: The longest a held stream waits for its release.
HOLD_LIMIT_S = 600.0


@dataclass
class Fault:
    """One kill or restart, and when it happened (``time.monotonic``)."""

    name: str
    at: float
    #: How many inputs had been sent when it happened.
    sent_before: int
    #: Seconds to the first output of an input sent after it, and until every input partition
    #: had delivered one (None: not yet).
    first_output: float | None = None
    all_partitions: float | None = None


@dataclass
class Sent:
    """One input as sent: when, to which partition, and where the broker put it."""

    item: Input
    at: float
    partition: int
    offset: int | None = None


class Stream(threading.Thread):
    """Sends inputs, input ``i`` to partition ``i % partitions``, at most ``rate`` per second and
    with at most ``window`` inputs sent but without output yet.

    The window keeps the pipeline just short of saturation whatever the machine's speed, so the
    time from a fault to the output of an input sent after it measures the recovery, not a
    backlog; through an outage the stream stops once the window is full, and goes on as outputs
    return. At each index of ``hold_at`` it stops until :meth:`FaultRun.release_stream` has been
    called once more (a release that comes early lets it pass), so that what
    follows a restart still has inputs to work on, whatever the restart took.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        inputs: list[Input],
        observer: Observer,
        *,
        rate: float,
        window: int,
        partitions: int,
        hold_at: Sequence[int],
    ) -> None:
        super().__init__(name="fault-stream", daemon=True)
        self.inputs, self.topic, self.observer = inputs, topic, observer
        self.rate, self.window, self.partitions, self.hold_at = rate, window, partitions, set(hold_at)
        self.releases = threading.Semaphore(0)
        # kafka-python 3 is idempotent with acks=all by default; say so anyway.
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","), acks="all", enable_idempotence=True, linger_ms=5
        )
        self.sent: list[Sent] = []
        self.futures: list[Any] = []
        self.error: BaseException | None = None

    def outstanding(self) -> int:
        """Inputs sent whose output has not arrived yet."""
        seen = self.observer.first_seen
        return sum(1 for s in self.sent if s.item.key is None or s.item.key.decode() not in seen)

    def run(self) -> None:
        try:
            last = 0.0
            for i, item in enumerate(self.inputs):
                if i in self.hold_at:
                    self.releases.acquire(timeout=HOLD_LIMIT_S)
                self.observer.wait_quietly(lambda: self.outstanding() < self.window, HOLD_LIMIT_S)
                delay = last + 1 / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing: the faults must land while inputs keep arriving
                partition = i % self.partitions
                self.futures.append(
                    self.producer.send(self.topic, key=item.key, value=item.raw, partition=partition)
                )
                last = time.monotonic()
                self.sent.append(Sent(item, last, partition))
        except BaseException as exc:  # reported by placed()
            self.error = exc

    def placed(self, timeout: float) -> dict[tuple[int, int], Input]:
        """Once every input is acknowledged: the inputs by (partition, offset)."""
        self.join(timeout)
        assert not self.is_alive(), "the stream did not finish sending"
        assert self.error is None, self.error
        self.producer.flush(timeout=timeout)
        placed = {}
        for sent, future in zip(self.sent, self.futures, strict=True):
            meta = future.get(timeout=timeout)
            sent.offset = meta.offset
            placed[(meta.partition, meta.offset)] = sent.item
        self.producer.close()
        return placed


class Observer(threading.Thread):
    """Reads the classified and dead-letter topics from the start; records when each output first
    arrived, by article id (dead letters also by source partition and offset)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        super().__init__(name="fault-observer", daemon=True)
        self.specs: dict[str, TopicSpec[Any]] = {
            CLASSIFIED.full_name(prefix): CLASSIFIED,
            DEAD_LETTERS.full_name(prefix): DEAD_LETTERS,
        }
        self.consumer = KafkaConsumer(
            *self.specs,
            bootstrap_servers=bootstrap.split(","),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=100,
        )
        self.classified: list[ClassifiedArticle] = []
        self.dead: list[DeadLetter] = []
        #: When the first output for an article id arrived (monotonic); and every arrival, in order.
        self.first_seen: dict[str, float] = {}
        self.arrivals: list[float] = []
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = self.consumer.poll(timeout_ms=200)
                now = time.monotonic()
                with self.changed:
                    for records in batch.values():
                        for record in records:
                            self._add(self.specs[record.topic].decode(record.value), now)
                    self.changed.notify_all()
        except BaseException as exc:  # reported by wait_for()
            self.error = exc
        finally:
            self.consumer.close()

    def _add(self, event: Any, now: float) -> None:
        self.arrivals.append(now)
        if isinstance(event, ClassifiedArticle):
            self.classified.append(event)
            self.first_seen.setdefault(event.article_id, now)
        else:
            self.dead.append(event)
            if event.article_id:
                self.first_seen.setdefault(event.article_id, now)

    def wait_for(
        self, done: Callable[[], bool], timeout: float, what: str, evidence: Callable[[], str]
    ) -> None:
        """Block until ``done()`` (checked as outputs arrive) or fail after ``timeout`` with evidence."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done():
                if self.error is not None:
                    raise AssertionError(f"the output reader failed: {self.error!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{evidence()}")
                self.changed.wait(min(remaining, 1.0))

    def wait_quietly(self, done: Callable[[], bool], timeout: float) -> bool:
        """Block until ``done()`` (checked as outputs arrive) or the timeout; whether it is done."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.error is not None or self.stopping.is_set():
                    return False
                self.changed.wait(min(remaining, 1.0))
        return True

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


@dataclass
class FaultRun:
    """Two (or more) workers of one group on a 3-broker ``cluster``, under a paced stream."""

    cluster: Cluster
    prefix: str
    tmp: Path
    partitions: int = 4
    workers: list[WorkerProcess] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    faults: list[Fault] = field(default_factory=list)
    stream: Stream | None = None
    observer: Observer | None = None

    @property
    def input_topic(self) -> str:
        return ARTICLES.full_name(self.prefix)

    @property
    def group(self) -> str:
        return f"fp-{self.prefix.strip('.')}"

    def settings(self) -> Settings:
        """The settings the workers run with (topic configs come from them)."""
        return Settings(
            topic_prefix=self.prefix, partitions=self.partitions, replication=3, max_body_chars=MAX_BODY_CHARS
        )

    def create_input_topic(self, leader: int) -> None:
        """Create the input topic as the workers would (the registry's configs, replication 3),
        but with ``leader`` as every partition's preferred leader, so one broker leads them all."""
        others = [n.node_id for n in self.cluster.nodes if n.node_id != leader]
        topic = NewTopic(
            self.input_topic,
            replica_assignments={p: [leader, *others] for p in range(self.partitions)},
            topic_configs=ARTICLES.config(self.settings()),
        )
        with self._admin() as admin:
            admin.create_topics([topic], wait_for_metadata=True)
        self.wait_until(lambda: set(self.input_leaders().values()) == {leader}, 30, f"node {leader} to lead")

    def input_leaders(self) -> dict[int, int]:
        """The leader of each input partition, from the cluster's metadata."""
        return {p: leader for p, (leader, _) in self.input_partitions().items()}

    def input_partitions(self) -> dict[int, tuple[int, list[int]]]:
        """Each input partition's leader and in-sync replicas, from the cluster's metadata."""
        with self._admin() as admin:
            (meta,) = admin.describe_topics([self.input_topic])
        return {p["partition_index"]: (p["leader_id"], sorted(p["isr_nodes"])) for p in meta["partitions"]}

    def topic_config(self, topic: str) -> dict[str, str]:
        """A topic's configuration as the broker reports it."""
        from kafka.admin import ConfigResource, ConfigResourceType

        with self._admin() as admin:
            found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        return {k: str(v["value"]) for k, v in found["topic"][topic].items()}

    # ----------------------------------------------------------------------------------------
    # Workers, stream, outputs

    def start_workers(self, count: int = 2) -> None:
        for n in range(count):
            home = self.tmp / f"worker-{n}"
            home.mkdir(parents=True, exist_ok=True)
            self.workers.append(self._worker(home))
        for worker in self.workers:
            worker.wait_ready()
        self.observer = Observer(self.cluster.bootstrap, self.prefix)
        self.observer.start()

    def _worker(self, home: Path) -> WorkerProcess:
        return start_worker(
            self.cluster,
            self.prefix,
            home,
            FLASHPOINT_PARTITIONS=str(self.partitions),
            FLASHPOINT_REPLICATION="3",
        )

    def start_stream(
        self, inputs: list[Input], *, rate: float, window: int, hold_at: Sequence[int] = ()
    ) -> None:
        """Start sending ``inputs`` (see :class:`Stream`)."""
        self.stream = Stream(
            self.cluster.bootstrap,
            self.input_topic,
            inputs,
            self._observer(),
            rate=rate,
            window=window,
            partitions=self.partitions,
            hold_at=hold_at,
        )
        self.started = time.monotonic()
        self.stream.start()

    def release_stream(self) -> None:
        """Let a held stream send its remaining inputs."""
        assert self.stream is not None
        self.stream.releases.release()

    def wait_outputs(self, count: int, timeout: float) -> None:
        """Until ``count`` inputs have an output."""
        obs = self._observer()
        obs.wait_for(lambda: len(obs.first_seen) >= count, timeout, f"{count} outputs", self.evidence)

    def finish(self, timeout: float) -> dict[tuple[int, int], Input]:
        """Wait until every input sent has its output; return the inputs by (partition, offset)."""
        assert self.stream is not None
        placed = self.stream.placed(timeout)
        ids = {i.item.key.decode() for i in self.stream.sent if i.item.key}
        obs = self._observer()
        obs.wait_for(
            lambda: ids <= obs.first_seen.keys(), timeout, f"all {len(ids)} inputs' outputs", self.evidence
        )
        return placed

    # ----------------------------------------------------------------------------------------
    # Faults

    def kill_broker(self, node_id: int) -> Fault:
        """kill -9 a broker (its data stays for :meth:`restart_broker`)."""
        fault = self._fault(f"kill -9 broker {node_id}")
        assert stop_node(self.cluster, node_id, kill=True)
        return fault

    def restart_broker(self, node_id: int) -> Fault:
        fault = self._fault(f"restart broker {node_id}")
        start_node(self.cluster, node_id, die_with_parent=True)
        return fault

    def kill_worker(self, index: int) -> Fault:
        fault = self._fault(f"kill -9 worker {index}")
        self.workers[index].kill()
        return fault

    def restart_worker(self, index: int) -> Fault:
        """Start the worker again with its data dir, as its supervisor would; wait until ready."""
        fault = self._fault(f"restart worker {index}")
        old = self.workers[index]
        self.workers[index] = self._worker(old.log_path.parent)
        self.workers[index].wait_ready()
        return fault

    def _fault(self, name: str) -> Fault:
        fault = Fault(name, time.monotonic(), len(self.stream.sent) if self.stream else 0)
        self.faults.append(fault)
        self.progress(f"{name} ({fault.sent_before} inputs sent)")
        return fault

    def progress(self, text: str) -> None:
        """A line on stdout, timed from the stream's start (pytest shows it with -s)."""
        print(f"[{time.monotonic() - self.started:6.1f} s] {text}", flush=True)

    def report(self, ended: float) -> list[str]:
        """The run's timings, one line per fault, then the longest silence of the outputs."""
        lines = []
        for fault in self.faults:
            self.recovery(fault)
            lines.append(
                f"{fault.name} at {fault.at - self.started:.1f} s ({fault.sent_before} inputs sent): "
                f"first output of a later input {_seconds(fault.first_output)}, "
                f"every input partition delivering {_seconds(fault.all_partitions)}"
            )
        lines.append(f"longest time without any output: {self.longest_gap(self.started, ended):.1f} s")
        return lines

    def story_worker(self) -> int:
        """The index of the worker that runs the story stage (owns the story topic's partition):
        killing it stops every output until the survivor takes the stage over."""
        story_topic = STORY_INPUTS.full_name(self.prefix)
        for index, worker in enumerate(self.workers):
            if f'topic="{story_topic}"' in worker.get("/metrics")[1]:
                return index
        return 0

    def recovery(self, fault: Fault) -> Fault:
        """Fill in the fault's timings from the outputs seen so far."""
        assert self.stream is not None
        obs = self._observer()
        first_by_partition: dict[int, float] = {}
        for sent in list(self.stream.sent):
            key = sent.item.key.decode() if sent.item.key else ""
            seen = obs.first_seen.get(key)
            if sent.at >= fault.at and seen is not None:
                held = first_by_partition.get(sent.partition)
                first_by_partition[sent.partition] = seen if held is None else min(held, seen)
        if first_by_partition:
            fault.first_output = min(first_by_partition.values()) - fault.at
        if len(first_by_partition) == self.partitions:
            fault.all_partitions = max(first_by_partition.values()) - fault.at
        return fault

    def wait_recovered(self, fault: Fault, timeout: float) -> Fault:
        """Until every input partition has delivered an output of an input sent after ``fault``."""
        obs = self._observer()
        obs.wait_for(
            lambda: self.recovery(fault).all_partitions is not None,
            timeout,
            f"every input partition to deliver after '{fault.name}'",
            self.evidence,
        )
        self.progress(
            f"every input partition delivering again, {fault.all_partitions:.1f} s after {fault.name}"
        )
        return fault

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time without any new output between ``since`` and ``until``."""
        times = [since, *(t for t in self._observer().arrivals if since <= t <= until), until]
        return max(b - a for a, b in itertools.pairwise(times))

    # ----------------------------------------------------------------------------------------
    # Evidence and cleanup

    def evidence(self) -> str:
        """What an operator would look at: per-partition progress, lag, ownership and log tails."""
        lines = []
        try:
            lines.append(f"input partitions (leader, isr): {self.input_partitions()}")
            lines.append(f"group {self.group} committed vs end: {self.group_progress()}")
        except Exception as exc:  # evidence is best effort
            lines.append(f"(cluster metadata unavailable: {exc!r})")
        if self.stream is not None:
            obs = self._observer()
            pending = collections.Counter(
                s.partition
                for s in self.stream.sent
                if s.item.key and s.item.key.decode() not in obs.first_seen
            )
            lines.append(f"inputs without output, by partition: {dict(pending)}")
        for index, worker in enumerate(self.workers):
            alive = worker.process is not None and worker.process.poll() is None
            lag = [line for line in worker.get("/metrics")[1].splitlines() if "consumer_lag{" in line]
            lines.append(f"worker {index} ({'alive' if alive else 'dead'}) lag: {lag}")
            lines.append(f"worker {index} log tail:\n{worker.log_tail(25)}")
        return "\n".join(lines)

    def group_progress(self) -> dict[int, tuple[int, int]]:
        """Per input partition: the group's committed offset and the partition's end offset."""
        with self._admin() as admin:
            offsets = admin.list_group_offsets(self.group)[self.group]
        consumer = KafkaConsumer(bootstrap_servers=self.cluster.bootstrap.split(","))
        try:
            tps = [TopicPartition(self.input_topic, p) for p in range(self.partitions)]
            ends = consumer.end_offsets(tps)
        finally:
            consumer.close()
        return {tp.partition: (offsets[tp].offset if tp in offsets else -1, ends[tp]) for tp in sorted(tps)}

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll the cluster's metadata (no event to wait on) until ``check()``."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.5)

    def close(self) -> None:
        if self.observer is not None:
            self.observer.stop()
        for worker in self.workers:
            worker.stop_quietly()

    def _observer(self) -> Observer:
        assert self.observer is not None, "start_workers() first"
        return self.observer

    def _admin(self) -> Any:
        return _Admin(self.cluster.bootstrap)


class _Admin:
    """A kafka-python admin client as a context manager."""

    def __init__(self, bootstrap: str) -> None:
        self.client = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), request_timeout_ms=10_000)

    def __enter__(self) -> KafkaAdminClient:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


#: Repeats may differ in a score's last bits (the same arithmetic in another batch); no more.
SCORE_TOLERANCE = 1e-9


def identical_repeats(
    outputs: list[Any], key: Callable[[Any], object], ignore: set[str]
) -> dict[object, int]:
    """Group ``outputs`` by ``key``; assert every repeat equals the first but for the ``ignore``d
    fields and floating-point rounding (:data:`SCORE_TOLERANCE`); return how many times each
    repeated key appeared."""
    first: dict[object, dict[str, Any]] = {}
    counts: collections.Counter[object] = collections.Counter()
    differences = []
    for event in outputs:
        k = key(event)
        counts[k] += 1
        body = json.loads(event.model_dump_json(exclude=ignore))
        held = first.setdefault(k, body)
        if not _same(held, body):
            fields = sorted(f for f in held.keys() | body.keys() if not _same(held.get(f), body.get(f)))
            differences.append(f"{k}: " + "; ".join(f"{f}: {held.get(f)} != {body.get(f)}" for f in fields))
    assert not differences, f"{len(differences)} repeats differ:\n" + "\n".join(differences[:10])
    return {k: n for k, n in counts.items() if n > 1}


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values, floats within :data:`SCORE_TOLERANCE`."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= SCORE_TOLERANCE
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
