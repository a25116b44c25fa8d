"""Long articles: synthetic concatenations for calibration, and the per-length calibration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from schemas import CATEGORIES
from streams.classifier.artifact import shipped_artifact
from streams.classifier.features import pool, word_counts
from streams.classifier.head import Calibration, Head, combine_weighted
from streams.training.calibration import calibrate
from streams.training.features import Features
from streams.training.recipe import CONCAT_PARTS, LONG_WORDS

K = len(CATEGORIES)


def _features(n: int = 8, dim: int = 4) -> tuple[Features, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.zeros((n, K), dtype=int)
    for i in range(n):
        y[i, i % K] = 1
    embeddings = [rng.normal(size=(1 + i % 3, dim)) for i in range(n)]
    feats = Features(
        texts=[f"passage {i} text" for i in range(n)],
        y=y,
        sentences=[[f"passage {i} sentence {j}" for j in range(len(e))] for i, e in enumerate(embeddings)],
        pooled=np.array([pool(e) for e in embeddings]),
        embeddings=embeddings,
    )
    groups = np.array([0, 0, 1, 2, 3, 3, 4, 5])[:n]  # 0-1 and 4-5 are the same story
    return feats, groups


def test_concatenations_join_passages_of_different_stories() -> None:
    feats, groups = _features()
    originals = list(feats.texts)
    new = feats.add_concatenations(groups, np.arange(8), 40, np.random.default_rng(1))
    assert list(new) == list(range(8, 48))
    assert feats.y.shape == (48, K)
    assert feats.pooled is not None
    assert feats.pooled.shape[0] == 48
    sizes = set()
    for i in new:
        parts = [originals.index(t) for t in feats.texts[i].split("\n")]
        sizes.add(len(parts))
        assert CONCAT_PARTS[0] <= len(parts) <= CONCAT_PARTS[1]
        assert len({groups[p] for p in parts}) == len(parts), "two passages of one story"
        assert np.array_equal(feats.y[i], feats.y[parts].max(0))
        assert feats.sentences is not None
        assert feats.embeddings is not None
        assert feats.sentences[i] == [s for p in parts for s in feats.sentences[p]]
        pooled = pool(np.concatenate([feats.embeddings[p] for p in parts]))
        assert np.allclose(feats.pooled[i], pooled)
    assert sizes == set(range(CONCAT_PARTS[0], CONCAT_PARTS[1] + 1))


def test_concatenations_are_reproducible_and_stay_in_their_pool() -> None:
    a, groups = _features()
    b, _ = _features()
    pool = np.array([2, 3, 4, 6])
    a.add_concatenations(groups, pool, 10, np.random.default_rng(5))
    b.add_concatenations(groups, pool, 10, np.random.default_rng(5))
    assert a.texts == b.texts
    used = {t for text in a.texts[8:] for t in text.split("\n")}
    assert used <= {a.texts[p] for p in pool}


def test_long_articles_use_their_own_weights_and_thresholds() -> None:
    probs = {"word": np.full((2, K), 0.7), "cue": np.full((2, K), 0.1)}
    cal = Calibration(
        weights={"word": 1.0, "cue": 0.0},
        thresholds=np.full(K, 0.5),
        long_words=LONG_WORDS,
        long_weights={"word": 1.0, "cue": 1.0},
        long_thresholds=np.full(K, 0.5),
    )
    pred = cal.predict(probs, np.array([LONG_WORDS, LONG_WORDS + 1]))
    assert pred[0].all()  # 0.7 >= 0.5 with the passage weights
    assert not pred[1].any()  # (0.7 + 0.1) / 2 = 0.4 < 0.5 with the long weights


def test_calibrate_chooses_thresholds_per_length() -> None:
    # long articles score lower (a signal in one paragraph of several): one threshold cannot
    # serve both lengths, two can.
    y = np.tile(np.array([1, 0, 1, 0, 1, 0, 1, 0])[:, None], (1, K))
    scores = np.array([0.8, 0.6, 0.7, 0.55, 0.5, 0.2, 0.45, 0.3])[:, None] * np.ones((1, K))
    words = np.array([100, 100, 100, 100, 400, 400, 400, 400])
    cal = calibrate({"word": scores}, y, words, {"word": 1.0})
    assert cal.long_thresholds is not None
    assert np.all(cal.thresholds > 0.6)
    assert np.all(cal.long_thresholds < 0.45)
    assert np.array_equal(cal.predict({"word": scores}, words), y)
    one = calibrate({"word": scores}, y, np.zeros(8, dtype=int), {"word": 1.0})
    assert one.long_thresholds is not None
    assert np.array_equal(one.thresholds, one.long_thresholds)  # no long article: the same
    assert not np.array_equal(one.predict({"word": scores}, np.zeros(8, dtype=int)), y)


def _artifact(
    tmp_path: Path,
    manifest_changes: dict[str, object],
    drop: tuple[str, ...] = (),
    drop_thresholds: tuple[str, ...] = (),
) -> Path:
    d = tmp_path / "artifact"
    shutil.copytree(shipped_artifact(), d, ignore=shutil.ignore_patterns("*.onnx"))
    for name, changes, dropped in [
        ("manifest.json", manifest_changes, drop),
        ("thresholds.json", {}, drop_thresholds),
    ]:
        content = json.loads((d / name).read_text())
        content.update(changes)
        for key in dropped:
            content.pop(key, None)
        (d / name).write_text(json.dumps(content))
    return d


def _random_probs(cal: Calibration, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = set(cal.weights) | set(cal.long_weights or {})
    return {c: rng.random((n, K)) for c in names}


def test_shipped_head_has_a_long_calibration() -> None:
    cal = Head.load(shipped_artifact()).calibration
    assert cal.long_words == LONG_WORDS
    assert cal.long_thresholds is not None
    assert cal.long_thresholds.shape == (K,)
    words = word_counts(["word " * LONG_WORDS, "word " * (LONG_WORDS + 1)])
    assert cal.is_long(words).tolist() == [False, True]
    t = cal.thresholds_for(cal.is_long(words))
    assert np.array_equal(t[0], cal.thresholds)
    assert np.array_equal(t[1], cal.long_thresholds)


def test_an_artifact_without_long_calibration_uses_one_for_all(tmp_path: Path) -> None:
    d = _artifact(tmp_path, {}, ("long_words", "long_weights"), ("long_method", "long_thresholds"))
    cal = Head.load(d).calibration
    assert cal.long_words is None
    words = np.array([1000])
    assert not cal.is_long(words).any()
    assert np.array_equal(cal.thresholds_for(cal.is_long(words))[0], cal.thresholds)
    probs = _random_probs(cal, 50)
    every_row_long = np.ones(50, dtype=bool)
    assert np.array_equal(cal.combine(probs, every_row_long), combine_weighted(probs, cal.weights))


def test_the_served_head_decides_like_the_training_calibration() -> None:
    # Head.combine + thresholds_for (serving) against Calibration.predict (training, CV), and
    # against the routing written out by hand
    cal = Head.load(shipped_artifact()).calibration
    assert cal.long_weights is not None
    assert cal.long_thresholds is not None
    n = 400
    probs = _random_probs(cal, n)
    words = np.random.default_rng(1).integers(LONG_WORDS - 100, LONG_WORDS + 100, n)
    long = words > LONG_WORDS
    scores, thresholds = cal.scores(probs, words)
    served = scores >= thresholds
    by_hand = np.where(
        long[:, None],
        combine_weighted(probs, cal.long_weights) >= cal.long_thresholds,
        combine_weighted(probs, cal.weights) >= cal.thresholds,
    )
    assert np.array_equal(served, by_hand)
    assert np.array_equal(served, cal.predict(probs, words).astype(bool))
    assert served[long].sum()
    assert served[~long].sum()
    # the two calibrations really differ on these rows: the length routing matters
    swapped = cal.combine(probs, ~long) >= np.where(long[:, None], cal.thresholds, cal.long_thresholds)
    assert not np.array_equal(served, swapped)


@pytest.mark.parametrize(
    ("changes", "drop", "drop_thresholds", "message"),
    [
        ({"long_words": -5}, (), (), "long_words\n  Input should be greater than or equal to 1"),
        ({"long_words": True}, (), (), "long_words\n  Input should be a valid integer"),
        ({}, ("long_weights",), (), "long_words and long_weights go together"),
        ({}, (), ("long_thresholds",), "long_words .* and long_thresholds .* go together"),
    ],
)
def test_inconsistent_long_calibration_fails_when_the_artifact_loads(
    tmp_path: Path,
    changes: dict[str, object],
    drop: tuple[str, ...],
    drop_thresholds: tuple[str, ...],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        Head.load(_artifact(tmp_path, changes, drop, drop_thresholds))


def test_concatenations_need_two_stories() -> None:
    feats, groups = _features()
    with pytest.raises(ValueError, match="two stories"):
        feats.add_concatenations(groups, np.array([0, 1]), 3, np.random.default_rng(0))  # one story


@pytest.mark.parametrize("bad", [[1.0, 2.0], -1.0])
def test_bad_long_weights_fail_when_the_artifact_loads(tmp_path: Path, bad: object) -> None:
    manifest = json.loads((shipped_artifact() / "manifest.json").read_text())
    d = _artifact(tmp_path, {"long_weights": {**manifest["long_weights"], "word": bad}})
    with pytest.raises(ValueError, match="weight of 'word'"):
        Head.load(d)


def test_a_component_with_weight_zero_in_every_calibration_is_neither_needed_nor_loaded(
    tmp_path: Path,
) -> None:
    manifest = json.loads((shipped_artifact() / "manifest.json").read_text())
    zero = [0.0] * K
    changes = {
        "weights": {**manifest["weights"], "char": zero},
        "long_weights": {**manifest["long_weights"], "char": 0.0},
    }
    if manifest.get("short_weights"):  # the wire-flash calibration
        changes["short_weights"] = {**manifest["short_weights"], "char": 0.0}
    d = _artifact(tmp_path, changes)
    (d / "char.json").unlink()
    (d / "char.npz").unlink()
    head = Head.load(d)
    assert head.components.char is None
    assert head.components.word is not None
    # zero in one calibration only: still loaded, as the other one needs it
    d2 = _artifact(tmp_path / "b", {"weights": {**manifest["weights"], "char": zero}})
    assert Head.load(d2).components.char is not None
    (d2 / "char.npz").unlink()
    with pytest.raises(FileNotFoundError):
        Head.load(d2)
