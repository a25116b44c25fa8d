"""Generate bench/data/articles.jsonl: 24 fictional ~500-word news articles for benchmarks.

Every sentence below was written for Flashpoint (no third-party text). Articles are assembled
deterministically: a lead on one theme, paragraphs drawn from that theme and from a pool of
neutral context sentences, until the body reaches ~500 words.

    python bench/data/make_articles.py   # rewrites articles.jsonl next to this file
"""

from __future__ import annotations

import json
import random
from pathlib import Path

THEMES: dict[str, dict[str, list[str]]] = {
    "strait": {
        "titles": ["Warships shadow each other as tension rises in the strait"],
        "sentences": [
            "Two destroyers and a supply ship sailed into the contested strait on Monday, the defence ministry said.",
            "Fighter jets crossed the median line more than thirty times over the weekend, according to the island's air force.",
            "The coast guard reported that patrol boats had surrounded a fishing fleet near the outlying islands.",
            "Officials said missile batteries on the mainland coast had been moved closer to the shore.",
            "The navy placed its eastern fleet on a higher state of readiness after the drills were announced.",
            "A foreign ministry spokesman warned that any further transit would be met with a firm response.",
            "Analysts said the exercises were the largest in the area since the spring.",
            "Commercial shipping companies were told to avoid a zone around the exercise area for five days.",
        ],
    },
    "sanctions": {
        "titles": ["New export controls target the central bank and arms suppliers"],
        "sentences": [
            "The treasury announced sanctions on twelve banks and froze the assets of four senior officials.",
            "The new measures bar exports of advanced chips and machine tools to the country's defence factories.",
            "Officials said the package was meant to cut the revenue that funds the war.",
            "The foreign minister of the targeted country called the measures economic aggression and promised retaliation.",
            "European governments are expected to add their own asset freezes at a meeting next week.",
            "Shipping insurers said they would stop covering tankers that carry the country's crude above the price cap.",
            "Several airlines were added to the blacklist for carrying military cargo.",
            "Economists said the currency fell by six percent after the announcement.",
        ],
    },
    "strike": {
        "titles": ["Overnight drone and missile strikes hit power stations"],
        "sentences": [
            "A wave of drones and cruise missiles struck power stations in three regions overnight, officials said.",
            "Air defence units said they shot down most of the drones, but several hit substations near the capital.",
            "Rescue workers pulled survivors from a damaged apartment block as firefighters fought the blaze.",
            "The regional governor said at least nine people were killed and dozens were wounded.",
            "Artillery shelling continued along the front line, where both armies reported heavy fighting.",
            "The military said its forces had destroyed an ammunition depot in a retaliatory strike.",
            "Electricity was cut to hundreds of thousands of homes for most of the day.",
            "The president called the attack a deliberate assault on civilians and asked allies for more air defence systems.",
        ],
    },
    "coup": {
        "titles": ["Soldiers seize state television as the president is detained"],
        "sentences": [
            "Soldiers took control of the state broadcaster early on Wednesday and announced that the government had been dissolved.",
            "A colonel read a statement on television saying the armed forces had detained the president.",
            "The borders were closed and a night-time curfew was imposed across the country.",
            "Gunfire was heard near the presidential palace for several hours before dawn.",
            "The regional bloc condemned the seizure of power and demanded the president's immediate release.",
            "Crowds gathered in the capital, some cheering the soldiers and others calling for a return to civilian rule.",
            "The junta said it would name a transitional council within a week.",
            "Diplomats said they were in contact with the detained ministers through intermediaries.",
        ],
    },
    "talks": {
        "titles": ["Negotiators agree a ceasefire and a prisoner exchange"],
        "sentences": [
            "The two sides agreed to a ceasefire that will take effect at midnight, mediators announced.",
            "Under the deal, both armies will pull back heavy weapons fifteen kilometres from the line of contact.",
            "A first exchange of two hundred prisoners is planned for the weekend.",
            "The foreign ministers are due to meet again next month to discuss a lasting peace agreement.",
            "Observers from a neutral country will monitor the truce from a base near the border.",
            "Both governments said they would reopen their embassies, which were closed last year.",
            "Families of the detained soldiers gathered outside the ministry to wait for news.",
            "The mediators thanked both delegations for what they called constructive talks.",
        ],
    },
    "expulsion": {
        "titles": ["Diplomats expelled as the ambassador is recalled"],
        "sentences": [
            "The government ordered eight diplomats to leave the country within seventy-two hours.",
            "It also recalled its ambassador for consultations in protest at what it called interference.",
            "The other side responded by closing a consulate and suspending talks on a border treaty.",
            "The foreign ministry summoned the chargé d'affaires to deliver a formal protest.",
            "Officials said travel bans would be imposed on several senior members of the ruling party.",
            "The dispute began after a journalist was arrested on espionage charges last month.",
            "Relations between the two capitals have been tense for years.",
            "A spokesperson said the door to dialogue remained open if the expulsions were reversed.",
        ],
    },
    "nuclear": {
        "titles": ["Enrichment rises as inspectors lose access"],
        "sentences": [
            "The atomic energy agency reported that uranium was being enriched to sixty percent at an underground site.",
            "Inspectors said cameras at two facilities had been switched off and access had been restricted.",
            "The defence minister said the country's nuclear forces had been placed on high alert.",
            "A senior official warned that the programme would be expanded if new sanctions were imposed.",
            "Satellite images showed new tunnels being dug near the test site.",
            "Neighbouring governments asked for an emergency meeting of the Security Council.",
            "Experts said the stockpile would be enough for several weapons if enriched further.",
            "The agency's director called for an urgent return to full monitoring.",
        ],
    },
    "pact": {
        "titles": ["Leaders sign a defence pact and an arms deal"],
        "sentences": [
            "The two leaders signed a mutual defence agreement during a state visit on Thursday.",
            "The pact allows troops from each country to train at the other's bases and to use its ports.",
            "It also includes a deal for forty fighter jets and a coastal missile system.",
            "The defence ministers said the agreement was a response to growing pressure from a common rival.",
            "Joint naval exercises are planned for the autumn in waters near the disputed islands.",
            "The rival government called the pact a provocation and said it would take necessary measures.",
            "Parliament must still ratify the agreement, which is expected to pass easily.",
            "The visit ended with a dinner at the presidential residence.",
        ],
    },
    "neutral": {
        "titles": [
            "Storm threatens the coast as residents prepare",
            "Price war hits supermarket chains",
            "Midfielder banned after failed doping test",
            "City celebrates its anniversary with a parade",
        ],
        "sentences": [
            "A powerful storm threatened the southern coast, and residents were told to prepare for flooding.",
            "Supermarket chains cut prices on hundreds of products as a price war intensified.",
            "The attacking midfielder scored twice in the second half to win the match.",
            "The football federation imposed a two-year sanction on a cyclist for doping.",
            "Thousands of people lined the streets to watch the anniversary parade and the fireworks.",
            "The utility said its civil nuclear power plant would be offline for routine maintenance.",
            "Farmers said the dry summer had cut the wheat harvest by a fifth.",
            "The central bank left interest rates unchanged at its monthly meeting.",
            "A new metro line opened in the capital after eight years of construction.",
            "Schools reopened after the holiday with new rules on mobile phones.",
        ],
    },
}

