"""Online story clustering: which real-world event an article reports, decided in arrival order.

:class:`StoryIndex` keeps the *active* stories (seen within a window of event time) and gives each
new article the ``story_id`` of the most similar active story, or opens a new story. It is pure
(no Faust, no Kafka): its state is a dict of JSON-able :class:`Story` models keyed by story id
plus online document frequencies; the inverted index is derived and rebuilt from the stories.

An article joins a story when three pieces of evidence agree:

* its TF-IDF cosine with the story's centroid, decayed by the time gap to the story's first
  article (the event's time: a look-alike days later decays away even when coverage of the first
  event continues), reaches ``threshold``;
* it is close to at least one *member* article (cosine ``member_gate`` with one of the story's
  last ``max_members`` articles): a centroid that has drifted towards a look-alike event cannot
  pull in articles resembling none of its members;
* its *salient* actors (named in the title, or at least twice in the lead) are not foreign to the
  story: a join is vetoed only when the article's salient actors are none of the story's actors
  *and* the story's salient actors are none of the article's. One passing mention (a hurricane
  that also touched the Cayman Islands) no longer vetoes a join.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Assignment", "Story", "StoryConfig", "StoryIndex", "StoryState", "features"]

_DAY = 86_400.0
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?]['\"”’)]?\s+|\n+")
# Function words carry no event identity; online IDF down-weights them too, but not on day one.
_STOP_WORDS = (
    "a about after again against all also an and any are as at be "
    "been before being between both but by can could did do does during each "
    "few for from further had has have having he her here his how i "
    "if in into is it its itself just more most no nor not now "
    "of off on once only or other our out over own said same says "
    "she should so some such than that the their them then there these they "
    "this those through to too under until up very was we were what when "
    "where which while who whom why will with would you your s t mr "
    "ms mrs one two new told according monday tuesday wednesday thursday friday saturday sunday"
)
_STOP = frozenset(_STOP_WORDS.split())


class StoryConfig(BaseModel):
    """The clustering knobs; the defaults are the ones tuned on one half of stories-dev."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_hours: float = Field(96.0, gt=0, description="A story is active this long after its last article.")
    threshold: float = Field(0.12, ge=0, le=1, description="Least similarity to join a story.")
    sigma_days: float = Field(1.0, gt=0, description="Gaussian time decay of similarity.")
    lead_words: int = Field(200, ge=1, description="Body words read after the title.")
    entity_boost: float = Field(2.0, ge=1, description="Weight factor of capitalised words and numbers.")
    max_terms: int = Field(200, ge=1, description="Terms kept in a story's centroid.")
    max_posting: int = Field(500, ge=1, description="A term in more active stories finds no candidates.")
    max_candidates: int = Field(50, ge=1, description="Candidates scored per article.")
    max_members: int = Field(8, ge=1, description="Latest member articles a story keeps to compare.")
    member_terms: int = Field(100, ge=1, description="Terms kept per member article (highest TF-IDF).")
    member_gate: float = Field(0.15, ge=0, le=1, description="Least cosine to one member article to join.")


class Story(BaseModel):
    """One active story: a JSON-able value for a Faust table keyed by ``story_id``."""

    story_id: str
    first_seen: float
    last_seen: float
    time_sum: float
    article_ids: list[str]
    terms: dict[str, float]
    actors: dict[str, int]
    #: Actors salient in the story's articles (title, or twice in the lead), by article count.
    salient: dict[str, int] = Field(default_factory=dict)
    #: (event time, unit TF-IDF vector as of its arrival) of the latest ``max_members`` articles.
    members: list[tuple[float, dict[str, float]]] = Field(default_factory=list)
    publishers: list[str] = Field(default_factory=list, description="Distinct publisher families.")

    @property
    def independent_publishers(self) -> int:
        """How many publisher families report the story (its corroboration)."""
        return len(self.publishers)


class StoryState(BaseModel):
    """Everything :class:`StoryIndex` needs to resume: stories and document frequencies."""

    stories: dict[str, Story] = Field(default_factory=dict)
    df: dict[str, int] = Field(default_factory=dict)
    n_docs: int = 0
    clock: float = 0.0


@dataclass(frozen=True, slots=True)
class Assignment:
    """The story an article joined, and whether the article opened it."""

    story_id: str
    is_new: bool
    similarity: float


@dataclass(frozen=True, slots=True)
class Features:
    """What the index compares: weighted term counts and actor labels of title and lead."""

    terms: Mapping[str, float]
    actors: frozenset[str]
    #: The actors the article is about: named in the title or at least twice in the lead.
    salient: frozenset[str] = frozenset()


def _lead(title: str, body: str, lead_words: int) -> str:
    words = body.split()
    return f"{title}\n{' '.join(words[:lead_words])}" if title else " ".join(words[:lead_words])


