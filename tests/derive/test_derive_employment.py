"""Sustained employment (5 of 6 months October-March) and activity status."""

from __future__ import annotations

import pandas as pd

import leokit.derive as d

M = pd.DataFrame({"AE_ID": [1, 1, 2, 3, 4, 5], "EDUKEY": ["E1", "E1b", "E2", "E3", "E4", "E5"]})


def _emp(rows):
    f = pd.DataFrame(rows, columns=["EduKey", "StartDate", "EndDate"])
    return f.assign(StartDate=pd.to_datetime(f["StartDate"]), EndDate=pd.to_datetime(f["EndDate"]))


def _sus(rows):
    return d.sustained_employment(_emp(rows), M).set_index(["AE_ID", "TaxYear"])


def test_five_months_is_sustained_four_is_not():
    out = _sus([
        ("E1", "2016-10-01", "2017-02-28"),  # Oct-Feb = 5 months -> sustained
        ("E2", "2016-10-01", "2017-01-31"),  # Oct-Jan = 4 months -> not
    ])
    assert out.loc[(1, 201617), "months_employed_oct_mar"] == 5
    assert out.loc[(1, 201617), "sustained_employment"] == 1
    assert out.loc[(2, 201617), "months_employed_oct_mar"] == 4
    assert out.loc[(2, 201617), "sustained_employment"] == 0


def test_one_day_in_a_month_counts_and_shared_months_count_once():
    out = _sus([
        ("E1", "2016-10-31", "2016-11-02"),   # touches Oct and Nov
        ("E1b", "2016-11-20", "2016-12-01"),  # Nov (again) and Dec -> Oct, Nov, Dec = 3
        ("E1", "2017-01-15", "2017-01-16"),   # Jan -> 4
        ("E1", "2017-03-31", "2017-04-05"),   # Mar -> 5 (April days are outside the window)
        ("E3", "2016-04-06", "2016-09-30"),   # spell in the tax year but not in Oct-Mar -> 0 months
    ])
    assert out.loc[(1, 201617), "months_employed_oct_mar"] == 5
    assert out.loc[(1, 201617), "sustained_employment"] == 1
    assert out.loc[(3, 201617), "months_employed_oct_mar"] == 0
    assert out.loc[(3, 201617), "sustained_employment"] == 0


def test_long_spell_spans_years():
    out = _sus([("E4", "2015-11-15", "2018-05-01")])
    assert out.loc[(4, 201516), "months_employed_oct_mar"] == 5  # Nov-Mar
    assert out.loc[(4, 201617), "sustained_employment"] == 1
    assert out.loc[(4, 201718), "months_employed_oct_mar"] == 6
    assert out.loc[(4, 201819), "months_employed_oct_mar"] == 0  # only April 2018


def test_self_employment_counts_as_sustained_when_sa_given():
    sa = pd.DataFrame({"AE_ID": [5, 2], "TaxYear": [201617, 201617], "sa_earnings": [3000.0, 0.0]})
    out = d.sustained_employment(_emp([("E2", "2016-10-01", "2016-11-30")]), M, sa=sa).set_index(["AE_ID", "TaxYear"])
    assert out.loc[(5, 201617), "sustained_employment"] == 1
    assert out.loc[(5, 201617), "months_employed_oct_mar"] == 0
    assert out.loc[(2, 201617), "sustained_employment"] == 0  # zero SA earnings do not count


def test_activity_status_precedence():
    pop = pd.DataFrame({"AE_ID": [1, 2, 3, 4, 5, 6], "TaxYear": [202021] * 6})
    sus = pd.DataFrame({"AE_ID": [1, 2, 3], "TaxYear": [202021] * 3, "sustained_employment": [1, 1, 0]})
    days = pd.DataFrame({"AE_ID": [1, 2, 3], "TaxYear": [202021] * 3, "days_employed": [200, 200, 30]})
    ben = pd.DataFrame({"AE_ID": [3, 5], "TaxYear": [202021] * 2, "any_oow_benefit": [1, 1]})
    study = pd.DataFrame({"AE_ID": [2, 4], "TaxYear": [202021] * 2})
    out = d.activity_status(pop, sustained=sus, days=days, benefits=ben, study=study).set_index("AE_ID")
    assert out["activity_status"].to_dict() == {
        1: "sustained employment only",
        2: "sustained employment and further study",
        3: "employment not sustained",
        4: "further study only",
        5: "out-of-work benefits",
        6: "no activity captured",
    }
    assert out.loc[3, "go_category"] == "no sustained destination"
    assert out.loc[6, "go_category"] == "activity not captured"
    assert set(out["activity_status"]) <= set(d.ACTIVITY_CATEGORIES)


def test_hesa_study_taxyears_maps_academic_year_to_tax_year():
    hesa = pd.DataFrame({"HE_PUPILMATCHINGREFANONYMOUS": ["P1"], "hesa_year": [2021]})
    out = d.hesa_study_taxyears(hesa, pd.DataFrame({"AE_ID": [7], "PUPILMATCHINGREFANONYMOUS": ["P1"]}))
    assert out.to_dict("records") == [{"AE_ID": 7, "TaxYear": 202021}]
