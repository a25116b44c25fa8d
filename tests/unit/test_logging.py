"""JSON logs: one object per line, with the message's coordinates as keys."""

from __future__ import annotations

import io
import json
import logging
import logging.config

from streams.config import Settings
from streams.worker.app import logging_config


def test_json_logs_carry_topic_partition_offset_and_article_id() -> None:
    config = logging_config(Settings(log_json=True, log_level="debug"))
    assert config is not None
    logging.config.dictConfig(config)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        extra = {"topic": "news.articles.v1", "partition": 2, "offset": 41, "article_id": "a-1"}
        logging.getLogger("flashpoint.agents").warning("dead letter %s", "invalid_json", extra=extra)
        record = json.loads(stream.getvalue().splitlines()[-1])
        assert record["message"] == "dead letter invalid_json"
        assert record["level"] == "WARNING"
        assert {k: record[k] for k in extra} == extra
    finally:
        logging.getLogger().handlers.clear()


def test_plain_logs_are_faust_default() -> None:
    assert logging_config(Settings(log_json=False)) is None
