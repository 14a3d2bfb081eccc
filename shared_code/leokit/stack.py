"""Stack and de-duplicate the NPD census, KS4 and HESA tables.

* :func:`stack_census` - the wide, year-suffixed census tables -> one long table with harmonised names
  (the naming rule is :mod:`leokit.census`; 2001 LSOAs mapped by :func:`leokit.frames.map_lsoa01_to_lsoa11`);
  :func:`dedup_census` - one row per pupil and census year.
* :func:`stack_ks4` - ``KS4Pupil_2002_to_2014`` and ``KS4Pupil_2015_to_2021`` in one table;
  :func:`dedup_ks4` - one KS4 record per pupil (ECHILD rule).
* :func:`stack_hesa` - the yearly ``hesa_YYYY`` tables in one table.

Each stacks tables read from the data folder (:func:`leokit.read.load_table`) or in-memory frames
(``tables=``, e.g. real SRS tables pulled through SQL: column names matched to the declared spelling by
:func:`leokit.frames.match_case`, then validated with ``extra="ignore", require_all=False``). Like every
helper in the package they return the frame, or ``(frame, report)`` with ``report=True`` (see
:mod:`leokit.errors`). Every name here is also importable from :mod:`leokit.load`.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from leokit import schema as _schema
from leokit.census import census_base_names, census_columns_wanted, census_tables, harmonise_census
from leokit.errors import DropReport, Problem, SchemaError, TableNotFoundError, did_you_mean, finish, numeric_values
from leokit.frames import map_lsoa01_to_lsoa11, match_case
from leokit.paths import table_files
from leokit.read import load_table
from leokit.validation import check_frame, normalise_frame

__all__ = [
    "stack_census",
    "dedup_census",
    "stack_ks4",
    "dedup_ks4",
    "stack_hesa",
    "KS4_TABLES",
]

KS4_TABLES = {"pre2015": "KS4Pupil_2002_to_2014", "post2015": "KS4Pupil_2015_to_2021"}


def _years_or_tables(years, tables, fn: str):
    """``stack_census({2016: frame})``: a mapping passed where the years go is the tables (never ignored)."""
    if isinstance(years, Mapping):
        if tables is not None:
            raise TypeError(f"{fn}: got frames both as the first argument and as tables=; pass them once")
        return None, years
    return years, tables


def _checked(df: pd.DataFrame, name: str, validate: bool) -> tuple[pd.DataFrame, list[str]]:
    """An in-memory table: column names matched to the declared spelling, then checked like a file (every
    declared column present; extra columns of a real SRS pull ignored) - or, with ``validate=False``, only
    normalised. Returns ``(frame, notes)``."""
    df = match_case(df, name)
    if not validate:
        return normalise_frame(df, name)
    return check_frame(df, name)


# ----------------------------------------------------------------------------------------------
# Census
# ----------------------------------------------------------------------------------------------
def stack_census(
    years: Iterable[int] | None = None,
    data_dir=None,
    *,
    tables: Mapping[int, pd.DataFrame] | None = None,
    columns: Sequence[str] | None = None,
    map_lsoa: bool = True,
    lsoa_lookup: pd.DataFrame | None = None,
    validate: bool = True,  # noqa: A002
    report: bool = False,
):
    """Stack the yearly census tables into one long table with harmonised column names.

    Sources: ``tables={year: frame}`` (e.g. real SRS tables pulled through SQL; column names
    matched to the declared spelling ignoring case by :func:`match_case`, then validated with
    ``extra="ignore", require_all=False``) or the files under ``data_dir`` (``plasc_YYYY`` and
    ``spring_census_YYYY``, loaded with :func:`load_table`); ``years`` limits either.

    Harmonisation, per table, by the rule of :mod:`leokit.census` (:func:`leokit.census.harmonise_census`):
    the term/year suffix is stripped and drifting names harmonised; ``idaci_score`` / ``idaci_rank`` with
    ``idaci_vintage`` ('2007' / '2010' / '2015', see :data:`leokit.census.IDACI_VINTAGES`); ``lsoa_original``
    (the LSOA as recorded) with ``lsoa_vintage`` ('2001'/'2011'). Then:

    * ``lsoa11cd``: the value itself for 2011 codes; with ``map_lsoa=True`` (default) 2001 codes are
      mapped through the public table ``lsoa01_lsoa11_lookup`` (or ``lsoa_lookup=``) by
      :func:`leokit.frames.map_lsoa01_to_lsoa11` (split 2001 LSOAs -> the smallest 2011 code, flagged in
      ``lsoa11_ambiguous``);
    * ``census_year`` (int, the calendar year in which the academic year ends) is added.

    ``columns``: keep only these harmonised columns (plus census_year and the derived ones).
    ``years`` may also be the mapping itself (``stack_census({2016: frame})`` is ``stack_census(tables={2016:
    frame})``): one function, one behaviour, whether it is reached as ``leokit.stack_census`` or
    ``leokit.derive.stack_census`` (which then also de-duplicates). In-memory frames are checked like files
    (:func:`leokit.validation.check_frame`: padding stripped, codes upper-cased, integer-valued text such as a
    text ``RecordStatus`` cast - each noted in the report).

    Returns the long frame (row order: by year, then as in each table); ``report=True`` returns
    ``(frame, DropReport)`` (no rows are dropped: the report counts rows per year, the renames and
    the LSOA mapping).
    """
    years, tables = _years_or_tables(years, tables, "stack_census")
    if tables is not None:
        avail = {int(y): f for y, f in tables.items()}
    else:
        avail = census_tables(data_dir)
    if years is not None:
        years = sorted(int(y) for y in years)
        missing = [y for y in years if y not in avail]
        if missing:
            have = sorted(avail)
            raise TableNotFoundError(
                str(missing[0]),
                f"census year(s) {missing} not available (have {have}); census tables are named "
                f"{_schema.census_table_name(missing[0])!r}-style")
    else:
        years = sorted(avail)
    if not years:
        raise TableNotFoundError("census", "no census tables (plasc_YYYY / spring_census_YYYY) found")
    base_names = census_base_names()
    frames = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for y in years:
        name = _schema.census_table_name(y)
        if tables is not None:
            df, n = _checked(tables[y], name, validate)
            notes += n
        else:
            df = load_table(avail[y], data_dir, validate=validate)
        h, renamed = harmonise_census(df, y, base_names)
        h.insert(0, "census_year", np.int64(y))
        if columns is not None:
            want = census_columns_wanted(columns)
            h = h[["census_year"] + [c for c in h.columns if c in want and c != "census_year"]]
        frames.append(h)
        counts[f"rows {name}"] = len(h)
        notes.append(f"{name}: {len(renamed)} columns renamed")
    long = pd.concat(frames, ignore_index=True, sort=False)
    if "lsoa_original" in long.columns:
        # 2011 codes are already 2011 LSOAs; only 2001 codes need the lookup (map_lsoa=True).
        long["lsoa11cd"] = long["lsoa_original"].where(long["lsoa_vintage"].eq("2011").fillna(False))
    if map_lsoa and "lsoa_original" in long.columns:
        is01 = long["lsoa_vintage"].eq("2001").fillna(False).to_numpy(dtype=bool)
        long["lsoa11_ambiguous"] = False
        if is01.any():
            if lsoa_lookup is not None:
                lk = lsoa_lookup
            else:
                try:
                    lk = load_table("lsoa01_lsoa11_lookup", data_dir)
                except (TableNotFoundError, FileNotFoundError) as e:
                    raise TableNotFoundError(
                        "lsoa01_lsoa11_lookup",
                        f"stack_census: {int(is01.sum())} rows carry 2001 LSOA codes but the public table "
                        f"'lsoa01_lsoa11_lookup' cannot be loaded ({e}); pass lsoa_lookup=<frame with lsoa01cd, "
                        "lsoa11cd> or map_lsoa=False") from e
            mapped, rep = map_lsoa01_to_lsoa11(long.loc[is01, "lsoa_original"], lk, report=True)
            long.loc[is01, "lsoa11cd"] = mapped["lsoa11cd"].to_numpy()
            long.loc[is01, "lsoa11_ambiguous"] = mapped["lsoa11_ambiguous"].to_numpy(dtype=bool)
            counts.update({f"2001 LSOA {k}": v for k, v in rep.counts.items()})
    rep = DropReport(name="stack_census", rows_in=len(long), rows_out=len(long), counts=counts, notes=notes)
    return finish(long, rep, report)


def dedup_census(
    long: pd.DataFrame,
    *,
    main_codes: Sequence[int] = (1,),
    pupil: str = "PupilMatchingRefAnonymous",
    year: str = "census_year",
    report: bool = False,
):
    """One row per pupil per census year, from the long table of :func:`stack_census`.

    Rule (in order; every dropped row is counted in the report by reason):

    1. drop rows with a missing pupil id (``pupil``);
    2. keep *main* records: ``RecordStatus`` in ``main_codes`` (default ``(1,)``: 1 = main
       record, 101+ = duplicate record as in the kit's schema; the real code list is wider - main
       records 1-10 and 20, duplicates 101+ [VRF] - so on real data pass ``main_codes`` to widen it);
    3. if a pupil still has several rows in a year, keep one deterministically: on roll first
       (``OnRoll`` = 1, when the column exists), then the lowest ``RecordStatus``, then the first
       in the input order.
    """
    need = [pupil, year, "RecordStatus"]
    miss = [c for c in need if c not in long.columns]
    if miss:
        raise SchemaError("census (long)", [Problem("census (long)", c, "a column of this name",
                                                    "no such column (use stack_census first)", "missing") for c in miss])
    n_in = len(long)
    dropped = {}
    d = long.reset_index(drop=True)
    d = d[d[pupil].notna()]
    dropped["missing pupil id"] = n_in - len(d)
    status = numeric_values(d["RecordStatus"], "census (long)", "RecordStatus")  # text "1" is 1, never "not 1"
    main = status.isin([float(c) for c in main_codes]).to_numpy(dtype=bool)
    dropped[f"RecordStatus not in {tuple(main_codes)} (not a main record)"] = int((~main).sum())
    d = d[main]
    order = d.assign(_pos=np.arange(len(d)))
    sort_cols, asc = [pupil, year], [True, True]
    order["RecordStatus"] = status[main].to_numpy()
    if "OnRoll" in d.columns:
        order["_onroll"] = d["OnRoll"].fillna(-1).to_numpy()
        sort_cols.append("_onroll")
        asc.append(False)
    sort_cols += ["RecordStatus", "_pos"]
    asc += [True, True]
    order = order.sort_values(sort_cols, ascending=asc, kind="stable")
    keep_idx = order.drop_duplicates([pupil, year], keep="first").index
    dropped["duplicate main record for pupil and year"] = len(d) - len(keep_idx)
    out = d.loc[d.index.isin(keep_idx)].reset_index(drop=True)
    rep = DropReport(name="dedup_census", rows_in=n_in, rows_out=len(out), dropped=dropped)
    rep.check()
    return finish(out, rep, report)


# ----------------------------------------------------------------------------------------------
# KS4
# ----------------------------------------------------------------------------------------------
def _acadyr_end(s: pd.Series, table: str = "KS4") -> pd.Series:
    """``KS4_ACADYR`` ('2009/2010') -> end year (Int64); a non-missing value that does not start with a four-digit
    year raises :class:`SchemaError` (it would otherwise become a missing KS4 year)."""
    text = s.astype(object).where(s.notna()).astype("string")
    first = pd.to_numeric(text.str.extract(r"^\s*(\d{4})", expand=False), errors="coerce")
    bad = (s.notna() & first.isna()).to_numpy(dtype=bool)
    if bad.any():
        ex = ", ".join(repr(v) for v in list(pd.unique(s[bad].astype(object)))[:3])
        raise SchemaError(table, [Problem(table, "KS4_ACADYR", "academic years such as '2009/2010'",
                                          f"{int(bad.sum())} other values (e.g. {ex})", "values")])
    return (first + 1).astype("Int64")


def stack_ks4(
    data_dir=None,
    *,
    tables: Mapping[str, pd.DataFrame] | None = None,
    years: Iterable[int] | None = None,
    validate: bool = True,  # noqa: A002
    report: bool = False,
):
    """Stack ``KS4Pupil_2002_to_2014`` and ``KS4Pupil_2015_to_2021`` into one table.

    Adds ``ks4_regime`` ('pre2015' / 'post2015', the table a row came from) and ``ks4_year``
    (calendar year in which ``KS4_ACADYR`` ends, Int64). Columns found in only one table are
    missing (NaN) for the other regime's rows. ``tables={'pre2015': df, 'post2015': df}`` stacks
    in-memory (e.g. real SRS) frames instead (validated with ``extra="ignore", require_all=False``);
    a regime may be omitted (from the data folder, a missing table is skipped and noted in the
    report). No rows are dropped.
    """
    frames, counts, notes = [], {}, []
    present = set(table_files(data_dir)) if tables is None else set()
    for regime, name in KS4_TABLES.items():
        if tables is not None:
            if regime not in tables:
                continue
            df, n = _checked(tables[regime], name, validate)
            notes += n
        else:
            if name not in present:
                notes.append(f"{name}: not in the data folder, skipped")
                continue
            df = load_table(name, data_dir, validate=validate)
        df = df.copy()
        df["ks4_regime"] = regime
        df["ks4_year"] = _acadyr_end(df["KS4_ACADYR"], name) if "KS4_ACADYR" in df.columns else pd.NA
        frames.append(df)
        counts[f"rows {name}"] = len(df)
    if not frames:
        raise TableNotFoundError("KS4", f"stack_ks4: none of the KS4 tables {list(KS4_TABLES.values())} found")
    out = pd.concat(frames, ignore_index=True, sort=False)
    n_all = len(out)
    dropped = {}
    if years is not None:
        want = sorted({int(y) for y in years})
        have = sorted(int(y) for y in pd.unique(out["ks4_year"].dropna()))
        missing = [y for y in want if y not in have]
        if missing:
            raise TableNotFoundError(
                "KS4", f"stack_ks4: KS4 year(s) {missing} not in the data (KS4 years present: "
                       f"{have[0] if have else 'none'}..{have[-1] if have else ''}, {len(have)} years; years are the end "
                       "year of the academic year, 2016 = 2015/16)")
        keep = out["ks4_year"].isin(want).fillna(False).to_numpy(dtype=bool)
        out = out[keep].reset_index(drop=True)
        dropped[f"KS4 year not in {want}"] = n_all - len(out)
    rep = DropReport(name="stack_ks4", rows_in=n_all, rows_out=len(out), dropped=dropped, counts=counts, notes=notes)
    rep.check()
    return finish(out, rep, report)


def dedup_ks4(
    ks4: pd.DataFrame,
    *,
    regime: str | None = None,
    by: str = "pupil",
    report: bool = False,
):
    """One KS4 record per pupil (``by="pupil"``) or per pupil and academic year (``"pupil_year"``).

    ECHILD rule: order each pupil's records by ``KS4_NATRES`` descending (included in national
    results first), then the level-2 English & maths flag descending, then points descending, and
    keep the first. Pre-2015 records use ``KS4_LEVEL2_EM`` and ``KS4_PTSCNEWE``; 2015+ records use
    ``KS4_L2BASICS_94`` and ``KS4_ATT8``. Missing values sort last; remaining ties go to the
    earliest ``KS4_ACADYR``, then the input order. The regime of each row is ``ks4_regime`` when
    the column exists (see :func:`stack_ks4`), else ``regime=`` ('pre2015'/'post2015'), else
    inferred from which outcome columns the frame has. For a pupil with records in both regimes
    the points are on different scales (rare; such pupils are counted in the report).
    """
    pid = next((c for c in ("KS4_PupilMatchingRefAnonymous", "PupilMatchingRefAnonymous") if c in ks4.columns), None)
    if pid is None:
        hint = did_you_mean("KS4_PupilMatchingRefAnonymous", ks4.columns)
        raise SchemaError("KS4", [Problem("KS4", "KS4_PupilMatchingRefAnonymous",
                                          "a column of this name (or PupilMatchingRefAnonymous)",
                                          "no such column" + (f" (did you mean {hint!r}?)" if hint else ""),
                                          "missing")])
    if by not in ("pupil", "pupil_year"):
        raise ValueError(f"by must be 'pupil' or 'pupil_year', not {by!r}")
    n = len(ks4)
    if "ks4_regime" in ks4.columns:
        reg = ks4["ks4_regime"].astype(object).to_numpy()
    else:
        if regime is None:
            has_pre = "KS4_LEVEL2_EM" in ks4.columns or "KS4_PTSCNEWE" in ks4.columns
            has_post = "KS4_L2BASICS_94" in ks4.columns or "KS4_ATT8" in ks4.columns
            if has_pre == has_post:
                raise ValueError("dedup_ks4: cannot tell the KS4 regime; pass regime='pre2015' or 'post2015' "
                                 "or add a ks4_regime column (stack_ks4 does)")
            regime = "pre2015" if has_pre else "post2015"
        if regime not in KS4_TABLES:
            raise ValueError(f"regime must be 'pre2015' or 'post2015', not {regime!r}")
        reg = np.full(n, regime, dtype=object)

    def _num(col: str) -> np.ndarray:
        if col in ks4.columns:
            return numeric_values(ks4[col], "KS4", col).to_numpy()
        return np.full(n, np.nan)

    pre = reg == "pre2015"
    l2 = np.where(pre, _num("KS4_LEVEL2_EM"), _num("KS4_L2BASICS_94"))
    pts = np.where(pre, _num("KS4_PTSCNEWE"), _num("KS4_ATT8"))
    key = ks4[[pid]].copy()
    key["_natres"] = _num("KS4_NATRES")
    key["_l2"] = l2
    key["_pts"] = pts
    key["_yr"] = (_acadyr_end(ks4["KS4_ACADYR"]).to_numpy(dtype="float64", na_value=np.nan)
                  if "KS4_ACADYR" in ks4.columns else 0.0)
    key["_pos"] = np.arange(n)
    key = key.reset_index(drop=True)
    valid = key[pid].notna().to_numpy()
    group = [pid] + (["_yr"] if by == "pupil_year" else [])
    order = key[valid].sort_values(group + ["_natres", "_l2", "_pts", "_yr", "_pos"],
                                   ascending=[True] * len(group) + [False, False, False, True, True],
                                   na_position="last", kind="stable")
    keep_pos = np.sort(order.drop_duplicates(group, keep="first")["_pos"].to_numpy())
    out = ks4.iloc[keep_pos].reset_index(drop=True)
    regs = pd.DataFrame({pid: key[pid], "r": reg})[valid]
    mixed = int((regs.groupby(pid)["r"].nunique() > 1).sum()) if len(regs) else 0
    dropped = {"missing pupil id": int((~valid).sum()),
               f"not the first record per {'pupil' if by == 'pupil' else 'pupil and year'} (ECHILD order)":
                   int(valid.sum()) - len(keep_pos)}
    rep = DropReport(name="dedup_ks4", rows_in=n, rows_out=len(out), dropped=dropped,
                     counts={"pupils with records in both regimes": mixed})
    rep.check()
    return finish(out, rep, report)


# ----------------------------------------------------------------------------------------------
# HESA
# ----------------------------------------------------------------------------------------------
def stack_hesa(
    years: Iterable[int] | None = None,
    data_dir=None,
    *,
    tables: Mapping[int, pd.DataFrame] | None = None,
    validate: bool = True,  # noqa: A002
    report: bool = False,
):
    """Stack the yearly ``hesa_YYYY`` tables, adding ``hesa_year`` (the year the academic year ends).

    Columns found only in some years (``HE_XTARIFF`` 2012-2017, ``HE_XCAH01_1`` 2020+) are NaN
    elsewhere. ``tables={year: frame}`` (or the mapping as the first argument, as :func:`stack_census`) stacks
    in-memory frames, checked like files (changes noted in the report). No rows are dropped.
    """
    years, tables = _years_or_tables(years, tables, "stack_hesa")
    notes: list[str] = []
    if tables is not None:
        avail = {int(y): f for y, f in tables.items()}
    else:
        avail = {int(s[5:]): s for s in table_files(data_dir) if re.fullmatch(r"hesa_\d{4}", s)}
    ys = sorted(avail) if years is None else sorted(int(y) for y in years)
    miss = [y for y in ys if y not in avail]
    if miss or not ys:
        raise TableNotFoundError("hesa", f"HESA year(s) {miss or 'any'} not available (have {sorted(avail)})")
    frames, counts = [], {}
    for y in ys:
        if tables is not None:
            df, n = _checked(tables[y], f"hesa_{y}", validate)
            df = df.copy()
            notes += n
        else:
            df = load_table(avail[y], data_dir, validate=validate)
        df.insert(0, "hesa_year", np.int64(y))
        frames.append(df)
        counts[f"rows hesa_{y}"] = len(df)
    out = pd.concat(frames, ignore_index=True, sort=False)
    rep = DropReport(name="stack_hesa", rows_in=len(out), rows_out=len(out), counts=counts, notes=notes)
    return finish(out, rep, report)
