"""DuckDB access: every Parquet table as a SQL view, named like the SRS database it belongs to.

    >>> import leokit.db
    >>> con = leokit.db.connect()
    >>> con.sql("SELECT TaxYear, median(Earnings) FROM leo_i2.leo_earnings GROUP BY 1").df()
    >>> leokit.db.query("SELECT count(*) AS n FROM npd_i2.KS4Pupil_2002_to_2014")

Each Parquet file under the data folder becomes ``<schema>.<table>``: the schema is the file's
top-level subfolder (``data_synthetic/leo_i2/leo_earnings.parquet`` -> ``leo_i2.leo_earnings``),
or, for files at the top level, the database declared in :mod:`leokit.schema` (``npd_i2``,
``leo_i2``, ``hesa_i2``, ``lilr_i2``, ``ucas_i2``, ``public``, ``truth``), else ``main``.
Views read the files lazily, so connecting is cheap; DuckDB names are case-insensitive, as in
SQL Server. Float NaN values stored in the files are turned into SQL NULLs by the views (pandas
treats NaN as missing, SQL would not), so ``IS NULL``, ``count(col)`` and ``avg(col)`` behave as
on SQL Server.

Mapping to the SRS (SQL Server)
-------------------------------
In the SRS the same tables are ``<Database>."<project number>".<table>``, e.g.
``LEO_i2."<project>".leo_earnings`` or ``npd_i2."<project>".spring_census_2011`` [FFT]. The kit's
two-part names drop the per-project schema. :func:`srs_name` gives the SQL Server name of a
table, and :func:`to_srs_sql` rewrites a query written here for the SRS by replacing every
``<schema>.<table>`` reference with ``<Database>."<project>".<table>`` - the single configurable
prefix recommended in the reference notes: set the project once in the environment variable
``LEOKIT_SRS_PROJECT`` (read by :func:`srs_project`) or pass ``project=``. ``public`` tables (area
lookups) are not in the SRS databases: load the published files into your project space and pass
``public=`` to say where. ``truth`` tables exist only in the synthetic data.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leokit import schema as _schema
from leokit.paths import resolve_data_dir, table_files

__all__ = ["connect", "query", "views", "srs_name", "to_srs_sql", "srs_project", "SRS_DATABASES", "SCHEMAS",
           "PROJECT_ENV_VAR"]

#: Environment variable holding the SRS project number (the per-project SQL Server schema).
PROJECT_ENV_VAR = "LEOKIT_SRS_PROJECT"

#: Kit schema -> SQL Server database name in the SRS [FFT script headers].
SRS_DATABASES = {"leo_i2": "LEO_i2", "lilr_i2": "LILR_i2", "npd_i2": "npd_i2", "hesa_i2": "hesa_i2",
                 "ucas_i2": "ucas_i2"}
#: The schemas a connection may have.
SCHEMAS = ("npd_i2", "leo_i2", "hesa_i2", "lilr_i2", "ucas_i2", "public", "truth")


def _q(ident: str) -> str:
    return '"' + str(ident).replace('"', '""') + '"'


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


def connect(data_dir=None, database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per Parquet table, in schemas named like the SRS databases.

    ``data_dir``: the data folder (default :func:`leokit.paths.default_data_dir`).
    ``database``: DuckDB database file, default in memory. Re-running on a file database replaces
    the views; ``read_only=True`` opens an existing file database as it is (no views are made).
    Schemas are created even when empty, so ``leo_i2.<table>`` errors name the table.
    """
    root = resolve_data_dir(data_dir)
    con = duckdb.connect(database, read_only=read_only)
    if read_only:
        return con  # a read-only file database keeps the views it was created with
    for s in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(s)}")
    for row in views(root).itertuples(index=False):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(row.schema)}")
        path = Path(row.path)
        src = str(path / "**" / "*.parquet") if path.is_dir() else str(path)
        src = src.replace("'", "''")
        floats = _float_columns(path)
        replace = ""
        if floats:
            # Parquet float columns may store NaN for missing values; pandas reads NaN as missing but
            # SQL does not (NaN IS NOT NULL, avg() of NaN is NaN): make them SQL NULLs.
            exprs = ", ".join(f"CASE WHEN isnan({_q(c)}) THEN NULL ELSE {_q(c)} END AS {_q(c)}" for c in floats)
            replace = f" REPLACE ({exprs})"
        con.execute(f"CREATE OR REPLACE VIEW {_q(row.schema)}.{_q(row.table)} AS "
                    f"SELECT *{replace} FROM read_parquet('{src}')")
    return con


def _float_columns(path: Path) -> list[str]:
    try:
        sch = pq.ParquetDataset(path).schema if path.is_dir() else pq.read_schema(path)
    except Exception:  # unreadable: the view will fail with DuckDB's own message when used
        return []
    return [f.name for f in sch if pa.types.is_floating(f.type)]


def query(sql: str, data_dir=None, params: list | dict | None = None) -> pd.DataFrame:
    """Run ``sql`` on a fresh :func:`connect` connection and return a pandas DataFrame."""
    con = connect(data_dir)
    try:
        rel = con.execute(sql, params) if params is not None else con.execute(sql)
        return rel.df()
    finally:
        con.close()


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


_REF = re.compile(r'(?<![\w."])(' + "|".join(SCHEMAS) + r')\s*\.\s*("?)(\w+)\2', flags=re.I)


def to_srs_sql(sql: str, project: str | None = None, *, public: str | None = None,
               truth: str | None = None) -> str:
    """Rewrite kit SQL (``leo_i2.leo_earnings``) into SRS SQL (``LEO_i2."<project>".leo_earnings``).

    ``public``: the prefix where you loaded the public lookups in the SRS (e.g.
    ``'MyProject.dbo'``); without it ``public.<table>`` references are left unchanged. ``truth``
    likewise (truth tables never exist in the SRS). Only ``schema.table`` references to the
    known schemas are rewritten; the rest of the query is untouched (DuckDB and T-SQL dialects
    differ, e.g. ``LIMIT`` vs ``TOP``: check the result).
    """

    project = srs_project(project)

    def sub(m: re.Match) -> str:
        s, table = m.group(1).lower(), m.group(3)
        if s in SRS_DATABASES:
            return f'{SRS_DATABASES[s]}."{project}".{table}'
        if s == "public" and public:
            return f"{public}.{table}"
        if s == "truth" and truth:
            return f"{truth}.{table}"
        return m.group(0)

    return _REF.sub(sub, sql)
