"""Labelled JSON Lines files (``{id, title, body, labels}``): reading and checking them, and the
training supplements that join every fit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from schemas import CATEGORIES
from schemas.events import Article
from streams.classifier.artifact import SupplementFile
from streams.classifier.features import kept_spans, kept_text
from streams.training.grouping import overlapping
from streams.training.recipe import MAX_SENTENCES

__all__ = [
    "CONTEXT_ARTICLES",
    "DEFAULT_SUPPLEMENT",
    "DEFAULT_SUPPLEMENTS",
    "Dataset",
    "DatasetError",
    "file_sha256",
    "load_dataset",
    "load_supplement",
    "load_supplements",
]

_DATA = Path(__file__).resolve().parent / "data"
#: Short labelled examples written for this project from the codebook: wire-flash-length items
#: of every category and hard negatives, which the training file's passages hardly have. Every
#: fit includes them; folds, thresholds and metrics use the training file only.
DEFAULT_SUPPLEMENT = _DATA / "codebook_examples.jsonl"
#: Full-length articles written for the project whose signals are often context (a visit that
#: recounts a coup): what the service reads, and what the training file's passages rarely are.
CONTEXT_ARTICLES = _DATA / "context_articles.jsonl"
#: The files ``train`` adds to every fit unless told otherwise.
DEFAULT_SUPPLEMENTS: tuple[Path, ...] = (DEFAULT_SUPPLEMENT, CONTEXT_ARTICLES)

#: Bad lines listed in a :class:`DatasetError` message (the rest are counted).
MAX_REPORTED_ERRORS = 20


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Dataset:
    """Labelled articles, their labels [n, 9] (0/1), and the file they come from."""

    articles: list[Article]
    y: np.ndarray
    sha256: str
    path: str

    def texts(self, max_sentences: int = MAX_SENTENCES) -> list[str]:
        """The articles' kept texts, as the lexical components read them."""
        out = []
        for a in self.articles:
            spans = kept_spans(a.title, a.body, max_sentences)
            out.append(kept_text(a.title, a.body, spans))
        return out

    def joined(self, other: Dataset) -> Dataset:
        """This file's articles followed by ``other``'s (hash and path stay this file's)."""
        return Dataset(self.articles + other.articles, np.vstack([self.y, other.y]), self.sha256, self.path)

    def without(self, rows: Sequence[int]) -> Dataset:
        """The same file without the articles at ``rows``."""
        left_out = set(rows)
        keep = [i for i in range(len(self.articles)) if i not in left_out]
        return Dataset([self.articles[i] for i in keep], self.y[keep], self.sha256, self.path)


class DatasetError(ValueError):
    """A labelled file that cannot be used; the message lists each bad line as ``FILE:N: reason``."""


def _labelled_row(text: str, n: int) -> tuple[Article, list[int]]:
    """One line of a labelled file, or ValueError with the reason."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("body"), str):
        raise ValueError("'body' is missing or not a string")
    title = row.get("title")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise ValueError("'title' is not a string")
    raw_id = row.get("id")
    article_id = f"line-{n}" if raw_id is None or raw_id == "" else str(raw_id)
    labels = row.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(c, str) for c in labels):
        raise ValueError("'labels' must be a list of category names")
    unknown = set(labels) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown labels {sorted(unknown)}")
    try:
        article = Article(id=article_id, title=title, body=row["body"])
    except ValidationError as e:
        reasons = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'article'}: {err['msg']}" for err in e.errors()
        )
        raise ValueError(f"invalid article ({reasons})") from None
    return article, [int(c in labels) for c in CATEGORIES]


def load_dataset(path: str | Path) -> Dataset:
    """Read a JSON Lines file of ``{id, title, body, labels}`` (extra fields are ignored).

    Every line is checked first; blank lines are skipped. Any bad line (or a file without
    articles) raises :class:`DatasetError` naming each one, so a model is never trained or
    evaluated on part of a file without the user knowing.
    """
    articles: list[Article] = []
    labels: list[list[int]] = []
    errors: list[str] = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                # a BOM (Windows tools write one) is not part of the first line's JSON
                text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                errors.append(f"{path}:{n}: not UTF-8 ({e.reason} at byte {e.start})")
                continue
            if not text.strip():
                continue
            try:
                article, row_labels = _labelled_row(text, n)
            except ValueError as e:
                errors.append(f"{path}:{n}: {e}")
                continue
            articles.append(article)
            labels.append(row_labels)
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        tail = [f"... and {more} more bad lines"] if more else []
        head = f"{len(errors)} bad line{'s' if len(errors) > 1 else ''} in {path}:"
        raise DatasetError("\n".join([head, *shown, *tail]))
    if not articles:
        raise DatasetError(f"{path}: no labelled articles")
    return Dataset(
        articles, np.array(labels, dtype=int).reshape(-1, len(CATEGORIES)), file_sha256(path), str(path)
    )


def load_supplement(path: str | Path, data: Dataset) -> tuple[Dataset, int]:
    """The supplement at ``path`` without its items that tell the same story as an article of
    ``data`` (:func:`~streams.training.grouping.overlapping`), and how many were left out."""
    extra = load_dataset(path)
    dropped = overlapping(extra.texts(), data.texts())
    return extra.without(dropped), len(dropped)


def load_supplements(
    paths: str | Path | Sequence[str | Path] | None, data: Dataset
) -> tuple[Dataset | None, list[SupplementFile]]:
    """The supplement files at ``paths`` joined (:func:`load_supplement` each), and what the
    manifest records of each."""
    if paths is None:
        return None, []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    joined: Dataset | None = None
    records = []
    for path in paths:
        extra, left_out = load_supplement(path, data)
        records.append(
            SupplementFile(
                path=Path(path).name,
                sha256=extra.sha256,
                n=len(extra.articles),
                left_out_as_near_duplicates=left_out,
            )
        )
        joined = extra if joined is None else joined.joined(extra)
    return joined, records
