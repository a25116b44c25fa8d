"""The wire models: lossless JSON round trips, the committed JSON Schemas, strictness, normalisation."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas import (
    CATEGORIES,
    Alert,
    Article,
    ArticleRef,
    Classification,
    ClassifiedArticle,
    DeadLetter,
    ErrorType,
    Evidence,
    LevelRaised,
    ModelInfo,
    NewCategory,
    PublishersCrossed,
    Signal,
    StoryInput,
)
from schemas.events import MAX_RAW_TITLE_CHARS, _Classification
from schemas.text import normalise_text
from streams.topics import ALERTS, DEAD_LETTERS, REGISTRY, STORY_INPUTS, TopicSpec
from streams.topics import CLASSIFIED as CLASSIFIED_TOPIC

JSON_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"

PUBLISHED = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
RECEIVED = datetime(2026, 11, 27, 9, 31, 5, 250_000, tzinfo=UTC)
CLASSIFIED = RECEIVED + timedelta(milliseconds=840)

BODY = (
    "<p>WASHINGTON &mdash; The United States warned Cuba on Thursday that it would face "
    "&ldquo;serious consequences&rdquo; if Russian warships docked in Havana stayed past the "
    "end of the month.</p>\n<p>Two destroyers and a submarine arrived on Monday, the Pentagon said.</p>"
)


def make_article(**changes: Any) -> Article:
    """A realistic input article (HTML body, every optional field set)."""
    fields: dict[str, Any] = {
        "id": "reuters-2026-11-27-us-cuba-0042",
        "version": 2,
        "title": "US warns Cuba over Russian warships in Havana",
        "body": BODY,
        "source": "Reuters",
        "url": "https://www.reuters.com/world/americas/us-warns-cuba-2026-11-27/",
        "published_at": PUBLISHED,
        "language": "en",
        "authors": ["Jane Doe", "Carlos Ruiz"],
        "section": "World",
        "dateline": "WASHINGTON",
    }
    fields.update(changes)
    return Article(**fields)


def evidence_for(article: Article, field: str, phrase: str) -> Evidence:
    """Evidence whose offsets point at ``phrase`` in the article's normalised text."""
    text = getattr(article, field)
    start = text.index(phrase)
    return Evidence(field=field, start=start, end=start + len(phrase), text=phrase)


def scores(**high: float) -> dict[str, float]:
    return {category: high.get(category, 0.02) for category in CATEGORIES}


def classification(article: Article) -> dict[str, Any]:
    return {
        "escalation": True,
        "level": "high",
        "severity": 74,
        "scores": scores(threat=0.91, military_posture=0.83),
        "signals": [
            Signal(
                category="threat",
                score=0.91,
                evidence=[evidence_for(article, "body", "it would face “serious consequences”")],
            ),
            Signal(
                category="military_posture",
                score=0.83,
                evidence=[
                    evidence_for(article, "title", "Russian warships in Havana"),
                    evidence_for(article, "body", "Two destroyers and a submarine arrived"),
                ],
            ),
        ],
        "actors": ["US", "CU", "RU"],
        "model": ModelInfo(
            encoder="all-MiniLM-L6-v2", head_version="head-2026.11.1", thresholds_version="t3"
        ),
        "received_at": RECEIVED,
        "classified_at": CLASSIFIED,
        "language": "en",
        "language_supported": True,
    }


def make_classified(article: Article) -> ClassifiedArticle:
    return ClassifiedArticle(
        article_id=article.id,
        article_version=article.version,
        story_id=f"story-{article.id}",
        duplicate_of=None,
        publisher_family="reuters",
        **classification(article),
    )


def make_story_input(article: Article) -> StoryInput:
    return StoryInput(
        article=article,
        classification=Classification(**classification(article)),
        received_at=RECEIVED,
        source_topic="news.articles.v1",
        source_partition=2,
        source_offset=17,
    )


def make_alert(article: Article) -> Alert:
    return Alert(
        alert_id=hashlib.sha256(f"{article.id}:{article.version}:t3".encode()).hexdigest()[:32],
        version=2,
        status="updated",
        story_id=f"story-{article.id}",
        changes=[
            NewCategory(value="military_posture"),
            LevelRaised(from_="medium", to="high"),
            PublishersCrossed(value=2),
        ],
        article_ids=[article.id, "ap-2026-11-27-cuba-17"],
        independent_publishers=2,
        categories=["threat", "military_posture"],
        story_actors=["US", "CU", "RU"],
        article=ArticleRef(
            id=article.id,
            version=article.version,
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
        ),
        summary="THREAT + MILITARY POSTURE — US, CU, RU: US warns Cuba over Russian warships in Havana",
        **classification(article),
    )


