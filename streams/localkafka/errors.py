"""The one exception the local Kafka launcher raises.

It carries a message written for the person at the terminal (what is missing or broken and what to
do about it). The launcher is plain Python: the command line turns this error into a one-line
click error (``streams.cli.kafka``); tests and the demo catch it directly.
"""

from __future__ import annotations


class KafkaLauncherError(RuntimeError):
    """The local Kafka could not be fetched, started or stopped."""

    retriable = False
