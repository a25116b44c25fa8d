"""A real Apache Kafka (KRaft, no ZooKeeper, no Docker) on 127.0.0.1, for the demo and the tests.

``flashpoint kafka up [--nodes 1|3] [--port N]`` fetches the broker jars once with ``mvn`` from
``deploy/kafka/pom.xml`` into the user cache, formats KRaft storage, starts the node(s) in the
background and returns only when an admin request sees every broker. ``down`` stops every process
it started; ``status`` reports whether a cluster is running.

Port scheme: with ``--port P`` and N nodes, the brokers listen on ``P .. P+N-1`` (clients bootstrap
from them) and the KRaft controllers on ``P+N .. P+2N-1``. The default single node is therefore
broker 19092 + controller 19093; three nodes are brokers 19092-19094 + controllers 19095-19097.
Every node is a combined broker/controller; three nodes use a static voter set of all three,
replication factor 3 and ``min.insync.replicas=2`` for every topic including the internal ones.

Data and logs live in a fresh work directory under ``/dev/shm`` when it exists (KRaft fsyncs are
then free), else under the system temp dir. A JSON state file (``<state dir>/cluster.json``,
default under the user state dir, overridable so tests run their own cluster) records the pids,
ports and directories so that ``down`` can stop exactly what ``up`` started.

This module reads ``JAVA_HOME`` and ``PATH`` from the environment: they describe the machine, not
Flashpoint's configuration, so they are not part of :class:`streams.config.Settings`.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
import platformdirs

from streams.config import LOCAL_BROKER_PORT

#: The pom that declares the broker's runtime classpath.
POM_PATH = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
#: How long ``up`` waits for every broker to answer an admin request.
READY_TIMEOUT_S = 60.0
#: How long ``down`` waits after SIGTERM before it sends SIGKILL.
STOP_GRACE_S = 15.0
#: How long ``mvn`` may take to fetch the jars on a cold cache.
FETCH_TIMEOUT_S = 900.0
STATE_FILE_NAME = "cluster.json"

# Recipe §5: small heap, serial GC and C1 only, so brokers start fast and leave the CPU to the tests.
JVM_FLAGS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
TOOL_JVM_FLAGS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData")

# Broker logs go to a size-capped file per node; JVM-level failures (bad class version, OOM) land
# in stdout.log beside it.
_BROKER_LOG4J = """\
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
_TOOL_LOG4J = """\
rootLogger.level=WARN
rootLogger.appenderRef.err.ref=STDERR
appender.err.type=Console
appender.err.name=STDERR
appender.err.target=SYSTEM_ERR
appender.err.layout.type=PatternLayout
appender.err.layout.pattern=%p %m (%c)%n
"""


class KafkaLauncherError(click.ClickException):
    """The local Kafka could not be fetched, started or stopped. Printed by click as one line."""

    retriable = False


# --------------------------------------------------------------------------------------------
# Data


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
        return self.pid > 0 and _is_our_process(self.pid, str(self.properties_file))


@dataclass
class Cluster:
    """A local Kafka cluster started by :func:`start_cluster`."""

    cluster_id: str
    work_dir: str
    state_file: str
    nodes: list[Node] = field(default_factory=list)
    started_at: float = 0.0
    format_seconds: float = 0.0
    ready_seconds: float = 0.0

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


