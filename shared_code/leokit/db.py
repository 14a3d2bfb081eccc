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
int, float, str, date), whatever type the file stores: a text column declared numeric is cast,
so ``median()`` or ``ORDER BY`` on it are numeric, not string-ordered, and a value that is not
a number stops the query with an error naming the table, the column and the value. Float NaN
values are turned into SQL NULLs (pandas treats NaN as missing, SQL would not), so ``IS NULL``,
``count(col)`` and ``avg(col)`` behave as on SQL Server.

When the census tables are present, :func:`connect` also creates the view
``leokit.census_long``: the year-suffixed ``plasc_YYYY`` / ``spring_census_YYYY`` tables stacked
in SQL with harmonised column names, row for row and value for value what
:func:`leokit.stack.stack_census` returns in pandas (see :func:`census_long_sql`).

Mistakes get errors that say what to do: a table queried in the wrong schema
(``npd_i2.leo_earnings``) names the schema it is in, ``leo_earnings.parquet`` used as a table
name gets the view name, and an empty or missing data folder says what was expected.

Mapping to the SRS (SQL Server)
-------------------------------
In the SRS the same tables are ``<Database>."<project number>".<table>``, e.g.
``LEO_i2."<project>".leo_earnings`` or ``npd_i2."<project>".spring_census_2011`` [FFT]. The kit's
two-part names drop the per-project schema. :func:`srs_name` gives the SQL Server name of a
table; :func:`to_srs_sql` translates a DuckDB query written here into T-SQL for the SRS (with
sqlglot): it renames the tables, rewrites DuckDB-only constructs that have a T-SQL equivalent
(``LIMIT`` -> ``TOP``, ``::`` casts, ``NULLS LAST``, ``QUALIFY``, ``median``/``quantile_cont``
-> ``PERCENTILE_CONT ... OVER``, ``GROUP BY ALL`` or by position) and refuses, naming the
construct, what it cannot translate (lists, regular expressions, ``ASOF`` joins, functions
SQL Server lacks ...). Set the project once in the environment variable ``LEOKIT_SRS_PROJECT``
(read by :func:`srs_project`) or pass ``project=``. ``public`` tables (area lookups) are not in
the SRS databases: load the published files into your project space and pass ``public=`` to
say where. ``truth`` tables exist only in the synthetic data.
"""

from __future__ import annotations

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
from leokit.census import CENSUS_TABLE_PATTERN, census_base_names, harmonise_census
from leokit.errors import DataFolderError, SRSTranslationError, UnknownTableError
from leokit.paths import ENV_VAR, resolve_data_dir, table_files
from leokit.schema import SRS_DATABASES

__all__ = ["connect", "query", "views", "srs_name", "to_srs_sql", "srs_project", "census_long_sql",
           "Connection", "DataFolderError", "SRSTranslationError",
           "SRS_DATABASES", "SCHEMAS", "PROJECT_ENV_VAR", "CENSUS_VIEW", "TSQL_FUNCTIONS"]

#: Environment variable holding the SRS project number (the per-project SQL Server schema).
PROJECT_ENV_VAR = "LEOKIT_SRS_PROJECT"

# SRS_DATABASES (kit schema -> SQL Server database name in the SRS) is stated in leokit.schema; the errors
# DataFolderError and SRSTranslationError live in leokit.errors. All three are re-exported here.
#: The schemas a connection may have (``leokit`` holds the kit's own views, e.g. the census stack).
SCHEMAS = ("npd_i2", "leo_i2", "hesa_i2", "lilr_i2", "ucas_i2", "public", "truth", "leokit")
#: The stacked census view that :func:`connect` creates when census tables are present.
CENSUS_VIEW = "leokit.census_long"


def _q(ident: str) -> str:
    return '"' + str(ident).replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


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


def views(data_dir=None) -> pd.DataFrame:
    """The views :func:`connect` would create: schema, table, path (ambiguous stems are skipped)."""
    root = resolve_data_dir(data_dir)
    rows = []
    for stem, paths in table_files(root).items():
        for p in paths:
            rows.append({"schema": _schema_of(stem, p, root), "table": stem, "path": str(p)})
    df = pd.DataFrame(rows, columns=["schema", "table", "path"])
    # the same stem twice in one schema (case-insensitive, as DuckDB) cannot be two views
    key = df["schema"].str.lower() + "." + df["table"].str.lower()
    return df[~key.duplicated(keep=False)].reset_index(drop=True)


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
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return "str"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_null(t):
        return "null"
    return "other"


def _read_schema(path: Path) -> pa.Schema | None:
    try:
        return pq.ParquetDataset(path).schema if path.is_dir() else pq.read_schema(path)
    except (pa.ArrowInvalid, OSError):  # not a readable Parquet file: the view fails with DuckDB's message when used
        return None


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
        msg = (f"{view}, column {col}: value ''' || CAST({c} AS VARCHAR) || ''' is not {what} (leokit.schema "
               f"declares {kind}; the file stores {stored_type}): fix the file or the schema")
        return f"CASE WHEN {c} IS NULL THEN NULL WHEN {bad} THEN error('{msg}') ELSE {good} END"

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
    src = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
    src = src.replace("'", "''")
    options = ""
    if nan_option and sch is not None and any(_family(f.type) == "float" for f in sch):
        # DuckDB trusts Parquet min/max statistics, which leave NaN out, and may then decide that a
        # float column holds no NaN (isnan() folded to false: duckdb/duckdb#25521). Tell it they can.
        options = ", can_have_nan = true"
    exprs, cast = [], []
    if sch is not None:
        kinds = _declared_kinds(table, sch.names)
        view = f"{schema}.{table}"
        for f in sch:
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
    replace = f" REPLACE ({', '.join(exprs)})" if exprs else ""
    return (f"CREATE OR REPLACE VIEW {_q(schema)}.{_q(table)} AS "
            f"SELECT *{replace} FROM read_parquet('{src}'{options})"), cast


def _has_nan_option(con) -> bool:
    """Whether this DuckDB has the Parquet ``can_have_nan`` option (older versions assume NaN anyway)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_settings() WHERE name = 'parquet_can_have_nan'")
                .fetchall()[0][0])


