"""A dead letter too large for its topic is cut to fit, flagged, and still identifies the input."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError

from schemas import DeadLetter, ErrorType
from streams.pipeline.dead_letter_size import fit_dead_letter, wire_size
from streams.pipeline.decode import Source, decode_article, make_dead_letter, utc_now
from streams.pipeline.route import Output
from streams.topics import DEAD_LETTERS, MIB
from streams.worker.publisher import Publisher

SOURCE = Source("news.articles.v1", 3, 41, None)


def _dead(value: bytes, key: bytes | None) -> DeadLetter:
    return make_dead_letter(
        value,
        Source("news.articles.v1", 3, 41, key),
        error_type=ErrorType.INVALID_JSON,
        error_message="not valid JSON",
        article_id=None,
        app_version="test",
        received_at=utc_now(),
    )


def test_a_dead_letter_that_fits_is_kept_whole_with_size_and_hash() -> None:
    dead = _dead(b"{not json", b"k")
    assert fit_dead_letter(dead, MIB) is dead
    assert dead.original_size == 9
    assert dead.original_sha256 == hashlib.sha256(b"{not json").hexdigest()
    assert dead.original_key_size == 1
    assert not dead.original_truncated
    assert not dead.original_key_truncated


def test_a_body_near_the_input_limit_gives_a_truncated_dead_letter_within_the_topic_limit() -> None:
    value = b'{"id": "x", "body": "' + b"a" * (MIB - 100)  # invalid JSON: no closing quote
    dead = decode_article(value, SOURCE, max_body_chars=200_000, app_version="test")
    assert isinstance(dead, DeadLetter)
    assert wire_size(dead) > MIB  # base64 makes it larger than a 1 MiB topic takes
    fitted = fit_dead_letter(dead, MIB)
    assert wire_size(fitted) <= MIB
    assert fitted.original_truncated
    assert value.startswith(fitted.original_bytes())
    assert len(fitted.original_bytes()) > MIB // 2  # what fits is kept, not thrown away
    assert fitted.original_size == len(value)
    assert fitted.original_sha256 == hashlib.sha256(value).hexdigest()
    assert (fitted.source_topic, fitted.source_partition, fitted.source_offset) == ("news.articles.v1", 3, 41)
    assert DeadLetter.model_validate_json(DEAD_LETTERS.encode(fitted)) == fitted


def test_a_large_key_with_an_invalid_value_is_cut_in_both() -> None:
    key, value = b"k" * 780_000, b"\xff" * 260_000
    dead = _dead(value, key)
    assert wire_size(dead) > 2 * MIB  # the case seen in the field: 2.17 MB
    fitted = fit_dead_letter(dead, 2 * MIB)
    assert wire_size(fitted) <= 2 * MIB
    assert fitted.original_key_truncated
    assert fitted.original_key_size == len(key)
    assert fitted.original_key is not None
    assert key.startswith(base64.b64decode(fitted.original_key))
    assert value.startswith(fitted.original_bytes())
    assert DEAD_LETTERS.encode_key(fitted) == base64.b64decode(fitted.original_key)


class RefusesAbove:
    """A broker whose dead-letter topic takes at most ``limit`` bytes (key + value)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent: list[bytes] = []

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> Awaitable[Any]:
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if len(value) + len(key or b"") > self.limit:
            acknowledged.set_exception(MessageSizeTooLargeError())
        else:
            self.sent.append(value)
            acknowledged.set_result(None)
        return acknowledged


def test_a_dead_letter_the_broker_refuses_as_too_large_is_cut_again_and_delivered() -> None:
    # The dead-letter topic was created elsewhere with the broker's default 1 MiB.
    send = RefusesAbove(MIB)
    delivered: list[Output] = []
    publisher = Publisher(send=send, on_delivered=delivered.append, dead_letter_max_bytes=2 * MIB)
    dead = _dead(b"[" * 1_000_000, None)
    asyncio.run(publisher.publish([Output(DEAD_LETTERS, dead)]))
    (value,) = send.sent
    letter = DeadLetter.model_validate_json(value)
    assert letter.original_truncated
    assert letter.original_size == 1_000_000
    assert [out.value for out in delivered] == [letter]
    assert publisher.dead_letter_max_bytes <= MIB
