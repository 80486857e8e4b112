"""Analysts and the whole flow: small models trained on samples/texts.tsv, list/evaluate/compare/promote/
rollback; replay the demo through the stages, review, reassign, export labels."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from storage.tables import Label, TicketEvent
from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]


def labelled_samples() -> pd.DataFrame:
    """samples/texts.tsv as labelled rows: '-' is not a complaint, else the topic group (! = high importance)."""
    raw = pd.read_csv(ROOT / "samples" / "texts.tsv", sep="\t", dtype=str, keep_default_na=False)
    label = raw["label"].str.rstrip("!")
    return pd.DataFrame({"text": raw["text"].str.replace("\\n", "\n"), "source": "test",
                         "is_complaint": (label != "-").astype(int), "topic_group": label.where(label != "-")})


def make_model(models_dir: Path, version: str, rows: pd.DataFrame) -> None:
    """Fit both heads on `rows` with nlp.training and save them as a model version."""
    from nlp import data, training
    from nlp.artifacts import save_bundle

    rows = data.add_keys(rows.assign(genre=rows["is_complaint"].map({1: "complaint", 0: "other"}), channel=None))
    small = training.Params(topic_vectorizer={**training.Params().topic_vectorizer, "min_df": 1},
                            genre_vectorizer={**training.Params().genre_vectorizer, "min_df": 1})
    save_bundle(models_dir / version, training.fit(rows, small).estimators(),
                {"version": version, "created_at": "2026-11-23T00:00:00+00:00", "metrics": {},
                 "data": {"sample_per_source": None, "extra_rows": 0}})


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """Two versions: v1 on every sample text (promoted), v2 on two thirds of them."""
    from nlp.registry import promote

    root = tmp_path_factory.mktemp("models")
    rows = labelled_samples()
    make_model(root, "v1", rows)
    make_model(root, "v2", rows.iloc[: len(rows) * 2 // 3])
    promote("v1", root)
    return root


def test_models_list_evaluate_compare_promote_rollback(lite, models, tmp_path):
    url, _ = lite
    cli = Cli(url, env={"TSUR_MODELS_DIR": str(models), "TSUR_DATA_DIR": str(tmp_path)})
    held = tmp_path / "held.csv"
    labelled_samples().iloc[100:].to_csv(held, index=False)
    listed = cli.json("models", "list")
    assert [(m["version"], m["active"]) for m in listed] == [("v1", True), ("v2", False)]

    report = cli.json("models", "evaluate", "--data", str(held))
    assert report["version"] == "v1" and report["rows"] == (labelled_samples().iloc[100:]["text"].str.strip() != "").sum()
    assert 0 <= report["topic_macro_f1"] <= 1 and report["per_class"]
    png = Path(report["png"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.parent == tmp_path
    assert report["golden"]["n"] > 50 and report["golden"]["topic"]["per_class"]
    text = cli("models", "evaluate", "v2", "--data", str(held), "--no-golden", "--png", str(tmp_path / "cm.png")).stdout
    assert "model v2" in text and "topic: accuracy" in text and "golden" not in text
    assert "complaint: precision" in text
    assert "auto-routable at 90% precision" in text and (tmp_path / "cm.png").exists()

    compared = cli.json("models", "compare", "v2", "--data", str(held))
    assert (compared["active"], compared["candidate"]) == ("v1", "v2")
    assert {m["metric"] for m in compared["metrics"]} >= {"topic_accuracy", "complaint_f1"}
    assert compared["disagreements"], "a model trained on fewer rows should disagree somewhere"
    row = compared["disagreements"][0]
    assert row["v1"] != row["v2"] and row["text"] in set(labelled_samples()["text"])

    cli("models", "promote", "v2")
    assert cli.json("models", "list")[1]["active"] is True
    assert cli.json("models", "rollback") == {"active": "v1"}
    bad = cli("models", "promote", "v9", ok=False)
    assert bad.exit_code == 2 and "no model version 'v9'" in bad.stderr


def test_end_to_end_replay_review_reassign_export(db, models, tmp_path):
    """Replay the demo, run each stage, review and reassign with a reason, export labels (SQLite, PostgreSQL)."""
    url, sessions = db
    env = {"TSUR_MODELS_DIR": str(models), "TSUR_DATA_DIR": str(tmp_path),
           "TSUR_SOURCES_FILE": str(ROOT / "samples" / "sources.toml")}
    cli = Cli(url, env=env)
    collected = cli.json("run", "collect", "--source", "replay:samples/demo.jsonl")
    assert collected[0]["status"] == "ok" and collected[0]["new"] > 100
    assert cli.json("run", "analyse")["analysed"] == collected[0]["new"]
    routed = cli.json("run", "route")
    assert routed.get("review", 0) > 0 and routed.get("create", 0) > 0
    cli("run", "sla")
    assert len(cli.json("tickets", "list")) == routed["create"]

    queue = cli.json("review", "list", "--limit", "0")
    assert len(queue) == routed["review"]
    first = queue[0]
    cli("show", "item", str(first["id"]))
    out = cli.json("reassign", "item", str(first["id"]), "--topic-group", "ЖКХ", "--municipality",
                   "городской округ Симферополь", "--reason", "water outage in Simferopol")
    ticket_id = out["ticket_id"]
    assert ticket_id is not None
    cli("reassign", "ticket", str(ticket_id), "--agency", "Минздрав РК", "--reason", "e2e: wrong agency")
    with sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Label)
                        .where(Label.reason == "water outage in Simferopol")) >= 3
        assert s.scalar(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                     TicketEvent.reason == "e2e: wrong agency")) is not None
    for name in ("labels.csv", "labels.parquet"):
        cli("labels", "export", str(tmp_path / name))
        df = pd.read_csv(tmp_path / name) if name.endswith("csv") else pd.read_parquet(tmp_path / name)
        row = df[df["item_pk"] == first["id"]].iloc[0]
        assert (row["topic_group"], row["municipality"], row["agency"]) == \
            ("ЖКХ", "городской округ Симферополь", "Министерство здравоохранения Республики Крым")
    assert len(cli.json("review", "list", "--limit", "0")) == len(queue) - 1


def test_db_upgrade_and_run_once(lite, models, tmp_path):
    url, _ = lite
    env = {"TSUR_MODELS_DIR": str(models), "TSUR_DATA_DIR": str(tmp_path),
           "TSUR_SOURCES_FILE": str(ROOT / "samples" / "sources.toml")}
    cli = Cli(url, env=env)
    assert "schema up to date" in cli("db", "upgrade").stdout
    result = cli.json("run", "once")
    assert [c["source"] for c in result["collected"]] == ["replay:samples/demo.jsonl"]
    assert result["analysed"] == result["collected"][0]["new"] > 100
    assert sum(result["routed"].values()) == result["analysed"]
    again = cli.json("run", "once")
    assert (again["collected"][0]["new"], again["analysed"]) == (0, 0)
    assert isinstance(cli.json("run", "deliver"), dict)
    sources = {s["key"]: s for s in cli.json("sources", "list")}
    assert sources["vk:wall:-100001"]["enabled"] is False and sources["replay:samples/demo.jsonl"]["enabled"]
    off = cli("run", "collect", "--source", "vk:wall:-100001", ok=False)
    assert off.exit_code == 2 and "is disabled (disabled in config)" in off.stderr


@pytest.mark.slow
@pytest.mark.shared
def test_train_with_labels_and_promote(shared_data, lite, tmp_path):
    """`models train` on a small sample of the shared data plus the labels table, promoted at once."""
    url, _ = lite
    cli = Cli(url, env={"TSUR_MODELS_DIR": str(tmp_path / "models"), "TSUR_DATA_DIR": str(tmp_path)})
    pd.DataFrame([{"Текст": f"Нет воды в доме {n}, течёт кран", "Группа тем": "ЖКХ"} for n in range(3)]).to_csv(
        tmp_path / "im.csv", index=False)
    cli("labels", "import", str(tmp_path / "im.csv"))
    out = cli("models", "train", "--shared", str(shared_data), "--sample", "40", "--with-labels",
              "--version", "t-1", "--promote").stdout
    assert "trained t-1 (active)" in out and "saved" in out
    from tsur.cli.models import TRAIN_STEPS

    assert f"{TRAIN_STEPS}/{TRAIN_STEPS}" in out  # the bar's total is the number of steps training reports
    meta = __import__("json").loads((tmp_path / "models" / "t-1" / "meta.json").read_text())
    assert meta["data"]["extra_rows"] == 3
    assert cli.json("models", "list") [0]["active"] is True


def test_compare_promote_rollback_refuse_no_ops(lite, models, tmp_path):
    """Comparing the active version with itself is refused; promoting it again changes nothing (no HISTORY line a
    rollback would stop at); a rollback always changes the active version, skipping repeated lines."""
    import shutil

    url, _ = lite
    root = tmp_path / "models"
    shutil.copytree(models, root)
    cli = Cli(url, env={"TSUR_MODELS_DIR": str(root), "TSUR_DATA_DIR": str(tmp_path)})
    held = tmp_path / "held.csv"
    labelled_samples().iloc[100:].to_csv(held, index=False)
    same = cli("models", "compare", "v1", "--data", str(held), ok=False)
    assert same.exit_code == 2 and same.stderr.startswith("error: v1 is the active version itself")
    history = (root / "HISTORY").read_text(encoding="utf-8")
    assert "already active: nothing changed" in cli("models", "promote", "v1").stdout
    assert (root / "HISTORY").read_text(encoding="utf-8") == history
    cli("models", "promote", "v2")
    cli("models", "promote", "v2")
    assert cli.json("models", "rollback") == {"active": "v1"}
    assert "nothing to roll back to" in cli("models", "rollback", ok=False).stderr
    # a HISTORY written before this fix, with the active version twice
    (root / "HISTORY").write_text("t1\tv1\nt2\tv2\nt3\tv2\n", encoding="utf-8")
    (root / "ACTIVE").write_text("v2\n", encoding="utf-8")
    assert "active model: v1 (rolled back)" in cli("models", "rollback").stdout


def test_train_shows_a_bar_of_the_known_steps(lite, tmp_path, monkeypatch):
    """`models train` draws a progress bar over the steps nlp.training.train reports, not a bare spinner."""
    from nlp import training
    from tsur.cli.models import TRAIN_STEPS

    def fake_train(shared, models_dir, *, extra, sample, version, progress):
        for n in range(TRAIN_STEPS):
            progress(f"step {n}: done")
        return training.ModelCard("fake-1", tmp_path, {})

    monkeypatch.setattr(training, "train", fake_train)
    url, _ = lite
    out = Cli(url, env={"TSUR_MODELS_DIR": str(tmp_path), "TSUR_DATA_DIR": str(tmp_path)})(
        "models", "train", "--shared", str(tmp_path)).stdout
    assert f"{TRAIN_STEPS}/{TRAIN_STEPS}" in out and "━" in out and "trained fake-1" in out


def test_promote_of_a_tampered_version_is_refused_in_one_line(lite, models, tmp_path):
    import shutil

    root = tmp_path / "models"
    shutil.copytree(models, root)
    (root / "v2" / "topic.skops").write_bytes((root / "v2" / "topic.skops").read_bytes() + b"\0")
    cli = Cli(lite[0], env={"TSUR_MODELS_DIR": str(root), "TSUR_DATA_DIR": str(tmp_path)})
    bad = cli("models", "promote", "v2", ok=False)
    assert bad.exit_code == 2 and "topic.skops: sha256 differs" in bad.stderr and len(bad.stderr.splitlines()) == 1
    assert (root / "ACTIVE").read_text(encoding="utf-8").strip() == "v1"
