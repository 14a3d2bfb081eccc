"""leokit.analyse.peers: leave-one-out means and coworker shares on hand-made groups, and the mechanical bias of a
balance test with a leave-one-out mean and pool fixed effects (Guryan, Kroft and Notowidigdo) under random
assignment, which the pool leave-one-out control removes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leokit.analyse.peers import PeerInputError, coworker_share, group_share, leave_one_out_mean


def test_leave_one_out_mean_by_hand():
    d = pd.DataFrame({"g": ["a", "a", "a", "b", "b", "c"], "v": [1.0, 2.0, np.nan, 4.0, 6.0, 5.0]})
    out = leave_one_out_mean(d, "v", "g")
    # a: others of row 0 are 2 (row 2 unknown); of row 1: 1; of row 2 (unknown itself): mean(1, 2)
    assert out.tolist()[:3] == [2.0, 1.0, 1.5]
    assert out.tolist()[3:5] == [6.0, 4.0]
    assert np.isnan(out.iloc[5])                      # a group of one has no peers
    two = leave_one_out_mean(d.assign(h=[1, 1, 2, 1, 1, 1]), "v", ["g", "h"])
    assert two.iloc[0] == 2.0 and np.isnan(two.iloc[2])


def test_coworker_share_imputes_unknown_coworkers_at_the_year_share():
    d = pd.DataFrame({"ent": ["e", "e", "e", "f", "f", "f", "f"], "TaxYear": [201516] * 7,
                      "grad": [1.0, 0.0, np.nan, 1.0, 1.0, 0.0, 0.0]})
    year_share = 3 / 6
    out = coworker_share(d, "grad", ["ent", "TaxYear"])
    assert out["share"].iloc[0] == pytest.approx((0.0 + year_share) / 2)
    assert out["share"].iloc[2] == pytest.approx(0.5)            # the unknown person's own coworkers: 1 and 0
    assert out["n_others"].tolist() == [2, 2, 2, 3, 3, 3, 3]
    left_out = coworker_share(d, "grad", ["ent", "TaxYear"], impute=None)
    assert left_out["share"].iloc[0] == 0.0                     # only the known coworker counts
    with pytest.raises(PeerInputError, match="must be 0/1"):
        coworker_share(d.assign(grad=2.0), "grad", ["ent", "TaxYear"])
    with pytest.raises(PeerInputError, match="impute"):
        coworker_share(d, "grad", ["ent", "TaxYear"], impute="zero")


def test_group_share_flags_groups_with_unknown_members():
    d = pd.DataFrame({"ent": ["e", "e", "f", "f"], "grad": [1.0, np.nan, 1.0, 0.0]})
    out = group_share(d, "grad", "ent").set_index("ent")
    assert out.loc["e", "all_known"] == False and out.loc["f", "share"] == 0.5  # noqa: E712
    assert out.loc["e", "members"] == 2 and out.loc["e", "unknown"] == 1
    with pytest.raises(PeerInputError, match="no column"):
        group_share(d, "nope", "ent")


def test_balance_test_is_mechanically_biased_and_the_pool_control_fixes_it():
    """Pupils assigned at random to cohorts within schools: own KS2 is unrelated to peers' KS2 by construction, yet
    with school fixed effects the leave-one-out peer mean has a coefficient near -(n-1)/(N-n); controlling for the
    school's leave-one-out mean instead gives about zero."""
    from leokit.analyse.fixest import feols

    rng = np.random.default_rng(0)
    schools, cohorts, n = 300, 4, 12
    d = pd.DataFrame({"school": np.repeat(np.arange(schools), cohorts * n),
                      "cohort": np.tile(np.repeat(np.arange(cohorts), n), schools)})
    d["ks2"] = rng.normal(size=len(d)) + np.repeat(rng.normal(size=schools), cohorts * n)   # school means differ
    d["peer"] = leave_one_out_mean(d, "ks2", ["school", "cohort"])
    d["pool"] = leave_one_out_mean(d, "ks2", "school")
    biased = feols("ks2 ~ peer | school + cohort", d, vcov={"CRV1": "school"})
    fixed = feols("ks2 ~ peer + pool | cohort", d, vcov={"CRV1": "school"})
    expected = -(n - 1) / (cohorts * n - n)
    b, se = float(biased.coef()["peer"]), float(biased.se()["peer"])
    assert abs(b - expected) < 3 * se and b < -3 * se
    f, fse = float(fixed.coef()["peer"]), float(fixed.se()["peer"])
    assert abs(f) < 3 * fse
