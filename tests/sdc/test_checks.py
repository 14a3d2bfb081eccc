"""leokit.sdc.checks: each rule on its own - its mask and its report rows - and against ACRO's frozen verdicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leokit.sdc import SDCRules, checks
from leokit.sdc.aggregate import cell_labels, cells_from_rows, key_output, prepare
from leokit.sdc.rules import DEFAULT_RULES
from _sdc import acro_fixture

R = DEFAULT_RULES
LABELS = [f"g={c}" for c in "ABCDEF"]


def contributions(cells: dict[str, list[float]]) -> pd.DataFrame:
    """Per-cell evidence (n, abs_total, top1, top2, topn) from unit contributions, through the real aggregation."""
    rows = [(g, i, v) for g, vs in cells.items() for i, v in enumerate(vs)]
    df = pd.DataFrame(rows, columns=["g", "pid", "v"])
    df["pid"] = df["g"] + df["pid"].astype(str)
    report: list[dict] = []
    work, keys, _left_out = prepare(df, ["g"], "v", "pid", report, ("n",))
    return cells_from_rows(work, keys, True, True, R, margins=False, complete=False)


def test_zeros_suppressed_unless_structural_or_allowed():
    n = np.array([0, 0, 5, 12])
    structural = np.array([False, True, False, False])
    c = checks.zeros(n, structural, R, LABELS)
    assert c.mask.tolist() == [True, False, False, False] and c.rule == "zero" and c.cells == (0,)
    assert [(r["cell"], r["action"]) for r in c.rows] == [("g=A", "suppressed")]
    off = checks.zeros(n, structural, SDCRules(zeros_are_disclosive=False), LABELS)
    assert not off.mask.any() and [(r["cell"], r["action"]) for r in off.rows] == [("g=A", "shown")]


def test_threshold_boundary_is_the_threshold():
    n = np.array([0, 1, 9, 10, 11])
    c = checks.threshold(n, R, LABELS)
    assert c.mask.tolist() == [False, True, True, False, False]  # a zero is the zero rule's, not this one's
    assert [r["detail"] for r in c.rows] == ["n=1 < 10", "n=9 < 10"]
    assert checks.threshold(n, SDCRules(threshold=12), LABELS).mask.tolist() == [False, True, True, True, True]


def test_structural_zeros_are_reported_not_suppressed():
    c = checks.structural_zeros(np.array([False, True]), LABELS)
    assert not c.mask.any() and [(r["cell"], r["rule"], r["action"]) for r in c.rows] == [
        ("g=B", "structural zero", "shown")]


def test_numerator_and_complement_of_a_share():
    n = np.array([40, 40, 40, 40, 40])
    num = np.array([20, 5, 0, 40, 35])
    ok = np.ones(5, dtype=bool)
    num_c = checks.numerator_threshold(num, ok, R, LABELS, "% y")
    assert num_c.mask.tolist() == [False, True, True, False, False]  # 5 < 10; 0% is disclosive
    assert "(0% is disclosive)" in num_c.rows[1]["detail"]
    comp = checks.complement_threshold(n, num, ok & ~num_c.mask, R, LABELS, "% y")
    assert comp.mask.tolist() == [False, False, False, True, True]  # 100%; 35 of 40 leaves 5 without
    assert "(100% is disclosive)" in comp.rows[0]["detail"]
    # cells whose count already failed are not checked again
    assert not checks.numerator_threshold(num, np.zeros(5, dtype=bool), R, LABELS, "% y").mask.any()


def test_dominance_on_unit_contributions():
    cells = contributions({"A": [9500.0] + [500.0 / 9] * 9, "B": [1000.0] * 10, "C": [4000.0, 4500.0] + [187.5] * 8})
    ok = np.ones(len(cells), dtype=bool)
    c = checks.dominance(cells, ok, R, cell_labels(pd.DataFrame({"g": list("ABC")})), "sum of v")
    assert c.mask.tolist() == [True, False, False]  # top-2 shares 95.6%, 20%, 85%
    assert c.rows[0]["cell"] == "g=A" and "95.6% of the cell total" in c.rows[0]["detail"]
    relaxed = checks.dominance(cells, ok, SDCRules(nk_k=0.99), LABELS, "sum of v")
    assert not relaxed.mask.any()


def test_p_ratio_on_unit_contributions():
    cells = contributions({"P": [1000.0, 1000.0] + [10.0] * 8, "Q": [1000.0, 1000.0] + [20.0] * 8})
    ok = np.ones(2, dtype=bool)
    c = checks.p_ratio(cells, ok, R, ["g=P", "g=Q"], "sum of v")
    assert c.mask.tolist() == [True, False]  # rest 80 < 10% of 1000; rest 160 >= 100
    assert c.rows[0]["detail"].startswith("total - top1 - top2 = 8.0% of top1")
    assert not checks.p_ratio(cells, ok, SDCRules(pratio_p=0.0), LABELS, "sum of v").mask.any()


def test_all_zero_contributions():
    cells = contributions({"Z": [0.0] * 12, "P": [5.0] * 12})
    ok = np.ones(2, dtype=bool)
    labels = ["g=P", "g=Z"]  # cells are sorted by key
    c = checks.all_zero(cells, ok, R, labels, "mean of v")
    assert c.mask.tolist() == [False, True]
    assert not checks.all_zero(cells, ok, SDCRules(zeros_are_disclosive=False), labels, "mean of v").mask.any()


def test_secondary_protects_a_lone_suppressed_cell():
    # one line: A B C D and their total; A suppressed -> the smallest other member (B) goes too
    keys = [(0,), (1,), (2,), (3,), (4,)]
    sizes = np.array([5, 20, 30, 40, 95])
    supp = np.array([True, False, False, False, False])
    c = checks.secondary(keys, [4], sizes, supp, np.zeros(5, dtype=bool), ["A", "B", "C", "D", "All"], "n")
    assert c.mask.tolist() == [True, True, False, False, False] and c.cells == (1,)
    assert "otherwise 'A' could be recovered from the total 'All'" in c.rows[0]["detail"]
    # two suppressed members are already safe: nothing added
    two = checks.secondary(keys, [4], sizes, np.array([True, True, False, False, False]), np.zeros(5, dtype=bool),
                           ["A", "B", "C", "D", "All"], "n")
    assert two.rows == [] and two.cells == ()


def test_primary_combines_the_rules_in_order():
    cells = contributions({"A": [1000.0] * 9, "B": [9500.0] + [500.0 / 9] * 9, "C": [1000.0] * 12})
    report: list[dict] = []
    labels = ["g=A", "g=B", "g=C"]
    mask_n, mask_stat, mask_dom, reason = checks.primary(cells, np.zeros(3, dtype=bool), R, "sum of v", labels,
                                                         True, True, False, report)
    assert mask_n.tolist() == [True, False, False] and mask_dom.tolist() == [False, True, False]
    assert reason == {0: "threshold", 1: "dominance"}  # dominance is named first when p-ratio also fails
    assert [r["rule"] for r in report] == ["threshold", "dominance", "p-ratio"]


def test_model_rules():
    dof = checks.residual_dof(7.0, 12, R)
    assert dof.failed and dof.rows[0]["action"] == "fail" and "residual dof = 7 < 10" in dof.rows[0]["detail"]
    assert not checks.residual_dof(10.0, 15, R).failed
    X = np.column_stack([np.ones(40), (np.arange(40) < 6).astype(float), (np.arange(40) % 2).astype(float)])
    d = checks.dummy_cells(X, ["Intercept", "d", "C(r)[T.b]"], R)
    assert d.flagged == ["d"] and [r["action"] for r in d.rows] == ["fail", "pass", "pass"]
    data = pd.DataFrame({"firm": [1] * 30 + [2] * 4})
    lv = checks.level_cells(data, [("firm", "fixed-effect level")], ["x"], R)
    assert lv.failed and lv.flagged == [] and lv.rows[0]["cell"] == "firm=2"
    with pytest.raises(checks.SDCInputError, match="needs `data`"):
        checks.level_cells(None, [("firm", "fixed-effect level")], ["x"], R)


# ---------------------------------------------------------------------------- each rule against ACRO's verdicts
ACRO_REFERENCE = Path(__file__).with_name("sdc_acro_reference.csv")
#: ACRO check -> the leokit rules that implement it
_ACRO_RULES = {"MinimumThresholdCheck": ("threshold", "zero"), "PresenceOfZeroCheck": ("threshold", "zero"),
               "NKCheck": ("dominance",), "PPercentCheck": ("p-ratio", "all zero")}


def _acro_cells():
    df = acro_fixture()
    report: list[dict] = []
    work, keys, _left_out = prepare(df, ["g", "h"], "v", None, report, ("n",))
    cells = cells_from_rows(work, keys, True, False, R, margins=False, complete=True)
    kf = key_output(cells, keys, False, "All")
    return cells, list(zip(kf["g"], kf["h"]))


@pytest.mark.parametrize("acro_check", sorted(_ACRO_RULES))
def test_each_rule_flags_the_cells_acro_flags(acro_check):
    """Rule by rule, on ACRO's fixture: the cells a leokit rule suppresses are the cells ACRO's check fails
    (for the statistics ACRO applies the check to)."""
    ref = pd.read_csv(ACRO_REFERENCE, comment="#")
    cells, keys = _acro_cells()
    n = cells["n"].to_numpy()
    labels = [f"g={g}, h={h}" for g, h in keys]
    zero, thr = checks.zeros(n, np.zeros(len(n), dtype=bool), R, labels), checks.threshold(n, R, labels)
    ok = ~(zero.mask | thr.mask) & (n >= R.threshold)
    by_rule = {"zero": zero.mask, "threshold": thr.mask,
               "dominance": checks.dominance(cells, ok, R, labels, "v").mask,
               "p-ratio": checks.p_ratio(cells, ok, R, labels, "v").mask,
               "all zero": checks.all_zero(cells, ok, R, labels, "v").mask}
    ours = np.zeros(len(n), dtype=bool)
    for rule in _ACRO_RULES[acro_check]:
        ours |= by_rule[rule]
    stats = ["mean", "sum"] if acro_check in ("NKCheck", "PPercentCheck") else ["count", "mean", "sum", "median"]
    for stat in stats:
        sub = ref[ref["stat"] == stat].set_index(["g", "h"])["acro_outcome"]
        acro = np.array([any(_ACRO_RULES[c.strip()] == _ACRO_RULES[acro_check] for c in sub[k].split(";"))
                         if sub[k] != "ok" else False for k in keys])
        assert ours.tolist() == acro.tolist(), (acro_check, stat, keys)


def test_differencing_flags_cells_within_threshold_of_an_earlier_cell():
    from leokit.sdc.checks import differencing, unit_difference

    a, b, c = np.arange(50, dtype="uint64"), np.arange(1, 50, dtype="uint64"), np.arange(100, 160, dtype="uint64")
    assert unit_difference(a, b) == 1 and unit_difference(a, a) == 0 and unit_difference(a, c) == 110
    chk = differencing([b, c, a], np.array([True, True, True]), [("'everyone' of output 1", a)],
                       DEFAULT_RULES, ["g=B", "g=C", "g=A"])
    assert chk.mask.tolist() == [True, False, False]  # B differs by 1; C by 110; A is the same cell (0)
    assert chk.rows[0]["rule"] == "differencing" and "1 unit (< 10)" in chk.rows[0]["detail"]
    assert "'everyone' of output 1" in chk.rows[0]["detail"]
    none = differencing([b], np.array([False]), [("x", a)], DEFAULT_RULES, ["g=B"])
    assert not none.mask.any()  # cells already suppressed are not checked
