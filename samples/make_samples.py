"""Writes samples/articles.jsonl: fictional demo articles written for Flashpoint (not real reporting)."""

import json
from pathlib import Path

SOURCE = "Flashpoint Demo Wire (fictional)"
ARTICLES = [
    (
        "demo-001",
        "Beijing sends warships toward Taiwan Strait as drills expand",
        "Taipei — China's navy moved a group of destroyers and an amphibious assault ship toward the Taiwan Strait on Monday, "
        "Taiwan's defence ministry said, as the People's Liberation Army extended live-fire drills around the island for a third day. "
        "Taiwan scrambled jets and put coastal missile units on alert after 34 Chinese aircraft crossed the median line. "
        "Officials in Taipei said the exercises were the largest since the spring. Analysts said the manoeuvres were meant as a signal to Washington.",
    ),
    (
        "demo-002",
        "Kremlin warns Baltic states of 'consequences' over transit curbs",
        "Moscow — The Kremlin warned Lithuania and Latvia on Tuesday that they would face serious consequences if they went ahead with new curbs on rail transit to Kaliningrad. "
        "Russia's foreign ministry said it would respond with measures that 'will be felt', without giving details, and set a deadline of the end of the month. "
        "NATO officials in Brussels said they were following the situation closely.",
    ),
    (
        "demo-003",
        "Drone strikes hit oil depot near Black Sea port",
        "Kyiv — Overnight drone strikes set fire to a fuel depot near the port of Odesa, regional officials said on Wednesday, in the latest Russian attack on Ukraine's energy infrastructure. "
        "Air defence units shot down 19 of 25 drones, the Ukrainian air force said. Two workers were injured. "
        "Firefighters spent hours bringing the blaze under control.",
    ),
    (
        "demo-004",
        "EU agrees new sanctions on Iranian drone makers",
        "Brussels — European Union governments on Thursday approved sanctions against eight Iranian companies and four officials accused of supplying drones and missile parts to Russia. "
        "The measures freeze their assets in the bloc and ban EU firms from doing business with them. Tehran condemned the decision as illegal and said it would respond.",
    ),
    (
        "demo-005",
        "Niger expels French ambassador, recalls envoy from Paris",
        "Niamey — Niger's military government gave France's ambassador two days to depart on Friday and called its own envoy home from Paris, "
        "the latest step in a rapid downgrading of ties between the two countries. The foreign ministry accused France of interfering in its internal affairs.",
    ),
    (
        "demo-006",
        "Soldiers seize state broadcaster in attempted coup",
        "Soldiers seized the state television station in the capital of Gabon early on Saturday and announced on air that they had dissolved the government and suspended the constitution. "
        "Gunfire was heard near the presidential palace. The African Union called for a return to constitutional order.",
    ),
    (
        "demo-007",
        "North Korea fires ballistic missile, hints at nuclear test",
        "Seoul — North Korea launched a ballistic missile into the sea off its east coast on Sunday, South Korea's military said, hours after Pyongyang's state media said the country was ready to conduct a seventh nuclear test. "
        "Japan said the missile fell inside its exclusive economic zone. The United States condemned the launch.",
    ),
    (
        "demo-008",
        "Japan and Philippines sign defence pact amid South China Sea tensions",
        "Manila — Japan and the Philippines signed a reciprocal access agreement on Monday that will allow their troops to train on each other's territory, "
        "a pact officials in both capitals described as a response to China's growing assertiveness in the South China Sea. "
        "The deal also covers the transfer of coastal radar systems.",
    ),
    (
        "demo-009",
        "Sudan's warring parties agree 72-hour ceasefire",
        "Jeddah — Sudan's army and the paramilitary Rapid Support Forces agreed on Tuesday to a 72-hour ceasefire brokered by Saudi Arabia and the United States, "
        "to allow aid convoys into Khartoum. Both sides committed to resume talks next week and to exchange prisoners.",
    ),
    (
        "demo-010",
        "Supermarket price war heats up as chains slash costs",
        "London — Britain's biggest supermarket chains escalated their price war on Wednesday, cutting the cost of hundreds of staple goods as shoppers hunt for bargains. "
        "Analysts said the battle for market share would threaten profit margins across the sector.",
    ),
    (
        "demo-011",
        "Storm threatens coast with flooding and high winds",
        "Forecasters warned on Thursday that a powerful storm threatens the Atlantic coast with flooding, storm surges and winds of up to 120 km/h. "
        "Authorities ordered evacuations in low-lying areas and the army was deployed to help with relief efforts.",
    ),
    (
        "demo-012",
        "Striker handed two-year ban after failed doping test",
        "The sprinter-turned-footballer was handed a two-year ban and sanctioned by the national anti-doping agency on Friday after testing positive for a banned substance. "
        "His club said the attacking midfielder would appeal the decision.",
    ),
]


def main() -> None:
    out = Path(__file__).with_name("articles.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i, (aid, title, body) in enumerate(ARTICLES):
            f.write(
                json.dumps(
                    {
                        "id": aid,
                        "title": title,
                        "body": body,
                        "source": SOURCE,
                        "published_at": f"2026-11-{10 + i:02d}T08:00:00Z",
                        "language": "en",
                    }
                )
                + "\n"
            )
        # One article that cannot be processed, to show a dead letter in the demo.
        f.write(
            json.dumps({"id": "demo-013", "title": "Markup only", "body": "<p> </p>", "source": SOURCE})
            + "\n"
        )


if __name__ == "__main__":
    main()
