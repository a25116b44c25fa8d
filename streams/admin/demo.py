"""The whole path on an embedded local Kafka, then a clean shutdown (``flashpoint demo``).

:func:`run_demo` starts a private single-node broker and a worker, replays the bundled sample
articles one publication day at a time (so the story stage meets a story's articles in the order
they were written, whatever input partition each lands on), reports every alert message (its
story, version and what changed, with evidence) and dead letter as it arrives, and stops
everything it started. It reports through a ``say`` callable, so it needs no terminal.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas import Alert, DeadLetter
from streams.admin.produce import send_lines
from streams.admin.tail import describe
from streams.config import Settings
from streams.kafka_clients import client_options
from streams.topics import ALERTS, ARTICLES, CLASSIFIED, DEAD_LETTERS
from streams.worker.process import WorkerError, WorkerProcess

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "articles.jsonl"

Say = Callable[[str], None]
Line = tuple[int, bytes]


class DemoError(RuntimeError):
    """The demo did not see every article come through."""


@dataclass
class Tally:
    """What came out of the worker for the articles sent."""

    expected: int = 0
    accounted: int = 0
    escalations: int = 0
    dead: int = 0
    #: Alert messages by lifecycle status (created, updated, retracted).
    alerts: Counter[str] = field(default_factory=Counter)
    alerted_stories: set[str] = field(default_factory=set)
    #: Every story's articles as (article id, the article it copies, publisher family).
    members: dict[str, list[tuple[str, str | None, str | None]]] = field(default_factory=dict)

    def story_lines(self) -> list[str]:
        """One line per story of several articles: who reported it, which articles were copies."""
        lines = []
        for story, articles in self.members.items():
            if len(articles) < 2:
                continue
            copies = [aid for aid, original, _ in articles if original]
            families = {family for _, _, family in articles}
            line = f"  {story}: {len(articles)} articles from {len(families)} independent publishers"
            if copies:
                line += f"; copies carrying their original's classification: {', '.join(copies)}"
            lines.append(line)
        return lines

    def summary(self) -> str:
        """The demo's closing line."""
        calm = self.accounted - self.escalations - self.dead
        by_status = ", ".join(f"{self.alerts[s]} {s}" for s in ("created", "updated", "retracted"))
        return (
            f"▶ {self.accounted} of {self.expected} articles accounted for: "
            f"{sum(self.alerts.values())} alert messages for {len(self.alerted_stories)} stories "
            f"({by_status}), {calm} articles without escalation, {self.dead} dead-lettered"
        )


def publication_days(lines: list[Line]) -> Iterator[tuple[str, list[Line]]]:
    """Consecutive lines grouped by the day of their ``published_at`` (``"undated"`` without one)."""

    def day(line: Line) -> str:
        try:
            record: Any = json.loads(line[1])
            return str(record["published_at"])[:10]
        except (ValueError, KeyError, TypeError):
            return "undated"

    for key, group in itertools.groupby(lines, key=day):
        yield key, list(group)


def run_demo(base: Settings, articles: Path, timeout: float, say: Say) -> Tally:
    """Run broker, worker and samples end to end; raises :class:`DemoError` if any went missing."""
    from streams.localkafka import free_port_block, start_cluster, stop_cluster

    work = Path(tempfile.mkdtemp(prefix="flashpoint-demo-"))
    say("▶ starting a local Apache Kafka (KRaft) …")
    started = time.monotonic()
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    say(f"  broker ready at {cluster.bootstrap} in {time.monotonic() - started:.1f} s")
    web_port = free_port_block(1)
    prefix = f"demo{int(time.time())}."
    settings = base.model_copy(
        update={"broker": cluster.broker_url, "topic_prefix": prefix, "web_port": web_port}
    )
    env = {
        "FLASHPOINT_BROKER": cluster.broker_url,
        "FLASHPOINT_TOPIC_PREFIX": prefix,
        "FLASHPOINT_DATA_DIR": str(work / "faust"),
    }
    worker = WorkerProcess(env, web_port, work / "worker.log", loglevel="warn")
    tally = Tally()
    try:
        say("▶ starting a worker and loading the classifier …")
        worker.start().wait_ready(timeout=180)
        say(f"  worker ready (log: {worker.log_path})")
        lines = [(n, line.rstrip(b"\n")) for n, line in enumerate(articles.read_bytes().splitlines(True), 1)]
        say(f"▶ replaying {len(lines)} sample articles to {ARTICLES.full_name(prefix)}, one day at a time\n")
        deadline = time.monotonic() + timeout
        with OutputReader(settings, tally, say) as reader:
            for day, batch in publication_days(lines):
                say(f"── {day}: {len(batch)} article(s)")
                tally.expected += send_lines(settings, batch, raw=True).sent
                reader.read_until_accounted(deadline)
                if tally.accounted < tally.expected:
                    break
        if tally.story_lines():
            say("▶ stories of more than one article:")
            for line in tally.story_lines():
                say(line)
        say(tally.summary())
    finally:
        say("\n▶ shutting down …")
        try:
            say(f"  worker exited with code {worker.terminate()}")
        except WorkerError as exc:
            say(f"  {exc}")
        finally:
            worker.stop_quietly()
            stop_cluster(cluster)
        say("  broker stopped")
    if tally.accounted < len(lines):
        raise DemoError(f"only {tally.accounted} of {len(lines)} articles came through in {timeout:.0f} s")
    return tally


class OutputReader:
    """Reads the output topics from their start, describing alerts and dead letters as they come."""

    def __init__(self, settings: Settings, tally: Tally, say: Say) -> None:
        from kafka import KafkaConsumer

        self.specs = {
            spec.full_name(settings.topic_prefix): spec for spec in (CLASSIFIED, ALERTS, DEAD_LETTERS)
        }
        self.consumer = KafkaConsumer(
            *self.specs,
            bootstrap_servers=settings.broker_servers().split(","),
            auto_offset_reset="earliest",
            **client_options(settings.kafka),
        )
        self.tally = tally
        self.say = say

    def __enter__(self) -> OutputReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.consumer.close()

    def read_until_accounted(self, deadline: float) -> None:
        """Poll until every article sent so far is classified or dead-lettered, the first alert
        of every escalating story read so far has come in and a poll finds nothing more, or the
        deadline passes."""
        tally = self.tally
        waiting_for_alerts: set[str] = set()
        while time.monotonic() < deadline:
            polled = self.consumer.poll(timeout_ms=500)
            done = tally.accounted >= tally.expected and not waiting_for_alerts
            # Once done, one more poll that finds nothing: an update is published in the same
            # batch as its article, so it is on the broker by then.
            if done and not polled:
                return
            for records in polled.values():
                for record in records:
                    event = self.specs[record.topic].decode(record.value)
                    if isinstance(event, Alert):
                        tally.alerts[event.status] += 1
                        tally.alerted_stories.add(event.story_id)
                        waiting_for_alerts.discard(event.story_id)
                        self.say(describe(event) + "\n")
                    elif isinstance(event, DeadLetter):
                        tally.accounted += 1
                        tally.dead += 1
                        self.say("[DEAD LETTER] " + describe(event) + "\n")
                    else:
                        tally.accounted += 1
                        tally.escalations += event.escalation
                        member = (event.article_id, event.duplicate_of, event.publisher_family)
                        tally.members.setdefault(event.story_id or event.article_id, []).append(member)
                        if (
                            event.escalation
                            and event.story_id
                            and event.story_id not in tally.alerted_stories
                        ):
                            waiting_for_alerts.add(event.story_id)
