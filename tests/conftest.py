"""Fixtures shared by every test package.

``kafka``: one real single-node Apache Kafka per test session, started by the project's own
launcher (:mod:`streams.localkafka`) on free ports with a state dir of its own, so it never
touches a cluster a developer runs with ``flashpoint kafka up``. It starts only when a test asks
for it, and a launcher failure fails those tests: they never skip.

``unique``: a name suffix per test, for topics and consumer groups on the shared broker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from streams.localkafka import Cluster, KafkaLauncherError, free_port_block, start_cluster, stop_cluster


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The session's broker: ``.bootstrap`` (``127.0.0.1:PORT``) and ``.broker_url`` (``kafka://…``)."""
    state_dir = tmp_path_factory.mktemp("kafka-state")
    cluster = None
    error = ""
    for _ in range(3):
        port = free_port_block(2)
        try:
            cluster = start_cluster(nodes=1, port=port, state_dir=state_dir, die_with_parent=True)
            break
        except KafkaLauncherError as exc:
            error = str(exc)
            # Another process took the port between the check and the bind: try other ports.
            if "in use" not in error:
                break
    if cluster is None:
        pytest.fail(f"the Kafka launcher failed: {error}", pytrace=False)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A suffix no other test uses: the test's name plus 8 random hex digits (topic-name safe)."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"{name}-{uuid.uuid4().hex[:8]}"
