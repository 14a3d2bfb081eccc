"""leokit.sdc.models: residual dof, dummies and fixed-effect levels of fitted models."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from leokit import sdc
from leokit.analyse.fixest import import_pyfixest, quiet_pyfixest
from _sdc import SUPP



# --------------------------------------------------------------------------- models
def _ols(n: int, k: int, seed: int = 0):
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    X = sm.add_constant(rng.normal(size=(n, k - 1)))
    y = X @ np.arange(k) + rng.normal(size=n)
    return sm.OLS(y, X).fit()


def test_model_dof_check():
    small = sdc.check_model(_ols(12, 5))
    assert not small.ok and small.dof == 7
    assert ((small.report["rule"] == "dof") & (small.report["action"] == "fail")).any()
    with pytest.raises(sdc.DisclosureError):
        sdc.safe_coef_table(_ols(12, 5))
    marked = sdc.safe_coef_table(_ols(12, 5), on_fail="mark")
    assert (marked["coef"] == SUPP).all()
    big = sdc.check_model(_ols(200, 5))
    assert big.ok and big.dof == 195
    tab = big.coef_table(decimals=2)
    assert list(tab.columns) == ["term", "coef", "se"]
    assert tab["coef"].tolist() == pytest.approx(np.round(_ols(200, 5).params, 2).tolist())


def test_small_cell_behind_a_dummy():
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame({"x": rng.normal(size=n), "d": (np.arange(n) < 6).astype(int),
                       "region": np.where(np.arange(n) % 50 < 2, "West", np.where(np.arange(n) % 2, "N", "S"))})
    df["y"] = df["x"] + rng.normal(size=n)
    fit = smf.ols("y ~ x + d + C(region)", data=df).fit()
    chk = sdc.check_model(fit, data=df, categorical="region")
    assert not chk.ok
    assert "d" in chk.flagged_terms and "C(region)[T.West]" in chk.flagged_terms
    assert "x" not in chk.flagged_terms
    tab = sdc.safe_coef_table(fit, on_fail="mark")
    shown = dict(zip(tab["term"], tab["coef"]))
    assert shown["d"] == SUPP and shown["C(region)[T.West]"] == SUPP and shown["x"] != SUPP
    ok = sdc.check_model(smf.ols("y ~ x", data=df).fit())
    assert ok.ok


def test_pyfixest_fixed_effect_levels():
    pf = import_pyfixest()
    rng = np.random.default_rng(4)
    n = 120
    df = pd.DataFrame({"x": rng.normal(size=n), "firm": np.r_[np.repeat([1, 2, 3], 38), [4] * 6]})
    df["y"] = df["x"] + rng.normal(size=n)
    with quiet_pyfixest():  # only pyfixest's own known warnings
        fit = pf.feols("y ~ x | firm", data=df)
        fit2 = pf.feols("y ~ x | firm", data=df.assign(firm=np.repeat([1, 2, 3], 40)))
    chk = sdc.check_model(fit)
    assert chk.dof == n - 1 - 4
    assert not chk.ok
    assert ((chk.report["cell"] == "firm=4") & (chk.report["action"] == "fail")).any()
    with pytest.raises(sdc.DisclosureError):
        sdc.safe_coef_table(fit)
    assert sdc.check_model(fit2).ok
