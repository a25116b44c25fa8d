"""The sentence model's training loop and the encoder-state cache, on a tiny randomly initialised
BERT (no download, a few seconds): the cache gives the same states from disk, and fine-tuning the
top layer separates two kinds of token sequence. Needs torch and transformers (the training
environment); skipped elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from streams.training.sentence_cache import encode_sentences  # noqa: E402
from streams.training.sentence_model import (  # noqa: E402
    SentenceModelSettings,
    fit_sentence_model,
    predict_sentences,
)


class TinyEncoder:
    """What encode_sentences reads of a TorchEncoder: ``_model``, ``_tokenize`` and ``path``."""

    def __init__(self, path: Path) -> None:
        torch.manual_seed(0)
        config = transformers.BertConfig(
            vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32
        )
        self._model = transformers.BertModel(config).eval()
        self.path = str(path)

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        return [[1] + [2 + (ord(ch) % 40) for ch in t.split()[0][:6]] * 2 + [3] for t in texts]


def texts_and_labels(n: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.RandomState(0)
    texts, y = [], []
    for i in range(n):
        positive = i % 2 == 0
        word = "".join(rng.choice(list("abcde" if positive else "vwxyz"), 5))
        texts.append(f"{word} sentence {i}")
        y.append([int(positive), 0])
    return texts, np.array(y)


def test_cache_on_disk_gives_the_same_states(tmp_path: Path) -> None:
    enc = TinyEncoder(tmp_path)
    texts, _ = texts_and_labels(10)
    first = encode_sentences(enc, texts, [1], tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("states-*.npz"))) == 1
    again = encode_sentences(enc, texts, [1], tmp_path / "cache")
    for a, b in zip(first.caches[1].states, again.caches[1].states, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(first.pooled, again.pooled)
    assert first.caches[1].states[0].shape == (len(enc._tokenize(texts[:1])[0]), 16)
    np.testing.assert_allclose(np.linalg.norm(first.pooled, axis=1), 1.0, rtol=1e-5)


def test_fine_tuning_the_top_layer_learns_a_separable_label(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    enc = TinyEncoder(tmp_path)
    texts, y = texts_and_labels(80)
    cache = encode_sentences(enc, texts, [1]).caches[1]
    settings = SentenceModelSettings(epochs=15, lr=1e-3, head_lr=2e-2, batch=8)
    model: Any = fit_sentence_model(enc._model, cache, np.arange(60), y, settings)
    p = predict_sentences(model, cache, np.arange(60, 80))
    assert p.shape == (20, 2)
    accuracy = ((p[:, 0] >= 0.5) == y[60:, 0].astype(bool)).mean()
    assert accuracy >= 0.9
    assert (p[:, 1] < 0.5).all()  # a label never seen positive stays off
