"""The rules, one function each: every check returns the cells it suppresses and its report rows.

As ACRO's checks do [ACRO] (each returns a mask over the table's cells and a summary), each function here
takes the per-cell evidence (:mod:`leokit.sdc.aggregate`) and returns a :class:`RuleCheck`: ``mask`` (the
cells the rule suppresses) and ``rows`` (one report row per cell it touched, with the reason). Tables,
figures and models (:mod:`leokit.sdc.tables`, ...) combine them with :func:`primary` and :func:`secondary`;
each rule can be tested on its own (``tests/sdc/test_checks.py``).

Cell rules: :func:`zeros`, :func:`threshold`, :func:`structural_zeros`, :func:`numerator_threshold`,
:func:`complement_threshold` (shares), :func:`dominance`, :func:`p_ratio`, :func:`all_zero` (sums and
means), :func:`secondary` (totals), :func:`differencing` (against earlier outputs, for
:class:`leokit.sdc.OutputSession`). Model rules: :func:`residual_dof`, :func:`dummy_cells`,
:func:`level_cells`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.aggregate import Keys, check_columns, contribution_shares
from leokit.sdc.rounding import fmt_num
from leokit.sdc.rules import SDCRules

__all__ = ["RuleCheck", "ModelRuleCheck", "zeros", "threshold", "structural_zeros", "structural_mask",
           "numerator_threshold", "complement_threshold", "dominance", "p_ratio", "all_zero", "primary",
           "secondary", "record", "CAT_TERM", "residual_dof", "dummy_cells", "level_cells", "unit_difference",
           "differencing"]


@dataclass(frozen=True)
class RuleCheck:
    """What one rule found: ``mask`` (cells it suppresses), ``rows`` (its report rows), ``cells`` (the cells it
    newly suppressed, in the order the reason is recorded)."""

    rule: str
    mask: np.ndarray
    rows: list[dict] = field(default_factory=list)
    cells: tuple[int, ...] = ()


def _check(rule: str, mask: np.ndarray, rows: list[dict]) -> RuleCheck:
    return RuleCheck(rule, mask, rows, tuple(int(i) for i in np.flatnonzero(mask)))


def record(check: RuleCheck, reason: dict[int, str], report: list[dict]) -> np.ndarray:
    """Add a check's rows to ``report`` and its rule as the reason of each cell it suppressed first; return its mask."""
    for i in check.cells:
        reason.setdefault(i, check.rule)
    report.extend(check.rows)
    return check.mask


# --------------------------------------------------------------------------------------
# Counts: zeros and the threshold
# --------------------------------------------------------------------------------------
def zeros(n: np.ndarray, structural: np.ndarray, rules: SDCRules, labels: Sequence[str]) -> RuleCheck:
    """A cell with 0 units is suppressed when zeros are disclosive (class disclosure), unless structural."""
    is_zero = (n == 0) & ~structural
    fail = is_zero & bool(rules.zeros_are_disclosive)
    rows = [dict(cell=labels[i], statistic="n", rule="zero", action="suppressed",
                 detail="count is 0 (zeros are disclosive); declare structural zeros if 0 by definition")
            for i in np.flatnonzero(fail)]
    rows += [dict(cell=labels[i], statistic="n", rule="zero", action="shown",
                  detail="count is 0 and zeros_are_disclosive=False")
             for i in np.flatnonzero(is_zero & ~fail)]
    return _check("zero", fail, rows)


def threshold(n: np.ndarray, rules: SDCRules, labels: Sequence[str]) -> RuleCheck:
    """A cell with 1 to ``threshold - 1`` units is suppressed."""
    fail = (n > 0) & (n < rules.threshold)
    rows = [dict(cell=labels[i], statistic="n", rule="threshold", action="suppressed",
                 detail=f"n={n[i]} < {rules.threshold}") for i in np.flatnonzero(fail)]
    return _check("threshold", fail, rows)


def structural_zeros(structural: np.ndarray, labels: Sequence[str]) -> RuleCheck:
    """Declared structural zeros are shown as 0 (and reported as such); they suppress nothing."""
    rows = [dict(cell=labels[i], statistic="n", rule="structural zero", action="shown",
                 detail="declared structural zero: shown as 0") for i in np.flatnonzero(structural)]
    return RuleCheck("structural zero", np.zeros(len(structural), dtype=bool), rows)


