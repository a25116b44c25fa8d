"""The alert lifecycle of one story: when a story's alert is created, updated or retracted.

Alert desks want one alert per real-world event, revised when the event develops, not one per
article. :func:`apply` folds each article event of a story (already classified and assigned to
the story) into a JSON-able :class:`StoryAlertState` and returns the lifecycle message to
publish, if any. It is pure (no Faust, no Kafka), so the stream agent, ``flashpoint cluster``
and the tests run the same code; the state is meant for a Faust table keyed by ``story_id``.

The rules:

* ``created`` when the story first becomes an escalation: some active (not withdrawn) article
  of the story is an escalation.
* ``updated`` only on a material change against what the last message said: a new category, a
  higher level, new actors, or the independent-publisher count crossing 2, 5 or 10 upwards.
* ``retracted`` when no active article is left (reason ``all_articles_withdrawn``), or when
  articles remain but none is an escalation any more, after a re-classified new version or the
  withdrawal of the escalating ones (reason ``below_threshold``).
* A retracted story that becomes an escalation again is published as ``created`` once more,
  with the same ``alert_id`` and the next version: the id names the story, and a consumer that
  saw the retraction learns from the status that the alert is live again.

Every message is a full snapshot of the story's alert, keyed for idempotency by
(``alert_id``, ``version``), and the compacted state topic holds the latest
:class:`AlertChange` per ``alert_id`` (see :func:`latest_per_alert`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas import (
    CATEGORIES,
    AlertStatus,
    Category,
    Change,
    Level,
    LevelRaised,
    NewActors,
    NewCategory,
    PublishersCrossed,
    Retracted,
)

__all__ = [
    "LEVELS",
    "PUBLISHER_STEPS",
    "REPLAY_MEMORY",
    "AlertChange",
    "Change",
    "LevelRaised",
    "NewActors",
    "NewCategory",
    "PublishedView",
    "PublishersCrossed",
    "Retracted",
    "StoryAlertState",
    "StoryArticle",
    "SupportingArticle",
    "Trigger",
    "apply",
    "latest_per_alert",
    "story_alert_id",
]

#: Severity levels from lowest to highest.
LEVELS: Final[tuple[Level, ...]] = get_args(Level)
#: Independent-publisher counts whose upward crossing is news.
PUBLISHER_STEPS: Final = (2, 5, 10)
#: How many of a story's latest messages are kept to answer a redelivered input (see apply).
REPLAY_MEMORY: Final = 8


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoryArticle(_Model):
    """One article event of a story, after classification and story assignment.

    A duplicate (``duplicate_of`` set) carries the classification of its original.
    """

    article_id: str = Field(min_length=1)
    article_version: int = Field(ge=1)
    withdrawn: bool = False
    story_id: str = Field(min_length=1)
    duplicate_of: str | None = None
    publisher_family: str = Field(min_length=1)
    escalation: bool
    categories: tuple[Category, ...] = Field(description="Signalled categories, de-escalation included.")
    level: Level
    severity: int = Field(ge=0, le=100)
    actors: tuple[str, ...] = ()
    event_time: AwareDatetime


class SupportingArticle(_Model):
    """The latest known version of one article of the story, with its classification summary."""

    article_version: int
    withdrawn: bool
    duplicate_of: str | None
    publisher_family: str
    escalation: bool
    categories: tuple[Category, ...]
    level: Level
    severity: int
    actors: tuple[str, ...]


class Trigger(_Model):
    """The article event that produced a message; also the input's idempotency key."""

    article_id: str
    article_version: int
    withdrawn: bool
    event_time: AwareDatetime


class PublishedView(_Model):
    """What the story looks like now, or what its last message said."""

    article_ids: tuple[str, ...] = Field(description="Active articles, in order of first arrival.")
    independent_publishers: int = Field(description="Distinct publisher families among them.")
    categories: tuple[Category, ...] = Field(description="Union of their categories, codebook order.")
    level: Level = Field(description="Their highest level.")
    severity: int = Field(description="Their highest severity.")
    actors: tuple[str, ...] = Field(description="Union of their actors, by first appearance.")
    escalation: bool = Field(description="Whether any of them is an escalation.")


