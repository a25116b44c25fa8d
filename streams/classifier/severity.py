"""Severity of an article: a number from 0 to 100 and a level, by a fixed rule.

All constants are in one table, :data:`RULE`; docs/SEVERITY.md specifies the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from schemas.events import ESCALATION_CATEGORIES, Category, Level, Signal

__all__ = ["RULE", "SeverityRule", "level_for", "score_severity"]


@dataclass(frozen=True)
class SeverityRule:
    """Every constant of the severity rule (see the module docstring for how they combine)."""

    weights: Mapping[Category, float] = field(
        default_factory=lambda: {
            "use_of_force": 70,
            "nuclear_wmd": 65,
            "threat": 50,
            "military_posture": 45,
            "regime_instability": 40,
            "diplomatic_rupture": 35,
            "sanctions": 30,
            "security_cooperation": 20,
        }
    )
    #: A signal at score s counts weight * (score_floor + (1 - score_floor) * s).
    score_floor: float = 0.5
    breadth_share: float = 0.2
    breadth_cap: float = 15
    #: (category, category, bonus, floor): added when both are present; the result is at least floor.
    pairs: tuple[tuple[Category, Category, float, float], ...] = (
        ("nuclear_wmd", "use_of_force", 15, 80),
        ("nuclear_wmd", "threat", 10, 0),
    )
    nuclear_armed: frozenset[str] = frozenset({"US", "RU", "CN", "GB", "FR", "IN", "PK", "KP", "IL"})
    one_nuclear_bonus: float = 6
    two_nuclear_bonus: float = 6
    many_states: int = 3
    many_states_bonus: float = 4
    de_escalation_weight: float = 10
    #: Lowest severity of each level above "none", highest first.
    bands: tuple[tuple[int, Level], ...] = ((80, "critical"), (55, "high"), (30, "medium"), (1, "low"))


RULE: Final = SeverityRule()


def level_for(severity: int, rule: SeverityRule = RULE) -> Level:
    """The level of a severity: ``none`` for 0, else the band it falls in."""
    for lowest, level in rule.bands:
        if severity >= lowest:
            return level
    return "none"


def _is_state(actor: str) -> bool:
    if len(actor) != 2 or not actor.isupper():
        return False
    import pycountry  # its database loads on first use; cached by pycountry

    return pycountry.countries.get(alpha_2=actor) is not None


def score_severity(
    signals: Sequence[Signal], actors: Sequence[str], rule: SeverityRule = RULE
) -> tuple[int, Level]:
    """Severity 0–100 and its level for an article's signals and actors (rule in the docstring)."""
    scores: dict[Category, float] = {}
    for signal in signals:
        scores[signal.category] = max(signal.score, scores.get(signal.category, 0.0))

    def scaled(score: float) -> float:
        return rule.score_floor + (1 - rule.score_floor) * score

    contributions = sorted(
        (rule.weights[c] * scaled(s) for c, s in scores.items() if c in ESCALATION_CATEGORIES),
        reverse=True,
    )
    if not contributions:
        return 0, "none"

    total = contributions[0] + min(rule.breadth_cap, rule.breadth_share * sum(contributions[1:]))
    floor = 0.0
    for first, second, bonus, pair_floor in rule.pairs:
        if first in scores and second in scores:
            total += bonus
            floor = max(floor, pair_floor)

    states = {a for a in actors if _is_state(a)}
    nuclear = len(states & rule.nuclear_armed)
    if nuclear >= 1:
        total += rule.one_nuclear_bonus
    if nuclear >= 2:
        total += rule.two_nuclear_bonus
    if len(states) >= rule.many_states:
        total += rule.many_states_bonus

    if "de_escalation" in scores:
        total -= rule.de_escalation_weight * scaled(scores["de_escalation"])

    severity = min(100, max(1, math.floor(max(total, floor) + 0.5)))
    return severity, level_for(severity, rule)
