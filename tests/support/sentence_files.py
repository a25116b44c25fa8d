"""A sentence file (the format of dev-sentences.jsonl) for the test corpus: each sentence of a
labelled article labelled with the article's labels. Good enough to exercise the sentence
model's training and serving paths; not a labelling anyone should learn from."""

from __future__ import annotations

import json
from pathlib import Path

from streams.classifier.sentences import article_spans
from tests.support.corpus import ALL_ARTICLES


def write_sentence_file(path: Path) -> Path:
    rows = [
        {
            "id": str(i),
            "n": n,
            "field": s.field,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "labels": sorted(labels),
        }
        for i, title, body, labels in ALL_ARTICLES
        if labels
        for n, s in enumerate(article_spans(title, body))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
