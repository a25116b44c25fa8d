"""Decode a raw ``news.articles.v1`` message value into an :class:`~schemas.Article`.

:func:`decode_article` never raises: every input yields either a valid article or a
:class:`~schemas.DeadLetter` carrying the exact original bytes, where they came from and a
machine-readable :class:`~schemas.ErrorType` with a human-readable reason. The
checks run cheapest first, so a 10 MB value is refused by its length without being read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import TypeAdapter, ValidationError

from schemas import Article, DeadLetter, ErrorType

#: Longest error_message a dead letter carries; a long list of field errors is cut here.
MAX_ERROR_MESSAGE_CHARS: Final = 4_000
#: Bytes allowed beyond the body: the other fields at their limits, JSON-escaped, fit in this.
_NON_BODY_BYTES: Final = 1024 * 1024
#: The most bytes one character of a JSON string can take: a surrogate pair escape, \\uXXXX\\uXXXX.
_MAX_BYTES_PER_CHAR: Final = 12
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Article.id's own type, so the dead letter's article_id is the id the article would have had.
_ARTICLE_ID: Final = TypeAdapter(Annotated[str, *Article.model_fields["id"].metadata])


@dataclass(frozen=True)
class Source:
    """Where a message was read: its topic, partition, offset and key (None when unknown)."""

    topic: str | None
    partition: int | None
    offset: int | None
    key: bytes | None


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def max_message_bytes(max_body_chars: int) -> int:
    """The longest value that could hold a valid article with a body of ``max_body_chars``.

    Every body character escaped in the costliest way JSON allows, plus room for the other
    fields at their limits. Only a value padded with megabytes of insignificant whitespace
    could be valid above this, and such a value is not worth reading.
    """
    return _MAX_BYTES_PER_CHAR * max_body_chars + _NON_BODY_BYTES


class _RejectedError(Exception):
    """A reason to dead-letter, raised inside the decoder and never outside it."""

    def __init__(self, error_type: ErrorType, message: str, article_id: str | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.article_id = article_id


def decode_article(
    value: bytes | None,
    source: Source,
    *,
    max_body_chars: int,
    app_version: str,
    now: Callable[[], datetime] = utc_now,
) -> Article | DeadLetter:
    """The article in ``value``, or a dead letter saying why there is none. Never raises."""
    try:
        return _decode(value, max_body_chars)
    except _RejectedError as rejected:
        error_type, message, article_id = rejected.error_type, rejected.message, rejected.article_id
    except Exception as exc:  # the contract is "never raise": the bug is reported instead
        error_type, message, article_id = ErrorType.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", None
    try:
        received_at = now()
    except Exception:  # a broken clock must not lose the message
        received_at = utc_now()
    return make_dead_letter(
        value,
        source,
        error_type=error_type,
        error_message=message,
        article_id=article_id,
        app_version=app_version,
        received_at=received_at,
    )


def _decode(value: bytes | None, max_body_chars: int) -> Article:
    if value is None or len(value) == 0:
        raise _RejectedError(
            ErrorType.EMPTY_MESSAGE,
            "the message value is empty (zero bytes)"
            if value is not None
            else "the message value is null (a tombstone)",
        )
    limit = max_message_bytes(max_body_chars)
    if len(value) > limit:
        raise _RejectedError(
            ErrorType.MESSAGE_TOO_LARGE,
            f"the message has {len(value)} bytes, over the {limit} bytes that an article with a "
            f"body of at most {max_body_chars} characters can take",
        )
    raw = bytes(value)
    # A leading byte order mark is tolerated (RFC 8259 §8.1 allows it): some producers write one.
    skip = len(_UTF8_BOM) if raw.startswith(_UTF8_BOM) else 0
    try:
        text = raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        start, end = exc.start + skip, exc.end + skip
        raise _RejectedError(
            ErrorType.NOT_UTF8, f"not valid UTF-8: {exc.reason} at byte {start} ({raw[start:end]!r})"
        ) from None
    document = _parse_json(text)
    if not isinstance(document, dict):
        raise _RejectedError(
            ErrorType.NOT_AN_OBJECT, f"expected a JSON object (an Article), got {_json_kind(document)}"
        )
    article_id = _readable_id(document)
    try:
        return Article.model_validate(document, context={"max_body_chars": max_body_chars})
    except ValidationError as exc:
        raise _RejectedError(ErrorType.INVALID_ARTICLE, format_validation_error(exc), article_id) from None


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON libraries disagree on which of two equal keys wins; refusing is the only safe reading.
    obj: dict[str, Any] = {}
    for key, item in pairs:
        if key in obj:
            raise _DuplicateKeyError(f"key {key!r} appears twice in one object")
        obj[key] = item
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str) -> Any:
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _RejectedError(ErrorType.INVALID_JSON, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise _RejectedError(ErrorType.INVALID_JSON, "not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise _RejectedError(ErrorType.INVALID_JSON, f"not valid JSON: {exc}") from None
    for path, string in _strings(document):
        match = _SURROGATE.search(string)
        if match:
            raise _RejectedError(
                ErrorType.INVALID_JSON,
                f"not valid JSON text: the string at {path} contains an unpaired surrogate "
                f"(\\u{ord(match.group()):04x}), which is not a Unicode character",
            )
    return document


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON document, keys included, with its path ($.a[0].b)."""
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key, item in node.items():
                yield path, key
                stack.append((f"{path}.{key}", item))
        elif isinstance(node, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(node))


