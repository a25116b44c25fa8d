"""The real classifier (shipped artifact + all-MiniLM-L6-v2) on short texts written for these tests.

Each text below was written for Flashpoint; none comes from the training data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from schemas import CATEGORIES, ESCALATION_CATEGORIES, ModelInfo
from schemas.events import Article
from streams.classifier.artifact import Metrics, shipped_artifact
from streams.classifier.base import Assessment, is_escalation
from streams.classifier.classifier import EscalationClassifier, load_classifier
from streams.classifier.features import kept_text, word_counts
from streams.classifier.head import Head
from tests.support.corpus import MODEL_HARD_NEGATIVES, MODEL_POSITIVES

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="module")
def classifier() -> EscalationClassifier:
    return load_classifier()


def _article(i: int, title: str, body: str) -> Article:
    return Article(id=f"test-{i}", title=title, body=body)


@pytest.fixture(scope="module")
def positives(classifier: EscalationClassifier) -> list[Assessment]:
    return classifier.assess([_article(i, t, b) for i, (_, t, b) in enumerate(MODEL_POSITIVES)])


@pytest.fixture(scope="module")
def negatives(classifier: EscalationClassifier) -> list[Assessment]:
    return classifier.assess([_article(100 + i, t, b) for i, (t, b) in enumerate(MODEL_HARD_NEGATIVES)])


def test_artifact_loads_with_its_metadata() -> None:
    head = Head.load(shipped_artifact())
    assert head.manifest.categories == list(CATEGORIES)
    thresholds = head.calibration.thresholds
    assert thresholds.shape == (len(CATEGORIES),)
    assert np.all((thresholds > 0) & (thresholds < 1))
    assert len(head.manifest.data.sha256) == 64
    metrics = Metrics.read(shipped_artifact())
    assert metrics.nested_cv is not None
    assert set(metrics.nested_cv.categories) == set(CATEGORIES)


def test_model_info(classifier: EscalationClassifier) -> None:
    assert isinstance(classifier.model_info, ModelInfo)
    assert classifier.model_info.head_version == shipped_artifact().name


@pytest.mark.parametrize(("index", "category"), [(i, c) for i, (c, _, _) in enumerate(MODEL_POSITIVES)])
def test_each_category_positive(positives: list[Assessment], index: int, category: str) -> None:
    got = {s.category for s in positives[index].signals}
    assert category in got, (category, positives[index].scores)


def test_escalation_flag_follows_signals(positives: list[Assessment]) -> None:
    escalations = 0
    for a in positives:
        escalation = any(s.category in ESCALATION_CATEGORIES for s in a.signals)
        assert is_escalation(a.signals) == escalation
        assert (a.severity > 0) == escalation
        assert (a.level != "none") == escalation
        escalations += escalation
    assert escalations >= len(ESCALATION_CATEGORIES) - 1


@pytest.mark.parametrize("index", range(len(MODEL_HARD_NEGATIVES)))
def test_hard_negatives_have_no_escalation(negatives: list[Assessment], index: int) -> None:
    a = negatives[index]
    assert not is_escalation(a.signals), (MODEL_HARD_NEGATIVES[index][0], [s.category for s in a.signals])
    assert a.level == "none"
    assert a.severity == 0


def test_signals_highest_score_first_and_over_threshold(
    classifier: EscalationClassifier, positives: list[Assessment]
) -> None:
    articles = [_article(i, t, b) for i, (_, t, b) in enumerate(MODEL_POSITIVES)]
    _, thresholds, spans, _ = classifier.score(articles)
    cal = classifier.head.calibration
    # passages, or (a title and one sentence, few words) the short calibration of wire flashes
    for row, ss, (_, t, b) in zip(thresholds, spans, MODEL_POSITIVES, strict=True):
        words = int(word_counts([kept_text(t, b, ss)])[0])
        short = cal.short_sentences is not None and len(ss) <= cal.short_sentences
        short = short and (cal.short_words is None or words <= cal.short_words)
        expected = cal.short_thresholds if short and cal.short_thresholds is not None else cal.thresholds
        assert np.array_equal(row, expected)
    for a, row in zip(positives, thresholds, strict=True):
        scores = [s.score for s in a.signals]
        assert scores == sorted(scores, reverse=True)
        for s in a.signals:
            assert s.score >= row[CATEGORIES.index(s.category)] - 1e-9
            assert a.scores[s.category] == pytest.approx(s.score)
        missed = [c for c, v in a.scores.items() if v < row[CATEGORIES.index(c)]]
        assert not {s.category for s in a.signals} & set(missed)


def test_long_articles_get_the_labels_of_their_parts(classifier: EscalationClassifier) -> None:
    """Three articles of over 250 words, each three of the texts above interleaved with hard
    negatives: a signal told in one paragraph of several stories still counts (the codebook's
    context rule). With the passage calibration, the shipped head gets 4 of these 9 labels;
    with the long-article one, 8 (the margins are small, hence the tolerances below)."""
    positives = {c: body for c, _, body in MODEL_POSITIVES}
    groups = [
        ("threat", "sanctions", "regime_instability"),
        ("use_of_force", "diplomatic_rupture", "military_posture"),
        ("nuclear_wmd", "security_cooperation", "de_escalation"),
    ]
    articles = []
    for g in groups:
        parts = []
        for i, c in enumerate(g):
            parts += [positives[c], MODEL_HARD_NEGATIVES[i][1], MODEL_HARD_NEGATIVES[i + 3][1]]
        articles.append(_article(len(articles), "", "\n\n".join(parts)))
    _, thresholds, _, _ = classifier.score(articles)
    assert classifier.head.calibration.long_thresholds is not None
    assert np.array_equal(thresholds, np.tile(classifier.head.calibration.long_thresholds, (3, 1)))
    found, extra = 0, []
    for g, a in zip(groups, classifier.assess(articles), strict=True):
        got = {s.category for s in a.signals}
        found += len(got & set(g))
        extra += sorted(got - set(g))
    assert found >= 7, found  # of 9
    assert len(extra) <= 1, extra  # the hard negatives add no signal (one borderline allowed)


def test_scores_cover_every_category_in_unit_range(positives: list[Assessment]) -> None:
    for a in positives:
        assert set(a.scores) == set(CATEGORIES)
        assert all(0.0 <= v <= 1.0 for v in a.scores.values())


def test_evidence_is_the_exact_slice(positives: list[Assessment]) -> None:
    articles = [_article(i, t, b) for i, (_, t, b) in enumerate(MODEL_POSITIVES)]
    n = 0
    for article, a in zip(articles, positives, strict=True):
        for s in a.signals:
            assert 1 <= len(s.evidence) <= 3
            for e in s.evidence:
                assert getattr(article, e.field)[e.start : e.end] == e.text
                n += 1
    assert n >= len(MODEL_POSITIVES)


def test_evidence_points_at_the_driving_sentence(classifier: EscalationClassifier) -> None:
    _, title, body = MODEL_POSITIVES[2]  # air strikes
    body += " The city council will meet on Thursday to discuss the budget for schools and parks."
    (a,) = classifier.assess([Article(id="ev-1", title=title, body=body)])
    force = [s for s in a.signals if s.category == "use_of_force"]
    assert force, a.scores
    texts = [e.text for e in force[0].evidence]
    assert any("strikes" in t or "bombed" in t for t in texts), texts
    assert all("council" not in t for t in texts), texts


def test_batch_equals_single(classifier: EscalationClassifier) -> None:
    # escalations and hard negatives interleaved: evidence is scored only for the articles
    # with a signal, and must be the same as when each article is assessed alone
    arts = [_article(i, t, b) for i, (_, t, b) in enumerate(MODEL_POSITIVES[:3])]
    arts += [Article(id=f"neg-{i}", title=t, body=b) for i, (t, b) in enumerate(MODEL_HARD_NEGATIVES[:3])]
    arts = [arts[0], arts[3], arts[1], arts[4], arts[5], arts[2]]
    batch = classifier.assess(arts)
    single = [classifier.assess([x])[0] for x in arts]
    assert [bool(x.signals) for x in batch] == [True, False, True, False, False, True]
    for x, y in zip(batch, single, strict=True):
        for c in CATEGORIES:
            assert abs(x.scores[c] - y.scores[c]) < 1e-3
        assert [s.category for s in x.signals] == [s.category for s in y.signals]
        assert [s.evidence for s in x.signals] == [s.evidence for s in y.signals]


def test_empty_batch(classifier: EscalationClassifier) -> None:
    assert classifier.assess([]) == []


def test_long_article_is_capped(classifier: EscalationClassifier) -> None:
    body = " ".join(["The committee met again on Tuesday to discuss the budget."] * 400)
    (a,) = classifier.assess([Article(id="long", title="Budget", body=body)])
    assert not is_escalation(a.signals)


@pytest.fixture(scope="module")
def seed() -> tuple[Article, dict, Assessment]:
    """The shared seed article (read from ../shared beside the repository, never copied)."""
    if not (SHARED / "samples" / "seed-article.json").is_file():
        pytest.skip("../shared/samples is not beside the repository (CI lays it there)")
    article_json = json.loads((SHARED / "samples" / "seed-article.json").read_text(encoding="utf-8"))
    expected = json.loads((SHARED / "samples" / "seed-article.expected.json").read_text(encoding="utf-8"))
    fields = set(Article.model_fields)
    article = Article.model_validate({k: v for k, v in article_json.items() if k in fields})
    (a,) = load_classifier().assess([article])
    return article, expected, a


def test_seed_article_escalation_actors_and_evidence(seed: tuple[Article, dict, Assessment]) -> None:
    article, expected, a = seed
    got = {s.category for s in a.signals}
    assert is_escalation(a.signals) == expected["escalation"]
    assert not (set(expected["not_labels"]) & got), (sorted(got), a.scores)
    assert set(expected["actors"]) <= set(a.actors)
    for s in a.signals:
        for e in s.evidence:
            assert getattr(article, e.field)[e.start : e.end] == e.text


def test_seed_article_threat_points_at_the_threat(seed: tuple[Article, dict, Assessment]) -> None:
    # The seed's threat is one clause of an article about a ministerial visit: the `cue`
    # component must find it and the evidence must be that sentence.
    _, _, a = seed
    threat = [s for s in a.signals if s.category == "threat"]
    assert threat, a.scores
    assert any("threatened punitive actions" in e.text for e in threat[0].evidence), threat[0].evidence
    got = {s.category for s in a.signals}
    assert {"military_posture", "security_cooperation", "sanctions"} <= got, sorted(got)
    # sanctions are one clause of a paragraph on Cuba's economy (the long-article calibration);
    # the evidence is a sentence the sentence model reads as sanctions, not that paragraph's others
    sanctions = next(s for s in a.signals if s.category == "sanctions")
    assert all("sanctions" in e.text for e in sanctions.evidence), sanctions.evidence


@pytest.mark.xfail(
    strict=True,
    reason="known gap (docs/MODEL_CARD.md): two of the seed's labels that come from background "
    "context (use_of_force, regime_instability) score below their long-article thresholds",
)
def test_seed_article_gets_every_expected_label(seed: tuple[Article, dict, Assessment]) -> None:
    _, expected, a = seed
    got = {s.category for s in a.signals}
    assert set(expected["labels"]) <= got, (sorted(got), a.scores)


def test_onnx_int8_encoder_close_to_torch_fp32() -> None:
    from streams.classifier.encoder import OnnxEncoder, TorchEncoder

    texts = [b for _, _, b in MODEL_POSITIVES] + [b for _, b in MODEL_HARD_NEGATIVES]
    onnx = OnnxEncoder(onnx_path=shipped_artifact() / "encoder-int8.onnx").encode(texts)
    ref = TorchEncoder().encode(texts)
    cosine = (onnx * ref).sum(1)
    assert cosine.min() > 0.95, cosine
    assert np.median(cosine) > 0.98, cosine
