"""Plot data for figures: :func:`safe_binned` (binned scatter) and :func:`safe_histogram`, only releasable bins.

Both build a checked table of their bins with :func:`leokit.sdc.tables.safe_table` and drop every bin that
fails a check; the evidence lists every bin, dropped or not.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.aggregate import check_columns, check_frame, check_numeric
from leokit.sdc.results import SDCResult, evidence_rows, report_frame
from leokit.sdc.rounding import fmt_num
from leokit.sdc.rules import DEFAULT_RULES, MAGNITUDE_STATS, NOT_APPLICABLE, SDCRules, check_stat
from leokit.sdc.tables import safe_table

__all__ = ["safe_binned", "safe_histogram"]


def check_edges(x: str, xv: np.ndarray, units: np.ndarray | None, edges: np.ndarray, rules: SDCRules) -> None:
    """Refuse bin edges that publish the data's minimum or maximum (e.g. ``range=(x.min(), x.max())``): an edge
    equal to an extreme held by fewer than ``threshold`` units is that unit's value [SDCLOG]. An edge that is a
    round number (a multiple of the power of ten below the bin width, e.g. 0 or 5000) is taken as the analyst's
    choice even where it equals an extreme: a reader cannot tell it from any other round edge."""
    v = xv[np.isfinite(xv)]
    if not len(v):
        return
    width = float(np.min(np.diff(edges)))
    step = 10.0 ** np.floor(np.log10(width)) if width > 0 else 1.0
    for what, ext in (("minimum", v.min()), ("maximum", v.max())):
        hit = np.isclose(edges, ext, rtol=0.0, atol=1e-9 * max(1.0, abs(float(ext))))
        if not hit.any():
            continue
        e = float(edges[hit][0])
        if abs(e / step - round(e / step)) < 1e-9:
            continue  # a round number (a multiple of the bins' order of magnitude): an analyst's choice
        at = v == ext
        n_at = len(pd.unique(units[np.isfinite(xv)][at])) if units is not None else int(at.sum())
        if n_at < rules.threshold:
            raise SDCInputError(
                f"bin edge {fmt_num(edges[hit][0])} is the {what} of {x!r} (held by {n_at} unit"
                f"{'s' if n_at != 1 else ''}, fewer than {rules.threshold}): publishing it releases a single "
                f"unit's value. Choose edges that do not come from the data (e.g. round numbers beyond the range, "
                f"with clip=True to pool the tails)"
            )


def edge_labels(edges: np.ndarray) -> list[str]:
    return [f"[{fmt_num(a)}, {fmt_num(b)}" + (")" if i < len(edges) - 2 else "]")
            for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]


def safe_binned(
    data: pd.DataFrame,
    x: str,
    y: str,
    bins: int | Sequence[float] = 10,
    *,
    stat: str = "mean",
    unit: str | None = None,
    money: bool | None = None,
    decimals: int = 1,
    x_money: bool | None = None,
    x_decimals: int = 2,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
) -> SDCResult:
    """Plot data for a binned scatter plot (binscatter): ``stat`` of ``y`` within bins of ``x``.

    ``bins`` is either a number of equal-count (quantile) bins or a sequence
    of explicit bin edges.  Quantile edges are data values, so they are not
    returned: each bin is placed at the mean of ``x`` in the bin.  Both the
    x-position (mean of ``x``) and the y statistic pass the threshold rule,
    and the dominance and p-ratio rules when they are means or sums (a
    median ``y`` is checked for the threshold only, as in ACRO); a bin
    failing any check is dropped from the table and listed in the report.
    ``money`` / ``x_money`` default to whether the column's name says money.
    Explicit edges equal to the minimum or maximum of ``x`` are refused.
    ``.evidence`` lists every bin, dropped or not, with its unrounded ``n``
    and top-2 share.

    Returns
    -------
    SDCResult (kind="figure") whose table has numeric columns ``bin``
    (label), ``x`` (mean of x), ``y`` (``stat`` of y) and ``n`` (rounded),
    one row per releasable bin.  Plot with ``ax.plot(t["x"], t["y"], "o")``.
    """
    rules = rules or DEFAULT_RULES
    data = check_frame(data)
    stat = check_stat(stat, MAGNITUDE_STATS)
    check_columns(data, [x], "x")
    check_columns(data, [y], "y")
    check_numeric(data, x, "x")
    check_numeric(data, y, "y")
    if unit is not None:
        check_columns(data, [unit], "unit")
    from leokit.sdc.aggregate import check_repeated_units
    from leokit.sdc.rounding import is_money_name
    member_col = check_repeated_units(data, unit)
    money = is_money_name(y) if money is None else bool(money)
    x_money = is_money_name(x) if x_money is None else bool(x_money)
    xs = data[x].astype("float64")
    ys = data[y].astype("float64")
    ok = xs.notna() & ys.notna()
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 1:
            raise SDCInputError(f"bins must be >= 1, got {bins}")
        codes = pd.qcut(xs[ok], q=int(bins), labels=False, duplicates="drop").to_numpy()
        nb = int(codes.max()) + 1 if len(codes) else 0
        labels = [f"Q{i + 1}" for i in range(nb)]
        binlab = pd.Categorical.from_codes(codes.astype("int64"), categories=labels)
        how = f"{nb} equal-count bins of {x} (edges not released; x = mean of {x} in the bin)"
    else:
        edges = np.asarray(list(bins), dtype="float64")
        if edges.ndim != 1 or len(edges) < 2 or not (np.diff(edges) > 0).all():
            raise SDCInputError(f"bins must be an int or an increasing sequence of at least 2 edges, got {bins!r}")
        check_edges(x, xs[ok].to_numpy(), data[unit].to_numpy()[ok.to_numpy()] if unit is not None else None, edges,
                    rules)
        labels = edge_labels(edges)
        xv = xs[ok].to_numpy()
        idx = np.searchsorted(edges, xv, side="right") - 1
        idx = np.where(xv == edges[-1], len(edges) - 2, idx)
        inside = (idx >= 0) & (idx < len(edges) - 1)
        codes_arr = np.where(inside, idx, -1)
        binlab = pd.Categorical.from_codes(codes_arr, categories=labels)
        how = f"explicit bins of {x}; x = mean of {x} in the bin"
        if (~inside).any():
            how += f"; {int((~inside).sum())} rows with {x} outside the edges left out"
    okm = ok.to_numpy()
    frame = pd.DataFrame({"bin": binlab, "__x": xs.to_numpy()[okm], "__y": ys.to_numpy()[okm]},
                         index=data.index[okm])
    idcol = unit if unit is not None else member_col
    if idcol is not None:
        frame["__unit"] = data[idcol].to_numpy()[okm]
    u = "__unit" if idcol is not None else None
    ry = safe_table(frame, "bin", "__y", stat, unit=u, money=money, decimals=decimals, rules=rules,
                    round_counts=round_counts, name="y", missing="drop")
    rx = safe_table(frame, "bin", "__x", "mean", unit=u, money=x_money, decimals=x_decimals, rules=rules,
                    round_counts=round_counts, name="x", missing="drop")
    n_out = 0 if isinstance(bins, (int, np.integer)) else int((binlab.codes < 0).sum())
    note = left_out_note(data, [x, y] if x != y else [x], unit, ok.to_numpy(), n_out)
    return figure_from(ry, rx, x, y, stat, how, rules, _figure_space(data, unit, member_col), note)


def _figure_space(data: pd.DataFrame, unit: str | None, member_col: str | None) -> str:
    if unit is not None or member_col is not None:
        return f"unit {unit if unit is not None else member_col}"
    return "rows of a frame with columns " + ", ".join(sorted(map(str, data.columns)))


def left_out_note(data: pd.DataFrame, cols: Sequence[str], unit: str | None, used: np.ndarray,
                  outside: int) -> str:
    """The printed note on the rows a figure left out: missing values, values outside the edges, missing units."""
    parts = []
    for c in cols:
        k = int(data[c].isna().sum())
        if k:
            parts.append(f"{k:,} missing {c!r}")
    if outside:
        parts.append(f"{outside:,} outside the edges")
    if unit is not None:
        k = int((data[unit].isna().to_numpy() & used).sum())
        if k:
            parts.append(f"{k:,} missing unit {unit!r}")
    return f"rows left out: {', '.join(parts)}" if parts else ""


def figure_from(ry: SDCResult, rx: SDCResult | None, x: str, y: str | None, stat: str, how: str,
                 rules: SDCRules, space: str | None = None, left_out: str = "") -> SDCResult:
    sym = rules.suppressed_symbol
    t = ry.table.copy()
    t["bin"] = t["bin"].astype(str)
    cols = ["bin"]
    bad = np.zeros(len(t), dtype=bool)
    if rx is not None:
        t.insert(1, "x", rx.table["x"].to_numpy())
        cols.append("x")
    if y is not None:
        cols.append("y")
    cols.append("n")
    for c in cols[1:]:
        bad |= t[c].astype(object).isin([sym, NOT_APPLICABLE]).to_numpy()

    def _rename(rep: pd.DataFrame) -> pd.DataFrame:
        rep = rep.copy()
        for c in ("statistic", "detail"):
            rep[c] = rep[c].astype(str).str.replace("__y", y or "", regex=False).str.replace(
                "__x", x, regex=False).str.replace("__unit", "unit", regex=False).astype(object)
        return rep

    rep = [_rename(ry.report)]
    if rx is not None:
        rep.append(_rename(rx.report).loc[lambda r: r["rule"].isin(["dominance", "p-ratio", "all zero"])])
    report = pd.concat(rep, ignore_index=True)
    report = report[report["rule"] != "evidence"]
    # evidence: every bin, the y statistic and the x position, with whether the bin is in the plot data
    evs = [ry.evidence.assign(statistic=(f"{stat} of {y}" if y is not None else "count"))]
    if rx is not None:
        evs.append(rx.evidence.assign(statistic=f"mean of {x} (bin position)"))
    evidence = pd.concat(evs, ignore_index=True)
    evidence["bin"] = evidence["bin"].astype(str)
    dropped_bins = set(t.loc[bad, "bin"])
    evidence["value_shown"] = evidence["value_shown"] & ~evidence["bin"].isin(dropped_bins)
    evidence["n_shown"] = evidence["n_shown"] & ~evidence["bin"].isin(dropped_bins)
    report = pd.concat([report, report_frame(evidence_rows(evidence, [f"bin={b}" for b in evidence["bin"]]))],
                       ignore_index=True)
    internal = (report["rule"] == "secondary") | report["detail"].astype(str).str.contains(
        "missing `by` value", regex=False)
    report = report[~internal].reset_index(drop=True)
    dropped = t.loc[bad, "bin"].tolist()
    if dropped:
        report = pd.concat([report, report_frame([dict(
            cell=", ".join(dropped), statistic="", rule="figure", action="bins dropped",
            detail="bins failing a check are left out of the plot data")])], ignore_index=True)
    report = pd.concat([report, report_frame([dict(cell="(figure)", statistic="", rule="note", action="binning",
                                                    detail=how)])], ignore_index=True)
    out = t.loc[~bad, cols].reset_index(drop=True)
    for c in cols[1:]:
        out[c] = pd.to_numeric(out[c])
    out["n"] = out["n"].astype("int64")
    n_cells = len(t)
    rc = "counts rounded" if "counts rounded" in ry.summary else "counts not rounded"
    summary = f"{int(bad.sum())} of {n_cells} bins dropped" + (f" ({', '.join(dropped)})" if dropped else "")
    summary += f"; {rc}" + ("" if y is None else f"; y = {stat} of {y}") + (f"; {left_out}" if left_out else "")
    title = (f"{stat} of {y} by bins of {x}" if y is not None else f"histogram of {x}")
    defs = None
    if ry.cells is not None:
        from dataclasses import replace
        kept = np.flatnonzero(~bad)
        rows = np.full(n_cells, -1)
        rows[kept] = np.arange(len(kept))
        defs = replace(ry.cells, rows=rows, space=space or ry.cells.space, labels=[f"bin={b}" for b in t["bin"]],
                       value_cols=tuple(cols[1:]), key_tuples=None, all_tokens=None)
    return SDCResult(out, report, summary, int(bad.sum()), n_cells, "figure", rules, title, evidence, defs)


def safe_histogram(
    data: pd.DataFrame,
    x: str,
    bins: int | Sequence[float],
    *,
    range: tuple[float, float] | None = None,  # noqa: A002 - mirrors numpy/matplotlib
    unit: str | None = None,
    clip: bool = False,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
) -> SDCResult:
    """Plot data for a histogram of ``x`` with checked, rounded bar heights.

    Bin edges must be chosen by the analyst, not taken from the data: the
    outermost edges of ``np.histogram(x, 10)`` are the minimum and maximum,
    which are never releasable.  Give explicit edges, or an int with
    ``range=(lo, hi)``; edges equal to the minimum or maximum of ``x`` (e.g.
    ``range=(x.min(), x.max())``) are refused unless ``threshold`` units share
    that value.  Values outside the edges are left out (reported), or
    pooled into the end bins with ``clip=True`` (top/bottom coding).  Bins
    with fewer than ``rules.threshold`` units, or zero units, are dropped.

    Returns
    -------
    SDCResult (kind="figure") with columns ``bin``, ``left``, ``right``, ``n``
    (rounded).  Plot with ``ax.bar(t["left"], t["n"], width=t["right"] - t["left"], align="edge")``.
    """
    rules = rules or DEFAULT_RULES
    data = check_frame(data)
    check_columns(data, [x], "x")
    check_numeric(data, x, "x")
    if unit is not None:
        check_columns(data, [unit], "unit")
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if range is None:
            raise SDCInputError(
                "bins=<int> without range=(lo, hi) would take the outer bin edges from the minimum and "
                "maximum of the data, which are not releasable; give explicit edges or range=(lo, hi)"
            )
        edges = np.linspace(float(range[0]), float(range[1]), int(bins) + 1)
    else:
        edges = np.asarray(list(bins), dtype="float64")
    if edges.ndim != 1 or len(edges) < 2 or not (np.diff(edges) > 0).all():
        raise SDCInputError(f"bins must give an increasing sequence of at least 2 edges, got {bins!r}")
    from leokit.sdc.aggregate import check_repeated_units
    member_col = check_repeated_units(data, unit)
    xs = data[x].astype("float64")
    ok = xs.notna().to_numpy()
    xv = xs.to_numpy()[ok]
    check_edges(x, xv, data[unit].to_numpy()[ok] if unit is not None else None, edges, rules)
    if clip:
        xv = np.clip(xv, edges[0], edges[-1])
    idx = np.searchsorted(edges, xv, side="right") - 1
    idx = np.where(xv == edges[-1], len(edges) - 2, idx)
    inside = (idx >= 0) & (idx < len(edges) - 1)
    labels = edge_labels(edges)
    frame = pd.DataFrame({"bin": pd.Categorical.from_codes(np.where(inside, idx, -1), categories=labels)},
                         index=data.index[ok])
    idcol = unit if unit is not None else member_col
    if idcol is not None:
        frame["__unit"] = data[idcol].to_numpy()[ok]
    r = safe_table(frame, "bin", stat="count", unit="__unit" if idcol is not None else None, rules=rules,
                   round_counts=round_counts, missing="drop")
    how = f"{len(labels)} bins from {fmt_num(edges[0])} to {fmt_num(edges[-1])}"
    if clip:
        how += "; values outside pooled into the end bins (top/bottom coded)"
    elif (~inside).any():
        how += f"; {int((~inside).sum())} values outside the edges left out"
    note = left_out_note(data, [x], unit, ok, 0 if clip else int((~inside).sum()))
    res = figure_from(r, None, x, None, "count", how, rules, _figure_space(data, unit, member_col), note)
    left = pd.Series(edges[:-1], index=labels)
    right = pd.Series(edges[1:], index=labels)
    t = res.table
    t.insert(1, "left", left.reindex(t["bin"]).to_numpy())
    t.insert(2, "right", right.reindex(t["bin"]).to_numpy())
    return res
