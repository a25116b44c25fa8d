"""The training supplement: in every fit, in no fold's test part, never a story of the training file.

The texts are the fictional articles of tests/corpus.py and short lines written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from schemas import CATEGORIES
from streams.classifier.artifact import DataFile, Manifest, SupplementFile, shipped_artifact
from streams.training import crossval, dataset, grouping
from streams.training import train as train_module
from streams.training.components import fit_components, predict_components
from streams.training.evaluation import evaluate
from streams.training.features import Features
from tests.support.corpus import ALL_ARTICLES

REPO = Path(__file__).resolve().parents[2]
FLASHES = REPO / "bench" / "data" / "flashes.jsonl"
LONG_ARTICLES = REPO / "bench" / "data" / "long_articles.jsonl"

STORY = (
    "Border guards of Arland and Belmark exchanged fire at the river crossing near Tolvik on Monday, "
    "killing two soldiers, the Arland defence ministry said in a statement."
)
RETOLD = (
    "Arland and Belmark border guards exchanged fire at the Tolvik river crossing on Monday, killing "
    "two soldiers, according to a statement from Arland's defence ministry."
)
OTHER = "The central bank of Corvania left its main interest rate unchanged at 4.5 percent on Thursday."


def _write(path: Path, rows: list[tuple[str, list[str]]]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "title": "", "body": b, "labels": labels}) + "\n"
            for i, (b, labels) in enumerate(rows)
        ),
        encoding="utf-8",
    )
    return path


def test_overlapping_finds_a_retold_story_only() -> None:
    assert grouping.overlapping([RETOLD, OTHER], [STORY]) == [0]
    assert grouping.overlapping([OTHER], [STORY]) == []


def test_load_supplement_leaves_out_the_training_files_stories(tmp_path: Path) -> None:
    data = dataset.load_dataset(_write(tmp_path / "data.jsonl", [(STORY, ["use_of_force"]), (OTHER, [])]))
    path = _write(
        tmp_path / "extra.jsonl",
        [(RETOLD, ["use_of_force"]), ("Troops of Dastovia shelled two villages.", ["use_of_force"])],
    )
    extra, left_out = dataset.load_supplement(path, data)
    assert left_out == 1
    assert [a.body for a in extra.articles] == ["Troops of Dastovia shelled two villages."]
    assert extra.y.tolist() == [[int(c == "use_of_force") for c in CATEGORIES]]


def _features(extra: list[tuple[str, set[str]]]) -> tuple[Features, np.ndarray]:
    texts = [f"{title}\n{body}" for _, title, body, _ in ALL_ARTICLES] + [b for b, _ in extra]
    labels = [labels for *_, labels in ALL_ARTICLES] + [labels for _, labels in extra]
    y = np.array([[int(c in ls) for c in CATEGORIES] for ls in labels])
    feats = Features(texts=texts, y=y, sentences=[[x] for x in texts])
    feats.train_only = np.arange(len(ALL_ARTICLES), len(texts))
    return feats, np.arange(len(ALL_ARTICLES))


# a word no corpus article has, taught only by the supplement
EXTRA = [
    ("Zorblat units of the Wendish navy zorblatted the harbour again.", {"sanctions"}),
    ("A zorblat order against the Wendish fleet came into force.", {"sanctions"}),
    ("The zorblat was lifted after the talks.", set()),
]


def test_every_fit_includes_the_supplement() -> None:
    feats, idx = _features(EXTRA)
    with_extra = fit_components(feats, idx, {"word": 1.0}, seed=0)
    feats.train_only = np.zeros(0, dtype=int)
    without = fit_components(feats, idx, {"word": 1.0}, seed=0)
    probe = ["Zorblat orders against the fleet, zorblat units."]
    j = CATEGORIES.index("sanctions")
    assert with_extra.components.word is not None
    assert without.components.word is not None
    assert (
        with_extra.components.word.predict_proba(probe)[0, j]
        > without.components.word.predict_proba(probe)[0, j] + 0.1
    )


def test_no_fold_tests_the_supplement() -> None:
    # one supplement line per category: every fold's fit has both classes of each
    feats, idx = _features(
        EXTRA + [(f"A line written about {c.replace('_', ' ')}.", {c}) for c in CATEGORIES]
    )
    groups = grouping.group_near_duplicates(feats.texts[: len(idx)])
    oof, rows = crossval.out_of_fold(
        idx, feats, groups, k=3, seed=0, weights={"word": 1.0}, rng=np.random.default_rng(0)
    )
    assert not set(rows.tolist()) & set(feats.train_only.tolist())
    # each held-out passage once, plus the synthetic long articles made of held-out passages
    assert sorted(r for r in rows.tolist() if r < len(idx)) == idx.tolist()
    assert oof["word"].shape[0] == len(rows)


@pytest.mark.parametrize(
    ("path", "least_per_category", "hard_negatives", "median_words"),
    [(dataset.DEFAULT_SUPPLEMENT, 10, 50, (10, 60)), (dataset.CONTEXT_ARTICLES, 25, 40, (350, 600))],
)
def test_shipped_supplement_covers_every_category_and_no_held_out_story(
    path: Path, least_per_category: int, hard_negatives: int, median_words: tuple[int, int]
) -> None:
    supplement = dataset.load_dataset(path)
    counts = supplement.y.sum(0)
    assert counts.min() >= least_per_category, dict(zip(CATEGORIES, counts.tolist(), strict=True))
    assert (supplement.y.sum(1) == 0).sum() >= hard_negatives
    lo, hi = median_words
    assert lo <= np.median([len(a.body.split()) for a in supplement.articles]) <= hi
    for held_out in (FLASHES, LONG_ARTICLES):
        assert grouping.overlapping(supplement.texts(), dataset.load_dataset(held_out).texts()) == [], (
            held_out.name
        )
    assert dataset.DEFAULT_SUPPLEMENTS == (dataset.DEFAULT_SUPPLEMENT, dataset.CONTEXT_ARTICLES)


def test_supplement_and_no_supplement_exclude_each_other(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from streams.cli.model import train_command

    data = _write(tmp_path / "data.jsonl", [(STORY, ["use_of_force"])])
    result = CliRunner().invoke(
        train_command,
        ["--data", str(data), "--supplement", str(data), "--no-supplement", "--out", str(tmp_path / "a")],
    )
    assert result.exit_code == 2
    assert "exclude each other" in result.output
    assert not (tmp_path / "a").exists()


def test_nested_cross_validation_never_tests_or_calibrates_on_the_supplement(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    feats, idx = _features(
        EXTRA + [(f"A line written about {c.replace('_', ' ')}.", {c}) for c in CATEGORIES]
    )
    groups = grouping.group_near_duplicates(feats.texts[: len(idx)])
    supplement = set(feats.train_only.tolist())
    predicted: list[set[int]] = []
    real_predict = predict_components

    def recording_predict(parts, feats_, rows):  # type: ignore[no-untyped-def]
        predicted.append(set(np.asarray(rows).tolist()))
        return real_predict(parts, feats_, rows)

    monkeypatch.setattr(crossval, "predict_components", recording_predict)
    cv = crossval.cross_validate(feats, groups, {"word": 1.0}, folds=3, inner_folds=2, seed=0)
    assert predicted
    assert all(not rows & supplement for rows in predicted)
    # the metrics count the training file's passages only, each tested once
    assert cv["n"] == len(idx)
    tested = set().union(*predicted)
    assert set(idx.tolist()) <= tested


def test_load_supplements_joins_files_and_records_each(tmp_path: Path) -> None:
    data = dataset.load_dataset(_write(tmp_path / "data.jsonl", [(STORY, ["use_of_force"]), (OTHER, [])]))
    a = _write(
        tmp_path / "a.jsonl", [(RETOLD, ["use_of_force"]), ("Dastovia shelled a village.", ["use_of_force"])]
    )
    b = _write(tmp_path / "b.jsonl", [("Wendland expelled two envoys.", ["diplomatic_rupture"])])
    extra, records = dataset.load_supplements([a, b], data)
    assert extra is not None
    assert [x.body for x in extra.articles] == [
        "Dastovia shelled a village.",
        "Wendland expelled two envoys.",
    ]
    assert [(r.path, r.n, r.left_out_as_near_duplicates) for r in records] == [
        ("a.jsonl", 1, 1),
        ("b.jsonl", 1, 0),
    ]
    assert dataset.load_supplements(None, data) == (None, [])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], dataset.DEFAULT_SUPPLEMENTS),
        (["--no-supplement"], None),
        (["--supplement", "A", "--supplement", "B"], ("A", "B")),
    ],
)
def test_train_command_passes_the_supplement_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], expected: object
) -> None:
    from click.testing import CliRunner

    from streams.cli.model import train_command

    seen: dict[str, object] = {}

    def fake_train(data: str, out: str | None, **kwargs: object) -> SimpleNamespace:
        seen.update(kwargs)
        return SimpleNamespace(nested_cv=None, train_seconds=0.0)

    monkeypatch.setattr(train_module, "train", fake_train)
    for name in ("A", "B"):
        (tmp_path / name).write_text("", encoding="utf-8")
    data = _write(tmp_path / "data.jsonl", [(STORY, ["use_of_force"])])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(train_command, ["--data", str(data), *options])
    assert result.exit_code == 0, result.output
    assert seen["supplement"] == expected


class _ManifestOnly:
    """Wiring fake for ``evaluate``: scores nothing, carries an artifact manifest."""

    def __init__(self, manifest: Manifest) -> None:
        self.head = SimpleNamespace(manifest=manifest)

    def score(self, batch: list[object]) -> tuple[np.ndarray, np.ndarray, None, None]:
        n = len(batch)
        return np.zeros((n, len(CATEGORIES))), np.full((n, len(CATEGORIES)), 0.5), None, None


def test_evaluate_knows_the_supplement_files_of_the_manifest(tmp_path: Path) -> None:
    supplement = dataset.load_dataset(_write(tmp_path / "extra.jsonl", [(STORY, ["use_of_force"])]))
    other = dataset.load_dataset(_write(tmp_path / "other.jsonl", [(OTHER, [])]))
    record = SupplementFile(path="extra.jsonl", sha256=supplement.sha256, n=1, left_out_as_near_duplicates=0)
    shipped = Manifest.load(shipped_artifact() / "manifest.json")
    classifier: Any = _ManifestOnly(
        shipped.model_copy(update={"data": DataFile(path="x", sha256="0" * 64, n=1), "supplement": [record]})
    )
    assert evaluate(classifier, supplement)[0]["trained_on_this_file"]
    assert not evaluate(classifier, other)[0]["trained_on_this_file"]
