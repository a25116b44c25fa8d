"""The command layer: every project command registered, thin over logic that never imports click."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from kafka.errors import KafkaConnectionError

from streams.admin.classify import error_line
from streams.cli.base import reported
from streams.cli.main import project_commands
from streams.pipeline.decode import Source, decode_article
from streams.worker.process import WorkerError

LOGIC_MODULES = [
    "streams.admin.classify",
    "streams.admin.contract",
    "streams.admin.demo",
    "streams.admin.produce",
    "streams.admin.tail",
    "streams.admin.topics",
    "streams.topics",
    "streams.worker.publisher",
]


def test_every_project_command_is_registered() -> None:
    names = {command.name for command in project_commands()}
    assert names == {
        "kafka",
        "topics",
        "contract",
        "classify",
        "cluster",
        "train",
        "eval",
        "produce",
        "tail",
        "demo",
    }


def test_logic_modules_do_not_import_click() -> None:
    code = f"import sys\nfor m in {LOGIC_MODULES!r}: __import__(m)\nprint('click' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (KafkaConnectionError("refused"), "127.0.0.1:1: KafkaConnectionError: refused"),
        (WorkerError("the worker exited with code 70"), "127.0.0.1:1: the worker exited with code 70"),
    ],
)
def test_expected_failures_become_one_line_click_errors(error: Exception, expected: str) -> None:
    @click.command()
    def failing() -> None:
        with reported("127.0.0.1:1"):
            raise error

    result = CliRunner().invoke(failing)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_bug_is_not_disguised_as_a_click_error() -> None:
    with pytest.raises(KeyError), reported():
        raise KeyError("bug")


def test_classify_error_lines_name_the_line_and_the_error_type() -> None:
    dead = decode_article(b"{oops", Source(None, None, 7, None), max_body_chars=100, app_version="t")
    row = json.loads(error_line(7, dead))  # type: ignore[arg-type]
    assert row["line"] == 7
    assert row["error"]["type"] == "invalid_json"
    assert row["error"]["message"].startswith("not valid JSON")


def test_a_project_command_runs_without_loading_faust_or_the_worker_app() -> None:
    # Faust's CLI needs the worker's app, whose import costs seconds of CPU on every command.
    code = (
        "import sys\n"
        "from streams.cli.main import main\n"
        "try:\n"
        "    main(['topics', 'list', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('faust', 'streams.worker.app', 'datasketch') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: flashpoint topics list" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
