"""Classify JSON Lines without Kafka, through the worker's own pipeline (``flashpoint classify``).

Each input line gives one output line: the ``ClassifiedArticle`` JSON, or, for a line the
worker would dead-letter, ``{"line": N, "error": {"type": ..., "message": ...}}``. An article in
a language the model does not judge says so in its line (``"language_supported": false``), and
:func:`classify_lines` returns how many there were, by language, for the command's summary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from typing import IO

from schemas import ClassifiedArticle, DeadLetter
from streams import __version__
from streams.classifier.base import Classifier
from streams.config import Settings
from streams.pipeline.decode import Source, utc_now
from streams.pipeline.route import Message, route_batch


def error_line(line_no: int, dead: DeadLetter) -> str:
    """The output line of an input line that is not a classifiable article."""
    return json.dumps({"line": line_no, "error": {"type": dead.error_type, "message": dead.error_message}})


def classify_lines(
    classifier: Classifier,
    lines: Iterator[tuple[int, bytes]],
    output: IO[str],
    *,
    batch_size: int,
    settings: Settings,
    on_batch: Callable[[int], None] = lambda count: None,
) -> Counter[str]:
    """Write one line to ``output`` per numbered input line, in order, batch by batch; return
    the articles not judged for their language, by language."""
    not_judged: Counter[str] = Counter()
    while chunk := list(islice(lines, batch_size)):
        routed = route_batch(
            classifier,
            [Message(raw, Source(None, None, number, None)) for number, raw in chunk],
            received_at=utc_now(),
            max_body_chars=settings.max_body_chars,
            app_version=__version__,
        )
        for (number, _), outputs in zip(chunk, routed, strict=True):
            value = outputs[0].value
            if isinstance(value, DeadLetter):
                output.write(error_line(number, value) + "\n")
            else:
                if isinstance(value, ClassifiedArticle) and not value.language_supported:
                    not_judged[value.language or "und"] += 1
                output.write(outputs[0].encode().decode("utf-8") + "\n")
        output.flush()
        on_batch(len(chunk))
    return not_judged
