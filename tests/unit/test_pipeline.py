"""The pure pipeline: resilient batch classification, classified articles, alert summaries."""

from __future__ import annotations

from schemas import Article, Classification, ErrorType
from streams.pipeline.alert import strongest, summarise
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


def _classification(body: str, title: str = "") -> Classification:
    (classified,) = classify_articles(
        KeywordClassifier(), [art("x", body, title=title)], [T0], now=lambda: T0
    )
    assert not isinstance(classified, ClassificationFailure)
    return Classification(**classified.classification_fields())


def test_summary_names_the_escalations_actors_and_title_and_is_bounded() -> None:
    found = _classification("Washington warned Havana of a strike.")
    assert summarise(found, "Headline") == "THREAT + USE OF FORCE — US: Headline"
    assert summarise(found, "").startswith("THREAT + USE OF FORCE — US: Washington warned Havana")
    assert len(summarise(found, "word " * 200)) == 400


def test_the_strongest_escalating_article_explains_the_alert() -> None:
    from schemas import ArticleRef

    calm, threat = _classification("A ceasefire held."), _classification("Washington warned Havana.")
    stronger = threat.model_copy(update={"level": "high", "severity": 80})
    refs = [ArticleRef(id=i, version=1) for i in ("a", "b", "c")]
    assert strongest([(refs[0], calm)]) is None
    best = strongest([(refs[0], calm), (refs[1], threat), (refs[2], stronger)])
    assert best is not None
    assert best[0].id == "c"


def test_route_batch_gives_each_message_its_outputs_in_order() -> None:
    from streams.pipeline.decode import Source
    from streams.pipeline.route import Message, route_batch
    from streams.topics import CLASSIFIED, DEAD_LETTERS

    values = [
        b'{"id": "a", "title": "T", "body": "Washington warned of a strike."}',
        b"{not json",
        b'{"id": "b", "body": "It may explode."}',
        b'{"id": "c", "body": "A quiet day."}',
    ]
    messages = [Message(v, Source("in", 0, i, None)) for i, v in enumerate(values)]
    routed = route_batch(KeywordClassifier(), messages, received_at=T0, max_body_chars=1000, app_version="t")
    assert [[o.topic for o in outs] for outs in routed] == [
        [CLASSIFIED],
        [DEAD_LETTERS],
        [DEAD_LETTERS],
        [CLASSIFIED],
    ]
    assert routed[0][0].key == b"a"
    assert routed[0][0].encode() == CLASSIFIED.encode(routed[0][0].value)  # type: ignore[arg-type]
    assert routed[1][0].key is None  # the input had no key: neither has its dead letter
    assert routed[1][0].value.error_type == ErrorType.INVALID_JSON  # type: ignore[union-attr]
    poison = routed[2][0].value
    assert poison.error_type == ErrorType.CLASSIFIER_ERROR  # type: ignore[union-attr]
    assert poison.original_bytes() == values[2]  # type: ignore[union-attr]
    assert poison.source_offset == 2  # type: ignore[union-attr]
