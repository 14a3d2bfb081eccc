"""The rules and their defaults: :class:`SDCRules`, which statistic each rule applies to, and the ACRO table.

:data:`RULES_TABLE` is the one statement of the kit's rules and of their correspondence with ACRO's settings
[ACRO]: the module docstring of :mod:`leokit.sdc` renders it (:func:`rules_table_rst`), the book page
``book/reference/disclosure-control.md`` renders it (:func:`rules_table_markdown`), and
:data:`ACRO_CORRESPONDENCE` is it as a DataFrame. Defaults in it are read from :data:`DEFAULT_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from leokit.errors import SDCInputError

__all__ = [
    "SDCRules",
    "DEFAULT_RULES",
    "RULES_TABLE",
    "RULES_TABLE_COLUMNS",
    "ACRO_CORRESPONDENCE",
    "rules_table_markdown",
    "rules_table_rst",
    "MAGNITUDE_STATS",
    "DOMINANCE_STATS",
    "ALLOWED_STATS",
    "REFUSED_STATS",
    "MEDIAN_NOTE",
    "RULE_ORDER",
    "NOT_APPLICABLE",
    "check_stat",
]


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


#: The kit's default rules (ONS SRS rules of thumb, ACRO's defaults, DfE conventions).
DEFAULT_RULES = SDCRules()

#: Statistics of a value (``stat=``) the kit releases, and the ones it refuses outright.
MAGNITUDE_STATS = ("mean", "median", "sum")
#: statistics checked for dominance and the p-ratio (ACRO's "linear aggregations"); a median is not [ACRO]
DOMINANCE_STATS = ("mean", "sum")
#: Report note on every median: why dominance and the p-ratio are not applied to it [ACRO].
MEDIAN_NOTE = ("medians are checked for the threshold and zeros only, as in ACRO: a median is a position "
               "statistic (one unit's value, or the mean of two) that the size of the largest contributions "
               "does not move, so dominance and the p-ratio are not applied; it is released rounded - check "
               "it is not an identifiable value")
ALLOWED_STATS = ("count",) + MAGNITUDE_STATS
REFUSED_STATS = {
    "min": "the minimum is the value of a single unit",
    "max": "the maximum is the value of a single unit",
    "minimum": "the minimum is the value of a single unit",
    "maximum": "the maximum is the value of a single unit",
}
#: Symbol for a cell where the statistic does not apply (e.g. the mean of a structural zero) [GO-DATA].
NOT_APPLICABLE = "z"
#: Order in which suppression reasons are listed in a summary line.
RULE_ORDER = [
    "zero",
    "threshold",
    "numerator threshold",
    "complement threshold",
    "dominance",
    "p-ratio",
    "all zero",
    "secondary",
]



def check_stat(stat: str, allowed: Sequence[str]) -> str:
    if not isinstance(stat, str):
        raise SDCInputError(f"stat must be a string, one of {list(allowed)}; got {stat!r}")
    s = stat.lower()
    if s in REFUSED_STATS:
        raise SDCInputError(
            f"stat={stat!r} is not releasable from the SRS: {REFUSED_STATS[s]}. "
            f"Use one of {list(allowed)} (e.g. a rounded median or a top-coded percentile)."
        )
    if s not in allowed:
        raise SDCInputError(f"unknown stat {stat!r}; expected one of {list(allowed)}")
    return s


# --------------------------------------------------------------------------------------
# The rules and ACRO, one table
# --------------------------------------------------------------------------------------
_R = DEFAULT_RULES
#: Column names of :data:`RULES_TABLE`.
RULES_TABLE_COLUMNS = ("rule", "applies to", "default", "SDCRules field", "ACRO setting", "source")
#: One row per rule: what it does, what it applies to, its default (from :data:`DEFAULT_RULES`), the
#: :class:`SDCRules` field that sets it, ACRO's setting of the same rule [ACRO] and the sources.
RULES_TABLE: tuple[tuple[str, ...], ...] = (
    (f"minimum cell size: at least {_R.threshold} units (distinct persons with unit=) behind every count or "
     f"statistic; cells with 1-{_R.threshold - 1} units are suppressed", "everything", str(_R.threshold),
     "threshold", "safe_threshold", "ONS SRS rule of thumb [ONS-SRS]; [UKLLC]; [ACRO]"),
    ("zeros are disclosive (a 0 says nobody in the group has the attribute) unless declared a structural zero",
     "every cell", str(_R.zeros_are_disclosive), "zeros_are_disclosive", "zeros_are_disclosive",
     "[ONS-SRS]; [ACRO]"),
    (f"(n, k) dominance: suppressed when the {_R.nk_n} largest units hold {_R.nk_k:.0%} or more of the cell total "
     "(absolute values per unit)", "sums and means, not medians", f"{_R.nk_n} / {_R.nk_k:.2f}", "nk_n / nk_k",
     "safe_nk_n / safe_nk_k", "[ACRO]; [SDCLOG]"),
    (f"p-ratio: suppressed when total - largest - second largest < {_R.pratio_p:.0%} of the largest",
     "sums and means, not medians", f"{_R.pratio_p:.2f}", "pratio_p", "safe_pratio_p", "[ACRO]"),
    ("a sum or mean whose unit contributions are all zero is suppressed (it tells every unit's value)",
     "sums and means", str(_R.zeros_are_disclosive), "zeros_are_disclosive",
     "- (its p-ratio check fails them)", "[ACRO]"),
    ("medians: checked for the threshold and zeros only (a position statistic; dominance and the p-ratio are "
     "not applied)", "medians", "-", "-", "Median: threshold, zeros", "[ACRO]"),
    (f"models: residual degrees of freedom at least {_R.dof_threshold}", "regressions", str(_R.dof_threshold),
     "dof_threshold", "safe_dof_threshold", "[ACRO]"),
    ("no minimum or maximum (each is one unit's value)", "-", "refused", "-",
     "- (checked like medians)", "[SDCLOG]"),
    (f"counts rounded to the nearest {_R.round_counts}", "counts", str(_R.round_counts), "round_counts",
     "- (DfE convention)", "DfE LEO publications [GO-DATA]; ONS 10-5 rule [ONS-SDC]"),
    (f"earnings rounded to the nearest {_R.round_money} pounds", "money", str(_R.round_money), "round_money",
     "- (DfE convention)", "DfE LEO graduate outcomes [GO-DATA]"),
    (f"percentages rounded to {_R.pct_decimals} decimal place(s)", "shares", str(_R.pct_decimals),
     "pct_decimals", "- (DfE convention)", "[GO-DATA]"),
    ("symbol for a suppressed cell ('z' = not applicable)", "-", repr(_R.suppressed_symbol), "suppressed_symbol",
     "- (DfE convention)", "[GO-DATA]"),
    ("secondary suppression when totals are shown, so no suppressed cell can be recovered by differencing",
     "counts, sums, means, shares", "margins=True", "-", "- (not in ACRO)",
     "standard SDC practice (differencing)"),
    (f"differencing between outputs: a released cell whose units differ from an earlier released cell or sum of "
     f"cells by 1-{_R.threshold - 1} is suppressed (OutputSession)", "tables and figures released in a session",
     "OutputSession", "-", "- (not in ACRO)", "standard SDC practice (differencing) [SDCLOG]"),
    ("a person id that repeats without unit= is refused; rows with a missing by value are their own cell; "
     "rows left out are counted in the printed summary", "tables, shares, figures", "missing='cell'", "-",
     "- (ACRO counts rows)", "[ONS-SRS]"),
)
del _R

#: :data:`RULES_TABLE` as a DataFrame (rendered in the book page).
ACRO_CORRESPONDENCE = pd.DataFrame(list(RULES_TABLE), columns=list(RULES_TABLE_COLUMNS))


def rules_table_markdown(columns: Sequence[str] = RULES_TABLE_COLUMNS) -> str:
    """:data:`RULES_TABLE` as a Markdown (pipe) table, for the book page."""
    idx = [RULES_TABLE_COLUMNS.index(c) for c in columns]
    esc = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(esc(row[i]) for i in idx) + " |" for row in RULES_TABLE]
    return "\n".join(lines) + "\n"


def rules_table_rst(columns: Sequence[str] = ("SDCRules field", "default", "ACRO setting", "rule"),
                    width: int = 110) -> str:
    """:data:`RULES_TABLE` as a reStructuredText grid table (the :mod:`leokit.sdc` docstring shows it)."""
    import textwrap

    idx = [RULES_TABLE_COLUMNS.index(c) for c in columns]
    fixed = [max(len(c), *(len(str(r[i])) for r in RULES_TABLE)) for c, i in zip(columns[:-1], idx[:-1])]
    last = max(20, width - sum(fixed) - 3 * len(columns) - 1)
    widths = fixed + [last]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    head = "+" + "+".join("=" * (w + 2) for w in widths) + "+"

    def row(cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(str(c), w) or [""] for c, w in zip(cells, widths)]
        n = max(len(x) for x in wrapped)
        return ["| " + " | ".join((x[k] if k < len(x) else "").ljust(w) for x, w in zip(wrapped, widths)) + " |"
                for k in range(n)]

    out = [rule] + row(columns) + [head]
    for r in RULES_TABLE:
        out += row([r[i] for i in idx]) + [rule]
    return "\n".join(out)