CONTEXT = [
    "The government did not immediately respond to a request for comment.",
    "Markets in the region were mixed on the day, with energy shares leading gains.",
    "The statement was published on the ministry's website late in the evening.",
    "Local media reported long queues at petrol stations in the border towns.",
    "It was not possible to verify the claims independently.",
    "Opposition politicians said parliament should hold a debate on the issue.",
    "The capital was calm on Tuesday morning, with shops and offices open as usual.",
    "Officials are expected to give more details at a news conference on Friday.",
    "The weather was expected to improve by the end of the week.",
    "Tourism officials said visitor numbers had recovered to pre-pandemic levels.",
    "Newspapers in both countries carried the story on their front pages.",
    "The issue is likely to feature at a regional summit later this month.",
]

TARGET_WORDS = 500


def make(n: int = 24, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    names = sorted(THEMES)
    articles = []
    for i in range(n):
        theme = names[i % len(names)]
        second = names[(i * 5 + 3) % len(names)]
        pool = THEMES[theme]["sentences"] + THEMES[second]["sentences"][:3] + CONTEXT
        title = rng.choice(THEMES[theme]["titles"])
        paragraphs: list[str] = []
        words = 0
        lead = list(THEMES[theme]["sentences"][:2])
        rest = [s for s in pool if s not in lead]
        rng.shuffle(rest)
        k = 0
        while words < TARGET_WORDS:
            # sentences are drawn without repetition until the pool is used up
            para = lead if not paragraphs else [rest[(k + j) % len(rest)] for j in range(3)]
            k += 0 if not paragraphs else 3
            paragraphs.append(" ".join(para))
            words += sum(len(s.split()) for s in para)
        articles.append({"id": f"bench-{i:03d}", "title": title, "body": "\n\n".join(paragraphs)})
    return articles


def main() -> None:
    out = Path(__file__).resolve().parent / "articles.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for a in make():
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
