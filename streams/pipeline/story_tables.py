"""The story stage's state as key-value tables: what the worker keeps in Faust tables.

The story stage (:class:`~streams.pipeline.stories.StoryStage`) works on in-memory structures
(inverted index, LSH) derived from JSON-able state. :class:`StoryTables` names the tables that
hold that state durably (in the worker: Faust tables with changelog topics), :func:`load_stage`
rebuilds a stage from them, and :class:`StageJournal` writes back, after each article, the keys
that changed or were evicted. The tables are any ``MutableMapping[str, JSON]``, so tests use
dicts and the worker passes Faust tables, where every write is a RocksDB write and a changelog
message.

Document frequencies are the bulk of the state's changes (every term of every article), so they
are not written per term. The ``terms`` table holds them as a log and snapshots
(:class:`DocumentFrequencies`): each article writes one ``log:<n>`` row (its terms, ``n`` the
document count after it), and every ``SNAPSHOT_EVERY`` articles the counts are written as
``DF_BUCKETS`` rows ``df:<b>`` (the counts of the terms hashing to bucket ``b``, with ``through``,
the last log row they include) and the log rows are deleted. Loading adds to each bucket the log
rows after its own ``through``, so a crash between two of those writes neither loses nor counts
twice an article's terms: the counts after a restart are the counts before it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from schemas import Alert, ArticleRef, Classification
from streams.pipeline.lifecycle import StoryAlertState
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.stories import Placement, StoryStage, StoryStageState
from streams.pipeline.story import Story, StoryConfig, StoryState
from streams.pipeline.syndication import Seen, SyndicationState

__all__ = [
    "ArticleRecord",
    "DocumentFrequencies",
    "StageJournal",
    "StoryAlertRecord",
    "StoryTables",
    "TrackedDict",
    "load_stage",
]

K = TypeVar("K")
V = TypeVar("V")
Table = MutableMapping[str, Any]

#: The key of the one row of the meta table.
META_KEY = "stage"
#: Document frequencies are snapshotted in this many rows of the terms table (never change it
#: on a running deployment: a term's bucket is its CRC-32 modulo this).
DF_BUCKETS = 64
#: Articles between two snapshots of the document frequencies.
SNAPSHOT_EVERY = 256
_LOG = "log:"
_BUCKET = "df:"


def df_bucket(term: str) -> int:
    """The snapshot row that holds a term's document frequency (stable across processes)."""
    return zlib.crc32(term.encode("utf-8")) % DF_BUCKETS


class TrackedDict(dict[K, V], Generic[K, V]):
    """A dict that records which keys were set or removed since :meth:`take_changes`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.changed: set[K] = set()

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.changed.add(key)

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self.changed.add(key)

    def pop(self, key: K, *default: Any) -> Any:
        """``dict.pop``, recording the key when it was present."""
        if key in self:
            self.changed.add(key)
        return super().pop(key, *default)

    def take_changes(self) -> set[K]:
        """The keys changed since the last call; forgets them."""
        changed, self.changed = self.changed, set()
        return changed


class ArticleRecord(BaseModel):
    """What the story stage keeps of one placed article (a row of the articles table)."""

    placement: Placement
    article_version: int
    withdrawn: bool = False
    ref: ArticleRef
    #: The classification the article's ClassifiedArticle carried (its original's, for a copy).
    classification: Classification | None = None
    duplicate_of: str | None = None


class StoryAlertRecord(BaseModel):
    """One story's alert: the lifecycle state and the last messages published (for replays)."""

    state: StoryAlertState
    published: list[Alert] = Field(default_factory=list)
    #: Stage clock when the story left the window. The record outlives its story by one more
    #: window, so a redelivered late article that reopens the story (same id) replays the same
    #: messages instead of starting again at version 1.
    retired_at: float | None = None