# --------------------------------------------------------------------------------------------
# Tools on the machine


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when ``JAVA_HOME`` is set, else ``java`` on ``PATH``."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if os.access(candidate, os.X_OK):
            return str(candidate)
        raise KafkaLauncherError(
            f"JAVA_HOME={java_home} has no bin/java: point JAVA_HOME at a Java 17+ JDK, or unset it"
        )
    found = shutil.which("java")
    if not found:
        raise KafkaLauncherError(
            "java not found on PATH: install Java 17+ (e.g. apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    return found


def find_mvn() -> str:
    """``mvn`` on ``PATH``."""
    found = shutil.which("mvn")
    if not found:
        raise KafkaLauncherError(
            "mvn not found on PATH: install Apache Maven (e.g. apt-get install maven); "
            "it fetches the Kafka jars once"
        )
    return found


def cache_root() -> Path:
    """Where the broker jars are cached: ``user_cache_dir("flashpoint")/kafka``."""
    return Path(platformdirs.user_cache_dir("flashpoint")) / "kafka"


def default_state_dir() -> Path:
    """Where ``flashpoint kafka up`` records the running cluster by default."""
    return Path(platformdirs.user_state_dir("flashpoint")) / "kafka"


def kafka_version(pom: Path = POM_PATH) -> str:
    """The Kafka version the pom pins (``<kafka.version>``)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise KafkaLauncherError(f"{pom} declares no <kafka.version>")
    return match.group(1).strip()


def jar_cache_dir(pom: Path = POM_PATH) -> Path:
    """``<cache>/kafka/<version>/<pom hash>/libs``: a changed pom never reuses an old classpath."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    return cache_root() / kafka_version(pom) / digest / "libs"


def ensure_jars(pom: Path = POM_PATH) -> Path:
    """The directory of the broker's jars, fetched with ``mvn`` on first use.

    The fetch goes to a temporary sibling directory that is renamed into place only when ``mvn``
    succeeded and the classpath looks right, so an interrupted fetch never leaves a half cache.
    """
    if not pom.is_file():
        raise KafkaLauncherError(f"{pom} not found: run the launcher from a Flashpoint source checkout")
    libs = jar_cache_dir(pom)
    if libs.is_dir():
        return libs
    mvn = find_mvn()
    version_dir = libs.parent.parent
    version_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{libs.parent.name}-", dir=version_dir))
    try:
        staging_libs = staging / "libs"
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging_libs}",
        ]
        click.echo(f"Fetching the Kafka {kafka_version(pom)} jars with mvn (once) ...", err=True)
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S, check=False, cwd=staging
            )
        except subprocess.TimeoutExpired as exc:
            raise KafkaLauncherError(f"mvn did not finish in {FETCH_TIMEOUT_S:.0f} s") from exc
        if proc.returncode != 0:
            tail = _tail_text((proc.stdout + proc.stderr).splitlines(), 15)
            raise KafkaLauncherError(f"mvn failed to fetch the Kafka jars (exit {proc.returncode}):\n{tail}")
        _check_classpath(staging_libs, kafka_version(pom))
        try:
            staging.rename(libs.parent)
        except OSError:
            # Another process finished the same fetch first; its copy is as good as ours.
            if not libs.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return libs


def _check_classpath(libs: Path, version: str) -> None:
    """Recipe §2.1: the broker jar and exactly one SLF4J 1.7 binding, or logging goes silent."""
    names = {p.name for p in libs.glob("*.jar")}
    problems = []
    if f"kafka_2.13-{version}.jar" not in names:
        problems.append(f"kafka_2.13-{version}.jar is missing")
    if not any(n.startswith("log4j-slf4j-impl-") for n in names):
        problems.append("log4j-slf4j-impl is missing (the broker would log nothing)")
    bad = sorted(n for n in names if n.startswith(("slf4j-api-2.", "log4j-slf4j2-impl", "slf4j-reload4j")))
    if bad:
        problems.append(f"conflicting SLF4J jars: {', '.join(bad)}")
    if problems:
        raise KafkaLauncherError(f"unexpected Kafka classpath in {libs}: {'; '.join(problems)}")


# --------------------------------------------------------------------------------------------
# Ports and processes


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


def _is_our_process(pid: int, marker: str) -> bool:
    """Whether ``pid`` is alive, not a zombie, and its command line mentions ``marker``.

    A child of this process is judged by its Popen handle. Otherwise ``/proc`` decides; an empty
    command line counts as alive: the kernel reports one between the moment ``exec`` passes the
    point of no return (when Popen returns) and the moment it has set up the new arguments.
    """
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        stat = (proc / "stat").read_text()
    except OSError:
        return _pid_alive_portable(pid) and not Path("/proc").is_dir()
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X") and (not cmdline.strip() or marker in cmdline)


