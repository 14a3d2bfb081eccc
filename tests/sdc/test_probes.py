"""SDC probe suite: each test is an attempt to get a disclosive number out of leokit.sdc.

Every probe builds data with a secret (one person's earnings, a small count) and tries to read it from what
the helpers release. A probe passes when the number is not recoverable: the helper refuses with
SDCInputError / DisclosureError and a reason, or the cell is suppressed / flagged. The count of probes is
checked at the end (at least 15, 0 leaks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import leokit
from leokit import sdc
from leokit.analyse.linkage import match_summary, sample_flow
from leokit.sdc import DifferencingError, DisclosureError, OutputSession, SDCInputError

SUPP = "c"
SECRET = 87_654.0  # the earnings of the person every probe tries to find
PROBES: list[str] = []


def probe(fn):
    PROBES.append(fn.__name__)
    return fn


def people(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """One row per person: id, region (N, S, E), sex, earnings; person 0 earns SECRET."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"AE_ID": np.arange(n), "region": np.resize(["N", "S", "E"], n),
                       "sex": np.resize(["F", "M"], n), "Earnings": rng.normal(25_000, 4_000, n).round(2)})
    df.loc[0, "Earnings"] = SECRET
    return df


def shown_values(t: pd.DataFrame) -> list:
    return [v for c in t.columns for v in t[c].tolist()]


# ----------------------------------------------------------------------------- models
def _one_person_indicator(coding: tuple[float, float]) -> tuple[pd.DataFrame, object]:
    df = people(40)
    df["d"] = np.where(df["AE_ID"] == 0, coding[1], coding[0])
    return df, smf.ols("Earnings ~ d", df).fit()


@probe
@pytest.mark.parametrize("coding", [(0.0, 1.0), (0.0, 2.0), (-1.0, 1.0), (5.0, 7.0)])
def test_probe_one_person_indicator_in_any_coding_is_flagged(coding):
    df, fit = _one_person_indicator(coding)
    # intercept + coefficient * value gives person 0's earnings exactly
    lo, hi = coding
    fitted0 = fit.params["Intercept"] + fit.params["d"] * hi
    assert fitted0 == pytest.approx(SECRET)
    chk = sdc.check_model(fit, df)
    assert not chk.ok and "d" in chk.flagged_terms
    assert "only 1 observations" in chk.report.to_string() or "1 observations with d=1" in chk.report.to_string()
    with pytest.raises(DisclosureError, match="not released"):
        sdc.safe_coef_table(fit, df)
    marked = sdc.safe_coef_table(fit, df, on_fail="mark").set_index("term")
    assert marked.loc["d", "coef"] == SUPP and marked.loc["d", "se"] == SUPP


@probe
def test_probe_continuous_regressor_is_not_mistaken_for_a_small_cell():
    # the widened dummy rule must still release an ordinary model (no probe may "pass" by refusing everything)
    df = people(80)
    df["x"] = np.linspace(-1, 1, len(df))
    chk = sdc.check_model(smf.ols("Earnings ~ x", df).fit(), df)
    assert chk.ok


# ----------------------------------------------------------------------------- check_table
@probe
@pytest.mark.parametrize("col", ["max", "Earnings_max", "maximum earnings", "min_pay"])
def test_probe_check_table_refuses_a_min_or_max_column(col):
    agg = pd.DataFrame({"region": ["N", "S"], "n": [20, 20], "mean": [25_000.0, 26_000.0], col: [SECRET, 40_000.0]})
    with pytest.raises(SDCInputError, match="minimum or maximum"):
        sdc.check_table(agg, "n", stat_cols=["mean"])
    with pytest.raises(SDCInputError, match="minimum or maximum"):
        sdc.check_table(agg, "n", by="region", stat_cols=["mean", col])


@probe
def test_probe_check_table_refuses_an_unlisted_statistic_released_as_a_key():
    agg = pd.DataFrame({"region": ["N", "S"], "n": [20, 20], "top_value": [SECRET + 0.25, 40_000.5]})
    with pytest.raises(SDCInputError, match="non-integer numbers"):
        sdc.check_table(agg, "n")


