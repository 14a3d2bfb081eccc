"""leokit.sdc.tables: safe_table, check_table and safe_share end to end.

Threshold, dominance, rounding, zeros, secondary suppression, units, shares, errors and evidence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leokit import sdc
from leokit.sdc import SDCInputError, SDCRules, check_table, safe_share, safe_table
from _sdc import SUPP, dominated_frame, groups, pratio_frame, row



# --------------------------------------------------------------------------- threshold
def test_threshold_9_suppressed_10_shown():
    res = safe_table(groups({"A": 9, "B": 10}), "g")
    assert row(res, g="A")["n"] == SUPP
    assert row(res, g="B")["n"] == 10
    assert res.n_suppressed == 1 and not res.ok
    rep = res.report
    hit = rep[(rep["rule"] == "threshold") & (rep["cell"] == "g=A")]
    assert len(hit) == 1 and "n=9" in hit["detail"].iloc[0]
    assert "1 of 2 cells suppressed (1 threshold)" in res.summary
    assert "counts rounded to 5" in repr(res)
    assert "<table" in res._repr_html_()


def test_threshold_is_configurable():
    res = safe_table(groups({"A": 9, "B": 10}), "g", rules=SDCRules(threshold=5))
    assert row(res, g="A")["n"] == 10  # 9 rounds to 10
    assert res.ok


def test_threshold_applies_to_magnitude_stats_too():
    res = safe_table(groups({"A": 9, "B": 10}, value=20000), "g", "earn", "mean", money=True)
    a, b = row(res, g="A"), row(res, g="B")
    assert a["mean"] == SUPP and a["n"] == SUPP
    assert b["mean"] == 20000 and b["n"] == 10


@pytest.mark.parametrize("stat", ["sum", "mean"])
def test_dominated_cell_suppressed(stat):
    res = safe_table(dominated_frame(), "g", "earn", stat, money=True)
    d, e = row(res, g="D"), row(res, g="E")
    assert d[stat] == SUPP
    assert d["n"] == 10  # the count itself is safe
    assert e[stat] != SUPP
    rep = res.report
    assert ((rep["cell"] == "g=D") & (rep["rule"] == "dominance")).sum() == 1
    assert not ((rep["cell"] == "g=E") & (rep["rule"].isin(["dominance", "p-ratio"]))).any()
    assert res.n_suppressed == 1


def test_median_follows_acro_threshold_and_zeros_only():
    # ACRO checks a median (a "position" statistic) for the threshold and zeros, not for dominance
    # or the p-ratio: one unit holding 95% of the total does not move the median
    res = safe_table(dominated_frame(), "g", "earn", "median", money=True)
    d = row(res, g="D")
    assert d["median"] == 100 and d["n"] == 10  # median of [9500, 55.6 x 9] is 55.6 -> 100
    assert res.ok
    rep = res.report
    assert set(rep.loc[rep["rule"].isin(["dominance", "p-ratio", "all zero"]), "action"]) == {"not applied"}
    note = rep.loc[(rep["rule"] == "dominance") & (rep["action"] == "not applied"), "detail"].iloc[0]
    assert "as in ACRO" in note
    ev = res.evidence.set_index("g")
    assert ev.loc["D", "top2_share"] > 0.95 and not ev.loc["D", "dominance_checked"]  # shown, not applied
    assert ev.loc["D", "value_shown"] and ev.loc["D", "rules"] == ""
    # the threshold still applies to medians
    small = safe_table(groups({"A": 9, "B": 12}, value=30000), "g", "earn", "median", money=True)
    assert row(small, g="A")["median"] == SUPP and row(small, g="B")["median"] == 30000
    # and check_table follows the same rule for the columns named in median_cols
    agg = pd.DataFrame({"g": ["A", "B"], "n": [20, 20], "mean_pay": [25123.0, 30010.0],
                        "median_pay": [21000.0, 29000.0], "tot": [502460.0, 600200.0],
                        "top1": [460000.0, 40000.0], "top2": [10000.0, 39000.0]})
    chk = check_table(agg, "n", money_cols=["mean_pay", "median_pay"], median_cols="median_pay",
                      total_col="tot", top1_col="top1", top2_col="top2")
    assert chk.table["mean_pay"].tolist() == [SUPP, 30000]
    assert chk.table["median_pay"].tolist() == [21000, 29000]
    with pytest.raises(SDCInputError, match="median_cols"):
        check_table(agg, "n", money_cols="mean_pay", median_cols="median_pay")


def test_all_zero_sum_or_mean_is_suppressed_as_in_acro():
    df = pd.concat([groups({"Z": 12}, value=0.0), groups({"P": 12}, value=500.0)], ignore_index=True)
    df["pid"] = range(len(df))
    for stat in ("sum", "mean"):
        res = safe_table(df, "g", "earn", stat, money=True)
        assert row(res, g="Z")[stat] == SUPP and row(res, g="P")[stat] != SUPP
        assert ((res.report["cell"] == "g=Z") & (res.report["rule"] == "all zero")).sum() == 1
        assert "1 all zero" in res.summary
    assert safe_table(df, "g", "earn", "median").ok  # a median of zeros: threshold and zeros only
    assert safe_table(df, "g", "earn", "mean", rules=SDCRules(zeros_are_disclosive=False)).ok


def test_dominance_not_applied_to_counts():
    res = safe_table(dominated_frame(), "g", "earn", "count")
    assert res.ok and row(res, g="D")["n"] == 10


def test_dominance_uses_absolute_values():
    # a large negative contribution dominates as much as a positive one
    df = pd.DataFrame({"g": ["N"] * 10, "earn": [-9500.0] + [50.0] * 9})
    res = safe_table(df, "g", "earn", "sum", money=True)
    assert row(res, g="N")["sum"] == SUPP
    assert ((res.report["cell"] == "g=N") & (res.report["rule"] == "dominance")).sum() == 1


def test_pratio_rule_alone():
    # relax dominance so that only the p-ratio rule can bite (top-2 shares: 96% and 93%)
    rules = SDCRules(nk_k=0.99)
    res = safe_table(pratio_frame(), "g", "earn", "sum", rules=rules, money=True)
    assert row(res, g="P")["sum"] == SUPP
    assert row(res, g="Q")["sum"] == 2200
    rep = res.report
    assert ((rep["cell"] == "g=P") & (rep["rule"] == "p-ratio")).sum() == 1
    assert not (rep["rule"] == "dominance").any()
    # with p = 0 the rule is off and nothing is suppressed
    off = safe_table(pratio_frame(), "g", "earn", "sum", rules=SDCRules(nk_k=0.99, pratio_p=0.0))
    assert off.ok


def test_pratio_failure_implies_default_dominance_failure():
    res = safe_table(pratio_frame(), "g", "earn", "sum")
    rules_hit = set(res.report.loc[res.report["cell"] == "g=P", "rule"])
    assert {"dominance", "p-ratio"} <= rules_hit


# --------------------------------------------------------------------------- rounding
def test_counts_rounded_to_5():
    res = safe_table(groups({"A": 12, "B": 13, "C": 17, "D": 18, "E": 22}), "g")
    assert res.table["n"].tolist() == [10, 15, 15, 20, 20]
    no_round = safe_table(groups({"A": 12, "B": 13}), "g", round_counts=1)
    assert no_round.table["n"].tolist() == [12, 13]
    assert (res.report["rule"] == "rounding").any()


def test_money_rounded_to_100():
    df = pd.concat([groups({"A": 10}, value=23450.0), groups({"B": 10}, value=23449.99)], ignore_index=True)
    df["pid"] = range(len(df))
    res = safe_table(df, "g", "earn", "mean", money=True)
    assert row(res, g="A")["mean"] == 23500
    assert row(res, g="B")["mean"] == 23400
    auto = safe_table(df, "g", "earn", "mean")  # the name says money: rounded to 100 without money=True
    assert row(auto, g="B")["mean"] == 23400 and "looks like money" in auto.report["detail"].str.cat()
    dec = safe_table(df, "g", "earn", "mean", decimals=1, money=False)
    assert row(dec, g="B")["mean"] == pytest.approx(23450.0)


# --------------------------------------------------------------------------- zeros
def test_empty_categorical_level_is_a_disclosive_zero():
    df = groups({"A": 10, "B": 15})
    df["g"] = pd.Categorical(df["g"], categories=["A", "B", "Z"])
    res = safe_table(df, "g")
    assert res.table["g"].tolist() == ["A", "B", "Z"]
    assert row(res, g="Z")["n"] == SUPP
    rep = res.report
    assert ((rep["cell"] == "g=Z") & (rep["rule"] == "zero") & (rep["action"] == "suppressed")).sum() == 1
    # declared structural zero: shown as 0 and reported as structural
    res2 = safe_table(df, "g", structural_zeros=["Z"])
    assert row(res2, g="Z")["n"] == 0
    assert res2.ok
    assert ((res2.report["cell"] == "g=Z") & (res2.report["rule"] == "structural zero")).sum() == 1
    # structural zero on a mean: not applicable ("z")
    df["earn"] = 1000.0
    res3 = safe_table(df, "g", "earn", "mean", structural_zeros=["Z"])
    assert row(res3, g="Z")["mean"] == "z"


def test_zero_count_in_check_table():
    agg = pd.DataFrame({"region": ["N", "S", "E"], "n": [40, 0, 25]})
    res = check_table(agg, count_col="n")
    assert res.table["n"].tolist() == [40, SUPP, 25]
    assert ((res.report["cell"] == "region=S") & (res.report["rule"] == "zero")).any()
    res2 = check_table(agg, count_col="n", structural_zeros=["S"])
    assert res2.table["n"].tolist() == [40, 0, 25]
    res3 = check_table(agg, count_col="n", rules=SDCRules(zeros_are_disclosive=False))
    assert res3.table["n"].tolist() == [40, 0, 25]


def test_structural_zero_must_really_be_zero():
    with pytest.raises(SDCInputError, match="structural zero"):
        safe_table(groups({"A": 10, "B": 15}), "g", structural_zeros=["A"])


# --------------------------------------------------------------------------- secondary suppression
def test_secondary_suppression_one_way_margins():
    df = groups({"A": 5, "B": 20, "C": 30, "D": 40})
    plain = safe_table(df, "g")
    assert plain.table["n"].tolist() == [SUPP, 20, 30, 40]
    assert ((plain.report["rule"] == "secondary") & (plain.report["action"] == "not applied")).any()
    assert "no totals shown" in plain.summary
    res = safe_table(df, "g", margins=True)
    assert res.table["g"].tolist() == ["A", "B", "C", "D", "All"]
    # A (5) could be recovered as 95 - 20 - 30 - 40: the next-smallest cell B is suppressed too
    assert res.table["n"].tolist() == [SUPP, SUPP, 30, 40, 95]
    rep = res.report
    assert ((rep["cell"] == "g=B") & (rep["rule"] == "secondary") & (rep["action"] == "suppressed")).sum() == 1
    assert "1 secondary" in res.summary


def _no_line_recoverable(t: pd.DataFrame, keys: list[str], col: str, all_name: str = "All") -> bool:
    """For every line with a published total, the number of suppressed members is 0 or >= 2."""
    for d, k in enumerate(keys):
        others = [x for x in keys if x != k]
        for _, line in t.groupby(others, sort=False):
            total = line[line[k] == all_name]
            members = line[line[k] != all_name]
            if len(total) and total[col].iloc[0] != SUPP and (members[col] == SUPP).sum() == 1:
                return False
    return True


def test_secondary_suppression_two_way_margins():
    counts = {("r1", "a"): 5, ("r1", "b"): 40, ("r1", "c"): 45,
              ("r2", "a"): 30, ("r2", "b"): 50, ("r2", "c"): 55,
              ("r3", "a"): 20, ("r3", "b"): 60, ("r3", "c"): 65}
    rows = [(r, c) for (r, c), k in counts.items() for _ in range(k)]
    df = pd.DataFrame(rows, columns=["row", "col"])
    res = safe_table(df, ["row", "col"], margins=True)
    t = res.table
    assert len(t) == 16  # (3 + 1) x (3 + 1)
    assert row(res, row="r1", col="a")["n"] == SUPP
    assert row(res, row="All", col="All")["n"] == 370
    wide = res.pivot(index="row", columns="col", values="n")
    assert list(wide.index) == ["r1", "r2", "r3", "All"] and list(wide.columns) == ["a", "b", "c", "All"]
    assert res.n_suppressed >= 4  # the primary cell plus complements in its row and column
    assert _no_line_recoverable(t, ["row", "col"], "n")
    # without secondary suppression the check above would fail
    naive = t.copy()
    naive["n"] = [SUPP if (r == "r1" and c == "a") else 1 for r, c in zip(t["row"], t["col"])]
    assert not _no_line_recoverable(naive, ["row", "col"], "n")


def test_secondary_suppression_of_magnitudes():
    # mean suppressed by dominance in one cell; with the total shown another cell's mean must go too
    df = pd.concat([dominated_frame(),
                    pd.DataFrame({"g": ["F"] * 12, "earn": [2000.0] * 12, "pid": np.arange(20, 32)})])
    res = safe_table(df, "g", "earn", "sum", margins=True, money=True)
    t = res.table
    assert row(res, g="D")["sum"] == SUPP
    assert (t["sum"] == SUPP).sum() == 2
    assert row(res, g="All")["sum"] != SUPP
    assert (t["n"] != SUPP).all()  # counts are not disclosive here


def test_check_table_secondary_with_totals():
    agg = pd.DataFrame({"g": ["A", "B", "C", "All"], "n": [4, 25, 30, 59]})
    res = check_table(agg, "n", margins_name="All")
    assert res.table["n"].tolist() == [SUPP, SUPP, 30, 60]


# --------------------------------------------------------------------------- check_table magnitudes
def test_check_table_dominance_from_contributions():
    agg = pd.DataFrame({"g": ["A", "B"], "n": [20, 20], "mean_pay": [25123.0, 30010.0],
                        "tot": [502460.0, 600200.0], "top1": [460000.0, 40000.0], "top2": [10000.0, 39000.0]})
    res = check_table(agg, "n", money_cols="mean_pay", total_col="tot", top1_col="top1", top2_col="top2")
    assert res.table["mean_pay"].tolist() == [SUPP, 30000]
    assert list(res.table.columns) == ["g", "n", "mean_pay"]
    no_contrib = check_table(agg[["g", "n", "mean_pay"]], "n", money_cols="mean_pay")
    assert ((no_contrib.report["rule"] == "dominance") & (no_contrib.report["action"] == "not checked")).any()


# --------------------------------------------------------------------------- units
def test_unit_counts_distinct_persons():
    # 12 rows but only 5 persons in A: rows pass, persons do not
    df = pd.DataFrame({"g": ["A"] * 12 + ["B"] * 10, "pid": [1, 2, 3, 4, 5] * 2 + [1, 2] + list(range(10, 20))})
    with pytest.raises(SDCInputError, match="'pid' identifies persons.*Pass unit='pid'"):
        safe_table(df, "g")  # rows repeat a person id: without unit= they would count 12 in A
    assert row(safe_table(df.drop(columns="pid"), "g"), g="A")["n"] == 10  # no id column: rows are the units
    res = safe_table(df, "g", unit="pid")
    assert row(res, g="A")["n"] == SUPP
    assert row(res, g="B")["n"] == 10


def test_unit_contributions_summed_before_dominance():
    # person 1 has ten rows of 100 (1000 in all); nine others earn 10 each
    df = pd.DataFrame({"g": "A", "pid": [1] * 10 + list(range(2, 11)),
                       "earn": [100.0] * 10 + [10.0] * 9})
    by_row = safe_table(df.drop(columns="pid"), "g", "earn", "sum", rules=SDCRules(threshold=10))
    assert by_row.ok  # rows: top two rows are 200 of 1090
    by_unit = safe_table(df, "g", "earn", "sum", unit="pid", rules=SDCRules(threshold=9))
    assert by_unit.table["sum"].iloc[0] == SUPP  # persons: top two are 1010 of 1090


# --------------------------------------------------------------------------- shares
@pytest.mark.parametrize("fn", [lambda d, **k: safe_table(d, "g", **k), lambda d, **k: safe_share(d, "g", "y", **k)])
def test_margins_name_that_is_also_a_level_is_refused(fn):
    df = pd.DataFrame({"g": ["All"] * 20 + ["B"] * 20, "y": [0, 1] * 20})
    with pytest.raises(SDCInputError, match="margins_name 'All' is also a level of 'g'"):
        fn(df, margins=True)
    assert len(fn(df, margins=True, margins_name="Total").table) == 3  # two levels and the margin


def test_safe_share_numerator_and_complement():
    df = pd.DataFrame({
        "g": ["A"] * 40 + ["B"] * 40 + ["C"] * 40 + ["D"] * 5,
        "y": [1] * 20 + [0] * 20 + [1] * 5 + [0] * 35 + [1] * 40 + [1, 0, 0, 0, 0],
    })
    res = safe_share(df, "g", "y")
    a, b, c, d = (row(res, g=x) for x in "ABCD")
    assert a["pct"] == 50.0 and a["n_outcome"] == 20 and a["n"] == 40
    assert b["pct"] == SUPP and b["n_outcome"] == SUPP and b["n"] == 40  # numerator 5 < 10
    assert c["pct"] == SUPP and c["n"] == 40  # 100%: complement is zero
    assert d["pct"] == SUPP and d["n"] == SUPP
    rules = set(res.report["rule"])
    assert {"numerator threshold", "complement threshold", "threshold"} <= rules
    third = safe_share(pd.DataFrame({"g": "A", "y": [True] * 10 + [False] * 20}), "g", "y")
    assert third.table["pct"].iloc[0] == 33.3


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("stat", ["min", "max", "MAX"])
def test_min_max_refused(stat):
    with pytest.raises(SDCInputError, match="not releasable"):
        safe_table(groups({"A": 10}, value=1.0), "g", "earn", stat)
    with pytest.raises(ValueError):
        safe_table(groups({"A": 10}, value=1.0), "g", "earn", stat)


def test_bad_input_names_the_column():
    df = groups({"A": 10}, value=1.0).assign(txt="x")
    with pytest.raises(ValueError, match="'region'"):
        safe_table(df, "region")
    with pytest.raises(SDCInputError, match="'pay'"):
        safe_table(df, "g", "pay", "mean")
    with pytest.raises(SDCInputError, match="'txt'.*numeric"):
        safe_table(df, "g", "txt", "mean")
    with pytest.raises(SDCInputError, match="'person'"):
        safe_table(df, "g", unit="person")
    with pytest.raises(SDCInputError, match="unknown stat 'mode'"):
        safe_table(df, "g", "earn", "mode")
    with pytest.raises(SDCInputError, match="needs a numeric `value`"):
        safe_table(df, "g", stat="mean")
    with pytest.raises(SDCInputError, match="'cnt'"):
        check_table(pd.DataFrame({"g": ["A"], "n": [10]}), count_col="cnt")
    with pytest.raises(SDCInputError, match="'txt'"):
        safe_share(df, "g", "txt")
    with pytest.raises(SDCInputError):
        sdc.check_model(object())


# --------------------------------------------------------------------------- determinism, dtypes
def test_deterministic_and_order_independent():
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame({"r": rng.choice(list("ABCDE"), n, p=[.3, .3, .3, .08, .02]),
                       "s": rng.choice(["F", "M"], n), "pid": rng.integers(0, 300, n),
                       "earn": rng.lognormal(10, 1, n)})
    a = safe_table(df, ["r", "s"], "earn", "mean", unit="pid", money=True, margins=True)
    b = safe_table(df.sample(frac=1.0, random_state=1), ["r", "s"], "earn", "mean", unit="pid",
                   money=True, margins=True)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.report, b.report)
    assert a.summary == b.summary


def test_numeric_view_and_categorical_key_dtype():
    df = groups({"A": 9, "B": 10, "C": 20})
    df["g"] = pd.Categorical(df["g"], categories=["C", "B", "A"], ordered=True)
    res = safe_table(df, "g")
    assert isinstance(res.table["g"].dtype, pd.CategoricalDtype)
    assert res.table["g"].astype(str).tolist() == ["C", "B", "A"]  # category order kept
    num = res.numeric()
    assert pd.api.types.is_float_dtype(num["n"]) and num["n"].isna().sum() == 1
    assert len(res.numeric(drop=True)) == 2


# --------------------------------------------------------------------------- evidence for the checker
def test_evidence_for_every_cell_not_only_failing_ones():
    df = pd.concat([dominated_frame(), groups({"S": 4}, value=1000.0).rename(columns={"g": "g"})],
                   ignore_index=True)
    df["pid"] = np.arange(len(df))
    res = safe_table(df, "g", "earn", "mean", unit="pid", money=True)
    ev = res.evidence.set_index("g")
    assert list(ev.index) == ["D", "E", "S"]  # every cell, passing or not
    assert ev["n"].tolist() == [10, 10, 4]  # unrounded
    assert ev.loc["D", "top2_share"] == pytest.approx((9500 + 500 / 9) / 10000)
    assert ev.loc["E", "top2_share"] == pytest.approx(0.2)
    assert ev.loc["E", "p_ratio"] == pytest.approx(8.0)  # (10000 - 2000) / 1000
    assert ev["dominance_checked"].all()
    assert ev["value_shown"].tolist() == [False, True, False] and ev["n_shown"].tolist() == [True, True, False]
    assert ev.loc["D", "rules"] == "dominance; p-ratio" and ev.loc["S", "rules"] == "threshold"
    # the report has one evidence row per cell, readable as text
    rows = res.report[res.report["rule"] == "evidence"].set_index("cell")
    assert list(rows.index) == ["g=D", "g=E", "g=S"]
    assert rows.loc["g=E", "action"] == "released" and rows.loc["g=D", "action"] == "suppressed"
    assert "n = 10; top-2 share 20.0%; p-ratio 8.000" in rows.loc["g=E", "detail"]
    assert "n = 4" in rows.loc["g=S", "detail"]
    # ... while the output itself shows only the safe values: no unrounded n, no shares
    assert list(res.table.columns) == ["g", "mean", "n"]
    assert res.table["n"].tolist() == [10, 10, SUPP] and res.table["mean"].tolist() == [SUPP, 1000, SUPP]
    note = res.checker_note()
    assert "not for release" in note and "top2_share" in note and "20.0%" in note
    assert "Evidence per cell" in note and "g=S" in note
    # counts: n for every cell, no shares
    cnt = safe_table(groups({"A": 7, "B": 12}), "g")
    assert cnt.evidence["n"].tolist() == [7, 12] and cnt.evidence["top2_share"].isna().all()
    assert not cnt.evidence["dominance_checked"].any()


def test_evidence_of_check_table_and_shares():
    agg = pd.DataFrame({"g": ["A", "B", "C"], "n": [20, 20, 6], "mean_pay": [25123.0, 30010.0, 1.0],
                        "tot": [502460.0, 600200.0, 6.0], "top1": [460000.0, 40000.0, 1.0],
                        "top2": [10000.0, 39000.0, 1.0]})
    res = check_table(agg, "n", money_cols="mean_pay", total_col="tot", top1_col="top1", top2_col="top2")
    ev = res.evidence.set_index("g")
    assert ev["n"].tolist() == [20, 20, 6]
    assert ev.loc["A", "top2_share"] == pytest.approx(470000 / 502460)
    assert ev["value_shown"].tolist() == [False, True, False]
    assert "tot" not in res.table.columns and "top1" not in res.table.columns
    bare = check_table(agg[["g", "n", "mean_pay"]], "n", money_cols="mean_pay")
    assert bare.evidence["top2_share"].isna().all() and not bare.evidence["dominance_checked"].any()
    assert bare.evidence["n"].tolist() == [20, 20, 6]
    sh = safe_share(pd.DataFrame({"g": ["A"] * 40 + ["B"] * 40, "y": [1] * 20 + [0] * 20 + [1] * 5 + [0] * 35}),
                    "g", "y")
    e = sh.evidence.set_index("g")
    assert e[["n", "n_outcome", "n_without"]].values.tolist() == [[40, 20, 20], [40, 5, 35]]
    assert e["value_shown"].tolist() == [True, False] and e.loc["B", "rules"] == "numerator threshold"
