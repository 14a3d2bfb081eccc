"""Earnings, days employed and benefits: small hand-made frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import leokit.derive as d
from leokit.derive import DerivationError
from leokit.errors import InputChangedWarning, RowsDroppedWarning
from leokit.linkage import resolve_edukeys


def _map(pairs):
    return pd.DataFrame(pairs, columns=["AE_ID", "EDUKEY"])


def _earn(rows):
    return pd.DataFrame(rows, columns=["Edukey", "TaxYear", "Earnings"])


def test_paye_sums_edukeys_of_one_person_and_keeps_zero():
    earn = _earn([("E1", 201516, 10_000), ("E2", 201516, 5_000), ("E1", 201617, 0), ("E3", 201516, 7)])
    m = _map([(1, "E1"), (1, "E2"), (2, "E3")])
    out = d.annual_paye_earnings(earn, m)
    assert list(out.columns) == ["AE_ID", "TaxYear", "paye_earnings", "n_edukeys_paye"]
    got = out.set_index(["AE_ID", "TaxYear"])
    assert got.loc[(1, 201516), "paye_earnings"] == 15_000
    assert got.loc[(1, 201516), "n_edukeys_paye"] == 2
    assert got.loc[(1, 201617), "paye_earnings"] == 0  # zero kept as zero, not missing
    assert got.loc[(2, 201516), "paye_earnings"] == 7


def test_paye_negative_floored_missing_stays_missing_unmapped_dropped():
    # person 1 owns two EDUKEYs (E1, E1b): their records are summed; a negative is floored at 0 (with a note)
    earn = _earn([("E1", 201516, -50), ("E1b", 201516, 100), ("E2", 201516, np.nan), ("EX", 201516, 9)])
    with pytest.warns(RowsDroppedWarning, match="1 of 4 rows dropped.*Edukey not in"):
        with pytest.warns(InputChangedWarning, match="1 negative values set to 0"):
            out = d.annual_paye_earnings(earn, _map([(1, "E1"), (1, "E1b"), (2, "E2")])).set_index("AE_ID")
    assert out.loc[1, "paye_earnings"] == 100
    assert np.isnan(out.loc[2, "paye_earnings"])
    assert "EX" not in out.index and len(out) == 2
    # the same record twice (E1, 201516) used to be summed silently; it is refused, naming the key
    with pytest.raises(DerivationError, match=r"leo_earnings.*Edukey, TaxYear.*unique"):
        d.annual_paye_earnings(_earn([("E1", 201516, 50), ("E1", 201516, 100)]), _map([(1, "E1")]))


def test_paye_without_mapping_is_keyed_by_edukey():
    out = d.annual_paye_earnings(_earn([("E1", 201516, 10)]))
    assert list(out.columns[:2]) == ["EDUKEY", "TaxYear"]


def test_missing_column_raises_naming_it():
    with pytest.raises(DerivationError, match="Earnings") as e:
        d.annual_paye_earnings(pd.DataFrame({"Edukey": ["E1"], "TaxYear": [201516]}))
    assert e.value.missing_columns == ["Earnings"]
    assert isinstance(e.value, ValueError)


def test_sa_before_201314_ignored_and_total_floors_losses():
    sa = pd.DataFrame({"Edukey": ["E1", "E1", "E1", "E2"], "TaxYear": [201213, 201314, 201415, 201415],
                       "EARNINGS_SELF_EMPLOYMENT": [9_999, 2_000, -500, np.nan]})
    m = _map([(1, "E1"), (2, "E2")])
    s = d.sa_earnings(sa, m)
    assert s["TaxYear"].tolist() == [201314, 201415]  # 201213 dropped, all-missing E2 dropped
    paye = d.annual_paye_earnings(_earn([("E1", 201415, 1_000), ("E2", 201213, 3_000)]), m)
    t = d.total_earnings(paye, s).set_index(["AE_ID", "TaxYear"])
    assert t.loc[(1, 201314), "total_earnings"] == 2_000 and t.loc[(1, 201314), "has_paye"] == 0
    assert t.loc[(1, 201415), "total_earnings"] == 1_000  # loss floored at 0
    assert t.loc[(1, 201415), "sa_earnings"] == -500  # kept as reported in sa_earnings
    assert t.loc[(2, 201213), "total_earnings"] == 3_000 and t.loc[(2, 201213), "has_sa"] == 0


def test_deflator_file_and_real_earnings():
    dfl = d.load_deflator()
    assert {"tax_year", "cpih_index", "status"} <= set(dfl.columns)
    assert dfl["tax_year"].is_monotonic_increasing and (dfl["cpih_index"].diff().dropna() > 0).all()
    assert set(dfl["status"]) == {"approximate"}  # honest until replaced by ONS L522 values
    assert 200304 in set(dfl["tax_year"]) and 202021 in set(dfl["tax_year"])
    f = pd.DataFrame({"TaxYear": [201516, 202021, 199900], "total_earnings": [100.0, 100.0, 100.0]})
    with pytest.warns(d.CoverageWarning, match="199900"):
        r = d.real_earnings(f, base_taxyear=202021)
    idx = dfl.set_index("tax_year")["cpih_index"]
    assert r["real_earnings"].iloc[0] == pytest.approx(100 * idx[202021] / idx[201516])
    assert r["real_earnings"].iloc[1] == pytest.approx(100.0)
    assert np.isnan(r["real_earnings"].iloc[2])
    r0 = d.real_earnings(f, on_gap="ignore")  # 2015 = 100 prices
    assert r0["real_earnings"].iloc[0] == pytest.approx(100 * 100 / idx[201516])
    with pytest.raises(DerivationError):
        d.real_earnings(f, base_taxyear=190001)
    with pytest.raises(d.CoverageError):
        d.real_earnings(f, on_gap="raise")


def test_earnings_refuse_text_that_is_not_numbers():
    lk = _map([(1, "E1")])
    ok = pd.DataFrame({"Edukey": ["E1", "E1"], "TaxYear": ["201617", "201718"], "Earnings": ["100", "250"]})
    out = d.annual_paye_earnings(ok, lk)
    assert out["TaxYear"].tolist() == [201617, 201718] and out["paye_earnings"].tolist() == [100.0, 250.0]
    bad = ok.assign(Earnings=["100", "n/a"])
    with pytest.raises(DerivationError, match=r"leo_earnings: column 'Earnings' must be numeric.*'n/a'"):
        d.annual_paye_earnings(bad, lk)
    with pytest.raises(DerivationError, match=r"'TaxYear'.*'2016/17'"):
        d.annual_paye_earnings(ok.assign(TaxYear=["201617", "2016/17"]), lk)
    sa = pd.DataFrame({"Edukey": ["E1"], "TaxYear": [201718], "EARNINGS_SELF_EMPLOYMENT": ["loss"]})
    with pytest.raises(DerivationError, match="EARNINGS_SELF_EMPLOYMENT"):
        d.sa_earnings(sa, lk)
    with pytest.raises(DerivationError, match="total_earnings"):
        d.real_earnings(pd.DataFrame({"TaxYear": [201516], "total_earnings": ["lots"]}))


def _emp(rows, key="EduKey"):
    return pd.DataFrame(rows, columns=[key, "StartDate", "EndDate"]).assign(
        StartDate=lambda x: pd.to_datetime(x["StartDate"]), EndDate=lambda x: pd.to_datetime(x["EndDate"]))


def test_days_employed_full_leap_tax_year_is_366():
    out = d.days_employed(_emp([("E1", "2015-04-06", "2016-04-05")]), _map([(1, "E1")]))
    assert out.to_dict("records") == [{"AE_ID": 1, "TaxYear": 201516, "days_employed": 366}]


def test_days_employed_split_across_tax_years_and_overlaps_counted_once():
    spells = _emp([
        ("E1", "2016-04-01", "2016-04-10"),  # 1-5 Apr in 201516 (5 days), 6-10 Apr in 201617 (5 days)
        ("E2", "2016-04-08", "2016-04-12"),  # same person, overlaps: adds 11-12 Apr only
        ("E3", "2016-05-01", None),           # open spell -> closed 5 April 2021
    ])
    out = d.days_employed(spells, _map([(1, "E1"), (1, "E2"), (2, "E3")])).set_index(["AE_ID", "TaxYear"])["days_employed"]
    assert out[(1, 201516)] == 5
    assert out[(1, 201617)] == 7
    assert out[(2, 201617)] == 340  # 1 May 2016 - 5 Apr 2017
    assert out[(2, 202021)] == 365
    assert (2, 202122) not in out.index


def test_annualised_earnings():
    paye = pd.DataFrame({"AE_ID": [1, 2], "TaxYear": [201516, 201516], "paye_earnings": [10_000.0, 500.0]})
    days = pd.DataFrame({"AE_ID": [1], "TaxYear": [201516], "days_employed": [73]})
    out = d.annualised_earnings(paye, days).set_index("AE_ID")
    assert out.loc[1, "annualised_earnings"] == pytest.approx(10_000 / 73 * 365)
    assert np.isnan(out.loc[2, "annualised_earnings"]) and out.loc[2, "days_employed"] == 0


def test_out_of_work_benefit_days_flag_or_code():
    ben = pd.DataFrame({
        "EduKey": ["E1", "E1", "E1", "E2"],
        "StartDate": pd.to_datetime(["2016-04-06", "2016-04-20", "2016-06-01", "2016-04-06"]),
        "EndDate": pd.to_datetime(["2016-04-30", "2016-05-05", "2016-06-10", "2016-04-30"]),
        "Benefit_type": ["JSA", "ESA", "DLA", "DLA"],
        "Out_of_work_benefit": [1, 0, 0, 0],  # ESA flagged 0 but on the FFT out-of-work list -> counted
    })
    out = d.out_of_work_benefit_days(ben, _map([(1, "E1"), (2, "E2")]))
    assert out.to_dict("records") == [{"AE_ID": 1, "TaxYear": 201617, "oow_benefit_days": 30, "any_oow_benefit": 1}]


def test_empty_inputs_are_refused():
    # an empty LEO table used to give an empty output silently; it is now refused, naming the table
    m = _map([(1, "E1")])
    e = _earn([]).astype({"Edukey": "str", "TaxYear": "int64", "Earnings": "float64"})
    with pytest.raises(DerivationError, match="leo_earnings.*0 rows"):
        d.annual_paye_earnings(e, m)
    sp = _emp([]).astype({"EduKey": "str"})
    with pytest.raises(DerivationError, match="leo_employment.*0 rows"):
        d.days_employed(sp, m)
    with pytest.raises(DerivationError, match="leo_employment.*0 rows"):
        d.sustained_employment(sp, m)
    emp = pd.DataFrame({"AE_ID": pd.Series([], dtype="int64"), "TaxYear": pd.Series([], dtype="int64"),
                        "main_enterprise": pd.Series([], dtype="str")})
    assert len(d.coworker_loo(emp, pd.DataFrame({"AE_ID": [1], "g": [1.0]}), ["g"])) == 0


def test_edukey_with_two_owners_goes_to_smallest_ae_id():
    earn = _earn([("E1", 201516, 100)])
    out = d.annual_paye_earnings(earn, _map([(5, "E1"), (3, "E1")]))
    assert out["AE_ID"].tolist() == [3] and out["paye_earnings"].tolist() == [100]  # counted once
    lk = _map([(5, "E1"), (3, "E1"), (7, "E2")])
    res = resolve_edukeys(lookups={"learner_ae_id_to_edukey_lookup": lk})
    pd.testing.assert_frame_equal(
        d.annual_paye_earnings(_earn([("E1", 201516, 100), ("E2", 201516, 5)]), lk),
        d.annual_paye_earnings(_earn([("E1", 201516, 100), ("E2", 201516, 5)]), res[["AE_ID", "EDUKEY"]]))
