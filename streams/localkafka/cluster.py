"""Start, watch and stop a local Apache Kafka (KRaft, no ZooKeeper, no Docker) on 127.0.0.1.

:func:`start_cluster` fetches the jars once (:mod:`.jars`), writes each node's configuration
(:mod:`.config`), formats KRaft storage, starts the JVMs in the background (:mod:`.process`) and
returns only when a real admin request sees every broker, or fails fast, quoting the node's log,
when a JVM exits during startup. :func:`stop_cluster` stops every process ``start_cluster`` started
and deletes the cluster's data; the state file (:mod:`.state`) lets a later command find them.

For fault tests, :func:`stop_node` stops (or kills) one node and keeps its data, and
:func:`start_node` starts that node again on it, with the same configuration and ports, and
returns once the node serves again: a crash and a recovery, as on a real cluster.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from streams.config import LOCAL_BROKER_PORT
from streams.kafka_clients import client_options
from streams.localkafka.config import (
    JVM_FLAGS,
    TOOL_JVM_FLAGS,
    TOOL_LOG4J,
    controller_voters,
    generate_cluster_id,
    layout,
    make_work_dir,
    native_tmp_flags,
    port_is_free,
    write_node_files,
)
from streams.localkafka.errors import KafkaLauncherError
from streams.localkafka.jars import ensure_jars, find_java
from streams.localkafka.process import (
    java_processes_under,
    reap,
    send_signal,
    spawn_background,
    tail_file,
    tail_text,
)
from streams.localkafka.secure import create_secure_files, scram_format_args
from streams.localkafka.state import (
    Cluster,
    Node,
    discard_cluster,
    load_cluster,
    save_cluster,
    state_file,
)

#: How long :func:`start_cluster` waits for every broker to answer an admin request.
READY_TIMEOUT_S = 60.0
#: How long a stop waits after SIGTERM before it sends SIGKILL.
STOP_GRACE_S = 15.0
#: How long formatting one node's storage may take.
FORMAT_TIMEOUT_S = 120.0


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
    secure: bool = False,
) -> Cluster:
    """Start a local cluster and return once an admin request sees all ``nodes`` brokers.

    Raises :class:`KafkaLauncherError` when java or mvn is missing, a port is taken, a cluster
    recorded in ``state_dir`` still runs, or the brokers are not ready within ``timeout`` (the
    message then carries the tail of each failing node's log and where the full logs were kept).
    ``die_with_parent`` makes the JVMs exit with the calling process (Linux ``PR_SET_PDEATHSIG``),
    for test sessions and the demo; the kernel ties it to the calling *thread*, so call from one
    that outlives the cluster. ``secure`` gives the brokers a SASL_SSL listener (:mod:`.secure`);
    :meth:`Cluster.client_environment` then says how to connect.
    """
    if nodes not in (1, 3):
        raise KafkaLauncherError(f"--nodes must be 1 or 3, not {nodes}")
    java = find_java()
    state_path = state_file(state_dir)
    previous = load_cluster(state_dir)
    if previous is not None:
        if previous.running_nodes():
            raise KafkaLauncherError(
                f"a local Kafka is already running at {previous.bootstrap} "
                f"(state {state_path}); run `flashpoint kafka down` first"
            )
        discard_cluster(previous)
    _check_ports(nodes, port)
    libs = ensure_jars()

    started_at = time.monotonic()
    work_dir = make_work_dir()
    cluster = Cluster(
        cluster_id=generate_cluster_id(),
        work_dir=str(work_dir),
        state_file=str(state_path),
        nodes=layout(nodes, port, work_dir),
        started_at=time.time(),
    )
    try:
        secure_files = create_secure_files(work_dir / "secure") if secure else None
        if secure_files is not None:
            cluster.secure_dir = str(secure_files.directory)
        voters = controller_voters(cluster.nodes)
        for node in cluster.nodes:
            write_node_files(node, voters, nodes, secure_files)
        (work_dir / "tools-log4j2.properties").write_text(TOOL_LOG4J)
        format_started = time.monotonic()
        _format_storage(java, libs, cluster, scram_format_args(secure_files) if secure_files else [])
        cluster.format_seconds = time.monotonic() - format_started
        for node in cluster.nodes:
            _spawn_node(java, libs, node, die_with_parent=die_with_parent)
        save_cluster(cluster)
        with _quiet_client_logs():
            _wait_ready(cluster, cluster.nodes, timeout)
    except KafkaLauncherError as exc:
        _kill_all(cluster)
        kept = _keep_logs(cluster, state_path.parent / "last-failure")
        discard_cluster(cluster)
        raise KafkaLauncherError(f"{exc}\n  full logs: {kept}") from exc
    except BaseException:
        _kill_all(cluster)
        discard_cluster(cluster)
        raise
    cluster.ready_seconds = time.monotonic() - started_at
    save_cluster(cluster)
    return cluster


def recorded_cluster(state_dir: Path | str | None = None) -> Cluster:
    """The cluster recorded in ``state_dir``; a :class:`KafkaLauncherError` when there is none."""
    cluster = load_cluster(state_dir)
    if cluster is None:
        raise KafkaLauncherError(
            f"no local Kafka recorded in {state_file(state_dir).parent}; run `flashpoint kafka up` first"
        )
    return cluster


def stop_node(cluster: Cluster, node_id: int, *, kill: bool = False, grace: float = STOP_GRACE_S) -> bool:
    """Stop one node and keep its data, so that :func:`start_node` can bring it back.

    SIGTERM is a controlled shutdown: the node hands its leaderships over first. ``kill`` sends
    SIGKILL, a crash: its partitions stay leaderless until the controller fences it (the
    broker's session, 9 s by default). Returns whether the node was running.
    """
    node = _node(cluster, node_id)
    if not node.is_running():
        return False
    if kill:
        send_signal(node.pid, signal.SIGKILL)
        if _wait_gone([node], 5.0):
            raise KafkaLauncherError(f"Kafka node {node_id} (pid {node.pid}) survived SIGKILL")
    else:
        _stop_nodes([node], grace)
    return True


def start_node(
    cluster: Cluster, node_id: int, *, timeout: float = READY_TIMEOUT_S, die_with_parent: bool = False
) -> Node:
    """Start a stopped node again on its own data, configuration and ports; return once it serves.

    "Serves" is what :func:`start_cluster` waits for: an admin client that bootstraps from this
    node alone gets an answer, and the cluster reports the node unfenced. Catching up on the
    partitions it missed comes after (watch their ISR). A node that exits or is not serving within
    ``timeout`` is an error quoting its log; ``die_with_parent`` as for :func:`start_cluster`.
    """
    node = _node(cluster, node_id)
    if node.is_running():
        raise KafkaLauncherError(
            f"Kafka node {node_id} is already running (pid {node.pid}, {node.bootstrap})"
        )
    if not (node.properties_file.is_file() and (Path(node.directory) / "data").is_dir()):
        raise KafkaLauncherError(f"Kafka node {node_id} has no data to start from in {node.directory}")
    taken = [p for p in (node.broker_port, node.controller_port) if not port_is_free(p)]
    if taken:
        raise KafkaLauncherError(
            f"port(s) {', '.join(map(str, taken))} of Kafka node {node_id} on 127.0.0.1 are in use"
        )
    java = find_java()
    libs = ensure_jars()
    _spawn_node(java, libs, node, die_with_parent=die_with_parent)
    save_cluster(cluster)
    try:
        with _quiet_client_logs():
            _wait_ready(cluster, [node], timeout)
    except BaseException:
        if node.is_running():
            send_signal(node.pid, signal.SIGKILL)
            _wait_gone([node], 5.0)
        raise
    return node


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
    for pid in java_processes_under(cluster.work_dir):
        send_signal(pid, signal.SIGKILL)
    reap()
    discard_cluster(cluster)
    return cluster


# --------------------------------------------------------------------------------------------
# Starting


def _check_ports(nodes: int, port: int) -> None:
    ports = [port + i for i in range(2 * nodes)]
    if ports[0] < 1024 or ports[-1] > 65535:
        raise KafkaLauncherError(f"ports {ports[0]}-{ports[-1]} are outside 1024-65535")
    taken = [p for p in ports if not port_is_free(p)]
    if taken:
        raise KafkaLauncherError(
            f"port(s) {', '.join(map(str, taken))} on 127.0.0.1 are in use; "
            f"{nodes} node(s) need {ports[0]}-{ports[-1]}: pick another --port"
        )


def _format_storage(java: str, libs: Path, cluster: Cluster, extra_args: Sequence[str] = ()) -> None:
    """StorageTool ``format`` every node with the same cluster id, in parallel (static voters: no flag).

    ``extra_args`` go to every node's format (the SCRAM users of a secured cluster).
    """
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
            *extra_args,
        ]
        procs.append(
            (node, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work_dir))
        )
    failures = []
    for node, proc in procs:
        out, _ = proc.communicate(timeout=FORMAT_TIMEOUT_S)
        if proc.returncode != 0:
            text = out.decode(errors="replace").splitlines()
            failures.append(f"node {node.node_id} (exit {proc.returncode}):\n{tail_text(text, 15)}")
    if failures:
        raise KafkaLauncherError("formatting KRaft storage failed: " + "\n".join(failures))


def _spawn_node(java: str, libs: Path, node: Node, *, die_with_parent: bool) -> None:
    node_dir = Path(node.directory)
    cmd = [
        java,
        *JVM_FLAGS,
        *native_tmp_flags(node_dir),
        f"-Dkafka.logs.dir={node_dir / 'logs'}",
        f"-Dlog4j2.configurationFile={node_dir / 'log4j2.properties'}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(node.properties_file),
    ]
    node.pid = spawn_background(cmd, output=node.stdout_file, cwd=node_dir, die_with_parent=die_with_parent)


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


def _wait_ready(cluster: Cluster, nodes: Sequence[Node], timeout: float) -> None:
    """Poll with a real admin request, bootstrapped from ``nodes``, until the cluster reports each
    of them unfenced; fail fast if one of their JVMs exits."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout
    expected = {n.node_id for n in nodes}
    bootstrap = ",".join(n.bootstrap for n in nodes)
    last_error = "no answer yet"
    while True:
        dead = [n for n in nodes if not n.is_running()]
        if dead:
            raise KafkaLauncherError(
                "Kafka node(s) exited during startup:\n" + "\n".join(_node_report(n) for n in dead)
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KafkaLauncherError(
                f"Kafka not ready after {timeout:.0f} s ({last_error}):\n"
                + "\n".join(_node_report(n) for n in nodes)
            )
        admin = None
        try:
            # Short attempts, so that a JVM that died is noticed within about 2 s.
            wait_ms = int(max(0.5, min(2.0, remaining)) * 1000)
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="flashpoint-kafka-launcher",
                request_timeout_ms=wait_ms,
                bootstrap_timeout_ms=wait_ms,
                reconnect_backoff_ms=50,
                reconnect_backoff_max_ms=200,
                **client_options(cluster.kafka_settings()),
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
        f"{tail_file(node.log_file)}\n  {node.stdout_file}:\n{tail_file(node.stdout_file, 10)}"
    )


def _keep_logs(cluster: Cluster, target: Path) -> Path:
    """Copy every node's logs out of the work dir (deleted next) for a post-mortem."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    for node in cluster.nodes:
        for source in (node.log_file, node.stdout_file, node.properties_file):
            if source.is_file():
                shutil.copyfile(source, target / f"node-{node.node_id}-{source.name}")
    return target


# --------------------------------------------------------------------------------------------
# Stopping


def _wait_gone(nodes: Sequence[Node], grace: float) -> list[Node]:
    """Wait up to ``grace`` seconds for the nodes' JVMs to exit; the ones still running."""
    deadline = time.monotonic() + grace
    alive = list(nodes)
    while alive and time.monotonic() < deadline:
        reap()
        alive = [n for n in alive if n.is_running()]
        if alive:
            # Another process's exit gives no event to wait on: poll /proc briefly.
            time.sleep(0.05)
    return alive


def _stop_nodes(nodes: Sequence[Node], grace: float) -> None:
    """SIGTERM all at once (a lone last node waits minutes for a lost quorum), SIGKILL late ones."""
    running = [n for n in nodes if n.is_running()]
    for node in running:
        send_signal(node.pid, signal.SIGTERM)
    for node in _wait_gone(running, grace):
        send_signal(node.pid, signal.SIGKILL)
    leftover = _wait_gone(running, 5.0)
    if leftover:
        raise KafkaLauncherError(f"Kafka node(s) {[n.pid for n in leftover]} survived SIGKILL")


def _node(cluster: Cluster, node_id: int) -> Node:
    try:
        return cluster.node(node_id)
    except KeyError:
        ids = ", ".join(str(n.node_id) for n in cluster.nodes)
        raise KafkaLauncherError(f"no Kafka node {node_id} in the local cluster (nodes: {ids})") from None


def _kill_all(cluster: Cluster) -> None:
    for node in cluster.nodes:
        if node.is_running():
            send_signal(node.pid, signal.SIGKILL)
    _wait_gone(cluster.nodes, 5.0)
