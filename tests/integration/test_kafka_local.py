"""The local Kafka launcher against real brokers: clients, Faust, a 3-node cluster, failures.

Every test here uses brokers started by :mod:`streams.localkafka` (directly or through the
``flashpoint kafka`` commands of :mod:`streams.cli.kafka`); when the launcher is broken they fail
(the ``kafka`` fixture fails, it never skips).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from streams import localkafka
from streams.cli.kafka import kafka_group
from streams.localkafka import Cluster

pytestmark = pytest.mark.kafka

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0


def _until(
    check: Callable[[], Any], what: str, timeout: float = WAIT_S, alive: Callable[[], None] = lambda: None
) -> Any:
    """Poll ``check`` until it returns something truthy; ``alive`` raises when a helper died."""
    deadline = time.monotonic() + timeout
    while True:
        alive()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _create_topic(bootstrap: str, name: str, partitions: int = 1, replication: int = 1) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, replication)])
    finally:
        admin.close()


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Send ``values`` with acks=all and raise unless every one was acknowledged."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        futures = [producer.send(topic, value=value, key=b"k") for value in values]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=1)
    finally:
        producer.close()


def _consume(bootstrap: str, topic: str, group: str, count: int, timeout: float = WAIT_S) -> list[bytes]:
    """Read ``count`` values from the start of ``topic`` (each poll blocks until records arrive)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest")
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(values) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value for r in records)
    finally:
        consumer.close()
    return values


# ------------------------------------------------------------------------------------------
# Clients on the session broker


def test_fixture_broker_is_the_launchers(kafka: Cluster) -> None:
    assert kafka.bootstrap.startswith("127.0.0.1:")
    assert kafka.broker_url == f"kafka://{kafka.bootstrap}"
    assert [n.node_id for n in kafka.running_nodes()] == [1]
    assert localkafka.cluster_status(Path(kafka.state_file).parent) is not None


def test_kafka_python_round_trip(kafka: Cluster, unique: str) -> None:
    topic = f"roundtrip.kp.{unique}"
    _create_topic(kafka.bootstrap, topic)
    sent = [f"message {i}".encode() for i in range(20)]
    _produce(kafka.bootstrap, topic, sent)
    assert _consume(kafka.bootstrap, topic, f"g-{unique}", len(sent)) == sent


def test_aiokafka_round_trip(kafka: Cluster, unique: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = f"roundtrip.aio.{unique}"
    _create_topic(kafka.bootstrap, topic)
    sent = [f"async {i}".encode() for i in range(20)]

    async def round_trip() -> list[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await producer.start()
        try:
            for value in sent:
                await producer.send_and_wait(topic, value=value, key=b"k")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka.bootstrap, group_id=f"g-{unique}", auto_offset_reset="earliest"
        )
        await consumer.start()
        received: list[bytes] = []
        try:
            async with asyncio.timeout(WAIT_S):
                async for record in consumer:
                    received.append(record.value)
                    if len(received) == len(sent):
                        break
        finally:
            await consumer.stop()
        return received

    assert asyncio.run(round_trip()) == sent


_ECHO_APP = """\
import faust

app = faust.App(
    {app_id!r},
    broker={broker_url!r},
    topic_partitions=3,
    topic_replication_factor=1,
    consumer_auto_offset_reset="earliest",
    producer_acks=-1,
    web_enabled=False,
)
# internal=True: Faust itself creates the source topic (3 partitions) when it subscribes; the
# sink is only written to, so a startup task declares it.
source = app.topic({source!r}, value_serializer="raw", partitions=3, internal=True)
sink = app.topic({sink!r}, value_serializer="raw", partitions=3, internal=True)
counts = app.Table("counts", default=int, partitions=3)


@app.task
async def declare_sink():
    await sink.maybe_declare()


@app.agent(source)
async def shout(stream):
    async for key, value in stream.items():
        counts[key] += 1
        await sink.send(key=key, value=value.upper())
"""


@pytest.fixture
def faust_worker(
    kafka: Cluster, unique: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path, str]]:
    """A Faust worker (its own process, as in production) running a one-agent app on the broker."""
    source, sink = f"echo.in.{unique}", f"echo.out.{unique}"
    (tmp_path / "echo_app.py").write_text(
        _ECHO_APP.format(app_id=f"echo-{unique}", broker_url=kafka.broker_url, source=source, sink=sink)
    )
    log = tmp_path / "worker.log"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "echo_app", "worker", "-l", "info", "--without-web"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker, log, unique
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def test_faust_agent_creates_topics_and_echoes(
    kafka: Cluster, faust_worker: tuple[subprocess.Popen[bytes], Path, str]
) -> None:
    worker, log, unique = faust_worker
    source, sink = f"echo.in.{unique}", f"echo.out.{unique}"

    def worker_alive() -> None:
        if worker.poll() is not None:
            raise AssertionError(f"faust worker exited {worker.returncode}:\n{log.read_text()[-3000:]}")

    expected = [source, sink, f"echo-{unique}-counts-changelog"]
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:

        def declared() -> list[int]:
            described = admin.describe_topics(expected)
            return [len(t["partitions"]) if t["error_code"] == 0 else 0 for t in described]

        # Faust declared every topic with 3 partitions; auto-creation would have made 1.
        _until(lambda: all(declared()), f"faust to create {expected}", alive=worker_alive)
        assert declared() == [3, 3, 3]
    finally:
        admin.close()

    _produce(kafka.bootstrap, source, [b"escalation at the border"])
    assert _consume(kafka.bootstrap, sink, f"g-{unique}", 1) == [b"ESCALATION AT THE BORDER"]
    worker_alive()


