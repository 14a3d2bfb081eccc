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

* **order** of paired dates (``TableSchema.ordered``, e.g. ``StartDate <= EndDate`` of a spell), and at
  least one row (an empty table is refused: ``0 rows``).

Nothing is coerced silently: ``validate`` never changes the frame (it returns it unchanged).

In-memory frames passed to the kit's functions
----------------------------------------------
:func:`check_frame` is the one input check of every public load/link/context/derive function that takes a
frame: it checks only the columns the function needs (kinds, missing values, allowed values, ranges, date
order, uniqueness of the declared key when the key columns are among them, at least one row) and first
**normalises what is safe**, returning a note for each change:

* trailing blanks stripped from text values (SQL Server ``CHAR(n)`` pads keys such as ``EDUKEY``);
* LSOA codes and codes whose declared values are upper case upper-cased (``e01000001`` -> ``E01000001``);
* a column declared ``int`` that arrives as text whose values are all whole numbers (``"123"``) cast to
  numbers; a column declared ``str`` that arrives as whole numbers (``EDUKEY`` 123) cast to text
  (``"123"``); a ``float`` column as text of numbers cast; a ``date`` column as text dates parsed.

Anything else that breaks the schema raises :class:`~leokit.errors.SchemaError` naming the table and the
column. :func:`check_join_keys` makes the key columns of two frames about to be joined the same kind (both
declared kinds), or refuses naming both tables and the column. :func:`normalise_frame` is the normalising
step alone (used by :func:`leokit.read.load_table` on files, which then validates the whole table).
"""

from __future__ import annotations

import warnings
from typing import Iterable

import numpy as np
import pandas as pd

from leokit import schema as _schema
from leokit.errors import Problem, SchemaError, did_you_mean
from leokit.schema import schema_for

__all__ = ["validate", "check_frame", "normalise_frame", "check_join_keys", "strip_key_padding", "rows_problem"]

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
        if dt == object or isinstance(dt, pd.StringDtype):
            num = pd.to_numeric(s.astype(object).where(s.notna()), errors="coerce")
            bad = s[s.notna() & num.isna()]
            if len(bad):
                return (f"dtype {dt} with {_rows(len(bad))} of values that are not numbers "
                        f"(e.g. {_examples(pd.unique(bad.astype(object)))})")
            return f"dtype {dt} (text holding numbers)"
        return f"dtype {dt}"
    if col.kind == "float":
        return None
    # int
    if pd.api.types.is_integer_dtype(dt):
        return None
    v = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype="float64")
    finite = np.isfinite(v)
    bad = v[~finite | (np.mod(np.where(finite, v, 0.0), 1.0) != 0)] if v.size else v  # inf is not whole
    if bad.size:
        return f"dtype {dt} with {_rows(int(bad.size))} of non-whole values (e.g. {_examples(np.unique(bad))})"
    return None


def _fmt_bound(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


#: What a column of each kind is expected to hold, as every schema error says it (files, frames, SQL views).
KIND_EXPECTED = {"int": "kind int (an integer dtype, or float with whole numbers)",
                 "float": "kind float (a numeric dtype)",
                 "str": "kind str (text: str/string dtype, or object holding str)",
                 "date": "kind date (datetime64)"}


def range_expected(col: _schema.Column) -> str:
    """The "expected" text of a range problem of ``col`` (``values in [lo, hi]``, ``values >= lo`` ...)."""
    if col.min is not None and col.max is not None:
        return f"values in [{_fmt_bound(col.min)}, {_fmt_bound(col.max)}]"
    if col.min is not None:
        return f"values >= {_fmt_bound(col.min)}"
    return f"values <= {_fmt_bound(col.max)}"


def rows_text(n: int) -> str:
    """``'1 row'`` / ``'3 rows'``: how every schema error counts rows."""
    return _rows(n)


def _check_column(table: str, s: pd.Series, col: _schema.Column) -> list[Problem]:
    probs: list[Problem] = []
    s = s.reset_index(drop=True)  # masks below must not align on a duplicated index
    kind_problem = _check_kind(s, col)
    if kind_problem is not None:
        return [Problem(table, col.name, KIND_EXPECTED[col.kind], kind_problem, "kind")]
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
                exp = range_expected(col)
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
    key: bool = True,
) -> pd.DataFrame:
    """Check ``df`` against the declared schema of table ``name``; return ``df`` unchanged.

    ``extra``: what to do with columns the schema does not declare - ``"error"`` (default; the
    synthetic data must match exactly), ``"warn"`` or ``"ignore"`` (real SRS tables have many
    more columns than the kit declares). ``require_all=False``: declared columns may be absent
    (you selected a subset); the columns that are present are still checked. ``key=False`` skips the check of
    the declared key's uniqueness (for a step that counts repeated keys itself, e.g. the lookups of
    :mod:`leokit.linkage`, whose reports count repeated pairs).

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
    if key and sch.key and all(kind_ok.get(k, False) for k in sch.key):
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
    problems += _order_problems(df, sch, kind_ok)
    if len(df) == 0:
        problems.append(rows_problem(table))
    if problems:
        raise SchemaError(table, problems)
    return df


