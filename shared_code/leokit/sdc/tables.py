"""Disclosure-checked tables: :func:`safe_table` (from unit-level data), :func:`check_table` (an aggregated
table) and :func:`safe_share` (percentages with numerator and complement checks).

Each aggregates (:mod:`leokit.sdc.aggregate`), applies the rules (:mod:`leokit.sdc.checks`), rounds
(:mod:`leokit.sdc.rounding`) and returns an :class:`~leokit.sdc.results.SDCResult`.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.aggregate import (as_list, cell_labels, cell_members, cells_from_rows, check_columns, check_frame,
                                  check_numeric, check_repeated_units, key_output, prepare)
from leokit.sdc.checks import primary, record, secondary, structural_mask
from leokit.sdc.results import CellDefs, SDCResult, evidence_frame, margins_note, report_frame, summarise
from leokit.sdc.rounding import format_col, is_money_name, money_or_decimals, refused_stat_name
from leokit.sdc.rules import (ALLOWED_STATS, DEFAULT_RULES, DOMINANCE_STATS, MAGNITUDE_STATS, MEDIAN_NOTE, SDCRules,
                              check_stat)

__all__ = ["safe_table", "check_table", "safe_share", "TOTAL_NAMES"]

#: Labels recognised as total rows in an aggregated table (case-insensitive) when ``margins_name`` is not given.
TOTAL_NAMES = ("total", "all", "overall", "grand total", "all pupils", "all people")


def _space(data: pd.DataFrame, unit: str | None, member_col: str | None) -> str:
    """What the members of the cells are (the differencing checks compare cells of one space only)."""
    if unit is not None:
        return f"unit {unit}"
    if member_col is not None:
        return f"unit {member_col}"
    return "rows of a frame with columns " + ", ".join(sorted(map(str, data.columns)))


def _cell_defs(work: pd.DataFrame, cells: pd.DataFrame, keys, margins: bool, labels: list[str], space: str,
               value_cols: tuple, share: bool = False) -> CellDefs:
    k = len(keys.names)
    all_codes = [len(lev) for lev in keys.levels]
    members = cell_members(work, cells, k, all_codes, share=share)
    num = None
    if share:
        members, num = members[:len(cells)], members[len(cells):]
    kc = [f"__k{i}" for i in range(k)]
    key_tuples = [tuple(r) for r in cells[kc].to_numpy().tolist()] if k else [() for _ in range(len(cells))]
    base = np.array([all(t[d] != all_codes[d] for d in range(k)) for t in key_tuples], dtype=bool)
    return CellDefs(space, members, list(labels), np.arange(len(cells)), base,
                    key_tuples, all_codes if margins else None, num, value_cols)


def _money(money: bool | None, value: str | None, report: list[dict]) -> bool:
    """Money rounding: as asked, or (``money=None``) when the value's name says money (earnings, pay, wage...)."""
    if money is not None:
        if not money and value is not None and is_money_name(value):
            report.append(dict(cell="(table)", statistic=value, rule="rounding", action="note",
                               detail=f"money=False although {value!r} looks like money: not rounded to pounds"))
        return bool(money)
    auto = value is not None and is_money_name(value)
    if auto:
        report.append(dict(cell="(table)", statistic=value, rule="rounding", action="money",
                           detail=f"{value!r} looks like money (its name): rounded as money; pass money=False if "
                                  "it is not"))
    return auto


def _complete_grid(keys: pd.MultiIndex, by_l: list, complete: bool | None, margins: bool, margins_name: str) -> bool:
    """Whether the table shows every combination of the ``by`` levels (empty cells too): by default when a key
    is categorical or margins are asked for, always with margins. Refuses margins without ``by`` columns and a
    ``margins_name`` that is also a level of a ``by`` column (the margin row could not be told from that level)."""
    any_cat = any(isinstance(dt, pd.CategoricalDtype) for dt in keys.dtypes)
    if complete is None:
        complete = any_cat or margins
    if margins:
        if not by_l:
            raise SDCInputError("margins=True needs at least one `by` column")
        complete = True
        for d, lev in enumerate(keys.levels):
            if margins_name in set(map(str, lev)):
                raise SDCInputError(
                    f"margins_name {margins_name!r} is also a level of {by_l[d]!r}; choose another margins_name"
                )
    return complete


