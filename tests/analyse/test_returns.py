"""leokit.analyse.returns: the regression-adjustment ATT recovers heterogeneous effects by group (where a single
treatment dummy does not), effect-modifier contrasts recover the planted differences, control blocks show the
coefficient path, Oster's bounds recover the effect when her assumptions hold exactly, and bad input gets clear
errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from leokit import sdc
from leokit.analyse import returns as R
from leokit.analyse.results import Estimate


def _data(n=8000, seed=0):
    """Selection on an observed ability ``a``; the effect differs by sex and subject and grows with ``a``, so the
    ATT differs from the variance-weighted average a single treatment dummy estimates."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    sex = rng.choice(["F", "M"], n)
    school = rng.integers(0, 80, n)
    subj = rng.choice(["arts", "law", "stem"], n, p=[0.3, 0.3, 0.4])
    d = (0.9 * a + rng.normal(size=n) > 0.4).astype(int)
    dev = {"arts": -0.10, "law": 0.05, "stem": 0.10}
    tau = np.where(sex == "F", 0.30, 0.10) + pd.Series(subj).map(dev).to_numpy() + 0.15 * a
    y = 1.0 + 0.5 * a + 0.02 * (school % 7) + d * tau + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"y": y, "d": d, "a": a, "sex": sex, "school": school,
                          "subject": np.where(d == 1, subj, None)})
    return frame, tau


def test_att_by_group_recovers_the_att_and_a_single_dummy_does_not():
    d, tau = _data()
    r = R.att_regression(d, "y", "d", ["a"], by="sex", fe="school", cluster="school")
    for g in ("F", "M"):
        m = (d["d"] == 1) & (d["sex"] == g)
        att = tau[m.to_numpy()].mean()
        row = r.groups.loc[g]
        assert abs(row["estimate"] - att) < 3 * row["se"], (g, row["estimate"], att)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
        assert row["n_treated"] == m.sum() and row["n_comparison"] == ((d["d"] == 0) & (d["sex"] == g)).sum()
    # one dummy with additive controls weights the effects by the conditional variance of the treatment
    women = d[d["sex"] == "F"]
    path = R.control_path(women, "y", "d", {"no controls": [], "+ a": ["a"]}, cluster="school")
    att_f = tau[((d["d"] == 1) & (d["sex"] == "F")).to_numpy()].mean()
    assert abs(path.loc["+ a", "estimate"] - att_f) > 4 * path.loc["+ a", "se"]
    e = r.estimate("F", name="att_women", truth_key="some_key")
    assert isinstance(e, Estimate) and e.estimate == r.groups.loc["F", "estimate"] and e.truth_key == "some_key"


def test_modifier_contrasts_recover_differences_and_keep_group_atts():
    d, tau = _data(seed=1)
    r = R.att_regression(d, "y", "d", ["a"], by="sex", modifiers=["subject"], reference={"subject": "law"},
                         fe="school", cluster="school")
    c = r.contrasts.set_index("level")
    assert set(c.index) == {"arts", "stem"} and (c["reference"] == "law").all()
    for lev, truth in (("arts", -0.15), ("stem", 0.05)):
        assert abs(c.loc[lev, "estimate"] - truth) < 3 * c.loc[lev, "se"], (lev, c.loc[lev].to_dict())
    for g in ("F", "M"):
        att = tau[((d["d"] == 1) & (d["sex"] == g)).to_numpy()].mean()
        assert abs(r.groups.loc[g, "estimate"] - att) < 3 * r.groups.loc[g, "se"]
    e = r.contrast("subject", "stem", name="stem_vs_law")
    assert e.estimate == c.loc["stem", "estimate"]
    with pytest.raises(KeyError, match="no contrast"):
        r.contrast("subject", "medicine")


