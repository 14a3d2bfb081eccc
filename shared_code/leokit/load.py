"""Load and validate tables; stack and de-duplicate the NPD census and KS4 tables.

Loading
-------
``load_table(name, data_dir=None)`` reads ``<name>.parquet`` from anywhere under the data folder
(default: the committed ``data_synthetic/``; override with ``data_dir=`` or the environment
variable ``LEOKIT_DATA_DIR``; see :mod:`leokit.paths`) and validates it against the declared
schema in :mod:`leokit.schema`. ``validate(df, name)`` validates an in-memory frame, e.g. a real
SRS table pulled through SQL. ``list_tables()`` lists what is there.

Parquet -> pandas conversion rules (explicit, identical on pandas 2.2 and 3.x; pandas metadata in
the file is ignored so the writer's dtypes never leak in):

* integer columns without missing values -> their integer dtype; **with missing values -> float64**
  (NaN for missing; every non-missing value is whole). This is also what SQL Server + pyodbc
  give, so code written against the synthetic data runs on the real data.
* text -> pandas' default string handling: ``object`` holding ``str`` on pandas 2.x, the ``str``
  dtype on pandas 3 (the validator accepts both).
* ``date32``/``date64``/timestamps -> ``datetime64[ns]`` (never Python ``date`` objects).
* boolean (SQL Server ``bit``) -> int64 0/1, or float64 0/1/NaN with missing values.
* decimal -> float64.  dictionary-encoded (categorical) -> its value type.
* index columns written by pandas (``__index_level_0__``) are dropped.

Validation (``SchemaError`` collects every problem, one line each naming table and column):

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

Census and KS4 helpers
----------------------
``stack_census`` (wide, year-suffixed census tables -> one long table with harmonised names),
``dedup_census``, ``stack_ks4`` and ``dedup_ks4``. Like every helper in the package they return
the frame, or ``(frame, report)`` with ``report=True`` (see :mod:`leokit.errors`).
"""

from __future__ import annotations

import difflib
import re
import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leokit import schema as _schema
from leokit.errors import (DropReport, Problem, Report, SchemaError, TableNotFoundError, did_you_mean, log_report,
                           numeric_values)
from leokit.paths import database_of_path, find_table_file, table_files

__all__ = [
    "load_table",
    "validate",
    "match_case",
    "list_tables",
    "arrow_to_pandas",
    "schema_for",
    "census_tables",
    "stack_census",
    "dedup_census",
    "stack_ks4",
    "dedup_ks4",
    "stack_hesa",
    "KS4_TABLES",
    "IDACI_VINTAGES",
]

KS4_TABLES = {"pre2015": "KS4Pupil_2002_to_2014", "post2015": "KS4Pupil_2015_to_2021"}

_MAX_EXAMPLES = 3


# ----------------------------------------------------------------------------------------------
# Schema look-up with near matches
# ----------------------------------------------------------------------------------------------
def _known_names() -> list[str]:
    names = list(_schema.registered_schemas())
    names += [_schema.census_table_name(y) for y in range(2002, _schema.LAST_ACADEMIC_YEAR + 1)]
    names += [f"hesa_{y}" for y in range(2005, _schema.LAST_ACADEMIC_YEAR + 1)]
    return names


def schema_for(name: str) -> _schema.TableSchema:
    """The declared schema of ``name``; unknown names raise TableNotFoundError with near matches."""
    try:
        return _schema.get_schema(name)
    except KeyError:
        known = _known_names()
        near = [k for k in known if k.lower() == str(name).lower()]
        near += [k for k in difflib.get_close_matches(str(name), known, n=5, cutoff=0.6) if k not in near]
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise TableNotFoundError(
            str(name),
            f"table {name!r}: no declared schema in leokit.schema{hint} "
            "(year families: plasc_2002..2005, spring_census_2006..2021, hesa_2005..2021)",
        ) from None


