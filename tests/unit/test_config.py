"""Settings: environment parsing, and the example env file generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.config import Settings, env_example

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_is_generated_from_the_settings() -> None:
    committed = (ROOT / "deploy" / "flashpoint.env.example").read_text(encoding="utf-8")
    assert committed == env_example(), "run `make env-example`"


def test_environment_variables_reach_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHPOINT_BROKER", "kafka://k1:9092;kafka://k2:9092")
    monkeypatch.setenv("FLASHPOINT_CLASSIFIER__BACKEND", "torch")
    monkeypatch.setenv("FLASHPOINT_TOPIC_PREFIX", "staging.")
    settings = Settings()
    assert settings.classifier.backend == "torch"
    assert settings.broker_servers() == "k1:9092,k2:9092"
    assert settings.topic_prefix == "staging."


def test_unknown_or_invalid_settings_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHPOINT_CLASSIFIER__BACKEND", "tensorflow")
    with pytest.raises(ValidationError, match="backend"):
        Settings()