# ----------------------------------------------------------------------------------------------
# Connection
# ----------------------------------------------------------------------------------------------
class Connection:
    """A DuckDB connection to the kit's views (what :func:`connect` returns).

    It behaves as ``duckdb.DuckDBPyConnection`` (every attribute is passed on: ``execute``,
    ``sql``, ``query``, ``register``, ``close``, ``df`` ...; ``.raw`` is the DuckDB connection
    itself), and adds two things: errors about a table that is not there say where the table is
    (or which view a ``name.parquet`` file is), and ``data_dir`` / ``cast_columns`` record what the
    views were made from.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, data_dir: Path | None = None,
                 cast_columns: dict[str, list[str]] | None = None):
        self._con = con
        self.data_dir = data_dir
        #: ``"schema.table"`` -> columns the view casts to their declared type (the file stores another).
        self.cast_columns = cast_columns or {}

    @property
    def raw(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def __repr__(self) -> str:
        return f"<leokit.db.Connection to {str(self.data_dir)!r}>"

    def _run(self, method: str, query: Any, *args, **kwargs):
        try:
            return getattr(self._con, method)(query, *args, **kwargs)
        except (duckdb.CatalogException, duckdb.IOException) as e:
            hint = _missing_table_hint(self._con, query, e) if isinstance(query, str) else None
            if hint:
                raise type(e)(f"{hint}\n(DuckDB: {e})") from e
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
            census: bool = True) -> Connection:
    """A DuckDB connection with one view per Parquet table, in schemas named like the SRS databases.

    ``data_dir``: the data folder (default :func:`leokit.paths.default_data_dir`). A missing folder,
    or one without Parquet tables, raises :class:`DataFolderError` naming the folder and saying
    what was expected.
    ``database``: DuckDB database file, default in memory. Re-running on a file database replaces
    the views; ``read_only=True`` opens an existing file database as it is (no views are made and
    the data folder is not read).
    ``census``: also create the view :data:`CENSUS_VIEW` (``leokit.census_long``) when census
    tables are present (see :func:`census_long_sql`).

    Columns of declared tables get their declared type (see the module docstring); schemas are
    created even when empty, so ``leo_i2.<table>`` errors name the table.
    """
    if read_only:
        # a read-only file database keeps the views it was created with
        return Connection(duckdb.connect(database, read_only=True), None)
    root = _data_root(data_dir)
    found = views(root)
    if found.empty:
        raise _no_tables_error(root)
    con = duckdb.connect(database, read_only=False)
    cast: dict[str, list[str]] = {}
    schemas: dict[tuple[str, str], pa.Schema | None] = {}
    try:
        nan_option = _has_nan_option(con)
        for s in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(s)}")
        for row in found.itertuples(index=False):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(row.schema)}")
            path = Path(row.path)
            sch = _read_schema(path)
            schemas[(row.schema, row.table)] = sch
            stmt, cols = _view_sql(row.schema, row.table, path, sch, nan_option)
            con.execute(stmt)
            if cols:
                cast[f"{row.schema}.{row.table}"] = cols
        if census:
            tables = {int(m.group(1)): list(sch.names) for (s, t), sch in schemas.items()
                      if s == "npd_i2" and sch is not None and (m := _CENSUS_RE.match(t))}
            if tables:
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
    return Connection(con, root, cast)


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
            want = set(columns)
            if "idaci_score" in want or "idaci_rank" in want:
                want.add("idaci_vintage")
            if want & {"lsoa_original", "lsoa_vintage", "lsoa11cd", "lsoa11_ambiguous"}:
                want |= {"lsoa_original", "lsoa_vintage"}
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
        branches.append("SELECT " + ",\n       ".join(cells) + f"\nFROM {schema}.{_schema.census_table_name(y)}")
    stacked = "\nUNION ALL\n".join(branches)
    if "lsoa_original" not in order:
        return stacked
    mapped = ("CASE WHEN s.lsoa_vintage = '2011' THEN s.lsoa_original"
              + (" WHEN s.lsoa_vintage = '2001' THEN lk.lsoa11cd" if map_lsoa else "") + " END AS lsoa11cd")
    if not map_lsoa:
        return f"WITH stacked AS (\n{stacked}\n)\nSELECT s.*, {mapped}\nFROM stacked AS s"
    return (f"WITH stacked AS (\n{stacked}\n),\nlk AS (\n"
            f"SELECT lsoa01cd, MIN(lsoa11cd) AS lsoa11cd, COUNT(DISTINCT lsoa11cd) AS n_candidates\n"
            f"FROM {lsoa_lookup}\nWHERE lsoa01cd IS NOT NULL AND lsoa11cd IS NOT NULL\nGROUP BY lsoa01cd\n)\n"
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


# ----------------------------------------------------------------------------------------------
# SRS names
# ----------------------------------------------------------------------------------------------
def srs_project(project: str | None = None) -> str:
    """The SRS project number: ``project`` if given, else ``$LEOKIT_SRS_PROJECT``, else a placeholder."""
    return project or os.environ.get(PROJECT_ENV_VAR, "").strip() or "<project number>"


def srs_name(table: str, project: str | None = None, *, database: str | None = None) -> str:
    """SQL Server name of a kit table in the SRS: ``LEO_i2."<project>".leo_earnings``.

    ``database`` defaults to the schema declared in :mod:`leokit.schema`. Raises ValueError for
    tables that are not in the SRS databases (public lookups, truth tables).
    """
    db = database or _schema.get_schema(table).database
    if db not in SRS_DATABASES:
        raise ValueError(f"table {table!r} is in {db!r}, not an SRS database: load it into your project space")
    return f'{SRS_DATABASES[db]}."{srs_project(project)}".{table}'


# ----------------------------------------------------------------------------------------------
# DuckDB SQL -> SQL Server (T-SQL)
# ----------------------------------------------------------------------------------------------
#: Built-in SQL Server functions :func:`to_srs_sql` may emit (SQL Server 2017 and later; the
#: 2022 additions GREATEST, LEAST, DATETRUNC, GENERATE_SERIES, IS [NOT] DISTINCT FROM are left
#: out because the SRS's SQL Server version is not published - an open question).
TSQL_FUNCTIONS = frozenset("""
AVG CHECKSUM_AGG COUNT COUNT_BIG GROUPING GROUPING_ID MAX MIN STDEV STDEVP STRING_AGG SUM VAR VARP
CUME_DIST FIRST_VALUE LAG LAST_VALUE LEAD PERCENTILE_CONT PERCENTILE_DISC PERCENT_RANK
RANK DENSE_RANK NTILE ROW_NUMBER
CAST CONVERT PARSE TRY_CAST TRY_CONVERT TRY_PARSE
DATEADD DATEDIFF DATEDIFF_BIG DATEFROMPARTS DATETIME2FROMPARTS DATENAME DATEPART DAY EOMONTH GETDATE
GETUTCDATE ISDATE MONTH SYSDATETIME YEAR
CHOOSE IIF COALESCE NULLIF ISNULL ISNUMERIC
ABS ACOS ASIN ATAN ATN2 CEILING COS COT DEGREES EXP FLOOR LOG LOG10 PI POWER RADIANS RAND ROUND SIGN
SIN SQRT SQUARE TAN
ASCII CHAR CHARINDEX CONCAT CONCAT_WS DIFFERENCE FORMAT LEFT LEN LOWER LTRIM NCHAR PATINDEX QUOTENAME
REPLACE REPLICATE REVERSE RIGHT RTRIM SOUNDEX SPACE STR STRING_ESCAPE STUFF SUBSTRING TRANSLATE TRIM
UNICODE UPPER HASHBYTES NEWID EXISTS
""".split())

_TSQL_TYPES = frozenset("""
BIGINT INT INTEGER SMALLINT TINYINT BIT DECIMAL NUMERIC FLOAT REAL MONEY SMALLMONEY CHAR VARCHAR NCHAR
NVARCHAR DATE DATETIME DATETIME2 SMALLDATETIME TIME DATETIMEOFFSET BINARY VARBINARY UNIQUEIDENTIFIER
""".split())

_tsql_dialect = None


def _srs_dialect():
    """sqlglot's T-SQL dialect, writing quoted identifiers as "name" (as the SRS names are written)."""
    global _tsql_dialect
    if _tsql_dialect is None:
        from sqlglot.dialects.tsql import TSQL

        class LeokitSRS(TSQL):
            class Tokenizer(TSQL.Tokenizer):
                IDENTIFIERS = ['"', ("[", "]")]

        _tsql_dialect = LeokitSRS
    return _tsql_dialect


