"""Precision-recall curves per category (matplotlib), for ``flashpoint eval --plot``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve

from schemas import CATEGORIES

__all__ = ["plot_pr_curves"]


def plot_pr_curves(scores: np.ndarray, y: np.ndarray, thresholds: np.ndarray, path: str) -> None:
    """PR curves of ``scores`` [n, 9] against labels ``y``; ``thresholds`` [n, 9] are those each
    article's scores were compared with (long articles have their own), marked in red."""
    fig, axes = plt.subplots(3, 3, figsize=(12, 11), sharex=True, sharey=True)
    for j, (c, ax) in enumerate(zip(CATEGORIES, axes.ravel(), strict=True)):
        s, t = scores[:, j], y[:, j]
        if t.any():
            precision, recall, _ = precision_recall_curve(t, s)
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
