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


def _hq_inputs():
    """KS4 2010 pupils p1..p8 (one route each to a level) and a KS4 2016 pupil q1; hand-made, see the comments."""
    pre = pd.DataFrame({
        "KS4_PupilMatchingRefAnonymous": [f"p{i}" for i in range(1, 9)],
        "KS4_ACADYR": ["2009/2010"] * 8,
        "KS4_LEVEL2_EM": [1, 0, 0, 1, 1, 0, 1, 0],
        "KS4_PTSCNEWE": [400.0, 300.0, 0.0, 380.0, 390.0, 250.0, 420.0, 0.0],
    })
    post = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["q1"], "KS4_ACADYR": ["2015/2016"], "KS4_ATT8": [50.0],
                         "KS4_L2BASICS_94": [1]})
    ks4 = d.ks4_attainment(pre, post)
    ks5 = pd.DataFrame({"KS5_PupilMatchingRefAnonymous": ["p2", "p1"], "KS5_ACADYR": ["2011/2012", "2011/2012"],
                        "KS5_LEV3THRESH": [1, 0]})
    aims = pd.DataFrame({
        "RECORDID": [30, 60, 61],
        "outcome": [1, 3, 1],  # p6's level-3 aim not achieved
        "NotionalNVQLev": [2, 3, 5],
        "start_date": pd.to_datetime(["2010-09-01", "2011-09-01", "2015-09-01"]),
        "end_date": pd.to_datetime(["2011-06-30", "2012-06-30", "2017-07-01"]),
    })
    erl = pd.DataFrame({"RECORDID": [30, 60, 61], "AE_ID": [3, 6, 6]})
    pmr = pd.DataFrame({"AE_ID": [3, 6], "PUPILMATCHINGREFANONYMOUS": ["p3", "p6"]})
    he = pd.DataFrame({
        "HE_PUPILMATCHINGREFANONYMOUS": ["p1", "p4", "p4", "p5", "p5", "p5", "p7"],
        "hesa_year": [2013, 2014, 2015, 2013, 2014, 2015, 2016],
        "HE_XPQUAL01": [1, 1, 1, 0, 0, 0, 1],
        "HE_XQLEV601": ["UG", "OUG", "UG", "UG", "UG", "UG", "UG"],
        "HE_XCLASS01": ["02", "06", "05", "06", "06", "06", "01"],
    })
    return ks4, ks5, aims, erl, pmr, he


def test_highest_qualification_levels_follow_the_contract():
    ks4, ks5, aims, erl, pmr, he = _hq_inputs()
    cov = {"ks5": (2005, 2021), "ilr": (2006, 2021), "hesa": (2005, 2020)}
    out = d.highest_qualification_by_age(ks4, ks5_student=ks5, aims=aims, education_records_lookup=erl,
                                         pmr_lookup=pmr, hesa=he, coverage=cov).set_index(PMR)
    got = {p: [out.loc[p, f"highest_level_age{a}"] for a in (18, 21, 25)] for p in out.index if p.startswith("p")}
    assert got == {
        "p1": [2, 6, 6],  # KS4 level 2; classified first degree (2:1) in 2012/13 = KS4 + 3
        "p2": [3, 3, 3],  # KS4 points only (1); KS5 level-3 threshold at 18
        "p3": [2, 2, 2],  # no KS4 points (0); achieved ILR level-2 aim in 2010/11
        "p4": [2, 4, 4],  # OUG exit award (CertHE/DipHE) = 4; an unclassified (05) first degree is not level 6
        "p5": [2, 2, 2],  # entered HE, no award: not a qualification
        "p6": [1, 1, 4],  # level-3 aim not achieved; achieved ILR level-5 aim in 2016/17 (KS4 + 7) counts as 4
        "p7": [2, 2, 6],  # first-class degree in 2015/16 = KS4 + 6: after age 21, by age 25
        "p8": [0, 0, 0],  # nothing
    }
    assert out.loc["q1", "highest_level_age18"] == 2
    assert pd.isna(out.loc["q1", "highest_level_age21"])  # KS4 2016: by 21 = 2020/21, HESA ends 2019/20
    assert str(out["highest_level_age21"].dtype) == "Int64"


def test_highest_qualification_censored_by_the_coverage_of_the_extract():
    """A source covers the years from its first year in the data to the end of the extract (2019/20 for HESA,
    2020/21 for KS5 and the ILR): no record in a late year means no qualification, not missing data."""
    ks4, ks5, aims, erl, pmr, he = _hq_inputs()
    ks4 = ks4[ks4[PMR].str.startswith("p")]  # KS4 2010: by 25 = 2018/19
    out = d.highest_qualification_by_age(ks4, hesa=he).set_index(PMR)  # HESA rows 2013-2016 only
    assert out.loc["p1", "highest_level_age21"] == 6 and out.loc["p7", "highest_level_age25"] == 6
    assert out["highest_level_age25"].notna().all()  # HESA covered to 2019/20 although the rows stop in 2016
    out = d.highest_qualification_by_age(ks4, ks5_student=ks5).set_index(PMR)  # KS5 rows in 2012 only
    assert out.loc["p2", "highest_level_age18"] == 3 and out.loc["p2", "highest_level_age21"] == 3
    out = d.highest_qualification_by_age(ks4, aims=aims, education_records_lookup=erl, pmr_lookup=pmr).set_index(PMR)
    assert out.loc["p3", "highest_level_age21"] == 2 and out.loc["p6", "highest_level_age25"] == 4
    # a partial extract: say which years the tables cover, and the values beyond them are censored
    out = d.highest_qualification_by_age(ks4, hesa=he, coverage={"hesa": (2005, 2016)}).set_index(PMR)
    assert out.loc["p1", "highest_level_age21"] == 6  # HESA needed 2013-2015: covered
    assert out["highest_level_age25"].isna().all()  # HESA needed to 2019 > 2016
    base = d.highest_qualification_by_age(ks4).set_index(PMR)  # KS4 only: nothing to censor
    assert base.notna().all().all() and base.loc["p1", "highest_level_age25"] == 2


