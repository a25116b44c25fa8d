"""A long stream of short, distinct articles for the fault run (written for it, fictional).

Each article is five sentences: a lead from one of ten themes (half escalations, half not),
then a detail, a reaction, a background and a closing sentence, each from its own pool, with the
place, the day and the numbers drawn per article. Two articles seldom share more than one
sentence, so few are copies of another and most go through the model; the stream is the same
for the same seed.
"""

from __future__ import annotations

import json
import random

from tests.e2e.harness import Input, article_json

PLACES = [
    ("Varna", "Bulgaria"),
    ("Tartu", "Estonia"),
    ("Kaunas", "Lithuania"),
    ("Ruse", "Bulgaria"),
    ("Daugavpils", "Latvia"),
    ("Bitola", "North Macedonia"),
    ("Shkoder", "Albania"),
    ("Gyumri", "Armenia"),
    ("Batumi", "Georgia"),
    ("Balti", "Moldova"),
    ("Mosul", "Iraq"),
    ("Gao", "Mali"),
    ("Kisumu", "Kenya"),
    ("Mandalay", "Myanmar"),
    ("Davao", "the Philippines"),
    ("Jaffna", "Sri Lanka"),
    ("Iquitos", "Peru"),
    ("Salta", "Argentina"),
    ("Tromso", "Norway"),
    ("Oulu", "Finland"),
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

LEADS = [
    # Escalations.
    "Artillery shelled the outskirts of {place} on {day}, killing {n} people and damaging a "
    "hospital, officials in {country} said.",
    "{country} moved {n} armoured vehicles and two artillery battalions towards {place} on {day}, "
    "satellite images showed.",
    "The government of {country} expelled {n} diplomats on {day} and recalled its ambassador "
    "after a row over the arrests in {place}.",
    "A spokesman warned on {day} that {country} would strike the depots near {place} if the "
    "shipments continued, giving the other side {n} days.",
    "Drones attacked a fuel terminal at {place} before dawn on {day}, setting {n} tanks on fire, "
    "the authorities of {country} said.",
    # No escalation.
    "The city council of {place} approved {n} new bus lines on {day}, the transport office of "
    "{country} said.",
    "A trade fair opened in {place} on {day} with {n} exhibitors from across {country} showing "
    "furniture, wine and farm machinery.",
    "Heavy rain closed {n} roads around {place} on {day} and the weather service of {country} "
    "expected more showers.",
    "The football club of {place} won its home match {n} to one on {day}, moving up the league "
    "table in {country}.",
    "Researchers in {place} said on {day} they had counted {n} nesting pairs of storks, the most "
    "recorded in {country}.",
]
DETAILS = [
    "Local radio said the figures were still being checked.",
    "Residents described long queues at petrol stations and bakeries.",
    "The regional governor called an emergency meeting for the evening.",
    "Schools in the area stayed open and trains ran on time.",
    "Photographs shared online showed smoke above the river port.",
    "The ministry published a map of the affected districts.",
    "Hotel owners said bookings had risen for the summer season.",
    "An aid agency said it had sent two lorries of blankets and water.",
    "Police closed the main square to traffic for the afternoon.",
    "The mayor thanked volunteers who had worked through the night.",
    "A local newspaper said the plan had been debated for three years.",
    "Farmers in the valley said the harvest would start a week late.",
]
REACTIONS = [
    "The foreign ministry of a neighbouring state urged restraint from all sides.",
    "Opposition leaders demanded a full account in parliament.",
    "Business groups welcomed the decision and asked for lower taxes.",
    "A United Nations spokesman said the organisation was following events closely.",
    "Fans celebrated in the streets until late in the night.",
    "Trade unions said they would study the details before commenting.",
    "Human rights groups asked for an independent inquiry.",
    "The European Union said it would discuss the matter at its next meeting.",
    "Church leaders called for calm and prayers for the victims.",
    "Environmental campaigners said the numbers showed years of work had paid off.",
]
BACKGROUNDS = [
    "Tension in the region has grown since a border incident last spring.",
    "The area has seen rapid growth in tourism over the past decade.",
    "Talks between the two governments broke down in the autumn.",
    "The region relies on river trade and on a single railway line.",
    "Similar measures were taken in two other cities last year.",
    "The last comparable event in the region was recorded twelve years ago.",
    "Elections are due in the country before the end of the year.",
    "A ceasefire agreed in the winter has been broken several times.",
]
CLOSINGS = [
    "Further statements were expected on {day2}.",
    "Officials said they would give an update on {day2}.",
    "No date was set for the next round of talks.",
    "The next council session is planned for {day2}.",
    "Reporters were not allowed into the area.",
    "The final results will be published on {day2}.",
]


def fault_articles(count: int, tag: str, *, malformed_every: int = 50, seed: int = 17) -> list[Input]:
    """``count`` inputs with ids ``{tag}-{i}``; every ``malformed_every``-th is an article with an
    empty body (dead-lettered as ``invalid_article``), the rest are valid articles."""
    rng = random.Random(seed)
    inputs = []
    for i in range(count):
        aid = f"{tag}-{i}"
        if malformed_every and i % malformed_every == malformed_every - 1:
            raw = json.dumps({"id": aid, "title": "Empty", "body": ""}).encode()
            inputs.append(Input(raw, aid.encode(), None, "invalid_article"))
            continue
        place, country = rng.choice(PLACES)
        slots = {
            "place": place,
            "country": country,
            "day": rng.choice(DAYS),
            "day2": rng.choice(DAYS),
            "n": rng.randint(2, 400),
        }
        lead = LEADS[i % len(LEADS)].format(**slots)
        rest = [rng.choice(pool).format(**slots) for pool in (DETAILS, REACTIONS, BACKGROUNDS, CLOSINGS)]
        title = lead.split(",")[0][:90]
        body = " ".join([lead, *rest])
        inputs.append(Input(article_json(aid, title, body), aid.encode(), (aid, 1), None))
    return inputs
