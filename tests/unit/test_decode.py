"""decode_article: every input gives an Article or a DeadLetter with a reason, never an exception."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas import Article, DeadLetter, ErrorType
from streams.pipeline.decode import (
    MAX_ERROR_MESSAGE_CHARS,
    Source,
    decode_article,
    make_dead_letter,
    max_message_bytes,
)
from streams.topics import ARTICLES, DEAD_LETTERS

SOURCE = Source(topic="news.articles.v1", partition=2, offset=4711, key=b"story-1")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMIT = 2_000
# Hypothesis's deadline as a hang guard only: the first example pays for lazy imports (pycountry).
HANG_GUARD = settings(deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])


def decode(
    value: bytes | None, *, max_body_chars: int = LIMIT, source: Source = SOURCE
) -> Article | DeadLetter:
    return decode_article(value, source, max_body_chars=max_body_chars, app_version="9.9.9", now=lambda: NOW)


def check_outcome(value: bytes, result: Article | DeadLetter) -> None:
    """The decoder's contract, for any input."""
    if isinstance(result, Article):
        # A decoded article is a fixed point: what Flashpoint emits about it stays valid.
        assert ARTICLES.decode(ARTICLES.encode(result)) == result
        assert result.body
        return
    assert isinstance(result, DeadLetter)
    assert result.error_type in ErrorType
    assert ErrorType(result.error_type).stage == "decode"
    assert result.error_message.strip()
    assert result.original_bytes() == value
    assert result.source_topic == SOURCE.topic
    assert result.source_partition == SOURCE.partition
    assert result.source_offset == SOURCE.offset
    assert result.original_key == base64.b64encode(SOURCE.key or b"").decode()
    assert result.received_at == NOW
    assert result.app_version == "9.9.9"
    # The dead letter itself always serialises and validates.
    assert DEAD_LETTERS.decode(DEAD_LETTERS.encode(result)) == result


# --- properties --------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
ARTICLE_KEYS = [
    "schema_version",
    "id",
    "version",
    "title",
    "body",
    "source",
    "url",
    "published_at",
    "language",
    "authors",
    "section",
    "dateline",
]
PLAUSIBLE = {
    "schema_version": st.sampled_from([1, 2, "1", None]),
    "id": st.text(max_size=20) | st.sampled_from(["story-1", "  padded  ", ""]),
    "version": st.integers(min_value=-2, max_value=2**60) | st.sampled_from(["3", 1.0, 2.5, True]),
    "title": st.text(max_size=40) | st.sampled_from(["<b>Headline</b>", "&amp;", ""]),
    "body": st.text(max_size=80) | st.sampled_from(["<p>Text</p>", "<p> </p>", "&nbsp;", "ok", ""]),
    "source": st.text(max_size=20),
    "url": st.sampled_from(["https://example.com/a", "http://x", "example.com", "https://a b"]),
    "published_at": st.sampled_from(
        ["2026-11-27T09:30:00Z", "2026-11-27T09:30:00+02:00", "2026-11-27T09:30:00", "yesterday", 1764236400]
    ),
    "language": st.sampled_from(["en", "de", "xx", "EN", "eng", ""]),
    "authors": st.lists(st.text(max_size=10), max_size=3),
    "section": st.text(max_size=10) | st.none(),
    "dateline": st.text(max_size=10) | st.none(),
}


@st.composite
def article_like(draw: st.DrawFn) -> dict[str, Any]:
    """Objects with some of the article's keys, plausible or junk values, sometimes an extra key."""
    keys = draw(st.lists(st.sampled_from(ARTICLE_KEYS), unique=True))
    obj = {key: draw(PLAUSIBLE[key] | JSON_VALUES) for key in keys}
    if draw(st.booleans()):
        obj.update(draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=2)))
    return obj


@given(st.binary(max_size=512))
@HANG_GUARD
def test_arbitrary_bytes_give_an_article_or_a_dead_letter(value: bytes) -> None:
    check_outcome(value, decode(value))


@given(JSON_VALUES)
@HANG_GUARD
def test_arbitrary_json_gives_an_article_or_a_dead_letter(document: Any) -> None:
    value = json.dumps(document).encode()
    result = decode(value)
    check_outcome(value, result)
    if not isinstance(document, dict):
        assert isinstance(result, DeadLetter)
        assert result.error_type == ErrorType.NOT_AN_OBJECT