def test_highest_qualification_start_gap_censors_and_warns():
    ks4, _, _, _, _, he = _hq_inputs()
    late = he[he["hesa_year"] >= 2014]  # HESA from 2013/14 only, but KS4 2010 needs it from 2012/13
    with pytest.warns(d.CoverageWarning, match="hesa starts in 2014 but KS4 cohort"):
        out = d.highest_qualification_by_age(ks4, hesa=late, coverage={"hesa": (2014, 2020)})
    out = out.set_index(PMR)
    assert out.loc["p1", "highest_level_age18"] == 2  # HESA not needed by 18
    assert pd.isna(out.loc["p1", "highest_level_age21"])  # not "2": the 2013 degree would be missed
    with pytest.raises(d.CoverageError):
        d.highest_qualification_by_age(ks4, hesa=late, coverage={"hesa": (2014, 2020)}, on_gap="raise")


def test_highest_qualification_accepts_the_loaders_ks4_frame_and_refuses_bad_input():
    from leokit.load import dedup_ks4, stack_ks4

    pre = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["p1", "p2", "p2"], "KS4_ACADYR": ["2009/2010"] * 3,
                        "KS4_LEVEL2_EM": [1, 0, 0], "KS4_PTSCNEWE": [400.0, 300.0, 100.0]})
    loaded = dedup_ks4(stack_ks4(tables={"pre2015": pre}, validate=False))
    out = d.highest_qualification_by_age(loaded)
    assert out["KS4_PupilMatchingRefAnonymous"].tolist() == ["p1", "p2"]
    assert out["highest_level_age18"].tolist() == [2, 1]
    with pytest.raises(d.DerivationError, match="one row per pupil"):
        d.highest_qualification_by_age(stack_ks4(tables={"pre2015": pre}, validate=False))
    with pytest.raises(d.DerivationError, match="no rows"):
        d.highest_qualification_by_age(loaded.iloc[:0])
    _, _, aims, erl, pmr, _ = _hq_inputs()
    with pytest.raises(DerivationError, match="education_records_lookup"):
        d.highest_qualification_by_age(loaded, aims=aims)
    with pytest.raises(DerivationError, match="NotionalNVQLev.*'3a'"):
        d.highest_qualification_by_age(loaded, aims=aims.assign(NotionalNVQLev=["2", "3a", "5"]),
                                       education_records_lookup=erl, pmr_lookup=pmr)


def test_ks4_attainment_years_selection_and_names():
    pre, post = _ks4()
    assert set(d.ks4_attainment(pre, post, years=[2016])["ks4_year"]) == {2016}
    with pytest.raises(DerivationError, match=r"KS4 year\(s\) \[2019\] not in the data.*2014, 2016"):
        d.ks4_attainment(pre, post, years=[2016, 2019])
    from leokit.load import stack_ks4

    stacked = stack_ks4(tables={"pre2015": pre, "post2015": post}, validate=False)
    pd.testing.assert_frame_equal(d.ks4_attainment(stacked), d.ks4_attainment(pre, post))
    renamed = post.rename(columns={"KS4_PupilMatchingRefAnonymous": PMR})
    assert d.ks4_attainment(ks4_post=renamed)[PMR].tolist() == ["x", "y"]
    with pytest.raises(DerivationError, match="KS4_ACADYR.*'unknown'"):
        d.ks4_attainment(ks4_post=post.assign(KS4_ACADYR=["2015/2016", "unknown"]))


def test_ks4_attainment_carries_extra_columns_of_the_chosen_record():
    """``extra=`` returns the school (or any column) of the record whose attainment is used, not of another record."""
    import pandas as pd
    import pytest

    import leokit.derive as d
    from leokit.derive import DerivationError

    pre = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["a", "a", "b"], "KS4_ACADYR": ["2009/2010"] * 3,
                        "KS4_PTSCNEWE": [300.0, 350.0, 200.0], "KS4_LEVEL2_EM": [1, 1, 0], "KS4_NATRES": [1, 1, 1],
                        "KS4_URN_anon": ["s1", "s2", "s3"]})
    out = d.ks4_attainment(pre, extra=["KS4_URN_anon"]).set_index("PupilMatchingRefAnonymous")
    assert out.loc["a", "KS4_URN_anon"] == "s2" and out.loc["a", "ks4_raw"] == 350.0   # the higher-scoring record
    assert list(out.columns)[-1] == "KS4_URN_anon"
    with pytest.raises(DerivationError):
        d.ks4_attainment(pre, extra=["KS4_NOPE"])
    with pytest.raises(DerivationError, match="clash"):
        d.ks4_attainment(pre, extra=["ks4_z"])
