"""The sentence model in the head: its component, the short (flash) calibration, evidence by
the sentence model, and the sentence rows of the training matrix. Texts written for these tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from schemas import CATEGORIES
from streams.classifier.artifact import shipped_artifact
from streams.classifier.features import ArticleFeatures, pool
from streams.classifier.head import (
    LONG,
    PASSAGE,
    SHORT,
    Calibration,
    Components,
    Head,
    SentenceHead,
    evidence_rows,
)
from streams.training.calibration import calibrate, choose_category_weights
from streams.training.dataset import load_dataset
from streams.training.features import Features
from streams.training.recipe import LONG_WORDS, SHORT_SENTENCES, SHORT_WORDS
from streams.training.sentence_data import span_labels

K = len(CATEGORIES)


def _calibration() -> Calibration:
    return Calibration(
        weights={"word": 1.0, "sentence": 0.0},
        thresholds=np.full(K, 0.5),
        long_words=LONG_WORDS,
        long_weights={"word": 1.0, "sentence": 1.0},
        long_thresholds=np.full(K, 0.45),
        short_sentences=SHORT_SENTENCES,
        short_weights={"word": 1.0, "sentence": 3.0},
        short_thresholds=np.full(K, 0.6),
        sentence_thresholds=np.full(K, 0.7),
    )


def test_short_articles_are_routed_before_long_ones() -> None:
    cal = _calibration()
    words = np.array([100, LONG_WORDS + 1, 20, LONG_WORDS + 1])
    n_sentences = np.array([5, 9, 1, SHORT_SENTENCES])
    assert cal.buckets(words, n_sentences).tolist() == [PASSAGE, LONG, SHORT, SHORT]
    # without sentence counts (and in an artifact without a short calibration): by length only
    assert cal.buckets(words).tolist() == [PASSAGE, LONG, PASSAGE, LONG]


def test_a_short_passage_of_long_sentences_is_judged_as_a_passage() -> None:
    cal = _calibration()
    cal.short_words = SHORT_WORDS
    words = np.array([SHORT_WORDS, SHORT_WORDS + 1, 20, LONG_WORDS + 1])
    n_sentences = np.array([SHORT_SENTENCES, SHORT_SENTENCES, 1, 1])
    assert cal.buckets(words, n_sentences).tolist() == [SHORT, PASSAGE, SHORT, LONG]


def test_calibrate_chooses_the_short_calibration_without_short_passages_of_many_words() -> None:
    # a two-sentence passage of 80 words goes with the passages: had it been in the short
    # bucket, the word model it alone separates would have been weighed there
    y = np.tile(np.array([1, 0] * 6)[:, None], (1, K))
    word = np.where(y == 1, 0.8, 0.2).astype(float)
    sentence = np.full((12, K), 0.5)
    sentence[6:] = np.where(y[6:] == 1, 0.9, 0.1)
    oof = {"word": word, "sentence": sentence}
    words = np.array([80] * 6 + [20] * 6)
    n_sentences = np.array([2] * 6 + [1] * 6)
    one = np.array([False] * 6 + [True] * 6)
    cal = calibrate(oof, y, words, {"word": 1.0, "sentence": 1.0}, n_sentences=n_sentences, one_sentence=one)
    assert cal.short_words == SHORT_WORDS
    assert cal.buckets(words, n_sentences).tolist() == [PASSAGE] * 6 + [SHORT] * 6
    assert np.array_equal(cal.predict(oof, words, n_sentences), y)


def test_each_bucket_uses_its_weights_and_thresholds() -> None:
    cal = _calibration()
    probs = {"word": np.full((3, K), 0.4), "sentence": np.full((3, K), 0.8)}
    words = np.array([100, LONG_WORDS + 1, 20])
    scores, thresholds = cal.scores(probs, words, np.array([5, 9, 1]))
    assert np.allclose(scores[:, 0], [0.4, 0.6, 0.7])  # passage: word only; long: mean; short: 1:3
    assert np.allclose(thresholds[:, 0], [0.5, 0.45, 0.6])
    assert cal.predict(probs, words, np.array([5, 9, 1]))[:, 0].tolist() == [0, 1, 1]
    assert cal.used_components() == {"word", "sentence"}


def test_calibrate_makes_a_short_calibration_from_single_sentences() -> None:
    # rows 0-5 passages, 6-11 single sentences: the sentence model separates the sentences,
    # the word model the passages
    y = np.tile(np.array([1, 0] * 6)[:, None], (1, K))
    word = np.where(y == 1, 0.8, 0.2).astype(float)
    word[6:] = 0.5 + 0.01 * np.arange(6)[:, None]  # no information on sentences
    sentence = np.where(y == 1, 0.9, 0.1).astype(float)
    sentence[:6] = 0.5
    oof = {"word": word, "sentence": sentence}
    words = np.array([100] * 6 + [20] * 6)
    n_sentences = np.array([5] * 6 + [1] * 6)
    one = np.array([False] * 6 + [True] * 6)
    cal = calibrate(oof, y, words, {"word": 1.0, "sentence": 1.0}, n_sentences=n_sentences, one_sentence=one)
    assert cal.short_sentences == SHORT_SENTENCES
    assert cal.short_thresholds is not None
    assert cal.sentence_thresholds is not None
    assert np.array_equal(cal.predict(oof, words, n_sentences), y)
    assert np.all((cal.sentence_thresholds > 0.1) & (cal.sentence_thresholds <= 0.9))
    # without single sentences there is no short calibration
    plain = calibrate(oof, y, words, {"word": 1.0, "sentence": 1.0})
    assert plain.short_sentences is None
    assert plain.sentence_thresholds is None


def test_cue_and_sentence_weights_are_chosen_jointly() -> None:
    y = np.array([[1], [1], [0], [0]]) * np.ones((1, K), dtype=int)
    oof = {
        "word": np.array([[0.6], [0.4], [0.5], [0.45]]) * np.ones((1, K)),
        "cue": np.full((4, K), 0.5),
        "sentence": np.array([[0.9], [0.8], [0.2], [0.1]]) * np.ones((1, K)),
    }
    w = choose_category_weights(
        oof, y, {"word": 1.0, "cue": 1.0, "sentence": 1.0}, also=[("sentence", (0.0, 2.0))]
    )
    assert w["sentence"] == [2.0] * K  # only the sentence model separates these rows
    assert w["cue"] == [0.0] * K  # the smallest cue weight on ties


def test_evidence_is_what_the_sentence_model_signals_best_first() -> None:
    col = np.array([0.2, 0.9, 0.75, 0.1, 0.8])
    assert evidence_rows(col, 0.7, 3) == [1, 4, 2]
    assert evidence_rows(col, 0.7, 2) == [1, 4]
    assert evidence_rows(col, 0.95, 3) == [1]  # none reaches it: the best sentence alone


def test_the_sentence_component_is_the_best_sentence() -> None:
    rng = np.random.default_rng(0)
    head = SentenceHead(rng.normal(size=(4, K)), rng.normal(size=K))
    emb = rng.normal(size=(5, 4))
    articles = ArticleFeatures(
        texts=["a", "b"],
        sentences=[["s1", "s2", "s3"], ["s4", "s5"]],
        sentence_embeddings=emb,
        offsets=np.array([0, 3, 5]),
    )
    p = Components(sentence=head).probabilities(articles)["sentence"]
    per_sentence = head.probabilities(emb)
    assert np.allclose(p[0], per_sentence[:3].max(0))
    assert np.allclose(p[1], per_sentence[3:].max(0))


def _artifact(tmp_path: Path, manifest: dict[str, object], thresholds: dict[str, object]) -> Path:
    d = tmp_path / "artifact"
    shutil.copytree(shipped_artifact(), d, ignore=shutil.ignore_patterns("*.onnx"))
    for name, changes in (("manifest.json", manifest), ("thresholds.json", thresholds)):
        content = json.loads((d / name).read_text())
        content.update(changes)
        content = {k: v for k, v in content.items() if v is not None}
        (d / name).write_text(json.dumps(content))
    return d


@pytest.mark.parametrize(
    ("manifest", "thresholds", "message"),
    [
        ({"short_sentences": 2, "short_weights": None}, {}, "short_sentences and short_weights go together"),
        (
            {"short_sentences": 2, "short_weights": {"word": 1.0}},
            {"short_thresholds": None},
            "short_sentences .* and short_thresholds .* go together",
        ),
        ({"short_sentences": 0, "short_weights": {"word": 1.0}}, {}, "greater than or equal to 1"),
        (
            {"short_sentences": None, "short_weights": None, "short_words": 45},
            {"short_thresholds": None},
            "short_words needs short_sentences",
        ),
    ],
)
def test_inconsistent_short_calibration_fails_when_the_artifact_loads(
    tmp_path: Path, manifest: dict[str, object], thresholds: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Head.load(_artifact(tmp_path, manifest, thresholds))


def test_training_rows_give_the_components_sentence_embeddings() -> None:
    rng = np.random.default_rng(0)
    embeddings = [rng.normal(size=(1 + i % 3, 4)) for i in range(5)]
    feats = Features(
        texts=[f"text {i}" for i in range(5)],
        y=np.zeros((5, K), dtype=int),
        sentences=[[f"s{i}.{j}" for j in range(len(e))] for i, e in enumerate(embeddings)],
        pooled=np.array([pool(e) for e in embeddings]),
        embeddings=embeddings,
        sentence_rows=np.array([3, 4]),
        sentence_source=np.array([0, 1]),
    )
    sel = feats.select(np.array([2, 0]))
    assert sel.offsets is not None
    assert sel.sentence_embeddings is not None
    assert sel.offsets.tolist() == [0, 3, 4]
    assert np.array_equal(sel.sentence_embeddings[:3], embeddings[2])
    assert feats.sentence_rows_of(np.array([1, 2])).tolist() == [4]
    assert feats.n_sentences(np.array([0, 1, 2])).tolist() == [1, 2, 3]


def test_kept_sentences_take_the_labels_of_the_sentence_they_overlap(tmp_path: Path) -> None:
    title = "Navy ships sail toward the strait"
    body = "The navy sent two frigates on Monday. Officials warned of strikes if talks fail."
    passages = tmp_path / "p.jsonl"
    passages.write_text(
        json.dumps({"id": "p1", "title": title, "body": body, "labels": ["military_posture", "threat"]})
        + "\n"
    )
    second = body.index("Officials")
    rows = [
        {
            "id": "p1",
            "n": 0,
            "field": "title",
            "start": 0,
            "end": len(title),
            "text": title,
            "labels": ["military_posture"],
        },
        {
            "id": "p1",
            "n": 1,
            "field": "body",
            "start": 0,
            "end": second - 1,
            "text": body[: second - 1],
            "labels": ["military_posture"],
        },
        {
            "id": "p1",
            "n": 2,
            "field": "body",
            "start": second,
            "end": len(body),
            "text": body[second:],
            "labels": ["threat"],
        },
    ]
    sentences = tmp_path / "s.jsonl"
    sentences.write_text("".join(json.dumps(r) + "\n" for r in rows))
    y = span_labels(load_dataset(passages), sentences, 64)[0]
    mp, threat = CATEGORIES.index("military_posture"), CATEGORIES.index("threat")
    assert y[:, mp].tolist() == [1, 1, 0]
    assert y[:, threat].tolist() == [0, 0, 1]
