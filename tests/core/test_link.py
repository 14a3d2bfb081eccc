"""Linkage: stated cardinality, missing keys, row accounting (property-based), person resolution."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leokit.errors import CardinalityError, ChainReport, LinkError, MatchReport
from leokit.linkage import (
    PMR,
    add_ae_id,
    edukeys_for_pmr,
    find_column,
    link,
    outcomes_by_person,
    person_lookup,
    resolve_edukeys,
)

FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------
# link: examples
# ----------------------------------------------------------------------------------------------
def test_link_m1_report():
    left = pd.DataFrame({"k": [1, 2, 2, 3, None], "a": range(5)})
    right = pd.DataFrame({"k": [2, 3, 4], "b": ["x", "y", "z"]})
    out, rep = link(left, right, on="k", how="inner", expect="m:1", report=True)
    assert isinstance(rep, MatchReport)
    assert len(out) == 3 and rep.pairs == 3
    assert (rep.left_rows, rep.matched_left, rep.unmatched_left, rep.left_null_keys) == (5, 3, 2, 1)
    assert (rep.right_rows, rep.matched_right, rep.unmatched_right) == (3, 2, 1)
    assert rep.dropped == {"left rows with a missing key": 1, "left rows with no match in right": 1,
                           "right rows with no match in left (not in output)": 1}
    assert rep.duplicates_left == 0 and rep.duplicates_right == 1
    assert "matched pairs: 3" in str(rep)


def test_link_missing_keys_never_match():
    left = pd.DataFrame({"k": ["a", None], "x": [1, 2]})
    right = pd.DataFrame({"k": [None, "a"], "y": [3, 4]})
    assert len(pd.merge(left, right, on="k")) == 2  # what plain pandas does
    out, rep = link(left, right, on="k", how="outer", expect="1:1", report=True)
    assert len(out) == 3 and rep.pairs == 1 and rep.kept_unmatched_left == 1 and rep.kept_unmatched_right == 1
    assert link(left, right, on="k").shape[0] == 1


def test_link_cardinality_errors():
    left = pd.DataFrame({"k": [1, 1, 2]})
    right = pd.DataFrame({"k": [1, 2, 2, 2]})
    with pytest.raises(CardinalityError, match=r"right frame.*k=2.*x3"):
        link(left, right, on="k", expect="m:1", name="test")
    with pytest.raises(CardinalityError, match="left frame"):
        link(left, right, on="k", expect="1:m")
    with pytest.raises(CardinalityError):
        link(left, right, on="k", expect="1:1")
    assert len(link(left, right, on="k", expect="m:m")) == 2 + 3


def test_link_all_missing_key_is_compatible_with_any_type():
    left = pd.DataFrame({"lsoa": [np.nan, np.nan]})
    out, rep = link(left, pd.DataFrame({"lsoa": ["E01"], "v": [1]}), on="lsoa", how="left", expect="m:1", report=True)
    assert len(out) == 2 and rep.left_null_keys == 2 and rep.pairs == 0


def test_link_duplicate_missing_keys_are_not_a_cardinality_violation():
    left = pd.DataFrame({"k": [1, None, None]})
    right = pd.DataFrame({"k": [1, None, None]})
    assert len(link(left, right, on="k", expect="1:1")) == 1


def test_link_type_mismatch_and_missing_column():
    left = pd.DataFrame({"AE_ID": [1, 2]})
    right = pd.DataFrame({"AE_ID": ["1", "2"]})
    with pytest.raises(LinkError, match="number.*text"):
        link(left, right, on="AE_ID")
    with pytest.raises(LinkError, match="did you mean"):
        link(left, pd.DataFrame({"AE_IDs": [1]}), left_on="AE_ID", right_on="AE_ID_")
    with pytest.raises(ValueError):
        link(left, left, on="AE_ID", expect="2:1")


def test_link_different_key_names_and_multi_keys():
    left = pd.DataFrame({"ent": ["e1", "e1", "e2"], "yr": ["2019", "2020", "2019"]})
    right = pd.DataFrame({"ENTKEY": ["e1", "e1", "e2"], "yr": ["2019", "2020", "2020"], "size": [1, 2, 3]})
    out, rep = link(left, right, left_on=["ent", "yr"], right_on=["ENTKEY", "yr"], how="left",
                    expect="1:1", report=True)
    assert out["size"].tolist()[:2] == [1, 2] and np.isnan(out["size"].iloc[2])
    assert rep.keys == "ent=ENTKEY, yr"


# ----------------------------------------------------------------------------------------------
# link: properties
# ----------------------------------------------------------------------------------------------
keys = st.one_of(st.none(), st.integers(0, 5))
frames = st.lists(keys, min_size=0, max_size=12)


@FAST
@given(lk=frames, rk=frames, how=st.sampled_from(["inner", "left", "right", "outer"]))
def test_link_row_accounting(lk, rk, how):
    left = pd.DataFrame({"k": pd.array(lk, dtype="Float64").astype("float64"), "lid": range(len(lk))})
    right = pd.DataFrame({"k": pd.array(rk, dtype="Float64").astype("float64"), "rid": range(len(rk))})
    out, rep = link(left, right, on="k", how=how, report=True)
    rep.check()
    lc, rc = Counter(k for k in lk if k is not None), Counter(k for k in rk if k is not None)
    pairs = sum(lc[k] * rc[k] for k in lc)
    ml = sum(lc[k] for k in lc if rc[k])
    mr = sum(rc[k] for k in rc if lc[k])
    assert rep.pairs == pairs and rep.matched_left == ml and rep.matched_right == mr
    assert rep.left_rows == len(lk) == rep.matched_left + rep.unmatched_left
    assert rep.right_rows == len(rk) == rep.matched_right + rep.unmatched_right
    expected_out = pairs + (len(lk) - ml if how in ("left", "outer") else 0) + (len(rk) - mr if how in ("right", "outer") else 0)
    assert len(out) == rep.out_rows == expected_out
    # every kept left row appears as often as it has matches (at least once when kept unmatched)
    if how in ("left", "outer"):
        assert set(out["lid"].dropna().astype(int)) == set(range(len(lk)))
    # nothing lost without a reason: the dropped counts add up
    assert sum(rep.dropped.values()) == rep.dropped_left + rep.dropped_right
    # stated cardinality holds exactly when the check passes
    right_unique = not any(c > 1 for c in rc.values())
    if right_unique:
        link(left, right, on="k", how=how, expect="m:1")
        assert rep.duplicates_left == 0
    else:
        with pytest.raises(CardinalityError):
            link(left, right, on="k", how=how, expect="m:1")


# ----------------------------------------------------------------------------------------------
# Person resolution
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def lookups():
    pmr = pd.DataFrame({
        "AE_ID": [1, 2, 3, 4, 4, 5, 5],
        "PUPILMATCHINGREFANONYMOUS": ["p1", "p2", "p2", "p4a", "p4b", "p5", "p5"],  # p2 -> 2 AE_IDs; AE 4 -> 2 PMRs
    })
    edk = pd.DataFrame({
        "AE_ID": [1, 1, 2, 3, 4, 9],
        "EDUKEY": ["e1b", "e1a", "e2", "e2", "e4", "e9"],  # AE 1 has 2 EDUKEYs; e2 has 2 AE_IDs
    })
    rec = pd.DataFrame({"RECORDID": [10, 11, 12], "AE_ID": [1, 4, 7]})
    return {"learner_ae_id_to_pmr_lookup": pmr, "learner_ae_id_to_edukey_lookup": edk,
            "education_records_lookup": rec}


def test_resolve_edukeys_rules(lookups):
    ek, rep = resolve_edukeys(lookups=lookups, report=True)
    assert dict(zip(ek.EDUKEY, ek.AE_ID)) == {"e1a": 1, "e1b": 1, "e2": 2, "e4": 4, "e9": 9}
    assert ek.set_index("EDUKEY").loc["e2", "edukey_multi_ae_id"]
    assert ek.set_index("EDUKEY").loc["e1a", "multiplex"] == 2
    assert rep.counts["EDUKEYs with several AE_IDs"] == 1
    rep.check()


def test_person_lookup_rules(lookups):
    people, rep = person_lookup(lookups=lookups, report=True)
    assert isinstance(rep, ChainReport)
    assert people[PMR].tolist() == ["p1", "p2", "p4a", "p4b", "p5"]
    p = people.set_index(PMR)
    assert p.loc["p1", "EDUKEY"] == "e1a" and p.loc["p1", "multiplex"] == 2
    assert p.loc["p2", "AE_ID"] == 2 and p.loc["p2", "pmr_multi_ae_id"] and p.loc["p2", "n_ae_id_for_pmr"] == 2
    assert p.loc["p4a", "ae_id_multi_pmr"] and p.loc["p4b", "AE_ID"] == 4 and p.loc["p4b", "EDUKEY"] == "e4"
    assert pd.isna(p.loc["p5", "EDUKEY"]) and p.loc["p5", "multiplex"] == 0
    assert rep["person_lookup"].dropped["repeated (AE_ID, PMR) rows"] == 1
    assert rep["person_lookup"].dropped["extra AE_IDs of a PMR (smallest kept)"] == 1


def test_person_lookup_accepts_real_column_case(lookups):
    lk = dict(lookups)
    lk["learner_ae_id_to_pmr_lookup"] = lookups["learner_ae_id_to_pmr_lookup"].rename(
        columns={"AE_ID": "ae_id", "PUPILMATCHINGREFANONYMOUS": "PupilMatchingRefAnonymous"})
    lk["learner_ae_id_to_edukey_lookup"] = lookups["learner_ae_id_to_edukey_lookup"].rename(columns={"EDUKEY": "EduKey"})
    pd.testing.assert_frame_equal(person_lookup(lookups=lk), person_lookup(lookups=lookups))


def test_edukeys_for_pmr(lookups):
    out = edukeys_for_pmr(lookups=lookups)
    assert list(zip(out[PMR], out.EDUKEY)) == [("p1", "e1a"), ("p1", "e1b"), ("p2", "e2"), ("p4a", "e4"), ("p4b", "e4")]
    assert edukeys_for_pmr(["p1", None], lookups=lookups)["EDUKEY"].tolist() == ["e1a", "e1b"]


def test_add_ae_id_pmr_recordid_edukey(lookups):
    ks4 = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["p1", "p2", "zz", "p1"], "v": range(4)})
    out, rep = add_ae_id(ks4, lookups=lookups, report=True)
    assert out["AE_ID"].tolist()[:2] == [1, 2] and np.isnan(out["AE_ID"].iloc[2]) and out["AE_ID"].iloc[3] == 1
    assert len(out) == 4 and rep.unmatched_left == 1 and rep.duplicates_left == 0
    assert "pmr_multi_ae_id" in out.columns and "PupilMatchingRefAnonymous" not in out.columns
    ilr = pd.DataFrame({"RECORDID": [10, 12, 99]})
    assert add_ae_id(ilr, lookups=lookups, how="inner")["AE_ID"].tolist() == [1, 7]
    earn = pd.DataFrame({"Edukey": ["e2", "e9", "nope"], "TaxYear": [201011] * 3})
    assert add_ae_id(earn, lookups=lookups)["AE_ID"].tolist()[:2] == [2, 9]
    with pytest.raises(LinkError, match="already has a column"):
        add_ae_id(out, lookups=lookups)
    with pytest.raises(LinkError, match="pass id_col"):
        add_ae_id(pd.DataFrame({"EDUKEY": [], "RECORDID": []}), lookups=lookups)


def test_outcomes_by_person_sums_over_edukeys(lookups):
    earn = pd.DataFrame({"Edukey": ["e1a", "e1b", "e1a", "e2", "nope"], "TaxYear": [201011, 201011, 201112, 201011, 201011],
                         "Earnings": [100.0, 50.0, 7.0, 1.0, 1000.0]})
    out, rep = outcomes_by_person(earn, "Earnings", lookups=lookups, report=True)
    assert out.to_dict("list") == {"AE_ID": [1, 1, 2], "TaxYear": [201011, 201112, 201011],
                                   "Earnings": [150.0, 7.0, 1.0], "n_edukeys": [2, 1, 1]}
    assert rep.steps[0].dropped["left rows with no match in right"] == 1  # EDUKEY "nope"


def test_find_column_case_insensitive():
    df = pd.DataFrame({"EduKey": [1]})
    assert find_column(df, "EDUKEY") == "EduKey"
    with pytest.raises(LinkError):
        find_column(df, "AE_ID")


# property: random lookups with many-to-one links, unmatched rows and duplicates
ids = st.integers(1, 6)
# lookups and outcome tables have at least one row: an empty table is refused (tests/fuzz checks that)
pmr_rows = st.lists(st.tuples(ids, st.sampled_from(["p1", "p2", "p3", "p4", "p5"])), min_size=1, max_size=12)
edk_rows = st.lists(st.tuples(ids, st.sampled_from(["e1", "e2", "e3", "e4", "e5", "e6"])), min_size=1, max_size=12)
earn_rows = st.lists(st.tuples(st.sampled_from(["e1", "e2", "e3", "e4", "e5", "e6", "e7"]),
                               st.sampled_from([201011, 201112]), st.integers(0, 1000)), min_size=1, max_size=15)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pr=pmr_rows, er=edk_rows, earn=earn_rows)
def test_person_resolution_properties(pr, er, earn):
    lookups = {
        "learner_ae_id_to_pmr_lookup": pd.DataFrame(pr, columns=["AE_ID", "PUPILMATCHINGREFANONYMOUS"]).astype(
            {"AE_ID": "int64", "PUPILMATCHINGREFANONYMOUS": object}),
        "learner_ae_id_to_edukey_lookup": pd.DataFrame(er, columns=["AE_ID", "EDUKEY"]).astype(
            {"AE_ID": "int64", "EDUKEY": object}),
    }
    people, prep = person_lookup(lookups=lookups, report=True)
    # one row per PMR present in the lookup, and its AE_ID is the smallest candidate
    cand: dict[str, set] = {}
    for a, p in pr:
        cand.setdefault(p, set()).add(a)
    assert sorted(people[PMR]) == sorted(cand)
    assert all(people.set_index(PMR)["AE_ID"].to_dict()[p] == min(c) for p, c in cand.items())
    prep["person_lookup"].check()
    # every EDUKEY has exactly one owner
    ek = resolve_edukeys(lookups=lookups)
    assert not ek["EDUKEY"].duplicated().any()
    assert set(ek["EDUKEY"]) == {e for _, e in er}
    # outcomes: the sum over persons equals the sum over linkable outcome rows (nothing lost or doubled)
    earn_df = pd.DataFrame(earn, columns=["Edukey", "TaxYear", "Earnings"]).astype({"Edukey": object, "Earnings": "float64"})
    out, orep = outcomes_by_person(earn_df, "Earnings", lookups=lookups, report=True)
    linkable = earn_df["Edukey"].isin(set(ek["EDUKEY"]))
    assert out["Earnings"].fillna(0).sum() == pytest.approx(earn_df.loc[linkable, "Earnings"].sum())
    lrep, arep = orep.steps
    lrep.check()
    arep.check()
    assert lrep.matched_left == int(linkable.sum()) and lrep.duplicates_left == 0
    assert not out.duplicated(["AE_ID", "TaxYear"]).any()
    # edukeys_for_pmr: each (PMR, EDUKEY) once, EDUKEY owned by the PMR's AE_ID
    ep = edukeys_for_pmr(lookups=lookups)
    assert not ep.duplicated([PMR, "EDUKEY"]).any()
    owner = ek.set_index("EDUKEY")["AE_ID"].to_dict()
    assert all(owner[e] == a for e, a in zip(ep["EDUKEY"], ep["AE_ID"]))
    n_expected = sum(int(m) for m in people["multiplex"])
    assert len(ep) == n_expected


@FAST
@given(pr=pmr_rows, er=edk_rows,
       rows=st.lists(st.one_of(st.none(), st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p9"])), max_size=10),
       how=st.sampled_from(["left", "inner"]))
def test_add_ae_id_never_duplicates(pr, er, rows, how):
    lookups = {
        "learner_ae_id_to_pmr_lookup": pd.DataFrame(pr, columns=["AE_ID", "PUPILMATCHINGREFANONYMOUS"]).astype(
            {"AE_ID": "int64", "PUPILMATCHINGREFANONYMOUS": object}),
        "learner_ae_id_to_edukey_lookup": pd.DataFrame(er, columns=["AE_ID", "EDUKEY"]).astype(
            {"AE_ID": "int64", "EDUKEY": object}),
    }
    df = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": pd.Series(rows, dtype=object), "row": range(len(rows))})
    out, rep = add_ae_id(df, lookups=lookups, how=how, report=True)
    rep.check()
    cand: dict[str, set] = {}
    for a, p in pr:
        cand.setdefault(p, set()).add(a)
    linkable = [r for r in rows if r is not None and r in cand]
    assert rep.duplicates_left == 0 and rep.matched_left == len(linkable)
    assert len(out) == (len(rows) if how == "left" else len(linkable))
    assert rep.dropped_left == (0 if how == "left" else len(rows) - len(linkable))
    got = out.dropna(subset=["AE_ID"])
    assert all(a == min(cand[p]) for p, a in zip(got["KS4_PupilMatchingRefAnonymous"], got["AE_ID"]))
    assert sorted(out["row"]) == sorted(set(out["row"]))  # no input row appears twice
