"""Statistical disclosure control (SDC) for outputs from LEO / NPD analyses.

LEO is only available inside the ONS Secure Research Service (SRS).  Nothing
leaves the SRS until an output checker has cleared it, and the checker applies
ONS "rules of thumb" (plus any DfE/HMRC conditions on LEO).  This module makes
every table, figure and model in the kit pass through the same checks, so the
notebooks show outputs that a checker would release:

* :func:`safe_table` -- counts, means, medians or sums of a value by one or
  more grouping columns, from unit-level data;
* :func:`check_table` -- the same checks on a table that is already aggregated;
* :func:`safe_share` -- percentages (numerator and denominator checks);
* :func:`safe_binned` and :func:`safe_histogram` -- plot data for binned
  scatter plots and histograms (only releasable bins are returned);
* :func:`check_model` and :func:`safe_coef_table` -- residual degrees of
  freedom and small cells behind dummies / fixed effects in regression models.

Every function returns a result whose ``.table`` is what you may show, whose
``.report`` lists every suppression, rounding and note with the reason, and
whose ``.evidence`` has one row per cell with what an output checker asks for:
the unrounded number of units ``n`` and the share of the cell total held by
the largest two units (``top2_share``), whether each value is released and
which rules failed.  The report also carries one ``evidence`` row per cell, and
``.checker_note()`` renders all of it as text to attach to an output request.
``.report`` and ``.evidence`` contain unrounded numbers: they are for you and
the output checker (the SRS asks for the underlying counts with each request),
not for release.  The ``.table`` itself shows only the safe, rounded values.

Rules and defaults
------------------
All thresholds live in the frozen dataclass :class:`SDCRules`.  The defaults
follow the ONS SRS default rules of thumb [ONS-SRS], the defaults of ACRO (the
SACRO project's output checker for UK trusted research environments, whose
``acro/default.yaml`` holds the thresholds) [ACRO] and the DfE conventions for
LEO-based official statistics [GO-DATA].  ACRO itself pins ``pandas<=2.3.3``
and is therefore not a dependency; the correspondence is, rule by rule:

=====================  ====================  =======  =====================================
ACRO setting           ``SDCRules`` field     default  what happens here
=====================  ====================  =======  =====================================
safe_threshold         threshold             10       a cell with 1-9 units (distinct
                                                       persons if ``unit=`` is given, else
                                                       rows) is suppressed ("c")
zeros_are_disclosive   zeros_are_disclosive  True     a cell with 0 units is suppressed,
                                                       unless declared a structural zero
safe_nk_n, safe_nk_k   nk_n, nk_k            2, 0.90  sums and means: suppressed when the
                                                       largest 2 unit contributions are
                                                       >= 90% of the cell total (absolute
                                                       values per unit); not medians
safe_pratio_p          pratio_p              0.10     sums and means: suppressed when
                                                       total - largest - second largest
                                                       < 10% of the largest; not medians
safe_dof_threshold     dof_threshold         10       models: residual dof must be >= 10
(none)                 round_counts          5        DfE: counts rounded to nearest 5
(none)                 round_money           100      DfE: earnings rounded to nearest 100
(none)                 pct_decimals          1        DfE: percentages to 0.1
(none)                 suppressed_symbol     "c"      DfE symbol for a suppressed cell
=====================  ====================  =======  =====================================

Medians follow ACRO.  ACRO (1.0.x) files a median under the "Position"
statistics (median, quartiles, percentiles), whose risks are low counts and
class disclosure, so it checks a median for the threshold and zeros only; the
dominance and p-ratio checks belong to "linear aggregations" (sums, means)
[ACRO].  (ACRO up to 0.4.x applied them to every aggregate, medians included.)  The reason: dominance protects a *total* that one or two large
contributors can drive, from which their values can be estimated; a median is
an order statistic that the size of the largest contributions does not move.
Its own risk is that it *is* one unit's value (or the mean of two), which the
threshold and rounding (earnings to the nearest 100 pounds) address.  The
report still shows each median cell's top-2 share as evidence.

Like ACRO, a sum or mean whose unit contributions are all zero is suppressed
(rule "all zero": it tells every unit's value; ACRO's p-ratio check fails such
cells).  Differences from ACRO worth knowing: ACRO counts rows and computes
dominance on rows, sends cells with negative values to manual review and counts
rows whose value is missing towards the threshold; here ``unit=`` counts
persons and sums their contributions, absolute values are used, and rows with
a missing value are dropped before anything is counted.  ACRO does not apply
secondary suppression; here it is applied when totals are shown
(``margins=True``), for counts, sums and means (a median is not additive, so a
total cannot reveal a suppressed one).  ACRO checks a minimum or maximum like a
median; here both are refused outright (each is a single unit's value,
[SDCLOG]).  With the default parameters the p-ratio rule never bites on its
own: any cell failing p = 10% also fails (2, 90%) dominance; it matters if
``nk_k`` is relaxed.

Sources: [ONS-SRS] (default threshold 10, zeros and structural zeros);
[ACRO] (thresholds, and which checks apply to which statistic); [ONS-SDC]
(the "10-5 rule" for Census outputs); [GO-DATA] (DfE LEO graduate outcomes:
counts to 5, earnings to 100 pounds, percentages to 0.1, ``c`` = suppressed,
``z`` = not applicable); [SDCLOG] (no minimum or maximum).
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "SDCRules",
    "DEFAULT_RULES",
    "SDCResult",
    "ModelCheck",
    "SDCInputError",
    "DisclosureError",
    "safe_table",
    "check_table",
    "safe_share",
    "safe_binned",
    "safe_histogram",
    "check_model",
    "safe_coef_table",
    "round_to",
    "ACRO_CORRESPONDENCE",
]


# --------------------------------------------------------------------------------------
# Errors and rules
# --------------------------------------------------------------------------------------
class SDCInputError(ValueError):
    """Bad input to an SDC function (missing column, wrong dtype, unknown statistic...)."""


class DisclosureError(RuntimeError):
    """An output failed the disclosure checks and cannot be produced safely."""


@dataclass(frozen=True)
class SDCRules:
    """Disclosure-control thresholds (frozen; make a new one to change a rule).

    Attributes
    ----------
    threshold : int
        Minimum number of units (distinct persons when ``unit=`` is given,
        otherwise rows) behind every published cell or statistic.  Source: ONS
        SRS rule of thumb (10 observations) [ONS-SRS]; ACRO ``safe_threshold: 10``
        [ACRO].
    zeros_are_disclosive : bool
        A zero count is suppressed (it tells you that *nobody* in the group has
        the attribute: class disclosure).  Declared structural zeros (cells
        that are zero by definition) are exempt.  ACRO ``zeros_are_disclosive:
        True`` [ACRO]; ONS SRS guidance on low counts, zeros and structural
        zeros [ONS-SRS].  A sum or mean whose contributions are all zero is
        suppressed too (it reveals every unit's value; ACRO fails it).
    nk_n, nk_k : int, float
        (n, k) dominance for sums and means: the largest ``nk_n`` unit
        contributions must be under ``nk_k`` of the cell total (absolute values
        summed per unit).  ACRO ``safe_nk_n: 2``, ``safe_nk_k: 0.90`` [ACRO].
        Not applied to medians, as in ACRO (see the module docstring).
    pratio_p : float
        p-ratio (p%) rule for sums and means: cell total minus the two largest
        contributions must be at least ``pratio_p`` times the largest
        contribution, otherwise the second-largest contributor could estimate
        the largest too closely.  ACRO ``safe_pratio_p: 0.10`` [ACRO].  Not
        applied to medians.
    dof_threshold : int
        Minimum residual degrees of freedom of a published model.  ACRO
        ``safe_dof_threshold: 10`` [ACRO].
    round_counts : int
        Published counts are rounded to the nearest multiple (DfE LEO
        publications: 5 [GO-DATA]; ONS 10-5 rule [ONS-SDC]).
    round_money : int
        Money statistics (earnings) are rounded to the nearest multiple of this
        many pounds (DfE LEO graduate outcomes: 100 [GO-DATA]).
    pct_decimals : int
        Decimal places for percentages (DfE: 0.1 percentage points [GO-DATA]).
    suppressed_symbol : str
        Symbol shown for a suppressed cell (DfE: ``"c"`` [GO-DATA]).
    """

    threshold: int = 10
    zeros_are_disclosive: bool = True
    nk_n: int = 2
    nk_k: float = 0.90
    pratio_p: float = 0.10
    dof_threshold: int = 10
    round_counts: int = 5
    round_money: int = 100
    pct_decimals: int = 1
    suppressed_symbol: str = "c"

    def __post_init__(self) -> None:
        if int(self.threshold) < 1:
            raise SDCInputError(f"SDCRules.threshold must be >= 1, got {self.threshold!r}")
        if int(self.nk_n) < 1:
            raise SDCInputError(f"SDCRules.nk_n must be >= 1, got {self.nk_n!r}")
        if not 0 < float(self.nk_k) <= 1:
            raise SDCInputError(f"SDCRules.nk_k must be in (0, 1], got {self.nk_k!r}")
        if not 0 <= float(self.pratio_p) < 1:
            raise SDCInputError(f"SDCRules.pratio_p must be in [0, 1), got {self.pratio_p!r}")
        if int(self.round_counts) < 1 or int(self.round_money) < 1:
            raise SDCInputError("SDCRules.round_counts and round_money must be >= 1")
        if int(self.pct_decimals) < 0:
            raise SDCInputError("SDCRules.pct_decimals must be >= 0")


DEFAULT_RULES = SDCRules()

#: Rule-by-rule correspondence with ACRO's ``default.yaml`` and its choice of
#: checks per statistic [ACRO] (ACRO setting, SDCRules field, default, what
#: happens).  Rendered in the book page.
ACRO_CORRESPONDENCE = pd.DataFrame(
    [
        ("safe_threshold", "threshold", "10",
         "cells with 1-9 units suppressed (n and statistic shown as 'c')"),
        ("zeros_are_disclosive", "zeros_are_disclosive", "True",
         "zero cells suppressed unless declared structural zeros; so are sums and means of all-zero values"),
        ("safe_nk_n / safe_nk_k", "nk_n / nk_k", "2 / 0.90",
         "sum/mean suppressed if top 2 units hold >= 90% of the cell total (not medians, as in ACRO)"),
        ("safe_pratio_p", "pratio_p", "0.10",
         "sum/mean suppressed if total - top1 - top2 < 10% of top1 (not medians, as in ACRO)"),
        ("(statistic 'Median': threshold and zeros only)", "-", "-",
         "medians checked for threshold and zeros; dominance and p-ratio not applied"),
        ("safe_dof_threshold", "dof_threshold", "10",
         "model refused if residual degrees of freedom < 10"),
        ("(none: DfE convention)", "round_counts", "5", "counts rounded to nearest 5"),
        ("(none: DfE convention)", "round_money", "100", "earnings rounded to nearest 100 pounds"),
        ("(none: DfE convention)", "pct_decimals", "1", "percentages rounded to 0.1"),
        ("(none: DfE convention)", "suppressed_symbol", "'c'", "symbol for suppressed cells"),
    ],
    columns=["ACRO setting", "SDCRules field", "default", "what happens"],
)

_MAGNITUDE_STATS = ("mean", "median", "sum")
#: statistics checked for dominance and the p-ratio (ACRO's "linear aggregations"); a median is not [ACRO]
_DOMINANCE_STATS = ("mean", "sum")
_MEDIAN_NOTE = ("medians are checked for the threshold and zeros only, as in ACRO: a median is a position "
                "statistic (one unit's value, or the mean of two) that the size of the largest contributions "
                "does not move, so dominance and the p-ratio are not applied; it is released rounded - check "
                "it is not an identifiable value")
_ALLOWED_STATS = ("count",) + _MAGNITUDE_STATS
_REFUSED_STATS = {
    "min": "the minimum is the value of a single unit",
    "max": "the maximum is the value of a single unit",
    "minimum": "the minimum is the value of a single unit",
    "maximum": "the maximum is the value of a single unit",
}
_REPORT_COLUMNS = ["cell", "statistic", "rule", "action", "detail"]
_NOT_APPLICABLE = "z"
_RULE_ORDER = [
    "zero",
    "threshold",
    "numerator threshold",
    "complement threshold",
    "dominance",
    "p-ratio",
    "all zero",
    "secondary",
]


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------
def round_to(x: Any, base: float = 1.0, decimals: int | None = None) -> np.ndarray:
    """Round half away from zero, to a multiple of ``base`` or to ``decimals`` places.

    Deterministic (no banker's rounding): ``round_to([12.5], 5)`` is 15 and
    ``round_to([-2.5], 5)`` is -5.  NaN stays NaN.
    """
    arr = np.asarray(x, dtype="float64")
    if decimals is not None:
        scale = 10.0 ** int(decimals)
        return np.sign(arr) * np.floor(np.abs(arr) * scale + 0.5) / scale
    base = float(base)
    return np.sign(arr) * np.floor(np.abs(arr) / base + 0.5) * base


def _as_list(x: str | Sequence[str] | None, what: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    try:
        out = list(x)
    except TypeError:
        raise SDCInputError(f"{what} must be a column name or a list of column names, got {x!r}") from None
    return out


def _check_frame(data: Any, what: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise SDCInputError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    return data


def _check_columns(data: pd.DataFrame, cols: Iterable[str], role: str) -> None:
    for c in cols:
        if c not in data.columns:
            raise SDCInputError(
                f"{role} column {c!r} not found in data; available columns: "
                f"{', '.join(map(str, data.columns[:20]))}{' ...' if len(data.columns) > 20 else ''}"
            )


def _check_numeric(data: pd.DataFrame, col: str, role: str) -> None:
    dt = data[col].dtype
    if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)):
        raise SDCInputError(
            f"{role} column {col!r} must be numeric (int, float or bool), got dtype {dt}"
        )


def _check_stat(stat: str, allowed: Sequence[str]) -> str:
    if not isinstance(stat, str):
        raise SDCInputError(f"stat must be a string, one of {list(allowed)}; got {stat!r}")
    s = stat.lower()
    if s in _REFUSED_STATS:
        raise SDCInputError(
            f"stat={stat!r} is not releasable from the SRS: {_REFUSED_STATS[s]}. "
            f"Use one of {list(allowed)} (e.g. a rounded median or a top-coded percentile)."
        )
    if s not in allowed:
        raise SDCInputError(f"unknown stat {stat!r}; expected one of {list(allowed)}")
    return s


def _report_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _REPORT_COLUMNS})
    return pd.DataFrame(rows, columns=_REPORT_COLUMNS).astype(object)


def _fmt_num(x: float) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NaN"
    xf = float(x)
    if xf.is_integer():
        return f"{int(xf)}"
    return f"{xf:.6g}"


# --------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------
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
        symbols = {self.rules.suppressed_symbol, _NOT_APPLICABLE}
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
        return _coef_table(self, decimals=decimals, on_fail=on_fail)

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


# --------------------------------------------------------------------------------------
# Key encoding and aggregation (vectorised)
# --------------------------------------------------------------------------------------
@dataclass
class _Keys:
    names: list[str]
    levels: list[pd.Index]
    dtypes: list[Any]
    codes: np.ndarray  # shape (n_rows, n_keys), -1 = missing


def _encode_keys(data: pd.DataFrame, by: list[str]) -> _Keys:
    levels, dtypes, codes = [], [], []
    for k in by:
        col = data[k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            lev = pd.Index(col.cat.categories)
            c = col.cat.codes.to_numpy().astype("int64")
        else:
            lev = pd.Index(col.dropna().unique())
            try:
                lev = lev.sort_values()
            except TypeError:  # mixed types: keep order of appearance
                pass
            c = lev.get_indexer(col).astype("int64")
        levels.append(lev)
        dtypes.append(col.dtype)
        codes.append(c)
    arr = np.column_stack(codes) if codes else np.zeros((len(data), 0), dtype="int64")
    return _Keys(list(by), levels, dtypes, arr)


def _aggregate(work: pd.DataFrame, kcols: list[str], magnitude: bool, has_unit: bool,
               nk_n: int, share: bool = False) -> pd.DataFrame:
    """Per-cell statistics.  ``work`` has int key-code columns, ``__v`` and ``__u``."""
    if not kcols:
        work = work.assign(__all=0)
        kcols_g = ["__all"]
    else:
        kcols_g = kcols
    g = work.groupby(kcols_g, observed=True, sort=True)
    out = pd.DataFrame({"n": g["__u"].nunique() if has_unit else g.size()})
    if share:
        pos = work.loc[work["__pos"]]
        gp = pos.groupby(kcols_g, observed=True, sort=True)
        num = gp["__u"].nunique() if has_unit else gp.size()
        out["num"] = num.reindex(out.index, fill_value=0)
    if magnitude:
        v = g["__v"]
        out["sum"] = v.sum()
        out["mean"] = v.mean()
        out["median"] = v.median()
        if has_unit:
            contrib = (
                work.groupby(kcols_g + ["__u"], observed=True, sort=False)["__v"].sum().abs().reset_index()
            )
        else:
            contrib = work[kcols_g].assign(__v=work["__v"].abs())
        contrib = contrib.sort_values(
            kcols_g + ["__v"], ascending=[True] * len(kcols_g) + [False], kind="mergesort"
        )
        rank = contrib.groupby(kcols_g, observed=True, sort=False).cumcount().to_numpy()
        c = contrib["__v"].to_numpy(dtype="float64")
        contrib = contrib.assign(
            __t1=np.where(rank == 0, c, 0.0),
            __t2=np.where(rank == 1, c, 0.0),
            __tn=np.where(rank < nk_n, c, 0.0),
        )
        agg = contrib.groupby(kcols_g, observed=True, sort=True)[["__v", "__t1", "__t2", "__tn"]].sum()
        out["abs_total"] = agg["__v"]
        out["top1"] = agg["__t1"]
        out["top2"] = agg["__t2"]
        out["topn"] = agg["__tn"]
    out = out.reset_index()
    if not kcols:
        out = out.drop(columns="__all")
    return out


def _cells_from_rows(work: pd.DataFrame, keys: _Keys, magnitude: bool, has_unit: bool,
                     rules: SDCRules, margins: bool, complete: bool, share: bool = False) -> pd.DataFrame:
    """Cells (one row each) with int key codes; ALL code for dimension d is len(levels[d])."""
    kcols = [f"__k{i}" for i in range(len(keys.names))]
    dims = list(range(len(kcols)))
    subsets = [tuple(s) for r in range(len(dims), -1, -1) for s in itertools.combinations(dims, r)] \
        if margins else [tuple(dims)]
    pieces = []
    for kept in subsets:
        kept_cols = [kcols[d] for d in kept]
        agg = _aggregate(work, kept_cols, magnitude, has_unit, rules.nk_n, share=share)
        if complete and kept_cols:
            grid = pd.MultiIndex.from_product(
                [range(len(keys.levels[d])) for d in kept], names=kept_cols
            ).to_frame(index=False)
            agg = grid.merge(agg, on=kept_cols, how="left", sort=False)
        for d in dims:
            if d not in kept:
                agg[kcols[d]] = len(keys.levels[d])
        pieces.append(agg)
    cells = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    fill0 = [c for c in ("n", "num", "sum", "abs_total", "top1", "top2", "topn") if c in cells.columns]
    cells[fill0] = cells[fill0].fillna(0)
    cells["n"] = cells["n"].astype("int64")
    if "num" in cells.columns:
        cells["num"] = cells["num"].astype("int64")
    if kcols:
        cells = cells.sort_values(kcols, kind="mergesort").reset_index(drop=True)
    return cells


def _key_output(cells: pd.DataFrame, keys: _Keys, margins: bool, margins_name: str) -> pd.DataFrame:
    """Turn key codes back into labelled key columns."""
    out = {}
    for i, name in enumerate(keys.names):
        codes = cells[f"__k{i}"].to_numpy()
        lev = keys.levels[i]
        if margins:
            labels = np.array(list(lev) + [margins_name], dtype=object)
            out[name] = pd.Series(labels[codes], dtype=object)
        elif isinstance(keys.dtypes[i], pd.CategoricalDtype):
            out[name] = pd.Series(pd.Categorical.from_codes(codes, dtype=keys.dtypes[i]))
        else:
            out[name] = pd.Series(lev.take(codes))
    return pd.DataFrame(out)


def _cell_labels(keyframe: pd.DataFrame) -> list[str]:
    if keyframe.shape[1] == 0:
        return ["(all)"] * len(keyframe)
    parts = [keyframe[c].astype(object).map(lambda v, c=c: f"{c}={v}") for c in keyframe.columns]
    lab = parts[0]
    for p in parts[1:]:
        lab = lab + ", " + p
    return lab.tolist()


# --------------------------------------------------------------------------------------
# Checks: primary suppression, secondary suppression, rounding
# --------------------------------------------------------------------------------------
def _primary(cells: pd.DataFrame, structural: np.ndarray, rules: SDCRules, stat: str,
             labels: list[str], magnitude: bool, dominance_available: bool,
             share: bool, report: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
    """Return (mask_n, mask_stat, mask_dom, reason).

    ``mask_n``: the count is suppressed (zero, threshold); ``mask_stat``: the statistic is
    suppressed for a reason that applies to every statistic (counts, numerator/complement of a
    share); ``mask_dom``: dominance, p-ratio or all-zero contributions (only when
    ``magnitude and dominance_available``; callers apply it to sums and means, not medians).
    ``reason`` maps a cell index to the first rule that suppressed it.
    """
    n = cells["n"].to_numpy()
    T = rules.threshold
    reason: dict[int, str] = {}
    is_zero = (n == 0) & ~structural
    zero_fail = is_zero & bool(rules.zeros_are_disclosive)
    thr_fail = (n > 0) & (n < T)
    mask_n = zero_fail | thr_fail
    mask_stat = mask_n.copy()
    mask_dom = np.zeros(len(n), dtype=bool)
    for i in np.flatnonzero(zero_fail):
        reason[i] = "zero"
        report.append(dict(cell=labels[i], statistic="n", rule="zero", action="suppressed",
                           detail="count is 0 (zeros are disclosive); declare structural zeros if 0 by definition"))
    for i in np.flatnonzero(is_zero & ~zero_fail):
        report.append(dict(cell=labels[i], statistic="n", rule="zero", action="shown",
                           detail="count is 0 and zeros_are_disclosive=False"))
    for i in np.flatnonzero(thr_fail):
        reason[i] = "threshold"
        report.append(dict(cell=labels[i], statistic="n", rule="threshold", action="suppressed",
                           detail=f"n={n[i]} < {T}"))
    for i in np.flatnonzero(structural):
        report.append(dict(cell=labels[i], statistic="n", rule="structural zero", action="shown",
                           detail="declared structural zero: shown as 0"))
    ok_n = ~mask_n & (n >= T)
    if share:
        num = cells["num"].to_numpy()
        comp = n - num
        num_zero = ok_n & (num == 0) & bool(rules.zeros_are_disclosive)
        num_fail = ok_n & (((num > 0) & (num < T)) | num_zero)
        comp_zero = ok_n & (comp == 0) & bool(rules.zeros_are_disclosive)
        comp_fail = ok_n & ~num_fail & (((comp > 0) & (comp < T)) | comp_zero)
        for i in np.flatnonzero(num_fail):
            reason[i] = "numerator threshold"
            report.append(dict(cell=labels[i], statistic=stat, rule="numerator threshold",
                               action="suppressed",
                               detail=f"numerator={num[i]} < {T}" + (" (0% is disclosive)" if num[i] == 0 else "")))
        for i in np.flatnonzero(comp_fail):
            reason[i] = "complement threshold"
            report.append(dict(cell=labels[i], statistic=stat, rule="complement threshold",
                               action="suppressed",
                               detail=f"denominator - numerator = {comp[i]} < {T}"
                                      + (" (100% is disclosive)" if comp[i] == 0 else "")))
        mask_stat = mask_stat | num_fail | comp_fail
    if magnitude and dominance_available:
        tot, _top1_share, _top2_share, topn_share, p_ratio = _shares(cells, rules.nk_n)
        dom_fail = ok_n & (tot > 0) & (topn_share >= rules.nk_k)
        pr_fail = ok_n & (tot > 0) & (p_ratio < rules.pratio_p)
        all_zero = ok_n & (tot == 0) & bool(rules.zeros_are_disclosive)
        for i in np.flatnonzero(dom_fail):
            reason.setdefault(i, "dominance")
            report.append(dict(cell=labels[i], statistic=stat, rule="dominance", action="suppressed",
                               detail=f"top {rules.nk_n} units hold {topn_share[i]:.1%} of the cell total "
                                      f"(must be under {rules.nk_k:.0%})"))
        for i in np.flatnonzero(pr_fail):
            reason.setdefault(i, "p-ratio")
            report.append(dict(cell=labels[i], statistic=stat, rule="p-ratio", action="suppressed",
                               detail=f"total - top1 - top2 = {p_ratio[i]:.1%} of top1 "
                                      f"(must be at least {rules.pratio_p:.0%})"))
        for i in np.flatnonzero(all_zero):
            reason.setdefault(i, "all zero")
            report.append(dict(cell=labels[i], statistic=stat, rule="all zero", action="suppressed",
                               detail="every unit's contribution is 0, so the statistic tells each unit's value "
                                      "(class disclosure; ACRO's p-ratio check fails such cells too)"))
        mask_dom = dom_fail | pr_fail | all_zero
    return mask_n, mask_stat, mask_dom, reason


def _shares(cells: pd.DataFrame, nk_n: int = 2) -> tuple[np.ndarray, ...]:
    """(total, top1 share, top2 share, top-nk_n share, p-ratio) per cell from its unit contributions.

    Shares are of the total of absolute unit contributions; the p-ratio is
    (total - top1 - top2) / top1.  NaN where the cell has no contributions (or top1 is 0).
    """
    m = len(cells)
    if "abs_total" not in cells.columns:
        nan = np.full(m, np.nan)
        return nan, nan, nan, nan, nan
    tot = cells["abs_total"].to_numpy(dtype="float64")
    top1 = cells["top1"].to_numpy(dtype="float64")
    top2 = cells["top2"].to_numpy(dtype="float64")
    topn = cells["topn"].to_numpy(dtype="float64") if "topn" in cells.columns else top1 + top2
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = tot > 0
        s1 = np.where(pos, top1 / np.where(pos, tot, 1.0), np.nan)
        s2 = np.where(pos, (top1 + top2) / np.where(pos, tot, 1.0), np.nan)
        sn = np.where(pos, topn / np.where(pos, tot, 1.0), np.nan)
        pr = np.where(top1 > 0, (tot - top1 - top2) / np.where(top1 > 0, top1, 1.0), np.nan)
    return tot, s1, s2, sn, pr


def _secondary(key_tuples: list[tuple], all_tokens: list[Any], sizes: np.ndarray,
               suppressed: np.ndarray, known: np.ndarray, labels: list[str], statistic: str,
               reason: dict[int, str], report: list[dict]) -> np.ndarray:
    """Complementary suppression so that no suppressed cell can be recovered from a total.

    A "line" is a set of cells that differ only in dimension ``d`` plus its
    total (the cell with the ALL token in dimension ``d``).  While any line
    with a published total has exactly one unknown cell, the smallest other
    published cell of that line (by ``sizes``, ties by table order) is
    suppressed as well -- or, if there is none, the total itself.
    """
    supp = suppressed.copy()
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
            reason.setdefault(pick, "secondary")
            report.append(dict(cell=labels[pick], statistic=statistic, rule="secondary", action="suppressed",
                               detail=f"complementary suppression: otherwise '{labels[protected]}' "
                                      f"could be recovered from the total '{labels[total]}'"))
            changed = True
    return supp


def _format_col(values: np.ndarray, mask: np.ndarray, rules: SDCRules, *, base: float | None = None,
                decimals: int | None = None, as_int: bool = False,
                na_symbol_mask: np.ndarray | None = None) -> pd.Series:
    """Round and replace suppressed cells by the symbol; numeric dtype if nothing is suppressed."""
    r = round_to(values, base=base or 1.0, decimals=decimals)
    na_mask = na_symbol_mask if na_symbol_mask is not None else np.zeros(len(r), dtype=bool)
    if not mask.any() and not na_mask.any():
        s = pd.Series(r)
        if as_int and np.isfinite(r).all():
            s = s.astype("int64")
        return s
    vals: list[Any] = []
    for i, x in enumerate(r.tolist()):  # loops over output cells, not data rows
        if mask[i]:
            vals.append(rules.suppressed_symbol)
        elif na_mask[i]:
            vals.append(_NOT_APPLICABLE)
        elif as_int and np.isfinite(x):
            vals.append(int(x))
        else:
            vals.append(x)
    return pd.Series(vals, dtype=object)


def _money_or_decimals(money: bool, decimals: int, rules: SDCRules) -> tuple[float | None, int | None, bool, str]:
    if money:
        return float(rules.round_money), None, True, f"rounded to nearest \u00a3{rules.round_money}"
    return None, int(decimals), int(decimals) == 0, f"rounded to {int(decimals)} decimal place(s)"


def _summary(n_cells: int, mask_any: np.ndarray, reason: dict[int, str], roundings: list[str],
             extra: list[str]) -> tuple[str, int]:
    idx = np.flatnonzero(mask_any)
    counts: dict[str, int] = {}
    for i in idx:
        r = reason.get(int(i), "secondary")
        counts[r] = counts.get(r, 0) + 1
    parts = [f"{counts[r]} {r}" for r in _RULE_ORDER if r in counts]
    word = "cell" if n_cells == 1 else "cells"
    s = f"{len(idx)} of {n_cells} {word} suppressed"
    if parts:
        s += f" ({', '.join(parts)})"
    return "; ".join([s] + roundings + extra), int(len(idx))


def _margins_note(margins: bool, report: list[dict]) -> str:
    if margins:
        return "totals shown (secondary suppression applied)"
    report.append(dict(cell="(table)", statistic="", rule="secondary", action="not applied",
                       detail="margins=False: no totals are shown, so suppressed cells cannot be recovered "
                              "by differencing within this table. If totals are released elsewhere, "
                              "use margins=True."))
    return "no totals shown"


def _structural_mask(structural_zeros: Any, keys: _Keys, cells: pd.DataFrame) -> np.ndarray:
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
# Evidence for the output checker
# --------------------------------------------------------------------------------------
def _rules_by_cell(report: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in report:
        if r.get("action") == "suppressed":
            lst = out.setdefault(str(r["cell"]), [])
            if r["rule"] not in lst:
                lst.append(r["rule"])
    return out


def _evidence(keyframe: pd.DataFrame, labels: list[str], cells: pd.DataFrame, statistic: str,
              mask_n: np.ndarray, mask_value: np.ndarray, dominance_checked: bool, report: list[dict],
              rules: SDCRules, share: bool = False, add_rows: bool = True) -> pd.DataFrame:
    """Per-cell evidence frame; with ``add_rows`` also one ``evidence`` row per cell in ``report``."""
    n = cells["n"].to_numpy()
    _tot, s1, s2, _sn, pr = _shares(cells, rules.nk_n)
    failed = _rules_by_cell(report)
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
        report.extend(_evidence_rows(ev, labels))
    return ev


def _evidence_rows(ev: pd.DataFrame, labels: Sequence[str]) -> list[dict]:
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


# --------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------
def _prepare(data: pd.DataFrame, by: list[str], value: str | None, unit: str | None,
             report: list[dict], reserved: Sequence[str]) -> tuple[pd.DataFrame, _Keys]:
    _check_columns(data, by, "by")
    if value is not None:
        _check_columns(data, [value], "value")
        _check_numeric(data, value, "value")
    if unit is not None:
        _check_columns(data, [unit], "unit")
    if len(set(by)) != len(by):
        raise SDCInputError(f"by columns must be distinct, got {by}")
    for b in by:
        if b in reserved:
            raise SDCInputError(f"by column {b!r} clashes with an output column name {list(reserved)}; rename it")
    keys = _encode_keys(data, by)
    cols: dict[str, Any] = {f"__k{i}": keys.codes[:, i] for i in range(len(by))}
    if value is not None:
        cols["__v"] = data[value].astype("float64").to_numpy()
    if unit is not None:
        cols["__u"] = data[unit].to_numpy()
    else:
        cols["__u"] = np.zeros(len(data), dtype="int64")
    work = pd.DataFrame(cols, index=pd.RangeIndex(len(data)))
    keep = np.ones(len(work), dtype=bool)
    if by:
        miss_k = (keys.codes < 0).any(axis=1)
        if miss_k.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_k.sum())} rows with a missing `by` value are not tabulated"))
        keep &= ~miss_k
    if value is not None:
        miss_v = ~np.isfinite(cols["__v"])
        if miss_v.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_v.sum())} rows with missing {value!r} are not used"))
        keep &= ~miss_v
    if unit is not None:
        miss_u = data[unit].isna().to_numpy()
        if miss_u.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_u.sum())} rows with missing unit {unit!r} are not used"))
        keep &= ~miss_u
    if not keep.all():
        work = work.loc[keep].reset_index(drop=True)
    return work, keys


# --------------------------------------------------------------------------------------
# Public API: tables
# --------------------------------------------------------------------------------------
def safe_table(
    data: pd.DataFrame,
    by: str | Sequence[str],
    value: str | None = None,
    stat: str = "count",
    *,
    unit: str | None = None,
    money: bool = False,
    decimals: int = 1,
    rules: SDCRules | None = None,
    round_counts: int | None = None,
    margins: bool = False,
    margins_name: str = "All",
    structural_zeros: Iterable[Any] | None = None,
    complete: bool | None = None,
    name: str | None = None,
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
        units.
    money : bool
        Round the statistic to the nearest ``rules.round_money`` (100 pounds)
        instead of to ``decimals`` places.
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
    data = _check_frame(data)
    stat = _check_stat(stat, _ALLOWED_STATS)
    by_l = _as_list(by, "by")
    magnitude = stat in _MAGNITUDE_STATS
    if magnitude and value is None:
        raise SDCInputError(f"stat={stat!r} needs a numeric `value` column")
    stat_name = name or stat
    if magnitude and stat_name == "n":
        raise SDCInputError("name='n' is reserved for the count column")
    report: list[dict] = []
    reserved = ("n", stat_name) if magnitude else ("n",)
    work, keys = _prepare(data, by_l, value, unit, report, reserved)
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
    cells = _cells_from_rows(work, keys, magnitude, unit is not None, rules, margins, complete)
    keyframe = _key_output(cells, keys, margins, margins_name)
    labels = _cell_labels(keyframe)
    structural = _structural_mask(structural_zeros, keys, cells)
    stat_label = stat if value is None else f"{stat} of {value}"
    dominance = stat in _DOMINANCE_STATS
    mask_n, mask_stat, mask_dom, reason = _primary(cells, structural, rules, stat_label, labels, magnitude,
                                                   dominance, False, report)
    mask_stat = mask_stat | mask_dom
    if stat == "median":
        report.append(dict(cell="(all shown cells)", statistic=stat_label, rule="dominance", action="not applied",
                           detail=_MEDIAN_NOTE))
    if margins:
        kc = [f"__k{i}" for i in range(len(by_l))]
        key_tuples = [tuple(r) for r in cells[kc].to_numpy().tolist()]
        all_tokens = [len(lev) for lev in keys.levels]
        sizes = cells["n"].to_numpy()
        mask_n = _secondary(key_tuples, all_tokens, sizes, mask_n, structural, labels, "n", reason, report)
        if dominance:  # sums and means add up to the total; a median does not
            mask_stat = _secondary(key_tuples, all_tokens, sizes, mask_stat | mask_n, structural, labels,
                                   stat_label, reason, report)
    mask_stat = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    if rc < 1:
        raise SDCInputError(f"round_counts must be >= 1, got {round_counts!r}")
    out = keyframe.copy()
    roundings = []
    if magnitude:
        base, dec, as_int, how = _money_or_decimals(money, decimals, rules)
        vals = cells[stat].to_numpy(dtype="float64")
        na_mask = structural & (stat != "sum")
        if stat == "sum":
            vals = np.where(structural, 0.0, vals)
        out[stat_name] = _format_col(vals, mask_stat, rules, base=base, decimals=dec, as_int=as_int,
                                     na_symbol_mask=na_mask)
        report.append(dict(cell="(all shown cells)", statistic=stat_label, rule="rounding", action="rounded",
                           detail=how))
        roundings.append(f"{stat_name} {how}")
    out["n"] = _format_col(cells["n"].to_numpy(dtype="float64"), mask_n, rules, base=rc, as_int=True)
    if rc > 1:
        report.append(dict(cell="(all shown cells)", statistic="n", rule="rounding", action="rounded",
                           detail=f"counts rounded to nearest {rc}"))
        roundings.append(f"counts rounded to {rc}")
    extra = [_margins_note(margins, report)] if by_l else []
    summary, n_supp = _summary(len(cells), mask_stat | mask_n, reason, roundings, extra)
    title = (f"{stat} of {value}" if magnitude else "count") + (f" by {', '.join(by_l)}" if by_l else "")
    ev = _evidence(keyframe, labels, cells, stat_label if magnitude else "count", mask_n,
                   mask_stat if magnitude else mask_n, dominance, report, rules)
    return SDCResult(out, _report_frame(report), summary, n_supp, len(cells), "table", rules, title, ev)


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
        are recognised and secondary suppression is applied.

    Returns
    -------
    SDCResult with ``.table`` (contribution columns removed), ``.report`` and
    ``.evidence`` (one row per cell: unrounded count, top-2 share when the
    contributions are given, released or suppressed).
    """
    rules = rules or DEFAULT_RULES
    df = _check_frame(df, "df")
    _check_columns(df, [count_col], "count_col")
    _check_numeric(df, count_col, "count_col")
    stat_l = _as_list(stat_cols, "stat_cols")
    money_l = _as_list(money_cols, "money_cols")
    pct_l = _as_list(pct_cols, "pct_cols")
    median_l = _as_list(median_cols, "median_cols")
    bad = [c for c in median_l if c not in stat_l + money_l]
    if bad:
        raise SDCInputError(f"median_cols {bad} must also be listed in stat_cols or money_cols (they say how to "
                            "round them)")
    contrib = [c for c in (total_col, top1_col, top2_col) if c is not None]
    for role, cols in (("stat_cols", stat_l), ("money_cols", money_l), ("pct_cols", pct_l),
                       ("contribution", contrib)):
        _check_columns(df, cols, role)
        for c in cols:
            _check_numeric(df, c, role)
    non_key = {count_col, *stat_l, *money_l, *pct_l, *contrib}
    by_l = _as_list(by, "by") if by is not None else [c for c in df.columns if c not in non_key]
    _check_columns(df, by_l, "by")
    if 0 < len(contrib) < 3:
        raise SDCInputError("give all of total_col, top1_col and top2_col (or none of them)")
    if contrib and rules.nk_n > 2:
        raise SDCInputError("check_table supports nk_n <= 2 (only top1_col and top2_col are given)")
    counts = pd.to_numeric(df[count_col]).to_numpy(dtype="float64")
    if np.isnan(counts).any() or (counts < 0).any():
        raise SDCInputError(f"count_col {count_col!r} must hold non-negative counts without missing values")
    report: list[dict] = []
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
                           action="not applied", detail=_MEDIAN_NOTE))
    keyframe = df[by_l].reset_index(drop=True)
    labels = _cell_labels(keyframe)
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
    mask_n, mask_stat, mask_dom, reason = _primary(cells, structural, rules, ", ".join(dom_l) or add_label, labels,
                                                   bool(dom_l), bool(contrib), False, report)
    mask_add = mask_stat | mask_dom
    margins = margins_name is not None
    if margins:
        key_tuples = [tuple(r) for r in keyframe.astype(object).to_numpy().tolist()]
        all_tokens = [margins_name] * len(by_l)
        sizes = cells["n"].to_numpy()
        mask_n = _secondary(key_tuples, all_tokens, sizes, mask_n, structural, labels, count_col, reason, report)
        if add_l:
            mask_add = _secondary(key_tuples, all_tokens, sizes, mask_add | mask_n, structural, labels,
                                  add_label, reason, report)
    mask_add = mask_add | mask_n
    mask_med = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    out = df.reset_index(drop=True).copy()
    roundings = []
    for c in stat_l:
        m = mask_med if c in median_l else mask_add
        out[c] = _format_col(df[c].to_numpy(dtype="float64"), m, rules, decimals=decimals)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"rounded to {decimals} decimal place(s)"))
    for c in money_l:
        m = mask_med if c in median_l else mask_add
        out[c] = _format_col(df[c].to_numpy(dtype="float64"), m, rules, base=rules.round_money,
                             as_int=True)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"rounded to nearest \u00a3{rules.round_money}"))
    for c in pct_l:
        out[c] = _format_col(df[c].to_numpy(dtype="float64"), mask_add, rules, decimals=rules.pct_decimals)
        report.append(dict(cell="(all shown cells)", statistic=c, rule="rounding", action="rounded",
                           detail=f"percentage rounded to {rules.pct_decimals} decimal place(s)"))
    if stat_l or money_l or pct_l:
        roundings.append("statistics rounded")
    out[count_col] = _format_col(counts, mask_n, rules, base=rc, as_int=True)
    if rc > 1:
        report.append(dict(cell="(all shown cells)", statistic=count_col, rule="rounding", action="rounded",
                           detail=f"counts rounded to nearest {rc}"))
        roundings.append(f"counts rounded to {rc}")
    if contrib:
        out = out.drop(columns=contrib)
        report.append(dict(cell="(table)", statistic="", rule="note", action="columns removed",
                           detail=f"contribution columns {contrib} are evidence for the checker, not output"))
    extra = [] if margins else [_margins_note(False, report)]
    any_supp = mask_n | (mask_add if add_l else np.zeros(len(cells), dtype=bool)) | \
        (mask_med if median_l else np.zeros(len(cells), dtype=bool))
    summary, n_supp = _summary(len(cells), any_supp, reason, roundings, extra)
    groups = []
    if add_l:
        groups.append((add_label, mask_add, bool(contrib) and bool(dom_l)))
    if median_l:
        groups.append((", ".join(median_l), mask_med, False))
    if not groups:
        groups.append((count_col, mask_n, False))
    ev = pd.concat([_evidence(keyframe, labels, cells, lab, mask_n, m, dom, report, rules)
                    for lab, m, dom in groups], ignore_index=True)
    return SDCResult(out, _report_frame(report), summary, n_supp, len(cells), "table", rules,
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
        the outcome if any of its rows has it.

    Returns
    -------
    SDCResult whose table has the ``by`` columns, ``pct`` (0.1), ``n_outcome``
    and ``n`` (rounded to 5).
    """
    rules = rules or DEFAULT_RULES
    data = _check_frame(data)
    by_l = _as_list(by, "by")
    _check_columns(data, [outcome], "outcome")
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
    miss_o = col.isna().to_numpy()
    if miss_o.any():
        report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                           detail=f"{int(miss_o.sum())} rows with missing {outcome!r} are not used"))
    sub = data.loc[~miss_o] if miss_o.any() else data
    pos = pos[~miss_o]
    work, keys = _prepare(sub, by_l, None, unit, report, ("n", "pct", "n_outcome"))
    # _prepare may drop rows with missing keys or units: recompute the same mask for `pos`
    keep = np.ones(len(sub), dtype=bool)
    if by_l:
        keep &= ~(keys.codes < 0).any(axis=1)
    if unit is not None:
        keep &= ~sub[unit].isna().to_numpy()
    work["__pos"] = pos[keep]
    any_cat = any(isinstance(dt, pd.CategoricalDtype) for dt in keys.dtypes)
    if complete is None:
        complete = any_cat or margins
    if margins:
        if not by_l:
            raise SDCInputError("margins=True needs at least one `by` column")
        complete = True
    cells = _cells_from_rows(work, keys, False, unit is not None, rules, margins, complete, share=True)
    keyframe = _key_output(cells, keys, margins, margins_name)
    labels = _cell_labels(keyframe)
    structural = _structural_mask(structural_zeros, keys, cells)
    stat_label = f"% {outcome}" + (f"=={positive!r}" if positive is not None else "")
    mask_n, mask_stat, _dom, reason = _primary(cells, structural, rules, stat_label, labels, False, False, True,
                                               report)
    if margins:
        kc = [f"__k{i}" for i in range(len(by_l))]
        key_tuples = [tuple(r) for r in cells[kc].to_numpy().tolist()]
        all_tokens = [len(lev) for lev in keys.levels]
        mask_n = _secondary(key_tuples, all_tokens, cells["n"].to_numpy(), mask_n, structural, labels, "n",
                            reason, report)
        mask_stat = _secondary(key_tuples, all_tokens, cells["num"].to_numpy(), mask_stat | mask_n, structural,
                               labels, "n_outcome", reason, report)
    mask_stat = mask_stat | mask_n
    rc = int(round_counts if round_counts is not None else rules.round_counts)
    n = cells["n"].to_numpy(dtype="float64")
    num = cells["num"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n > 0, 100.0 * num / np.where(n > 0, n, 1.0), np.nan)
    out = keyframe.copy()
    out["pct"] = _format_col(pct, mask_stat, rules, decimals=rules.pct_decimals, na_symbol_mask=structural)
    out["n_outcome"] = _format_col(num, mask_stat, rules, base=rc, as_int=True)
    out["n"] = _format_col(n, mask_n, rules, base=rc, as_int=True)
    report.append(dict(cell="(all shown cells)", statistic="pct", rule="rounding", action="rounded",
                       detail=f"percentages (from unrounded counts) rounded to {rules.pct_decimals} decimal place(s)"))
    report.append(dict(cell="(all shown cells)", statistic="n, n_outcome", rule="rounding", action="rounded",
                       detail=f"counts rounded to nearest {rc}"))
    extra = [_margins_note(margins, report)] if by_l else []
    summary, n_supp = _summary(len(cells), mask_stat | mask_n, reason,
                               [f"pct to {rules.pct_decimals} dp", f"counts rounded to {rc}"], extra)
    title = f"share with {outcome}" + (f" by {', '.join(by_l)}" if by_l else "")
    ev = _evidence(keyframe, labels, cells, stat_label, mask_n, mask_stat, False, report, rules, share=True)
    return SDCResult(out, _report_frame(report), summary, n_supp, len(cells), "table", rules, title, ev)


# --------------------------------------------------------------------------------------
# Public API: figures
# --------------------------------------------------------------------------------------
def _edge_labels(edges: np.ndarray) -> list[str]:
    return [f"[{_fmt_num(a)}, {_fmt_num(b)}" + (")" if i < len(edges) - 2 else "]")
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
    data = _check_frame(data)
    stat = _check_stat(stat, _MAGNITUDE_STATS)
    _check_columns(data, [x], "x")
    _check_columns(data, [y], "y")
    _check_numeric(data, x, "x")
    _check_numeric(data, y, "y")
    if unit is not None:
        _check_columns(data, [unit], "unit")
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
        labels = _edge_labels(edges)
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
    return _figure_from(ry, rx, x, y, stat, how, rules)


def _figure_from(ry: SDCResult, rx: SDCResult | None, x: str, y: str | None, stat: str, how: str,
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
        bad |= t[c].astype(object).isin([sym, _NOT_APPLICABLE]).to_numpy()

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
    report = pd.concat([report, _report_frame(_evidence_rows(evidence, [f"bin={b}" for b in evidence["bin"]]))],
                       ignore_index=True)
    internal = (report["rule"] == "secondary") | report["detail"].astype(str).str.contains(
        "missing `by` value", regex=False)
    report = report[~internal].reset_index(drop=True)
    dropped = t.loc[bad, "bin"].tolist()
    if dropped:
        report = pd.concat([report, _report_frame([dict(
            cell=", ".join(dropped), statistic="", rule="figure", action="bins dropped",
            detail="bins failing a check are left out of the plot data")])], ignore_index=True)
    report = pd.concat([report, _report_frame([dict(cell="(figure)", statistic="", rule="note", action="binning",
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
    data = _check_frame(data)
    _check_columns(data, [x], "x")
    _check_numeric(data, x, "x")
    if unit is not None:
        _check_columns(data, [unit], "unit")
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
    labels = _edge_labels(edges)
    frame = pd.DataFrame({"bin": pd.Categorical.from_codes(np.where(inside, idx, -1), categories=labels)})
    if unit is not None:
        frame["__unit"] = data[unit].to_numpy()[ok]
    r = safe_table(frame, "bin", stat="count", unit="__unit" if unit is not None else None, rules=rules,
                   round_counts=round_counts)
    how = f"{len(labels)} bins from {_fmt_num(edges[0])} to {_fmt_num(edges[-1])}"
    if clip:
        how += "; values outside pooled into the end bins (top/bottom coded)"
    elif (~inside).any():
        how += f"; {int((~inside).sum())} values outside the edges left out"
    res = _figure_from(r, None, x, None, "count", how, rules)
    left = pd.Series(edges[:-1], index=labels)
    right = pd.Series(edges[1:], index=labels)
    t = res.table
    t.insert(1, "left", left.reindex(t["bin"]).to_numpy())
    t.insert(2, "right", right.reindex(t["bin"]).to_numpy())
    return res


# --------------------------------------------------------------------------------------
# Public API: models
# --------------------------------------------------------------------------------------
def _is_pyfixest(fitted: Any) -> bool:
    return hasattr(fitted, "_N") and hasattr(fitted, "_coefnames") and callable(getattr(fitted, "coef", None))


def _is_statsmodels(fitted: Any) -> bool:
    return hasattr(fitted, "df_resid") and hasattr(fitted, "model") and hasattr(fitted, "params")


_CAT_TERM = re.compile(r"^(?:C\()?(?P<var>[^\[\(\),:]+?)(?:\s*,.*?)?\)*\[T\.(?P<level>[^\]]*)\]$")


def check_model(
    fitted: Any,
    data: pd.DataFrame | None = None,
    categorical: str | Sequence[str] | None = None,
    *,
    rules: SDCRules | None = None,
) -> ModelCheck:
    """Disclosure checks for a fitted regression model.

    Works for statsmodels results (OLS, WLS, GLM, Logit, Probit, ...) and
    pyfixest ``Feols`` / ``Fepois`` objects.  Checks:

    * residual degrees of freedom >= ``rules.dof_threshold``;
    * every 0/1 regressor (including formula dummies such as
      ``C(region)[T.North]``) has at least ``threshold`` observations equal to
      1 and to 0, and each factor's reference level has at least ``threshold``;
    * every fixed-effect level (pyfixest) has at least ``threshold``
      observations;
    * with ``data`` and ``categorical`` (names of categorical regressors or
      fixed effects), every level of those columns in the estimation sample
      has at least ``threshold`` observations.

    Returns
    -------
    ModelCheck with ``.ok``, ``.report`` and ``.coef_table()``.
    """
    rules = rules or DEFAULT_RULES
    T = rules.threshold
    cat_l = _as_list(categorical, "categorical")
    report: list[dict] = []
    flagged: list[str] = []
    global_fail = False
    if _is_pyfixest(fitted):
        kind = "pyfixest"
        nobs = int(fitted._N)
        k_fe = getattr(fitted, "_k_fe", None)
        n_fe = int(getattr(fitted, "_n_fe", 0) or 0)
        absorbed = 0
        if k_fe is not None and n_fe > 0:
            absorbed = int(np.asarray(k_fe).sum()) - (n_fe - 1)
        dof = float(nobs - int(fitted._k) - absorbed)
        names = [str(c) for c in fitted._coefnames]
        est = getattr(fitted, "_data", None)
        if data is None:
            data = est
        elif est is not None and len(data) != nobs:
            report.append(dict(cell="(model)", statistic="", rule="note", action="check",
                               detail=f"data has {len(data)} rows but the model used {nobs}; counts use the "
                                      "model's own estimation sample"))
            data = est
    elif _is_statsmodels(fitted):
        kind = "statsmodels"
        nobs = int(round(float(fitted.nobs)))
        dof = float(fitted.df_resid)
        names = [str(c) for c in fitted.model.exog_names]
        exog = np.asarray(fitted.model.exog, dtype="float64")
        if data is not None:
            row_labels = getattr(getattr(fitted.model, "data", None), "row_labels", None)
            if row_labels is not None and len(row_labels) == nobs and pd.Index(row_labels).isin(data.index).all():
                data = data.loc[row_labels]
            elif len(data) != nobs:
                report.append(dict(cell="(model)", statistic="", rule="note", action="check",
                                   detail=f"data has {len(data)} rows but the model used {nobs}; could not align "
                                          "to the estimation sample, counting on all rows of data"))
    else:
        raise SDCInputError(
            f"check_model expects a fitted statsmodels results object or a pyfixest Feols object, "
            f"got {type(fitted).__name__}"
        )
    # 1. residual degrees of freedom
    dof_ok = dof >= rules.dof_threshold
    report.append(dict(cell="(model)", statistic="residual dof", rule="dof", action="pass" if dof_ok else "fail",
                       detail=f"residual dof = {_fmt_num(dof)} {'>=' if dof_ok else '<'} {rules.dof_threshold} "
                              f"(n = {nobs}, parameters = {_fmt_num(nobs - dof)})"))
    global_fail |= not dof_ok
    # 2. dummies in the design matrix
    if kind == "statsmodels":
        X = exog
    else:
        cols = []
        for nm in names:
            col = None
            if data is not None and nm in data.columns and pd.api.types.is_numeric_dtype(data[nm].dtype):
                col = data[nm].to_numpy(dtype="float64")
            else:
                m = _CAT_TERM.match(nm)
                if data is not None and m and m.group("var").strip() in data.columns:
                    col = (data[m.group("var").strip()].astype(str) == m.group("level")).to_numpy(dtype="float64")
            cols.append(col if col is not None else np.full(nobs, np.nan))
        X = np.column_stack(cols) if cols else np.zeros((nobs, 0))
    finite = np.isfinite(X).all(axis=0)
    is01 = finite & np.isin(np.nan_to_num(X), [0.0, 1.0]).all(axis=0)
    ones = np.nansum(X, axis=0)
    nonconst = (ones > 0) & (ones < X.shape[0])
    factor_sums: dict[str, float] = {}
    for j in np.flatnonzero(is01 & nonconst):
        nm = names[j]
        n1, n0 = int(ones[j]), int(X.shape[0] - ones[j])
        fail = n1 < T or n0 < T
        report.append(dict(cell=nm, statistic="dummy", rule="dummy cell", action="fail" if fail else "pass",
                           detail=f"{n1} observations with {nm}=1, {n0} with 0 (each must be >= {T})"))
        if fail:
            flagged.append(nm)
        m = _CAT_TERM.match(nm)
        if m:
            factor_sums[m.group("var").strip()] = factor_sums.get(m.group("var").strip(), 0.0) + n1
    for var, s in sorted(factor_sums.items()):
        nref = int(X.shape[0] - s)
        fail = nref < T
        report.append(dict(cell=f"{var} (reference level)", statistic="dummy", rule="dummy cell",
                           action="fail" if fail else "pass",
                           detail=f"{nref} observations in the reference level (must be >= {T})"))
        if fail:
            flagged.extend(n for n in names if (m := _CAT_TERM.match(n)) and m.group("var").strip() == var)
    # 3. fixed effects (pyfixest) and declared categoricals
    level_checks: list[tuple[str, str]] = []
    level_fail = False
    if kind == "pyfixest":
        fixef = getattr(fitted, "_fixef", None)
        if fixef and fixef != "0":
            for fe in str(fixef).split("+"):
                level_checks.append((fe.strip(), "fixed-effect level"))
    for c in cat_l:
        level_checks.append((c, "categorical level"))
    if level_checks and data is None:
        raise SDCInputError("checking categorical levels needs `data` (the estimation data)")
    for fe, rule in level_checks:
        parts = [p.strip() for p in fe.split("^")]
        _check_columns(data, parts, "categorical" if rule == "categorical level" else "fixed-effect")
        key = data[parts[0]].astype(str) if len(parts) == 1 else \
            data[parts].astype(str).agg("^".join, axis=1)
        vc = key.value_counts(sort=False)
        small = vc[vc < T].sort_index()
        if len(small):
            for lev, cnt in small.items():
                term_hits = [n for n in names if (m := _CAT_TERM.match(n)) and m.group("var").strip() == fe
                             and m.group("level") == str(lev)]
                report.append(dict(cell=f"{fe}={lev}", statistic="level", rule=rule, action="fail",
                                   detail=f"{int(cnt)} observations < {T}"))
                if term_hits:
                    flagged.extend(term_hits)
                else:
                    level_fail = True
        else:
            report.append(dict(cell=fe, statistic="level", rule=rule, action="pass",
                               detail=f"all {len(vc)} levels have >= {T} observations (smallest {int(vc.min())})"
                               if len(vc) else "no levels"))
    flagged = list(dict.fromkeys(flagged))
    ok = not global_fail and not flagged and not level_fail
    rep = _report_frame(report)
    n_fail = int((rep["action"] == "fail").sum())
    summary = (f"{'OK' if ok else 'FAIL'}: {n_fail} failed check{'s' if n_fail != 1 else ''}; "
               f"residual dof {_fmt_num(dof)} {'>=' if dof_ok else '<'} {rules.dof_threshold}")
    if flagged:
        summary += f"; small cells behind {', '.join(flagged)}"
    return ModelCheck(ok, rep, dof, nobs, flagged, global_fail, summary, rules, fitted)


def _coef_table(chk: ModelCheck, decimals: int = 3, on_fail: str = "raise") -> pd.DataFrame:
    if on_fail not in ("raise", "mark"):
        raise SDCInputError(f"on_fail must be 'raise' or 'mark', got {on_fail!r}")
    fitted = chk._fitted
    if _is_pyfixest(fitted):
        params = fitted.coef()
        bse = fitted.se()
        terms = [str(t) for t in params.index]
        coef = params.to_numpy(dtype="float64")
        se = bse.reindex(params.index).to_numpy(dtype="float64")
    else:
        names = [str(c) for c in fitted.model.exog_names]
        coef = np.asarray(fitted.params, dtype="float64").ravel()
        se = np.asarray(fitted.bse, dtype="float64").ravel()
        params = fitted.params
        terms = [str(t) for t in params.index] if isinstance(params, pd.Series) else names
    if not chk.ok and on_fail == "raise":
        raise DisclosureError(f"model fails disclosure checks, coefficients not released: {chk.summary}")
    hide = np.full(len(terms), chk.global_fail)
    if chk.flagged_terms:
        hide |= np.isin(terms, chk.flagged_terms)
    rules = chk.rules
    out = pd.DataFrame({"term": terms})
    out["coef"] = _format_col(coef, hide, rules, decimals=decimals)
    out["se"] = _format_col(se, hide, rules, decimals=decimals)
    out.attrs["nobs"] = int(round_to([chk.nobs], rules.round_counts)[0])
    out.attrs["sdc"] = chk.summary
    return out


def safe_coef_table(
    fitted: Any,
    data: pd.DataFrame | None = None,
    categorical: str | Sequence[str] | None = None,
    *,
    decimals: int = 3,
    rules: SDCRules | None = None,
    on_fail: str = "raise",
) -> pd.DataFrame:
    """Rounded coefficients and standard errors of a model that passes :func:`check_model`.

    ``on_fail="raise"`` (default) raises :class:`DisclosureError` when any
    check fails; ``on_fail="mark"`` returns the table with ``"c"`` for the
    coefficients resting on a small cell (all of them when the residual
    degrees of freedom are too few).  Small fixed-effect levels do not hide
    slope coefficients in "mark" mode (fixed-effect estimates are never in
    this table), but they make the check fail.  ``table.attrs["nobs"]`` is
    the number of observations rounded to ``rules.round_counts``.
    """
    chk = check_model(fitted, data, categorical, rules=rules)
    return _coef_table(chk, decimals=decimals, on_fail=on_fail)
