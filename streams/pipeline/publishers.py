"""Publisher families: which independent publisher an article comes from.

A story's corroboration is the number of distinct *families* reporting it: a publisher's several
domains (``bbc.co.uk``, ``bbc.com``) are one family, and a site not in the table is its own
family, named by its registrable domain. The table is YAML (``data/publisher_families.yaml`` by
default, or any file given); it names families by ``domains`` (matched with their subdomains)
and by ``names`` (matched against an article's ``source`` field).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

__all__ = ["PublisherFamilies", "host_of", "registrable_domain"]

# Prefixes that name the same site: the dataset's `source` and many feeds drop them too.
_SITE_PREFIXES = ("www.", "m.", "amp.", "mobile.")
# Second-level labels under which a country code registers names (bbc.co.uk, abc.net.au):
# a short stand-in for the Public Suffix List, enough to group subdomains of one site.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "or", "ne", "go"})


def host_of(url_or_host: str) -> str:
    """The lower-case host of a URL (or of a bare host name), without ``www.``/``m.``/``amp.``."""
    text = url_or_host.strip().lower()
    host = urlsplit(text).hostname if "//" in text else text.split("/", 1)[0].split(":", 1)[0]
    host = (host or "").rstrip(".")
    stripped = True
    while stripped:
        stripped = False
        for prefix in _SITE_PREFIXES:
            if host.startswith(prefix) and host.count(".") > 1:
                host, stripped = host[len(prefix) :], True
    return host


def registrable_domain(host: str) -> str:
    """The domain a site registered: ``news.example.co.uk`` -> ``example.co.uk``."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@dataclass(frozen=True)
class PublisherFamilies:
    """A lookup from domains and source names to family ids."""

    domains: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    wires: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: str | Path | None = None) -> PublisherFamilies:
        """Read a table; without a path, the one shipped with the package."""
        if path is None:
            text = resources.files("streams.pipeline").joinpath("data/publisher_families.yaml").read_text()
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_mapping(yaml.safe_load(text) or {})

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> PublisherFamilies:
        """Build from ``{"families": {id: {"domains": [...], "names": [...], "wire": bool}}}``."""
        domains: dict[str, str] = {}
        names: dict[str, str] = {}
        wires: set[str] = set()
        for family, given in (table.get("families") or {}).items():
            spec = given or {}
            for domain in spec.get("domains", ()):
                domains[host_of(str(domain))] = str(family)
            for name in spec.get("names", ()):
                names[str(name).strip().casefold()] = str(family)
            if spec.get("wire"):
                wires.add(str(family))
        return cls(domains, names, frozenset(wires))

    def family_of(self, *, source: str | None = None, url: str | None = None) -> str:
        """The family of an article: by URL host, else by source (a name or a host).

        The URL wins because it says where the page is; ``source`` is often a wire credit.
        An unknown host is its own family (its registrable domain); with neither, ``"unknown"``.
        """
        for candidate in (url, source):
            if not candidate:
                continue
            by_name = self.names.get(candidate.strip().casefold())
            if by_name is not None:
                return by_name
            host = host_of(candidate)
            if "." not in host:
                continue
            labels = host.split(".")
            for i in range(len(labels) - 1):
                family = self.domains.get(".".join(labels[i:]))
                if family is not None:
                    return family
            return registrable_domain(host)
        return "unknown"

    def is_wire(self, family: str) -> bool:
        """True when the family is a news agency whose copy others republish."""
        return family in self.wires

    def count(self, articles: Iterable[tuple[str | None, str | None]]) -> int:
        """How many distinct families a set of ``(source, url)`` pairs comes from."""
        return len({self.family_of(source=s, url=u) for s, u in articles})
