"""Short fictional news articles written for Flashpoint's tests (not real reporting).

Each entry: (id, title, body, the categories a careful reader would label). The end-to-end
tests send them through the worker; model tests may use them too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

#: The fixed clock of unit tests that need a time.
T0: Final = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

ESCALATIONS: Final[list[tuple[str, str, str, set[str]]]] = [
    # threat
    (
        "t-threat-1",
        "President warns neighbour of 'severe consequences'",
        "The president of Azerbaijan warned Armenia on Monday that it would face severe consequences if its troops "
        "did not leave the disputed ridge by Friday, in what officials in Yerevan called an ultimatum.",
        {"threat"},
    ),
    (
        "t-threat-2",
        "Tehran threatens to close Strait of Hormuz",
        "Iran's navy commander said on Tuesday that Tehran would close the Strait of Hormuz to all shipping if the "
        "United States tried to stop Iranian oil exports, warning that American warships would be targeted.",
        {"threat"},
    ),
    (
        "t-threat-3",
        "Pyongyang vows 'merciless' response to allied drills",
        "North Korea's defence ministry vowed a merciless military response on Wednesday if South Korea and the "
        "United States went ahead with joint exercises near the border next month.",
        {"threat"},
    ),
    # military posture
    (
        "t-posture-1",
        "Russian troops mass near Finnish border, satellite images show",
        "Satellite images released on Thursday showed Russia moving tanks, artillery and several thousand troops to "
        "bases near the border with Finland, weeks after Helsinki joined NATO.",
        {"military_posture"},
    ),
    (
        "t-posture-2",
        "China sends carrier group past Japanese islands",
        "Japan's defence ministry said a Chinese aircraft carrier group sailed between Okinawa and Miyako island on "
        "Friday and that Japanese fighter jets were scrambled to monitor it.",
        {"military_posture"},
    ),
    (
        "t-posture-3",
        "Pentagon orders second carrier to eastern Mediterranean",
        "The Pentagon ordered a second aircraft carrier strike group to the eastern Mediterranean on Saturday and "
        "put 2,000 troops on heightened alert for possible deployment to the region.",
        {"military_posture"},
    ),
    # use of force
    (
        "t-force-1",
        "Air strikes kill dozens in northern Gaza",
        "Israeli air strikes hit a residential block in northern Gaza overnight, killing at least 30 people, "
        "health officials said. Hamas fighters fired rockets at southern Israel in response.",
        {"use_of_force"},
    ),
    (
        "t-force-2",
        "Navy commandos board tanker in Gulf of Oman",
        "Iranian naval commandos boarded and seized an oil tanker in the Gulf of Oman on Sunday, the ship's operator "
        "said, a day after a U.S. court ordered the confiscation of an Iranian cargo.",
        {"use_of_force"},
    ),
    (
        "t-force-3",
        "Border clash leaves soldiers dead on both sides",
        "Indian and Chinese troops clashed in the Galwan valley on Monday, leaving at least 12 soldiers dead, "
        "officials in New Delhi said. Both armies accused the other of crossing the line of control.",
        {"use_of_force"},
    ),
    # sanctions
    (
        "t-sanctions-1",
        "Washington blacklists Chinese chip firms",
        "The U.S. Commerce Department added 14 Chinese semiconductor companies to its export blacklist on Tuesday, "
        "barring American suppliers from selling them chipmaking tools without a licence.",
        {"sanctions"},
    ),
    (
        "t-sanctions-2",
        "Britain freezes assets of Russian oligarchs",
        "Britain froze the assets of six Russian businessmen close to the Kremlin on Wednesday and banned them from "
        "entering the country, as part of new sanctions over the war in Ukraine.",
        {"sanctions"},
    ),
    (
        "t-sanctions-3",
        "EU widens oil embargo on Venezuela",
        "European Union governments agreed on Thursday to widen an embargo on Venezuelan oil and to freeze the assets "
        "of state oil company officials, increasing pressure on Caracas.",
        {"sanctions"},
    ),
    # diplomatic rupture
    (
        "t-rupture-1",
        "Poland expels Russian diplomats over sabotage plot",
        "Poland expelled five Russian diplomats on Friday and closed a Russian consulate, accusing Moscow of "
        "organising a sabotage campaign against railway lines.",
        {"diplomatic_rupture"},
    ),
    (
        "t-rupture-2",
        "Colombia severs diplomatic ties with Israel",
        "Colombia's president announced on Saturday that his government was severing diplomatic relations with "
        "Israel and recalling its ambassador from Tel Aviv.",
        {"diplomatic_rupture"},
    ),
    (
        "t-rupture-3",
        "Algeria recalls ambassador from Madrid in protest",
        "Algeria recalled its ambassador to Spain for consultations on Sunday and suspended a friendship treaty "
        "in protest at Madrid's new position on Western Sahara.",
        {"diplomatic_rupture"},
    ),
    # regime instability
    (
        "t-regime-1",
        "Army seizes power in Niamey, president detained",
        "Soldiers detained Niger's president at his residence on Wednesday and announced on state television that "
        "the army had seized power and suspended the constitution.",
        {"regime_instability"},
    ),
    (
        "t-regime-2",
        "Martial law declared as protesters storm parliament",
        "The president declared martial law on Monday after tens of thousands of anti-government protesters stormed "
        "parliament in the capital of Sri Lanka and demanded his resignation.",
        {"regime_instability"},
    ),
    (
        "t-regime-3",
        "Mutiny at barracks as coup attempt fails",
        "A group of officers mutinied at a barracks in Bolivia's capital on Tuesday and tried to storm the "
        "presidential palace with armoured vehicles before loyalist troops put down the coup attempt.",
        {"regime_instability"},
    ),
    # nuclear / WMD
    (
        "t-nuclear-1",
        "IAEA says Iran enriching uranium to 84 percent",
        "The International Atomic Energy Agency reported on Thursday that inspectors found uranium particles "
        "enriched to 84 percent at Iran's Fordow site, close to weapons grade.",
        {"nuclear_wmd"},
    ),
    (
        "t-nuclear-2",
        "Moscow moves tactical nuclear weapons to Belarus",
        "Russia has begun moving tactical nuclear warheads to storage sites in Belarus, the Kremlin said on Friday, "
        "the first such deployment outside Russia since the Cold War.",
        {"nuclear_wmd", "military_posture"},
    ),
    (
        "t-nuclear-3",
        "Chemical weapons used in Syrian town, inspectors say",
        "International inspectors concluded on Saturday that chlorine gas was dropped from a Syrian air force "
        "helicopter on a town in Idlib province, killing 19 people.",
        {"nuclear_wmd", "use_of_force"},
    ),
    # security cooperation
    (
        "t-coop-1",
        "Australia to buy nuclear submarines under AUKUS pact",
        "Australia, Britain and the United States announced on Monday that Canberra will buy nuclear-powered "
        "submarines under the AUKUS defence pact, a deal aimed at countering China in the Pacific.",
        {"security_cooperation"},
    ),
    (
        "t-coop-2",
        "Russia and North Korea sign mutual defence treaty",
        "Russia and North Korea signed a treaty on Wednesday pledging mutual military assistance if either is "
        "attacked, during a visit by the Russian president to Pyongyang.",
        {"security_cooperation"},
    ),
    (
        "t-coop-3",
        "US and Philippines agree four new military bases",
        "The United States will gain access to four more military bases in the Philippines, the two governments "
        "said on Thursday, including sites facing Taiwan and the South China Sea.",
        {"security_cooperation"},
    ),
]

DE_ESCALATIONS: Final[list[tuple[str, str, str, set[str]]]] = [
    (
        "t-deesc-1",
        "Rivals agree ceasefire after week of fighting",
        "Armenia and Azerbaijan agreed a ceasefire on Friday after a week of fighting, and both sides said they "
        "would begin talks on a peace agreement next month.",
        {"de_escalation"},
    ),
    (
        "t-deesc-2",
        "Prisoner swap frees dozens",
        "Russia and Ukraine exchanged 90 prisoners of war on Sunday in a swap brokered by the United Arab Emirates.",
        {"de_escalation"},
    ),
    (
        "t-deesc-3",
        "Saudi Arabia and Iran restore diplomatic ties",
        "Saudi Arabia and Iran agreed on Friday to restore diplomatic relations and reopen their embassies within "
        "two months, in a deal brokered by China.",
        {"de_escalation"},
    ),
]

HARD_NEGATIVES: Final[list[tuple[str, str, str, set[str]]]] = [
    (
        "t-neg-1",
        "Supermarkets escalate price war",
        "Britain's biggest grocers escalated their price war on Monday, slashing prices on 500 products as "
        "shoppers battle rising costs.",
        set(),
    ),
    (
        "t-neg-2",
        "Storm threatens coast with record floods",
        "A powerful storm threatens the Gulf coast with record flooding, forecasters warned on Tuesday, and the "
        "governor deployed the National Guard to help evacuate residents.",
        set(),
    ),
    (
        "t-neg-3",
        "Cyclist sanctioned for doping violation",
        "The world champion cyclist was sanctioned with a four-year ban by the anti-doping agency on Wednesday "
        "after a positive test for a banned hormone.",
        set(),
    ),
    (
        "t-neg-4",
        "Attacking midfielder fires winner in derby",
        "The attacking midfielder fired a stunning strike in the 89th minute as the home side won the derby 2-1 "
        "and launched an assault on the league title.",
        set(),
    ),
    (
        "t-neg-5",
        "Troops parade through capital on national day",
        "Thousands of soldiers and dozens of tanks paraded through the capital on Saturday to mark the national "
        "day, as crowds lined the streets and the air force staged a flypast.",
        set(),
    ),
    (
        "t-neg-6",
        "Utility orders two reactors for new nuclear plant",
        "The state utility signed a contract on Thursday to build two nuclear reactors at a coastal power plant, "
        "which will supply electricity to three million homes from 2035.",
        set(),
    ),
    (
        "t-neg-7",
        "Police arrest gang after bank robbery",
        "Police arrested four men after an armed robbery at a bank in the city centre on Friday. No one was hurt "
        "and the stolen cash was recovered.",
        set(),
    ),
    (
        "t-neg-8",
        "Ministers discuss trade and tourism in cordial visit",
        "The foreign ministers of Portugal and Brazil discussed trade, tourism and student exchanges during a "
        "cordial visit to Lisbon on Monday.",
        set(),
    ),
    (
        "t-neg-9",
        "Central bank raises interest rates to fight inflation",
        "The central bank raised its main interest rate by half a point on Wednesday, warning that inflation "
        "threatens to stay above its target for longer.",
        set(),
    ),
]

ALL_ARTICLES: Final = ESCALATIONS + DE_ESCALATIONS + HARD_NEGATIVES


#: One passage per category, written for the model tests (category, title, body).
MODEL_POSITIVES: Final[list[tuple[str, str, str]]] = [
    (
        "threat",
        "Minister warns of 'consequences' over border deadline",
        "The defence minister warned the neighbouring government on Sunday that its forces would face "
        "severe consequences unless they withdrew from the border posts by Friday. He said the army was "
        "ready to use force if the ultimatum was ignored.",
    ),
    (
        "military_posture",
        "Troops and tanks massed near the frontier",
        "Satellite images show thousands of troops, tanks and artillery massing near the frontier, and the "
        "navy has moved three warships into the gulf. The air force raised its alert level and fighter jets "
        "were deployed to a base close to the border.",
    ),
    (
        "use_of_force",
        "Air strikes hit the city overnight",
        "Air strikes and artillery shelling hit the city overnight, killing at least twelve people, local "
        "officials said. The army said its jets had bombed weapons depots, and drones struck a fuel "
        "terminal near the port.",
    ),
    (
        "sanctions",
        "Treasury freezes central bank assets",
        "The treasury imposed sanctions on the country's central bank and froze the assets of six senior "
        "officials on Thursday. New export controls ban the sale of chips and aircraft parts to its "
        "defence industry.",
    ),
    (
        "diplomatic_rupture",
        "Ambassador recalled, diplomats expelled",
        "The government expelled four diplomats and recalled its ambassador in protest on Tuesday. It also "
        "closed the consulate and said it was severing diplomatic relations with the neighbouring state.",
    ),
    (
        "regime_instability",
        "Soldiers seize power, president detained",
        "Soldiers seized the state broadcaster and announced on television that the president had been "
        "detained and the government dissolved. The military declared martial law and closed the borders "
        "after the coup.",
    ),
    (
        "nuclear_wmd",
        "Uranium enrichment raised to weapons grade",
        "The atomic energy agency said the country had enriched uranium close to weapons grade and expanded "
        "its nuclear weapons programme. The government also said it was ready to conduct a nuclear test.",
    ),
    (
        "security_cooperation",
        "Leaders sign defence pact against common rival",
        "The two leaders signed a mutual defence pact on Friday that lets their troops use each other's "
        "bases, together with an arms deal for fighter jets and air defence systems. Officials said the "
        "alliance was meant to deter their common rival.",
    ),
    (
        "de_escalation",
        "Ceasefire agreed, prisoners to be exchanged",
        "The warring sides agreed a ceasefire that takes effect at midnight and a prisoner exchange, the "
        "mediators announced after peace talks. Both armies will withdraw troops from the front line.",
    ),
]

#: Passages with escalation words that are not escalations, for the model tests (title, body).
MODEL_HARD_NEGATIVES: Final[list[tuple[str, str]]] = [
    (
        "Supermarket price war deepens",
        "A price war between the two largest supermarket chains deepened this week as both cut the prices "
        "of bread, milk and vegetables. Analysts said smaller grocers would struggle to compete.",
    ),
    (
        "Storm threatens the coast",
        "A powerful storm threatens the southern coast, forecasters said on Monday, and residents were told "
        "to prepare for floods and power cuts. Schools will close on Tuesday.",
    ),
    (
        "Sprinter banned for doping",
        "The athletics federation imposed a four-year sanction on the sprinter after a failed doping test. "
        "His coach said the athlete would appeal the ban at the sports court.",
    ),
    (
        "Attacking midfielder scores twice",
        "The attacking midfielder scored twice as the home side beat their rivals three goals to one on "
        "Saturday. The coach praised the team's pressing and the crowd sang until the final whistle.",
    ),
    (
        "City celebrates with a parade",
        "Thousands of people watched the anniversary parade through the old town on Sunday, with marching "
        "bands, dancers and a fireworks display over the river.",
    ),
    (
        "Utility wins contract for nuclear power plant",
        "The utility signed a contract to build two reactors at its civil nuclear power plant, which will "
        "supply electricity to a million homes. Shares in the company rose five percent.",
    ),
]