def _refuse(construct: str, why: str, hint: str = "") -> SRSTranslationError:
    msg = f"to_srs_sql: cannot translate {construct} to SQL Server: {why}"
    if hint:
        msg += f". {hint[0].upper()}{hint[1:]}"
    return SRSTranslationError(construct, msg)


def to_srs_sql(sql: str, project: str | None = None, *, public: str | None = None,
               truth: str | None = None, pretty: bool = True) -> str:
    """Translate kit SQL (DuckDB, ``leo_i2.leo_earnings``) into SQL Server SQL for the SRS.

    The tables are renamed (``leo_i2.leo_earnings`` -> ``LEO_i2."<project>".leo_earnings``, see
    :func:`srs_name`; ``public=`` / ``truth=`` give the prefix where you loaded those tables, e.g.
    ``'MyProject.dbo'``; without them they are left as written) and the query is rewritten in
    T-SQL with sqlglot: ``LIMIT`` -> ``TOP`` / ``OFFSET ... FETCH``, ``x::INT`` -> ``CAST``,
    ``NULLS LAST`` kept by an extra sort key, ``QUALIFY`` and ``DISTINCT ON`` by a subquery, ``/``
    kept a true division, ``log(x)`` (base 10 in DuckDB) -> ``LOG(x, 10)``, ``x + INTERVAL 3 DAY``
    -> ``DATEADD``, ``GROUP BY ALL`` / ``GROUP BY 1`` / ``GROUP BY alias`` -> the expressions.

    Medians and quantiles: T-SQL has no aggregate median; ``PERCENTILE_CONT`` (and
    ``PERCENTILE_DISC``) exist only as window functions. ``median(x)`` and ``quantile_cont(x, q)``
    become ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY <the GROUP BY
    keys>)`` with ``SELECT DISTINCT`` in place of ``GROUP BY``; next to other aggregates (``count``,
    ``avg`` ...) the window is computed in a subquery and taken with ``MAX`` in the grouped outer
    query. ``quantile``/``quantile_disc`` become ``PERCENTILE_DISC``.

    Anything without a faithful T-SQL equivalent raises :class:`SRSTranslationError` naming the
    construct: lists and structs, regular expressions, ``ILIKE``, ``ASOF``/``POSITIONAL``/
    ``NATURAL`` joins and ``JOIN ... USING``, ``SELECT * EXCLUDE``, ``PIVOT``, ``SAMPLE``,
    ``isnan``, ``mode``, a list of quantiles, ``greatest``/``least`` (SQL Server 2022 only) and any
    function SQL Server does not have (:data:`TSQL_FUNCTIONS`). Several statements (``;``) are
    translated one by one. The result is meant to be read and run: check it.
    """
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

    dialect = _srs_dialect()
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as e:
        raise SRSTranslationError("syntax", f"to_srs_sql: the query is not valid DuckDB SQL: {e}") from None
    project = srs_project(project)
    out: list[str] = []
    for st in statements:
        st = _translate(st)
        _rename_tables(st, project, public, truth)
        pre = _drop_before_replace(st, dialect)
        try:
            text = st.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as e:
            raise _refuse(str(e).split(" translation")[0].strip("'"), str(e),
                          "For an ORDER BY inside OVER (...), write NULLS FIRST (ascending) or NULLS LAST "
                          "(descending), SQL Server's own order, if NULLs cannot occur or their place does not "
                          "matter") from None
        out.extend(pre + [text])
    if len(out) == 1:
        return out[0]
    return ";\n\n".join(out) + ";"


