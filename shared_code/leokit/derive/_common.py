"""Shared helpers for the derivation functions: errors, input checks, person mapping, dates and tax years."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from leokit.errors import (
    CoverageError,
    CoverageWarning,
    DerivationError,
    InputChangedWarning,
    Problem,
    RowsDroppedWarning,
    SchemaError,
    did_you_mean,
    notify,
    numeric_values,
)
from leokit.schema import PERSON, PMR
from leokit.validation import check_frame, check_join_keys
from leokit.years import (
    acadyr_end,
    age_in_taxyear,
    taxyear_at_age,
    taxyear_bounds,
    taxyear_code,
    taxyear_of_date,
    taxyear_start_year,
)

__all__ = [
    "DerivationError",
    "CoverageError",
    "CoverageWarning",
    "ON_GAP",
    "require_columns",
    "require_rows",
    "check_input",
    "check_mapping",
    "warn_dropped",
    "pick_column",
    "as_numeric",
    "as_taxyear",
    "as_dates",
    "academic_year",
    "report_gap",
    "format_years",
    "PERSON",
    "PMR",
    "PUPIL_ID_NAMES",
    "attach_person",
    "taxyear_code",
    "taxyear_start_year",
    "taxyear_of_date",
    "taxyear_bounds",
    "acadyr_end",
    "age_in_taxyear",
    "taxyear_at_age",
]

# The kit's calendar conventions are stated once, in leokit.years, and the identifier names once, in
# leokit.schema (PERSON: the default person column of person-level outputs; PMR: the pupil id as the derive
# functions name it in their outputs); both are re-exported here for the derive modules.

#: Names under which a KS4 / cohort frame may carry the pupil identifier: derive outputs
#: (``ks4_attainment``, ``fsm_ever6``) use ``PupilMatchingRefAnonymous``; the KS4 tables and
#: ``leokit.load.stack_ks4`` / ``dedup_ks4`` keep ``KS4_PupilMatchingRefAnonymous``. Functions that take a
#: cohort accept either (the first one present, in this order) and keep the caller's name in their output.
PUPIL_ID_NAMES = (PMR, "KS4_PupilMatchingRefAnonymous")
#: Allowed values of the ``on_gap`` argument of the windowed derivations (see :func:`report_gap`).
ON_GAP = ("warn", "raise", "ignore")


def _missing_problem(frame: str, col: str, present) -> Problem:
    hint = did_you_mean(col, present)
    found = "no such column"
    if hint is not None:
        if hint.lower() == col.lower():
            found += f" (did you mean {hint!r}? it differs only in letter case)"
        else:
            found += f" (did you mean {hint!r}? rename it with df.rename(columns={{{hint!r}: {col!r}}}))"
    return Problem(frame, col, "a column of this name", found, "missing")


def require_columns(df: pd.DataFrame, columns: Iterable[str], frame: str) -> None:
    """Raise :class:`DerivationError` naming every column of ``columns`` missing from ``df``, each with a
    "did you mean ...?" hint when a present column is a close or case-insensitive match."""
    if not isinstance(df, pd.DataFrame):
        raise DerivationError(f"{frame}: expected a pandas DataFrame, got {type(df).__name__}", table=frame)
    present = [str(c) for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        probs = [_missing_problem(frame, c, present) for c in missing]
        lines = "; ".join(f"{p.column!r}: {p.found}" for p in probs)
        raise DerivationError(
            f"{frame}: missing column(s) {missing} - {lines}; the frame has {present[:20]}"
            + (" ..." if len(present) > 20 else ""),
            table=frame, columns=missing, problems=probs,
        )


def _as_derivation_error(e: SchemaError) -> DerivationError:
    return DerivationError(str(e), table=e.table or "derive", problems=e.problems)


def check_input(df: pd.DataFrame, table: str, columns: Sequence[str], frame: str | None = None, *,
                check_key: bool = True) -> pd.DataFrame:
    """The one input check of the derive functions: ``df``'s ``columns`` against the declared schema of ``table``.

    Missing columns get the did-you-mean hint of :func:`require_columns`; then
    :func:`leokit.validation.check_frame` normalises what is safe (trailing blanks of keys, letter case of
    codes, integer-valued text in integer columns, whole numbers in text-key columns) - each change issued as an
    :class:`~leokit.errors.InputChangedWarning` naming the table, column and rows - and refuses anything else
    that breaks the schema (kinds, ranges such as dates after the extract, missing values in required
    columns, a duplicated declared key when its columns are among ``columns``, end dates before start dates,
    0 rows) with a :class:`DerivationError` naming the table and the column. Returns the (normalised) frame.
    """
    name = frame or table
    require_columns(df, columns, name)
    label = name if name != table else None
    try:
        out, notes = check_frame(df, table, list(columns), label=label and f"{name}", check_key=check_key)
    except SchemaError as e:
        raise _as_derivation_error(e) from None
    if notes:
        notify(InputChangedWarning, f"{name}: input normalised before use: " + "; ".join(notes), "leokit.derive")
    return out


#: The declared lookup behind each person mapping key.
_MAP_TABLES = {"EDUKEY": "learner_ae_id_to_edukey_lookup", "PUPILMATCHINGREFANONYMOUS": "learner_ae_id_to_pmr_lookup"}


def check_mapping(mapping: pd.DataFrame, mapping_key: str, person_col: str) -> pd.DataFrame:
    """Check a person mapping (the EDUKEY or PMR lookup) like its table, when it uses the declared names
    (``AE_ID`` and ``EDUKEY`` / ``PUPILMATCHINGREFANONYMOUS``): kinds (text ``AE_ID`` cast to integers, with a
    warning), padding, 0 rows. Repeated pairs are allowed (the smallest AE_ID owns a key)."""
    table = _MAP_TABLES.get(mapping_key)
    if table is None or person_col != PERSON:
        require_columns(mapping, [mapping_key, person_col], "person mapping")
        return mapping
    return check_input(mapping, table, [PERSON, mapping_key], f"person mapping ({table})", check_key=False)


def warn_dropped(n: int, n_in: int, frame: str, why: str) -> None:
    """Issue a :class:`~leokit.errors.RowsDroppedWarning`: ``n`` of the ``n_in`` rows of ``frame`` dropped, and why
    (the rule for functions that return no report)."""
    if n:
        notify(RowsDroppedWarning, f"{frame}: {n:,} of {n_in:,} rows dropped: {why}", "leokit.derive")


def require_rows(df: pd.DataFrame, frame: str, hint: str = "") -> None:
    """Raise :class:`DerivationError` if ``df`` has no rows (e.g. a cohort selected for a year not in the data)."""
    if len(df) == 0:
        raise DerivationError(f"{frame}: no rows" + (f"; {hint}" if hint else ""), table=frame,
                              problems=[Problem(frame, None, "at least one row", "no rows", "other")])


def pick_column(df: pd.DataFrame, names: Sequence[str], frame: str) -> str:
    """The first of ``names`` that is a column of ``df`` (alternative names of one identifier), else a
    :class:`DerivationError` listing every accepted name, with a did-you-mean hint."""
    for n in names:
        if n in df.columns:
            return n
    present = [str(c) for c in df.columns]
    hint = next((h for h in (did_you_mean(n, present) for n in names) if h is not None), None)
    msg = (f"{frame}: no pupil/person identifier column; expected one of {list(names)}"
           + (f" (did you mean {hint!r}?)" if hint else "") + f"; the frame has {present[:20]}")
    raise DerivationError(msg, table=frame, columns=[names[0]],
                          problems=[_missing_problem(frame, names[0], present)])


def _examples(values, n: int = 3) -> str:
    return ", ".join(repr(v) for v in list(pd.unique(pd.Series(values, dtype=object)))[:n])


def as_numeric(values: pd.Series, frame: str, column: str) -> pd.Series:
    """``values`` as a float64 Series (missing -> NaN), refusing anything that is not a number.

    Numeric and boolean dtypes are converted as they are. A text (object/string) column is accepted only if
    **every** non-missing value parses as a number (e.g. ``"1"``, ``"2.5"`` from a text export); otherwise
    :class:`DerivationError` names the frame, the column and examples of the bad values - never the silent
    ``pd.to_numeric(errors="coerce")`` that would turn them into missing values. Dates and categoricals are
    refused. (The implementation is :func:`leokit.errors.numeric_values`, shared with the loader.)
    """
    return numeric_values(values, frame, column,
                          error=lambda msg, prob: DerivationError(msg, table=frame, problems=[prob]))


def as_taxyear(values: pd.Series, frame: str, column: str = "TaxYear") -> pd.Series:
    """LEO tax-year codes (``201819``) as int64, refusing missing, non-numeric and non-whole values
    (an integer column is passed through without a copy)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_extension_array_dtype(s.dtype):
        return s
    v = as_numeric(s, frame, column)
    bad = (v.isna() | (v % 1 != 0)).to_numpy(dtype=bool)
    if bad.any():
        ex = _examples(s[bad])
        raise DerivationError(f"{frame}: column {column!r}: {int(bad.sum()):,} values are missing or not whole tax-year "
                              f"codes (e.g. {ex}); expected codes such as 201819", table=frame,
                              problems=[Problem(frame, column, "tax-year codes such as 201819",
                                                f"{int(bad.sum())} missing or other values (e.g. {ex})", "values")])
    return v.astype("int64")


