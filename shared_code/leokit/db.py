"""DuckDB access: every Parquet table as a SQL view, named like the SRS database it belongs to.

    >>> import leokit.db
    >>> con = leokit.db.connect()
    >>> con.sql("SELECT TaxYear, median(Earnings) FROM leo_i2.leo_earnings GROUP BY 1").df()
    >>> leokit.db.query("SELECT count(*) AS n FROM npd_i2.KS4Pupil_2002_to_2014")

Views
-----
Each Parquet file under the data folder becomes ``<schema>.<table>``: the schema is the file's
top-level subfolder (``data_synthetic/leo_i2/leo_earnings.parquet`` -> ``leo_i2.leo_earnings``),
or, for files at the top level, the database declared in :mod:`leokit.schema` (``npd_i2``,
``leo_i2``, ``hesa_i2``, ``lilr_i2``, ``ucas_i2``, ``public``, ``truth``), else ``main``.
Views read the files lazily, so connecting is cheap; DuckDB names are case-insensitive, as in
SQL Server.

The views give every column of a declared table its declared type (:mod:`leokit.schema`:
int, float, str, date) where the file stores a type the loader also accepts (integers stored as
whole floats, dates as timestamps ...). Float NaN values are turned into SQL NULLs (pandas treats
NaN as missing, SQL would not), so ``IS NULL``, ``count(col)`` and ``avg(col)`` behave as on SQL
Server. With ``connect(validate=False)`` a text column declared numeric is cast too, so
``median()`` or ``ORDER BY`` on it are numeric, not string-ordered, and a value that is not a
number stops the query with an error naming the table, the column and the value.

Validation
----------
``connect()`` (``validate=True``, the default) checks every table that has a declared schema as
:func:`leokit.load_table` does, and reports each problem with the loader's
:class:`~leokit.errors.SchemaError` and wording (``table 'leo_earnings', column 'Earnings':
expected values in [0, 10000000], found 1 row out of range (e.g. -250)``). The checks run in SQL,
as aggregate queries on each file (one scan for the column checks, one ``GROUP BY`` for the key),
so they run out of core on tables larger than memory:

* columns: missing, undeclared (``extra=`` as in :func:`leokit.validation.validate`) and repeated
  names - found by :func:`leokit.validation.validate` itself, on a zero-row frame;
* kinds, as the loader sees the file after its conversion (text declared numeric, integers
  declared text, timezone-aware dates, floats declared int that are not whole ...);
* missing values in non-nullable columns (NaN counts as missing), allowed codes (compared exactly:
  ``'f'`` and ``'F '`` are not ``'F'``), ranges (dates as dates: a 2090 date is out of range) and
  the declared unique key;
* one check the loader does not make: text key columns whose values end in a blank. SQL Server
  ignores trailing blanks when it compares text (``'A ' = 'A'``), so such keys would join
  differently in the SRS than here (check ``"blanks"``).

A table that fails to read (a truncated or damaged file, not Parquet at all, two files for one
table) or to validate does not stop :func:`connect`: its view keeps the table's columns but
raises the table's SchemaError when a query reads it (through the returned :class:`Connection`;
through the bare DuckDB connection the query stops with the same message), ``connect`` warns
once listing the broken tables, ``con.problems`` maps each to its error, and every other table
works. The census stack fails with its census tables rather than lose a year. A table with 0
rows is refused like any other broken table, as :func:`leokit.load_table` refuses it; with
``validate=False`` it is served and listed in one warning (``con.empty_tables``). Spells that end
before they start (the schema's ``ordered`` date pairs) are refused, as by the loader. The views do
not normalise: a text key padded with blanks or a code in lower case, which ``load_table`` repairs
with an :class:`~leokit.errors.InputChangedWarning`, is refused here (SQL Server compares such text
differently, so a silent repair here would not carry over to the SRS). Tables without a declared
schema (the undeclared ``truth_*`` answer keys, your own files) are read but not validated (``con.unchecked``).

Cost (measured on 2 cores shared with other jobs, so give or take a third): before validation
existed ``connect()`` took 0.16 s on ``data_synthetic/`` (61 tables, 1.8 million rows) and 0.18 s on
a 20,000-pupil data set (14.5 million rows); with ``validate=False`` it takes 0.25-0.4 s. With
validation the first ``connect()`` of a process takes about 3 s and 12 s (the pandas loader needs
2.9 s and 14 s to load and validate the same declared tables); the time grows with the number of
rows. The results are kept for the process, by file path, size and modification time: connecting
again to unchanged files (every :func:`query` call does) takes 0.2-0.4 s. ``validate=False`` skips
the data checks (each file must still be readable Parquet).

Names
-----
Every identifier in the SQL the module writes goes through one quoting function (``"..."``, with
``"`` doubled) and every literal through another (``'...'``, with ``'`` doubled); glob characters in
paths are escaped, so a folder named ``a*`` is read as itself. A folder or file name holding SQL
is therefore only a name: ``x"; CREATE TABLE pwn AS SELECT 1; --/leo_earnings.parquet`` is the
view ``"x""; CREATE TABLE pwn AS SELECT 1; --".leo_earnings``.

When the census tables are present, :func:`connect` also creates the view
``leokit.census_long``: the year-suffixed ``plasc_YYYY`` / ``spring_census_YYYY`` tables stacked
in SQL with harmonised column names, row for row and value for value what
:func:`leokit.stack.stack_census` returns in pandas (see :func:`census_long_sql`).

Mistakes get errors that say what to do: a table queried in the wrong schema
(``npd_i2.leo_earnings``) names the schema it is in, ``leo_earnings.parquet`` used as a table
name gets the view name, and an empty or missing data folder says what was expected.

Mapping to the SRS (SQL Server)
-------------------------------
:mod:`leokit.srs` gives the SQL Server name of a table (:func:`srs_name`) and translates a DuckDB
query written here into T-SQL for the SRS (:func:`to_srs_sql`); both are importable from here too.
"""

from __future__ import annotations

import datetime
import decimal
import difflib
import functools
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leokit import schema as _schema
from leokit.census import CENSUS_TABLE_PATTERN, census_base_names, census_columns_wanted, harmonise_census
from leokit.errors import DataFolderError, Problem, SchemaError, SRSTranslationError, UnknownTableError
from leokit.paths import ENV_VAR, resolve_data_dir, table_files
from leokit.read import arrow_to_pandas
from leokit.schema import SRS_DATABASES
from leokit.srs import PROJECT_ENV_VAR, TSQL_FUNCTIONS, srs_dialect, srs_name, srs_project, to_srs_sql
from leokit.validation import KIND_EXPECTED, range_expected, rows_problem, rows_text
from leokit.validation import validate as _validate

__all__ = ["connect", "query", "views", "srs_name", "to_srs_sql", "srs_project", "srs_dialect",
           "census_long_sql", "Connection", "DataFolderError", "SRSTranslationError", "SchemaError",
           "SRS_DATABASES", "SCHEMAS", "PROJECT_ENV_VAR", "CENSUS_VIEW", "TSQL_FUNCTIONS"]


