"""Split an article's title and body into sentences with exact character offsets.

A small rule-based splitter (no model, no download): a sentence ends at ``.``, ``!`` or ``?``
(optionally followed by closing quotes or brackets) when whitespace and an upper-case letter,
digit or opening quote follow, and at every line break. Common abbreviations ("U.S.", "Mr.",
"Gen.", "Jan.") and single initials do not end a sentence. Offsets index the original string,
so ``text[start:end]`` is always the span's text (leading/trailing whitespace stripped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Span", "article_spans", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Span:
    """One sentence: ``field`` is ``"title"`` or ``"body"``; ``text == source[start:end]``."""

    field: str
    start: int
    end: int
    text: str


_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sen",
        "rep",
        "gov",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "cmdr",
        "adm",
        "sgt",
        "cpl",
        "pvt",
        "st",
        "jr",
        "sr",
        "rev",
        "hon",
        "pres",
        "vs",
        "etc",
        "no",
        "nos",
        "vol",
        "fig",
        "inc",
        "corp",
        "co",
        "ltd",
        "dept",
        "univ",
        "est",
        "approx",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thurs",
        "fri",
        "sat",
        "sun",
        "ft",
        "mt",
    ]
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


#: How far back from a full stop the word before it is looked for. Searching from the start of
#: the text instead made splitting quadratic (a 200k-character body took ~50 s).
_LOOKBACK = 64


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    m = _WORD_BEFORE.search(text, max(0, dot_pos - _LOOKBACK), dot_pos)
    if not m:
        return False
    word = m.group(1)
    if "." in word:  # "U.S", "U.N" -> an initialism, not a sentence end
        return True
    if len(word) == 1 and word.isupper():  # an initial: "John F. Kennedy"
        return True
    return word.lower() in _ABBREVIATIONS


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, field: str = "body", max_chars: int = 1200) -> list[Span]:
    """Return the sentences of ``text`` as spans; empty text gives an empty list.

    Sentences longer than ``max_chars`` are cut at the last whitespace before the limit so
    that one run-on paragraph cannot make a single huge encoder input.
    """
    spans: list[Span] = []
    if not text:
        return spans

    def emit(s: int, e: int) -> None:
        s, e = _strip(text, s, e)
        while e - s > max_chars:
            cut = text.rfind(" ", s + 1, s + max_chars)
            if cut <= s:
                cut = s + max_chars
            cs, ce = _strip(text, s, cut)
            if ce > cs:
                spans.append(Span(field, cs, ce, text[cs:ce]))
            s, e = _strip(text, cut, e)
        if e > s:
            spans.append(Span(field, s, e, text[s:e]))

    line_start = 0
    for line in text.splitlines(keepends=True):
        line_end = line_start + len(line)
        seg_start = line_start
        for m in _BOUNDARY.finditer(text, line_start, line_end):
            end = m.end()
            if not _NEXT_START.match(text, end, line_end):
                continue
            if text[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(text, m.start()):
                continue
            emit(seg_start, end)
            seg_start = end
        emit(seg_start, line_end)
        line_start = line_end
    return spans


def article_spans(title: str, body: str, max_chars: int = 1200) -> list[Span]:
    """Title sentences (if any) followed by body sentences."""
    return split_sentences(title, "title", max_chars) + split_sentences(body, "body", max_chars)