def as_dates(values: pd.Series, frame: str, column: str) -> pd.Series:
    """``values`` as datetime64[ns]: a datetime column as it is; text only if every non-missing value is a date.
    Numbers are refused (``pd.to_datetime`` would read 20160101 as nanoseconds after 1970)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            raise DerivationError(f"{frame}: column {column!r} is timezone-aware ({s.dtype}); use "
                                  ".dt.tz_localize(None)", table=frame)
        return s if s.dtype == "datetime64[ns]" else s.astype("datetime64[ns]")
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        d = pd.to_datetime(s, errors="coerce")
        bad = (s.notna() & d.isna()).to_numpy(dtype=bool)
        if bad.any():
            ex = _examples(s[bad])
            raise DerivationError(f"{frame}: column {column!r}: {int(bad.sum()):,} values are not dates (e.g. {ex})",
                                  table=frame, problems=[Problem(frame, column, "dates",
                                                                 f"{int(bad.sum())} other values (e.g. {ex})", "kind")])
        return d.astype("datetime64[ns]")
    raise DerivationError(f"{frame}: column {column!r} must hold dates but has dtype {s.dtype}", table=frame,
                          problems=[Problem(frame, column, "dates (datetime64)", f"dtype {s.dtype}", "kind")])


def academic_year(values: pd.Series, frame: str, column: str) -> pd.Series:
    """Academic years (``'2009/2010'``, ``'2009/10'``, ``200910``, ``2010``) -> end year (Int64), refusing values
    that are not academic years (``leokit.years.acadyr_end`` would silently make them missing)."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if not (pd.api.types.is_numeric_dtype(s.dtype) or s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        raise DerivationError(f"{frame}: column {column!r} must hold academic years (e.g. '2009/2010'), found "
                              f"dtype {s.dtype}", table=frame,
                              problems=[Problem(frame, column, "academic years", f"dtype {s.dtype}", "kind")])
    out = acadyr_end(s)
    bad = (s.notna() & out.isna()).to_numpy(dtype=bool)
    if bad.any():
        ex = _examples(s[bad])
        raise DerivationError(f"{frame}: column {column!r}: {int(bad.sum()):,} values are not academic years "
                              f"(e.g. {ex}); expected e.g. '2009/2010', '2009/10', 200910 or 2010", table=frame,
                              problems=[Problem(frame, column, "academic years such as '2009/2010'",
                                                f"{int(bad.sum())} other values (e.g. {ex})", "values")])
    return out


