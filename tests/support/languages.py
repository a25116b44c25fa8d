"""Articles in languages the English-only model does not judge, and English texts that must be judged.

Written for these tests. The five foreign articles retell the demo's Kaliningrad threat
(samples/articles.jsonl, demo-002): in English it is an escalation, so any of them judged by
the English model would be a silent, meaningless "no escalation".
"""

from __future__ import annotations

from typing import Final

#: language -> (title, body)
FOREIGN_ARTICLES: Final[dict[str, tuple[str, str]]] = {
    "fr": (
        "Le Kremlin menace les pays baltes de « conséquences » sur le transit vers Kaliningrad",
        "Moscou — Le Kremlin a averti mardi la Lituanie et la Lettonie qu'elles s'exposeraient à de "
        "graves conséquences si elles maintenaient les nouvelles restrictions sur le transit "
        "ferroviaire vers Kaliningrad. Le ministère russe des Affaires étrangères a promis des "
        "mesures « qui se feront sentir », sans donner de détails, et a fixé un ultimatum à la fin "
        "du mois. À Bruxelles, des responsables de l'OTAN ont indiqué suivre la situation de près.",
    ),
    "es": (
        "El Kremlin advierte a los países bálticos de «consecuencias» por el tránsito a Kaliningrado",
        "Moscú — El Kremlin advirtió el martes a Lituania y Letonia de que se enfrentarán a graves "
        "consecuencias si mantienen las nuevas restricciones al tránsito ferroviario hacia "
        "Kaliningrado. El Ministerio de Asuntos Exteriores ruso anunció medidas que «se harán "
        "notar», sin dar detalles, y fijó como plazo el final del mes. En Bruselas, fuentes de la "
        "OTAN dijeron que siguen la situación muy de cerca.",
    ),
    "ar": (
        "الكرملين يحذر دول البلطيق من «عواقب» بسبب قيود العبور إلى كالينينغراد",
        "موسكو — حذر الكرملين يوم الثلاثاء ليتوانيا ولاتفيا من أنهما ستواجهان عواقب وخيمة إذا مضتا "
        "في فرض قيود جديدة على عبور القطارات إلى كالينينغراد. وقالت وزارة الخارجية الروسية إنها "
        "سترد بإجراءات «سيشعرون بها» دون أن تقدم تفاصيل، وحددت نهاية الشهر مهلة أخيرة. وقال "
        "مسؤولون في حلف شمال الأطلسي في بروكسل إنهم يتابعون الوضع عن كثب.",
    ),
    "ru": (
        "Кремль пригрозил странам Балтии «последствиями» из-за ограничений транзита в Калининград",
        "Москва — Кремль во вторник предупредил Литву и Латвию, что они столкнутся с серьёзными "
        "последствиями, если введут новые ограничения на железнодорожный транзит в Калининград. "
        "В МИД России пообещали ответные меры, которые «будут ощутимы», не уточнив, какие именно, "
        "и назвали крайний срок — конец месяца. В штаб-квартире НАТО в Брюсселе заявили, что "
        "внимательно следят за ситуацией.",
    ),
    "zh": (
        "克里姆林宫就加里宁格勒过境限制警告波罗的海国家将承担“后果”",
        "莫斯科电——克里姆林宫周二警告立陶宛和拉脱维亚，如果两国继续实施对前往加里宁格勒的铁路"
        "过境新限制，将面临严重后果。俄罗斯外交部表示将采取“会让对方感受到的”反制措施，但未透露"
        "细节，并将本月底定为最后期限。北约官员在布鲁塞尔表示，正在密切关注局势发展。",
    ),
}

#: Short English texts of the kinds a wire sends first: titles and one-sentence flashes, many
#: of them mostly names. None may be flagged.
ENGLISH_FLASHES: Final[tuple[str, ...]] = (
    "Kremlin warns Baltics",
    "Iran threatens to shell Iraqi towns unless Baghdad disarms Kurdish groups",
    "Putin, Lukashenko meet in Minsk",
    "IDF strikes Hezbollah targets in Bekaa",
    "NATO scrambles jets",
    "Xi warns Taipei",
    "BREAKING: MISSILE HITS KHARKIV",
    "Maduro orders troops to Essequibo border",
    "Houthis claim attack on tanker off Hodeidah",
    "Coup in Niamey",
    "Sudanese army and RSF delegates met in Jeddah on Sunday.",
    "Erdogan recalls envoy from Tel Aviv",
)