def test_release_tables_round_counts_and_check_the_model():
    d, _ = _data(n=3000, seed=2)
    r = R.att_regression(d, "y", "d", ["a"], by="sex", modifiers=["subject"], cluster="school")
    t = r.table()
    assert (t["n_treated"] % 5 == 0).all() and (t["n_comparison"] % 5 == 0).all()
    assert t.loc["F", "estimate"] == round(r.groups.loc["F", "estimate"], 3)
    ct = r.contrast_table()
    assert (ct["n_treated"] % 5 == 0).all()
    assert isinstance(r.check(), sdc.ModelCheck)
    # a group with fewer than 10 treated people is not releasable
    men_treated = d.index[(d["sex"] == "M") & (d["d"] == 1)]
    few = d.drop(index=men_treated[6:])
    rf = R.att_regression(few, "y", "d", ["a"], by="sex")
    assert rf.groups.loc["M", "n_treated"] < 10
    with pytest.raises(sdc.DisclosureError, match="fewer than 10"):
        rf.table()


def test_control_path_is_cumulative_and_rounded():
    d, _ = _data(seed=3)
    d["a2"] = d["a"] ** 2
    p = R.control_path(d, "y", "d", {"none": [], "+ a": ["a"], "+ a squared": ["a2"]},
                       fe_blocks={"+ school": "school"}, cluster="school")
    assert list(p.index) == ["none", "+ a", "+ a squared", "+ school"]
    assert p.loc["none", "estimate"] > p.loc["+ a", "estimate"] + 0.3  # selection on a: the raw gap is far larger
    assert (p["r2"].diff().dropna() >= -1e-12).all()  # each block only adds regressors
    assert (p["n"] % 5 == 0).all() and (p["sdc"] == "OK").all()
    fits = p.attrs["fits"]
    assert set(fits) == set(p.index) and "_c1" in fits["+ a squared"].coef().index


def test_control_matrix_fill_missing_squares_and_dummies():
    d = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "z": [1.0, np.nan, 3.0, np.nan],
                      "eth": ["WHIT", "ASIA", None, "WHIT"], "year": [2005, 2006, 2005, 2007]}, index=[10, 11, 12, 13])
    c = R.control_matrix(d, numeric=["x"], fill_missing=["z"], squared=["x", "z"], categorical=["eth", "year"])
    f = c.frame
    assert list(f.index) == [10, 11, 12, 13]
    assert f["z"].tolist() == [1.0, 2.0, 3.0, 2.0] and f["z_missing"].tolist() == [0, 1, 0, 1]
    assert f["x_sq"].tolist() == [1, 4, 9, 16] and f["z_sq"].tolist() == [1, 4, 9, 4]
    # levels sorted as text, the first dropped; a missing value is a level of its own
    assert c.columns("eth") == ["eth_WHIT", "eth_missing"] and f["eth_missing"].tolist() == [0, 0, 1, 0]
    assert c.columns("year") == ["year_2006", "year_2007"]
    assert c.names == list(f.columns)
    with pytest.raises(R.ReturnsInputError, match="missing values"):
        R.control_matrix(d, numeric=["z"])
    with pytest.raises(R.ReturnsInputError, match="must be numeric"):
        R.control_matrix(d, numeric=["eth"])
    with pytest.raises(R.ReturnsInputError, match="did you mean 'year'"):
        R.control_matrix(d, categorical=["yeer"])
    with pytest.raises(R.ReturnsInputError, match="given twice"):
        R.control_matrix(d, numeric=["x"], fill_missing=["x"])
    with pytest.raises(R.ReturnsInputError, match="squared"):
        R.control_matrix(d, squared=["x"])
    with pytest.raises(R.ReturnsInputError, match="no control made from"):
        c.columns("nope")


def test_att_regression_refuses_bad_input():
    d, _ = _data(n=400, seed=4)
    with pytest.raises(R.ReturnsInputError, match="no column"):
        R.att_regression(d, "y", "treated", ["a"])
    with pytest.raises(R.ReturnsInputError, match="must be 0/1"):
        R.att_regression(d.assign(d=d["d"] * 2), "y", "d", ["a"])
    with pytest.raises(R.ReturnsInputError, match="missing values"):
        R.att_regression(d.assign(a=d["a"].where(d.index > 3)), "y", "d", ["a"])
    with pytest.raises(R.ReturnsInputError, match="modifier 'subject' is missing"):
        R.att_regression(d.assign(subject=None), "y", "d", ["a"], modifiers=["subject"])
    with pytest.raises(R.ReturnsInputError, match="has 0 treated"):
        R.att_regression(d.assign(sex=np.where(d["d"] == 1, "F", d["sex"])), "y", "d", ["a"], by="sex")
    with pytest.raises(R.ReturnsInputError, match="too few"):  # checked before pyfixest sees it
        R.att_regression(d.iloc[:30], "y", "d", ["a"], fe="school")
    with pytest.raises(R.ReturnsInputError, match="reference level"):
        R.att_regression(d, "y", "d", ["a"], modifiers=["subject"], reference={"subject": "medicine"})


