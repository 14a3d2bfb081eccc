"""leokit.analyse.akm: the exact two-way solver equals dense least squares and pyfixest; connected sets and
singletons; the variance decomposition; the split-sample correction removes limited-mobility bias that the
plug-in estimate has, on simulated panels with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from leokit.analyse.akm import (TwoWayInputError, drop_singletons, feols_two_way, largest_connected_set, movers_per_firm,
                                split_sample_decomposition, two_way_effects, variance_decomposition)


def _panel(n_workers=60, n_firms=12, years=5, move=0.3, seed=0, sd_e=0.1, sort=0.0):
    """A worker x year panel: each worker starts at a random firm and moves with probability ``move`` a year."""
    rng = np.random.default_rng(seed)
    alpha = rng.normal(0, 0.3, n_workers)
    psi = rng.normal(0, 0.2, n_firms)
    order = np.argsort(psi)
    rows = []
    for i in range(n_workers):
        # sorting: able workers start at higher-premium firms
        if sort:  # a noisy ability rank mapped uniformly onto the premium ranks (firm sizes unrelated to psi)
            zi = (alpha[i] / 0.3 * sort + rng.normal()) / np.sqrt(1 + sort ** 2)
            j = int(order[min(int(norm.cdf(zi) * n_firms), n_firms - 1)])
        else:
            j = int(rng.integers(n_firms))
        for t in range(years):
            if t and rng.random() < move:
                j = int(rng.integers(n_firms))
            x = rng.normal()
            rows.append((f"w{i:03d}", f"f{j:03d}", 2010 + t, x, alpha[i], psi[j]))
    d = pd.DataFrame(rows, columns=["worker", "firm", "year", "x", "alpha", "psi"])
    year_eff = {2010 + t: 0.02 * t for t in range(years)}
    d["y"] = d["alpha"] + d["psi"] + 0.5 * d["x"] + d["year"].map(year_eff) + rng.normal(0, sd_e, len(d))
    return d


def _dense_fit(d, cols=("x",), absorb=("year",)):
    """Dense least squares with every dummy: the reference solution (minimum-norm, so compare fitted values
    and differences of effects, which are identified)."""
    W = pd.get_dummies(d["worker"], dtype=float).to_numpy()
    F = pd.get_dummies(d["firm"], dtype=float).to_numpy()
    parts = [d[list(cols)].to_numpy(float), W, F]
    for a in absorb:
        parts.append(pd.get_dummies(d[a], dtype=float, drop_first=True).to_numpy())
    Z = np.column_stack(parts)
    b, *_ = np.linalg.lstsq(Z, d["y"].to_numpy(float), rcond=None)
    k = len(cols)
    nw = W.shape[1]
    nf = F.shape[1]
    return b[:k], W @ b[k:k + nw], F @ b[k + nw:k + nw + nf], Z @ b


def test_firm_effects_match_an_exact_two_way_least_squares_solution():
    d = _panel()
    fit = feols_two_way(d, "y", ["x"], "worker", "firm", absorb=["year"], drop_singleton_rows=False)
    beta, a_dense, p_dense, fitted = _dense_fit(d)
    assert fit.coef["x"] == pytest.approx(beta[0], abs=1e-9)
    # firm effects are identified up to a constant: compare after centring over rows
    assert np.allclose(fit.psi - fit.psi.mean(), p_dense - p_dense.mean(), atol=1e-8)
    assert np.allclose(fit.alpha - fit.alpha.mean(), a_dense - a_dense.mean(), atol=1e-8)
    # the parts add up to y exactly
    assert np.allclose(fit.absorbed + fit.xb + fit.alpha + fit.psi + fit.resid, d["y"], atol=1e-10)
    assert np.allclose(fit.y - fit.resid, fitted, atol=1e-8)
    assert fit.n_components == 1


def test_two_way_effects_match_dense_least_squares_with_several_components():
    a, b = _panel(seed=1, n_workers=30, n_firms=5), _panel(seed=2, n_workers=30, n_firms=5)
    b["worker"] = "b" + b["worker"]
    b["firm"] = "b" + b["firm"]           # a second, disconnected set
    d = pd.concat([a, b], ignore_index=True)
    eff = two_way_effects(d["y"], d["worker"], d["firm"])
    assert eff.n_components == 2
    _, a_dense, p_dense, fitted = _dense_fit(d, cols=(), absorb=())
    assert np.allclose(eff.alpha + eff.psi, fitted, atol=1e-8)
    for comp in ("f", "bf"):
        m = d["firm"].str.startswith(comp).to_numpy() if comp == "bf" else ~d["firm"].str.startswith("b").to_numpy()
        assert abs(eff.psi[m].mean()) < 1e-10                       # normalised within each component
        assert np.allclose(eff.psi[m] - eff.psi[m].mean(), p_dense[m] - p_dense[m].mean(), atol=1e-8)


def test_slopes_and_clustered_standard_errors_equal_pyfixest():
    from leokit.analyse.fixest import feols

    d = _panel(n_workers=300, n_firms=40, years=6, seed=3)
    d["x2"] = np.random.default_rng(9).normal(size=len(d))
    d = pd.concat([d, pd.DataFrame({"worker": ["solo"], "firm": ["f000"], "year": [2010], "x": [0.0], "x2": [0.0],
                                    "alpha": [0.0], "psi": [0.0], "y": [1.0]})], ignore_index=True)  # a singleton
    fit = feols_two_way(d, "y", ["x", "x2"], "worker", "firm", absorb=["year"], cluster="firm")
    ref = feols("y ~ x + x2 | worker + firm + year", d, vcov={"CRV1": "firm"})
    assert fit.singletons_dropped == 1 and fit.nobs == ref._N
    for c in ("x", "x2"):
        assert fit.coef[c] == pytest.approx(float(ref.coef()[c]), rel=1e-8)
        assert fit.se[c] == pytest.approx(float(ref.se()[c]), rel=1e-6)
        assert fit.ci_low[c] == pytest.approx(float(ref.confint().loc[c].iloc[0]), rel=1e-6)
    e = fit.to_estimate("x_effect", "x", truth_key=None)
    assert e.estimate == fit.coef["x"] and e.ci_high == fit.ci_high["x"]
    tab = fit.table(["x"])
    assert tab.loc["x", "coef"] == round(fit.coef["x"], 3) and tab.attrs["nobs"] % 5 == 0


def test_drop_singletons_is_iterative():
    d = pd.DataFrame({"w": ["a", "a", "b", "b"], "f": ["x", "y", "x", "y"]})
    assert drop_singletons(d, ["w", "f"]).all()          # nothing to drop
    d2 = pd.DataFrame({"w": ["a", "a", "b", "b", "c"], "f": ["x", "x", "x", "y", "y"]})
    k2 = drop_singletons(d2, ["w", "f"])
    # c is a singleton worker -> dropped; then y has one row (b) -> dropped; then b has one row -> dropped
    assert k2.tolist() == [True, True, False, False, False]


def test_movers_per_firm_counts_distinct_movers_through_each_firm():
    # w1 moves A -> B -> A (one mover at A and B), w2 moves B -> C, w3 stays at C, w4 stays at D
    d = pd.DataFrame({"w": ["w1", "w1", "w1", "w2", "w2", "w3", "w3", "w4"],
                      "f": ["A", "B", "A", "B", "C", "C", "C", "D"]})
    m = movers_per_firm(d, "w", "f")
    assert m.to_dict() == {"A": 1, "B": 2, "C": 1, "D": 0}
    with pytest.raises(TwoWayInputError, match="movers_per_firm"):
        movers_per_firm(d, "worker", "f")


def test_largest_connected_set_reports_what_it_drops():
    d = pd.DataFrame({"w": ["a", "a", "b", "c", "d", "d", "e"],
                      "f": ["x", "y", "y", "y", "z", "u", "v"]})
    cs = largest_connected_set(d, "w", "f")
    assert cs.mask.tolist() == [True, True, True, True, False, False, False]
    assert (cs.n_rows, cs.n_workers, cs.n_firms, cs.n_movers, cs.n_components) == (4, 3, 2, 1, 3)
    assert (cs.rows_dropped, cs.workers_dropped, cs.firms_dropped) == (3, 2, 3)
    tab = cs.table()
    assert (tab.iloc[:, 0] % 5 == 0).all()  # rounded for release


def test_variance_decomposition_adds_up_and_matches_hand_calculation():
    rng = np.random.default_rng(0)
    a, p, xb = rng.normal(size=500), rng.normal(scale=0.5, size=500), rng.normal(scale=0.2, size=500)
    y = a + p + xb + rng.normal(scale=0.3, size=500)
    out = variance_decomposition(y, a, p, xb)
    assert out[["person", "firm", "sorting", "residual"]].sum() == pytest.approx(1.0)
    V = np.var(y - xb)
    assert out["firm"] == pytest.approx(np.var(p) / V)
    assert out["sorting"] == pytest.approx(2 * np.cov(a, p, bias=True)[0, 1] / V)
    with pytest.raises(TwoWayInputError):
        variance_decomposition(y, a[:10], p, xb)


def test_split_sample_removes_limited_mobility_bias():
    """Many small firms and few movers: the plug-in firm variance is far above the truth and the sorting
    covariance below it; the split-sample estimates are close to the truth, within their standard errors."""
    d = _panel(n_workers=4000, n_firms=1000, years=5, move=0.12, seed=5, sd_e=0.3, sort=1.0)
    cs = largest_connected_set(d, "worker", "firm")
    d = d[cs.mask]
    fit = feols_two_way(d, "y", ["x"], "worker", "firm", absorb=["year"], drop_singleton_rows=False)
    net = fit.y - fit.absorbed
    p_true = (net - d["psi"].to_numpy() - fit.xb)
    a_true = pd.Series(p_true).groupby(d["worker"].to_numpy()).transform("mean").to_numpy()
    truth = variance_decomposition(net, a_true, d["psi"].to_numpy(), fit.xb)
    plug = variance_decomposition(net, fit.alpha, fit.psi, fit.xb)
    assert plug["firm"] > 1.5 * truth["firm"]          # limited-mobility bias
    assert plug["sorting"] < truth["sorting"] - 0.1
    ss = split_sample_decomposition(fit, groups=10, seed=1)
    assert ss.shares.sum() == pytest.approx(1.0)
    for part in ("firm", "sorting", "residual"):
        assert abs(ss.shares[part] - truth[part]) < 3 * ss.se[part] + 0.01, (part, ss.shares[part], truth[part])
    assert abs(ss.shares["firm"] - truth["firm"]) < abs(plug["firm"] - truth["firm"]) / 2
    lo, hi = ss.ci("firm")
    assert lo < ss.shares["firm"] < hi
    # deterministic for a seed
    assert split_sample_decomposition(fit, groups=10, seed=1).shares.equals(ss.shares)


def test_bad_input_gets_clear_errors():
    d = _panel()
    with pytest.raises(TwoWayInputError, match="no column"):
        feols_two_way(d, "y", ["nope"], "worker", "firm")
    bad = d.assign(x=d["x"].where(d.index > 3))
    with pytest.raises(TwoWayInputError, match="missing values"):
        feols_two_way(bad, "y", ["x"], "worker", "firm")
    with pytest.raises(TwoWayInputError, match="must be numeric"):
        feols_two_way(d.assign(x="a"), "y", ["x"], "worker", "firm")
    with pytest.raises(TwoWayInputError, match="do not vary"):
        feols_two_way(d.assign(c=1.0), "y", ["x", "c"], "worker", "firm")
    with pytest.raises(TwoWayInputError, match="cannot identify"):
        tiny = pd.DataFrame({"worker": ["a", "a", "b", "b"], "firm": ["x", "y", "x", "y"], "x": [0.1, 0.5, 0.2, 0.9],
                             "y": [1.0, 2.0, 1.5, 2.5]})
        feols_two_way(tiny, "y", ["x"], "worker", "firm", drop_singleton_rows=False)
    with pytest.raises(TwoWayInputError, match="expected a TwoWayFit"):
        split_sample_decomposition("fit")
