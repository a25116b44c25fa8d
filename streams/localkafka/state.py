"""What a running local cluster is: its nodes, ports, pids and directories, and the file that records it.

``flashpoint kafka up`` returns while the brokers keep running, so a JSON state file
(``<state dir>/cluster.json``, by default under the user state dir; tests pass a state dir of their
own) records the cluster for ``down`` and ``status`` to stop or inspect exactly what ``up`` started.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

from streams.config import KafkaSettings
from streams.localkafka.errors import KafkaLauncherError
from streams.localkafka.process import is_our_process

STATE_FILE_NAME = "cluster.json"
#: Every cluster's work dir starts with this, so discarding one never deletes anything else.
WORK_DIR_PREFIX = "flashpoint-kafka-"


@dataclass
class Node:
    """One combined broker/controller process."""

    node_id: int
    broker_port: int
    controller_port: int
    directory: str
    pid: int = 0

    @property
    def bootstrap(self) -> str:
        """This node's client address, ``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.broker_port}"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j)."""
        return Path(self.directory) / "logs" / "server.log"

    @property
    def stdout_file(self) -> Path:
        """The JVM's stdout and stderr."""
        return Path(self.directory) / "stdout.log"

    @property
    def properties_file(self) -> Path:
        """The node's ``server.properties``."""
        return Path(self.directory) / "server.properties"

    def is_running(self) -> bool:
        """Whether this node's JVM is alive (and is really this node, not a reused pid)."""
        return self.pid > 0 and is_our_process(self.pid, str(self.properties_file))


@dataclass
class Cluster:
    """A local Kafka cluster started by :func:`streams.localkafka.cluster.start_cluster`."""

    cluster_id: str
    work_dir: str
    state_file: str
    nodes: list[Node] = field(default_factory=list)
    started_at: float = 0.0
    format_seconds: float = 0.0
    ready_seconds: float = 0.0
    #: The directory of the CA, keystore and passwords of a ``--secure`` cluster ("" otherwise).
    secure_dir: str = ""

    @property
    def secure(self) -> bool:
        """Whether clients reach the brokers over SASL_SSL (``--secure``)."""
        return bool(self.secure_dir)

    def kafka_settings(self) -> KafkaSettings:
        """The client security settings of this cluster (plaintext unless ``--secure``)."""
        return KafkaSettings.model_validate(
            {k.removeprefix("FLASHPOINT_KAFKA__").lower(): v for k, v in self.client_environment().items()}
        )

    def client_environment(self) -> dict[str, str]:
        """The ``FLASHPOINT_KAFKA__*`` variables a client needs (none for a plaintext cluster)."""
        if not self.secure:
            return {}
        from streams.localkafka.secure import SecureFiles, client_environment

        return client_environment(SecureFiles(Path(self.secure_dir)))

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers for kafka-python / aiokafka: ``127.0.0.1:P1,127.0.0.1:P2``."""
        return ",".join(n.bootstrap for n in self.nodes)

    @property
    def broker_url(self) -> str:
        """Faust broker URL (``FLASHPOINT_BROKER``): ``kafka://127.0.0.1:P1;kafka://127.0.0.1:P2``."""
        return ";".join(f"kafka://{n.bootstrap}" for n in self.nodes)

    @property
    def pids(self) -> list[int]:
        """The JVM pid of every node, in node order."""
        return [n.pid for n in self.nodes]

    def node(self, node_id: int) -> Node:
        """The node with this id (ids start at 1)."""
        for n in self.nodes:
            if n.node_id == node_id:
                return n
        raise KeyError(node_id)

    def running_nodes(self) -> list[Node]:
        """The nodes whose JVM is alive."""
        return [n for n in self.nodes if n.is_running()]

    def to_json(self) -> str:
        """The state-file representation."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Cluster:
        """Parse a state file written by :meth:`to_json`."""
        raw = json.loads(text)
        nodes = [Node(**n) for n in raw.pop("nodes")]
        return cls(nodes=nodes, **raw)


def default_state_dir() -> Path:
    """Where ``flashpoint kafka up`` records the running cluster by default."""
    return Path(platformdirs.user_state_dir("flashpoint")) / "kafka"


def state_file(state_dir: Path | str | None) -> Path:
    """The state file in ``state_dir`` (``None``: the default state dir)."""
    return Path(state_dir or default_state_dir()) / STATE_FILE_NAME


def load_cluster(state_dir: Path | str | None = None) -> Cluster | None:
    """The cluster recorded in the state dir, running or not (``None`` when there is no record)."""
    path = state_file(state_dir)
    try:
        return Cluster.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as exc:
        raise KafkaLauncherError(f"unreadable state file {path}: {exc}; delete it") from exc


def save_cluster(cluster: Cluster) -> None:
    """Record ``cluster`` in its state file (replaced atomically: a reader never sees half a file)."""
    path = Path(cluster.state_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(cluster.to_json())
    tmp.replace(path)


def discard_cluster(cluster: Cluster) -> None:
    """Forget a stopped cluster: its work dir (data, logs) and its state file."""
    if Path(cluster.work_dir).name.startswith(WORK_DIR_PREFIX):
        shutil.rmtree(cluster.work_dir, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        Path(cluster.state_file).unlink()
