"""Multi-instance fine-tuning of the encoder's top layers as a sentence scorer (training only).

The article labels say *that* a passage has a category, not *which* sentence carries it. The
model scores every sentence (top ``layers`` transformer layers of the encoder, fine-tuned, mean
pooling, L2 normalisation, one linear layer → nine logits) and an article's logit for a category
is the **maximum** over its sentences; the loss is binary cross-entropy on articles. The lower
layers stay frozen, so their outputs are computed once and cached, which makes training on two
CPU cores take minutes. At inference the same maximum gives the score and its arg-max sentence
is the evidence.

Needs torch (training time only; the service runs the exported ONNX model).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["HiddenCache", "SentenceScorer", "fit_sentence_scorer", "hidden_cache", "optimiser"]

#: The sentence embedding is L2-normalised, then scaled by this before the linear layer, so
#: the head's logits have a usable range; inference folds it into the stored weights.
EMBED_SCALE = 10.0


@dataclass
class HiddenCache:
    """Per sentence, the frozen encoder's hidden states entering layer ``first_trainable``."""

    states: list[np.ndarray]  # [tokens, dim] float16, one per sentence
    first_trainable: int


def hidden_cache(torch_encoder: Any, sentences: Sequence[str], first_trainable: int) -> HiddenCache:
    from streams.training.sentence_cache import encode_sentences

    return encode_sentences(torch_encoder, sentences, [first_trainable]).caches[first_trainable]


def _make_module(base_model: Any, first_trainable: int, n_labels: int) -> Any:
    import torch

    class Top(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = copy.deepcopy(base_model.encoder.layer[first_trainable:])
            self.head = torch.nn.Linear(base_model.config.hidden_size, n_labels)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            additive = (1.0 - mask[:, None, None, :]) * -1e4
            for layer in self.layers:
                x = layer(x, attention_mask=additive)
            m = mask[..., None]
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1) * EMBED_SCALE
            logits: torch.Tensor = self.head(pooled)
            return logits

    return Top()


class SentenceScorer:
    """A trained top-of-encoder + linear head; scores sentences from cached hidden states."""

    def __init__(self, module: Any, first_trainable: int) -> None:
        self.module = module
        self.first_trainable = first_trainable

    def sentence_logits(self, cache: HiddenCache, sentence_ids: Sequence[int], batch: int = 64) -> np.ndarray:
        import torch

        out = np.zeros((len(sentence_ids), self.module.head.out_features), dtype=np.float32)
        order = sorted(range(len(sentence_ids)), key=lambda i: len(cache.states[sentence_ids[i]]))
        self.module.eval()
        with torch.no_grad():
            for k in range(0, len(order), batch):
                chunk = order[k : k + batch]
                x, m = _stack([cache.states[sentence_ids[i]] for i in chunk])
                out[chunk] = self.module(x, m).numpy()
        return out

    def article_scores(
        self, cache: HiddenCache, art_sents: Sequence[np.ndarray], articles: Sequence[int]
    ) -> np.ndarray:
        sids = np.concatenate([art_sents[a] for a in articles]) if len(articles) else np.zeros(0, int)
        logits = self.sentence_logits(cache, list(sids))
        out = np.zeros((len(articles), logits.shape[1] if len(logits) else self.module.head.out_features))
        p = 0
        for r, a in enumerate(articles):
            n = len(art_sents[a])
            if n:
                out[r] = 1.0 / (1.0 + np.exp(-logits[p : p + n].max(0)))
            p += n
        return out

    def save(self, directory: Path) -> dict[str, Any]:
        """Top layers as a safetensors file of encoder parameters (fp16); head as npz."""
        import torch
        from safetensors.torch import save_file

        state = {}
        for name, tensor in self.module.layers.state_dict().items():
            index, rest = name.split(".", 1)
            state[f"encoder.layer.{self.first_trainable + int(index)}.{rest}"] = (
                tensor.detach().to(torch.float16).contiguous()
            )
        save_file(state, str(directory / "encoder_top.safetensors"))
        w = self.module.head.weight.detach().numpy().T * EMBED_SCALE  # [dim, k]
        b = self.module.head.bias.detach().numpy()
        np.savez_compressed(
            directory / "sentence_head.npz", coef=w.astype(np.float32), intercept=b.astype(np.float32)
        )
        return {"first_trainable_layer": self.first_trainable, "overrides": "encoder_top.safetensors"}


def _stack(states: Sequence[np.ndarray]) -> tuple[Any, Any]:
    import torch

    longest = max(len(s) for s in states)
    dim = states[0].shape[1]
    x = torch.zeros(len(states), longest, dim)
    m = torch.zeros(len(states), longest)
    for j, s in enumerate(states):
        x[j, : len(s)] = torch.from_numpy(s.astype(np.float32))
        m[j, : len(s)] = 1
    return x, m


def optimiser(
    module: Any, lr: float, head_lr: float, weight_decay: float, steps: int
) -> Callable[[Any], None]:
    """One training step of ``module`` (its ``layers`` at ``lr``, its ``head`` at ``head_lr``;
    AdamW, 10 % linear warm-up, then linear decay to 0 at ``steps``) as a function of the loss."""
    import torch

    opt = torch.optim.AdamW(
        [
            {"params": module.layers.parameters(), "lr": lr},
            {"params": module.head.parameters(), "lr": head_lr},
        ],
        weight_decay=weight_decay,
    )
    warmup = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
    )

    def step(loss: Any) -> None:
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

    return step


def fit_sentence_scorer(
    base_model: Any,
    cache: HiddenCache,
    art_sents: Sequence[np.ndarray],
    y: np.ndarray,
    articles: Sequence[int] | np.ndarray,
    *,
    epochs: int = 6,
    lr: float = 5e-5,
    head_lr: float = 1e-2,
    batch_articles: int = 8,
    seed: int = 0,
) -> SentenceScorer:
    """Train on ``articles`` (indices into ``art_sents`` / ``y``) with max-over-sentences BCE."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    module = _make_module(base_model, cache.first_trainable, y.shape[1])
    used = np.array([a for a in articles if len(art_sents[a])])
    pos = y[used].sum(0)
    pos_weight = torch.tensor(np.sqrt((len(used) - pos) / np.maximum(pos, 1)), dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    step = optimiser(module, lr, head_lr, 0.01, epochs * int(np.ceil(len(used) / batch_articles)))
    for _ in range(epochs):
        module.train()
        perm = rng.permutation(used)
        for k in range(0, len(perm), batch_articles):
            arts = perm[k : k + batch_articles]
            sids = np.concatenate([art_sents[a] for a in arts])
            x, m = _stack([cache.states[i] for i in sids])
            logits = module(x, m)
            per_article = []
            p = 0
            for a in arts:
                n = len(art_sents[a])
                per_article.append(logits[p : p + n].max(0).values)
                p += n
            step(loss_fn(torch.stack(per_article), torch.tensor(y[arts], dtype=torch.float32)))
    module.eval()
    return SentenceScorer(module, cache.first_trainable)
