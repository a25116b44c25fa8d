"""The classify stage's copy cache: a syndicated copy of an article just classified skips the model.

Wire copy republished on many sites is the same text many times over; classifying it once is
enough. :class:`CopyCache` remembers, per worker and in memory, the articles it has seen (a
:class:`~streams.pipeline.syndication.SyndicationIndex`, bounded by the story window) and the
classification of the most recent originals (bounded by ``capacity``). It is only an economy:
it is lost on restart (which costs model passes, nothing else), and the story stage decides,
with every partition's articles, what is a copy and whose classification a copy carries.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from schemas import Article, Classification
from streams.pipeline.stories import event_time
from streams.pipeline.syndication import SyndicationIndex

__all__ = ["CopyCache"]


class CopyCache:
    """Which earlier article a new one copies, and that article's classification if still held."""

    def __init__(self, capacity: int = 20_000, window_hours: float = 96.0) -> None:
        self.capacity = capacity
        self.index = SyndicationIndex(window_hours=window_hours)
        self._classifications: OrderedDict[str, Classification] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """False when the capacity is 0: every article goes to the model."""
        return self.capacity > 0

    def original_of(self, article: Article, received_at: datetime) -> str | None:
        """The id of the article ``article`` copies, if this worker has seen it; remembers ``article``.

        The same id asked again gives the same answer, so a new version of an original is not
        a copy of anything (it is classified again) and a new version of a copy stays a copy.
        """
        if not self.enabled:
            return None
        return self.index.check(article.id, article.body, event_time(article, received_at))

    def classification_of(self, article_id: str) -> Classification | None:
        """The classification remembered for an original, if it is still held."""
        found = self._classifications.get(article_id)
        if found is not None:
            self._classifications.move_to_end(article_id)
        return found

    def remember(self, article_id: str, classification: Classification) -> None:
        """Keep an original's classification for its copies, forgetting the least recently used."""
        if not self.enabled:
            return
        self._classifications[article_id] = classification
        self._classifications.move_to_end(article_id)
        while len(self._classifications) > self.capacity:
            self._classifications.popitem(last=False)