@probe
def test_probe_total_row_already_in_the_table_gets_secondary_suppression():
    # A has 3 people; without secondary suppression Total - B - C gives A back
    agg = pd.DataFrame({"region": ["A", "B", "C", "Total"], "n": [3, 50, 60, 113]})
    res = sdc.check_table(agg, "n")  # no margins_name: the "Total" row is recognised
    t = res.table.set_index("region")["n"]
    assert t["A"] == SUPP
    hidden = [k for k in ("B", "C", "Total") if t[k] == SUPP]
    assert hidden, "a second cell must be suppressed, or A = Total - B - C"
    assert "totals recognised" in res.report["action"].tolist()


@probe
def test_probe_money_is_rounded_without_money_true():
    df = people(30)
    res = sdc.safe_table(df, "sex", "Earnings", "mean")  # no money=True: the name says money
    means = pd.to_numeric(res.table["mean"])
    assert (means % 100 == 0).all()
    agg = pd.DataFrame({"region": ["N", "S"], "n": [20, 20], "mean_earnings": [25_012.34, 26_987.65]})
    out = sdc.check_table(agg, "n", stat_cols=["mean_earnings"])
    assert out.table["mean_earnings"].tolist() == [25_000, 27_000]


# ----------------------------------------------------------------------------- figures
@probe
def test_probe_histogram_range_from_the_data_is_refused():
    df = people(200)
    x = df["Earnings"]
    with pytest.raises(SDCInputError, match="maximum of 'Earnings'"):
        sdc.safe_histogram(df, "Earnings", 10, range=(x.min() - 1000, x.max()), unit="AE_ID")
    with pytest.raises(SDCInputError, match="minimum of 'Earnings'"):
        sdc.safe_histogram(df, "Earnings", 10, range=(x.min(), 100_000), unit="AE_ID")
    edges = np.r_[x.min(), np.arange(20_000, 40_001, 5_000), x.max()]
    with pytest.raises(SDCInputError, match="single unit's value"):
        sdc.safe_binned(df, "Earnings", "Earnings", bins=edges, unit="AE_ID")
    ok = sdc.safe_histogram(df, "Earnings", 10, range=(0, 100_000), clip=True, unit="AE_ID")  # round edges: fine
    assert SECRET not in ok.table[["left", "right"]].to_numpy()


# ----------------------------------------------------------------------------- units
@probe
def test_probe_person_years_without_unit_are_refused():
    # one person seen in 12 person-years would count as n = 12 >= 10 without unit=
    py = pd.DataFrame({"AE_ID": [0] * 12 + list(range(1, 20)), "region": ["N"] * 12 + ["S"] * 19,
                       "Earnings": [SECRET] * 12 + [25_000.0] * 19})
    for call in (lambda: sdc.safe_table(py, "region", "Earnings", "mean"),
                 lambda: sdc.safe_table(py, "region"),
                 lambda: sdc.safe_share(py.assign(y=1), "region", "y"),
                 lambda: sdc.safe_histogram(py, "Earnings", [0, 50_000, 100_000])):
        with pytest.raises(SDCInputError, match="Pass unit='AE_ID'"):
            call()
    res = sdc.safe_table(py, "region", "Earnings", "mean", unit="AE_ID")
    assert res.table.set_index("region").loc["N", "mean"] == SUPP  # one person


# ----------------------------------------------------------------------------- linkage summaries
@probe
def test_probe_sample_flow_percentage_does_not_give_back_a_suppressed_count():
    t = sample_flow({"all": 1003, "kept": 996})  # 7 dropped: suppressed
    assert t.loc["kept", "dropped at this step"] == SUPP
    pct = t.loc["kept", "% of first step"]
    assert pct != round(100 * 996 / 1003, 1)  # the exact share (99.3%) would give 7 back
    assert pct == round(100 * 995 / 1005, 1)  # only the rounded counts are in it


@probe
def test_probe_match_summary_rate_does_not_give_back_exact_counts():
    left = pd.DataFrame({"k": range(1003)})
    right = pd.DataFrame({"k": range(7, 2000)})
    _, rep = leokit.link(left, right, on="k", how="left", expect="1:1", report=True)
    row = match_summary({"j": rep}).loc["j"]
    assert row["not matched, kept"] == SUPP
    assert row["match rate (%)"] != round(100 * 996 / 1003, 1)
    assert row["match rate (%)"] == round(100 * 995 / 1005, 1)