def format_years(years) -> str:
    """Sorted years as compact ranges: [2000, 2001, 2002, 2005] -> '2000-2002, 2005'."""
    ys = sorted({int(y) for y in years})
    parts, i = [], 0
    while i < len(ys):
        j = i
        while j + 1 < len(ys) and ys[j + 1] == ys[j] + 1:
            j += 1
        parts.append(str(ys[i]) if i == j else f"{ys[i]}-{ys[j]}")
        i = j + 1
    return ", ".join(parts)


def report_gap(message: str, on_gap: str = "warn") -> None:
    """Report that the tables passed do not cover a window: the kit's one coverage policy.

    ``on_gap="warn"`` (the default of every windowed derivation) issues a
    :class:`~leokit.errors.CoverageWarning`; ``"raise"`` raises :class:`CoverageError`; ``"ignore"`` says
    nothing (use it only after checking the gap is expected).
    """
    if on_gap not in ON_GAP:
        raise ValueError(f"on_gap must be one of {ON_GAP}, not {on_gap!r}")
    if on_gap == "raise":
        raise CoverageError(message, table="coverage",
                            problems=[Problem("coverage", None, "tables covering the window", message, "other")])
    if on_gap == "warn":
        notify(CoverageWarning, message, "leokit.derive")


def attach_person(
    df: pd.DataFrame,
    key_col: str,
    mapping: pd.DataFrame | None,
    *,
    mapping_key: str = "EDUKEY",
    person_col: str = PERSON,
    keep_unmatched: bool = False,
    frame: str = "frame",
) -> pd.DataFrame:
    """Add ``person_col`` to ``df`` through ``mapping`` (``mapping_key`` -> ``person_col``).

    With ``mapping=None`` the key itself is the person (``person_col`` is a copy of ``key_col``).
    The LEO lookups are not one-to-one: a person (AE_ID) can have several EDUKEYs, whose records
    the callers then sum; a key linked to several persons is given to the **smallest** person id,
    so every record is counted exactly once - the rule of ``leokit.linkage.resolve_edukeys`` and
    ``leokit.linkage.person_lookup`` (and of the kit's SQL: ``MIN(AE_ID) ... GROUP BY EDUKEY``).
    Rows whose key has no mapping are dropped, with a :class:`~leokit.errors.RowsDroppedWarning` saying how
    many (``keep_unmatched=True``: kept, with a missing ``person_col``). The mapping is checked like its table
    (:func:`check_mapping`) and the two keys are made the same kind first (text ``"123"`` against the number 123
    would match nothing; padding is stripped), or refused naming both frames (``frame``: how ``df`` is named).
    """
    if mapping is None:
        out = df.copy()
        out[person_col] = out[key_col]
        return out
    mapping = check_mapping(mapping, mapping_key, person_col)
    kind = {"EDUKEY": "str", "PUPILMATCHINGREFANONYMOUS": "str"}.get(mapping_key)
    try:
        df, mapping, notes = check_join_keys(df, key_col, frame, mapping, mapping_key,
                                             _MAP_TABLES.get(mapping_key, "person mapping"), kind=kind)
    except SchemaError as e:
        raise _as_derivation_error(e) from None
    if notes:
        notify(InputChangedWarning, f"{frame}: join keys normalised: " + "; ".join(notes), "leokit.derive")
    m = mapping[[mapping_key, person_col]]
    m = m[(m[mapping_key].notna() & m[person_col].notna()).to_numpy(dtype=bool)]
    if not m[mapping_key].is_unique:  # one owner per key: the smallest person id
        m = m.sort_values([mapping_key, person_col], kind="stable").drop_duplicates(mapping_key)
    pos = map_unique(df[key_col], m[mapping_key])
    keep = pos >= 0
    if keep_unmatched:
        if person_col in df.columns:
            raise DerivationError(f"the frame already has a column {person_col!r}", table="frame")
        out = df.reset_index(drop=True).copy()
        src = m[person_col].reset_index(drop=True)
        if pd.api.types.is_integer_dtype(src.dtype):
            src = src.astype("Int64")  # integer ids stay integers, with <NA> for the unmatched
        if len(src):
            vals = src.iloc[np.where(keep, pos, 0)].reset_index(drop=True)
            out[person_col] = vals.where(pd.Series(keep), None if vals.dtype == object else pd.NA)
        else:
            out[person_col] = pd.Series(pd.NA, index=out.index, dtype=src.dtype)
        return out
    out = df.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    out[person_col] = m[person_col].to_numpy()[pos[keep]]
    n_miss = int(df[key_col].isna().sum())
    warn_dropped(n_miss, len(df), frame, f"missing {key_col}")
    warn_dropped(len(df) - len(out) - n_miss, len(df), frame,
                 f"{key_col} not in the {_MAP_TABLES.get(mapping_key, 'person mapping')} (cannot be linked to a person)")
    return out


