"""Frozen encoder states of a list of sentences, computed once and kept on disk.

One fp32 pass of the encoder gives, per sentence, the hidden states entering each of the layers
asked for (what :mod:`streams.training.sentence_model` fine-tunes from) and the final
mean-pooled, L2-normalised embedding (what a frozen-encoder baseline reads). They are stored
under a key made of the sentences, the encoder and the layers, so a cross-validation run never
encodes a sentence twice (two shared CPU cores). Training only: needs torch.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from streams.training.finetune import HiddenCache

__all__ = ["EncodedSentences", "encode_sentences"]


class EncodedSentences:
    """Per layer a :class:`~streams.training.finetune.HiddenCache`; ``pooled`` [n, dim]."""

    def __init__(self, caches: dict[int, HiddenCache], pooled: np.ndarray) -> None:
        self.caches = caches
        self.pooled = pooled


def _encoder_id(path: str) -> str:
    """The encoder's weights, not where they are installed (each environment has a copy)."""
    weights = sorted(Path(path).glob("*.safetensors")) or sorted(Path(path).glob("*.bin"))
    h = hashlib.sha256()
    for w in weights:
        h.update(f"{w.name}:{w.stat().st_size}".encode())
        with open(w, "rb") as f:
            h.update(f.read(1 << 20))
    return h.hexdigest()[:16] if weights else path


def _key(texts: Sequence[str], encoder_path: str, layers: Sequence[int]) -> str:
    h = hashlib.sha256(json.dumps([_encoder_id(encoder_path), sorted(layers), list(texts)]).encode())
    return h.hexdigest()[:20]


def _compute(torch_encoder: Any, texts: Sequence[str], layers: Sequence[int]) -> EncodedSentences:
    import torch

    from streams.classifier.encoder import _batches, _mean_pool_normalise, _pad

    model = torch_encoder._model
    ids = torch_encoder._tokenize(texts)
    states = {k: [np.zeros((0, 0), np.float16)] * len(texts) for k in layers}
    pooled = np.zeros((len(texts), int(model.config.hidden_size)), dtype=np.float32)
    with torch.inference_mode():
        for batch in _batches([len(x) for x in ids], 32, 4096):
            input_ids, mask = _pad([ids[i] for i in batch])
            out = model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.zeros(input_ids.shape, dtype=torch.long),
                output_hidden_states=True,
            )
            pooled[batch] = _mean_pool_normalise(out.last_hidden_state.numpy(), mask)
            for k in layers:
                h = out.hidden_states[k].numpy()
                for j, i in enumerate(batch):
                    states[k][i] = h[j, : len(ids[i])].astype(np.float16)
    return EncodedSentences({k: HiddenCache(v, k) for k, v in states.items()}, pooled)


def _save(enc: EncodedSentences, path: Path) -> None:
    arrays: dict[str, Any] = {"pooled": enc.pooled}
    for k, cache in enc.caches.items():
        arrays[f"lengths_{k}"] = np.array([len(s) for s in cache.states])
        arrays[f"states_{k}"] = np.concatenate(cache.states)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def _load(path: Path, layers: Sequence[int]) -> EncodedSentences:
    with np.load(path) as z:
        caches = {}
        for k in layers:
            flat = z[f"states_{k}"]
            bounds = np.cumsum(np.r_[0, z[f"lengths_{k}"]])
            caches[k] = HiddenCache([flat[a:b] for a, b in itertools.pairwise(bounds)], k)
        return EncodedSentences(caches, z["pooled"])


def encode_sentences(
    torch_encoder: Any, texts: Sequence[str], layers: Sequence[int], cache_dir: str | Path | None = None
) -> EncodedSentences:
    """The states entering ``layers`` (indices into the encoder's hidden states: 0 is the
    embedding output, ``k`` the input of layer ``k``) and the pooled final embeddings of
    ``texts``, from ``cache_dir`` when already computed there."""
    if cache_dir is None:
        return _compute(torch_encoder, texts, layers)
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"states-{_key(texts, torch_encoder.path, layers)}.npz"
    if path.exists():
        return _load(path, layers)
    enc = _compute(torch_encoder, texts, layers)
    _save(enc, path)
    return enc