def safe_table(
    data: pd.DataFrame,
    by: str | Sequence[str],
    value: str | None = None,
    stat: str = "count",
    *,
    unit: str | None = None,
    money: bool | None = None,
    decimals: int = 1,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
    margins: bool = False,
    margins_name: str = "All",
    structural_zeros: Iterable[Any] | None = None,
    complete: bool | None = None,
    name: str | None = None,
    missing: str = "cell",
) -> SDCResult:
    """A disclosure-checked table of a count or a magnitude statistic by groups.

    Parameters
    ----------
    data : DataFrame
        Unit-level data (one row per person, or per person-year etc.).
    by : str or list of str
        Grouping column(s); one output row per cell.  Categorical columns give
        every category (including empty ones, which become zero cells).  An
        empty list gives a single overall cell.
    value : str, optional
        Numeric column summarised by ``stat`` (required unless stat="count";
        with stat="count" only rows where it is non-missing are counted).
    stat : {"count", "mean", "median", "sum"}
        "min" and "max" are refused (never releasable).  Every statistic
        needs ``rules.threshold`` units per cell (zeros are suppressed);
        sums and means must also pass dominance and the p-ratio.  Medians are
        checked for the threshold and zeros only, following ACRO [ACRO]: a
        median is a position statistic (one unit's value, or the mean of two)
        that the size of the largest contributions does not move; it is
        released rounded.
    unit : str, optional
        Column identifying persons: ``n`` counts distinct units and dominance
        is computed on each unit's summed contribution.  Without it, rows are
        units -- and a frame with a person identifier column (``AE_ID``,
        ``PupilMatchingRefAnonymous``, ``Edukey``, ``pid``...) whose values
        repeat is refused (rows are then not persons).  Rows with a missing
        unit are left out; the printed summary says how many.
    money : bool, optional
        Round the statistic to the nearest ``rules.round_money`` (100 pounds)
        instead of to ``decimals`` places.  Default: when the value's name
        says money (earnings, pay, wage, salary, income; not ``log_...``).
    decimals : int
        Decimal places for a non-money statistic.
    rules : SDCRules, optional
        Thresholds; defaults to :data:`DEFAULT_RULES`.
    round_counts : int, optional
        Override ``rules.round_counts`` (1 = no rounding of counts).
    margins : bool
        Add total rows/columns (labelled ``margins_name``) and apply secondary
        suppression so that no suppressed cell can be recovered by differencing.
    structural_zeros : iterable, optional
        Cells that are zero by definition (a value, or a tuple with one value
        per ``by`` column).  They are shown as 0 and reported as structural.
    complete : bool, optional
        Include every combination of the ``by`` levels (missing ones become
        zero cells).  Default: True if any ``by`` column is categorical or
        ``margins=True``, else only combinations present in the data.
    name : str, optional
        Name of the statistic column (default: ``stat``; for counts the table
        has only ``n``).
    missing : {"cell", "drop", "raise"}
        Rows whose ``by`` value is missing: their own cell labelled
        ``"missing"`` (default), left out (the printed summary says how many)
        or refused.

    Returns
    -------
    SDCResult
        ``.table``: ``by`` columns, the statistic column (except for counts),
        ``n``; suppressed values are ``"c"``, the rest rounded.
        ``.report``: every suppression, rounding and note, and one
        ``evidence`` row per cell.  ``.evidence``: per cell the unrounded
        ``n``, the top-1 and top-2 shares, the p-ratio, whether the values
        are released and which rules failed (for the output checker).
    """
    rules = rules or DEFAULT_RULES
    data = check_frame(data)
    stat = check_stat(stat, ALLOWED_STATS)
    by_l = as_list(by, "by")
    magnitude = stat in MAGNITUDE_STATS
    if magnitude and value is None:
        raise SDCInputError(f"stat={stat!r} needs a numeric `value` column")
    stat_name = name or stat
    if magnitude and stat_name == "n":
        raise SDCInputError("name='n' is reserved for the count column")
    report: list[dict] = []
    reserved = ("n", stat_name) if magnitude else ("n",)
    member_col = check_repeated_units(data, unit)
    money = _money(money, value, report) if magnitude else False
    work, keys, left_out = prepare(data, by_l, value, unit, report, reserved, missing, member_col)
    complete = _complete_grid(keys, by_l, complete, margins, margins_name)
    cells = cells_from_rows(work, keys, magnitude, unit is not None, rules, margins, complete)
    keyframe = key_output(cells, keys, margins, margins_name)
    labels = cell_labels(keyframe)
    defs = _cell_defs(work, cells, keys, margins, labels, _space(data, unit, member_col),
                      (stat_name, "n") if magnitude else ("n",))
    structural = structural_mask(structural_zeros, keys, cells)
    stat_label = stat if value is None else f"{stat} of {value}"
    dominance = stat in DOMINANCE_STATS
    mask_n, mask_stat, mask_dom, reason = primary(cells, structural, rules, stat_label, labels, magnitude,
                                                   dominance, False, report)
    mask_stat = mask_stat | mask_dom
    if stat == "median":
        report.append(dict(cell="(all shown cells)", statistic=stat_label, rule="dominance", action="not applied",
                           detail=MEDIAN_NOTE))
    if margins:
        kc = [f"__k{i}" for i in range(len(by_l))]
        key_tuples = [tuple(r) for r in cells[kc].to_numpy().tolist()]
        all_tokens = [len(lev) for lev in keys.levels]
        sizes = cells["n"].to_numpy()
        mask_n = record(secondary(key_tuples, all_tokens, sizes, mask_n, structural, labels, "n"), reason, report)
        if dominance:  # sums and means add up to the total; a median does not
            mask_stat = record(secondary(key_tuples, all_tokens, sizes, mask_stat | mask_n, structural, labels,
                                   stat_label), reason, report)
    mask_stat = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    if rc < 1:
        raise SDCInputError(f"round_counts must be >= 1, got {round_counts!r}")
    out = keyframe.copy()
    roundings = []
    if magnitude:
        base, dec, as_int, how = money_or_decimals(money, decimals, rules)
        vals = cells[stat].to_numpy(dtype="float64")
        na_mask = structural & (stat != "sum")
        if stat == "sum":
            vals = np.where(structural, 0.0, vals)
        out[stat_name] = format_col(vals, mask_stat, rules, base=base, decimals=dec, as_int=as_int,
                                     na_symbol_mask=na_mask)
        report.append(dict(cell="(all shown cells)", statistic=stat_label, rule="rounding", action="rounded",
                           detail=how))
        roundings.append(f"{stat_name} {how}")
    out["n"] = format_col(cells["n"].to_numpy(dtype="float64"), mask_n, rules, base=rc, as_int=True)
    if rc > 1:
        report.append(dict(cell="(all shown cells)", statistic="n", rule="rounding", action="rounded",
                           detail=f"counts rounded to nearest {rc}"))
        roundings.append(f"counts rounded to {rc}")
    extra = [margins_note(margins, report)] if by_l else []
    if left_out.note():
        extra.append(left_out.note())
    summary, n_supp = summarise(len(cells), mask_stat | mask_n, reason, roundings, extra)
    title = (f"{stat} of {value}" if magnitude else "count") + (f" by {', '.join(by_l)}" if by_l else "")
    ev = evidence_frame(keyframe, labels, cells, stat_label if magnitude else "count", mask_n,
                   mask_stat if magnitude else mask_n, dominance, report, rules)
    return SDCResult(out, report_frame(report), summary, n_supp, len(cells), "table", rules, title, ev, defs)


