"""Labelled data in and out with pandas: export labels (ops corrections, imports) to CSV/Parquet; import an
«Инцидент Менеджмент» export (CSV/XLSX) with validation that names every bad row.

Example:
    export_labels(session, Path("labels.parquet"))
    result = import_labels(session, Path("im.xlsx"), load_vocab(config_dir), actor="anna")
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.tables import Item, Label, utcnow
from tsur.csv_safe import escaped, unescaped
from tsur.places import Places, load_places, municipality_forms, norm

FIELDS = ("is_complaint", "topic_group", "topic", "municipality", "settlement", "importance", "agency")
# Where two columns name one field, the first one with a value wins: the ИМ per-executor export (sheet
# «Инциденты») names the executor «Отдел» and falls back to «Исполнитель» (crimea_agencies/im_report_conventions.csv).
IM_COLUMNS = {"Текст": "text", "Группа тем": "topic_group", "Тема": "topic", "Муниципалитет": "municipality",
              "Населённый пункт": "settlement", "Населенный пункт": "settlement", "Отдел": "agency",
              "Исполнитель": "agency", "Жалоба": "is_complaint", "Важность": "importance"}
IMPORTANCE = {"high": "high", "normal": "normal", "высокая": "high", "обычная": "normal", "лс": "normal"}
IM_SHEETS = ("Детализация", "Инциденты")  # the sheets of ИМ Excel exports that hold the incidents
__all__ = ["municipality_forms", "norm"]  # re-exported from tsur.places


@dataclass(frozen=True)
class Vocab:
    """Known values: topic groups, topics (→ group), municipalities (with short forms), agencies, settlements."""

    groups: dict[str, str]
    topics: dict[str, tuple[str, str, frozenset[str]]]  # topic → (name, group, groups an export may file it in)
    municipalities: dict[str, str]
    agencies: dict[str, str] = field(default_factory=dict)
    places: Places | None = None


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_vocab(config_dir: Path) -> Vocab:
    """The vocabulary from config/: topic groups, routing topics, places (tsur.places), agencies with ИМ labels."""
    groups = {norm(r["group"]): r["group"] for r in _rows(config_dir / "topics" / "groups.csv")}
    crosswalk = config_dir / "topics" / "hackathon_crosswalk.csv"  # ИМ/hackathon group names → ours
    aliases = {norm(r["hackathon_group"]): r["im_group"] for r in _rows(crosswalk)} if crosswalk.exists() else {}
    groups = {**aliases, **groups}
    topics = {}
    for r in _rows(config_dir / "routing_topics.csv"):
        filed = {r["topic_group"], groups.get(norm(r.get("hackathon_group") or ""), r["topic_group"])}
        topics[norm(r["topic"])] = (r["topic"].replace("★", "").strip(), r["topic_group"], frozenset(filed))
    places = load_places(Path(config_dir))
    agencies: dict[str, str] = {}
    for r in _rows(config_dir / "agencies.csv"):
        agencies.update({norm(n): r["name"] for n in (r["name"], r.get("short_name"), r.get("im_label")) if n})
    return Vocab(groups, topics, places.municipalities, agencies, places)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip()


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 or (an ИМ export saved by Excel) Windows-1251, comma-, semicolon- or tab-separated."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("cp1251", errors="replace")
        if not any(name in text.split("\n", 1)[0] for name in IM_COLUMNS):  # no ИМ column: another encoding
            raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}) nor a Windows-1251 ИМ export: "
                             "save it as «CSV UTF-8»") from None
    header = text.split("\n", 1)[0]
    return unescaped(pd.read_csv(io.StringIO(text), sep=max((",", ";", "\t"), key=header.count), dtype=str,
                                 keep_default_na=False))


def _merge_columns(df: pd.DataFrame) -> pd.DataFrame:
    """ИМ column names → ours; columns naming one field become one: the first with a value, in IM_COLUMNS order."""
    order = list(IM_COLUMNS)
    sources: dict[str, list[tuple[int, int]]] = {}
    for i, column in enumerate(str(c).strip() for c in df.columns):
        rank = order.index(column) if column in IM_COLUMNS else len(order)
        sources.setdefault(IM_COLUMNS.get(column, column), []).append((rank, i))
    out = {}
    for name, where in sources.items():
        columns = [df.iloc[:, i] for _, i in sorted(where)]
        merged = columns[0]
        for column in columns[1:]:
            merged = merged.where(~merged.map(_blank), column)
        out[name] = merged
    return pd.DataFrame(out, index=df.index)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, XLSX or Parquet file as strings, with ИМ column names mapped to ours."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    if suffix == ".csv":
        df = _read_csv(path)
    elif suffix in (".xlsx", ".xls"):
        sheets = pd.ExcelFile(path).sheet_names
        sheet = next((name for name in IM_SHEETS if name in sheets), 0)
        df = pd.read_excel(path, sheet_name=sheet, dtype=str).fillna("")
    elif suffix == ".parquet":
        df = pd.read_parquet(path).astype("string").fillna("")
    else:
        raise ValueError(f"{path}: unknown format {suffix!r}: use .csv, .xlsx or .parquet")
    df = _merge_columns(df)
    if "text" not in df.columns:
        raise ValueError(f"{path}: no «Текст» (text) column; columns are: {', '.join(map(str, df.columns))}")
    return df


def _check(row: dict, vocab: Vocab) -> tuple[dict[str, str], list[str]]:
    """One row's canonical values and its problems ("column: problem")."""
    out, problems = {}, []
    if _blank(row.get("text")):
        problems.append("text: empty")
    else:
        out["text"] = str(row["text"]).strip()
    group, topic = row.get("topic_group"), row.get("topic")
    if not _blank(group):
        out["topic_group"] = vocab.groups.get(norm(group))
        if out["topic_group"] is None:
            problems.append(f"topic_group: unknown topic group {str(group).strip()!r}")
    if not _blank(topic):
        known = vocab.topics.get(norm(topic))
        if known is None:
            problems.append(f"topic: unknown topic {str(topic).strip()!r}")
        else:
            out["topic"] = known[0]
            if out.get("topic_group") and out["topic_group"] not in known[2]:
                problems.append(f"topic: {known[0]!r} belongs to group {known[1]!r}, not {out['topic_group']!r}")
            out["topic_group"] = known[1]
    place = row.get("municipality")
    if not _blank(place):
        out["municipality"] = vocab.municipalities.get(norm(place))
        if out["municipality"] is None:
            problems.append(f"municipality: unknown municipality {str(place).strip()!r}")
    settlement = row.get("settlement")
    if not _blank(settlement) and vocab.places is None:
        out["settlement"] = str(settlement).strip()
    elif not _blank(settlement):
        try:
            out["settlement"] = vocab.places.settlement(str(settlement).strip(), out.get("municipality"))
        except ValueError as exc:
            problems.append(f"settlement: {exc}")
    agency = row.get("agency")
    if not _blank(agency):
        out["agency"] = vocab.agencies.get(norm(agency))
        if out["agency"] is None:
            problems.append(f"agency: unknown agency {str(agency).strip()!r}: see config/agencies.csv")
    if not _blank(row.get("is_complaint")):
        flag = {"1": "True", "0": "False", "true": "True", "false": "False", "да": "True",
                "нет": "False"}.get(norm(row["is_complaint"]))
        if flag is None:
            problems.append(f"is_complaint: expected 1/0 or да/нет, not {row['is_complaint']!r}")
        out["is_complaint"] = flag
    if not _blank(row.get("importance")):
        level = IMPORTANCE.get(norm(row["importance"]))
        if level is None:
            problems.append(f"importance: expected Высокая/Обычная/ЛС or high/normal, not {row['importance']!r}")
        out["importance"] = level
    if not problems and not (set(out) & set(FIELDS)):
        problems.append("row: no label (need «Группа тем», «Тема», «Муниципалитет» or «Исполнитель»)")
    return {k: v for k, v in out.items() if v is not None}, problems


