"""Higher education: entry, subject group, graduation and degree class, tariff group."""

from __future__ import annotations

import pandas as pd
import pytest

from leokit.errors import RowsDroppedWarning

import leokit.derive as d

PMR = "PupilMatchingRefAnonymous"


def _hesa():
    h11 = pd.DataFrame({"HE_PUPILMATCHINGREFANONYMOUS": ["a", "b", "c"], "HE_XINSTID01_ANON": ["I1", "I2", "I3"],
                        "HE_XQLEV601": ["UG", "UG", "PGT"], "HE_YEARPRG": [1, 2, 1], "HE_XPQUAL01": [0, 0, 0],
                        "HE_XCLASS01": ["06", "06", "06"], "HE_XJACS01_1": ["L100", "W300", "N100"]})
    h12 = pd.DataFrame({"HE_PUPILMATCHINGREFANONYMOUS": ["a", "b"], "HE_XINSTID01_ANON": ["I1", "I2"],
                        "HE_XQLEV601": ["UG", "UG"], "HE_YEARPRG": [2, 3], "HE_XPQUAL01": [0, 1],
                        "HE_XCLASS01": ["06", "02"], "HE_XJACS01_1": ["L100", "W300"]})
    h13 = pd.DataFrame({"HE_PUPILMATCHINGREFANONYMOUS": ["a"], "HE_XINSTID01_ANON": ["I1"], "HE_XQLEV601": ["UG"],
                        "HE_YEARPRG": [3], "HE_XPQUAL01": [1], "HE_XCLASS01": ["01"], "HE_XJACS01_1": ["L100"]})
    return d.stack_hesa({"hesa_2011": h11, 2012: h12, "hesa_2013": h13})


def test_jacs_subject_groups():
    g = d.jacs_subject_group(pd.Series(["A100", "L100", "L300", "F300", "W300", "X100", "B700", "Q300", "Z999", None]))
    assert g.tolist() == ["medicine", "econ_business_law", "social_science", "stem", "creative_arts",
                          "education_health", "education_health", "humanities", None, None]
    assert set(d.JACS_SUBJECT_GROUP.values()) == set(d.SUBJECT_GROUPS)


def test_he_entry_with_fallback():
    out = d.he_entry(_hesa()).set_index(PMR)
    assert out.loc["a", "he_entry_year"] == 2011 and out.loc["a", "he_entry_fallback"] == 0
    assert out.loc["b", "he_entry_year"] == 2011 and out.loc["b", "he_entry_fallback"] == 1  # first seen in year 2
    assert "c" not in out.index  # postgraduate only
    assert out.loc["a", "he_entry_subject"] == "econ_business_law"


def test_graduation_year_and_degree_class():
    out = d.graduation(_hesa()).set_index(PMR)
    assert out.loc["a", "graduation_year"] == 2013 and out.loc["a", "degree_class"] == "first"
    assert out.loc["b", "graduation_year"] == 2012 and out.loc["b", "degree_class"] == "upper second"
    assert out["good_degree"].tolist() == [1, 1]
    sg = d.subject_group(_hesa()).set_index(PMR)["subject_group"]
    assert sg.to_dict() == {"a": "econ_business_law", "b": "creative_arts"}


def test_provider_tariff_group_from_ucas_firm_accepted():
    app = pd.DataFrame({"PupilMatchingRefAnonymous": ["a", "a", "b"], "unique_id_cycle": ["u1", "u2", "u3"],
                        "accept_flag": [1, 1, 0]})
    apps = pd.DataFrame({"unique_id_cycle": ["u1", "u1", "u2", "u3"], "application_cycle": [2010, 2010, 2011, 2011],
                         "app_response_june30": ["Firm", "Insurance", "Firm", "Firm"],
                         "he_provider_tariff_group": ["low", "high", "medium", "high"]})
    out = d.provider_tariff_group(app, apps)
    assert out.to_dict("records") == [{PMR: "a", "application_cycle": 2011, "provider_tariff_group": "medium"}]
    syn = pd.DataFrame({"HE_XINSTID01_ANON": ["I1"], "syn_tariff_group": ["high"]})
    s = d.provider_tariff_group_syn(d.he_entry(_hesa()), syn).set_index(PMR)
    assert s.loc["a", "provider_tariff_group_syn"] == "high" and pd.isna(s.loc["b", "provider_tariff_group_syn"])


