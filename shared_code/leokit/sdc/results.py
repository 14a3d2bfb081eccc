"""The results of the checks: what may be shown, the report, and the evidence for the output checker.

:class:`SDCResult` (tables and figures) and :class:`ModelCheck` (models) carry the released output and
everything an SRS output checker asks for: one report row per suppression, rounding and note
(:func:`report_frame`), and one evidence row per cell (:func:`evidence_frame`: the unrounded ``n``, the
top-1/top-2 shares of the cell total, the p-ratio, whether each value is released and which rules
failed). :func:`summarise` writes the one-line summary.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from leokit.errors import DisclosureError, SDCInputError
from leokit.sdc.aggregate import contribution_shares
from leokit.sdc.fitted import coefficients
from leokit.sdc.rounding import format_col, round_to
from leokit.sdc.rules import DEFAULT_RULES, NOT_APPLICABLE, RULE_ORDER, SDCRules

__all__ = ["SDCResult", "ModelCheck", "CellDefs", "REPORT_COLUMNS", "report_frame", "evidence_frame", "evidence_rows",
           "rules_by_cell", "summarise", "margins_note", "coefficient_table"]

#: Columns of every report: the cell, the statistic, the rule, what was done and why.
REPORT_COLUMNS = ["cell", "statistic", "rule", "action", "detail"]


def report_frame(rows: list[dict]) -> pd.DataFrame:
    """Report rows (dicts) as a frame with :data:`REPORT_COLUMNS` (object dtype)."""
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in REPORT_COLUMNS})
    return pd.DataFrame(rows, columns=REPORT_COLUMNS).astype(object)


# --------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------
@dataclass
class CellDefs:
    """Which units each cell of a checked output covers, for the differencing checks of an output session.

    ``space`` names what the members are (``"unit PupilMatchingRefAnonymous"``, ``"rows of a frame with columns
    ..."``); ``members[i]`` the sorted 64-bit hashes of the members of cell ``i``; ``rows[i]`` the row of
    ``.table`` that shows cell ``i`` (-1: not shown, e.g. a dropped bin); ``base[i]`` whether it is a cell of the
    table's partition (not a total); ``key_tuples`` (key codes per cell: the lines of the table) and
    ``all_tokens`` (the code of a total in each dimension; ``None`` without totals) let the session add up
    lines and re-run secondary suppression; ``num_members`` (shares) the members with the outcome; ``value_cols`` the columns
    blanked when a cell is suppressed, ``count_col`` the count column.
    """

    space: str
    members: list
    labels: list
    rows: np.ndarray
    base: np.ndarray
    key_tuples: list | None = None
    all_tokens: list | None = None
    num_members: list | None = None
    value_cols: tuple = ()
    count_col: str = "n"


@dataclass
class SDCResult:
    """A disclosure-checked output.

    Attributes
    ----------
    table : DataFrame
        What may be shown: rounded values, suppressed cells as ``"c"`` (for
        figure helpers: numeric plot data with unsafe bins dropped).
    report : DataFrame
        One row per suppression, rounding or note: ``cell``, ``statistic``,
        ``rule``, ``action``, ``detail``.  Contains unrounded values -- for the
        output checker, not for release.
    summary : str
        One line, e.g. ``"3 of 12 cells suppressed (3 threshold); n rounded to nearest 5"``.
    n_suppressed : int
        Number of cells (rows of the table) with at least one suppressed value.
    n_cells : int
        Number of cells checked.
    kind : str
        ``"table"`` or ``"figure"``.
    rules : SDCRules
        The rules applied.
    evidence : DataFrame
        One row per cell and statistic, for the output checker (not for
        release): the key columns, ``statistic``, ``n`` (unrounded units),
        ``top1_share`` and ``top2_share`` (share of the cell total of absolute
        unit contributions held by the largest one and two units),
        ``p_ratio`` ((total - top1 - top2) / top1), ``dominance_checked``
        (False for counts, shares and medians), ``n_shown`` and
        ``value_shown`` (released or suppressed) and ``rules`` (the rules that
        suppressed it, "" if none).  Shares add ``n_outcome`` and
        ``n_without``.  Shares of the total are NaN where not applicable.
    cells : CellDefs, optional
        Which units each cell covers (for :class:`leokit.sdc.OutputSession`'s
        differencing checks; not for release).
    """

    table: pd.DataFrame
    report: pd.DataFrame
    summary: str
    n_suppressed: int
    n_cells: int
    kind: str = "table"
    rules: SDCRules = field(default=DEFAULT_RULES)
    title: str = ""
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    cells: CellDefs | None = field(default=None, repr=False, compare=False)

    def checker_note(self) -> str:
        """Plain text for an SRS output request: what the output is, the rules and the evidence per cell.

        Attach it to the request (the checker asks for the unrounded counts behind every cell and,
        for magnitudes, the share of the largest contributors); do not release it with the output.
        """
        r = self.rules
        lines = [
            f"{self._header()} -- evidence for the output checker (not for release)",
            f"Summary: {self.summary}",
            f"Rules: threshold {r.threshold} units; zeros disclosive: {r.zeros_are_disclosive}; "
            f"dominance ({r.nk_n}, {r.nk_k:.0%}) and p-ratio {r.pratio_p:.0%} for sums and means; "
            f"counts rounded to {r.round_counts}, money to {r.round_money}, percentages to {r.pct_decimals} dp; "
            f"suppressed = '{r.suppressed_symbol}'",
        ]
        if len(self.evidence):
            ev = self.evidence.copy()
            for c in ("top1_share", "top2_share"):
                if c in ev.columns:
                    ev[c] = ev[c].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
            if "p_ratio" in ev.columns:
                ev["p_ratio"] = ev["p_ratio"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
            with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
                lines += ["", "Evidence per cell (n unrounded):", ev.to_string(index=False)]
        notes = self.report[~self.report["rule"].isin(["evidence"])] if len(self.report) else self.report
        if len(notes):
            with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 100):
                lines += ["", "Suppressions, roundings and notes:", notes.to_string(index=False)]
        return "\n".join(lines)

    @property
    def ok(self) -> bool:
        """True when no cell had to be suppressed (the table is complete).

        The returned ``.table`` is safe to request either way; ``ok`` tells you
        whether it is the whole table.
        """
        return self.n_suppressed == 0

    def numeric(self, drop: bool = False) -> pd.DataFrame:
        """The table with suppressed / not-applicable symbols as NaN and numeric dtypes.

        Use this for plotting a checked table.  ``drop=True`` removes rows with
        any suppressed value.
        """
        t = self.table.copy()
        symbols = {self.rules.suppressed_symbol, NOT_APPLICABLE}
        changed = []
        for c in t.columns:
            if t[c].dtype == object:
                s = t[c]
                is_sym = s.isin(symbols)
                if is_sym.any():
                    changed.append(c)
                    t[c] = pd.to_numeric(s.where(~is_sym, np.nan))
        if drop and changed:
            t = t.loc[t[changed].notna().all(axis=1)].reset_index(drop=True)
        return t

    def pivot(self, index: str, columns: str, values: str | None = None) -> pd.DataFrame:
        """Wide view of a two-way table (e.g. regions down, FSM across)."""
        if values is None:
            stat_cols = [c for c in self.table.columns if c not in (index, columns)]
            values = stat_cols[0] if stat_cols else "n"
        wide = self.table.pivot(index=index, columns=columns, values=values)
        # keep the table's order (levels first, then the total) instead of sorting labels
        rows = pd.unique(self.table[index].astype(object))
        cols = pd.unique(self.table[columns].astype(object))
        return wide.reindex(index=rows, columns=cols)

    def _header(self) -> str:
        head = f"SDC-checked {self.kind}"
        if self.title:
            head += f": {self.title}"
        return head

    def __repr__(self) -> str:
        with pd.option_context("display.max_rows", 60, "display.width", 120):
            body = self.table.to_string(index=False)
        return f"{self._header()}\n{self.summary}\n{body}"

    def _repr_html_(self) -> str:
        return (
            f"<div><p><b>{html.escape(self._header())}</b><br>{html.escape(self.summary)}</p>"
            f"{self.table.to_html(index=False)}</div>"
        )


@dataclass
class ModelCheck:
    """Result of :func:`check_model`.

    Attributes
    ----------
    ok : bool
        True when every check passed.
    report : DataFrame
        One row per check (``cell`` = term or level, ``statistic``, ``rule``,
        ``action`` = pass/fail, ``detail``).
    dof : float
        Residual degrees of freedom.
    nobs : int
        Number of observations used in estimation.
    flagged_terms : list of str
        Coefficient names whose estimate rests on a small cell.
    global_fail : bool
        A failure that concerns every coefficient (residual dof).  Small
        fixed-effect or categorical levels that are not coefficients make
        ``ok`` False but do not hide the slope coefficients in
        ``coef_table(on_fail="mark")``: never release those levels' own
        estimates.
    """

    ok: bool
    report: pd.DataFrame
    dof: float
    nobs: int
    flagged_terms: list[str]
    global_fail: bool
    summary: str
    rules: SDCRules = field(default=DEFAULT_RULES)
    _fitted: Any = field(default=None, repr=False)

    def coef_table(self, decimals: int = 3, on_fail: str = "raise") -> pd.DataFrame:
        """Rounded coefficients and standard errors (see :func:`safe_coef_table`)."""
        return coefficient_table(self, decimals=decimals, on_fail=on_fail)

    def __repr__(self) -> str:
        fails = self.report[self.report["action"] == "fail"]
        lines = [f"SDC model check: {self.summary}"]
        if len(fails):
            lines.append(fails.to_string(index=False))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        fails = self.report[self.report["action"] == "fail"]
        out = f"<div><p><b>SDC model check</b><br>{html.escape(self.summary)}</p>"
        if len(fails):
            out += fails.to_html(index=False)
        return out + "</div>"


def coefficient_table(chk: ModelCheck, decimals: int = 3, on_fail: str = "raise") -> pd.DataFrame:
    """Rounded coefficients and standard errors of a checked model (see :func:`leokit.sdc.safe_coef_table`)."""
    if on_fail not in ("raise", "mark"):
        raise SDCInputError(f"on_fail must be 'raise' or 'mark', got {on_fail!r}")
    terms, coef, se = coefficients(chk._fitted)
    if not chk.ok and on_fail == "raise":
        raise DisclosureError(f"model fails disclosure checks, coefficients not released: {chk.summary}")
    hide = np.full(len(terms), chk.global_fail)
    if chk.flagged_terms:
        hide |= np.isin(terms, chk.flagged_terms)
    rules = chk.rules
    out = pd.DataFrame({"term": terms})
    out["coef"] = format_col(coef, hide, rules, decimals=decimals)
    out["se"] = format_col(se, hide, rules, decimals=decimals)
    out.attrs["nobs"] = int(round_to([chk.nobs], rules.round_counts)[0])
    out.attrs["sdc"] = chk.summary
    return out


# --------------------------------------------------------------------------------------
# Evidence for the output checker, summary line
# --------------------------------------------------------------------------------------
def rules_by_cell(report: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in report:
        if r.get("action") == "suppressed":
            lst = out.setdefault(str(r["cell"]), [])
            if r["rule"] not in lst:
                lst.append(r["rule"])
    return out


def evidence_frame(keyframe: pd.DataFrame, labels: list[str], cells: pd.DataFrame, statistic: str,
              mask_n: np.ndarray, mask_value: np.ndarray, dominance_checked: bool, report: list[dict],
              rules: SDCRules, share: bool = False, add_rows: bool = True) -> pd.DataFrame:
    """Per-cell evidence frame; with ``add_rows`` also one ``evidence`` row per cell in ``report``."""
    n = cells["n"].to_numpy()
    _tot, s1, s2, _sn, pr = contribution_shares(cells, rules.nk_n)
    failed = rules_by_cell(report)
    ev = keyframe.reset_index(drop=True).copy()
    for c in ev.columns:
        if isinstance(ev[c].dtype, pd.CategoricalDtype):
            ev[c] = ev[c].astype(object)
    ev["statistic"] = statistic
    ev["n"] = n.astype("int64")
    if share:
        num = cells["num"].to_numpy().astype("int64")
        ev["n_outcome"] = num
        ev["n_without"] = n.astype("int64") - num
    ev["top1_share"] = s1
    ev["top2_share"] = s2
    ev["p_ratio"] = pr
    ev["dominance_checked"] = bool(dominance_checked)
    ev["n_shown"] = ~np.asarray(mask_n, dtype=bool)
    ev["value_shown"] = ~np.asarray(mask_value, dtype=bool)
    skip = set() if dominance_checked else {"dominance", "p-ratio", "all zero"}
    ev["rules"] = ["; ".join(r for r in failed.get(lab, []) if r not in skip) for lab in labels]
    if add_rows:
        report.extend(evidence_rows(ev, labels))
    return ev


def evidence_rows(ev: pd.DataFrame, labels: Sequence[str]) -> list[dict]:
    """One report row per evidence row: the unrounded n and the top-2 share, released or suppressed."""
    rows = []
    share = "n_outcome" in ev.columns
    for i, lab in enumerate(labels):
        r = ev.iloc[i]
        parts = [f"n = {int(r['n'])}"]
        if share:
            parts.append(f"with outcome {int(r['n_outcome'])}, without {int(r['n_without'])}")
        if pd.notna(r["top2_share"]):
            parts.append(f"top-2 share {r['top2_share']:.1%}")
            if pd.notna(r["p_ratio"]):
                parts.append(f"p-ratio {r['p_ratio']:.3f}")
            if not r["dominance_checked"]:
                parts.append("dominance not applied")
        detail = "; ".join(parts) + (f" (suppressed by: {r['rules']})" if r["rules"] else "")
        rows.append(dict(cell=lab, statistic=r["statistic"], rule="evidence",
                         action="released" if r["value_shown"] else "suppressed", detail=detail))
    return rows


def summarise(n_cells: int, mask_any: np.ndarray, reason: dict[int, str], roundings: list[str],
             extra: list[str]) -> tuple[str, int]:
    idx = np.flatnonzero(mask_any)
    counts: dict[str, int] = {}
    for i in idx:
        r = reason.get(int(i), "secondary")
        counts[r] = counts.get(r, 0) + 1
    parts = [f"{counts[r]} {r}" for r in RULE_ORDER if r in counts]
    word = "cell" if n_cells == 1 else "cells"
    s = f"{len(idx)} of {n_cells} {word} suppressed"
    if parts:
        s += f" ({', '.join(parts)})"
    return "; ".join([s] + roundings + extra), int(len(idx))


def margins_note(margins: bool, report: list[dict]) -> str:
    if margins:
        return "totals shown (secondary suppression applied)"
    report.append(dict(cell="(table)", statistic="", rule="secondary", action="not applied",
                       detail="margins=False: no totals are shown, so suppressed cells cannot be recovered "
                              "by differencing within this table. If totals are released elsewhere, "
                              "use margins=True."))
    return "no totals shown"