def validate(df: pd.DataFrame, vocab: Vocab) -> tuple[list[dict[str, str]], list[str]]:
    """Good rows (canonical values) and bad rows as "row N: column: problem" (N = file row, header is 1)."""
    good, bad = [], []
    for n, row in enumerate(df.to_dict("records"), start=2):
        values, problems = _check(row, vocab)
        if problems:
            bad += [f"row {n}: {p}" for p in problems]
        else:
            good.append(values)
    return good, bad


@dataclass(frozen=True)
class ImportResult:
    """Rows imported, label rows written, labels already there from an earlier import, problems of bad rows."""

    rows: int
    labels: int
    bad: list[str]
    skipped: int = 0


def _imported(session: Session, texts: list[str]) -> set[tuple[str, str, str]]:
    """(text, field, value) of the import labels already stored for these texts: the natural key of a label."""
    found: set[tuple[str, str, str]] = set()
    unique = sorted(set(texts))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        found.update(session.execute(sa.select(Label.text, Label.field, Label.value)
                                     .where(Label.origin == "import", Label.text.in_(chunk))).tuples())
    return found


def import_labels(session: Session, path: Path, vocab: Vocab, *, actor: str, skip_bad: bool = False,
                  now: datetime | None = None) -> ImportResult:
    """Import a labelled file; any bad row imports nothing unless `skip_bad` (then the good ones go in).

    Idempotent: a label whose (text, field, value) an import already stored is skipped, so importing the
    same file again (or an overlapping export) adds nothing.
    """
    good, bad = validate(read_table(path), vocab)
    if bad and not skip_bad:
        return ImportResult(0, 0, bad)
    now, n = now or utcnow(), 0
    seen = _imported(session, [row["text"] for row in good])
    for row in good:
        for name in FIELDS:
            if name in row and (row["text"], name, row[name]) not in seen:
                seen.add((row["text"], name, row[name]))
                session.add(Label(item_pk=None, field=name, value=row[name], previous=None, actor=actor,
                                  reason=f"import {path.name}", origin="import", text=row["text"], created_at=now))
                n += 1
    session.flush()
    wanted = sum(name in row for row in good for name in FIELDS)
    return ImportResult(len(good), n, bad, skipped=wanted - n)


