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
    out = d.fsm_ever6(cohort, _census()).set_index(PMR)
    assert out.loc["a", "fsm_ever6"] == 0  # FSM in 2008 is outside 2009-2014
    assert out.loc["b", "fsm_ever6"] == 0 and out.loc["b", "fsm_ever6_source"] == "census"
    assert out.loc["z", "fsm_ever6"] == 1 and out.loc["z", "fsm_ever6_source"] == "KS4_FSM6"
    wide = pd.DataFrame({PMR: ["a"], "ks4_year": [2012]})
    assert d.fsm_ever6(wide, _census())["fsm_ever6"].tolist() == [1]  # 2008 within 2007-2012


def test_area_measures_latest_lsoa_at_or_before_ks4():
    imd = pd.DataFrame({"lsoa11cd": ["E01000011", "E01000021"], "imd_decile": [3, 10], "idaci_decile": [2, 9]})
    polar = pd.DataFrame({"lsoa11cd": ["E01000011", "E01000021"], "polar4_quintile": [1, 5]})
    tundra = pd.DataFrame({"lsoa11cd": ["E01000021"], "tundra_quintile": [4]})
    lk = pd.DataFrame({"lsoa01cd": ["E01000001", "E01000001"], "lsoa11cd": ["E01000022", "E01000021"]})
    cohort = pd.DataFrame({PMR: ["a", "b"], "ks4_year": [2013, 2010]})
    out = d.area_measures(cohort, _census(), imd=imd, polar4=polar, tundra=tundra, lsoa01_lookup=lk).set_index(PMR)
    assert out.loc["a", "lsoa11cd"] == "E01000011" and out.loc["a", "imd_quintile"] == 2
    assert out.loc["a", "idaci_decile"] == 2 and out.loc["a", "polar4_quintile"] == 1
    assert pd.isna(out.loc["a", "tundra_quintile"])
    assert out.loc["b", "lsoa11cd"] is None or pd.isna(out.loc["b", "lsoa11cd"])  # 2001 LSOA not in lookup
    c2 = pd.DataFrame({PMR: ["a"], "ks4_year": [2010]})
    o2 = d.area_measures(c2, _census(), imd=imd, lsoa01_lookup=lk).set_index(PMR)
    assert o2.loc["a", "lsoa11cd"] == "E01000021" and o2.loc["a", "imd_quintile"] == 5  # split -> smallest code
    with pytest.raises(d.DerivationError, match="lsoa01_lookup"):
        d.area_measures(c2, _census())
