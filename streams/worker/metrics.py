"""Prometheus metrics of one worker, on a registry of its own (served at ``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from schemas import Alert, ClassifiedArticle, DeadLetter

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
        self.alerts = Counter("flashpoint_alerts", "Alerts published, by level.", ["level"], registry=r)
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

    def count_delivered(self, value: ClassifiedArticle | Alert | DeadLetter) -> None:
        """Count a message the broker has acknowledged, by what it is."""
        if isinstance(value, ClassifiedArticle):
            self.classified.inc()
        elif isinstance(value, Alert):
            self.alerts.labels(level=value.level).inc()
            for signal in value.signals:
                self.alert_categories.labels(category=signal.category).inc()
        else:
            self.dead_letters.labels(error_type=value.error_type).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
