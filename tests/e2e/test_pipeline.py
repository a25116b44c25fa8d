"""End to end on the real broker with the real model: every input accounted for.

A worker runs as a child process (``python -m streams worker``) on the session's broker; the
tests send articles and malformed messages with kafka-python and read every output topic back.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas import Alert
from streams.localkafka import Cluster
from streams.pipeline.lifecycle import story_alert_id
from streams.topics import ARTICLES
from streams.worker.process import WorkerProcess
from tests.e2e.harness import (
    POISON,
    Input,
    OutputReader,
    Outputs,
    Supervised,
    committed_offsets,
    input_topic,
    malformed_inputs,
    poison_input,
    send,
    start_worker,
    valid_inputs,
)
from tests.support.corpus import ESCALATIONS, HARD_NEGATIVES

pytestmark = [pytest.mark.kafka, pytest.mark.model, pytest.mark.e2e]

#: The restarted worker's liveness bound in the interrupted runs: short, so a stall costs the
#: test half a minute, long enough that start-up and recovery never trip it.
SUPERVISED_STALL_SECONDS = 30


def _metric(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Samples of one metric from a Prometheus text exposition, keyed by their labels."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                values[tuple(sorted(sample.labels.items()))] = sample.value
    return values


def _check_accounting(placed: dict[tuple[int, int], Input], out: Outputs) -> None:
    """Every input is in classified or dead letters, nothing else is, and dead bytes are exact."""
    expected_articles = collections.Counter(i.article for i in placed.values() if i.article)
    got_articles = collections.Counter((c.article_id, c.article_version) for c in out.classified)
    assert set(got_articles) == set(expected_articles)

    expected_dead: dict[tuple[int | None, int | None], Input] = {
        pos: i for pos, i in placed.items() if i.article is None
    }
    got_dead = {(d.source_partition, d.source_offset): d for d in out.dead}
    assert set(got_dead) == set(expected_dead), "dead letters are exactly the invalid inputs"
    for pos, dead in got_dead.items():
        assert dead.original_bytes() == expected_dead[pos].raw
        assert dead.error_type == expected_dead[pos].error_type, dead.error_message
        assert dead.error_message


def _check_metrics(worker: WorkerProcess, out: Outputs, sent: int) -> None:
    """/metrics agrees with what the test counted."""
    # Counters move when the broker acknowledges, a moment after the reader may see it.
    deadline = time.monotonic() + 30
    while True:
        status, text = worker.get("/metrics")
        assert status == 200
        done = _metric(text, "flashpoint_articles_classified_total").get((), 0) == len(out.classified)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling the worker's HTTP endpoint
    assert _metric(text, "flashpoint_articles_in_total")[()] == sent
    assert _metric(text, "flashpoint_articles_classified_total")[()] == len(out.classified)
    dead_by_type = collections.Counter(d.error_type for d in out.dead)
    assert {dict(k)["error_type"]: v for k, v in _metric(text, "flashpoint_dead_letters_total").items()} == (
        dead_by_type
    )
    assert sum(_metric(text, "flashpoint_alerts_total").values()) == len(out.alerts)
    assert _metric(text, "flashpoint_batch_size_count")[()] >= 1
    # Every published article went to the model or reused the classification of its copy.
    passes = _metric(text, "flashpoint_classifier_articles_total")[()]
    reused = _metric(text, "flashpoint_copies_reused_total")[()]
    assert passes + reused >= len(out.classified) + sum(d.error_type == "classifier_error" for d in out.dead)
    _check_input_lag_drains(worker)


def _check_input_lag_drains(worker: WorkerProcess) -> None:
    """Faust's consumer-lag gauge covers the input topic and falls to 0 once all is committed."""
    deadline = time.monotonic() + 30
    while True:
        lag = {
            dict(labels)["partition"]: value
            for labels, value in _metric(worker.get("/metrics")[1], "flashpoint_faust_consumer_lag").items()
            if dict(labels)["topic"].endswith(ARTICLES.name)
        }
        if (lag and not any(lag.values())) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # polling the worker's HTTP endpoint
    assert lag, "no consumer-lag sample for the input topic"
    assert all(value == 0 for value in lag.values()), lag


