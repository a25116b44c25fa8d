"""The alert lifecycle of a story: created, updated only on material change, retracted, replay-safe."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import CATEGORIES, ESCALATION_CATEGORIES, Category, Level
from streams.pipeline.lifecycle import (
    LEVELS,
    AlertChange,
    LevelRaised,
    NewActors,
    NewCategory,
    PublishersCrossed,
    Retracted,
    StoryAlertState,
    StoryArticle,
    apply,
    latest_per_alert,
    story_alert_id,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def art(
    aid: str,
    *,
    version: int = 1,
    withdrawn: bool = False,
    story: str = "harbour-strike",
    family: str = "northwire",
    categories: Sequence[Category] = ("use_of_force",),
    level: Level = "high",
    severity: int = 70,
    actors: Sequence[str] = ("RU", "UA"),
    duplicate_of: str | None = None,
    minute: int = 0,
) -> StoryArticle:
    return StoryArticle(
        article_id=aid,
        article_version=version,
        withdrawn=withdrawn,
        story_id=story,
        duplicate_of=duplicate_of,
        publisher_family=family,
        escalation=any(c in ESCALATION_CATEGORIES for c in categories),
        categories=tuple(categories),
        level=level,
        severity=severity,
        actors=tuple(actors),
        event_time=T0 + timedelta(minutes=minute),
    )


def run(
    events: Iterable[StoryArticle], states: dict[str, StoryAlertState] | None = None, memory: int = 8
) -> tuple[dict[str, StoryAlertState], list[AlertChange | None]]:
    """Apply events in order, one state per story, as the stream agent does."""
    states = dict(states or {})
    out: list[AlertChange | None] = []
    for event in events:
        states[event.story_id], message = apply(states.get(event.story_id), event, replay_memory=memory)
        out.append(message)
    return states, out


def published(messages: Iterable[AlertChange | None]) -> list[AlertChange]:
    return [m for m in messages if m is not None]


def test_created_then_updated_on_a_new_category_then_retracted_when_all_articles_are_withdrawn() -> None:
    _, out = run(
        [
            art("a1"),
            art("a2", categories=("use_of_force", "sanctions")),
            art("a1", withdrawn=True),
            art("a2", withdrawn=True),
        ]
    )
    created, updated, nothing, retracted = out
    assert nothing is None
    assert created is not None
    assert updated is not None
    assert retracted is not None
    assert (created.status, created.version, created.changes) == ("created", 1, ())
    assert created.alert_id == story_alert_id("harbour-strike")
    assert created.article_ids == ("a1",)
    assert (updated.status, updated.version) == ("updated", 2)
    assert updated.changes == (NewCategory(value="sanctions"),)
    assert updated.categories == ("use_of_force", "sanctions")  # codebook order
    assert updated.article_ids == ("a1", "a2")
    assert (retracted.status, retracted.version) == ("retracted", 3)
    assert retracted.changes == (Retracted(reason="all_articles_withdrawn"),)
    assert retracted.article_ids == ()
    assert retracted.trigger.article_id == "a2"
    assert retracted.trigger.withdrawn
    assert {m.alert_id for m in (created, updated, retracted)} == {created.alert_id}


def test_nothing_immaterial_is_published() -> None:
    _, out = run(
        [
            art("a1", severity=70),
            art("a2", family="northwire"),  # same category and actors, same publisher family
            art("a3", level="medium", severity=40),  # a lower level
            art("a4", actors=("UA",), severity=79),  # known actors; higher severity, same level
            art("a1", version=2, categories=()),  # drops its signals, but a2..a4 still escalate
        ]
    )
    assert [m.status if m else None for m in out] == ["created", None, None, None, None]


def test_a_higher_level_and_new_actors_are_material() -> None:
    _, out = run([art("a1"), art("a2", level="critical"), art("a3", actors=("UA", "BY", "RU"))])
    _, raised, actors = out
    assert raised is not None
    assert actors is not None
    assert raised.changes == (LevelRaised(from_="high", to="critical"),)
    assert json.loads(raised.model_dump_json())["changes"] == [
        {"kind": "level_raised", "from": "high", "to": "critical"}
    ]
    assert actors.changes == (NewActors(value=("BY",)),)
    assert actors.actors == ("RU", "UA", "BY")  # union by first appearance
    assert actors.level == "critical"


def test_publisher_count_updates_on_crossing_2_and_5_only() -> None:
    events = [art(f"a{i}", family=f"family-{i}", minute=i) for i in range(1, 7)]
    _, out = run(events)
    assert [m.status if m else None for m in out] == ["created", "updated", None, None, "updated", None]
    assert out[1] is not None
    assert out[4] is not None
    assert out[1].changes == (PublishersCrossed(value=2),)
    assert out[4].changes == (PublishersCrossed(value=5),)
    assert out[4].independent_publishers == 5


def test_a_duplicate_counts_its_publisher_family() -> None:
    _, out = run([art("a1"), art("copy", family="eastpost", duplicate_of="a1")])
    assert out[1] is not None
    assert out[1].changes == (PublishersCrossed(value=2),)
    assert out[1].article_ids == ("a1", "copy")


def test_a_new_version_that_loses_its_signals_retracts_below_threshold() -> None:
    _, out = run(
        [
            art("a1"),
            art("a2", categories=("de_escalation",), level="low"),
            art("a1", version=2, categories=(), level="none", severity=5),
        ]
    )
    assert [m.status if m else None for m in out] == ["created", "updated", "retracted"]
    retracted = out[2]
    assert retracted is not None
    assert retracted.changes == (Retracted(reason="below_threshold"),)
    assert retracted.article_ids == ("a1", "a2")
    assert retracted.level == "low"


def test_a_retracted_story_that_escalates_again_is_created_again_with_the_next_version() -> None:
    _, out = run(
        [
            art("a1"),
            art("a1", version=2, categories=()),
            art("a1", version=3, categories=("threat",)),
            art("a1", version=3, withdrawn=True),
            art("a2"),
        ]
    )
    assert [(m.status, m.version) for m in published(out)] == [
        ("created", 1),
        ("retracted", 2),
        ("created", 3),
        ("retracted", 4),
        ("created", 5),
    ]
    assert published(out)[3].changes == (Retracted(reason="all_articles_withdrawn"),)
    assert len({m.alert_id for m in published(out)}) == 1


def test_a_story_without_escalation_publishes_nothing() -> None:
    states, out = run([art("a1", categories=("de_escalation",)), art("a1", withdrawn=True)])
    assert out == [None, None]
    assert states["harbour-strike"].version == 0


def test_an_older_version_arriving_late_is_ignored() -> None:
    states, _ = run([art("a1", version=2)])
    before = states["harbour-strike"]
    after, message = apply(before, art("a1", version=1, level="critical", categories=("nuclear_wmd",)))
    assert message is None
    assert after is before


def test_a_replayed_input_returns_the_same_message_and_leaves_the_state_unchanged() -> None:
    events = [art("a1"), art("a2", family="eastpost"), art("a3", family="eastpost")]
    states, out = run(events)
    state = states["harbour-strike"]
    for event, first in zip(events, out, strict=True):
        again_state, again = apply(state, event)
        assert again_state is state
        assert again == first


def test_replay_memory_bounds_what_a_replay_can_return() -> None:
    events = [art("a1"), art("a2", family="eastpost"), art("a3", level="critical")]
    states, out = run(events, memory=1)
    state = states["harbour-strike"]
    assert len(state.recent) == 1
    assert apply(state, events[0], replay_memory=1) == (state, None)  # forgotten: not re-sent
    assert apply(state, events[2], replay_memory=1) == (state, out[2])


def test_the_state_round_trips_through_json_and_continues_identically() -> None:
    events = [
        art("a1"),
        art("a2", family="eastpost", level="critical", duplicate_of="a1"),
        art("a1", withdrawn=True),
    ]
    states, _ = run(events)
    state = states["harbour-strike"]
    restored = StoryAlertState.model_validate_json(state.model_dump_json())
    assert restored == state
    assert restored.model_dump_json() == state.model_dump_json()
    nxt = art("a4", family="westgazette", actors=("PL",))
    assert apply(restored, nxt) == apply(state, nxt)


def test_an_article_of_another_story_is_refused() -> None:
    state, _ = apply(None, art("a1"))
    with pytest.raises(ValueError, match="other-story"):
        apply(state, art("b1", story="other-story"))


def test_the_latest_message_per_alert_is_the_current_picture() -> None:
    _, out = run(
        [
            art("a1"),
            art("b1", story="border-talks"),
            art("a2", categories=("sanctions",)),
            art("b1", withdrawn=True, story="border-talks"),
        ]
    )
    messages = published(out)
    latest = latest_per_alert(messages)
    assert latest == latest_per_alert(reversed(messages))
    assert latest[story_alert_id("harbour-strike")].version == 2
    assert latest[story_alert_id("border-talks")].status == "retracted"


# Property: a crash replays inputs from the last committed offset against a state that may be
# ahead of it; that must never publish two different messages under one (alert_id, version).

article_events = st.builds(
    lambda story, aid, version, withdrawn, family, categories, level, actors: art(
        f"{story}-{aid}",
        story=story,
        version=version,
        withdrawn=withdrawn,
        family=family,
        categories=categories,
        level=level,
        severity=LEVELS.index(level) * 20,
        actors=actors,
    ),
    st.sampled_from(["harbour-strike", "border-talks"]),
    st.sampled_from("abcd"),
    st.integers(1, 3),
    st.booleans(),
    st.sampled_from(["f1", "f2", "f3", "f4", "f5", "f6"]),
    st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True),
    st.sampled_from(LEVELS),
    st.lists(st.sampled_from(["RU", "UA", "BY", "PL"]), max_size=2, unique=True),
)


@settings(max_examples=100, deadline=None)
@given(events=st.lists(article_events, max_size=30), data=st.data())
def test_replaying_any_prefix_never_publishes_two_versions_alike(
    events: list[StoryArticle], data: st.DataObject
) -> None:
    crash = data.draw(st.integers(0, len(events)), label="crash")
    resume = data.draw(st.integers(0, crash), label="committed offset")
    memory = data.draw(st.integers(0, 4), label="replay memory")
    straight_states, straight = run(events, memory=memory)
    states, before_crash = run(events[:crash], memory=memory)
    states, after_restart = run(events[resume:], states, memory=memory)

    assert states == straight_states
    by_key: dict[tuple[str, int], AlertChange] = {}
    for message in published([*straight, *before_crash, *after_restart]):
        assert by_key.setdefault((message.alert_id, message.version), message) == message
    versions: dict[str, dict[int, None]] = {}  # first appearances, in order (a replay repeats one)
    for message in published(straight):
        versions.setdefault(message.alert_id, {})[message.version] = None
    for seen in versions.values():
        assert list(seen) == list(range(1, len(seen) + 1))
    replayed = {(m.alert_id, m.version) for m in published([*before_crash, *after_restart])}
    assert replayed == set(by_key)
