"""Group JSON Lines articles into stories without Kafka (``flashpoint cluster``).

Each input line, in the order given, gives one output line: ``{"article_id", "story_id",
"duplicate_of"}``, or ``{"line": N, "error": {"type", "message"}}`` for a line the worker would
dead-letter. The lines go through the worker's decoder and the stream's own story stage
(:class:`~streams.pipeline.stories.StoryStage`), with ``published_at`` as event time when present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from schemas import DeadLetter
from streams import __version__
from streams.admin.classify import error_line
from streams.config import Settings
from streams.pipeline.decode import Source, decode_article, utc_now

if TYPE_CHECKING:
    from streams.pipeline.stories import StoryStage


def cluster_lines(
    lines: Iterator[tuple[int, bytes]], output: IO[str], *, settings: Settings, stage: StoryStage
) -> int:
    """Write one line to ``output`` per numbered input line, in order; return the stories seen."""
    stories: set[str] = set()
    for number, raw in lines:
        decoded = decode_article(
            raw,
            Source(None, None, number, None),
            max_body_chars=settings.max_body_chars,
            app_version=__version__,
        )
        if isinstance(decoded, DeadLetter):
            output.write(error_line(number, decoded) + "\n")
            continue
        placement = stage.place(decoded, utc_now())
        stories.add(placement.story_id)
        row = {
            "article_id": placement.article_id,
            "story_id": placement.story_id,
            "duplicate_of": placement.duplicate_of,
        }
        output.write(json.dumps(row, ensure_ascii=False) + "\n")
    output.flush()
    return len(stories)
