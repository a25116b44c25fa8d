"""``flashpoint topics create`` against a real broker: idempotent, with the registry's settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from streams.admin.topics import create_topics, describe_topics
from streams.cli.topics import topics_group
from streams.config import Settings, get_settings
from streams.topics import ARTICLES, REGISTRY

pytestmark = pytest.mark.kafka


@pytest.fixture
def admin(kafka: Any) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, client_id="test-topics-admin")
    try:
        yield client
    finally:
        client.close()


def broker_view(admin: KafkaAdminClient, names: list[str]) -> dict[str, dict[str, Any]]:
    """Partitions, replication and topic configs as the broker reports them."""
    metadata = {t["name"]: t for t in admin.describe_topics(names)}
    configs = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names], config_filter="all"
    )["topic"]
    view = {}
    for name in names:
        assert metadata[name]["error_code"] == 0, metadata[name]
        partitions = metadata[name]["partitions"]
        view[name] = {
            "partitions": len(partitions),
            "replication": {len(p["replica_nodes"]) for p in partitions},
            "config": {key: entry["value"] for key, entry in configs[name].items()},
        }
    return view


def test_create_twice_creates_once_with_the_registry_settings(
    kafka: Any, unique: str, admin: KafkaAdminClient
) -> None:
    # Partitions differ from both the broker's default (1) and Settings' default (6).
    settings = Settings(broker=kafka.broker_url, topic_prefix=f"t{unique}.", partitions=3)
    names = [spec.full_name(settings.topic_prefix) for spec in REGISTRY]

    assert create_topics(settings) == dict.fromkeys(names, True)
    assert create_topics(settings) == dict.fromkeys(names, False)

    listed = admin.list_topics()
    assert all(listed.count(name) == 1 for name in names)
    view = broker_view(admin, names)
    for spec, name in zip(REGISTRY, names, strict=True):
        # Every topic gets the settings' count, but a fixed one (the story stage's single partition).
        assert view[name]["partitions"] == (spec.fixed_partitions or 3)
        assert view[name]["replication"] == {settings.replication}
        for key, value in spec.config(settings).items():
            assert view[name]["config"][key] == value, (name, key)
    assert view[ARTICLES.full_name(settings.topic_prefix)]["config"]["retention.ms"] == str(
        ARTICLES.retention_ms
    )

    states = describe_topics(settings)
    assert [s.name for s in states] == names
    assert all(s.exists and not s.drift for s in states)


def test_existing_topic_is_left_alone_and_its_drift_reported(
    kafka: Any, unique: str, admin: KafkaAdminClient
) -> None:
    settings = Settings(broker=kafka.broker_url, topic_prefix=f"t{unique}.", partitions=2)
    articles = ARTICLES.full_name(settings.topic_prefix)
    admin.create_topics(
        {articles: {"num_partitions": 1, "replication_factor": 1, "configs": {"retention.ms": "60000"}}}
    )
    admin.wait_for_topics([articles])

    created = create_topics(settings)
    assert created.pop(articles) is False
    assert all(created.values())

    state = next(s for s in describe_topics(settings) if s.name == articles)
    assert state.partitions == 1
    assert state.config["retention.ms"] == "60000"
    assert any(line.startswith("partitions 1") for line in state.drift)
    assert any(line.startswith("retention.ms=60000") for line in state.drift)
    assert broker_view(admin, [articles])[articles]["partitions"] == 1  # not altered


def test_topics_cli(
    kafka: Any, unique: str, monkeypatch: pytest.MonkeyPatch, admin: KafkaAdminClient
) -> None:
    prefix = f"t{unique}."
    monkeypatch.setenv("FLASHPOINT_BROKER", kafka.broker_url)
    monkeypatch.setenv("FLASHPOINT_TOPIC_PREFIX", prefix)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        missing = runner.invoke(topics_group, ["list"])
        assert missing.exit_code == 0, missing.output
        assert missing.output.count("MISSING") == len(REGISTRY)

        first = runner.invoke(topics_group, ["create"])
        assert first.exit_code == 0, first.output
        assert f"{len(REGISTRY)} created, 0 already present" in first.output
        second = runner.invoke(topics_group, ["create"])
        assert second.exit_code == 0, second.output
        assert f"0 created, {len(REGISTRY)} already present" in second.output

        listed = runner.invoke(topics_group, ["list"])
        assert listed.exit_code == 0, listed.output
        for spec in REGISTRY:
            line = next(
                li for li in listed.output.splitlines() if li.startswith(spec.full_name(prefix) + " ")
            )
            assert f"partitions={spec.partitions(get_settings())} replication=1" in line
            assert f"retention.ms={spec.retention_ms}" in line
        assert "drift" not in listed.output
    finally:
        get_settings.cache_clear()
    names = [spec.full_name(prefix) for spec in REGISTRY]
    assert set(names) <= set(admin.list_topics())


def test_unreachable_broker_is_a_clean_cli_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHPOINT_BROKER", "kafka://127.0.0.1:1")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(topics_group, ["list", "--timeout", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "127.0.0.1:1" in result.output
    assert "Traceback" not in result.output
