"""Sentence-level training data: every passage's sentences (and every near-duplicate story's)
fall in one fold; unlabelled passages give negative sentences. All passages are written for
these tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from schemas import CATEGORIES
from streams.training.dataset import DatasetError
from streams.training.sentence_data import load_sentence_set, sentence_folds

BODIES = [
    "Harbour pilots guided twelve trawlers home before dawn. "
    "Crews unloaded cod onto icy quays. Buyers haggled until noon.",
    "Apple growers counted frost damage across northern orchards. "
    "Blossoms browned overnight. Insurers sent assessors Thursday.",
    "Curators unveiled restored Flemish paintings at last. "
    "Visitors queued around marble columns. Tickets sold out quickly.",
    "Railway engineers replaced worn sleepers along coastal tracks. "
    "Commuters endured bus substitutes. Timetables resume Monday.",
    "Flour mills raised wholesale prices again. "
    "Bakers warned customers about costlier loaves. Wheat futures climbed sharply.",
    "Groundskeepers relaid turf inside Riverside Stadium. "
    "Drainage pipes were upgraded. Spectators return next season.",
    "Archivists digitised medieval manuscripts in vaulted cellars. "
    "Scanners captured faded ink. Scholars welcomed online access.",
    "Winemakers began harvesting ripe grenache grapes early. "
    "Heatwaves accelerated ripening. Cellars filled with fermenting must.",
    "Astronomers photographed a bright comet near Jupiter. "
    "Amateur telescopes tracked its tail. Observatories extended opening hours.",
    "Ferry deckhands secured vehicles during choppy crossings. "
    "Passengers sipped cocoa below. Captains delayed evening sailings.",
    "Surveyors measured meltwater lakes atop the glacier. "
    "Drones mapped crevasses. Hydrologists expect record runoff.",
    "Spice traders displayed saffron, cumin and cardamom. "
    "Tourists bargained enthusiastically. Stallholders extended Sunday trading.",
]


def passage(i: int, labelled: bool) -> dict[str, object]:
    labels = ["use_of_force"] if labelled else []
    title = " ".join(BODIES[i].split()[:2]) if i % 2 else ""
    return {"id": f"p-{i:02d}", "title": title, "body": BODIES[i], "labels": labels}


def write_files(tmp_path: Path, n: int = 12, duplicate_of: int | None = 0) -> tuple[Path, Path]:
    rows = [passage(i, labelled=i % 3 != 2) for i in range(n)]
    if duplicate_of is not None:  # the same story republished by another outlet
        copy = dict(rows[duplicate_of])
        copy["id"] = "p-copy"
        copy["title"] = "Another outlet's headline"
        rows.append(copy)
    sentences = []
    for row in rows:
        if not row["labels"]:
            continue
        body = str(row["body"])
        start = 0
        for k, part in enumerate(body.split(". ")):
            text = part if part.endswith(".") else part + "."
            sentences.append(
                {
                    "id": row["id"],
                    "n": k,
                    "field": "body",
                    "start": start,
                    "end": start + len(text),
                    "text": text,
                    "labels": ["use_of_force"] if k == 0 else [],
                }
            )
            start += len(text) + 1
    passages_path = tmp_path / "passages.jsonl"
    passages_path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sentences_path = tmp_path / "sentences.jsonl"
    sentences_path.write_text("".join(json.dumps(r) + "\n" for r in sentences), encoding="utf-8")
    return passages_path, sentences_path


def test_labelled_sentences_come_first_then_unlabelled_passages_as_negatives(tmp_path: Path) -> None:
    s = load_sentence_set(*write_files(tmp_path))
    ids = [s.passages.articles[p].id for p in s.passage]
    n_labelled = int(s.labelled.sum())
    assert s.labelled[:n_labelled].all()
    assert not s.labelled[n_labelled:].any()
    # the unlabelled passages (every third) are split by the service's splitter: title + 3 sentences
    unlabelled = [a for a in s.passages.articles if not a.id.startswith("p-copy") and int(a.id[2:]) % 3 == 2]
    for article in unlabelled:
        rows = [k for k, pid in enumerate(ids) if pid == article.id]
        assert len(rows) == 3 + bool(article.title)
        assert not s.labelled[rows].any()
        assert s.y[rows].sum() == 0
    force = CATEGORIES.index("use_of_force")
    assert s.y[s.labelled, force].sum() == n_labelled // 3  # the first sentence of each labelled passage


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_passage_and_no_story_is_split_across_folds(tmp_path: Path, seed: int) -> None:
    s = load_sentence_set(*write_files(tmp_path))
    copy = next(i for i, a in enumerate(s.passages.articles) if a.id == "p-copy")
    assert s.group[s.passage == copy][0] == s.group[s.passage == 0][0]  # near-duplicates: one story
    seen = np.zeros(len(s), dtype=int)
    for train, test in sentence_folds(s, 4, seed):
        seen[test] += 1
        assert not set(s.passage[train]) & set(s.passage[test])
        assert not set(s.group[train]) & set(s.group[test])
        held = set(s.passage[test])
        assert copy in held or 0 not in held  # the copy sits with its original
    assert (seen == 1).all()  # every sentence tested exactly once


def test_folds_of_a_subset_stay_grouped(tmp_path: Path) -> None:
    s = load_sentence_set(*write_files(tmp_path))
    outer_train, _ = sentence_folds(s, 3, 0)[0]
    for train, test in sentence_folds(s, 2, 1, outer_train):
        assert set(train) | set(test) == set(outer_train)
        assert not set(s.passage[train]) & set(s.passage[test])


def test_sentence_of_unknown_passage_is_an_error(tmp_path: Path) -> None:
    passages_path, sentences_path = write_files(tmp_path, duplicate_of=None)
    with sentences_path.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "nowhere", "n": 0, "text": "A sentence.", "labels": []}) + "\n")
    with pytest.raises(DatasetError, match="unknown passage"):
        load_sentence_set(passages_path, sentences_path)


def test_labelled_passage_without_sentences_is_an_error(tmp_path: Path) -> None:
    passages_path, sentences_path = write_files(tmp_path, duplicate_of=None)
    kept = [line for line in sentences_path.read_text().splitlines() if '"p-00"' not in line]
    sentences_path.write_text("".join(line + "\n" for line in kept))
    with pytest.raises(DatasetError, match="no labelled sentences"):
        load_sentence_set(passages_path, sentences_path)


def test_thresholds_never_see_the_reported_fold(tmp_path: Path) -> None:
    from streams.training.sentence_cv import cross_validate_sentences

    s = load_sentence_set(*write_files(tmp_path))
    calls: list[tuple[set[int], set[int]]] = []

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        calls.append((set(train.tolist()), set(test.tolist())))
        return np.full((len(test), len(CATEGORIES)), 0.7)

    result = cross_validate_sentences(s, fit_predict, folds=3, inner_folds=2, seed=0)
    assert len(calls) == 3 * (2 + 1)  # per outer fold: two inner fits, then the outer one
    for k in range(3):
        *inner, (outer_train, outer_test) = calls[3 * k : 3 * k + 3]
        for train, test in inner:
            assert (train | test) == outer_train
            assert not (train | test) & outer_test
    assert result["n"] == len(s)
    assert result["fixed_0.5"]["flash"]["n"] == len(s)
    assert result["nested"]["sentences"]["n"] == int(s.labelled.sum())