def structural_mask(structural_zeros: Any, keys: Keys, cells: pd.DataFrame) -> np.ndarray:
    """The cells declared structural zeros (a value, or a tuple with one value per ``by`` column, each)."""
    mask = np.zeros(len(cells), dtype=bool)
    if structural_zeros is None:
        return mask
    if not keys.names:
        raise SDCInputError("structural_zeros needs at least one `by` column")
    items = list(structural_zeros)
    kcols = [f"__k{i}" for i in range(len(keys.names))]
    codes = cells[kcols].to_numpy()
    for item in items:  # loop over a few declared cells
        tup = item if isinstance(item, tuple) else (item,)
        if len(tup) != len(keys.names):
            raise SDCInputError(
                f"structural zero {item!r} must give one value per `by` column {keys.names}"
            )
        code = []
        for d, v in enumerate(tup):
            c = keys.levels[d].get_indexer([v])[0]
            if c < 0:
                raise SDCInputError(
                    f"structural zero {item!r}: value {v!r} is not a level of column {keys.names[d]!r}"
                )
            code.append(c)
        hit = (codes == np.array(code)).all(axis=1)
        if not hit.any():
            raise SDCInputError(
                f"structural zero {item!r} is not a cell of the table (pass complete=True or use a categorical)"
            )
        if (cells["n"].to_numpy()[hit] > 0).any():
            raise SDCInputError(f"structural zero {item!r} is declared but the cell has rows in the data")
        mask |= hit
    return mask


# --------------------------------------------------------------------------------------
# Shares: numerator and complement
# --------------------------------------------------------------------------------------
def numerator_threshold(num: np.ndarray, ok: np.ndarray, rules: SDCRules, labels: Sequence[str],
                        statistic: str) -> RuleCheck:
    """Of the cells whose count passed (``ok``), a share whose numerator has 1 to ``threshold - 1`` units (or 0,
    when zeros are disclosive: 0%) is suppressed."""
    T = rules.threshold
    num_zero = ok & (num == 0) & bool(rules.zeros_are_disclosive)
    fail = ok & (((num > 0) & (num < T)) | num_zero)
    rows = [dict(cell=labels[i], statistic=statistic, rule="numerator threshold", action="suppressed",
                 detail=f"numerator={num[i]} < {T}" + (" (0% is disclosive)" if num[i] == 0 else ""))
            for i in np.flatnonzero(fail)]
    return _check("numerator threshold", fail, rows)


def complement_threshold(n: np.ndarray, num: np.ndarray, ok: np.ndarray, rules: SDCRules, labels: Sequence[str],
                         statistic: str) -> RuleCheck:
    """Of the cells still shown (``ok``), a share whose complement (units without the outcome) has 1 to
    ``threshold - 1`` units (or 0, when zeros are disclosive: 100%) is suppressed."""
    T = rules.threshold
    comp = n - num
    comp_zero = ok & (comp == 0) & bool(rules.zeros_are_disclosive)
    fail = ok & (((comp > 0) & (comp < T)) | comp_zero)
    rows = [dict(cell=labels[i], statistic=statistic, rule="complement threshold", action="suppressed",
                 detail=f"denominator - numerator = {comp[i]} < {T}"
                        + (" (100% is disclosive)" if comp[i] == 0 else ""))
            for i in np.flatnonzero(fail)]
    return _check("complement threshold", fail, rows)


# --------------------------------------------------------------------------------------
# Sums and means: dominance, p-ratio, all-zero contributions
# --------------------------------------------------------------------------------------
def dominance(cells: pd.DataFrame, ok: np.ndarray, rules: SDCRules, labels: Sequence[str],
              statistic: str) -> RuleCheck:
    """(n, k) dominance: the ``nk_n`` largest unit contributions hold ``nk_k`` or more of the cell total."""
    tot, _s1, _s2, topn_share, _pr = contribution_shares(cells, rules.nk_n)
    fail = ok & (tot > 0) & (topn_share >= rules.nk_k)
    rows = [dict(cell=labels[i], statistic=statistic, rule="dominance", action="suppressed",
                 detail=f"top {rules.nk_n} units hold {topn_share[i]:.1%} of the cell total "
                        f"(must be under {rules.nk_k:.0%})") for i in np.flatnonzero(fail)]
    return _check("dominance", fail, rows)


