"""FSM in the last six years and area measures from the census LSOA."""

from __future__ import annotations

import pandas as pd
import pytest

import leokit.derive as d

PMR = "PupilMatchingRefAnonymous"


def _census():
    c08 = pd.DataFrame({"PupilMatchingRefAnonymous_spr08": ["a", "b"], "RecordStatus_spr08": [1, 1],
                        "FSMeligible_spr08": [1, 0], "LLSOA_spr08": ["E01000001", "E01000002"],
                        "IDACIScore_spr08": [0.3, 0.1]})
    c13 = pd.DataFrame({"PupilMatchingRefAnonymous_spr13": ["a", "b", "b"], "RecordStatus_spr13": [1, 1, 101],
                        "FSMeligible_spr13": [0, 0, 1], "LSOA11_spr13": ["E01000011", "E01000012", "E01000013"]})
    return d.stack_census({"spring_census_2008": c08, 2013: c13})


def test_stack_census_strips_suffixes_and_drops_duplicates():
    c = _census()
    assert {"census_year", PMR, "FSMeligible", "lsoa_original", "lsoa_vintage", "lsoa11cd", "idaci_score"} <= set(c.columns)
    assert len(c) == 4  # the RecordStatus 101 row is dropped


def test_fsm_ever6_window_and_fallback():
    cohort = pd.DataFrame({PMR: ["a", "b", "z"], "ks4_year": [2014, 2014, 2014], "ks4_fsm6": [0, 1, 1]})
    with pytest.warns(d.CoverageWarning, match="KS4 2014"):
        out = d.fsm_ever6(cohort, _census()).set_index(PMR)
    assert out.loc["a", "fsm_ever6"] == 0  # FSM in 2008 is outside 2009-2014
    assert out.loc["b", "fsm_ever6"] == 0 and out.loc["b", "fsm_ever6_source"] == "census"
    assert out.loc["z", "fsm_ever6"] == 1 and out.loc["z", "fsm_ever6_source"] == "KS4_FSM6"
    wide = pd.DataFrame({PMR: ["a"], "ks4_year": [2012]})
    assert d.fsm_ever6(wide, _census(), on_gap="ignore")["fsm_ever6"].tolist() == [1]  # 2008 within 2007-2012


def test_area_measures_latest_lsoa_at_or_before_ks4():
    imd = pd.DataFrame({"lsoa11cd": ["E01000011", "E01000021"], "imd_decile": [3, 10], "idaci_decile": [2, 9]})
    polar = pd.DataFrame({"lsoa11cd": ["E01000011", "E01000021"], "polar4_quintile": [1, 5]})
    tundra = pd.DataFrame({"lsoa11cd": ["E01000021"], "tundra_quintile": [4]})
    lk = pd.DataFrame({"lsoa01cd": ["E01000001", "E01000001"], "lsoa11cd": ["E01000022", "E01000021"]})
    cohort = pd.DataFrame({PMR: ["a", "b"], "ks4_year": [2013, 2010]})
    with pytest.warns(d.CoverageWarning, match="KS4 year"):
        out = d.area_measures(cohort, _census(), imd=imd, polar4=polar, tundra=tundra, lsoa01_lookup=lk).set_index(PMR)
    assert out.loc["a", "lsoa11cd"] == "E01000011" and out.loc["a", "imd_quintile"] == 2
    assert out.loc["a", "idaci_decile"] == 2 and out.loc["a", "polar4_quintile"] == 1
    assert pd.isna(out.loc["a", "tundra_quintile"])
    assert out.loc["b", "lsoa11cd"] is None or pd.isna(out.loc["b", "lsoa11cd"])  # 2001 LSOA not in lookup
    c2 = pd.DataFrame({PMR: ["a"], "ks4_year": [2010]})
    o2 = d.area_measures(c2, _census(), imd=imd, lsoa01_lookup=lk, on_gap="ignore").set_index(PMR)
    assert o2.loc["a", "lsoa11cd"] == "E01000021" and o2.loc["a", "imd_quintile"] == 5  # split -> smallest code
    with pytest.raises(d.DerivationError, match="lsoa01_lookup"):
        d.area_measures(c2, _census(), on_gap="ignore")


def _full_census(years, fsm_year=None):
    """One census per year for pupils a and b; a is eligible in ``fsm_year`` only."""
    tables = {}
    for y in years:
        yy = f"{y % 100:02d}"
        tables[y] = pd.DataFrame({f"PupilMatchingRefAnonymous_spr{yy}": ["a", "b"], f"RecordStatus_spr{yy}": [1, 1],
                                  f"FSMeligible_spr{yy}": [int(y == fsm_year), 0]})
    return d.stack_census(tables)


