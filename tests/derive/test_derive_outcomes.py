"""Outcomes N years after graduation and at fixed ages; the kit's age convention."""

from __future__ import annotations

import pandas as pd
import pytest

import leokit.derive as d


def test_yag_rule_2018_19_graduate():
    assert d.yag_taxyear(2019, 1) == 202021
    assert d.yag_taxyear(2019, 3) == 202223
    assert d.yag_taxyear(2010, 10) == 202021


LOOKUP = pd.DataFrame({"AE_ID": [1, 2, 3], "EDUKEY": ["K1", "K2", "K3"]})


def test_outcomes_yag_attaches_person_year_outcomes():
    grads = pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, 2019]})
    earn = pd.DataFrame({"AE_ID": [1, 1, 2], "TaxYear": [201617, 201819, 202021], "paye_earnings": [20_000.0, 25_000.0, 18_000.0]})
    sus = pd.DataFrame({"AE_ID": [1, 1, 2], "TaxYear": [201617, 201920, 202021], "sustained_employment": [1, 0, 1]})
    out = d.outcomes_yag(grads, [earn, sus], edukey_map=LOOKUP).set_index(["AE_ID", "yag"])
    assert out.loc[(1, 1), "TaxYear"] == 201617 and out.loc[(1, 1), "paye_earnings"] == 20_000
    assert out.loc[(1, 1), "sustained_employment"] == 1
    # linked, no spell that year: 0 (not employed), not missing (ZERO_WHEN_NO_RECORD)
    assert out.loc[(1, 3), "TaxYear"] == 201819 and out.loc[(1, 3), "sustained_employment"] == 0
    assert out.loc[(1, 3), "has_record"] == 1  # one of the frames has a row
    assert out.loc[(1, 5), "observed"] == 1 and out.loc[(1, 10), "observed"] == 0
    assert out.loc[(2, 1), "TaxYear"] == 202021 and out.loc[(2, 1), "paye_earnings"] == 18_000
    assert len(out) == 8


def test_age_convention_matches_lead_definition():
    # KS4 2009/10 (C = 2010): age in tax year 2018/19 (T = 2018) = 2018 - 2010 + 17 = 25
    assert int(d.age_in_taxyear(2018, 2010)) == 25
    assert int(d.taxyear_at_age(29, 2010)) == 2022
    cohort = pd.DataFrame({"AE_ID": [1], "ks4_year": [2010]})
    earn = pd.DataFrame({"AE_ID": [1], "TaxYear": [201819], "paye_earnings": [21_000.0]})
    out = d.outcomes_at_age(cohort, earn, edukey_map=LOOKUP).set_index("age")
    assert out.loc[25, "TaxYear"] == 201819 and out.loc[25, "paye_earnings"] == 21_000
    assert out.loc[28, "TaxYear"] == 202122 and out.loc[28, "observed"] == 0


def test_taxyear_helpers():
    assert d.taxyear_code(2004) == 200405 and d.taxyear_code(1999) == 199900
    assert d.taxyear_start_year(200405) == 2004
    s = d.taxyear_of_date(pd.Series(pd.to_datetime(["2016-04-05", "2016-04-06", "2016-12-31"])))
    assert s.tolist() == [2015, 2016, 2016]
    assert d.acadyr_end(pd.Series(["2009/2010", "2009/10", "200910"])).tolist() == [2010, 2010, 2010]


def test_attach_keeps_types_and_refuses_repeated_person_years():
    grads = pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, 2015]})
    status = pd.DataFrame({"AE_ID": [1], "TaxYear": [201617], "activity_status": ["further study only"],
                           "flag": pd.array([1], dtype="Int64")})
    out = d.outcomes_yag(grads, status, yags=[1], edukey_map=LOOKUP).set_index("AE_ID")
    assert out.loc[1, "activity_status"] == "further study only" and pd.isna(out.loc[2, "activity_status"])
    assert out.loc[1, "flag"] == 1 and pd.isna(out.loc[2, "flag"])
    rep = pd.DataFrame({"AE_ID": [1, 1], "TaxYear": [201617, 201617], "x": [1.0, 2.0]})
    with pytest.raises(d.DerivationError, match="one row per person and tax year"):
        d.outcomes_yag(grads, rep, yags=[1], edukey_map=LOOKUP)  # a merge would silently duplicate graduates
    with pytest.raises(d.DerivationError, match="empty outcome frame"):
        d.outcomes_yag(grads, rep.iloc[:0], yags=[1], edukey_map=LOOKUP)


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


