"""leokit.db: DuckDB views named like the SRS databases, typed by the schema; errors; census stack; T-SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from leokit import db
from leokit.load import stack_census
from leokit.paths import repo_root

REPO_DATA = repo_root() / "data_synthetic"
needs_data = pytest.mark.skipif(not (REPO_DATA / "npd_i2").is_dir(), reason="committed synthetic data not present")


@pytest.fixture
def dbdir(valid, write, data_dir):
    e = valid("leo_earnings", 6)
    write(e, data_dir, "leo_earnings")  # leo_i2/
    write(valid("KS4Pupil_2002_to_2014", 3), data_dir, "KS4Pupil_2002_to_2014")  # npd_i2/
    write(valid("imd2019_lsoa11", 2), data_dir, "imd2019_lsoa11", "")  # top level -> schema from leokit.schema
    write(pd.DataFrame({"x": [1, 2]}), data_dir, "truth_person", "")  # undeclared truth table
    return data_dir


# ----------------------------------------------------------------------------------------------
# Views
# ----------------------------------------------------------------------------------------------
def test_views_and_schemas(dbdir):
    v = db.views(dbdir)
    assert dict(zip(v["table"], v["schema"])) == {"KS4Pupil_2002_to_2014": "npd_i2", "imd2019_lsoa11": "public",
                                                  "leo_earnings": "leo_i2", "truth_person": "truth"}
    con = db.connect(dbdir)
    try:
        assert con.execute("SELECT count(*) FROM leo_i2.leo_earnings").fetchall()[0][0] == 6
        assert con.execute("SELECT count(*) FROM npd_i2.ks4pupil_2002_to_2014").fetchall()[0][0] == 3  # any case
        assert con.execute("SELECT count(*) FROM public.imd2019_lsoa11").fetchall()[0][0] == 2
        assert con.execute("SELECT sum(x) FROM truth.truth_person").fetchall()[0][0] == 3
        assert con.sql("SELECT count(*) FROM leo_i2.leo_earnings").fetchall()[0][0] == 6
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        assert set(db.SCHEMAS) <= schemas
        assert isinstance(con.raw, duckdb.DuckDBPyConnection) and con.cast_columns == {}
    finally:
        con.close()


def test_query_returns_dataframe(dbdir):
    df = db.query("SELECT Edukey, TaxYear FROM leo_i2.leo_earnings WHERE TaxYear >= ? ORDER BY TaxYear",
                  dbdir, params=[200306])
    assert isinstance(df, pd.DataFrame) and df["TaxYear"].tolist() == [200306, 200307, 200308, 200309]


def test_file_database_and_read_only(dbdir, tmp_path):
    path = str(tmp_path / "kit.duckdb")
    db.connect(dbdir, path).close()
    with db.connect(dbdir, path) as con:  # views replaced, not duplicated
        assert con.execute("SELECT count(*) FROM leo_i2.leo_earnings").fetchone()[0] == 6
    with db.connect(tmp_path / "no such folder", path, read_only=True) as con:  # the data folder is not read
        assert con.execute("SELECT count(*) FROM leo_i2.leo_earnings").fetchone()[0] == 6


def test_float_nan_is_sql_null(data_dir):
    (data_dir / "npd_i2").mkdir()
    t = pa.table({"KS4_ATT8": pa.array([10.0, float("nan"), None], pa.float64()), "k": [1, 2, 3]})
    pq.write_table(t, data_dir / "npd_i2" / "t.parquet")
    con = db.connect(data_dir)
    try:
        assert con.execute("SELECT count(*) FROM npd_i2.t WHERE KS4_ATT8 IS NULL").fetchone()[0] == 2
        assert con.execute("SELECT avg(KS4_ATT8) FROM npd_i2.t").fetchone()[0] == 10.0
        assert con.execute("SELECT sum(k) FROM npd_i2.t").fetchone()[0] == 6
    finally:
        con.close()


def test_float_nan_is_sql_null_without_any_null_in_the_column(data_dir):
    # Parquet min/max statistics leave NaN out; with no NULL in the column DuckDB may conclude that
    # it holds no NaN and fold isnan() to false (duckdb/duckdb#25521). The views must still give NULL.
    (data_dir / "npd_i2").mkdir()
    pq.write_table(pa.table({"v": pa.array([1.0, float("nan"), 3.0]), "k": [1, 2, 3]}), data_dir / "npd_i2" / "t.parquet")
    with db.connect(data_dir) as con:
        assert con.execute("SELECT count(*) FROM npd_i2.t WHERE v IS NULL").fetchall()[0][0] == 1
        assert con.execute("SELECT avg(v) FROM npd_i2.t").fetchall()[0][0] == 2.0
        assert con.execute("SELECT k FROM npd_i2.t WHERE v IS NULL LIMIT 1").fetchall() == [(2,)]


# ----------------------------------------------------------------------------------------------
# Views cast columns to the declared types (validate=False: the default refuses what the loader refuses)
# ----------------------------------------------------------------------------------------------
def _write_earnings(data_dir: Path, valid, **columns) -> Path:
    """leo_earnings with some columns replaced by Arrow arrays of another type (a mistyped file)."""
    e = valid("leo_earnings", len(next(iter(columns.values()))))
    t = pa.Table.from_pandas(e, preserve_index=False)
    for name, arr in columns.items():
        t = t.set_column(t.schema.get_field_index(name), name, arr)
    (data_dir / "leo_i2").mkdir(exist_ok=True)
    pq.write_table(t, data_dir / "leo_i2" / "leo_earnings.parquet")
    return data_dir


def test_text_column_declared_numeric_gives_a_numeric_median(data_dir, valid):
    # Earnings stored as text: ordered as strings, the median would be '200' (the middle of 10000, 200, 9000)
    _write_earnings(data_dir, valid, Earnings=pa.array(["9000", "10000", "200"], pa.string()))
    assert sorted(["9000", "10000", "200"])[1] == "200"
    with db.connect(data_dir, validate=False) as con:
        assert con.cast_columns == {"leo_i2.leo_earnings": ["Earnings"]}
        typ = con.sql("SELECT typeof(Earnings) FROM leo_i2.leo_earnings LIMIT 1").fetchall()[0][0]
        assert typ == "BIGINT"  # leokit.schema declares Earnings an int (whole pounds)
        assert con.sql("SELECT median(Earnings) FROM leo_i2.leo_earnings").fetchall()[0][0] == 9000.0
        assert con.sql("SELECT max(Earnings) FROM leo_i2.leo_earnings").fetchall()[0][0] == 10000.0


def test_text_that_is_not_a_number_stops_the_query_naming_table_and_column(data_dir, valid):
    _write_earnings(data_dir, valid, Earnings=pa.array(["9000", "n/a", None], pa.string()))
    with db.connect(data_dir, validate=False) as con:
        with pytest.raises(duckdb.Error, match=r"leo_i2\.leo_earnings, column Earnings: value 'n/a' is not an integer \(leokit.schema declares int"):
            con.sql("SELECT median(Earnings) FROM leo_i2.leo_earnings").fetchall()
        # the other columns are unaffected
        assert con.sql("SELECT count(TaxYear) FROM leo_i2.leo_earnings").fetchall()[0][0] == 3


def test_integer_columns_stored_as_text_or_float(data_dir, valid):
    _write_earnings(data_dir, valid, TaxYear=pa.array(["201011", " 201112", None], pa.string()))
    with db.connect(data_dir, validate=False) as con:
        out = con.sql("SELECT TaxYear, typeof(TaxYear) FROM leo_i2.leo_earnings ORDER BY TaxYear").fetchall()
        assert out == [(201011, "BIGINT"), (201112, "BIGINT"), (None, "BIGINT")]
    _write_earnings(data_dir, valid, TaxYear=pa.array([201011.0, float("nan"), 201112.5], pa.float64()))
    with db.connect(data_dir, validate=False) as con:
        with pytest.raises(duckdb.Error, match=r"column TaxYear: value '201112.5' is not a whole number"):
            con.sql("SELECT TaxYear FROM leo_i2.leo_earnings").fetchall()
        assert con.sql("SELECT TaxYear FROM leo_i2.leo_earnings LIMIT 2").fetchall() == [(201011,), (None,)]


def test_date_and_string_columns(data_dir, valid):
    e = valid("leo_employment", 2)
    t = pa.Table.from_pandas(e, preserve_index=False)
    t = t.set_column(t.schema.get_field_index("StartDate"), "StartDate", pa.array(["2010-04-06", "2011-13-01"]))
    t = t.set_column(t.schema.get_field_index("EduKey"), "EduKey", pa.array([1234, 5678], pa.int64()))
    (data_dir / "leo_i2").mkdir()
    pq.write_table(t, data_dir / "leo_i2" / "leo_employment.parquet")
    with db.connect(data_dir, validate=False) as con:
        assert con.sql("SELECT typeof(EduKey) FROM leo_i2.leo_employment LIMIT 1").fetchall()[0][0] == "VARCHAR"
        with pytest.raises(duckdb.Error, match=r"column StartDate: value '2011-13-01' is not a date"):
            con.sql("SELECT StartDate FROM leo_i2.leo_employment").fetchall()


@needs_data
def test_committed_data_needs_few_casts():
    with db.connect(REPO_DATA) as con:
        # the generator writes the declared types; casts are the exception (listed, not silent)
        assert sum(len(v) for v in con.cast_columns.values()) <= 3, con.cast_columns


# ----------------------------------------------------------------------------------------------
# Errors that say what to do
# ----------------------------------------------------------------------------------------------
def test_missing_data_folder(tmp_path, monkeypatch):
    with pytest.raises(db.DataFolderError, match=r"does not exist.*expected a folder of Parquet files"):
        db.connect(tmp_path / "nope")
    monkeypatch.setenv("LEOKIT_DATA_DIR", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=r"LEOKIT_DATA_DIR=.*gone"):
        db.connect()


def test_empty_data_folder(data_dir):
    with pytest.raises(db.DataFolderError, match=r"no Parquet tables in the data folder .*: it is empty; expected"):
        db.connect(data_dir)
    (data_dir / "leo_earnings.csv").write_text("a\n1\n")
    with pytest.raises(db.DataFolderError, match=r"1 other file\(s\), e\.g\. leo_earnings\.csv"):
        db.query("SELECT 1", data_dir)


def test_table_in_the_wrong_schema_says_where_it_is(dbdir):
    with db.connect(dbdir) as con:
        with pytest.raises(duckdb.CatalogException, match=r"not in schema 'npd_i2': it is leo_i2\.leo_earnings"):
            con.sql("SELECT * FROM npd_i2.leo_earnings")
        with pytest.raises(duckdb.CatalogException, match=r"no schema.*write leo_i2\.leo_earnings"):
            con.execute("SELECT count(*) FROM leo_earnings")
        with pytest.raises(duckdb.CatalogException, match=r"not in schema 'foo': it is leo_i2\.leo_earnings"):
            con.sql("SELECT * FROM foo.leo_earnings")
        with pytest.raises(duckdb.CatalogException, match=r"no schema.*write leo_i2\.leo_earnings"):
            con.sql("WITH a AS (SELECT 1 AS x) SELECT * FROM a, leo_earnings")
        with pytest.raises(duckdb.CatalogException, match=r"did you mean leo_i2\.leo_earnings"):
            con.execute("SELECT * FROM leo_i2.leo_earning")
        with pytest.raises(duckdb.BinderException, match="Referenced column"):  # column errors are DuckDB's own
            con.execute("SELECT no_such_column FROM leo_i2.leo_earnings")


@pytest.mark.parametrize("ref", ["leo_earnings.parquet", "'leo_earnings.parquet'", "leo_i2.leo_earnings.parquet",
                                 "'data/leo_i2/leo_earnings.parquet'"])
def test_parquet_file_name_gets_the_view_name(dbdir, ref):
    with db.connect(dbdir) as con:
        with pytest.raises(duckdb.Error, match=r"is a file name.*query leo_i2\.leo_earnings instead"):
            con.sql(f"SELECT * FROM {ref}")


# ----------------------------------------------------------------------------------------------
# The census tables stacked in SQL == leokit.load.stack_census
# ----------------------------------------------------------------------------------------------
def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(df)))
    for c in df.columns:
        s = df[c].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("int64")
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = pd.to_datetime(s).astype("datetime64[ns]")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.astype("float64")
        else:
            out[c] = s.astype(object).where(s.notna(), None)
    keys = ["census_year", "PupilMatchingRefAnonymous", "RecordStatus"]
    rest = [c for c in out.columns if c not in keys]
    return out.sort_values(keys + rest, kind="mergesort", na_position="last").reset_index(drop=True)


@needs_data
def test_census_view_equals_stack_census_on_committed_data():
    pandas_long = stack_census(data_dir=REPO_DATA)
    with db.connect(REPO_DATA) as con:
        sql_long = con.sql(f"SELECT * FROM {db.CENSUS_VIEW}").df()
    assert list(sql_long.columns) == list(pandas_long.columns)
    assert len(sql_long) == len(pandas_long)
    counts = sql_long["census_year"].value_counts().sort_index()
    assert counts.to_dict() == pandas_long["census_year"].value_counts().sort_index().to_dict()
    # the drift the view must handle is in the committed data
    assert {"2001", "2011"} <= set(sql_long["lsoa_vintage"].dropna())
    assert {"2007", "2010", "2015"} <= set(sql_long["idaci_vintage"].dropna())
    assert sql_long.loc[sql_long["census_year"] <= 2005, "PupilMatchingRefAnonymous"].notna().all()  # PLASC _YY
    pd.testing.assert_frame_equal(_normalise(sql_long), _normalise(pandas_long), check_exact=False, rtol=1e-12)


@needs_data
def test_census_sql_options_and_srs_translation():
    years, cols = [2004, 2012, 2013, 2016, 2017], ["PupilMatchingRefAnonymous", "RecordStatus", "FSMeligible",
                                                   "idaci_score", "lsoa11cd"]
    pandas_long = stack_census(years, data_dir=REPO_DATA, columns=cols)
    with db.connect(REPO_DATA) as con:
        sql = db.census_long_sql(con, years=years, columns=cols)
        sql_long = con.sql(sql).df()
        # the same SQL from a {year: columns} mapping, as one would list them in the SRS
        listing = {y: [c[0] for c in con.sql(f"DESCRIBE npd_i2.{t}").fetchall()]
                   for y, t in [(2004, "plasc_2004"), (2012, "spring_census_2012"), (2013, "spring_census_2013"),
                                (2016, "spring_census_2016"), (2017, "spring_census_2017")]}
        assert db.census_long_sql(listing, years=years, columns=cols) == sql
        with pytest.raises(KeyError, match=r"census year\(s\) \[1999\] not available"):
            db.census_long_sql(con, years=[1999])
    assert list(sql_long.columns) == list(pandas_long.columns)
    pd.testing.assert_frame_equal(_normalise(sql_long), _normalise(pandas_long))
    tsql = db.to_srs_sql(sql, "12345", public="MyProject.dbo")
    sqlglot.parse_one(tsql, read="tsql")
    assert 'npd_i2."12345".plasc_2004' in tsql and "MyProject.dbo.lsoa01_lsoa11_lookup" in tsql
    assert "UNION ALL" in tsql


def test_census_view_without_lookup_maps_only_2011_codes(data_dir, valid):
    for year in (2011, 2014):
        frame = valid(f"spring_census_{year}", 3)
        (data_dir / "npd_i2").mkdir(exist_ok=True)
        frame.to_parquet(data_dir / "npd_i2" / f"spring_census_{year}.parquet", index=False)
    with db.connect(data_dir) as con:
        out = con.sql(f"SELECT census_year, lsoa_original, lsoa_vintage, lsoa11cd FROM {db.CENSUS_VIEW} "
                      "ORDER BY census_year").df()
    assert out["lsoa_vintage"].tolist() == ["2001"] * 3 + ["2011"] * 3
    assert out["lsoa11cd"].isna().tolist() == [True] * 3 + [False] * 3
    assert (out["lsoa11cd"].iloc[3:] == out["lsoa_original"].iloc[3:]).all()


def test_a_census_table_that_cannot_be_stacked_leaves_the_other_views(data_dir, valid):
    frame = valid("spring_census_2011", 3)
    frame["LSOA11_spr11"] = frame["LLSOA_spr11"]  # two LSOA vintages in one table: stack_census refuses
    (data_dir / "npd_i2").mkdir()
    frame.to_parquet(data_dir / "npd_i2" / "spring_census_2011.parquet", index=False)
    with pytest.warns(UserWarning, match=r"leokit\.census_long was not created: .*LLSOA"):
        con = db.connect(data_dir, extra="ignore")  # the extra column is what stack_census refuses
    with con:
        assert con.sql("SELECT count(*) FROM npd_i2.spring_census_2011").fetchall()[0][0] == 3


# ----------------------------------------------------------------------------------------------
# SRS names and T-SQL
# ----------------------------------------------------------------------------------------------
def test_srs_names(monkeypatch):
    monkeypatch.setenv(db.PROJECT_ENV_VAR, "777")
    assert db.srs_name("leo_earnings") == 'LEO_i2."777".leo_earnings'
    monkeypatch.delenv(db.PROJECT_ENV_VAR)
    assert db.srs_name("leo_earnings") == 'LEO_i2."<project number>".leo_earnings'
    assert db.srs_name("leo_earnings", "1234") == 'LEO_i2."1234".leo_earnings'
    assert db.srs_name("leo_earnings", 1234) == 'LEO_i2."1234".leo_earnings'  # a number is a project number
    assert db.srs_name("learners", "1234") == 'LILR_i2."1234".learners'
    assert db.srs_name("spring_census_2011", "1234") == 'npd_i2."1234".spring_census_2011'
    with pytest.raises(ValueError, match="not an SRS database"):
        db.srs_name("imd2019_lsoa11")
    sql = ("SELECT e.Edukey FROM leo_i2.leo_earnings e JOIN LEO_i2.learner_ae_id_to_edukey_lookup k "
           "ON e.Edukey = k.EDUKEY JOIN public.imd2019_lsoa11 i ON 1=1")
    out = db.to_srs_sql(sql, "1234", public="MyProj.dbo", pretty=False)
    assert 'LEO_i2."1234".leo_earnings AS e' in out
    assert 'LEO_i2."1234".learner_ae_id_to_edukey_lookup AS k' in out
    assert "MyProj.dbo.imd2019_lsoa11" in out and "e.Edukey" in out and "k.EDUKEY" in out
    assert db.to_srs_sql("SELECT * FROM public.x", pretty=False) == "SELECT * FROM public.x"
    assert db.to_srs_sql("SELECT * FROM truth.truth_person", pretty=False) == "SELECT * FROM truth.truth_person"
    assert 'LEO_i2."<project number>".leo_earnings' in db.to_srs_sql("SELECT 1 FROM leo_i2.leo_earnings")


@pytest.mark.parametrize("duck, tsql", [
    ("SELECT x FROM t LIMIT 10", "SELECT TOP 10 x FROM t"),
    ("SELECT x::INTEGER AS x FROM t", "SELECT CAST(x AS INTEGER) AS x FROM t"),
    ("SELECT x FROM t ORDER BY x NULLS LAST", "ORDER BY CASE WHEN x IS NULL THEN 1 ELSE 0 END, x"),
    ("SELECT x FROM t ORDER BY x DESC", "ORDER BY x DESC"),
    ("SELECT g, count(*) FROM t GROUP BY ALL", "GROUP BY g"),
    ("SELECT g AS k, count(*) FROM t GROUP BY k", "GROUP BY g"),
    ("SELECT year(d), count(*) FROM t GROUP BY 1", "GROUP BY YEAR(d)"),
    ("SELECT log(x), ln(x) FROM t", "SELECT LOG(x, 10), LOG(x) FROM t"),
    ("SELECT round(x) FROM t", "ROUND(x, 0)"),
    ("SELECT d + INTERVAL 30 DAY, d - INTERVAL 1 MONTH FROM t", "DATEADD(DAY, 30, d), DATEADD(MONTH, -1, d)"),
    ("SELECT date_diff('day', a, b) FROM t", "DATEDIFF(DAY, a, b)"),
    ("SELECT 7 / 2", "CAST(7 AS FLOAT) / 2"),
    ("SELECT count(*) FILTER (WHERE x > 1) FROM t", "COUNT(IIF(x > 1, 1, NULL))"),
    ("SELECT x FROM t QUALIFY row_number() OVER (PARTITION BY g ORDER BY x NULLS FIRST) = 1", "WHERE _w = 1"),
    ("CREATE OR REPLACE TABLE work.a AS SELECT 1 AS a", "DROP TABLE IF EXISTS work.a;"),
    ("SELECT g, median(x) AS m FROM t GROUP BY g",
     "SELECT DISTINCT g, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x ASC) OVER (PARTITION BY g) AS m FROM t"),
    ("SELECT quantile_disc(x, 0.9) FROM t", "PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY x ASC) OVER ()"),
])
def test_to_srs_sql_translates(duck, tsql):
    out = db.to_srs_sql(duck, "1", pretty=False)
    assert tsql in out, out
    for statement in out.split(";"):
        if statement.strip():
            sqlglot.parse_one(statement, read="tsql")


@pytest.mark.parametrize("duck, construct", [
    ("SELECT list_value(1, 2)", "list"),
    ("SELECT [1, 2] AS xs", "list"),
    ("SELECT unnest(xs) FROM t", "list"),
    ("SELECT quantile_cont(x, [0.25, 0.75]) FROM t", "list"),
    ("SELECT regexp_matches(s, 'L1') FROM t", "regular expressions"),
    ("SELECT s ILIKE 'a%' FROM t", "ILIKE"),
    ("SELECT * FROM a ASOF JOIN b ON a.t >= b.t", "ASOF JOIN"),
    ("SELECT * FROM a JOIN b USING (k)", "USING"),
    ("SELECT * EXCLUDE (a) FROM t", "EXCLUDE"),
    ("SELECT greatest(a, b) FROM t", "greatest"),
    ("SELECT isnan(x) FROM t", "isnan"),
    ("SELECT mode(x) FROM t", "mode"),
    ("SELECT bool_or(b) FROM t", "BOOL_OR"),
    ("SELECT stddev_pop(x) FROM t", "STDDEV_POP"),
    ("SELECT now()", "NOW"),
    ("SELECT contains(s, 'a') FROM t", "CONTAINS"),
    ("SELECT CAST(x AS HUGEINT) FROM t", "type INT128"),
    ("SELECT * FROM read_parquet('a.parquet')", "reading files"),
    ("SELECT median(x) OVER (PARTITION BY g ORDER BY d) FROM t", "OVER"),
    ("SELECT median(DISTINCT x) FROM t", "DISTINCT"),
    ("SELECT median(x) FILTER (WHERE x > 0) FROM t", "FILTER"),
    ("SELECT sum(x) OVER (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t", "NULLS LAST"),
    ("PRAGMA threads = 2", "PRAGMA"),
    ("SELEC x FROM t", "SQL"),
])
def test_to_srs_sql_refuses_naming_the_construct(duck, construct):
    with pytest.raises(db.SRSTranslationError, match=r"cannot translate|not valid DuckDB SQL") as err:
        db.to_srs_sql(duck)
    assert construct.lower() in str(err.value).lower(), str(err.value)


_ROUND_TRIP = [
    "SELECT g, median(x) AS m FROM t GROUP BY g",
    "SELECT median(x) AS m FROM t",
    "SELECT g, h, median(x) AS m, quantile_cont(x, 0.25) AS p25 FROM t GROUP BY ALL",
    "SELECT g, quantile_disc(x, 0.5) AS m FROM t WHERE x > 2 GROUP BY g",
    "SELECT g, count(*) AS n, avg(x) AS a, median(x) AS m FROM t GROUP BY g",
    "SELECT g, count(x) AS n, median(x) AS m FROM t GROUP BY g HAVING count(x) >= 3",
    "SELECT median(x) AS m FROM t GROUP BY g",  # keys not selected: the subquery form
    "SELECT t.g, u.label, count(*) AS n, median(t.x) AS m FROM t JOIN u ON u.g = t.g WHERE t.h = 'a' GROUP BY t.g, u.label",
    "SELECT g, x, median(x) OVER (PARTITION BY g) AS m FROM t",
    "SELECT g, sum(x) AS s FROM t GROUP BY 1 ORDER BY s DESC LIMIT 2",
    "SELECT g, x FROM t QUALIFY row_number() OVER (PARTITION BY g ORDER BY x DESC NULLS LAST) = 1",
    "SELECT g, count(*) FILTER (WHERE x > 3) AS n, 7 / 2 AS half, log(100) AS two FROM t GROUP BY g",
]


@pytest.mark.parametrize("duck", _ROUND_TRIP)
def test_to_srs_sql_keeps_the_meaning(duck):
    """Translated to T-SQL and read back into DuckDB, the query gives the same rows (checks the rewrites)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 'a', 1.0), ('a', 'b', 2.0), ('a', 'a', 10.0), "
                "('a', 'b', NULL), ('b', 'a', 3.0), ('b', 'a', 4.0), ('b', 'b', 8.0), ('b', 'a', 5.5), "
                "('c', 'a', 7.0)) v(g, h, x)")
    con.execute("CREATE TABLE u AS SELECT * FROM (VALUES ('a', 'A'), ('b', 'B'), ('c', 'C')) v(g, label)")
    tsql = db.to_srs_sql(duck, pretty=False)
    back = sqlglot.transpile(tsql, read=db.srs_dialect(), write="duckdb")[0]

    def rows(q):
        df = con.sql(q).df()
        df.columns = range(df.shape[1])
        return df.sort_values(list(df.columns)).reset_index(drop=True).astype(object)

    pd.testing.assert_frame_equal(rows(back), rows(duck), check_dtype=False)
    assert "median" not in tsql.lower() and "quantile" not in tsql.lower()


