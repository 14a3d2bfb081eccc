"""The SQL versions of the core outcomes give the same results as the pandas functions (run in DuckDB)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

import leokit.derive as d
from leokit import db
from leokit.derive import sql as dsql


def _random_tables(seed: int, n_people: int = 60):
    rng = np.random.default_rng(seed)
    lookup = pd.DataFrame({"AE_ID": np.arange(n_people, dtype="int64"), "EDUKEY": [f"E{i}" for i in range(n_people)]})
    # a few people with a second EDUKEY, and a duplicate lookup row
    extra = pd.DataFrame({"AE_ID": [0, 1, 2, 9], "EDUKEY": ["E0b", "E1b", "E2b", "E3"]})  # E3 has 2 owners
    lookup = pd.concat([lookup, extra, lookup.iloc[[5]]], ignore_index=True)
    keys = lookup["EDUKEY"].unique().tolist() + ["UNMATCHED"]
    n = 400
    earn = pd.DataFrame({
        "Edukey": rng.choice(keys, n),
        "TaxYear": d.taxyear_code(rng.integers(2005, 2021, n)),
        "Earnings": rng.integers(-100, 40_000, n).astype("float64"),
    })
    earn.loc[rng.random(n) < 0.05, "Earnings"] = np.nan
    earn = earn.drop_duplicates(["Edukey", "TaxYear"]).reset_index(drop=True)
    sa = pd.DataFrame({
        "Edukey": rng.choice(keys, 150), "TaxYear": d.taxyear_code(rng.integers(2010, 2021, 150)),
        "EARNINGS_SELF_EMPLOYMENT": rng.integers(-2_000, 20_000, 150).astype("float64"),
    })
    sa.loc[rng.random(150) < 0.2, "EARNINGS_SELF_EMPLOYMENT"] = np.nan
    sa = sa.drop_duplicates(["Edukey", "TaxYear"]).reset_index(drop=True)
    start = pd.Timestamp("2004-01-01") + pd.to_timedelta(rng.integers(0, 16 * 365, 300), unit="D")
    length = pd.to_timedelta(rng.choice([0, 3, 20, 45, 100, 150, 200, 400, 900], 300), unit="D")
    emp = pd.DataFrame({"EduKey": rng.choice(keys, 300), "StartDate": start, "EndDate": start + length})
    emp.loc[rng.random(300) < 0.05, "EndDate"] = pd.NaT
    emp.loc[emp["EndDate"] > pd.Timestamp("2021-04-05"), "EndDate"] = pd.Timestamp("2021-04-05")
    return lookup, earn, sa, emp


def _connect(lookup, earn, sa, emp):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA leo_i2")
    for name, frame in (("learner_ae_id_to_edukey_lookup", lookup), ("leo_earnings", earn),
                        ("leo_self_assessment", sa), ("leo_employment", emp)):
        con.register(f"_{name}", frame)
        con.execute(f"CREATE TABLE leo_i2.{name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    return con


def _norm(df, keys):
    out = df.sort_values(keys).reset_index(drop=True)
    for c in out.columns:
        if pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype("float64")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_equals_pandas(seed):
    lookup, earn, sa, emp = _random_tables(seed)
    con = _connect(lookup, earn, sa, emp)
    keys = ["AE_ID", "TaxYear"]

    paye_pd = d.annual_paye_earnings(earn, lookup)
    paye_sql = dsql.run_sql(con, "paye_earnings")
    pd.testing.assert_frame_equal(_norm(paye_sql, keys), _norm(paye_pd, keys), check_dtype=False)

    tot_pd = d.total_earnings(paye_pd, d.sa_earnings(sa, lookup))
    tot_sql = dsql.run_sql(con, "total_earnings")
    pd.testing.assert_frame_equal(_norm(tot_sql, keys), _norm(tot_pd, keys), check_dtype=False)

    sus_pd = d.sustained_employment(emp, lookup)
    sus_sql = dsql.run_sql(con, "sustained_employment")
    pd.testing.assert_frame_equal(_norm(sus_sql, keys), _norm(sus_pd, keys), check_dtype=False)
    assert sus_pd["sustained_employment"].sum() > 0 and (sus_pd["sustained_employment"] == 0).sum() > 0

    grads = pd.DataFrame({"AE_ID": np.r_[np.arange(0, 60, 3), 10_000, 10_003],  # the last two own no EDUKEY
                          "graduation_year": np.resize([2008, 2010, 2012, 2015, 2019], 22)})
    yag_sql = dsql.run_core_outcomes(con, grads)
    yag_pd = d.outcomes_yag(grads, [paye_pd[keys + ["paye_earnings"]], sus_pd[keys + ["sustained_employment"]]],
                            edukey_map=lookup)
    assert {"linked", "has_record", "linkage_status"} <= set(yag_sql.columns)
    assert (yag_sql.loc[yag_sql["AE_ID"] >= 10_000, "linkage_status"] == "not linkable").all()
    k = ["AE_ID", "yag"]
    pd.testing.assert_frame_equal(_norm(yag_sql, k), _norm(yag_pd, k)[list(yag_sql.columns)], check_dtype=False)


def test_sql_hand_made_boundaries():
    lookup = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": ["E1", "E2"]})
    emp = pd.DataFrame({"EduKey": ["E1", "E2"], "StartDate": pd.to_datetime(["2016-10-01", "2016-10-01"]),
                        "EndDate": pd.to_datetime(["2017-02-28", "2017-01-31"])})
    earn = pd.DataFrame({"Edukey": ["E1"], "TaxYear": [201617], "Earnings": [0.0]})
    sa = pd.DataFrame({"Edukey": ["E1"], "TaxYear": [201213], "EARNINGS_SELF_EMPLOYMENT": [100.0]})
    con = _connect(lookup, earn, sa, emp)
    sus = dsql.run_sql(con, "sustained_employment").set_index("AE_ID")
    assert sus.loc[1, "sustained_employment"] == 1 and sus.loc[2, "sustained_employment"] == 0
    assert dsql.run_sql(con, "total_earnings")["total_earnings"].tolist() == [0]  # SA before 2013/14 ignored


def test_render_for_srs():
    txt = dsql.render(dsql.read_sql("paye_earnings"), dsql.srs_prefixes("12345"))
    assert 'LEO_i2."12345".leo_earnings' in txt and "leo_i2.leo" not in txt
    assert "LIMIT" not in txt.upper()
    for q in dsql.QUERIES:
        body = dsql.read_sql(q).lower()
        for duck_only in ("date_diff", "make_date", "strftime", "::", "limit ", "list_", "epoch"):
            assert duck_only not in body, (q, duck_only)
    with pytest.raises(ValueError):
        dsql.srs_prefixes("1; drop table x")


def test_to_srs_sql_of_the_portable_queries_names_the_same_tables_as_render():
    for q in dsql.QUERIES:
        txt = dsql.read_sql(q)
        rendered = dsql.render(txt, dsql.srs_prefixes("12345"))
        translated = db.to_srs_sql(txt, "12345")
        tables = {t.sql(dialect="tsql") for t in sqlglot.parse_one(rendered, read="tsql").find_all(sqlglot.exp.Table)}
        assert tables == {t.sql(dialect="tsql")
                          for t in sqlglot.parse_one(translated, read="tsql").find_all(sqlglot.exp.Table)}
        assert any("12345" in t for t in tables) or q == "outcomes_yag"


def test_sql_parses_as_tsql():
    """The rendered portable SQL and its to_srs_sql translation both parse as T-SQL (sqlglot is a dependency)."""
    for q in dsql.QUERIES:
        sqlglot.parse_one(dsql.render(dsql.read_sql(q), dsql.srs_prefixes("12345")), read="tsql")
        sqlglot.parse_one(db.to_srs_sql(dsql.read_sql(q), "12345"), read="tsql")


@pytest.mark.parametrize("seed", [4])
def test_srs_sql_gives_the_pandas_results(seed):
    """to_srs_sql's T-SQL, run on tables named as in the SRS (LEO_i2."12345".*), equals the pandas functions.

    The T-SQL is read back into DuckDB by sqlglot (no SQL Server here); the tables sit in an attached
    database called LEO_i2 with a schema "12345", so the three-part SRS names resolve as they would there.
    """
    lookup, earn, sa, emp = _random_tables(seed)
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS LEO_i2")
    con.execute('CREATE SCHEMA LEO_i2."12345"')
    for name, frame in (("learner_ae_id_to_edukey_lookup", lookup), ("leo_earnings", earn),
                        ("leo_self_assessment", sa), ("leo_employment", emp)):
        con.register("_f", frame)
        con.execute(f'CREATE TABLE LEO_i2."12345".{name} AS SELECT * FROM _f')
        con.unregister("_f")
    keys = ["AE_ID", "TaxYear"]

    def srs(q):
        back = sqlglot.transpile(db.to_srs_sql(dsql.read_sql(q), "12345"), read=db.srs_dialect(), write="duckdb")[0]
        return con.execute(back).df()

    paye_pd = d.annual_paye_earnings(earn, lookup)
    pd.testing.assert_frame_equal(_norm(srs("paye_earnings"), keys), _norm(paye_pd, keys), check_dtype=False)
    tot_pd = d.total_earnings(paye_pd, d.sa_earnings(sa, lookup))
    pd.testing.assert_frame_equal(_norm(srs("total_earnings"), keys), _norm(tot_pd, keys), check_dtype=False)
    sus_pd = d.sustained_employment(emp, lookup)
    pd.testing.assert_frame_equal(_norm(srs("sustained_employment"), keys), _norm(sus_pd, keys), check_dtype=False)
