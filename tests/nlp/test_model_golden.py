"""The shipped model loads and meets documented floors on the hand-checked Crimean golden table and on the
test part of the real posts of many regions (datasets/real_posts, in the project: runs without ../shared).

Floors — a new model must not be promoted if it falls below them. Model 2026.12.05-1 scored:
golden table complaint accuracy 0.89 / precision 0.90, topic accuracy 0.89, importance 1.00;
real posts (test part, n = 551, 22 regions) topic accuracy 0.731, genre accuracy 0.819, complaint F1 0.886,
notice F1 0.798, importance agreement 0.822, Crimean municipality 0.889 / settlement 0.884.
"""
import pytest

from nlp.analyzer import load_analyzer
from nlp.evaluation import read_golden, score_golden, score_rows
from nlp.labelled_sets import load_real_posts
from nlp.registry import active_version, list_versions

FLOORS = {"complaint_accuracy": 0.84, "complaint_precision": 0.85, "topic_accuracy": 0.84, "importance": 0.90}
REAL_POSTS_FLOORS = {"topic_accuracy": 0.70, "genre_accuracy": 0.79, "complaint_f1": 0.86, "notice_f1": 0.76,
                     "importance": 0.78, "municipality": 0.85, "settlement": 0.85}


@pytest.fixture(scope="module")
def analyzer():
    return load_analyzer()


@pytest.fixture(scope="module")
def golden(analyzer):
    return score_golden(analyzer, read_golden())


def test_active_version_is_shipped(analyzer):
    assert active_version() in list_versions()
    assert analyzer.version == active_version()
    assert analyzer.meta["labels"]["topic_group"] == sorted(analyzer.meta["labels"]["topic_group"])


def test_complaint_floor(golden):
    assert golden["complaint"]["accuracy"] >= FLOORS["complaint_accuracy"], golden["errors"]
    assert golden["complaint"]["precision"] >= FLOORS["complaint_precision"], golden["errors"]


def test_topic_floor(golden):
    assert golden["topic"]["accuracy"] >= FLOORS["topic_accuracy"], golden["errors"]


def test_importance_floor(golden):
    assert golden["importance_accuracy"] >= FLOORS["importance"], golden["errors"]


def test_golden_table_uses_the_model_label_set(analyzer):
    assert set(read_golden()["topic_group"]) <= set(analyzer.topic.classes_)


def test_evaluation_command_prints_the_golden_report(capsys):
    from nlp.evaluation import main

    assert main(["--golden-only"]) == 0
    out = capsys.readouterr().out
    assert "Crimean golden table" in out and "auto-routable at 95% precision" in out


@pytest.fixture(scope="module")
def real_posts(analyzer):
    rows = load_real_posts()
    return score_rows(analyzer, rows[rows["split"] == "test"])


def test_real_posts_floors(real_posts):
    got = {"topic_accuracy": real_posts["topic"]["accuracy"], "genre_accuracy": real_posts["genre"]["accuracy"],
           "complaint_f1": real_posts["genre"]["complaint"]["f1"], "notice_f1": real_posts["genre"]["notice"]["f1"],
           "importance": real_posts["importance"]["accuracy"], "municipality": real_posts["municipality"]["accuracy"],
           "settlement": real_posts["settlement"]["accuracy"]}
    below = {k: v for k, v in got.items() if v < REAL_POSTS_FLOORS[k]}
    assert not below, f"below the floors {REAL_POSTS_FLOORS}: {below}"
    assert real_posts["n"] >= 500
