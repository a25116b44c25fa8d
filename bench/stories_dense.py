"""Dense-stream stress: the stories of stories-dev.jsonl compressed into a few days and replayed.

The real file spreads 80 stories over twelve years, so few stories are ever active together. Here
every story keeps its articles' day offsets from its first article but starts on a day drawn at
random (per seed) within ``--days`` (14 by default), so about 80 stories, look-alikes included,
overlap in one window: the test of over-merging. The articles are replayed in the new date order
(ties in file order) through the story stage and scored as ``bench/stories_eval.py`` does; the
summary gives the median and the worst figure over the seeds.

    python bench/stories_dense.py [--data PATH] [--days 14] [--seeds 0 1 2 3 4] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories_eval import DEFAULT_DATA, SEEDS, load, parse_overrides, replay, show, summarise

from streams.pipeline.story import StoryConfig

START = date(2024, 1, 1)


def compress(rows: list[dict[str, Any]], days: int, seed: int) -> list[dict[str, Any]]:
    """The rows with every story moved to start on a random day of ``days``, in the new date order."""
    first: dict[str, date] = {}
    for r in rows:
        d = date.fromisoformat(r["published"])
        first[r["story"]] = min(first.get(r["story"], d), d)
    rng = random.Random(seed)
    start = {story: START + timedelta(days=rng.randrange(days)) for story in sorted(first)}
    moved = [
        {
            **r,
            "published": (
                start[r["story"]] + (date.fromisoformat(r["published"]) - first[r["story"]])
            ).isoformat(),
        }
        for r in rows
    ]
    return sorted(moved, key=lambda r: r["published"])  # stable: ties keep the file's order


def main() -> None:
    """Replay the compressed stream once per seed and print the figures and their summary."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--set", nargs="*", default=[], help="StoryConfig overrides, key=value")
    args = ap.parse_args()
    rows = load(args.data)
    config = StoryConfig(**parse_overrides(args.set))
    print(f"config: {config.model_dump()}")
    scores = []
    for seed in args.seeds:
        scores.append(replay(compress(rows, args.days, seed), config))
        show(f"dense {seed}", scores[-1])
    summarise(f"dense stream ({args.days} days)", scores)


if __name__ == "__main__":
    main()
