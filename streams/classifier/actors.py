"""Who an escalation involves: ISO 3166-1 alpha-2 country codes and major organisations.

A one-pass gazetteer match of the article, then the evidence-first rule that orders and cuts
the list; docs/ACTORS.md specifies both.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, cast

import yaml

from schemas.events import ESCALATION_CATEGORIES, Article, Evidence, Signal
from streams.classifier.sentences import Span, split_sentences

__all__ = ["MAX_ACTORS", "MIN_SENTENCES", "Mention", "extract_actors", "find_mentions", "organisations"]

#: Most actors reported for one article.
MAX_ACTORS: Final = 8
#: A recurring actor (step 4) is mentioned in at least this many distinct sentences.
MIN_SENTENCES: Final = 2

_DATA_FILE: Final = "actors.yaml"
#: Source priority when one form belongs to several countries: lower wins, then population.
_P_NAME, _P_ALT, _P_CAPITAL, _P_DEMONYM = range(4)
_SHOUT_WINDOW: Final = 40
_WS = re.compile(r"\s+")
_LOWER = re.compile(r"[a-z]")
_SHORT_CAPS = re.compile(r"^(?:[A-Z]\.?){1,3}$")
_NEXT_CAPITALISED = re.compile(r"\s+[A-Z]")


@dataclass(frozen=True, slots=True)
class Mention:
    """One recognised actor mention: ``text[start:end]`` in the article's ``field``."""

    field: str
    start: int
    end: int
    label: str
    weak: bool


@dataclass(frozen=True, slots=True)
class _Form:
    label: str | None  # None: a blocker, matched and dropped
    weak: bool
    given_name: bool
    shout_sensitive: bool


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    pattern: re.Pattern[str]
    forms: dict[str, _Form]
    organisations: frozenset[str]

    def find(self, text: str, field: str) -> list[Mention]:
        found: list[Mention] = []
        for m in self.pattern.finditer(text):
            form = self.forms.get(_WS.sub(" ", m.group()))
            if form is None or form.label is None:
                continue
            if form.shout_sensitive and _is_shouting(text, m.start(), m.end()):
                continue
            weak = form.weak and not (form.given_name and not _NEXT_CAPITALISED.match(text, m.end()))
            found.append(Mention(field, m.start(), m.end(), form.label, weak))
        return found


def _is_shouting(text: str, start: int, end: int) -> bool:
    """True when the text around a match has no lower-case letter."""
    return not _LOWER.search(text, max(0, start - _SHOUT_WINDOW), end + _SHOUT_WINDOW)


def _is_latin(form: str) -> bool:
    return all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in form)


def _usable(form: str) -> bool:
    """A package form worth matching in English news text."""
    return (
        len(form) >= 4
        and form[0].isupper()
        and not form.isupper()
        and not any(c in form for c in ",()/")
        and _is_latin(form)
    )


def _plural(demonym: str) -> str | None:
    return None if demonym.endswith(("s", "sh", "ch", "x", "z", "ese")) else demonym + "s"


def _variants(form: str) -> set[str]:
    """The form, its accent-free spelling, and straight/curly apostrophe spellings."""
    out = {form}
    stripped = "".join(c for c in unicodedata.normalize("NFKD", form) if not unicodedata.combining(c))
    out.add(unicodedata.normalize("NFC", stripped))
    for v in list(out):
        out.add(v.replace("'", "\u2019"))
        out.add(v.replace("\u2019", "'"))
    return out


