"""A multi-label sentence classifier: the encoder's top layers fine-tuned on sentence labels.

Each sentence is its own example (unlike :mod:`streams.training.finetune`, where a passage's
score is the maximum over its sentences and only passage labels are known): the top ``layers``
transformer layers of all-MiniLM-L6-v2, mean pooling, L2 normalisation and one linear layer give
nine logits, trained with per-category binary cross-entropy on the sentence labels. The module
is :func:`streams.training.finetune._make_module`, so a trained model saves and scores like a
:class:`~streams.training.finetune.SentenceScorer`. The lower layers stay frozen; their outputs
come from a :class:`~streams.training.finetune.HiddenCache`, which is what makes training on
two CPU cores take minutes. Batches hold sentences of similar length (little padding).

Targets may be soft (in [0, 1]): distillation from a larger teacher mixes its probabilities
into the 0/1 labels.

Needs torch (training time only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from streams.training.finetune import HiddenCache, SentenceScorer, _make_module, _stack, optimiser

__all__ = ["SentenceModelSettings", "fit_sentence_model", "predict_sentences"]


@dataclass(frozen=True)
class SentenceModelSettings:
    epochs: int = 4
    lr: float = 1e-4
    head_lr: float = 5e-3
    batch: int = 32
    weight_decay: float = 0.01
    #: positive-class weight per category: (negatives / positives) ** pos_weight_power
    pos_weight_power: float = 0.5
    seed: int = 0


def _length_batches(lengths: np.ndarray, rows: np.ndarray, batch: int, rng: Any) -> list[np.ndarray]:
    """``rows`` shuffled, then sorted by length within windows of 50 batches and cut into
    batches, in random order: similar lengths share a batch, the order still varies."""
    perm = rng.permutation(rows)
    window = 50 * batch
    out: list[np.ndarray] = []
    for k in range(0, len(perm), window):
        part = perm[k : k + window]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[j : j + batch] for j in range(0, len(part), batch))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def fit_sentence_model(
    base_model: Any,
    cache: HiddenCache,
    rows: Sequence[int] | np.ndarray,
    targets: np.ndarray,
    settings: SentenceModelSettings = SentenceModelSettings(),
) -> SentenceScorer:
    """Fine-tune on the sentences ``rows`` (indices into ``cache`` and ``targets`` [n, k])."""
    import torch

    torch.manual_seed(settings.seed)
    rng = np.random.RandomState(settings.seed)
    rows = np.asarray(rows)
    module = _make_module(base_model, cache.first_trainable, targets.shape[1])
    lengths = np.array([len(s) for s in cache.states])
    pos = targets[rows].sum(0)
    ratio = (len(rows) - pos) / np.maximum(pos, 1)
    pos_weight = torch.tensor(ratio**settings.pos_weight_power, dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    steps = settings.epochs * int(np.ceil(len(rows) / settings.batch))
    step = optimiser(module, settings.lr, settings.head_lr, settings.weight_decay, steps)
    for _ in range(settings.epochs):
        module.train()
        for batch in _length_batches(lengths, rows, settings.batch, rng):
            x, m = _stack([cache.states[i] for i in batch])
            step(loss_fn(module(x, m), torch.tensor(targets[batch], dtype=torch.float32)))
    module.eval()
    return SentenceScorer(module, cache.first_trainable)


def predict_sentences(
    scorer: SentenceScorer, cache: HiddenCache, rows: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Probabilities [len(rows), k] of the sentences ``rows``."""
    logits = scorer.sentence_logits(cache, list(np.asarray(rows)))
    out: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
    return out
