"""SQL versions of the core outcomes, for DuckDB (the kit) and SQL Server (the SRS).

The queries live in ``leokit/sql/*.sql`` and are written in the subset of SQL that both engines accept
(ANSI joins, CASE, COALESCE, CONCAT, CAST, VALUES lists; no date functions). Table names carry the
kit's schema prefixes (``leo_i2.leo_earnings``); :func:`render` rewrites them for the SRS, where
tables are addressed as ``LEO_i2."<project>".leo_earnings``.

=========================  ======================================================================
query                      output (one row per ...)
=========================  ======================================================================
``paye_earnings``          AE_ID, TaxYear, paye_earnings, n_edukeys_paye
``total_earnings``         AE_ID, TaxYear, paye_earnings, sa_earnings, total_earnings, has_paye, has_sa
``sustained_employment``   AE_ID, TaxYear, months_employed_oct_mar, sustained_employment
``outcomes_yag``           AE_ID, graduation_year, yag, TaxYear, observed, paye_earnings,
                           sustained_employment (reads the ``work.*`` tables, see :func:`run_core_outcomes`)
=========================  ======================================================================

The pandas functions of the same names in :mod:`leokit.derive` give the same results (tested).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Mapping

import pandas as pd

from leokit.schema import SRS_DATABASES

__all__ = ["QUERIES", "read_sql", "render", "srs_prefixes", "run_sql", "run_core_outcomes"]

QUERIES = ("paye_earnings", "total_earnings", "sustained_employment", "outcomes_yag")


def read_sql(name: str) -> str:
    """Text of query ``name`` (one of :data:`QUERIES`)."""
    if name not in QUERIES:
        raise KeyError(f"unknown query {name!r}; known: {QUERIES}")
    return resources.files("leokit").joinpath(f"sql/{name}.sql").read_text(encoding="utf-8")


def srs_prefixes(project: str) -> dict[str, str]:
    """Schema prefixes for the SRS: ``leo_i2`` -> ``LEO_i2."<project>"`` etc.

    Uses the database names of :data:`leokit.schema.SRS_DATABASES`. ``render`` only renames the
    tables, which is all the portable queries here need; for any other kit SQL use ``leokit.db.to_srs_sql``,
    which also translates DuckDB-only constructs to T-SQL (or refuses them).
    """
    if not re.fullmatch(r"[A-Za-z0-9_]+", project):
        raise ValueError(f"project id {project!r}: letters, digits and _ only")
    return {k: f'{v}."{project}"' for k, v in SRS_DATABASES.items()}


def render(sql: str, prefixes: Mapping[str, str] | None = None) -> str:
    """Replace schema prefixes (``leo_i2.`` ...) by ``prefixes[schema] + '.'``; unchanged when ``prefixes`` is None.

    Example: ``render(read_sql("paye_earnings"), srs_prefixes("12345"))`` gives T-SQL for project 12345.
    """
    if not prefixes:
        return sql
    pattern = re.compile(r'(?<![\w."])(' + "|".join(re.escape(k) for k in prefixes) + r')\.(?=["\w])')
    return pattern.sub(lambda m: prefixes[m.group(1)] + ".", sql)


def run_sql(con, name: str, prefixes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Run query ``name`` on a DuckDB connection (e.g. ``leokit.db.connect(data_dir)``) and return a DataFrame."""
    return con.execute(render(read_sql(name), prefixes)).df()


def run_core_outcomes(con, graduates: pd.DataFrame, prefixes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Build ``work.paye_earnings``, ``work.sustained_employment`` and ``work.graduates`` in DuckDB, then run
    ``outcomes_yag``. ``graduates``: ``[AE_ID, graduation_year]``.

    On SQL Server the same steps are ``SELECT ... INTO #paye_earnings FROM ...`` (temp tables) or
    ``CREATE TABLE`` + ``INSERT``; see book/reference/sql-dialects.md.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS work")
    g = graduates[["AE_ID", "graduation_year"]].dropna().drop_duplicates("AE_ID")
    con.register("_leokit_graduates", g)
    try:
        con.execute("CREATE OR REPLACE TABLE work.graduates AS SELECT AE_ID, CAST(graduation_year AS BIGINT) AS "
                    "graduation_year FROM _leokit_graduates")
    finally:
        con.unregister("_leokit_graduates")
    for q in ("paye_earnings", "sustained_employment"):
        con.execute(f"CREATE OR REPLACE TABLE work.{q} AS {render(read_sql(q), prefixes)}")
    return con.execute(render(read_sql("outcomes_yag"), prefixes)).df()