def _pid_alive_portable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def java_processes_under(directory: str) -> list[int]:
    """Pids of live java processes whose command line mentions ``directory`` (stray check)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X") or not cmdline or not cmdline[0]:
            continue
        exe = os.path.basename(cmdline[0].decode(errors="replace"))
        if exe == "java" and any(directory in part.decode(errors="replace") for part in cmdline):
            found.append(int(entry.name))
    return found


# Popen handles of the nodes this process started, so that their exit is reaped (no zombies).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _reap() -> None:
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[pid]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the process that started it dies (for test sessions)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _tail_text(lines: Sequence[str], count: int) -> str:
    return "\n".join(f"    {line}" for line in list(lines)[-count:])


def _tail_file(path: Path, count: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"    ({path} not found)"
    return _tail_text(lines, count) if lines else f"    ({path} is empty)"


# --------------------------------------------------------------------------------------------
# Configuration


def generate_cluster_id() -> str:
    """A KRaft cluster id in the format of ``org.apache.kafka.common.Uuid.toString`` (22 chars).

    Kafka rejects ids that start with ``-`` (and they also break StorageTool's argument parser).
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(node: Node, voters: str, nodes: int) -> str:
    """``server.properties`` of one combined node (recipe §4.1 / §4.2)."""
    rf = 1 if nodes == 1 else 3
    isr = 1 if nodes == 1 else 2
    listeners = f"PLAINTEXT://127.0.0.1:{node.broker_port},CONTROLLER://127.0.0.1:{node.controller_port}"
    props = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": listeners,
        "advertised.listeners": listeners,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _layout(nodes: int, port: int, work_dir: Path) -> list[Node]:
    return [
        Node(
            node_id=i + 1,
            broker_port=port + i,
            controller_port=port + nodes + i,
            directory=str(work_dir / f"node-{i + 1}"),
        )
        for i in range(nodes)
    ]


def _make_work_dir() -> Path:
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="flashpoint-kafka-", dir=base))


def _native_tmp_flags(work_dir: Path) -> list[str]:
    # Recipe §6.8: zstd-jni and snappy unpack native code into java.io.tmpdir; a noexec /tmp breaks it.
    tmp = work_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    return [f"-Djava.io.tmpdir={tmp}", f"-DZstdTempFolder={tmp}", f"-Dorg.xerial.snappy.tempdir={tmp}"]


# --------------------------------------------------------------------------------------------
# Lifecycle


def _state_file(state_dir: Path | str | None) -> Path:
    return Path(state_dir or default_state_dir()) / STATE_FILE_NAME


