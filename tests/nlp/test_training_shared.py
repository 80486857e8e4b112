"""Training and evaluation run end to end on a small sample of ../shared/data and the labelled sets."""
import pandas as pd
import pytest

from nlp import data, labelled_sets
from nlp.evaluation import evaluate, leave_one_source_out
from nlp.training import Params, load_rows, params_from_meta, train

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
    assert meta["labels"]["genre"] == ["complaint", "notice", "other"]
    assert {"real_posts", "chuvashia", "troitsk", "spb"} <= set(card.metrics)
    assert 0.5 < card.metrics["chuvashia"]["genre"]["complaint"]["precision"] <= 1.0
    assert params_from_meta(meta) == Params()


def test_evaluation_reproduces_the_held_out_parts(trained, shared_data):
    card, models = trained
    report = evaluate(card.version, models_dir=models, shared=shared_data)
    for name in ("spb", "real_posts", "chuvashia", "troitsk"):
        assert report.sets[name]["n"] == card.metrics[name]["n"]
        assert report.sets[name]["topic"]["accuracy"] == card.metrics[name]["topic"]["accuracy"]
    text = report.to_text()
    assert "auto-routable at 95% precision" in text and "Crimean golden table" in text
    assert "municipality agreement on Crimean rows" in text and "notice:" in text


def test_no_test_text_is_in_training(shared_data):
    rows, _ = load_rows(shared_data, sample=400)
    train_keys = set(rows.loc[rows["split"] == "train", "key"])
    assert not train_keys & set(rows.loc[rows["split"] == "test", "key"])
    spb = rows[rows["source"] == "spb"]
    assert spb.loc[spb["split"] == "train", "created_dt"].max() < spb.loc[spb["split"] == "test", "created_dt"].min()
    real = rows[rows["source"] == "real_posts"]
    by_url = labelled_sets.load_real_posts().set_index("text")["split"]
    assert (real["split"] == real["text"].map(by_url)).all(), "the real posts keep their own split"


def test_leave_one_source_out_never_fits_on_the_left_out_set(shared_data, monkeypatch):
    rows, _ = load_rows(shared_data, sample=300)
    seen = []
    import nlp.training

    real_fit = nlp.training.fit
    monkeypatch.setattr(nlp.training, "fit", lambda r, p: seen.append(set(r["source"])) or real_fit(r, p))
    scores = leave_one_source_out(rows, Params(), sets=("troitsk", "real_posts"))
    assert [("troitsk" in s, "real_posts" in s) for s in seen] == [(False, True), (True, False)]
    assert scores["troitsk"]["n"] == (rows["source"] == "troitsk").sum()
    assert 0 <= scores["real_posts"]["topic"]["accuracy"] <= 1


def test_crosswalk_covers_every_spb_reason(shared_data):
    spb = data.load_spb(shared_data)
    assert set(spb["topic_group"]) <= set(data.read_groups())


def test_spb_street_lighting_is_roads_unless_a_yard(shared_data):
    spb = data.load_spb(shared_data)
    light = spb[spb["spb_reason"] == data.SPB_LIGHTING]
    yard = light["text"].str.contains(data._YARD)
    assert (light.loc[yard, "topic_group"] == "Благоустройство").all()
    assert (light.loc[~yard, "topic_group"] == "Дороги").all() and (~yard).sum() > 100


def test_extra_rows_with_unknown_group_are_refused():
    from nlp.training import prepare_extra

    with pytest.raises(ValueError, match="unknown topic groups"):
        prepare_extra(pd.DataFrame({"text": ["x"], "topic_group": ["Космос"]}))


def test_extra_rows_genres():
    from nlp.training import prepare_extra

    rows = prepare_extra(pd.DataFrame({"text": ["a", "b", "c"], "is_complaint": [1, 0, 0],
                                       "genre": [None, None, "notice"]}))
    assert rows["genre"].tolist() == ["complaint", "other", "notice"]
    with pytest.raises(ValueError, match="unknown genres"):
        prepare_extra(pd.DataFrame({"text": ["x"], "genre": ["rant"]}))
