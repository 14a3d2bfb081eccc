"""Linkage summaries fit for release: the match reports of a chain of joins as one rounded table.

:func:`leokit.link.link` and the other joins return :class:`leokit.errors.MatchReport` objects with exact
row counts - what you need to check a linkage, but not what you may take out of the SRS. ``match_summary``
turns them into one table with counts rounded to ``rules.round_counts`` and any count of 1 to
``rules.threshold - 1`` shown as ``rules.suppressed_symbol`` (a handful of unmatched people can be
identifiable); match rates are computed from the exact counts and shown to ``rules.pct_decimals``.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from leokit import sdc
from leokit.errors import MatchReport

__all__ = ["match_summary"]


def match_summary(reports: Mapping[str, MatchReport], *, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """One row per join (label -> MatchReport): rows on the left, matched, not matched and kept, not matched and
    dropped, match rate (%), counts rounded and small counts suppressed."""
    rules = rules or sdc.DEFAULT_RULES

    def cnt(n: int):
        if 0 < n < rules.threshold:
            return rules.suppressed_symbol
        return int(sdc.round_to(n, rules.round_counts))

    rows = []
    for label, r in reports.items():
        if not isinstance(r, MatchReport):
            raise TypeError(f"match_summary: {label!r} is a {type(r).__name__}, expected a MatchReport")
        rate = 100 * r.matched_left / r.left_rows if r.left_rows else float("nan")
        rows.append({"join": label, "cardinality": r.expect, "rows (left)": cnt(r.left_rows),
                     "matched": cnt(r.matched_left), "not matched, kept": cnt(r.kept_unmatched_left),
                     "not matched, dropped": cnt(r.dropped_left),
                     "match rate (%)": round(rate, rules.pct_decimals)})
    return pd.DataFrame(rows).set_index("join")