# ----------------------------------------------------------------------------------------------
# Validation (connect(validate=True), the default): the loader's checks, a bad table breaks only itself
# ----------------------------------------------------------------------------------------------
def _earnings_with(data_dir: Path, valid, **cells) -> Path:
    e = valid("leo_earnings", 6)
    for col, (row, value) in cells.items():
        e.loc[row, col] = value
    (data_dir / "leo_i2").mkdir(exist_ok=True)
    e.to_parquet(data_dir / "leo_i2" / "leo_earnings.parquet", index=False)
    return data_dir


def test_validation_reports_what_the_loader_reports(dbdir, valid):
    from leokit.errors import SchemaError
    from leokit.load import load_table

    _earnings_with(dbdir, valid, Earnings=(2, -250), TaxYear=(3, 199900))
    with pytest.warns(UserWarning, match=r"1 table\(s\) failed to read or to validate.*\n  leo_i2\.leo_earnings: "
                                         r"table 'leo_earnings', column 'TaxYear': expected values in \[200304, 202021\]"):
        con = db.connect(dbdir)
    with con:
        assert list(con.problems) == ["leo_i2.leo_earnings"] and con.validated
        err = con.problems["leo_i2.leo_earnings"]
        with pytest.raises(SchemaError) as loaded:
            load_table("leo_earnings", dbdir)
        assert [str(p) for p in err.problems] == [str(p) for p in loaded.value.problems]  # word for word
        assert str(err) == str(loaded.value)
        assert "found 1 row out of range (e.g. -250)" in str(err)
        with pytest.raises(SchemaError, match=r"column 'Earnings': expected values in \[0, 10000000\]"):
            con.sql("SELECT median(Earnings) FROM leo_i2.leo_earnings")
        with pytest.raises(SchemaError):  # any spelling of the name
            con.execute("SELECT * FROM LEO_I2.Leo_Earnings")
        # the other tables answer; the broken one keeps its columns for DESCRIBE / information_schema
        assert con.execute("SELECT count(*) FROM npd_i2.KS4Pupil_2002_to_2014").fetchone()[0] == 3
        cols = [r[0] for r in con.execute("DESCRIBE leo_i2.leo_earnings").fetchall()]
        assert cols[:3] == ["Edukey", "TaxYear", "Earnings"]
    with pytest.raises(SchemaError, match="column 'Earnings'"):
        with pytest.warns(UserWarning):
            db.query("SELECT count(*) FROM leo_i2.leo_earnings", dbdir)
    with pytest.warns(UserWarning):
        assert db.query("SELECT count(*) AS n FROM public.imd2019_lsoa11", dbdir)["n"].tolist() == [2]