@dataclass
class StoryTables:
    """The tables of the story stage, by what they hold."""

    #: article id -> ArticleRecord
    articles: Table = field(default_factory=dict)
    #: story id -> Story
    stories: Table = field(default_factory=dict)
    #: article id -> Seen (syndication fingerprints)
    fingerprints: Table = field(default_factory=dict)
    #: document frequencies: ``log:<n>`` -> an article's terms, ``df:<b>`` -> a snapshot bucket
    #: (see :class:`DocumentFrequencies`; rows keyed by a bare term are the former layout, read
    #: and folded into the buckets at the first snapshot)
    terms: Table = field(default_factory=dict)
    #: META_KEY -> {"n_docs", "story_clock", "syndication_clock"}
    meta: Table = field(default_factory=dict)
    #: story id -> StoryAlertRecord
    alerts: Table = field(default_factory=dict)

    def article(self, article_id: str) -> ArticleRecord | None:
        """The record of a placed article, if the window still holds it."""
        raw = self.articles.get(article_id)
        return None if raw is None else ArticleRecord.model_validate(raw)

    def story_alert(self, story_id: str) -> StoryAlertRecord | None:
        """The alert record of a story, if it has one."""
        raw = self.alerts.get(story_id)
        return None if raw is None else StoryAlertRecord.model_validate(raw)


class DocumentFrequencies:
    """The document frequencies' rows in the terms table: a log of articles and snapshots."""

    def __init__(self, table: Table) -> None:
        self.table = table
        #: Log rows written since the last snapshot, and the buckets they touch.
        self.pending: list[int] = []
        self.dirty: set[int] = set()
        #: Rows of the former layout (one per term), deleted at the next snapshot.
        self.legacy: list[str] = []

    def load(self) -> tuple[dict[str, int], int]:
        """The counts the rows hold, and the highest document count they mention."""
        df: dict[str, int] = {}
        through: dict[int, int] = {}
        logs: dict[int, list[str]] = {}
        legacy: dict[str, int] = {}
        for key, value in self.table.items():
            if key.startswith(_BUCKET):
                through[int(key[len(_BUCKET) :])] = int(value["through"])
                df.update(value["df"])
            elif key.startswith(_LOG):
                logs[int(key[len(_LOG) :])] = list(value)
            else:
                legacy[key] = int(value)
        for term, n in legacy.items():
            self.legacy.append(term)
            bucket = df_bucket(term)
            self.dirty.add(bucket)
            if bucket not in through:  # a written bucket already folded the former rows in
                df[term] = n
        for seq in sorted(logs):
            self.pending.append(seq)
            for term in logs[seq]:
                bucket = df_bucket(term)
                self.dirty.add(bucket)
                if seq > through.get(bucket, -1):
                    df[term] = df.get(term, 0) + 1
        return df, max([*through.values(), *logs, 0])

    def log(self, seq: int, terms: Iterable[str], df: dict[str, int]) -> None:
        """Record one article's terms (``seq``: the document count after it); snapshot when due."""
        terms = sorted(terms)
        self.table[f"{_LOG}{seq}"] = terms
        self.pending.append(seq)
        self.dirty.update(df_bucket(t) for t in terms)
        if len(self.pending) >= SNAPSHOT_EVERY or self.legacy:
            self.snapshot(seq, df)

    def snapshot(self, seq: int, df: dict[str, int]) -> None:
        """Write every bucket the log touched, then forget the log (and the former rows)."""
        buckets: dict[int, dict[str, int]] = {b: {} for b in self.dirty}
        for term, n in df.items():
            bucket = buckets.get(df_bucket(term))
            if bucket is not None:
                bucket[term] = n
        for b in sorted(buckets):
            self.table[f"{_BUCKET}{b}"] = {"through": seq, "df": buckets[b]}
        for old in self.pending:
            self.table.pop(f"{_LOG}{old}", None)
        for term in self.legacy:
            self.table.pop(term, None)
        self.pending, self.dirty, self.legacy = [], set(), []


