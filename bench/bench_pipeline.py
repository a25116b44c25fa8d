"""End-to-end benchmark through a real broker, side by side with the bare classifier.

    python bench/bench_pipeline.py [--articles N] [--load-seconds S] [--rounds R]

In one run, on the same ~500-word articles (bench/data, written for Flashpoint):

1. bare classifier: ``classify_articles`` in-process in batches of the worker's batch size;
2. saturation: a worker on a private local Kafka, N articles produced at once; articles/s from
   the first send until the last classified article is on the broker;
3. fixed load at half the measured saturation rate for S seconds: latency from each input
   record's timestamp to its classified record's (and, for escalations, its alert's) timestamp.

Bare and saturation rounds alternate (R rounds each) and medians are reported, because the
machine is shared and noisy. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schemas import Article  # noqa: E402
from streams.config import Settings  # noqa: E402
from streams.localkafka import free_port_block, start_cluster, stop_cluster  # noqa: E402
from streams.pipeline.classify import classify_articles  # noqa: E402
from streams.pipeline.decode import utc_now  # noqa: E402
from streams.topics import ALERTS, ARTICLES, CLASSIFIED  # noqa: E402
from streams.worker.app import default_classifier_loader  # noqa: E402
from streams.worker.process import WorkerProcess  # noqa: E402

BATCH = Settings().batch_max  # the worker's default batch size


def load_texts() -> list[dict[str, str]]:
    """The benchmark articles: bench/data/articles.jsonl (id, title, body)."""
    path = ROOT / "bench" / "data" / "articles.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bare_rate(classifier: object, articles: list[Article]) -> float:
    """Articles/s of the in-process pipeline function the worker calls, same batch size."""
    started = time.perf_counter()
    for i in range(0, len(articles), BATCH):
        batch = articles[i : i + BATCH]
        classify_articles(classifier, batch, [utc_now()] * len(batch))  # type: ignore[arg-type]
    return len(articles) / (time.perf_counter() - started)


def payloads(texts: list[dict[str, str]], n: int, tag: str) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        t = texts[i % len(texts)]
        aid = f"{tag}-{i}"
        out.append((aid.encode(), json.dumps({"id": aid, "title": t["title"], "body": t["body"]}).encode()))
    return out


class Reader:
    """Reads classified and alert records of one prefix, keeping their broker timestamps."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.classified_topic = CLASSIFIED.full_name(prefix)
        self.alerts_topic = ALERTS.full_name(prefix)
        self.consumer = KafkaConsumer(
            self.classified_topic,
            self.alerts_topic,
            bootstrap_servers=[bootstrap],
            auto_offset_reset="earliest",
            group_id=None,
            enable_auto_commit=False,
        )
        self.classified: dict[str, int] = {}  # article id -> record timestamp (ms)
        self.alerts: dict[str, int] = {}

    def read_until(self, want: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not want <= self.classified.keys() and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200).values():
                for r in records:
                    aid = r.key.decode()
                    target = self.classified if r.topic == self.classified_topic else self.alerts
                    target.setdefault(aid, r.timestamp)
        missing = want - self.classified.keys()
        if missing:
            raise RuntimeError(f"{len(missing)} articles never came out")


