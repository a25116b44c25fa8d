"""The fault run, longer: recovery times over repeated rounds on a 3-broker cluster.

    python bench/bench_faults.py [--articles N] [--rounds R] [--outage-seconds S]

One local 3-node KRaft cluster from the launcher (replication factor 3, min.insync.replicas 2)
for every round; each round runs two new workers in one group on fresh topics (4 input
partitions, all led by one broker) and sends N written articles (tests/e2e/fault_articles.py)
at most 8 per second with at most 16 awaiting output. While they arrive it

1. kills -9 the broker leading the input partitions, then the worker running the story stage;
2. starts both again (the broker on its data through the launcher, the worker on its data dir);
3. kills -9 the broker that now leads most input partitions and keeps it down for S seconds
   (an outage), then starts it again;

and checks that every input was classified or dead-lettered. For each event it prints the time
to the first output of an input sent after it and until every input partition had delivered one
(tests/e2e/fault_run.py), the worker log lines written during the outage, and the medians over
the rounds as a Markdown table for BENCHMARKS.md. The leading broker changes from round to round.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.localkafka import Cluster, free_port_block, start_cluster, stop_cluster  # noqa: E402
from tests.e2e.fault_articles import fault_articles  # noqa: E402
from tests.e2e.fault_run import Fault, FaultRun  # noqa: E402

RATE = 8.0
WINDOW = 16
BOUND_S = 120.0

KINDS = (
    "kill -9 input leader broker",
    "kill -9 story worker",
    "restart broker",
    "restart worker",
    "outage: kill -9 leading broker",
    "outage: restart broker",
)


def _lines(path: Path) -> int:
    try:
        return len(path.read_bytes().splitlines())
    except OSError:
        return 0


def run_round(
    cluster: Cluster, tmp: Path, n: int, articles: int, outage_s: float
) -> tuple[dict[str, Fault], int]:
    """One round; its events by kind and the worker log lines written during the outage."""
    run = FaultRun(cluster, f"faults-{n}-{int(time.time())}.", tmp / f"round-{n}", partitions=4)
    leader = 1 + n % 3
    # The stream waits before 60, 75 and 90 % of the inputs until the worker has restarted, the
    # outage has begun and the broker is back, so that each of them has inputs after it.
    holds = [int(articles * share) for share in (0.6, 0.75, 0.9)]
    events: dict[str, Fault] = {}
    try:
        run.create_input_topic(leader)
        run.start_workers(2)
        run.start_stream(fault_articles(articles, f"r{n}"), rate=RATE, window=WINDOW, hold_at=holds)
        run.wait_outputs(40, timeout=300)
        events[KINDS[0]] = run.wait_recovered(run.kill_broker(leader), BOUND_S)
        victim = run.story_worker()
        events[KINDS[1]] = run.wait_recovered(run.kill_worker(victim), BOUND_S)
        events[KINDS[2]] = run.restart_broker(leader)
        restarted = run.restart_worker(victim)
        run.release_stream()
        events[KINDS[3]] = run.wait_recovered(restarted, BOUND_S)

        counts = collections.Counter(run.input_leaders().values())
        outage_node = counts.most_common(1)[0][0]
        logs = [w.log_path for w in run.workers]
        before = sum(_lines(p) for p in logs)
        killed = run.kill_broker(outage_node)
        run.release_stream()
        events[KINDS[4]] = run.wait_recovered(killed, BOUND_S)
        # The outage's length is the point here: the broker stays down for a fixed time.
        time.sleep(max(0.0, killed.at + outage_s - time.monotonic()))
        outage_lines = sum(_lines(p) for p in logs) - before
        events[KINDS[5]] = run.restart_broker(outage_node)
        run.release_stream()
        run.wait_recovered(events[KINDS[5]], BOUND_S)
        run.finish(timeout=900)
        for fault in events.values():
            run.recovery(fault)
        for line in run.report(time.monotonic()):
            print(f"  {line}", flush=True)
        observer = run.observer
        assert observer is not None
        classified = {c.article_id for c in observer.classified}
        assert run.stream is not None
        expected = {s.item.article[0] for s in run.stream.sent if s.item.article}
        assert classified == expected, f"{len(expected - classified)} articles not classified"
        run.wait_until(
            lambda: all(isr == [1, 2, 3] for _, isr in run.input_partitions().values()),
            120,
            "the ISR to be 3",
        )
        return events, outage_lines
    finally:
        run.close()


def _median(values: list[float | None]) -> str:
    measured = [v for v in values if v is not None]
    return f"{statistics.median(measured):.1f} s" if measured else "-"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000, help="Articles per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    cluster = start_cluster(nodes=3, port=free_port_block(6), state_dir=tmp / "kafka", die_with_parent=True)
    rounds: list[dict[str, Fault]] = []
    outage_lines: list[int] = []
    started = time.monotonic()
    try:
        for n in range(args.rounds):
            print(f"round {n + 1} of {args.rounds}", flush=True)
            events, lines = run_round(cluster, tmp, n, args.articles, args.outage_seconds)
            rounds.append(events)
            outage_lines.append(lines)
            print(f"  worker log lines during the {args.outage_seconds:.0f} s outage (2 workers): {lines}")
    except BaseException:
        print(f"the workers' logs and data are kept in {tmp}", file=sys.stderr)
        raise
    finally:
        stop_cluster(cluster)
    shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\n{args.rounds} rounds of {args.articles} articles, {args.outage_seconds:.0f} s outage, "
        f"{time.monotonic() - started:.0f} s in all\n"
    )
    print("| event | first output of a later input (median) | every input partition delivering (median) |")
    print("| --- | --- | --- |")
    for kind in KINDS:
        firsts = [r[kind].first_output for r in rounds]
        alls = [r[kind].all_partitions for r in rounds]
        print(f"| {kind} | {_median(firsts)} | {_median(alls)} |")
    print(f"\nworker log lines during each outage: {outage_lines}")
    for kind in KINDS:
        alls = [r[kind].all_partitions for r in rounds]
        print(f"{kind}: every partition delivering after " + ", ".join(_median([a]) for a in alls))


if __name__ == "__main__":
    main()