def _rename_tables(tree, project: str, public: str | None, truth: str | None) -> None:
    from sqlglot import exp

    prefixes = {}
    for s, real in SRS_DATABASES.items():
        prefixes[s] = (exp.to_identifier(real), exp.to_identifier(project, quoted=True))
    for s, given in (("public", public), ("truth", truth)):
        if given:
            parts = given.split(".")
            if len(parts) == 1:
                prefixes[s] = (None, exp.to_identifier(parts[0]))
            else:
                prefixes[s] = (exp.to_identifier(parts[0]), exp.to_identifier(".".join(parts[1:])))
    for node in list(tree.find_all(exp.Table, exp.Column)):
        db = node.args.get("db")
        if db is None or node.args.get("catalog") is not None:
            continue
        key = db.name.lower()
        if key in prefixes:
            catalog, schema = prefixes[key]
            node.set("catalog", catalog.copy() if catalog is not None else None)
            node.set("db", schema.copy())


def _drop_before_replace(st, dialect) -> list[str]:
    from sqlglot import exp

    if isinstance(st, exp.Create) and st.args.get("replace") and str(st.args.get("kind", "")).upper() == "TABLE":
        st.set("replace", False)
        target = st.this.this if isinstance(st.this, exp.Schema) else st.this
        return [f"DROP TABLE IF EXISTS {target.sql(dialect=dialect)}"]
    return []


