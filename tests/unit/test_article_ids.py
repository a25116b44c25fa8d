"""Article ids become Kafka keys and log fields: control characters are refused, clearly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import Article, DeadLetter, ErrorType
from streams.pipeline.decode import Source, decode_article


@pytest.mark.parametrize("article_id", ["a\x00b", "line\nbreak", "esc\x1b[31m", "del\x7f", "c1\x85x"])
def test_an_id_with_a_control_character_is_refused(article_id: str) -> None:
    with pytest.raises(ValidationError, match="id contains the control character U\\+00"):
        Article(id=article_id, body="Talks resumed.")


def test_the_worker_dead_letters_such_an_article_with_the_reason() -> None:
    dead = decode_article(
        b'{"id": "a\\u0000b", "body": "Talks resumed."}',
        Source("news.articles.v1", 0, 1, None),
        max_body_chars=1000,
        app_version="test",
    )
    assert isinstance(dead, DeadLetter)
    assert dead.error_type == ErrorType.INVALID_ARTICLE
    assert dead.error_message.startswith("id: id contains the control character U+0000 at position 1")


def test_printable_ids_stay_valid() -> None:
    assert Article(id="  reuters:2026-12-07/ü-1  ", body="x").id == "reuters:2026-12-07/ü-1"
