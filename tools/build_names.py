"""Rebuild ``src/thbmonitor/synth/data/names.csv``: the synthetic world's name pools.

Not part of the package; run by hand when the pools change (needs ``pip install faker``):

    python tools/build_names.py

Why: the first pools held 8-18 first names per sex and 10-40 last names per country, so a
world of several hundred thousand registrations (and a police register of millions of
events) drew its persons from a few thousand full names, far fewer than any real population;
same-name, same-birth-date strangers then dominated the linkage errors and the blocking.
Each pool now keeps the hand-written common names first (they stay the most frequent under
the generator's skew) and adds names from the MIT-licensed Faker person providers of the
nationality (Cyrillic transliterated to Latin; Vietnamese and Chinese given names composed
from their usual two syllables), or, where Faker has none (Albania, Eritrea, Syria), from
the hand lists below. The extras are shuffled with a fixed seed, so the file is reproducible.
"""

from __future__ import annotations

import csv
import importlib
import itertools
import random
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/thbmonitor/synth/data/names.csv"
MAX_FIRST, MAX_LAST = 150, 300

CYRILLIC = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщъьюяыэё",
        "a b v h g d e ye zh z y i yi y k l m n o p r s t u f kh ts ch sh shch a _ yu ya y e yo".split(),
        strict=True,
    )
)
BG_OVERRIDES = {"г": "g", "и": "i", "ъ": "a", "щ": "sht", "х": "h", "й": "y"}


def translit(name: str, table: dict[str, str]) -> str:
    out = []
    for ch in name:
        low = ch.lower()
        if low in table:
            t = table[low].replace("_", "")
            out.append(t.capitalize() if ch != low else t)
        else:
            out.append(ch)
    return "".join(out)


