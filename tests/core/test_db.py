"""DuckDB views named like the SRS databases, and the SQL Server name mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from leokit import db


@pytest.fixture
def dbdir(valid, write, data_dir):
    e = valid("leo_earnings", 6)
    write(e, data_dir, "leo_earnings")  # leo_i2/
    write(valid("KS4Pupil_2002_to_2014", 3), data_dir, "KS4Pupil_2002_to_2014")  # npd_i2/
    write(valid("imd2019_lsoa11", 2), data_dir, "imd2019_lsoa11", "")  # top level -> schema from leokit.schema
    write(pd.DataFrame({"x": [1, 2]}), data_dir, "truth_person", "")  # undeclared truth table
    return data_dir


def test_views_and_schemas(dbdir):
    v = db.views(dbdir)
    assert dict(zip(v["table"], v["schema"])) == {"KS4Pupil_2002_to_2014": "npd_i2", "imd2019_lsoa11": "public",
                                                  "leo_earnings": "leo_i2", "truth_person": "truth"}
    con = db.connect(dbdir)
    try:
        assert con.execute("SELECT count(*) FROM leo_i2.leo_earnings").fetchone()[0] == 6
        assert con.execute("SELECT count(*) FROM npd_i2.ks4pupil_2002_to_2014").fetchone()[0] == 3  # case-insensitive
        assert con.execute("SELECT count(*) FROM public.imd2019_lsoa11").fetchone()[0] == 2
        assert con.execute("SELECT sum(x) FROM truth.truth_person").fetchone()[0] == 3
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        assert set(db.SCHEMAS) <= schemas
    finally:
        con.close()


def test_query_returns_dataframe(dbdir):
    df = db.query("SELECT Edukey, TaxYear FROM leo_i2.leo_earnings WHERE TaxYear >= ? ORDER BY TaxYear",
                  dbdir, params=[200306])
    assert isinstance(df, pd.DataFrame) and df["TaxYear"].tolist() == [200306, 200307, 200308, 200309]


def test_file_database(dbdir, tmp_path):
    path = str(tmp_path / "kit.duckdb")
    db.connect(dbdir, path).close()
    con = db.connect(dbdir, path)  # views replaced, not duplicated
    assert con.execute("SELECT count(*) FROM leo_i2.leo_earnings").fetchone()[0] == 6
    con.close()


def test_srs_names(monkeypatch):
    monkeypatch.setenv(db.PROJECT_ENV_VAR, "777")
    assert db.srs_name("leo_earnings") == 'LEO_i2."777".leo_earnings'
    monkeypatch.delenv(db.PROJECT_ENV_VAR)
    assert db.srs_name("leo_earnings") == 'LEO_i2."<project number>".leo_earnings'
    assert db.srs_name("leo_earnings", "1234") == 'LEO_i2."1234".leo_earnings'
    assert db.srs_name("learners", "1234") == 'LILR_i2."1234".learners'
    assert db.srs_name("spring_census_2011", "1234") == 'npd_i2."1234".spring_census_2011'
    with pytest.raises(ValueError, match="not an SRS database"):
        db.srs_name("imd2019_lsoa11")
    sql = ("SELECT e.Edukey FROM leo_i2.leo_earnings e JOIN LEO_i2.learner_ae_id_to_edukey_lookup k "
           "ON e.Edukey = k.EDUKEY JOIN public.imd2019_lsoa11 i ON 1=1")
    out = db.to_srs_sql(sql, "1234", public="MyProj.dbo")
    assert 'LEO_i2."1234".leo_earnings e' in out
    assert 'LEO_i2."1234".learner_ae_id_to_edukey_lookup k' in out
    assert "MyProj.dbo.imd2019_lsoa11" in out and "e.Edukey" in out and "k.EDUKEY" in out
    assert db.to_srs_sql("SELECT * FROM public.x") == "SELECT * FROM public.x"


def test_float_nan_is_sql_null(write, data_dir):
    import pyarrow as pa
    import pyarrow.parquet as pq

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


def test_empty_data_folder_and_read_only(data_dir, tmp_path):
    con = db.connect(data_dir)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'leo_i2'").fetchone()[0] == 0
    con.close()
    path = str(tmp_path / "ro.duckdb")
    db.connect(data_dir, path).close()
    db.connect(data_dir, path, read_only=True).close()
