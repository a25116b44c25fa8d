"""The stream's two stages without Kafka: classify (with the copy cache), then stories and alerts.

Stage 2 runs over plain dicts standing in for the Faust tables, so these tests also check that
the state written through after every article rebuilds the same stage (a restarted worker).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from schemas import Alert, ClassifiedArticle, NewCategory, PublishersCrossed, Retracted, StoryInput
from streams.pipeline.assign import StoryAssigner
from streams.pipeline.copies import CopyCache
from streams.pipeline.decode import Source
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.route import Message, Output, route_to_stories
from streams.pipeline.story import StoryConfig
from streams.pipeline.story_tables import StoryTables
from streams.topics import ALERT_STATE, ALERTS, CLASSIFIED, DEAD_LETTERS, STORY_INPUTS
from tests.support.corpus import T0
from tests.support.fakes import KeywordClassifier

WIRE = (
    "Washington warned the northern fleet command on Tuesday that any strike on the Varnholm "
    "harbour would meet a response, after patrol boats from Ostrava Bay shadowed two cargo "
    "ships for most of the night near the disputed Kessel islands."
)
SANCTIONS = (
    "Washington announced a sanction package against the Varnholm harbour authority on "
    "Wednesday, widening its response to the patrol boats that shadowed cargo ships near the "
    "Kessel islands."
)


def article(aid: str, body: str, *, site: str, hours: float = 0, status: str = "published") -> bytes:
    return json.dumps(
        {
            "id": aid,
            "title": "Varnholm harbour standoff" if body else "",
            "body": body,
            "url": f"https://{site}/news/{aid}",
            "published_at": (T0 + timedelta(hours=hours)).isoformat(),
            "status": status,
        }
    ).encode()


def stage_one(
    values: list[bytes], copies: CopyCache, classifier: KeywordClassifier, received_at: datetime = T0
) -> list[Output]:
    messages = [Message(v, Source("in", 0, i, None)) for i, v in enumerate(values)]
    result = route_to_stories(
        classifier, messages, received_at=received_at, max_body_chars=10_000, app_version="t", copies=copies
    )
    return [out for outs in result.routed for out in outs]


def run(assigner: StoryAssigner, outputs: list[Output]) -> list[Output]:
    produced: list[Output] = []
    for out in outputs:
        assert out.topic is STORY_INPUTS
        # Through the wire format, as the agent reads it.
        item = STORY_INPUTS.decode(out.encode())
        assert isinstance(item, StoryInput)
        produced += assigner.assign(item).outputs
    return produced


def alerts_of(outputs: list[Output]) -> list[Alert]:
    return [o.value for o in outputs if o.topic is ALERTS]  # type: ignore[misc]


def new_assigner(tables: StoryTables) -> StoryAssigner:
    return StoryAssigner(tables, StoryConfig(), PublisherFamilies())


def test_copies_in_a_batch_and_in_the_cache_skip_the_model() -> None:
    classifier, copies = KeywordClassifier(), CopyCache()
    first = stage_one(
        [article("a1", WIRE, site="one.example"), article("a2", WIRE, site="two.example"), b"{bad"],
        copies,
        classifier,
    )
    later = stage_one(
        [article("a3", WIRE.replace("Tuesday", "Tuesday night"), site="three.example")], copies, classifier
    )
    assert classifier.calls == [1]  # only a1 went to the model
    assert [o.topic for o in first] == [STORY_INPUTS, STORY_INPUTS, DEAD_LETTERS]
    items = [o.value for o in [*first[:2], *later]]
    assert [i.copy_of for i in items] == [None, "a1", "a1"]  # type: ignore[union-attr]
    signals = {json.dumps([s.model_dump() for s in i.classification.signals]) for i in items}  # type: ignore[union-attr]
    assert len(signals) == 1


def test_a_withdrawal_is_not_classified_and_may_have_no_body() -> None:
    classifier = KeywordClassifier()
    (out,) = stage_one([article("a1", "", site="one.example", status="killed")], CopyCache(), classifier)
    assert classifier.calls == []
    assert isinstance(out.value, StoryInput)
    assert out.value.article.withdrawn
    assert out.value.classification is None


def test_the_lifecycle_of_a_story_created_updated_retracted() -> None:
    classifier, copies, tables = KeywordClassifier(), CopyCache(), StoryTables()
    assigner = new_assigner(tables)
    produced = run(assigner, stage_one([article("a1", WIRE, site="one.example")], copies, classifier))
    (created,) = alerts_of(produced)
    assert (created.status, created.version, created.article_ids) == ("created", 1, ["a1"])
    classified = [o.value for o in produced if o.topic is CLASSIFIED]
    assert isinstance(classified[0], ClassifiedArticle)
    assert classified[0].story_id == created.story_id
    assert [o.topic for o in produced] == [CLASSIFIED, ALERTS, ALERT_STATE]

    # A copy from a second publisher: corroboration crosses 2.
    produced = run(
        assigner, stage_one([article("a2", WIRE, site="two.example", hours=1)], copies, classifier)
    )
    (update,) = alerts_of(produced)
    assert update.version == 2
    assert update.changes == [PublishersCrossed(value=2)]
    assert produced[0].value.duplicate_of == "a1"  # type: ignore[union-attr]

    # The same copy again (redelivery): the identical message, nothing new.
    again = run(assigner, stage_one([article("a2", WIRE, site="two.example", hours=1)], copies, classifier))
    assert alerts_of(again) == [update]

    # A development with a new category: updated; then nothing material: no message.
    produced = run(
        assigner, stage_one([article("a3", SANCTIONS, site="three.example", hours=20)], copies, classifier)
    )
    (developed,) = alerts_of(produced)
    assert developed.story_id == created.story_id, "the development joins the story"
    assert NewCategory(value="sanctions") in developed.changes

    # Restart: a stage rebuilt from the tables continues the same story.
    assigner = new_assigner(tables)
    produced = run(
        assigner, stage_one([article("a4", WIRE, site="one.example", hours=21)], copies, classifier)
    )
    assert alerts_of(produced) == []
    assert produced[0].value.story_id == created.story_id  # type: ignore[union-attr]

    # Every article withdrawn: retracted, with the last explanation.
    withdrawals = [
        article(a, "", site="x.example", hours=22, status="withdrawn") for a in ("a1", "a2", "a3", "a4")
    ]
    produced = run(assigner, stage_one(withdrawals, copies, classifier))
    final = alerts_of(produced)[-1]
    assert final.status == "retracted"
    assert final.changes == [Retracted(reason="all_articles_withdrawn")]
    assert final.article_ids == []
    assert final.signals
    versions = [a.version for a in alerts_of(produced)]
    assert versions == sorted(versions)
    assert final.version == versions[-1]


def test_a_late_article_redelivered_after_its_story_left_the_window_replays_the_same_alert() -> None:
    """An article dated beyond the window opens a story that is evicted at once; redelivered
    (a crash before its offset was committed), it must not start the alert again at version 1."""
    tables = StoryTables()
    calm = article(
        "now-1", "Police said calm returned to the harbour city on Monday.", site="a.example", hours=200
    )
    late = article("late-1", WIRE, site="b.example", hours=0)
    later = article(
        "now-2", "Markets in the harbour city closed higher on Tuesday.", site="c.example", hours=201
    )
    first = alerts_of(
        run(new_assigner(tables), stage_one([calm, late, later], CopyCache(), KeywordClassifier()))
    )
    # A restarted worker: a new stage rebuilt from the tables, the late article read again.
    # Read again a few seconds later, so a second classification would differ from the first.
    reread = stage_one([late], CopyCache(), KeywordClassifier(), received_at=T0 + timedelta(seconds=5))
    again = alerts_of(run(new_assigner(tables), reread))
    assert [(a.alert_id, a.version, a.status) for a in first] == [(first[0].alert_id, 1, "created")]
    assert again == first


def test_a_redelivered_article_carries_the_answer_it_got_the_first_time() -> None:
    # Worker A's copy cache took a2 for a copy of a1, and a2's story input arrived before a1's
    # (another input partition); after a rebalance worker B, with a cold cache, sends a2 again.
    classifier, tables = KeywordClassifier(), StoryTables()
    warm = stage_one(
        [article("a1", WIRE, site="one.example"), article("a2", WIRE, site="two.example")],
        CopyCache(),
        classifier,
    )
    cold = stage_one([article("a2", WIRE, site="two.example")], CopyCache(), classifier)
    assert warm[1].value.copy_of == "a1"
    assert cold[0].value.copy_of is None
    assigner = new_assigner(tables)
    (first, *_) = run(assigner, [warm[1]])
    (again, *_) = run(new_assigner(tables), [cold[0]])  # a restarted stage, from the tables
    assert isinstance(first.value, ClassifiedArticle)
    assert isinstance(again.value, ClassifiedArticle)
    assert first.value.duplicate_of == "a1"
    assert again.value.model_dump() == first.value.model_dump()