@given(article_like(), st.booleans())
@example(document={"body": "0", "id": "0", "": None}, ascii_only=False)  # an empty key is named in the path
@HANG_GUARD
def test_article_like_objects_give_an_article_or_a_reason(document: dict[str, Any], ascii_only: bool) -> None:
    value = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    result = decode(value)
    check_outcome(value, result)
    if isinstance(result, Article):
        assert result.id == document["id"].strip()
    elif result.error_type == ErrorType.INVALID_ARTICLE:
        # Every rejection names the fields at fault, and keeps the id when it is a valid one.
        with pytest.raises(ValidationError) as info:
            Article.model_validate(document, context={"max_body_chars": LIMIT})
        paths = [".".join(str(p) or '""' for p in error["loc"]) for error in info.value.errors()]
        assert result.error_message.startswith(f"{paths[0]}: ")
        if "id" in document and "id" not in paths:
            assert result.article_id == Article.model_validate({"id": document["id"], "body": "x"}).id
        else:
            assert result.article_id is None or result.article_id == document["id"].strip()


@given(
    st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=20),
    st.sampled_from(["", " ", "\t", "\n  "]),
    st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=200),
    st.integers(min_value=1, max_value=10_000),
    st.booleans(),
)
@HANG_GUARD
def test_valid_articles_are_decoded(
    article_id: str, padding: str, text: str, version: int, ascii_only: bool
) -> None:
    document = {
        "id": padding + article_id + padding,
        "version": version,
        "title": text,
        "body": f"Body: {text}",
    }
    result = decode(json.dumps(document, ensure_ascii=ascii_only).encode())
    assert isinstance(result, Article), getattr(result, "error_message", "")
    assert (result.id, result.version) == (article_id, version)
    assert result.body.startswith("Body:")


@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=50), st.text(max_size=5))
@HANG_GUARD
def test_lone_surrogate_escapes_are_invalid_json(before: str, after: str) -> None:
    value = (
        '{"id": "a", "body": ' + json.dumps(before)[:-1] + "\\udc80" + json.dumps(after)[1:] + "}"
    ).encode()
    result = decode(value)
    assert isinstance(result, DeadLetter)
    assert result.error_type == ErrorType.INVALID_JSON
    assert "surrogate" in result.error_message


# --- examples: each rejection gives its error type ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "error_type", "reason"),
    [
        (None, ErrorType.EMPTY_MESSAGE, "null"),
        (b"", ErrorType.EMPTY_MESSAGE, "empty"),
        (b'{"id": "a", "body": "caf\xe9"}', ErrorType.NOT_UTF8, "UTF-8"),
        (b"\xff\xfe{\x00}\x00", ErrorType.NOT_UTF8, "UTF-8"),
        (b'{"id": "a", "body": "x"', ErrorType.INVALID_JSON, "line 1"),
        (b"   ", ErrorType.INVALID_JSON, "Expecting value"),
        (b'{"id": "a", "body": NaN}', ErrorType.INVALID_JSON, "NaN"),
        (b'{"id": "a", "body": "x", "id": "b"}', ErrorType.INVALID_JSON, "'id' appears twice"),
        (b'{"id": "a"} {"id": "b"}', ErrorType.INVALID_JSON, "Extra data"),
        (b"[" * 100_000 + b"]" * 100_000, ErrorType.INVALID_JSON, "nested too deeply"),
        (b'[{"id": "a", "body": "x"}]', ErrorType.NOT_AN_OBJECT, "an array"),
        (b'"an article"', ErrorType.NOT_AN_OBJECT, "a string"),
        (b"42", ErrorType.NOT_AN_OBJECT, "a number"),
        (b"null", ErrorType.NOT_AN_OBJECT, "null"),
        (b'{"body": "text"}', ErrorType.INVALID_ARTICLE, "id: Field required"),
        (b'{"id": "a"}', ErrorType.INVALID_ARTICLE, "body: Field required"),
        (
            b'{"id": "a", "body": "<p> &nbsp; </p>"}',
            ErrorType.INVALID_ARTICLE,
            "body: body is empty after normalisation",
        ),
        (
            b'{"id": "a", "body": "x", "priority": 1}',
            ErrorType.INVALID_ARTICLE,
            "priority: Extra inputs are not permitted",
        ),
        (
            b'{"id": "a", "body": "x", "published_at": "2026-11-27T09:30:00"}',
            ErrorType.INVALID_ARTICLE,
            "published_at: Input should have timezone info",
        ),
        (
            b'{"id": "a", "body": "x", "language": "xx"}',
            ErrorType.INVALID_ARTICLE,
            "language: 'xx' is not an ISO 639-1",
        ),
        (
            b'{"id": "a", "body": "x", "authors": ["ok", 7]}',
            ErrorType.INVALID_ARTICLE,
            "authors.1: Input should be",
        ),
        (
            b'{"id": "a", "body": "x", "version": 0}',
            ErrorType.INVALID_ARTICLE,
            "version: Input should be greater",
        ),
        (b'{"id": 7, "body": "x"}', ErrorType.INVALID_ARTICLE, "id: Input should be a valid string"),
    ],
)
def test_rejections(value: bytes | None, error_type: str, reason: str) -> None:
    result = decode(value)
    assert isinstance(result, DeadLetter)
    assert result.error_type == error_type
    assert reason in result.error_message
    assert result.original_bytes() == (value or b"")


