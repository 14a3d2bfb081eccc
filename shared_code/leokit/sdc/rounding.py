"""Rounding and the symbols of released values: what a checked cell looks like once it may be shown.

Counts to the nearest ``round_counts``, money to the nearest ``round_money`` pounds, other statistics to
a number of decimals, always half away from zero (:func:`round_to`); a suppressed cell shows
``rules.suppressed_symbol`` and a not-applicable one :data:`~leokit.sdc.rules.NOT_APPLICABLE`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from leokit.sdc.rules import NOT_APPLICABLE, SDCRules

__all__ = ["round_to", "format_col", "money_or_decimals", "fmt_num", "MONEY_NAME", "is_money_name",
           "refused_stat_name"]

#: A column name that says money (earnings, pay, wages, salary, income, pounds): rounded to ``round_money``
#: unless the caller says otherwise. A log or a rank of money is not money (``log_pay``, ``ln_earnings``).
MONEY_NAME = re.compile(r"earn|pay(?!e_?record)|wage|salar|income|gbp|pound|\u00a3|money", re.IGNORECASE)
_NOT_MONEY = re.compile(r"(^|[^a-z])(log|ln|rank|share|pct|percent|z)([^a-z]|$)|_z$|^z_|employ|days|no_pay|depriv",
                        re.IGNORECASE)
_MINMAX = {"min", "max", "minimum", "maximum", "smallest", "largest", "lowest", "highest"}


def is_money_name(name: Any) -> bool:
    """True when a column's name says it holds money (see :data:`MONEY_NAME`)."""
    s = str(name)
    return bool(MONEY_NAME.search(s)) and not _NOT_MONEY.search(s)


def refused_stat_name(name: Any) -> str | None:
    """The word of ``name`` that says it is a minimum or a maximum (never releasable: one unit's value), or None."""
    for tok in re.split(r"[^a-z0-9]+", str(name).lower()):
        if tok in _MINMAX:
            return tok
    return None


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


def format_col(values: np.ndarray, mask: np.ndarray, rules: SDCRules, *, base: float | None = None,
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
            vals.append(NOT_APPLICABLE)
        elif as_int and np.isfinite(x):
            vals.append(int(x))
        else:
            vals.append(x)
    return pd.Series(vals, dtype=object)


def money_or_decimals(money: bool, decimals: int, rules: SDCRules) -> tuple[float | None, int | None, bool, str]:
    """(base, decimals, as_int, description) of the rounding of a money or a non-money statistic."""
    if money:
        return float(rules.round_money), None, True, f"rounded to nearest \u00a3{rules.round_money}"
    return None, int(decimals), int(decimals) == 0, f"rounded to {int(decimals)} decimal place(s)"


def fmt_num(x: float) -> str:
    """A number for a report line: whole numbers without decimals, others to 6 significant digits."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NaN"
    xf = float(x)
    if xf.is_integer():
        return f"{int(xf)}"
    return f"{xf:.6g}"
