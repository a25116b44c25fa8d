"""Why an input became a dead letter: every ``DeadLetter.error_type`` Flashpoint can publish.

:class:`ErrorType` is the one registry of these values. Each member carries its meaning, which
the JSON Schema, the AsyncAPI document and docs/CONTRACT.md show; the values are part of the wire
contract, so a member is never renamed, and a new one may be added within v1.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

#: Where in the service an error type arises: reading the input, or classifying a valid article.
Stage = Literal["decode", "classify"]


class ErrorType(StrEnum):
    """Machine-readable reason for a dead letter; ``error_message`` gives the human-readable one."""

    EMPTY_MESSAGE = "empty_message"
    MESSAGE_TOO_LARGE = "message_too_large"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_ARTICLE = "invalid_article"
    INTERNAL_ERROR = "internal_error"
    CLASSIFIER_ERROR = "classifier_error"
    INVALID_CLASSIFICATION = "invalid_classification"

    @property
    def description(self) -> str:
        """What the error type means, in one or two sentences."""
        return _DESCRIPTIONS[self][1]

    @property
    def stage(self) -> Stage:
        """Where the error type arises: ``decode`` (the input) or ``classify`` (a valid article)."""
        return _DESCRIPTIONS[self][0]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # One ``const`` per value with its description: the standard JSON Schema way to document
        # enum members, which AsyncAPI viewers render.
        schema: dict[str, Any] = handler(core_schema)
        schema = handler.resolve_ref_schema(schema)
        schema.pop("enum", None)
        schema["oneOf"] = [{"const": member.value, "description": member.description} for member in cls]
        return schema


_DESCRIPTIONS: dict[ErrorType, tuple[Stage, str]] = {
    ErrorType.EMPTY_MESSAGE: ("decode", "The value is empty: zero bytes, or null (a tombstone)."),
    ErrorType.MESSAGE_TOO_LARGE: (
        "decode",
        "The value is longer than any article within the body limit can be, so it is refused "
        "without being parsed.",
    ),
    ErrorType.NOT_UTF8: (
        "decode",
        "The value is not valid UTF-8. A leading UTF-8 byte order mark is tolerated.",
    ),
    ErrorType.INVALID_JSON: (
        "decode",
        "The value is not exactly one JSON document: a syntax error, NaN or Infinity, a key "
        "repeated in one object, an unpaired surrogate escape such as \\uD800, or nesting too deep.",
    ),
    ErrorType.NOT_AN_OBJECT: (
        "decode",
        "The value is valid JSON but not an object (an array, a string, a number, null, ...).",
    ),
    ErrorType.INVALID_ARTICLE: (
        "decode",
        "The object is not a valid Article. The message gives each field path and reason: a "
        "missing id or body, an unknown field, a body over the limit, a body empty after "
        "normalisation, a naive timestamp, a bad language code, and so on.",
    ),
    ErrorType.INTERNAL_ERROR: (
        "decode",
        "Flashpoint failed on the message because of a bug in its own code (the decoder, say). "
        "The message names the exception. Please report it.",
    ),
    ErrorType.CLASSIFIER_ERROR: (
        "classify",
        "The article is valid but the classifier raised on it, even when given it alone; the "
        "other articles of its batch were classified. The message names the exception.",
    ),
    ErrorType.INVALID_CLASSIFICATION: (
        "classify",
        "The article is valid but the classifier's result breaks the contract (for example a "
        "score outside [0, 1]); the message gives the reason. This is a bug: please report it.",
    ),
}
