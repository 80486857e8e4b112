"""Labels: export ops corrections to CSV/Parquet and read them back; import ИМ exports with row validation."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from storage.tables import Item, Label
from tests.cli.conftest import Cli, route, seed

IM_GOOD = [
    {"Текст": "Нет воды третий день", "Группа тем": "ЖКХ", "Тема": "", "Муниципалитет": "Алушта",
     "Исполнитель": "Администрация города Алушты"},
    {"Текст": "Яма на дороге у рынка", "Группа тем": "", "Тема": "Ямы во дворах", "Муниципалитет": "г. Ялта",
     "Исполнитель": ""},
    {"Текст": "Очереди в поликлинике", "Группа тем": "Здравоохранение/Медицина", "Тема": "",
     "Муниципалитет": "Бахчисарайский район", "Исполнитель": "Минздрав РК"},
]
IM_BAD = [
    {"Текст": "", "Группа тем": "ЖКХ", "Тема": "", "Муниципалитет": "", "Исполнитель": ""},
    {"Текст": "Что-то сломалось", "Группа тем": "Космос", "Тема": "", "Муниципалитет": "Атлантида",
     "Исполнитель": ""},
    {"Текст": "Яма во дворе", "Группа тем": "ЖКХ", "Тема": "Ямы во дворах", "Муниципалитет": "", "Исполнитель": ""},
]


def _labels(sessions):
    with sessions() as s:
        return s.scalars(sa.select(Label).order_by(Label.id)).all()


def test_import_refuses_bad_rows_then_skips_them(lite, tmp_path):
    url, sessions = lite
    cli = Cli(url)
    path = tmp_path / "im.csv"
    pd.DataFrame(IM_GOOD + IM_BAD).to_csv(path, index=False)
    result = cli("labels", "import", str(path), ok=False)
    assert result.exit_code == 2 and _labels(sessions) == []
    assert result.stderr.splitlines() == [
        "row 5: text: empty",
        "row 6: topic_group: unknown topic group 'Космос'",
        "row 6: municipality: unknown municipality 'Атлантида'",
        "row 7: topic: 'Ямы во дворах' belongs to group 'Благоустройство', not 'ЖКХ'",
    ]
    out = cli.json("labels", "import", str(path), "--skip-bad")
    assert (out["rows"], len(out["bad"])) == (3, 4)
    rows = {(lb.text, lb.field): lb.value for lb in _labels(sessions)}
    assert rows[("Нет воды третий день", "municipality")] == "городской округ Алушта"
    assert rows[("Яма на дороге у рынка", "topic_group")] == "Благоустройство"
    assert rows[("Очереди в поликлинике", "topic_group")] == "Здравоохранение"
    assert rows[("Очереди в поликлинике", "agency")] == "Министерство здравоохранения Республики Крым"
    assert {lb.origin for lb in _labels(sessions)} == {"import"}


def test_import_xlsx(lite, tmp_path):
    """An ИМ Excel export: incidents on the «Детализация» sheet, importance as Высокая/Обычная."""
    pytest.importorskip("openpyxl")
    url, sessions = lite
    path = tmp_path / "im.xlsx"
    with pd.ExcelWriter(path) as xlsx:
        pd.DataFrame([{"Отчёт": "сводка"}]).to_excel(xlsx, sheet_name="Свод", index=False)
        rows = pd.DataFrame(IM_GOOD).assign(Важность=["Высокая", "Обычная", "ЛС"])
        rows.to_excel(xlsx, sheet_name="Детализация", index=False)
    assert Cli(url).json("labels", "import", str(path)) == {"rows": 3, "labels": 12, "bad": []}
    importance = {lb.text: lb.value for lb in _labels(sessions) if lb.field == "importance"}
    assert importance["Нет воды третий день"] == "high" and importance["Очереди в поликлинике"] == "normal"


def test_import_errors(lite, tmp_path):
    url, _ = lite
    cli = Cli(url)
    assert cli("labels", "import", str(tmp_path / "none.csv"), ok=False).stderr.startswith("error: ")
    (tmp_path / "x.txt").write_text("hi")
    assert "unknown format" in cli("labels", "import", str(tmp_path / "x.txt"), ok=False).stderr
    pd.DataFrame([{"Описание": "x"}]).to_csv(tmp_path / "nocol.csv", index=False)
    assert "no «Текст»" in cli("labels", "import", str(tmp_path / "nocol.csv"), ok=False).stderr


def test_export_round_trip(lite, tmp_path):
    url, sessions = lite
    cli = Cli(url)
    item = seed(sessions, "Нет света на улице Ленина", topic_group="ЖКХ", municipality=None, geo_confidence=0.0)
    route(sessions)
    cli("reassign", "item", str(item), "--municipality", "городской округ Керчь", "--topic-group", "Благоустройство",
        "--reason", "street lights are public works")
    pd.DataFrame(IM_GOOD[:1]).to_csv(tmp_path / "im.csv", index=False)
    cli("labels", "import", str(tmp_path / "im.csv"))
    for name in ("labels.csv", "labels.parquet"):
        cli("labels", "export", str(tmp_path / name))
        df = pd.read_csv(tmp_path / name) if name.endswith(".csv") else pd.read_parquet(tmp_path / name)
        ops = df[df["origin"] == "ops"].iloc[0]
        assert (ops["item_pk"], ops["text"], ops["topic_group"], ops["municipality"], ops["is_complaint"]) == \
            (item, "Нет света на улице Ленина", "Благоустройство", "городской округ Керчь", 1)
        imported = df[df["origin"] == "import"].iloc[0]
        assert (imported["text"], imported["topic_group"]) == ("Нет воды третий день", "ЖКХ")
        assert len(df) == 2
        from nlp.training import prepare_extra

        assert len(prepare_extra(df)) == 2  # the export is what `models train --with-labels` feeds training
    cli("labels", "export", str(tmp_path / "long.parquet"), "--long", "--origin", "ops")
    long = pd.read_parquet(tmp_path / "long.parquet")
    assert set(long["origin"]) == {"ops"} and "reason" in long.columns
    assert set(long["field"]) >= {"municipality", "topic_group", "is_complaint"}


def test_export_redacts_personal_data_unless_asked(lite, tmp_path):
    url, sessions = lite
    cli = Cli(url)
    item = seed(sessions, "Нет света, звоните 8 (978) 123-45-67 или pishite@mail.ru", topic_group="ЖКХ",
                municipality=None, geo_confidence=0.0)
    route(sessions)
    cli("reassign", "item", str(item), "--municipality", "городской округ Керчь", "--reason", "place named in photo")
    cli("labels", "export", str(tmp_path / "safe.csv"))
    assert pd.read_csv(tmp_path / "safe.csv")["text"].tolist() == ["Нет света, звоните [PHONE] или [EMAIL]"]
    cli("labels", "export", str(tmp_path / "raw.csv"), "--keep-personal-data")
    assert "8 (978) 123-45-67" in pd.read_csv(tmp_path / "raw.csv")["text"].iloc[0]


def test_long_export_redacts_reasons_and_user_links_keeps_actor(lite, tmp_path):
    url, sessions = lite
    cli = Cli(url, actor="ops:anna")
    item = seed(sessions, "Нет света, звоните 978-123-45-67", topic_group="ЖКХ", municipality=None,
                geo_confidence=0.0)
    with sessions.begin() as s:
        s.get(Item, item).url = "https://vk.com/wall150443210_7?reply=9"
    route(sessions)
    cli("reassign", "item", str(item), "--municipality", "городской округ Керчь",
        "--reason", "звонила жительница, тел. 8 978 765-43-21, vk.com/id150443210")
    cli("labels", "export", str(tmp_path / "long.csv"), "--long")
    row = pd.read_csv(tmp_path / "long.csv").iloc[0]
    assert (row["text"], row["reason"], row["url"], row["actor"]) == (
        "Нет света, звоните [PHONE]", "звонила жительница, тел. [PHONE], [PROFILE]", "[PROFILE]", "ops:anna")
