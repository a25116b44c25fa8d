"""Training, cross-validation and evaluation of the classifier head.

* :func:`train` fits the head on a labelled JSON Lines file (``title``, ``body``, ``labels``),
  picks per-category thresholds on grouped out-of-fold predictions, and writes a versioned
  artifact directory (head weights, thresholds, label list, encoder id, data hash, metrics).
* :func:`cross_validate` is the honest estimate: grouped k-fold (near-duplicate passages — the
  same wire story from several outlets — share a fold) with thresholds chosen *inside* each
  fold on the training part's own out-of-fold predictions, then applied to the test fold.
* :func:`evaluate` runs a loaded classifier (the same code path as the service) on a file.

scikit-learn is needed here (``flashpoint[train]``), not at run time.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from schemas import CATEGORIES, ESCALATION_CATEGORIES
from schemas.events import Article
from streams.classifier.cues import DEFAULT_LEXICON, CueModel
from streams.classifier.lexical import LexicalModel
from streams.classifier.model import (
    ARTIFACTS_DIR,
    DEFAULT_HEAD_VERSION,
    EmbeddingHead,
    combine_by_length,
    combine_weighted,
    encode_per_article,
    file_sha256,
    kept_spans,
    kept_text,
    thresholds_by_length,
    word_counts,
)

__all__ = [
    "Dataset",
    "DatasetError",
    "best_threshold",
    "cross_validate",
    "evaluate",
    "group_near_duplicates",
    "load_dataset",
    "metrics_from_predictions",
    "train",
]

log = logging.getLogger(__name__)

#: Hyper-parameters, chosen by grouped, nested CV on dev.jsonl (see docs/MODEL_CARD.md).
EMBEDDING_C = 0.01
WORD_C = 30.0
CHAR_C = 10.0
CHAR_MAX_FEATURES = 100_000
CUE_C = 10.0
CUE_MIN_DF = 1
#: The cue lexicon fitted (saved with the artifact); a setting for experiments such as
#: bench/cv_seeds.py --lexicon.
CUE_LEXICON: Path = DEFAULT_LEXICON
#: Component weights in the averaged score. The ``cue`` component's weight is chosen per
#: category from CUE_WEIGHT_GRID on out-of-fold scores (the F1-best; the smallest on ties).
WEIGHTS_FROZEN: dict[str, Any] = {"embedding": 1.0, "word": 1.0, "char": 1.0, "cue": 1.0}
WEIGHTS_FINETUNED: dict[str, Any] = {"sentence": 2.0, "word": 1.0, "char": 1.0}
CUE_WEIGHT_GRID = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)
FINETUNE_LAYERS = 0
EPOCHS = 6
THRESHOLD_FOLDS = 5
INNER_FOLDS = 4
MAX_SENTENCES = 64
#: Two passages are the same story when their word TF-IDF cosine exceeds this, or when they
#: share at least DUP_SHINGLES word 8-grams.
DUP_COSINE = 0.25
DUP_SHINGLES = 3
#: News articles are longer than the labelled passages (median 161 words) and mix several
#: stories, which dilutes a signal told in one paragraph. Articles whose kept text has more than
#: LONG_WORDS words get their own calibration (cue weights and thresholds), chosen on synthetic
#: long articles: CONCAT_PER_PASSAGE concatenations per passage of CONCAT_PARTS passages of
#: different stories, labelled with the union of their labels (the codebook counts context
#: stated as fact). The component models themselves are fitted on the passages only.
LONG_WORDS = 250
CONCAT_PER_PASSAGE = 1.0
CONCAT_PARTS = (2, 4)
#: Short labelled examples written for this project from the codebook (none from dev.jsonl):
#: wire-flash-length items of every category and hard negatives, which the passages of the
#: training file hardly have (12 of dev.jsonl's 673 are under 60 words). Every fit includes
#: them; folds, thresholds and metrics use the training file only (see :func:`train`).
DEFAULT_SUPPLEMENT = Path(__file__).resolve().parent / "data" / "codebook_examples.jsonl"
#: full-length articles written for the project whose signals are often context (a visit that
#: recounts a coup): what the service reads, and what the training file's passages rarely are
CONTEXT_ARTICLES = Path(__file__).resolve().parent / "data" / "context_articles.jsonl"
#: the files ``train`` adds to every fit unless told otherwise
DEFAULT_SUPPLEMENTS: tuple[Path, ...] = (DEFAULT_SUPPLEMENT, CONTEXT_ARTICLES)


@dataclass
class Dataset:
    """Labelled articles with their kept sentences and texts."""

    articles: list[Article]
    y: np.ndarray  # [n, 9] of 0/1
    sha256: str
    path: str

    def texts(self, max_sentences: int = MAX_SENTENCES) -> list[str]:
        out = []
        for a in self.articles:
            spans = kept_spans(a.title, a.body, max_sentences)
            out.append(kept_text(a.title, a.body, spans))
        return out

    def joined(self, other: Dataset) -> Dataset:
        """This file's articles followed by ``other``'s (hash and path stay this file's)."""
        return Dataset(self.articles + other.articles, np.vstack([self.y, other.y]), self.sha256, self.path)

    def without(self, rows: Sequence[int]) -> Dataset:
        """The same file without the articles at ``rows``."""
        left_out = set(rows)
        keep = [i for i in range(len(self.articles)) if i not in left_out]
        return Dataset([self.articles[i] for i in keep], self.y[keep], self.sha256, self.path)


def load_supplement(path: str | Path, data: Dataset) -> tuple[Dataset, int]:
    """The supplement at ``path`` without its items that tell the same story as an article of
    ``data`` (:func:`overlapping`), and how many were left out."""
    extra = load_dataset(path)
    dropped = overlapping(extra.texts(), data.texts())
    return extra.without(dropped), len(dropped)


def load_supplements(
    paths: str | Path | Sequence[str | Path] | None, data: Dataset
) -> tuple[Dataset | None, list[dict[str, Any]]]:
    """The supplement files at ``paths`` joined (:func:`load_supplement` each), and what the
    manifest records of each: file name, sha256, articles used, articles left out."""
    if paths is None:
        return None, []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    joined: Dataset | None = None
    records = []
    for path in paths:
        extra, left_out = load_supplement(path, data)
        records.append(
            {
                "path": Path(path).name,
                "sha256": extra.sha256,
                "n": len(extra.articles),
                "left_out_as_near_duplicates": left_out,
            }
        )
        joined = extra if joined is None else joined.joined(extra)
    return joined, records


class DatasetError(ValueError):
    """A labelled file that cannot be used; the message lists each bad line as ``FILE:N: reason``."""


#: Bad lines listed in a :class:`DatasetError` message (the rest are counted).
MAX_REPORTED_ERRORS = 20


def _labelled_row(text: str, n: int) -> tuple[Article, list[int]]:
    """One line of a labelled file, or ValueError with the reason."""
    from pydantic import ValidationError

    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("body"), str):
        raise ValueError("'body' is missing or not a string")
    title = row.get("title")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise ValueError("'title' is not a string")
    raw_id = row.get("id")
    article_id = f"line-{n}" if raw_id is None or raw_id == "" else str(raw_id)
    labels = row.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(c, str) for c in labels):
        raise ValueError("'labels' must be a list of category names")
    unknown = set(labels) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown labels {sorted(unknown)}")
    try:
        article = Article(id=article_id, title=title, body=row["body"])
    except ValidationError as e:
        reasons = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'article'}: {err['msg']}" for err in e.errors()
        )
        raise ValueError(f"invalid article ({reasons})") from None
    return article, [int(c in labels) for c in CATEGORIES]


