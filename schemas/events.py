"""The events on Flashpoint's topics, as frozen pydantic v2 models.

Every model rejects unknown fields, requires timezone-aware datetimes and carries
``schema_version``. Input text is normalised before anything else sees it (see
:mod:`schemas.text`), so character offsets in evidence always refer to the normalised text
held by :class:`Article`.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.errors import ErrorType
from schemas.text import normalise_text

SCHEMA_VERSION: Final = 1

#: The default upper bound on an article body, in characters; a validation context key
#: ``max_body_chars`` overrides it (the service passes its setting).
DEFAULT_MAX_BODY_CHARS: Final = 200_000
MAX_TITLE_CHARS: Final = 2_000
#: Bound on the title as sent, before normalisation, so a huge title is refused unparsed.
MAX_RAW_TITLE_CHARS: Final = 10 * MAX_TITLE_CHARS
MAX_ID_CHARS: Final = 256
#: Largest integer every JSON consumer reads exactly (I-JSON, RFC 7493: 2**53 - 1).
MAX_SAFE_INT: Final = 2**53 - 1

Category = Literal[
    "threat",
    "military_posture",
    "use_of_force",
    "sanctions",
    "diplomatic_rupture",
    "regime_instability",
    "nuclear_wmd",
    "security_cooperation",
    "de_escalation",
]
#: The nine categories of the escalation codebook, in its order (docs/MODEL_CARD.md lists them).
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
#: The first eight: any of them makes an article an escalation; de-escalation does not.
ESCALATION_CATEGORIES: Final[tuple[Category, ...]] = CATEGORIES[:-1]

Level = Literal["none", "low", "medium", "high", "critical"]
AlertStatus = Literal["created", "updated", "retracted"]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class _Event(BaseModel):
    """Common configuration: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Article(_Event):
    """A news article as it arrives on ``news.articles.v1`` (the input contract).

    An update of the same story carries the same ``id`` and a higher ``version``.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS)] = (
        Field(description="Stable story id; the Kafka key of every event about this story.")
    )
    version: int = Field(
        default=1, ge=1, le=MAX_SAFE_INT, description="Revision of the story; higher is newer."
    )
    title: str = Field(
        default="",
        description=f"Headline, normalised text; at most {MAX_TITLE_CHARS} characters after normalisation.",
    )
    body: str = Field(
        description=(
            "Article text, normalised; must not be empty after normalisation. At most "
            f"{DEFAULT_MAX_BODY_CHARS} characters as sent (the service's max_body_chars setting)."
        )
    )
    source: ShortText | None = Field(default=None, description="Publisher or wire name.")
    url: Annotated[str, StringConstraints(max_length=2_048, pattern=r"^https?://\S+$")] | None = Field(
        default=None, description="Canonical URL of the article."
    )
    published_at: AwareDatetime | None = Field(default=None, description="Publication time.")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None, description="ISO 639-1 language code, lower case."
    )
    authors: list[ShortText] = Field(default_factory=list, max_length=50)
    section: ShortText | None = None
    dateline: ShortText | None = None

    @field_validator("body", mode="before")
    @classmethod
    def _body_within_limit(cls, value: Any, info: ValidationInfo) -> Any:
        # Checked before normalisation so an oversized body is rejected without being parsed.
        limit = DEFAULT_MAX_BODY_CHARS
        if info.context and "max_body_chars" in info.context:
            limit = int(info.context["max_body_chars"])
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"body has {len(value)} characters, over the limit of {limit}")
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _raw_title_within_limit(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_RAW_TITLE_CHARS:
            raise ValueError(
                f"title has {len(value)} characters, over the limit of {MAX_RAW_TITLE_CHARS} "
                "before normalisation"
            )
        return value

    @field_validator("title", "body", mode="after")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_text(value)

    @field_validator("title", mode="after")
    @classmethod
    def _title_within_limit(cls, value: str) -> str:
        if len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"title has {len(value)} characters, over the limit of {MAX_TITLE_CHARS}")
        return value

    @field_validator("body", mode="after")
    @classmethod
    def _body_not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("body is empty after normalisation (no text outside markup and whitespace)")
        return value

    @field_validator("language", mode="after")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and not _is_iso639_1(value):
            raise ValueError(f"{value!r} is not an ISO 639-1 language code")
        return value


def _is_iso639_1(code: str) -> bool:
    import pycountry  # imported lazily: its database loads on first use

    return pycountry.languages.get(alpha_2=code) is not None


class Evidence(_Event):
    """A span of the article's normalised text: ``text == article[field][start:end]``."""

    field: Literal["title", "body"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _span_matches_text(self) -> Evidence:
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"span [{self.start}, {self.end}) has length {self.end - self.start}, "
                f"text has length {len(self.text)}"
            )
        return self


