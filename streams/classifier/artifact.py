"""The artifact directory's JSON files as pydantic models: written by training, read by serving.

``manifest.json`` says what the head is (categories, encoder, component weights, provenance);
``thresholds.json`` holds the calibrated thresholds and their version; ``metrics.json`` the
figures measured when it was trained; ``<component>.json`` what a lexical model's vocabulary
hashes are. Each value is stored in one file only, and every file is validated when it is read,
so a broken artifact fails when it loads, not at the first article. The numeric arrays of the
components (``*.npz``) are written and read by the components themselves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas import CATEGORIES

__all__ = [
    "ARTIFACTS_DIR",
    "DEFAULT_HEAD_VERSION",
    "FORMAT_VERSION",
    "Artifact",
    "ComponentReport",
    "DataFile",
    "FoldCalibration",
    "Hyperparameters",
    "LexicalFile",
    "Manifest",
    "Metrics",
    "NestedCrossValidation",
    "Report",
    "Score",
    "SupplementFile",
    "Thresholds",
    "Weight",
    "Weights",
    "shipped_artifact",
]

#: Where the packaged artifacts live, and the one the service loads by default.
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
DEFAULT_HEAD_VERSION = "minilm-sentence-v7"


def shipped_artifact() -> Path:
    return ARTIFACTS_DIR / DEFAULT_HEAD_VERSION


#: The layout of the files below; an artifact of another version does not load.
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
THRESHOLDS = "thresholds.json"
METRICS = "metrics.json"

#: A component's weight in the averaged score: one number, or one per category.
Weight = float | list[float]
Weights = dict[str, Weight]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> str:
        """The file's text: indented JSON, fields in declaration order, a final newline."""
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> Self:
        return cls.model_validate_json(path.read_bytes())


def _checked_weights(weights: Weights) -> Weights:
    """Each weight a finite, non-negative number or one per category; every category weighted."""
    k = len(CATEGORIES)
    total = [0.0] * k
    for name, weight in weights.items():
        values = [weight] * k if isinstance(weight, float) else weight
        if len(values) != k:
            raise ValueError(f"weight of {name!r} must be a number or {k} numbers, got {weight!r}")
        if not all(math.isfinite(w) and w >= 0 for w in values):
            raise ValueError(f"weight of {name!r} must be finite and not negative, got {weight!r}")
        total = [t + w for t, w in zip(total, values, strict=True)]
    if not all(t > 0 for t in total):
        raise ValueError(f"some category has no component weight: {weights!r}")
    return weights


def _per_category(values: dict[str, float]) -> dict[str, float]:
    if list(values) != list(CATEGORIES):
        raise ValueError(f"expected one value per category, in the order {list(CATEGORIES)}: {list(values)}")
    return values


class DataFile(BaseModel):
    """A labelled file the head was fitted on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="file name")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    n: int = Field(ge=0, description="articles used")


class SupplementFile(DataFile):
    """A labelled file in every fit but in no fold's test part, threshold choice or metric."""

    left_out_as_near_duplicates: int = Field(ge=0, description="articles left out: same story as `data`")