def _translate(tree):
    """Check and rewrite one parsed DuckDB statement (in place where possible); returns the tree."""
    from sqlglot import exp

    if not isinstance(tree, (exp.Query, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop)) \
            or isinstance(tree, exp.Command):
        raise _refuse(repr(tree.sql(dialect="duckdb")[:60]), "it is not a SQL statement the translator understands "
                      "(SELECT, WITH, CREATE, INSERT, UPDATE, DELETE, DROP)")
    _check_constructs(tree)
    for select in reversed(list(tree.find_all(exp.Select))):
        _resolve_group_by(select)
    for select in reversed(list(tree.find_all(exp.Select))):
        _rewrite_percentiles(select)
    _rewrite_functions(tree)
    _check_functions(tree)
    return tree


def _check_constructs(tree) -> None:
    from sqlglot import exp

    plain = {
        exp.RegexpLike: ("regular expressions (regexp_matches, ~)", "use LIKE patterns ('L1%') or CHARINDEX"),
        exp.RegexpILike: ("regular expressions", "use LIKE patterns"),
        exp.RegexpExtract: ("regexp_extract", "use SUBSTRING with CHARINDEX/PATINDEX"),
        exp.RegexpReplace: ("regexp_replace", "use REPLACE"),
        exp.RegexpSplit: ("regexp_split_to_array", "lists do not exist in SQL Server"),
        exp.SimilarTo: ("SIMILAR TO", "use LIKE patterns"),
        exp.ILike: ("ILIKE", "write LOWER(x) LIKE 'pattern' (the usual SRS collation is case-insensitive anyway)"),
        exp.NullSafeEQ: ("IS NOT DISTINCT FROM", "only SQL Server 2022 has it: write (a = b OR (a IS NULL AND b IS NULL))"),
        exp.NullSafeNEQ: ("IS DISTINCT FROM", "only SQL Server 2022 has it: spell out the NULL cases"),
        exp.Greatest: ("greatest()", "only SQL Server 2022 has GREATEST: write CASE WHEN a >= b THEN a ELSE b END"),
        exp.Least: ("least()", "only SQL Server 2022 has LEAST: write CASE WHEN a <= b THEN a ELSE b END"),
        exp.IsNan: ("isnan()", "SQL Server floats have no NaN (missing values are NULL): test IS NULL"),
        exp.Mode: ("mode()", "SQL Server has no mode: count by value and keep the top row (ROW_NUMBER)"),
        exp.ApproxQuantile: ("approx_quantile()", "use median/quantile_cont (exact) instead"),
        exp.TableSample: ("USING SAMPLE / TABLESAMPLE", "sample with WHERE ABS(CHECKSUM(NEWID())) % 100 < p"),
        exp.Pivot: ("PIVOT/UNPIVOT", "DuckDB's PIVOT syntax differs from SQL Server's: aggregate with "
                                     "SUM(CASE WHEN key = 'a' THEN x END) per column"),
        exp.Columns: ("COLUMNS(...)", "name the columns"),
        exp.Lambda: ("lambda functions", "lists do not exist in SQL Server"),
        exp.Format: ("format()/printf()", "use CONCAT and FORMAT(x, '0.0')"),
        exp.IgnoreNulls: ("IGNORE NULLS", "filter the NULLs out first"),
    }
    for node in tree.walk():
        for cls, (construct, hint) in plain.items():
            if isinstance(node, cls):
                raise _refuse(construct, "SQL Server has no equivalent", hint)
        name = type(node).__name__
        if isinstance(node, (exp.Array, exp.Struct, exp.Bracket, exp.Explode, exp.Unnest)) or \
                (isinstance(node, exp.Func) and (name.startswith("Array") or name.startswith("List"))):
            raise _refuse(f"the list/struct {node.sql(dialect='duckdb')[:60]!s}", "lists, arrays and structs are DuckDB-only",
                          "keep one row per element (a long table) instead")
        if isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("except")
                                           or node.args.get("replace") or node.args.get("rename")):
            raise _refuse("SELECT * EXCLUDE/REPLACE", "SQL Server has no such star modifiers", "list the columns")
        if isinstance(node, exp.Join):
            method = str(node.args.get("method") or "").upper()
            if method in ("ASOF", "POSITIONAL", "NATURAL"):
                raise _refuse(f"{method} JOIN", "SQL Server has no such join", "write the join condition with ON")
            if node.args.get("using"):
                raise _refuse("JOIN ... USING (...)", "SQL Server has no USING clause", "write ON a.k = b.k")
        if isinstance(node, (exp.ReadParquet, exp.ReadCSV)) or (
                isinstance(node, exp.Anonymous) and str(node.name).lower().startswith("read_")):
            raise _refuse("reading files (read_parquet/read_csv)", "in the SRS the data are SQL Server tables",
                          "query the table by its name (leokit.db.srs_name)")
        if isinstance(node, exp.Ordered) and isinstance(node.this, exp.Var) and node.this.name.upper() == "ALL":
            raise _refuse("ORDER BY ALL", "SQL Server has no ORDER BY ALL", "list the columns")
        if isinstance(node, exp.Group) and (node.args.get("cube") or node.args.get("rollup")
                                            or node.args.get("grouping_sets")):
            if any(isinstance(n, (exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile))
                   for n in node.parent.find_all(exp.AggFunc)):
                raise _refuse("median with ROLLUP/CUBE/GROUPING SETS", "the window pattern needs plain GROUP BY keys",
                              "compute each grouping level separately")


