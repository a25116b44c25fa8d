"""Settings: one frozen pydantic-settings object, read from ``FLASHPOINT_*`` once.

Nested settings use ``__``: ``FLASHPOINT_CLASSIFIER__BACKEND=torch``. No other module reads
``os.environ``; everything takes a :class:`Settings` (or a part of it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
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
    stall_on: str = Field(
        default="",
        description="Fault drill: the classifier never returns on articles matching this regex (empty: off).",
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


class KafkaSettings(BaseModel):
    """How every Kafka client authenticates and encrypts (``FLASHPOINT_KAFKA__*``).

    Secrets are :class:`~pydantic.SecretStr` (masked in every repr and dump) or files read when
    a client is built; validation errors never quote the values they reject.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    sasl_mechanism: Literal["", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="", description="SASL mechanism (SASL_* protocols): PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
    )
    sasl_username: str = Field(default="", description="SASL user name (SASL_* protocols).")
    sasl_password: SecretStr = Field(
        default=SecretStr(""), description="SASL password; or set sasl_password_file instead."
    )
    sasl_password_file: str = Field(
        default="", description="A file holding the SASL password (read when a client is built)."
    )
    ssl_cafile: str = Field(
        default="", description="PEM file of the CA(s) to trust; empty = the system's trust store."
    )
    ssl_certfile: str = Field(default="", description="PEM client certificate, for mutual TLS.")
    ssl_keyfile: str = Field(default="", description="PEM private key of the client certificate.")
    ssl_key_password: SecretStr = Field(
        default=SecretStr(""), description="Password of an encrypted ssl_keyfile."
    )
    ssl_check_hostname: bool = Field(
        default=True, description="Check that the broker's certificate names the host connected to."
    )

    @property
    def uses_sasl(self) -> bool:
        """Whether the protocol authenticates with SASL."""
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        """Whether the protocol encrypts with TLS."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    def password(self) -> str:
        """The SASL password: ``sasl_password``, else the first line of ``sasl_password_file``."""
        if self.sasl_password_file:
            return Path(self.sasl_password_file).read_text(encoding="utf-8").strip("\r\n")
        return self.sasl_password.get_secret_value()

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        problems: list[str] = []
        if self.uses_sasl:
            if not self.sasl_mechanism:
                problems.append(f"{self.security_protocol} needs sasl_mechanism")
            if not self.sasl_username:
                problems.append(f"{self.security_protocol} needs sasl_username")
            if not self.sasl_password.get_secret_value() and not self.sasl_password_file:
                problems.append(f"{self.security_protocol} needs sasl_password or sasl_password_file")
            if self.sasl_password.get_secret_value() and self.sasl_password_file:
                problems.append("set sasl_password or sasl_password_file, not both")
        elif self.sasl_mechanism or self.sasl_username or self.sasl_password_file:
            problems.append(f"SASL settings are set but security_protocol is {self.security_protocol}")
        ssl_files = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        if not self.uses_tls and any(ssl_files.values()):
            problems.append(f"ssl_* files are set but security_protocol is {self.security_protocol}")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            problems.append("mutual TLS needs both ssl_certfile and ssl_keyfile")
        files = {**ssl_files, "sasl_password_file": self.sasl_password_file}
        for name, path in files.items():
            if path and not Path(path).is_file():
                problems.append(f"{name}: no such file {path}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Settings(BaseSettings):
    """Every knob of the service. Environment variables take the prefix ``FLASHPOINT_``."""

    model_config = SettingsConfigDict(
        env_prefix="FLASHPOINT_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        # Errors name the setting, never its value: a value may be a secret (kafka.sasl_password).
        hide_input_in_errors=True,
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
        default=200_000,
        ge=1,
        description=(
            "Articles with a longer body are dead-lettered. The topics' max.message.bytes and the "
            "producer's request size derive from it, so any valid article fits."
        ),
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
    session_timeout_seconds: float = Field(
        default=8.0,
        gt=0,
        description=(
            "Consumer group session timeout: a worker silent this long (killed, frozen) loses its "
            "partitions to the others. Must lie within the broker's group.min/max.session.timeout.ms."
        ),
    )
    heartbeat_interval_seconds: float = Field(
        default=2.0, gt=0, description="Consumer heartbeat interval; at most a third of the session timeout."
    )
    group_instance_id: str = Field(
        default="",
        description=(
            "Static group membership (KIP-345): a name unique to this worker and stable across its "
            "restarts (a StatefulSet pod name), so a restart within the session timeout moves no "
            "partition and stalls no other worker; empty = dynamic membership."
        ),
    )
    liveness_stall_seconds: float = Field(
        default=120.0,
        gt=0,
        description=(
            "/health fails when the classify agent made no progress this long while its input has lag."
        ),
    )
    held_back_reread_seconds: float = Field(
        default=5.0,
        gt=0,
        description=(
            "An input partition whose next record has not been processed this long while later "
            "ones have (Faust skipped it, at a rebalance) is read again from its committed offset, "
            "checked every 5 s. Below liveness_stall_seconds."
        ),
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
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)

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