# SRS_DATABASES (kit schema -> SQL Server database name in the SRS) is stated in leokit.schema, the SRS
# names and the T-SQL translation live in leokit.srs, the errors DataFolderError and SRSTranslationError in
# leokit.errors; all are re-exported here.
#: The schemas a connection may have (``leokit`` holds the kit's own views, e.g. the census stack).
SCHEMAS = ("npd_i2", "leo_i2", "hesa_i2", "lilr_i2", "ucas_i2", "public", "truth", "leokit")
#: The stacked census view that :func:`connect` creates when census tables are present.
CENSUS_VIEW = "leokit.census_long"


def _q(ident: str) -> str:
    """An identifier as SQL: ``"name"`` with every ``"`` doubled (the one quoting function for names)."""
    return '"' + str(ident).replace('"', '""') + '"'


def _lit(s: str) -> str:
    """A string literal as SQL: ``'text'`` with every ``'`` doubled (the one quoting function for text)."""
    return "'" + str(s).replace("'", "''") + "'"


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _name(ident: str) -> str:
    """An identifier as written when it is a plain name (keeps generated SQL readable), else :func:`_q`."""
    return ident if _PLAIN.fullmatch(ident) else _q(ident)


def _dotted(name: str) -> str:
    """A caller's ``schema.table`` (or ``db.schema.table``) name with each part through :func:`_name`."""
    return ".".join(_name(part) for part in str(name).split("."))


