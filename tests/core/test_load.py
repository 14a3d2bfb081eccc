"""Loader and validator: every class of bad input raises SchemaError naming table and column;
census stacking with drift columns; census and KS4 de-duplication."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leokit.paths as paths
from leokit import schema as S
from leokit.errors import DropReport, SchemaError, TableNotFoundError
from leokit.load import (
    arrow_to_pandas,
    census_tables,
    dedup_census,
    dedup_ks4,
    list_tables,
    load_table,
    stack_census,
    stack_hesa,
    stack_ks4,
    validate,
)

REPO_DATA = Path(__file__).resolve().parents[2] / "data_synthetic"

ALL_NAMES = sorted(S.registered_schemas()) + [
    "plasc_2004", "spring_census_2008", "spring_census_2011", "spring_census_2013",
    "spring_census_2016", "spring_census_2018", "hesa_2010", "hesa_2014", "hesa_2020",
]


def _err(fn, *a, **k) -> SchemaError:
    with pytest.raises(SchemaError) as ei:
        fn(*a, **k)
    return ei.value


# ----------------------------------------------------------------------------------------------
# good tables
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_NAMES)
def test_valid_tiny_table_round_trips(name, valid, write, data_dir):
    df = valid(name)
    validate(df, name)
    write(df, data_dir, name)
    got = load_table(name, data_dir)
    assert list(got.columns) == list(df.columns)
    assert len(got) == len(df)
    for c in S.get_schema(name).columns:
        if c.kind == "date":
            assert str(got[c.name].dtype) == "datetime64[ns]"


def test_validate_returns_frame_unchanged(valid):
    df = valid("leo_earnings")
    before = df.copy()
    assert validate(df, "leo_earnings") is df
    pd.testing.assert_frame_equal(df, before)


# ----------------------------------------------------------------------------------------------
# each class of bad input
# ----------------------------------------------------------------------------------------------
def test_missing_column(valid):
    df = valid("leo_earnings").drop(columns="Earnings")
    e = _err(validate, df, "leo_earnings")
    assert "table 'leo_earnings', column 'Earnings'" in str(e)
    assert e.problems[0].check == "missing"
    assert isinstance(e, ValueError)


def test_renamed_column_gets_hint(valid):
    df = valid("leo_earnings").rename(columns={"Earnings": "Earning"})
    e = _err(validate, df, "leo_earnings")
    assert "column 'Earnings'" in str(e) and "did you mean 'Earning'" in str(e)
    # the renamed column is reported once (as the hint), not also as an unexpected extra
    assert [p.check for p in e.problems] == ["missing"]


def test_case_only_rename_hint(valid):
    df = valid("learner_ae_id_to_edukey_lookup").rename(columns={"EDUKEY": "Edukey"})
    e = _err(validate, df, "learner_ae_id_to_edukey_lookup")
    assert "differs only in letter case" in str(e)


@pytest.mark.parametrize("col,bad,needle", [
    ("TaxYear", ["x", "y", "z", "w"], "kind int"),        # text in an int column
    ("Earnings", [1.5, 2.0, 3.0, 4.0], "non-whole"),      # fractional values in an int column
    ("Edukey", [1, 2, 3, 4], "kind str"),                  # numbers in a str column
])
def test_wrong_kind(valid, col, bad, needle):
    df = valid("leo_earnings")
    df[col] = bad
    e = _err(validate, df, "leo_earnings")
    assert f"column '{col}'" in str(e) and needle in str(e)
    assert e.problems[0].check == "kind"


def test_wrong_kind_date_and_bool(valid):
    df = valid("leo_employment")
    df["StartDate"] = df["StartDate"].dt.strftime("%Y-%m-%d")
    df["UncertainStartDate"] = [True, False, True, False]
    e = _err(validate, df, "leo_employment")
    assert {p.column for p in e.problems} == {"StartDate", "UncertainStartDate"}
    assert "kind date" in str(e) and "booleans" in str(e)


def test_python_dates_not_accepted_in_memory(valid):
    df = valid("leo_employment")
    df["StartDate"] = [dt.date(2010, 1, 1)] * 4
    e = _err(validate, df, "leo_employment")
    assert "pd.to_datetime" in str(e)


def test_duplicate_key(valid):
    df = valid("leo_earnings")
    df.loc[1, ["Edukey", "TaxYear"]] = df.loc[0, ["Edukey", "TaxYear"]].to_numpy()
    e = _err(validate, df, "leo_earnings")
    assert "table 'leo_earnings', column 'Edukey, TaxYear'" in str(e)
    assert "unique key" in str(e) and "2 rows" in str(e)


def test_out_of_range_message_format(valid):
    df = valid("leo_earnings")
    df["TaxYear"] = [199900, 199900, 199900, 200405]
    e = _err(validate, df, "leo_earnings")
    assert str(e) == ("table 'leo_earnings', column 'TaxYear': expected values in [200304, 202021], "
                      "found 3 rows out of range (e.g. 199900)")


def test_date_out_of_range(valid):
    df = valid("leo_employment")
    df.loc[0, "StartDate"] = pd.Timestamp("1990-01-01")
    e = _err(validate, df, "leo_employment")
    assert "column 'StartDate'" in str(e) and "1990-01-01" in str(e)


def test_disallowed_code(valid):
    df = valid("leo_benefit")
    df.loc[2, "Benefit_type"] = "XYZ"
    e = _err(validate, df, "leo_benefit")
    assert "column 'Benefit_type'" in str(e) and "'XYZ'" in str(e) and e.problems[0].check == "values"


def test_null_in_non_nullable(valid):
    df = valid("leo_earnings")
    df["Edukey"] = df["Edukey"].astype(object)
    df.loc[0, "Edukey"] = None
    e = _err(validate, df, "leo_earnings")
    assert "column 'Edukey'" in str(e) and "not nullable" in str(e)


def test_extra_column_error_warn_ignore(valid):
    df = valid("leo_earnings").assign(tied_main_record_enterprise_sic_fg=1)
    e = _err(validate, df, "leo_earnings")
    assert "column 'tied_main_record_enterprise_sic_fg'" in str(e) and e.problems[0].check == "extra"
    validate(df, "leo_earnings", extra="ignore")
    with pytest.warns(UserWarning, match="undeclared"):
        validate(df, "leo_earnings", extra="warn")


def test_require_all_false_checks_present_columns_only(valid):
    df = valid("leo_earnings")[["Edukey", "TaxYear"]]
    validate(df, "leo_earnings", require_all=False)
    df.loc[0, "TaxYear"] = 1
    with pytest.raises(SchemaError, match="TaxYear"):
        validate(df, "leo_earnings", require_all=False)


def test_all_problems_collected_in_one_error(valid):
    df = valid("leo_earnings").drop(columns="Num_Employments")
    df.loc[0, "TaxYear"] = 1
    df.loc[1, "Main_Section"] = "??"
    df["Earnings"] = df["Earnings"].astype(float)
    df.loc[2, "Earnings"] = 0.5
    e = _err(validate, df, "leo_earnings")
    assert set(e.columns) == {"Num_Employments", "TaxYear", "Main_Section", "Earnings"}
    assert str(e).startswith("table 'leo_earnings': 4 schema problems:")
    assert all(line.strip().startswith("- table 'leo_earnings', column") for line in str(e).splitlines()[1:])


def test_int_with_nulls_as_float_is_accepted(valid):
    df = valid("leo_earnings")
    df["Earnings"] = [1000.0, np.nan, 3.0, 0.0]
    validate(df, "leo_earnings")
    df["Earnings"] = pd.array([1000, None, 3, 0], dtype="Int64")
    validate(df, "leo_earnings")


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_str_dtypes_accepted(valid, dtype):
    df = valid("learner_ae_id_to_edukey_lookup")
    try:
        df["EDUKEY"] = df["EDUKEY"].astype(dtype)
    except TypeError:  # pragma: no cover - "str" dtype alias unknown to an old pandas
        pytest.skip(f"dtype {dtype!r} unavailable")
    validate(df, "learner_ae_id_to_edukey_lookup")


def test_categorical_not_accepted(valid):
    df = valid("learner_ae_id_to_edukey_lookup")
    df["EDUKEY"] = df["EDUKEY"].astype("category")
    assert "category" in str(_err(validate, df, "learner_ae_id_to_edukey_lookup"))


def test_synthetic_only_columns_optional_but_checked(valid):
    df = valid("ucas_applications")
    validate(df.drop(columns=["syn_offer_grades_required", "syn_contextual_offer_flag"]), "ucas_applications")
    df["syn_contextual_offer_flag"] = [0, 1, 2, 1]
    assert "syn_contextual_offer_flag" in str(_err(validate, df, "ucas_applications"))


def test_duplicate_column_names(valid):
    df = valid("learner_ae_id_to_edukey_lookup")
    df = pd.concat([df, df[["EDUKEY"]]], axis=1)
    assert "each column name once" in str(_err(validate, df, "learner_ae_id_to_edukey_lookup"))


def test_census_schema_family(valid):
    df = valid("spring_census_2011")
    validate(df, "spring_census_2011")
    e = _err(validate, df, "spring_census_2016")  # wrong year: every column differs
    assert "spring_census_2016" in str(e) and "_spr16" in str(e)


# ----------------------------------------------------------------------------------------------
# names, files, folders
# ----------------------------------------------------------------------------------------------
def test_unknown_table_lists_near_matches(data_dir):
    with pytest.raises(TableNotFoundError, match="did you mean 'leo_earnings'"):
        load_table("leo_earning", data_dir)
    with pytest.raises(SchemaError):  # TableNotFoundError is a SchemaError ...
        validate(pd.DataFrame(), "KS4Pupil_2002_2014")
    with pytest.raises(LookupError):  # ... and a LookupError
        validate(pd.DataFrame(), "nope")


def test_missing_file_and_ambiguous_stem(valid, write, data_dir):
    with pytest.raises(TableNotFoundError, match="no file leo_earnings.parquet"):
        load_table("leo_earnings", data_dir)
    df = valid("leo_earnings")
    write(df, data_dir, "leo_earnings", "leo_i2")
    write(df, data_dir, "leo_earnings", "copy")
    with pytest.raises(TableNotFoundError, match="ambiguous"):
        load_table("leo_earnings", data_dir)
    assert len(load_table("leo_i2.leo_earnings", data_dir)) == len(df)  # schema-qualified: not ambiguous
    with pytest.raises(TableNotFoundError):
        load_table("npd_i2.leo_earnings", data_dir)


def test_finds_stem_at_any_depth_and_skips_hidden(valid, write, data_dir):
    df = valid("idbr_lookup")
    write(df, data_dir / "a" / "b", "idbr_lookup", "leo_i2")
    write(df, data_dir, "idbr_lookup", ".ipynb_checkpoints")
    assert len(load_table("idbr_lookup", data_dir)) == len(df)
    assert list_tables(data_dir) == ["idbr_lookup"]


def test_list_tables_details(valid, write, data_dir):
    write(valid("leo_earnings", 5), data_dir, "leo_earnings")
    write(valid("imd2019_lsoa11", 3), data_dir, "imd2019_lsoa11", "")
    t = list_tables(data_dir, details=True)
    assert list(t["name"]) == ["imd2019_lsoa11", "leo_earnings"]
    assert list(t["database"]) == ["public", "leo_i2"]
    assert list(t["rows"]) == [3, 5]


def test_default_data_dir_and_env_override(monkeypatch, valid, write, data_dir):
    monkeypatch.delenv(paths.ENV_VAR, raising=False)
    assert paths.default_data_dir() == REPO_DATA
    write(valid("geography"), data_dir, "geography")
    monkeypatch.setenv(paths.ENV_VAR, str(data_dir))
    assert paths.default_data_dir() == data_dir.resolve()
    assert len(load_table("geography")) == 4


def test_unknown_schema_needs_validate_false(write, data_dir):
    write(pd.DataFrame({"x": [1]}), data_dir, "other_thing", "main")
    with pytest.raises(TableNotFoundError):
        load_table("other_thing", data_dir)
    assert load_table("other_thing", data_dir, validate=False)["x"].tolist() == [1]
    # truth_* answer keys have no declared schema: read without validation
    write(pd.DataFrame({"x": [2]}), data_dir, "truth_something", "truth")
    assert load_table("truth_something", data_dir)["x"].tolist() == [2]


def test_all_missing_object_column_passes_any_kind(valid):
    df = valid("leo_earnings")
    df["Earnings"] = pd.Series([None] * 4, dtype=object)  # all NULL through pyodbc
    validate(df, "leo_earnings")


def test_columns_subset(valid, write, data_dir):
    write(valid("leo_earnings"), data_dir, "leo_earnings")
    got = load_table("leo_earnings", data_dir, columns=["Edukey", "TaxYear"])
    assert list(got.columns) == ["Edukey", "TaxYear"]
    with pytest.raises(SchemaError, match="did you mean 'TaxYear'"):
        load_table("leo_earnings", data_dir, columns=["Taxyear"])


# ----------------------------------------------------------------------------------------------
# Parquet -> pandas conversion rules
# ----------------------------------------------------------------------------------------------
def test_arrow_conversion_rules():
    t = pa.table({
        "d": pa.array([dt.date(2010, 1, 2), None], pa.date32()),
        "s": pa.array(["a", None]),
        "i": pa.array([1, None], pa.int64()),
        "j": pa.array([1, 2], pa.int32()),
        "b": pa.array([True, None]),
        "b2": pa.array([True, False]),
        "dec": pa.array([1, None], pa.decimal128(5, 2)),
        "cat": pa.array(["x", "y"]).dictionary_encode(),
        "__index_level_0__": pa.array([0, 1]),
    })
    df = arrow_to_pandas(t)
    assert str(df["d"].dtype) == "datetime64[ns]" and df["d"].iloc[0] == pd.Timestamp("2010-01-02")
    assert df["i"].dtype == "float64" and np.isnan(df["i"].iloc[1])
    assert pd.api.types.is_integer_dtype(df["j"].dtype)
    assert df["b"].dtype == "float64" and df["b2"].dtype == "int64"
    assert df["dec"].dtype == "float64"
    assert not isinstance(df["cat"].dtype, pd.CategoricalDtype)
    assert "__index_level_0__" not in df.columns
    assert df["s"].iloc[0] == "a" and pd.isna(df["s"].iloc[1])


def test_loaded_int_with_nulls_validates(valid, write, data_dir):
    df = valid("leo_self_assessment")
    df["EARNINGS_PTR"] = pd.array([None, 5, None, 7], dtype="Int64")  # writer's nullable ints
    write(df, data_dir, "leo_self_assessment")
    got = load_table("leo_self_assessment", data_dir)
    assert got["EARNINGS_PTR"].dtype == "float64"


# ----------------------------------------------------------------------------------------------
# Census stacking
# ----------------------------------------------------------------------------------------------
def _census(valid, year, pmrs, lsoas, idaci, status=None):
    df = valid(S.census_table_name(year), len(pmrs))
    sfx = S.census_suffix(year)
    df[f"PupilMatchingRefAnonymous{sfx}"] = pmrs
    lcol = f"LLSOA{sfx}" if year <= 2012 else f"LSOA11{sfx}"
    df[lcol] = lsoas
    icol = [c for c in df.columns if c.startswith("IDACIScore")][0]
    df[icol] = idaci
    df[f"RecordStatus{sfx}"] = status if status is not None else [1] * len(pmrs)
    return df


@pytest.fixture
def census_dir(valid, write, data_dir):
    write(_census(valid, 2004, ["p1", "p2"], ["E01000001", None], [0.1, 0.2]), data_dir, "plasc_2004")
    write(_census(valid, 2011, ["p1", "p2", "p2"], ["E01000001", "E01000002", "E01000009"], [0.1, np.nan, 0.3],
                  status=[1, 1, 101]), data_dir, "spring_census_2011")
    write(_census(valid, 2016, ["p1", "p2"], ["E01100001", "E01100002"], [0.4, 0.5]), data_dir, "spring_census_2016")
    write(_census(valid, 2017, ["p1", "p2"], ["E01100001", "E01100003"], [0.4, 0.5]), data_dir, "spring_census_2017")
    lk = pd.DataFrame({"lsoa01cd": ["E01000001", "E01000002", "E01000002"],
                       "lsoa11cd": ["E01100001", "E01100003", "E01100002"], "chgind": ["U", "S", "S"]})
    write(lk, data_dir, "lsoa01_lsoa11_lookup")
    return data_dir


def test_census_tables_found(census_dir):
    assert census_tables(census_dir) == {2004: "plasc_2004", 2011: "spring_census_2011",
                                         2016: "spring_census_2016", 2017: "spring_census_2017"}


def test_stack_census_harmonises_drift(census_dir):
    long, rep = stack_census(data_dir=census_dir, report=True)
    assert isinstance(rep, DropReport) and rep.rows_in == rep.rows_out == 9
    assert long["census_year"].tolist() == [2004] * 2 + [2011] * 3 + [2016] * 2 + [2017] * 2
    assert not any(re.search(r"_(spr)?\d\d$", c) for c in long.columns)
    for c in ("PupilMatchingRefAnonymous", "RecordStatus", "idaci_score", "idaci_rank", "idaci_vintage",
              "lsoa_original", "lsoa_vintage", "lsoa11cd", "lsoa11_ambiguous"):
        assert c in long.columns
    assert not {"LLSOA", "LSOA11", "IDACIScore", "IDACIScore_10", "IDACIScore_15"} & set(long.columns)
    vint = [v if isinstance(v, str) else None for v in long["idaci_vintage"]]
    assert vint == ["2007", "2007", "2007", None, "2007", "2010", "2010", "2015", "2015"]  # None: score missing
    assert long.loc[long.census_year == 2016, "idaci_score"].tolist() == [0.4, 0.5]
    y11 = long[long.census_year == 2011]
    assert y11["lsoa_vintage"].tolist() == ["2001"] * 3
    assert y11["lsoa_original"].tolist() == ["E01000001", "E01000002", "E01000009"]
    # U -> the one code; S -> smallest 2011 code, flagged; not in lookup -> missing
    assert y11["lsoa11cd"].iloc[0] == "E01100001" and not y11["lsoa11_ambiguous"].iloc[0]
    assert y11["lsoa11cd"].iloc[1] == "E01100002" and y11["lsoa11_ambiguous"].iloc[1]
    assert pd.isna(y11["lsoa11cd"].iloc[2])
    y17 = long[long.census_year == 2017]
    assert y17["lsoa_vintage"].tolist() == ["2011"] * 2
    assert y17["lsoa11cd"].tolist() == y17["lsoa_original"].tolist()
    assert rep.counts["2001 LSOA not in lookup"] == 1


def test_stack_census_in_memory_lowercase_real_names(valid):
    """Real SRS pulls: lower-case column names, only some columns, extra undeclared columns."""
    df = _census(valid, 2013, ["p1", "p2"], ["E01100001", None], [0.2, 0.3])
    df = df[["PupilMatchingRefAnonymous_spr13", "RecordStatus_spr13", "LSOA11_spr13", "IDACIScore_spr13"]]
    df.columns = [c.lower() for c in df.columns]
    df["someothervar_spr13"] = 1
    long = stack_census(tables={2013: df})
    assert {"PupilMatchingRefAnonymous", "RecordStatus", "lsoa11cd", "idaci_score", "someothervar"} <= set(long.columns)
    assert long["lsoa11cd"].iloc[0] == "E01100001"


def test_stack_census_in_memory_is_validated_ignoring_case(valid):
    df = _census(valid, 2013, ["p1", "p2"], ["E01100001", None], [0.2, 1.7])  # IDACI score > 1
    df.columns = [c.lower() for c in df.columns]
    with pytest.raises(SchemaError, match="column 'IDACIScore_spr13'"):
        stack_census(tables={2013: df})


def test_match_case():
    from leokit.load import match_case

    df = pd.DataFrame({"edukey": ["a"], "TAXYEAR": [200405], "other": [1]})
    assert list(match_case(df, "leo_earnings").columns) == ["Edukey", "TaxYear", "other"]


def test_stack_census_columns_and_missing_year(census_dir):
    long = stack_census([2016, 2017], census_dir, columns=["PupilMatchingRefAnonymous", "idaci_score"])
    assert list(long.columns) == ["census_year", "PupilMatchingRefAnonymous", "idaci_score", "idaci_vintage"]
    with pytest.raises(TableNotFoundError, match="2012"):
        stack_census([2012], census_dir)


def test_dedup_census(census_dir):
    long = stack_census(data_dir=census_dir)
    extra = long.iloc[[0]].assign(OnRoll=0)  # second main record for p1 in 2004 (OnRoll absent in 2004 -> NaN)
    long = pd.concat([long, extra], ignore_index=True)
    out, rep = dedup_census(long, report=True)
    assert rep.rows_in == 10 and rep.rows_out == 8
    assert rep.dropped["RecordStatus not in (1,) (not a main record)"] == 1
    assert rep.dropped["duplicate main record for pupil and year"] == 1
    rep.check()
    assert not out.duplicated(["PupilMatchingRefAnonymous", "census_year"]).any()
    with pytest.raises(SchemaError, match="RecordStatus"):
        dedup_census(long.drop(columns="RecordStatus"))


def test_dedup_census_prefers_on_roll():
    long = pd.DataFrame({"PupilMatchingRefAnonymous": ["a", "a", "b", None], "census_year": [2012] * 4,
                         "RecordStatus": [1, 1, 1, 1], "OnRoll": [0, 1, 1, 1], "URN_anon": ["u1", "u2", "u3", "u4"]})
    out, rep = dedup_census(long.set_axis([0, 0, 1, 1]), report=True)  # a duplicated index is harmless
    assert out["URN_anon"].tolist() == ["u2", "u3"]
    assert rep.dropped["missing pupil id"] == 1


# ----------------------------------------------------------------------------------------------
# KS4
# ----------------------------------------------------------------------------------------------
def test_dedup_ks4_echild_order_pre2015():
    ks4 = pd.DataFrame({
        "KS4_PupilMatchingRefAnonymous": ["a", "a", "a", "b", "b", "c", None],
        "KS4_ACADYR": ["2009/2010"] * 7,
        "KS4_NATRES": [0, 1, 1, 1, 1, np.nan, 1],
        "KS4_LEVEL2_EM": [1, 0, 1, 1, 1, 1, 1],
        "KS4_PTSCNEWE": [500, 400, 300, 200, 250, 10, 1],
        "tag": ["a-nonat", "a-nol2", "a-win", "b-low", "b-win", "c", "none"],
    })
    out, rep = dedup_ks4(ks4, report=True)
    assert out["tag"].tolist() == ["a-win", "b-win", "c"]
    assert rep.dropped["missing pupil id"] == 1 and rep.rows_out == 3


def test_dedup_ks4_post2015_and_by_year():
    ks4 = pd.DataFrame({
        "KS4_PupilMatchingRefAnonymous": ["a", "a", "a"],
        "KS4_ACADYR": ["2015/2016", "2015/2016", "2016/2017"],
        "KS4_NATRES": [1, 1, 1], "KS4_L2BASICS_94": [0, 1, 1], "KS4_ATT8": [80.0, 30.0, 50.0],
        "tag": ["x", "y", "z"],
    })
    assert dedup_ks4(ks4)["tag"].tolist() == ["z"]
    assert dedup_ks4(ks4, by="pupil_year")["tag"].tolist() == ["y", "z"]
    with pytest.raises(ValueError, match="regime"):
        dedup_ks4(ks4[["KS4_PupilMatchingRefAnonymous", "KS4_ACADYR"]])


def test_stack_ks4_and_dedup_across_regimes(valid, write, data_dir):
    pre = valid("KS4Pupil_2002_to_2014", 2)
    pre["KS4_PupilMatchingRefAnonymous"] = ["a", "b"]
    pre["KS4_ACADYR"] = "2013/2014"
    post = valid("KS4Pupil_2015_to_2021", 2)
    post["KS4_PupilMatchingRefAnonymous"] = ["b", "c"]
    post["KS4_ACADYR"] = "2014/2015"
    write(pre, data_dir, "KS4Pupil_2002_to_2014")
    write(post, data_dir, "KS4Pupil_2015_to_2021")
    ks4, rep = stack_ks4(data_dir, report=True)
    assert ks4["ks4_regime"].tolist() == ["pre2015"] * 2 + ["post2015"] * 2
    assert ks4["ks4_year"].tolist() == [2014, 2014, 2015, 2015]
    assert ks4.loc[2:, "KS4_LEVEL2_EM"].isna().all()
    out, drep = dedup_ks4(ks4, report=True)
    assert sorted(out["KS4_PupilMatchingRefAnonymous"]) == ["a", "b", "c"]
    assert drep.counts["pupils with records in both regimes"] == 1
    mem = stack_ks4(tables={"post2015": post})
    assert mem["ks4_regime"].unique().tolist() == ["post2015"]


def test_stack_ks4_years_selection_raises_for_years_not_in_the_data(valid, write, data_dir):
    pre = valid("KS4Pupil_2002_to_2014", 2)
    pre["KS4_ACADYR"] = ["2012/2013", "2013/2014"]
    write(pre, data_dir, "KS4Pupil_2002_to_2014")
    out, rep = stack_ks4(data_dir, years=[2014], report=True)
    assert out["ks4_year"].tolist() == [2014]
    assert rep.rows_in == 2 and rep.rows_out == 1 and sum(rep.dropped.values()) == 1
    with pytest.raises(TableNotFoundError, match=r"KS4 year\(s\) \[2019\] not in the data.*2013..2014"):
        stack_ks4(data_dir, years=[2014, 2019])


def test_ks4_helpers_refuse_unparseable_years_and_flags(valid):
    pre = valid("KS4Pupil_2002_to_2014", 2)
    pre["KS4_ACADYR"] = ["2012/2013", "Year 11"]
    with pytest.raises(SchemaError, match="KS4_ACADYR.*'Year 11'"):
        stack_ks4(tables={"pre2015": pre}, validate=False)
    pre["KS4_ACADYR"] = "2012/2013"
    pre["KS4_LEVEL2_EM"] = ["1", "yes"]
    with pytest.raises(SchemaError, match="KS4_LEVEL2_EM"):
        dedup_ks4(pre, regime="pre2015")


def test_dedup_ks4_accepts_either_pupil_id_name(valid):
    pre = valid("KS4Pupil_2002_to_2014", 3)
    pre["KS4_PupilMatchingRefAnonymous"] = ["a", "a", "b"]
    pre["KS4_ACADYR"] = "2012/2013"
    renamed = pre.rename(columns={"KS4_PupilMatchingRefAnonymous": "PupilMatchingRefAnonymous"})
    assert dedup_ks4(renamed, regime="pre2015")["PupilMatchingRefAnonymous"].tolist() == ["a", "b"]
    with pytest.raises(SchemaError, match="did you mean 'ks4_pupilmatchingrefanonymous'"):
        dedup_ks4(pre.rename(columns={"KS4_PupilMatchingRefAnonymous": "ks4_pupilmatchingrefanonymous"}),
                  regime="pre2015")


def test_stack_hesa(valid, write, data_dir):
    write(valid("hesa_2013", 2), data_dir, "hesa_2013")
    write(valid("hesa_2020", 3), data_dir, "hesa_2020")
    h = stack_hesa(data_dir=data_dir)
    assert h["hesa_year"].tolist() == [2013] * 2 + [2020] * 3
    assert h.loc[h.hesa_year == 2020, "HE_XTARIFF"].isna().all()


# ----------------------------------------------------------------------------------------------
# The committed synthetic data (when present)
# ----------------------------------------------------------------------------------------------
_HAVE_DATA = REPO_DATA.is_dir() and any(REPO_DATA.rglob("*.parquet"))


@pytest.mark.skipif(not _HAVE_DATA, reason="data_synthetic/ has no Parquet files yet")
class TestCommittedSyntheticData:
    def test_every_table_has_a_schema_and_loads(self):
        tables = list_tables(REPO_DATA, details=True)
        assert not tables["ambiguous"].any(), tables[tables["ambiguous"]]
        problems = {}
        for name in tables["name"]:
            try:
                load_table(name, REPO_DATA)
            except SchemaError as e:  # collect all, report together
                problems[name] = str(e)
        assert not problems, "\n\n".join(f"{k}:\n{v}" for k, v in problems.items())

    def test_files_sit_in_their_schema_database(self):
        tables = list_tables(REPO_DATA, details=True)
        for row in tables.itertuples():
            if row.declared:
                assert row.database == S.get_schema(row.name).database, row.path

    def test_helpers_run_on_committed_data(self):
        from leokit import db
        from leokit.context import add_area
        from leokit.linkage import person_lookup

        long, rep = stack_census(data_dir=REPO_DATA, report=True)
        assert rep.rows_out == len(long) and not any(re.search(r"_(spr)?\d\d$", c) for c in long.columns)
        one = dedup_census(long)
        assert not one.duplicated(["PupilMatchingRefAnonymous", "census_year"]).any()
        assert "imd_decile" in add_area(one.head(500), data_dir=REPO_DATA).columns
        people = person_lookup(REPO_DATA)
        assert not people["PupilMatchingRefAnonymous"].duplicated().any()
        tables = list_tables(REPO_DATA, details=True)
        con = db.connect(REPO_DATA)
        try:
            for row in tables.itertuples():
                n = con.execute(f'SELECT count(*) FROM "{row.database}"."{row.name}"').fetchone()[0]
                assert n == row.rows, row.name
        finally:
            con.close()


# ----------------------------------------------------------------------------------------------
# Property: any single injected violation is reported, naming the table and the column
# ----------------------------------------------------------------------------------------------
_FIXED = sorted(S.registered_schemas()) + ["spring_census_2012", "hesa_2015"]


def _violations(col: S.Column) -> list[str]:
    out = ["missing", "kind"]
    if not col.nullable:
        out.append("null")
    if col.values is not None:
        out.append("values")
    if col.kind in ("int", "float") and (col.min is not None or col.max is not None):
        out.append("range")
    return out


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_violation_names_table_and_column(valid, data):
    valid_frame = valid  # a pure builder: safe to share across examples
    name = data.draw(st.sampled_from(_FIXED))
    sch = S.get_schema(name)
    col = data.draw(st.sampled_from([c for c in sch.columns if not c.synthetic_only]))
    how = data.draw(st.sampled_from(_violations(col)))
    df = valid_frame(name)
    if how == "missing":
        df = df.drop(columns=col.name)
    elif how == "kind":
        df[col.name] = [1.5, 2.5, 3.5, 4.5] if col.kind in ("int", "str", "date") else ["a", "b", "c", "d"]
    elif how == "null":
        df[col.name] = df[col.name].astype(object)
        df.loc[2, col.name] = None
    elif how == "values":
        df[col.name] = df[col.name].astype(object)
        df.loc[1, col.name] = "??" if col.kind == "str" else 987654
    else:
        df[col.name] = df[col.name].astype("float64")
        df.loc[3, col.name] = (col.max + 1000) if col.max is not None else (col.min - 1000)
    with pytest.raises(SchemaError) as ei:
        validate(df, name)
    e = ei.value
    assert e.table == sch.name and col.name in e.columns, (how, str(e))
    assert f"table {sch.name!r}, column {col.name!r}" in str(e)