# ----------------------------------------------------------------------------- small overall cells
@probe
def test_probe_overall_cell_of_few_people_is_suppressed():
    small = people(6)
    res = sdc.safe_table(small, [], "Earnings", "sum")  # one overall cell (used to crash)
    assert res.table["sum"].iloc[0] == SUPP and res.table["n"].iloc[0] == SUPP
    assert len(sdc.safe_table(people(30), []).table) == 1


# ----------------------------------------------------------------------------- differencing
@probe
def test_probe_differencing_everyone_and_everyone_but_one():
    df = people(60)
    s = OutputSession("probe")
    a = s.release(sdc.safe_table(df, [], "Earnings", "sum"))
    b = s.release(sdc.safe_table(df[df["AE_ID"] != 0], [], "Earnings", "sum"))
    released = [v for v in (a.table["sum"].iloc[0], b.table["sum"].iloc[0]) if v != SUPP]
    assert len(released) < 2, "both sums released: their difference is person 0's earnings to within 100"
    assert "differencing" in b.report["rule"].tolist()
    with pytest.raises(DifferencingError, match="output 1"):
        s2 = OutputSession("probe", on_conflict="raise")
        s2.release(sdc.safe_table(df, [], "Earnings", "mean"))
        s2.release(sdc.safe_table(df[df["AE_ID"] != 0], [], "Earnings", "mean"))


@probe
def test_probe_differencing_means_with_counts():
    df = people(60)
    s = OutputSession("probe")
    s.release(sdc.safe_table(df, "sex", "Earnings", "mean"))
    b = s.release(sdc.safe_table(df[df["AE_ID"] != 0], "sex", "Earnings", "mean"))
    f = b.table.set_index("sex").loc["F"]
    assert f["mean"] == SUPP and f["n"] == SUPP  # n * mean difference would give person 0 (sex F)
    assert b.table.set_index("sex").loc["M", "mean"] != SUPP  # the unchanged cell is released


@probe
def test_probe_suppressed_cell_recovered_from_a_total_released_later():
    df = people(60)
    df.loc[df["AE_ID"] < 4, "region"] = "W"  # region W: 4 people, suppressed
    s = OutputSession("probe")
    t = s.release(sdc.safe_table(df, "region", "Earnings", "sum"))
    assert t.table.set_index("region").loc["W", "sum"] == SUPP
    tot = s.release(sdc.safe_table(df, [], "Earnings", "sum"))
    assert tot.table["sum"].iloc[0] == SUPP  # total - released regions = W


@probe
def test_probe_suppressed_cell_recovered_from_a_total_released_earlier():
    df = people(60)
    df.loc[df["AE_ID"] < 4, "region"] = "W"
    s = OutputSession("probe")
    s.release(sdc.safe_table(df, [], "Earnings", "sum"))
    t = s.release(sdc.safe_table(df, "region", "Earnings", "sum")).table.set_index("region")
    hidden = [r for r in t.index if t.loc[r, "sum"] == SUPP]
    n_hidden = int(df["region"].isin(hidden).sum())
    assert n_hidden >= sdc.DEFAULT_RULES.threshold  # the total minus the released regions covers >= 10 people


@probe
def test_probe_line_of_a_two_way_table_against_a_one_way_table():
    df = pd.DataFrame({"AE_ID": range(120), "region": ["N"] * 40 + ["S"] * 40 + ["E"] * 40,
                       "sex": (["F"] * 20 + ["M"] * 17 + ["X"] * 3) + (["F"] * 15 + ["M"] * 15 + ["X"] * 10) * 2,
                       "Earnings": 20_000.0 + np.arange(120) * 10})  # (N, X): 3 people, suppressed
    s = OutputSession("probe")
    two = s.release(sdc.safe_table(df, ["region", "sex"], "Earnings", "sum")).table
    assert two[(two["region"] == "N") & (two["sex"] == "X")]["sum"].iloc[0] == SUPP
    assert (two["sum"] != SUPP).sum() == 8  # every other cell released, (N, F) and (N, M) among them
    one = s.release(sdc.safe_table(df, "region", "Earnings", "sum")).table.set_index("region")
    assert one.loc["N", "sum"] == SUPP  # N - (N, F) - (N, M) = (N, X): only the line sum catches it
    assert one.loc["S", "sum"] != SUPP


