"""KS2 / KS4 standardisation, A levels, highest qualification by age."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leokit.derive as d
from leokit.derive import DerivationError

PMR = "PupilMatchingRefAnonymous"


def test_ks2_marks_and_scaled_scores_standardised_within_year():
    ks2 = pd.DataFrame({
        "KS2_PupilMatchingRefAnonymous": ["a", "b", "c", "x", "y", "b"],
        "KS2_ACADYR": ["2009/2010", "2009/2010", "2009/2010", "2015/2016", "2015/2016", "2009/2010"],
        "KS2_ENGTOTMRK": [40, 50, 60, np.nan, np.nan, 10],
        "KS2_MATTOTMRK": [40, 50, 60, np.nan, np.nan, 10],
        "KS2_READSCORE": [np.nan] * 3 + [100, 110, np.nan],
        "KS2_MATSCORE": [np.nan] * 3 + [100, 110, np.nan],
        "KS2_NATRES": [1, 1, 1, 1, 1, 0],  # b's duplicate is outside national results -> dropped
    })
    out = d.ks2_attainment(ks2).set_index(PMR)
    sd = np.sqrt(((np.array([80, 100, 120]) - 100) ** 2).mean())
    assert out.loc["a", "ks2_z"] == pytest.approx(-20 / sd)
    assert out.loc["b", "ks2_z"] == pytest.approx(0.0)
    assert out.loc["b", "ks2_raw"] == 100
    assert out.loc["x", "ks2_z"] == pytest.approx(-1.0) and out.loc["y", "ks2_z"] == pytest.approx(1.0)
    assert out.loc["x", "ks2_measure"] == "scaled" and out.loc["a", "ks2_measure"] == "marks"
    assert out.loc["x", "ks2_year"] == 2016


def _ks4():
    pre = pd.DataFrame({
        "KS4_PupilMatchingRefAnonymous": ["a", "b", "c", "c"],
        "KS4_ACADYR": ["2013/2014"] * 4,
        "KS4_PTSCNEWE": [300.0, 400.0, 500.0, 100.0],
        "KS4_LEVEL2_EM": [0, 1, 1, 0],
        "KS4_NATRES": [1, 1, 1, 1],
        "KS4_FSM6": [1, 0, 0, 0],
    })
    post = pd.DataFrame({
        "KS4_PupilMatchingRefAnonymous": ["x", "y"],
        "KS4_ACADYR": ["2015/2016"] * 2,
        "KS4_ATT8": [30.0, 60.0],
        "KS4_L2BASICS_94": [0, 1],
    })
    return pre, post


def test_ks4_one_scale_across_regimes():
    out = d.ks4_attainment(*_ks4()).set_index(PMR)
    assert out.loc["c", "ks4_raw"] == 500  # ECHILD order: level 2 first, then points
    assert out.loc["b", "ks4_z"] == pytest.approx(0.0)
    assert out.loc["x", "ks4_z"] == pytest.approx(-1.0) and out.loc["y", "ks4_z"] == pytest.approx(1.0)
    assert out.loc["a", "ks4_pctile"] == pytest.approx(100 * 0.5 / 3)
    assert out.loc["y", "ks4_pctile"] == pytest.approx(75.0)
    assert out.loc["y", "ks4_measure"] == "ATT8" and out.loc["a", "ks4_measure"] == "PTSCNEWE"
    assert out.loc["a", "ks4_fsm6"] == 1 and pd.isna(out.loc["x", "ks4_fsm6"])
    with pytest.raises(DerivationError):
        d.ks4_attainment()
    with pytest.raises(DerivationError, match="KS4_ATT8"):
        d.ks4_attainment(ks4_post=_ks4()[1].drop(columns="KS4_ATT8"))


def test_alevel_points_and_best_three():
    ex = pd.DataFrame({
        "KS5_PupilMatchingRefAnonymous": ["a"] * 5 + ["b", "b", "c"],
        "KS5_ACADYR": ["2011/2012"] * 8,
        "KS5_MAPPING": ["MAT", "PHY", "CHE", "BIO", "MAT", "HIS", "ENG", "ART"],
        "KS5_SUBLEVNO": [111, 111, 111, 111, 111, 111, 111, 121],
        "KS5_GRADE": ["B", "A*", "A", "C", "A", "E", "U", "A"],  # a: MAT resit A beats B
    })
    out = d.alevel_results(ex).set_index(PMR)
    assert out.loc["a", "alevel_best3"] == "A*AA"
    assert out.loc["a", "alevel_points"] == 56 + 48 + 48
    assert out.loc["a", "n_alevels"] == 4
    assert out.loc["b", "alevel_best3"] == "E" and out.loc["b", "alevel_points"] == 16
    assert "c" not in out.index  # not an A level (SUBLEVNO 121)
    assert out.loc["a", "alevel_year"] == 2012


def test_highest_qualification_by_age():
    ks4 = d.ks4_attainment(*_ks4())  # a, b, c KS4 2014; x, y KS4 2016
    ks5 = pd.DataFrame({"KS5_PupilMatchingRefAnonymous": ["b", "a"], "KS5_ACADYR": ["2015/2016", "2017/2018"],
                        "KS5_LEV3THRESH": [1, 1]})
    aims = pd.DataFrame({"RECORDID": [10, 11], "outcome": [1, 3], "NotionalNVQLev": [4, 5],
                         "start_date": pd.to_datetime(["2016-09-01", "2016-09-01"]),
                         "end_date": pd.to_datetime(["2017-09-15", "2017-07-01"])})  # a: level 4 in 2017/18 (end 2018)
    erl = pd.DataFrame({"RECORDID": [10, 11], "AE_ID": [100, 100]})
    pmr = pd.DataFrame({"AE_ID": [100], "PUPILMATCHINGREFANONYMOUS": ["a"]})
    grads = pd.DataFrame({PMR: ["c"], "graduation_year": [2019]})
    out = d.highest_qualification_by_age(ks4, ks5_student=ks5, aims=aims, education_records_lookup=erl,
                                         pmr_lookup=pmr, graduates=grads).set_index(PMR)
    assert out.loc["b", "highest_level_age18"] == 3  # KS5 2016 = KS4 + 2
    assert out.loc["a", "highest_level_age18"] == 1  # KS5 in 2018 is after age 18; KS4 points > 0
    assert out.loc["a", "highest_level_age21"] == 4  # ILR level 4 achieved 2017/18; the level 5 aim not achieved
    assert out.loc["c", "highest_level_age18"] == 2
    assert out.loc["c", "highest_level_age21"] == 6  # degree 2019 = KS4 + 5
    assert out.loc["y", "highest_level_age18"] == 2
    assert pd.isna(out.loc["y", "highest_level_age25"])  # KS4 2016 + 9 = 2025 > 2021: censored
    with pytest.raises(DerivationError):
        d.highest_qualification_by_age(ks4, aims=aims)
