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
    money: bool = False,
    decimals: int = 1,
    x_money: bool = False,
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
    frame = pd.DataFrame({"bin": binlab, "__x": xs.to_numpy()[okm], "__y": ys.to_numpy()[okm]})
    if unit is not None:
        frame["__unit"] = data[unit].to_numpy()[okm]
    u = "__unit" if unit is not None else None
    ry = safe_table(frame, "bin", "__y", stat, unit=u, money=money, decimals=decimals, rules=rules,
                    round_counts=round_counts, name="y")
    rx = safe_table(frame, "bin", "__x", "mean", unit=u, money=x_money, decimals=x_decimals, rules=rules,
                    round_counts=round_counts, name="x")
    return figure_from(ry, rx, x, y, stat, how, rules)


def figure_from(ry: SDCResult, rx: SDCResult | None, x: str, y: str | None, stat: str, how: str,
                 rules: SDCRules) -> SDCResult:
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
    summary += f"; {rc}" + ("" if y is None else f"; y = {stat} of {y}")
    title = (f"{stat} of {y} by bins of {x}" if y is not None else f"histogram of {x}")
    return SDCResult(out, report, summary, int(bad.sum()), n_cells, "figure", rules, title, evidence)


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
    ``range=(lo, hi)``.  Values outside the edges are left out (reported), or
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
    xs = data[x].astype("float64")
    ok = xs.notna().to_numpy()
    xv = xs.to_numpy()[ok]
    if clip:
        xv = np.clip(xv, edges[0], edges[-1])
    idx = np.searchsorted(edges, xv, side="right") - 1
    idx = np.where(xv == edges[-1], len(edges) - 2, idx)
    inside = (idx >= 0) & (idx < len(edges) - 1)
    labels = edge_labels(edges)
    frame = pd.DataFrame({"bin": pd.Categorical.from_codes(np.where(inside, idx, -1), categories=labels)})
    if unit is not None:
        frame["__unit"] = data[unit].to_numpy()[ok]
    r = safe_table(frame, "bin", stat="count", unit="__unit" if unit is not None else None, rules=rules,
                   round_counts=round_counts)
    how = f"{len(labels)} bins from {fmt_num(edges[0])} to {fmt_num(edges[-1])}"
    if clip:
        how += "; values outside pooled into the end bins (top/bottom coded)"
    elif (~inside).any():
        how += f"; {int((~inside).sum())} values outside the edges left out"
    res = figure_from(r, None, x, None, "count", how, rules)
    left = pd.Series(edges[:-1], index=labels)
    right = pd.Series(edges[1:], index=labels)
    t = res.table
    t.insert(1, "left", left.reindex(t["bin"]).to_numpy())
    t.insert(2, "right", right.reindex(t["bin"]).to_numpy())
    return res
