"""Pure frame helpers shared by the loading, linkage and context layers (bottom layer).

Nothing here reads a file, joins two tables or logs anything but a report: each function takes frames and
returns a frame (or a column name), so every layer above may use them.

* :func:`find_column` - the column of a frame equal to a name ignoring case (SQL Server is case-insensitive,
  pandas is not: ``Edukey`` / ``EduKey`` / ``EDUKEY`` are the same column in the SRS).
* :func:`match_case` - rename columns that equal a declared column ignoring case to the declared spelling.
* :func:`map_lsoa01_to_lsoa11` - 2001 LSOA codes to 2011 LSOA codes through the public lookup.

2001 -> 2011 LSOAs
------------------
Census ``LLSOA`` (to 2011/12) holds 2001 LSOAs; the area lookups are keyed on 2011 LSOAs. The public table
``lsoa01_lsoa11_lookup`` maps one to the other. Rule for 2001 LSOAs that were **split** into several 2011
LSOAs (ONS change indicator S, and X = complex): the *smallest* 2011 code (alphabetical) is taken -
deterministic, not population-weighted - and the row is flagged ``lsoa11_ambiguous``
(``lsoa11_n_candidates`` gives how many 2011 LSOAs it could be). Merged (M) and unchanged (U) LSOAs map
to one 2011 LSOA. The same rule is used by :func:`leokit.stack.stack_census`, by
:func:`leokit.context.add_area` and by the SQL census view of :mod:`leokit.db`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.errors import LinkError, Report, did_you_mean, finish
from leokit.schema import schema_for

__all__ = ["find_column", "match_case", "map_lsoa01_to_lsoa11"]


def find_column(df: pd.DataFrame, name: str, frame: str = "frame") -> str:
    """The column of ``df`` equal to ``name`` ignoring case (``Edukey``/``EduKey``/``EDUKEY``)."""
    if name in df.columns:
        return name
    hits = [c for c in df.columns if str(c).lower() == name.lower()]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise LinkError(f"{frame}: several columns match {name!r} ignoring case: {hits}")
    near = did_you_mean(name, df.columns)
    hint = f"; did you mean {near!r}?" if near else ""
    raise LinkError(f"{frame}: no column {name!r} (case-insensitive){hint}")


def match_case(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rename columns that equal a declared column of ``name`` *ignoring case* to the declared spelling.

    SQL Server is case-insensitive, so real SRS pulls often come back as
    ``pupilmatchingrefanonymous_spr11`` or ``EduKey``; pandas is case-sensitive. This is an
    explicit step (a new frame is returned; nothing else changes). Columns that would collide with
    an existing column of the declared spelling are left alone (``validate`` then reports them).
    """
    sch = schema_for(name)
    lower = {c.name.lower(): c.name for c in sch.columns}
    present = set(map(str, df.columns))
    ren = {}
    for c in df.columns:
        target = lower.get(str(c).lower())
        if target is not None and target != c and target not in present and target not in ren.values():
            ren[c] = target
    return df.rename(columns=ren) if ren else df


def map_lsoa01_to_lsoa11(codes: pd.Series, lookup: pd.DataFrame, *, report: bool = False):
    """Map 2001 LSOA codes to 2011 LSOA codes through ``lookup`` (rule for split LSOAs in the module docstring).

    ``lookup``: the public table ``lsoa01_lsoa11_lookup`` (columns ``lsoa01cd``, ``lsoa11cd``, any case).
    :func:`leokit.context.map_lsoa01_to_lsoa11` is the same function that also loads the lookup when it is
    not given.

    Returns a frame aligned with ``codes`` (same index): ``lsoa11cd`` (missing when the code is
    missing or not in the lookup), ``lsoa11_ambiguous`` (bool), ``lsoa11_n_candidates`` (int).
    """
    c01 = find_column(lookup, "lsoa01cd", "lsoa01_lsoa11_lookup")
    c11 = find_column(lookup, "lsoa11cd", "lsoa01_lsoa11_lookup")
    pairs = lookup[[c01, c11]].dropna().drop_duplicates()
    g = pairs.groupby(c01, sort=False)[c11].agg(["min", "nunique"])
    s = pd.Series(codes)
    mapped = s.map(g["min"])
    n = s.map(g["nunique"]).fillna(0).astype("int64")
    out = pd.DataFrame({"lsoa11cd": mapped.astype(object).where(mapped.notna(), np.nan),
                        "lsoa11_ambiguous": (n > 1).to_numpy(dtype=bool),
                        "lsoa11_n_candidates": n.to_numpy()}, index=s.index)
    present = s.notna()
    rep = Report(name="map_lsoa01_to_lsoa11", counts={
        "rows": len(s), "missing code": int((~present).sum()),
        "mapped uniquely": int((n == 1).sum()), "mapped, split LSOA (smallest 2011 code taken)": int((n > 1).sum()),
        "not in lookup": int((present & (n == 0)).sum())})
    return finish(out, rep, report)