# ----------------------------------------------------------------------------------------------
# Intervals and tax years (the conventions themselves live in leokit.years)
# ----------------------------------------------------------------------------------------------
def merge_intervals(df: pd.DataFrame, by: Sequence[str], start: str, end: str) -> pd.DataFrame:
    """Union of overlapping or abutting [start, end] day intervals within each ``by`` group, vectorised.

    Returns a frame with ``by + [start, end]`` and disjoint intervals sorted by ``by`` then start
    (abutting = the next starts the day after the previous ends). Rows with a missing key or date are dropped.
    """
    by = list(by)
    if df.empty:
        return df[by + [start, end]].reset_index(drop=True)
    gid, keys = group_index(df, by)
    s = _days(df[start])
    e = _days(df[end])
    ok = (gid >= 0) & (s != _NAT_DAYS) & (e != _NAT_DAYS)
    gid, s, e = gid[ok], s[ok], e[ok]
    order = np.lexsort((e, s, gid))
    gid, s, e = gid[order], s[order], e[order]
    if len(gid) == 0:
        return df[by + [start, end]].iloc[:0].reset_index(drop=True)
    # running max of end within group: shift each group above all previous ones, accumulate, shift back
    span = int(e.max() - min(e.min(), s.min())) + 2
    base = gid.astype("int64") * span
    run_max = np.maximum.accumulate(e - e.min() + base) - base + e.min()
    prev_max = np.empty_like(run_max)
    prev_max[0] = run_max[0]
    prev_max[1:] = run_max[:-1]
    new_block = np.ones(len(gid), dtype=bool)
    new_block[1:] = (gid[1:] != gid[:-1]) | (s[1:] > prev_max[1:] + 1)
    first = np.flatnonzero(new_block)
    last = np.append(first[1:] - 1, len(gid) - 1)
    out = keys.iloc[gid[first]].reset_index(drop=True)
    out[start] = s[first].astype("datetime64[D]").astype("datetime64[ns]")
    out[end] = run_max[last].astype("datetime64[D]").astype("datetime64[ns]")
    return out


