"""The artifact's JSON files (streams/classifier/artifact.py): the shipped ones load, round-trip
byte for byte, and a file of another format or with an unknown field does not load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from streams.classifier.artifact import Artifact, Metrics, shipped_artifact


def test_the_shipped_files_round_trip_byte_for_byte(tmp_path: Path) -> None:
    artifact = Artifact.read(shipped_artifact())
    artifact.write(tmp_path)
    Metrics.read(shipped_artifact()).write(tmp_path)
    for name in ("manifest.json", "thresholds.json", "metrics.json"):
        assert (tmp_path / name).read_bytes() == (shipped_artifact() / name).read_bytes(), name


def _copy(tmp_path: Path, change: dict[str, object]) -> Path:
    d = tmp_path / "artifact"
    d.mkdir()
    for name in ("manifest.json", "thresholds.json"):
        shutil.copy(shipped_artifact() / name, d / name)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    (d / "manifest.json").write_text(json.dumps({**manifest, **change}), encoding="utf-8")
    return d


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "format_version"),
        ({"thresholds_version": "x"}, "thresholds_version\n  Extra inputs are not permitted"),
        ({"categories": ["threat"]}, "expected"),
    ],
)
def test_a_manifest_of_another_format_does_not_load(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Artifact.read(_copy(tmp_path, change))
