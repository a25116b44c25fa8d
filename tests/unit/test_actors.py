"""Actor recognition and the evidence-first reporting rule (streams.classifier.actors).

All texts are written for these tests. The seed-article check reads ../shared/samples at test
time (it sits beside the repository in CI) and copies nothing from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from schemas.events import Article, Category, Evidence, Signal
from streams.classifier.actors import MAX_ACTORS, extract_actors, find_mentions, organisations
from streams.classifier.sentences import article_spans, split_sentences

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def article(body: str, title: str = "") -> Article:
    return Article(id="t-1", title=title, body=body)


def evidence(art: Article, phrase: str, field: Literal["title", "body"] = "body") -> Evidence:
    text = getattr(art, field)
    start = text.index(phrase)
    return Evidence(field=field, start=start, end=start + len(phrase), text=phrase)


def signal(category: Category, *evs: Evidence, score: float = 0.9) -> Signal:
    return Signal(category=category, score=score, evidence=list(evs))


def labels(text: str) -> list[str]:
    """Labels of the strong-or-weak mentions of a text, in order, deduplicated."""
    return list(dict.fromkeys(m.label for m in find_mentions(text)))


def actors_of(body: str, title: str = "") -> list[str]:
    """The article-wide actors (no signals) of a text."""
    return extract_actors(article(body, title), [])


# --- recognition -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The United States imposed new tariffs.", "US"),
        ("Officials in the U.S. said little.", "US"),
        ("The US Navy sailed on.", "US"),
        ("America warned its rivals.", "US"),
        ("Britain recalled its envoy.", "GB"),
        ("The UK joined the talks.", "GB"),
        ("The United Kingdom objected.", "GB"),
        ("South Korea raised its alert level.", "KR"),
        ("North Korea fired a missile.", "KP"),
        ("Russia moved troops.", "RU"),
        ("The Russian Federation objected.", "RU"),
        ("Iran enriched more uranium.", "IR"),
        ("Venezuela closed the border.", "VE"),
        ("Syria denied it.", "SY"),
        ("Vietnam protested.", "VN"),
        ("Türkiye and its neighbours talked.", "TR"),
        ("Côte d'Ivoire voted.", "CI"),
        ("Cote d'Ivoire voted.", "CI"),
        ("Bare Congo means the DRC in wire copy.", "CD"),
        ("The Republic of Congo objected.", "CG"),
    ],
)
def test_country_names(text: str, expected: str) -> None:
    assert labels(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A Russian destroyer docked.", "RU"),
        ("Chinese coast guard ships circled.", "CN"),
        ("An Iranian drone was shot down.", "IR"),
        ("Israeli jets struck overnight.", "IL"),
        ("Ukrainian forces advanced.", "UA"),
        ("Two Americans were detained.", "US"),
        ("Russians queued at the border.", "RU"),
        ("A British frigate shadowed it.", "GB"),
        ("Pakistani officials denied it.", "PK"),
        ("The Saudi foreign minister flew in.", "SA"),
        ("Congolese troops regrouped.", "CD"),
        ("A Philippine supply boat was rammed.", "PH"),
        ("Sri Lankan police fired tear gas.", "LK"),
        ("Azeri artillery opened fire.", "AZ"),
    ],
)
def test_demonyms(text: str, expected: str) -> None:
    assert labels(text) == [expected]


def test_demonym_plurals() -> None:
    assert labels("Israelis and Palestinians marched; Iraqis and Britons watched.") == [
        "IL",
        "PS",
        "IQ",
        "GB",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Havana rejected the demand.", "CU"),
        ("Caracas answered within hours.", "VE"),
        ("Tehran vowed to respond.", "IR"),
        ("Beijing summoned the ambassador.", "CN"),
        ("Moscow called it a provocation.", "RU"),
        ("Kyiv asked for more air defence.", "UA"),
        ("Kiev asked for more air defence.", "UA"),
        ("Bogota and Bogotá are one city.", "CO"),
        ("Astana hosted the talks.", "KZ"),
    ],
)
def test_capitals(text: str, expected: str) -> None:
    assert labels(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Washington said all options were open.", "US"),
        ("The White House declined to comment.", "US"),
        ("The Pentagon confirmed the deployment.", "US"),
        ("The Kremlin dismissed the report.", "RU"),
        ("Downing Street said the envoy would stay.", "GB"),
        ("Pyongyang called the drills a rehearsal for invasion.", "KP"),
        ("Zhongnanhai has not commented.", "CN"),
        ("The Élysée issued a statement.", "FR"),
        ("The Elysee issued a statement.", "FR"),
        ("The Knesset voted overnight.", "IL"),
    ],
)
def test_metonyms(text: str, expected: str) -> None:
    assert labels(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NATO allies met in the morning.", "NATO"),
        ("The UN envoy arrived.", "UN"),
        ("The U.N. envoy arrived.", "UN"),
        ("The United Nations condemned it.", "UN"),
        ("The EU agreed a new package.", "EU"),
        ("The European Union agreed a new package.", "EU"),
        ("Brussels agreed a new package.", "EU"),
        ("IAEA inspectors were turned away.", "IAEA"),
        ("Hamas fired rockets.", "Hamas"),
        ("Hezbollah fighters withdrew.", "Hezbollah"),
        ("The Houthis attacked a tanker.", "Houthis"),
        ("The African Union suspended the country.", "African Union"),
        ("The AU suspended the country.", "African Union"),
        ("G7 finance ministers agreed a price cap.", "G7"),
        ("OPEC members cut output.", "OPEC"),
        ("The WHO declared an emergency.", "WHO"),
        ("The Gulf Cooperation Council met on Sunday.", "GCC"),
    ],
)
def test_organisations(text: str, expected: str) -> None:
    assert labels(text) == [expected]
    assert expected in organisations()


def test_organisations_are_not_iso_codes() -> None:
    # "AU" would read as Australia to a consumer; the African Union is reported by name.
    assert "AU" not in organisations()
    assert labels("Australia sent a frigate.") == ["AU"]


# --- case and ambiguity -----------------------------------------------------------------------


def test_us_is_case_sensitive() -> None:
    assert labels("Let us hope the talks go well, she told us.") == []
    assert labels("The US and the UN disagreed.") == ["US", "UN"]


def test_short_codes_ignored_in_all_capital_text() -> None:
    assert labels("LET US PRAY FOR PEACE") == []
    assert labels("Let US forces stand down, he said.") == ["US"]


@pytest.mark.parametrize(
    "text",
    [
        "Jordan Henderson scored twice in the second half.",
        "We had a turkey dinner with the family.",
        "The Turkey Trot fun run starts at nine.",
        "The Washington Commanders lost again on Sunday.",
        "The Washington Post published the memo.",
        "A statue of George Washington was restored.",
        "Voters in Georgia lined up before dawn in Atlanta.",
        "Chad Smith scored the winning basket.",
        "Roast Turkey with all the trimmings.",
        "Boats sailed down the Niger River.",
        "Growth in Latin America slowed.",
        "The ship crossed the Indian Ocean.",
        "The US Open final went to five sets.",
        "Prices were quoted in US$ per barrel.",
        "She moved to New Jersey last year.",
        "The director Sofia Coppola spoke.",
        "Coastguard vessels patrolled the South China Sea.",
        "Rigs in the Gulf of Mexico shut down before the storm.",
        "The Guinea Pig Cafe reopened on Monday.",
        "Snow fell across New England.",
    ],
)
def test_ambiguous_forms_give_no_actor(text: str) -> None:
    assert actors_of(text, title=text) == []


def test_longest_form_wins() -> None:
    assert labels("Papua New Guinea held elections.") == ["PG"]
    assert labels("Equatorial Guinea held elections.") == ["GQ"]
    assert labels("South Sudan and Sudan met.") == ["SS", "SD"]
    assert labels("Northern Ireland voted.") == ["GB"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Jordan closed its airspace. Jordanian jets were scrambled from bases near Amman.", ["JO"]),
        ("Russian troops massed near Georgia. Tbilisi asked for help.", ["RU", "GE"]),
        ("Chad President Idriss spoke. Chadian troops sealed the border.", ["TD"]),
    ],
)
def test_weak_form_counts_when_corroborated(body: str, expected: list[str]) -> None:
    art = article(body)
    first = body.split(". ", maxsplit=1)[0] + "."
    sig = signal("diplomatic_rupture", evidence(art, first))
    assert extract_actors(art, [sig]) == expected


def test_given_name_form_counts_when_not_followed_by_a_capitalised_word() -> None:
    assert actors_of("Chad closed its border with Sudan.") == ["TD", "SD"]
    assert actors_of("Troops from Chad's army crossed into Sudan.") == ["TD", "SD"]
    assert actors_of("Chad Smith crossed into Sudan.") == ["SD"]


def test_turkey_and_niger_are_strong() -> None:
    assert actors_of("Turkey shelled positions in northern Syria.") == ["TR", "SY"]
    assert actors_of("Niger expelled the ambassador.") == ["NE"]
    assert actors_of("Oil spills fouled the Niger Delta.") == ["NG"]


def test_weak_form_alone_is_dropped_even_in_evidence() -> None:
    art = article("Jordan warned he would retaliate on the pitch.")
    sig = signal("threat", evidence(art, "Jordan warned he would retaliate on the pitch."))
    assert extract_actors(art, [sig]) == []


# --- which actors, in which order -------------------------------------------------------------


BODY = (
    "Officials in Caracas spoke of unrest. "
    "Russian warships fired on a Ukrainian port overnight, the Ukrainian navy said. "
    "Analysts in Japan watched closely. "
    "Chinese diplomats urged calm. "
    "A Chinese envoy later flew to Moscow."
)


def test_evidence_actors_come_first() -> None:
    art = article(BODY, title="Envoys trade warnings")
    sig = signal(
        "use_of_force",
        evidence(art, "Russian warships fired on a Ukrainian port overnight, the Ukrainian navy said."),
    )
    # evidence (RU, UA), then the lead sentence (VE), then recurring (CN: 2 sentences).
    # Japan is mentioned once outside the evidence, title and lead: not reported.
    assert extract_actors(art, [sig]) == ["RU", "UA", "VE", "CN"]


def test_silent_evidence_takes_the_actors_of_its_neighbours() -> None:
    body = (
        "Crowds gathered in the square. "
        "Artillery shelled the town overnight, killing five people. "
        "Russian forces fired rockets at the station, officials said. "
        "Later, a Ukrainian spokesman said drones were shot down."
    )
    art = article(body)
    sig = signal("use_of_force", evidence(art, "Artillery shelled the town overnight, killing five people."))
    # the evidence names nobody: the sentence after it names RU, the one before nobody; UA is
    # mentioned once, two sentences away, and RU was found, so step 5 does not add it
    assert extract_actors(art, [sig]) == ["RU"]


def test_silent_evidence_takes_the_sentence_before_it_too() -> None:
    body = (
        "Residents were asleep. Russian forces fired rockets at the city on Tuesday. "
        "The strikes killed five people. Residents fled to shelters. "
        "Later, analysts in Peru were surprised."
    )
    art = article(body)
    sig = signal("use_of_force", evidence(art, "The strikes killed five people."))
    # RU from the sentence before the evidence; PE, once and not next to it, is not needed
    assert extract_actors(art, [sig]) == ["RU"]


def test_evidence_over_several_sentences_takes_the_sentences_around_all_of_them() -> None:
    body = (
        "Officials in Chile commented. Artillery shelled the town. Shells hit a school. "
        "Russian forces then withdrew. Nothing else happened."
    )
    art = article(body)
    sig = signal("use_of_force", evidence(art, "Artillery shelled the town. Shells hit a school."))
    # before the evidence: Chile; after it (not its own second sentence): Russia
    assert extract_actors(art, [sig]) == ["CL", "RU"]


def test_everyone_mentioned_when_no_rule_finds_an_actor() -> None:
    body = "Nothing was said at first. Then Peru spoke. Much later Chile answered."
    # no actor in the title or lead, none recurring, no evidence: each mentioned once
    assert actors_of(body) == ["PE", "CL"]
    art = article(body)
    sig = signal("diplomatic_rupture", evidence(art, "Nothing was said at first."))
    # the silent evidence's neighbour names Peru; Chile is not needed then
    assert extract_actors(art, [sig]) == ["PE"]


def test_without_signals_title_lead_and_recurring() -> None:
    art = article(BODY, title="Japan weighs its options")
    # title (JP), lead (VE), then RU and CN (two sentences each, RU named first). UA is named
    # twice but in one sentence, so it is not recurring.
    assert extract_actors(art, []) == ["JP", "VE", "RU", "CN"]


def test_precomputed_sentences_give_the_same_result() -> None:
    art = article(BODY, title="Japan weighs its options")
    spans = article_spans(art.title, art.body)
    assert extract_actors(art, [], sentences=spans) == extract_actors(art, [])


def test_recurring_actors_ordered_by_sentence_count() -> None:
    body = (
        "Nothing happened at first. Iran spoke. Iran spoke again. Iran and Iraq talked. "
        "Iraq replied. Oman listened."
    )
    # Iran in 3 sentences, Iraq in 2, Oman in 1 (dropped); the lead names nobody.
    assert actors_of(body) == ["IR", "IQ"]


def test_escalation_evidence_before_de_escalation_evidence() -> None:
    art = article("Qatar brokered a truce. Egyptian jets struck a convoy.")
    calm = signal("de_escalation", evidence(art, "Qatar brokered a truce."), score=0.99)
    force = signal("use_of_force", evidence(art, "Egyptian jets struck a convoy."), score=0.6)
    assert extract_actors(art, [calm, force]) == ["EG", "QA"]


def test_signal_order_decides_between_evidence_spans() -> None:
    art = article("Peru moved troops. Chile recalled its ambassador.")
    posture = signal("military_posture", evidence(art, "Peru moved troops."))
    rupture = signal("diplomatic_rupture", evidence(art, "Chile recalled its ambassador."))
    assert extract_actors(art, [rupture, posture]) == ["CL", "PE"]
    assert extract_actors(art, [posture, rupture]) == ["PE", "CL"]


def test_title_evidence() -> None:
    art = article("Nothing more to say here.", title="Hamas and Israel trade fire")
    sig = signal("use_of_force", evidence(art, "Hamas and Israel trade fire", field="title"))
    assert extract_actors(art, [sig]) == ["Hamas", "IL"]


def test_deduplicated_across_forms() -> None:
    art = article("The U.S. warned Iran. Washington and the White House agree; Americans too.")
    sig = signal("threat", evidence(art, art.body))
    assert extract_actors(art, [sig]) == ["US", "IR"]


def test_capped() -> None:
    body = (
        "France, Germany, Italy, Spain, Poland, Sweden, Norway, Finland, Denmark and Austria "
        "signed a joint defence pledge."
    )
    art = article(body)
    sig = signal("security_cooperation", evidence(art, body))
    assert extract_actors(art, [sig]) == ["FR", "DE", "IT", "ES", "PL", "SE", "NO", "FI"]
    assert len(extract_actors(art, [sig])) == MAX_ACTORS
    assert extract_actors(art, [sig], limit=3) == ["FR", "DE", "IT"]


def test_no_actor_in_article() -> None:
    assert actors_of("The council approved a new bus lane after a long debate.") == []


# --- the seed article -------------------------------------------------------------------------


def _seed() -> tuple[Article, list[str]] | None:
    path, expected = (
        SHARED / "samples" / "seed-article.json",
        SHARED / "samples" / "seed-article.expected.json",
    )
    if not path.exists() or not expected.exists():
        return None
    art = Article.model_validate(json.loads(path.read_text("utf-8")))
    return art, list(json.loads(expected.read_text("utf-8"))["actors"])


@pytest.fixture
def seed() -> tuple[Article, list[str]]:
    loaded = _seed()
    if loaded is None:
        pytest.skip("../shared/samples is not beside the repository")
    return loaded


def test_seed_article_without_signals(seed: tuple[Article, list[str]]) -> None:
    art, expected = seed
    got = extract_actors(art, [])
    assert set(expected) <= set(got)
    assert len(got) <= MAX_ACTORS


def test_seed_article_with_evidence_sentences(seed: tuple[Article, list[str]]) -> None:
    # Signals as the model would give them: evidence = the body sentences that name Venezuela
    # (use_of_force) and the lead (security_cooperation). Offsets come from the splitter.
    art, expected = seed
    sentences = split_sentences(art.body, "body")
    venezuela = [s for s in sentences if "Venezuela" in s.text]
    assert venezuela
    evs = [Evidence(field="body", start=s.start, end=s.end, text=s.text) for s in venezuela]
    lead = sentences[0]
    force = signal("use_of_force", *evs)
    coop = signal(
        "security_cooperation", Evidence(field="body", start=lead.start, end=lead.end, text=lead.text)
    )
    got = extract_actors(art, [force, coop])
    assert set(expected) <= set(got)
    first_in_evidence = find_mentions(venezuela[0].text)[0].label
    assert got[0] == first_in_evidence