def _resolve_group_by(select) -> None:
    """GROUP BY ALL / GROUP BY <position> / GROUP BY <alias> -> the expressions (T-SQL needs them)."""
    from sqlglot import exp

    group = select.args.get("group")
    if group is None:
        return
    items = select.expressions
    if group.args.get("all"):
        keys = [e.unalias().copy() for e in items
                if not any(_is_plain_agg(a) for a in e.find_all(exp.AggFunc)) and not isinstance(e.unalias(), exp.Star)]
        select.set("group", exp.Group(expressions=keys))
        return
    aliases = {e.alias.lower(): e.unalias() for e in items if isinstance(e, exp.Alias)}
    new = []
    for g in group.expressions:
        if isinstance(g, exp.Literal) and not g.is_string:
            i = int(g.name)
            if not 1 <= i <= len(items):
                raise _refuse(f"GROUP BY {i}", f"the select list has {len(items)} items")
            new.append(items[i - 1].unalias().copy())
        elif isinstance(g, exp.Column) and not g.table and g.name.lower() in aliases:
            target = aliases[g.name.lower()]
            same = isinstance(target, exp.Column) and target.name.lower() == g.name.lower()
            new.append(g if same else target.copy())
        else:
            new.append(g)
    group.set("expressions", new)


def _is_plain_agg(node) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.AggFunc) and node.find_ancestor(exp.Window) is None


_FROM = "from_"  # sqlglot's key for the FROM clause of a Select (sqlglot >= 30)


def _owner(node):
    from sqlglot import exp

    return node.find_ancestor(exp.Select)


def _percentile_roots(select) -> list:
    """Median/quantile nodes of this select (not of its subqueries), each as its outermost node."""
    from sqlglot import exp

    roots = []
    for node in select.find_all(exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile):
        root = node.parent if isinstance(node.parent, exp.WithinGroup) else node
        if _owner(root) is select and root not in roots:
            roots.append(root)
    return roots


