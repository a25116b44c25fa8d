"""Secrets never reach a log line: a log-record factory that masks every registered secret.

The Kafka clients log their whole configuration at DEBUG (kafka-python's admin client prints
its ``sasl_plain_password`` among the rest), and a handler or level chosen by an operator can
let such a line out. :func:`redact_secrets` registers a secret where it is read
(:mod:`streams.kafka_clients`); from then on every record of every logger is checked when it is
created, before any handler or formatter sees it, and the secret is replaced by a mask.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

MASK: Final = "**********"


class _Redactor:
    """The registered secrets and the record factory that masks them (installed once)."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.lock = threading.Lock()
        self.installed = False

    def add(self, secrets: set[str]) -> None:
        with self.lock:
            self.secrets |= secrets
            if not self.installed:
                previous = logging.getLogRecordFactory()

                def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                    return self.mask(previous(*args, **kwargs))

                logging.setLogRecordFactory(factory)
                self.installed = True

    def mask(self, record: logging.LogRecord) -> logging.LogRecord:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return record
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, MASK)
            record.msg, record.args = message, None
        return record


_REDACTOR: Final = _Redactor()


def redact_secrets(*secrets: str) -> None:
    """Mask ``secrets`` (empty ones are ignored) in every log record created from now on."""
    wanted = {s for s in secrets if s}
    if wanted:
        _REDACTOR.add(wanted)
