"""How much the nested cross-validation estimate moves with the fold assignment.

    python bench/cv_seeds.py --data ../shared/data/dev.jsonl [--seeds 0-5] [--lexicon FILE]
        [--supplement FILE [--supplement FILE ...] | --no-supplement]

Runs the same nested grouped 5-fold CV as ``flashpoint train``
(``streams.training.crossval.cross_validate``, the
shipped recipe and hyper-parameters) once per fold seed, on sentence embeddings computed once,
and prints a Markdown table: macro-F1, escalation F1 and the weakest categories on the
passages, and macro / escalation F1 on the synthetic long articles. As in ``flashpoint
train``, the supplement (default: the packaged codebook examples and context articles) joins
every fit and no test fold. No artifact is written.
About 280-310 s per seed on two cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seeds_arg(text: str) -> list[int]:
    """``"0-5"`` or ``"0,3,7"``."""
    if "-" in text:
        lo, hi = (int(x) for x in text.split("-", 1))
        return list(range(lo, hi + 1))
    return [int(x) for x in text.split(",")]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from schemas import CATEGORIES
    from streams.classifier.artifact import shipped_artifact
    from streams.training import recipe
    from streams.training.crossval import cross_validate
    from streams.training.dataset import DEFAULT_SUPPLEMENTS, load_dataset, load_supplements
    from streams.training.features import build_training_features

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--seeds", type=seeds_arg, default=seeds_arg("0-5"))
    p.add_argument("--onnx", type=Path, help="int8 encoder (default: the shipped artifact's)")
    p.add_argument("--lexicon", type=Path, help="cue lexicon (default: streams/classifier/data/cues.yaml)")
    p.add_argument(
        "--sentences",
        type=Path,
        help="the sentence file (dev-sentences.jsonl): adds the sentence model, the short calibration "
        "and the flash / sentence / evidence figures",
    )
    p.add_argument(
        "--no-sentence-model", action="store_true", help="with --sentences: today's components only"
    )
    p.add_argument("--json-out", type=Path, help="every seed's nested-CV result as JSON")
    p.add_argument(
        "--features-cache",
        type=Path,
        help="a pickle of the training features: read when it exists, else written (parallel runs share it)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--supplement",
        type=Path,
        action="append",
        help="train-only labelled file, repeatable (default: the packaged ones)",
    )
    which.add_argument("--no-supplement", action="store_true", help="fit on --data alone")
    args = p.parse_args()
    if args.lexicon:
        recipe.CUE_LEXICON = args.lexicon

    onnx = args.onnx or shipped_artifact() / "encoder-int8.onnx"
    data = load_dataset(args.data)
    supplement = None if args.no_supplement else args.supplement or DEFAULT_SUPPLEMENTS
    extra = load_supplements(supplement, data)[0]
    weights = dict(
        recipe.WEIGHTS_SENTENCES if args.sentences and not args.no_sentence_model else recipe.WEIGHTS_FROZEN
    )
    t0 = time.monotonic()
    if args.features_cache and args.features_cache.exists():
        with open(args.features_cache, "rb") as cached:
            base, groups = pickle.load(cached)
    else:
        base, groups = build_training_features(data, extra, weights, sentences=args.sentences, onnx_path=onnx)
        if args.features_cache:
            with open(args.features_cache, "wb") as out:
                pickle.dump((base, groups), out)
    print(f"features in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    rows = []
    for seed in args.seeds:
        t0 = time.monotonic()

        def say(msg: str, s: int = seed, t: float = t0) -> None:
            print(f"seed {s}: {msg} ({time.monotonic() - t:.0f} s)", file=sys.stderr)

        m = cross_validate(copy.deepcopy(base), groups, weights, seed=seed, progress=say)
        f1 = {c: m["categories"][c]["f1"] for c in CATEGORIES}
        weakest = sorted(f1, key=f1.__getitem__)[:2]
        rows.append((seed, m, f1, weakest))
        print(f"seed {seed}: macro-F1 {m['macro_f1']:.3f} ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
        if args.json_out:
            args.json_out.write_text(json.dumps([r[1] for r in rows], indent=1) + "\n")

    print(
        "| fold seed | macro-F1 | escalation F1 | threat F1 | weakest others | long macro / escalation "
        "| one calibration: macro / threat, long macro / escalation |"
    )
    print("| ---: | ---: | ---: | ---: | --- | --- | --- |")
    for seed, m, f1, weakest in rows:
        others = ", ".join(f"{c} {f1[c]:.3f}" for c in weakest if c != "threat") or "-"
        la = m["long_articles"]
        one = m["components"]["one_calibration"]
        print(
            f"| {seed} | {m['macro_f1']:.3f} | {m['escalation']['f1']:.3f} | {f1['threat']:.3f} | {others} "
            f"| {la['macro_f1']:.3f} / {la['escalation']['f1']:.3f} "
            f"| {one['macro_f1']:.3f} / {one['f1']['threat']:.3f}, "
            f"{one['long_articles']['macro_f1']:.3f} / {one['long_articles']['escalation_f1']:.3f} |"
        )
    med = statistics.median
    if args.sentences:
        print()
        print(
            "| fold seed | flash macro-F1 | flash escalation recall / F1 | sentence CV macro-F1 | sentence CV threat F1 "
            "| evidence precision | per category F1 (passages) |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for seed, m, f1, _ in rows:
            fl, se, ev = m["flash"], m["sentences"], m["evidence"]
            cats = " ".join(f"{f1[c]:.3f}" for c in CATEGORIES)
            print(
                f"| {seed} | {fl['macro_f1']:.3f} | {fl['escalation']['recall']:.3f} / {fl['escalation']['f1']:.3f} "
                f"| {se['macro_f1']:.3f} | {se['categories']['threat']['f1']:.3f} | {ev['precision']:.3f} | {cats} |"
            )
        print(
            f"| median | {med(r[1]['flash']['macro_f1'] for r in rows):.3f} "
            f"| {med(r[1]['flash']['escalation']['recall'] for r in rows):.3f} "
            f"/ {med(r[1]['flash']['escalation']['f1'] for r in rows):.3f} "
            f"| {med(r[1]['sentences']['macro_f1'] for r in rows):.3f} "
            f"| {med(r[1]['sentences']['categories']['threat']['f1'] for r in rows):.3f} "
            f"| {med(r[1]['evidence']['precision'] for r in rows):.3f} "
            f"| {' '.join(f'{med(r[2][c] for r in rows):.3f}' for c in CATEGORIES)} |"
        )
        print()
    print(
        f"| median | {med(r[1]['macro_f1'] for r in rows):.3f} | {med(r[1]['escalation']['f1'] for r in rows):.3f} "
        f"| {med(r[2]['threat'] for r in rows):.3f} | | | |"
    )


if __name__ == "__main__":
    main()