# ----------------------------------------------------------------------------------------------
# Parquet -> pandas
# ----------------------------------------------------------------------------------------------
def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert a pyarrow Table with the kit's explicit rules (see the module docstring)."""
    cols = {}
    for fld, arr in zip(table.schema, table.columns):
        t = fld.type
        if fld.name.startswith("__index_level_"):
            continue
        if pa.types.is_dictionary(t):
            arr = arr.cast(t.value_type)
            t = t.value_type
        if pa.types.is_decimal(t):
            arr = arr.cast(pa.float64())
        elif pa.types.is_boolean(t):
            arr = arr.cast(pa.int64())  # nulls kept; to_pandas turns int-with-nulls into float64
        elif pa.types.is_date(t):
            arr = arr.cast(pa.timestamp("ms"))  # date -> timestamp, then datetime64[ns] below
        cols[fld.name] = arr
    t2 = pa.table(cols) if cols else pa.table({})
    df = t2.to_pandas(date_as_object=False, ignore_metadata=True)
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c].dtype) and str(df[c].dtype) != "datetime64[ns]":
            if getattr(df[c].dtype, "tz", None) is not None:
                continue  # tz-aware: left for the validator to report
            try:
                df[c] = df[c].astype("datetime64[ns]")
            except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
                pass  # left as is; validate reports values out of the declared range
    return df


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# Loading and listing
# ----------------------------------------------------------------------------------------------
def load_table(
    name: str,
    data_dir=None,
    *,
    columns: Sequence[str] | None = None,
    validate: bool = True,  # noqa: A002 - the natural name for learners
    extra: str = "error",
) -> pd.DataFrame:
    """Read table ``name`` (the Parquet file's stem) and validate it against its declared schema.

    ``name`` may be schema-qualified, ``"leo_i2.leo_earnings"`` (only ``leo_i2/`` is searched).
    ``data_dir``: folder to search (any depth; default :func:`leokit.paths.default_data_dir`).
    ``columns``: read only these columns (then absent declared columns are not an error).
    ``validate=False`` skips validation (also the only way to read a table with no declared
    schema, except the synthetic-only ``truth_*`` answer-key tables, which have no declared schema
    and are always read without validation). ``extra``: see :func:`validate`.

    Returns a pandas DataFrame (conversion rules in the module docstring). Raises
    :class:`~leokit.errors.TableNotFoundError` (no such file / ambiguous name / no schema) or
    :class:`~leokit.errors.SchemaError` (the data break the schema).
    """
    qualified = name
    name = name.partition(".")[2] if "." in name else name  # "leo_i2.leo_earnings" -> "leo_earnings"
    if validate and name.startswith("truth_"):
        try:
            _schema.get_schema(name)
        except KeyError:
            validate = False  # truth_* answer keys are synthetic-only and typed by the generator
    if validate:
        schema_for(name)  # an unknown table name: error with near matches
    path = find_table_file(qualified, data_dir)
    try:
        if columns is not None:
            have = pq.read_schema(path).names if path.is_file() else None
            if have is not None:
                missing = [c for c in columns if c not in have]
                if missing:
                    raise SchemaError(name, [Problem(name, c, "a column of this name", "no such column in the file"
                                                     + (f" (did you mean {h!r}?)" if (h := _hint_for_missing(c, have)) else ""),
                                                     "missing") for c in missing])
        table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    except (pa.ArrowInvalid, OSError) as e:
        raise SchemaError(name, [Problem(name, None, "a readable Parquet file", f"{type(e).__name__}: {e}", "read")]) from e
    df = arrow_to_pandas(table)
    if validate:
        _validate_fn(df, name, extra=extra, require_all=columns is None)
    return df


_validate_fn = validate