def _glob_escape(path: str) -> str:
    """``path`` with DuckDB's glob characters made literal (``*`` -> ``[*]``), so that a folder named
    ``a*`` is read as itself, never as a pattern matching other folders' files."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def _source(path: Path) -> str:
    """The path ``read_parquet`` is given: the file, or every Parquet file in a partitioned folder."""
    p = _glob_escape(str(path))
    return p + "/**/*.parquet" if path.is_dir() else p


def _schema_of(stem: str, path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    if len(rel.parts) > 1:
        return rel.parts[0]
    try:
        return _schema.get_schema(stem).database
    except KeyError:
        if stem.startswith("truth_"):
            return "truth"
        return "main"


def _view_rows(root: Path) -> tuple[pd.DataFrame, dict[tuple[str, str], list[Path]]]:
    """Every (schema, table, path) under ``root``, and the (schema, table) names held by more than one file."""
    rows = []
    for stem, paths in table_files(root).items():
        for p in paths:
            rows.append({"schema": _schema_of(stem, p, root), "table": stem, "path": str(p)})
    df = pd.DataFrame(rows, columns=["schema", "table", "path"])
    # the same stem twice in one schema (case-insensitive, as DuckDB) cannot be two views
    key = df["schema"].str.lower() + "." + df["table"].str.lower()
    dup = key.duplicated(keep=False)
    ambiguous: dict[tuple[str, str], list[Path]] = {}
    for k, grp in df[dup].groupby(key[dup], sort=True):
        ambiguous[(grp["schema"].iloc[0], grp["table"].iloc[0])] = [Path(x) for x in grp["path"]]
    return df[~dup].reset_index(drop=True), ambiguous


def views(data_dir=None) -> pd.DataFrame:
    """The views :func:`connect` would create: schema, table, path.

    A table name held by two files in one schema (case-insensitive) is left out here; :func:`connect`
    registers it as a broken table whose error lists the files.
    """
    return _view_rows(resolve_data_dir(data_dir))[0]


# ----------------------------------------------------------------------------------------------
# The data folder
# ----------------------------------------------------------------------------------------------
_EXPECTED = ("expected a folder of Parquet files, one per table, each in a subfolder named after its SRS "
             "database (e.g. npd_i2/KS4Pupil_2002_to_2014.parquet, leo_i2/leo_earnings.parquet). Use the kit's "
             "data_synthetic/ folder, or write one with `python -m leokit generate --out <folder>`, and pass "
             f"data_dir=<folder> or set {ENV_VAR}")


def _data_root(data_dir) -> Path:
    try:
        root = resolve_data_dir(data_dir)
    except FileNotFoundError as e:
        where = os.environ.get(ENV_VAR, "").strip()
        src = f" (from {ENV_VAR}={where!r})" if data_dir is None and where else ""
        raise DataFolderError(f"leokit.db.connect: {e}{src}; {_EXPECTED}") from None
    return root


def _no_tables_error(root: Path) -> DataFolderError:
    others = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    found = (f"it holds {len(others)} other file(s), e.g. {', '.join(others[:3])}" if others
             else "it is empty")
    return DataFolderError(f"leokit.db.connect: no Parquet tables in the data folder {str(root)!r}: {found}; "
                           f"{_EXPECTED}")


# ----------------------------------------------------------------------------------------------
# Typed views
# ----------------------------------------------------------------------------------------------
_DUCK_TYPE = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR", "date": "DATE"}


def _family(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_dictionary(t):
        return _family(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", bool)(t):
        return "str"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_null(t):
        return "null"
    return "other"


def _read_schema(path: Path) -> tuple[pa.Schema | None, str | None]:
    """(the file's Arrow schema, None), or (None, what went wrong) for a file that is not readable Parquet."""
    try:
        return (pq.ParquetDataset(path).schema if path.is_dir() else pq.read_schema(path)), None
    except (pa.ArrowException, OSError) as e:  # the loader's wording (leokit.read.load_table)
        return None, f"{type(e).__name__}: {e}"


def _index_column(name: str) -> bool:
    """A pandas index written into the file (``__index_level_0__``): the loader drops it, so do the views."""
    return name.startswith("__index_level_")


def _declared_kinds(stem: str, columns: Iterable[str]) -> dict[str, str]:
    """File column -> declared kind, matching names ignoring case (SQL Server names are case-insensitive)."""
    try:
        sch = _schema.get_schema(stem)
    except KeyError:
        return {}
    kinds = {c.name.lower(): c.kind for c in sch.columns}
    return {c: kinds[c.lower()] for c in columns if c.lower() in kinds}


def _typed_column(view: str, col: str, stored: str, stored_type: str, kind: str) -> str | None:
    """SQL expression giving ``col`` its declared ``kind``, or None when it already has it.

    Casts that could lose information are guarded: a value that does not convert stops the query
    with ``error()`` naming the view, the column, the value and the declared kind.
    """
    c = _q(col)
    target = _DUCK_TYPE[kind]

    def guarded(bad: str, good: str, what: str) -> str:
        head = _lit(f"{view}, column {col}: value '")
        tail = _lit(f"' is not {what} (leokit.schema declares {kind}; the file stores {stored_type}): "
                    "fix the file or the schema")
        return (f"CASE WHEN {c} IS NULL THEN NULL WHEN {bad} THEN error({head} || CAST({c} AS VARCHAR) || {tail}) "
                f"ELSE {good} END")

    if stored == kind or (kind == "float" and stored == "float"):
        return None
    if stored == "null":
        return f"CAST({c} AS {target})"
    if kind == "int":
        if stored == "str":
            return guarded(f"NOT regexp_full_match(trim({c}), '[+-]?[0-9]+')", f"CAST(trim({c}) AS BIGINT)",
                           "an integer")
        if stored in ("float", "decimal"):
            # NaN -> NULL first (DuckDB treats NaN = NaN as true, so NULLIF finds it)
            v = f"NULLIF({c}, CAST('NaN' AS DOUBLE))" if stored == "float" else c
            return guarded(f"{v} <> trunc({v})", f"CAST({v} AS BIGINT)", "a whole number").replace(
                f"WHEN {c} IS NULL", f"WHEN {v} IS NULL", 1)
        if stored == "bool":
            return f"CAST({c} AS BIGINT)"
    if kind == "float":
        if stored in ("int", "decimal", "bool"):
            return f"CAST({c} AS DOUBLE)"
        if stored == "str":
            return guarded(f"TRY_CAST(trim({c}) AS DOUBLE) IS NULL", f"CAST(trim({c}) AS DOUBLE)", "a number")
    if kind == "str":
        return f"CAST({c} AS VARCHAR)"
    if kind == "date":
        if stored == "timestamp":
            return f"CAST({c} AS DATE)"
        if stored == "str":
            return guarded(f"TRY_CAST(trim({c}) AS DATE) IS NULL", f"CAST(trim({c}) AS DATE)",
                           "a date (yyyy-mm-dd)")
    # no safe conversion (e.g. an integer column declared a date): refuse every non-missing value
    return guarded("TRUE", f"CAST(NULL AS {target})", f"convertible to {kind}")


def _view_sql(schema: str, table: str, path: Path, sch: pa.Schema | None,
              nan_option: bool = False) -> tuple[str, list[str]]:
    """CREATE VIEW statement and the columns it casts to their declared kind."""
    options = ""
    if nan_option and sch is not None and any(_family(f.type) == "float" for f in sch):
        # DuckDB trusts Parquet min/max statistics, which leave NaN out, and may then decide that a
        # float column holds no NaN (isnan() folded to false: duckdb/duckdb#25521). Tell it they can.
        options = ", can_have_nan = true"
    exprs, cast, drop = [], [], []
    if sch is not None:
        drop = [f.name for f in sch if _index_column(f.name)]
        kinds = _declared_kinds(table, sch.names)
        view = f"{schema}.{table}"
        for f in sch:
            if _index_column(f.name):
                continue
            fam = _family(f.type)
            expr = None
            if f.name in kinds:
                expr = _typed_column(view, f.name, fam, str(f.type), kinds[f.name])
                if expr is not None:
                    cast.append(f.name)
            if expr is None and fam == "float":
                # Parquet float columns may store NaN for missing values; pandas reads NaN as missing but
                # SQL does not (NaN IS NOT NULL, avg() of NaN is NaN): make them SQL NULLs.
                expr = f"CASE WHEN isnan({_q(f.name)}) THEN NULL ELSE {_q(f.name)} END"
            if expr is not None:
                exprs.append(f"{expr} AS {_q(f.name)}")
    exclude = f" EXCLUDE ({', '.join(_q(c) for c in drop)})" if drop else ""
    replace = f" REPLACE ({', '.join(exprs)})" if exprs else ""
    return (f"CREATE OR REPLACE VIEW {_q(schema)}.{_q(table)} AS "
            f"SELECT *{exclude}{replace} FROM {_read_sql(path, options)}"), cast


def _read_sql(path: Path, options: str = "") -> str:
    """``read_parquet(...)`` of one table's file(s), the path a quoted literal with glob characters escaped."""
    return f"read_parquet({_lit(_source(path))}{options})"


def _has_nan_option(con) -> bool:
    """Whether this DuckDB has the Parquet ``can_have_nan`` option (older versions assume NaN anyway)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_settings() WHERE name = 'parquet_can_have_nan'")
                .fetchall()[0][0])


# ----------------------------------------------------------------------------------------------
# Validation in SQL: the loader's checks (leokit.validation.validate) as aggregate queries
# ----------------------------------------------------------------------------------------------
# The structural checks (missing, extra and repeated column names, with the loader's "did you mean" hints)
# are leokit.validation.validate itself, run on a zero-row frame with the file's column names. The value
# checks are repeated here in SQL, because they must run where the data are (out of core): the wording of
# each Problem is the loader's: the "expected" texts and row counts come from leokit.validation
# (KIND_EXPECTED, range_expected, rows_text); only the rendering of SQL values as examples is done here.
#: The checks made here on the data; every other problem validate() finds on the zero-row frame (missing,
#: extra, duplicate-name, and any check added to it later) is kept as it is.
_DATA_CHECKS = ("kind", "null", "values", "range", "key", "order", "rows")
_MAX_EXAMPLES = 3
#: Validation results of this process, by file (path, size, modification time) and options: connecting
#: again to unchanged files (e.g. every :func:`query`) does not scan them again.
_CHECKED: dict[tuple, tuple[list[Problem], int]] = {}
_CHECKED_MAX = 1024


def _example(v) -> str:
    """One value as the loader shows it (whole floats as ints, dates as ISO text)."""
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    elif isinstance(v, datetime.datetime):
        midnight = v.hour == v.minute == v.second == v.microsecond == 0
        v = v.date().isoformat() if midnight and v.tzinfo is None else v.isoformat()
    elif isinstance(v, datetime.date):
        v = v.isoformat()
    return repr(v)


def _missing_example(kind: str) -> str:
    """How the loader shows a missing key value: NaN in numeric and (pandas 3) text columns, NaT in dates."""
    if kind == "date":
        return "NaT"
    if kind == "str" and pd.api.types.is_object_dtype(pd.Series(["a", None]).dtype):
        return "None"  # pandas 2: text is object dtype, missing text stays None
    return "nan"


def _examples(values) -> str:
    return ", ".join(_example(v) for v in list(values)[:_MAX_EXAMPLES])


def _pandas_dtype(field: pa.Field) -> str:
    """The dtype the loader gives this Parquet column (leokit.read.arrow_to_pandas), for the messages."""
    try:
        return str(arrow_to_pandas(pa.schema([field]).empty_table()).dtypes.iloc[0])
    except (pa.ArrowException, ValueError, TypeError, IndexError):
        return str(field.type)


def _kind_status(field: pa.Field, kind: str) -> tuple[str, str | None]:
    """Whether a Parquet column has the declared kind as the loader sees it after its conversion.

    ``("ok", None)``, ``("whole", None)`` (a float or decimal column declared int: its values must be
    whole, checked on the data) or ``("bad", what was found)``.
    """
    t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    fam = _family(t)
    if fam == "null":  # an all-missing column has no wrong values (as in the loader)
        return "ok", None
    ok = {"int": ("int", "bool"), "float": ("int", "bool", "float", "decimal"), "str": ("str",),
          "date": ("date",)}[kind]
    if fam in ok or (kind == "date" and fam == "timestamp" and t.tz is None):
        return "ok", None
    if kind == "int" and fam in ("float", "decimal"):
        return "whole", None
    dt = _pandas_dtype(field)
    if kind == "date" and fam == "timestamp":
        return "bad", f"dtype {dt} (timezone-aware; use .dt.tz_localize(None))"
    return "bad", f"dtype {dt}"


def _value_sql(col: str, field: pa.Field) -> str:
    """The column's values as the loader holds them: float NaN missing, decimals as floats, booleans as 0/1."""
    t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    fam, c = _family(t), _q(col)
    if fam == "float":
        return f"NULLIF({c}, CAST('NaN' AS DOUBLE))"  # DuckDB: NaN = NaN, so NULLIF finds it
    if fam == "decimal":
        return f"CAST({c} AS DOUBLE)"
    if fam == "bool":
        return f"CAST({c} AS BIGINT)"
    return c


def _num(x) -> str:
    return f"CAST({float(x)!r} AS DOUBLE)"


def _structural_problems(ts: _schema.TableSchema, names: list[str], extra: str) -> list[Problem]:
    """Missing, extra and repeated column names: leokit.validation.validate on a zero-row frame."""
    try:
        _validate(pd.DataFrame(columns=names), ts.name, extra=extra)
    except SchemaError as e:
        return [p for p in e.problems if p.check not in _DATA_CHECKS]
    return []


def _check_table(con, ts: _schema.TableSchema, src: str, sch: pa.Schema, extra: str,
                 ordered: str | None = None) -> tuple[list[Problem], int]:
    """Every problem ``leokit.load_table`` would raise for this file, found with aggregate queries on ``src``
    (a ``read_parquet(...)`` expression); and the number of rows. Memory does not grow with the table.

    ``ordered``: ``src`` read with ``file_row_number``, so that examples come in file order as the
    loader shows them (None: examples sorted)."""
    table = ts.name
    fields = [f for f in sch if not _index_column(f.name)]
    names = [f.name for f in fields]
    problems = _structural_problems(ts, names, extra)
    if "file_row_number" in names:
        ordered = None
    repeated = {n for n in names if names.count(n) > 1}
    by_name = {f.name: f for f in fields if f.name not in repeated}
    key = set(ts.key or ())
    per_col: dict[str, list[Problem]] = {}
    status: dict[str, str] = {}
    checks: list[tuple[str, str, str, str]] = []  # (column, check, "bad row" condition, value expression)
    for col in ts.columns:
        f = by_name.get(col.name)
        if f is None:
            continue
        state, found = _kind_status(f, col.kind)
        status[col.name] = state
        per_col[col.name] = []
        if state == "bad":
            per_col[col.name] = [Problem(table, col.name, KIND_EXPECTED[col.kind], found, "kind")]
            if _family(f.type) in ("int", "bool"):  # with missing values the loader holds them as float64
                checks.append((col.name, "kind-null", f"{_q(col.name)} IS NULL", _q(col.name)))
            elif _family(f.type) == "str" and col.kind in ("int", "float"):  # the loader counts the non-numbers
                q = _q(col.name)
                checks.append((col.name, "kind-text", f"{q} IS NOT NULL AND TRY_CAST({q} AS DOUBLE) IS NULL", q))
            continue
        v = _value_sql(col.name, f)
        if state == "whole":
            checks.append((col.name, "whole", f"{v} IS NOT NULL AND (isinf({v}) OR {v} <> trunc({v}))", v))
        if not col.nullable:
            checks.append((col.name, "null", f"{v} IS NULL", v))
        if col.values is not None:
            if col.kind in ("int", "float"):
                allowed = ", ".join(_num(x) for x in col.values)
                checks.append((col.name, "values", f"{v} IS NOT NULL AND CAST({v} AS DOUBLE) NOT IN ({allowed})", v))
            else:  # text codes compare exactly, as pandas' isin: 'f' or 'F ' is not 'F'
                allowed = ", ".join(_lit(x) for x in col.values if isinstance(x, str))
                bad = f"{v} NOT IN ({allowed})" if allowed else "TRUE"
                checks.append((col.name, "values", f"{v} IS NOT NULL AND {bad}", v))
        if (col.min is not None or col.max is not None) and col.kind in ("int", "float", "date"):
            if col.kind == "date":
                x, lo, hi = f"CAST({v} AS TIMESTAMP)", col.min and f"CAST({_lit(col.min)} AS TIMESTAMP)", \
                    col.max and f"CAST({_lit(col.max)} AS TIMESTAMP)"
            else:
                x = f"CAST({v} AS DOUBLE)"
                lo = _num(col.min) if col.min is not None else None
                hi = _num(col.max) if col.max is not None else None
            out = " OR ".join([f"{x} < {lo}"] * (lo is not None) + [f"{x} > {hi}"] * (hi is not None))
            checks.append((col.name, "range", f"{v} IS NOT NULL AND ({out})", v))
        if col.name in key and col.kind == "str" and col.values is None:  # (a code list refuses 'A ' already)
            # SQL Server ignores trailing blanks when it compares text ('A ' = 'A'): such a key would join
            # differently in the SRS than here, so it is refused (the loader's str check lets it pass).
            checks.append((col.name, "blanks", f"{v} LIKE '% '", v))
    agg = ", ".join(["count(*)"] + [f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in checks])
    try:
        counts = con.execute(f"SELECT {agg} FROM {src}").fetchone()
        n_rows = int(counts[0])
        for (name, check, cond, v), n in zip(checks, counts[1:]):
            if check == "kind-null":
                if n:
                    p = per_col[name][0]
                    per_col[name] = [Problem(p.table, p.column, p.expected,
                                             re.sub(r"^dtype \S+", "dtype float64", p.found), p.check)]
                continue
            if check == "kind-text":
                p = per_col[name][0]
                if n:
                    pick = (f"SELECT {v} FROM {ordered} WHERE {cond} GROUP BY 1 ORDER BY min(file_row_number)"
                            if ordered else f"SELECT DISTINCT {v} FROM {src} WHERE {cond} ORDER BY 1")
                    ex = _examples(r[0] for r in con.execute(f"{pick} LIMIT {_MAX_EXAMPLES}").fetchall())
                    found = f"{p.found} with {rows_text(n)} of values that are not numbers (e.g. {ex})"
                else:
                    found = f"{p.found} (text holding numbers)"
                per_col[name] = [Problem(p.table, p.column, p.expected, found, p.check)]
                continue
            if not n or status.get(name) == "bad":
                continue
            col = ts.column(name)
            if check == "null":
                per_col[name].append(Problem(table, name, "no missing values (column is not nullable)",
                                             f"{rows_text(n)} with missing values", "null"))
                continue
            if check == "whole" or ordered is None:  # the loader sorts non-whole values (np.unique)
                ex_sql = f"SELECT DISTINCT {v} FROM {src} WHERE {cond} ORDER BY 1 LIMIT {_MAX_EXAMPLES}"
            else:  # the others in the order of the file (pd.unique)
                ex_sql = (f"SELECT {v} FROM {ordered} WHERE {cond} GROUP BY 1 ORDER BY min(file_row_number) "
                          f"LIMIT {_MAX_EXAMPLES}")
            ex = _examples(r[0] for r in con.execute(ex_sql).fetchall())
            if check == "whole":
                f = by_name[name]
                dt = _pandas_dtype(f)
                per_col[name] = [Problem(table, name, KIND_EXPECTED["int"],
                                         f"dtype {dt} with {rows_text(n)} of non-whole values (e.g. {ex})", "kind")]
                status[name] = "bad"
            elif check == "values":
                shown = list(col.values)
                allowed_s = ", ".join(repr(x) for x in shown[:15]) + (", ..." if len(shown) > 15 else "")
                per_col[name].append(Problem(table, name, f"values in {{{allowed_s}}}",
                                             f"{rows_text(n)} with other values (e.g. {ex})", "values"))
            elif check == "range":
                expected = range_expected(col)
                per_col[name].append(Problem(table, name, expected, f"{rows_text(n)} out of range (e.g. {ex})", "range"))
            elif check == "blanks":
                per_col[name].append(Problem(
                    table, name, "key text without trailing blanks (SQL Server ignores them when it compares "
                                 "text, so 'A' and 'A ' would be one key in the SRS)",
                    f"{rows_text(n)} ending in a blank (e.g. {ex})", "blanks"))
        key_problem = None
        if ts.key and all(status.get(k) in ("ok", "whole") for k in ts.key):
            cols = ", ".join(f"{_value_sql(k, by_name[k])} AS {_q(f'_k{i}')}" for i, k in enumerate(ts.key))
            group = ", ".join(_q(f"_k{i}") for i in range(len(ts.key)))
            dups = (f"SELECT {cols}, count(*) AS _n FROM {src} GROUP BY {group} HAVING count(*) > 1")
            n_keys, n_dup = con.execute(f"SELECT count(*), coalesce(sum(_n), 0) FROM ({dups})").fetchone()
            if n_keys:
                if ordered is None:
                    ex_sql = f"SELECT {group} FROM ({dups}) ORDER BY {group} LIMIT {_MAX_EXAMPLES}"
                else:
                    ex_sql = (f"SELECT {cols} FROM {ordered} GROUP BY {group} HAVING count(*) > 1 "
                              f"ORDER BY min(file_row_number) LIMIT {_MAX_EXAMPLES}")
                ex_rows = con.execute(ex_sql).fetchall()
                kinds = [ts.column(k).kind for k in ts.key]
                ex_s = "; ".join("(" + ", ".join(_missing_example(kd) if x is None else _example(x)
                                                 for x, kd in zip(r, kinds)) + ")" for r in ex_rows)
                key_problem = Problem(table, ", ".join(ts.key), f"unique key ({', '.join(ts.key)})",
                                      f"{rows_text(int(n_dup))} sharing {int(n_keys)} duplicated key value(s) (e.g. {ex_s})",
                                      "key")
        order_problems = []
        for start, end in getattr(ts, "ordered", ()):  # spells that end before they start (the loader's "order")
            if not all(status.get(c) == "ok" and ts.column(c).kind == "date"
                       and _family(by_name[c].type) in ("date", "timestamp")
                       for c in (start, end)):
                continue
            a, b = f"CAST({_q(start)} AS TIMESTAMP)", f"CAST({_q(end)} AS TIMESTAMP)"
            cond = f"{a} IS NOT NULL AND {b} IS NOT NULL AND {b} < {a}"
            n_bad = con.execute(f"SELECT count(*) FILTER (WHERE {cond}) FROM {src}").fetchone()[0]
            if n_bad:
                pick = (f"SELECT {a}, {b} FROM {ordered} WHERE {cond} ORDER BY file_row_number" if ordered
                        else f"SELECT {a}, {b} FROM {src} WHERE {cond}")
                ex = "; ".join(f"{_example(x)} -> {_example(y)}" for x, y in
                               con.execute(f"{pick} LIMIT {_MAX_EXAMPLES}").fetchall())
                order_problems.append(Problem(table, end, f"{end} on or after {start}",
                                              f"{rows_text(int(n_bad))} ending before they start (e.g. {ex})",
                                              "order"))
    except duckdb.Error as e:  # e.g. a file whose footer reads but whose data pages are damaged
        return [Problem(table, None, "a readable Parquet file", f"{type(e).__name__}: {e}", "read")], 0
    for col in ts.columns:
        problems += per_col.get(col.name, [])
    if key_problem is not None:
        problems.append(key_problem)
    problems += order_problems
    if n_rows == 0:  # as the loader: an empty table is refused (nothing to link or derive from it)
        problems.append(rows_problem(table))
    return problems, n_rows


def _file_state(path: Path) -> tuple:
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _check_table_cached(con, ts, path: Path, opts: str, sch: pa.Schema, extra: str) -> tuple[list[Problem], int]:
    try:
        key = (ts.name, _file_state(path), extra, str(sch))
    except OSError:
        key = None
    if key is not None and key in _CHECKED:
        problems, n = _CHECKED[key]
        return list(problems), n
    if not any(not _index_column(f.name) for f in sch):  # no columns at all: DuckDB cannot read it, nothing to scan
        return _structural_problems(ts, [], extra), _num_rows(path) or 0
    src = _read_sql(path, opts)
    ordered = None if path.is_dir() else _read_sql(path, opts + ", file_row_number = true")
    problems, n = _check_table(con, ts, src, sch, extra, ordered)
    if key is not None:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = (list(problems), n)
    return problems, n


def _num_rows(path: Path) -> int | None:
    try:
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (pa.ArrowException, OSError):
        return None


#: The message of a broken table's view starts so (the connection turns it back into the SchemaError).
_BROKEN = "leokit.db: the table {key} cannot be queried: "
#: Statements that read a table's columns, not its rows: allowed on a broken table (its view has the columns).
_METADATA = re.compile(r"\s*(DESCRIBE|SHOW)\b", flags=re.I)


def _broken_view(con, schema: str, table: str, columns: Sequence[tuple[str, str]], err: SchemaError) -> None:
    """A view that has the table's columns and, when read, stops the query with the table's error."""
    msg = _BROKEN.format(key=f"{schema}.{table}") + str(err)
    seen, cells = set(), []
    for name, typ in columns:
        if name.lower() not in seen:  # DuckDB names are case-insensitive
            seen.add(name.lower())
            cells.append(f"CAST(NULL AS {typ}) AS {_q(name)}")
    cells = cells or [f"CAST(NULL AS VARCHAR) AS {_q('unreadable')}"]
    con.execute(f"CREATE OR REPLACE VIEW {_q(schema)}.{_q(table)} AS SELECT {', '.join(cells)} "
                f"FROM range(1) WHERE error({_lit(msg)})")


def _broken_columns(ts: _schema.TableSchema | None, sch: pa.Schema | None) -> list[tuple[str, str]]:
    kinds = {c.name.lower(): c.kind for c in ts.columns} if ts is not None else {}
    if sch is None:
        return [(c.name, _DUCK_TYPE[c.kind]) for c in ts.columns] if ts is not None else []
    fam_type = {"int": "BIGINT", "bool": "BOOLEAN", "float": "DOUBLE", "decimal": "DOUBLE", "str": "VARCHAR",
                "date": "DATE", "timestamp": "TIMESTAMP"}
    out = []
    for f in sch:
        if _index_column(f.name):
            continue
        kind = kinds.get(f.name.lower())
        out.append((f.name, _DUCK_TYPE[kind] if kind else fam_type.get(_family(f.type), "VARCHAR")))
    return out


# ----------------------------------------------------------------------------------------------
# Connection
# ----------------------------------------------------------------------------------------------
class Connection:
    """A DuckDB connection to the kit's views (what :func:`connect` returns).

    It behaves as ``duckdb.DuckDBPyConnection`` (every attribute is passed on: ``execute``,
    ``sql``, ``query``, ``register``, ``close``, ``df`` ...; ``.raw`` is the DuckDB connection
    itself), and adds three things: errors about a table that is not there say where the table is
    (or which view a ``name.parquet`` file is); a query that reads a table that failed to read or to
    validate raises that table's :class:`~leokit.errors.SchemaError`; and attributes record what the
    views were made from:

    ``data_dir``; ``problems`` (``"schema.table"`` -> the SchemaError of each broken table, empty when
    all is well); ``validated`` (whether :func:`connect` checked the declared tables); ``unchecked``
    (views of tables with no declared schema, e.g. ``truth.*``: read, never validated);
    ``empty_tables`` (views with 0 rows); ``cast_columns`` (``"schema.table"`` -> columns the view casts
    to their declared type because the file stores another).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path | None = None,
                 cast_columns: dict[str, list[str]] | None = None, *,
                 problems: Mapping[str, SchemaError] | None = None, validated: bool = False,
                 unchecked: Sequence[str] = (), empty_tables: Sequence[str] = ()):
        self._con = con
        self.data_dir = data_dir
        #: ``"schema.table"`` -> columns the view casts to their declared type (the file stores another).
        self.cast_columns = cast_columns or {}
        #: ``"schema.table"`` -> the SchemaError of a table that failed to read or to validate.
        self.problems: dict[str, SchemaError] = dict(problems or {})
        self.validated = validated
        self.unchecked = list(unchecked)
        self.empty_tables = list(empty_tables)

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._con, name)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def __repr__(self) -> str:
        broken = f", {len(self.problems)} broken table(s)" if self.problems else ""
        return f"<leokit.db.Connection to {str(self.data_dir)!r}{broken}>"

    def _table_error(self, key: str) -> SchemaError:
        err = self.problems[key]
        return SchemaError(err.table, list(err.problems))

    def _refuse_broken(self, query: Any) -> None:
        """Raise the SchemaError of the first broken table ``query`` reads (CTE names are not tables)."""
        if not self.problems or not isinstance(query, str) or _METADATA.match(query):
            return
        broken = {k.lower(): k for k in self.problems}
        try:
            refs = _table_refs(query)
        except Exception:  # noqa: BLE001 - a query the parser chokes on: the broken view's own error() still stops it
            return
        for schema, table in refs:
            key = f"{schema or 'main'}.{table}".lower()
            if key in broken:
                raise self._table_error(broken[key])

    def _broken_from(self, error: Exception) -> SchemaError | None:
        msg = str(error)
        for key in self.problems:
            if _BROKEN.format(key=key) in msg:
                return self._table_error(key)
        return None

    def _run(self, method: str, query: Any, *args, **kwargs):
        self._refuse_broken(query)
        try:
            return getattr(self._con, method)(query, *args, **kwargs)
        except (duckdb.CatalogException, duckdb.IOException) as e:
            hint = _missing_table_hint(self._con, query, e) if isinstance(query, str) else None
            if hint:
                raise type(e)(f"{hint}\n(DuckDB: {e})") from e
            raise
        except duckdb.Error as e:  # a broken table read through another view (e.g. the census stack)
            err = self._broken_from(e)
            if err is not None:
                raise err from e
            raise

    def execute(self, query: Any, parameters: Any = None, *args, **kwargs):
        if parameters is None:
            return self._run("execute", query, *args, **kwargs)
        return self._run("execute", query, parameters, *args, **kwargs)

    def sql(self, query: Any, *args, **kwargs):
        return self._run("sql", query, *args, **kwargs)

    def query(self, query: Any, *args, **kwargs):
        return self._run("query", query, *args, **kwargs)

    def close(self) -> None:
        self._con.close()


def _existing_tables(con) -> list[tuple[str, str]]:
    cur = con.cursor()  # a connection of its own: the caller's may hold an unfinished result
    try:
        rows = cur.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    finally:
        cur.close()
    return [(str(s), str(t)) for s, t in rows]


def _table_refs(query: str) -> list[tuple[str | None, str]]:
    """(schema, table) references of a query (CTE names left out); ``leo_earnings.parquet`` -> (None, file)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        refs = []
        for st in sqlglot.parse(query, read="duckdb"):
            if st is None:
                continue
            ctes = {c.alias.lower() for c in st.find_all(exp.CTE)}
            for t in st.find_all(exp.Table):
                name, db = t.name, t.args.get("db")
                dbn = db.name if db is not None else None
                if name.lower() == "parquet" and dbn:  # leo_earnings.parquet -> schema 'leo_earnings', table 'parquet'
                    refs.append((None, f"{dbn}.parquet"))
                elif not (dbn is None and name.lower() in ctes):
                    refs.append((dbn, name))
        return refs
    except SqlglotError:  # not parseable by sqlglot: fall back to a pattern
        return [(m.group(1), m.group(2).strip('"'))
                for m in re.finditer(r'(?:from|join)\s+(?:(\w+)\.)?("?[\w.]+"?)', query, re.I)]


def _missing_table_hint(con, query: str, error: Exception) -> str | None:
    """A sentence saying where the table DuckDB could not find is, or None (then DuckDB's message stands)."""
    msg = str(error)
    file_m = re.search(r'No files found that match the pattern "([^"]+)"', msg)
    table_m = re.search(r'Table with name "?([^"\s!]+)"? does not exist', msg)
    schema_m = re.search(r'Schema with name "?([^"\s!]+)"? does not exist', msg)
    if not (file_m or table_m or schema_m):
        return None
    try:
        existing = _existing_tables(con)
    except duckdb.Error:  # the connection cannot list its tables: DuckDB's own message stands
        return None
    by_table: dict[str, list[str]] = {}
    for s, t in existing:
        by_table.setdefault(t.lower(), []).append(f"{s}.{t}")
    if file_m:
        stem = re.sub(r"\.parquet$", "", Path(file_m.group(1)).name, flags=re.I).rsplit(".", 1)[-1]
        where = by_table.get(stem.lower())
        if not where:
            return None
        return (f"{Path(file_m.group(1)).name!r} is a file name: in leokit.db every Parquet file is a view named "
                f"after its table; query {where[0]} instead (in the SRS it is a SQL Server table, not a file)")
    refs = _table_refs(query)
    if table_m:
        name = table_m.group(1)
        if "." in name:  # "foo.leo_earnings" does not exist because schema "foo" does not exist
            schema, name = name.rsplit(".", 1)
        else:
            schema = next((s for s, t in refs if t.lower() == name.lower()), None)
    else:
        schema = schema_m.group(1)
        name = next((t for s, t in refs if s is not None and s.lower() == schema.lower()), None)
        if name is None:
            return None
    where = by_table.get(name.lower())
    if where and schema is None:
        return (f"table {name!r} has no schema: leokit.db puts each table in the schema of its SRS database; "
                f"write {' or '.join(where)}")
    if where:
        return (f"table {name!r} is not in schema {schema!r}: it is {' and '.join(where)} "
                "(each table lives in the schema of its SRS database)")
    full = f"{schema}.{name}" if schema else name
    near = difflib.get_close_matches(full, [f"{s}.{t}" for s, t in existing], n=3, cutoff=0.6)
    near += [w for n in difflib.get_close_matches(name, [t for _, t in existing], n=3, cutoff=0.6)
             for w in by_table.get(n.lower(), []) if w not in near]
    if near:
        return f"no table {full!r} in the kit's views; did you mean {', '.join(near[:3])}?"
    return (f"no table {full!r} in the kit's views ({len(existing)} tables; list them with "
            "leokit.db.views() or SELECT * FROM information_schema.tables)")


def connect(data_dir=None, database: str = ":memory:", *, read_only: bool = False,
            census: bool = True, validate: bool = True, extra: str = "error") -> Connection:
    """A DuckDB connection with one view per Parquet table, in schemas named like the SRS databases.

    ``data_dir``: the data folder (default :func:`leokit.paths.default_data_dir`). A missing folder,
    or one without Parquet tables, raises :class:`DataFolderError` naming the folder and saying
    what was expected.
    ``database``: DuckDB database file, default in memory. Re-running on a file database replaces
    the views; ``read_only=True`` opens an existing file database as it is (no views are made, the
    data folder is not read and nothing is validated).
    ``census``: also create the view :data:`CENSUS_VIEW` (``leokit.census_long``) when census
    tables are present (see :func:`census_long_sql`).
    ``validate`` (default True): check every table that has a declared schema as
    :func:`leokit.load_table` does (see the module docstring, "Validation"); ``extra`` is passed on
    as in :func:`leokit.validation.validate` (``"error"``, ``"warn"``, ``"ignore"``).
    ``validate=False`` only checks that each file is readable Parquet.

    A table that fails is not an error of the connection: its view raises the table's
    :class:`~leokit.errors.SchemaError` when a query reads it, ``connect`` warns once listing the
    broken tables, and ``con.problems`` maps each to its error; every other table works. Tables
    with 0 rows are listed in one warning too (``con.empty_tables``).

    Columns of declared tables get their declared type (see the module docstring); schemas are
    created even when empty, so ``leo_i2.<table>`` errors name the table.
    """
    if extra not in ("error", "warn", "ignore"):
        raise ValueError(f"leokit.db.connect: extra must be 'error', 'warn' or 'ignore', not {extra!r}")
    if read_only:
        # a read-only file database keeps the views it was created with
        return Connection(duckdb.connect(database, read_only=True), None)
    root = _data_root(data_dir)
    found, ambiguous = _view_rows(root)
    if found.empty and not ambiguous:
        raise _no_tables_error(root)
    con = duckdb.connect(database, read_only=False)
    cast: dict[str, list[str]] = {}
    schemas: dict[tuple[str, str], pa.Schema | None] = {}
    problems: dict[str, SchemaError] = {}
    unchecked: list[str] = []
    empty: list[str] = []
    try:
        nan_option = _has_nan_option(con)
        opts = ", can_have_nan = true" if nan_option else ""
        for s in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(s)}")
        for (schema, table), paths in ambiguous.items():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
            rel = [str(p.relative_to(root)) for p in paths]
            err = SchemaError(table, [Problem(table, None, f"one Parquet file for table {schema}.{table}",
                                              f"{len(paths)} files: {rel} (names differ at most in letter case; "
                                              "remove one, or move it to the folder of its database)", "ambiguous")])
            ts = _declared(table)
            _broken_view(con, schema, table, _broken_columns(ts, None), err)
            problems[f"{schema}.{table}"] = err
            schemas[(schema, table)] = None
        for row in found.itertuples(index=False):
            key = f"{row.schema}.{row.table}"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(row.schema)}")
            path = Path(row.path)
            sch, read_error = _read_schema(path)
            ts = _declared(row.table)
            schemas[(row.schema, row.table)] = sch
            err = None
            if sch is None:
                err = SchemaError(row.table, [Problem(row.table, None, "a readable Parquet file", read_error, "read")])
            elif validate and ts is not None:
                probs, n = _check_table_cached(con, ts, path, opts, sch, extra)
                err = SchemaError(ts.name, probs) if probs else None
            else:
                n = _num_rows(path)
                if ts is None:
                    unchecked.append(key)
            if err is not None:
                _broken_view(con, row.schema, row.table, _broken_columns(ts, sch), err)
                problems[key] = err
                continue
            if n == 0:
                empty.append(key)
            stmt, cols = _view_sql(row.schema, row.table, path, sch, nan_option)
            con.execute(stmt)
            if cols:
                cast[key] = cols
        if census:
            names = {(s, t) for (s, t) in schemas if s == "npd_i2" and _CENSUS_RE.match(t)}
            broken = sorted(f"{s}.{t}" for s, t in names if f"{s}.{t}" in problems)
            tables = {int(m.group(1)): list(sch.names) for (s, t), sch in schemas.items()
                      if (s, t) in names and sch is not None and (m := _CENSUS_RE.match(t))}
            if broken:
                err = SchemaError(CENSUS_VIEW.split(".")[1], [p for k in broken for p in problems[k].problems])
                _broken_view(con, "leokit", "census_long", [("census_year", "BIGINT")], err)
                problems[CENSUS_VIEW] = err
            elif tables:
                has_lookup = ("public", "lsoa01_lsoa11_lookup") in schemas
                try:
                    body = _census_sql(tables, map_lsoa=has_lookup)
                except (ValueError, KeyError) as e:  # e.g. a census table with two LSOA columns
                    warnings.warn(f"leokit.db.connect: the view {CENSUS_VIEW} was not created: {e}", stacklevel=2)
                else:
                    con.execute(f"CREATE OR REPLACE VIEW leokit.census_long AS\n{body}")
    except Exception:
        con.close()
        raise
    if problems:
        lines = []
        for k, e in list(problems.items())[:10]:
            more = f" (and {len(e.problems) - 1} more problem(s))" if len(e.problems) > 1 else ""
            lines.append(f"  {k}: {e.problems[0] if e.problems else e}{more}")
        lines += [f"  ... and {len(problems) - 10} more"] if len(problems) > 10 else []
        warnings.warn(f"leokit.db.connect: {len(problems)} table(s) failed to read or to validate; each raises its "
                      "SchemaError when a query reads it (all of them are in .problems), the other tables work:\n"
                      + "\n".join(lines), UserWarning, stacklevel=2)
    if empty:
        warnings.warn(f"leokit.db.connect: {len(empty)} table(s) have 0 rows (every query on them returns "
                      f"nothing): {', '.join(empty)}", UserWarning, stacklevel=2)
    return Connection(con, root, cast, problems=problems, validated=validate, unchecked=unchecked,
                      empty_tables=empty)


