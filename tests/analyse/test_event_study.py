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