def faker(locale: str, attr: str) -> list[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    values = getattr(provider, attr, None)
    if values is None:
        return []
    return [str(v) for v in values]


def _latin(n: str) -> bool:
    """Latin letters (with diacritics), spaces, hyphens and apostrophes only."""
    return bool(n) and all(c in " -'" or "LATIN" in unicodedata.name(c, "") for c in n)


HAND = {
    ("AL", "F"): "Arta Besa Dorina Eralda Entela Fatjona Lindita Manjola Mirela Rudina Valbona "
    "Vjollca Xhensila Elira Ornela Brunilda Alketa Enkeleda Migena Sidorela Greta Albana "
    "Ina Juliana Kejsi Megi Rezarta Silvana Teuta Anila Drita Liljana Marsela Eglantina",
    ("AL", "M"): "Agron Bujar Dritan Edmond Ermal Fatos Gezim Luan Mentor Ardit Kled Alban "
    "Arjan Bledar Besart Dashamir Elton Florian Genc Ilirjan Indrit Jetmir Kastriot Lulzim "
    "Mirsad Nertil Olsi Petrit Redon Sokol Taulant Valon Ylli Xhevdet",
    ("AL", "last"): "Dervishi Marku Prifti Rama Basha Dushku Gjoka Hysa Koci Lika Mema Mucaj "
    "Nika Osmani Pasha Qose Ruci Shkodra Tafa Topalli Zeneli Bushati Alia Bregu Doda "
    "Kapllani Lleshi Muca Sula Xhafa Ahmeti Bajrami Demiri Hasani Isufi Jashari Kurti "
    "Limani Morina Rexhepi Selimi Thaci Veseli Zogaj Brahimi Halili Kelmendi Mehmeti",
    ("ER", "F"): "Aster Azieb Bisrat Eden Elsa Freweini Hanna Lidia Luwam Mebrat Meron Milen "
    "Nardos Rigbe Ruta Sara Semhar Simret Tirhas Tsehaye Yohana Zufan Abeba Almaz Danait "
    "Delina Hiwet Mahlet Nigisti Segen Adiam Elen Fiori Hermon Kisanet Lula Mana Rahwa",
    ("ER", "M"): "Abel Aron Daniel Efrem Ermias Eyob Fitsum Goitom Habte Henok Isaias Kibrom "
    "Merhawi Michael Mussie Natnael Negassi Semere Senay Simon Solomon Teklit Tekie Teame "
    "Tewelde Yemane Yohannes Zerai Awet Berhane Bereket Hagos Kesete Medhanie Tedros",
    ("ER", "last"): "Abraha Andemariam Asmerom Bereket Debesai Ghebrehiwet Ghebreyesus "
    "Habtemariam Kahsay Kiflom Mesfin Mengisteab Negash Okbazghi Russom Sium Tekeste "
    "Teklehaimanot Tesfaldet Weldeab Yemane Zemichael Zerai Goitom Araya Fessehaye Ghirmay "
    "Hailu Isaac Measho Asfaha Embaye Ghebru Habtom Kifle Mehreteab Ogbamichael Tewolde",
    ("SY", "F"): "Aisha Maryam Rania Layla Amal Asmaa Bayan Dalia Ghada Hala Huda Iman Jana "
    "Kinda Lama Nada Nour Ola Reem Rima Sara Salma Samar Sawsan Suha Yara Zeina Hanan "
    "Manal Muna Raghad Rawan Shahd Alaa Batoul Farah Heba Joud Mais Rahaf",
    ("SY", "M"): "Ibrahim Mustafa Abdullah Bashar Fadi Rami Samer Tarek Walid Ziad Anas "
    "Bilal Hamza Jamal Karim Majd Nizar Osama Qusay Rashid Saeed Wael Yaser Zaher Adnan "
    "Firas Ghassan Hadi Iyad Louay Maher Nabil Hassan Abdulrahman Mazen Obai Salem Tamer",
    ("SY", "last"): "Hamdan Hamoud Issa Jaber Kassem Mansour Nasser Othman Qassem Rahal "
    "Saleh Shami Yassin Zidan Al_Khatib Al_Masri Al_Halabi Barakat Dabbagh Farhat Ghanem "
    "Habib Hariri Idlibi Jundi Kurdi Makhlouf Sabbagh Tahan Zoubi Attar Bitar Hallak "
    "Hijazi Khoury Al_Hamwi Al_Omar Al_Saleh Asaad Bakour Daher Hamwi Jabri Kanaan Moussa",
}

# country -> (locale(s) for first names, locale(s) for last names, transliteration)
FAKER = {
    "NL": (["nl_NL"], ["nl_NL"], None),
    "BG": (["bg_BG"], ["bg_BG"], "bg"),
    "HU": (["hu_HU"], ["hu_HU"], None),
    "LT": ([], ["lt_LT"], None),
    "PL": (["pl_PL"], ["pl_PL:male_last_names", "pl_PL:unisex_last_names"], None),
    "RO": (["ro_RO"], ["ro_RO"], None),
    "SK": (["sk_SK"], ["sk_SK:last_names_male"], None),
    "UA": (["uk_UA"], ["uk_UA:last_names_male"], "uk"),
    "BR": (["pt_BR"], ["pt_BR"], None),
    "IN": (["en_IN"], ["en_IN"], None),
    "NG": (["yo_NG", "ig_NG", "ha_NG", "en_NG"], ["yo_NG", "ig_NG", "ha_NG", "en_NG"], None),
    "GH": (["tw_GH"], ["tw_GH"], None),
    "MA": (["fr_DZ"], ["fr_DZ"], None),
}

LT_FIRST = {
    "F": "Ruta Egle Ieva Ausra Asta Daiva Gintare Jurgita Kristina Laura Lina Migle Neringa "
    "Rasa Simona Vaida Vilma Zivile Agne Austeja Gabija Greta Indre Inga Jolanta Justina "
    "Karolina Kotryna Milda Monika Odeta Renata Rimante Sandra Skaiste Viktorija",
    "M": "Tomas Mantas Darius Andrius Arturas Audrius Dainius Donatas Egidijus Gediminas "
    "Giedrius Ignas Jonas Justas Karolis Kestutis Laurynas Linas Lukas Marius Mindaugas "
    "Nerijus Paulius Povilas Rokas Saulius Sarunas Simas Tadas Valdas Vytautas Zygimantas",
}
VN_MIDDLE = {"F": ["Thi", "Ngoc", "Thu", "Minh", "Thanh", "Kim", "Bich", "Hong", "My", "Phuong"],
             "M": ["Van", "Minh", "Duc", "Quang", "Thanh", "Hoang", "Huu", "Cong", "Dinh", "Manh"]}
VN_GIVEN = {
    "F": "Lan Hoa Huong Mai Anh Trang Hanh Thu Chau Nga Linh Ha Hang Dung Loan Ngan Phuong "
    "Thao Trinh Van Yen Nhung Nhi Quynh Tam Tuyet Uyen Vy Xuan Diep",
    "M": "Nam Hung Tuan Anh Huy Long Tung Dung Thanh Binh Cuong Dat Duy Hai Hieu Hoang "
    "Khanh Khoa Kien Lam Loc Minh Phong Phuc Quan Son Tai Thang Thinh Trung Vinh",
}
VN_LAST_EXTRA = ["Ho", "Duong", "Ly", "Truong", "Dinh", "Lam"]
CN_SYLLABLES = {
    "F": "Li Na Fang Ying Jing Min Yan Hui Ling Mei Xiu Lan Juan Xia Qing Yu Hong Xue Ping "
    "Jie Wen Yun Dan Lei Ting",
    "M": "Wei Jun Lei Qiang Jian Tao Ming Hao Yong Chao Gang Peng Bin Hui Feng Long Bo Jie "
    "Hua Dong Xin Zhi Yi Kai Liang",
}


def pool(country: str, kind: str, hand: list[str], rng: random.Random) -> list[str]:
    cap = MAX_LAST if kind == "last" else MAX_FIRST
    extra: list[str] = []
    if (country, kind) in HAND:
        extra = [n.replace("_", " ") for n in HAND[(country, kind)].split()]
    elif country == "LT" and kind != "last":
        extra = LT_FIRST[kind].split()
    elif country == "VN":
        if kind == "last":
            extra = VN_LAST_EXTRA
        else:
            combos = [f"{m} {g}" for m, g in itertools.product(VN_MIDDLE[kind], VN_GIVEN[kind].split())]
            extra = combos
    elif country == "CN":
        if kind == "last":
            extra = faker("zh_CN", "last_romanized_names")
        else:
            syl = CN_SYLLABLES[kind].split()
            extra = syl + [a + b.lower() for a, b in itertools.permutations(syl, 2)]
    elif country in FAKER:
        firsts, lasts, tr = FAKER[country]
        sources = lasts if kind == "last" else firsts
        attr = "last_names" if kind == "last" else ("first_names_female" if kind == "F" else "first_names_male")
        for src in sources:
            loc, _, a = src.partition(":")
            extra += faker(loc, a or attr)
        if tr:
            table = dict(CYRILLIC)
            if tr == "bg":
                table.update(BG_OVERRIDES)
            extra = [translit(n, table) for n in extra]
        extra = [n for n in extra if _latin(n) and not n.startswith("'")]
    seen = set(hand)
    extra = [n for n in dict.fromkeys(extra) if n not in seen]
    rng.shuffle(extra)
    return hand + extra[: max(0, cap - len(hand))]


def main() -> None:
    with OUT.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    hand: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        key = (r["country"], r["kind"])
        # only the hand-written head of each pool (rebuilding is idempotent)
        hand.setdefault(key, [])
    head = Path(__file__).with_name("names_hand.csv")
    with head.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            hand.setdefault((r["country"], r["kind"]), []).append(r["name"])
    rng = random.Random(20261128)
    out = []
    for (country, kind) in sorted(hand):
        for name in pool(country, kind, hand[(country, kind)], rng):
            out.append((country, kind, name))
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "kind", "name"])
        w.writerows(out)
    print(f"{len(out)} names in {len(hand)} pools -> {OUT}")


if __name__ == "__main__":
    main()
