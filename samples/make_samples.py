"""Writes samples/articles.jsonl: fictional demo articles written for Flashpoint (not real reporting).

The file is in publication order and holds a few stories, not only single articles:

* a threat followed a day later by a development with a new category (the alert is updated);
* one wire report republished, lightly edited, by three other outlets (one story, one alert
  that counts four independent publishers; the copies reuse the wire's classification);
* one event reported in their own words by two outlets (one story, corroborated);
* single articles, some of them calm, and a last line that is deliberately invalid.

    python samples/make_samples.py   # rewrites articles.jsonl next to this file
"""

import json
from pathlib import Path

WIRE = "Flashpoint Demo Wire (fictional)"
WIRE_SITE = "https://demowire.example"

ODESA_STRIKE = (
    "Overnight drone strikes set fire to a fuel depot near the port of Odesa, regional officials said on Wednesday, "
    "in the latest Russian attack on Ukraine's energy infrastructure. Air defence units shot down 19 of 25 drones, "
    "the Ukrainian air force said. Two workers were injured. Firefighters spent hours bringing the blaze under control."
)

# (id, published_at, title, body, source, url); the wire's own reports carry no url path of
# another outlet, the republications and the independent reports do.
ARTICLES = [
    (
        "demo-001",
        "2026-11-10T08:00:00Z",
        "Beijing sends warships toward Taiwan Strait as drills expand",
        "Taipei — China's navy moved a group of destroyers and an amphibious assault ship toward the Taiwan Strait on Monday, "
        "Taiwan's defence ministry said, as the People's Liberation Army extended live-fire drills around the island for a third day. "
        "Taiwan scrambled jets and put coastal missile units on alert after 34 Chinese aircraft crossed the median line. "
        "Officials in Taipei said the exercises were the largest since the spring. Analysts said the manoeuvres were meant as a signal to Washington.",
        WIRE,
        f"{WIRE_SITE}/asia/demo-001",
    ),
    # A story that develops: a warning, then a deployment the next day (a new category).
    (
        "demo-002",
        "2026-11-11T08:00:00Z",
        "Kremlin warns Baltic states of 'consequences' over Kaliningrad transit curbs",
        "Moscow — The Kremlin warned Lithuania and Latvia on Tuesday that they would face serious consequences if they went ahead with new curbs on rail transit to Kaliningrad. "
        "Russia's foreign ministry said it would respond with measures that 'will be felt', without giving details, and set a deadline of the end of the month. "
        "NATO officials in Brussels said they were following the situation closely.",
        WIRE,
        f"{WIRE_SITE}/europe/demo-002",
    ),
    (
        "demo-003",
        "2026-11-12T06:00:00Z",
        "Russia moves missile units to Kaliningrad as transit row with Lithuania deepens",
        "Vilnius — Russia moved Iskander missile units and additional troops into the Kaliningrad exclave on Wednesday, "
        "a day after the Kremlin warned Lithuania and Latvia of consequences over new curbs on rail transit to Kaliningrad, Lithuanian officials said. "
        "Russia's defence ministry said the deployment answered the transit restrictions and that its forces in the region were on high readiness. "
        "Lithuania's president called the move intimidation and asked NATO allies to reinforce the alliance's eastern flank.",
        "Baltic Courier (fictional)",
        "https://balticcourier.example/news/demo-003",
    ),
    # One wire report, republished by three other outlets with light edits.
    (
        "demo-004",
        "2026-11-12T08:00:00Z",
        "Drone strikes hit oil depot near Black Sea port",
        f"Kyiv — {ODESA_STRIKE}",
        WIRE,
        f"{WIRE_SITE}/europe/demo-004",
    ),
    (
        "demo-005",
        "2026-11-12T09:10:00Z",
        "Drone strikes hit fuel depot near Odesa",
        f"ODESA (Flashpoint Demo Wire) — {ODESA_STRIKE} (Reporting by the Demo Wire desk.)",
        "Harbour Gazette (fictional)",
        "https://harbourgazette.example/world/demo-005",
    ),
    (
        "demo-006",
        "2026-11-12T09:40:00Z",
        "Drones set fuel depot ablaze near Black Sea port of Odesa",
        f"{ODESA_STRIKE} This story was republished from the Flashpoint Demo Wire.",
        "Morning Ledger (fictional)",
        "https://morningledger.example/international/demo-006",
    ),
    (
        "demo-007",
        "2026-11-12T11:00:00Z",
        "Fire at Odesa fuel depot after overnight drone attack",
        f"KYIV, Nov 12 (Flashpoint Demo Wire) — {ODESA_STRIKE} Related coverage: energy prices, page 4.",
        "Valley Courier (fictional)",
        "https://valleycourier.example/wire/demo-007",
    ),
    (
        "demo-008",
        "2026-11-13T08:00:00Z",
        "EU agrees new sanctions on Iranian drone makers",
        "Brussels — European Union governments on Thursday approved sanctions against eight Iranian companies and four officials accused of supplying drones and missile parts to Russia. "
        "The measures freeze their assets in the bloc and ban EU firms from doing business with them. Tehran condemned the decision as illegal and said it would respond.",
        WIRE,
        f"{WIRE_SITE}/europe/demo-008",
    ),
    (
        "demo-009",
        "2026-11-14T08:00:00Z",
        "Niger expels French ambassador, recalls envoy from Paris",
        "Niamey — Niger's military government gave France's ambassador two days to depart on Friday and called its own envoy home from Paris, "
        "the latest step in a rapid downgrading of ties between the two countries. The foreign ministry accused France of interfering in its internal affairs.",
        WIRE,
        f"{WIRE_SITE}/africa/demo-009",
    ),
    (
        "demo-010",
        "2026-11-15T08:00:00Z",
        "Soldiers seize state broadcaster in attempted coup",
        "Soldiers seized the state television station in the capital of Gabon early on Saturday and announced on air that they had dissolved the government and suspended the constitution. "
        "Gunfire was heard near the presidential palace. The African Union called for a return to constitutional order.",
        WIRE,
        f"{WIRE_SITE}/africa/demo-010",
    ),
    # One event, reported in their own words by two outlets.
    (
        "demo-011",
        "2026-11-16T08:00:00Z",
        "North Korea fires ballistic missile, hints at nuclear test",
        "Seoul — North Korea launched a ballistic missile into the sea off its east coast on Sunday, South Korea's military said, hours after Pyongyang's state media said the country was ready to conduct a seventh nuclear test. "
        "Japan said the missile fell inside its exclusive economic zone. The United States condemned the launch.",
        WIRE,
        f"{WIRE_SITE}/asia/demo-011",
    ),
    (
        "demo-012",
        "2026-11-16T11:30:00Z",
        "Japan protests after North Korean ballistic missile lands in its economic zone",
        "Tokyo — Japan lodged a protest with North Korea on Sunday after a ballistic missile fired from near Pyongyang came down inside Japan's exclusive economic zone off the east coast, "
        "the defence ministry in Tokyo said. South Korea's military said the missile flew about 600 km. "
        "North Korean state media said the country stood ready to conduct a seventh nuclear test.",
        "Pacific Observer (fictional)",
        "https://pacificobserver.example/asia/demo-012",
    ),
    (
        "demo-013",
        "2026-11-17T08:00:00Z",
        "Japan and Philippines sign defence pact amid South China Sea tensions",
        "Manila — Japan and the Philippines signed a reciprocal access agreement on Monday that will allow their troops to train on each other's territory, "
        "a pact officials in both capitals described as a response to China's growing assertiveness in the South China Sea. "
        "The deal also covers the transfer of coastal radar systems.",
        WIRE,
        f"{WIRE_SITE}/asia/demo-013",
    ),
    (
        "demo-014",
        "2026-11-18T08:00:00Z",
        "Sudan's warring parties agree 72-hour ceasefire",
        "Jeddah — Sudan's army and the paramilitary Rapid Support Forces agreed on Tuesday to a 72-hour ceasefire brokered by Saudi Arabia and the United States, "
        "to allow aid convoys into Khartoum. Both sides committed to resume talks next week and to exchange prisoners.",
        WIRE,
        f"{WIRE_SITE}/africa/demo-014",
    ),
    (
        "demo-015",
        "2026-11-19T08:00:00Z",
        "Supermarket price war heats up as chains slash costs",
        "London — Britain's biggest supermarket chains escalated their price war on Wednesday, cutting the cost of hundreds of staple goods as shoppers hunt for bargains. "
        "Analysts said the battle for market share would threaten profit margins across the sector.",
        WIRE,
        f"{WIRE_SITE}/business/demo-015",
    ),
    (
        "demo-016",
        "2026-11-20T08:00:00Z",
        "Storm threatens coast with flooding and high winds",
        "Forecasters warned on Thursday that a powerful storm threatens the Atlantic coast with flooding, storm surges and winds of up to 120 km/h. "
        "Authorities ordered evacuations in low-lying areas and the army was deployed to help with relief efforts.",
        WIRE,
        f"{WIRE_SITE}/weather/demo-016",
    ),
    (
        "demo-017",
        "2026-11-21T08:00:00Z",
        "Striker handed two-year ban after failed doping test",
        "The sprinter-turned-footballer was handed a two-year ban and sanctioned by the national anti-doping agency on Friday after testing positive for a banned substance. "
        "His club said the attacking midfielder would appeal the decision.",
        WIRE,
        f"{WIRE_SITE}/sport/demo-017",
    ),
]


def main() -> None:
    out = Path(__file__).with_name("articles.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for aid, published_at, title, body, source, url in ARTICLES:
            record = {
                "id": aid,
                "title": title,
                "body": body,
                "source": source,
                "url": url,
                "published_at": published_at,
                "language": "en",
            }
            f.write(json.dumps(record) + "\n")
        # One article that cannot be processed, to show a dead letter in the demo.
        f.write(
            json.dumps({"id": "demo-018", "title": "Markup only", "body": "<p> </p>", "source": WIRE}) + "\n"
        )


if __name__ == "__main__":
    main()
