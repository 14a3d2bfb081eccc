"""leokit.analyse.event_study: did2s recovers dynamic effects under staggered adoption where plain TWFE does not;
bad panels get clear errors; pyfixest's logging side effect and deprecation warning never leak."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from leokit.analyse.event_study import EventStudyInputError, check_panel_cells, event_study, plot_event_study


def _panel(seed=0):
    """30 units, two adoption waves (2012, 2015) and never-adopters; the effect grows by 0.05 a period."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(30):
        g = [2012, 2015, np.nan][u % 3]
        for t in range(2007, 2019):
            eff = 0.05 * (t - g + 1) if (not np.isnan(g) and t >= g) else 0.0
            rows.append((f"p{u}", t, g, 0.01 * u + 0.002 * t + eff + rng.normal(0, 0.01), 20 + u))
    return pd.DataFrame(rows, columns=["unit", "t", "g", "y", "n"])


def test_did2s_recovers_dynamic_effects_and_twfe_does_not():
    d = _panel()
    r = event_study(d, "y", "unit", "t", "g", window=(-5, 6))
    post = r.coefs[r.coefs["event_time"] >= 0].set_index("event_time")
    assert np.allclose(post["estimate"], 0.05 * (post.index + 1), atol=0.01)
    lead = r.coefs[r.coefs["event_time"] < -1]
    assert (lead["estimate"].abs() < 0.01).all() and r.pretrend_max_abs_t() < 3
    treated = d[d["g"].notna() & (d["t"] >= d["g"])]
    true_att = float((0.05 * (treated["t"] - treated["g"] + 1)).mean())
    assert r.att == pytest.approx(true_att, abs=0.01)
    tw = event_study(d, "y", "unit", "t", "g", estimator="twfe", window=(-5, 6))
    assert abs(tw.att - true_att) > 0.03  # already-treated controls bias the static TWFE estimate
    assert r.n_units == 30 and r.n_treated_units == 20 and r.n_never_treated_units == 10


def test_weights_and_reference_row():
    r = event_study(_panel(), "y", "unit", "t", "g", window=(-5, 6), weights="n")
    ref = r.coefs[r.coefs["event_time"] == -1]
    assert len(ref) == 1 and ref["estimate"].iloc[0] == 0 and ref["se"].isna().all()


def test_no_logging_or_warning_side_effects():
    root = logging.getLogger()
    before = list(root.handlers), root.level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event_study(_panel(), "y", "unit", "t", "g")
    assert (list(root.handlers), root.level) == before
    assert not [w for w in caught if "inplace" in str(w.message)]


def test_bad_panels_are_clear_errors():
    d = _panel()
    with pytest.raises(EventStudyInputError, match="no column"):
        event_study(d, "nope", "unit", "t", "g")
    with pytest.raises(EventStudyInputError, match="several rows"):
        event_study(pd.concat([d, d.head(1)]), "y", "unit", "t", "g")
    bad = d.copy()
    bad.loc[0, "g"] = 2010.0
    with pytest.raises(EventStudyInputError, match="constant within"):
        event_study(bad, "y", "unit", "t", "g")
    with pytest.raises(EventStudyInputError, match="ever treated"):
        event_study(d.assign(g=np.nan), "y", "unit", "t", "g")
    with pytest.raises(EventStudyInputError, match="estimator"):
        event_study(d, "y", "unit", "t", "g", estimator="cs")
    with pytest.raises(EventStudyInputError, match="inside window"):
        event_study(d, "y", "unit", "t", "g", window=(0, 3))


def test_plot_and_cell_check():
    import matplotlib.pyplot as plt

    d = _panel()
    r = event_study(d, "y", "unit", "t", "g", window=(-5, 6))
    ax = plot_event_study({"did2s": r}, truth={e: 0.05 * (e + 1) for e in range(7)})
    assert len(ax.get_legend().get_texts()) == 2
    plt.close(ax.figure)
    assert check_panel_cells(d.assign(n=[5] + [20] * (len(d) - 1)), "n").shape[0] == 1


