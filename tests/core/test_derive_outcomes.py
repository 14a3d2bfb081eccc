"""Outcomes N years after graduation and at fixed ages; the kit's age convention."""

from __future__ import annotations

import pandas as pd
import pytest

import leokit.derive as d


def test_yag_rule_2018_19_graduate():
    assert d.yag_taxyear(2019, 1) == 202021
    assert d.yag_taxyear(2019, 3) == 202223
    assert d.yag_taxyear(2010, 10) == 202021


def test_outcomes_yag_attaches_person_year_outcomes():
    grads = pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, 2019]})
    earn = pd.DataFrame({"AE_ID": [1, 1, 2], "TaxYear": [201617, 201819, 202021], "paye_earnings": [20_000.0, 25_000.0, 18_000.0]})
    sus = pd.DataFrame({"AE_ID": [1], "TaxYear": [201617], "sustained_employment": [1]})
    out = d.outcomes_yag(grads, [earn, sus]).set_index(["AE_ID", "yag"])
    assert out.loc[(1, 1), "TaxYear"] == 201617 and out.loc[(1, 1), "paye_earnings"] == 20_000
    assert out.loc[(1, 1), "sustained_employment"] == 1
    assert out.loc[(1, 3), "TaxYear"] == 201819 and pd.isna(out.loc[(1, 3), "sustained_employment"])
    assert out.loc[(1, 5), "observed"] == 1 and out.loc[(1, 10), "observed"] == 0
    assert out.loc[(2, 1), "TaxYear"] == 202021 and out.loc[(2, 1), "paye_earnings"] == 18_000
    assert len(out) == 8


def test_age_convention_matches_lead_definition():
    # KS4 2009/10 (C = 2010): age in tax year 2018/19 (T = 2018) = 2018 - 2010 + 17 = 25
    assert int(d.age_in_taxyear(2018, 2010)) == 25
    assert int(d.taxyear_at_age(29, 2010)) == 2022
    cohort = pd.DataFrame({"AE_ID": [1], "ks4_year": [2010]})
    earn = pd.DataFrame({"AE_ID": [1], "TaxYear": [201819], "paye_earnings": [21_000.0]})
    out = d.outcomes_at_age(cohort, earn).set_index("age")
    assert out.loc[25, "TaxYear"] == 201819 and out.loc[25, "paye_earnings"] == 21_000
    assert out.loc[28, "TaxYear"] == 202122 and out.loc[28, "observed"] == 0


def test_taxyear_helpers():
    assert d.taxyear_code(2004) == 200405 and d.taxyear_code(1999) == 199900
    assert d.taxyear_start_year(200405) == 2004
    s = d.taxyear_of_date(pd.Series(pd.to_datetime(["2016-04-05", "2016-04-06", "2016-12-31"])))
    assert s.tolist() == [2015, 2016, 2016]
    assert d.acadyr_end(pd.Series(["2009/2010", "2009/10", "200910"])).tolist() == [2010, 2010, 2010]


def test_attach_keeps_types_and_handles_repeated_person_years():
    grads = pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, 2015]})
    status = pd.DataFrame({"AE_ID": [1], "TaxYear": [201617], "activity_status": ["further study only"],
                           "flag": pd.array([1], dtype="Int64")})
    out = d.outcomes_yag(grads, status, yags=[1]).set_index("AE_ID")
    assert out.loc[1, "activity_status"] == "further study only" and pd.isna(out.loc[2, "activity_status"])
    assert out.loc[1, "flag"] == 1 and pd.isna(out.loc[2, "flag"])
    rep = pd.DataFrame({"AE_ID": [1, 1], "TaxYear": [201617, 201617], "x": [1.0, 2.0]})
    assert len(d.outcomes_yag(grads, rep, yags=[1])) == 3  # merge fallback: rows multiply, as a merge does
    assert d.outcomes_yag(grads, rep.iloc[:0], yags=[1])["x"].isna().all()


def test_person_year_outcomes_combines_everything():
    m = pd.DataFrame({"AE_ID": [1, 2, 3], "EDUKEY": ["E1", "E2", "E3"]})
    earn = pd.DataFrame({"Edukey": ["E1", "E2"], "TaxYear": [201617, 201617], "Earnings": [20_000, 3_000]})
    sa = pd.DataFrame({"Edukey": ["E3"], "TaxYear": [201617], "EARNINGS_SELF_EMPLOYMENT": [9_000]})
    emp = pd.DataFrame({"EduKey": ["E1", "E2"], "StartDate": pd.to_datetime(["2016-04-06", "2016-12-01"]),
                        "EndDate": pd.to_datetime(["2017-04-05", "2017-01-31"])})
    ben = pd.DataFrame({"EduKey": ["E2"], "StartDate": pd.to_datetime(["2016-06-01"]),
                        "EndDate": pd.to_datetime(["2016-06-30"]), "Benefit_type": ["JSA"], "Out_of_work_benefit": [1]})
    out = d.person_year_outcomes(m, leo_earnings=earn, leo_self_assessment=sa, leo_employment=emp, leo_benefit=ben)
    out = out.set_index("AE_ID")
    assert out.loc[1, "days_employed"] == 365 and out.loc[1, "sustained_employment"] == 1
    assert out.loc[1, "annualised_earnings"] == pytest.approx(20_000.0)
    assert out.loc[1, "activity_status"] == "sustained employment only"
    assert out.loc[2, "months_employed_oct_mar"] == 2 and out.loc[2, "oow_benefit_days"] == 30
    assert out.loc[2, "activity_status"] == "employment not sustained"
    assert out.loc[3, "total_earnings"] == 9_000 and out.loc[3, "days_employed"] == 0
    assert out.loc[3, "activity_status"] == "employment not sustained"  # SA only, not counted as sustained
    out2 = d.person_year_outcomes(m, leo_self_assessment=sa, leo_employment=emp,
                                  sa_counts_as_sustained=True).set_index("AE_ID")
    assert out2.loc[3, "sustained_employment"] == 1
    with pytest.raises(d.DerivationError):
        d.person_year_outcomes(m)