_NAT_DAYS = np.datetime64("NaT", "D").astype("int64")


def _days(values) -> np.ndarray:
    """Dates as int64 days since 1970-01-01 (NaT -> the NaT sentinel)."""
    return pd.to_datetime(pd.Series(values)).to_numpy("datetime64[ns]").astype("datetime64[D]").astype("int64")


def taxyear_of_days(days: np.ndarray) -> np.ndarray:
    """Start year of the tax year containing each day number (days since 1970-01-01)."""
    dd = np.asarray(days, dtype="int64")
    y = dd.astype("datetime64[D]").astype("datetime64[Y]").astype("int64") + 1970
    return y - (dd < _apr6_days(y)).astype("int64")


def split_by_taxyear(df: pd.DataFrame, start: str, end: str, *, min_year: int | None = None,
                     max_year: int | None = None) -> pd.DataFrame:
    """Split each [start, end] interval into its pieces within each tax year, vectorised.

    Adds ``_ty`` (start calendar year of the tax year), ``_ps``/``_pe`` (piece start/end as int
    days since 1970-01-01) and ``days`` (inclusive day count of the piece). Rows are repeated once per
    tax year the interval touches (optionally limited to ``min_year..max_year``). Dates must not be missing.
    """
    s_all = _days(df[start])
    e_all = _days(df[end])
    ty_s = taxyear_of_days(s_all)
    ty_e = taxyear_of_days(e_all)
    if min_year is not None:
        ty_s = np.maximum(ty_s, min_year)
    if max_year is not None:
        ty_e = np.minimum(ty_e, max_year)
    n = np.maximum(ty_e - ty_s + 1, 0)
    idx = np.repeat(np.arange(len(df)), n)
    offs = np.arange(idx.size) - np.repeat(np.cumsum(n) - n, n)
    ty = ty_s[idx] + offs
    s = s_all[idx]
    e = e_all[idx]
    ps = np.maximum(s, _apr6_days(ty))
    pe = np.minimum(e, _apr6_days(ty + 1) - 1)
    keep = pe >= ps
    rows = idx[keep]
    out = df.drop(columns=[start, end]).iloc[rows].reset_index(drop=True)
    out["_ty"] = ty[keep]
    out["_ps"] = ps[keep]
    out["_pe"] = pe[keep]
    out["days"] = (pe - ps + 1)[keep]
    return out


