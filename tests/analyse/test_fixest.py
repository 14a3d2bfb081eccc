"""leokit.analyse.fixest: the guard refuses samples that could crash pyfixest (before calling it), names missing
columns, and lets no pyfixest warning through; coef_table checks disclosure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from leokit.analyse.akm import feols_two_way
from leokit.analyse.fixest import FixestSampleError, coef_table, feols, formula_columns


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"g": rng.integers(0, 20, n), "h": rng.integers(0, 5, n), "x": rng.normal(size=n)})
    d["y"] = 0.5 * d["x"] + 0.1 * d["g"] + rng.normal(size=n)
    return d


def test_formula_columns():
    assert formula_columns("y ~ x + i(h, ref=1) | g + a^b") == (["y"], ["x", "h"], ["g", "a", "b"])
    assert formula_columns("log_y ~ 1 | g") == (["log_y"], [], ["g"])


def test_degenerate_sample_is_refused_before_pyfixest_runs():
    # the pattern that aborted the process: few rows, many fixed-effect levels, mostly singletons
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"g1": rng.integers(0, 5000, 1000), "g2": rng.integers(0, 300, 1000), "x": rng.normal(size=1000)})
    d["y"] = rng.normal(size=1000)
    with pytest.raises(FixestSampleError, match="too few|level"):
        feols("y ~ x | g1 + g2", d)
    with pytest.raises(FixestSampleError, match="no column"):
        feols("y ~ xx | g", _data())
    with pytest.raises(FixestSampleError, match="1 level"):
        feols("y ~ x | h", _data().assign(h=1))


def test_fit_equals_pyfixest_and_no_warning_escapes():
    import pyfixest as pf

    d = _data()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fit = feols("y ~ x | g + h", d, vcov={"CRV1": "g"})
    assert not [w for w in rec if "pyfixest" in str(w.filename) or "inplace" in str(w.message)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ x | g + h", data=d, vcov={"CRV1": "g"})
    assert float(fit.coef()["x"]) == pytest.approx(float(ref.coef()["x"]))
    assert float(fit.se()["x"]) == pytest.approx(float(ref.se()["x"]))


def test_coef_table_rounds_and_suppresses():
    d = _data()
    fits = {"pyfixest": feols("y ~ x | g", d, vcov={"CRV1": "g"}),
            "two-way": feols_two_way(d.assign(w=d.index // 2), "y", ["x"], "w", "g")}
    tab = coef_table(fits, "x")
    assert list(tab.index) == ["pyfixest", "two-way"]
    assert tab.loc["pyfixest", "estimate"] == round(float(fits["pyfixest"].coef()["x"]), 3)
    assert (tab["observations"] % 5 == 0).all()
    from leokit import sdc
    strict = sdc.SDCRules(dof_threshold=10_000)
    assert (coef_table(fits, "x", rules=strict)["estimate"] == "c").all()