class AlertChange(_Model):
    """One lifecycle message of a story's alert; (``alert_id``, ``version``) is its idempotency key.

    ``changes`` lists what changed since the previous version: empty for ``created``, one
    ``retracted`` item (with its reason) for ``retracted``.
    """

    alert_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    version: int = Field(ge=1)
    status: AlertStatus
    story_id: str
    changes: tuple[Change, ...]
    article_ids: tuple[str, ...]
    independent_publishers: int
    categories: tuple[Category, ...]
    level: Level
    severity: int
    actors: tuple[str, ...]
    trigger: Trigger


class StoryAlertState(_Model):
    """Everything :func:`apply` knows of one story; round-trips through JSON exactly.

    ``recent`` is the idempotency record: the last :data:`REPLAY_MEMORY` messages, each naming
    the input that produced it. An input that produced no message needs no record: replayed, it
    is no newer than the stored version of its article and is ignored again.
    """

    story_id: str
    alert_id: str
    version: int = Field(default=0, ge=0, description="Last published version; 0 = none yet.")
    status: AlertStatus | None = Field(default=None, description="Status of the last message.")
    articles: dict[str, SupportingArticle] = Field(default_factory=dict)
    published: PublishedView | None = Field(default=None, description="The view the last message gave.")
    recent: tuple[AlertChange, ...] = ()

    @classmethod
    def empty(cls, story_id: str) -> StoryAlertState:
        """The state of a story nothing has been published for."""
        return cls(story_id=story_id, alert_id=story_alert_id(story_id))

    @property
    def live(self) -> bool:
        """Whether the story's alert is published and not retracted."""
        return self.status in ("created", "updated")


def story_alert_id(story_id: str) -> str:
    """The stable alert id of a story: 32 hex digits of a digest of its id."""
    return hashlib.sha256(f"story-alert\x00{story_id}".encode()).hexdigest()[:32]


def apply(
    state: StoryAlertState | None, article: StoryArticle, *, replay_memory: int = REPLAY_MEMORY
) -> tuple[StoryAlertState, AlertChange | None]:
    """Fold one article event into its story's state; return the new state and the message, if any.

    Idempotent: an input already applied returns ``state`` itself and, if it produced one of the
    last ``replay_memory`` messages, that same message again, so a redelivery republishes an
    identical (``alert_id``, ``version``) and never a different one; an input the restored state
    has not seen yet yields the same message as before, since ``apply`` is a pure function.
    Forgetting older messages is safe: after a crash Kafka replays only the inputs after the
    last committed offset, so the state is ahead of the replay by one commit interval at most,
    in which one story rarely sees ``replay_memory`` material changes. Even past that bound the
    worst case is an old version not re-sent, never a conflicting one, and every message is a
    full snapshot, so the next one carries the whole picture. An older version of an article
    than the one stored is ignored.
    """
    if state is None:
        state = StoryAlertState.empty(article.story_id)
    elif state.story_id != article.story_id:
        raise ValueError(f"article of story {article.story_id!r} applied to story {state.story_id!r}")
    trigger = Trigger(
        article_id=article.article_id,
        article_version=article.article_version,
        withdrawn=article.withdrawn,
        event_time=article.event_time,
    )
    for message in state.recent:
        if _same_input(message.trigger, trigger):
            return state, message
    stored = state.articles.get(article.article_id)
    if stored is not None and not _supersedes(article, stored):
        return state, None

    articles = {**state.articles, article.article_id: _supporting(article)}
    view = _view(articles)
    decision = _decide(state, view)
    if decision is None:
        return state.model_copy(update={"articles": articles}), None
    status, changes = decision
    message = AlertChange(
        alert_id=state.alert_id,
        version=state.version + 1,
        status=status,
        story_id=state.story_id,
        changes=changes,
        article_ids=view.article_ids,
        independent_publishers=view.independent_publishers,
        categories=view.categories,
        level=view.level,
        severity=view.severity,
        actors=view.actors,
        trigger=trigger,
    )
    recent = (*state.recent, message)[-replay_memory:] if replay_memory > 0 else ()
    new_state = state.model_copy(
        update={
            "version": message.version,
            "status": status,
            "articles": articles,
            "published": view,
            "recent": recent,
        }
    )
    return new_state, message