class Signal(_Event):
    """A category whose score passed its threshold, with the text that drives it."""

    category: Category
    score: Score
    evidence: list[Evidence] = Field(min_length=1)


class ModelInfo(_Event):
    """Which model produced a classification; part of the alert id."""

    encoder: str = Field(min_length=1, description="Encoder id or path name.")
    head_version: str = Field(min_length=1)
    thresholds_version: str = Field(min_length=1)


class _Classification(_Event):
    """The classification fields shared by classified articles and alerts."""

    escalation: bool = Field(description="True when any of the eight escalation categories is signalled.")
    level: Level
    severity: int = Field(ge=0, le=100)
    scores: dict[Category, Score] = Field(
        description="A score for each of the nine categories.",
        # The JSON Schema states what the validator below enforces: all nine keys present.
        json_schema_extra={"required": list(CATEGORIES)},
    )
    signals: list[Signal] = Field(description="Categories over their thresholds, highest score first.")
    actors: list[str] = Field(description="ISO 3166-1 alpha-2 codes or organisation short names.")
    model: ModelInfo
    received_at: AwareDatetime = Field(description="When the article was read from Kafka.")
    classified_at: AwareDatetime = Field(description="When the classification finished.")

    @field_validator("scores", mode="after")
    @classmethod
    def _every_category_scored(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [c for c in CATEGORIES if c not in value]
        if missing:
            raise ValueError(f"scores missing for {', '.join(missing)}")
        return value

    def classification_fields(self) -> dict[str, Any]:
        """The shared classification fields alone, by name: what an alert carries over."""
        return {name: getattr(self, name) for name in _Classification.model_fields}

    @model_validator(mode="after")
    def _escalation_matches_signals(self) -> _Classification:
        expected = any(s.category in ESCALATION_CATEGORIES for s in self.signals)
        if self.escalation != expected:
            raise ValueError("escalation must be true exactly when an escalation category is signalled")
        return self


class ClassifiedArticle(_Classification):
    """One per valid input article on ``news.classified.v1``, escalation or not."""

    schema_version: Literal[1] = SCHEMA_VERSION
    article_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    article_version: int = Field(ge=1, le=MAX_SAFE_INT)


class ArticleRef(_Event):
    """Enough of the article for an alert desk to show it without another lookup."""

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    version: int = Field(ge=1, le=MAX_SAFE_INT)
    title: str = ""
    url: str | None = None
    source: str | None = None
    published_at: AwareDatetime | None = None


class Alert(_Classification):
    """An escalation alert on ``news.alerts.v1``: what newsroom alerting systems subscribe to.

    ``alert_id`` is deterministic in (article id, article version, model), so a consumer that
    sees the same id twice (at-least-once delivery) can drop the repeat.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    status: AlertStatus = "created"
    article: ArticleRef
    summary: str = Field(min_length=1, max_length=400, description="One line for humans.")


class DeadLetter(_Event):
    """An input that could not be processed, with the reason, on ``news.articles.dlq.v1``."""

    schema_version: Literal[1] = SCHEMA_VERSION
    original: str = Field(description="The original message value, base64 (standard alphabet).")
    original_key: str | None = Field(default=None, description="The original key, base64.")
    article_id: str | None = Field(default=None, description="The article id, when it could be read.")
    source_topic: str | None = None
    source_partition: int | None = Field(default=None, ge=0)
    source_offset: int | None = Field(default=None, ge=0)
    error_type: ErrorType = Field(description="Machine-readable reason: one of the registered error types.")
    error_message: str = Field(min_length=1, description="Human-readable reason with field paths.")
    received_at: AwareDatetime
    app_version: str

    @field_validator("original", "original_key", mode="after")
    @classmethod
    def _is_base64(cls, value: str | None) -> str | None:
        if value is not None:
            base64.b64decode(value, validate=True)
        return value

    def original_bytes(self) -> bytes:
        """The bytes that were sent, exactly."""
        return base64.b64decode(self.original)
