"""``flashpoint classify``: JSON Lines in, one ClassifiedArticle or error per line out, no Kafka."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas import ClassifiedArticle
from streams.cli.classify import classify_command
from tests.support.corpus import ESCALATIONS, HARD_NEGATIVES

pytestmark = pytest.mark.model


def test_classify_keeps_going_and_reports_bad_lines_by_number(tmp_path: Path) -> None:
    aid, title, body, _ = ESCALATIONS[6]  # air strikes: use of force
    nid, ntitle, nbody, _ = HARD_NEGATIVES[0]
    lines = [
        json.dumps({"id": aid, "title": title, "body": body}),
        '{"id": "broken", "body": ',  # malformed JSON
        json.dumps({"id": "empty", "body": ""}),
        json.dumps({"id": "huge", "body": "word " * 2_000_000}),  # 10 MB
        json.dumps({"id": nid, "title": ntitle, "body": nbody}),
        "",  # a blank line is an input line too
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(classify_command, [str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(lines)

    first = ClassifiedArticle.model_validate(rows[0])
    assert first.article_id == aid
    assert first.escalation
    assert "use_of_force" in {s.category for s in first.signals}
    for n, kind in (
        (2, "invalid_json"),
        (3, "invalid_article"),
        (4, "message_too_large"),
        (6, "empty_message"),
    ):
        assert rows[n - 1]["line"] == n
        assert rows[n - 1]["error"]["type"] == kind
        assert rows[n - 1]["error"]["message"]
    assert "empty" in rows[2]["error"]["message"]
    negative = ClassifiedArticle.model_validate(rows[4])
    assert negative.article_id == nid
    assert not negative.escalation


def test_classify_reads_stdin_and_fails_only_on_unreadable_input(tmp_path: Path) -> None:
    aid, title, body, _ = ESCALATIONS[9]
    result = CliRunner().invoke(
        classify_command, [], input=json.dumps({"id": aid, "title": title, "body": body}) + "\n"
    )
    assert result.exit_code == 0
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert ClassifiedArticle.model_validate(row).article_id == aid
    missing = CliRunner().invoke(classify_command, [str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0