def _brute_jackknife(d, estimator, weights=None, window=(-5, 6)):
    """Leave-one-unit-out jackknife with pyfixest itself refitting each replicate (the slow reference)."""
    reps_es, reps_att = [], []
    for u in sorted(d["unit"].unique()):
        r = event_study(d[d["unit"] != u], "y", "unit", "t", "g", estimator=estimator, window=window, weights=weights)
        reps_es.append(r.coefs.set_index("event_time")["estimate"])
        reps_att.append(r.att)
    es = pd.DataFrame(reps_es)
    g = len(reps_att)
    se_es = np.sqrt((g - 1) / g * ((es - es.mean()) ** 2).sum())
    se_att = np.sqrt((g - 1) / g * np.sum((np.array(reps_att) - np.mean(reps_att)) ** 2))
    return se_es, se_att, g


@pytest.mark.parametrize("estimator,weights", [("did2s", None), ("did2s", "n"), ("twfe", None)])
def test_jackknife_matches_refitting_with_pyfixest(estimator, weights):
    from scipy.stats import t as student_t

    d = _panel(seed=3).query("unit < 'p2'")  # 12 units (p0, p1, p10-p19): few clusters, where the jackknife matters
    r = event_study(d, "y", "unit", "t", "g", estimator=estimator, window=(-5, 6), weights=weights, vcov="jackknife")
    base = event_study(d, "y", "unit", "t", "g", estimator=estimator, window=(-5, 6), weights=weights)
    se_es, se_att, g = _brute_jackknife(d, estimator, weights)
    assert r.vcov == "jackknife" and r.n_clusters == g == 12
    assert r.att == pytest.approx(base.att)  # point estimates are pyfixest's, unchanged
    assert r.att_se == pytest.approx(se_att, rel=1e-4)
    co = r.coefs.set_index("event_time")
    est = co.index[co.index != -1]
    assert np.allclose(co.loc[est, "se"], se_es.loc[est], rtol=1e-4)
    q = student_t.ppf(0.975, g - 1)
    assert r.att_ci_low == pytest.approx(r.att - q * r.att_se) and r.att_ci_high == pytest.approx(r.att + q * r.att_se)
    assert np.isnan(co.loc[-1, "se"]) and co.loc[-1, "estimate"] == 0
    assert r.att_se != pytest.approx(base.att_se, rel=1e-3)  # a different variance, not pyfixest's relabelled


def test_jackknife_errors():
    d = _panel()
    with pytest.raises(EventStudyInputError, match="vcov"):
        event_study(d, "y", "unit", "t", "g", vcov="bootstrap")
    with pytest.raises(EventStudyInputError, match="at least 3 clusters"):
        event_study(d.assign(c=d["unit"].isin(["p0", "p1", "p2"]).astype(int)), "y", "unit", "t", "g",
                    cluster="c", vcov="jackknife")


def test_did2s_thins_units_and_periods_without_two_untreated_observations():
    d = _panel()
    # p30 adopts in its second period (one untreated observation); period 2006 is seen only for p31 (never treated)
    extra = pd.DataFrame([("p30", t, 2008.0, 0.3 + 0.002 * t, 20) for t in range(2007, 2019)]
                         + [("p31", t, np.nan, 0.31 + 0.002 * t, 20) for t in range(2006, 2019)],
                         columns=d.columns)
    r = event_study(pd.concat([d, extra], ignore_index=True), "y", "unit", "t", "g", window=(-5, 6))
    assert r.dropped_units == ("p30",) and r.dropped_periods == (2006,)
    ref = event_study(pd.concat([d, extra[extra["unit"] == "p31"].query("t > 2006")], ignore_index=True),
                      "y", "unit", "t", "g", window=(-5, 6))
    assert r.att == pytest.approx(ref.att) and r.n_units == 31
    assert event_study(d, "y", "unit", "t", "g").dropped_units == ()
    # TWFE identifies effects from all observations: nothing is thinned
    tw = event_study(pd.concat([d, extra[extra["unit"] == "p30"]], ignore_index=True), "y", "unit", "t", "g",
                     estimator="twfe")
    assert tw.dropped_units == () and tw.n_units == 31
