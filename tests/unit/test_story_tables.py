"""The story stage's tables: what a restarted worker reads back equals what it wrote.

Document frequencies are written as one log row per article and periodic snapshot buckets, not
one row per term; these tests check the counts survive restarts, partial snapshots and the
former one-row-per-term layout, and that an article costs a handful of table writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streams.pipeline import story_tables
from streams.pipeline.assign import StoryAssigner
from streams.pipeline.copies import CopyCache
from streams.pipeline.publishers import PublisherFamilies
from streams.pipeline.story import StoryConfig
from streams.pipeline.story_tables import DocumentFrequencies, StoryTables, df_bucket
from tests.support.corpus import ALL_ARTICLES
from tests.support.fakes import KeywordClassifier
from tests.unit.test_story_flow import article, run, stage_one


class CountingTable(dict[str, Any]):
    """A dict that counts writes and deletions, as a Faust table would send changelog messages."""

    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        CountingTable.writes += 1
        super().__setitem__(key, value)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            CountingTable.writes += 1
        return super().pop(key, *default)


def tables() -> StoryTables:
    names = ("articles", "stories", "fingerprints", "terms", "meta", "alerts")
    return StoryTables(**{name: CountingTable() for name in names})


def inputs(n: int, start: int = 0) -> Iterator[bytes]:
    for i in range(start, start + n):
        _, title, body, _ = ALL_ARTICLES[i % len(ALL_ARTICLES)]
        yield article(f"a{i}", f"{title}. {body} Case {i}.", site=f"s{i % 7}.example", hours=i)


def new_assigner(t: StoryTables) -> StoryAssigner:
    return StoryAssigner(t, StoryConfig(), PublisherFamilies())


def state_of(assigner: StoryAssigner) -> dict[str, Any]:
    state = assigner.stage.state
    return {
        "df": dict(state.stories.df),
        "n_docs": state.stories.n_docs,
        "clock": state.stories.clock,
        "stories": {k: v.model_dump() for k, v in state.stories.stories.items()},
        "seen": {k: v.model_dump() for k, v in state.syndication.seen.items()},
        "placements": {k: v.model_dump() for k, v in state.placements.items()},
    }


@pytest.fixture
def snapshot_every(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(story_tables, "SNAPSHOT_EVERY", 4)
    return 4


def test_a_restarted_stage_has_the_state_of_the_one_that_wrote_the_tables(snapshot_every: int) -> None:
    t = tables()
    live = new_assigner(t)
    run(live, stage_one(list(inputs(10)), CopyCache(), KeywordClassifier()))
    assert any(k.startswith("df:") for k in t.terms)  # snapshots were taken ...
    assert sum(k.startswith("log:") for k in t.terms) == 10 % snapshot_every  # ... and the log after
    restarted = new_assigner(_copy(t))
    assert state_of(restarted) == state_of(live)
    # Both go on alike (across the next snapshot): the same outputs, the same state.
    more = stage_one(list(inputs(6, start=10)), CopyCache(), KeywordClassifier())
    assert run(restarted, more) == run(live, more)
    assert state_of(restarted) == state_of(live)
    assert state_of(new_assigner(t)) == state_of(live)


def _copy(t: StoryTables) -> StoryTables:
    return StoryTables(**{name: CountingTable(getattr(t, name)) for name in t.__dataclass_fields__})


def test_a_snapshot_cut_short_neither_loses_nor_double_counts(snapshot_every: int) -> None:
    """A crash after some snapshot buckets were written and before the log was deleted."""
    df: dict[str, int] = {}
    full: dict[str, Any] = {}
    frequencies = DocumentFrequencies(full)
    docs = [["storm", "coast"], ["storm", "ferry"], ["harbour", "ferry"], ["storm", "vote"]]
    for seq, terms in enumerate(docs[:3], start=1):
        for term in terms:
            df[term] = df.get(term, 0) + 1
        frequencies.log(seq, terms, df)
    before_snapshot = dict(full)
    for term in docs[3]:
        df[term] = df.get(term, 0) + 1
    frequencies.log(4, docs[3], df)  # the fourth article triggers the snapshot
    buckets = sorted(k for k in full if k.startswith("df:"))
    assert buckets
    assert not any(k.startswith("log:") for k in full)
    # The crash: the fourth log row and only the first bucket of the snapshot reached the table.
    cut = {**before_snapshot, "log:4": sorted(docs[3]), buckets[0]: full[buckets[0]]}
    assert DocumentFrequencies(cut).load() == (df, 4)
    assert DocumentFrequencies(dict(full)).load() == (df, 4)


def test_rows_of_the_former_layout_are_read_and_folded_in() -> None:
    old: dict[str, Any] = {"storm": 3, "ferry": 1}
    frequencies = DocumentFrequencies(old)
    df, _ = frequencies.load()
    assert df == {"storm": 3, "ferry": 1}
    df["storm"] += 1
    frequencies.log(5, ["storm"], df)  # the first write migrates
    assert "storm" not in old
    assert "ferry" not in old
    assert old[f"df:{df_bucket('storm')}"]["df"]["storm"] == 4
    assert DocumentFrequencies(old).load()[0] == {"storm": 4, "ferry": 1}


def test_an_article_costs_a_handful_of_table_writes_not_one_per_term() -> None:
    t = tables()
    assigner = new_assigner(t)
    n = 40
    CountingTable.writes = 0
    run(assigner, stage_one(list(inputs(n)), CopyCache(), KeywordClassifier()))
    terms = len(assigner.stage.state.stories.df)
    per_article = CountingTable.writes / n
    print(f"{per_article:.1f} table writes per article ({terms} distinct terms)")
    assert terms > 10 * n / 4  # many more terms than writes: frequencies are not written per term
    assert per_article <= 7
