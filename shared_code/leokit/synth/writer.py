"""Deterministic Parquet writer: tables are typed from ``leokit.schema`` declarations.

Every table is built as a ``pyarrow.Table`` with an explicit schema (``int`` -> int8/int32/int64 by
declared range, ``float`` -> float64, ``str`` -> string, ``date`` -> date32), compressed with zstd,
with no pandas metadata and no timestamps, so the same data give byte-identical files.
Tables without a declared schema (``truth_*``) are typed from their pandas/numpy dtypes.

Precision rule (so that the bytes do not depend on the CPU, the BLAS or the NumPy minor version, whose
last-digit differences in sums and products would otherwise reach the files): every float64 column of a
declared (released) table is rounded to :data:`RELEASED_DECIMALS` (6) decimal places, every float64 column of a
``truth_*`` table to :data:`TRUTH_DECIMALS` (9; fine enough for the tests that recompute planted means from
``truth_person`` to 1e-9), float32 columns are kept as they are, and negative zero is written as ``0.0``
everywhere (``np.clip`` and ``np.round`` can return ``-0.0``; which NumPy versions do differs). The values the
generator means to publish are coarser still (IDACI 3 decimals, KS scores 1-2 decimals, pay in whole pounds),
so the rule changes only computed columns such as ``syn_log_output_per_worker``. ``np.round`` is a multiply, a
round-to-even and a divide: IEEE operations that give the same result on every machine.

The Parquet bytes are identical for identical data with the same pyarrow version (the footer names the pyarrow
version that wrote it, and encoders change between versions); :func:`content_hash` is a hash of the decoded
values that does not depend on the pyarrow version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leokit.schema import TableSchema

__all__ = ["arrow_type", "to_arrow", "write_parquet", "write_table", "quantise", "content_hash", "RELEASED_DECIMALS",
           "TRUTH_DECIMALS"]

#: Decimal places of every float64 column of a declared (released) table.
RELEASED_DECIMALS = 6
#: Decimal places of every float64 column of a ``truth_*`` table.
TRUTH_DECIMALS = 9


def quantise(values: np.ndarray, decimals: int) -> np.ndarray:
    """``values`` rounded to ``decimals`` places (float64; float32 kept as it is) with ``-0.0`` made ``0.0``;
    NaN stays NaN. The precision rule of the module docstring."""
    a = np.asarray(values)
    if a.dtype == np.float32:
        return a + np.float32(0.0)
    return np.round(a.astype(np.float64), decimals) + 0.0  # x + 0.0 turns -0.0 into 0.0, nothing else


def arrow_type(col) -> pa.DataType:
    """Arrow type of a declared column."""
    if col.kind == "float":
        return pa.float64()
    if col.kind == "str":
        return pa.string()
    if col.kind == "date":
        return pa.date32()
    lo, hi = col.min, col.max
    if col.values is not None and all(isinstance(v, int) for v in col.values):
        lo, hi = min(col.values), max(col.values)
    if lo is not None and hi is not None:
        if -128 <= lo and hi <= 127:
            return pa.int8()
        if -(2**31) <= lo and hi < 2**31:
            return pa.int32()
    return pa.int64()


def _as_array(values: Any, typ: pa.DataType, name: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == typ else values.cast(typ)
    if isinstance(values, (pd.Series, pd.Index)):
        if pa.types.is_string(typ) and not (values.dtype.kind in "iufcbM"):
            return pa.array(values, from_pandas=True).cast(typ)
        values = values.to_numpy()
    arr = np.asarray(values)
    if pa.types.is_integer(typ):
        if arr.dtype.kind == "f":
            mask = np.isnan(arr)
            return pa.array(np.where(mask, 0, arr).astype(np.int64), mask=mask).cast(typ)
        if arr.dtype.kind == "O":
            s = pd.Series(arr)
            mask = s.isna().to_numpy()
            return pa.array(np.where(mask, 0, s.fillna(0).to_numpy()).astype(np.int64), mask=mask).cast(typ)
        return pa.array(arr.astype(np.int64)).cast(typ)
    if pa.types.is_floating(typ):
        f = quantise(arr.astype(np.float64), RELEASED_DECIMALS)
        # Missing values are written as Parquet nulls (not NaN), so SQL engines see NULL:
        # `IS NULL`, `avg()` and `count(col)` then behave as on the real SQL Server tables.
        return pa.array(f, type=typ, mask=np.isnan(f))
    if pa.types.is_date(typ):
        if arr.dtype.kind == "M":
            d = arr.astype("datetime64[D]")
            mask = np.isnat(d)
            return pa.array(np.where(mask, 0, d.astype(np.int64)).astype(np.int32), mask=mask).cast(pa.date32())
        if arr.dtype.kind in "iu":  # days since epoch, negative sentinel = missing
            raise TypeError(f"column {name}: pass dates as datetime64[D]")
        return pa.array(pd.to_datetime(pd.Series(arr)).to_numpy().astype("datetime64[D]")).cast(pa.date32())
    if pa.types.is_string(typ):
        if arr.dtype.kind in "US":
            return pa.array(arr.astype(str), type=pa.string())
        return pa.array(arr, type=pa.string(), from_pandas=True)  # None / NaN -> null
    raise TypeError(f"column {name}: unsupported type {typ}")


def to_arrow(schema: TableSchema, columns: Mapping[str, Any]) -> pa.Table:
    """Build an Arrow table with exactly the declared columns, in declared order."""
    names = schema.column_names
    extra = set(columns) - set(names)
    missing = set(names) - set(columns)
    if extra or missing:
        raise ValueError(f"table {schema.name}: extra columns {sorted(extra)}, missing {sorted(missing)}")
    arrays, fields = [], []
    for c in schema.columns:
        typ = arrow_type(c)
        arrays.append(_as_array(columns[c.name], typ, c.name))
        fields.append(pa.field(c.name, typ, nullable=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """Arrow table from a pandas frame typed by dtype (for truth_* tables), without pandas metadata."""
    t = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    fields = []
    arrays = []
    for f, col in zip(t.schema, t.columns):
        if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            col = col.cast(pa.string())
        elif pa.types.is_floating(f.type):
            a = col.to_numpy(zero_copy_only=False) if col.null_count == 0 else None
            if a is not None:
                col = pa.chunked_array([pa.array(quantise(a, TRUTH_DECIMALS), type=f.type)])
            else:  # nulls stay nulls
                mask = col.is_null().to_numpy(zero_copy_only=False)
                a = col.fill_null(0).to_numpy(zero_copy_only=False)
                col = pa.chunked_array([pa.array(quantise(a, TRUTH_DECIMALS), type=f.type, mask=mask)])
        arrays.append(col)
        fields.append(pa.field(f.name, col.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # strong compression for the committed-size tables, fast compression for England-scale ones
    # (dictionary encoding of million-row tables costs more time than it saves space)
    level = 9 if table.num_rows <= 250_000 else 1
    pq.write_table(table, path, compression="zstd", compression_level=level,
                   use_dictionary=table.num_rows <= 1_000_000, write_statistics=True, row_group_size=1_000_000)
    return path


def write_table(out: str | Path, schema: TableSchema, columns: Mapping[str, Any]) -> tuple[Path, int]:
    """Write one declared table to ``out/<database>/<name>.parquet``; returns (path, rows)."""
    t = to_arrow(schema, columns)
    p = write_parquet(t, Path(out) / schema.database / f"{schema.name}.parquet")
    return p, t.num_rows


def content_hash(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types, null masks and values (not of its Parquet encoding), so the
    same data hash alike whichever pyarrow version wrote or reads them."""
    import hashlib

    import pyarrow.compute as pc

    h = hashlib.sha256()
    for name, col in zip(table.column_names, table.columns):
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        h.update(f"{name}\x00{col.type}\x00{len(col)}\x00".encode())
        h.update(np.ascontiguousarray(col.is_null().to_numpy(zero_copy_only=False), dtype=np.uint8).tobytes())
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            filled = pc.fill_null(col, "").cast(pa.large_string())
            h.update(np.asarray(pc.binary_length(filled).to_numpy(zero_copy_only=False), dtype="<i8").tobytes())
            h.update("".join(filled.to_pylist()).encode())
        elif pa.types.is_date(col.type):
            h.update(np.asarray(col.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False), dtype="<i4").tobytes())
        elif pa.types.is_boolean(col.type):
            h.update(np.asarray(col.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.uint8).tobytes())
        else:
            a = col.fill_null(0).to_numpy(zero_copy_only=False)
            h.update(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()
