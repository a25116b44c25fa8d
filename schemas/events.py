"""The events on Flashpoint's topics, as frozen pydantic v2 models.

Every model rejects unknown fields, requires timezone-aware datetimes and carries
``schema_version``. Input text is normalised before anything else sees it (see
:mod:`schemas.text`), so character offsets in evidence always refer to the normalised text
held by :class:`Article`.
"""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
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
#: C0 and C1 control characters and DEL, refused in ids.
_CONTROL_CHARACTER: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
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
#: An ISO 639-1 code, or "und" (ISO 639-2: undetermined).
LANGUAGE_PATTERN: Final = r"^([a-z]{2}|und)$"
AlertStatus = Literal["created", "updated", "retracted"]
#: Whether an article stands ("published") or its publisher took it back ("withdrawn").
ArticleStatus = Literal["published", "withdrawn"]
#: Other words producers use for a withdrawal, read as "withdrawn".
WITHDRAWN_ALIASES: Final = frozenset({"killed"})
RetractionReason = Literal["all_articles_withdrawn", "below_threshold"]

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class _Event(BaseModel):
    """Common configuration: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Article(_Event):
    """A news article as it arrives on ``news.articles.v1`` (the input contract).

    An update of the same article carries the same ``id`` and a higher ``version``. A withdrawal
    (``status: "withdrawn"``) carries the id of the article taken back; its body may be empty.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS)] = (
        Field(
            description=(
                "Stable story id; the Kafka key of every event about this story. No control characters."
            )
        )
    )
    version: int = Field(
        default=1, ge=1, le=MAX_SAFE_INT, description="Revision of the story; higher is newer."
    )
    status: ArticleStatus = Field(
        default="published",
        description=(
            "'withdrawn' takes the article back (its body may then be empty): it is not "
            "classified, and its story's alert no longer counts it. 'killed' is read as 'withdrawn'."
        ),
    )
    title: str = Field(
        default="",
        description=f"Headline, normalised text; at most {MAX_TITLE_CHARS} characters after normalisation.",
    )
    body: str = Field(
        description=(
            "Article text, normalised; must not be empty after normalisation, except in a "
            "withdrawal. At most "
            f"{DEFAULT_MAX_BODY_CHARS} characters as sent (the service's max_body_chars setting)."
        )
    )
    source: ShortText | None = Field(default=None, description="Publisher or wire name.")
    url: Annotated[str, StringConstraints(max_length=2_048, pattern=r"^https?://\S+$")] | None = Field(
        default=None, description="Canonical URL of the article."
    )
    published_at: AwareDatetime | None = Field(default=None, description="Publication time.")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None,
        description=(
            "ISO 639-1 language code, lower case. A hint: Flashpoint detects the language from "
            "the text, and uses this one only when the text cannot tell."
        ),
    )
    authors: list[ShortText] = Field(default_factory=list, max_length=50)
    section: ShortText | None = None
    dateline: ShortText | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _withdrawn_aliases(cls, value: Any) -> Any:
        return "withdrawn" if isinstance(value, str) and value in WITHDRAWN_ALIASES else value

    @field_validator("id", mode="after")
    @classmethod
    def _id_without_control_characters(cls, value: str) -> str:
        # The id becomes the Kafka key and a log field: a NUL or an escape sequence has no place.
        match = _CONTROL_CHARACTER.search(value)
        if match:
            raise ValueError(
                f"id contains the control character U+{ord(match.group()):04X} at position "
                f"{match.start()}; ids must be printable text"
            )
        return value

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
    def _body_not_empty(cls, value: str, info: ValidationInfo) -> str:
        # status is declared before body, so it is validated first; a withdrawal needs no text.
        if not value and info.data.get("status") != "withdrawn":
            raise ValueError("body is empty after normalisation (no text outside markup and whitespace)")
        return value

    @field_validator("language", mode="after")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and not _is_iso639_1(value):
            raise ValueError(f"{value!r} is not an ISO 639-1 language code")
        return value

    @property
    def withdrawn(self) -> bool:
        """Whether this event takes the article back."""
        return self.status == "withdrawn"


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
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)] | None = Field(
        default=None,
        description=(
            "The language detected in the article's title and body: an ISO 639-1 code, or "
            "'und' when it cannot be told (a short or name-only text, which is judged). Null "
            "from a writer older than language detection."
        ),
    )
    language_supported: bool = Field(
        default=True,
        description=(
            "False when the article is in a language the English-only model does not judge: "
            "it was not classified, and escalation false, level 'none', severity 0, every score "
            "0 and no signals or actors mean 'not judged', not 'no escalation'; such an article "
            "never makes an alert. True for English and undetermined text."
        ),
    )

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

    @model_validator(mode="after")
    def _unjudged_carries_no_judgement(self) -> _Classification:
        if not self.language_supported and (self.signals or self.level != "none" or self.severity):
            raise ValueError(
                f"an article in an unsupported language ({self.language}) is not judged: "
                "no signals, level 'none', severity 0"
            )
        return self


class Classification(_Classification):
    """An article's classification alone: what the story stage receives and a copy reuses."""


#: The fields the story stage adds to a classified article.
STORY_FIELDS: Final = ("story_id", "duplicate_of", "publisher_family")