def load_cluster(state_dir: Path | str | None = None) -> Cluster | None:
    """The cluster recorded in the state dir, running or not (``None`` when there is no record)."""
    path = _state_file(state_dir)
    try:
        return Cluster.from_json(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as exc:
        raise KafkaLauncherError(f"unreadable state file {path}: {exc}; delete it") from exc


def _save_cluster(cluster: Cluster) -> None:
    path = Path(cluster.state_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(cluster.to_json())
    tmp.replace(path)


def cluster_status(state_dir: Path | str | None = None) -> Cluster | None:
    """The recorded cluster if at least one of its nodes is running, else ``None``."""
    cluster = load_cluster(state_dir)
    if cluster is None or not cluster.running_nodes():
        return None
    return cluster


def start_cluster(
    nodes: int = 1,
    port: int = LOCAL_BROKER_PORT,
    state_dir: Path | str | None = None,
    *,
    timeout: float = READY_TIMEOUT_S,
    die_with_parent: bool = False,
) -> Cluster:
    """Start a local cluster and return once an admin request sees all ``nodes`` brokers.

    Raises :class:`KafkaLauncherError` when java or mvn is missing, a port is taken, a cluster
    recorded in ``state_dir`` still runs, or the brokers are not ready within ``timeout`` (the
    message then carries the tail of each failing node's log). ``die_with_parent`` makes the JVMs
    exit with the calling process (Linux ``PR_SET_PDEATHSIG``), for test sessions and the demo;
    the kernel ties it to the calling *thread*, so call from one that outlives the cluster.
    """
    if nodes not in (1, 3):
        raise KafkaLauncherError(f"--nodes must be 1 or 3, not {nodes}")
    java = find_java()
    state_path = _state_file(state_dir)
    previous = load_cluster(state_dir)
    if previous is not None:
        if previous.running_nodes():
            raise KafkaLauncherError(
                f"a local Kafka is already running at {previous.bootstrap} "
                f"(state {state_path}); run `flashpoint kafka down` first"
            )
        _discard(previous)
    ports = [port + i for i in range(2 * nodes)]
    if ports[0] < 1024 or ports[-1] > 65535:
        raise KafkaLauncherError(f"ports {ports[0]}-{ports[-1]} are outside 1024-65535")
    taken = [p for p in ports if not port_is_free(p)]
    if taken:
        raise KafkaLauncherError(
            f"port(s) {', '.join(map(str, taken))} on 127.0.0.1 are in use; "
            f"{nodes} node(s) need {ports[0]}-{ports[-1]}: pick another --port"
        )
    libs = ensure_jars()

    started_at = time.monotonic()
    work_dir = _make_work_dir()
    cluster = Cluster(
        cluster_id=generate_cluster_id(),
        work_dir=str(work_dir),
        state_file=str(state_path),
        nodes=_layout(nodes, port, work_dir),
        started_at=time.time(),
    )
    try:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in cluster.nodes)
        for node in cluster.nodes:
            node_dir = Path(node.directory)
            (node_dir / "logs").mkdir(parents=True)
            node.properties_file.write_text(server_properties(node, voters, nodes))
            (node_dir / "log4j2.properties").write_text(_BROKER_LOG4J.format(log_dir=node_dir / "logs"))
        (work_dir / "tools-log4j2.properties").write_text(_TOOL_LOG4J)
        format_started = time.monotonic()
        _format_storage(java, libs, cluster)
        cluster.format_seconds = time.monotonic() - format_started
        for node in cluster.nodes:
            _spawn_node(java, libs, cluster, node, die_with_parent=die_with_parent)
        _save_cluster(cluster)
        with _quiet_client_logs():
            _wait_ready(cluster, timeout)
    except KafkaLauncherError as exc:
        _kill_all(cluster)
        kept = _keep_logs(cluster, state_path.parent / "last-failure")
        _discard(cluster)
        exc.message += f"\n  full logs: {kept}"
        raise
    except BaseException:
        _kill_all(cluster)
        _discard(cluster)
        raise
    cluster.ready_seconds = time.monotonic() - started_at
    _save_cluster(cluster)
    return cluster


def _keep_logs(cluster: Cluster, target: Path) -> Path:
    """Copy every node's logs out of the work dir (deleted next) for a post-mortem."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    for node in cluster.nodes:
        for source in (node.log_file, node.stdout_file, node.properties_file):
            if source.is_file():
                shutil.copyfile(source, target / f"node-{node.node_id}-{source.name}")
    return target


def _format_storage(java: str, libs: Path, cluster: Cluster) -> None:
    """StorageTool ``format`` every node with the same cluster id, in parallel (static voters: no flag)."""
    work_dir = Path(cluster.work_dir)
    procs = []
    for node in cluster.nodes:
        cmd = [
            java,
            *TOOL_JVM_FLAGS,
            f"-Dlog4j2.configurationFile={work_dir / 'tools-log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster.cluster_id,
            "-c",
            str(node.properties_file),
        ]
        procs.append(
            (node, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work_dir))
        )
    failures = []
    for node, proc in procs:
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            text = out.decode(errors="replace").splitlines()
            failures.append(f"node {node.node_id} (exit {proc.returncode}):\n{_tail_text(text, 15)}")
    if failures:
        raise KafkaLauncherError("formatting KRaft storage failed: " + "\n".join(failures))


def _spawn_node(java: str, libs: Path, cluster: Cluster, node: Node, *, die_with_parent: bool) -> None:
    node_dir = Path(node.directory)
    cmd = [
        java,
        *JVM_FLAGS,
        *_native_tmp_flags(node_dir),
        f"-Dkafka.logs.dir={node_dir / 'logs'}",
        f"-Dlog4j2.configurationFile={node_dir / 'log4j2.properties'}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(node.properties_file),
    ]
    with node.stdout_file.open("ab") as out:
        child = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=node_dir,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,  # noqa: PLW1509
        )
    node.pid = child.pid
    _CHILDREN[child.pid] = child


@contextlib.contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """kafka-python logs every refused connection while the broker starts; those are expected."""
    logger = logging.getLogger("kafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _wait_ready(cluster: Cluster, timeout: float) -> None:
    """Poll with a real admin request until it reports every broker; fail fast if a JVM exits."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout
    expected = {n.node_id for n in cluster.nodes}
    last_error = "no answer yet"
    while True:
        dead = [n for n in cluster.nodes if not n.is_running()]
        if dead:
            raise KafkaLauncherError(
                "Kafka node(s) exited during startup:\n" + "\n".join(_node_report(n) for n in dead)
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KafkaLauncherError(
                f"Kafka not ready after {timeout:.0f} s ({last_error}):\n"
                + "\n".join(_node_report(n) for n in cluster.nodes)
            )
        admin = None
        try:
            # Short attempts, so that a JVM that died is noticed within about 2 s.
            wait_ms = int(max(0.5, min(2.0, remaining)) * 1000)
            admin = KafkaAdminClient(
                bootstrap_servers=cluster.bootstrap,
                client_id="flashpoint-kafka-launcher",
                request_timeout_ms=wait_ms,
                bootstrap_timeout_ms=wait_ms,
                reconnect_backoff_ms=50,
                reconnect_backoff_max_ms=200,
            )
            # kafka-python 3 returns dicts and includes fenced brokers; only unfenced ones serve.
            brokers = admin.describe_cluster()["brokers"]
            seen = {int(b["broker_id"]) for b in brokers if not b.get("is_fenced", False)}
            if seen >= expected:
                return
            last_error = f"brokers seen: {sorted(seen)}"
        except Exception as exc:  # any failure means "not ready yet"; reported on timeout
            last_error = f"{type(exc).__name__}: {exc}"
        finally:
            if admin is not None:
                with contextlib.suppress(Exception):
                    admin.close()
        # A short pause between polls of the admin API; the readiness signal itself is the request.
        time.sleep(0.2)


def _node_report(node: Node) -> str:
    return (
        f"  node {node.node_id} (pid {node.pid}, {node.bootstrap}) {node.log_file}:\n"
        f"{_tail_file(node.log_file)}\n  {node.stdout_file}:\n{_tail_file(node.stdout_file, 10)}"
    )


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _wait_gone(nodes: Sequence[Node], grace: float) -> list[Node]:
    deadline = time.monotonic() + grace
    alive = list(nodes)
    while alive and time.monotonic() < deadline:
        _reap()
        alive = [n for n in alive if n.is_running()]
        if alive:
            time.sleep(0.05)
    return alive


def _stop_nodes(nodes: Sequence[Node], grace: float) -> None:
    """SIGTERM all at once (a lone last node waits minutes for a lost quorum), SIGKILL late ones."""
    running = [n for n in nodes if n.is_running()]
    for node in running:
        _signal(node.pid, signal.SIGTERM)
    for node in _wait_gone(running, grace):
        _signal(node.pid, signal.SIGKILL)
    leftover = _wait_gone(running, 5.0)
    if leftover:
        raise KafkaLauncherError(f"Kafka node(s) {[n.pid for n in leftover]} survived SIGKILL")


def _kill_all(cluster: Cluster) -> None:
    for node in cluster.nodes:
        if node.is_running():
            _signal(node.pid, signal.SIGKILL)
    _wait_gone(cluster.nodes, 5.0)


def _discard(cluster: Cluster) -> None:
    """Forget a stopped cluster: its work dir (data, logs) and its state file."""
    if Path(cluster.work_dir).name.startswith("flashpoint-kafka-"):
        shutil.rmtree(cluster.work_dir, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        Path(cluster.state_file).unlink()


def stop_node(cluster: Cluster, node_id: int, grace: float = STOP_GRACE_S) -> None:
    """Stop one node (SIGTERM: a controlled shutdown that moves its leaderships away)."""
    _stop_nodes([cluster.node(node_id)], grace)


def stop_cluster(
    cluster: Cluster | None = None, state_dir: Path | str | None = None, grace: float = STOP_GRACE_S
) -> Cluster | None:
    """Stop every node of ``cluster`` (or of the one recorded in ``state_dir``) and delete its files.

    Afterwards no java process that mentions the cluster's work dir is left; returns the stopped
    cluster, or ``None`` when nothing was recorded.
    """
    if cluster is None:
        cluster = load_cluster(state_dir)
        if cluster is None:
            return None
    _stop_nodes(cluster.nodes, grace)
    strays = java_processes_under(cluster.work_dir)
    for pid in strays:
        _signal(pid, signal.SIGKILL)
    _reap()
    _discard(cluster)
    return cluster


# --------------------------------------------------------------------------------------------
# CLI

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the running cluster is recorded (default: the user state dir).",
)


@click.group("kafka")
def kafka_group() -> None:
    """A real local Apache Kafka (KRaft) for the demo and the tests, without Docker."""


@kafka_group.command("up")
@click.option("--nodes", type=click.Choice(["1", "3"]), default="1", show_default=True, help="Nodes.")
@click.option(
    "--port",
    type=int,
    default=LOCAL_BROKER_PORT,
    show_default=True,
    help="First broker port; brokers use PORT..PORT+N-1, controllers the next N ports.",
)
@click.option("--timeout", type=float, default=READY_TIMEOUT_S, show_default=True, help="Seconds to wait.")
@_state_dir_option
def up_command(nodes: str, port: int, timeout: float, state_dir: Path | None) -> None:
    """Start Kafka in the background; print the bootstrap servers once it serves requests.

    Exits non-zero without touching it when a cluster recorded in the state dir is running.
    """
    cluster = start_cluster(int(nodes), port, state_dir, timeout=timeout)
    click.echo(
        f"Kafka {kafka_version()} ready in {cluster.ready_seconds:.1f} s: {len(cluster.nodes)} node(s), "
        f"data in {cluster.work_dir}",
        err=True,
    )
    click.echo(f"FLASHPOINT_BROKER={cluster.broker_url}", err=True)
    click.echo(cluster.bootstrap)


@kafka_group.command("down")
@_state_dir_option
def down_command(state_dir: Path | None) -> None:
    """Stop every Kafka process that `up` started and delete its data."""
    cluster = stop_cluster(state_dir=state_dir)
    if cluster is None:
        click.echo("no local Kafka recorded; nothing to stop")
    else:
        click.echo(f"stopped {len(cluster.nodes)} node(s) ({cluster.bootstrap})")


@kafka_group.command("status")
@_state_dir_option
def status_command(state_dir: Path | None) -> None:
    """Report whether the local Kafka runs (exit 0) or not (exit 1)."""
    cluster = load_cluster(state_dir)
    running = cluster.running_nodes() if cluster else []
    if cluster is None or not running:
        click.echo("not running")
        raise SystemExit(1)
    total = len(cluster.nodes)
    label = "running" if len(running) == total else "degraded"
    click.echo(f"{label}: {len(running)}/{total} node(s), bootstrap {cluster.bootstrap}")
    for node in cluster.nodes:
        state = "up" if node in running else "down"
        click.echo(f"  node {node.node_id}: {state}, pid {node.pid}, {node.bootstrap}, log {node.log_file}")


if __name__ == "__main__":
    kafka_group(prog_name="python -m streams.localkafka.launcher")