def check_table(
    df: pd.DataFrame,
    count_col: str = "n",
    by: str | Sequence[str] | None = None,
    stat_cols: str | Sequence[str] | None = None,
    *,
    money_cols: str | Sequence[str] | None = None,
    pct_cols: str | Sequence[str] | None = None,
    median_cols: str | Sequence[str] | None = None,
    total_col: str | None = None,
    top1_col: str | None = None,
    top2_col: str | None = None,
    decimals: int = 1,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
    structural_zeros: Iterable[Any] | None = None,
    margins_name: str | None = None,
) -> SDCResult:
    """Check a table that is already aggregated (one row per cell).

    Parameters
    ----------
    df : DataFrame
        The aggregated table.
    count_col : str
        Number of units behind each cell (threshold and zero checks).
    by : str or list, optional
        Key columns (labels in the report; structural zeros; totals).  Default:
        every column that is not a count, statistic or contribution column.
    stat_cols, money_cols, pct_cols : str or list, optional
        Statistic columns suppressed together with the cell: ``stat_cols``
        rounded to ``decimals``, ``money_cols`` to ``rules.round_money``,
        ``pct_cols`` to ``rules.pct_decimals``.
    median_cols : str or list, optional
        Which of ``stat_cols`` / ``money_cols`` are medians (or other
        percentiles).  As in ACRO [ACRO], they are checked for the threshold
        and zeros only: dominance and the p-ratio are not applied to them, and
        no secondary suppression (a median is not additive).
    total_col, top1_col, top2_col : str, optional
        Cell total of the absolute unit contributions and the largest and
        second-largest unit contribution.  When given, the dominance and p-ratio
        rules are applied to the sums and means (stat_cols, money_cols other
        than median_cols) and the evidence shows each cell's top-2 share;
        without them a note says dominance was not checked.
    structural_zeros : iterable, optional
        Cells (values / tuples of ``by`` values) that are zero by definition.
    margins_name : str, optional
        Label used in the ``by`` columns for total rows.  When given, totals
        are recognised and secondary suppression is applied.  When not given,
        a key value such as ``"Total"`` or ``"All"`` (:data:`TOTAL_NAMES`) is
        recognised as the total label.

    Columns whose name says minimum or maximum are refused (a single unit's
    value); stat columns whose name says money are rounded as money; a key
    column of non-integer numbers is refused (it would be released unrounded).

    Returns
    -------
    SDCResult with ``.table`` (contribution columns removed), ``.report`` and
    ``.evidence`` (one row per cell: unrounded count, top-2 share when the
    contributions are given, released or suppressed).
    """
    rules = rules or DEFAULT_RULES
    df = check_frame(df, "df")
    check_columns(df, [count_col], "count_col")
    check_numeric(df, count_col, "count_col")
    stat_l = as_list(stat_cols, "stat_cols")
    money_l = as_list(money_cols, "money_cols")
    pct_l = as_list(pct_cols, "pct_cols")
    median_l = as_list(median_cols, "median_cols")
    bad = [c for c in median_l if c not in stat_l + money_l]
    if bad:
        raise SDCInputError(f"median_cols {bad} must also be listed in stat_cols or money_cols (they say how to "
                            "round them)")
    contrib = [c for c in (total_col, top1_col, top2_col) if c is not None]
    for role, cols in (("stat_cols", stat_l), ("money_cols", money_l), ("pct_cols", pct_l),
                       ("contribution", contrib)):
        check_columns(df, cols, role)
        for c in cols:
            check_numeric(df, c, role)
    non_key = {count_col, *stat_l, *money_l, *pct_l, *contrib}
    by_l = as_list(by, "by") if by is not None else [c for c in df.columns if c not in non_key]
    check_columns(df, by_l, "by")
    report: list[dict] = []
    for c in [*stat_l, *money_l, *pct_l, *by_l]:
        word = refused_stat_name(c)
        if word is not None:
            raise SDCInputError(f"check_table: column {c!r} looks like a {word} (its name); a minimum or maximum is "
                                "the value of a single unit and is never releasable [SDCLOG]. Drop the column "
                                "(or rename it if it is not one)")
    for c in by_l:
        if pd.api.types.is_float_dtype(df[c].dtype):
            v = df[c].dropna().to_numpy(dtype="float64")
            if len(v) and not np.all(v == np.round(v)):
                raise SDCInputError(f"check_table: column {c!r} holds non-integer numbers but is not listed as a "
                                    "statistic (stat_cols, money_cols or pct_cols), so it would be released as a key, "
                                    "unrounded; list it, or pass by= the key columns")
    for c in list(stat_l):
        if is_money_name(c) and c not in money_l:
            stat_l.remove(c)
            money_l.append(c)
            report.append(dict(cell="(table)", statistic=c, rule="rounding", action="money",
                               detail=f"{c!r} looks like money (its name): rounded to the nearest "
                                      f"\u00a3{rules.round_money} (list it in stat_cols with a non-money name, or "
                                      "rename it, if it is not money)"))
    if margins_name is None:
        found = sorted({str(v) for c in by_l for v in pd.unique(df[c].dropna().astype(str))
                        if str(v).strip().lower() in TOTAL_NAMES})
        if len(found) > 1:
            raise SDCInputError(f"check_table: the key columns hold several total labels {found}; pass "
                                "margins_name= the one used for totals")
        if found:
            margins_name = found[0]
            report.append(dict(cell="(table)", statistic="", rule="secondary", action="totals recognised",
                               detail=f"rows labelled {margins_name!r} are taken as totals (margins_name); secondary "
                                      "suppression is applied so no suppressed cell can be recovered from them"))
    if 0 < len(contrib) < 3:
        raise SDCInputError("give all of total_col, top1_col and top2_col (or none of them)")
    if contrib and rules.nk_n > 2:
        raise SDCInputError("check_table supports nk_n <= 2 (only top1_col and top2_col are given)")
    counts = pd.to_numeric(df[count_col]).to_numpy(dtype="float64")
    if np.isnan(counts).any() or (counts < 0).any():
        raise SDCInputError(f"count_col {count_col!r} must hold non-negative counts without missing values")
    cells = pd.DataFrame({"n": counts.astype("int64")})
    dom_l = [c for c in stat_l + money_l if c not in median_l]  # sums and means
    if contrib:
        cells["abs_total"] = df[total_col].to_numpy(dtype="float64")
        cells["top1"] = df[top1_col].to_numpy(dtype="float64")
        cells["top2"] = df[top2_col].to_numpy(dtype="float64")
        cells["topn"] = cells["top1"] + (cells["top2"] if rules.nk_n >= 2 else 0.0)
    elif dom_l:
        report.append(dict(cell="(table)", statistic=", ".join(dom_l), rule="dominance",
                           action="not checked",
                           detail="no unit contributions given (total_col, top1_col, top2_col): dominance "
                                  "and p-ratio not checked -- prefer safe_table on unit-level data"))
    if median_l:
        report.append(dict(cell="(all shown cells)", statistic=", ".join(median_l), rule="dominance",
                           action="not applied", detail=MEDIAN_NOTE))
    keyframe = df[by_l].reset_index(drop=True)
    labels = cell_labels(keyframe)
    structural = np.zeros(len(df), dtype=bool)
    if structural_zeros is not None:
        key_tuples_v = [tuple(r) for r in keyframe.astype(object).to_numpy().tolist()]
        for item in structural_zeros:
            tup = item if isinstance(item, tuple) else (item,)
            hit = np.array([kt == tup for kt in key_tuples_v], dtype=bool)
            if not hit.any():
                raise SDCInputError(f"structural zero {item!r} does not match any row of the table by {by_l}")
            if (counts[hit] > 0).any():
                raise SDCInputError(f"structural zero {item!r} is declared but its count is not 0")
            structural |= hit
    add_l = dom_l + pct_l  # additive statistics: secondary suppression applies
    add_label = ", ".join(add_l) or count_col
    mask_n, mask_stat, mask_dom, reason = primary(cells, structural, rules, ", ".join(dom_l) or add_label, labels,
                                                   bool(dom_l), bool(contrib), False, report)
    mask_add = mask_stat | mask_dom
    margins = margins_name is not None
    if margins:
        key_tuples = [tuple(r) for r in keyframe.astype(object).to_numpy().tolist()]
        all_tokens = [margins_name] * len(by_l)
        sizes = cells["n"].to_numpy()
        mask_n = record(secondary(key_tuples, all_tokens, sizes, mask_n, structural, labels, count_col), reason, report)
        if add_l:
            mask_add = record(secondary(key_tuples, all_tokens, sizes, mask_add | mask_n, structural, labels,
                                  add_label), reason, report)
    mask_add = mask_add | mask_n
    mask_med = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    out = df.reset_index(drop=True).copy()
    roundings = []
    for c in stat_l:
        m = mask_med if c in median_l else mask_add
        out[c] = format_col(df[c].to_numpy(dtype="float64"), m, rules, decimals=decimals)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"rounded to {decimals} decimal place(s)"))
    for c in money_l:
        m = mask_med if c in median_l else mask_add
        out[c] = format_col(df[c].to_numpy(dtype="float64"), m, rules, base=rules.round_money,
                             as_int=True)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"rounded to nearest \u00a3{rules.round_money}"))
    for c in pct_l:
        out[c] = format_col(df[c].to_numpy(dtype="float64"), mask_add, rules, decimals=rules.pct_decimals)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"percentage rounded to {rules.pct_decimals} decimal place(s)"))
    if stat_l or money_l or pct_l:
        roundings.append("statistics rounded")
    out[count_col] = format_col(counts, mask_n, rules, base=rc, as_int=True)
    if rc > 1:
        report.append(dict(cell="(all shown cells)", statistic=count_col, rule="rounding", action="rounded",
                           detail=f"counts rounded to nearest {rc}"))
        roundings.append(f"counts rounded to {rc}")
    if contrib:
        out = out.drop(columns=contrib)
        report.append(dict(cell="(table)", statistic="", rule="note", action="columns removed",
                           detail=f"contribution columns {contrib} are evidence for the checker, not output"))
    extra = [] if margins else [margins_note(False, report)]
    any_supp = mask_n | (mask_add if add_l else np.zeros(len(cells), dtype=bool)) | \
        (mask_med if median_l else np.zeros(len(cells), dtype=bool))
    summary, n_supp = summarise(len(cells), any_supp, reason, roundings, extra)
    groups = []
    if add_l:
        groups.append((add_label, mask_add, bool(contrib) and bool(dom_l)))
    if median_l:
        groups.append((", ".join(median_l), mask_med, False))
    if not groups:
        groups.append((count_col, mask_n, False))
    ev = pd.concat([evidence_frame(keyframe, labels, cells, lab, mask_n, m, dom, report, rules)
                    for lab, m, dom in groups], ignore_index=True)
    return SDCResult(out, report_frame(report), summary, n_supp, len(cells), "table", rules,
                     f"checked table ({len(df)} rows)", ev)