class ClassifiedArticle(_Classification):
    """One per valid, published input article on ``news.classified.v1``, escalation or not.

    On the topic it also names the story the article joined (``story_id``), the article it
    copies (``duplicate_of``: a copy carries that article's classification, evidence included,
    so its evidence offsets index the original's text) and its publisher family. ``flashpoint
    classify`` runs no story stage: its lines leave these three fields out.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    article_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    article_version: int = Field(ge=1, le=MAX_SAFE_INT)
    story_id: str | None = Field(
        default=None, min_length=1, description="The story the article joined (stable while it is active)."
    )
    duplicate_of: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "The article this one copies (syndicated or republished), whose classification and "
            "evidence it carries; null when it is not a copy."
        ),
    )
    publisher_family: str | None = Field(
        default=None, min_length=1, description="The independent publisher the article counts for."
    )

    @model_serializer(mode="wrap")
    def _story_fields_only_with_a_story(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.story_id is None:
            for name in STORY_FIELDS:
                data.pop(name, None)
        return data


class ArticleRef(_Event):
    """Enough of the article for an alert desk to show it without another lookup."""

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    version: int = Field(ge=1, le=MAX_SAFE_INT)
    title: str = ""
    url: str | None = None
    source: str | None = None
    published_at: AwareDatetime | None = None


class NewCategory(_Event):
    """A category the story's articles signal that the previous version did not list."""

    kind: Literal["new_category"] = "new_category"
    value: Category


class LevelRaised(_Event):
    """The story's highest level rose."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    kind: Literal["level_raised"] = "level_raised"
    from_: Level = Field(alias="from")
    to: Level


class NewActors(_Event):
    """Actors the previous version did not name."""

    kind: Literal["new_actors"] = "new_actors"
    value: tuple[str, ...]


class PublishersCrossed(_Event):
    """The independent-publisher count reached 2, 5 or 10 (the highest step reached)."""

    kind: Literal["publishers_crossed"] = "publishers_crossed"
    value: int = Field(description="The highest of the steps 2, 5, 10 just reached.")


class Retracted(_Event):
    """Why the alert was retracted."""

    kind: Literal["retracted"] = "retracted"
    reason: RetractionReason


#: One machine-readable item of what changed since the previous version of an alert.
Change = Annotated[
    NewCategory | LevelRaised | NewActors | PublishersCrossed | Retracted, Field(discriminator="kind")
]


class Alert(_Classification):
    """One version of a story's escalation alert (``news.alerts.v1``, ``news.alerts.state.v1``).

    ``alert_id`` names the story's alert and stays the same across its versions; ``version``
    counts them (1, 2, ...). (``alert_id``, ``version``) is the idempotency key: a redelivered
    message is identical. ``status`` is ``created`` when the story first becomes an escalation
    (``created`` again if it escalates after a retraction), ``updated`` when something material
    changed (listed in ``changes``), ``retracted`` when no standing article supports it.

    The classification fields, ``article`` and ``summary`` explain the alert with the story's
    strongest escalating article (for a retraction: the explanation last published);
    ``categories``, ``story_actors``, ``article_ids`` and ``independent_publishers`` describe
    the story as a whole.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Stable per story.")
    version: int = Field(default=1, ge=1, le=MAX_SAFE_INT, description="1, then 2, 3, ... per alert_id.")
    status: AlertStatus = "created"
    story_id: str = Field(min_length=1)
    changes: list[Change] = Field(
        default_factory=list,
        description=(
            "What changed since the previous version; on a retraction, one retracted item with its reason."
        ),
    )
    article_ids: list[str] = Field(
        default_factory=list, description="The story's articles that stand (not withdrawn), by arrival."
    )
    independent_publishers: int = Field(
        default=0, ge=0, description="Distinct publisher families among those articles."
    )
    categories: list[Category] = Field(
        default_factory=list, description="Every category those articles signal, in codebook order."
    )
    story_actors: list[str] = Field(default_factory=list, description="Every actor those articles name.")
    article: ArticleRef = Field(description="The article that explains the alert.")
    summary: str = Field(min_length=1, max_length=400, description="One line for humans.")


class StoryInput(_Event):
    """Internal: one valid article on its way to the story stage (``news.stories.input.v1``).

    ``classification`` is null for a withdrawal. ``copy_of`` names the article whose
    classification the classify stage reused instead of running the model (a hint: the story
    stage decides what is a copy).
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    article: Article
    classification: Classification | None = None
    copy_of: str | None = None
    received_at: AwareDatetime
    source_topic: str | None = None
    source_partition: int | None = Field(default=None, ge=0)
    source_offset: int | None = Field(default=None, ge=0)


class DeadLetter(_Event):
    """An input that could not be processed, with the reason, on ``news.articles.dlq.v1``."""

    schema_version: Literal[1] = SCHEMA_VERSION
    original: str = Field(
        description=(
            "The original message value, base64 (standard alphabet); only its first bytes when "
            "original_truncated is true."
        )
    )
    original_key: str | None = Field(
        default=None,
        description="The original key, base64; only its first bytes when original_key_truncated is true.",
    )
    original_truncated: bool = Field(
        default=False,
        description=(
            "True when the dead letter would not fit the dead-letter topic whole and `original` "
            "holds a prefix of the value: fetch the whole message from source_topic, "
            "source_partition, source_offset and check it against original_sha256."
        ),
    )
    original_key_truncated: bool = Field(
        default=False, description="True when `original_key` holds only a prefix of the key."
    )
    original_size: int | None = Field(
        default=None, ge=0, description="Bytes of the original value (null: an older writer)."
    )
    original_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the whole original value, lower-case hex (null: an older writer).",
    )
    original_key_size: int | None = Field(
        default=None, ge=0, description="Bytes of the original key (null: no key, or an older writer)."
    )
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
        """The bytes that were sent, exactly (only their first bytes when ``original_truncated``)."""
        return base64.b64decode(self.original)