# ----------------------------------------------------------------------------------------------
# C4: unlinkable people are never counted as non-earners
# ----------------------------------------------------------------------------------------------
def _pipeline():
    """Four pupils: 1 earns, 2 is linked with no PAYE record, 3 has an AE_ID but no EDUKEY, 4 has no AE_ID."""
    cohort = pd.DataFrame({"AE_ID": pd.array([1, 2, 3, None], dtype="Int64"), "ks4_year": [2010] * 4,
                           "fsm_ever6": [1, 1, 0, 0], "school": ["s1", "s2", "s3", "s4"]})
    lookup = pd.DataFrame({"AE_ID": [1, 2, 9], "EDUKEY": ["K1", "K2", "K9"]})
    earn = pd.DataFrame({"Edukey": ["K1", "K9"], "TaxYear": [201819, 201819], "Earnings": [20_000, 30_000]})
    paye = d.annual_paye_earnings(earn, lookup)
    return cohort, lookup, paye


def test_unlinkable_people_never_count_as_zero_earners():
    cohort, lookup, paye = _pipeline()
    out = d.outcomes_at_age(cohort, paye[["AE_ID", "TaxYear", "paye_earnings"]], edukey_map=lookup, ages=[25])
    # every caller's column and every person is kept, in order
    assert out.columns[:4].tolist() == ["AE_ID", "ks4_year", "fsm_ever6", "school"]
    assert out["school"].tolist() == ["s1", "s2", "s3", "s4"]
    assert out["linked"].tolist() == [1, 1, 0, 0] and str(out["linked"].dtype) == "Int64"
    assert out["has_record"].tolist()[:2] == [1, 0] and out["has_record"].isna().tolist() == [False, False, True, True]
    assert out["linkage_status"].tolist() == ["linked, record", "linked, no record", "not linkable", "not linkable"]
    # the analyst's explicit choice "no PAYE record = zero earnings" must not touch unlinkable people
    zero_if_no_record = out["paye_earnings"].where(out["has_record"].eq(0).fillna(False) == False, 0.0)  # noqa: E712
    assert zero_if_no_record.tolist()[:2] == [20_000.0, 0.0]
    assert zero_if_no_record.iloc[2:].isna().all()
    # a mean over "everyone with a value" is over linked people only: (20,000 + 0) / 2, not / 4
    assert zero_if_no_record.mean() == pytest.approx(10_000.0)
    by_fsm = out.assign(e=zero_if_no_record).groupby("fsm_ever6")["e"].agg(["count", "mean"])
    assert by_fsm.loc[0, "count"] == 0 and by_fsm.loc[1, "count"] == 2


def test_outcome_values_are_missing_for_unlinkable_people_even_if_a_frame_has_rows():
    cohort, lookup, _ = _pipeline()
    stray = pd.DataFrame({"AE_ID": [3], "TaxYear": [201819], "paye_earnings": [0.0]})  # e.g. from another lookup
    out = d.outcomes_at_age(cohort, stray, edukey_map=lookup, ages=[25])
    assert out.loc[2, "linked"] == 0 and pd.isna(out.loc[2, "paye_earnings"]) and pd.isna(out.loc[2, "has_record"])


def test_edukey_owned_by_a_smaller_ae_id_means_not_linked():
    cohort = pd.DataFrame({"AE_ID": [4, 7], "ks4_year": [2010, 2010]})
    lookup = pd.DataFrame({"AE_ID": [4, 7], "EDUKEY": ["K1", "K1"]})  # K1 belongs to AE_ID 4 (the smallest)
    out = d.outcomes_at_age(cohort, None, edukey_map=lookup, ages=[25])
    assert out["linked"].tolist() == [1, 0]


