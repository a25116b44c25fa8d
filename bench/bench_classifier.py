"""Classifier throughput against a plain full-token encoder pass, on the same articles.

    python bench/bench_classifier.py [--rounds 5] [--batch 8] [--data bench/data/articles.jsonl]
        [--artifact DIR]

Contenders, each in its own long-lived subprocess (so RSS is per contender and they never run
at the same time), rounds interleaved, medians reported:

* ``baseline torch fp32 full``: transformers + torch fp32 all-MiniLM-L6-v2 over every token of
  every article (title + body, split into 512-token windows), mean pooling — the reference
  cost of "one encoder pass over the article";
* ``flashpoint onnx`` (the service default): the full ``assess`` path — sentence split,
  ONNX Runtime int8 encoder on sentences, head, evidence, actors, severity;
* ``flashpoint torch``: the same classifier with the transformers + torch fp32 backend.

Also prints how often the onnx and torch backends give the same signal set on these articles.
Model loading is outside the timed region. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "articles.jsonl"
CONTENDERS = ["baseline", "onnx", "torch"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def worker(kind: str, data: Path, batch: int, artifact: str = "") -> None:
    """Subprocess: load once, then run one timed round per 'go' line on stdin."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    if kind == "baseline":
        import torch
        from transformers import AutoModel, AutoTokenizer

        from streams.classifier.encoder import default_encoder_path

        path = default_encoder_path()
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
        texts = [f"{r['title']}\n{r['body']}" for r in rows]

        def run() -> list[list[str]]:
            with torch.inference_mode():
                for text in texts:
                    ids = tok(text, add_special_tokens=False)["input_ids"]
                    windows = [ids[i : i + 510] for i in range(0, len(ids), 510)]
                    enc = tok.pad(
                        {"input_ids": [[tok.cls_token_id, *w, tok.sep_token_id] for w in windows]},
                        return_tensors="pt",
                    )
                    out = model(**enc).last_hidden_state
                    m = enc["attention_mask"].unsqueeze(-1).float()
                    _ = (out * m).sum((0, 1)) / m.sum()
            return []

    else:
        from schemas.events import Article
        from streams.classifier.classifier import EscalationClassifier

        clf = EscalationClassifier(artifact, backend=kind)
        articles = [Article(id=r["id"], title=r["title"], body=r["body"]) for r in rows]
        clf.assess(articles[:2])  # load the encoder before timing

        def run() -> list[list[str]]:
            signals = []
            for i in range(0, len(articles), batch):
                for a in clf.assess(articles[i : i + batch]):
                    signals.append(sorted(s.category for s in a.signals))
            return signals

    run()  # warm-up
    print(json.dumps({"ready": True, "rss_mb": _rss_mb()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        t = time.perf_counter()
        signals = run()
        dt = time.perf_counter() - t
        print(
            json.dumps({"seconds": dt, "n": len(rows), "rss_mb": _rss_mb(), "signals": signals}), flush=True
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8, help="articles per assess() call")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--artifact", default="", help="artifact directory (default: the shipped one)")
    ap.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.batch, args.artifact)
        return

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    words = statistics.median(len(f"{r['title']} {r['body']}".split()) for r in rows)
    procs = {}
    for kind in CONTENDERS:
        procs[kind] = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                kind,
                "--data",
                str(args.data),
                "--batch",
                str(args.batch),
                "--artifact",
                args.artifact,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        json.loads(procs[kind].stdout.readline())  # wait until loaded
    results: dict[str, list[dict]] = {k: [] for k in CONTENDERS}
    for r in range(args.rounds):
        order = CONTENDERS if r % 2 == 0 else CONTENDERS[::-1]
        for kind in order:
            procs[kind].stdin.write("go\n")
            procs[kind].stdin.flush()
            results[kind].append(json.loads(procs[kind].stdout.readline()))
    for p in procs.values():
        p.stdin.close()
        p.wait()

    rate = {k: statistics.median(x["n"] / x["seconds"] for x in v) for k, v in results.items()}
    rss = {k: max(x["rss_mb"] for x in v) for k, v in results.items()}
    label = {
        "baseline": "baseline: torch fp32, every token (512-token windows)",
        "onnx": "flashpoint assess(), onnx int8 sentences (default)",
        "torch": "flashpoint assess(), torch fp32 sentences",
    }
    print(
        f"{len(rows)} articles, median {words:.0f} words; {args.rounds} interleaved rounds; batch {args.batch}"
    )
    print()
    print("| contender | articles/s (median) | × baseline | RSS MB |")
    print("| --- | ---: | ---: | ---: |")
    for k in CONTENDERS:
        print(f"| {label[k]} | {rate[k]:.1f} | {rate[k] / rate['baseline']:.2f} | {rss[k]:.0f} |")
    a, b = results["onnx"][-1]["signals"], results["torch"][-1]["signals"]
    same = sum(x == y for x, y in zip(a, b, strict=True))
    print()
    print(f"identical signal sets, onnx vs torch backend: {same}/{len(a)} articles")


if __name__ == "__main__":
    main()
