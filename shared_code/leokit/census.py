"""The school census tables' column names: how they drift from year to year and how the kit harmonises them.

The census comes as one wide table per academic year (``plasc_2002`` ... ``plasc_2005``,
``spring_census_2006`` ... ``spring_census_2021``) whose column names carry a term/year suffix
(``FSMeligible_spr11``; PLASC ``_03``) and change over the years [FFT; VRF]. This module states the
harmonisation rule once; :func:`leokit.stack.stack_census` applies it in pandas and :mod:`leokit.db`
reads the same rule off :func:`harmonise_census` to write the SQL census view, so the two cannot drift.

Per table:

* the term/year suffix is stripped (``_spr11``, ``_sum11``, ``_aut11``; PLASC ``_03``), names are matched
  case-insensitively to the declared names (real column names are often lower-case), and old names renamed
  (:data:`CENSUS_RENAMES`: ``EthnicGroup`` -> ``EthnicGroupMinor``, ``LSOA01`` -> ``LLSOA``);
* ``IDACIScore`` / ``IDACIScore_10`` / ``IDACIScore_15`` -> ``idaci_score`` (and the ranks -> ``idaci_rank``)
  plus ``idaci_vintage`` '2007' / '2010' / '2015' (:data:`IDACI_VINTAGES`; missing where the score is missing);
* ``LLSOA`` (2001 LSOA, to 2011/12) / ``LSOA11`` (2011 LSOA, from 2012/13) -> ``lsoa_original`` (the value
  as recorded) and ``lsoa_vintage`` ('2001'/'2011').
"""

from __future__ import annotations

import re

import pandas as pd

from leokit import schema as _schema
from leokit.errors import Problem, SchemaError
from leokit.paths import table_files

__all__ = [
    "CENSUS_TABLE_PATTERN",
    "IDACI_VINTAGES",
    "CENSUS_RENAMES",
    "census_tables",
    "census_base_names",
    "strip_census_suffix",
    "harmonise_census",
    "census_columns_wanted",
]

#: Name of a yearly census table; group 1 is the academic year's end year.
CENSUS_TABLE_PATTERN = r"^(?:plasc|spring_census)_(\d{4})$"
_CENSUS_RE = re.compile(CENSUS_TABLE_PATTERN)

#: IDACI column (after the term/year suffix is stripped) -> vintage of the index it carries.
#: The unsuffixed ``IDACIScore`` is labelled '2007' (IDACI 2007, used by the census from the late
#: 2000s to 2014/15); INFERRED: censuses before ~2008 may carry the 2004 vintage under the same name.
IDACI_VINTAGES = {"": "2007", "_10": "2010", "_15": "2015"}

#: Old census names -> the names the schema declares (drift in the real tables [FFT; VRF]).
CENSUS_RENAMES = {"EthnicGroup": "EthnicGroupMinor", "LSOA01": "LLSOA"}


def census_tables(data_dir=None) -> dict[int, str]:
    """Census tables present under the data folder: {academic year end: table name}."""
    out = {}
    for stem in table_files(data_dir):
        m = _CENSUS_RE.match(stem)
        if m:
            out[int(m.group(1))] = stem
    return dict(sorted(out.items()))


def census_base_names() -> dict[str, str]:
    """lower-case base name -> canonical base name, over every census year's declared columns."""
    out: dict[str, str] = {}
    for y in range(2002, _schema.LAST_ACADEMIC_YEAR + 1):
        sfx = _schema.census_suffix(y)
        for c in _schema.census_schema(y).column_names:
            base = c[: -len(sfx)]
            out.setdefault(base.lower(), base)
    for old, new in CENSUS_RENAMES.items():
        out.setdefault(old.lower(), old)
    return out


def strip_census_suffix(col: str, year: int) -> str:
    """``col`` without its term/year suffix for census ``year`` (``FSMeligible_spr11`` -> ``FSMeligible``)."""
    yy = f"{year % 100:02d}"
    m = re.match(rf"^(.*)_(?:spr|sum|aut)?{yy}$", col, flags=re.I)
    return m.group(1) if m else col


def harmonise_census(df: pd.DataFrame, year: int, base_names: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """One census table with harmonised column names (rules in the module docstring).

    ``base_names``: :func:`census_base_names` (passed in so callers compute it once). Returns the renamed
    frame (with the vintage columns added) and ``{original name: harmonised name}`` of the renamed columns.
    Two columns that harmonise to one name, two IDACI vintages or two LSOA columns in one table raise
    :class:`~leokit.errors.SchemaError`.
    """
    ren = {}
    for c in df.columns:
        base = strip_census_suffix(str(c), year)
        base = base_names.get(base.lower(), base)
        base = CENSUS_RENAMES.get(base, base)
        ren[c] = base
    out = df.rename(columns=ren)
    if out.columns.duplicated().any():
        dups = sorted(set(out.columns[out.columns.duplicated()]))
        raise SchemaError(_schema.census_table_name(year), [Problem(
            _schema.census_table_name(year), d, "one column per harmonised name",
            "several columns that harmonise to this name", "duplicate-name") for d in dups])
    # IDACI vintage drift -> idaci_score / idaci_rank / idaci_vintage
    vint = None
    for sfx, v in IDACI_VINTAGES.items():
        sc, rk = f"IDACIScore{sfx}", f"IDACIRank{sfx}"
        if sc in out.columns or rk in out.columns:
            if vint is not None:
                raise SchemaError(_schema.census_table_name(year), [Problem(
                    _schema.census_table_name(year), sc, "one IDACI vintage per census table",
                    f"IDACI columns of vintages {vint} and {v}", "duplicate-name")])
            vint = v
            out = out.rename(columns={sc: "idaci_score", rk: "idaci_rank"})
    if vint is not None:
        has = out["idaci_score"].notna() if "idaci_score" in out.columns else out["idaci_rank"].notna()
        out["idaci_vintage"] = pd.Series(vint, index=out.index, dtype=object).where(has)
    # LSOA drift: LLSOA (2001 geography) / LSOA11 (2011 geography)
    if "LLSOA" in out.columns and "LSOA11" in out.columns:
        raise SchemaError(_schema.census_table_name(year), [Problem(
            _schema.census_table_name(year), "LLSOA", "one LSOA column per census table", "LLSOA and LSOA11",
            "duplicate-name")])
    for col, vintage in (("LLSOA", "2001"), ("LSOA11", "2011")):
        if col in out.columns:
            out = out.rename(columns={col: "lsoa_original"})
            out["lsoa_vintage"] = pd.Series(vintage, index=out.index, dtype=object).where(out["lsoa_original"].notna())
    renamed = {str(k): v for k, v in ren.items() if str(k) != v}
    return out, renamed


def census_columns_wanted(columns) -> set[str]:
    """The harmonised census columns to keep when a caller asks for ``columns``: those, plus the columns they
    cannot be read without (an IDACI value needs its vintage; an LSOA needs its original code and vintage)."""
    want = set(columns)
    if "idaci_score" in want or "idaci_rank" in want:
        want.add("idaci_vintage")
    if want & {"lsoa_original", "lsoa_vintage", "lsoa11cd", "lsoa11_ambiguous"}:
        want |= {"lsoa_original", "lsoa_vintage"}
    return want
