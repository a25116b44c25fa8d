"""The pure pipeline: resilient batch classification, classified articles, alerts and their ids."""

from __future__ import annotations

import pytest

from schemas import Article, ErrorType, ModelInfo
from streams.pipeline.alert import alert_id, build_alert, summarise
from streams.pipeline.classify import ClassificationFailure, classify_articles
from tests.support.corpus import T0
from tests.support.fakes import KeywordClassifier


def art(aid: str, body: str, title: str = "", version: int = 1) -> Article:
    return Article(id=aid, title=title, body=body, version=version)


def test_a_poison_article_fails_alone_and_the_rest_of_the_batch_is_classified() -> None:
    fake = KeywordClassifier()
    batch = [
        art("a", "Washington warned Havana."),
        art("b", "It may explode."),
        art("c", "A ceasefire held."),
    ]
    results = classify_articles(fake, batch, [T0] * 3, now=lambda: T0)
    assert isinstance(results[1], ClassificationFailure)
    assert results[1].article.id == "b"
    assert "exploded" in results[1].error_message
    assert [r.article_id for r in (results[0], results[2])] == ["a", "c"]  # type: ignore[union-attr]
    # whole batch, its retry, then one by one
    assert fake.calls == [3, 3, 1, 1, 1]


def test_a_healthy_batch_is_classified_in_one_call() -> None:
    fake = KeywordClassifier()
    results = classify_articles(
        fake, [art("a", "Calm day."), art("b", "Drone strike hit a depot.")], [T0] * 2
    )
    assert fake.calls == [2]
    assert [r.escalation for r in results] == [False, True]  # type: ignore[union-attr]


def test_alert_ids_are_deterministic_in_article_version_and_model() -> None:
    m1 = ModelInfo(encoder="e", head_version="h1", thresholds_version="t1")
    m2 = ModelInfo(encoder="e", head_version="h2", thresholds_version="t1")
    assert alert_id("a", 1, m1) == alert_id("a", 1, m1)
    assert len({alert_id("a", 1, m1), alert_id("a", 2, m1), alert_id("b", 1, m1), alert_id("a", 1, m2)}) == 4


@pytest.mark.parametrize(
    ("body", "alerted"), [("Washington warned Havana of a strike.", True), ("A ceasefire.", False)]
)
def test_alerts_only_for_escalations(body: str, alerted: bool) -> None:
    article = art("x", body, title="Headline")
    (classified,) = classify_articles(KeywordClassifier(), [article], [T0], now=lambda: T0)
    assert not isinstance(classified, ClassificationFailure)
    alert = build_alert(classified, article)
    assert (alert is not None) == alerted
    if alert is not None:
        assert alert.alert_id == alert_id("x", 1, classified.model)
        assert alert.summary == "THREAT + USE OF FORCE — US: Headline"
        assert alert.article.title == "Headline"
        assert alert.signals == classified.signals
        assert alert.classification_fields() == classified.classification_fields()


def test_summary_without_title_uses_evidence_and_is_bounded() -> None:
    article = art("x", "Officials warned of reprisals. " + "More text. " * 100)
    (classified,) = classify_articles(KeywordClassifier(), [article], [T0])
    assert not isinstance(classified, ClassificationFailure)
    line = summarise(classified, article)
    assert line.startswith("THREAT: Officials warned of reprisals.")
    long_title = art("y", "They warned.", title="word " * 200)
    (c2,) = classify_articles(KeywordClassifier(), [long_title], [T0])
    assert not isinstance(c2, ClassificationFailure)
    assert len(summarise(c2, long_title)) == 400


def test_route_batch_gives_each_message_its_outputs_in_order() -> None:
    from streams.pipeline.decode import Source
    from streams.pipeline.route import Message, route_batch
    from streams.topics import ALERTS, CLASSIFIED, DEAD_LETTERS

    values = [
        b'{"id": "a", "title": "T", "body": "Washington warned of a strike."}',
        b"{not json",
        b'{"id": "b", "body": "It may explode."}',
        b'{"id": "c", "body": "A quiet day."}',
    ]
    messages = [Message(v, Source("in", 0, i, None)) for i, v in enumerate(values)]
    routed = route_batch(KeywordClassifier(), messages, received_at=T0, max_body_chars=1000, app_version="t")
    assert [[o.topic for o in outs] for outs in routed] == [
        [CLASSIFIED, ALERTS],
        [DEAD_LETTERS],
        [DEAD_LETTERS],
        [CLASSIFIED],
    ]
    assert routed[0][0].key == b"a"
    assert routed[0][1].key == b"a"
    assert routed[0][0].encode() == CLASSIFIED.encode(routed[0][0].value)  # type: ignore[arg-type]
    assert routed[1][0].key is None  # the input had no key: neither has its dead letter
    assert routed[1][0].value.error_type == ErrorType.INVALID_JSON  # type: ignore[union-attr]
    poison = routed[2][0].value
    assert poison.error_type == ErrorType.CLASSIFIER_ERROR  # type: ignore[union-attr]
    assert poison.original_bytes() == values[2]  # type: ignore[union-attr]
    assert poison.source_offset == 2  # type: ignore[union-attr]
