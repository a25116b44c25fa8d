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


FERRY = (
    "A ferry carrying 300 passengers ran aground off Portugal's Berlenga islands on Monday. Portugal's "
    "navy said all passengers were taken to Peniche and that the hull of the Maré Azul was holed."
)
FERRY_REWRITE = (
    "Navy boats took the 300 passengers of the Maré Azul to Peniche after the ferry ran aground off the "
    "Berlenga islands; a tourist from Brazil said the hull was holed and water rose in the lower deck."
)
FERRY_ABROAD = (
    "Brazil's navy said a ferry ran aground off the Berlenga islands with 300 passengers, the Maré Azul "
    "holed, the passengers taken to Peniche; Brazil sent a consular team."
)


def test_salient_and_passing_actor_mentions() -> None:
    """Named in the title or twice is what an article is about; one passing mention is not."""
    first = features("", FERRY, StoryConfig())
    passing = features("", FERRY_REWRITE, StoryConfig())
    assert first.salient == {"PT"}
    assert "BR" in passing.actors
    assert not passing.salient
    assert features("Brazil sends help", FERRY_REWRITE, StoryConfig()).salient == {"BR"}


def test_a_passing_mention_does_not_veto_a_join() -> None:
    index = StoryIndex()
    a = _assign(index, "a1", FERRY, T0)
    b = _assign(index, "a2", FERRY_REWRITE, T0 + timedelta(hours=2))
    assert b == a


def test_articles_about_foreign_actors_are_vetoed() -> None:
    """Each side is about actors the other never names: not merged, however similar the words."""
    index = StoryIndex()
    a = _assign(index, "a1", FERRY, T0)
    b = _assign(index, "b1", FERRY_ABROAD, T0 + timedelta(hours=2))
    assert b != a


def test_the_members_must_vouch_for_an_article_not_only_the_centroid() -> None:
    """A story of two halves: an article mixing them matches the centroid but neither member."""
    left = "alpha bravo charlie delta echo foxtrot"
    right = "golf hotel india juliett kilo lima"
    mixed = "alpha bravo charlie golf hotel india"
    for gate, joins in ((0.6, False), (0.4, True)):
        index = StoryIndex(StoryConfig(member_gate=gate, threshold=0.1))
        index.assign("a1", "", left, T0, actors=())
        index.assign("a2", "", right, T0, join="story-a1", actors=())
        story = index.story_of("story-a1")
        assert story is not None
        feats = features("", mixed, index.config, ())
        assert index.similarity(feats, story, T0.timestamp()) > 0.6
        assert index.member_similarity(feats, story) == pytest.approx(0.5, abs=0.01)
        placed = index.assign("m1", "", mixed, T0, actors=())
        assert (placed.story_id == "story-a1") is joins
