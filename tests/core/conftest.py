"""Fixtures for the leokit core tests: tiny, schema-valid tables written to tmp_path.

Nothing here uses the synthetic-data generator: every frame is built from the declared schema.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leokit import schema as S
from leokit.validation import normalise_frame


def valid_frame(name: str, n: int = 4) -> pd.DataFrame:
    """A small frame that satisfies the declared schema of ``name`` (keys unique, values allowed)."""
    sch = S.get_schema(name)
    key = set(sch.key or ())
    data = {}
    for c in sch.columns:
        i = np.arange(n)
        if c.values is not None and c.name not in key:
            vals = [c.values[k % len(c.values)] for k in i]
        elif c.values is not None:  # key column with a code list: cycle, other key cols make rows unique
            vals = [c.values[k % len(c.values)] for k in i]
        elif c.kind == "int":
            lo = int(c.min) if c.min is not None else 1
            hi = int(c.max) if c.max is not None else lo + 10_000
            vals = [min(lo + int(k), hi) for k in i]
        elif c.kind == "float":
            lo = float(c.min) if c.min is not None else 0.0
            hi = float(c.max) if c.max is not None else lo + 100.0
            vals = [lo + (hi - lo) * (k + 1) / (n + 1) for k in i]
        elif c.kind == "date":
            lo = pd.Timestamp(c.min) if c.min is not None else pd.Timestamp("2010-01-01")
            vals = [lo + pd.Timedelta(days=int(k)) for k in i]
        else:
            vals = [f"{c.name[:6]}{k:04d}" for k in i]
        if c.kind == "int":
            data[c.name] = pd.Series(vals, dtype="int64")
        elif c.kind == "float":
            data[c.name] = pd.Series(vals, dtype="float64")
        elif c.kind == "date":
            data[c.name] = pd.Series(pd.to_datetime(vals)).astype("datetime64[ns]")
        else:
            data[c.name] = pd.Series(vals, dtype=object)
    # canonical as load_table would leave it (e.g. LSOA codes upper case), so a valid frame needs no repair
    return normalise_frame(pd.DataFrame(data), name, casts=False)[0]


def write_table(df: pd.DataFrame, root: Path, name: str, database: str | None = None) -> Path:
    """Write ``df`` as ``root/<database>/<name>.parquet`` (database defaults to the schema's)."""
    if database is None:
        try:
            database = S.get_schema(name).database
        except KeyError:
            database = "main"
    folder = root / database if database else root
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    df.to_parquet(path, index=False)
    return path


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def valid():
    """The :func:`valid_frame` builder."""
    return valid_frame


@pytest.fixture
def write():
    """The :func:`write_table` writer."""
    return write_table