def test_fsm_ever6_covered_window_is_silent_and_gaps_warn_or_raise():
    import warnings

    cohort = pd.DataFrame({PMR: ["a", "b"], "ks4_year": [2012, 2012]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = d.fsm_ever6(cohort, _full_census(range(2007, 2013), fsm_year=2007))
    assert out["fsm_ever6"].tolist() == [1, 0]
    gappy = _full_census([2007, 2008, 2011, 2012], fsm_year=2007)
    with pytest.warns(d.CoverageWarning, match=r"KS4 2012 \(2 pupils\) lacks 2009-2010"):
        d.fsm_ever6(cohort, gappy)
    with pytest.raises(d.CoverageError, match="2009-2010"):
        d.fsm_ever6(cohort, gappy, on_gap="raise")
    with pytest.raises(ValueError, match="on_gap"):
        d.fsm_ever6(cohort, gappy, on_gap="maybe")


def test_fsm_ever6_accepts_ks4_table_names_and_refuses_empty_cohorts():
    from leokit.load import dedup_ks4

    ks4 = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["a", "b"], "KS4_ACADYR": ["2011/2012"] * 2,
                        "KS4_PTSCNEWE": [300.0, 200.0], "KS4_LEVEL2_EM": [1, 0], "KS4_FSM6": [0, 1],
                        "ks4_year": pd.array([2012, 2012], dtype="Int64")})
    cohort = dedup_ks4(ks4, regime="pre2015")  # the loader's names: KS4_PupilMatchingRefAnonymous, KS4_FSM6
    out = d.fsm_ever6(cohort, _full_census(range(2007, 2013), fsm_year=2010))
    assert out["KS4_PupilMatchingRefAnonymous"].tolist() == ["a", "b"] and out["fsm_ever6"].tolist() == [1, 0]
    fallback = d.fsm_ever6(cohort)  # no census: the KS4 table's KS4_FSM6
    assert fallback["fsm_ever6"].tolist() == [0, 1] and set(fallback["fsm_ever6_source"]) == {"KS4_FSM6"}
    with pytest.raises(d.DerivationError, match="no rows.*KS4 year that is not in the data"):
        d.fsm_ever6(cohort[cohort["ks4_year"] == 2030], _full_census([2012]))
    with pytest.raises(d.DerivationError, match="expected one of"):
        d.fsm_ever6(cohort.rename(columns={"KS4_PupilMatchingRefAnonymous": "pmr"}))


def test_fsm_ever6_refuses_text_flags_that_are_not_numbers():
    census = _full_census(range(2007, 2013))
    cohort = pd.DataFrame({PMR: ["a", "b"], "ks4_year": [2012, 2012]})
    ok = census.assign(FSMeligible=census["FSMeligible"].astype(str))  # "0"/"1" from a text export: fine
    assert d.fsm_ever6(cohort, ok)["fsm_ever6"].tolist() == [0, 0]
    bad = census.assign(FSMeligible=census["FSMeligible"].map({0: "No", 1: "Yes"}))
    with pytest.raises(d.DerivationError, match=r"census: column 'FSMeligible' must be numeric.*'No'"):
        d.fsm_ever6(cohort, bad)


def test_pupil_characteristics_from_the_ks4_census_or_the_latest_before():
    c10 = pd.DataFrame({"PupilMatchingRefAnonymous_spr10": ["a", "b", "c"], "RecordStatus_spr10": [1, 1, 1],
                        "EthnicGroupMajor_spr10": ["ASIA", "WHIT", "BLAC"], "SENprovision_spr10": ["N", "A", "N"],
                        "LanguageGroupMajor_spr10": ["2_OTH", "1_ENG", "3_UNCL"]})
    c11 = pd.DataFrame({"PupilMatchingRefAnonymous_spr11": ["a", "b", "b"], "RecordStatus_spr11": [1, 1, 101],
                        "EthnicGroupMajor_spr11": [None, "MIXD", "CHIN"], "SENprovision_spr11": ["P", "N", "S"],
                        "LanguageGroupMajor_spr11": ["2_OTH", "1_ENG", "2_OTH"]})
    census = d.stack_census({2010: c10, 2011: c11})
    cohort = pd.DataFrame({PMR: ["a", "b", "c", "z"], "ks4_year": [2011, 2011, 2011, 2011], "x": [1, 2, 3, 4]})
    out = d.pupil_characteristics(cohort, census).set_index(PMR)
    assert out["x"].tolist() == [1, 2, 3, 4]  # every column and row of the cohort kept
    assert out.loc["a", "ethnic_group_major"] == "ASIA"  # missing in 2011: the 2010 value
    assert out.loc["b", "ethnic_group_major"] == "MIXD"  # the main record of the KS4 year (status 101 ignored)
    assert out.loc["a", "sen_ks4"] == 1 and out.loc["b", "sen_ks4"] == 0 and out.loc["c", "sen_ks4"] == 0
    assert out.loc["a", "eal_ks4"] == 1 and out.loc["b", "eal_ks4"] == 0 and pd.isna(out.loc["c", "eal_ks4"])
    assert pd.isna(out.loc["z", "ethnic_group_major"]) and pd.isna(out.loc["z", "sen_ks4"])
    early = pd.DataFrame({PMR: ["a"], "ks4_year": [2010]})
    assert d.pupil_characteristics(early, census)["sen_ks4"].tolist() == [0]  # 2011 is after the KS4 year
    with pytest.warns(d.CoverageWarning, match="KS4 year"):
        d.pupil_characteristics(pd.DataFrame({PMR: ["a"], "ks4_year": [2012]}), census)
    with pytest.raises(d.DerivationError, match="already has"):
        d.pupil_characteristics(out.reset_index()[[PMR, "ks4_year", "sen_ks4"]], census)
