"""``train``: fit the head on a labelled file, calibrate it on grouped out-of-fold scores, and
write a versioned artifact (:mod:`streams.classifier.artifact`) with its metrics.

scikit-learn and matplotlib are needed here (``flashpoint[train]``), not at run time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from schemas import CATEGORIES
from streams.classifier.artifact import (
    ARTIFACTS_DIR,
    DEFAULT_HEAD_VERSION,
    FORMAT_VERSION,
    Artifact,
    DataFile,
    Hyperparameters,
    Manifest,
    Metrics,
)
from streams.classifier.encoder import export_onnx
from streams.classifier.head import Calibration
from streams.training import recipe
from streams.training.components import FittedHead, fit_components
from streams.training.crossval import calibrate_rows, calibration_record, cross_validate, out_of_fold
from streams.training.dataset import DEFAULT_SUPPLEMENTS, load_dataset, load_supplements
from streams.training.evaluation import metrics_from_predictions
from streams.training.features import build_training_features
from streams.training.recipe import LONG_WORDS, is_on

__all__ = ["train", "write_artifact"]

log = logging.getLogger(__name__)

DEFAULT_ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def train(
    data_path: str | Path,
    out_dir: str | Path | None = None,
    *,
    seed: int = 0,
    folds: int = 5,
    encoder: str = "",
    backend: str = "onnx",
    cross_validation: bool = True,
    head_version: str = DEFAULT_HEAD_VERSION,
    finetune_layers: int = recipe.FINETUNE_LAYERS,
    threshold_folds: int = recipe.THRESHOLD_FOLDS,
    inner_folds: int = recipe.INNER_FOLDS,
    epochs: int = recipe.EPOCHS,
    supplement: str | Path | Sequence[str | Path] | None = DEFAULT_SUPPLEMENTS,
    sentences: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Metrics:
    """Fit the head on ``data_path`` and write the artifact to ``out_dir``; return its metrics.

    ``supplement`` (labelled files in the same format; None for none) joins every fit —
    the final one and each fold's — but no fold's test part, no threshold choice and no metric:
    those are on ``data_path`` alone, so the cross-validated figures stay those of that file.

    Thresholds: grouped ``threshold_folds``-fold out-of-fold scores on the whole file,
    F1-maximising per category. With ``cross_validation`` the nested CV estimate (``folds``
    outer folds, ``inner_folds`` inside each for its thresholds) is stored in metrics.json.
    ``finetune_layers`` > 0 fine-tunes that many top encoder layers as a sentence scorer
    (component ``sentence``); 0 keeps the encoder frozen (component ``embedding``).

    ``sentences``: the file of the labelled passages' sentences, each labelled on its own
    (``dev-sentences.jsonl``). With it the head gains the sentence model (component
    ``sentence``, fitted on the sentence labels), a calibration for wire flashes (at most two
    sentences and SHORT_WORDS words) chosen on single held-out sentences, and evidence by the
    sentence model: the shipped ``minilm-sentence-v7``. Without it, the head of
    ``minilm-context-v6`` (four components, passage and long calibrations).
    """
    say = progress or (lambda msg: log.info("%s", msg))
    t0 = time.monotonic()
    np.random.seed(seed)
    data = load_dataset(data_path)  # DatasetError before anything is written
    extra, supplements = load_supplements(supplement or None, data)
    out = Path(out_dir) if out_dir else ARTIFACTS_DIR / head_version
    out.mkdir(parents=True, exist_ok=True)
    say(f"{len(data.articles)} labelled articles, sha256 {data.sha256[:12]}")
    for record in supplements:
        left_out = record.left_out_as_near_duplicates
        say(
            f"supplement {record.path}: {record.n} labelled articles in every fit, "
            f"sha256 {record.sha256[:12]}"
            + (
                f" ({left_out} left out: the same story as a passage of {Path(data.path).name})"
                if left_out
                else ""
            )
        )
    sentences_path = sentences
    if sentences_path is not None and finetune_layers:
        raise ValueError("the sentence file and fine-tuned layers do not go together")
    if sentences_path is not None:
        say(f"sentence labels: {sentences_path}")
    # the recipe; the calibration picks the cue (and sentence) weights (the nested CV starts
    # from the recipe too)
    if finetune_layers:
        weights = dict(recipe.WEIGHTS_FINETUNED)
    else:
        weights = dict(recipe.WEIGHTS_SENTENCES if sentences_path is not None else recipe.WEIGHTS_FROZEN)

    onnx_path = None
    if backend == "onnx" and (
        is_on(weights, "embedding") or (is_on(weights, "sentence") and not finetune_layers)
    ):
        onnx_path = out / "encoder-int8.onnx"
        say("exporting the encoder to ONNX int8")
        export_onnx(encoder, onnx_path, quantize=True)
    say("encoding sentences")
    feats, groups = build_training_features(
        data,
        extra,
        weights,
        sentences=sentences_path,
        encoder=encoder,
        backend=backend,
        onnx_path=onnx_path,
        finetune_layers=finetune_layers,
    )
    idx = np.arange(len(data.y))

    say(f"choosing weights and thresholds on grouped {threshold_folds}-fold out-of-fold scores")
    rng = np.random.default_rng(seed)
    oof, rows = out_of_fold(
        idx, feats, groups, k=threshold_folds, seed=seed, weights=weights, epochs=epochs, rng=rng
    )
    passages = rows < len(idx)
    cal = calibrate_rows(oof, feats, rows, weights, len(idx))
    oof_pred = cal.predict(
        {c: p[passages] for c, p in oof.items()},
        feats.words(rows[passages]),
        feats.n_sentences(rows[passages]),
    )
    oof_metrics = metrics_from_predictions(feats.y[rows[passages]], oof_pred)

    say("fitting the head on all data")
    # every component either calibration uses (the passage cue weights may all be 0, the long ones not)
    fitted = fit_components(feats, idx, dict.fromkeys(cal.used_components(), 1.0), seed, epochs)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        head_version=head_version,
        categories=list(CATEGORIES),
        encoder=encoder or DEFAULT_ENCODER_NAME,
        encoder_path=encoder,
        pooling="mean over tokens, L2-normalised, per sentence",
        weights=cal.weights,
        long_words=LONG_WORDS,
        long_weights=cal.long_weights,
        short_sentences=cal.short_sentences,
        short_words=cal.short_words,
        short_weights=cal.short_weights,
        hyperparameters=_hyperparameters(finetune_layers, epochs, threshold_folds, seed),
        data=DataFile(path=Path(data.path).name, sha256=data.sha256, n=len(data.articles)),
        supplement=supplements or None,
        created_unix=int(time.time()),
    )
    write_artifact(out, fitted, cal, manifest, threshold_folds=threshold_folds, encoder=encoder, say=say)
    fit_seconds = round(time.monotonic() - t0, 1)
    nested_cv = None
    if cross_validation:
        say(f"nested grouped {folds}-fold cross-validation ({inner_folds} inner folds)")
        nested_cv = cross_validate(
            feats,
            groups,
            weights,
            folds=folds,
            inner_folds=inner_folds,
            seed=seed,
            epochs=epochs,
            progress=say,
        )
    metrics = Metrics.model_validate(
        {
            "oof_with_final_thresholds": oof_metrics,
            "nested_cv": nested_cv,
            "fit_seconds": fit_seconds,
            "train_seconds": round(time.monotonic() - t0, 1),
        }
    )
    metrics.write(out)
    say(f"artifact written to {out}: fit in {metrics.fit_seconds} s, total {metrics.train_seconds} s")
    return metrics


def _hyperparameters(finetune_layers: int, epochs: int, threshold_folds: int, seed: int) -> Hyperparameters:
    return Hyperparameters(
        embedding_C=recipe.EMBEDDING_C,
        word_C=recipe.WORD_C,
        char_C=recipe.CHAR_C,
        char_max_features=recipe.CHAR_MAX_FEATURES,
        cue_C=recipe.CUE_C,
        cue_min_df=recipe.CUE_MIN_DF,
        cue_weight_grid=list(recipe.CUE_WEIGHT_GRID),
        sentence_C=recipe.SENTENCE_C,
        sentence_weight_grid=list(recipe.SENTENCE_WEIGHT_GRID),
        max_sentences=recipe.MAX_SENTENCES,
        finetune_layers=finetune_layers,
        epochs=epochs,
        threshold_folds=threshold_folds,
        concat_per_passage=recipe.CONCAT_PER_PASSAGE,
        concat_parts=recipe.CONCAT_PARTS,
        seed=seed,
    )


def thresholds_version(head_version: str, cal: Calibration) -> str:
    """The head version and a hash of the calibration: what a classification reports."""
    long_thresholds = cal.thresholds if cal.long_thresholds is None else cal.long_thresholds
    blob = json.dumps(
        [
            [round(float(t), 6) for t in (*cal.thresholds, *long_thresholds)],
            cal.long_words,
            calibration_record(cal),
        ]
    ).encode()
    return f"{head_version}-t{hashlib.sha256(blob).hexdigest()[:8]}"


def write_artifact(
    out: Path,
    fitted: FittedHead,
    cal: Calibration,
    manifest: Manifest,
    *,
    threshold_folds: int,
    encoder: str = "",
    say: Callable[[str], None] = log.info,
) -> Artifact:
    """Write the components, the fine-tuned encoder (if any), the manifest and the thresholds.

    The manifest's component weights and long-article routing are the calibration's.
    """
    calibrated = {
        "weights": cal.weights,
        "long_words": cal.long_words,
        "long_weights": cal.long_weights,
        "short_sentences": cal.short_sentences,
        "short_words": cal.short_words,
        "short_weights": cal.short_weights,
    }
    manifest = Manifest.model_validate({**manifest.model_dump(), **calibrated})
    fitted.components.save(out)
    if fitted.sentence_scorer is not None:
        info = fitted.sentence_scorer.save(out)
        manifest = Manifest.model_validate(
            {
                **manifest.model_dump(),
                "encoder_overrides": info["overrides"],
                "first_trainable_layer": info["first_trainable_layer"],
            }
        )
        # the ONNX backend (the service default) runs the fine-tuned encoder exported here
        say("exporting the fine-tuned encoder to ONNX int8")
        export_onnx(encoder, out / "encoder-int8.onnx", quantize=True, overrides=out / info["overrides"])
    thresholds = cal.thresholds_file(
        thresholds_version(manifest.head_version, cal),
        method=f"max F1 on grouped {threshold_folds}-fold out-of-fold scores",
        long_method="max F1 on the same folds' synthetic long articles (and passages) "
        f"of more than {cal.long_words} words",
        short_method="max F1 on the same folds' single held-out sentences, each classified as a "
        f"one-sentence article (and passages of at most {cal.short_sentences} sentences and "
        f"{cal.short_words} words)",
        sentence_method="max F1 of the sentence model's probability on the same folds' single "
        "held-out sentences: a sentence at or above it is evidence",
    )
    artifact = Artifact(manifest=manifest, thresholds=thresholds)
    artifact.write(out)
    return artifact
