"""A story stream written for the end-to-end tests: a few multi-article stories and singletons.

Four fictional events, each reported by several articles (wire copies republished by other
sites, and independent reports in their own words), plus unrelated single articles from the
test corpus. :func:`story_stream` returns them with the story each belongs to, so a test can
check that the worker grouped them as written, whatever partition or order they arrived in.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaProducer

from schemas import ClassifiedArticle
from tests.e2e.harness import Input, article_json
from tests.support.corpus import ESCALATIONS, HARD_NEGATIVES

DNIESTER = (
    "Moldova closed three crossings on the Dniester river on Saturday after an explosion destroyed an "
    "ammunition depot near Tiraspol, the capital of the breakaway Transnistria region, and Moldovan "
    "officials accused Russian troops stationed there of moving armoured vehicles toward the river. "
    "Chisinau put its border police on high alert and asked the OSCE mission to send observers to the "
    "crossings at Varnita and Gura Bicului."
)
DJIBO = (
    "Jihadist fighters attacked an army camp at Djibo in northern Burkina Faso on Thursday, killing at "
    "least 20 soldiers, security sources said. The attackers arrived on motorbikes at dawn and burned "
    "the camp's fuel store before withdrawing toward the border with Mali."
)

#: story label -> [(article id, title, body, site)], in publication order.
STORIES: dict[str, list[tuple[str, str, str, str]]] = {
    "dniester": [
        ("dn-0", "Moldova shuts Dniester crossings after Tiraspol depot blast", DNIESTER, "wire-one.example"),
        *[
            (
                f"dn-{n}",
                f"Moldova closes crossings after depot explosion ({n})",
                f"CHISINAU (Wire One) - {DNIESTER} Reporting by the Chisinau desk of outlet {n}.",
                f"outlet-{n}.example",
            )
            for n in range(1, 8)
        ],
    ],
    "kastellorizo": [
        (
            "ka-1",
            "Greek and Turkish frigates shadow each other near Kastellorizo",
            "A Turkish frigate and two Greek navy vessels shadowed each other for hours near the island of "
            "Kastellorizo on Tuesday after Ankara sent the survey ship Deniz Arastirma into waters Athens "
            "claims, the Greek defence ministry said. Greece put its fleet in the Aegean on alert.",
            "aegean-times.example",
        ),
        (
            "ka-2",
            "Athens summons Turkish envoy over survey ship near Kastellorizo",
            "Greece summoned Turkey's ambassador on Tuesday to protest against the Turkish survey ship Deniz "
            "Arastirma, which sailed into disputed waters south of Kastellorizo escorted by a Turkish "
            "frigate. Greek warships followed the survey ship, the defence ministry in Athens said.",
            "athens-daily.example",
        ),
        (
            "ka-3",
            "Turkey says survey ship stays near Kastellorizo despite Greek protest",
            "Ankara said on Wednesday that its survey ship Deniz Arastirma would keep working south of "
            "Kastellorizo for another ten days, rejecting the protest from Athens. Turkey's defence "
            "minister said Turkish frigates would keep escorting the survey ship and warned Greece.",
            "bosphorus-post.example",
        ),
    ],
    "djibo": [
        ("dj-0", "Attack on Djibo army camp kills 20 soldiers", DJIBO, "sahel-wire.example"),
        (
            "dj-1",
            "Twenty soldiers killed in attack on Burkina Faso army camp",
            f"OUAGADOUGOU (Sahel Wire) - {DJIBO} (Sahel Wire)",
            "ouaga-news.example",
        ),
        (
            "dj-2",
            "Militants kill soldiers at Djibo camp",
            f"{DJIBO} This report was republished from Sahel Wire.",
            "west-africa-today.example",
        ),
        (
            "dj-3",
            "Burkina Faso mourns Djibo soldiers, orders air strikes near Mali border",
            "Burkina Faso's junta declared three days of mourning on Friday for the 20 soldiers killed in "
            "the attack on the Djibo army camp and ordered air strikes on militant positions near the border "
            "with Mali, the army said. Djibo has been under blockade by jihadist fighters for months.",
            "sahel-wire.example",
        ),
    ],
    "essequibo": [
        (
            "es-1",
            "Venezuela moves troops toward Essequibo border with Guyana",
            "Venezuela sent armoured units and several hundred troops to its border with Guyana near the "
            "disputed Essequibo region on Monday, Guyana's government said. Caracas said the troops were "
            "on exercises; Georgetown put its defence force on alert along the Cuyuni river.",
            "caribbean-herald.example",
        ),
        (
            "es-2",
            "Guyana asks UN Security Council to meet over Venezuelan troops near Essequibo",
            "Guyana asked the UN Security Council on Tuesday for an urgent meeting after Venezuela moved "
            "troops and armoured units to the border near the disputed Essequibo region. Georgetown "
            "said the Venezuelan deployment along the Cuyuni river threatened its territorial integrity.",
            "georgetown-chronicle.example",
        ),
    ],
}
#: Unrelated single articles (corpus escalations and calm articles, none about these events).
SINGLETON_IDS = (
    "t-threat-2",
    "t-posture-1",
    "t-force-1",
    "t-sanctions-1",
    "t-rupture-2",
    "t-nuclear-1",
    "t-coop-1",
    "t-neg-1",
    "t-neg-7",
    "t-neg-9",
    "t-sanctions-2",
)


@dataclass(frozen=True)
class StoryArticle:
    """One article of the stream, with the story it was written for (its own id when alone)."""

    input: Input
    story: str


def dated_input(aid: str, title: str, body: str, site: str, hour: int) -> Input:
    """A valid article published ``hour`` hours into the stream's two days (2026-12-01 00:00 UTC on).

    Every article of a stream should be dated alike: the story stage's clock is the newest event
    time it has seen, so an undated article (read now) would age the dated ones out of the window.
    """
    raw = article_json(
        aid,
        title,
        body,
        url=f"https://{site}/world/{aid}",
        published_at=f"2026-12-0{1 + hour // 24}T{hour % 24:02d}:00:00Z",
    )
    return Input(raw, aid.encode(), (aid, 1), None)


def story_stream() -> list[StoryArticle]:
    """Every article, the stories interleaved with each other and with the singletons, so a
    stream cut anywhere leaves each story with articles on both sides."""
    lanes = [
        [
            StoryArticle(dated_input(aid, title, body, site, hour=4 * k), label)
            for k, (aid, title, body, site) in enumerate(articles)
        ]
        for label, articles in STORIES.items()
    ]
    corpus = {a[0]: a for a in (*ESCALATIONS, *HARD_NEGATIVES)}
    singles = [
        StoryArticle(dated_input(aid, corpus[aid][1], corpus[aid][2], f"desk-{i}.example", hour=3 * i), aid)
        for i, aid in enumerate(SINGLETON_IDS)
    ]
    lanes.append(singles)
    out: list[StoryArticle] = []
    while any(lanes):
        for lane in lanes:
            if lane:
                out.append(lane.pop(0))
    return out


def send_to_partitions(bootstrap: str, topic: str, items: Iterable[tuple[int, Input]]) -> None:
    """Send each input to the partition given, in order; return once all are acknowledged."""
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    try:
        futures = [producer.send(topic, key=i.key, value=i.raw, partition=p) for p, i in items]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()


def grouping(classified: Iterable[ClassifiedArticle]) -> set[frozenset[str]]:
    """The stories as sets of article ids (ids of stories differ between runs, groups do not)."""
    members: dict[str | None, set[str]] = collections.defaultdict(set)
    for c in classified:
        members[c.story_id].add(c.article_id)
    return {frozenset(ids) for ids in members.values()}


def written_grouping(stream: list[StoryArticle]) -> set[frozenset[str]]:
    """The stories as written."""
    members: dict[str, set[str]] = collections.defaultdict(set)
    for item in stream:
        assert item.input.article is not None
        members[item.story].add(item.input.article[0])
    return {frozenset(ids) for ids in members.values()}
