"""Classify a batch of articles: the one code path shared by the agent and ``flashpoint classify``.

The language of every article is detected first (:mod:`streams.classifier.language`): the
model is English-only, so an article in another language is not given to it. Its
``ClassifiedArticle`` says so (``language_supported: false``) and carries no judgement (no
signals, level "none"), so it never makes an alert.

A classifier exception on a batch is retried once; if the batch still fails, its articles are
classified one at a time so that a single poison article fails alone and the rest proceed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from schemas import CATEGORIES, ClassifiedArticle, ErrorType
from schemas.events import Article
from streams.classifier.base import Assessment, Classifier, is_escalation
from streams.classifier.language import UNDETERMINED, LanguageGate, LanguageVerdict, shared_gate
from streams.pipeline.decode import utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassificationFailure:
    """An article the classifier could not process, even on its own."""

    article: Article
    error_type: ErrorType
    error_message: str


def assess_resilient(
    classifier: Classifier, articles: Sequence[Article]
) -> list[Assessment | ClassificationFailure]:
    """Assess a batch; isolate the articles that make the classifier raise.

    Returns one entry per article, in order. Never raises for a data problem: the failure is
    returned for that article alone.
    """
    if not articles:
        return []
    for attempt in (1, 2):
        try:
            assessed = classifier.assess(articles)
        except Exception as exc:
            log.warning("classifier failed on a batch of %d (attempt %d): %r", len(articles), attempt, exc)
            continue
        if len(assessed) != len(articles):
            log.error("classifier returned %d results for %d articles", len(assessed), len(articles))
            break
        return list(assessed)
    results: list[Assessment | ClassificationFailure] = []
    for article in articles:
        try:
            (one,) = classifier.assess([article])
        except Exception as exc:
            log.error("classifier failed on article %s: %r", article.id, exc)
            results.append(
                ClassificationFailure(article, ErrorType.CLASSIFIER_ERROR, f"{type(exc).__name__}: {exc}")
            )
        else:
            results.append(one)
    return results


#: The classification of an article the model does not judge: no signal, nothing scored.
NOT_JUDGED = Assessment(
    scores=dict.fromkeys(CATEGORIES, 0.0), signals=[], actors=[], severity=0, level="none"
)
#: The verdict when detection itself fails: the article is judged, as before the gate.
_DETECTION_FAILED = LanguageVerdict(UNDETERMINED, True, 0.0, "uncertain")


def to_classified(
    article: Article,
    assessment: Assessment,
    classifier: Classifier,
    *,
    received_at: datetime,
    classified_at: datetime,
    language: LanguageVerdict | None = None,
) -> ClassifiedArticle:
    """The ``ClassifiedArticle`` event for an article, its assessment and its language."""
    return ClassifiedArticle(
        article_id=article.id,
        article_version=article.version,
        escalation=is_escalation(assessment.signals),
        level=assessment.level,
        severity=assessment.severity,
        scores=assessment.scores,
        signals=assessment.signals,
        actors=assessment.actors,
        model=classifier.model_info,
        received_at=received_at,
        classified_at=classified_at,
        language=language.language if language else None,
        language_supported=language.supported if language else True,
    )


def detect_languages(gate: LanguageGate, articles: Sequence[Article]) -> list[LanguageVerdict]:
    """Each article's language verdict; a detection error leaves that article judged."""
    verdicts = []
    for article in articles:
        try:
            verdicts.append(gate.detect(article.title, article.body, article.language))
        except Exception as exc:
            log.error("language detection failed on article %s (judged anyway): %r", article.id, exc)
            verdicts.append(_DETECTION_FAILED)
    return verdicts


def classify_articles(
    classifier: Classifier,
    articles: Sequence[Article],
    received_at: Sequence[datetime],
    now: Callable[[], datetime] = utc_now,
    gate: LanguageGate | None = None,
) -> list[ClassifiedArticle | ClassificationFailure]:
    """Classify a batch: one ``ClassifiedArticle`` or ``ClassificationFailure`` per article, in order.

    Only the articles the language gate (by default the process's shared one) lets through go
    to the model; the others come out not judged.
    """
    verdicts = detect_languages(gate or shared_gate(), articles)
    judged = [a for a, v in zip(articles, verdicts, strict=True) if v.supported]
    assessed = iter(assess_resilient(classifier, judged))
    outcomes: list[Assessment | ClassificationFailure] = []
    for article, verdict in zip(articles, verdicts, strict=True):
        if verdict.supported:
            outcomes.append(next(assessed))
        else:
            log.debug("article %s is in %s: not judged", article.id, verdict.language)
            outcomes.append(NOT_JUDGED)
    classified_at = now()
    results: list[ClassifiedArticle | ClassificationFailure] = []
    for article, received, outcome, verdict in zip(articles, received_at, outcomes, verdicts, strict=True):
        if isinstance(outcome, ClassificationFailure):
            results.append(outcome)
            continue
        try:
            results.append(
                to_classified(
                    article,
                    outcome,
                    classifier,
                    received_at=received,
                    classified_at=classified_at,
                    language=verdict,
                )
            )
        except ValueError as exc:  # the classifier produced something the contract rejects
            log.error("classification of %s violates the contract: %s", article.id, exc)
            results.append(ClassificationFailure(article, ErrorType.INVALID_CLASSIFICATION, str(exc)))
    return results
