"""What ``/health`` (liveness) and ``/ready`` (readiness) answer, decided here.

* Liveness: a worker is alive unless its classify agent has made no progress for
  ``liveness_stall_seconds`` while its input has lag (a stalled consumer, a wedged model): its
  supervisor should then restart it. An idle worker with nothing to read is alive.
* Readiness: the model is loaded, the topics exist, a broker answers (a TCP connection to
  one of the bootstrap servers, cached for a couple of seconds) and the consumer has joined
  its group (an idle extra replica without a partition is ready too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("flashpoint.probes")

#: How long a broker check's answer is reused (probes and scrapes can come often).
BROKER_CHECK_CACHE_SECONDS = 2.0
#: How long one connection attempt may take before the broker counts as unreachable.
BROKER_CHECK_TIMEOUT_SECONDS = 1.0


@dataclass
class Liveness:
    """Decides liveness from the agent's progress and its input's lag."""

    stall_seconds: float
    clock: Callable[[], float] = time.monotonic
    last_progress: float = field(init=False)
    #: Since when the input has had lag without interruption (None: no lag at the last check).
    lag_since: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.last_progress = self.clock()

    def progressed(self) -> None:
        """The agent finished a batch."""
        self.last_progress = self.clock()

    def stalled_for(self, lag: int) -> float:
        """Seconds the agent has been stuck with work waiting (0 when it is not)."""
        now = self.clock()
        if lag <= 0:
            self.lag_since = None
            return 0.0
        if self.lag_since is None:
            self.lag_since = now
        # Idle time before the lag appeared is not a stall.
        return now - max(self.lag_since, self.last_progress)

    def alive(self, lag: int) -> bool:
        """False once the agent made no progress for ``stall_seconds`` while there was lag."""
        return self.stalled_for(lag) < self.stall_seconds


@dataclass
class BrokerCheck:
    """Whether any bootstrap server accepts a connection, cached for a short while."""

    servers: Sequence[str]
    cache_seconds: float = BROKER_CHECK_CACHE_SECONDS
    timeout: float = BROKER_CHECK_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.monotonic
    _checked_at: float | None = field(default=None, init=False)
    _reachable: bool = field(default=False, init=False)

    async def reachable(self) -> bool:
        """True when a broker accepted a TCP connection within the last ``cache_seconds``."""
        now = self.clock()
        if self._checked_at is None or now - self._checked_at >= self.cache_seconds:
            reachable = await self._connect_any()
            if self._checked_at is not None and reachable != self._reachable:
                # One line per change of state (the clients' own retries are rate-limited).
                if reachable:
                    log.warning("broker reachable again at %s", ",".join(self.servers))
                else:
                    log.error("no broker reachable at %s: not ready", ",".join(self.servers))
            self._reachable = reachable
            self._checked_at = self.clock()
        return self._reachable

    async def _connect_any(self) -> bool:
        for server in self.servers:
            host, _, port = server.rpartition(":")
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(host.strip("[]"), int(port)), self.timeout
                )
            except (TimeoutError, OSError, ValueError):
                continue
            writer.close()
            return True
        return False


def group_joined(app: Any) -> bool:
    """Whether the app's consumer is a member of its group (with or without partitions)."""
    try:
        coordinator = app.consumer._thread._ensure_consumer()._coordinator
    except Exception:  # not started yet, or stopping
        return False
    if coordinator is None:  # the consumer has not subscribed yet
        return False
    return coordinator.coordinator_id is not None and coordinator.generation > 0
