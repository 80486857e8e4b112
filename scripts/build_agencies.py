"""Build config/agencies.csv, routing_topics.csv and routing_municipalities.csv from ../shared/data (public lists).

Example: python scripts/build_agencies.py --shared ../shared/data
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENCY_COLUMNS = ("name", "short_name", "im_label", "kind", "municipality", "settlement", "website",
                  "responsibility_topics")
# Hackathon topic groups → ИМ «Группа тем»; groups not listed map to «Прочее».
GROUP_CROSSWALK = {
    "ЖКХ": "ЖКХ",
    "Благоустройство": "Благоустройство",
    "Дороги": "Дороги",
    "Общественный транспорт": "Общественный транспорт",
    "Здравоохранение/Медицина": "Здравоохранение",
    "Образование": "Образование",
    "Газ и топливо": "Энергетика",
    "Электроснабжение": "Энергетика",
    "Мусор/Свалки/ТКО": "Обращение с отходами",
    "Социальное обслуживание и защита": "Социальное обслуживание и защита",
    "Безопасность": "Безопасность и правопорядок",
    "Мобилизация": "Военная служба",
}
TOWN_ADMINS = {  # town-level administrations: (municipality, settlement) from the agency's own name
    "Администрация города Старый Крым Кировского района Республики Крым": ("Кировский район", "Старый Крым"),
    "Администрация города Бахчисарая Республики Крым": ("Бахчисарайский район", "Бахчисарай"),
    "Администрация города Белогорска Республики Крым": ("Белогорский район", "Белогорск"),
}


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def municipality_of(agency: dict[str, str], municipalities: list[str]) -> tuple[str, str]:
    """The (municipality, settlement) a municipal administration serves, from its name."""
    if agency["name"] in TOWN_ADMINS:
        return TOWN_ADMINS[agency["name"]]
    topics = agency["responsibility_topics"]
    for name in municipalities:
        if f"«{name}»" in topics:
            return name, ""
    raise ValueError(f"cannot tell the municipality of {agency['name']!r}")


def im_label(agency: dict[str, str]) -> str:
    """The executor label of «Инцидент Менеджмент» exports («Отдел»/«Исполнитель»), single-spaced, when it is
    neither the full nor the short name (e.g. «Министерство жилищно -коммунального хозяйства»)."""
    label = " ".join(agency["im_executor_label"].split())
    return "" if label in (agency["name"].strip(), agency["short_name"].strip()) else label


def build_agencies(shared: Path) -> list[dict[str, str]]:
    """Agency rows for config/agencies.csv."""
    municipalities = [r["name"] for r in read_csv(shared / "crimea_gazetteer" / "municipalities.csv")]
    rows = []
    for agency in read_csv(shared / "crimea_agencies" / "agencies.csv"):
        place = ("", "")
        if agency["kind"] == "municipal_administration":
            place = municipality_of(agency, municipalities)
        rows.append({
            "name": agency["name"].strip(), "short_name": agency["short_name"].strip(),
            "im_label": im_label(agency), "kind": agency["kind"],
            "municipality": place[0], "settlement": place[1], "website": agency["website_2018"],
            "responsibility_topics": agency["responsibility_topics"],
        })
    return rows


def build_topics(shared: Path) -> list[dict[str, str]]:
    """Topic rows (topic → ИМ group) for config/routing_topics.csv."""
    rows = []
    for row in read_csv(shared / "im_topics_hackathon" / "topic2big_topic_stars.csv"):
        topic = row["topic"].lstrip("★").strip()
        rows.append({"topic": topic, "topic_group": GROUP_CROSSWALK.get(row["topic_group"], "Прочее"),
                     "hackathon_group": row["topic_group"]})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]], columns) -> None:
    """Write rows with a header."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    agencies = build_agencies(args.shared)
    write_csv(args.out / "agencies.csv", agencies, AGENCY_COLUMNS)
    topics = build_topics(args.shared)
    write_csv(args.out / "routing_topics.csv", topics, ("topic", "topic_group", "hackathon_group"))
    municipalities = [{"municipality": r["name"], "region": r["region"]}
                      for r in read_csv(args.shared / "crimea_gazetteer" / "municipalities.csv")
                      if not r["type"].startswith("внутригородское")]
    write_csv(args.out / "routing_municipalities.csv", municipalities, ("municipality", "region"))
    print(f"{len(agencies)} agencies, {len(topics)} topics written to {args.out}")


if __name__ == "__main__":
    main()
