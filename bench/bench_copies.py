"""Syndicated copies end to end, and the story stage's ceiling, through a real broker.

    python bench/bench_copies.py [--articles 200] [--rounds 3] [--ceiling 1000]

In one run, on one private local Kafka and one worker (the default batches, 2 input partitions):

1. *with copies*: N articles of which 30 % are syndicated copies (an earlier article of the
   stream with a dateline and a credit line added, on another site) vs *without copies*: N
   distinct articles of the same length. Rounds alternate; each round has fresh texts (sentences of
   bench/data/articles.jsonl recombined, so no article copies another unless meant to). Reported:
   articles/s from the first send until the last classified article is on the broker (medians),
   and the model passes of each round from the worker's ``/metrics``.
2. *story stage ceiling*: StoryInputs made in-process (decode and a keyword classifier, so no
   model time) are produced straight onto the one-partition ``news.stories.input.v1``; articles/s
   from the first send until the last classified article is on the broker. This is the rate at
   which the one worker that owns the story partition places articles, publishes and writes its
   tables: the limit of scaling out the classify stage.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.localkafka import free_port_block, start_cluster, stop_cluster  # noqa: E402
from streams.pipeline.copies import CopyCache  # noqa: E402
from streams.pipeline.decode import Source  # noqa: E402
from streams.pipeline.route import Message, route_to_stories  # noqa: E402
from streams.topics import ARTICLES, CLASSIFIED, STORY_INPUTS  # noqa: E402
from streams.worker.process import WorkerProcess  # noqa: E402
from tests.support.fakes import KeywordClassifier  # noqa: E402

COPY_SHARE = 0.30


def sentence_pool() -> tuple[list[str], list[str], int]:
    """Sentences and titles of the benchmark articles, and their median length in sentences."""
    path = ROOT / "bench" / "data" / "articles.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    per_article = [re.split(r"(?<=[.!?])\s+", r["body"].strip()) for r in rows]
    pool = [s for sentences in per_article for s in sentences if len(s.split()) >= 4]
    return pool, [r["title"] for r in rows], int(statistics.median(len(s) for s in per_article))


class Texts:
    """Fresh articles recombined from the pool's sentences.

    The pool's articles share many sentences, so every third word of a drawn sentence is replaced
    by a word drawn from the pool's vocabulary: no two generated articles share word shingles
    (the syndication check reads runs of three words), and the text keeps English words, so the
    classifier's cost per article stays that of the pool's.
    """

    def __init__(self, seed: int) -> None:
        self.pool, self.titles, self.length = sentence_pool()
        self.vocabulary = sorted({w for s in self.pool for w in s.split()})
        self.rng = random.Random(seed)

    def _fresh(self, sentence: str) -> str:
        words = sentence.split()
        return " ".join(self.rng.choice(self.vocabulary) if i % 3 == 2 else w for i, w in enumerate(words))

    def article(self, aid: str) -> dict[str, str]:
        body = " ".join(self._fresh(s) for s in self.rng.sample(self.pool, self.length))
        title = f"{self.rng.choice(self.titles)} ({aid})"
        return {"id": aid, "title": title, "body": body, "url": f"https://site-{aid}.example/news/{aid}"}

    def copy(self, original: dict[str, str], aid: str) -> dict[str, str]:
        body = f"LONDON (Bench Wire) - {original['body']} Reporting by the desk of {aid}."
        return {
            "id": aid,
            "title": original["title"],
            "body": body,
            "url": f"https://site-{aid}.example/wire/{aid}",
        }


def stream(texts: Texts, n: int, tag: str, with_copies: bool) -> list[dict[str, str]]:
    """N articles; with copies, 30 % of them copy an article earlier in the stream."""
    copies = int(n * COPY_SHARE) if with_copies else 0
    out = [texts.article(f"{tag}-{i}") for i in range(n - copies)]
    for j in range(copies):
        at = texts.rng.randrange(1, len(out) + 1)
        original = texts.rng.choice([a for a in out[:at] if "wire" not in a["url"]])
        out.insert(at, texts.copy(original, f"{tag}-c{j}"))
    return out


def counter(worker: WorkerProcess, name: str) -> float:
    status, text = worker.get("/metrics")
    assert status == 200, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and not sample.labels:
                return float(sample.value)
    return 0.0


class Reader:
    """Broker timestamps of the classified records of one prefix."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.consumer = KafkaConsumer(
            CLASSIFIED.full_name(prefix),
            bootstrap_servers=[bootstrap],
            auto_offset_reset="earliest",
            group_id=None,
            enable_auto_commit=False,
        )
        self.seen: dict[str, int] = {}

    def last_of(self, ids: set[str], timeout: float) -> float:
        """Wait for every id; the newest of their record timestamps, in seconds."""
        deadline = time.monotonic() + timeout
        while not ids <= self.seen.keys() and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200).values():
                for r in records:
                    self.seen.setdefault(r.key.decode(), r.timestamp)
        missing = ids - self.seen.keys()
        if missing:
            raise RuntimeError(f"{len(missing)} articles never came out")
        return max(self.seen[i] for i in ids) / 1000