def _declared(table: str) -> _schema.TableSchema | None:
    try:
        return _schema.get_schema(table)
    except KeyError:
        return None


def query(sql: str, data_dir=None, params: list | dict | None = None) -> pd.DataFrame:
    """Run ``sql`` on a fresh :func:`connect` connection and return a pandas DataFrame."""
    con = connect(data_dir)
    try:
        rel = con.execute(sql, params) if params is not None else con.execute(sql)
        return rel.df()
    finally:
        con.close()


# ----------------------------------------------------------------------------------------------
# The census tables stacked in SQL
# ----------------------------------------------------------------------------------------------
_CENSUS_RE = re.compile(CENSUS_TABLE_PATTERN, flags=re.I)  # DuckDB names are case-insensitive
_SQL_TYPE = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR", "date": "DATE"}


@functools.lru_cache(maxsize=1)
def _census_base_names() -> dict[str, str]:
    return census_base_names()


def _census_mapping(columns: Sequence[str], year: int) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """How :func:`leokit.stack.stack_census` renames one year's columns, read off its own code.

    The harmonisation of :mod:`leokit.census` (:func:`~leokit.census.harmonise_census`) is applied to a one-row probe frame whose cells hold
    the column names, so the SQL cannot drift from the pandas stacking. Returns
    ``[(output name, source column)]`` in output order and ``{derived column: constant}`` for the
    vintage columns (which are set where their source is not missing).
    """
    return _census_mapping_cached(tuple(columns), int(year))


