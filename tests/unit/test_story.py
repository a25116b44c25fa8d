"""Online story clustering on articles written for these tests (never the dev set's text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streams.pipeline.story import StoryConfig, StoryIndex, StoryState, features

T0 = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)

DAM = (
    "Floodwater breached the Korvani dam near the town of Lessk early on Tuesday, forcing 4,200 residents "
    "of Ardenia to leave their homes. Ardenian emergency minister Petra Volk said rescue teams reached "
    "the Lessk valley by boat and that the breach in the Korvani dam was 40 metres wide."
)
DAM_REWRITE = (
    "Some 4,200 people fled Lessk after the Korvani dam gave way, Ardenia's emergency minister Petra Volk "
    "told reporters. Boats carried rescue teams into the flooded Lessk valley, where the 40-metre breach "
    "sent water through the streets of the Ardenian town."
)
DAM_AGAIN = (
    "A second dam, the Orsha reservoir wall near Tavrin, failed in Ardenia on Saturday, emergency minister "
    "Petra Volk said, and 900 residents of Tavrin were moved to a school. Ardenian officials said the Orsha "
    "wall had been inspected in January."
)
SUMMIT = (
    "Leaders of Borvia and Calderra met in the port of Nimsk and signed a fishing accord that ends a "
    "six-year dispute over the Gull Banks, Borvian prime minister Tomas Eld said after the talks."
)


def _assign(index: StoryIndex, article_id: str, body: str, when: datetime, **kw: object) -> str:
    return index.assign(article_id, "", body, when, **kw).story_id  # type: ignore[arg-type]


def test_rewrites_of_one_event_share_a_story() -> None:
    index = StoryIndex()
    first = index.assign("a1", "Korvani dam breach forces 4,200 from Lessk", DAM, T0)
    second = index.assign("a2", "", DAM_REWRITE, T0 + timedelta(hours=5), publisher="paper-b")
    assert first.is_new
    assert not second.is_new
    assert second.story_id == first.story_id == "story-a1"


def test_unrelated_event_opens_its_own_story() -> None:
    index = StoryIndex()
    a = _assign(index, "a1", DAM, T0)
    b = _assign(index, "b1", SUMMIT, T0 + timedelta(hours=1))
    assert a != b


def test_look_alike_days_later_is_a_new_story() -> None:
    """Same country, same minister, another dam four days later: a different event."""
    index = StoryIndex()
    a = _assign(index, "a1", DAM, T0)
    _assign(index, "a2", DAM_REWRITE, T0 + timedelta(hours=3))
    later = _assign(index, "c1", DAM_AGAIN, T0 + timedelta(days=4))
    assert later != a


def test_disjoint_actors_are_not_merged() -> None:
    index = StoryIndex()
    a = _assign(index, "a1", DAM, T0, actors={"FR"})
    b = _assign(index, "a2", DAM_REWRITE, T0 + timedelta(hours=1), actors={"DE"})
    c = _assign(index, "a3", DAM_REWRITE, T0 + timedelta(hours=2), actors={"FR", "BE"})
    assert a != b
    assert c == a


def test_forced_join_follows_the_original() -> None:
    index = StoryIndex()
    a = _assign(index, "a1", DAM, T0)
    b = index.assign("b1", "", SUMMIT, T0, join=a)
    assert b.story_id == a
    assert not b.is_new


def test_stories_are_evicted_after_the_window() -> None:
    index = StoryIndex(StoryConfig(window_hours=24))
    a = _assign(index, "a1", DAM, T0)
    assert index.story_of(a) is not None
    b = _assign(index, "a2", DAM_REWRITE, T0 + timedelta(hours=30))
    assert index.story_of(a) is None
    assert b != a
    assert list(index.state.stories) == [b]
    assert all(set(p) <= {b} for p in index._postings.values())


def test_publisher_families_are_counted_once() -> None:
    index = StoryIndex()
    sid = index.assign("a1", "", DAM, T0, publisher="ap").story_id
    index.assign("a2", "", DAM_REWRITE, T0, publisher="bbc")
    index.assign("a3", "", DAM, T0, publisher="bbc")
    story = index.story_of(sid)
    assert story is not None
    assert story.independent_publishers == 2


def test_state_round_trips_through_json() -> None:
    """A restarted worker rebuilds the index from the table and continues the same stories."""
    index = StoryIndex()
    a = _assign(index, "a1", DAM, T0)
    _assign(index, "b1", SUMMIT, T0)
    restored = StoryIndex(state=StoryState.model_validate_json(index.state.model_dump_json()))
    assert _assign(restored, "a2", DAM_REWRITE, T0 + timedelta(hours=2)) == a


def test_candidates_come_from_the_index_not_a_scan() -> None:
    index = StoryIndex()
    for i in range(20):
        word = "".join(chr(ord("a") + (i * 7 + k) % 26) for k in range(6))
        _assign(index, f"s{i}", f"{word}ville {word}ton {word}berg {word}ham", T0)
    assert len(index.state.stories) == 20
    assert index._candidates(features("", DAM, index.config)) == []


@pytest.mark.parametrize("hours", [0, 12, 30])
def test_story_id_is_deterministic(hours: int) -> None:
    runs = []
    for _ in range(2):
        index = StoryIndex()
        runs.append(
            [_assign(index, i, body, T0 + timedelta(hours=hours)) for i, body in [("x", DAM), ("y", SUMMIT)]]
        )
    assert runs[0] == runs[1] == ["story-x", "story-y"]