@probe
def test_probe_two_small_suppressed_cells_under_one_total():
    # secondary suppression hides a second cell, but 3 + 4 people between them is still fewer than 10
    df = pd.DataFrame({"pid": range(70), "g": ["A"] * 3 + ["B"] * 4 + ["C"] * 30 + ["D"] * 33,
                       "Earnings": 20_000.0 + np.arange(70)})
    res = sdc.safe_table(df, "g", "Earnings", "sum", unit="pid", margins=True)
    t = res.table.set_index("g")["sum"]
    assert t["A"] == SUPP and t["B"] == SUPP and t["All"] != SUPP and t["C"] != SUPP  # the table alone leaks 7
    shown = OutputSession("probe").release(res).table.set_index("g")["sum"]
    hidden = [g for g in "ABCD" if shown[g] == SUPP]
    assert shown["All"] == SUPP or df["g"].isin(hidden).sum() >= 10


@probe
def test_probe_share_differencing():
    df = people(60)
    df["employed"] = (df["AE_ID"] % 3 != 0).astype(int)
    s = OutputSession("probe")
    s.release(sdc.safe_share(df, "sex", "employed", unit="AE_ID"))
    b = s.release(sdc.safe_share(df[df["AE_ID"] != 0], "sex", "employed", unit="AE_ID")).table.set_index("sex")
    assert b.loc["F", "pct"] == SUPP and b.loc["F", "n"] == SUPP


@probe
def test_probe_histogram_differencing_drops_the_bin():
    df = people(200)
    edges = [0, 20_000, 25_000, 30_000, 100_000]
    s = OutputSession("probe")
    first = s.release(sdc.safe_histogram(df, "Earnings", edges, unit="AE_ID"))
    again = s.release(sdc.safe_histogram(df[df["AE_ID"] != 0], "Earnings", edges, unit="AE_ID"))
    assert "[30000, 100000]" in first.table["bin"].tolist()
    assert "[30000, 100000]" not in again.table["bin"].tolist()  # the bin person 0 left


@probe
def test_probe_differencing_by_row_labels_without_a_unit_column():
    df = people(60).drop(columns="AE_ID")  # no person id column: cells are known by the frame's row labels
    s = OutputSession("probe")
    s.release(sdc.safe_table(df, [], "Earnings", "sum"))
    b = s.release(sdc.safe_table(df.drop(index=0), [], "Earnings", "sum"))
    assert b.table["sum"].iloc[0] == SUPP


# ----------------------------------------------------------------------------- nothing lost silently
def test_missing_by_values_become_a_cell_and_the_summary_says_so():
    df = people(100)
    df["fsm"] = np.where(df["AE_ID"] < 87, np.nan, 1.0)  # 87% missing
    res = sdc.safe_table(df, "fsm", "Earnings", "median", unit="AE_ID")
    t = res.table.set_index("fsm")
    assert "missing" in t.index and t.loc["missing", "n"] == 85
    assert "87 rows with missing 'fsm' shown as 'missing'" in res.summary
    dropped = sdc.safe_table(df, "fsm", unit="AE_ID", missing="drop")
    assert "87 rows left out (87 missing `by` value)" in dropped.summary and "87 rows" in repr(dropped)
    with pytest.raises(SDCInputError, match="87 rows with a missing value"):
        sdc.safe_table(df, "fsm", unit="AE_ID", missing="raise")
    share = sdc.safe_share(df.assign(y=df["AE_ID"] % 2), "fsm", "y", unit="AE_ID")
    assert "missing" in share.table["fsm"].tolist()


def test_rows_left_out_of_figures_are_stated_in_the_summary():
    df = people(100)
    df.loc[df.index[1:8], "Earnings"] = np.nan
    hist = sdc.safe_histogram(df, "Earnings", [0, 20_000, 30_000, 40_000], unit="AE_ID")  # person 0 is above 40,000
    assert "rows left out: 7 missing 'Earnings'" in hist.summary and "outside the edges" in hist.summary
    binned = sdc.safe_binned(df.assign(x=np.arange(100.0)), "x", "Earnings", bins=4, unit="AE_ID")
    assert "rows left out: 7 missing 'Earnings'" in repr(binned)