def _package_forms() -> dict[str, str]:
    """Forms from pycountry and countryinfo -> alpha-2 code, ambiguities resolved."""
    import pycountry
    from countryinfo import CountryInfo

    codes = {c.alpha_2 for c in pycountry.countries}
    candidates: dict[str, dict[str, int]] = {}

    def offer(form: str | None, code: str, priority: int) -> None:
        if not form or code not in codes:
            return
        form = form.strip()
        if form.startswith("the "):
            form = form[4:]
        if not form or "," in form:
            return
        best = candidates.setdefault(form, {})
        best[code] = min(priority, best.get(code, priority))

    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            offer(getattr(c, attr, None), c.alpha_2, _P_NAME)

    population: dict[str, int] = {}
    for raw in CountryInfo.all().values():
        info = cast(dict[str, Any], raw)
        code = (info.get("ISO") or {}).get("alpha2")
        if not isinstance(code, str) or code not in codes:
            continue
        population[code] = max(population.get(code, 0), int(info.get("population") or 0))
        offer(info.get("name"), code, _P_NAME)
        for alt in info.get("altSpellings") or []:
            if isinstance(alt, str) and _usable(alt.strip()):
                offer(alt, code, _P_ALT)
        capitals = info.get("capital")
        for capital in capitals if isinstance(capitals, list) else [capitals]:
            if isinstance(capital, str) and "/" not in capital and _is_latin(capital):
                offer(capital, code, _P_CAPITAL)
        demonyms = info.get("demonym")
        if isinstance(demonyms, str):
            for part in re.split(r"[,/]", demonyms):
                demonym = part.strip()
                if demonym and _is_latin(demonym):
                    offer(demonym, code, _P_DEMONYM)
                    offer(_plural(demonym), code, _P_DEMONYM)

    resolved: dict[str, str] = {}
    for form, by_code in candidates.items():
        resolved[form] = min(by_code, key=lambda code: (by_code[code], -population.get(code, 0), code))
    return resolved


def _char_pattern(ch: str) -> str:
    return r"\s+" if ch == " " else re.escape(ch)


def _trie_pattern(forms: Iterable[tuple[str, bool]]) -> str:
    """One regex for many literal forms: longest match first at each position.

    Each item is (form, needs_end_boundary). A shared prefix is tested once, so the cost per
    text position is that of the few branches that start with the character found there.
    """
    root: dict[str | None, Any] = {}
    for form, bounded in forms:
        node = root
        for ch in form:
            node = node.setdefault(ch, {})
        node[None] = r"(?!\w)" if bounded else ""

    def walk(node: dict[str | None, Any]) -> str:
        alts = [_char_pattern(ch) + walk(node[ch]) for ch in sorted(k for k in node if k is not None)]
        if None in node:
            alts.append(node[None])  # ending here is tried after every longer form
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return r"(?<!\w)" + walk(root)


def _load_data() -> dict[str, Any]:
    text = resources.files("streams.classifier").joinpath("data", _DATA_FILE).read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{_DATA_FILE}: expected a mapping at the top level")
    return data


@functools.cache
def _gazetteer() -> _Gazetteer:
    data = _load_data()
    weak = {v for form in data.get("weak") or [] for v in _variants(form)}
    given_names = {v for form in data.get("given_names") or [] for v in _variants(form)}
    excluded: set[str] = set()
    for form in data.get("exclude") or []:
        excluded |= _variants(form)

    labels: dict[str, str | None] = {}
    for form, code in _package_forms().items():
        for variant in _variants(form):
            if variant not in excluded:
                labels.setdefault(variant, code)
    for section in ("countries", "corroborating", "organisations"):
        for label, own_forms in (data.get(section) or {}).items():
            for form in own_forms:
                labels.update(dict.fromkeys(_variants(str(form)), str(label)))
    blockers = {v for form in data.get("blockers") or [] for v in _variants(str(form))}
    labels.update(dict.fromkeys(blockers))

    table = {
        form: _Form(
            label=label,
            weak=form in weak,
            given_name=form in given_names,
            shout_sensitive=bool(_SHORT_CAPS.match(form)),
        )
        for form, label in labels.items()
    }
    # A form ending in a word character must end at a word boundary ("Iran" is not in "Irani");
    # a blocker is a prefix ("US$" blocks "US$5").
    pattern = _trie_pattern((f, f not in blockers and (f[-1].isalnum() or f[-1] == "_")) for f in table)
    orgs = frozenset(str(k) for k in (data.get("organisations") or {}))
    return _Gazetteer(re.compile(pattern), table, orgs)


