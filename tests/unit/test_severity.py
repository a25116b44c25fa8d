"""The severity rule (streams.classifier.severity): bands, monotonicity, combinations, actors."""

from __future__ import annotations

import pytest

from schemas.events import CATEGORIES, ESCALATION_CATEGORIES, Article, Category, Evidence, Signal
from streams.classifier.severity import RULE, level_for, score_severity

ART = Article(id="sev-1", title="", body="The ministry issued a statement on Tuesday.")
EV = Evidence(field="body", start=0, end=len(ART.body), text=ART.body)


def sig(category: Category, score: float = 0.9) -> Signal:
    return Signal(category=category, score=score, evidence=[EV])


def test_no_signals_is_none() -> None:
    assert score_severity([], []) == (0, "none")
    assert score_severity([], ["US", "RU"]) == (0, "none")


def test_de_escalation_alone_is_none() -> None:
    assert score_severity([sig("de_escalation", 1.0)], ["US", "RU", "CN"]) == (0, "none")


def test_weights_cover_every_escalation_category() -> None:
    assert set(RULE.weights) == set(ESCALATION_CATEGORIES)
    assert "de_escalation" not in RULE.weights
    assert set(CATEGORIES) - set(RULE.weights) == {"de_escalation"}


@pytest.mark.parametrize(
    ("signals", "actors", "expected"),
    [
        # 20 * (0.5 + 0.5 * 0.5) = 15
        ([sig("security_cooperation", 0.5)], [], (15, "low")),
        # 30 * 0.9 = 27
        ([sig("sanctions", 0.8)], ["CU"], (27, "low")),
        # 50 * 0.9 = 45
        ([sig("threat", 0.8)], [], (45, "medium")),
        # 70 * 1.0 = 70
        ([sig("use_of_force", 1.0)], ["SD"], (70, "high")),
        # 70 + 6 + 6 (two nuclear-armed states) = 82
        ([sig("use_of_force", 1.0)], ["US", "RU"], (82, "critical")),
        # nuclear + force: floor of 80 even at the lowest scores (35 + 6.5 + 15 = 56.5 -> 80)
        ([sig("use_of_force", 0.0), sig("nuclear_wmd", 0.0)], [], (80, "critical")),
    ],
)
def test_each_band_reachable(signals: list[Signal], actors: list[str], expected: tuple[int, str]) -> None:
    assert score_severity(signals, actors) == expected


def test_nuclear_and_force_is_critical() -> None:
    for score in (0.0, 0.3, 0.6, 1.0):
        severity, level = score_severity([sig("nuclear_wmd", score), sig("use_of_force", score)], [])
        assert level == "critical"
        assert severity >= 80
    # with high scores it goes beyond the floor: 70 + 13 + 15 = 98
    assert score_severity([sig("nuclear_wmd", 1.0), sig("use_of_force", 1.0)], []) == (98, "critical")


def test_nuclear_alone_is_not_critical() -> None:
    assert score_severity([sig("nuclear_wmd", 1.0)], []) == (65, "high")


@pytest.mark.parametrize("category", ESCALATION_CATEGORIES)
def test_monotone_in_score(category: Category) -> None:
    previous = 0
    for step in range(21):
        severity, _ = score_severity([sig(category, step / 20)], [])
        assert severity >= previous
        previous = severity
    low, _ = score_severity([sig(category, 0.0)], [])
    high, _ = score_severity([sig(category, 1.0)], [])
    assert high > low


def test_monotone_in_score_with_other_signals() -> None:
    others = [sig("threat", 0.7), sig("sanctions", 0.9)]
    results = [score_severity([*others, sig("military_posture", s / 10)], ["IR"])[0] for s in range(11)]
    assert results == sorted(results)
    assert results[-1] > results[0]


def test_highest_score_of_a_category_counts() -> None:
    assert score_severity([sig("threat", 0.2), sig("threat", 0.8)], []) == score_severity(
        [sig("threat", 0.8)], []
    )


def test_more_categories_raise_severity_up_to_a_cap() -> None:
    one, _ = score_severity([sig("threat", 1.0)], [])
    two, _ = score_severity([sig("threat", 1.0), sig("sanctions", 1.0)], [])
    assert two == one + 6  # 0.2 * 30
    everything = [sig(c, 1.0) for c in ESCALATION_CATEGORIES if c != "nuclear_wmd"]
    assert score_severity(everything, [])[0] == 70 + 15


def test_de_escalation_lowers_severity() -> None:
    base, _ = score_severity([sig("threat", 0.8)], [])
    lowered, _ = score_severity([sig("threat", 0.8), sig("de_escalation", 1.0)], [])
    assert lowered == base - 10


def test_severity_never_zero_for_an_escalation() -> None:
    severity, level = score_severity([sig("security_cooperation", 0.0), sig("de_escalation", 1.0)], [])
    assert (severity, level) == (1, "low")


def test_actor_bonuses() -> None:
    signals = [sig("threat", 0.8)]  # 45
    assert score_severity(signals, ["VE"])[0] == 45
    assert score_severity(signals, ["US", "VE"])[0] == 51  # one nuclear-armed state
    assert score_severity(signals, ["US", "CN"])[0] == 57  # two nuclear-armed states
    assert score_severity(signals, ["CU", "VE", "CO"])[0] == 49  # three states
    assert score_severity(signals, ["US", "RU", "CU"])[0] == 61


def test_organisations_are_not_states() -> None:
    signals = [sig("threat", 0.8)]
    assert score_severity(signals, ["NATO", "UN", "EU"])[0] == 45
    assert score_severity(signals, ["Hamas", "IL"])[0] == 51


def test_clamped_to_100() -> None:
    signals = [sig(c, 1.0) for c in ESCALATION_CATEGORIES]
    assert score_severity(signals, ["US", "RU", "CN", "GB"]) == (100, "critical")


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (0, "none"),
        (1, "low"),
        (29, "low"),
        (30, "medium"),
        (54, "medium"),
        (55, "high"),
        (79, "high"),
        (80, "critical"),
        (100, "critical"),
    ],
)
def test_level_bands(severity: int, level: str) -> None:
    assert level_for(severity) == level


def test_deterministic() -> None:
    signals = [sig("use_of_force", 0.77), sig("threat", 0.61), sig("sanctions", 0.55)]
    first = score_severity(signals, ["RU", "UA"])
    assert all(score_severity(signals, ["RU", "UA"]) == first for _ in range(5))