def test_validation_message_lists_every_field_path_and_reason() -> None:
    body = "x" * (LIMIT + 1)
    result = decode(json.dumps({"body": body, "url": "nope"}).encode())
    assert isinstance(result, DeadLetter)
    assert result.error_type == ErrorType.INVALID_ARTICLE
    assert result.error_message == (
        "id: Field required; "
        f"body: body has {LIMIT + 1} characters, over the limit of {LIMIT}; "
        "url: String should match pattern '^https?://\\S+$'"
    )


def test_article_id_is_kept_when_the_json_has_a_string_id() -> None:
    result = decode(b'{"id": "  story-9  ", "body": ""}')
    assert isinstance(result, DeadLetter)
    assert result.article_id == "story-9"
    for value in (b'{"id": 9, "body": ""}', b'{"id": "   ", "body": ""}', b'{"body": ""}', b"[1]"):
        letter = decode(value)
        assert isinstance(letter, DeadLetter)
        assert letter.article_id is None


def test_utf8_bom_is_tolerated() -> None:
    result = decode(b'\xef\xbb\xbf{"id": "a", "body": "Text"}')
    assert isinstance(result, Article)
    assert result.body == "Text"
    prefix = b'\xef\xbb\xbf{"id": "a", "body": "'
    broken = decode(prefix + b'\xc3"}')
    assert isinstance(broken, DeadLetter)
    assert f"at byte {len(prefix)} (b'\\xc3')" in broken.error_message  # counted from the real start


def test_decoded_article_is_normalised() -> None:
    result = decode(
        '{"id": " a ", "title": "<b>Cafe\u0301</b>", "body": "<p>One</p><p>Two &amp; three</p>"}'.encode()
    )
    assert isinstance(result, Article)
    assert (result.id, result.title, result.body) == ("a", "Café", "One\n\nTwo & three")


# --- size limits -------------------------------------------------------------------------------


def test_ten_megabyte_body_is_rejected_fast_unparsed() -> None:
    value = b'{"id": "big-1", "body": "' + b"war " * 2_500_000 + b'"}'
    started = time.perf_counter()
    result = decode_article(value, SOURCE, max_body_chars=200_000, app_version="9.9.9")
    elapsed = time.perf_counter() - started
    assert isinstance(result, DeadLetter)
    assert result.error_type == ErrorType.MESSAGE_TOO_LARGE
    assert f"{len(value)} bytes" in result.error_message
    assert result.original_bytes() == value
    assert elapsed < 2.0, f"took {elapsed:.2f} s"  # a hang guard, not a benchmark


def test_size_check_boundary() -> None:
    limit = max_message_bytes(LIMIT)
    padding = limit - len(b'{"id": "a", "body": "x"}')
    at_limit = b'{"id": "a", "body": "x"' + b" " * padding + b"}"
    assert len(at_limit) == limit
    assert isinstance(decode(at_limit), Article)  # whitespace is legal JSON: only the size decides
    over = decode(at_limit + b" ")
    assert isinstance(over, DeadLetter)
    assert over.error_type == ErrorType.MESSAGE_TOO_LARGE


