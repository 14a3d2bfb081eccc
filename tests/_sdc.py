"""Small hand-made frames with known answers, shared by the tests of leokit.sdc (tests/sdc/)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit import sdc

SUPP = "c"


def groups(sizes: dict[str, int], value: float | None = None) -> pd.DataFrame:
    """One row per unit: group label g, person id pid, optional constant value."""
    g = np.repeat(list(sizes), list(sizes.values()))
    df = pd.DataFrame({"g": g, "pid": np.arange(len(g))})
    if value is not None:
        df["earn"] = float(value)
    return df


def row(result: sdc.SDCResult, **keys) -> pd.Series:
    t = result.table
    mask = np.ones(len(t), dtype=bool)
    for k, v in keys.items():
        mask &= (t[k].astype(object) == v).to_numpy()
    assert mask.sum() == 1, f"expected one row for {keys}, got {mask.sum()}"
    return t.loc[mask].iloc[0]



def dominated_frame() -> pd.DataFrame:
    # cell D: one unit earns 95% of the total; cell E: ten equal earners
    d = [9500.0] + [500.0 / 9] * 9
    e = [1000.0] * 10
    return pd.DataFrame({"g": ["D"] * 10 + ["E"] * 10, "earn": d + e, "pid": np.arange(20)})



def pratio_frame() -> pd.DataFrame:
    # P: top1 = top2 = 1000, eight others of 10: rest 80 < 10% of 1000 -> fails p-ratio
    # Q: top1 = top2 = 1000, eight others of 20: rest 160 >= 100 -> passes
    p = [1000.0, 1000.0] + [10.0] * 8
    q = [1000.0, 1000.0] + [20.0] * 8
    return pd.DataFrame({"g": ["P"] * 10 + ["Q"] * 10, "earn": p + q})


def acro_fixture() -> pd.DataFrame:
    """The table ACRO's verdicts in tests/sdc/sdc_acro_reference.csv were produced on (do not change one without the other)."""
    cells = {
        ("A", "x"): [1000.0] * 12,                      # passes everything
        ("A", "y"): [1000.0] * 9,                       # 9 rows: threshold
        ("B", "x"): [9500.0] + [500.0 / 9] * 9,          # one unit holds 95%: dominance and p-ratio
        ("B", "y"): [4000.0, 4500.0] + [187.5] * 8,      # top-2 share 85%: passes
        ("C", "x"): [0.0] * 11,                         # all values zero
        ("D", "x"): [5000.0, 4500.0] + [100.0] * 8,      # top-2 share 92.2%, p-ratio passes
        ("D", "y"): [700.0] * 10,                       # exactly 10 rows
    }   # ("C", "y") has no rows: an empty cell
    rows = [(g, h, v) for (g, h), vs in cells.items() for v in vs]
    return pd.DataFrame(rows, columns=["g", "h", "v"])
