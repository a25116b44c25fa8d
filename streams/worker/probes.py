"""What ``/health`` (liveness) and ``/ready`` (readiness) answer, decided here.

* Liveness: a worker is alive unless one of its input partitions has waited
  ``liveness_stall_seconds`` with its committed offset unmoved (a stalled consumer, a paused
  partition, a wedged model): its supervisor should then restart it. An idle worker with
  nothing to read is alive.
* Readiness: the model is loaded, the topics exist, a broker answers (a TCP connection to
  one of the bootstrap servers, cached for a couple of seconds) and the consumer has joined
  its group (an idle extra replica without a partition is ready too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("flashpoint.probes")

#: How long a broker check's answer is reused (probes and scrapes can come often).
BROKER_CHECK_CACHE_SECONDS = 2.0
#: How long one connection attempt may take before the broker counts as unreachable.
BROKER_CHECK_TIMEOUT_SECONDS = 1.0


@dataclass
class Liveness:
    """Decides liveness from each input partition's end offset and committed offset.

    A partition *waits* while its end offset is past its committed offset; it is *stuck* when
    its committed offset has not moved for ``stall_seconds`` while it waits. Watching each
    partition, not the agent as a whole, catches one partition that stopped while others
    flow (a paused partition, a lost fetch), and a wedged model alike. The offsets come from
    the broker (:meth:`observe`), so a partition this worker never fetched still counts.
    """

    stall_seconds: float
    clock: Callable[[], float] = time.monotonic
    #: Per waiting partition: its committed offset and since when it has stayed there.
    _waiting: dict[Any, tuple[int, float]] = field(default_factory=dict, init=False)
    lag: int = field(default=0, init=False)

    def observe(self, offsets: Mapping[Any, tuple[int, int]]) -> None:
        """Record ``{partition: (end offset, committed offset)}`` for every assigned partition."""
        now = self.clock()
        waiting: dict[Any, tuple[int, float]] = {}
        for tp, (end, committed) in offsets.items():
            if end > committed:
                previous = self._waiting.get(tp)
                same = previous is not None and previous[0] == committed
                waiting[tp] = previous if same and previous is not None else (committed, now)
        self._waiting = waiting
        self.lag = sum(max(0, end - committed) for end, committed in offsets.values())

    def unknown(self) -> None:
        """The offsets say nothing now (a rebalance): nothing counts as stuck until they do."""
        self._waiting = {}

    def offsets_unreadable(self, broker_reachable: bool) -> None:
        """The offsets could not be read. With no broker answering, a restart would not help:
        nothing counts as stuck. With one answering, the consumer itself is stuck: what was
        waiting keeps waiting, its stall clock running."""
        if not broker_reachable:
            self.unknown()

    def stalled_for(self) -> float:
        """Seconds the longest-stuck partition has waited without its committed offset moving."""
        now = self.clock()
        return max((now - since for _, since in self._waiting.values()), default=0.0)

    def alive(self) -> bool:
        """False once some partition waited ``stall_seconds`` without progress."""
        return self.stalled_for() < self.stall_seconds


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
