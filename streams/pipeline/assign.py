"""The story stage of the stream: a classified article in, its story and its story's alert out.

:class:`StoryAssigner` takes each :class:`~schemas.StoryInput` (from the single-partition topic,
so it sees every article of every input partition, in one order) and returns what to publish:

1. :meth:`StoryStage.place <streams.pipeline.stories.StoryStage.place>` gives the story, the
   original it copies (authoritative: the classify stage's copy hint is only an economy) and
   the publisher family;
2. a copy takes its original's classification, so a copy never carries a second, different one;
3. :func:`~streams.pipeline.lifecycle.apply` decides whether the story's alert is created,
   updated or retracted, and :mod:`~streams.pipeline.alert` dresses the message;
4. the outputs: the ``ClassifiedArticle`` (none for a withdrawal) and each alert message on
   ``news.alerts.v1`` and, when it is the story's newest, ``news.alerts.state.v1``.

The state lives in :class:`~streams.pipeline.story_tables.StoryTables`, written through after
every article. Redelivered inputs give identical outputs: placing is idempotent per article
id, a repeated article version carries the classification it carried the first time, the
lifecycle replays the message an input already produced, and the alert published for
an (``alert_id``, ``version``) is stored and sent again verbatim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from schemas import Alert, ArticleRef, Classification, ClassifiedArticle, StoryInput
from schemas.events import Article
from streams.pipeline.alert import build_alert, restate, strongest
from streams.pipeline.lifecycle import REPLAY_MEMORY, AlertChange, StoryArticle, apply
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.route import Output
from streams.pipeline.stories import Placement, StoryStage, event_time
from streams.pipeline.story import StoryConfig
from streams.pipeline.story_tables import (
    ArticleRecord,
    StageJournal,
    StoryAlertRecord,
    StoryTables,
    load_stage,
)
from streams.topics import ALERT_STATE, ALERTS, CLASSIFIED

__all__ = ["Assigned", "StoryAssigner", "article_ref"]

log = logging.getLogger("flashpoint.stories")


def article_ref(article: Article) -> ArticleRef:
    """The reference an alert carries to the article that explains it."""
    return ArticleRef(
        id=article.id,
        version=article.version,
        title=article.title,
        url=article.url,
        source=article.source,
        published_at=article.published_at,
    )


@dataclass
class Assigned:
    """What one story input produced."""

    outputs: list[Output]
    placement: Placement | None
    alerts: list[Alert]


class StoryAssigner:
    """The story stage over tables: rebuilt from them, writing through to them."""

    def __init__(self, tables: StoryTables, config: StoryConfig, families: PublisherFamilies) -> None:
        self.tables = tables
        self.config = config
        self.families = families
        self.stage: StoryStage
        self.stage, frequencies = load_stage(tables, config, families)
        self.journal = StageJournal(self.stage, tables, frequencies)

    def assign(self, item: StoryInput) -> Assigned:
        """Place one article (or apply one withdrawal); the outputs to publish, in order."""
        if item.article.withdrawn:
            return self._withdraw(item)
        article = item.article
        placement = self.stage.place(article, item.received_at)
        stored = self.tables.article(article.id)
        first_answer = _first_answer(stored, article.version)
        if first_answer is not None:
            # A redelivery (a restart, a rebalance): the same answer as the first time, though
            # the classify stage's copy hint (a per-worker cache) may differ now.
            classification, duplicate_of = first_answer
        else:
            classification, duplicate_of = self._classification_for(item, placement)
        fresh = ArticleRecord(
            placement=placement,
            article_version=article.version,
            ref=article_ref(article),
            classification=classification,
            duplicate_of=duplicate_of,
        )
        record = fresh
        if stored is not None and stored.article_version > article.version:
            record = stored  # an older version, redelivered: the newer one stays on record
        classified = ClassifiedArticle(
            article_id=article.id,
            article_version=article.version,
            story_id=placement.story_id,
            duplicate_of=duplicate_of,
            publisher_family=placement.publisher_family,
            **classification.classification_fields(),
        )
        story_article = _story_article(fresh, event_time(article, item.received_at))
        alerts, alert_outputs = self._lifecycle(story_article, (article.id, record))
        self.journal.write(placement.story_id, (article.id, record))
        return Assigned([Output(CLASSIFIED, classified), *alert_outputs], placement, alerts)

    def _classification_for(
        self, item: StoryInput, placement: Placement
    ) -> tuple[Classification, str | None]:
        """The classification the article carries, and the article it copies (if any)."""
        if placement.duplicate_of is not None:
            original = self.tables.article(placement.duplicate_of)
            if original is not None and original.classification is not None:
                reused = original.classification.model_copy(update={"received_at": item.received_at})
                return reused, placement.duplicate_of
        if item.classification is None:
            raise ValueError(f"article {item.article.id} is published but arrived without a classification")
        return item.classification, placement.duplicate_of or item.copy_of

    def _withdraw(self, item: StoryInput) -> Assigned:
        article = item.article
        record = self.tables.article(article.id)
        if record is None or record.classification is None:
            log.info("withdrawal of %s: no article of that id in the window, nothing to do", article.id)
            return Assigned([], None, [])
        version = max(article.version, record.article_version)
        withdrawn = record.model_copy(update={"withdrawn": True, "article_version": version})
        story_article = _story_article(withdrawn, event_time(article, item.received_at))
        alerts, outputs = self._lifecycle(story_article, (article.id, withdrawn))
        self.journal.write(None, (article.id, withdrawn))
        return Assigned(outputs, record.placement, alerts)

    def _lifecycle(
        self, story_article: StoryArticle, current: tuple[str, ArticleRecord]
    ) -> tuple[list[Alert], list[Output]]:
        story_id = story_article.story_id
        held = self.tables.story_alert(story_id)
        state, change = apply(held.state if held else None, story_article)
        published = list(held.published) if held else []
        if change is None:
            if held is None or state is not held.state:
                self.journal.write_alert(story_id, StoryAlertRecord(state=state, published=published))
            return [], []
        alert = next(
            (a for a in published if (a.alert_id, a.version) == (change.alert_id, change.version)), None
        )
        if alert is None:
            alert = self._dress(change, published, current)
            published = [*published, alert][-REPLAY_MEMORY:]
            self.journal.write_alert(story_id, StoryAlertRecord(state=state, published=published))
        outputs = [Output(ALERTS, alert)]
        # The compacted topic holds each alert's newest version: a replayed older one stays off it.
        if alert.version == state.version:
            outputs.append(Output(ALERT_STATE, alert))
        return [alert], outputs

    def _dress(
        self, change: AlertChange, published: list[Alert], current: tuple[str, ArticleRecord]
    ) -> Alert:
        if change.status == "retracted" and published:
            return restate(published[-1], change)
        candidates: list[tuple[ArticleRef, Classification]] = []
        for aid in change.article_ids:
            record = current[1] if aid == current[0] else self.tables.article(aid)
            if record is not None and record.classification is not None:
                candidates.append((record.ref, record.classification))
        best = strongest(candidates)
        if best is None:  # nothing escalating is held any more: explain with the trigger's article
            fallback = current[1]
            assert fallback.classification is not None
            best = (fallback.ref, fallback.classification)
        return build_alert(change, *best)


def _first_answer(stored: ArticleRecord | None, version: int) -> tuple[Classification, str | None] | None:
    """The classification and original this very article version carried when it was placed
    before, if it was."""
    if stored is None or stored.withdrawn or stored.article_version != version:
        return None
    if stored.classification is None:
        return None
    return stored.classification, stored.duplicate_of


def _story_article(record: ArticleRecord, when: datetime) -> StoryArticle:
    """What the alert lifecycle needs of one article, from its record."""
    classification = record.classification
    assert classification is not None  # published articles and their withdrawals carry one
    return StoryArticle(
        article_id=record.placement.article_id,
        article_version=record.article_version,
        withdrawn=record.withdrawn,
        story_id=record.placement.story_id,
        duplicate_of=record.duplicate_of,
        publisher_family=record.placement.publisher_family,
        escalation=classification.escalation,
        categories=tuple(s.category for s in classification.signals),
        level=classification.level,
        severity=classification.severity,
        actors=tuple(classification.actors),
        event_time=when,
    )
