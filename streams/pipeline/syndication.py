"""Syndication detection: is this article a copy of one already seen (the same wire copy reposted)?

Exact copies are found by a hash of the normalised body; lightly edited copies by MinHash LSH
(``datasketch``) over word shingles of the body, confirmed by the estimated containment of the
shorter text's shingles in the longer's.
Only articles seen within the window of event time are remembered, so memory stays bounded; the
state is a JSON-able :class:`SyndicationState` from which the LSH index is rebuilt.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from datetime import datetime

import numpy as np
from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel, Field

__all__ = ["Seen", "SyndicationIndex", "SyndicationState", "normalise_body", "shingles"]

_WORD = re.compile(r"[^\W_]+")
# Stored signatures are only comparable under the scheme that made them: pinned, not defaulted.
_SCHEME = "affine32"


def normalise_body(body: str) -> list[str]:
    """Lower-case words without punctuation: quotes, dashes and spacing differ between reposts."""
    return _WORD.findall(body.lower())


def shingles(words: list[str], size: int) -> set[str]:
    """Overlapping runs of ``size`` words (the whole text when it is shorter)."""
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


class Seen(BaseModel):
    """One remembered article: its event time, exact hash and MinHash signature."""

    time: float
    digest: str
    signature: list[int]
    size: int
    duplicate_of: str | None = None


class SyndicationState(BaseModel):
    """The articles remembered, keyed by article id (what a Faust table would hold)."""

    seen: dict[str, Seen] = Field(default_factory=dict)
    clock: float = 0.0


class SyndicationIndex:
    """Finds the original of a copy among the articles seen in the window."""

    def __init__(
        self,
        *,
        window_hours: float = 96.0,
        threshold: float = 0.4,
        lsh_threshold: float = 0.1,
        shingle_words: int = 3,
        num_perm: int = 128,
        state: SyndicationState | None = None,
    ) -> None:
        self.window = window_hours * 3600.0
        self.threshold = threshold
        self.shingle_words = shingle_words
        self.num_perm = num_perm
        self.state = state or SyndicationState()
        self._lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
        self._by_digest: dict[str, str] = {}
        self._expiry: list[tuple[float, str]] = []
        for article_id, seen in self.state.seen.items():
            self._remember(article_id, seen, self._minhash_of(seen.signature))

    def check(self, article_id: str, body: str, event_time: datetime) -> str | None:
        """The id of the first article this body copies, or None; the article is remembered.

        A copy is remembered too, so a copy of a copy is found, and points at the first article.
        Checking the same id again returns what it returned the first time (redelivery).
        """
        t = event_time.timestamp()
        self.evict(t)
        words = normalise_body(body)
        digest = hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest()
        if article_id in self.state.seen:
            return self.state.seen[article_id].duplicate_of
        mh = MinHash(num_perm=self.num_perm, scheme=_SCHEME)
        grams = shingles(words, self.shingle_words)
        mh.update_batch([g.encode() for g in grams])
        original = self._original(digest, mh, len(grams))
        signature = [int(v) for v in mh.hashvalues]
        seen = Seen(time=t, digest=digest, signature=signature, size=len(grams), duplicate_of=original)
        self.state.seen[article_id] = seen
        self._remember(article_id, seen, mh)
        return original

    def evict(self, now: float) -> list[str]:
        """Forget articles older than the window before ``now`` (event time, seconds)."""
        self.state.clock = max(self.state.clock, now)
        gone: list[str] = []
        while self._expiry and self._expiry[0][0] < self.state.clock - self.window:
            _, article_id = heapq.heappop(self._expiry)
            seen = self.state.seen.pop(article_id, None)
            if seen is None:
                continue
            self._lsh.remove(article_id)
            if self._by_digest.get(seen.digest) == article_id:
                del self._by_digest[seen.digest]
            gone.append(article_id)
        return gone

    def _original(self, digest: str, mh: MinHash, size: int) -> str | None:
        exact = self._by_digest.get(digest)
        if exact is not None:
            return self._root(exact)
        best: tuple[float, str] | None = None
        for key in self._lsh.query(mh):
            seen = self.state.seen[key]
            jaccard = mh.jaccard(self._minhash_of(seen.signature))
            # Excerpts of one copy are cut at different lengths: the shorter one is (nearly) inside
            # the longer, so containment, estimated from Jaccard and the set sizes, decides.
            shared = jaccard * (size + seen.size) / (1.0 + jaccard)
            containment = shared / max(1, min(size, seen.size))
            if containment >= self.threshold and (best is None or containment > best[0]):
                best = (containment, key)
        return self._root(best[1]) if best else None

    def _root(self, article_id: str) -> str:
        """The first article of a copy chain (a copy's own original is recorded when it is seen)."""
        return self.state.seen[article_id].duplicate_of or article_id

    def _remember(self, article_id: str, seen: Seen, mh: MinHash) -> None:
        self._by_digest.setdefault(seen.digest, article_id)
        self._lsh.insert(article_id, mh)
        heapq.heappush(self._expiry, (seen.time, article_id))

    def _minhash_of(self, signature: list[int]) -> MinHash:
        values = np.array(signature, dtype=np.uint32)
        return MinHash(num_perm=self.num_perm, hashvalues=values, scheme=_SCHEME)