def p_ratio(cells: pd.DataFrame, ok: np.ndarray, rules: SDCRules, labels: Sequence[str], statistic: str) -> RuleCheck:
    """p-ratio: total minus the two largest contributions is under ``pratio_p`` of the largest."""
    tot, _s1, _s2, _sn, pr = contribution_shares(cells, rules.nk_n)
    fail = ok & (tot > 0) & (pr < rules.pratio_p)
    rows = [dict(cell=labels[i], statistic=statistic, rule="p-ratio", action="suppressed",
                 detail=f"total - top1 - top2 = {pr[i]:.1%} of top1 (must be at least {rules.pratio_p:.0%})")
            for i in np.flatnonzero(fail)]
    return _check("p-ratio", fail, rows)


def all_zero(cells: pd.DataFrame, ok: np.ndarray, rules: SDCRules, labels: Sequence[str],
             statistic: str) -> RuleCheck:
    """A sum or mean whose unit contributions are all zero tells every unit's value (when zeros are disclosive)."""
    tot = contribution_shares(cells, rules.nk_n)[0]
    fail = ok & (tot == 0) & bool(rules.zeros_are_disclosive)
    rows = [dict(cell=labels[i], statistic=statistic, rule="all zero", action="suppressed",
                 detail="every unit's contribution is 0, so the statistic tells each unit's value "
                        "(class disclosure; ACRO's p-ratio check fails such cells too)") for i in np.flatnonzero(fail)]
    return _check("all zero", fail, rows)


