"""The hand-labelled sets of datasets/: values from the guide, places from the gazetteer, stable splits."""
import csv
from pathlib import Path

import pandas as pd
import pytest

from nlp import labelled_sets
from nlp.data import read_groups

ROOT = Path(__file__).resolve().parents[2]
IMPORTANCE = {"high", "normal"}


@pytest.fixture(scope="module")
def real():
    return labelled_sets.load_real_posts()


def test_real_posts_values_come_from_the_guide(real):
    assert set(real["genre"]) <= set(labelled_sets.GENRES)
    assert set(real["channel"]) <= set(labelled_sets.CHANNELS)
    assert set(real["topic_group"]) <= set(read_groups())
    assert set(real["importance"]) <= IMPORTANCE
    assert real["url"].str.match(r"^https?://").all() and real["id"].is_unique
    assert real["text"].str.len().max() <= 500 and real["text"].is_unique
    assert not real["region"].str.contains("Курск").any() and not real["text"].str.contains("Курск").any()


def test_real_posts_size_and_spread(real):
    test = real[real["split"] == "test"]
    assert len(test) >= 500 and test["region"].nunique() >= 6
    assert real["region"].isin(["Республика Крым", "Севастополь"]).sum() >= 200
    assert test["topic_group"].value_counts().min() >= 20
    assert set(test["genre"]) == set(labelled_sets.GENRES)


def test_real_posts_split_is_by_url(real):
    first = real[real["batch"] == "1"]
    assert (first["split"] == [labelled_sets.split_of(u, 65) for u in first["url"]]).all()
    assert real.groupby("url")["split"].nunique().max() == 1
    second = real[real["batch"] == "2"]
    assert (second["split"] == "train").all() and not set(second["url"]) & set(first["url"])


def test_crimean_places_are_in_the_gazetteer(real):
    with open(ROOT / "config" / "regions" / "crimea" / "places.csv", encoding="utf-8") as fh:
        places = list(csv.DictReader(fh))
    municipalities = {p["name"] for p in places if p["kind"] == "municipality"}
    settlements = {(p["municipality"], p["name"]) for p in places if p["kind"] == "settlement"}
    crimea = real[real["region"].isin(["Республика Крым", "Севастополь"])]
    named = crimea[crimea["municipality"].notna()]
    assert set(named["municipality"]) <= municipalities
    both = named[named["settlement"].notna()]
    assert all(pair in settlements for pair in zip(both["municipality"], both["settlement"]))
    assert real.loc[~real.index.isin(crimea.index), "municipality"].isna().all()


def test_portal_labels_are_valid():
    for name, key in (("chuvashia", "id"), ("troitsk", "link")):
        labels = pd.read_csv(ROOT / "datasets" / name / "labels.tsv", sep="\t", dtype=str)
        assert labels[key].is_unique
        assert set(labels["genre"]) <= set(labelled_sets.GENRES)
        assert set(labels["topic_group"]) <= set(read_groups())
        assert set(labels["importance"]) <= IMPORTANCE


@pytest.mark.shared
def test_portal_sets_join_their_texts(shared_data):
    for name in ("chuvashia", "troitsk"):
        rows = labelled_sets.load_set(name, shared_data)
        assert rows["text"].str.len().min() > 0 and set(rows["split"]) == {"train", "test"}
        assert 0.4 < (rows["split"] == "test").mean() < 0.6


def test_portal_sets_need_the_shared_texts(tmp_path):
    with pytest.raises(labelled_sets.SetUnavailable, match="shared"):
        labelled_sets.load_set("chuvashia", tmp_path / "absent")
    assert set(labelled_sets.load_sets(tmp_path / "absent")["source"]) == {"real_posts"}
