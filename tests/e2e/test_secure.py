"""The whole path on a ``--secure`` local broker (SASL_SSL, SCRAM-SHA-512, mutual TLS, a
throw-away CA).

A worker classifies over SASL_SSL and neither its log nor its ``/metrics`` holds the password;
a wrong password and an untrusted CA make ``flashpoint topics list`` fail fast with one line
naming the cause.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.kafka_clients import client_options
from streams.localkafka import Cluster, free_port_block, start_cluster, stop_cluster
from streams.localkafka.secure import SecureFiles, create_secure_files
from tests.e2e.harness import OutputReader, input_topic, send, start_worker, valid_inputs

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state_dir = tmp_path_factory.mktemp("secure-kafka-state")
    cluster = start_cluster(
        nodes=1, port=free_port_block(2), state_dir=state_dir, die_with_parent=True, secure=True
    )
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


def password(cluster: Cluster) -> str:
    return SecureFiles(Path(cluster.secure_dir)).client_password()


def test_worker_classifies_over_sasl_ssl_and_leaks_no_secret(secure_kafka: Cluster, tmp_path: Path) -> None:
    prefix = "secure-e2e."
    env = {**secure_kafka.client_environment(), "FLASHPOINT_LOG_LEVEL": "DEBUG"}
    assert env["FLASHPOINT_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
    worker = start_worker(secure_kafka, prefix, tmp_path, **env)
    security = client_options(secure_kafka.kafka_settings())
    reader = OutputReader(secure_kafka.bootstrap, prefix, security)
    try:
        worker.wait_ready(timeout=180)
        article = valid_inputs()[0]
        send(secure_kafka.bootstrap, input_topic(prefix), [article], security)
        out = reader.read_until(lambda o: len(o.classified) >= 1, timeout=120)
        assert article.article is not None
        assert out.classified[0].article_id == article.article[0]
        status, metrics = worker.get("/metrics")
        assert status == 200
    finally:
        reader.close()
        worker.stop_quietly()
    secret = password(secure_kafka)
    log = Path(worker.log_path).read_text(errors="replace")
    assert log  # the worker wrote its log
    assert secret not in log
    assert secret not in metrics


def topics_list(cluster: Cluster, **overrides: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "FLASHPOINT_BROKER": cluster.broker_url,
        **cluster.client_environment(),
        **overrides,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "streams", "topics", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, time.monotonic() - started


def test_wrong_password_fails_fast_in_one_line(secure_kafka: Cluster, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password")
    done, seconds = topics_list(secure_kafka, FLASHPOINT_KAFKA__SASL_PASSWORD_FILE=str(wrong))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "SASL authentication failed" in lines[0]
    assert "Traceback" not in done.stderr
    # The cause line comes from the access check made before any client waits to bootstrap;
    # the bound only catches a hang (the CLI's own start-up is slow on a loaded machine).
    assert seconds < 120


def test_untrusted_ca_fails_fast_in_one_line(secure_kafka: Cluster, tmp_path: Path) -> None:
    other = create_secure_files(tmp_path / "other-ca")
    done, seconds = topics_list(secure_kafka, FLASHPOINT_KAFKA__SSL_CAFILE=str(other.ca_file))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "certificate is not trusted" in lines[0]
    assert password(secure_kafka) not in done.stderr
    assert seconds < 120


def test_a_client_without_a_certificate_fails_fast_in_one_line(secure_kafka: Cluster) -> None:
    # The brokers require mutual TLS: the right password without the client certificate fails.
    assert secure_kafka.client_environment()["FLASHPOINT_KAFKA__SSL_CERTFILE"]
    done, seconds = topics_list(
        secure_kafka, FLASHPOINT_KAFKA__SSL_CERTFILE="", FLASHPOINT_KAFKA__SSL_KEYFILE=""
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "TLS handshake with the broker failed" in lines[0], lines[0]
    assert "Traceback" not in done.stderr
    assert password(secure_kafka) not in done.stderr
    assert seconds < 120


def _cli_with_debug_logs(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``flashpoint ARGS`` over SASL_SSL with every logger at DEBUG, so that anything the
    CLI's Kafka clients could log is written to stderr."""
    env = {**os.environ, "FLASHPOINT_BROKER": cluster.broker_url, **cluster.client_environment()}
    program = (
        "import logging, sys; logging.basicConfig(level=logging.DEBUG); "
        "from streams.cli.main import main; sys.argv = ['flashpoint', *sys.argv[1:]]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", program, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_cli_commands_leak_no_secret_even_at_debug_level(secure_kafka: Cluster, tmp_path: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        '{"id": "cli-secret-1", "title": "Talks", "body": "Ministers met in Oslo for a second day."}\n'
    )
    runs = {
        "topics create": _cli_with_debug_logs(secure_kafka, "topics", "create"),
        "topics list": _cli_with_debug_logs(secure_kafka, "topics", "list"),
        "produce": _cli_with_debug_logs(secure_kafka, "produce", str(articles)),
        "tail": _cli_with_debug_logs(secure_kafka, "tail", "dlq", "--from-beginning", "--idle-timeout", "3"),
    }
    secret = password(secure_kafka)
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr[-2000:])
        # The clients did log at DEBUG (connections, SASL handshake), so the check has something to read.
        assert done.stderr.count("DEBUG") > 10, (name, done.stderr[-500:])
        assert secret not in done.stdout + done.stderr, name