def make_dead_letter() -> DeadLetter:
    return DeadLetter(
        original=base64.b64encode(b'{"id": "x", "body": ""}\xff').decode(),
        original_key=base64.b64encode(b"x").decode(),
        article_id="x",
        source_topic="news.articles.v1",
        source_partition=3,
        source_offset=1_204_551,
        error_type="invalid_article",
        error_message="body: body is empty after normalisation (no text outside markup and whitespace)",
        received_at=datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        app_version="0.1.0",
    )


def all_events() -> list[BaseModel]:
    article = make_article()
    return [
        article,
        make_classified(article),
        make_alert(article),
        make_dead_letter(),
        make_story_input(article),
    ]


def committed_validator(model: type[BaseModel]) -> jsonschema.protocols.Validator:
    schema = json.loads((JSON_DIR / f"{model.__name__}.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# --- round trips and the committed JSON Schemas -------------------------------------------------


def spec_of(event: BaseModel) -> TopicSpec[Any]:
    """The registry topic that carries events of this type."""
    return next(s for s in REGISTRY if s.value_schema is type(event))


@pytest.mark.parametrize("event", all_events(), ids=lambda e: type(e).__name__)
def test_the_topic_codec_round_trip_is_lossless(event: BaseModel) -> None:
    spec = spec_of(event)
    wire = spec.encode(event)
    again = spec.decode(wire)
    assert again == event
    assert spec.encode(again) == wire
    assert wire == event.model_dump_json().encode("utf-8")


def test_each_topic_keys_its_events_as_the_contract_says() -> None:
    article, classified, _, dead, _ = all_events()
    alert, story_input = make_alert(make_article()), make_story_input(make_article())
    assert spec_of(article).encode_key(article) == b"reuters-2026-11-27-us-cuba-0042"
    assert spec_of(classified).encode_key(classified) == b"reuters-2026-11-27-us-cuba-0042"
    assert STORY_INPUTS.encode_key(story_input) == b"reuters-2026-11-27-us-cuba-0042"
    # Alerts (and their compacted state) are keyed by the story's alert id.
    assert {spec.encode_key(alert) for spec in REGISTRY if spec.value_schema is Alert} == {
        alert.alert_id.encode()
    }
    assert spec_of(dead).encode_key(dead) == b"x"  # the original key, byte for byte
    assert DEAD_LETTERS.encode_key(make_dead_letter().model_copy(update={"original_key": None})) is None
    assert DEAD_LETTERS.decode_key(b"caf\xe9") == "caf\\xe9"
    assert CLASSIFIED_TOPIC.decode_key(b"us-cuba-1") == "us-cuba-1"


def test_a_topic_codec_refuses_what_its_topic_does_not_carry() -> None:
    article = make_article()
    with pytest.raises(TypeError, match="ClassifiedArticle"):
        CLASSIFIED_TOPIC.encode(article)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CLASSIFIED_TOPIC.decode(spec_of(article).encode(article))
    with pytest.raises(ValueError, match="null"):
        CLASSIFIED_TOPIC.decode(None)


@pytest.mark.parametrize("event", all_events(), ids=lambda e: type(e).__name__)
def test_json_validates_against_committed_schema(event: BaseModel) -> None:
    committed_validator(type(event)).validate(json.loads(event.model_dump_json()))


@pytest.mark.parametrize("event", all_events(), ids=lambda e: type(e).__name__)
def test_committed_schema_rejects_unknown_field(event: BaseModel) -> None:
    document = json.loads(event.model_dump_json()) | {"surprise": 1}
    with pytest.raises(jsonschema.ValidationError, match="surprise"):
        committed_validator(type(event)).validate(document)


def test_committed_schema_requires_every_category_score() -> None:
    document = json.loads(make_classified(make_article()).model_dump_json())
    del document["scores"]["de_escalation"]
    with pytest.raises(jsonschema.ValidationError, match="de_escalation"):
        committed_validator(ClassifiedArticle).validate(document)


def test_serialised_datetimes_keep_their_offset() -> None:
    wire = json.loads(make_dead_letter().model_dump_json())
    assert wire["received_at"] == "2026-11-27T10:00:00+01:00"
    assert json.loads(make_article().model_dump_json())["published_at"] == "2026-11-27T09:30:00Z"


def test_every_event_carries_schema_version() -> None:
    for event in all_events():
        assert json.loads(event.model_dump_json())["schema_version"] == 1


# --- strictness --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", all_events(), ids=lambda e: type(e).__name__)
def test_unknown_fields_are_rejected(event: BaseModel) -> None:
    document = json.loads(event.model_dump_json()) | {"priority": "urgent"}
    with pytest.raises(ValidationError, match="priority") as info:
        type(event).model_validate(document)
    assert info.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Article, "published_at"),
        (ClassifiedArticle, "received_at"),
        (Alert, "classified_at"),
        (DeadLetter, "received_at"),
    ],
)
def test_naive_datetimes_are_rejected(model: type[BaseModel], field: str) -> None:
    event = next(e for e in all_events() if type(e) is model)
    document = json.loads(event.model_dump_json()) | {field: "2026-11-27T09:30:00"}
    with pytest.raises(ValidationError, match="timezone") as info:
        model.model_validate(document)
    assert info.value.errors()[0]["loc"] == (field,)