def test_edukey_map_is_required_and_explained():
    cohort, _, paye = _pipeline()
    with pytest.raises(d.DerivationError, match="non-earner"):
        d.outcomes_at_age(cohort, paye, edukey_map=None)
    with pytest.raises(d.DerivationError, match="non-earner"):
        d.outcomes_yag(pd.DataFrame({"AE_ID": [1], "graduation_year": [2015]}), paye, edukey_map=None)
    with pytest.raises(d.DerivationError, match="non-earner"):
        d.person_year_outcomes(None, leo_earnings=pd.DataFrame({"Edukey": ["K1"], "TaxYear": [201819],
                                                                 "Earnings": [1]}))
    with pytest.raises(TypeError):
        d.outcomes_at_age(cohort, paye)  # noqa - edukey_map is a required keyword


def test_population_errors_instead_of_silent_drops():
    _, lookup, paye = _pipeline()
    with pytest.raises(d.DerivationError, match="no rows"):
        d.outcomes_at_age(pd.DataFrame({"AE_ID": pd.Series([], dtype="int64"), "ks4_year": pd.Series([], dtype="int64")}),
                          paye, edukey_map=lookup)
    with pytest.raises(d.DerivationError, match="more than one row"):
        d.outcomes_at_age(pd.DataFrame({"AE_ID": [1, 1], "ks4_year": [2010, 2011]}), paye, edukey_map=lookup)
    with pytest.raises(d.DerivationError, match="no graduation_year"):
        d.outcomes_yag(pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, None]}), paye, edukey_map=lookup)
    with pytest.raises(d.DerivationError, match="none of the requested age"):
        d.outcomes_at_age(pd.DataFrame({"AE_ID": [1], "ks4_year": [2016]}), paye, edukey_map=lookup, ages=[25, 28])
    with pytest.raises(d.DerivationError, match="already"):
        d.outcomes_at_age(pd.DataFrame({"AE_ID": [1], "ks4_year": [2010], "paye_earnings": [1.0]}), paye,
                          edukey_map=lookup, ages=[25])
    with pytest.raises(d.DerivationError, match="did you mean 'KS4_year'"):
        d.outcomes_at_age(pd.DataFrame({"AE_ID": [1], "KS4_year": [2010]}), paye, edukey_map=lookup)


def test_outcome_frame_coverage_gap_warns_or_raises():
    cohort = pd.DataFrame({"AE_ID": [1, 2], "ks4_year": [2004, 2010]})  # age 25 in 2012/13 and 2018/19
    lookup = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": ["K1", "K2"]})
    sa = pd.DataFrame({"AE_ID": [2, 2], "TaxYear": [201314, 202021], "sa_earnings": [5.0, 6.0]})
    with pytest.warns(d.CoverageWarning, match=r"201314\.\.202021.*2012"):
        out = d.outcomes_at_age(cohort, sa, edukey_map=lookup, ages=[25])
    assert out["linkage_status"].tolist() == ["linked, no record", "linked, no record"]
    with pytest.raises(d.CoverageError):
        d.outcomes_at_age(cohort, sa, edukey_map=lookup, ages=[25], on_gap="raise")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.outcomes_at_age(cohort, sa, edukey_map=lookup, ages=[25], on_gap="ignore")
        d.outcomes_at_age(cohort.iloc[1:], sa, edukey_map=lookup, ages=[25])  # covered: no warning


def test_string_tax_years_must_parse():
    cohort = pd.DataFrame({"AE_ID": [1], "ks4_year": [2010]})
    bad = pd.DataFrame({"AE_ID": [1, 1], "TaxYear": ["201819", "2018/19"], "x": [1.0, 2.0]})
    with pytest.raises(d.DerivationError, match="'2018/19'"):
        d.outcomes_at_age(cohort, bad, edukey_map=LOOKUP, ages=[25])