# ------------------------------------------------------------------------------------------
# The CLI


def test_up_while_running_refuses(kafka: Cluster) -> None:
    state_dir = Path(kafka.state_file).parent
    port = localkafka.free_port_block(2)
    result = CliRunner().invoke(kafka_group, ["up", "--port", str(port), "--state-dir", str(state_dir)])
    assert result.exit_code == 1, result.output
    assert "already running" in result.output
    assert kafka.bootstrap in result.output
    assert [n.node_id for n in kafka.running_nodes()] == [1]


def test_status_reports_running_and_not(kafka: Cluster, tmp_path: Path) -> None:
    runner = CliRunner()
    running = runner.invoke(kafka_group, ["status", "--state-dir", str(Path(kafka.state_file).parent)])
    assert running.exit_code == 0, running.output
    assert f"running: 1/1 node(s), bootstrap {kafka.bootstrap}" in running.output
    idle = runner.invoke(kafka_group, ["status", "--state-dir", str(tmp_path)])
    assert idle.exit_code == 1
    assert idle.output.strip() == "not running"


def test_node_commands_fail_in_one_line(kafka: Cluster, tmp_path: Path) -> None:
    runner = CliRunner()
    state = ["--state-dir", str(Path(kafka.state_file).parent)]
    cases = [
        (["stop-node", "4", *state], "Error: no Kafka node 4 in the local cluster (nodes: 1)"),
        (["start-node", "1", *state], f"Error: Kafka node 1 is already running (pid {kafka.nodes[0].pid}, "),
        (["stop-node", "1", "--state-dir", str(tmp_path)], f"Error: no local Kafka recorded in {tmp_path}; "),
    ]
    for args, expected in cases:
        result = runner.invoke(kafka_group, args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(expected), result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert [n.node_id for n in kafka.running_nodes()] == [1]


def _run_launcher(args: list[str], path_dirs: list[Path], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("JAVA_HOME", "XDG_CACHE_HOME", "PATH")
    }
    env["PATH"] = os.pathsep.join(str(d) for d in path_dirs)
    env["PYTHONPATH"] = str(REPO_ROOT)
    # An empty cache: the launcher must fetch the jars, so it needs mvn.
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return subprocess.run(
        [sys.executable, "-m", "streams.localkafka", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_java_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    port = localkafka.free_port_block(2)
    result = _run_launcher(
        ["up", "--port", str(port), "--state-dir", str(tmp_path / "state")], [empty], tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: java not found on PATH: install Java 17+ (e.g. apt-get install openjdk-17-jre-headless) "
        "or set JAVA_HOME"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_mvn_is_a_one_line_error(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(localkafka.find_java())
    port = localkafka.free_port_block(2)
    result = _run_launcher(
        ["up", "--port", str(port), "--state-dir", str(tmp_path / "state")], [bin_dir], tmp_path
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Error: mvn not found on PATH: install Apache Maven (e.g. apt-get install maven); "
        "it fetches the Kafka jars once"
    ]


def test_interrupted_fetch_leaves_no_cache(tmp_path: Path) -> None:
    """A fetch that dies half way (here: a fake mvn) leaves neither jars nor a staging dir."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(localkafka.find_java())
    fake_mvn = bin_dir / "mvn"
    fake_mvn.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            for arg; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done
            mkdir -p "$out" && echo partial > "$out/kafka_2.13-half.jar"
            echo "[ERROR] Could not transfer artifact: connection reset"
            exit 1
            """
        )
    )
    fake_mvn.chmod(0o755)
    port = localkafka.free_port_block(2)
    result = _run_launcher(
        ["up", "--port", str(port), "--state-dir", str(tmp_path / "state")], [bin_dir, Path("/bin")], tmp_path
    )
    assert result.returncode == 1
    assert "mvn failed to fetch the Kafka jars (exit 1)" in result.stderr
    assert "connection reset" in result.stderr
    cache = tmp_path / "cache" / "flashpoint" / "kafka"
    leftovers = [p for p in cache.rglob("*") if p.is_file() or p.name == "libs"]
    assert leftovers == []


def test_broker_that_dies_fails_fast_with_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JVM that exits during startup is an immediate error quoting its output, not a 60 s wait."""
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    fake_java = java_home / "bin" / "java"
    fake_java.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            case "$*" in
              *kafka.Kafka*) echo "Error: LinkageError while loading main class kafka.Kafka"; exit 1;;
              *) exec {localkafka.find_java()} "$@";;
            esac
            """
        )
    )
    fake_java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    state_dir = tmp_path / "state"
    started = time.monotonic()
    with pytest.raises(localkafka.KafkaLauncherError) as failure:
        localkafka.start_cluster(port=localkafka.free_port_block(2), state_dir=state_dir)
    assert time.monotonic() - started < 30
    message = str(failure.value)
    assert "exited during startup" in message
    assert "LinkageError while loading main class kafka.Kafka" in message
    assert f"full logs: {state_dir / 'last-failure'}" in message
    assert (state_dir / "last-failure" / "node-1-stdout.log").is_file()
    assert localkafka.load_cluster(state_dir) is None


# ------------------------------------------------------------------------------------------
# Three nodes


def _describe_once_led(admin: KafkaAdminClient, topic: str, partitions: int) -> dict[str, Any]:
    """The topic's description once every partition has a leader (metadata lags a create)."""
    admin.wait_for_topics([topic], timeout_ms=30_000)
    deadline = time.monotonic() + 30
    while True:
        (meta,) = admin.describe_topics([topic])
        led = [p for p in meta["partitions"] if p["leader_id"] >= 0]
        if len(led) == partitions or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling the cluster's metadata: no event to wait on
    assert len(meta["partitions"]) == partitions, meta
    return dict(meta)


def _isr(admin: KafkaAdminClient, topic: str) -> dict[int, list[int]]:
    """Each partition's in-sync replicas, from the cluster's metadata."""
    (meta,) = admin.describe_topics([topic])
    return {p["partition_index"]: sorted(p["isr_nodes"]) for p in meta["partitions"]}


def _crash_and_recover(
    cli: Callable[..., Any], state_dir: Path, bootstrap: str, topic: str, unique: str
) -> None:
    """Kill the leader of the topic's partition 0; its data stays readable through the other two;
    started again on its data, it serves, catches up and rejoins every partition's ISR."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        meta = _describe_once_led(admin, topic, partitions=3)
        assert all(len(p["replica_nodes"]) == 3 for p in meta["partitions"])
        leader = next(p["leader_id"] for p in meta["partitions"] if p["partition_index"] == 0)
        before = [f"before {i}".encode() for i in range(30)]
        during = [f"during {i}".encode() for i in range(30)]
        _produce(bootstrap, topic, before)
        cluster = localkafka.load_cluster(state_dir)
        assert cluster is not None
        old_pid = cluster.node(leader).pid
        # A crash, no controlled shutdown; with 2 of 3 replicas left, min.insync.replicas=2
        # still holds, so acks=all writes go on once the controller has fenced it.
        assert f"node {leader} killed" in cli("stop-node", str(leader), "--kill").output
        assert not cluster.node(leader).is_running()
        _produce(bootstrap, topic, during)
        assert sorted(_consume(bootstrap, topic, f"g1-{unique}", 60)) == sorted(before + during)
        assert "degraded: 2/3 node(s)" in cli("status").output
        _until(
            lambda: all(leader not in isr for isr in _isr(admin, topic).values()),
            f"node {leader} to leave the ISR",
        )

        assert f"node {leader} serving again" in cli("start-node", str(leader)).output
        cluster = localkafka.load_cluster(state_dir)
        assert cluster is not None
        assert cluster.node(leader).is_running()
        assert cluster.node(leader).pid != old_pid
        assert "running: 3/3 node(s)" in cli("status").output
        _until(
            lambda: all(isr == [1, 2, 3] for isr in _isr(admin, topic).values()),
            f"node {leader} to rejoin the ISR of {topic}",
        )
    finally:
        admin.close()


@pytest.mark.slow
def test_three_nodes_survive_a_killed_node_that_restarts_on_its_data(tmp_path: Path, unique: str) -> None:
    state_dir = tmp_path / "state"
    port = localkafka.free_port_block(6)
    runner = CliRunner()

    def cli(*args: str) -> Any:
        result = runner.invoke(kafka_group, [*args, "--state-dir", str(state_dir)])
        assert result.exit_code == 0, result.output
        return result

    up = cli("up", "--nodes", "3", "--port", str(port))
    cluster = localkafka.load_cluster(state_dir)
    try:
        assert cluster is not None
        bootstrap = ",".join(f"127.0.0.1:{port + i}" for i in range(3))
        assert cluster.bootstrap == bootstrap
        assert bootstrap in up.output
        topic = f"replicated.{unique}"
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            assert sorted(b["broker_id"] for b in admin.describe_cluster()["brokers"]) == [1, 2, 3]
            admin.create_topics([NewTopic(topic, 3, 3)])
        finally:
            admin.close()

        _crash_and_recover(cli, state_dir, bootstrap, topic, unique)
        after = [f"after {i}".encode() for i in range(30)]
        _produce(bootstrap, topic, after)
        received = _consume(bootstrap, topic, f"g2-{unique}", 90)
        assert len(received) == 90
        assert set(after) <= set(received)

        assert "stopped 3 node(s)" in cli("down").output
        assert localkafka.java_processes_under(cluster.work_dir) == []
        assert not any(n.is_running() for n in cluster.nodes)
        assert not Path(cluster.work_dir).exists()
        assert localkafka.load_cluster(state_dir) is None
    finally:
        if cluster is not None:
            localkafka.stop_cluster(cluster)