def safe_share(
    data: pd.DataFrame,
    by: str | Sequence[str],
    outcome: str,
    *,
    positive: Any = None,
    unit: str | None = None,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
    margins: bool = False,
    margins_name: str = "All",
    structural_zeros: Iterable[Any] | None = None,
    complete: bool | None = None,
    missing: str = "cell",
) -> SDCResult:
    """Percentage of units with an outcome, by group, with numerator and denominator checks.

    The denominator ``n`` (units in the cell), the numerator ``n_outcome``
    (units with the outcome) and the complement (units without it) must each
    reach ``rules.threshold``; 0% and 100% are zero cells (class disclosure).
    A failing numerator or complement suppresses ``pct`` and ``n_outcome``
    but keeps ``n``.

    Parameters
    ----------
    outcome : str
        Boolean or 0/1 column, or any column with ``positive=`` naming the
        value that counts as having the outcome.  With ``unit=``, a unit has
        the outcome if any of its rows has it.  Rows with a missing outcome
        are left out (the printed summary says how many).
    unit, missing
        As in :func:`safe_table` (repeated person ids without ``unit=`` are
        refused; missing ``by`` values are their own cell by default).

    Returns
    -------
    SDCResult whose table has the ``by`` columns, ``pct`` (0.1), ``n_outcome``
    and ``n`` (rounded to 5).
    """
    rules = rules or DEFAULT_RULES
    data = check_frame(data)
    by_l = as_list(by, "by")
    check_columns(data, [outcome], "outcome")
    col = data[outcome]
    if positive is None:
        if pd.api.types.is_bool_dtype(col.dtype):
            pos = col.fillna(False).astype(bool).to_numpy()
        elif pd.api.types.is_numeric_dtype(col.dtype):
            vals = col.dropna().unique()
            if not np.isin(vals, [0, 1]).all():
                raise SDCInputError(
                    f"outcome column {outcome!r} must be boolean or 0/1 (found other values); "
                    f"pass positive=<value> to choose the level that counts"
                )
            pos = (col == 1).to_numpy()
        else:
            raise SDCInputError(
                f"outcome column {outcome!r} has dtype {col.dtype}; expected boolean or 0/1, "
                f"or pass positive=<value>"
            )
    else:
        pos = (col == positive).fillna(False).to_numpy(dtype=bool)
    report: list[dict] = []
    member_col = check_repeated_units(data, unit)
    miss_o = col.isna().to_numpy()
    if miss_o.any():
        report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                           detail=f"{int(miss_o.sum())} rows with missing {outcome!r} are not used"))
    sub = data.loc[~miss_o] if miss_o.any() else data
    pos = pos[~miss_o]
    work, keys, left_out = prepare(sub, by_l, None, unit, report, ("n", "pct", "n_outcome"), missing, member_col)
    if miss_o.any():
        left_out.reasons = {f"missing {outcome!r}": int(miss_o.sum()), **left_out.reasons}
    # prepare may drop rows with missing keys or units: recompute the same mask for `pos`
    keep = np.ones(len(sub), dtype=bool)
    if by_l:
        keep &= ~(keys.codes < 0).any(axis=1)
    if unit is not None:
        keep &= ~sub[unit].isna().to_numpy()
    work["__pos"] = pos[keep]
    complete = _complete_grid(keys, by_l, complete, margins, margins_name)
    cells = cells_from_rows(work, keys, False, unit is not None, rules, margins, complete, share=True)
    keyframe = key_output(cells, keys, margins, margins_name)
    labels = cell_labels(keyframe)
    defs = _cell_defs(work, cells, keys, margins, labels, _space(data, unit, member_col), ("pct", "n_outcome", "n"),
                      share=True)
    structural = structural_mask(structural_zeros, keys, cells)
    stat_label = f"% {outcome}" + (f"=={positive!r}" if positive is not None else "")
    mask_n, mask_stat, _dom, reason = primary(cells, structural, rules, stat_label, labels, False, False, True,
                                               report)
    if margins:
        kc = [f"__k{i}" for i in range(len(by_l))]
        key_tuples = [tuple(r) for r in cells[kc].to_numpy().tolist()]
        all_tokens = [len(lev) for lev in keys.levels]
        mask_n = record(secondary(key_tuples, all_tokens, cells["n"].to_numpy(), mask_n, structural, labels, "n"),
                        reason, report)
        mask_stat = record(secondary(key_tuples, all_tokens, cells["num"].to_numpy(), mask_stat | mask_n, structural,
                               labels, "n_outcome"), reason, report)
    mask_stat = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    n = cells["n"].to_numpy(dtype="float64")
    num = cells["num"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n > 0, 100.0 * num / np.where(n > 0, n, 1.0), np.nan)
    out = keyframe.copy()
    out["pct"] = format_col(pct, mask_stat, rules, decimals=rules.pct_decimals, na_symbol_mask=structural)
    out["n_outcome"] = format_col(num, mask_stat, rules, base=rc, as_int=True)
    out["n"] = format_col(n, mask_n, rules, base=rc, as_int=True)
    report.append(dict(cell="(all shown cells)", statistic="pct", rule="rounding", action="rounded",
                       detail=f"percentages (from unrounded counts) rounded to {rules.pct_decimals} decimal place(s)"))
    report.append(dict(cell="(all shown cells)", statistic="n, n_outcome", rule="rounding", action="rounded",
                       detail=f"counts rounded to nearest {rc}"))
    extra = [margins_note(margins, report)] if by_l else []
    if left_out.note():
        extra.append(left_out.note())
    summary, n_supp = summarise(len(cells), mask_stat | mask_n, reason,
                               [f"pct to {rules.pct_decimals} dp", f"counts rounded to {rc}"], extra)
    title = f"share with {outcome}" + (f" by {', '.join(by_l)}" if by_l else "")
    ev = evidence_frame(keyframe, labels, cells, stat_label, mask_n, mask_stat, False, report, rules, share=True)
    return SDCResult(out, report_frame(report), summary, n_supp, len(cells), "table", rules, title, ev, defs)
