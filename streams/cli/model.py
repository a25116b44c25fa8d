"""``flashpoint train`` and ``flashpoint eval``: plain click commands (registered by streams.cli.main)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from schemas import CATEGORIES

if TYPE_CHECKING:
    from streams.config import ClassifierSettings


def _classifier_settings(artifact: str | None, backend: str | None) -> ClassifierSettings:
    from streams.config import Settings

    settings = Settings().classifier
    update: dict[str, Any] = {}
    if artifact:
        update["artifact"] = artifact
    if backend:
        update["backend"] = backend
    return settings.model_copy(update=update) if update else settings


@click.command("train")
@click.option(
    "--data", "data", required=True, type=click.Path(exists=True, dir_okay=False), help="Labelled JSON Lines."
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="Artifact directory (default: the shipped one).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Folds for thresholds and CV."
)
@click.option(
    "--inner-folds",
    type=click.IntRange(2, 20),
    default=None,
    help="Inner folds choosing each outer fold's thresholds in the nested CV (default: the recipe's).",
)
@click.option("--no-cv", is_flag=True, help="Skip the nested cross-validation estimate.")
@click.option("--backend", type=click.Choice(["onnx", "torch"]), default="onnx", show_default=True)
@click.option(
    "--encoder", default="", help="Encoder directory or HF id (default: packaged all-MiniLM-L6-v2)."
)
@click.option(
    "--finetune-layers",
    type=click.IntRange(0, 12),
    default=None,
    help="Top encoder layers fine-tuned as a sentence scorer (0 = frozen). Default: the shipped recipe.",
)
@click.option("--epochs", type=click.IntRange(1, 50), default=None, help="Fine-tuning epochs.")
@click.option(
    "--supplement",
    type=click.Path(exists=True, dir_okay=False),
    multiple=True,
    help="Labelled JSON Lines added to every fit but to no fold's test part, threshold or metric; "
    "repeat for several files (default: the packaged codebook examples and context articles).",
)
@click.option("--no-supplement", is_flag=True, help="Fit on --data alone.")
@click.option(
    "--sentences",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The --data passages' sentences, each labelled on its own (dev-sentences.jsonl): adds the "
    "sentence model, the wire-flash calibration and evidence by sentence.",
)
@click.option("--head-version", default=None, help="The artifact's head_version (default: the shipped one).")
def train_command(
    *,
    data: str,
    out: str | None,
    seed: int,
    folds: int,
    inner_folds: int | None,
    no_cv: bool,
    backend: str,
    encoder: str,
    finetune_layers: int | None,
    epochs: int | None,
    supplement: tuple[str, ...],
    no_supplement: bool,
    sentences: str | None,
    head_version: str | None,
) -> None:
    """Fit the classifier head and thresholds on labelled passages and write an artifact.

    Thresholds come from grouped out-of-fold scores; unless --no-cv, a nested grouped
    cross-validation estimate (thresholds chosen inside each fold) is stored in metrics.json.
    """
    from streams.classifier.artifact import DEFAULT_HEAD_VERSION
    from streams.training import recipe
    from streams.training.dataset import DEFAULT_SUPPLEMENTS, DatasetError
    from streams.training.train import train

    if supplement and no_supplement:
        raise click.UsageError("--supplement and --no-supplement exclude each other")
    try:
        metrics = train(
            data,
            out,
            seed=seed,
            folds=folds,
            inner_folds=inner_folds or recipe.INNER_FOLDS,
            encoder=encoder,
            backend=backend,
            cross_validation=not no_cv,
            finetune_layers=recipe.FINETUNE_LAYERS if finetune_layers is None else finetune_layers,
            epochs=epochs or recipe.EPOCHS,
            supplement=None if no_supplement else supplement or DEFAULT_SUPPLEMENTS,
            sentences=sentences,
            head_version=head_version or DEFAULT_HEAD_VERSION,
            progress=lambda msg: click.echo(msg, err=True),
        )
    except DatasetError as e:
        raise click.ClickException(str(e)) from None
    if metrics.nested_cv is not None:
        cv = metrics.nested_cv.model_dump()
        click.echo(format_metrics(cv, title=f"nested grouped {folds}-fold CV, passages"))
        title = (
            "the same folds, synthetic long articles (2-4 held-out passages each; "
            f"over {recipe.LONG_WORDS} words, the long calibration applies)"
        )
        click.echo(format_metrics(cv["long_articles"], title=title))
        if cv.get("flash"):
            title = (
                "the same folds, each held-out sentence alone as a wire flash "
                "(the unlabelled passages' sentences as negatives)"
            )
            click.echo(format_metrics(cv["flash"], title=title))
        if cv.get("sentences"):
            click.echo(format_metrics(cv["sentences"], title="the same, the labelled sentences only"))
        if cv.get("evidence"):
            ev = cv["evidence"]
            click.echo(
                f"evidence precision (first evidence sentence carries the category): {ev['precision']:.3f} "
                f"over {ev['signals']} signals"
            )
    click.echo(f"trained in {metrics.train_seconds} s")


@click.command("eval")
@click.option(
    "--data", "data", required=True, type=click.Path(exists=True, dir_okay=False), help="Labelled JSON Lines."
)
@click.option(
    "--plot", type=click.Path(dir_okay=False), default=None, help="Write per-category PR curves (PNG)."
)
@click.option("--artifact", default=None, help="Artifact directory (default: settings / the shipped one).")
@click.option("--backend", type=click.Choice(["onnx", "torch"]), default=None)
@click.option(
    "--json-out", type=click.Path(dir_okay=False), default=None, help="Also write the metrics as JSON."
)
def eval_command(
    data: str, plot: str | None, artifact: str | None, backend: str | None, json_out: str | None
) -> None:
    """Score labelled passages with the classifier and print P/R/F1 per category."""
    from tqdm import tqdm

    from streams.classifier.classifier import load_classifier
    from streams.training.dataset import DatasetError, load_dataset
    from streams.training.evaluation import evaluate

    for out in (plot, json_out):  # fail before the scoring, not after it
        if out and not Path(out).resolve().parent.is_dir():
            raise click.ClickException(f"cannot write {out}: {Path(out).parent} is not a directory")
    try:
        dataset = load_dataset(data)
    except DatasetError as e:
        raise click.ClickException(str(e)) from None
    classifier = load_classifier(_classifier_settings(artifact, backend))
    bar = tqdm(
        total=len(dataset.articles), unit=" articles", file=sys.stderr, disable=not sys.stderr.isatty()
    )
    with bar:
        metrics, scores, thresholds, y = evaluate(classifier, dataset, progress=bar.update)
    if metrics["trained_on_this_file"]:
        click.echo(
            "note: the model was trained on this file; these are training-set figures, not CV.", err=True
        )
    click.echo(format_metrics(metrics, title=f"{Path(data).name} ({classifier.model_info.head_version})"))
    if json_out:
        Path(json_out).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if plot:
        from streams.training.plots import plot_pr_curves

        plot_pr_curves(scores, y, thresholds, plot)
        click.echo(f"wrote {plot}")


def format_metrics(metrics: dict[str, Any], title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'category':22s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'support':>8s}")
    for c in CATEGORIES:
        m = metrics["categories"][c]
        lines.append(f"{c:22s} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['support']:8d}")
    e = metrics["escalation"]
    name = "escalation (any of 8)"
    lines.append(f"{name:22s} {e['precision']:9.3f} {e['recall']:7.3f} {e['f1']:6.3f} {e['support']:8d}")
    averaged = metrics.get("macro_categories", CATEGORIES)
    if not averaged:
        lines.append(f"macro-F1: n/a (no category has examples or signals; n={metrics['n']})")
    elif len(averaged) == len(CATEGORIES):
        lines.append(f"macro-F1 over the 9 categories: {metrics['macro_f1']:.3f}  (n={metrics['n']})")
    else:
        left_out = ", ".join(c for c in CATEGORIES if c not in averaged)
        lines.append(
            f"macro-F1 over the {len(averaged)} categories with examples or signals: "
            f"{metrics['macro_f1']:.3f}  (n={metrics['n']}; no examples and no signals: {left_out})"
        )
    return "\n".join(lines)
