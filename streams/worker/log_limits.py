"""Rate-limit the Kafka clients' repeated log lines, so a broker outage logs a bounded amount.

While a broker is down, aiokafka's connection, metadata, coordinator and fetcher loops and
Faust's consumer retry many times a second, and each attempt logs the same ERROR or WARNING
line (thousands a minute per worker). :class:`RepeatFilter` lets the first line of each kind
through, drops its repeats for ``window`` seconds, and then writes the next one with the count
of lines it dropped. Flashpoint's own loggers are not filtered.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from collections.abc import Callable, Iterable
from typing import Final

#: Packages whose loggers are filtered (each module logs under its own name).
NOISY_PACKAGES: Final = ("aiokafka", "faust.transport")
#: Seconds during which repeats of one line are dropped.
REPEAT_WINDOW_SECONDS: Final = 30.0


class RepeatFilter(logging.Filter):
    """Drops a record whose (logger, level, message template) was let through within ``window``."""

    def __init__(
        self, window: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self._shown_at: dict[tuple[str, int, str], float] = {}
        self._dropped: dict[tuple[str, int, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to write ``record`` (adds the count of dropped repeats to the one written)."""
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        shown = self._shown_at.get(kind)
        if shown is not None and now - shown < self.window:
            self._dropped[kind] = self._dropped.get(kind, 0) + 1
            return False
        self._shown_at[kind] = now
        dropped = self._dropped.pop(kind, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} similar lines in the last {self.window:.0f} s not shown]"
        return True


def logger_names(packages: Iterable[str]) -> list[str]:
    """Every module name of ``packages`` that is installed (their loggers' names)."""
    names = []
    for package in packages:
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        names.append(package)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{package}."):
            names.append(info.name)
    return names


def limit_client_logs(window: float = REPEAT_WINDOW_SECONDS) -> RepeatFilter:
    """Install one :class:`RepeatFilter` on the logger of every Kafka client module."""
    repeat_filter = RepeatFilter(window)
    for name in logger_names(NOISY_PACKAGES):
        logging.getLogger(name).addFilter(repeat_filter)
    return repeat_filter