@functools.lru_cache(maxsize=256)
def _census_mapping_cached(columns: tuple[str, ...], year: int):
    probe = pd.DataFrame([[f"\x00{c}" for c in columns]], columns=list(columns), dtype=object)
    out, _ = harmonise_census(probe, year, dict(_census_base_names()))
    pairs, derived = [], {}
    for name, v in zip(out.columns, out.iloc[0].tolist()):
        if isinstance(v, str) and v.startswith("\x00"):
            pairs.append((str(name), v[1:]))
        else:
            derived[str(name)] = v
    return pairs, derived


@functools.lru_cache(maxsize=1)
def _census_kinds() -> dict[str, str]:
    """Harmonised name -> declared kind, over every census year (vintage columns included)."""
    kinds: dict[str, str] = {}
    for y in range(2002, _schema.LAST_ACADEMIC_YEAR + 1):
        sfx = _schema.census_suffix(y)
        for c in _schema.census_schema(y).columns:
            kinds.setdefault(c.name[: -len(sfx)], c.kind)
    for base, kind in list(kinds.items()):
        if base.startswith("IDACIScore"):
            kinds["idaci_score"] = kind
        if base.startswith("IDACIRank"):
            kinds["idaci_rank"] = kind
        if base in ("LLSOA", "LSOA11"):
            kinds["lsoa_original"] = kind
    kinds.update(idaci_vintage="str", lsoa_vintage="str")
    return kinds


