"""Non-English articles end to end: flagged, never alerted, counted on /metrics.

A real worker (real model, real language detector) on the session's broker gets five articles
in French, Spanish, Arabic, Russian and Chinese (a threat, in each language: see
tests/support/languages.py) and three English escalations as controls, which must alert.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from streams.localkafka import Cluster
from tests.e2e.harness import Input, OutputReader, article_json, input_topic, send, start_worker
from tests.e2e.test_pipeline import _metric
from tests.support.corpus import ESCALATIONS
from tests.support.languages import FOREIGN_ARTICLES

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

UNSUPPORTED = "flashpoint_articles_unsupported_language_total"


def _foreign_inputs() -> list[Input]:
    out = []
    for lang, (title, body) in sorted(FOREIGN_ARTICLES.items()):
        aid = f"lang-{lang}"
        # No declared language: the worker finds it in the text.
        raw = json.dumps({"id": aid, "title": title, "body": body}).encode()
        out.append(Input(raw, aid.encode(), (aid, 1), None))
    return out


def test_foreign_articles_are_flagged_never_alerted_and_counted(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"e2e-{unique}."
    worker = start_worker(kafka, prefix, tmp_path)
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        worker.wait_ready()
        controls = [
            Input(article_json(aid, title, body), aid.encode(), (aid, 1), None)
            for aid, title, body, _ in ESCALATIONS[:3]
        ]
        inputs = [*_foreign_inputs(), *controls]
        send(kafka.bootstrap, input_topic(prefix), inputs)
        out = reader.read_until(lambda o: o.complete(len(inputs)), timeout=240)

        classified = {c.article_id: c for c in out.classified}
        assert len(classified) == len(inputs)
        assert not out.dead
        foreign_stories = set()
        for lang in FOREIGN_ARTICLES:
            c = classified[f"lang-{lang}"]
            assert (c.language, c.language_supported) == (lang, False)
            assert (c.escalation, c.level, c.signals) == (False, "none", [])
            foreign_stories.add(c.story_id)
        for aid, *_ in ESCALATIONS[:3]:
            assert (classified[aid].language, classified[aid].language_supported) == ("en", True)

        # No alert comes from, or counts, a foreign article; the English controls do alert.
        for alert in out.alerts:
            assert alert.story_id not in foreign_stories
            assert not any(aid.startswith("lang-") for aid in alert.article_ids)
            assert alert.language == "en"
        assert any(classified[aid].escalation for aid, *_ in ESCALATIONS[:3])
        assert out.alerts

        # The metric counts each flagged article under its language (it moves on the broker's
        # acknowledgement, a moment after the reader may have seen the message).
        deadline = time.monotonic() + 30
        while True:
            status, text = worker.get("/metrics")
            assert status == 200
            counted = {dict(k)["language"]: v for k, v in _metric(text, UNSUPPORTED).items()}
            if sum(counted.values()) >= len(FOREIGN_ARTICLES) or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # polling the worker's HTTP endpoint
        assert counted == dict.fromkeys(FOREIGN_ARTICLES, 1.0)

        assert worker.terminate() == 0, worker.log_tail()
    finally:
        reader.close()
        worker.stop_quietly()
