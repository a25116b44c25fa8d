"""Flashpoint: Faust agents that turn a stream of news articles into escalation alerts."""

__version__ = "0.1.0"
