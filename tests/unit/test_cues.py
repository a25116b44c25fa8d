"""The ``cue`` component (streams/classifier/cues.py) and per-category ensemble weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from schemas import CATEGORIES
from streams.classifier.artifact import shipped_artifact
from streams.classifier.cues import DEFAULT_LEXICON, CueModel, load_lexicon
from streams.classifier.head import Head, combine_weighted
from streams.training.calibration import choose_category_weights
from streams.training.components import fit_cue

THREAT = CATEGORIES.index("threat")

# Short texts written for this test: threats by states, and "warnings" that are not threats.
THREATS = [
    "The defence minister warned the neighbouring state of severe consequences.",
    "The president vowed retaliation against the attackers.",
    "Officials threatened military action unless the troops withdrew.",
    "The foreign ministry warned it would respond with force to any incursion.",
    "The general vowed to crush the rebels within days.",
    "Pyongyang warned of a merciless response to the drills.",
]
NOT_THREATS = [
    "Forecasters warned that the storm threatens the coast.",
    "Doctors warned that the flu season will be severe.",
    "Analysts warned that prices could rise further.",
    "The coach vowed to win the cup next season.",
    "The bank warned of slower growth next year.",
    "Officials warned drivers about icy roads.",
]
FILLER = "The ministers met in the capital on Tuesday to discuss the war."


def _articles() -> tuple[list[list[str]], np.ndarray]:
    articles = [[FILLER, s] for s in THREATS + NOT_THREATS]
    y = np.zeros((len(articles), len(CATEGORIES)), dtype=int)
    y[: len(THREATS), THREAT] = 1
    return articles, y


def test_lexicon_has_every_category_and_matches_whole_words() -> None:
    patterns = load_lexicon()
    assert set(patterns) == set(CATEGORIES)
    assert patterns["threat"].search("He WARNED them")
    assert not patterns["threat"].search("a forewarning")  # whole words only
    assert patterns["diplomatic_rupture"].search("Ambassador recalled")
    assert patterns["de_escalation"].search("a cease-fire was agreed")


@pytest.mark.parametrize(
    ("sentence", "selected"),
    [
        ("Rockets were fired in response to the air strikes.", False),  # force that was used
        ("Retaliatory raids killed ten people.", False),
        ("The army said it would respond to any incursion.", True),  # a marker: "would"
        ("They will pay a heavy price, the minister said.", True),
        ("Any attack will meet a decisive response.", True),
        ("The president vowed retaliation.", True),  # "vowed" is a cue word by itself
        ("If the drills go ahead, there will be a response.", True),
    ],
)
def test_reaction_words_select_a_threat_sentence_only_with_a_marker(sentence: str, selected: bool) -> None:
    assert load_lexicon()["threat"].search(sentence) is selected


def test_needs_marker_without_markers_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "cues.yaml"
    text = DEFAULT_LEXICON.read_text(encoding="utf-8")
    bad.write_text(text.split("needs_marker:")[0] + "needs_marker:\n  threat:\n    words: [price]\n", "utf-8")
    with pytest.raises(ValueError, match="must have words and markers"):
        load_lexicon(bad)
    bad.write_text(text + "  storms:\n    words: [rain]\n    markers: [will]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown categories"):
        load_lexicon(bad)


def test_a_lexicon_without_needs_marker_still_loads(tmp_path: Path) -> None:
    old = tmp_path / "cues.yaml"  # as in artifacts trained before version 2
    old.write_text(DEFAULT_LEXICON.read_text(encoding="utf-8").split("needs_marker:")[0], "utf-8")
    threat = load_lexicon(old)["threat"]
    assert threat.conditional is None
    assert not threat.search("They will pay a heavy price.")
    assert threat.search("The minister warned of consequences.")


def test_lexicon_missing_or_unknown_category_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "cues.yaml"
    bad.write_text("categories:\n  threat: [warn]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no cue words"):
        load_lexicon(bad)
    cats, rest = DEFAULT_LEXICON.read_text(encoding="utf-8").split("needs_marker:")
    bad.write_text(cats + "  storms: [rain]\nneeds_marker:" + rest, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown categories"):
        load_lexicon(bad)


def test_cue_text_keeps_only_the_category_sentences() -> None:
    model = CueModel(load_lexicon(), {})
    sentences = ["Troops massed at the border.", "The minister warned of consequences.", "It rained."]
    assert model.cue_text("threat", sentences) == "The minister warned of consequences."
    assert model.cue_text("sanctions", sentences) == ""


def test_fit_learns_which_cue_sentences_count_and_round_trips(tmp_path: Path) -> None:
    articles, y = _articles()
    model = fit_cue(articles, y, c=10.0)
    p = model.predict_proba(articles)
    assert p.shape == (len(articles), len(CATEGORIES))
    # trained on them: the threats outrank every non-threat "warning"
    assert p[: len(THREATS), THREAT].min() > p[len(THREATS) :, THREAT].max()
    # categories with no positive example get a constant near 0, not an error
    assert p[:, CATEGORIES.index("nuclear_wmd")].max() < 0.01
    model.save(tmp_path)
    assert (tmp_path / "cue" / "lexicon.yaml").read_text() == DEFAULT_LEXICON.read_text()
    again = CueModel.load(tmp_path)
    assert np.allclose(again.predict_proba(articles), p, atol=1e-5)
    again.save(tmp_path)  # saving over the directory it was loaded from keeps its lexicon
    assert np.allclose(CueModel.load(tmp_path).predict_proba(articles), p, atol=1e-5)


def test_combine_weighted_per_category() -> None:
    probs = {"a": np.array([[0.2, 0.2]]), "b": np.array([[0.8, 0.8]])}
    out = combine_weighted(probs, {"a": 1.0, "b": [0.0, 3.0]})
    assert out == pytest.approx(np.array([[0.2, (0.2 + 2.4) / 4]]))
    with pytest.raises(ValueError, match="no component weight"):
        combine_weighted(probs, {"a": [1.0, 0.0], "b": [0.0, 0.0]})


def test_choose_category_weights_picks_the_helpful_weight() -> None:
    rng = np.random.default_rng(0)
    y = np.zeros((200, len(CATEGORIES)), dtype=int)
    y[:60] = 1
    noise = rng.random(y.shape)
    # "base" is noise; "cue" separates the classes for the first category only
    cue = noise.copy()
    cue[:, 0] = np.where(y[:, 0] == 1, 0.9, 0.1)
    chosen = choose_category_weights(
        {"base": noise, "cue": cue}, y, {"base": 1.0, "cue": 1.0}, grid=(0.0, 1.0, 4.0)
    )
    weights = chosen["cue"]
    assert len(weights) == len(CATEGORIES)
    assert weights[0] > 0  # the informative component gets weight where it helps


@pytest.mark.parametrize("grid", [(0.0, 1.0, 4.0), (4.0, 0.0, 1.0)])
def test_choose_category_weights_takes_the_smallest_on_ties(grid: tuple[float, ...]) -> None:
    rng = np.random.default_rng(1)
    y = (rng.random((100, len(CATEGORIES))) < 0.3).astype(int)
    same = rng.random(y.shape)
    chosen = choose_category_weights(
        {"base": same, "cue": same.copy()}, y, {"base": 1.0, "cue": 1.0}, grid=grid
    )
    assert chosen["cue"] == [0.0] * len(CATEGORIES)  # identical scores at every weight: a tie


def _artifact_copy(tmp_path: Path, weights: object) -> Path:
    d = tmp_path / "artifact"
    shutil.copytree(shipped_artifact(), d, ignore=shutil.ignore_patterns("*.onnx"))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["weights"] = weights
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


def test_shipped_head_weights_cue_per_category(tmp_path: Path) -> None:
    head = Head.load(
        _artifact_copy(tmp_path, json.loads((shipped_artifact() / "manifest.json").read_text())["weights"])
    )
    assert head.components.cue is not None
    assert len(head.calibration.weights["cue"]) == len(CATEGORIES)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"word": 1.0, "cue": [1.0, 2.0]}, "must be a number or 9 numbers"),
        ({"word": -1.0, "char": 2.0}, "not negative"),
        ({"word": [1.0] + [0.0] * 8}, "no component weight"),
    ],
)
def test_bad_weights_fail_when_the_artifact_loads(tmp_path: Path, weights: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Head.load(_artifact_copy(tmp_path, weights))