def organisations() -> frozenset[str]:
    """The organisation labels that :func:`extract_actors` can report (the rest are countries)."""
    return _gazetteer().organisations


def find_mentions(text: str, field: str = "body") -> list[Mention]:
    """Every actor mention in ``text``, in order, weak ones included (not yet corroborated)."""
    return _gazetteer().find(text, field)


def _neighbours(
    evidence: Sequence[Evidence], body_sentences: Sequence[Span], starts: Sequence[int]
) -> list[Span]:
    """The body sentence just before and the one just after each body evidence span (which may
    cover several sentences), in that order."""
    out: list[Span] = []
    for ev in evidence:
        if ev.field != "body":
            continue
        first = bisect.bisect_right(starts, ev.start) - 1  # the sentence the evidence starts in
        after = bisect.bisect_left(starts, ev.end)  # the first sentence that starts after it
        if first >= 1:
            out.append(body_sentences[first - 1])
        if after < len(body_sentences):
            out.append(body_sentences[after])
    return out


def extract_actors(
    article: Article,
    signals: Sequence[Signal],
    *,
    limit: int = MAX_ACTORS,
    sentences: Sequence[Span] | None = None,
) -> list[str]:
    """The actors of ``article``, most relevant first; see the module docstring for the rule.

    ``sentences`` may pass the spans the classifier already split (e.g. from
    :func:`~streams.classifier.sentences.article_spans`) to save splitting the body again;
    only the body spans are used.
    """
    gaz = _gazetteer()
    found = {"title": gaz.find(article.title, "title"), "body": gaz.find(article.body, "body")}
    strong = {m.label for ms in found.values() for m in ms if not m.weak}
    mentions = {f: [m for m in ms if not m.weak or m.label in strong] for f, ms in found.items()}

    ordered: dict[str, None] = {}  # insertion-ordered set

    if sentences is None:
        body_sentences = split_sentences(article.body, "body")
    else:
        body_sentences = sorted((s for s in sentences if s.field == "body"), key=lambda s: s.start)
    starts = [s.start for s in body_sentences]

    def labels_in(field: str, start: int, end: int) -> bool:
        """Add the actors mentioned in ``field[start:end]``; whether there was any."""
        found = False
        for m in mentions[field]:
            if m.start < end and m.end > start:
                ordered.setdefault(m.label)
                found = True
        return found

    # 1. Evidence of the signals: escalation categories first, then in the order given.
    evidence = [
        ev
        for signal in sorted(signals, key=lambda s: s.category not in ESCALATION_CATEGORIES)
        for ev in signal.evidence
    ]
    silent = [ev for ev in evidence if not labels_in(ev.field, ev.start, ev.end)]

    # 2. The body sentences next to each evidence sentence that names nobody.
    for neighbour in _neighbours(silent, body_sentences, starts):
        labels_in("body", neighbour.start, neighbour.end)

    # 3. Title, then the lead sentence of the body.
    for m in mentions["title"]:
        ordered.setdefault(m.label)
    if body_sentences:
        lead_end = body_sentences[0].end
        for m in mentions["body"]:
            if m.start < lead_end:
                ordered.setdefault(m.label)

    # 4. Actors in at least MIN_SENTENCES distinct sentences (the title counts as one).
    seen_in: dict[str, set[tuple[str, int]]] = {}
    first_seen: dict[str, int] = {}
    for order, m in enumerate(mentions["title"] + mentions["body"]):
        index = 0 if m.field == "title" else bisect.bisect_right(starts, m.start) - 1
        seen_in.setdefault(m.label, set()).add((m.field, index))
        first_seen.setdefault(m.label, order)
    recurring = [label for label, seen in seen_in.items() if len(seen) >= MIN_SENTENCES]
    for label in sorted(recurring, key=lambda lb: (-len(seen_in[lb]), first_seen[lb])):
        ordered.setdefault(label)

    # 5. Nobody yet: everyone mentioned, by first mention.
    if not ordered:
        for label in sorted(first_seen, key=first_seen.__getitem__):
            ordered.setdefault(label)

    return list(ordered)[: max(0, limit)]