def test_extra_columns_follow_the_loaders_extra_option(dbdir, valid):
    e = valid("leo_earnings", 6)
    e["my_note"] = "x"
    e.to_parquet(dbdir / "leo_i2" / "leo_earnings.parquet", index=False)
    with pytest.warns(UserWarning, match=r"column 'my_note': expected only declared columns"):
        db.connect(dbdir).close()
    with pytest.warns(UserWarning, match=r"1 undeclared column\(s\) not validated: \['my_note'\]"):
        con = db.connect(dbdir, extra="warn")
    with con:
        assert con.problems == {} and con.sql("SELECT count(my_note) FROM leo_i2.leo_earnings").fetchall()[0][0] == 6
    with db.connect(dbdir, extra="ignore") as con:
        assert con.problems == {}
    with pytest.raises(ValueError, match="extra must be"):
        db.connect(dbdir, extra="no")


def test_a_broken_table_stays_broken_in_a_file_database(dbdir, valid, tmp_path):
    _earnings_with(dbdir, valid, Earnings=(0, -1))
    path = str(tmp_path / "kit.duckdb")
    with pytest.warns(UserWarning):
        db.connect(dbdir, path).close()
    with db.connect(tmp_path / "unused", path, read_only=True) as con:  # no .problems: the view's own error
        assert con.problems == {}
        with pytest.raises(duckdb.Error, match=r"leokit\.db: the table leo_i2\.leo_earnings cannot be queried: "
                                               r"table 'leo_earnings', column 'Earnings'"):
            con.sql("SELECT count(*) FROM leo_i2.leo_earnings").fetchall()
        assert con.sql("SELECT count(*) FROM public.imd2019_lsoa11").fetchall()[0][0] == 2


