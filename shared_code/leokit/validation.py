"""Validate a table against its declared schema (:mod:`leokit.schema`).

``validate(df, name)`` checks an in-memory frame - a table read by :func:`leokit.load.load_table`, or a
real SRS table pulled through SQL - and returns it unchanged, or raises
:class:`~leokit.errors.SchemaError` collecting *every* problem, one line each naming table and column:

* **columns**: a declared column missing -> error, with a "did you mean ...?" hint when a present
  column is a close (difflib) or case-insensitive match. Declared ``syn_*`` (synthetic-only)
  columns may be absent (they never exist in the SRS) but are validated when present.
  **Extra columns** (present but not declared) -> error by default (``extra="error"``): the
  synthetic data must follow the contract exactly. Real SRS tables have many more columns than the
  kit declares: validate them with ``extra="ignore"`` (or ``"warn"``), and pass
  ``require_all=False`` when you selected only some columns.
* **kinds** (an all-missing ``object`` column passes any kind): ``int`` = an integer dtype, or
  a float dtype whose non-missing values are all whole;
  ``float`` = any numeric dtype (not bool); ``str`` = pandas string dtype, or object whose
  non-missing values are all ``str``; ``date`` = a tz-naive ``datetime64`` dtype.
* **nullability**, **allowed values**, **ranges** (inclusive; dates compared as dates) and
  **key uniqueness** (where the schema declares a key).

Nothing is coerced silently: ``validate`` never changes the frame (it returns it unchanged).
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
import pandas as pd

from leokit import schema as _schema
from leokit.errors import Problem, SchemaError, did_you_mean
from leokit.schema import schema_for

__all__ = ["validate"]

_MAX_EXAMPLES = 3


def _examples(values: Iterable, n: int = _MAX_EXAMPLES) -> str:
    out = []
    for v in values:
        if isinstance(v, np.datetime64):
            v = pd.Timestamp(v)
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, pd.Timestamp):
            v = v.date().isoformat() if v == v.normalize() else v.isoformat()
        elif isinstance(v, np.generic):
            v = v.item()
        out.append(repr(v))
        if len(out) >= n:
            break
    return ", ".join(out)


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _is_str_values(s: pd.Series) -> tuple[bool, str]:
    """(ok, description) for a 'str' column."""
    dt = s.dtype
    if isinstance(dt, pd.StringDtype):
        return True, ""
    if dt == object:
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("string", "empty"):
            return True, ""
        bad = s[s.notna() & ~s.map(lambda v: isinstance(v, str))]
        return False, (f"object dtype with {_rows(len(bad))} of non-text values "
                       f"(e.g. {', '.join(f'{v!r} ({type(v).__name__})' for v in bad.head(_MAX_EXAMPLES))})")
    if isinstance(dt, pd.CategoricalDtype):
        return False, "dtype category (convert with .astype(str) or read without categories)"
    return False, f"dtype {dt}"


def _check_kind(s: pd.Series, col: _schema.Column) -> str | None:
    """None if ``s`` has the declared kind, else a description of what was found."""
    dt = s.dtype
    if dt == object and s.isna().all():
        return None  # an all-missing column (e.g. all NULL through pyodbc) has no wrong values
    if col.kind == "str":
        ok, found = _is_str_values(s)
        return None if ok else found
    if col.kind == "date":
        if pd.api.types.is_datetime64_any_dtype(dt):
            if getattr(dt, "tz", None) is not None:
                return f"dtype {dt} (timezone-aware; use .dt.tz_localize(None))"
            return None
        if dt == object and pd.api.types.infer_dtype(s, skipna=True) in ("date", "datetime"):
            return "dtype object holding Python dates (convert with pd.to_datetime)"
        return f"dtype {dt}"
    if pd.api.types.is_bool_dtype(dt):
        return f"dtype {dt} (booleans; convert with .astype(int) / .astype(float) if missing values)"
    if not pd.api.types.is_numeric_dtype(dt):
        return f"dtype {dt}"
    if col.kind == "float":
        return None
    # int
    if pd.api.types.is_integer_dtype(dt):
        return None
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype="float64")
    bad = v[~np.isfinite(v) | (np.mod(v, 1.0) != 0)] if v.size else v
    if bad.size:
        return f"dtype {dt} with {_rows(int(bad.size))} of non-whole values (e.g. {_examples(np.unique(bad))})"
    return None


def _fmt_bound(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_column(table: str, s: pd.Series, col: _schema.Column) -> list[Problem]:
    probs: list[Problem] = []
    s = s.reset_index(drop=True)  # masks below must not align on a duplicated index
    kind_problem = _check_kind(s, col)
    if kind_problem is not None:
        expected = {"int": "kind int (an integer dtype, or float with whole numbers)",
                    "float": "kind float (a numeric dtype)",
                    "str": "kind str (text: str/string dtype, or object holding str)",
                    "date": "kind date (datetime64)"}[col.kind]
        return [Problem(table, col.name, expected, kind_problem, "kind")]
    null = s.isna()
    n_null = int(null.sum())
    if not col.nullable and n_null:
        probs.append(Problem(table, col.name, "no missing values (column is not nullable)",
                             f"{_rows(n_null)} with missing values", "null"))
    nn = s[~null]
    if nn.empty:
        return probs
    if col.values is not None:
        if col.kind in ("int", "float"):
            allowed = [float(x) for x in col.values]
            bad_mask = ~nn.astype("float64").isin(allowed)
        else:
            bad_mask = ~nn.astype(object).isin(list(col.values))
        n_bad = int(bad_mask.sum())
        if n_bad:
            shown = list(col.values)
            allowed_s = ", ".join(repr(v) for v in shown[:15]) + (", ..." if len(shown) > 15 else "")
            bad_vals = pd.unique(nn[bad_mask].astype(object))
            probs.append(Problem(table, col.name, f"values in {{{allowed_s}}}",
                                 f"{_rows(n_bad)} with other values (e.g. {_examples(bad_vals)})", "values"))
    if col.min is not None or col.max is not None:
        if col.kind == "date":
            lo = pd.Timestamp(col.min) if col.min is not None else None
            hi = pd.Timestamp(col.max) if col.max is not None else None
            vals = nn
        elif col.kind in ("int", "float"):
            lo, hi = col.min, col.max
            vals = nn.astype("float64")
        else:
            lo = hi = None
            vals = nn
        if lo is not None or hi is not None:
            bad_mask = pd.Series(False, index=vals.index)
            if lo is not None:
                bad_mask |= vals < lo
            if hi is not None:
                bad_mask |= vals > hi
            n_bad = int(bad_mask.sum())
            if n_bad:
                if col.min is not None and col.max is not None:
                    exp = f"values in [{_fmt_bound(col.min)}, {_fmt_bound(col.max)}]"
                elif col.min is not None:
                    exp = f"values >= {_fmt_bound(col.min)}"
                else:
                    exp = f"values <= {_fmt_bound(col.max)}"
                bad_vals = pd.unique(nn[bad_mask])
                probs.append(Problem(table, col.name, exp,
                                     f"{_rows(n_bad)} out of range (e.g. {_examples(bad_vals)})", "range"))
    return probs


_hint_for_missing = did_you_mean  # one implementation of the hint, in leokit.errors


def validate(
    df: pd.DataFrame,
    name: str,
    *,
    extra: str = "error",
    require_all: bool = True,
) -> pd.DataFrame:
    """Check ``df`` against the declared schema of table ``name``; return ``df`` unchanged.

    ``extra``: what to do with columns the schema does not declare - ``"error"`` (default; the
    synthetic data must match exactly), ``"warn"`` or ``"ignore"`` (real SRS tables have many
    more columns than the kit declares). ``require_all=False``: declared columns may be absent
    (you selected a subset); the columns that are present are still checked.

    Raises :class:`~leokit.errors.SchemaError` listing *every* problem (missing/renamed/extra
    columns, wrong kinds, missing values in non-nullable columns, disallowed codes, out-of-range
    values, duplicated keys), or :class:`~leokit.errors.TableNotFoundError` for an unknown name.
    """
    if extra not in ("error", "warn", "ignore"):
        raise ValueError(f"extra must be 'error', 'warn' or 'ignore', not {extra!r}")
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validate: expected a pandas DataFrame for table {name!r}, got {type(df).__name__}")
    sch = schema_for(name)
    table = sch.name
    problems: list[Problem] = []
    present = [str(c) for c in df.columns]
    dup_names = sorted({c for c in present if present.count(c) > 1})
    for c in dup_names:
        problems.append(Problem(table, c, "each column name once", f"{present.count(c)} columns with this name",
                                "duplicate-name"))
    declared = sch.column_names
    declared_set = set(declared)
    extras = [c for c in present if c not in declared_set]
    hinted: set[str] = set()
    for col in sch.columns:
        if col.name in present:
            continue
        if col.synthetic_only or not require_all:
            continue
        hint = _hint_for_missing(col.name, [c for c in extras if c not in hinted])
        found = "no such column"
        if hint is not None:
            hinted.add(hint)
            if hint.lower() == col.name.lower():
                found += (f" (did you mean {hint!r}? it differs only in letter case: rename it, or use "
                          f"leokit.load.match_case(df, {table!r}))")
            else:
                found += f" (did you mean {hint!r}? rename it with df.rename(columns={{{hint!r}: {col.name!r}}}))"
        problems.append(Problem(table, col.name, "a column of this name", found, "missing"))
    unexpected = [c for c in extras if c not in hinted]
    if unexpected and extra != "ignore":
        if extra == "error":
            for c in unexpected:
                near = did_you_mean(c, declared)
                extra_hint = f"; close to declared {near!r}" if near else ""
                problems.append(Problem(
                    table, c, "only declared columns",
                    f"an undeclared column{extra_hint} (pass extra='ignore' for real SRS tables with more columns)",
                    "extra"))
        else:
            warnings.warn(f"table {table!r}: {len(unexpected)} undeclared column(s) not validated: {unexpected[:10]}",
                          stacklevel=2)
    kind_ok: dict[str, bool] = {}
    for col in sch.columns:
        if col.name not in present or col.name in dup_names:
            continue
        probs = _check_column(table, df[col.name], col)
        kind_ok[col.name] = not any(p.check == "kind" for p in probs)
        problems += probs
    if sch.key and all(kind_ok.get(k, False) for k in sch.key):
        dup = df.duplicated(subset=list(sch.key), keep=False)
        n_dup = int(dup.sum())
        if n_dup:
            ex = df.loc[dup, list(sch.key)].drop_duplicates().head(_MAX_EXAMPLES)
            ex_s = "; ".join(
                "(" + ", ".join(_examples([v], 1) for v in row) + ")" for row in ex.itertuples(index=False))
            n_keys = int(df.loc[dup, list(sch.key)].drop_duplicates().shape[0])
            problems.append(Problem(
                table, ", ".join(sch.key), f"unique key ({', '.join(sch.key)})",
                f"{_rows(n_dup)} sharing {n_keys} duplicated key value(s) (e.g. {ex_s})", "key"))
    if problems:
        raise SchemaError(table, problems)
    return df