def group_sum(keys_df: pd.DataFrame, cols: Sequence[str], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sums of ``values`` (name -> array aligned with ``keys_df``) by ``cols``: a sorted frame ``cols + names``."""
    gid, keys = group_index(keys_df, cols)
    ok = gid >= 0
    out = keys
    for name, v in values.items():
        out[name] = np.bincount(gid[ok], weights=np.asarray(v, dtype="float64")[ok], minlength=len(keys))
    return out


def _apr6_days(years: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of 6 April of each year (vectorised)."""
    y = np.asarray(years, dtype="int64")
    base = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype("int64")  # 1 Jan
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return base + 95 + leap.astype("int64")  # 1 Jan + 95 days = 6 April (96 in leap years)


def month_index_of_days(days: np.ndarray) -> np.ndarray:
    """Months since Jan 1970 (year*12 + month - 1 - 1970*12) of day numbers."""
    return np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]").astype("int64")


# ----------------------------------------------------------------------------------------------
# Fast vectorised grouping (hash factorisation + bincount), used on England-size inputs
# ----------------------------------------------------------------------------------------------
def _codes(values: pd.Series) -> tuple[np.ndarray, object, int]:
    """Sorted integer codes of ``values`` (-1 = missing), the uniques (indexable by code) and their count.

    Integer columns with a compact range are coded arithmetically (no hashing); others are factorised.
    """
    s = pd.Series(values)
    if pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        arr = s.to_numpy(dtype="int64", na_value=np.iinfo("int64").min) if s.hasnans else s.to_numpy(dtype="int64")
        ok = arr != np.iinfo("int64").min
        if ok.any():
            lo, hi = int(arr[ok].min()), int(arr[ok].max())
            span = hi - lo + 1
            if span <= max(4 * len(arr), 1024):  # rank the values present (no hashing)
                off = np.where(ok, arr - lo, 0)
                present = np.bincount(off[ok], minlength=span) > 0
                rank = np.cumsum(present) - 1
                codes = np.where(ok, rank[off], -1)
                u = np.flatnonzero(present) + lo
                return codes, u, max(len(u), 1)
    codes, u = pd.factorize(s, sort=True)
    return np.asarray(codes, dtype="int64"), u, max(len(u), 1)