def load_dataset(path: str | Path) -> Dataset:
    """Read a JSON Lines file of ``{id, title, body, labels}`` (extra fields are ignored).

    Every line is checked first; blank lines are skipped. Any bad line (or a file without
    articles) raises :class:`DatasetError` naming each one, so a model is never trained or
    evaluated on part of a file without the user knowing.
    """
    articles: list[Article] = []
    labels: list[list[int]] = []
    errors: list[str] = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                # a BOM (Windows tools write one) is not part of the first line's JSON
                text = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                errors.append(f"{path}:{n}: not UTF-8 ({e.reason} at byte {e.start})")
                continue
            if not text.strip():
                continue
            try:
                article, row_labels = _labelled_row(text, n)
            except ValueError as e:
                errors.append(f"{path}:{n}: {e}")
                continue
            articles.append(article)
            labels.append(row_labels)
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        tail = [f"... and {more} more bad lines"] if more else []
        head = f"{len(errors)} bad line{'s' if len(errors) > 1 else ''} in {path}:"
        raise DatasetError("\n".join([head, *shown, *tail]))
    if not articles:
        raise DatasetError(f"{path}: no labelled articles")
    return Dataset(
        articles, np.array(labels, dtype=int).reshape(-1, len(CATEGORIES)), file_sha256(path), str(path)
    )


# -- folds -------------------------------------------------------------------------------------