class Hyperparameters(BaseModel):
    """The training recipe the head was fitted with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    embedding_C: float  # noqa: N815 (the field name is the file's)
    word_C: float  # noqa: N815
    char_C: float  # noqa: N815
    char_max_features: int
    cue_C: float  # noqa: N815
    cue_min_df: int
    cue_weight_grid: list[float]
    sentence_C: float | None = None  # noqa: N815
    sentence_weight_grid: list[float] | None = None
    max_sentences: int
    finetune_layers: int
    epochs: int
    threshold_folds: int
    concat_per_passage: float
    concat_parts: tuple[int, int]
    seed: int


class Manifest(_File):
    """``manifest.json``: what the head is, what it combines and what it was fitted on."""

    format_version: Literal[1] = Field(description="FORMAT_VERSION; another version does not load")
    head_version: str
    categories: list[str]
    encoder: str = Field(description="the encoder's name, reported with every classification")
    encoder_path: str = Field(description="a custom encoder's directory; empty for the packaged one")
    encoder_overrides: str | None = Field(None, description="fine-tuned encoder weights, in the artifact")
    first_trainable_layer: int | None = None
    pooling: str
    weights: Weights
    long_words: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        None, description="articles with more kept words use long_weights and the long thresholds"
    )
    long_weights: Weights | None = None
    short_sentences: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        None,
        description="articles of at most this many kept sentences (wire flashes) use short_weights "
        "and the short thresholds",
    )
    short_words: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        None,
        description="with short_sentences: a short article also has at most this many kept words "
        "(absent: the sentence bound alone)",
    )
    short_weights: Weights | None = None
    hyperparameters: Hyperparameters
    data: DataFile
    supplement: list[SupplementFile] | None = None
    created_unix: int

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        if value != list(CATEGORIES):
            raise ValueError(f"the artifact has categories {value}, expected {list(CATEGORIES)}")
        return value

    @field_validator("weights", "long_weights", "short_weights")
    @classmethod
    def _weights(cls, value: Weights | None) -> Weights | None:
        return None if value is None else _checked_weights(value)

    @model_validator(mode="after")
    def _long_calibration(self) -> Self:
        if (self.long_words is None) != (self.long_weights is None):
            raise ValueError("long_words and long_weights go together: one is missing")
        if (self.short_sentences is None) != (self.short_weights is None):
            raise ValueError("short_sentences and short_weights go together: one is missing")
        if self.short_words is not None and self.short_sentences is None:
            raise ValueError("short_words needs short_sentences")
        return self


class Thresholds(_File):
    """``thresholds.json``: per category, the score a signal needs, for passages and long articles."""

    thresholds_version: str
    method: str
    thresholds: dict[str, float]
    long_method: str | None = None
    long_thresholds: dict[str, float] | None = None
    short_method: str | None = None
    short_thresholds: dict[str, float] | None = None
    #: per category, the probability of the sentence model at which a sentence is evidence
    sentence_method: str | None = None
    sentence_thresholds: dict[str, float] | None = None

    @field_validator("thresholds", "long_thresholds", "short_thresholds", "sentence_thresholds")
    @classmethod
    def _one_per_category(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else _per_category(value)


class Artifact(BaseModel):
    """The manifest and thresholds of an artifact directory, checked against each other."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest: Manifest
    thresholds: Thresholds

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.manifest.long_words is None) != (self.thresholds.long_thresholds is None):
            raise ValueError(
                "long_words (manifest.json) and long_thresholds (thresholds.json) go together: one is missing"
            )
        if (self.manifest.short_sentences is None) != (self.thresholds.short_thresholds is None):
            raise ValueError(
                "short_sentences (manifest.json) and short_thresholds (thresholds.json) go together: "
                "one is missing"
            )
        return self

    @classmethod
    def read(cls, directory: Path) -> Artifact:
        """Read and validate; ValueError (pydantic's ValidationError) names the bad field."""
        directory = Path(directory)
        return cls(
            manifest=Manifest.load(directory / MANIFEST), thresholds=Thresholds.load(directory / THRESHOLDS)
        )

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(self.manifest.dump(), encoding="utf-8")
        (directory / THRESHOLDS).write_text(self.thresholds.dump(), encoding="utf-8")


class LexicalFile(_File):
    """``<component>.json`` of a lexical model: its analyzer and how its n-grams are hashed."""

    analyzer: Literal["word", "char_wb"]
    hash: str


# -- metrics.json ------------------------------------------------------------------------------


class Score(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    precision: float
    recall: float
    f1: float
    support: int


class Report(BaseModel):
    """Per-category and escalation precision/recall/F1 and macro-F1 of a set of predictions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: dict[str, Score]
    escalation: Score
    macro_f1: float | None = Field(None, description="None when no category has examples or signals")
    macro_categories: list[str] = Field(description="the categories averaged into macro_f1")
    n: int


class LongSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    macro_f1: float | None = None
    escalation_f1: float


class ComponentReport(BaseModel):
    """One variant of the head (a component alone, the ensemble without one...) in the nested CV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    macro_f1: float | None = None
    escalation_f1: float
    f1: dict[str, float]
    long_articles: LongSummary
    flash: dict[str, float | None] | None = Field(
        None, description="single held-out sentences classified one by one (and the labelled ones)"
    )


class FoldCalibration(BaseModel):
    """The weights and thresholds one outer fold chose on its inner out-of-fold scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: Weights
    thresholds: list[float]
    long_weights: Weights
    long_thresholds: list[float]
    short_weights: Weights | None = None
    short_thresholds: list[float] | None = None
    sentence_thresholds: list[float] | None = None


class EvidenceScore(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    signals: int
    first_carries: int
    precision: float


class EvidenceReport(BaseModel):
    """How often a signal's first evidence sentence carries the signal's category (held-out
    labelled passages; their sentences' labels from the sentence file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_category: dict[str, EvidenceScore]
    precision: float
    signals: int
    unlabelled_passage_signals: int
    precision_counting_unlabelled: float


class NestedCrossValidation(Report):
    """The nested grouped CV estimate on the passages, with synthetic long articles and variants."""

    long_articles: Report
    flash: Report | None = Field(
        None,
        description="each held-out sentence (and unlabelled passages' sentences) as a one-sentence article",
    )
    sentences: Report | None = Field(None, description="the same, the labelled sentences only")
    evidence: EvidenceReport | None = None
    components: dict[str, ComponentReport]
    folds: int
    inner_folds: int
    seed: int
    groups: int = Field(description="near-duplicate groups (stories) the folds were split by")
    fold_calibrations: list[FoldCalibration]


class Metrics(_File):
    """``metrics.json``: the figures measured when the artifact was trained (on manifest ``data``)."""

    oof_with_final_thresholds: Report
    nested_cv: NestedCrossValidation | None = None
    fit_seconds: float
    train_seconds: float

    def write(self, directory: Path) -> None:
        (directory / METRICS).write_text(self.dump(), encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> Metrics:
        return cls.load(Path(directory) / METRICS)
