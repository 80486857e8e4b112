"""Labels: export ops corrections to CSV/Parquet and read them back; import ИМ exports with row validation."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from storage.tables import Item, Label
from tests.cli.conftest import Cli, route, seed
from tests.cli.test_models_e2e import ROOT

IM_GOOD = [
    {"Текст": "Нет воды третий день", "Группа тем": "ЖКХ", "Тема": "", "Муниципалитет": "Алушта",
     "Исполнитель": "Алушта РК"},
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
    assert Cli(url).json("labels", "import", str(path)) == {"rows": 3, "labels": 12, "skipped": 0, "bad": []}
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


def test_import_checks_agency_and_settlement(lite, tmp_path):
    """Executors and settlements are checked like the other columns (config/agencies.csv, the region's places)."""
    url, sessions = lite
    rows = [
        {"Текст": "Нет воды", "Группа тем": "ЖКХ", "Муниципалитет": "", "Населённый пункт": "",
         "Исполнитель": "Совсем неизвестный исполнитель"},
        {"Текст": "Нет света", "Группа тем": "ЖКХ", "Муниципалитет": "", "Населённый пункт": "Марсоград",
         "Исполнитель": ""},
        {"Текст": "Яма", "Группа тем": "Дороги", "Муниципалитет": "Алушта", "Населённый пункт": "Гаспра",
         "Исполнитель": ""},
        {"Текст": "Нет автобуса", "Группа тем": "Дороги", "Муниципалитет": "Ялта", "Населённый пункт": "пгт Гаспра",
         "Исполнитель": "Министерство жилищно -коммунального хозяйства"},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "im.csv", index=False)
    result = Cli(url)("labels", "import", str(tmp_path / "im.csv"), ok=False)
    assert result.exit_code == 2 and _labels(sessions) == []
    assert result.stderr.splitlines() == [
        "row 2: agency: unknown agency 'Совсем неизвестный исполнитель': see config/agencies.csv",
        f"row 3: settlement: unknown settlement 'Марсоград': see {ROOT / 'config/regions/crimea/places.csv'}",
        "row 4: settlement: settlement 'Гаспра' is not in 'городской округ Алушта' (it is in городской округ Ялта)",
    ]
    Cli(url)("labels", "import", str(tmp_path / "im.csv"), "--skip-bad")
    values = {lb.field: lb.value for lb in _labels(sessions)}
    assert values == {"topic_group": "Дороги", "municipality": "городской округ Ялта", "settlement": "Гаспра",
                      "agency": "Министерство жилищно-коммунального хозяйства Республики Крым"}


@pytest.mark.shared
def test_every_im_executor_label_names_an_agency(shared_data, tmp_path):
    """Each executor label of ИМ exports maps to its agency; config/agencies.csv is what the build script writes."""
    import subprocess
    import sys

    from tsur.labels_io import load_vocab, norm

    agencies = pd.read_csv(shared_data / "crimea_agencies" / "agencies.csv", dtype=str, keep_default_na=False)
    vocab = load_vocab(ROOT / "config")
    labelled = agencies[agencies["im_executor_label"] != ""]
    wrong = {r.im_executor_label: vocab.agencies.get(norm(r.im_executor_label)) for r in labelled.itertuples()
             if vocab.agencies.get(norm(r.im_executor_label)) != r.name}
    assert wrong == {} and len(labelled) > 50
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_agencies.py"), "--shared", str(shared_data),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "agencies.csv").read_bytes() == (ROOT / "config" / "agencies.csv").read_bytes()


def test_import_executor_from_otdel_then_ispolnitel(lite, tmp_path):
    """The per-executor ИМ export (sheet «Инциденты») names the executor «Отдел», falling back to «Исполнитель»."""
    pytest.importorskip("openpyxl")
    url, sessions = lite
    path = tmp_path / "imp.xlsx"
    rows = [{"Текст": "Нет воды в Алуште", "Группа тем": "ЖКХ", "Отдел": "Вода Крыма", "Исполнитель": "Алушта РК"},
            {"Текст": "Яма у школы", "Группа тем": "Дороги", "Отдел": "", "Исполнитель": "Алушта РК"}]
    with pd.ExcelWriter(path) as xlsx:
        pd.DataFrame([{"Отчёт": "сводка"}]).to_excel(xlsx, sheet_name="Свод", index=False)
        pd.DataFrame(rows).to_excel(xlsx, sheet_name="Инциденты", index=False)
    assert Cli(url).json("labels", "import", str(path))["labels"] == 4
    agency = {lb.text: lb.value for lb in _labels(sessions) if lb.field == "agency"}
    assert agency == {"Нет воды в Алуште": "ГУП РК «Вода Крыма»",
                      "Яма у школы": "Администрация городского округа Алушта Республики Крым"}


def test_import_windows_1251_csv(lite, tmp_path):
    """Excel on a Russian Windows saves «CSV» as Windows-1251 with semicolons; other bytes name the file."""
    url, sessions = lite
    cli = Cli(url)
    path = tmp_path / "im1251.csv"
    path.write_bytes("Текст;Группа тем;Муниципалитет\nНет воды третий день;ЖКХ;Алушта\n".encode("cp1251"))
    assert cli.json("labels", "import", str(path))["labels"] == 2
    assert {lb.text for lb in _labels(sessions)} == {"Нет воды третий день"}
    other = tmp_path / "latin.csv"
    other.write_bytes(b"text,topic_group\n\xe9t\xe9,x\n")
    result = cli("labels", "import", str(other), ok=False)
    assert result.exit_code == 2 and result.stderr.strip() == (
        f"error: {other}: not UTF-8 text (byte 17) nor a Windows-1251 ИМ export: save it as «CSV UTF-8»")


def test_import_twice_adds_nothing(lite, tmp_path):
    url, sessions = lite
    cli = Cli(url)
    pd.DataFrame(IM_GOOD).to_csv(tmp_path / "im.csv", index=False)
    first = cli.json("labels", "import", str(tmp_path / "im.csv"))
    again = cli.json("labels", "import", str(tmp_path / "im.csv"))
    assert (first["labels"], first["skipped"], again["labels"], again["skipped"]) == (9, 0, 0, 9)
    assert len(_labels(sessions)) == 9
    assert "0 label(s) (9 already imported)" in cli("labels", "import", str(tmp_path / "im.csv")).stdout


FORMULAS = ['=HYPERLINK("http://evil.example/x","Нет воды")', "+cmd|' /C calc'!A0 яма", "@SUM(1+1) нет света",
            "-1 градус в квартире", "'=с кавычкой в начале", "нет воды"]


def test_csv_export_quotes_formula_cells_and_import_takes_the_quote_off(lite, tmp_path):
    """OWASP CSV injection: no exported cell starts a formula; export → import gives the same texts back."""
    import csv

    from tsur.csv_safe import escape_cell, escaped, unescape_cell
    from tsur.labels_io import read_table

    url, sessions = lite
    cli = Cli(url)
    rows = [{"Текст": text, "Группа тем": "ЖКХ", "Тема": "", "Муниципалитет": "Алушта", "Исполнитель": ""}
            for text in FORMULAS]
    escaped(pd.DataFrame(rows)).to_csv(tmp_path / "im.csv", index=False)  # as a spreadsheet saves them
    assert cli.json("labels", "import", str(tmp_path / "im.csv"))["labels"] == 2 * len(FORMULAS)
    assert {lb.text for lb in _labels(sessions)} == set(FORMULAS)
    cli("labels", "export", str(tmp_path / "out.csv"))
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {f"'{t}" for t in FORMULAS[:-1]} | {"нет воды"} <= set(cells)
    assert sorted(read_table(tmp_path / "out.csv")["text"]) == sorted(FORMULAS)
    assert cli.json("labels", "import", str(tmp_path / "out.csv"))["labels"] == 0  # the same texts: already there
    assert [unescape_cell(escape_cell(v)) for v in ("\tx", "\rx", "'\tx", "''@x", "x'", 3)] == \
        ["\tx", "\rx", "'\tx", "''@x", "x'", 3]
    assert escape_cell("\r=x") == "'\r=x" and escape_cell("''+x") == "'" + "''+x"
