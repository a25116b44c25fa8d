"""From a batch of raw input messages to the messages to publish: the classify stage.

Two entry points share the decoding and the resilient classification:

* :func:`route_to_stories` is the worker's classify stage: per input, in input order, a dead
  letter or one :class:`~schemas.StoryInput` for the story stage (the article with its
  classification; none for a withdrawal). A copy of an article the worker's
  :class:`~streams.pipeline.copies.CopyCache` (or the batch itself) already holds reuses that
  classification without a model pass.
* :func:`route_batch` is ``flashpoint classify``: per input a dead letter or the
  ``ClassifiedArticle`` of that article alone (no story stage, no alert).

Both are synchronous and CPU-bound; the agent runs them in its executor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from schemas import Alert, Classification, ClassifiedArticle, DeadLetter, StoryInput
from schemas.events import Article
from streams.classifier.base import Classifier
from streams.pipeline.classify import ClassificationFailure, classify_articles
from streams.pipeline.copies import CopyCache
from streams.pipeline.decode import Source, decode_article, make_dead_letter
from streams.topics import CLASSIFIED, DEAD_LETTERS, STORY_INPUTS, TopicSpec

log = logging.getLogger("flashpoint.pipeline")


@dataclass(frozen=True)
class Message:
    """One input message: its value and where it was read."""

    value: bytes | None
    source: Source


@dataclass(frozen=True)
class Output:
    """One event to publish, on the registry topic whose codec gives its key and value bytes."""

    topic: TopicSpec[Any]
    value: ClassifiedArticle | Alert | DeadLetter | StoryInput

    @property
    def key(self) -> bytes | None:
        """The message key, as the topic derives it from the event."""
        return self.topic.encode_key(self.value)

    def encode(self) -> bytes:
        """The message value, as the topic encodes the event."""
        return self.topic.encode(self.value)


@dataclass
class StageOne:
    """The classify stage's result for a batch: outputs per input, and what the model did."""

    routed: list[list[Output]]
    #: Articles given to the model (its passes), retries of a failing batch not counted.
    model_passes: int = 0
    #: Articles that reused the classification of the article they copy.
    copies_reused: int = 0
    withdrawals: int = 0
    classified_ids: list[str] = field(default_factory=list)


def where(source: Source, article_id: str | None) -> dict[str, object]:
    """Log record fields saying which message a line is about (keys in JSON logs)."""
    return {
        "topic": source.topic,
        "partition": source.partition,
        "offset": source.offset,
        "article_id": article_id,
    }


def _dead(dead: DeadLetter, source: Source) -> list[Output]:
    place = f"{source.topic}[{source.partition}]@{source.offset}" if source.topic else f"line {source.offset}"
    log.warning(
        "dead letter %s at %s (article %s): %s",
        dead.error_type,
        place,
        dead.article_id,
        dead.error_message[:300],
        extra=where(source, dead.article_id),
    )
    return [Output(DEAD_LETTERS, dead)]


def _decode_all(
    messages: Sequence[Message], *, received_at: datetime, max_body_chars: int, app_version: str
) -> tuple[list[list[Output]], list[tuple[int, Article]]]:
    """Dead letters in place of undecodable messages; the valid articles with their positions."""
    routed: list[list[Output]] = [[] for _ in messages]
    valid: list[tuple[int, Article]] = []
    for i, message in enumerate(messages):
        decoded = decode_article(
            message.value,
            message.source,
            max_body_chars=max_body_chars,
            app_version=app_version,
            now=lambda: received_at,
        )
        if isinstance(decoded, DeadLetter):
            routed[i] = _dead(decoded, message.source)
        else:
            valid.append((i, decoded))
    return routed, valid


def _failure_dead_letter(
    message: Message,
    article: Article,
    failure: ClassificationFailure,
    received_at: datetime,
    app_version: str,
) -> list[Output]:
    dead = make_dead_letter(
        message.value,
        message.source,
        error_type=failure.error_type,
        error_message=failure.error_message,
        article_id=article.id,
        app_version=app_version,
        received_at=received_at,
    )
    return _dead(dead, message.source)


def _story_input(
    article: Article,
    classification: Classification | None,
    source: Source,
    received_at: datetime,
    copy_of: str | None = None,
) -> list[Output]:
    item = StoryInput(
        article=article,
        classification=classification,
        copy_of=copy_of,
        received_at=received_at,
        source_topic=source.topic,
        source_partition=source.partition if source.partition is not None and source.partition >= 0 else None,
        source_offset=source.offset if source.offset is not None and source.offset >= 0 else None,
    )
    return [Output(STORY_INPUTS, item)]