def test_pmr_to_person_smallest_ae_id_and_unmatched_dropped():
    grads = pd.DataFrame({PMR: ["a", "b", "z"], "graduation_year": [2015, 2016, 2017]})
    lk = pd.DataFrame({"AE_ID": [9, 4, 7], "PUPILMATCHINGREFANONYMOUS": ["a", "a", "b"]})
    # how="inner" drops the unmatched pupil, and says so; the default (how="left", as add_ae_id) keeps it
    with pytest.warns(RowsDroppedWarning, match="1 of 3 rows dropped"):
        out = d.pmr_to_person(grads, lk, how="inner")
    assert out[[PMR, "AE_ID"]].values.tolist() == [["a", 4], ["b", 7]]
    kept = d.pmr_to_person(grads, lk)
    assert kept[PMR].tolist() == ["a", "b", "z"] and pd.isna(kept["AE_ID"].iloc[2])


def test_economics_is_l1_only():
    codes = pd.Series([f"L{i}00" for i in range(1, 10)] + ["L110", "L190", "K100"])
    g = d.jacs_subject_group(codes).tolist()
    assert g[0] == "econ_business_law" and g[9:11] == ["econ_business_law", "econ_business_law"]
    assert set(g[1:9]) == {"social_science"} and g[11] == "social_science"


def _hesa_2020_cah_only():
    h20 = pd.DataFrame({"HE_PUPILMATCHINGREFANONYMOUS": ["p", "q", "r"], "HE_XINSTID01_ANON": ["I1"] * 3,
                        "HE_XQLEV601": ["UG"] * 3, "HE_YEARPRG": [1, 1, 1], "HE_XPQUAL01": [0, 0, 0],
                        "HE_XCLASS01": ["06"] * 3, "HE_XJACS01_1": ["F300", None, None],
                        "HE_XCAH01_1": ["CAH07-01-01", "CAH15-02-01", "CAH15-01-01"]})
    return d.stack_hesa({2020: h20})


def test_cah_only_records_warn_without_a_mapping_and_map_with_one():
    h = _hesa_2020_cah_only()
    with pytest.warns(d.CoverageWarning, match="2 first-degree records .*HESA years 2020.*CAH"):
        sg = d.subject_group(h).set_index(PMR)["subject_group"]
    assert sg.to_dict() == {"p": "stem"}  # q and r: missing, not guessed
    with pytest.raises(d.CoverageError):
        d.subject_group(h, on_gap="raise")
    groups = {"CAH15": "social_science", "CAH15-02": "econ_business_law", "CAH07": "stem"}
    sg = d.subject_group(h, cah_groups=groups).set_index(PMR)["subject_group"]
    assert sg.to_dict() == {"p": "stem", "q": "econ_business_law", "r": "social_science"}  # longest prefix wins
    assert d.he_entry(h, cah_groups=groups).set_index(PMR)["he_entry_subject"].to_dict() == sg.to_dict()
    with pytest.raises(d.DerivationError, match="unknown subject group"):
        d.cah_subject_group(pd.Series(["CAH01-01-01"]), {"CAH01": "doctors"})


def test_hesa_flags_must_be_numbers():
    h = _hesa().assign(HE_XPQUAL01=lambda x: x["HE_XPQUAL01"].map({0: "no", 1: "yes"}))
    with pytest.raises(d.DerivationError, match="HE_XPQUAL01"):
        d.graduation(h)
    ok = _hesa().assign(HE_XPQUAL01=lambda x: x["HE_XPQUAL01"].astype(str))
    assert d.graduation(ok)["graduation_year"].tolist() == [2013, 2012]
