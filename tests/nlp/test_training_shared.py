"""Training and evaluation run end to end on a small sample of ../shared/data."""
import pandas as pd
import pytest

from nlp import data
from nlp.evaluation import evaluate
from nlp.training import train

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    extra = pd.DataFrame({"text": ["Нет врача в амбулатории села Кольчугино"], "topic_group": ["Здравоохранение"],
                          "is_complaint": [1]})
    return train(shared_data, models_dir=models, sample=400, extra=extra), models


def test_training_writes_a_version_with_metadata(trained):
    card, models = trained
    meta = card.meta
    assert (models / card.version / "meta.json").is_file()
    assert meta["data"]["sample_per_source"] == 400 and meta["data"]["extra_rows"] == 1
    assert len(meta["data"]["train_sha256"]) == 64
    assert set(meta["labels"]["topic_group"]) <= set(data.read_groups())
    assert 0.5 < card.metrics["complaint"]["precision"] <= 1.0


def test_evaluation_reproduces_the_held_out_split(trained, shared_data):
    card, models = trained
    report = evaluate(card.version, models_dir=models, shared=shared_data)
    assert report.held_out["topic_spb"]["n"] == card.metrics["topic_spb"]["n"]
    assert report.held_out["topic_spb"]["accuracy"] == card.metrics["topic_spb"]["accuracy"]
    text = report.to_text()
    assert "auto-routable at 90% precision" in text and "Crimean golden table" in text


def test_no_test_text_is_in_training(shared_data):
    rows = data.load_all(shared_data, sample=400)
    rows, _ = data.split_rows(rows)
    train_keys = set(rows.loc[rows["split"] == "train", "key"])
    assert not train_keys & set(rows.loc[rows["split"] == "test", "key"])
    spb = rows[rows["source"] == "spb"]
    assert spb.loc[spb["split"] == "train", "created_dt"].max() < spb.loc[spb["split"] == "test", "created_dt"].min()


def test_crosswalk_covers_every_spb_reason(shared_data):
    spb = data.load_spb(shared_data)
    assert set(spb["topic_group"]) <= set(data.read_groups())


def test_extra_rows_with_unknown_group_are_refused():
    from nlp.training import prepare_extra

    with pytest.raises(ValueError, match="unknown topic groups"):
        prepare_extra(pd.DataFrame({"text": ["x"], "topic_group": ["Космос"]}))