def _check_alert_versions(alerts: list[Alert]) -> None:
    """One message per (alert_id, version), repeats identical; versions 1, 2, ... per alert."""
    by_key: dict[tuple[str, int], Alert] = {}
    for alert in alerts:
        held = by_key.setdefault((alert.alert_id, alert.version), alert)
        assert held == alert, f"two different messages for {alert.alert_id} v{alert.version}"
        assert alert.alert_id == story_alert_id(alert.story_id)
    versions: dict[str, set[int]] = collections.defaultdict(set)
    for alert_id, version in by_key:
        versions[alert_id].add(version)
    for alert_id, seen in versions.items():
        assert seen == set(range(1, max(seen) + 1)), (alert_id, sorted(seen))


def test_every_input_is_accounted_for_exactly_once(kafka: Cluster, unique: str, tmp_path: Path) -> None:
    prefix = f"e2e-{unique}."
    worker = start_worker(kafka, prefix, tmp_path, FLASHPOINT_CLASSIFIER__FAIL_ON=POISON)
    reader = OutputReader(kafka.bootstrap, prefix)
    try:
        states = worker.wait_ready()
        assert states[-1] == {
            "ready": True,
            "model_loaded": True,
            "topics_present": True,
            "broker_reachable": True,
            "group_joined": True,
        }

        inputs = [*valid_inputs(versions=1), *malformed_inputs(), poison_input()]
        inputs += [i for i in valid_inputs(versions=2) if i.article and i.article[1] == 2][:6]  # updates
        assert len(inputs) >= 50
        placed = send(kafka.bootstrap, input_topic(prefix), inputs)
        out = reader.read_until(lambda o: o.complete(len(inputs)), timeout=300)

        # Exactly once each: no repeats in a clean run.
        assert len(out.classified) + len(out.dead) == len(inputs)
        _check_accounting(placed, out)

        # The poison article is dead-lettered alone, with the classifier's reason.
        poison = [d for d in out.dead if d.error_type == "classifier_error"]
        assert [d.article_id for d in poison] == ["poison-1"]
        assert POISON in poison[0].original_bytes().decode()

        # Alerts: one per story with an escalation, explained by one of its escalating articles.
        articles = {
            (a.id, a.version): a for a in (ARTICLES.decode(i.raw) for i in inputs if i.article is not None)
        }
        classified = {(c.article_id, c.article_version): c for c in out.classified}
        escalated = {k for k, c in classified.items() if c.escalation}
        assert {a.story_id for a in out.alerts} == {classified[k].story_id for k in escalated}
        assert sum(a.status == "created" for a in out.alerts) == len({a.alert_id for a in out.alerts})
        _check_alert_versions(out.alerts)
        for alert in out.alerts:
            key = (alert.article.id, alert.article.version)
            c, article = classified[key], articles[key]
            assert c.escalation
            assert c.story_id == alert.story_id
            assert (alert.signals, alert.actors, alert.severity, alert.level) == (
                c.signals,
                c.actors,
                c.severity,
                c.level,
            )
            assert alert.article.title == article.title
            assert alert.summary
            assert alert.level != "none"
        for c in out.classified:
            # A copy carries its original's evidence, which indexes the original's text.
            article = (
                articles[(c.duplicate_of, 1)]
                if c.duplicate_of
                else articles[(c.article_id, c.article_version)]
            )
            for signal in c.signals:
                for ev in signal.evidence:
                    assert getattr(article, ev.field)[ev.start : ev.end] == ev.text

        # The model's side of it: the written escalations alert, the hard negatives do not.
        alerted_ids = {k[0] for k in escalated}
        hits = sum(aid in alerted_ids for aid, *_ in ESCALATIONS)
        false_alarms = [aid for aid, *_ in HARD_NEGATIVES if aid in alerted_ids]
        assert hits >= 0.75 * len(ESCALATIONS), f"only {hits} of {len(ESCALATIONS)} escalations alerted"
        assert len(false_alarms) <= 1, f"hard negatives alerted: {false_alarms}"

        _check_metrics(worker, out, len(inputs))

        assert worker.terminate() == 0, worker.log_tail()
    finally:
        reader.close()
        worker.stop_quietly()


