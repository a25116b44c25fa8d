"""Settings: one frozen pydantic-settings object, read from ``FLASHPOINT_*`` once.

Nested settings use ``__``: ``FLASHPOINT_CLASSIFIER__BACKEND=torch``. No other module reads
``os.environ``; everything takes a :class:`Settings` (or a part of it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Where ``flashpoint kafka up`` puts its single broker by default.
LOCAL_BROKER_PORT = 19092


class ClassifierSettings(BaseModel):
    """How articles are classified."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    encoder: str = Field(
        default="",
        description="Encoder: a local directory or Hugging Face id; empty = the packaged all-MiniLM-L6-v2.",
    )
    artifact: str = Field(
        default="", description="Directory of a trained head (flashpoint train); empty = the shipped one."
    )
    backend: Literal["onnx", "torch"] = Field(
        default="onnx", description="Encoder runtime: ONNX Runtime int8 (fast) or transformers+torch fp32."
    )
    batch_size: int = Field(default=32, ge=1, description="Sentences per encoder forward pass.")
    max_sentences: int = Field(
        default=64, ge=1, description="Sentences of an article that are scored (title and lead first)."
    )
    threads: int = Field(
        default=0, ge=0, description="Intra-op threads for the encoder; 0 = runtime default."
    )
    fail_on: str = Field(
        default="",
        description="Fault drill: raise in the classifier on articles matching this regex (empty: off).",
    )


class StorySettings(BaseModel):
    """How articles are grouped into stories and copies are recognised (defaults: StoryConfig's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_hours: float = Field(
        default=96.0, gt=0, description="A story stays open this long (event time) after its last article."
    )
    threshold: float = Field(
        default=0.12, ge=0, le=1, description="Least similarity for an article to join a story."
    )
    sigma_days: float = Field(default=1.0, gt=0, description="Gaussian time decay of similarity, in days.")
    publisher_families: str = Field(
        default="", description="YAML table of publisher families; empty = the packaged one."
    )
    copy_cache_size: int = Field(
        default=20_000,
        ge=0,
        description="Classifications a worker keeps so that copies of them skip the model (0: off).",
    )
    table_store: str = Field(
        default="rocksdb://",
        description="Faust store of the story tables: rocksdb:// (needs rocksdict) or memory://.",
    )


class Settings(BaseSettings):
    """Every knob of the service. Environment variables take the prefix ``FLASHPOINT_``."""

    model_config = SettingsConfigDict(
        env_prefix="FLASHPOINT_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    broker: str = Field(
        default=f"kafka://127.0.0.1:{LOCAL_BROKER_PORT}",
        description="Faust broker URL(s), e.g. kafka://k1:9092;kafka://k2:9092.",
    )
    topic_prefix: str = Field(
        default="", description="Prefix for every topic name, e.g. 'staging.' (empty in production)."
    )
    app_id: str = Field(default="flashpoint", description="Faust app id = Kafka consumer group id.")
    partitions: int = Field(default=6, ge=1, description="Partitions of each topic that Flashpoint creates.")
    replication: int = Field(
        default=1, ge=1, description="Replication factor of the topics Flashpoint creates."
    )
    max_body_chars: int = Field(
        default=200_000, ge=1, description="Articles with a longer body are dead-lettered."
    )
    batch_max: int = Field(default=8, ge=1, description="Most articles classified in one batch.")
    batch_within: float = Field(
        default=0.25, gt=0, description="Seconds to wait for a batch to fill before classifying it."
    )
    web_port: int = Field(default=6066, ge=0, le=65535, description="Port of /health, /ready, /metrics.")
    web_host: str = Field(default="127.0.0.1", description="Interface of the web server.")
    data_dir: str = Field(
        default="",
        description="Faust's data directory; empty = ~/.local/share/flashpoint/<app id>.",
    )
    log_json: bool = Field(default=False, description="Write logs as JSON lines.")
    log_level: str = Field(default="INFO", description="Log level of the worker.")
    producer_retries_max_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a send is retried through a broker outage before giving up.",
    )
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    stories: StorySettings = Field(default_factory=StorySettings)

    def broker_servers(self) -> str:
        """The broker URL as a kafka bootstrap string (``host:port,host:port``)."""
        hosts = [u.strip().removeprefix("kafka://") for u in self.broker.replace(",", ";").split(";")]
        return ",".join(h for h in hosts if h)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()


def env_example() -> str:
    """An example environment file listing every setting with its description and default.

    ``deploy/flashpoint.env.example`` is this text; a test fails when they differ.
    """
    lines = [
        "# Flashpoint settings: environment variables with the prefix FLASHPOINT_ (nested fields use __).",
        "# Every variable below is shown with its default; copy this file, keep the lines you change.",
        "# Generated from streams/config.py by `make env-example`; a test fails when it drifts.",
    ]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name.upper()}__")
                continue
            default = info.get_default(call_default_factory=True)
            value = str(default).lower() if isinstance(default, bool) else str(default)
            lines.append(f"\n# {info.description}")
            lines.append(f"{prefix}{name.upper()}={value}")

    walk(Settings, "FLASHPOINT_")
    return "\n".join(lines) + "\n"
