"""The Helm chart, linted, rendered and validated against the Kubernetes schemas, offline.

``deploy/tools/install.sh`` builds helm and kubeconform from the Go module proxy and unpacks the
Kubernetes JSON schemas from the ``kubernetes-validate`` wheel (minutes the first time, cached in
``~/.cache/flashpoint/tools/`` after). Each values set below is rendered and every manifest is
validated, strictly (unknown fields fail), for the oldest and the newest Kubernetes the chart
names; the KEDA ScaledObject and the ServiceMonitor against the schemas in
``deploy/tools/crd-schemas/``. The rendered objects are then checked for what the schemas
cannot know: probes on the worker's endpoints, the settings the pods get, the hook, the scaler.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "flashpoint"
CRD_SCHEMAS = ROOT / "deploy" / "tools" / "crd-schemas"
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SECURED = [
    "--set", "kafka.secretEnv.FLASHPOINT_KAFKA__SASL_PASSWORD=not-a-real-password",
    "--set", "kafka.tls.existingSecret=kafka-client-certs",
    "--set", "serviceMonitor.enabled=true",
]  # fmt: skip
VALUE_SETS: dict[str, list[str]] = {
    "default": [],
    "keda": ["--set", "autoscaling.mode=keda", *SECURED],
    "hpa": ["--set", "autoscaling.mode=hpa", "--set", "kafka.existingSecret=flashpoint-kafka"],
}


@pytest.fixture(scope="module")
def tools() -> Path:
    """The bin directory with helm and kubeconform (built on the first run)."""
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / "tools" / "install.sh")],
        capture_output=True, text=True, timeout=1500, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    bin_dir = Path(result.stdout.strip().splitlines()[-1])
    assert (bin_dir / "helm").is_file()
    assert (bin_dir / "kubeconform").is_file()
    return bin_dir


def helm(tools: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(tools / "helm"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def render(tools: Path, values: list[str], kubernetes: str = KUBERNETES_VERSIONS[0]) -> str:
    return helm(tools, "template", "fp", str(CHART), "--kube-version", kubernetes, *values).stdout


def documents(manifests: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifests) if doc]


def by_kind(manifests: str) -> dict[str, dict[str, Any]]:
    objects = documents(manifests)
    kinds = {doc["kind"]: doc for doc in objects}
    assert len(kinds) == len(objects), "the chart renders one object per kind"
    return kinds


def kubeconform(tools: Path, manifests: str, kubernetes: str) -> list[dict[str, Any]]:
    """Validate; return kubeconform's per-resource results (each with its status)."""
    schemas = tools.parent / "schemas"
    result = subprocess.run(
        [
            str(tools / "kubeconform"), "-strict", "-output", "json", "-verbose",
            "-kubernetes-version", kubernetes,
            "-schema-location",
            f"{schemas}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}/"
            "{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "-schema-location",
            f"{CRD_SCHEMAS}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
        ],
        input=manifests, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    return report["resources"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("values", list(VALUE_SETS))
def test_helm_lint(tools: Path, values: str) -> None:
    result = helm(tools, "lint", "--strict", str(CHART), *VALUE_SETS[values])
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", list(VALUE_SETS))
def test_every_manifest_is_valid(tools: Path, values: str, kubernetes: str) -> None:
    manifests = render(tools, VALUE_SETS[values], kubernetes)
    results = kubeconform(tools, manifests, kubernetes)
    assert len(results) == len(documents(manifests))
    problems = [
        (r["kind"], r["name"], r["status"], r.get("msg")) for r in results if r["status"] != "statusValid"
    ]
    assert not problems, problems  # skipped (no schema) counts as a problem too


def test_validation_rejects_a_broken_manifest(tools: Path) -> None:
    """The validator is live: an unknown field and a wrong type are caught, in a CRD too."""
    kinds = by_kind(render(tools, VALUE_SETS["keda"]))
    kinds["Deployment"]["spec"]["replica"] = 2
    kinds["Service"]["spec"]["ports"][0]["port"] = "web"
    kinds["ScaledObject"]["spec"]["triggers"][0]["metadat"] = {}
    broken = yaml.safe_dump_all([kinds["Deployment"], kinds["Service"], kinds["ScaledObject"]])
    statuses = {r["kind"]: r["status"] for r in kubeconform(tools, broken, KUBERNETES_VERSIONS[0])}
    assert statuses == {
        "Deployment": "statusInvalid",
        "Service": "statusInvalid",
        "ScaledObject": "statusInvalid",
    }


@pytest.fixture(scope="module")
def default_objects(tools: Path) -> dict[str, dict[str, Any]]:
    return by_kind(render(tools, []))


def _worker(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def test_worker_command_probes_and_resources(default_objects: dict[str, dict[str, Any]]) -> None:
    worker = _worker(default_objects)
    assert worker["command"] == ["flashpoint", "worker", "-l", "info"]
    assert {p["name"]: p["containerPort"] for p in worker["ports"]} == {"web": 6066}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/health", "port": "web"}
    assert worker["startupProbe"]["httpGet"] == {"path": "/health", "port": "web"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}
    assert worker["resources"] == {
        "requests": {"cpu": "500m", "memory": "400Mi"},
        "limits": {"memory": "1Gi"},
    }
    pod = default_objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert worker["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in worker["volumeMounts"]}
    assert {"/app/data", "/tmp"} <= mounts
    assert default_objects["Deployment"]["spec"]["replicas"] == 2


def test_pods_get_real_settings_and_listen_beyond_loopback(
    default_objects: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = default_objects["ConfigMap"]
    env = config["data"]
    assert env["FLASHPOINT_WEB_HOST"] == "0.0.0.0"
    assert env["FLASHPOINT_WEB_PORT"] == "6066"
    assert env["FLASHPOINT_DATA_DIR"] == "/app/data"
    for key in list(Settings.model_fields):
        monkeypatch.delenv(f"FLASHPOINT_{key.upper()}", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # every key is a setting (extra="forbid") and every value validates
    assert settings.web_host == "0.0.0.0"
    worker = _worker(default_objects)
    assert worker["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    service = default_objects["Service"]["spec"]
    assert service["ports"][0]["targetPort"] == "web"
    assert (
        service["selector"].items()
        <= default_objects["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    )


def test_topic_init_job_is_a_post_install_hook(default_objects: dict[str, dict[str, Any]]) -> None:
    job = default_objects["Job"]
    annotations = job["metadata"]["annotations"]
    # After install, not before: the ConfigMap and Secret it reads must exist.
    assert set(annotations["helm.sh/hook"].split(",")) == {"post-install", "post-upgrade"}
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["flashpoint", "topics", "create"]
    assert container["envFrom"] == _worker(default_objects)["envFrom"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_secrets_come_from_a_secret_and_files_are_mounted(tools: Path) -> None:
    kinds = by_kind(render(tools, VALUE_SETS["keda"]))
    secret = kinds["Secret"]
    assert secret["stringData"] == {"FLASHPOINT_KAFKA__SASL_PASSWORD": "not-a-real-password"}
    assert "not-a-real-password" not in yaml.safe_dump(kinds["ConfigMap"])
    for pod in (kinds["Deployment"], kinds["Job"]):
        spec = pod["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in container["envFrom"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == "kafka-tls")
        assert mount == {"name": "kafka-tls", "mountPath": "/etc/flashpoint/kafka", "readOnly": True}
        volume = next(v for v in spec["volumes"] if v["name"] == "kafka-tls")
        assert volume["secret"]["secretName"] == "kafka-client-certs"
    # With an existing Secret the chart renders none of its own and reads that one.
    hpa = by_kind(render(tools, VALUE_SETS["hpa"]))
    assert "Secret" not in hpa
    assert {"secretRef": {"name": "flashpoint-kafka"}} in _worker(hpa)["envFrom"]


def test_keda_scales_on_the_input_topics_lag(tools: Path) -> None:
    kinds = by_kind(
        render(tools, [*VALUE_SETS["keda"], "--set", "settings.FLASHPOINT_TOPIC_PREFIX=staging."])
    )
    assert "replicas" not in kinds["Deployment"]["spec"], "the autoscaler owns the replica count"
    assert "HorizontalPodAutoscaler" not in kinds
    scaled = kinds["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == kinds["Deployment"]["metadata"]["name"]
    assert scaled["maxReplicaCount"] <= int(kinds["ConfigMap"]["data"]["FLASHPOINT_PARTITIONS"])
    (trigger,) = scaled["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert meta["bootstrapServers"] == "kafka:9092"
    assert meta["consumerGroup"] == kinds["ConfigMap"]["data"]["FLASHPOINT_APP_ID"]
    assert meta["topic"] == "staging.news.articles.v1"
    assert meta["allowIdleConsumers"] == "false"
    monitor = kinds["ServiceMonitor"]["spec"]
    assert monitor["endpoints"] == [{"port": "web", "path": "/metrics", "interval": "30s"}]


def test_bootstrap_servers_from_several_broker_urls(tools: Path) -> None:
    broker = "kafka://k1:9092;kafka://k2:9093"
    kinds = by_kind(
        render(
            tools, ["--set", "autoscaling.mode=keda", "--set-string", f"settings.FLASHPOINT_BROKER={broker}"]
        )
    )
    assert kinds["ScaledObject"]["spec"]["triggers"][0]["metadata"]["bootstrapServers"] == "k1:9092,k2:9093"


def test_hpa_fallback(tools: Path) -> None:
    kinds = by_kind(render(tools, VALUE_SETS["hpa"]))
    assert "replicas" not in kinds["Deployment"]["spec"]
    hpa = kinds["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": kinds["Deployment"]["metadata"]["name"],
    }
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert "ScaledObject" not in kinds


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["--set", "autoscaling.mode=vpa"], "autoscaling.mode must be"),
        (["--set", "settings.FLASHPOINT_WEB_HOST=127.0.0.1"], "is set by the chart"),
        (["--set", "settings.BROKER=x"], "only FLASHPOINT_* variables"),
        (["--set", "kafka.secretEnv.PASSWORD=x"], "only FLASHPOINT_* variables"),
    ],
)
def test_wrong_values_fail_the_render(tools: Path, values: list[str], message: str) -> None:
    result = helm(
        tools, "template", "fp", str(CHART), "--kube-version", KUBERNETES_VERSIONS[0], *values, check=False
    )
    assert result.returncode != 0
    assert message in result.stderr