def list_tables(data_dir=None, *, details: bool = False):
    """Sorted list of the table names (Parquet stems) under the data folder.

    ``details=True`` returns a DataFrame instead: name, database (the subfolder, else the schema's
    database), path, rows (from the Parquet footer), declared (whether a schema exists),
    ambiguous (the stem occurs more than once).
    """
    files = table_files(data_dir)
    if not details:
        return sorted(files)
    rows = []
    for stem, paths in files.items():
        for p in paths:
            db = database_of_path(p, data_dir)
            try:
                declared = True
                sch_db = _schema.get_schema(stem).database
            except KeyError:
                declared, sch_db = False, None
            try:
                n = (pq.ParquetFile(p).metadata.num_rows if p.is_file()
                     else sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(p.rglob("*.parquet"))))
            except Exception:  # unreadable file: listed with rows = -1
                n = -1
            rows.append({"name": stem, "database": db or sch_db, "path": str(p), "rows": n,
                         "declared": declared, "ambiguous": len(paths) > 1})
    return pd.DataFrame(rows, columns=["name", "database", "path", "rows", "declared", "ambiguous"])


# ----------------------------------------------------------------------------------------------
# Census: stacking the wide year-suffixed tables
# ----------------------------------------------------------------------------------------------
_CENSUS_RE = re.compile(r"^(?:plasc|spring_census)_(\d{4})$")

#: IDACI column (after the term/year suffix is stripped) -> vintage of the index it carries.
#: The unsuffixed ``IDACIScore`` is labelled '2007' (IDACI 2007, used by the census from the late
#: 2000s to 2014/15); INFERRED: censuses before ~2008 may carry the 2004 vintage under the same name.
IDACI_VINTAGES = {"": "2007", "_10": "2010", "_15": "2015"}

#: Old census names -> the names the schema declares (drift in the real tables [FFT; VRF]).
_CENSUS_RENAMES = {"EthnicGroup": "EthnicGroupMinor", "LSOA01": "LLSOA"}


def census_tables(data_dir=None) -> dict[int, str]:
    """Census tables present under the data folder: {academic year end: table name}."""
    out = {}
    for stem in table_files(data_dir):
        m = _CENSUS_RE.match(stem)
        if m:
            out[int(m.group(1))] = stem
    return dict(sorted(out.items()))


def _census_base_names() -> dict[str, str]:
    """lower-case base name -> canonical base name, over every census year's declared columns."""
    out: dict[str, str] = {}
    for y in range(2002, _schema.LAST_ACADEMIC_YEAR + 1):
        sfx = _schema.census_suffix(y)
        for c in _schema.census_schema(y).column_names:
            base = c[: -len(sfx)]
            out.setdefault(base.lower(), base)
    for old, new in _CENSUS_RENAMES.items():
        out.setdefault(old.lower(), old)
    return out


def _strip_census_suffix(col: str, year: int) -> str:
    yy = f"{year % 100:02d}"
    m = re.match(rf"^(.*)_(?:spr|sum|aut)?{yy}$", col, flags=re.I)
    return m.group(1) if m else col


