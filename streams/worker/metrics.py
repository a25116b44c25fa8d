"""Prometheus metrics of one worker, on a registry of its own (served at ``/metrics``).

Two families share the registry: the domain counters below (``flashpoint_*``: articles, articles
not judged for their language, model passes and reused copies, story placements, alerts by
status, level and category, dead letters by error type, batch and latency histograms) and
Faust's own transport sensors (``flashpoint_faust_*``: messages in and out, send and commit
latency, rebalances, per-partition end and committed offsets), installed by
:func:`install_faust_sensors`, plus the consumer lag Faust's offsets imply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

from schemas import Alert, ClassifiedArticle, DeadLetter
from streams.topics import ALERTS

if TYPE_CHECKING:
    from streams.pipeline.route import Output

#: Name prefix of Faust's sensors: fixed, so dashboards do not depend on the app id.
FAUST_PREFIX: Final = "flashpoint_faust"

# Seconds: classification of a batch takes 0.05-5 s on two cores; end-to-end latency up to tens.
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass
class Metrics:
    """The worker's counters and histograms; ``render()`` gives the Prometheus text format."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.articles_in = Counter(
            "flashpoint_articles_in", "Messages read from the input topic.", registry=r
        )
        self.classified = Counter(
            "flashpoint_articles_classified", "Classified articles published.", registry=r
        )
        self.unsupported_language = Counter(
            "flashpoint_articles_unsupported_language",
            "Classified articles published not judged, their language being one the English-only "
            "model does not support, by detected language (ISO 639-1, or und).",
            ["language"],
            registry=r,
        )
        self.model_passes = Counter(
            "flashpoint_classifier_articles", "Articles given to the classifier (model passes).", registry=r
        )
        self.copies_reused = Counter(
            "flashpoint_copies_reused",
            "Articles that reused the classification of the article they copy, without a model pass.",
            registry=r,
        )
        self.withdrawals = Counter("flashpoint_withdrawals", "Withdrawals read from the input.", registry=r)
        self.story_articles = Counter(
            "flashpoint_story_articles", "Articles placed in a story by the story stage.", registry=r
        )
        self.story_copies = Counter(
            "flashpoint_story_copies", "Placed articles the story stage found to be copies.", registry=r
        )
        self.story_seconds = Histogram(
            "flashpoint_story_batch_seconds",
            "Time to place one batch of articles in stories.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.alerts = Counter(
            "flashpoint_alerts",
            "Alert messages published, by status and level.",
            ["status", "level"],
            registry=r,
        )
        self.alert_categories = Counter(
            "flashpoint_alert_signals", "Signals in published alerts, by category.", ["category"], registry=r
        )
        self.dead_letters = Counter(
            "flashpoint_dead_letters", "Dead letters published, by error type.", ["error_type"], registry=r
        )
        self.batch_size = Histogram(
            "flashpoint_batch_size", "Articles per classified batch.", buckets=_BATCH_BUCKETS, registry=r
        )
        self.classify_seconds = Histogram(
            "flashpoint_classify_batch_seconds",
            "Time to decode and classify one batch (in the executor).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.latency_seconds = Histogram(
            "flashpoint_article_latency_seconds",
            "From an article's received_at to its outputs acknowledged by the broker.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.send_retries = Counter(
            "flashpoint_send_retries", "Sends retried after a broker error.", registry=r
        )
        self.model_loaded = Gauge("flashpoint_model_loaded", "1 once the classifier is loaded.", registry=r)
        self.build_info = Info("flashpoint_build", "Version of the running worker.", registry=r)

    def count_delivered(self, out: Output) -> None:
        """Count a message the broker has acknowledged, by what it is (an alert once, on the
        alerts topic, not again on the state topic)."""
        value = out.value
        if isinstance(value, ClassifiedArticle):
            self.classified.inc()
            if not value.language_supported:
                self.unsupported_language.labels(language=value.language or "und").inc()
        elif isinstance(value, Alert):
            if out.topic is ALERTS:
                self.alerts.labels(status=value.status, level=value.level).inc()
                for signal in value.signals:
                    self.alert_categories.labels(category=signal.category).inc()
        elif isinstance(value, DeadLetter):
            self.dead_letters.labels(error_type=value.error_type).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class LagMonitor(PrometheusMonitor):
    """Faust's Prometheus monitor plus a consumer-lag gauge per input partition.

    Faust tracks each partition's end offset (when it fetches) and committed offset (when it
    commits); their difference is the lag an operator scales and alerts on.
    """

    def __init__(self, metrics: FaustMetrics, lag: Gauge, **kwargs: Any) -> None:
        super().__init__(metrics=metrics, **kwargs)
        self._lag = lag

    def _update_lag(self, tp: Any) -> None:
        end = self.tp_end_offsets.get(tp)
        committed = self.tp_committed_offsets.get(tp)
        if end is not None:
            # Before the first commit of a partition, everything up to its end is pending.
            lag = max(0, end - (committed or 0))
            self._lag.labels(topic=tp.topic, partition=tp.partition).set(lag)

    def record_offsets(self, offsets: Mapping[Any, tuple[int, int]]) -> None:
        """Set the lag gauge from ``{partition: (end offset, committed offset)}`` read from the
        broker, which also covers partitions this worker has not fetched from."""
        for tp, (end, committed) in offsets.items():
            self._lag.labels(topic=tp.topic, partition=tp.partition).set(max(0, end - committed))

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        """Record a partition's end offset (Faust calls this on every fetch)."""
        super().track_tp_end_offset(tp, offset)
        self._update_lag(tp)

    def on_tp_commit(self, tp_offsets: Any) -> None:
        """Record committed offsets (Faust calls this after every commit)."""
        super().on_tp_commit(tp_offsets)
        for tp in tp_offsets:
            self._update_lag(tp)

    def _clear_partition_related_metrics(self) -> None:
        # On a rebalance the partitions may move away: their lag is no longer ours to report.
        super()._clear_partition_related_metrics()
        self._lag.clear()


def install_faust_sensors(app: Any, registry: CollectorRegistry) -> LagMonitor:
    """Attach Faust's Prometheus sensors to ``app`` (a faust.App), on the worker's registry."""
    lag = Gauge(
        f"{FAUST_PREFIX}_consumer_lag",
        "Messages not yet committed per topic/partition (end offset - committed offset).",
        ["topic", "partition"],
        registry=registry,
    )
    monitor = LagMonitor(metrics=FaustMetrics.create(registry, FAUST_PREFIX), lag=lag)
    app.monitor = monitor
    return monitor