def _interrupted_run(
    kafka: Cluster,
    prefix: str,
    tmp_path: Path,
    inputs: list[Input],
    interrupt: Callable[[WorkerProcess], None],
) -> tuple[dict[tuple[int, int], Input], Outputs]:
    """Send ``inputs``; once 12 are classified, ``interrupt`` the worker; a second one finishes.

    The second worker runs :class:`Supervised`, restarted when its liveness fails as Kubernetes
    would restart it (a restarted Faust worker has been seen to stall; see docs/OPERATIONS.md),
    and the restarts it needed are printed. Returns what was sent (by partition and offset) and
    every output read back; both workers have exited (the last with code 0) when it returns.
    """
    first = start_worker(kafka, prefix, tmp_path, FLASHPOINT_BATCH_MAX="4")
    reader = OutputReader(kafka.bootstrap, prefix)
    second = None
    try:
        first.wait_ready()
        placed = send(kafka.bootstrap, input_topic(prefix), inputs)
        reader.read_until(lambda o: len(o.classified) >= 12, timeout=300)
        interrupt(first)
        second = Supervised(
            lambda: start_worker(
                kafka, prefix, tmp_path, FLASHPOINT_LIVENESS_STALL_SECONDS=str(SUPERVISED_STALL_SECONDS)
            )
        )
        second.worker.wait_ready()
        out = reader.read_until(lambda o: o.complete(len(inputs)), timeout=300, on_poll=second.check)
        print(f"the restarted worker needed {second.restarts} liveness restart(s)")
        _check_accounting(placed, out)
        assert second.worker.terminate() == 0, second.worker.log_tail()
        return placed, out
    finally:
        reader.close()
        first.stop_quietly()
        if second is not None:
            second.worker.stop_quietly()


def test_kill_9_mid_stream_loses_nothing_and_repeats_only_identical_alerts(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"e2e-{unique}."
    inputs = [*valid_inputs(versions=4), *malformed_inputs()]
    group = f"fp-{prefix.strip('.')}"

    def kill(worker: WorkerProcess) -> None:
        worker.kill()
        # Killed before it could commit everything: the restart has work left to redo.
        assert committed_offsets(kafka.bootstrap, group, input_topic(prefix)) < len(inputs)

    _, out = _interrupted_run(kafka, prefix, tmp_path, inputs, kill)
    # Repeats are allowed, but never two different messages with one (alert_id, version).
    _check_alert_versions(out.alerts)
    escalated = {c.story_id for c in out.classified if c.escalation}
    assert {a.story_id for a in out.alerts} == escalated
    # A story never splits: every version of an article is in one story.
    stories_of: dict[str, set[str | None]] = collections.defaultdict(set)
    for c in out.classified:
        stories_of[c.article_id].add(c.story_id)
    assert all(len(s) == 1 for s in stories_of.values()), stories_of


def test_sigterm_mid_stream_finishes_the_batch_commits_and_exits_0(
    kafka: Cluster, unique: str, tmp_path: Path
) -> None:
    prefix = f"e2e-{unique}."
    inputs = valid_inputs(versions=4)
    group = f"fp-{prefix.strip('.')}"

    def stop(worker: WorkerProcess) -> None:
        assert worker.terminate() == 0, worker.log_tail()
        committed = committed_offsets(kafka.bootstrap, group, input_topic(prefix))
        assert 12 <= committed < len(inputs), "the stop lands mid-stream, after committing what it published"

    _, out = _interrupted_run(kafka, prefix, tmp_path, inputs, stop)
    # A clean stop committed everything it published: nothing is classified twice.
    counts = collections.Counter((c.article_id, c.article_version) for c in out.classified)
    assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