def _harmonise_census(df: pd.DataFrame, year: int, base_names: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    ren = {}
    for c in df.columns:
        base = _strip_census_suffix(str(c), year)
        base = base_names.get(base.lower(), base)
        base = _CENSUS_RENAMES.get(base, base)
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

    Harmonisation, per table:

    * the term/year suffix is stripped (``_spr11``, ``_sum11``, ``_aut11``; PLASC ``_03``), names
      are matched case-insensitively to the declared names (real column names are often
      lower-case), and old names renamed (``EthnicGroup`` -> ``EthnicGroupMinor``, ``LSOA01`` ->
      ``LLSOA``);
    * ``IDACIScore`` / ``IDACIScore_10`` / ``IDACIScore_15`` -> ``idaci_score`` (and the ranks ->
      ``idaci_rank``) plus ``idaci_vintage`` '2007' / '2010' / '2015', inferred from the column
      name (see :data:`IDACI_VINTAGES`; missing where the score is missing);
    * ``LLSOA`` (2001 LSOA, to 2011/12) / ``LSOA11`` (2011 LSOA, from 2012/13) -> ``lsoa_original``
      (the value as recorded), ``lsoa_vintage`` ('2001'/'2011') and ``lsoa11cd``: the value itself
      for 2011 codes; with ``map_lsoa=True`` (default) 2001 codes are mapped through the public table
      ``lsoa01_lsoa11_lookup`` (or ``lsoa_lookup=``) by :func:`leokit.context.map_lsoa01_to_lsoa11`
      (split 2001 LSOAs -> the smallest 2011 code, flagged in ``lsoa11_ambiguous``);
    * ``census_year`` (int, the calendar year in which the academic year ends) is added.

    ``columns``: keep only these harmonised columns (plus census_year and the derived ones).
    Returns the long frame (row order: by year, then as in each table); ``report=True`` returns
    ``(frame, DropReport)`` (no rows are dropped: the report counts rows per year, the renames and
    the LSOA mapping).
    """
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
    base_names = _census_base_names()
    frames = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for y in years:
        name = _schema.census_table_name(y)
        if tables is not None:
            df = match_case(tables[y], name)
            if validate:
                _validate_fn(df, name, extra="ignore", require_all=False)
        else:
            df = load_table(avail[y], data_dir, validate=validate)
        h, renamed = _harmonise_census(df, y, base_names)
        h.insert(0, "census_year", np.int64(y))
        if columns is not None:
            want = set(columns)
            if "idaci_score" in want or "idaci_rank" in want:
                want.add("idaci_vintage")
            if want & {"lsoa_original", "lsoa_vintage", "lsoa11cd", "lsoa11_ambiguous"}:
                want |= {"lsoa_original", "lsoa_vintage"}
            h = h[["census_year"] + [c for c in h.columns if c in want and c != "census_year"]]
        frames.append(h)
        counts[f"rows {name}"] = len(h)
        notes.append(f"{name}: {len(renamed)} columns renamed")
    long = pd.concat(frames, ignore_index=True, sort=False)
    if "lsoa_original" in long.columns:
        # 2011 codes are already 2011 LSOAs; only 2001 codes need the lookup (map_lsoa=True).
        long["lsoa11cd"] = long["lsoa_original"].where(long["lsoa_vintage"].eq("2011").fillna(False))
    if map_lsoa and "lsoa_original" in long.columns:
        from leokit.context import map_lsoa01_to_lsoa11  # lazy: context imports this module

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
    log_report(rep)
    return (long, rep) if report else long


def _finish(df: pd.DataFrame, rep: Report, report: bool):
    log_report(rep)
    return (df, rep) if report else df


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
    main = d["RecordStatus"].isin(list(main_codes))
    dropped[f"RecordStatus not in {tuple(main_codes)} (not a main record)"] = int((~main).sum())
    d = d[main]
    order = d.assign(_pos=np.arange(len(d)))
    sort_cols, asc = [pupil, year], [True, True]
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
    return _finish(out, rep, report)


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
            df = match_case(tables[regime], name)
            if validate:
                _validate_fn(df, name, extra="ignore", require_all=False)
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
    return _finish(out, rep, report)


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
    return _finish(out, rep, report)


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
    elsewhere. ``tables={year: frame}`` stacks in-memory frames. No rows are dropped.
    """
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
            df = match_case(tables[y], f"hesa_{y}").copy()
            if validate:
                _validate_fn(df, f"hesa_{y}", extra="ignore", require_all=False)
        else:
            df = load_table(avail[y], data_dir, validate=validate)
        df.insert(0, "hesa_year", np.int64(y))
        frames.append(df)
        counts[f"rows hesa_{y}"] = len(df)
    out = pd.concat(frames, ignore_index=True, sort=False)
    rep = DropReport(name="stack_hesa", rows_in=len(out), rows_out=len(out), counts=counts)
    return _finish(out, rep, report)