def test_validation_keeps_the_views_and_casts_of_valid_files(dbdir):
    with db.connect(dbdir) as con:
        assert con.problems == {} and con.empty_tables == [] and con.unchecked == ["truth.truth_person"]
        assert "broken" not in repr(con)


def test_pandas_index_columns_are_dropped_as_the_loader_drops_them(dbdir, valid):
    e = valid("leo_earnings", 6)
    e.index = [3, 1, 4, 1, 5, 9]  # not a range: pandas stores it as a column
    e.to_parquet(dbdir / "leo_i2" / "leo_earnings.parquet")  # writes __index_level_0__
    assert "__index_level_0__" in pq.read_schema(dbdir / "leo_i2" / "leo_earnings.parquet").names
    with db.connect(dbdir) as con:
        assert con.problems == {}
        cols = [r[0] for r in con.execute("DESCRIBE leo_i2.leo_earnings").fetchall()]
        assert "__index_level_0__" not in cols and len(cols) == len(e.columns)


def test_an_unreadable_undeclared_table_is_broken_alone(dbdir):
    (dbdir / "truth").mkdir(exist_ok=True)
    (dbdir / "truth" / "truth_extra.parquet").write_bytes(b"PAR1 not really")
    with pytest.warns(UserWarning, match=r"truth\.truth_extra: table 'truth_extra': expected a readable Parquet file"):
        con = db.connect(dbdir)
    with con:
        assert list(con.problems) == ["truth.truth_extra"]
        with pytest.raises(db.SchemaError, match="readable Parquet"):
            con.sql("SELECT * FROM truth.truth_extra")
        assert con.sql("SELECT sum(x) FROM truth.truth_person").fetchall()[0][0] == 3