def load_stage(
    tables: StoryTables, config: StoryConfig, families: PublisherFamilies
) -> tuple[StoryStage, DocumentFrequencies]:
    """A story stage holding exactly the tables' state, its dicts tracked for :class:`StageJournal`,
    and the document frequencies' rows it was read from."""
    meta = tables.meta.get(META_KEY) or {}
    stories: TrackedDict[str, Story] = TrackedDict(
        (sid, Story.model_validate(raw)) for sid, raw in tables.stories.items()
    )
    frequencies = DocumentFrequencies(tables.terms)
    counts, logged = frequencies.load()
    df: TrackedDict[str, int] = TrackedDict(counts)
    seen: TrackedDict[str, Seen] = TrackedDict(
        (aid, Seen.model_validate(raw)) for aid, raw in tables.fingerprints.items()
    )
    placements: TrackedDict[str, Placement] = TrackedDict(
        (aid, ArticleRecord.model_validate(raw).placement) for aid, raw in tables.articles.items()
    )
    state = StoryStageState.model_construct(
        stories=StoryState.model_construct(
            stories=stories,
            df=df,
            n_docs=max(int(meta.get("n_docs", 0)), logged),
            clock=float(meta.get("story_clock", 0.0)),
        ),
        syndication=SyndicationState.model_construct(
            seen=seen, clock=float(meta.get("syndication_clock", 0.0))
        ),
        placements=placements,
    )
    return StoryStage(config, families, state), frequencies


class StageJournal:
    """Writes a stage's changes back to the tables, the article's own record last."""

    def __init__(
        self, stage: StoryStage, tables: StoryTables, frequencies: DocumentFrequencies | None = None
    ) -> None:
        self.stage = stage
        self.tables = tables
        self.frequencies = frequencies or DocumentFrequencies(tables.terms)

    def _tracked(self) -> tuple[TrackedDict[str, Any], ...]:
        state = self.stage.state
        dicts = (state.stories.stories, state.stories.df, state.syndication.seen, state.placements)
        if not all(isinstance(d, TrackedDict) for d in dicts):
            raise TypeError("the stage was not built by load_stage: its changes cannot be tracked")
        return dicts  # type: ignore[return-value]

    def write(self, story_id: str | None, record: tuple[str, ArticleRecord] | None) -> None:
        """Write what changed: the stories (``story_id`` changed in place), terms, fingerprints,
        the clocks, evicted articles, and finally ``record``."""
        stories, df, seen, placements = self._tracked()
        changed_stories = stories.take_changes() | ({story_id} if story_id else set())
        retired: list[str] = []
        for sid in changed_stories:
            story = stories.get(sid)
            if story is None:
                self.tables.stories.pop(sid, None)
                retired.append(sid)
            else:
                self.tables.stories[sid] = story.model_dump(mode="json")
        if retired:
            self._retire_alerts(retired)
        terms = df.take_changes()
        if terms:
            self.frequencies.log(self.stage.state.stories.n_docs, terms, df)
        for aid in seen.take_changes():
            fingerprint = seen.get(aid)
            if fingerprint is None:
                self.tables.fingerprints.pop(aid, None)
            else:
                self.tables.fingerprints[aid] = fingerprint.model_dump(mode="json")
        state = self.stage.state
        self.tables.meta[META_KEY] = {
            "n_docs": state.stories.n_docs,
            "story_clock": state.stories.clock,
            "syndication_clock": state.syndication.clock,
        }
        for aid in placements.take_changes():
            if aid not in placements:
                self.tables.articles.pop(aid, None)
        if record is not None and record[0] in placements:
            self.tables.articles[record[0]] = record[1].model_dump(mode="json")

    def write_alert(self, story_id: str, record: StoryAlertRecord) -> None:
        """Store a story's alert record (its story is in the window again, if it had left)."""
        record = record.model_copy(update={"retired_at": None})
        self.tables.alerts[story_id] = record.model_dump(mode="json", by_alias=True)

    def _retire_alerts(self, story_ids: list[str]) -> None:
        """Mark evicted stories' alert records, and drop the records retired a window ago."""
        clock = self.stage.state.stories.clock
        for story_id in story_ids:
            held = self.tables.alerts.get(story_id)
            if held is not None:
                self.tables.alerts[story_id] = {**held, "retired_at": clock}
        horizon = clock - self.stage.config.window_hours * 3600.0
        for sid, value in list(self.tables.alerts.items()):
            retired = value.get("retired_at")
            if retired is not None and retired < horizon:
                del self.tables.alerts[sid]
