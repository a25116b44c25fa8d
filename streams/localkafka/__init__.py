"""A real local Apache Kafka (KRaft) for the demo, the tests and the benchmarks: development tooling.

Nothing here runs in production: the worker only ever talks to the broker its settings name. The
launcher exists so that ``flashpoint demo``, ``flashpoint kafka up`` and the ``kafka``/``e2e`` test
sessions run against a genuine broker without Docker. It is split by concern:

- :mod:`.jars`: the Maven pom that pins the broker's classpath, the jar cache, java and mvn;
- :mod:`.config`: ports, directories, cluster id and each node's ``server.properties``;
- :mod:`.process`: spawning, recognising, signalling and reaping the JVMs, log tails;
- :mod:`.state`: the :class:`Cluster` and :class:`Node` records and the state file;
- :mod:`.cluster`: starting (with the readiness wait), inspecting and stopping a cluster, and
  stopping and restarting one node on its data (fault tests).

Callers import from this package; the click commands live in :mod:`streams.cli.kafka`.
"""

from streams.localkafka.cluster import (
    READY_TIMEOUT_S,
    STOP_GRACE_S,
    cluster_status,
    recorded_cluster,
    start_cluster,
    start_node,
    stop_cluster,
    stop_node,
)
from streams.localkafka.config import free_port_block
from streams.localkafka.errors import KafkaLauncherError
from streams.localkafka.jars import BROKER_POM, find_java, kafka_version
from streams.localkafka.process import java_processes_under
from streams.localkafka.state import Cluster, Node, default_state_dir, load_cluster

__all__ = [
    "BROKER_POM",
    "READY_TIMEOUT_S",
    "STOP_GRACE_S",
    "Cluster",
    "KafkaLauncherError",
    "Node",
    "cluster_status",
    "default_state_dir",
    "find_java",
    "free_port_block",
    "java_processes_under",
    "kafka_version",
    "load_cluster",
    "recorded_cluster",
    "start_cluster",
    "start_node",
    "stop_cluster",
    "stop_node",
]