def test_events_are_frozen() -> None:
    article = make_article()
    with pytest.raises(ValidationError):
        article.body = "changed"  # type: ignore[misc]


def test_empty_after_normalisation_body_is_rejected_with_reason() -> None:
    with pytest.raises(ValidationError) as info:
        make_article(body="<p> &nbsp; </p>\n<script>alert(1)</script><br/>")
    (error,) = info.value.errors()
    assert error["loc"] == ("body",)
    assert "empty after normalisation" in error["msg"]


def test_body_over_the_limit_is_rejected_before_normalisation() -> None:
    with pytest.raises(ValidationError, match="body has 101 characters, over the limit of 100"):
        Article.model_validate({"id": "a", "body": "x" * 101}, context={"max_body_chars": 100})
    assert Article.model_validate({"id": "a", "body": "x" * 100}, context={"max_body_chars": 100}).body


def test_huge_raw_title_is_rejected() -> None:
    with pytest.raises(ValidationError, match="before normalisation"):
        make_article(title="<b>x</b>" * (MAX_RAW_TITLE_CHARS // 8 + 1))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "   "}, "id"),
        ({"id": "x" * 257}, "id"),
        ({"version": 0}, "version"),
        ({"language": "xx"}, "language"),
        ({"language": "EN"}, "language"),
        ({"url": "ftp://example.com/a"}, "url"),
        ({"authors": ["x" * 501]}, "authors"),
    ],
)
def test_article_field_constraints(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_article(**changes)
    assert info.value.errors()[0]["loc"][0] == field


def test_evidence_span_must_match_text_length() -> None:
    with pytest.raises(ValidationError, match="span"):
        Evidence(field="body", start=10, end=20, text="too short")
    assert Evidence(field="body", start=10, end=19, text="just nine").end == 19


def test_scores_missing_a_category_are_rejected() -> None:
    article = make_article()
    fields = classification(article) | {"scores": {c: 0.1 for c in CATEGORIES if c != "sanctions"}}
    with pytest.raises(ValidationError, match="scores missing for sanctions"):
        ClassifiedArticle(article_id=article.id, article_version=1, **fields)


def test_scores_outside_unit_interval_are_rejected() -> None:
    article = make_article()
    fields = classification(article) | {"scores": scores(threat=1.5)}
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        ClassifiedArticle(article_id=article.id, article_version=1, **fields)


def test_escalation_flag_must_match_signals() -> None:
    article = make_article()
    with pytest.raises(ValidationError, match="escalation must be true"):
        ClassifiedArticle(
            article_id=article.id, article_version=1, **(classification(article) | {"escalation": False})
        )


def test_alert_id_is_32_hex_digits() -> None:
    alert = make_alert(make_article())
    with pytest.raises(ValidationError, match="alert_id"):
        Alert.model_validate(json.loads(alert.model_dump_json()) | {"alert_id": "not-an-id"})


def test_dead_letter_original_must_be_base64_and_round_trips_bytes() -> None:
    letter = make_dead_letter()
    assert letter.original_bytes() == b'{"id": "x", "body": ""}\xff'
    with pytest.raises(ValidationError, match="original"):
        DeadLetter.model_validate(json.loads(letter.model_dump_json()) | {"original": "not base64!"})


# --- normalisation -----------------------------------------------------------------------------


def test_evidence_offsets_refer_to_normalised_text() -> None:
    article = make_article()
    assert article.body.startswith("WASHINGTON — The United States warned Cuba")
    for signal in make_classified(article).signals:
        for evidence in signal.evidence:
            assert getattr(article, evidence.field)[evidence.start : evidence.end] == evidence.text


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Cafe\u0301 de\u0301ja\u0300", "Café déjà"),  # NFD -> NFC
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<div>a<br>b</div>", "a\nb"),
        ("Tom &amp; Jerry &eacute;t&eacute; &#8212; &#x2014; &quot;q&quot;", 'Tom & Jerry été — — "q"'),
        ("E&#769;cole", "École"),  # an entity that decodes to a combining mark still ends up NFC
        ("<script>var x = '<p>';</script><style>p {}</style>Text", "Text"),
        ("  lots   of\t\tspace \u00a0here  \n\n\n\n\n next \r\n line\r", "lots of space here\n\nnext\nline"),
        ("bell\x07 and\x00 nul", "bell and nul"),
        ("3 < 5 and 7 > 2", "3 < 5 and 7 > 2"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("a &lt;b&gt; c", "a c"),  # an escaped tag is still a tag: idempotence wins
    ],
)
def test_normalisation(raw: str, normalised: str) -> None:
    assert normalise_text(raw) == normalised


