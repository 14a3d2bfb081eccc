"""Property tests: the vectorised spell arithmetic equals a day-by-day brute force on random spells."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import leokit.derive as d
from leokit.derive._common import group_index, merge_intervals

BASE = dt.date(2012, 1, 1)
spell = st.tuples(st.integers(0, 2), st.integers(0, 5 * 365), st.integers(0, 500))  # person, start offset, length


def _frame(spells):
    rows = [(f"E{p}", BASE + dt.timedelta(days=s), BASE + dt.timedelta(days=s + n)) for p, s, n in spells]
    f = pd.DataFrame(rows, columns=["EduKey", "StartDate", "EndDate"])
    return f.assign(StartDate=pd.to_datetime(f["StartDate"]), EndDate=pd.to_datetime(f["EndDate"]))


def _brute(spells):
    """person -> set of covered dates."""
    cover: dict[str, set] = {}
    for p, s, n in spells:
        for k in range(n + 1):
            cover.setdefault(f"E{p}", set()).add(BASE + dt.timedelta(days=s + k))
    return cover


def _ty(day: dt.date) -> int:
    return day.year - (1 if (day.month, day.day) < (4, 6) else 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(spell, min_size=1, max_size=8))
def test_days_and_months_match_brute_force(spells):
    f = _frame(spells)
    days = d.days_employed(f).set_index(["EDUKEY", "TaxYear"])["days_employed"].to_dict()
    sus = d.sustained_employment(f).set_index(["EDUKEY", "TaxYear"])["months_employed_oct_mar"].to_dict()
    want_days: dict = {}
    want_months: dict = {}
    for person, dates in _brute(spells).items():
        for day in dates:
            key = (person, d.taxyear_code(_ty(day)))
            want_days[key] = want_days.get(key, 0) + 1
            want_months.setdefault(key, set())
            if day.month >= 10 or day.month <= 3:
                want_months[key].add((day.year, day.month))
    assert days == want_days
    assert sus == {k: len(v) for k, v in want_months.items()}


@settings(max_examples=60, deadline=None)
@given(st.lists(spell, min_size=1, max_size=8))
def test_merge_intervals_is_a_disjoint_union(spells):
    f = _frame(spells)
    m = merge_intervals(f, ["EduKey"], "StartDate", "EndDate")
    got: dict[str, set] = {}
    for r in m.itertuples(index=False):
        days = pd.date_range(r.StartDate, r.EndDate).date
        assert not (got.setdefault(r.EduKey, set()) & set(days))  # disjoint
        got[r.EduKey] |= set(days)
    assert got == _brute(spells)
    # abutting spells merged: gaps between consecutive intervals of a person are >= 1 day
    for _, g in m.groupby("EduKey"):
        assert ((g["StartDate"].iloc[1:].to_numpy() - g["EndDate"].iloc[:-1].to_numpy()) > np.timedelta64(1, "D")).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", None, "c"]), st.integers(-3, 3), st.integers(0, 10**9)),
                min_size=1, max_size=30))
def test_group_index_matches_groupby_ngroup(rows):
    df = pd.DataFrame(rows, columns=["s", "i", "big"])
    for cols in (["s"], ["i"], ["s", "i"], ["big", "i"], ["i", "big", "s"]):
        gid, keys = group_index(df, cols)
        want = df.groupby(cols, sort=True, dropna=True).ngroup().fillna(-1).astype("int64").to_numpy()
        assert (gid == want).all()
        exp_keys = df.dropna(subset=cols).drop_duplicates(cols).sort_values(cols)[cols].reset_index(drop=True)
        pd.testing.assert_frame_equal(keys.reset_index(drop=True), exp_keys, check_dtype=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(201011, 201015)), max_size=20),
       st.lists(st.tuples(st.integers(0, 5), st.integers(201011, 201015)), max_size=20))
def test_lookup_rows_equals_left_merge(left_rows, right_rows):
    from leokit.derive._common import lookup_rows

    left = pd.DataFrame(left_rows, columns=["AE_ID", "TaxYear"], dtype="int64")
    right = pd.DataFrame(right_rows, columns=["AE_ID", "TaxYear"], dtype="int64")
    right = right.drop_duplicates().sort_values(["AE_ID", "TaxYear"]).reset_index(drop=True)
    right["pos"] = np.arange(len(right))
    pos = lookup_rows(left, right, ["AE_ID", "TaxYear"])
    want = left.merge(right, on=["AE_ID", "TaxYear"], how="left")["pos"].fillna(-1).astype("int64").to_numpy()
    assert pos is not None and (pos == want).all()
    if len(right) > 1:
        assert lookup_rows(left, right.iloc[::-1], ["AE_ID", "TaxYear"]) is None  # unsorted: no fast path