def _percentile_parts(root):
    """(function class, quantile, value expression, descending) of a median/quantile node."""
    from sqlglot import exp

    if isinstance(root, exp.WithinGroup):
        func, order = root.this, root.expression
        q = func.this
        ords = order.expressions if isinstance(order, exp.Order) else []
        if len(ords) != 1:
            raise _refuse(root.sql(dialect="duckdb"), "WITHIN GROUP needs exactly one ORDER BY expression")
        x, desc = ords[0].this, bool(ords[0].args.get("desc"))
        cls = exp.PercentileCont if isinstance(func, exp.PercentileCont) else exp.PercentileDisc
    elif isinstance(root, exp.Median):
        cls, q, x, desc = exp.PercentileCont, exp.Literal.number(0.5), root.this, False
    elif isinstance(root, exp.Quantile):
        cls, q, x, desc = exp.PercentileDisc, root.args.get("quantile"), root.this, False
    else:
        cls = exp.PercentileCont if isinstance(root, exp.PercentileCont) else exp.PercentileDisc
        q, x, desc = root.args.get("expression"), root.this, False
    text = root.sql(dialect="duckdb")
    if isinstance(x, exp.Distinct):
        raise _refuse(text, "a percentile of DISTINCT values has no T-SQL form", "take DISTINCT in a subquery first")
    if isinstance(q, exp.Array) or q is None:
        raise _refuse(text, "a list of quantiles is DuckDB-only", "ask for one quantile per column")
    try:
        qv = float(q.name) if isinstance(q, exp.Literal) and not q.is_string else None
    except ValueError:
        qv = None
    if qv is None or not 0 <= qv <= 1:
        raise _refuse(text, "the quantile must be a number between 0 and 1 written in the query")
    if isinstance(root.parent, exp.Filter):
        raise _refuse(text + " FILTER (...)", "an aggregate FILTER on a percentile has no T-SQL form",
                      "filter the rows in WHERE or a subquery")
    return cls, q, x, desc


def _percentile_window(cls, q, x, desc, partition):
    from sqlglot import exp

    wg = exp.WithinGroup(this=cls(this=q.copy()), expression=exp.Order(
        expressions=[exp.Ordered(this=x.copy(), desc=desc, nulls_first=not desc)]))
    return exp.Window(this=wg, partition_by=[p.copy() for p in partition] or None)


def _rewrite_percentiles(select) -> None:
    """median/quantile -> PERCENTILE_CONT/DISC ... WITHIN GROUP (ORDER BY x) OVER (PARTITION BY keys)."""
    from sqlglot import exp

    roots = _percentile_roots(select)
    if not roots:
        return
    agg_roots = []
    for root in roots:
        win = root.parent if isinstance(root.parent, exp.Window) else None
        if win is not None:  # already a window: median(x) OVER (PARTITION BY g)
            if win.args.get("order") or win.args.get("spec"):
                raise _refuse(win.sql(dialect="duckdb"), "PERCENTILE_CONT ... OVER () allows only PARTITION BY",
                              "drop the ORDER BY / frame of the window")
            cls, q, x, desc = _percentile_parts(root)
            win.replace(_percentile_window(cls, q, x, desc, win.args.get("partition_by") or []))
        else:
            agg_roots.append(root)
    if not agg_roots:
        return
    if select.args.get("qualify") is not None:
        raise _refuse("median with QUALIFY", "the two rewrites cannot be combined", "filter in an outer query")
    group = select.args.get("group")
    keys = [g.copy() for g in group.expressions] if group is not None else []
    parts = [_percentile_parts(r) for r in agg_roots]
    in_pct = set()
    for r in agg_roots:
        in_pct.update(id(n) for n in r.walk())
    other_aggs = [a for a in select.find_all(exp.AggFunc)
                  if _owner(a) is select and _is_plain_agg(a) and id(a) not in in_pct]
    selected = {e.unalias().sql() for e in select.expressions}
    simple = (not other_aggs and select.args.get("having") is None and all(k.sql() in selected for k in keys))
    if simple:
        # SELECT DISTINCT keys..., PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x) OVER (PARTITION BY keys)
        for root, (cls, q, x, desc) in zip(agg_roots, parts):
            root.replace(_percentile_window(cls, q, x, desc, keys))
        select.set("group", None)
        select.set("distinct", exp.Distinct())
        return
    # Mixed with other aggregates: compute the windows in a subquery, take MAX() per group outside.
    inner = exp.Select()
    inner.set(_FROM, select.args.get(_FROM))
    if select.args.get("joins"):
        inner.set("joins", select.args.get("joins"))
    if select.args.get("where") is not None:
        inner.set("where", select.args.get("where"))
    for i, (cls, q, x, desc) in enumerate(parts, start=1):
        inner.select(exp.alias_(_percentile_window(cls, q, x, desc, keys), f"_pct{i}", copy=False), copy=False)
    aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    order = select.args.get("order")
    outer_parts = list(select.expressions) + ([select.args["group"]] if select.args.get("group") else []) + \
        ([select.args["having"]] if select.args.get("having") is not None else []) + ([order] if order else [])
    names: dict[tuple[str, str], str] = {}
    cols = []
    for part in outer_parts:
        for col in list(part.find_all(exp.Column)):
            if id(col) in in_pct or _owner(col) is not select:
                continue
            if order is not None and col.find_ancestor(exp.Order) is order and not col.table \
                    and col.name.lower() in aliases:
                continue  # ORDER BY an output alias
            cols.append(col)
            key = (col.table.lower(), col.name.lower())
            if key not in names:
                base = col.name if not any(k[1] == key[1] for k in names) else f"{col.table}_{col.name}"
                names[key] = base
                inner.select(exp.alias_(col.copy(), base, copy=False), copy=False)
    for col in cols:
        col.replace(exp.column(names[(col.table.lower(), col.name.lower())], table="_q"))
    for i, root in enumerate(agg_roots, start=1):
        root.replace(exp.Max(this=exp.column(f"_pct{i}", table="_q")))
    select.set(_FROM, exp.From(this=exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("_q")))))
    select.set("joins", None)
    select.set("where", None)