def _classification(classified: ClassifiedArticle) -> Classification:
    return Classification(**classified.classification_fields())


def route_to_stories(
    classifier: Classifier,
    messages: Sequence[Message],
    *,
    received_at: datetime,
    max_body_chars: int,
    app_version: str,
    copies: CopyCache,
) -> StageOne:
    """The classify stage: per message a dead letter or a StoryInput, in input order."""
    routed, valid = _decode_all(
        messages, received_at=received_at, max_body_chars=max_body_chars, app_version=app_version
    )
    result = StageOne(routed)
    to_classify: list[tuple[int, Article]] = []
    # Copies whose original is classified in this very batch: position -> original's id.
    waiting: dict[int, tuple[Article, str]] = {}
    pending_ids: set[str] = set()
    for i, article in valid:
        if article.withdrawn:
            routed[i] = _story_input(article, None, messages[i].source, received_at)
            result.withdrawals += 1
            continue
        original = copies.original_of(article, received_at)
        known = copies.classification_of(original) if original else None
        if original is not None and known is not None:
            reused = known.model_copy(update={"received_at": received_at})
            routed[i] = _story_input(article, reused, messages[i].source, received_at, copy_of=original)
            result.copies_reused += 1
        elif original is not None and original in pending_ids:
            waiting[i] = (article, original)
        else:
            to_classify.append((i, article))
            pending_ids.add(article.id)
    classify = partial(
        _classify_into,
        classifier=classifier,
        messages=messages,
        received_at=received_at,
        app_version=app_version,
        copies=copies,
        result=result,
    )
    classified = classify(to_classify)
    orphans: list[tuple[int, Article]] = []
    for i, (article, original) in waiting.items():
        got = classified.get(original)
        if got is None:  # its original failed: the copy is tried on its own
            orphans.append((i, article))
            continue
        routed[i] = _story_input(article, got, messages[i].source, received_at, copy_of=original)
        result.copies_reused += 1
    classify(orphans)
    return result


def _classify_into(
    batch: list[tuple[int, Article]],
    *,
    classifier: Classifier,
    messages: Sequence[Message],
    received_at: datetime,
    app_version: str,
    copies: CopyCache,
    result: StageOne,
) -> dict[str, Classification]:
    """Classify ``batch``, put each one's output in place; the classifications by article id."""
    if not batch:
        return {}
    outcomes = classify_articles(classifier, [a for _, a in batch], [received_at] * len(batch))
    # Articles in a language the model does not judge never reached it.
    result.model_passes += sum(
        1 for o in outcomes if isinstance(o, ClassificationFailure) or o.language_supported
    )
    done: dict[str, Classification] = {}
    for (i, article), outcome in zip(batch, outcomes, strict=True):
        source = messages[i].source
        if isinstance(outcome, ClassificationFailure):
            result.routed[i] = _failure_dead_letter(messages[i], article, outcome, received_at, app_version)
            continue
        classification = _classification(outcome)
        copies.remember(article.id, classification)
        done[article.id] = classification
        result.classified_ids.append(article.id)
        result.routed[i] = _story_input(article, classification, source, received_at)
        log.debug(
            "classified %s v%d: level %s, signals %s",
            article.id,
            article.version,
            outcome.level,
            ",".join(s.category for s in outcome.signals) or "-",
            extra=where(source, article.id),
        )
    return done


def route_batch(
    classifier: Classifier,
    messages: Sequence[Message],
    *,
    received_at: datetime,
    max_body_chars: int,
    app_version: str,
) -> list[list[Output]]:
    """Per message, in input order: its dead letter, or its ``ClassifiedArticle`` alone."""
    routed, valid = _decode_all(
        messages, received_at=received_at, max_body_chars=max_body_chars, app_version=app_version
    )
    if not valid:
        return routed
    results = classify_articles(classifier, [a for _, a in valid], [received_at] * len(valid))
    for (i, article), result in zip(valid, results, strict=True):
        if isinstance(result, ClassificationFailure):
            routed[i] = _failure_dead_letter(messages[i], article, result, received_at, app_version)
        else:
            routed[i] = [Output(CLASSIFIED, result)]
    return routed