def test_escape_heavy_article_at_the_body_limit_is_not_refused_by_size() -> None:
    # The costliest valid encoding: every body character an astral one written as a \\u pair.
    document = {
        "id": "i" * 256,
        "title": "\U0001f600" * 2_000,
        "body": "\U0001f600" * LIMIT,
        "source": "\U0001f600" * 500,
        "authors": ["\U0001f600" * 500] * 50,
        "url": "https://example.com/" + "a" * 2_000,
    }
    value = json.dumps(document, ensure_ascii=True).encode()
    result = decode(value)
    assert isinstance(result, Article), getattr(result, "error_message", "")


def test_body_just_over_the_configured_limit_is_an_invalid_article() -> None:
    result = decode(json.dumps({"id": "a", "body": "y" * 101}).encode(), max_body_chars=100)
    assert isinstance(result, DeadLetter)
    assert result.error_type == ErrorType.INVALID_ARTICLE
    assert result.error_message == "body: body has 101 characters, over the limit of 100"
    assert result.article_id == "a"


# --- dead letters ------------------------------------------------------------------------------


def test_dead_letter_records_the_source() -> None:
    result = decode(b"oops")
    assert isinstance(result, DeadLetter)
    wire = json.loads(result.model_dump_json())
    assert wire["original"] == base64.b64encode(b"oops").decode()
    assert wire["original_key"] == base64.b64encode(b"story-1").decode()
    assert (wire["source_topic"], wire["source_partition"], wire["source_offset"]) == (
        "news.articles.v1",
        2,
        4711,
    )
    assert wire["received_at"] == "2026-11-27T12:00:00Z"


def test_unknown_source_positions_become_null() -> None:
    result = decode(b"oops", source=Source(topic=None, partition=-1, offset=-1, key=None))
    assert isinstance(result, DeadLetter)
    assert (result.source_topic, result.source_partition, result.source_offset, result.original_key) == (
        None,
        None,
        None,
        None,
    )


def test_broken_clock_does_not_lose_the_message() -> None:
    def broken() -> datetime:
        raise RuntimeError("no clock")

    result = decode_article(b"oops", SOURCE, max_body_chars=LIMIT, app_version="1", now=broken)
    assert isinstance(result, DeadLetter)
    assert result.original_bytes() == b"oops"


def test_make_dead_letter_for_a_classifier_failure() -> None:
    letter = make_dead_letter(
        b'{"id": "a", "body": "x"}',
        SOURCE,
        error_type=ErrorType.CLASSIFIER_ERROR,
        error_message="RuntimeError: CUDA out of memory",
        article_id="a",
        app_version="1.2.3",
        received_at=datetime(2026, 11, 27, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert letter.error_type == "classifier_error"
    assert letter.article_id == "a"
    assert letter.original_bytes() == b'{"id": "a", "body": "x"}'
    assert letter.received_at == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_make_dead_letter_repairs_what_would_make_it_invalid() -> None:
    letter = make_dead_letter(
        None,
        Source(topic="t", partition=-1, offset=None, key=b""),
        error_type="",  # type: ignore[arg-type]  # a caller outside the type checker's reach
        error_message="x" * 100_000 + "\ud800",
        article_id="",
        app_version="1",
        received_at=datetime(2026, 11, 27, 12, 0),  # naive: taken as UTC
    )
    assert letter.original_bytes() == b""
    assert letter.original_key == ""
    assert letter.error_type == ErrorType.INTERNAL_ERROR
    assert letter.error_message.startswith("unregistered error type '': xxx")
    assert len(letter.error_message) == MAX_ERROR_MESSAGE_CHARS
    assert letter.article_id is None
    assert letter.received_at == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert DEAD_LETTERS.decode(DEAD_LETTERS.encode(letter)) == letter


def test_error_types_are_documented() -> None:
    for error_type in ErrorType:
        assert error_type.value.isidentifier()
        assert error_type.value.islower()
        assert error_type.description.endswith(".")
        assert error_type.stage in {"decode", "classify"}
    assert {"classifier_error", "invalid_classification"} <= set(ErrorType)


def test_a_dead_letter_refuses_an_unregistered_error_type() -> None:
    letter = make_dead_letter(
        b"x",
        SOURCE,
        error_type=ErrorType.NOT_UTF8,
        error_message="m",
        article_id=None,
        app_version="1",
        received_at=NOW,
    )
    wire = json.loads(DEAD_LETTERS.encode(letter))
    assert wire["error_type"] == "not_utf8"
    with pytest.raises(ValidationError, match="error_type"):
        DEAD_LETTERS.decode(json.dumps(wire | {"error_type": "gremlins"}).encode())