def features(title: str, body: str, config: StoryConfig, actors: Iterable[str] | None = None) -> Features:
    """Term weights of the title and lead: capitalised words (not sentence-initial) and numbers
    are names, places and figures, the details that tell one event from a look-alike, so they
    weigh ``entity_boost`` times more.
    """
    text = _lead(title, body, config.lead_words)
    counts: dict[str, float] = {}
    starts = {0} | {m.end() for m in _SENTENCE_END.finditer(text)}
    for m in _WORD.finditer(text):
        word = m.group()
        low = word.lower().replace("’", "'")
        if low.endswith("'s"):
            low = low[:-2]
        if len(low) < 2 or low in _STOP:
            continue
        named = word[0].isdigit() or (word[0].isupper() and m.start() not in starts)
        counts[low] = counts.get(low, 0.0) + (config.entity_boost if named else 1.0)
    terms = {t: 1.0 + math.log(c) if c >= 1 else c for t, c in counts.items()}
    if actors is not None:  # given by the caller: all of them count as salient
        given = frozenset(actors)
        return Features(terms, given, given)
    found, salient = _actor_labels(title, text)
    return Features(terms, frozenset(found), frozenset(salient))


def _actor_labels(title: str, text: str) -> tuple[set[str], set[str]]:
    """Every actor named (strong mentions) in the title and lead, and the salient ones."""
    from streams.classifier.actors import find_mentions

    counts: dict[str, int] = {}
    in_title: set[str] = set()
    for m in find_mentions(text):  # the text starts with the title, when there is one
        if not m.weak:
            counts[m.label] = counts.get(m.label, 0) + 1
            if m.end <= len(title):
                in_title.add(m.label)
    return set(counts), {a for a, n in counts.items() if n >= 2 or a in in_title}