def run(args: argparse.Namespace) -> None:
    texts = load_texts()
    words = statistics.median(len(t["body"].split()) for t in texts)
    work = Path(tempfile.mkdtemp(prefix="flashpoint-bench-"))
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    base = Settings(broker=cluster.broker_url)
    classifier = default_classifier_loader(base.classifier)
    articles = [ARTICLES.decode(v) for _, v in payloads(texts, args.articles, "bare")]
    bare_rate(classifier, articles[:BATCH])  # warm-up
    prefix = "bench."
    worker = WorkerProcess(
        {
            "FLASHPOINT_BROKER": cluster.broker_url,
            "FLASHPOINT_TOPIC_PREFIX": prefix,
            "FLASHPOINT_PARTITIONS": "2",
            "FLASHPOINT_DATA_DIR": str(work / "faust"),
            "FLASHPOINT_BATCH_MAX": str(BATCH),
        },
        free_port_block(1),
        work / "worker.log",
        loglevel="warn",
    ).start()
    producer = KafkaProducer(bootstrap_servers=[cluster.bootstrap], acks="all", linger_ms=5)
    reader = Reader(cluster.bootstrap, prefix)
    bare, e2e = [], []
    try:
        worker.wait_ready()
        # warm the worker too
        warm = payloads(texts, BATCH, "warm")
        for k, v in warm:
            producer.send(ARTICLES.full_name(prefix), key=k, value=v)
        producer.flush()
        reader.read_until({k.decode() for k, _ in warm}, timeout=300)
        for r in range(args.rounds):
            bare.append(bare_rate(classifier, articles))
            batch = payloads(texts, args.articles, f"sat{r}")
            started = time.time()
            for k, v in batch:
                producer.send(ARTICLES.full_name(prefix), key=k, value=v)
            producer.flush()
            reader.read_until({k.decode() for k, _ in batch}, timeout=600)
            last = max(reader.classified[k.decode()] for k, _ in batch) / 1000
            e2e.append(len(batch) / (last - started))
            print(f"round {r + 1}: bare {bare[-1]:.1f}/s, end-to-end {e2e[-1]:.1f}/s", file=sys.stderr)
        saturation = statistics.median(e2e)
        rate = saturation / 2
        n = int(rate * args.load_seconds)
        load = payloads(texts, n, "load")
        sent_at: dict[str, int] = {}
        t0 = time.monotonic()
        for i, (k, v) in enumerate(load):
            target = t0 + i / rate
            while (now := time.monotonic()) < target:
                time.sleep(min(target - now, 0.01))  # pacing the offered load, not waiting on an event
            meta = producer.send(ARTICLES.full_name(prefix), key=k, value=v)
            sent_at[k.decode()] = meta.get(timeout=30).timestamp
        reader.read_until(set(sent_at), timeout=600)
        lat = sorted((reader.classified[a] - sent_at[a]) / 1000 for a in sent_at)
        alert_lat = sorted((reader.alerts[a] - sent_at[a]) / 1000 for a in sent_at if a in reader.alerts)
    finally:
        producer.close()
        reader.consumer.close()
        code = worker.terminate()
        stop_cluster(cluster)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(
        f"\nArticles: {len(texts)} distinct, median {words:.0f} words; {args.articles} per round, "
        f"{args.rounds} rounds; worker exit code {code}\n"
    )
    print("| measure | value |\n| --- | --- |")
    print(f"| bare classifier (in-process, batches of {BATCH}) | {statistics.median(bare):.1f} articles/s |")
    print(f"| end to end through Kafka at saturation | {saturation:.1f} articles/s |")
    print(
        f"| ratio end-to-end / bare (median of per-round ratios) | "
        f"{statistics.median(e / b for e, b in zip(e2e, bare, strict=True)):.2f} |"
    )
    print(
        f"| offered load (half of saturation) | {rate:.1f} articles/s for {args.load_seconds:.0f} s ({n} articles) |"
    )
    print(
        f"| article → classified latency p50 / p95 / p99 | {pct(lat, 0.5):.2f} / {pct(lat, 0.95):.2f} / {pct(lat, 0.99):.2f} s |"
    )
    if alert_lat:
        print(
            f"| article → alert latency p50 / p95 / p99 ({len(alert_lat)} alerts) | "
            f"{pct(alert_lat, 0.5):.2f} / {pct(alert_lat, 0.95):.2f} / {pct(alert_lat, 0.99):.2f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=320, help="articles per saturation round")
    parser.add_argument("--load-seconds", type=float, default=30.0, help="duration of the fixed-load phase")
    parser.add_argument("--rounds", type=int, default=3)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
