"""Replay stories-dev.jsonl through a real worker on a private local Kafka and score its stories.

    python bench/stories_stream_eval.py [--data PATH] [--partitions 1]

Each line of the dataset becomes an Article (id, title, body, source, url, published_at = the
line's date at 12:00 UTC), converted on the fly and never written into the repository. The
articles are sent in file order (date order) to the input topic; with one input partition (the
default) the story stage meets them in that order, as ``flashpoint cluster`` does. The story ids
are read back from ``news.classified.v1``. The same lines go through ``flashpoint cluster`` (in a
temporary file) and both are scored side by side: pairwise and B-cubed precision/recall/F1, the
number of predicted vs true stories, and how many articles the two runs group differently.

The worker's own story-stage time (``flashpoint_story_batch_seconds``: placing, lifecycle and
the table writes, before the publish) is read from its /metrics and printed per article. With
``--baseline COMMIT`` the worker also runs that commit's code (exported with ``git archive``),
alternating with the working tree's for ``--rounds`` rounds, on a fresh broker each time, and
the medians and their ratio are printed.

    python bench/stories_stream_eval.py [--baseline COMMIT --rounds 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class WorkerRun:
    """What one worker run gave: story ids, wall time and its story stage's own time."""

    story_of: dict[str, str]
    seconds: float
    story_seconds: float
    placed: int


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def through_worker(
    lines: list[bytes],
    ids: list[str],
    work: Path,
    partitions: int,
    timeout: float,
    *,
    code: Path | None = None,
) -> WorkerRun:
    """Story id per article id, read back from the classified topic of a real worker running the
    code in ``code`` (default: this checkout)."""
    cluster = start_cluster(port=free_port_block(2), state_dir=work / "kafka", die_with_parent=True)
    prefix = "stories."
    port = free_port_block(1)
    command = None
    if code is not None:
        boot = f"import runpy, sys; sys.path.insert(0, {str(code)!r}); runpy.run_module('streams', run_name='__main__')"
        command = [sys.executable, "-c", boot, "worker", "--loglevel", "warn", "--web-port", str(port)]
    worker = WorkerProcess(
        {
            "FLASHPOINT_BROKER": cluster.broker_url,
            "FLASHPOINT_TOPIC_PREFIX": prefix,
            "FLASHPOINT_PARTITIONS": str(partitions),
            "FLASHPOINT_DATA_DIR": str(work / "faust"),
        },
        port,
        work / "worker.log",
        loglevel="warn",
        command=command,
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
        seconds = time.monotonic() - started
        print(
            f"worker: {len(story_of)} of {len(ids)} articles classified and placed in "
            f"{seconds:.0f} s ({partitions} input partition(s))",
            file=sys.stderr,
        )
        _, metrics = worker.get("/metrics")
        story_seconds = _metric(metrics, "flashpoint_story_batch_seconds_sum")
        placed = int(_metric(metrics, "flashpoint_story_articles_total"))
    finally:
        consumer.close()
        code = worker.terminate()
        stop_cluster(cluster)
    if len(story_of) < len(ids) or code != 0:
        raise RuntimeError(f"{len(story_of)} of {len(ids)} came out; worker exit code {code}")
    return WorkerRun(story_of, seconds, story_seconds, placed)


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
    ap.add_argument("--baseline", help="a commit whose worker to run too, round by round")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [r["id"] for r in rows]
    lines = [article_line(r) for r in rows]
    gold = [r["story"] for r in rows]
    runs: dict[str, list[WorkerRun]] = {}
    with tempfile.TemporaryDirectory(prefix="flashpoint-stories-") as tmp:
        work = Path(tmp)
        command = through_cluster_command(lines, work)
        codes: list[tuple[str, Path | None]] = [("working tree", ROOT)]
        if args.baseline:
            exported = work / "baseline"
            exported.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.baseline, "streams", "schemas"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(exported)], input=archive, check=True)
            codes.insert(0, (args.baseline, exported))
        for r in range(args.rounds if args.baseline else 1):
            for name, code in codes:
                run_dir = work / f"run-{r}-{len(runs.get(name, []))}-{name.replace(' ', '-')}"
                run_dir.mkdir()
                run = through_worker(lines, ids, run_dir, args.partitions, args.timeout, code=code)
                runs.setdefault(name, []).append(run)
                print(
                    f"round {r + 1} {name:>12}: {run.seconds:.0f} s for {len(ids)} articles; story stage "
                    f"{run.story_seconds:.2f} s for {run.placed} placed, "
                    f"{1000 * run.story_seconds / max(1, run.placed):.1f} ms/article",
                    flush=True,
                )
    stream = runs["working tree"][-1].story_of
    if args.baseline:
        per_article = {
            name: statistics.median(1000 * r.story_seconds / max(1, r.placed) for r in rs)
            for name, rs in runs.items()
        }
        for name, ms in per_article.items():
            print(f"median {name:>12}: story stage {ms:.1f} ms/article in the worker")
        print(
            f"ratio {args.baseline} / working tree: {per_article[args.baseline] / per_article['working tree']:.2f}x"
        )
        base = runs[args.baseline][-1].story_of
        show(f"worker ({args.baseline})", gold, [base[a] for a in ids])
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
