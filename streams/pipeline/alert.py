"""Turn a story's lifecycle message into the ``Alert`` consumers read, with its explanation.

:mod:`~streams.pipeline.lifecycle` decides *when* a story's alert is created, updated or
retracted and what changed; this module dresses that decision for the wire: the explanation
(signals with evidence, actors, level, summary, article reference) of the story's strongest
escalating article, or, for a retraction, the explanation last published.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas import Alert, ArticleRef, Classification
from schemas.events import ESCALATION_CATEGORIES
from streams.pipeline.lifecycle import LEVELS, AlertChange

SUMMARY_MAX_CHARS = 400


def summarise(classification: Classification, title: str) -> str:
    """One line for a human: ``THREAT + MILITARY POSTURE — US, CU: <title or first evidence>``."""
    escalations = [s for s in classification.signals if s.category in ESCALATION_CATEGORIES]
    labels = " + ".join(s.category.replace("_", " ").upper() for s in escalations) or "NO ESCALATION"
    actors = classification.actors
    head = f"{labels} — {', '.join(actors)}" if actors else labels
    text = title or (escalations[0].evidence[0].text if escalations else "")
    line = f"{head}: {' '.join(text.split())}" if text else head
    if len(line) > SUMMARY_MAX_CHARS:
        line = line[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return line


def strength(classification: Classification) -> tuple[int, int]:
    """How strongly an article escalates: its level, then its severity."""
    return LEVELS.index(classification.level), classification.severity


def strongest(
    candidates: Sequence[tuple[ArticleRef, Classification]],
) -> tuple[ArticleRef, Classification] | None:
    """The escalating candidate with the highest (level, severity); the earliest on a tie."""
    best: tuple[ArticleRef, Classification] | None = None
    for ref, classification in candidates:
        if not classification.escalation:
            continue
        if best is None or strength(classification) > strength(best[1]):
            best = (ref, classification)
    return best


def build_alert(change: AlertChange, ref: ArticleRef, classification: Classification) -> Alert:
    """The ``Alert`` of a lifecycle message, explained by one article and its classification."""
    return Alert(
        alert_id=change.alert_id,
        version=change.version,
        status=change.status,
        story_id=change.story_id,
        changes=list(change.changes),
        article_ids=list(change.article_ids),
        independent_publishers=change.independent_publishers,
        categories=list(change.categories),
        story_actors=list(change.actors),
        article=ref,
        summary=summarise(classification, ref.title),
        **classification.classification_fields(),
    )


def restate(previous: Alert, change: AlertChange) -> Alert:
    """A new version of ``previous`` (same explanation) carrying ``change``: for a retraction."""
    return previous.model_copy(
        update={
            "version": change.version,
            "status": change.status,
            "changes": list(change.changes),
            "article_ids": list(change.article_ids),
            "independent_publishers": change.independent_publishers,
            "categories": list(change.categories),
            "story_actors": list(change.actors),
        }
    )
