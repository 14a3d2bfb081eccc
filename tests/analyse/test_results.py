"""The exemplars' results contract (leokit.analyse.results)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from leokit.analyse import RESULT_KEYS, Estimate, estimate_from_fit, read_truth, results_frame, truth_value, write_results
from leokit.analyse.fixest import import_pyfixest

TRUTH = {
    "school_peer_effect": {"value": 0.15, "definition": "..."},
    "contextual_offer_adoption_cycles": {"value": [2012, 2015], "definition": "..."},
    "_meta": {"seed": 1},
    "_realised": {"akm_firm_variance_share": 0.11},
}


def test_default_interval_is_normal_95():
    e = Estimate("x", 1.0, 0.5)
    assert e.ci_low == pytest.approx(1.0 - 1.959964 * 0.5, abs=1e-6)
    assert e.ci_high == pytest.approx(1.0 + 1.959964 * 0.5, abs=1e-6)


@pytest.mark.parametrize("kwargs, msg", [
    ({"estimate": float("nan")}, "finite"),
    ({"se": -1.0}, ">= 0"),
    ({"ci_low": 0.0}, "both"),
    ({"ci_low": 2.0, "ci_high": 1.0}, "above"),
    ({"estimate": "a"}, "number"),
])
def test_bad_estimates_are_refused(kwargs, msg):
    args = {"name": "x", "estimate": 1.0, "se": 0.1, **kwargs}
    with pytest.raises(ValueError, match=msg):
        Estimate(**args)


def test_truth_value_reads_parameters_and_realised_statistics():
    assert truth_value(TRUTH, "school_peer_effect") == 0.15
    assert truth_value(TRUTH, "_realised.akm_firm_variance_share") == 0.11
    with pytest.raises(KeyError, match="did you mean"):
        truth_value(TRUTH, "school_peer_efect")
    with pytest.raises(KeyError, match="realised"):
        truth_value(TRUTH, "_realised.akm_firm_share")
    with pytest.raises(TypeError, match="not a number"):
        truth_value(TRUTH, "contextual_offer_adoption_cycles")


def test_covered_compares_the_interval_with_the_truth(tmp_path):
    est = [Estimate("peer", 0.16, 0.01, truth_key="school_peer_effect"),     # 0.14..0.18 covers 0.15
           Estimate("peer_naive", 1.0, 0.01, truth_key="school_peer_effect"),  # does not cover
           Estimate("descriptive", 3.0, 1.0)]                                   # no truth
    f = write_results(tmp_path / "sub" / "results.json", est, TRUTH)
    data = json.loads((tmp_path / "sub" / "results.json").read_text())
    assert isinstance(data, list) and [tuple(d) for d in data] == [RESULT_KEYS] * 3
    assert [d["covered"] for d in data] == [True, False, None]
    assert data[2]["truth"] is None and data[2]["truth_key"] is None
    assert list(f.columns) == list(RESULT_KEYS)


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="twice"):
        results_frame([Estimate("a", 1, 1), Estimate("a", 2, 1)], None)


def test_read_truth_needs_a_truth_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="truth.json"):
        read_truth(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps(TRUTH))
    assert results_frame([Estimate("p", 0.15, 0.01, truth_key="school_peer_effect")], tmp_path)["covered"].item() is True


def test_estimate_from_statsmodels_and_pyfixest_match():
    pf = import_pyfixest()
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=400), "g": rng.integers(0, 20, 400)})
    df["y"] = 0.5 * df["x"] + rng.normal(size=400)
    sm = estimate_from_fit("b", smf.ols("y ~ x", df).fit(), "x")
    fx = estimate_from_fit("b", pf.feols("y ~ x", df, vcov="iid"), "x")
    assert sm.estimate == pytest.approx(fx.estimate) and sm.se == pytest.approx(fx.se)
    assert sm.ci_low == pytest.approx(fx.ci_low, rel=1e-6) and sm.ci_high == pytest.approx(fx.ci_high, rel=1e-6)
    with pytest.raises(KeyError, match="did you mean"):
        estimate_from_fit("b", smf.ols("y ~ x", df).fit(), "X")
    with pytest.raises(TypeError):
        estimate_from_fit("b", object(), "x")
