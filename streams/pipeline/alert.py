"""Build alerts from classified articles: deterministic ids and a one-line summary."""

from __future__ import annotations

import hashlib

from schemas import Alert, ArticleRef, ClassifiedArticle, ModelInfo
from schemas.events import ESCALATION_CATEGORIES, Article

SUMMARY_MAX_CHARS = 400


def alert_id(article_id: str, article_version: int, model: ModelInfo) -> str:
    """The same article version classified by the same model always gets the same id."""
    material = "\x1f".join(
        [article_id, str(article_version), model.encoder, model.head_version, model.thresholds_version]
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def summarise(classified: ClassifiedArticle, article: Article) -> str:
    """One line for a human: ``THREAT + MILITARY POSTURE — US, CU: <title or first evidence>``."""
    escalations = [s for s in classified.signals if s.category in ESCALATION_CATEGORIES]
    labels = " + ".join(s.category.replace("_", " ").upper() for s in escalations)
    head = f"{labels} — {', '.join(classified.actors)}" if classified.actors else labels
    text = article.title or (escalations[0].evidence[0].text if escalations else article.body)
    line = f"{head}: {' '.join(text.split())}"
    if len(line) > SUMMARY_MAX_CHARS:
        line = line[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return line


def build_alert(classified: ClassifiedArticle, article: Article) -> Alert | None:
    """An ``Alert`` (status ``created``) when the article is an escalation, else ``None``."""
    if not classified.escalation:
        return None
    return Alert(
        alert_id=alert_id(article.id, article.version, classified.model),
        status="created",
        article=ArticleRef(
            id=article.id,
            version=article.version,
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
        ),
        summary=summarise(classified, article),
        **classified.classification_fields(),
    )
