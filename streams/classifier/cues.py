"""The ``cue`` component: per category, a word TF-IDF model over that category's cue sentences.

Whole-article features mix every category's evidence with the topic words of the conflict the
article is about: "the minister warned of consequences" and "missiles were tested" share most of
an article's vocabulary. For each category this component reads only the article's sentences
that contain one of the category's cue words (``data/cues.yaml``: "warned", "vowed",
"ultimatum" for ``threat``; "expelled", "ambassador" for ``diplomatic_rupture``; ...) and
scores them with a logistic regression on their word 1–2 gram TF-IDF. The cue words only select
text; which cue sentences count (a government's warning, not a storm warning) is learned from
the labelled data. An article with no cue sentence for a category gets the model's intercept.
Some words select a sentence only with a marker beside them (``needs_marker``): for ``threat``,
"retaliation" or "response" in a sentence with "will", "would", "if", "unless", ... — a threat
is about what is still to come, while "rockets fired in response to the strikes" reports force
that was used.

The lexicon is saved with the artifact (``cue/lexicon.yaml``) so an artifact always runs with
the cue words it was trained with.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from schemas import CATEGORIES
from streams.classifier.lexical import LexicalModel

__all__ = ["DEFAULT_LEXICON", "CueModel", "CueSelector", "load_lexicon"]

DEFAULT_LEXICON = Path(__file__).resolve().parent / "data" / "cues.yaml"
_DIR = "cue"
_LEXICON = "lexicon.yaml"


def _words(fragments: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(fragments) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class CueSelector:
    """Which sentences are a category's cue sentences: those with one of its cue ``words``, and
    those with one of its ``conditional`` words together with one of its ``markers``."""

    words: re.Pattern[str]
    conditional: re.Pattern[str] | None = None
    markers: re.Pattern[str] | None = None

    def search(self, sentence: str) -> bool:
        if self.words.search(sentence):
            return True
        if self.conditional is None or self.markers is None:
            return False
        return bool(self.conditional.search(sentence) and self.markers.search(sentence))


def load_lexicon(path: str | Path = DEFAULT_LEXICON) -> dict[str, CueSelector]:
    """Category → its :class:`CueSelector` (whole words, case-insensitive).

    Every category needs cue words (``categories``); ``needs_marker`` optionally gives a
    category words that count only with a marker in the same sentence.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cats = data.get("categories") or {}
    missing = [c for c in CATEGORIES if not cats.get(c)]
    if missing:
        raise ValueError(f"{path}: no cue words for {missing}")
    conditional = data.get("needs_marker") or {}
    unknown = sorted((set(cats) | set(conditional)) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"{path}: unknown categories {unknown}")
    out: dict[str, CueSelector] = {c: CueSelector(_words(cats[c])) for c in CATEGORIES}
    for c, spec in conditional.items():
        if not isinstance(spec, dict) or not spec.get("words") or not spec.get("markers"):
            raise ValueError(f"{path}: needs_marker.{c} must have words and markers")
        out[c] = CueSelector(out[c].words, _words(spec["words"]), _words(spec["markers"]))
    return out


class CueModel:
    """``predict_proba(sentences_per_article) -> [n, 9]``."""

    def __init__(
        self,
        selectors: dict[str, CueSelector],
        models: dict[str, LexicalModel],
        lexicon_path: Path = DEFAULT_LEXICON,
    ) -> None:
        self.selectors = selectors
        self.models = models
        self.lexicon_path = lexicon_path

    def cue_text(self, category: str, sentences: Sequence[str]) -> str:
        """The article's cue sentences of ``category`` (:class:`CueSelector`), joined by spaces."""
        selector = self.selectors[category]
        return " ".join(s for s in sentences if selector.search(s))

    def predict_proba(self, articles: Sequence[Sequence[str]]) -> np.ndarray:
        out = np.zeros((len(articles), len(CATEGORIES)))
        for j, c in enumerate(CATEGORIES):
            texts = [self.cue_text(c, sentences) for sentences in articles]
            out[:, j] = self.models[c].predict_proba(texts)[:, 0]
        return out

    # -- persistence ---------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        lexicon = self.lexicon_path.read_bytes()  # before clearing: it may live in that directory
        d = Path(directory) / _DIR
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        (d / _LEXICON).write_bytes(lexicon)
        for c in CATEGORIES:
            self.models[c].save(d, c)

    @staticmethod
    def remove(directory: Path) -> None:
        """Delete a saved cue component from ``directory``, if there is one."""
        d = Path(directory) / _DIR
        if d.exists():
            shutil.rmtree(d)

    @classmethod
    def load(cls, directory: Path) -> CueModel:
        d = Path(directory) / _DIR
        return cls(
            load_lexicon(d / _LEXICON),
            {c: LexicalModel.load(d, c) for c in CATEGORIES},
            lexicon_path=d / _LEXICON,
        )