def labels_frame(session: Session, origin: str | None = None) -> pd.DataFrame:
    """Every label as a row (oldest first) with its item's text, source and link."""
    stmt = (sa.select(Label.id, Label.item_pk, Label.field, Label.value, Label.previous, Label.actor, Label.reason,
                      Label.origin, Label.created_at, sa.func.coalesce(Item.text, Label.text).label("text"),
                      Item.source, Item.url)
            .join(Item, Item.id == Label.item_pk, isouter=True).order_by(Label.id))
    if origin:
        stmt = stmt.where(Label.origin == origin)
    rows = [dict(r._mapping) for r in session.execute(stmt)]
    columns = ["id", "item_pk", "field", "value", "previous", "actor", "reason", "origin", "created_at", "text",
               "source", "url"]
    return pd.DataFrame(rows, columns=columns)


def training_frame(long: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled item (or imported text): the latest value of each field wins."""
    if long.empty:
        return pd.DataFrame(columns=["item_pk", "text", *FIELDS, "origin", "labelled_at"])
    df = long.assign(key=long["item_pk"].map(lambda v: f"item:{int(v)}" if pd.notna(v) else None))
    df["key"] = df["key"].fillna("text:" + df["text"].fillna(""))
    latest = df.sort_values("id").groupby(["key", "field"], sort=False).tail(1)
    wide = latest.pivot(index="key", columns="field", values="value")
    meta = df.sort_values("id").groupby("key").agg(item_pk=("item_pk", "last"), text=("text", "last"),
                                                   origin=("origin", "last"), labelled_at=("created_at", "max"))
    out = meta.join(wide).reset_index(drop=True)
    for name in FIELDS:
        if name not in out.columns:
            out[name] = None
    flags = {"1": 1, "0": 0, "true": 1, "false": 0}  # labels hold True/False; 1/0 accepted too
    out["is_complaint"] = out["is_complaint"].map(lambda v: flags.get(str(v).strip().casefold())).astype("Int64")
    out["item_pk"] = pd.to_numeric(out["item_pk"], errors="coerce").astype("Int64")
    return out[["item_pk", "text", *FIELDS, "origin", "labelled_at"]]


def redacted(frame: pd.DataFrame, columns: tuple[str, ...] = ("text", "reason", "url")) -> pd.DataFrame:
    """The frame with personal data masked in the free-text and link columns it has."""
    from tsur.redact import redact

    out = frame.copy()
    for name in (c for c in columns if c in out.columns):
        out[name] = out[name].map(lambda v: redact(v) if isinstance(v, str) else v)
    return out


def export_labels(session: Session, path: Path, *, long: bool = False, origin: str | None = None,
                  redact: bool = True) -> int:
    """Write labels to .csv or .parquet: one row per item (default) or one per label (`long`); returns rows.

    CSV cells a spreadsheet would run as formulas (= + - @ …) get a leading quote; import takes it off.
    Texts, reasons and links are redacted (phones, e-mails, cards, profile and user-wall links, mentions,
    document numbers) unless `redact=False`; `actor` is an internal operator id and stays.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"{path}: unknown format {suffix!r}: use .csv or .parquet")
    frame = labels_frame(session, origin)
    frame = frame if long else training_frame(frame)
    if redact:
        frame = redacted(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        escaped(frame).to_csv(path, index=False)  # no cell runs as a formula in a spreadsheet
    else:
        frame.to_parquet(path, index=False)
    return len(frame)