def story_inputs(n: int, tag: str, seed: int) -> list[tuple[bytes, bytes]]:
    """N StoryInputs (key, value) of distinct articles, classified by the keyword fake."""
    texts = Texts(seed)
    received = datetime.now(UTC)
    messages = [
        Message(json.dumps(texts.article(f"{tag}-{i}")).encode(), Source("bench", 0, i, None))
        for i in range(n)
    ]
    stage = route_to_stories(
        KeywordClassifier(),  # type: ignore[arg-type]
        messages,
        received_at=received,
        max_body_chars=20_000,
        app_version="bench",
        copies=CopyCache(capacity=0),
    )
    out = []
    for outputs in stage.routed:
        for output in outputs:
            assert output.topic is STORY_INPUTS, output
            out.append((output.key or b"", output.encode()))
    return out


def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="flashpoint-bench-copies-"))
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    prefix = "bench."
    worker = WorkerProcess(
        {
            "FLASHPOINT_BROKER": cluster.broker_url,
            "FLASHPOINT_TOPIC_PREFIX": prefix,
            "FLASHPOINT_PARTITIONS": "2",
            "FLASHPOINT_DATA_DIR": str(work / "faust"),
        },
        free_port_block(1),
        work / "worker.log",
        loglevel="warn",
    ).start()
    producer = KafkaProducer(bootstrap_servers=[cluster.bootstrap], acks="all", linger_ms=5)
    reader = Reader(cluster.bootstrap, prefix)
    rates: dict[str, list[float]] = {"with": [], "without": []}
    passes: dict[str, list[float]] = {"with": [], "without": []}
    texts = Texts(seed=args.seed)

    def send(articles: list[tuple[bytes, bytes]], topic: str) -> float:
        started = time.time()
        for key, value in articles:
            producer.send(topic, key=key, value=value)
        producer.flush()
        last = reader.last_of({k.decode() for k, _ in articles}, timeout=900)
        return len(articles) / (last - started)

    try:
        worker.wait_ready(timeout=300)
        warm = stream(texts, 16, "warm", with_copies=False)
        send([(a["id"].encode(), json.dumps(a).encode()) for a in warm], ARTICLES.full_name(prefix))
        for r in range(args.rounds):
            for kind in ("with", "without") if r % 2 == 0 else ("without", "with"):
                articles = stream(texts, args.articles, f"{kind}{r}", with_copies=kind == "with")
                before = counter(worker, "flashpoint_classifier_articles_total")
                rate = send(
                    [(a["id"].encode(), json.dumps(a).encode()) for a in articles], ARTICLES.full_name(prefix)
                )
                # The counter moves with the broker's ack, a moment after the reader may see it.
                deadline = time.monotonic() + 30
                while True:
                    done = counter(worker, "flashpoint_classifier_articles_total") - before
                    reused = counter(worker, "flashpoint_copies_reused_total")
                    if done + (reused if kind == "with" else 0) >= len(articles) * (1 - COPY_SHARE) or (
                        time.monotonic() > deadline
                    ):
                        break
                    time.sleep(0.2)  # polling the worker's HTTP endpoint
                rates[kind].append(rate)
                passes[kind].append(done)
                print(
                    f"round {r + 1} {kind} copies: {rate:.1f} articles/s, {done:.0f} model passes",
                    file=sys.stderr,
                )
        ceiling = []
        for r in range(args.rounds):
            items = story_inputs(args.ceiling, f"ceil{r}", seed=1000 + r)
            ceiling.append(send(items, STORY_INPUTS.full_name(prefix)))
            print(f"round {r + 1} story stage alone: {ceiling[-1]:.0f} articles/s", file=sys.stderr)
        reused_total = counter(worker, "flashpoint_copies_reused_total")
        story_copies = counter(worker, "flashpoint_story_copies_total")
    finally:
        producer.close()
        reader.consumer.close()
        code = worker.terminate()
        stop_cluster(cluster)
    with_rate, without_rate = statistics.median(rates["with"]), statistics.median(rates["without"])
    print(
        f"\n{args.articles} articles per round ({int(args.articles * COPY_SHARE)} copies in the stream with "
        f"copies), {args.rounds} rounds each, alternating; {args.ceiling} story inputs per ceiling round; "
        f"worker exit code {code}\n"
    )
    print("| measure | value |\n| --- | --- |")
    print(
        f"| end to end, 30 % copies | {with_rate:.1f} articles/s "
        f"({statistics.median(passes['with']):.0f} model passes per {args.articles} articles) |"
    )
    print(
        f"| end to end, no copies | {without_rate:.1f} articles/s "
        f"({statistics.median(passes['without']):.0f} model passes per {args.articles} articles) |"
    )
    print(f"| ratio with / without copies | {with_rate / without_rate:.2f} |")
    print(
        f"| copies reused by the classify stage / found by the story stage (whole run) | {reused_total:.0f} / {story_copies:.0f} |"
    )
    print(
        f"| story stage alone (one partition, through Kafka) | {statistics.median(ceiling):.0f} articles/s "
        f"(rounds: {', '.join(f'{c:.0f}' for c in ceiling)}) |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=200, help="articles per end-to-end round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ceiling", type=int, default=1000, help="story inputs per ceiling round")
    ap.add_argument("--seed", type=int, default=0)
    run(ap.parse_args())


if __name__ == "__main__":
    main()
