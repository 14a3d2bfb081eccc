"""leokit.sdc.figures: plot data for binned scatter plots and histograms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leokit import sdc
from leokit.sdc import SDCInputError



# --------------------------------------------------------------------------- figures
def test_safe_binned_drops_small_bins():
    x = np.r_[np.linspace(0, 9.9, 50), [15.0] * 3]
    df = pd.DataFrame({"x": x, "y": np.arange(len(x), dtype=float) % 7})
    res = sdc.safe_binned(df, "x", "y", bins=[0, 5, 10, 20])
    assert res.kind == "figure"
    assert res.table["bin"].tolist() == ["[0, 5)", "[5, 10)"]
    assert res.table["n"].tolist() == [25, 25]
    assert pd.api.types.is_float_dtype(res.table["y"])
    assert res.n_suppressed == 1
    assert (res.report["action"] == "bins dropped").any()
    q = sdc.safe_binned(df, "x", "y", bins=4)
    assert q.table["bin"].tolist() == ["Q1", "Q2", "Q3", "Q4"]
    big = pd.DataFrame({"x": np.arange(240.0), "y": np.arange(240.0)})
    q12 = sdc.safe_binned(big, "x", "y", bins=12)
    assert q12.table["bin"].tolist() == [f"Q{i}" for i in range(1, 13)]  # natural, not lexical, order
    assert q12.table["x"].is_monotonic_increasing and q12.table["x"].iloc[0] == 9.5


def test_safe_histogram_needs_explicit_edges():
    df = pd.DataFrame({"x": np.r_[np.full(12, 1.0), np.full(30, 3.0), np.full(4, 5.0)]})
    with pytest.raises(SDCInputError, match="minimum and maximum"):
        sdc.safe_histogram(df, "x", bins=3)
    res = sdc.safe_histogram(df, "x", bins=3, range=(0, 6))
    assert res.table["bin"].tolist() == ["[0, 2)", "[2, 4)"]
    assert res.table["n"].tolist() == [10, 30]
    assert res.table["left"].tolist() == [0.0, 2.0]


def test_evidence_of_figures_covers_dropped_bins():
    x = np.r_[np.linspace(0, 9.9, 50), [15.0] * 3]
    df = pd.DataFrame({"x": x, "y": np.arange(len(x), dtype=float) % 7})
    res = sdc.safe_binned(df, "x", "y", bins=[0, 5, 10, 20])
    ev = res.evidence
    assert set(ev["statistic"]) == {"mean of y", "mean of x (bin position)"}
    ys = ev[ev["statistic"] == "mean of y"].set_index("bin")
    assert ys["n"].tolist() == [25, 25, 3] and ys["value_shown"].tolist() == [True, True, False]
    assert ys["top2_share"].notna().all()
    assert (res.report["rule"] == "evidence").sum() == len(ev)
    hist = sdc.safe_histogram(pd.DataFrame({"x": np.r_[np.full(12, 1.0), np.full(30, 3.0), np.full(4, 5.0)]}),
                              "x", bins=3, range=(0, 6))
    assert hist.evidence["n"].tolist() == [12, 30, 4]
    assert hist.evidence["value_shown"].tolist() == [True, True, False]
    med = sdc.safe_binned(df, "x", "y", bins=[0, 5, 10, 20], stat="median")
    m = med.evidence.set_index(["statistic", "bin"])
    assert not m.loc[("median of y", "[0, 5)"), "dominance_checked"]
    assert m.loc[("mean of x (bin position)", "[0, 5)"), "dominance_checked"]
