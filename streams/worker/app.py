"""The Faust application: ``build_app(settings)`` and the module-level ``app``.

``faust -A streams.worker.app worker`` and ``flashpoint worker`` both use the module-level ``app``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from platformdirs import user_data_dir
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_delay, wait_exponential

from streams import __version__
from streams.classifier.base import Classifier
from streams.config import ClassifierSettings, Settings, get_settings
from streams.kafka_clients import KafkaAccessError, faust_credentials
from streams.topics import max_produced_bytes
from streams.worker.agents import Runtime, wire
from streams.worker.consumer import AtLeastOnceConsumer
from streams.worker.log_limits import limit_client_logs
from streams.worker.metrics import install_faust_sensors
from streams.worker.tables import table_store

log = logging.getLogger("flashpoint.app")


class IdempotentProducer(aiokafka_driver.Producer):
    """Faust's aiokafka producer with acks=all and idempotence on outside transactions too."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class Transport(aiokafka_driver.Transport):
    """The aiokafka transport with :class:`IdempotentProducer` and
    :class:`~streams.worker.consumer.AtLeastOnceConsumer`."""

    Producer = IdempotentProducer
    Consumer = AtLeastOnceConsumer


class FlashpointApp(faust.App):
    """A Faust app that uses the idempotent producer and creates the registry's topics at start."""

    runtime: Runtime
    flashpoint_settings: Settings

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Any:
        return Transport(self.conf.broker_producer, self)

    async def on_first_start(self) -> None:
        await super().on_first_start()
        from streams.admin.topics import create_topics

        # The broker may still be starting (compose, Kubernetes): retry, bounded, then fail;
        # refused credentials or an untrusted certificate will not get better: fail at once.
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(60),
            wait=wait_exponential(multiplier=0.5, max=10),
            retry=retry_if_not_exception_type(KafkaAccessError),
            reraise=True,
        ):
            with attempt:
                created = await asyncio.get_running_loop().run_in_executor(
                    None, create_topics, self.flashpoint_settings
                )
        self.runtime.topics_present = True
        log.info(
            "topics ready: %s",
            ", ".join(f"{t} ({'created' if c else 'present'})" for t, c in created.items()),
        )


def logging_config(settings: Settings) -> dict[str, Any] | None:
    """A dictConfig for Faust's worker: JSON lines when ``log_json`` is set, else Faust's default.

    Flashpoint's own records carry ``topic``, ``partition``, ``offset`` and ``article_id`` as
    extra fields, which the JSON formatter writes as keys.
    """
    if not settings.log_json:
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
    }


def default_classifier_loader(settings: ClassifierSettings) -> Classifier:
    """Load the configured classifier (wrapped in the fault drills that are set)."""
    from streams.classifier.classifier import load_classifier

    classifier: Classifier = load_classifier(settings)
    if settings.fail_on:
        from streams.classifier.fault import FailingClassifier

        classifier = FailingClassifier(classifier, settings.fail_on)
    if settings.stall_on:
        from streams.classifier.fault import StallingClassifier

        classifier = StallingClassifier(classifier, settings.stall_on)
    return classifier


def build_app(
    settings: Settings,
    load_classifier: Callable[[ClassifierSettings], Classifier] = default_classifier_loader,
) -> FlashpointApp:
    """A Faust app configured from settings, with Flashpoint's agent and web views attached."""
    datadir = Path(settings.data_dir or Path(user_data_dir("flashpoint")) / settings.app_id)
    datadir.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = FlashpointApp(
        settings.app_id,
        broker=settings.broker,
        broker_credentials=faust_credentials(settings.kafka),
        version=1,
        autodiscover=False,
        datadir=str(datadir),
        web_port=settings.web_port,
        # web_bind is the listen address; web_host only names the worker in Faust's URLs.
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_enabled=True,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        topic_allow_declare=True,
        producer_acks=-1,
        # A dead letter carries the original in base64 (4/3 of its size), a story input the
        # article and its classification: allow the largest limit of the registry.
        producer_max_request_size=max_produced_bytes(settings),
        store=table_store(settings.stories.table_store),
        producer_request_timeout=min(120.0, settings.producer_retries_max_seconds),
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=True,
        broker_commit_interval=1.0,
        # A killed worker's partitions move to the survivors once its session expires.
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.heartbeat_interval_seconds,
        consumer_group_instance_id=settings.group_instance_id or None,
        logging_config=logging_config(settings),
    )
    limit_client_logs()
    app.flashpoint_settings = settings
    app.runtime = wire(app, settings, load_classifier)
    monitor = install_faust_sensors(app, app.runtime.metrics.registry)
    app.runtime.report_offsets = monitor.record_offsets
    app.runtime.metrics.build_info.info({"version": __version__})
    return app


app = build_app(get_settings())