def _rewrite_functions(tree) -> None:
    """DuckDB functions whose sqlglot T-SQL spelling would be wrong or invalid."""
    from sqlglot import exp

    for node in list(tree.walk()):
        if isinstance(node, exp.Log) and node.args.get("expression") is None:
            # DuckDB log(x) is the base-10 logarithm; T-SQL LOG(x) is the natural one
            node.replace(exp.Log(this=exp.Literal.number(10), expression=node.this.copy()))
        elif isinstance(node, exp.Round) and node.args.get("decimals") is None:
            node.set("decimals", exp.Literal.number(0))  # T-SQL ROUND needs the length
        elif isinstance(node, exp.CurrentDate):
            node.replace(exp.Cast(this=exp.Anonymous(this="GETDATE"), to=exp.DataType.build("DATE")))
        elif isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TINYINT:
            node.replace(exp.DataType.build("SMALLINT"))  # DuckDB TINYINT is signed, T-SQL's is 0..255
        elif isinstance(node, exp.DateAdd) and isinstance(node.expression, exp.Interval):
            n, unit = _interval_parts(node.expression)
            node.replace(exp.DateAdd(this=node.this.copy(), expression=n, unit=unit))
        elif isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval):
            n, unit = _interval_parts(node.expression)
            if isinstance(node, exp.Sub):
                n = exp.Neg(this=n)
            node.replace(exp.DateAdd(this=node.this.copy(), expression=n, unit=unit))
    for node in tree.walk():
        if isinstance(node, exp.Interval):
            raise _refuse(f"INTERVAL ({node.sql(dialect='duckdb')})", "SQL Server has no interval type",
                          "add to a date with date + INTERVAL n UNIT (translated to DATEADD) or DATEADD")


def _interval_parts(iv):
    from sqlglot import exp

    unit = iv.args.get("unit")
    n = iv.this
    if unit is None or not isinstance(n, exp.Literal):
        raise _refuse(f"INTERVAL ({iv.sql(dialect='duckdb')})", "only INTERVAL <number> <unit> is translated",
                      "write DATEADD(unit, n, date)")
    try:
        num = exp.Literal.number(int(n.name))
    except ValueError:
        raise _refuse(f"INTERVAL ({iv.sql(dialect='duckdb')})", "DATEADD needs a whole number") from None
    return num, exp.var(unit.name.upper())


_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _check_functions(tree) -> None:
    """Every function call and type the T-SQL text will contain must exist in SQL Server."""
    from sqlglot import exp
    from sqlglot.errors import UnsupportedError

    dialect = _srs_dialect()
    for node in tree.walk():
        if isinstance(node, exp.DataType):
            text = node.sql(dialect=dialect)
            base = re.match(r"\s*([A-Za-z0-9_]+)", text)
            if base and base.group(1).upper() not in _TSQL_TYPES:
                raise _refuse(f"type {node.sql(dialect='duckdb')}", f"it would become {text}, which SQL Server lacks",
                              "use BIGINT, FLOAT, DECIMAL(p, s), VARCHAR(n) or DATE")
        if not isinstance(node, exp.Func) or isinstance(node, exp.Window):
            continue
        try:
            text = node.sql(dialect=dialect)
        except UnsupportedError as e:
            raise _refuse(node.sql(dialect="duckdb")[:60], str(e)) from None
        m = _CALL.match(text)
        if m and m.group(1).upper() not in TSQL_FUNCTIONS:
            duck = _CALL.match(node.sql(dialect="duckdb"))
            name = duck.group(1) if duck else type(node).__name__
            raise _refuse(f"{name}()", f"it would become {m.group(1)}(), which SQL Server does not have",
                          "rewrite it with SQL Server built-ins (see book/reference/sql-dialects.md)")
