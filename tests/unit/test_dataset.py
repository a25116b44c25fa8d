"""Labelled files for `train` / `eval`: every bad line is reported by number; macro-F1 averages
only the categories that have examples or signals. All passages are written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from schemas import CATEGORIES
from streams.cli.model import eval_command, format_metrics, train_command
from streams.training import dataset as training
from streams.training.evaluation import metrics_from_predictions

GOOD = {
    "id": "g1",
    "title": "Navy seizes tanker",
    "body": "The navy boarded and seized a tanker.",
    "labels": ["use_of_force"],
}


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_good_file_loads_with_its_labels(tmp_path: Path) -> None:
    minimal = {"title": "Calm day", "body": "Markets were quiet and nothing happened."}
    path = write(tmp_path, [json.dumps(GOOD).encode(), b"", json.dumps(minimal).encode()])
    data = training.load_dataset(path)
    assert [a.id for a in data.articles] == ["g1", "line-3"]  # blank line skipped, numbering kept
    assert data.y[0, CATEGORIES.index("use_of_force")] == 1
    assert data.y.sum() == 1


def test_bom_blank_lookalikes_and_loose_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            b"\xef\xbb\xbf" + json.dumps(GOOD).encode(),  # a BOM from a Windows tool
            "\u00a0".encode(),  # a no-break space only: a blank line
            json.dumps({"id": 0, "title": None, "body": "Quiet markets today."}).encode() + b"\r",
        ],
    )
    data = training.load_dataset(path)
    assert [a.id for a in data.articles] == ["g1", "0"]
    assert data.articles[1].title == ""


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"title": "x", "body": "y"', "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"title": "x"}', "'body' is missing"),
        (b'{"title": 3, "body": "Some text here."}', "'title' is not a string"),
        (b'{"title": [], "body": "Some text here."}', "'title' is not a string"),
        (b'{"body": "Some text here.", "labels": "threat"}', "'labels' must be a list"),
        (b'{"body": "Some text here.", "labels": ["coup"]}', "unknown labels ['coup']"),
        (b'{"body": "<p></p>", "labels": []}', "invalid article (body:"),
        (b'{"body": "caf\xe9"}', "not UTF-8"),
    ],
)
def test_each_bad_line_is_named(tmp_path: Path, line: bytes, reason: str) -> None:
    path = write(tmp_path, [json.dumps(GOOD).encode(), line])
    with pytest.raises(training.DatasetError) as err:
        training.load_dataset(path)
    assert f"{path}:2: {reason}" in str(err.value)
    assert str(err.value).startswith(f"1 bad line in {path}:")


def test_all_bad_lines_are_listed_up_to_a_limit(tmp_path: Path) -> None:
    n = training.MAX_REPORTED_ERRORS + 5
    path = write(tmp_path, [b"not json"] * n)
    with pytest.raises(training.DatasetError) as err:
        training.load_dataset(path)
    text = str(err.value)
    assert text.startswith(f"{n} bad lines")
    assert f"{path}:{training.MAX_REPORTED_ERRORS}:" in text
    assert f"{path}:{training.MAX_REPORTED_ERRORS + 1}:" not in text
    assert "... and 5 more bad lines" in text


def test_a_file_without_articles_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(training.DatasetError, match="no labelled articles"):
        training.load_dataset(write(tmp_path, [b"", b"  "]))


def test_eval_and_train_report_bad_lines_before_loading_anything(tmp_path: Path) -> None:
    path = write(tmp_path, [json.dumps(GOOD).encode(), b"{oops"])
    out = tmp_path / "artifact"
    for command, args in ((eval_command, []), (train_command, ["--out", str(out), "--no-cv"])):
        result = CliRunner().invoke(command, ["--data", str(path), *args])
        assert result.exit_code == 1
        assert f"{path}:2: invalid JSON" in result.output
        assert "Traceback" not in result.output
    assert not out.exists()  # train wrote nothing


def test_eval_refuses_an_unwritable_plot_path_before_scoring(tmp_path: Path) -> None:
    path = write(tmp_path, [json.dumps(GOOD).encode()])
    result = CliRunner().invoke(
        eval_command, ["--data", str(path), "--plot", str(tmp_path / "no" / "pr.png")]
    )
    assert result.exit_code == 1
    assert "is not a directory" in result.output


def test_macro_f1_leaves_out_categories_without_examples_or_signals() -> None:
    y = np.zeros((4, len(CATEGORIES)), dtype=int)
    pred = np.zeros_like(y)
    y[0, 0] = pred[0, 0] = 1  # threat: F1 1
    y[1, 2] = 1  # use_of_force: missed, F1 0
    pred[2, 3] = 1  # sanctions: a false alarm without examples, F1 0 (counted)
    m = metrics_from_predictions(y, pred)
    assert m["macro_categories"] == ["threat", "use_of_force", "sanctions"]
    assert m["macro_f1"] == pytest.approx(1 / 3)
    nothing = metrics_from_predictions(np.zeros((2, 9), int), np.zeros((2, 9), int))
    assert nothing["macro_f1"] is None
    assert "macro-F1: n/a" in format_metrics(nothing)
    full = metrics_from_predictions(np.ones((2, len(CATEGORIES)), int), np.ones((2, len(CATEGORIES)), int))
    assert full["macro_categories"] == list(CATEGORIES)
    assert full["macro_f1"] == 1.0
