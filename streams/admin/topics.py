"""Flashpoint's topics on the broker, from the registry (``flashpoint topics create|list``).

:func:`create_topics` creates every registry topic that is missing (with the settings' prefix,
partitions and replication and the topic's own configs) and leaves existing ones alone, so it
is safe to run on every deploy. :func:`describe_topics` reads back what the broker holds and
where it differs from the registry. Both take a :class:`~streams.config.Settings`; only the CLI
layer (:mod:`streams.cli.topics`) reads the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError
from kafka.errors import for_code as error_for_code

from streams.config import Settings
from streams.kafka_clients import check_access, client_options
from streams.topics import REGISTRY, TopicSpec

CLIENT_ID: Final = "flashpoint-topics"
#: How long to wait for the broker to answer, by default.
DEFAULT_TIMEOUT_S: Final = 30.0
#: How long to wait for new topics to have a leader for every partition.
READY_TIMEOUT_MS: Final = 30_000


@dataclass(frozen=True)
class TopicState:
    """One registry topic as the broker holds it (or its absence), against what it should be."""

    spec: TopicSpec[Any]
    name: str
    exists: bool
    partitions: int | None = None
    replication: int | None = None
    #: The topic's configs as the broker reports them: the registry's keys and every override.
    config: dict[str, str] = field(default_factory=dict)
    #: What the registry and settings ask for, where the broker differs (empty when in line).
    drift: tuple[str, ...] = ()


@contextmanager
def admin_client(settings: Settings, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client on the settings' brokers, closed on exit.

    Refused TLS or SASL credentials raise :class:`~streams.kafka_clients.KafkaAccessError` at once.
    """
    check_access(settings.broker_servers(), settings.kafka, timeout_s)
    client = KafkaAdminClient(
        bootstrap_servers=settings.broker_servers(),
        client_id=CLIENT_ID,
        request_timeout_ms=int(timeout_s * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
        **client_options(settings.kafka),
    )
    try:
        yield client
    finally:
        client.close()


def create_topics(settings: Settings, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, bool]:
    """Create the registry's missing topics; full topic name -> True if created by this call.

    A topic that already exists is left as it is (False), whatever its configuration: use
    :func:`describe_topics` to see drift. Raises :class:`kafka.errors.KafkaError` when the
    broker refuses a topic for any other reason than its existence.
    """
    with admin_client(settings, timeout_s) as admin:
        wanted = {spec.full_name(settings.topic_prefix): spec for spec in REGISTRY}
        present = set(admin.list_topics())
        missing = {name: spec for name, spec in wanted.items() if name not in present}
        created: set[str] = set()
        if missing:
            request = {
                name: {
                    "num_partitions": spec.partitions(settings),
                    "replication_factor": settings.replication,
                    "configs": spec.config(settings),
                }
                for name, spec in missing.items()
            }
            response = admin.create_topics(request, raise_errors=False)
            for topic in response["topics"]:
                error = error_for_code(topic["error_code"])
                if error is TopicAlreadyExistsError:  # created concurrently by someone else
                    continue
                if topic["error_code"] != 0:
                    raise error(f"{topic['name']}: {topic.get('error_message') or error.__name__}")
                created.add(topic["name"])
            admin.wait_for_topics(sorted(created), timeout_ms=READY_TIMEOUT_MS)
    return {name: name in created for name in wanted}


def describe_topics(settings: Settings, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[TopicState]:
    """Every registry topic as the broker holds it, in registry order, with its drift."""
    names = [spec.full_name(settings.topic_prefix) for spec in REGISTRY]
    with admin_client(settings, timeout_s) as admin:
        metadata = {topic["name"]: topic for topic in admin.describe_topics(names)}
        existing = [n for n in names if n in metadata and metadata[n].get("error_code", 0) == 0]
        configs: dict[str, dict[str, Any]] = {}
        if existing:
            resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in existing]
            configs = admin.describe_configs(resources, config_filter="all").get("topic", {})
    states = []
    for spec, name in zip(REGISTRY, names, strict=True):
        if name not in existing:
            states.append(TopicState(spec=spec, name=name, exists=False, drift=("missing",)))
            continue
        partitions = metadata[name].get("partitions") or []
        replication = max((len(p.get("replica_nodes") or []) for p in partitions), default=0)
        config = _visible_config(spec, settings, configs.get(name, {}))
        states.append(
            TopicState(
                spec=spec,
                name=name,
                exists=True,
                partitions=len(partitions),
                replication=replication,
                config=config,
                drift=_drift(spec, settings, len(partitions), replication, config),
            )
        )
    return states


def _visible_config(spec: TopicSpec[Any], settings: Settings, entries: dict[str, Any]) -> dict[str, str]:
    """The registry's keys (whatever their source) and every per-topic override, by name."""
    wanted = spec.config(settings)
    return {
        key: str(entry.get("value"))
        for key, entry in sorted(entries.items())
        if key in wanted or entry.get("config_source") == "DYNAMIC_TOPIC_CONFIG"
    }


def _drift(
    spec: TopicSpec[Any], settings: Settings, partitions: int, replication: int, config: dict[str, str]
) -> tuple[str, ...]:
    found = []
    if partitions != spec.partitions(settings):
        found.append(f"partitions {partitions}, the registry asks for {spec.partitions(settings)}")
    if replication != settings.replication:
        found.append(f"replication {replication}, settings ask for {settings.replication}")
    for key, value in spec.config(settings).items():
        if config.get(key) != value:
            found.append(f"{key}={config.get(key)}, registry asks for {value}")
    return tuple(found)
