"""The shipped model loads and meets documented floors on the hand-checked Crimean golden table.

Floors (model 2026.11.23-2 scored complaint accuracy 0.84 / precision 0.88, topic accuracy 0.79, importance 1.00):
a new model must not be promoted if it falls below them.
"""
import pytest

from nlp.analyzer import load_analyzer
from nlp.evaluation import read_golden, score_golden
from nlp.registry import active_version, list_versions

FLOORS = {"complaint_accuracy": 0.78, "complaint_precision": 0.82, "topic_accuracy": 0.75, "importance": 0.90}


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