def test_no_warning_reaches_the_caller():
    d, _ = _data(n=2000, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        R.att_regression(d, "y", "d", ["a"], by="sex", fe="school", cluster="school")
        R.control_path(d, "y", "d", {"none": [], "+ a": ["a"]}, fe_blocks={"+ school": "school"})


def _oster_data(n=200_000, seed=7, beta=0.2):
    """Oster's setting with proportional selection delta = 1: the observed index w1 and the unobserved w2 are
    independent, load equally on the outcome and equally on the treatment; c is a base regressor (cohort)."""
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=n), rng.normal(size=n)
    c = rng.integers(0, 4, n)
    d = (0.5 * (w1 + w2) + rng.normal(size=n) > 0).astype(float)
    y = beta * d + 0.3 * w1 + 0.3 * w2 + 0.1 * c + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "d": d, "w1": w1, "w2": w2, **{f"c{k}": (c == k).astype(float) for k in (1, 2, 3)}})


def test_oster_recovers_the_effect_when_its_assumptions_hold():
    d = _oster_data()
    base = ["c1", "c2", "c3"]
    inp = R.oster_inputs(d, "y", "d", ["w1"], base=base)
    full = R.oster_inputs(d, "y", "d", ["w1", "w2"], base=base)
    r_max = full.r2_long_total  # the R-squared with every relevant variable
    assert inp.beta_long > 0.35  # the observed control alone leaves a large bias
    assert R.oster_beta(inp, r_max, 1.0) == pytest.approx(0.2, abs=0.01)
    assert R.oster_beta_approx(inp, r_max, 1.0) == pytest.approx(0.2, abs=0.01)
    assert R.oster_delta(inp, r_max, beta=0.2) == pytest.approx(1.0, abs=0.05)
    # delta and beta are inverse maps of each other
    b_half = R.oster_beta(inp, r_max, 0.5)
    assert inp.beta_long > b_half > 0.2 and R.oster_delta(inp, r_max, beta=b_half) == pytest.approx(0.5, abs=1e-6)
    # the partial/total R-squared conversion is consistent
    assert inp.r2_partial(inp.r2_long_total) == pytest.approx(inp.r2_long)
    t = R.oster_table(inp, {"full model": r_max, "1.3 x": min(1.0, 1.3 * inp.r2_long_total)})
    assert list(t.index) == ["full model", "1.3 x"] and t.loc["full model", "beta (delta = 1)"] == pytest.approx(0.2, abs=0.01)


def test_oster_refuses_impossible_r_max_and_reports_no_root():
    d = _oster_data(n=20_000)
    inp = R.oster_inputs(d, "y", "d", ["w1"], fe=None, base=["c1", "c2", "c3"])
    with pytest.raises(R.ReturnsInputError, match="r_max"):
        R.oster_beta(inp, inp.r2_long_total - 0.01)
    with pytest.raises(R.ReturnsInputError, match="r_max"):
        R.oster_delta(inp, 1.2)
    # with much stronger selection than on the observed control there may be no real solution
    assert np.isnan(R.oster_beta(inp, 1.0, delta=25.0)) or R.oster_beta(inp, 1.0, delta=25.0) < 0


def test_oster_inputs_with_fixed_effect_dummies_match_a_direct_regression():
    import statsmodels.formula.api as smf

    d, _ = _data(n=3000, seed=8)
    inp = R.oster_inputs(d, "y", "d", ["a"], fe="school")
    long = smf.ols("y ~ d + a + C(school)", d).fit()
    short = smf.ols("y ~ d", d).fit()
    assert inp.beta_long == pytest.approx(long.params["d"], rel=1e-8)
    assert inp.r2_long_total == pytest.approx(long.rsquared, rel=1e-8)
    assert inp.beta_short == pytest.approx(short.params["d"], rel=1e-8)
    assert inp.r2_short_total == pytest.approx(short.rsquared, rel=1e-8)
