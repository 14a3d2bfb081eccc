"""leokit.analyse.linkage.match_summary: match reports as a releasable table."""

from __future__ import annotations

import pandas as pd
import pytest

import leokit
from leokit.analyse.linkage import match_summary


def test_counts_rounded_and_small_counts_suppressed():
    left = pd.DataFrame({"k": range(103)})
    right = pd.DataFrame({"k": range(7, 200)})
    _, rep = leokit.link(left, right, on="k", how="left", expect="1:1", report=True)
    t = match_summary({"left -> right": rep})
    row = t.loc["left -> right"]
    assert row["rows (left)"] == 105 and row["matched"] == 95  # 103 and 96, to the nearest 5
    assert row["not matched, kept"] == "c"  # 7 unmatched people: suppressed
    # the rate comes from the rounded counts (95 / 105), not the exact ones (96 / 103 = 93.2%), which it would give back
    assert row["match rate (%)"] == pytest.approx(90.5)
    small = match_summary({"few": leokit.link(left.head(5), right, on="k", how="left", expect="1:1", report=True)[1]})
    assert small.loc["few", "match rate (%)"] == "c"  # 5 rows on the left: the rate is suppressed with its counts
    assert "rounded" in t.attrs["sdc"]
    with pytest.raises(TypeError, match="MatchReport"):
        match_summary({"x": "not a report"})


def test_sample_flow_counts_drops_and_suppresses_small_steps():
    from leokit.analyse.linkage import sample_flow

    d = pd.DataFrame({"id": list(range(120)) + [0, 1], "x": range(122)})  # two repeated ids
    t = sample_flow({"all": d, "x >= 3": d[d["x"] >= 3], "x >= 30": d[d["x"] >= 30], "kept": 80}, unit="id")
    assert list(t.index) == ["all", "x >= 3", "x >= 30", "kept"]
    assert t.loc["all", "left"] == 120 and t.loc["all", "dropped at this step"] == ""  # distinct ids
    assert t.loc["x >= 3", "dropped at this step"] == "c"  # 3 people: suppressed
    assert t.loc["x >= 30", "left"] == 90 and t.loc["x >= 30", "dropped at this step"] == 25  # 27 -> nearest 5
    assert t.loc["kept", "% of first step"] == pytest.approx(66.7)
    exact = sample_flow({"all": 103, "kept": 96})  # exact 93.2% would give the counts back; 95 / 105 does not
    assert exact.loc["kept", "% of first step"] == pytest.approx(90.5) and "rounded" in exact.attrs["sdc"]
    assert sample_flow({"all": 103, "few": 4}).loc["few", "% of first step"] == "c"
    rows = sample_flow({"all": pd.Series([True] * 50 + [False] * 5), "half": 25})
    assert rows.loc["all", "left"] == 50
    with pytest.raises(ValueError, match="nested"):
        sample_flow({"a": 10, "b": 20})
    with pytest.raises(TypeError, match="boolean"):
        sample_flow({"a": "ten"})
    with pytest.raises(ValueError, match="booleans"):
        sample_flow({"a": pd.Series([1, 2])})
