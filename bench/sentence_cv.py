"""Sentence-level grouped cross-validation of sentence classifiers (issue 18, point 1).

    nice -n 19 python bench/sentence_cv.py --data ../shared/data/dev.jsonl \
        --sentences ../shared/data/dev-sentences.jsonl --model frozen-lr|finetune \
        [--layers 2] [--epochs 4] [--inner-folds 3] [--seed 0] [--only-fold K] [--json-out FILE]

Models:

* ``frozen-lr``: the frozen all-MiniLM-L6-v2 sentence embedding (fp32, mean-pooled,
  normalised) and one logistic regression per category (class-weighted, C = 1) — the baseline;
* ``frozen-lr-layers``: the same with the mean-pooled, normalised inputs of layers 3-5 joined
  to the final embedding (what the frozen encoder's middle layers know);
* ``finetune``: the top ``--layers`` encoder layers fine-tuned as a multi-label sentence
  classifier (:mod:`streams.training.sentence_model`).

Both run through :func:`streams.training.sentence_cv.cross_validate_sentences` on the same
folds (sentences of a passage, and of near-duplicate passages, in one fold; the unlabelled
passages' sentences are negatives in training and in the flash protocol). Thresholds: the
F1-best per category on inner grouped out-of-fold probabilities of each outer training part,
and a fixed 0.5 chosen in advance. Encoder states are cached in --cache (default
/tmp/fp-sent), so a sentence is encoded once. Uses at most two torch threads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def table(result: dict[str, Any], keys: list[str]) -> str:
    from schemas import CATEGORIES

    head = "| category | " + " | ".join(keys) + " |"
    lines = [head, "| --- |" + " ---: |" * len(keys)]
    for c in CATEGORIES:
        lines.append(f"| {c} | " + " | ".join(f"{result[k]['categories'][c]['f1']:.3f}" for k in keys) + " |")
    lines.append(
        "| escalation F1 | " + " | ".join(f"{result[k]['escalation']['f1']:.3f}" for k in keys) + " |"
    )
    lines.append(
        "| escalation recall | " + " | ".join(f"{result[k]['escalation']['recall']:.3f}" for k in keys) + " |"
    )
    lines.append("| macro-F1 | " + " | ".join(f"{result[k]['macro_f1']:.3f}" for k in keys) + " |")
    lines.append("| n | " + " | ".join(str(result[k]["n"]) for k in keys) + " |")
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import torch

    torch.set_num_threads(2)
    from sklearn.linear_model import LogisticRegression

    from streams.classifier.encoder import TorchEncoder
    from streams.training.sentence_cache import encode_sentences
    from streams.training.sentence_cv import cross_validate_sentences
    from streams.training.sentence_data import load_sentence_set
    from streams.training.sentence_model import SentenceModelSettings, fit_sentence_model, predict_sentences

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--sentences", required=True, type=Path)
    p.add_argument("--model", choices=["frozen-lr", "frozen-lr-layers", "finetune"], required=True)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--inner-folds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only-fold", type=int, action="append", help="test only this outer fold (0-based)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/fp-sent"))
    p.add_argument("--json-out", type=Path)
    args = p.parse_args()

    sentences = load_sentence_set(args.data, args.sentences)
    encoder = TorchEncoder()
    n_layers = int(encoder._model.config.num_hidden_layers)
    t0 = time.monotonic()
    encoded = encode_sentences(encoder, sentences.texts, [3, 4, 5], args.cache)
    print(f"{len(sentences)} sentences, states in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    fits: list[float] = []

    x = encoded.pooled
    if args.model == "frozen-lr-layers":  # the final embedding and the mean-pooled inputs of layers 3-5
        pooled = [encoded.pooled]
        for k in (3, 4, 5):
            m = np.stack([s.astype(np.float32).mean(0) for s in encoded.caches[k].states])
            pooled.append(m / np.linalg.norm(m, axis=1, keepdims=True))
        x = np.hstack(pooled)

    def frozen_lr(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        out = np.zeros((len(test), sentences.y.shape[1]))
        t = time.monotonic()
        for j in range(sentences.y.shape[1]):
            lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
            lr.fit(x[train], sentences.y[train, j])
            out[:, j] = lr.predict_proba(x[test])[:, 1]
        fits.append(time.monotonic() - t)
        return out

    first = n_layers - args.layers
    settings = SentenceModelSettings(epochs=args.epochs, lr=args.lr, seed=args.seed)

    def finetune(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        t = time.monotonic()
        model = fit_sentence_model(encoder._model, encoded.caches[first], train, sentences.y, settings)
        fits.append(time.monotonic() - t)
        print(f"  fit on {len(train)} sentences: {fits[-1]:.0f} s", file=sys.stderr)
        return predict_sentences(model, encoded.caches[first], test)

    fit_predict = finetune if args.model == "finetune" else frozen_lr
    t0 = time.monotonic()
    result = cross_validate_sentences(
        sentences,
        fit_predict,
        folds=args.folds,
        inner_folds=args.inner_folds,
        seed=args.seed,
        only_folds=args.only_fold,
        progress=lambda m: print(m, file=sys.stderr),
    )
    result["seconds"] = round(time.monotonic() - t0, 1)
    result["fit_seconds"] = [round(f, 1) for f in fits]
    result["model"] = vars(args) | {"data": str(args.data), "sentences": str(args.sentences)}
    result["model"]["cache"] = str(args.cache)
    result["model"]["json_out"] = str(args.json_out)
    probs = result.pop("probabilities")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1) + "\n")
        np.savez(args.json_out.with_suffix(".npz"), rows=probs["rows"], p=probs["p"])
    keys = [k for k in result if k == "nested" or k.startswith("fixed_")]
    flat = {f"{k} {part}": result[k][part] for k in keys for part in ("sentences", "flash")}
    print(table(flat, list(flat)))
    print(f"CV {result['seconds']} s; fits {result['fit_seconds']}")


if __name__ == "__main__":
    main()