def _census_sql(tables: Mapping[int, Sequence[str]], *, years: Iterable[int] | None = None,
                columns: Sequence[str] | None = None, map_lsoa: bool = True,
                lsoa_lookup: str = "public.lsoa01_lsoa11_lookup", schema: str = "npd_i2") -> str:
    avail = {int(y): list(c) for y, c in tables.items()}
    if years is not None:
        years = sorted(int(y) for y in years)
        missing = [y for y in years if y not in avail]
        if missing:
            raise UnknownTableError(
                f"census year(s) {missing} not available (have {sorted(avail)}); census tables are named "
                f"{_schema.census_table_name(missing[0])!r}-style")
    else:
        years = sorted(avail)
    if not years:
        raise UnknownTableError("no census tables (plasc_YYYY / spring_census_YYYY) to stack")
    kinds = _census_kinds()
    per_year, order = {}, ["census_year"]
    for y in years:
        pairs, derived = _census_mapping(avail[y], y)
        if columns is not None:
            want = census_columns_wanted(columns)
            pairs = [(n, s) for n, s in pairs if n in want]
            derived = {n: v for n, v in derived.items() if n in want}
        per_year[y] = (pairs, derived)
        for n in [n for n, _ in pairs] + list(derived):
            if n not in order:
                order.append(n)
    branches = []
    for y in years:
        pairs, derived = per_year[y]
        src = dict(pairs)
        cells = [f"CAST({y} AS BIGINT) AS census_year"]
        for n in order[1:]:
            if n in src:
                cells.append(f"{_q(src[n])} AS {_q(n)}")
            elif n in derived:
                basis = {"idaci_vintage": ("idaci_score", "idaci_rank"), "lsoa_vintage": ("lsoa_original",)}.get(n, ())
                col = next((src[b] for b in basis if b in src), None)
                cond = f"{_q(col)} IS NOT NULL" if col else "1 = 0"
                cells.append(f"CASE WHEN {cond} THEN {_lit(derived[n])} END AS {_q(n)}")
            else:
                kind = kinds.get(n)
                cells.append(f"CAST(NULL AS {_SQL_TYPE[kind]}) AS {_q(n)}" if kind else f"NULL AS {_q(n)}")
        branches.append("SELECT " + ",\n       ".join(cells)
                        + f"\nFROM {_name(schema)}.{_name(_schema.census_table_name(y))}")
    stacked = "\nUNION ALL\n".join(branches)
    if "lsoa_original" not in order:
        return stacked
    mapped = ("CASE WHEN s.lsoa_vintage = '2011' THEN s.lsoa_original"
              + (" WHEN s.lsoa_vintage = '2001' THEN lk.lsoa11cd" if map_lsoa else "") + " END AS lsoa11cd")
    if not map_lsoa:
        return f"WITH stacked AS (\n{stacked}\n)\nSELECT s.*, {mapped}\nFROM stacked AS s"
    return (f"WITH stacked AS (\n{stacked}\n),\nlk AS (\n"
            f"SELECT lsoa01cd, MIN(lsoa11cd) AS lsoa11cd, COUNT(DISTINCT lsoa11cd) AS n_candidates\n"
            f"FROM {_dotted(lsoa_lookup)}\nWHERE lsoa01cd IS NOT NULL AND lsoa11cd IS NOT NULL\nGROUP BY lsoa01cd\n)\n"
            f"SELECT s.*,\n       {mapped},\n"
            "       CASE WHEN s.lsoa_vintage = '2001' AND lk.n_candidates > 1 THEN 1 ELSE 0 END AS lsoa11_ambiguous\n"
            "FROM stacked AS s\nLEFT JOIN lk ON s.lsoa_vintage = '2001' AND lk.lsoa01cd = s.lsoa_original")