def group_index(df: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group id of each row over ``cols`` and the sorted unique key combinations.

    Returns ``(gid, keys)``: ``gid`` int64 per row (-1 where any key is missing), numbered so that
    ``keys`` (a DataFrame with ``cols``, one row per group present) is sorted lexicographically by ``cols``.
    Equivalent to ``df.groupby(cols, sort=True).ngroup()`` but faster on large frames (compact integer keys
    are coded arithmetically, the rest hashed once).
    """
    cols = list(cols)
    n = len(df)
    raw = np.zeros(n, dtype="int64")
    valid = np.ones(n, dtype=bool)
    uniques, sizes = [], []
    total = 1
    for c in cols:
        codes, u, size = _codes(df[c])
        valid &= codes >= 0
        total *= size
        if total >= 2**62:  # pragma: no cover - astronomically many key combinations
            raise DerivationError("group_index: too many key combinations")
        raw = raw * size + np.where(codes >= 0, codes, 0)
        uniques.append(u)
        sizes.append(size)
    gid = np.full(n, -1, dtype="int64")
    rv = raw[valid]
    if total <= max(4 * n, 1024):  # dense: mark the combinations present, rank them
        present = np.bincount(rv, minlength=total) > 0
        rank = np.cumsum(present) - 1
        gid[valid] = rank[rv]
        comb = np.flatnonzero(present)
    else:  # sparse: hash, then sort the (fewer) uniques
        codes_r, uniq_r = pd.factorize(rv)
        uniq_r = np.asarray(uniq_r, dtype="int64")
        order = np.argsort(uniq_r, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        gid[valid] = rank[np.asarray(codes_r, dtype="int64")]
        comb = uniq_r[order]
    parts = np.unravel_index(comb, sizes) if len(comb) else [np.array([], "int64")] * len(cols)
    keys = pd.DataFrame({c: pd.Index(u).take(p) if len(p) else pd.Index(u)[:0] for c, u, p in zip(cols, uniques, parts)})
    for c in cols:  # keep the input dtypes (e.g. int64 keys stay int64)
        if len(keys) and keys[c].dtype != df[c].dtype and pd.api.types.is_integer_dtype(df[c].dtype):
            keys[c] = keys[c].astype(df[c].dtype)
    return gid, keys


def map_unique(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position in ``keys`` (unique) of each of ``values``, -1 where absent; hash-based and fast."""
    k = pd.Series(keys).reset_index(drop=True)
    v = pd.Series(values).reset_index(drop=True)
    both = pd.concat([k, v], ignore_index=True)
    codes, uniq = pd.factorize(both)
    codes = np.asarray(codes, dtype="int64")
    pos = np.full(len(uniq) + 1, -1, dtype="int64")
    kc = codes[: len(k)]
    ok = kc >= 0
    pos[kc[ok]] = np.arange(len(k))[ok]
    vc = codes[len(k):]
    return np.where(vc >= 0, pos[vc], -1)


def _int_key(frames: Sequence[pd.DataFrame], keys: Sequence[str]) -> list[np.ndarray] | None:
    """One int64 key per row combining integer ``keys`` (same coding across ``frames``), or None if a key
    column is not integer, has missing values or the combination could overflow."""
    arrays = [[] for _ in frames]
    lo_hi = []
    for k in keys:
        cols = [f[k] for f in frames]
        if not all(pd.api.types.is_integer_dtype(c.dtype) and not c.hasnans for c in cols):
            return None
        vals = [c.to_numpy(dtype="int64") for c in cols]
        nonempty = [v for v in vals if len(v)]
        lo = min((int(v.min()) for v in nonempty), default=0)
        hi = max((int(v.max()) for v in nonempty), default=0)
        lo_hi.append((lo, hi))
        for i, v in enumerate(vals):
            arrays[i].append(v - lo)
    total = 1
    for lo, hi in lo_hi:
        total *= hi - lo + 1
    if total >= 2**62:
        return None
    out = []
    for parts in arrays:
        key = np.zeros(len(parts[0]) if parts else 0, dtype="int64")
        for (lo, hi), v in zip(lo_hi, parts):
            key = key * (hi - lo + 1) + v
        out.append(key)
    return out


def lookup_rows(left: pd.DataFrame, right: pd.DataFrame, keys: Sequence[str]) -> np.ndarray | None:
    """Row position in ``right`` matching each row of ``left`` on ``keys`` (-1 = no match), or ``None`` when
    there is no fast path (keys not integer, or ``right`` not sorted by unique keys): then use a merge.

    The derivation functions return frames sorted by their unique keys, so joining their outputs takes a
    binary search instead of a hash join (much faster on pandas 2.2, where ``merge`` hashes both sides).
    """
    ik = _int_key([left, right], list(keys))
    if ik is None:
        return None
    lk, rk = ik
    if len(rk) > 1 and not np.all(rk[1:] > rk[:-1]):
        return None
    if len(rk) == 0:
        return np.full(len(lk), -1, dtype="int64")
    pos = np.searchsorted(rk, lk)
    pos_c = np.minimum(pos, len(rk) - 1)
    return np.where(rk[pos_c] == lk, pos_c, -1).astype("int64")