def test_article_title_and_body_are_normalised() -> None:
    article = make_article(
        title="  <b>US</b>\u00a0warns   Cuba ", body="<p>Line one.</p>\n\n\n<p>Line two.</p>"
    )
    assert article.title == "US warns Cuba"
    assert article.body == "Line one.\n\nLine two."


MARKUP_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<br/>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "&amp;",
        "&lt;",
        "&gt;",
        "&#60;",
        "&#x3c;",
        "&nbsp;",
        "&eacute;",
        "\u0301",
        "e",
        "K",
        "\u212a",
        "<",
        ">",
        "&",
        ";",
        "#",
        "/",
        "!",
        " ",
        "\t",
        "\n",
        "\r",
        "\x01",
        "\u00a0",
        "x",
        "p",
    ]
)


@given(st.lists(MARKUP_PIECES, max_size=40).map("".join) | st.text())
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_text(raw)
    assert normalise_text(once) == once


@given(st.lists(MARKUP_PIECES, max_size=40).map("".join) | st.text(min_size=1))
def test_article_survives_a_json_round_trip_whatever_its_text(raw: str) -> None:
    try:
        article = Article(id="a", title=raw, body=raw + " body")
    except ValidationError:
        return
    assert Article.model_validate_json(article.model_dump_json()) == article


# --- the error-type registry and the shared classification fields ------------------------------


def test_dead_letter_schema_lists_every_error_type_with_its_meaning() -> None:
    schema = json.loads((JSON_DIR / "DeadLetter.json").read_text(encoding="utf-8"))
    ref = schema["properties"]["error_type"]["$ref"].removeprefix("#/definitions/")
    listed = {option["const"]: option["description"] for option in schema["definitions"][ref]["oneOf"]}
    assert listed == {error_type.value: error_type.description for error_type in ErrorType}
    committed_validator(DeadLetter).validate(json.loads(make_dead_letter().model_dump_json()))
    document = json.loads(make_dead_letter().model_dump_json()) | {"error_type": "gremlins"}
    with pytest.raises(jsonschema.ValidationError):
        committed_validator(DeadLetter).validate(document)


def test_an_unregistered_error_type_is_rejected() -> None:
    with pytest.raises(ValidationError, match="error_type"):
        DeadLetter.model_validate(json.loads(make_dead_letter().model_dump_json()) | {"error_type": "oops"})


def test_alerts_and_classified_articles_share_one_classification_definition() -> None:
    assert issubclass(Alert, _Classification)
    assert issubclass(ClassifiedArticle, _Classification)
    classified = make_classified(make_article())
    assert set(classified.classification_fields()) == set(_Classification.model_fields)
    assert set(classified.classification_fields()) == set(classification(make_article()))


# --- stories: withdrawals, story fields, alert changes --------------------------------------------


def test_a_withdrawal_may_have_an_empty_body_and_killed_means_withdrawn() -> None:
    withdrawal = Article.model_validate({"id": "a-1", "body": "", "status": "killed"})
    assert withdrawal.status == "withdrawn"
    assert withdrawal.withdrawn
    assert not make_article().withdrawn
    with pytest.raises(ValidationError, match="status"):
        Article.model_validate({"id": "a-1", "body": "Text.", "status": "deleted"})
    with pytest.raises(ValidationError, match="body is empty"):
        Article.model_validate({"id": "a-1", "body": "", "status": "published"})


def test_a_classified_article_outside_the_stream_leaves_the_story_fields_out() -> None:
    article = make_article()
    alone = ClassifiedArticle(article_id=article.id, article_version=1, **classification(article))
    assert not {"story_id", "duplicate_of", "publisher_family"} & set(json.loads(alone.model_dump_json()))
    on_topic = json.loads(make_classified(article).model_dump_json())
    assert on_topic["story_id"] == "story-reuters-2026-11-27-us-cuba-0042"
    assert on_topic["duplicate_of"] is None  # present on the topic: "not a copy"


def test_alert_changes_are_tagged_by_kind_on_the_wire() -> None:
    document = json.loads(make_alert(make_article()).model_dump_json())
    assert document["changes"] == [
        {"kind": "new_category", "value": "military_posture"},
        {"kind": "level_raised", "from": "medium", "to": "high"},
        {"kind": "publishers_crossed", "value": 2},
    ]
    assert ALERTS.decode(json.dumps(document).encode()) == make_alert(make_article())