def _json_kind(document: Any) -> str:
    if isinstance(document, list):
        return "an array"
    if isinstance(document, str):
        return "a string"
    if isinstance(document, bool):
        return "true" if document else "false"
    if document is None:
        return "null"
    return "a number"


def _readable_id(document: dict[str, Any]) -> str | None:
    """The article id for the dead letter, when the object has a usable one."""
    candidate = document.get("id")
    if not isinstance(candidate, str):
        return None
    try:
        return _ARTICLE_ID.validate_python(candidate)
    except ValidationError:
        return None


def format_validation_error(exc: ValidationError) -> str:
    """``path: reason; path: reason`` for every error, e.g. ``id: Field required``."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        # An empty key is a field too: it shows as "" rather than vanishing from the path.
        path = ".".join(str(part) or '""' for part in error["loc"]) or "(article)"
        reason = error["msg"].removeprefix("Value error, ")
        parts.append(f"{path}: {_cut(reason, 500)}")
    return "; ".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def make_dead_letter(
    value: bytes | None,
    source: Source,
    *,
    error_type: ErrorType,
    error_message: str,
    article_id: str | None,
    app_version: str,
    received_at: datetime,
) -> DeadLetter:
    """A dead letter holding ``value`` exactly (base64), its size and SHA-256, its source and
    the reason. Never raises. (:mod:`streams.pipeline.dead_letter_size` cuts one that is too
    large for its topic.)

    Also used for articles the classifier could not process. Values that would make the dead
    letter itself invalid are repaired rather than refused: a negative partition or offset
    (Kafka's "unknown") becomes None, a naive ``received_at`` is taken as UTC, an unregistered
    error type becomes ``internal_error`` (its name kept in the message), an empty message gets
    a placeholder and a long message is cut.
    """
    original = _as_bytes(value)
    key = _as_bytes(source.key) if source.key is not None else None
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        received_at = received_at.replace(tzinfo=UTC)
    try:
        error_type = ErrorType(error_type)
    except ValueError:  # a caller passed a plain string that is not in the registry
        error_message = f"unregistered error type {_safe_text(error_type)!r}: {error_message}"
        error_type = ErrorType.INTERNAL_ERROR
    fields: dict[str, Any] = {
        "original": base64.b64encode(original).decode("ascii"),
        "original_key": base64.b64encode(key).decode("ascii") if key is not None else None,
        "original_size": len(original),
        "original_sha256": hashlib.sha256(original).hexdigest(),
        "original_key_size": len(key) if key is not None else None,
        "article_id": _safe_text(article_id) or None,
        "source_topic": _safe_text(source.topic) or None,
        "source_partition": _non_negative(source.partition),
        "source_offset": _non_negative(source.offset),
        "error_type": error_type,
        "error_message": _cut(_safe_text(error_message), MAX_ERROR_MESSAGE_CHARS) or "no reason given",
        "received_at": received_at,
        "app_version": _safe_text(app_version),
    }
    try:
        return DeadLetter.model_validate(fields)
    except ValidationError:
        # Only a bug in the repairs above gets here; the original bytes must still survive.
        fields["received_at"] = utc_now()
        return DeadLetter.model_construct(**fields)


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return b""


def _safe_text(value: object) -> str:
    """A string that serialises as UTF-8: unpaired surrogates are replaced."""
    if value is None:
        return ""
    return _SURROGATE.sub("\ufffd", str(value))


def _non_negative(value: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
