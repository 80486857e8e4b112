"""The parameter-selection split: latest 15 % of the SPb training dates, other sources stay in the fit part."""
import pandas as pd

from nlp.training import VALIDATION_FRACTION, validation_split


def make_rows() -> pd.DataFrame:
    spb = pd.DataFrame({"source": "spb", "created_dt": pd.date_range("2021-01-01", periods=100, freq="D"),
                        "text": [f"spb {i}" for i in range(100)]})
    other = pd.DataFrame({"source": "sentirueval", "created_dt": pd.date_range("2021-12-01", periods=10, freq="D"),
                          "text": [f"tweet {i}" for i in range(10)]})
    return pd.concat([spb, other], ignore_index=True)


def test_validation_is_the_latest_spb_dates_only():
    fit, val = validation_split(make_rows())
    assert set(val["source"]) == {"spb"}
    assert val["created_dt"].min() > fit.loc[fit["source"] == "spb", "created_dt"].max()
    assert abs(len(val) - VALIDATION_FRACTION * 100) <= 1


def test_validation_and_fit_parts_partition_the_rows():
    rows = make_rows()
    fit, val = validation_split(rows)
    assert len(fit) + len(val) == len(rows) and not set(fit.index) & set(val.index)
    assert (fit["source"] == "sentirueval").sum() == 10