def near_duplicate_pairs(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, a < b, of texts that tell the same story: word 1-2 gram TF-IDF cosine
    over DUP_COSINE, or at least DUP_SHINGLES shared word 8-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    pairs: set[tuple[int, int]] = set()
    if len(texts) > 1:
        v = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
        sim = (v @ v.T).tocoo()
        for a, b, s in zip(sim.row, sim.col, sim.data, strict=True):
            if a < b and s > DUP_COSINE:
                pairs.add((int(a), int(b)))
    shingles: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        words = t.lower().split()
        for s in {" ".join(words[j : j + 8]) for j in range(len(words) - 7)}:
            shingles.setdefault(s, []).append(i)
    shared: dict[tuple[int, int], int] = {}
    for ids in shingles.values():
        if 1 < len(ids) < 50:
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    shared[(ids[x], ids[y])] = shared.get((ids[x], ids[y]), 0) + 1
    pairs.update(pair for pair, count in shared.items() if count >= DUP_SHINGLES)
    return sorted(pairs)


def group_near_duplicates(texts: Sequence[str]) -> np.ndarray:
    """Union-find over pairs of near-duplicate texts; returns a group id per text."""
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in near_duplicate_pairs(texts):
        parent[find(a)] = find(b)
    return np.array([find(i) for i in range(len(texts))])


def overlapping(texts: Sequence[str], reference: Sequence[str]) -> list[int]:
    """Indices of ``texts`` that are near-duplicates of some text of ``reference``.

    A supplement item that tells the same story as a passage of the training file would sit in
    every fold's training part while that passage is tested: such items are left out of the fit.
    """
    n = len(texts)
    return sorted({a for a, b in near_duplicate_pairs([*texts, *reference]) if a < n <= b})


def grouped_folds(
    idx: np.ndarray, groups: np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    gkf = GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(idx[a], idx[b]) for a, b in gkf.split(idx, groups=groups[idx])]


# -- thresholds and metrics ------------------------------------------------------------------


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold maximising F1 of ``scores >= t``; the midpoint to the next lower score."""
    order = np.argsort(-scores)
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    positives = t.sum()
    f1 = 2 * tp / np.maximum(tp + fp + positives, 1)
    # only cut between distinct scores
    last_of_run = np.r_[s[1:] != s[:-1], True]
    f1 = np.where(last_of_run, f1, -1)
    if positives == 0:
        return float(min(1.0, s[0] + 1e-6))
    i = int(np.argmax(f1))
    if i + 1 < len(s):
        return float((s[i] + s[i + 1]) / 2)
    return float(s[i])


def _prf(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = int((y & p).sum())
    fp = int(((1 - y) & p).sum())
    fn = int((y & (1 - p)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(y.sum())}


def metrics_from_predictions(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Per-category and escalation P/R/F1, and macro-F1.

    A category with neither examples nor signals in ``y`` / ``pred`` has no F1 (0/0); it is left
    out of the macro average, and ``macro_categories`` names the categories averaged (with
    none, ``macro_f1`` is None). A category with signals but no examples counts, with F1 0.
    """
    y = y.astype(int)
    pred = pred.astype(int)
    per = {c: _prf(y[:, j], pred[:, j]) for j, c in enumerate(CATEGORIES)}
    n_esc = len(ESCALATION_CATEGORIES)
    escalation = _prf(y[:, :n_esc].any(1).astype(int), pred[:, :n_esc].any(1).astype(int))
    defined = [c for j, c in enumerate(CATEGORIES) if y[:, j].any() or pred[:, j].any()]
    return {
        "categories": per,
        "escalation": escalation,
        "macro_f1": float(np.mean([per[c]["f1"] for c in defined])) if defined else None,
        "macro_categories": defined,
        "n": len(y),
    }


# -- features and head fitting ----------------------------------------------------------------


@dataclass
class Features:
    """What the components are fitted on, for every article of a dataset."""

    texts: list[str]
    y: np.ndarray
    sentences: list[list[str]] | None = None  # the kept sentences' texts, per article
    pooled: np.ndarray | None = None  # [n, 2d] frozen [max, mean] pooled sentence embeddings
    cache: Any = None  # finetune.HiddenCache of every kept sentence
    art_sents: list[np.ndarray] | None = None  # sentence ids of each article in the cache
    base_model: Any = None  # the frozen transformers encoder (for fine-tuning)
    embeddings: list[np.ndarray] | None = None  # per article, its frozen sentence embeddings
    #: rows every fit includes and no fold, threshold or metric uses (the supplement)
    train_only: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def words(self, idx: np.ndarray) -> np.ndarray:
        return word_counts([self.texts[i] for i in idx])

    def add_concatenations(self, groups: np.ndarray, pool: np.ndarray, n: int, rng: Any) -> np.ndarray:
        """Append ``n`` synthetic long articles and return their indices.

        Each joins CONCAT_PARTS passages of ``pool`` from different groups (stories), in random
        order; its labels are the union of theirs. ``groups`` covers the original passages only:
        the features grow, the passages keep their indices 0..n-1 (group the texts before any
        concatenation is added). The parts' sentence embeddings are reused as they are (each
        passage encoded alone; int8 activations are scaled per call, so an article encoded in
        one call differs slightly: cosine >= 0.99).
        """
        if len({int(groups[b]) for b in pool}) < 2:
            raise ValueError("concatenations need passages of at least two stories")
        if (self.pooled is None) != (self.embeddings is None):
            raise ValueError("pooled features need the sentence embeddings to be concatenated")
        lo, hi = CONCAT_PARTS
        first = len(self.texts)
        new_y, new_pooled = [], []
        for _ in range(n):
            k = int(rng.integers(lo, hi + 1))
            chosen: list[int] = []
            seen: set[int] = set()
            for b in rng.permutation(pool):
                if int(groups[b]) not in seen:
                    chosen.append(int(b))
                    seen.add(int(groups[b]))
                    if len(chosen) == k:
                        break
            self.texts.append("\n".join(self.texts[b] for b in chosen))
            new_y.append(self.y[chosen].max(0))
            if self.sentences is not None:
                self.sentences.append([s for b in chosen for s in self.sentences[b]])
            if self.embeddings is not None:
                self.embeddings.append(np.concatenate([self.embeddings[b] for b in chosen]))
                new_pooled.append(EmbeddingHead.pool(self.embeddings[-1]))
            if self.art_sents is not None:
                self.art_sents.append(np.concatenate([self.art_sents[b] for b in chosen]))
        if n:
            self.y = np.vstack([self.y, np.array(new_y)])
            if self.pooled is not None and new_pooled:
                self.pooled = np.vstack([self.pooled, np.array(new_pooled)])
        return np.arange(first, len(self.texts))


def build_training_features(
    data: Dataset, extra: Dataset | None, weights: dict[str, Any], **kwargs: Any
) -> tuple[Features, np.ndarray]:
    """:func:`build_features` of ``data`` followed by the supplement ``extra`` (marked
    ``train_only``), and the near-duplicate groups of ``data``'s articles, which alone are split
    into folds."""
    feats = build_features(data if extra is None else data.joined(extra), weights, **kwargs)
    n = len(data.y)
    feats.train_only = np.arange(n, len(feats.texts))
    return feats, group_near_duplicates(feats.texts[:n])


def build_features(
    data: Dataset,
    weights: dict[str, Any],
    *,
    encoder: str = "",
    backend: str = "onnx",
    onnx_path: Path | None = None,
    finetune_layers: int = 0,
    max_sentences: int = MAX_SENTENCES,
) -> Features:
    from streams.classifier.encoder import OnnxEncoder, TorchEncoder

    spans = [kept_spans(a.title, a.body, max_sentences) for a in data.articles]
    feats = Features(texts=data.texts(max_sentences), y=data.y)
    feats.sentences = [[s.text for s in ss] for ss in spans]
    if _on(weights, "embedding"):
        enc = TorchEncoder(encoder) if backend == "torch" else OnnxEncoder(encoder, onnx_path=onnx_path)
        emb = encode_per_article(enc, spans)
        offsets = np.cumsum([0] + [len(ss) for ss in spans])
        feats.pooled = np.zeros((len(spans), 2 * emb.shape[1]))
        feats.embeddings = [emb[offsets[i] : offsets[i + 1]] for i in range(len(spans))]
        for i, e in enumerate(feats.embeddings):
            if len(e):
                feats.pooled[i] = EmbeddingHead.pool(e)
    if _on(weights, "sentence"):
        from streams.training.finetune import hidden_cache

        torch_enc = TorchEncoder(encoder)
        model: Any = torch_enc._model
        n_layers = int(model.config.num_hidden_layers)
        flat = [s.text for ss in spans for s in ss]
        feats.cache = hidden_cache(torch_enc, flat, n_layers - finetune_layers)
        offsets = np.cumsum([0] + [len(ss) for ss in spans])
        feats.art_sents = [np.arange(offsets[i], offsets[i + 1]) for i in range(len(spans))]
        feats.base_model = torch_enc._model
    return feats


@dataclass
class _Parts:
    word: LexicalModel | None = None
    char: LexicalModel | None = None
    embedding: EmbeddingHead | None = None
    sentence: Any = None  # finetune.SentenceScorer
    cue: CueModel | None = None


def _on(weights: dict[str, Any], name: str) -> bool:
    return bool(np.any(np.asarray(weights.get(name, 0.0))))


def fit_parts(
    feats: Features, idx: np.ndarray, weights: dict[str, Any], seed: int, epochs: int = 6
) -> _Parts:
    from sklearn.linear_model import LogisticRegression

    idx = np.concatenate([np.asarray(idx, dtype=int), feats.train_only])
    y = feats.y[idx]
    texts = [feats.texts[i] for i in idx]
    parts = _Parts()
    if _on(weights, "word"):
        parts.word = LexicalModel.fit(texts, y, analyzer="word", c=WORD_C, seed=seed)
    if _on(weights, "char"):
        parts.char = LexicalModel.fit(
            texts, y, analyzer="char_wb", c=CHAR_C, max_features=CHAR_MAX_FEATURES, seed=seed
        )
    if _on(weights, "embedding"):
        assert feats.pooled is not None
        x = feats.pooled[idx]
        mean = x.mean(0)
        scale = x.std(0)
        scale[scale < 1e-9] = 1.0
        xs = (x - mean) / scale
        coef = np.zeros((xs.shape[1], y.shape[1]))
        intercept = np.zeros(y.shape[1])
        for j in range(y.shape[1]):
            lr = LogisticRegression(C=EMBEDDING_C, class_weight="balanced", max_iter=5000, random_state=seed)
            lr.fit(xs, y[:, j])
            coef[:, j] = lr.coef_[0]
            intercept[j] = lr.intercept_[0]
        parts.embedding = EmbeddingHead(mean, scale, coef, intercept)
    if _on(weights, "cue"):
        assert feats.sentences is not None
        parts.cue = CueModel.fit(
            [feats.sentences[i] for i in idx], y, c=CUE_C, min_df=CUE_MIN_DF, seed=seed, lexicon=CUE_LEXICON
        )
    if _on(weights, "sentence"):
        from streams.training.finetune import fit_sentence_scorer

        assert feats.cache is not None
        assert feats.art_sents is not None
        parts.sentence = fit_sentence_scorer(
            feats.base_model, feats.cache, feats.art_sents, feats.y, idx, epochs=epochs, seed=seed
        )
    return parts


def predict_parts(parts: _Parts, feats: Features, idx: np.ndarray) -> dict[str, np.ndarray]:
    texts = [feats.texts[i] for i in idx]
    out: dict[str, np.ndarray] = {}
    if parts.word is not None:
        out["word"] = parts.word.predict_proba(texts)
    if parts.char is not None:
        out["char"] = parts.char.predict_proba(texts)
    if parts.embedding is not None:
        assert feats.pooled is not None
        out["embedding"] = 1.0 / (1.0 + np.exp(-parts.embedding.logits(feats.pooled[idx])))
    if parts.sentence is not None:
        out["sentence"] = parts.sentence.article_scores(feats.cache, feats.art_sents, list(idx))
    if parts.cue is not None:
        assert feats.sentences is not None
        out["cue"] = parts.cue.predict_proba([feats.sentences[i] for i in idx])
    return out


#: The weighted mean of component probabilities, the same function the service's head uses.
combine = combine_weighted


def choose_category_weights(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    weights: dict[str, Any],
    name: str = "cue",
    grid: Sequence[float] = CUE_WEIGHT_GRID,
) -> dict[str, Any]:
    """Per category, the weight of component ``name`` (from ``grid``) whose combined out-of-fold
    score reaches the best F1 at its own best threshold; the smallest weight on ties."""
    if not _on(weights, name):
        return dict(weights)
    chosen = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        best = -1.0
        for w in sorted(grid):
            o = combine(oof, {**weights, name: w})[:, j]
            f1 = _prf(y[:, j], (o >= best_threshold(o, y[:, j])).astype(int))["f1"]
            if f1 > best + 1e-12:
                best, chosen[j] = f1, w
    return {**weights, name: [float(w) for w in chosen]}


@dataclass
class Calibration:
    """Component weights and thresholds: for passages, and for long articles (> LONG_WORDS)."""

    weights: dict[str, Any]
    thresholds: np.ndarray
    long_weights: dict[str, Any]
    long_thresholds: np.ndarray

    def predict(self, probs: dict[str, np.ndarray], words: np.ndarray) -> np.ndarray:
        """Signals [n, k] (0/1) of articles with component probabilities ``probs``, routed by
        length as the service's head routes them."""
        long = words > LONG_WORDS
        scores = combine_by_length(probs, long, self.weights, self.long_weights)
        return (scores >= thresholds_by_length(long, self.thresholds, self.long_thresholds)).astype(int)


def calibrate(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    words: np.ndarray,
    weights: dict[str, Any],
    *,
    choose_weights: bool = True,
    synthetic: np.ndarray | None = None,
) -> Calibration:
    """Per length bucket, the cue weights (unless not ``choose_weights``) and then the F1-best
    thresholds on out-of-fold scores.

    The passage calibration is chosen on the real articles of at most LONG_WORDS words (rows
    not ``synthetic``), the long one on every article over LONG_WORDS words, real or synthetic.
    A bucket without articles takes the other's.
    """
    found: list[tuple[dict[str, Any], np.ndarray]] = []
    long = words > LONG_WORDS
    short = ~long if synthetic is None else ~long & ~synthetic
    masks = [m if m.any() else np.ones_like(m) for m in (short, long)]
    for mask in masks:
        part = {c: p[mask] for c, p in oof.items()}
        w = choose_category_weights(part, y[mask], weights) if choose_weights else dict(weights)
        o = combine(part, w)
        found.append((w, np.array([best_threshold(o[:, j], y[mask, j]) for j in range(y.shape[1])])))
    return Calibration(found[0][0], found[0][1], found[1][0], found[1][1])


def _n_concatenations(passages: np.ndarray) -> int:
    return round(CONCAT_PER_PASSAGE * len(passages))


def out_of_fold(
    idx: np.ndarray,
    feats: Features,
    groups: np.ndarray,
    *,
    k: int,
    seed: int,
    weights: dict[str, Any],
    epochs: int = 6,
    rng: Any = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Grouped k-fold out-of-fold component probabilities, and the rows they are for: the
    passages ``idx`` and, with ``rng``, synthetic long articles made of each held-out fold's
    passages (appended to ``feats``)."""
    oof: dict[str, list[np.ndarray]] = {}
    rows: list[np.ndarray] = []
    for tr, te in grouped_folds(idx, groups, k, seed):
        parts = fit_parts(feats, tr, weights, seed, epochs)
        held = te
        if rng is not None:
            held = np.concatenate([te, feats.add_concatenations(groups, te, _n_concatenations(te), rng)])
        for name, p in predict_parts(parts, feats, held).items():
            oof.setdefault(name, []).append(p)
        rows.append(held)
    return {name: np.concatenate(p) for name, p in oof.items()}, np.concatenate(rows)


def cross_validate(
    feats: Features,
    groups: np.ndarray,
    weights: dict[str, Any],
    *,
    folds: int = 5,
    inner_folds: int = 4,
    seed: int = 0,
    epochs: int = 6,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Nested grouped CV: thresholds from the outer-training part's own OOF predictions.

    The per-category ``cue`` weights are chosen the same way, on the inner OOF scores, and both
    per length bucket (:func:`calibrate`). Besides the passages, each test fold also yields as
    many synthetic long articles (concatenations of its passages), reported as
    ``long_articles``. Also reports each component alone, the ensemble without ``cue`` (each
    with its own nested calibration) and the ensemble with ``one_calibration`` chosen on the
    passages for every length (as before long articles had their own), so the value of each part
    is visible.
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(len(groups))
    names = [k for k in weights if _on(weights, k)]
    variants: dict[str, dict[str, Any]] = {"ensemble": weights, "one_calibration": weights}
    if "cue" in names and len(names) > 1:
        variants["without_cue"] = {k: w for k, w in weights.items() if k != "cue"}
    variants.update({f"only_{k}": {k: 1.0} for k in names})
    preds = {v: np.zeros((len(idx), len(CATEGORIES)), dtype=int) for v in variants}
    long_preds: dict[str, list[np.ndarray]] = {v: [] for v in variants}
    long_rows: list[np.ndarray] = []
    fold_calibrations = []
    for f, (tr, te) in enumerate(grouped_folds(idx, groups, folds, seed)):
        oof, rows = out_of_fold(
            tr, feats, groups, k=inner_folds, seed=seed + 1, weights=weights, epochs=epochs, rng=rng
        )
        parts = fit_parts(feats, tr, weights, seed, epochs)
        long_te = feats.add_concatenations(groups, te, _n_concatenations(te), rng)
        long_rows.append(long_te)
        test = predict_parts(parts, feats, np.concatenate([te, long_te]))
        words = feats.words(np.concatenate([te, long_te]))
        passages = rows < len(idx)
        for v, base in variants.items():
            if v == "one_calibration":  # from the passages alone, for every length
                part = {c: p[passages] for c, p in oof.items()}
                none_long = np.zeros(int(passages.sum()), dtype=int)
                cal = calibrate(part, feats.y[rows[passages]], none_long, base)
                pred = cal.predict(test, np.zeros(len(words), dtype=int))
            else:
                cal = calibrate(
                    oof,
                    feats.y[rows],
                    feats.words(rows),
                    base,
                    choose_weights=v == "ensemble",
                    synthetic=~passages,
                )
                pred = cal.predict(test, words)
            preds[v][te] = pred[: len(te)]
            long_preds[v].append(pred[len(te) :])
            if v == "ensemble":
                fold_calibrations.append(_calibration_json(cal))
        if progress:
            progress(f"fold {f + 1}/{folds} done")
    y = feats.y[idx]
    long_y = feats.y[np.concatenate(long_rows)]
    out = metrics_from_predictions(y, preds["ensemble"])
    out["long_articles"] = metrics_from_predictions(long_y, np.concatenate(long_preds["ensemble"]))
    out["components"] = {}
    for v, p in preds.items():
        if v == "ensemble":
            continue
        m = metrics_from_predictions(y, p)
        ml = metrics_from_predictions(long_y, np.concatenate(long_preds[v]))
        out["components"][v] = {
            "macro_f1": m["macro_f1"],
            "escalation_f1": m["escalation"]["f1"],
            "f1": {c: m["categories"][c]["f1"] for c in CATEGORIES},
            "long_articles": {"macro_f1": ml["macro_f1"], "escalation_f1": ml["escalation"]["f1"]},
        }
    out.update(
        {
            "folds": folds,
            "inner_folds": inner_folds,
            "seed": seed,
            "groups": len(set(groups.tolist())),
            "long_words": LONG_WORDS,
            "fold_calibrations": fold_calibrations,
        }
    )
    return out


def _calibration_json(cal: Calibration) -> dict[str, Any]:
    def weights(w: dict[str, Any]) -> dict[str, Any]:
        return {c: (v if np.isscalar(v) else [float(x) for x in v]) for c, v in w.items()}

    return {
        "weights": weights(cal.weights),
        "thresholds": [round(float(t), 4) for t in cal.thresholds],
        "long_weights": weights(cal.long_weights),
        "long_thresholds": [round(float(t), 4) for t in cal.long_thresholds],
    }


# -- training ---------------------------------------------------------------------------------


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
    finetune_layers: int = FINETUNE_LAYERS,
    threshold_folds: int = THRESHOLD_FOLDS,
    inner_folds: int = INNER_FOLDS,
    epochs: int = EPOCHS,
    supplement: str | Path | Sequence[str | Path] | None = DEFAULT_SUPPLEMENTS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fit the head on ``data_path`` and write the artifact to ``out_dir``; return its metrics.

    ``supplement`` (labelled files in the same format; None for none) joins every fit —
    the final one and each fold's — but no fold's test part, no threshold choice and no metric:
    those are on ``data_path`` alone, so the cross-validated figures stay those of that file.

    Thresholds: grouped ``threshold_folds``-fold out-of-fold scores on the whole file,
    F1-maximising per category. With ``cross_validation`` the nested CV estimate (``folds``
    outer folds, ``inner_folds`` inside each for its thresholds) is stored in metrics.json.
    ``finetune_layers`` > 0 fine-tunes that many top encoder layers as a sentence scorer
    (component ``sentence``); 0 keeps the encoder frozen (component ``embedding``).
    """
    from streams.classifier.encoder import export_onnx

    say = progress or (lambda msg: log.info("%s", msg))
    t0 = time.monotonic()
    np.random.seed(seed)
    data = load_dataset(data_path)  # DatasetError before anything is written
    extra, supplements = load_supplements(supplement or None, data)
    out = Path(out_dir) if out_dir else ARTIFACTS_DIR / head_version
    out.mkdir(parents=True, exist_ok=True)
    say(f"{len(data.articles)} labelled articles, sha256 {data.sha256[:12]}")
    for record in supplements:
        say(
            f"supplement {record['path']}: {record['n']} labelled articles in every fit, "
            f"sha256 {record['sha256'][:12]}"
            + (
                f" ({record['left_out_as_near_duplicates']} left out: the same story as a passage of "
                f"{Path(data.path).name})"
                if record["left_out_as_near_duplicates"]
                else ""
            )
        )
    # the recipe; the calibration below picks the cue weights (the nested CV starts from the recipe too)
    recipe = dict(WEIGHTS_FINETUNED if finetune_layers else WEIGHTS_FROZEN)

    onnx_path = None
    if backend == "onnx" and _on(recipe, "embedding"):
        onnx_path = out / "encoder-int8.onnx"
        say("exporting the encoder to ONNX int8")
        export_onnx(encoder, onnx_path, quantize=True)
    say("encoding sentences")
    feats, groups = build_training_features(
        data,
        extra,
        recipe,
        encoder=encoder,
        backend=backend,
        onnx_path=onnx_path,
        finetune_layers=finetune_layers,
    )
    idx = np.arange(len(data.y))

    say(f"choosing weights and thresholds on grouped {threshold_folds}-fold out-of-fold scores")
    rng = np.random.default_rng(seed)
    oof_parts, rows = out_of_fold(
        idx, feats, groups, k=threshold_folds, seed=seed, weights=recipe, epochs=epochs, rng=rng
    )
    passages = rows < len(idx)
    cal = calibrate(oof_parts, feats.y[rows], feats.words(rows), recipe, synthetic=~passages)
    oof_pred = cal.predict({c: p[passages] for c, p in oof_parts.items()}, feats.words(rows[passages]))
    oof_metrics = metrics_from_predictions(feats.y[rows[passages]], oof_pred)
    weights = cal.weights

    say("fitting the head on all data")
    # every component either calibration uses (the passage cue weights may all be 0, the long ones not)
    used = {k: 1.0 for w in (cal.weights, cal.long_weights) for k in w if _on(w, k)}
    parts = fit_parts(feats, idx, used, seed, epochs)
    thr_hash = file_sha256_bytes(
        json.dumps(
            [
                [round(float(t), 6) for t in (*cal.thresholds, *cal.long_thresholds)],
                LONG_WORDS,
                _calibration_json(cal),
            ]
        ).encode()
    )[:8]
    manifest: dict[str, Any] = {
        "head_version": head_version,
        "thresholds_version": f"{head_version}-t{thr_hash}",
        "categories": list(CATEGORIES),
        "encoder": encoder or "sentence-transformers/all-MiniLM-L6-v2",
        "encoder_path": encoder,
        "pooling": "mean over tokens, L2-normalised, per sentence",
        "weights": weights,
        "long_words": LONG_WORDS,
        "long_weights": cal.long_weights,
        "hyperparameters": {
            "embedding_C": EMBEDDING_C,
            "word_C": WORD_C,
            "char_C": CHAR_C,
            "char_max_features": CHAR_MAX_FEATURES,
            "cue_C": CUE_C,
            "cue_min_df": CUE_MIN_DF,
            "cue_weight_grid": list(CUE_WEIGHT_GRID),
            "max_sentences": MAX_SENTENCES,
            "finetune_layers": finetune_layers,
            "epochs": epochs,
            "threshold_folds": threshold_folds,
            "concat_per_passage": CONCAT_PER_PASSAGE,
            "concat_parts": list(CONCAT_PARTS),
            "seed": seed,
        },
        "data": {"path": Path(data.path).name, "sha256": data.sha256, "n": len(data.articles)},
        "supplement": supplements or None,
        "created_unix": int(time.time()),
    }
    _write_head(
        out,
        parts=parts,
        manifest=manifest,
        calibration=cal,
        threshold_folds=threshold_folds,
        encoder=encoder,
        say=say,
    )
    # what the figures are on (data) and what every fit also saw (supplement)
    metrics: dict[str, Any] = {
        "data": manifest["data"],
        "supplement": manifest["supplement"],
        "oof_with_final_thresholds": oof_metrics,
    }
    metrics["fit_seconds"] = round(time.monotonic() - t0, 1)
    if cross_validation:
        say(f"nested grouped {folds}-fold cross-validation ({inner_folds} inner folds)")
        metrics["nested_cv"] = cross_validate(
            feats,
            groups,
            recipe,
            folds=folds,
            inner_folds=inner_folds,
            seed=seed,
            epochs=epochs,
            progress=say,
        )
        metrics["nested_cv"]["data_sha256"] = data.sha256
    metrics["train_seconds"] = round(time.monotonic() - t0, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    say(f"artifact written to {out}: fit in {metrics['fit_seconds']} s, total {metrics['train_seconds']} s")
    return metrics


def _write_head(
    out: Path,
    *,
    parts: _Parts,
    manifest: dict[str, Any],
    calibration: Calibration,
    threshold_folds: int,
    encoder: str,
    say: Callable[[str], None],
) -> None:
    """Write the components, the fine-tuned encoder (if any) and the thresholds to ``out``."""
    from streams.classifier.encoder import export_onnx

    for name in ("word", "char", "embedding"):
        if (out / f"{name}.npz").exists():
            (out / f"{name}.npz").unlink()
    if parts.word is not None:
        parts.word.save(out, "word")
    if parts.char is not None:
        parts.char.save(out, "char")
    if parts.embedding is not None:
        parts.embedding.save(out)
    if parts.cue is not None:
        parts.cue.save(out)
    elif (out / "cue").exists():
        shutil.rmtree(out / "cue")
    if parts.sentence is not None:
        info = parts.sentence.save(out)
        manifest["encoder_overrides"] = info["overrides"]
        manifest["first_trainable_layer"] = info["first_trainable_layer"]
        # the ONNX backend (the service default) runs the fine-tuned encoder exported here
        say("exporting the fine-tuned encoder to ONNX int8")
        export_onnx(encoder, out / "encoder-int8.onnx", quantize=True, overrides=out / info["overrides"])
    (out / "thresholds.json").write_text(
        json.dumps(
            {
                "thresholds_version": manifest["thresholds_version"],
                "method": f"max F1 on grouped {threshold_folds}-fold out-of-fold scores",
                "thresholds": {
                    c: round(float(t), 6) for c, t in zip(CATEGORIES, calibration.thresholds, strict=True)
                },
                "long_words": LONG_WORDS,
                "long_method": "max F1 on the same folds' synthetic long articles (and passages) "
                f"of more than {LONG_WORDS} words",
                "long_thresholds": {
                    c: round(float(t), 6)
                    for c, t in zip(CATEGORIES, calibration.long_thresholds, strict=True)
                },
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


def file_sha256_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- evaluation -------------------------------------------------------------------------------


def evaluate(
    classifier: Any,
    data: str | Path | Dataset,
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
    """Score a labelled file with a loaded classifier: (metrics, scores [n, 9], the thresholds
    each was compared with [n, 9], labels [n, 9]).

    Uses the service's code path (sentence split, encoder, head, thresholds). ``data`` is a
    labelled file's path or a :class:`Dataset` already loaded.
    """
    if not isinstance(data, Dataset):
        data = load_dataset(data)
    scores = np.zeros(data.y.shape)
    thresholds = np.zeros(data.y.shape)
    for start in range(0, len(data.articles), batch_size):
        batch = data.articles[start : start + batch_size]
        s, t, _, _ = classifier.score(batch)
        scores[start : start + len(batch)] = s
        thresholds[start : start + len(batch)] = t
        if progress:
            progress(len(batch))
    pred = scores >= thresholds
    metrics = metrics_from_predictions(data.y, pred)
    metrics["data_sha256"] = data.sha256
    manifest = classifier.head.manifest
    # "supplement" is a list of files (one object in artifacts before minilm-context-v6)
    supplement = manifest.get("supplement") or []
    supplement = [supplement] if isinstance(supplement, dict) else supplement
    trained_on = {r.get("sha256") for r in [manifest.get("data") or {}, *supplement]}
    metrics["trained_on_this_file"] = data.sha256 in trained_on
    return metrics, scores, thresholds, data.y
