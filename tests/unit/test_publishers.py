"""Publisher families: domains and names to families, unknown sites as their own family."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.pipeline.publishers import PublisherFamilies, host_of, registrable_domain


@pytest.fixture(scope="module")
def families() -> PublisherFamilies:
    return PublisherFamilies.load()


@pytest.mark.parametrize(
    ("source", "url", "family"),
    [
        (None, "https://www.bbc.co.uk/news/world-1", "bbc"),
        (None, "https://bbc.com/news/world-2", "bbc"),
        ("Reuters", None, "reuters"),
        ("reuters.com", None, "reuters"),
        (None, "https://apnews.com/article/x", "ap"),
        ("AP", "https://m.example-gazette.com/a/1", "example-gazette.com"),
        (None, "https://news.smalltown.co.uk/story", "smalltown.co.uk"),
        (None, "http://amp.dailyriver.net/p?id=3", "dailyriver.net"),
        (None, None, "unknown"),
    ],
)
def test_family_of(families: PublisherFamilies, source: str | None, url: str | None, family: str) -> None:
    assert families.family_of(source=source, url=url) == family


def test_wires_are_marked(families: PublisherFamilies) -> None:
    assert families.is_wire("ap")
    assert families.is_wire("afp")
    assert not families.is_wire("bbc")


def test_storm_of_forty_sites_counts_five_families(tmp_path: Path) -> None:
    table = tmp_path / "families.yaml"
    table.write_text(
        "families:\n"
        + "".join(
            f"  group{g}:\n    domains: [{', '.join(f'site{g}-{k}.com' for k in range(8))}]\n"
            for g in range(5)
        ),
        encoding="utf-8",
    )
    families = PublisherFamilies.load(table)
    sites = [(None, f"https://www.site{g}-{k}.com/story") for g in range(5) for k in range(8)]
    assert families.count(sites) == 5


def test_hosts() -> None:
    assert host_of("https://WWW.Example.org:8443/x") == "example.org"
    assert host_of("m.example.org") == "example.org"
    assert registrable_domain("a.b.example.com.au") == "example.com.au"
