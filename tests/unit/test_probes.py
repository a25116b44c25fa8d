"""Liveness and readiness decisions, with a fake clock and fake lag; the clients' log limit."""

from __future__ import annotations

import asyncio
import logging
import socket

from streams.worker.log_limits import NOISY_PACKAGES, RepeatFilter, logger_names
from streams.worker.probes import BrokerCheck, Liveness, group_joined


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_whose_committed_offset_stays_put_while_it_has_lag_makes_the_worker_not_alive() -> None:
    clock = Clock()
    live = Liveness(stall_seconds=120, clock=clock)
    live.observe({"p0": (50, 10), "p1": (80, 30)})  # both wait from now
    clock.now += 119
    # p1 keeps moving; p0 has not moved for 119 s
    live.observe({"p0": (50, 10), "p1": (90, 60)})
    assert live.alive()
    assert live.lag == 40 + 30
    clock.now += 2
    live.observe({"p0": (55, 10), "p1": (95, 90)})
    assert not live.alive()  # p0 stuck 121 s although p1 flows: a paused partition is caught
    assert live.stalled_for() == 121
    live.observe({"p0": (55, 12), "p1": (95, 95)})
    assert live.alive()  # p0 committed again


def test_an_idle_worker_is_alive_however_long_it_waits() -> None:
    clock = Clock()
    live = Liveness(stall_seconds=120, clock=clock)
    live.observe({"p0": (40, 40)})
    clock.now += 3600
    live.observe({"p0": (40, 40)})
    assert live.alive()
    assert live.lag == 0
    # Work arrives after an hour of idleness: the idle hour is not a stall.
    live.observe({"p0": (43, 40)})
    clock.now += 60
    live.observe({"p0": (43, 40)})
    assert live.alive()
    clock.now += 61
    live.observe({"p0": (43, 40)})
    assert not live.alive()
    live.observe({})  # the partition went to another worker
    assert live.alive()
    assert live.lag == 0


def test_unreadable_offsets_stop_the_stall_clock_only_when_no_broker_answers() -> None:
    clock = Clock()
    live = Liveness(stall_seconds=10, clock=clock)
    live.observe({"p0": (5, 0)})
    clock.now += 6
    live.offsets_unreadable(broker_reachable=True)  # the consumer no longer answers, the broker does
    clock.now += 5
    assert not live.alive()
    assert live.stalled_for() == 11
    live.offsets_unreadable(broker_reachable=False)  # the broker is down: a restart would not help
    assert live.alive()


def test_a_rebalance_stops_the_stall_clock() -> None:
    clock = Clock()
    live = Liveness(stall_seconds=10, clock=clock)
    live.observe({"p0": (5, 0)})
    clock.now += 11
    assert not live.alive()
    live.unknown()
    assert live.alive()


def test_the_broker_check_sees_a_listening_port_and_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        clock = Clock()
        check = BrokerCheck([f"127.0.0.1:{port}"], clock=clock)
        assert asyncio.run(check.reachable())
    # Closed now, but the answer is cached for a moment, then checked again.
    assert asyncio.run(check.reachable())
    clock.now += 5
    assert not asyncio.run(check.reachable())


def test_repeated_client_log_lines_are_dropped_then_counted() -> None:
    clock = Clock()
    repeats = RepeatFilter(window=30, clock=clock)

    def record(msg: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord("aiokafka.conn", level, __file__, 1, msg, ("node", 1), None)

    assert repeats.filter(record("Unable connect to %s %s"))
    assert sum(repeats.filter(record("Unable connect to %s %s")) for _ in range(900)) == 0
    assert repeats.filter(record("Heartbeat failed %s %s"))  # another kind of line
    assert repeats.filter(record("debug %s %s", logging.DEBUG))
    clock.now += 31
    shown = record("Unable connect to %s %s")
    assert repeats.filter(shown)
    assert "[900 similar lines in the last 30 s not shown]" in shown.getMessage()


def test_the_filter_is_on_every_aiokafka_logger() -> None:
    names = logger_names(NOISY_PACKAGES)
    assert {
        "aiokafka.conn",
        "aiokafka.consumer.group_coordinator",
        "faust.transport.drivers.aiokafka",
    } <= set(names)


def test_group_joined_is_false_until_the_consumer_has_a_coordinator() -> None:
    from types import SimpleNamespace

    def app_with(coordinator: object) -> object:
        consumer = SimpleNamespace(_coordinator=coordinator)
        return SimpleNamespace(
            consumer=SimpleNamespace(_thread=SimpleNamespace(_ensure_consumer=lambda: consumer))
        )

    assert not group_joined(SimpleNamespace())  # no consumer at all
    assert not group_joined(app_with(None))  # not subscribed yet
    assert not group_joined(app_with(SimpleNamespace(coordinator_id=None, generation=3)))
    assert not group_joined(app_with(SimpleNamespace(coordinator_id=1, generation=-1)))
    assert group_joined(app_with(SimpleNamespace(coordinator_id=1, generation=3)))
