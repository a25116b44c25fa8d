"""Syndication detection on wire copy written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.pipeline.syndication import SyndicationIndex, SyndicationState

T0 = datetime(2031, 5, 2, 9, 0, tzinfo=UTC)

WIRE = (
    "MERIDA, Valdoria (Wire) — Valdorian police arrested three men on Friday over the theft of the "
    "Sunstone crown from the national museum in Merida, interior minister Anika Rell said. The crown, "
    "made in 1711 and set with 212 garnets, was taken during a night power cut last week. Rell said the "
    "men had worked for a cleaning contractor and that the crown was found in a garage near the port. "
    "Museum director Lio Castan thanked the police and said the crown would be shown again in June."
)
LIGHT_EDIT = (
    "Valdorian police have arrested three men on Friday over the theft of the Sunstone crown from the "
    "national museum in Merida, interior minister Anika Rell said. The crown, made in 1711 and set with "
    "212 garnets, was taken during a night power cut last week. Rell said the men had worked for a "
    "cleaning contractor and that the crown was found in a garage near the port."
)
OTHER = (
    "The Kessel rowing club won the river cup for a fourth year running on Sunday, beating Arlo by two "
    "lengths in a race slowed by a strong head wind. Coach Mira Dane said the crew had trained at dawn "
    "all winter and would now aim for the national title in August."
)


def test_exact_copy_found_by_hash() -> None:
    index = SyndicationIndex()
    assert index.check("w1", WIRE, T0) is None
    reposted = "  " + WIRE.upper().replace("—", "-") + "\n"
    assert index.check("w2", reposted, T0 + timedelta(hours=1)) == "w1"


def test_lightly_edited_shorter_copy_found() -> None:
    index = SyndicationIndex()
    index.check("w1", WIRE, T0)
    assert index.check("w2", LIGHT_EDIT, T0 + timedelta(hours=2)) == "w1"


def test_unrelated_article_is_not_a_copy() -> None:
    index = SyndicationIndex()
    index.check("w1", WIRE, T0)
    assert index.check("r1", OTHER, T0) is None


def test_copy_of_a_copy_points_at_the_first() -> None:
    index = SyndicationIndex()
    index.check("w1", WIRE, T0)
    index.check("w2", LIGHT_EDIT, T0)
    assert index.check("w3", LIGHT_EDIT + " Shown again in June.", T0) == "w1"


def test_redelivery_gives_the_same_answer() -> None:
    index = SyndicationIndex()
    index.check("w1", WIRE, T0)
    assert index.check("w2", LIGHT_EDIT, T0) == "w1"
    assert index.check("w2", LIGHT_EDIT, T0) == "w1"
    assert index.check("w1", WIRE, T0) is None


def test_forgotten_after_the_window() -> None:
    index = SyndicationIndex(window_hours=24)
    index.check("w1", WIRE, T0)
    assert index.check("w2", WIRE, T0 + timedelta(hours=30)) is None
    assert set(index.state.seen) == {"w2"}


def test_state_round_trips_through_json() -> None:
    index = SyndicationIndex()
    index.check("w1", WIRE, T0)
    state = SyndicationState.model_validate_json(index.state.model_dump_json())
    assert SyndicationIndex(state=state).check("w2", LIGHT_EDIT, T0) == "w1"