class StoryIndex:
    """Single-pass clustering over active stories with an inverted index for candidates."""

    def __init__(self, config: StoryConfig | None = None, state: StoryState | None = None) -> None:
        self.config = config or StoryConfig()
        self.state = state or StoryState()
        self._postings: dict[str, set[str]] = {}
        self._actor_postings: dict[str, set[str]] = {}
        # (last_seen, story_id), possibly stale: eviction pops the oldest and checks it is current.
        self._expiry: list[tuple[float, str]] = []
        self._idf_memo: dict[str, float] = {}
        for story in self.state.stories.values():
            self._index(story)
            heapq.heappush(self._expiry, (story.last_seen, story.story_id))

    # -- public ------------------------------------------------------------------------------

    def assign(
        self,
        article_id: str,
        title: str,
        body: str,
        event_time: datetime,
        *,
        join: str | None = None,
        actors: Iterable[str] | None = None,
        publisher: str | None = None,
    ) -> Assignment:
        """Put one article in a story; ``join`` forces a story (a syndicated copy's original's).

        ``actors`` overrides the actor labels found in the title and lead; ``publisher`` is the
        article's publisher family (see :mod:`streams.pipeline.publishers`).
        """
        t = event_time.timestamp()
        self.evict(t)
        feats = features(title, body, self.config, actors)
        self._count_df(feats.terms)
        self._idf_memo = {}  # document frequencies stay put until the next article
        story: Story | None
        if join is not None and join in self.state.stories:
            story, sim = self.state.stories[join], 1.0
        else:
            story, sim = self._best(feats, t)
        if story is None:
            story = Story(
                story_id=f"story-{article_id}",
                first_seen=t,
                last_seen=t,
                time_sum=0.0,
                article_ids=[],
                terms={},
                actors={},
                salient={},
            )
            self.state.stories[story.story_id] = story
        is_new = not story.article_ids
        self._unindex(story)
        self._add(story, article_id, feats, t)
        if publisher is not None and publisher not in story.publishers:
            story.publishers.append(publisher)
        self._index(story)
        heapq.heappush(self._expiry, (story.last_seen, story.story_id))
        return Assignment(story.story_id, is_new, sim)

    def evict(self, now: float) -> list[str]:
        """Drop stories not seen within the window before ``now`` (event time, seconds)."""
        self.state.clock = max(self.state.clock, now)
        horizon = self.state.clock - self.config.window_hours * 3600.0
        gone: list[str] = []
        while self._expiry and self._expiry[0][0] < horizon:
            last_seen, sid = heapq.heappop(self._expiry)
            story = self.state.stories.get(sid)
            if story is not None and story.last_seen == last_seen:
                self._unindex(self.state.stories.pop(sid))
                gone.append(sid)
        return gone

    def story_of(self, story_id: str) -> Story | None:
        """The active story with this id, if any."""
        return self.state.stories.get(story_id)

    # -- scoring -------------------------------------------------------------------------------

    def _idf(self, term: str) -> float:
        idf = self._idf_memo.get(term)
        if idf is None:
            idf = math.log((self.state.n_docs + 1) / (self.state.df.get(term, 0) + 1)) + 1.0
            self._idf_memo[term] = idf
        return idf

    def _count_df(self, terms: Mapping[str, float]) -> None:
        self.state.n_docs += 1
        for term in terms:
            self.state.df[term] = self.state.df.get(term, 0) + 1

    def _vector(self, terms: Mapping[str, float]) -> dict[str, float]:
        vec = {t: w * self._idf(t) for t, w in terms.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def _candidates(self, feats: Features) -> list[str]:
        """Stories sharing the article's indexed terms, ranked by the IDF they share.

        A term in more than ``max_posting`` active stories finds nothing, which bounds the work
        per article by ``len(terms) * max_posting`` however many stories are active.
        """
        hits: dict[str, float] = {}
        for term in feats.terms:
            posting = self._postings.get(term)
            if posting and len(posting) <= self.config.max_posting:
                idf = self._idf(term)
                for sid in posting:
                    hits[sid] = hits.get(sid, 0.0) + idf
        return sorted(hits, key=hits.__getitem__, reverse=True)[: self.config.max_candidates]

    def similarity(
        self, feats: Features, story: Story, t: float, vector: Mapping[str, float] | None = None
    ) -> float:
        """Cosine of TF-IDF vectors, decayed by the gap to the story's first event time."""
        a = vector if vector is not None else self._vector(feats.terms)
        b = self._vector(story.terms)
        cos = sum(w * b.get(term, 0.0) for term, w in a.items())
        gap = (t - story.first_seen) / _DAY
        return cos * math.exp(-(gap * gap) / (2 * self.config.sigma_days**2))

    def member_similarity(
        self, feats: Features, story: Story, vector: Mapping[str, float] | None = None
    ) -> float:
        """The best cosine of the article with one of the story's kept member articles (each
        member's vector is the one it had on arrival: no re-weighting per comparison)."""
        a = vector if vector is not None else self._vector(feats.terms)
        best = 0.0
        for _, member in story.members:
            best = max(best, sum(member[term] * a[term] for term in member.keys() & a.keys()))
        return best

    @staticmethod
    def actors_conflict(feats: Features, story: Story) -> bool:
        """True when the article and the story are each about actors the other never names."""
        return bool(
            feats.salient
            and story.salient
            and not feats.salient & story.actors.keys()
            and not feats.actors & story.salient.keys()
        )

    def _best(self, feats: Features, t: float) -> tuple[Story | None, float]:
        scored: list[tuple[float, str]] = []
        vector = self._vector(feats.terms)
        for sid in self._candidates(feats):
            story = self.state.stories[sid]
            if self.actors_conflict(feats, story):
                continue
            sim = self.similarity(feats, story, t, vector)
            if sim >= self.config.threshold:
                scored.append((sim, sid))
        # The most similar story whose members vouch for the article (few are ever checked).
        for sim, sid in sorted(scored, reverse=True):
            story = self.state.stories[sid]
            if not story.members or self.member_similarity(feats, story, vector) >= self.config.member_gate:
                return story, sim
        return None, 0.0

    # -- state -----------------------------------------------------------------------------------

    def _add(self, story: Story, article_id: str, feats: Features, t: float) -> None:
        story.article_ids.append(article_id)
        story.time_sum += t
        story.last_seen = max(story.last_seen, t)
        for term, w in feats.terms.items():
            story.terms[term] = story.terms.get(term, 0.0) + w
        if len(story.terms) > self.config.max_terms:
            kept = sorted(story.terms.items(), key=lambda kv: kv[1] * self._idf(kv[0]), reverse=True)
            story.terms = dict(kept[: self.config.max_terms])
        for actor in feats.actors:
            story.actors[actor] = story.actors.get(actor, 0) + 1
        for actor in feats.salient:
            story.salient[actor] = story.salient.get(actor, 0) + 1
        weighted = sorted(((w * self._idf(term), term) for term, w in feats.terms.items()), reverse=True)
        top = weighted[: self.config.member_terms]
        norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
        story.members.append((t, {term: round(w / norm, 5) for w, term in top}))
        del story.members[: -self.config.max_members]

    def _index(self, story: Story) -> None:
        for term in story.terms:
            self._postings.setdefault(term, set()).add(story.story_id)
        for actor in story.actors:
            self._actor_postings.setdefault(actor, set()).add(story.story_id)

    def _unindex(self, story: Story) -> None:
        for term in story.terms:
            posting = self._postings.get(term)
            if posting is not None:
                posting.discard(story.story_id)
                if not posting:
                    del self._postings[term]
        for actor in story.actors:
            posting = self._actor_postings.get(actor)
            if posting is not None:
                posting.discard(story.story_id)
                if not posting:
                    del self._actor_postings[actor]
