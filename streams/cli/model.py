"""``flashpoint train`` and ``flashpoint eval``: plain click commands (registered by streams.cli.main)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from schemas import CATEGORIES


def _classifier_settings(artifact: str | None, backend: str | None) -> Any:
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
) -> None:
    """Fit the classifier head and thresholds on labelled passages and write an artifact.

    Thresholds come from grouped out-of-fold scores; unless --no-cv, a nested grouped
    cross-validation estimate (thresholds chosen inside each fold) is stored in metrics.json.
    """
    from streams.training import train as t

    if supplement and no_supplement:
        raise click.UsageError("--supplement and --no-supplement exclude each other")
    try:
        metrics = t.train(
            data,
            out,
            seed=seed,
            folds=folds,
            inner_folds=inner_folds or t.INNER_FOLDS,
            encoder=encoder,
            backend=backend,
            cross_validation=not no_cv,
            finetune_layers=t.FINETUNE_LAYERS if finetune_layers is None else finetune_layers,
            epochs=epochs or t.EPOCHS,
            supplement=None if no_supplement else supplement or t.DEFAULT_SUPPLEMENTS,
            progress=lambda msg: click.echo(msg, err=True),
        )
    except t.DatasetError as e:
        raise click.ClickException(str(e)) from None
    if "nested_cv" in metrics:
        cv = metrics["nested_cv"]
        click.echo(format_metrics(cv, title=f"nested grouped {folds}-fold CV, passages"))
        if "long_articles" in cv:
            title = (
                "the same folds, synthetic long articles (2-4 held-out passages each; "
                f"over {cv['long_words']} words, the long calibration applies)"
            )
            click.echo(format_metrics(cv["long_articles"], title=title))
    click.echo(f"trained in {metrics['train_seconds']} s")


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

    from streams.classifier.model import load_classifier
    from streams.training.train import DatasetError, evaluate, load_dataset

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


def plot_pr_curves(scores: Any, y: Any, thresholds: Any, path: str) -> None:
    """PR curves of ``scores`` against labels ``y``; ``thresholds`` [n, 9] are those each article's
    scores were compared with (long articles have their own)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(3, 3, figsize=(12, 11), sharex=True, sharey=True)
    for j, (c, ax) in enumerate(zip(CATEGORIES, axes.ravel(), strict=True)):
        s, t = scores[:, j], y[:, j]
        order = np.argsort(-s)
        tp = np.cumsum(t[order])
        precision = tp / np.arange(1, len(s) + 1)
        recall = tp / max(t.sum(), 1)
        ax.plot(recall, precision, lw=1.5)
        at = s >= thresholds[:, j]
        p_at = (t[at].sum() / at.sum()) if at.sum() else 0.0
        r_at = t[at].sum() / max(t.sum(), 1)
        label = f"threshold {np.median(thresholds[:, j]):.2f}"
        ax.scatter([r_at], [p_at], color="red", zorder=3, label=label)
        ax.set_title(f"{c} (n={int(t.sum())})")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("recall")
    for ax in axes[:, 0]:
        ax.set_ylabel("precision")
    fig.suptitle("Precision–recall per category (red: the signals at the stored thresholds)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
