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
    assert row["match rate (%)"] == pytest.approx(93.2)
    with pytest.raises(TypeError, match="MatchReport"):
        match_summary({"x": "not a report"})
