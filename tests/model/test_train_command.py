"""``flashpoint train`` on a small labelled file written for the tests: seeded, reproducible, loadable.

The texts are the fictional articles of tests/corpus.py (none from the training data). The torch
backend is used so that no ONNX export is needed; the shipped artifact is trained the same way
with the ONNX int8 encoder.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from schemas import CATEGORIES
from schemas.events import Article
from streams.classifier.artifact import Artifact, Metrics
from streams.classifier.classifier import EscalationClassifier
from streams.cli.model import train_command
from streams.training import recipe
from streams.training.dataset import DEFAULT_SUPPLEMENT
from tests.support.corpus import ALL_ARTICLES, ESCALATIONS
from tests.support.sentence_files import write_sentence_file

pytestmark = [pytest.mark.model, pytest.mark.slow]


def _train(data: Path, out: Path, seed: int, *extra: str) -> None:
    result = CliRunner().invoke(
        train_command,
        [
            *extra,
            "--data",
            str(data),
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--no-cv",
            "--backend",
            "torch",
            "--folds",
            "3",
            # the short examples only: the packaged context articles would triple the encoding time
            "--supplement",
            str(DEFAULT_SUPPLEMENT),
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("train")
    data = root / "labelled.jsonl"
    rows = [{"id": i, "title": t, "body": b, "labels": sorted(labels)} for i, t, b, labels in ALL_ARTICLES]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    a, b = root / "a", root / "b"
    _train(data, a, seed=0)
    _train(data, b, seed=0)
    return data, a, b


def test_artifact_has_versioned_metadata(trained: tuple[Path, Path, Path]) -> None:
    data, a, _ = trained
    artifact = Artifact.read(a)  # validates both files and their agreement
    manifest, thresholds = artifact.manifest, artifact.thresholds
    assert manifest.categories == list(CATEGORIES)
    assert manifest.data.n == len(ALL_ARTICLES)
    assert manifest.data.sha256 == hashlib.sha256(data.read_bytes()).hexdigest()
    # the packaged supplement joined the fit, without its items that retell a corpus article
    assert manifest.supplement is not None
    [supplement] = manifest.supplement
    assert supplement.path == DEFAULT_SUPPLEMENT.name
    assert supplement.sha256 == hashlib.sha256(DEFAULT_SUPPLEMENT.read_bytes()).hexdigest()
    lines = len(DEFAULT_SUPPLEMENT.read_text(encoding="utf-8").splitlines())
    assert supplement.n + supplement.left_out_as_near_duplicates == lines
    assert thresholds.thresholds_version.startswith(manifest.head_version)
    assert set(thresholds.thresholds) == set(CATEGORIES)
    assert manifest.long_words is not None
    assert thresholds.long_thresholds is not None
    metrics = Metrics.read(a)
    assert metrics.oof_with_final_thresholds.n == len(ALL_ARTICLES)
    assert metrics.nested_cv is None  # --no-cv


def test_same_seed_same_artifact(trained: tuple[Path, Path, Path]) -> None:
    _, a, b = trained
    assert (a / "thresholds.json").read_text() == (b / "thresholds.json").read_text()
    weights = json.loads((a / "manifest.json").read_text())["weights"]
    assert weights == json.loads((b / "manifest.json").read_text())["weights"]
    assert len(weights["cue"]) == len(CATEGORIES)  # chosen per category
    # the cue models are written when some category's cue weight is not 0, for passages or long articles
    long_weights = json.loads((a / "manifest.json").read_text())["long_weights"]
    cue = sorted(str(f.relative_to(a)) for f in a.glob("cue/*.npz"))
    assert len(cue) == (len(CATEGORIES) if any(weights["cue"]) or any(long_weights["cue"]) else 0)
    assert cue == sorted(str(f.relative_to(b)) for f in b.glob("cue/*.npz"))
    for name in ["word.npz", "char.npz", "embedding_head.npz", *cue]:
        with np.load(a / name) as x, np.load(b / name) as y:
            assert x.files == y.files
            for key in x.files:
                assert np.array_equal(x[key], y[key]), (name, key)


def test_trained_artifact_loads_and_fits_its_training_data(trained: tuple[Path, Path, Path]) -> None:
    _, a, _ = trained
    clf = EscalationClassifier(a, backend="torch")
    arts = [Article(id=i, title=t, body=b) for i, t, b, _ in ESCALATIONS[:6]]
    out = clf.assess(arts)
    hits = sum(
        labels <= {s.category for s in o.signals} for o, (*_, labels) in zip(out, ESCALATIONS, strict=False)
    )
    # a head fitted on these very texts must recall most of them (a broken fit recalls none)
    assert hits >= 4, [(o.scores, labels) for o, (*_, labels) in zip(out, ESCALATIONS, strict=False)]


def test_train_with_the_sentence_file_adds_the_flash_calibration(
    trained: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, _, _ = trained
    sentences = write_sentence_file(tmp_path / "sentences.jsonl")
    out = tmp_path / "with-sentences"
    _train(data, out, 0, "--sentences", str(sentences), "--head-version", "test-sentences-1")
    artifact = Artifact.read(out)
    manifest, thresholds = artifact.manifest, artifact.thresholds
    assert manifest.head_version == "test-sentences-1"
    assert manifest.short_sentences == recipe.SHORT_SENTENCES
    assert manifest.short_words == recipe.SHORT_WORDS
    assert thresholds.short_thresholds is not None
    assert thresholds.sentence_thresholds is not None
    assert (out / "sentence_head.npz").is_file()
    # a one-line flash meets the flash thresholds, a long article of the corpus the others
    clf = EscalationClassifier(out, backend="torch")
    flash = Article(id="flash", title="", body=ESCALATIONS[0][2].split(". ")[0] + ".")
    long = Article(id="long", title=ESCALATIONS[0][1], body=" ".join(b for _, _, b, _ in ESCALATIONS[:4]))
    _, per_article, _, _ = clf.score([flash, long])
    short = [thresholds.short_thresholds[c] for c in CATEGORIES]
    assert np.allclose(per_article[0], short, atol=1e-6)
    assert not np.allclose(per_article[1], short, atol=1e-6)
