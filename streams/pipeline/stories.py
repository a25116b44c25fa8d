"""The story stage: which story an article belongs to, and whether it copies one already seen.

One object, :class:`StoryStage`, joins the three pure parts in the order the stream needs them:
syndication (:mod:`~streams.pipeline.syndication`: a copy joins its original's story), story
clustering (:mod:`~streams.pipeline.story`) and publisher families
(:mod:`~streams.pipeline.publishers`). ``flashpoint cluster`` and the worker's story agent both
call :meth:`StoryStage.place`, so the command reproduces what the stream decides.

Placing is idempotent per article id: a redelivered article, or a newer version of one already
placed, gets the placement it got the first time (a story never splits because an article was
read twice or edited).
"""

from __future__ import annotations

import heapq
from datetime import datetime

from pydantic import BaseModel, Field

from schemas import Article
from streams.config import StorySettings
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.story import StoryConfig, StoryIndex, StoryState
from streams.pipeline.syndication import SyndicationIndex, SyndicationState

__all__ = ["Placement", "StoryStage", "StoryStageState", "event_time", "stage_config"]


class Placement(BaseModel):
    """Where one article went: its story, the original it copies, its publisher family."""

    article_id: str
    story_id: str
    duplicate_of: str | None = None
    publisher_family: str
    new_story: bool = Field(description="True when this article opened the story.")
    time: float = Field(description="Event time used, seconds since the epoch.")


class StoryStageState(BaseModel):
    """Everything the stage needs to resume where it stopped (JSON-able)."""

    stories: StoryState = Field(default_factory=StoryState)
    syndication: SyndicationState = Field(default_factory=SyndicationState)
    placements: dict[str, Placement] = Field(default_factory=dict)


def stage_config(stories: StorySettings) -> tuple[StoryConfig, PublisherFamilies]:
    """The clustering knobs and the publisher table the settings ask for (worker and CLI alike)."""
    config = StoryConfig(
        window_hours=stories.window_hours, threshold=stories.threshold, sigma_days=stories.sigma_days
    )
    return config, PublisherFamilies.load(stories.publisher_families or None)


def event_time(article: Article, received_at: datetime) -> datetime:
    """When the event was reported: the article's ``published_at``, else when it was read."""
    return article.published_at or received_at


class StoryStage:
    """Syndication check, then story assignment, then publisher family, in arrival order."""

    def __init__(
        self,
        config: StoryConfig | None = None,
        families: PublisherFamilies | None = None,
        state: StoryStageState | None = None,
    ) -> None:
        self.config = config or StoryConfig()
        self.families = families or PublisherFamilies.load()
        self.state = state or StoryStageState()
        self.stories = StoryIndex(self.config, self.state.stories)
        self.syndication = SyndicationIndex(
            window_hours=self.config.window_hours, state=self.state.syndication
        )
        # (event time, article id) of every placement, oldest first, to forget them in order.
        self._expiry = [(p.time, a) for a, p in self.state.placements.items()]
        heapq.heapify(self._expiry)

    def place(self, article: Article, received_at: datetime) -> Placement:
        """The article's placement; the same one again for an id already placed."""
        known = self.state.placements.get(article.id)
        if known is not None:
            return known
        when = event_time(article, received_at)
        original = self.syndication.check(article.id, article.body, when)
        original_placement = self.state.placements.get(original) if original else None
        family = self.families.family_of(source=article.source, url=article.url)
        assignment = self.stories.assign(
            article.id,
            article.title,
            article.body,
            when,
            join=original_placement.story_id if original_placement else None,
            publisher=family,
        )
        placement = Placement(
            article_id=article.id,
            story_id=assignment.story_id,
            duplicate_of=original,
            publisher_family=family,
            new_story=assignment.is_new,
            time=when.timestamp(),
        )
        self.state.placements[article.id] = placement
        heapq.heappush(self._expiry, (placement.time, article.id))
        self._forget_old_placements()
        return placement

    def placement_of(self, article_id: str) -> Placement | None:
        """The placement of an article seen within the window, if any."""
        return self.state.placements.get(article_id)

    def independent_publishers(self, story_id: str) -> int:
        """Publisher families that report an active story (0 when it is no longer active)."""
        story = self.stories.story_of(story_id)
        return story.independent_publishers if story is not None else 0

    def _forget_old_placements(self) -> None:
        # Placements live as long as the window, like the stories they point into.
        horizon = self.state.stories.clock - self.config.window_hours * 3600.0
        while self._expiry and self._expiry[0][0] < horizon:
            _, article_id = heapq.heappop(self._expiry)
            self.state.placements.pop(article_id, None)
