"""Replay stories-dev.jsonl through a real worker on a private local Kafka and score its stories.

    python bench/stories_stream_eval.py [--data PATH] [--partitions 1]

Each line of the dataset becomes an Article (id, title, body, source, url, published_at = the
line's date at 12:00 UTC), converted on the fly and never written into the repository. The
articles are sent in file order (date order) to the input topic; with one input partition (the
default) the story stage meets them in that order, as ``flashpoint cluster`` does. The story ids
are read back from ``news.classified.v1``. The same lines go through ``flashpoint cluster`` (in a
temporary file) and both are scored side by side: pairwise and B-cubed precision/recall/F1, the
number of predicted vs true stories, and how many articles the two runs group differently.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stories_eval import DEFAULT_DATA, bcubed, pairwise  # noqa: E402

from streams.localkafka import free_port_block, start_cluster, stop_cluster  # noqa: E402
from streams.topics import ARTICLES, CLASSIFIED, DEAD_LETTERS  # noqa: E402
from streams.worker.process import WorkerProcess  # noqa: E402


def article_line(row: dict[str, Any]) -> bytes:
    """One dataset row as Article JSON."""
    article = {
        "id": row["id"],
        "title": row["title"],
        "body": row["body"],
        "source": row["source"],
        "url": row["url"],
        "published_at": f"{row['published']}T12:00:00Z",
    }
    return json.dumps(article).encode("utf-8")


def through_cluster_command(lines: list[bytes], work: Path) -> dict[str, str]:
    """Story id per article id from ``flashpoint cluster`` on the same lines."""
    source, target = work / "articles.jsonl", work / "clustered.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    subprocess.run(
        [sys.executable, "-m", "streams", "cluster", str(source), "-o", str(target)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    placed = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    errors = [p for p in placed if "error" in p]
    if errors:
        raise RuntimeError(f"flashpoint cluster rejected {len(errors)} lines: {errors[:2]}")
    return {p["article_id"]: p["story_id"] for p in placed}


def through_worker(
    lines: list[bytes], ids: list[str], work: Path, partitions: int, timeout: float
) -> dict[str, str]:
    """Story id per article id, read back from the classified topic of a real worker."""
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    prefix = "stories."
    worker = WorkerProcess(
        {
            "FLASHPOINT_BROKER": cluster.broker_url,
            "FLASHPOINT_TOPIC_PREFIX": prefix,
            "FLASHPOINT_PARTITIONS": str(partitions),
            "FLASHPOINT_DATA_DIR": str(work / "faust"),
        },
        free_port_block(1),
        work / "worker.log",
        loglevel="warn",
    )
    consumer = KafkaConsumer(
        CLASSIFIED.full_name(prefix),
        DEAD_LETTERS.full_name(prefix),
        bootstrap_servers=[cluster.bootstrap],
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    story_of: dict[str, str] = {}
    try:
        worker.start().wait_ready(timeout=300)
        producer = KafkaProducer(bootstrap_servers=[cluster.bootstrap], acks="all")
        started = time.monotonic()
        for aid, line in zip(ids, lines, strict=True):
            producer.send(ARTICLES.full_name(prefix), key=aid.encode(), value=line)
        producer.flush()
        producer.close()
        deadline = time.monotonic() + timeout
        while len(story_of) < len(ids) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    if record.topic == DEAD_LETTERS.full_name(prefix):
                        raise RuntimeError(f"dead letter: {DEAD_LETTERS.decode(record.value).error_message}")
                    event = CLASSIFIED.decode(record.value)
                    story_of.setdefault(event.article_id, event.story_id or "")
        print(
            f"worker: {len(story_of)} of {len(ids)} articles classified and placed in "
            f"{time.monotonic() - started:.0f} s ({partitions} input partition(s))",
            file=sys.stderr,
        )
    finally:
        consumer.close()
        code = worker.terminate()
        stop_cluster(cluster)
    if len(story_of) < len(ids) or code != 0:
        raise RuntimeError(f"{len(story_of)} of {len(ids)} came out; worker exit code {code}")
    return story_of


def show(name: str, gold: list[str], pred: list[str]) -> None:
    """One line of figures."""
    p, b = pairwise(gold, pred), bcubed(gold, pred)
    print(
        f"{name:<20} pairwise P/R/F1 {p[0]:.3f}/{p[1]:.3f}/{p[2]:.3f}  "
        f"B3 P/R/F1 {b[0]:.3f}/{b[1]:.3f}/{b[2]:.3f}  stories {len(set(pred))}/{len(set(gold))}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--partitions", type=int, default=1, help="partitions of the input topic")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [r["id"] for r in rows]
    lines = [article_line(r) for r in rows]
    gold = [r["story"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="flashpoint-stories-") as tmp:
        work = Path(tmp)
        command = through_cluster_command(lines, work)
        stream = through_worker(lines, ids, work, args.partitions, args.timeout)
    print(f"{len(rows)} articles, {len(set(gold))} true stories, replayed in file order")
    show("flashpoint cluster", gold, [command[a] for a in ids])
    show("worker (Kafka)", gold, [stream[a] for a in ids])
    # Group agreement: an article is grouped alike when its story holds the same articles in both.
    members_c: dict[str, set[str]] = {}
    members_s: dict[str, set[str]] = {}
    for a in ids:
        members_c.setdefault(command[a], set()).add(a)
        members_s.setdefault(stream[a], set()).add(a)
    differ = [a for a in ids if members_c[command[a]] != members_s[stream[a]]]
    print(f"articles grouped differently by the two: {len(differ)}" + (f" ({differ[:10]})" if differ else ""))


if __name__ == "__main__":
    main()
