"""Linkage summaries fit for release: the match reports of a chain of joins as one rounded table.

:func:`leokit.linkage.link` and the other joins return :class:`leokit.errors.MatchReport` objects with exact
row counts - what you need to check a linkage, but not what you may take out of the SRS. ``match_summary``
turns them into one table with counts rounded to ``rules.round_counts`` and any count of 1 to
``rules.threshold - 1`` shown as ``rules.suppressed_symbol`` (a handful of unmatched people can be
identifiable); match rates are computed from the *rounded* counts (a rate to 0.1% from exact counts would give
the exact counts back) and are suppressed with either count. ``sample_flow`` does the same for the steps of a
sample construction (what is left after each selection). Both set ``attrs["sdc"]``, so an
:class:`leokit.sdc.OutputSession` records them in the output request (it does not compare them with other
outputs).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from leokit import sdc
from leokit.errors import MatchReport

__all__ = ["match_summary", "sample_flow"]


def match_summary(reports: Mapping[str, MatchReport], *, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """One row per join (label -> MatchReport): rows on the left, matched, not matched and kept, not matched and
    dropped, match rate (%), counts rounded and small counts suppressed.

    The match rate is the rounded matched count over the rounded left rows (to ``rules.pct_decimals``), ``"c"``
    when either is suppressed: it gives back no more than the rounded counts."""
    rules = rules or sdc.DEFAULT_RULES
    cnt = _counter(rules)

    rows = []
    for label, r in reports.items():
        if not isinstance(r, MatchReport):
            raise TypeError(f"match_summary: {label!r} is a {type(r).__name__}, expected a MatchReport")
        left, matched = cnt(r.left_rows), cnt(r.matched_left)
        rows.append({"join": label, "cardinality": r.expect, "rows (left)": left,
                     "matched": matched, "not matched, kept": cnt(r.kept_unmatched_left),
                     "not matched, dropped": cnt(r.dropped_left),
                     "match rate (%)": _pct(matched, left, rules)})
    out = pd.DataFrame(rows).set_index("join")
    out.attrs["sdc"] = (f"match_summary: counts rounded to {rules.round_counts}, 1-{rules.threshold - 1} shown as "
                        f"'{rules.suppressed_symbol}', rates from the rounded counts")
    return out


def _counter(rules: sdc.SDCRules):
    def cnt(n: int):
        if 0 < n < rules.threshold:
            return rules.suppressed_symbol
        return int(sdc.round_to(n, rules.round_counts))
    return cnt


def _pct(num, den, rules: sdc.SDCRules):
    """A percentage from two released (rounded) counts; suppressed with either."""
    if isinstance(num, str) or isinstance(den, str):
        return rules.suppressed_symbol
    if not den:
        return float("nan")
    return float(sdc.round_to(100 * num / den, decimals=rules.pct_decimals))


def sample_flow(steps: Mapping[str, "pd.DataFrame | pd.Series | int"], *, unit: str | None = None,
                rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """How a sample shrinks, step by step, as a table fit for release.

    ``steps``: ordered ``{label: what is left after the step}``, each a frame (its rows, or its distinct values of
    ``unit``), a boolean Series (its ``True`` count) or a count. One row per step: what is left, what the step
    dropped (from the previous row) and the share of the first row left; counts rounded to
    ``rules.round_counts`` and any count of 1 to ``rules.threshold - 1`` shown as ``rules.suppressed_symbol``
    (shares are computed from the rounded counts, and suppressed with them, so they give back no more than the
    rounded counts). Raises ``ValueError`` if a step has more than the one before
    it (each step must be a subset of the previous one).
    """
    rules = rules or sdc.DEFAULT_RULES
    if not steps:
        raise ValueError("sample_flow: give at least one step")
    counts: list[tuple[str, int]] = []
    for label, s in steps.items():
        if isinstance(s, pd.DataFrame):
            if unit is not None:
                if unit not in s.columns:
                    raise ValueError(f"sample_flow: step {label!r} has no column {unit!r}")
                n = int(s[unit].nunique())
            else:
                n = len(s)
        elif isinstance(s, pd.Series):
            if not pd.api.types.is_bool_dtype(s.dtype):
                raise ValueError(f"sample_flow: step {label!r} is a Series of {s.dtype}, expected booleans")
            n = int(s.sum())
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            n = int(s)
        else:
            raise TypeError(f"sample_flow: step {label!r} is a {type(s).__name__}; give a DataFrame, a boolean "
                            "Series or a count")
        if counts and n > counts[-1][1]:
            raise ValueError(f"sample_flow: step {label!r} has {n:,}, more than the step before it "
                             f"({counts[-1][0]!r}, {counts[-1][1]:,}); steps must be nested")
        counts.append((label, n))

    cnt = _counter(rules)
    first = cnt(counts[0][1])
    rows = []
    for i, (label, n) in enumerate(counts):
        left = cnt(n)
        rows.append({"step": label, "left": left, "dropped at this step": "" if i == 0 else cnt(counts[i - 1][1] - n),
                     "% of first step": _pct(left, first, rules)})
    out = pd.DataFrame(rows).set_index("step")
    out.attrs["sdc"] = (f"sample_flow: counts rounded to {rules.round_counts}, 1-{rules.threshold - 1} shown as "
                        f"'{rules.suppressed_symbol}', shares from the rounded counts")
    return out