def rows_problem(table: str) -> Problem:
    """The problem of an empty table (``0 rows``): nothing can be derived or linked from it."""
    return Problem(table, None, "at least one row", "0 rows (an empty table: nothing to link or derive)", "rows")


def _order_problems(df: pd.DataFrame, sch, kind_ok: dict[str, bool]) -> list[Problem]:
    out = []
    for start, end in getattr(sch, "ordered", ()):
        if not (kind_ok.get(start) and kind_ok.get(end)):
            continue
        a, b = df[start].reset_index(drop=True), df[end].reset_index(drop=True)
        if not (pd.api.types.is_datetime64_any_dtype(a.dtype) and pd.api.types.is_datetime64_any_dtype(b.dtype)):
            continue
        bad = (a.notna() & b.notna() & (b < a)).to_numpy(dtype=bool)
        if bad.any():
            ex = "; ".join(f"{_examples([x], 1)} -> {_examples([y], 1)}" for x, y in
                           zip(a[bad].head(_MAX_EXAMPLES), b[bad].head(_MAX_EXAMPLES)))
            out.append(Problem(sch.name, end, f"{end} on or after {start}",
                               f"{_rows(int(bad.sum()))} ending before they start (e.g. {ex})", "order"))
    return out


# ----------------------------------------------------------------------------------------------
# In-memory frames: normalise what is safe, check the columns a function needs
# ----------------------------------------------------------------------------------------------
def _is_text(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "string"


def _text_series(values, index) -> pd.Series:
    out = pd.Series(values, index=index, dtype=object)
    return out.astype("str") if pd.__version__ >= "3" else out


def _matches(s: pd.Series, pattern: str) -> np.ndarray:
    """Where the text values of ``s`` match ``pattern`` (missing values never match), as a bool array."""
    if pattern == r"\s$":  # trailing blank: endswith is vectorised for Arrow-backed text, a regex with $ is not
        ms = [s.str.endswith(c, na=False) for c in (" ", "\t", "\n", "\r")]
        return np.logical_or.reduce([np.asarray(m.fillna(False) if m.dtype == object else m, dtype=bool)
                                     for m in ms])
    m = s.str.contains(pattern, regex=True, na=False)
    return np.asarray(m.fillna(False) if m.dtype == object else m, dtype=bool)


def _upper_codes(col: _schema.Column) -> bool:
    if "lsoa" in col.name.lower():
        return True
    return bool(col.values) and all(isinstance(v, str) and v == v.upper() for v in col.values) and any(
        isinstance(v, str) and v.upper() != v.lower() for v in col.values)


def _normalise_column(table: str, s: pd.Series, col: _schema.Column, casts: bool) -> tuple[pd.Series, list[str]]:
    notes: list[str] = []
    name = col.name
    index = s.index
    s = s.reset_index(drop=True)  # masks below must not align on a duplicated index
    out, notes = _normalise_values(table, s, col, casts, name, notes)
    out.index = index
    return out, notes


def _normalise_values(table, s, col, casts, name, notes):
    if col.kind == "str" and casts and not _is_text(s) and s.notna().any() and (
            pd.api.types.is_integer_dtype(s.dtype) or (
                pd.api.types.is_float_dtype(s.dtype) and bool((s.dropna() % 1 == 0).all()))) and not \
            pd.api.types.is_bool_dtype(s.dtype):
        vals = [None if pd.isna(v) else str(int(v)) for v in s.tolist()]
        s = _text_series(vals, s.index)
        notes.append(f"table {table!r}, column {name!r}: whole numbers cast to text, as declared (kind str), "
                     f"{_rows(int(s.notna().sum()))}")
    if _is_text(s):
        nn = s.notna()
        text = s.astype(object)
        padded = _matches(s, r"\s$")  # vectorised test first: most columns have nothing to strip
        n_pad = int(padded.sum())
        if n_pad:
            text = text.where(~padded, text[padded].map(str.rstrip))
            s = _text_series(text.tolist(), s.index)
            notes.append(f"table {table!r}, column {name!r}: trailing blanks stripped from {_rows(n_pad)} "
                         "(SQL Server CHAR(n) padding)")
        if col.kind == "str" and _upper_codes(col) and nn.any():
            low = _matches(s, r"[a-z]")
            n_up = int(low.sum())
            if n_up:
                text = text.where(~low, text[low].map(str.upper))
                s = _text_series(text.tolist(), s.index)
                notes.append(f"table {table!r}, column {name!r}: codes upper-cased in {_rows(n_up)}")
        if casts and col.kind in ("int", "float") and nn.any():
            num = pd.to_numeric(s.astype(object).where(nn), errors="coerce")
            if not bool((nn & num.isna()).any()):
                whole = bool((num.dropna() % 1 == 0).all())
                if col.kind == "float" or whole:
                    if col.kind == "int" and not bool(num.isna().any()):
                        num = num.astype("int64")
                    else:
                        num = num.astype("float64")
                    s = num
                    notes.append(f"table {table!r}, column {name!r}: text holding numbers cast to numbers, as "
                                 f"declared (kind {col.kind}), {_rows(int(nn.sum()))}")
        if casts and col.kind == "date" and nn.any():
            d = pd.to_datetime(s.astype(object).where(nn), errors="coerce")
            if not bool((nn & d.isna()).any()):
                s = d.astype("datetime64[ns]")
                notes.append(f"table {table!r}, column {name!r}: text dates parsed as dates, {_rows(int(nn.sum()))}")
    return s, notes


def normalise_frame(df: pd.DataFrame, table: str, columns: Iterable[str] | None = None, *,
                    casts: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Normalise what is safe in the declared columns of ``df`` (see the module docstring); ``(frame, notes)``.

    The frame is returned unchanged (the same object) when nothing needed changing, else a copy. ``casts=False``
    leaves kinds alone (only padding and letter case are normalised: the rule for files, whose types the
    validator checks as written).
    """
    sch = schema_for(table)
    want = list(columns) if columns is not None else [c for c in sch.column_names if c in df.columns]
    out, notes = df, []
    for name in want:
        if name not in df.columns or not isinstance(df[name], pd.Series):
            continue
        try:
            col = sch.column(name)
        except KeyError:
            continue
        s, n = _normalise_column(sch.name, df[name], col, casts)
        if n:
            if out is df:
                out = df.copy()
            out[name] = s.to_numpy() if not isinstance(s.dtype, pd.StringDtype) else s.array
            notes += n
    return out, notes


def check_frame(df: pd.DataFrame, table: str, columns: Iterable[str] | None = None, *,
                normalise: bool = True, label: str | None = None,
                check_key: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Check the columns of ``df`` that a function needs against the declared schema of ``table``.

    ``columns``: the declared columns the caller uses (default: every declared column present); each must
    be present. With ``normalise=True`` (default) safe normalisations are applied first (module docstring).
    Then the kinds, missing values, allowed values, ranges, date order and - when all its columns are among
    ``columns`` - the uniqueness of the declared key are checked, and an empty frame is refused. ``label``:
    how the frame is named in messages when it is not the table itself (e.g. ``"edukey_map
    (learner_ae_id_to_edukey_lookup)"``). ``check_key=False``: repeated keys are the caller's to count.

    Returns ``(frame, notes)``: the frame (normalised, or the same object) and one note per change, for the
    caller's report. Raises :class:`~leokit.errors.SchemaError` naming the table and the column.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table {table!r}: expected a pandas DataFrame, got {type(df).__name__}")
    sch = schema_for(table)
    name = label or sch.name
    want = list(columns) if columns is not None else [c for c in sch.column_names if c in df.columns]
    undeclared = [c for c in want if c not in sch.column_names]
    if undeclared:
        raise ValueError(f"check_frame: {undeclared} are not declared columns of table {sch.name!r}")
    missing = [c for c in want if c not in df.columns]
    if missing:
        present = [str(c) for c in df.columns]
        probs = []
        for c in missing:
            hint = did_you_mean(c, present)
            probs.append(Problem(name, c, "a column of this name",
                                 "no such column" + (f" (did you mean {hint!r}?)" if hint else ""), "missing"))
        raise SchemaError(name, probs)
    notes: list[str] = []
    if normalise:
        df, notes = normalise_frame(df, sch.name, want)
        if label:
            notes = [n.replace(f"table {sch.name!r}", f"table {name!r}", 1) for n in notes]
    if len(df) == 0:
        raise SchemaError(name, [rows_problem(name)])
    sub = df[want]
    try:
        validate(sub, sch.name, extra="ignore", require_all=False, key=check_key)
    except SchemaError as e:
        if label:
            probs = [Problem(name, p.column, p.expected, p.found, p.check) for p in e.problems]
            raise SchemaError(name, probs) from None
        raise
    return df, notes


def _key_kind(s: pd.Series) -> str:
    if len(s) == 0 or bool(s.isna().all()):
        return "empty"
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "number"
    if _is_text(s):
        return "text"
    return str(s.dtype)


def strip_key_padding(df: pd.DataFrame, col: str, table: str) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with trailing blanks stripped from the text key ``col`` (SQL Server ``CHAR(n)`` pads keys, and
    ``"K1  "`` would not match ``"K1"``), and a note naming the table, the column and the rows; unchanged (the
    same object) when no value is padded or the column is not text."""
    s = df[col]
    if not isinstance(s, pd.Series) or not _is_text(s):
        return df, []
    s = s.reset_index(drop=True)
    nn = s.notna()
    if not nn.any():
        return df, []
    text = s.astype(object)
    padded = _matches(s, r"\s$")
    n_pad = int(padded.sum())
    if not n_pad:
        return df, []
    st = text.where(~padded, text[padded].map(str.rstrip))
    out = df.copy()
    out[col] = _text_series(st.tolist(), out.index).array
    return out, [f"table {table!r}, column {col!r}: trailing blanks stripped from {_rows(n_pad)}"]


def check_join_keys(left: pd.DataFrame, left_col: str, left_table: str, right: pd.DataFrame, right_col: str,
                    right_table: str, *, kind: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Make the key columns of two frames about to be joined the same kind, or refuse naming both tables.

    ``kind``: the declared kind of the key (``"int"`` or ``"str"``); when the two sides differ (text
    ``"123"`` in one frame, the number 123 in the other) both are cast to it when every value converts,
    with a note. Blanks padding text keys are stripped (noted). Otherwise :class:`~leokit.errors.SchemaError`
    names both tables and the column. Returns ``(left, right, notes)``.
    """
    left, notes = strip_key_padding(left, left_col, left_table)
    right, n = strip_key_padding(right, right_col, right_table)
    notes += n
    kl, kr = _key_kind(left[left_col]), _key_kind(right[right_col])
    if "empty" in (kl, kr) or kl == kr:
        return left, right, notes
    target = kind or ("str" if "text" in (kl, kr) else None)
    if target in ("int", "str") and {kl, kr} == {"number", "text"}:
        col = _schema.Column(left_col, target)
        fixed = {}
        for side, df, c, tab in (("left", left, left_col, left_table), ("right", right, right_col, right_table)):
            s, n = _normalise_column(tab, df[c], _schema.Column(c, target), True)
            if _key_kind(s) != ("number" if target == "int" else "text"):
                break
            fixed[side] = (s, n)
        else:
            out = []
            for side, df, c in (("left", left, left_col), ("right", right, right_col)):
                s, n = fixed[side]
                if n:
                    df = df.copy()
                    df[c] = s.to_numpy() if not isinstance(s.dtype, pd.StringDtype) else s.array
                    notes += [x + " (to match the other table of the join)" for x in n]
                out.append(df)
            del col
            return out[0], out[1], notes
    raise SchemaError(left_table, [Problem(
        left_table, left_col, f"the same kind as {right_col!r} of {right_table!r} ({kr}, dtype {right[right_col].dtype})",
        f"{kl} (dtype {left[left_col].dtype}); the join would match nothing - convert one side first "
        "(e.g. .astype(str) or pd.to_numeric)", "kind")])