def latest_per_alert(messages: Iterable[AlertChange]) -> dict[str, AlertChange]:
    """The current picture from a stream of lifecycle messages: the highest version per alert id.

    This is what the compacted state topic holds (keyed by ``alert_id``), so a consumer reading
    only that topic ends with the same picture as one folding every message through here.
    """
    latest: dict[str, AlertChange] = {}
    for message in messages:
        held = latest.get(message.alert_id)
        if held is None or message.version > held.version:
            latest[message.alert_id] = message
    return latest


def _same_input(a: Trigger, b: Trigger) -> bool:
    return (a.article_id, a.article_version, a.withdrawn) == (b.article_id, b.article_version, b.withdrawn)


def _supersedes(article: StoryArticle, stored: SupportingArticle) -> bool:
    """A newer version replaces the stored one; the same version can only be withdrawn."""
    if article.article_version != stored.article_version:
        return article.article_version > stored.article_version
    return article.withdrawn and not stored.withdrawn


def _supporting(article: StoryArticle) -> SupportingArticle:
    return SupportingArticle(
        article_version=article.article_version,
        withdrawn=article.withdrawn,
        duplicate_of=article.duplicate_of,
        publisher_family=article.publisher_family,
        escalation=article.escalation,
        categories=article.categories,
        level=article.level,
        severity=article.severity,
        actors=article.actors,
    )


def _view(articles: Mapping[str, SupportingArticle]) -> PublishedView:
    active = {aid: a for aid, a in articles.items() if not a.withdrawn}
    signalled = {c for a in active.values() for c in a.categories}
    return PublishedView(
        article_ids=tuple(active),
        independent_publishers=len({a.publisher_family for a in active.values()}),
        categories=tuple(c for c in CATEGORIES if c in signalled),
        level=max((a.level for a in active.values()), key=LEVELS.index, default="none"),
        severity=max((a.severity for a in active.values()), default=0),
        actors=_ordered_union(a.actors for a in active.values()),
        escalation=any(a.escalation for a in active.values()),
    )


def _decide(state: StoryAlertState, view: PublishedView) -> tuple[AlertStatus, tuple[Change, ...]] | None:
    """The message the new view calls for, as (status, changes), or None."""
    if not state.live:
        return ("created", ()) if view.escalation else None
    if not view.article_ids:
        return "retracted", (Retracted(reason="all_articles_withdrawn"),)
    if not view.escalation:
        return "retracted", (Retracted(reason="below_threshold"),)
    assert state.published is not None  # a live alert has a published view
    changes = _material_changes(state.published, view)
    return ("updated", changes) if changes else None


def _material_changes(before: PublishedView, now: PublishedView) -> tuple[Change, ...]:
    changes: list[Change] = [NewCategory(value=c) for c in now.categories if c not in before.categories]
    if LEVELS.index(now.level) > LEVELS.index(before.level):
        changes.append(LevelRaised(from_=before.level, to=now.level))
    new_actors = tuple(a for a in now.actors if a not in before.actors)
    if new_actors:
        changes.append(NewActors(value=new_actors))
    crossed = [s for s in PUBLISHER_STEPS if before.independent_publishers < s <= now.independent_publishers]
    if crossed:
        changes.append(PublishersCrossed(value=crossed[-1]))
    return tuple(changes)


def _ordered_union(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group))
