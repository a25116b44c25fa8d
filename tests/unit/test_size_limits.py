"""The size limits derive from max_body_chars and agree: the costliest valid article fits the
input topic, its dead letter the dead-letter topic whole, and the producer takes both."""

from __future__ import annotations

import json

import pytest

from schemas import Article, DeadLetter, ErrorType
from streams.config import Settings
from streams.pipeline.dead_letter_size import wire_size
from streams.pipeline.decode import Source, decode_article, make_dead_letter, utc_now
from streams.topics import ARTICLES, DEAD_LETTERS, max_produced_bytes


@pytest.mark.parametrize("max_body_chars", [1_000, 200_000])
def test_the_costliest_valid_article_and_its_dead_letter_fit(max_body_chars: int) -> None:
    settings = Settings(max_body_chars=max_body_chars)
    article_id = "i" * 256
    # Every body character written as an escaped surrogate pair: 12 bytes of JSON for one.
    body = json.dumps("\U0001f600" * max_body_chars)  # ensure_ascii: \ud83d\ude00 each
    value = f'{{"id": "{article_id}", "title": "{"t" * 2_000}", "body": {body}}}'.encode()
    decoded = decode_article(
        value, Source(None, None, None, None), max_body_chars=max_body_chars, app_version="t"
    )
    assert isinstance(decoded, Article)
    key = article_id.encode()
    input_limit = ARTICLES.max_message_bytes(settings)
    assert input_limit is not None
    assert len(value) + len(key) < input_limit
    # The largest record the input topic takes, dead-lettered: it fits whole.
    dead = make_dead_letter(
        b"\xff" * (input_limit // 2),
        Source("news.articles.v1", 0, 0, b"k" * (input_limit // 2 - 1024)),
        error_type=ErrorType.NOT_UTF8,
        error_message="not valid UTF-8",
        article_id=None,
        app_version="t",
        received_at=utc_now(),
    )
    assert isinstance(dead, DeadLetter)
    dead_limit = DEAD_LETTERS.max_message_bytes(settings)
    assert dead_limit is not None
    assert wire_size(dead) <= dead_limit
    assert max_produced_bytes(settings) >= dead_limit


def test_200_000_cjk_characters_escaped_fit_the_default_input_topic() -> None:
    value = json.dumps({"id": "cjk", "body": "中" * 200_000}).encode()  # \u4e2d: 1.2 MB
    assert len(value) > 1024 * 1024
    limit = ARTICLES.max_message_bytes(Settings())
    assert limit is not None
    assert len(value) < limit
