"""leokit.db validation == leokit.load_table validation, word for word, on random injected violations.

The SQL route repeats the loader's value checks as aggregate queries (leokit.db, "Validation"); this
property test writes a schema-valid table with one or two injected violations as Parquet and checks
that connect() reports exactly the loader's problems, in the loader's order and wording.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leokit import db
from leokit import schema as S
from leokit.errors import SchemaError
from leokit.load import load_table

_TABLES = sorted(S.registered_schemas()) + ["spring_census_2012", "plasc_2004", "hesa_2015"]


def _violations(col: S.Column) -> list[str]:
    out = ["kind"] if col.synthetic_only else ["missing", "kind"]  # syn_* columns may be absent
    if not col.nullable:
        out.append("null")
    if col.values is not None:
        out.append("values")
    if col.min is not None or col.max is not None:
        if col.kind in ("int", "float", "date"):
            out.append("range")
    if col.kind == "int":
        out.append("not-whole")
    return out


def _inject(df: pd.DataFrame, col: S.Column, how: str, row: int) -> pd.DataFrame:
    """One violation that Parquet can store (a column keeps one Arrow type)."""
    df = df.copy()
    c = col.name
    if how == "missing":
        return df.drop(columns=c)
    if how == "kind":
        df[c] = [f"v{i}" for i in range(len(df))] if col.kind != "str" else np.arange(len(df), dtype="int64")
    elif how == "null":
        df[c] = df[c].astype("float64") if col.kind == "int" else df[c].astype(object)
        df.loc[row, c] = None
    elif how == "values":
        if col.kind == "str":
            df[c] = df[c].astype(object)
            # not a code in any case or padding (load_table upper-cases codes and strips blanks, with a warning)
            df.loc[row, c] = "??"
        else:
            df[c] = df[c].astype("float64")
            df.loc[row, c] = 987654
    elif how == "range":
        if col.kind == "date":
            df.loc[row, c] = pd.Timestamp("2090-01-01") if col.max is not None else pd.Timestamp("1900-01-01")
        else:
            df[c] = df[c].astype("float64")
            df.loc[row, c] = (float(col.max) + 1000) if col.max is not None else (float(col.min) - 1000)
    elif how == "not-whole":
        df[c] = df[c].astype("float64")
        df.loc[row, c] = df[c].iloc[row] + 0.5 if pd.notna(df[c].iloc[row]) else 0.5
    return df


def _both(root, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with db.connect(root) as con:
            key = f"{S.get_schema(name).database}.{name}"
            sql = con.problems.get(key)
    try:
        load_table(name, root)
        pandas = None
    except SchemaError as e:
        pandas = e
    return sql, pandas


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_validation_says_what_the_loader_says(valid, tmp_path_factory, data):
    name = data.draw(st.sampled_from(_TABLES), label="table")
    sch = S.get_schema(name)
    df = valid(name, 6)
    injected = []
    columns = data.draw(st.lists(st.sampled_from([c for c in sch.columns if c.name in df.columns]),
                                 min_size=1, max_size=2, unique_by=lambda c: c.name), label="columns")
    for col in columns:  # one violation per column (a column keeps one Arrow type)
        how = data.draw(st.sampled_from(_violations(col)), label="violation")
        df = _inject(df, col, how, data.draw(st.integers(0, 5), label="row"))
        injected.append((col.name, how))
    assume(len(df.columns) > 0)  # a Parquet file with no columns reads as 0 rows in pandas (another error)
    if data.draw(st.booleans(), label="duplicate a row") and sch.key:
        df = pd.concat([df, df.iloc[[1]]], ignore_index=True)
    root = tmp_path_factory.mktemp("data")
    (root / sch.database).mkdir()
    df.to_parquet(root / sch.database / f"{name}.parquet", index=False)
    sql, pandas = _both(root, name)
    assert pandas is not None, injected  # every injection breaks the schema
    assert sql is not None, (injected, str(pandas))
    assert [str(p) for p in sql.problems] == [str(p) for p in pandas.problems], injected
    assert str(sql) == str(pandas)


@pytest.mark.parametrize("name", _TABLES)
def test_every_declared_table_valid_frame_passes_both_routes(valid, tmp_path, name):
    sch = S.get_schema(name)
    (tmp_path / sch.database).mkdir()
    valid(name, 5).to_parquet(tmp_path / sch.database / f"{name}.parquet", index=False)
    sql, pandas = _both(tmp_path, name)
    assert sql is None and pandas is None, str(sql or pandas)
