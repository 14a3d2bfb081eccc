"""leokit.synth.examples: each toy data set's estimator recovers the stated truth and its naive estimator shows the
stated bias. Every number compared is read from the data set's ``attrs["truth"]``, never typed here.

"Recovers" means the 99.9% confidence interval covers the value; "shows the bias" means the naive estimator's
interval covers its stated limit *and excludes the truth* (a check that a wrong truth would fail).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from leokit.synth import examples as E

Z = 3.291  # 99.9% normal quantile
SEEDS = [0, 1, 2]


def covers(est: float, se: float, value: float) -> bool:
    return est - Z * se <= value <= est + Z * se


def _feols(formula: str, df: pd.DataFrame, vcov="iid"):
    import pyfixest as pf

    with warnings.catch_warnings():  # pyfixest's own pandas deprecations (Pandas4Warning); ours are not hidden
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyfixest")
        return pf.feols(formula, data=df, vcov=vcov)


def _coef(fit, name: str) -> tuple[float, float]:
    return float(fit.coef()[name]), float(fit.se()[name])


@pytest.mark.parametrize("seed", SEEDS)
def test_every_example_is_seeded_and_states_its_truth(seed):
    for fn in (E.returns_selection, E.peer_loo, E.sharp_rd, E.fuzzy_rd, E.staggered_did, E.akm_limited_mobility):
        a, b = fn(seed=seed), fn(seed=seed)
        pd.testing.assert_frame_equal(a, b)
        t = a.attrs["truth"]
        assert set(t) >= {"estimand", "truth", "naive", "naive_estimand", "naive_bias"}
        assert t["naive_bias"] == pytest.approx(t["naive_estimand"] - t["truth"])
        assert abs(t["naive_bias"]) > 0.2 * abs(t["truth"])  # the lesson needs a bias worth seeing
        assert fn.__doc__.count("True") >= 1 and "Naive estimator" in fn.__doc__
    assert not E.returns_selection(seed=seed).equals(E.returns_selection(seed=seed + 10))


@pytest.mark.parametrize("seed", SEEDS)
def test_returns_selection(seed):
    df = E.returns_selection(seed=seed)
    t = df.attrs["truth"]
    naive = smf.ols("log_pay ~ degree", data=df).fit()
    est, se = naive.params["degree"], naive.bse["degree"]
    assert covers(est, se, t["naive_estimand"]) and not covers(est, se, t["truth"])
    ctrl = smf.ols("log_pay ~ degree + ability", data=df).fit()
    est, se = ctrl.params["degree"], ctrl.bse["degree"]
    assert covers(est, se, t["truth"]) and not covers(est, se, t["naive_estimand"])
    proxy = smf.ols("log_pay ~ degree + ks4_score", data=df).fit().params["degree"]
    assert t["truth"] < proxy < t["naive_estimand"]  # a noisy ability measure removes part of the bias


@pytest.mark.parametrize("seed", SEEDS)
def test_peer_loo_guryan_kroft_notowidigdo(seed):
    df = E.peer_loo(seed=seed)
    t = df.attrs["truth"]
    naive = _feols("y ~ peer_loo | pool", df, vcov={"CRV1": "pool"})
    est, se = _coef(naive, "peer_loo")
    assert covers(est, se, t["naive_estimand"]) and not covers(est, se, t["truth"])
    balance = _feols("x ~ peer_loo | pool", df, vcov={"CRV1": "pool"})
    est, se = _coef(balance, "peer_loo")
    assert covers(est, se, t["balancing_coefficient"]) and not covers(est, se, 0.0)  # random, yet "unbalanced"
    fixed = _feols("y ~ peer_loo + pool_loo | pool", df, vcov={"CRV1": "pool"})
    est, se = _coef(fixed, "peer_loo")
    assert covers(est, se, t["truth"]) and not covers(est, se, t["naive_estimand"])


@pytest.mark.parametrize("seed", SEEDS)
def test_sharp_rd(seed):
    from rdrobust import rdrobust

    df = E.sharp_rd(seed=seed)
    t = df.attrs["truth"]
    naive = smf.ols("y ~ treated", data=df).fit()
    est, se = naive.params["treated"], naive.bse["treated"]
    assert covers(est, se, t["naive_estimand"]) and not covers(est, se, t["truth"])
    rd = rdrobust(df["y"].to_numpy(), df["running"].to_numpy(), c=t["cutoff"], level=99.9)
    lo, hi = (float(v) for v in np.asarray(rd.ci)[2])  # robust bias-corrected interval
    assert lo <= t["truth"] <= hi and not lo <= t["naive_estimand"] <= hi


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzzy_rd(seed):
    from rdrobust import rdrobust

    df = E.fuzzy_rd(seed=seed)
    t = df.attrs["truth"]
    x, y, d = df["running"].to_numpy(), df["y"].to_numpy(), df["treated"].to_numpy()
    first = rdrobust(d.astype(float), x, c=t["cutoff"], level=99.9)
    lo, hi = (float(v) for v in np.asarray(first.ci)[2])
    assert lo <= t["first_stage"] <= hi and hi < 1.0  # take-up jumps, but not from 0 to 1
    sharp = rdrobust(y, x, c=t["cutoff"], level=99.9)
    lo, hi = (float(v) for v in np.asarray(sharp.ci)[2])
    assert lo <= t["naive_estimand"] <= hi and not lo <= t["truth"] <= hi
    fuzzy = rdrobust(y, x, c=t["cutoff"], fuzzy=d.astype(float), level=99.9)
    lo, hi = (float(v) for v in np.asarray(fuzzy.ci)[2])
    assert lo <= t["truth"] <= hi and not lo <= t["naive_estimand"] <= hi
    near = df[df["running"].abs() < 0.1]  # treated vs untreated near the cut-off: biased by selective take-up
    ols = smf.ols("y ~ treated + running", data=near).fit()
    assert ols.params["treated"] - 3.291 * ols.bse["treated"] > t["truth"]


@pytest.mark.parametrize("seed", SEEDS)
def test_staggered_did(seed):
    df = E.staggered_did(seed=seed)
    t = df.attrs["truth"]
    assert df.loc[df["treated"] == 1, "tau"].mean() == pytest.approx(t["truth"])
    naive = _feols("y ~ treated | unit + period", df, vcov={"CRV1": "unit"})
    est, se = _coef(naive, "treated")
    assert covers(est, se, t["naive_estimand"]) and not covers(est, se, t["truth"])
    # each treated cohort-period against not-yet- and never-treated units, then weighted by treated counts
    cell = np.where(df["treated"] == 1, "g" + df["cohort"].astype(str) + "_t" + df["period"].astype(str), "none")
    d = df.assign(cell=cell)
    dummies = pd.get_dummies(d["cell"]).drop(columns="none").astype(float)
    names = list(dummies.columns)
    sat = _feols("y ~ " + " + ".join(names) + " | unit + period", pd.concat([d, dummies], axis=1),
                 vcov={"CRV1": "unit"})
    w = d.loc[d["treated"] == 1, "cell"].value_counts().reindex(names).to_numpy(dtype=float)
    w /= w.sum()
    b = sat.coef()[names].to_numpy()
    V = pd.DataFrame(sat._vcov, index=sat.coef().index, columns=sat.coef().index).loc[names, names].to_numpy()
    est, se = float(w @ b), float(np.sqrt(w @ V @ w))
    assert covers(est, se, t["truth"]) and not covers(est, se, t["naive_estimand"])


def _akm(df: pd.DataFrame) -> tuple[float, float]:
    """(plug-in variance of the estimated firm effects, bias-corrected variance [Andrews et al. 2008])."""
    fit = _feols("log_pay ~ 1 | worker + firm", df)
    fe = fit.fixef()
    est = {int(k): float(v) for k, v in fe[next(k for k in fe if "firm" in k)].items()}
    assert len(set(df["firm"]) - set(est)) <= 1  # one firm is the normalisation (0)
    psi_hat = df["firm"].map(est).fillna(0.0).to_numpy(dtype=float)
    plug_in = float(psi_hat.var())
    n, nw, nf = len(df), df["worker"].nunique(), df["firm"].nunique()
    s2 = float((np.asarray(fit.resid()) ** 2).sum() / (n - nw - nf + 1))
    # trace(A (F'MF)^-1): noise in the plug-in variance per unit of noise variance
    w = pd.factorize(df["worker"])[0]
    f = pd.factorize(df["firm"])[0]
    F = np.zeros((n, nf))
    F[np.arange(n), f] = 1.0
    means = pd.DataFrame(F).groupby(w).transform("mean").to_numpy()
    Fm = F - means
    Fc = F - F.mean(axis=0)
    trace = float(np.trace(np.linalg.solve((Fm.T @ Fm)[1:, 1:], (Fc.T @ Fc)[1:, 1:] / n)))
    return plug_in, plug_in - s2 * trace


def test_akm_limited_mobility():
    runs = [E.akm_limited_mobility(seed=s) for s in range(8)]
    truth = np.array([r.attrs["truth"]["truth"] for r in runs])
    limit = np.array([r.attrs["truth"]["naive_estimand"] for r in runs])
    est = np.array([_akm(r) for r in runs])
    naive, corrected = est[:, 0], est[:, 1]

    def mean_se(x):
        return x.mean(), x.std(ddof=1) / np.sqrt(len(x))

    m, se = mean_se(naive - limit)
    assert abs(m) < 3.5 * se  # the plug-in variance centres on the stated limit ...
    m, se = mean_se(naive - truth)
    assert m > 4 * se  # ... which is clearly above the truth
    m, se = mean_se(corrected - truth)
    assert abs(m) < 3.5 * se  # the corrected variance centres on the truth
    assert runs[0].attrs["truth"]["n_movers"] < 0.5 * runs[0]["worker"].nunique()  # limited mobility