def census_long_sql(source, *, years: Iterable[int] | None = None, columns: Sequence[str] | None = None,
                    map_lsoa: bool = True, lsoa_lookup: str = "public.lsoa01_lsoa11_lookup") -> str:
    """SQL that stacks the yearly census tables as :func:`leokit.stack.stack_census` does in pandas.

    ``source``: a connection from :func:`connect` (the census tables and their columns are read
    from it), or ``{year: [column names]}`` - e.g. for the SRS, the columns of each
    ``spring_census_YYYY`` from ``INFORMATION_SCHEMA.COLUMNS``. ``years``, ``columns`` and
    ``map_lsoa`` mean what they mean in ``stack_census``; ``lsoa_lookup`` names the 2001 -> 2011
    LSOA lookup table (``lsoa01cd``, ``lsoa11cd``).

    One ``SELECT`` per year, joined by ``UNION ALL``: the term/year suffix is dropped and drifting
    names are harmonised (``LLSOA``/``LSOA11`` -> ``lsoa_original`` + ``lsoa_vintage``;
    ``IDACIScore``/``_10``/``_15`` -> ``idaci_score`` + ``idaci_vintage``; PLASC ``_YY``
    suffixes), with the column mapping taken from :mod:`leokit.census` itself; a column a year
    lacks is NULL. ``lsoa11cd`` is the 2011 code (2001 codes mapped through the lookup, the
    smallest 2011 code for a split LSOA) and ``lsoa11_ambiguous`` is 0/1 (pandas: False/True;
    SQL Server has no boolean). The SQL is DuckDB SQL in the kit's names; for the SRS run it
    through :func:`to_srs_sql` (and pass ``public=`` for the lookup you loaded), e.g.
    ``to_srs_sql(census_long_sql(con), "12345", public="MyProject.dbo")``.
    """
    if isinstance(source, Mapping):
        tables = {int(y): list(c) for y, c in source.items()}
    else:
        con = source.raw if isinstance(source, Connection) else source
        rows = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'npd_i2' ORDER BY table_name, ordinal_position").fetchall()
        tables = {}
        for t, c in rows:
            m = _CENSUS_RE.match(str(t))
            if m:
                tables.setdefault(int(m.group(1)), []).append(str(c))
    return _census_sql(tables, years=years, columns=columns, map_lsoa=map_lsoa, lsoa_lookup=lsoa_lookup)