# --------------------------------------------------------------------------------------
# Primary and secondary suppression
# --------------------------------------------------------------------------------------
def primary(cells: pd.DataFrame, structural: np.ndarray, rules: SDCRules, stat: str,
            labels: list[str], magnitude: bool, dominance_available: bool,
            share: bool, report: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
    """The cell rules in order. Returns (mask_n, mask_stat, mask_dom, reason).

    ``mask_n``: the count is suppressed (zero, threshold); ``mask_stat``: the statistic is
    suppressed for a reason that applies to every statistic (counts, numerator/complement of a
    share); ``mask_dom``: dominance, p-ratio or all-zero contributions (only when
    ``magnitude and dominance_available``; callers apply it to sums and means, not medians).
    ``reason`` maps a cell index to the first rule that suppressed it; the rules' rows are added to ``report``.
    """
    n = cells["n"].to_numpy()
    reason: dict[int, str] = {}
    mask_n = record(zeros(n, structural, rules, labels), reason, report)
    mask_n = mask_n | record(threshold(n, rules, labels), reason, report)
    record(structural_zeros(structural, labels), reason, report)
    mask_stat = mask_n.copy()
    mask_dom = np.zeros(len(n), dtype=bool)
    ok_n = ~mask_n & (n >= rules.threshold)
    if share:
        num = cells["num"].to_numpy()
        num_fail = record(numerator_threshold(num, ok_n, rules, labels, stat), reason, report)
        comp_fail = record(complement_threshold(n, num, ok_n & ~num_fail, rules, labels, stat), reason, report)
        mask_stat = mask_stat | num_fail | comp_fail
    if magnitude and dominance_available:
        mask_dom = record(dominance(cells, ok_n, rules, labels, stat), reason, report)
        mask_dom = mask_dom | record(p_ratio(cells, ok_n, rules, labels, stat), reason, report)
        mask_dom = mask_dom | record(all_zero(cells, ok_n, rules, labels, stat), reason, report)
    return mask_n, mask_stat, mask_dom, reason


def secondary(key_tuples: list[tuple], all_tokens: list[Any], sizes: np.ndarray, suppressed: np.ndarray,
              known: np.ndarray, labels: Sequence[str], statistic: str) -> RuleCheck:
    """Complementary suppression so that no suppressed cell can be recovered from a total.

    A "line" is a set of cells that differ only in dimension ``d`` plus its
    total (the cell with the ALL token in dimension ``d``).  While any line
    with a published total has exactly one unknown cell, the smallest other
    published cell of that line (by ``sizes``, ties by table order) is
    suppressed as well -- or, if there is none, the total itself. ``known``: cells
    whose value is known anyway (structural zeros). The returned mask includes ``suppressed``.
    """
    supp = suppressed.copy()
    rows: list[dict] = []
    picks: list[int] = []
    k = len(all_tokens)
    lines = []
    for d in range(k):
        groups: dict[tuple, dict] = {}
        for idx, key in enumerate(key_tuples):
            lk = key[:d] + key[d + 1:]
            g = groups.setdefault(lk, {"members": [], "total": None})
            if key[d] == all_tokens[d]:
                g["total"] = idx
            else:
                g["members"].append(idx)
        for g in groups.values():
            if g["total"] is not None and g["members"]:
                lines.append((d, g["members"], g["total"]))
    changed = True
    while changed:
        changed = False
        for d, members, total in lines:
            unknown = [m for m in members if supp[m] and not known[m]]
            n_unknown = len(unknown) + int(supp[total] and not known[total])
            if n_unknown != 1:
                continue
            cands = [m for m in members if not supp[m] and not known[m]]
            if cands:
                pick = min(cands, key=lambda m: (sizes[m], m))
            elif not supp[total]:
                pick = total
            else:
                continue
            protected = unknown[0] if unknown else total
            supp[pick] = True
            picks.append(int(pick))
            rows.append(dict(cell=labels[pick], statistic=statistic, rule="secondary", action="suppressed",
                             detail=f"complementary suppression: otherwise '{labels[protected]}' "
                                    f"could be recovered from the total '{labels[total]}'"))
            changed = True
    return RuleCheck("secondary", supp, rows, tuple(picks))


# --------------------------------------------------------------------------------------
# Differencing between outputs
# --------------------------------------------------------------------------------------
def unit_difference(a: np.ndarray, b: np.ndarray) -> int:
    """Number of units in one of two cells but not the other (``a``, ``b``: sorted unique unit hashes)."""
    common = np.intersect1d(a, b, assume_unique=True).size
    return int(a.size + b.size - 2 * common)


def differencing(members: Sequence[np.ndarray], ok: np.ndarray, earlier: Sequence[tuple[str, np.ndarray]],
                 rules: SDCRules, labels: Sequence[str]) -> RuleCheck:
    """Of the cells still shown (``ok``), a cell whose units differ from an earlier released cell or sum of
    cells (``earlier``: (description, units) pairs) by 1 to ``threshold - 1`` units is suppressed: the
    difference of the two would describe those few units. Only pairs whose sizes differ by less than the
    threshold are compared (the difference is at least the difference in size)."""
    T = rules.threshold
    mask = np.zeros(len(members), dtype=bool)
    rows: list[dict] = []
    if not len(earlier):
        return RuleCheck("differencing", mask, rows)
    sizes = np.array([m.size for _lab, m in earlier])
    for i in np.flatnonzero(ok):
        m = members[i]
        for j in np.flatnonzero(np.abs(sizes - m.size) < T):
            d = unit_difference(m, earlier[j][1])
            if 0 < d < T:
                mask[i] = True
                rows.append(dict(cell=labels[i], statistic="", rule="differencing", action="suppressed",
                                 detail=f"{d} unit{'s' if d != 1 else ''} (< {T}) between this cell and "
                                        f"{earlier[j][0]}: the difference would describe {d} unit"
                                        f"{'s' if d != 1 else ''}"))
                break
    return _check("differencing", mask, rows)


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------
#: A formula term of one level of a categorical regressor: ``C(region)[T.North]`` or ``region[T.North]``.
CAT_TERM = re.compile(r"^(?:C\()?(?P<var>[^\[\(\),:]+?)(?:\s*,.*?)?\)*\[T\.(?P<level>[^\]]*)\]$")


@dataclass(frozen=True)
class ModelRuleCheck:
    """What one model rule found: ``failed`` (a failure not tied to a coefficient), ``flagged`` (coefficients
    resting on a small cell) and ``rows`` (one report row per check, pass or fail)."""

    rule: str
    failed: bool
    flagged: list[str]
    rows: list[dict]


def residual_dof(dof: float, nobs: int, rules: SDCRules) -> ModelRuleCheck:
    """Residual degrees of freedom must be at least ``dof_threshold`` (a failure concerns every coefficient)."""
    ok = dof >= rules.dof_threshold
    row = dict(cell="(model)", statistic="residual dof", rule="dof", action="pass" if ok else "fail",
               detail=f"residual dof = {fmt_num(dof)} {'>=' if ok else '<'} {rules.dof_threshold} "
                      f"(n = {nobs}, parameters = {fmt_num(nobs - dof)})")
    return ModelRuleCheck("dof", not ok, [], [row])


def dummy_cells(X: np.ndarray, names: Sequence[str], rules: SDCRules) -> ModelRuleCheck:
    """Every 0/1 regressor of the design matrix ``X`` has at least ``threshold`` observations equal to 1 and to
    0, and each factor's reference level has at least ``threshold`` (all its dummies are flagged otherwise).

    Any other regressor whose values other than its most common one are held by 1 to ``threshold - 1``
    observations is flagged too: an indicator coded 0/2 or -1/+1 (or a count that is 0 for all but a few) is a
    dummy in disguise, and its coefficient would give those few people's outcomes away."""
    T = rules.threshold
    rows: list[dict] = []
    flagged: list[str] = []
    finite = np.isfinite(X).all(axis=0)
    is01 = finite & np.isin(np.nan_to_num(X), [0.0, 1.0]).all(axis=0)
    ones = np.nansum(X, axis=0)
    nonconst = (ones > 0) & (ones < X.shape[0])
    factor_sums: dict[str, float] = {}
    for j in np.flatnonzero(is01 & nonconst):
        nm = names[j]
        n1, n0 = int(ones[j]), int(X.shape[0] - ones[j])
        fail = n1 < T or n0 < T
        rows.append(dict(cell=nm, statistic="dummy", rule="dummy cell", action="fail" if fail else "pass",
                         detail=f"{n1} observations with {nm}=1, {n0} with 0 (each must be >= {T})"))
        if fail:
            flagged.append(nm)
        m = CAT_TERM.match(nm)
        if m:
            factor_sums[m.group("var").strip()] = factor_sums.get(m.group("var").strip(), 0.0) + n1
    for j in np.flatnonzero(~is01):
        col = X[:, j]
        col = col[np.isfinite(col)]
        if not len(col):
            continue
        vals, cnt = np.unique(col, return_counts=True)
        if len(vals) < 2:
            continue
        top = int(np.argmax(cnt))
        rest = int(len(col) - cnt[top])
        if 0 < rest < T:
            nm = names[j]
            rows.append(dict(cell=nm, statistic="regressor", rule="dummy cell", action="fail",
                             detail=f"only {rest} observations have a value other than {fmt_num(vals[top])} "
                                    f"(must be >= {T}): the coefficient rests on a small cell"))
            flagged.append(nm)
    for var, s in sorted(factor_sums.items()):
        nref = int(X.shape[0] - s)
        fail = nref < T
        rows.append(dict(cell=f"{var} (reference level)", statistic="dummy", rule="dummy cell",
                         action="fail" if fail else "pass",
                         detail=f"{nref} observations in the reference level (must be >= {T})"))
        if fail:
            flagged.extend(n for n in names if (m := CAT_TERM.match(n)) and m.group("var").strip() == var)
    return ModelRuleCheck("dummy cell", False, flagged, rows)


def level_cells(data: pd.DataFrame | None, level_checks: Sequence[tuple[str, str]], names: Sequence[str],
                rules: SDCRules) -> ModelRuleCheck:
    """Every level of each fixed effect / declared categorical (``level_checks``: (column or ``a^b``, rule name))
    has at least ``threshold`` observations. A small level flags its own coefficient; a small level with no
    coefficient (a fixed effect) fails the model without hiding the slopes."""
    T = rules.threshold
    rows: list[dict] = []
    flagged: list[str] = []
    level_fail = False
    if level_checks and data is None:
        raise SDCInputError("checking categorical levels needs `data` (the estimation data)")
    for fe, rule in level_checks:
        parts = [p.strip() for p in fe.split("^")]
        check_columns(data, parts, "categorical" if rule == "categorical level" else "fixed-effect")
        key = data[parts[0]].astype(str) if len(parts) == 1 else \
            data[parts].astype(str).agg("^".join, axis=1)
        vc = key.value_counts(sort=False)
        small = vc[vc < T].sort_index()
        if len(small):
            for lev, cnt in small.items():
                term_hits = [n for n in names if (m := CAT_TERM.match(n)) and m.group("var").strip() == fe
                             and m.group("level") == str(lev)]
                rows.append(dict(cell=f"{fe}={lev}", statistic="level", rule=rule, action="fail",
                                 detail=f"{int(cnt)} observations < {T}"))
                if term_hits:
                    flagged.extend(term_hits)
                else:
                    level_fail = True
        else:
            rows.append(dict(cell=fe, statistic="level", rule=rule, action="pass",
                             detail=f"all {len(vc)} levels have >= {T} observations (smallest {int(vc.min())})"
                             if len(vc) else "no levels"))
    return ModelRuleCheck("level", level_fail, flagged, rows)