def test_missing_units_and_values_are_stated_in_the_summary():
    df = people(100)
    df.loc[df.index[:21], "AE_ID"] = np.nan
    df.loc[df.index[50:55], "Earnings"] = np.nan
    res = sdc.safe_table(df, "sex", "Earnings", "mean", unit="AE_ID")
    assert "26 rows left out (5 missing 'Earnings', 21 missing unit 'AE_ID')" in res.summary


# ----------------------------------------------------------------------------- the output request
def test_write_request_is_deterministic_and_lists_every_output(tmp_path):
    import hashlib
    import json

    def run(folder):
        df = people(60)
        s = OutputSession("probe request")
        s.release(sdc.safe_table(df, "region", "Earnings", "median", unit="AE_ID"), title="median earnings")
        s.release(sdc.safe_table(df[df["AE_ID"] != 0], "region", "Earnings", "median", unit="AE_ID"))
        s.release(sample_flow({"all": df, "earners": df[df["Earnings"] > 0]}, unit="AE_ID"), title="sample flow")
        fit = smf.ols("Earnings ~ C(sex)", df).fit()
        s.release(sdc.check_model(fit, df), title="earnings by sex")
        with pytest.raises(SDCInputError, match="note="):
            s.release(pd.DataFrame({"x": [1]}))
        return s.write_request(folder)

    m1 = run(tmp_path / "a")
    m2 = run(tmp_path / "b")
    files = sorted(p.name for p in m1.parent.iterdir())
    assert files == sorted(p.name for p in m2.parent.iterdir())
    for name in files:
        assert (m1.parent / name).read_bytes() == (m2.parent / name).read_bytes(), name
    man = json.loads(m1.read_text())
    assert [o["title"] for o in man["outputs"]] == ["median earnings", "median of Earnings by region", "sample flow",
                                                   "earnings by sex"]
    assert man["outputs"][1]["differencing_suppressed"] >= 1 and man["rules"]["threshold"] == 10
    for f in man["files"]:
        assert hashlib.sha256((m1.parent / f["file"]).read_bytes()).hexdigest() == f["sha256"]
    readme = (m1.parent / "README.md").read_text()
    assert "differencing" in readme and "evidence" in readme
    again = run(tmp_path / "a")  # an earlier request in the folder is replaced
    assert again == m1
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(SDCInputError, match="not empty"):
        OutputSession("x").write_request(tmp_path / "other")


def test_at_least_15_probes_none_leaking():
    assert len(PROBES) >= 15, PROBES


@probe
def test_probe_two_way_table_with_totals_hides_at_least_threshold_units_under_every_total():
    sizes = {("N", "F"): 3, ("N", "M"): 4, ("N", "X"): 30, ("S", "F"): 25, ("S", "M"): 26, ("S", "X"): 27,
             ("E", "F"): 28, ("E", "M"): 29, ("E", "X"): 31}
    rows = [(r, g) for (r, g), n in sizes.items() for _ in range(n)]
    df = pd.DataFrame(rows, columns=["region", "sex"]).assign(pid=lambda d: range(len(d)),
                                                              Earnings=lambda d: 20_000.0 + d["pid"])
    res = OutputSession("probe").release(sdc.safe_table(df, ["region", "sex"], "Earnings", "sum", unit="pid",
                                                        margins=True))
    t = res.table
    for dim, other in (("region", "sex"), ("sex", "region")):
        for level in t[dim].unique():
            line = t[(t[dim] == level) & (t[other] != "All")]
            total = t[(t[dim] == level) & (t[other] == "All")]["sum"].iloc[0]
            hidden = line.loc[line["sum"] == SUPP, other].tolist()
            n_hidden = sum(sizes.get((level, h) if dim == "region" else (h, level), 0) for h in hidden
                           if h != "All") if level != "All" else None
            if total != SUPP and n_hidden is not None:
                assert n_hidden == 0 or n_hidden >= 10, (dim, level, hidden, n_hidden)
