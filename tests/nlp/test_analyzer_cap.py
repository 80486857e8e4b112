"""The analyser reads no more than max_text_chars of a text, even of one stored before the collection cap."""
from __future__ import annotations

import nlp.analyzer as analyzer_module
from nlp.analyzer import load_analyzer
from tsur.limits import MAX_TEXT_CHARS
from tsur.records import AnalysisInput

TEN_MB = "В Симферополе на ул. Ленина опять нет воды, Керчь, Ялта. " * 180_000


def test_analysis_of_a_10_mb_text_reads_a_bounded_text(monkeypatch):
    assert len(TEN_MB) > 10_000_000
    seen: list[int] = []
    featurize, locate = analyzer_module.featurize, analyzer_module._locate

    def spy_featurize(text, *args, **kwargs):
        seen.append(len(text))
        return featurize(text, *args, **kwargs)

    def spy_locate(text, *args, **kwargs):
        seen.append(len(text))
        return locate(text, *args, **kwargs)

    monkeypatch.setattr(analyzer_module, "featurize", spy_featurize)
    monkeypatch.setattr(analyzer_module, "_locate", spy_locate)
    [result] = load_analyzer().analyze([AnalysisInput(1, TEN_MB, None)])
    assert len(seen) == 2 and max(seen) <= MAX_TEXT_CHARS
    assert result.municipality == "городской округ Симферополь"
    [small] = load_analyzer(max_text_chars=2000).analyze([AnalysisInput(2, TEN_MB, None)])
    assert max(seen[2:]) <= 2000 and small.topic_group == result.topic_group
