"""Throughput and memory of the story stage with 1k, 10k and 100k active stories.

Synthetic stories: each has a few rare words of its own (names, places) drawn from a large
vocabulary plus common news words. The index is filled by restoring a :class:`StoryState` (the
way a restarted worker rebuilds it from its table), then articles are assigned, half of them
follow-ups of existing stories and half new events; each article is also checked for syndication.
Prints the cost per article of each stage and the resident memory of the filled index.

With ``--assigner N``, it also times the whole story stage as the worker runs it
(:class:`~streams.pipeline.assign.StoryAssigner`: placing, lifecycle, alert, and the write-through
to its tables, here plain dicts) on N classified articles, and counts the table writes per
article (deletions included): in the worker each one is a RocksDB write and a changelog message.
With ``--baseline COMMIT`` the whole-stage timing alternates, round by round, between that
commit's code (exported with ``git archive``) and the working tree's, each round in a fresh
process, and prints both medians and their ratio.

    python bench/bench_story.py [--sizes 1000 10000 100000] [--articles 500] [--assigner 1000]
                                [--baseline COMMIT --rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The code under test: the working tree, or another commit's export (--baseline rounds).
CODE = Path(os.environ.get("FLASHPOINT_BENCH_CODE") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(CODE))

import schemas  # noqa: E402,F401  (from CODE too, before bench_copies puts this checkout first)
from streams.pipeline.story import Story, StoryConfig, StoryIndex, StoryState, features  # noqa: E402
from streams.pipeline.syndication import SyndicationIndex  # noqa: E402

T0 = datetime(2031, 1, 1, tzinfo=UTC)
COMMON = [
    "police",
    "government",
    "minister",
    "president",
    "army",
    "forces",
    "officials",
    "city",
    "capital",
    "attack",
    "strike",
    "talks",
    "vote",
    "election",
    "court",
    "protest",
    "fire",
    "flood",
    "storm",
    "bank",
    "market",
    "prices",
    "border",
    "troops",
    "killed",
    "injured",
    "report",
    "statement",
    "week",
    "people",
    "country",
    "region",
    "leader",
    "party",
    "security",
    "crisis",
    "deal",
]


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(3, 5)))


def _article(rng: random.Random, rare: list[str]) -> str:
    words = rng.sample(rare, k=min(len(rare), 6)) + rng.choices(COMMON, k=40)
    rng.shuffle(words)
    caps = [w.capitalize() if w in rare else w for w in words]
    return "The " + " ".join(caps) + "."


def _state(n: int, rng: random.Random, config: StoryConfig) -> tuple[StoryState, list[list[str]]]:
    stories: dict[str, Story] = {}
    df: dict[str, int] = {}
    vocab: list[list[str]] = []
    start = T0.timestamp()
    for i in range(n):
        rare = [_word(rng) for _ in range(8)]
        vocab.append(rare)
        t = start + rng.uniform(0, 72 * 3600)
        feats = features("", _article(rng, rare), config, actors=())
        for term in feats.terms:
            df[term] = df.get(term, 0) + 1
        stories[f"story-{i}"] = Story(
            story_id=f"story-{i}",
            first_seen=t,
            last_seen=t,
            time_sum=t,
            article_ids=[f"a{i}"],
            terms=dict(feats.terms),
            actors={},
            **({"members": [(t, dict(feats.terms))]} if "members" in Story.model_fields else {}),
        )
    return StoryState(stories=stories, df=df, n_docs=n, clock=start + 72 * 3600), vocab


def run(n: int, articles: int, seed: int) -> None:
    """Fill an index with ``n`` stories and time ``articles`` assignments against it."""
    rng = random.Random(seed)
    config = StoryConfig()
    gc.collect()
    before = _rss_mb()
    state, vocab = _state(n, rng, config)
    t_build = time.perf_counter()
    index = StoryIndex(config, state)
    build_s = time.perf_counter() - t_build
    gc.collect()
    memory = _rss_mb() - before
    syndication = SyndicationIndex()
    when = T0 + timedelta(hours=72)
    bodies = []
    for k in range(articles):
        rare = vocab[rng.randrange(n)] if k % 2 == 0 else [_word(rng) for _ in range(8)]
        bodies.append(_article(rng, rare))
    t_feat = time.perf_counter()
    for body in bodies:
        features("", body, config)
    feat_ms = (time.perf_counter() - t_feat) * 1000 / articles
    joined = 0
    t_assign = time.perf_counter()
    for k, body in enumerate(bodies):
        joined += not index.assign(f"new{k}", "", body, when, actors=()).is_new
    assign_ms = (time.perf_counter() - t_assign) * 1000 / articles
    t_syn = time.perf_counter()
    for k, body in enumerate(bodies):
        syndication.check(f"new{k}", body, when)
    syn_ms = (time.perf_counter() - t_syn) * 1000 / articles
    print(
        f"{n:>7} active stories | index rebuild {build_s:6.2f} s | memory {memory:7.1f} MB "
        f"({memory * 2**20 / n / 1024:5.1f} KB/story) | assign {assign_ms:6.3f} ms/article "
        f"({1000 / assign_ms:7.0f}/s) | features incl. actors {feat_ms:6.3f} ms | "
        f"syndication {syn_ms:6.3f} ms | joined {joined}/{articles}"
    )


def run_assigner(n: int, seed: int) -> None:
    """Time the story stage over dict tables on ``n`` StoryInputs of distinct articles."""
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    from bench_copies import story_inputs

    from streams.pipeline.assign import StoryAssigner
    from streams.pipeline.publishers import PublisherFamilies
    from streams.pipeline.story_tables import StoryTables
    from streams.topics import STORY_INPUTS

    writes = 0

    class CountingTable(dict[str, object]):
        def __setitem__(self, key: str, value: object) -> None:
            nonlocal writes
            writes += 1
            super().__setitem__(key, value)

        def __delitem__(self, key: str) -> None:
            nonlocal writes
            writes += 1
            super().__delitem__(key)

        def pop(self, key: str, *default: object) -> object:
            nonlocal writes
            writes += key in self
            return super().pop(key, *default)

    items = [STORY_INPUTS.decode(value) for _, value in story_inputs(n, "assigner", seed)]
    names = ("articles", "stories", "fingerprints", "terms", "meta", "alerts")
    tables = StoryTables(**{name: CountingTable() for name in names})  # type: ignore[arg-type]
    assigner = StoryAssigner(tables, StoryConfig(), PublisherFamilies())
    started = time.perf_counter()
    for item in items:
        assigner.assign(item)
    seconds = time.perf_counter() - started
    print(
        f"story stage (StoryAssigner over dict tables) on {n} articles: {n / seconds:.0f} articles/s, "
        f"{seconds * 1000 / n:.2f} ms/article, {writes / n:.1f} table writes per article"
    )


def compare(baseline: str, n: int, rounds: int, seed: int) -> None:
    """Whole-stage rounds alternating between ``baseline``'s code and the working tree's."""
    here = Path(__file__).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "baseline"
        exported.mkdir()
        archive = subprocess.run(
            ["git", "archive", baseline, "streams", "schemas"],
            cwd=here.parents[1],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(exported)], input=archive, check=True)
        figures: dict[str, list[tuple[float, float]]] = {baseline: [], "working tree": []}
        for r in range(rounds):
            for name, code in ((baseline, exported), ("working tree", here.parents[1])):
                env = {**os.environ, "FLASHPOINT_BENCH_CODE": str(code)}
                out = subprocess.run(
                    [sys.executable, str(here), "--sizes", "--assigner", str(n), "--seed", str(seed)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                ms = float(out.split(" ms/article")[0].rsplit(" ", 1)[1])
                w = float(out.split(" table writes")[0].rsplit(" ", 1)[1])
                figures[name].append((ms, w))
                print(
                    f"round {r + 1} {name:>12}: {ms:.2f} ms/article, {w:.1f} table writes per article",
                    flush=True,
                )
        med = {name: statistics.median(ms for ms, _ in v) for name, v in figures.items()}
        writes = {name: statistics.median(w for _, w in v) for name, v in figures.items()}
        for name in figures:
            print(
                f"median {name:>12}: {med[name]:.2f} ms/article, {writes[name]:.1f} table writes per article"
            )
        print(
            f"ratio {baseline} / working tree: {med[baseline] / med['working tree']:.2f}x time, "
            f"{writes[baseline] / writes['working tree']:.1f}x table writes"
        )


def main() -> None:
    """Run every size in one process, smallest first, so the figures sit side by side."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--articles", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--assigner", type=int, default=0, help="also time the whole story stage on N articles")
    ap.add_argument("--baseline", help="a commit to compare the whole stage with, round by round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.baseline:
        compare(args.baseline, args.assigner or 300, args.rounds, args.seed)
        return
    for n in args.sizes:
        run(n, args.articles, args.seed)
    if args.assigner:
        run_assigner(args.assigner, args.seed)


if __name__ == "__main__":
    main()
