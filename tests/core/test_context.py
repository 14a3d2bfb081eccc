"""Contextual linkage: area, HE provider and employer context, with match reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leokit.errors import SchemaError

from leokit.context import (
    add_area,
    add_employer_context,
    add_provider_context,
    idbr_source_year,
    map_lsoa01_to_lsoa11,
    provider_entry_tariff,
)
from leokit.errors import CardinalityError, ChainReport, LinkError, MatchReport


@pytest.fixture
def area_tables():
    lsoas = ["E01000001", "E01000002", "E01000003"]
    return {
        "imd2019_lsoa11": pd.DataFrame({"lsoa11cd": lsoas, "imd_rank": [1, 20000, 32844], "imd_decile": [1, 6, 10],
                                        "idaci_score": [0.5, 0.1, 0.01], "idaci_rank": [3, 20000, 32000],
                                        "idaci_decile": [1, 6, 10]}),
        "ruc11_lsoa11": pd.DataFrame({"lsoa11cd": lsoas, "ruc11cd": ["A1", "C1", "E1"],
                                      "ruc11nm": ["Urban major conurbation", "Urban city and town", "Rural village"]}),
        "polar4_lsoa11": pd.DataFrame({"lsoa11cd": lsoas[:2], "polar4_quintile": [1, 3]}),
        "tundra_lsoa11": pd.DataFrame({"lsoa11cd": lsoas, "tundra_quintile": [2, 4, 5]}),
        "lsoa01_lsoa11_lookup": pd.DataFrame({"lsoa01cd": ["E01900001", "E01900002", "E01900002"],
                                              "lsoa11cd": ["E01000001", "E01000003", "E01000002"],
                                              "chgind": ["U", "S", "S"]}),
    }


def test_add_area_2011(area_tables):
    df = pd.DataFrame({"lsoa11cd": ["E01000002", "E01000003", None, "E01999999"], "x": range(4)},
                      index=[10, 11, 12, 13])
    out, rep = add_area(df, tables=area_tables, report=True)
    assert isinstance(rep, ChainReport) and all(isinstance(s, MatchReport) for s in rep.steps)
    assert len(out) == 4 and out["x"].tolist() == [0, 1, 2, 3]
    assert out["imd_decile"].tolist()[:2] == [6, 10]
    assert out["imd_quintile"].tolist()[:2] == [3, 5]
    assert out["idaci19_score"].tolist()[:2] == [0.1, 0.01]
    assert out["urban"].tolist()[:2] == [True, False] and out["urban"].isna().tolist()[2:] == [True, True]
    assert out["polar4_quintile"].isna().tolist() == [False, True, True, True]
    imd = rep["add_area: lsoa11cd -> imd2019_lsoa11"]
    assert (imd.matched_left, imd.unmatched_left, imd.left_null_keys, imd.out_rows) == (2, 2, 1, 4)
    assert imd.duplicates_left == 0


def test_add_area_2001_codes(area_tables):
    df = pd.DataFrame({"llsoa": ["E01900001", "E01900002", "E01900009"]})
    out = add_area(df, "llsoa", vintage="2001", measures=("imd",), tables=area_tables)
    assert out["lsoa11cd"].tolist()[:2] == ["E01000001", "E01000002"]  # split: smallest 2011 code
    assert out["lsoa11_ambiguous"].tolist() == [False, True, False]
    assert out["lsoa11_n_candidates"].tolist() == [1, 2, 0]
    assert out["imd_decile"].tolist()[:2] == [1, 6] and np.isnan(out["imd_decile"].iloc[2])
    assert "ruc11cd" not in out.columns


def test_map_lsoa01_report(area_tables):
    m, rep = map_lsoa01_to_lsoa11(pd.Series(["E01900001", None, "E01900002", "X"]),
                                  area_tables["lsoa01_lsoa11_lookup"], report=True)
    assert rep.counts == {"rows": 4, "missing code": 1, "mapped uniquely": 1,
                          "mapped, split LSOA (smallest 2011 code taken)": 1, "not in lookup": 1}


def test_add_area_errors(area_tables):
    df = pd.DataFrame({"lsoa11cd": ["E01000001"], "imd_decile": [3]})
    with pytest.raises(LinkError, match="already has"):
        add_area(df, tables=area_tables)
    bad = dict(area_tables)
    bad["tundra_lsoa11"] = pd.concat([area_tables["tundra_lsoa11"]] * 2)
    # a lookup whose declared key (lsoa11cd) is duplicated is refused when it is checked, before the join
    with pytest.raises(SchemaError, match="tundra_lsoa11.*lsoa11cd"):
        add_area(df.drop(columns="imd_decile"), measures=("tundra",), tables=bad)
    with pytest.raises(ValueError, match="unknown measure"):
        add_area(df, measures=("imd2025",), tables=area_tables)


def test_idbr_source_year_rule():
    assert list(idbr_source_year([201516, 201617, 201718, None])) == ["2019", "2019", "2020", None]


def test_add_employer_context():
    idbr = pd.DataFrame({"ENTKEY": ["a", "a", "b"], "SourceYear": ["2019", "2020", "2020"],
                         "Employees": ["0-9", "10-49", "1000+"], "SECTIONNAME": ["C", "C", "G"]})
    earn = pd.DataFrame({"Edukey": list("vwxyz"), "TaxYear": [201617, 201718, 201617, 201819, 201819],
                         "main_enterprise": ["a", "a", "b", "b", None]})
    out, rep = add_employer_context(earn, idbr=idbr, report=True)
    assert out["idbr_source_year"].tolist() == ["2019", "2020", "2019", "2020", "2020"]
    assert out["employer_size_band"].tolist()[:2] == ["0-9", "10-49"]
    assert pd.isna(out["employer_size_band"].iloc[2])  # b is not in the 2019 extract
    assert out["employer_sic_section"].iloc[3] == "G"
    assert rep.out_rows == 5 and rep.matched_left == 3 and rep.left_null_keys == 1


@pytest.fixture
def he():
    hesa = pd.DataFrame({
        "HE_PUPILMATCHINGREFANONYMOUS": ["a", "b", "c", "d", "a", "e"],
        "HE_XINSTID01_ANON": ["P1", "P1", "P2", "P3", "P1", "P3"],
        "HE_YEARSTU": [1, 1, 1, 1, 2, 1],
        "HE_XQLEV601": ["UG", "UG", "UG", "UG", "UG", "PGT"],
        "HE_XTARIFF": [400, np.nan, 200, 100, 400, 50],
    })
    ks5 = pd.DataFrame({"KS5_PupilMatchingRefAnonymous": ["a", "a", "b", "c", "d"],
                        "KS5_ACADYR": ["2010/2011"] * 5, "KS5_TOTPTSE": [900.0, 1000.0, 800.0, 500.0, 100.0]})
    return hesa, ks5


def test_provider_entry_tariff(he):
    hesa, ks5 = he
    prov, rep = provider_entry_tariff(hesa, ks5, report=True)
    p = prov.set_index("HE_XINSTID01_ANON")
    assert p.loc["P1", "n_entrants"] == 2 and p.loc["P1", "entry_tariff"] == 900.0  # a: best row 1000, b: 800
    assert p.loc["P3", "n_entrants"] == 1  # e is PGT
    assert p.loc["P1", "hesa_tariff"] == 400.0
    assert p["tariff_group"].tolist() == ["high", "medium", "low"]
    assert rep.steps[0].dropped["not first year of instance (HE_YEARSTU != 1)"] == 1


def test_add_provider_context_real_and_synthetic(he):
    hesa, ks5 = he
    prov = provider_entry_tariff(hesa, ks5)
    syn = pd.DataFrame({"inst_code_anon": ["U1", "U2"], "HE_XINSTID01_ANON": ["P1", "P2"],
                        "syn_tariff_group": ["high", "low"], "syn_quality_score": [1.0, -1.0],
                        "syn_contextual_adoption_cycle": [2015.0, np.nan]})
    out, rep = add_provider_context(hesa, provider_table=prov, synthetic=True,
                                    tables={"syn_he_provider": syn}, report=True)
    assert len(out) == len(hesa)
    assert out["provider_tariff_group"].tolist()[:3] == ["high", "high", "medium"]
    assert out["syn_tariff_group"].tolist()[:3] == ["high", "high", "low"]
    assert "SYNTHETIC-ONLY" in rep.steps[1].name
    ucas = pd.DataFrame({"inst_code_anon": ["U2", "U9"]})
    u = add_provider_context(ucas, "inst_code_anon", synthetic=True, tables={"syn_he_provider": syn})
    assert u["syn_quality_score"].tolist()[0] == -1.0 and np.isnan(u["syn_quality_score"].iloc[1])
    with pytest.raises(ValueError):
        add_provider_context(hesa)
