"""leokit.analyse.rd: the rdrobust wrapper reproduces rdrobust's published Senate result, recovers planted jumps
(sharp and fuzzy), reports in a releasable table, and refuses bad input with a clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leokit.analyse.rd import (RDInputError, rd_balance, rd_bandwidth_sensitivity, rd_density_test, rd_estimate,
                               rd_placebo_cutoffs, rd_plot, rd_table)
from leokit.analyse.results import Estimate


@pytest.fixture(scope="module")
def senate():
    from rdrobust.datasets import rdrobust_RDsenate
    return rdrobust_RDsenate()


def _sharp(n=6000, jump=0.3, seed=1, discrete=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    if discrete:
        x = np.round(x, 2)  # mass points, as an area-level score
    z = rng.normal(size=n)
    y = 0.5 * x + 0.4 * x ** 2 + jump * (x >= 0) + 0.8 * z + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "x": x, "z": z, "area": (x * 100).round().astype(int)})


def test_reproduces_the_published_senate_estimate(senate):
    # rdrobust's documented example: rdrobust(vote, margin) -> conventional 7.414 (SE 1.459), h = 17.754
    r = rd_estimate(senate, "vote", "margin", 0, vce="nn")
    assert r.estimate == pytest.approx(7.414, abs=5e-4)
    assert r.se == pytest.approx(1.459, abs=5e-4)
    assert r.h == pytest.approx(17.754, abs=5e-3)
    assert r.ci_low < r.estimate < r.ci_high and r.se_robust > r.se  # robust interval is wider
    assert r.n_dropped == int(senate[["vote", "margin"]].isna().any(axis=1).sum()) > 0
    e = r.to_estimate("senate")
    assert isinstance(e, Estimate) and e.se == r.se_robust and (e.ci_low, e.ci_high) == (r.ci_low, r.ci_high)


def test_recovers_a_planted_jump_and_covariates_sharpen_it():
    d = _sharp()
    plain = rd_estimate(d, "y", "x", 0)
    cov = rd_estimate(d, "y", "x", 0, covs=["z"])
    assert plain.ci_low < 0.3 < plain.ci_high and cov.ci_low < 0.3 < cov.ci_high
    assert cov.se_robust < 0.8 * plain.se_robust
    assert cov.covariates == ("z",) and plain.fuzzy is None


def test_fuzzy_design_divides_by_the_take_up_jump():
    rng = np.random.default_rng(3)
    n = 20000
    x = rng.uniform(-1, 1, n)
    d = ((x >= 0) & (rng.random(n) < 0.4)).astype(float)  # one-sided take-up of 40% above the cut-off
    y = 0.2 * x + 0.5 * d + rng.normal(0, 0.3, n)
    df = pd.DataFrame({"y": y, "x": x, "d": d})
    sharp = rd_estimate(df, "y", "x", 0)
    fuzzy = rd_estimate(df, "y", "x", 0, fuzzy="d")
    assert sharp.ci_low < 0.2 < sharp.ci_high  # the effect of eligibility: 0.4 x 0.5
    assert fuzzy.ci_low < 0.5 < fuzzy.ci_high and fuzzy.fuzzy == "d"
    assert rd_table({"f": fuzzy}).loc["f", "design"] == "fuzzy"


def test_mass_point_notes_are_kept_not_printed(capsys):
    r = rd_estimate(_sharp(discrete=True), "y", "x", 0)
    assert any("Mass points" in n for n in r.notes)
    assert capsys.readouterr().out == ""


def test_cluster_switches_to_cluster_robust_variance():
    r = rd_estimate(_sharp(discrete=True), "y", "x", 0, cluster="area")
    assert r.cluster == "area" and r.vce == "cr1"


def test_table_rounds_counts_and_suppresses_thin_sides():
    d = _sharp()
    r = rd_estimate(d, "y", "x", 0)
    t = rd_table({"main": r})
    assert t.loc["main", "N left (within h)"] % 5 == 0
    assert abs(t.loc["main", "N left (within h)"] - r.n_left) <= 2
    thin = rd_estimate(_sharp(n=600), "y", "x", 0, h=0.02, b=0.02, min_side=2)
    assert min(thin.n_left, thin.n_right) < 10
    t2 = rd_table({"thin": thin})
    assert t2.loc["thin", "estimate"] == "c" and len(t2.attrs["report"]) == 1


def test_bad_input_is_a_clear_error():
    d = _sharp(n=500)
    with pytest.raises(RDInputError, match="no column"):
        rd_estimate(d, "nope", "x", 0)
    with pytest.raises(RDInputError, match="must be numeric"):
        rd_estimate(d.assign(s="a"), "s", "x", 0)
    with pytest.raises(RDInputError, match="too few observations"):
        rd_estimate(d, "y", "x", 0.999)
    with pytest.raises(RDInputError, match="kernel"):
        rd_estimate(d, "y", "x", 0, kernel="gaussian")


def test_plot_releases_only_safe_bins():
    import matplotlib.pyplot as plt

    d = _sharp()
    r = rd_estimate(d, "y", "x", 0)
    ax, binned = rd_plot(d, "y", "x", 0, result=r, window=0.5, bins_per_side=10)
    assert (binned.table["n"] >= 10).all() and len(binned.table) == 20
    assert (binned.table["x"] < 0).sum() == 10
    plt.close(ax.figure)
    # a sparse tail: bins with fewer than 10 units are left out and reported
    sparse = pd.concat([d[d["x"].abs() < 0.3], d[d["x"] > 0.9].head(15)])
    ax, binned = rd_plot(sparse, "y", "x", 0, window=1.0, bins_per_side=10)
    assert len(binned.table) < 20 and len(binned.report) > 0
    plt.close(ax.figure)


def test_density_test_sees_heaping_but_not_a_smooth_density():
    rng = np.random.default_rng(5)
    smooth = rng.uniform(-1, 1, 4000)
    assert rd_density_test(smooth, 0).loc[0, "p-value"] > 0.05
    heaped = np.concatenate([smooth, rng.uniform(0, 0.05, 600)])  # units pushed just above the cut-off
    assert rd_density_test(heaped, 0).loc[0, "p-value"] < 0.01
    with pytest.raises(RDInputError, match="too few"):
        rd_density_test(smooth[:30], 0)


def test_sensitivity_placebos_and_balance():
    d = _sharp(n=8000)
    base = rd_estimate(d, "y", "x", 0)
    sens = rd_bandwidth_sensitivity(d, "y", "x", 0, base, factors=(0.5, 1.0, 2.0))
    assert [round(v.h / base.h, 6) for v in sens.values()] == [0.5, 1.0, 2.0]
    assert list(sens.values())[1].estimate == pytest.approx(base.estimate, abs=0.02)
    plac = rd_placebo_cutoffs(d, "y", "x", 0, [-0.5, 0.5])
    assert plac["placebo -0.5"].n_used == int((d["x"] < 0).sum())  # only the untreated side
    assert plac["placebo 0.5"].n_used == int((d["x"] >= 0).sum())
    assert all(v.ci_low < 0 < v.ci_high for v in plac.values())
    with pytest.raises(RDInputError, match="true cut-off"):
        rd_placebo_cutoffs(d, "y", "x", 0, [0])
    # a covariate smooth in x does not jump; one that jumps is flagged
    d = d.assign(smooth=np.sin(3 * d["x"]), jumps=np.sin(3 * d["x"]) + 0.5 * (d["x"] >= 0))
    bal = rd_balance(d, ["smooth", "jumps"], "x", 0)
    assert abs(bal["smooth"].estimate) < 0.01
    assert bal["jumps"].ci_low > 0.4
    with pytest.raises(RDInputError, match="covariates"):
        rd_balance(d, ["z"], "x", 0, covs=["y"])
