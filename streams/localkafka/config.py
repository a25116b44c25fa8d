"""How a local cluster is laid out and configured: ports, directories, cluster id, broker settings.

Port scheme: from a first port ``P`` and ``N`` nodes, the brokers listen on ``P .. P+N-1`` (clients
bootstrap from them) and the KRaft controllers on ``P+N .. P+2N-1``. The default single node is
therefore broker 19092 + controller 19093; three nodes are brokers 19092-19094 + controllers
19095-19097. Every node is a combined broker/controller; three nodes use a static voter set of all
three, replication factor 3 and ``min.insync.replicas=2`` for every topic including the internal ones.

Data and logs live in a fresh work directory under ``/dev/shm`` when it exists (KRaft fsyncs are
then free), else under the system temp dir. The JVMs get a small heap, serial GC and the C1
compiler only, so brokers start fast and leave the CPU to the tests.
"""

from __future__ import annotations

import base64
import os
import random
import socket
import tempfile
import uuid
from pathlib import Path

from streams.localkafka.errors import KafkaLauncherError
from streams.localkafka.secure import SecureFiles, secure_properties
from streams.localkafka.state import WORK_DIR_PREFIX, Node

#: The broker JVM's flags (see the module docstring).
JVM_FLAGS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
#: Flags of the short-lived tool JVMs (storage format).
TOOL_JVM_FLAGS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")

# Broker logs go to a size-capped file per node; JVM-level failures (bad class version, OOM) land
# in stdout.log beside it.
BROKER_LOG4J = """\
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=FILE
appender.file.type=RollingFile
appender.file.name=FILE
appender.file.fileName={log_dir}/server.log
appender.file.filePattern={log_dir}/server.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=50MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=2
"""
# The tools only report problems, on stderr, where the launcher quotes them.
TOOL_LOG4J = """\
rootLogger.level=WARN
rootLogger.appenderRef.err.ref=STDERR
appender.err.type=Console
appender.err.name=STDERR
appender.err.target=SYSTEM_ERR
appender.err.layout.type=PatternLayout
appender.err.layout.pattern=%p %m (%c)%n
"""


def port_is_free(port: int) -> bool:
    """Whether a listener could bind ``127.0.0.1:port`` now (the JVM also binds with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(count: int, low: int = 20000, high: int = 32000) -> int:
    """The first port of ``count`` consecutive free ports below the usual ephemeral range."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - count)
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise KafkaLauncherError(f"no block of {count} free ports found between {low} and {high}")


def generate_cluster_id() -> str:
    """A KRaft cluster id in the format of ``org.apache.kafka.common.Uuid.toString`` (22 chars).

    Kafka rejects ids that start with ``-`` (and they also break StorageTool's argument parser).
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def make_work_dir() -> Path:
    """A fresh directory for one cluster's data and logs, in memory when ``/dev/shm`` is writable."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix=WORK_DIR_PREFIX, dir=base))


def layout(nodes: int, port: int, work_dir: Path) -> list[Node]:
    """The nodes of a cluster of ``nodes`` whose first broker port is ``port`` (not started yet)."""
    return [
        Node(
            node_id=i + 1,
            broker_port=port + i,
            controller_port=port + nodes + i,
            directory=str(work_dir / f"node-{i + 1}"),
        )
        for i in range(nodes)
    ]


def controller_voters(nodes: list[Node]) -> str:
    """The static KRaft voter set: every node, ``id@127.0.0.1:controller_port``."""
    return ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)


def server_properties(node: Node, voters: str, nodes: int, secure: SecureFiles | None = None) -> str:
    """``server.properties`` of one combined broker/controller node in a cluster of ``nodes``.

    With ``secure`` the broker listener is SASL_SSL (see :mod:`.secure`), else PLAINTEXT.
    """
    rf = 1 if nodes == 1 else 3
    isr = 1 if nodes == 1 else 2
    broker = "SASL_SSL" if secure else "PLAINTEXT"
    listeners = f"{broker}://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}"
    props: dict[str, object] = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": listeners,
        "advertised.listeners": listeners,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": broker,
        "listener.security.protocol.map": f"{broker}:{broker},CONTROLLER:PLAINTEXT",
        "log.dirs": str(Path(node.directory) / "data"),
        # The defaults (RF 3, 50 partitions, 3 s rebalance delay) make tests slow or hang.
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": 1,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": isr,
        "transaction.state.log.num.partitions": 1,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": isr,
        "group.initial.rebalance.delay.ms": 0,
        "num.partitions": 1,
        "default.replication.factor": rf,
        "min.insync.replicas": isr,
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "num.network.threads": 2,
        "num.io.threads": 2,
        "background.threads": 2,
        "num.recovery.threads.per.data.dir": 1,
        # The default 128 MiB dedupe buffer is allocated on the heap; the heap is 512 MiB.
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
    }
    if secure:
        props.update(secure_properties(secure))
    return "".join(f"{key}={value}\n" for key, value in props.items())


def native_tmp_flags(node_dir: Path) -> list[str]:
    """JVM flags that unpack native code (zstd-jni, snappy) under the node dir: a noexec /tmp breaks it."""
    tmp = node_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    return [f"-Djava.io.tmpdir={tmp}", f"-DZstdTempFolder={tmp}", f"-Dorg.xerial.snappy.tempdir={tmp}"]


def write_node_files(node: Node, voters: str, nodes: int, secure: SecureFiles | None = None) -> None:
    """Create the node's directory with its ``server.properties`` and log4j configuration."""
    node_dir = Path(node.directory)
    (node_dir / "logs").mkdir(parents=True)
    node.properties_file.write_text(server_properties(node, voters, nodes, secure))
    if secure:  # it holds the brokers' password
        node.properties_file.chmod(0o600)
    (node_dir / "log4j2.properties").write_text(BROKER_LOG4J.format(log_dir=node_dir / "logs"))
