"""Read tables from the data folder into pandas, validated against their declared schemas.

``load_table(name, data_dir=None)`` reads ``<name>.parquet`` from anywhere under the data folder
(default: the committed ``data_synthetic/``; override with ``data_dir=`` or the environment
variable ``LEOKIT_DATA_DIR``; see :mod:`leokit.paths`) and validates it against the declared
schema in :mod:`leokit.schema` (:func:`leokit.validation.validate`). ``list_tables()`` lists what is
there. Every name here is also importable from :mod:`leokit.load`, the public face of the loading step.

Parquet -> pandas conversion rules (explicit, identical on pandas 2.2 and 3.x; pandas metadata in
the file is ignored so the writer's dtypes never leak in):

* integer columns without missing values -> their integer dtype; **with missing values -> float64**
  (NaN for missing; every non-missing value is whole). This is also what SQL Server + pyodbc
  give, so code written against the synthetic data runs on the real data.
* text -> pandas' default string handling: ``object`` holding ``str`` on pandas 2.x, the ``str``
  dtype on pandas 3 (the validator accepts both).
* ``date32``/``date64``/timestamps -> ``datetime64[ns]`` (never Python ``date`` objects).
* boolean (SQL Server ``bit``) -> int64 0/1, or float64 0/1/NaN with missing values.
* decimal -> float64.  dictionary-encoded (categorical) -> its value type.
* index columns written by pandas (``__index_level_0__``) are dropped.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from leokit import schema as _schema
from leokit.errors import InputChangedWarning, Problem, SchemaError, did_you_mean, notify
from leokit.frames import match_case
from leokit.paths import database_of_path, find_table_file, table_files
from leokit.schema import schema_for
from leokit.validation import check_frame, normalise_frame
from leokit.validation import validate as _validate

__all__ = ["load_table", "list_tables", "arrow_to_pandas", "resolve_table", "resolve_checked"]


# ----------------------------------------------------------------------------------------------
# Parquet -> pandas
# ----------------------------------------------------------------------------------------------
def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert a pyarrow Table with the kit's explicit rules (see the module docstring)."""
    cols = {}
    for fld, arr in zip(table.schema, table.columns):
        t = fld.type
        if fld.name.startswith("__index_level_"):
            continue
        if pa.types.is_dictionary(t):
            arr = arr.cast(t.value_type)
            t = t.value_type
        if pa.types.is_decimal(t):
            arr = arr.cast(pa.float64())
        elif pa.types.is_boolean(t):
            arr = arr.cast(pa.int64())  # nulls kept; to_pandas turns int-with-nulls into float64
        elif pa.types.is_date(t):
            arr = arr.cast(pa.timestamp("ms"))  # date -> timestamp, then datetime64[ns] below
        cols[fld.name] = arr
    t2 = pa.table(cols) if cols else pa.table({})
    df = t2.to_pandas(date_as_object=False, ignore_metadata=True)
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c].dtype) and str(df[c].dtype) != "datetime64[ns]":
            if getattr(df[c].dtype, "tz", None) is not None:
                continue  # tz-aware: left for the validator to report
            try:
                df[c] = df[c].astype("datetime64[ns]")
            except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
                pass  # left as is; validate reports values out of the declared range
    return df


# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# Loading and listing
# ----------------------------------------------------------------------------------------------
def load_table(
    name: str,
    data_dir=None,
    *,
    columns: Sequence[str] | None = None,
    validate: bool = True,  # noqa: A002 - the natural name for learners
    extra: str = "error",
) -> pd.DataFrame:
    """Read table ``name`` (the Parquet file's stem) and validate it against its declared schema.

    ``name`` may be schema-qualified, ``"leo_i2.leo_earnings"`` (only ``leo_i2/`` is searched).
    ``data_dir``: folder to search (any depth; default :func:`leokit.paths.default_data_dir`).
    ``columns``: read only these columns (then absent declared columns are not an error).
    ``validate=False`` skips validation (also the only way to read a table with no declared
    schema, except the synthetic-only ``truth_*`` answer-key tables, which have no declared schema
    and are always read without validation). ``extra``: see :func:`leokit.validation.validate`.

    Returns a pandas DataFrame (conversion rules in the module docstring). Raises
    :class:`~leokit.errors.TableNotFoundError` (no such file / ambiguous name / no schema) or
    :class:`~leokit.errors.SchemaError` (the data break the schema).
    """
    qualified = name
    name = name.partition(".")[2] if "." in name else name  # "leo_i2.leo_earnings" -> "leo_earnings"
    if validate and name.startswith("truth_"):
        try:
            _schema.get_schema(name)
        except KeyError:
            validate = False  # truth_* answer keys are synthetic-only and typed by the generator
    if validate:
        schema_for(name)  # an unknown table name: error with near matches
    path = find_table_file(qualified, data_dir)
    try:
        if columns is not None:
            have = pq.read_schema(path).names if path.is_file() else None
            if have is not None:
                missing = [c for c in columns if c not in have]
                if missing:
                    raise SchemaError(name, [Problem(name, c, "a column of this name", "no such column in the file"
                                                     + (f" (did you mean {h!r}?)" if (h := did_you_mean(c, have)) else ""),
                                                     "missing") for c in missing])
        table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    except (pa.ArrowInvalid, OSError) as e:
        raise SchemaError(name, [Problem(name, None, "a readable Parquet file", f"{type(e).__name__}: {e}", "read")]) from e
    df = arrow_to_pandas(table)
    if validate:
        df, notes = normalise_frame(df, name, casts=False)
        if notes:
            notify(InputChangedWarning, f"load_table({name!r}): " + "; ".join(notes), "leokit.load_table")
        _validate(df, name, extra=extra, require_all=columns is None)
    return df


def list_tables(data_dir=None, *, details: bool = False):
    """Sorted list of the table names (Parquet stems) under the data folder.

    ``details=True`` returns a DataFrame instead: name, database (the subfolder, else the schema's
    database), path, rows (from the Parquet footer), declared (whether a schema exists),
    ambiguous (the stem occurs more than once).
    """
    files = table_files(data_dir)
    if not details:
        return sorted(files)
    rows = []
    for stem, paths in files.items():
        for p in paths:
            db = database_of_path(p, data_dir)
            try:
                declared = True
                sch_db = _schema.get_schema(stem).database
            except KeyError:
                declared, sch_db = False, None
            try:
                n = (pq.ParquetFile(p).metadata.num_rows if p.is_file()
                     else sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(p.rglob("*.parquet"))))
            except (pa.ArrowInvalid, OSError):  # not a readable Parquet file: listed with rows = -1
                n = -1
            rows.append({"name": stem, "database": db or sch_db, "path": str(p), "rows": n,
                         "declared": declared, "ambiguous": len(paths) > 1})
    return pd.DataFrame(rows, columns=["name", "database", "path", "rows", "declared", "ambiguous"])


def resolve_table(name: str, data_dir=None, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The frame ``tables[name]`` when the caller passed it (e.g. a real SRS table), else :func:`load_table`.

    The one rule behind the ``lookups=`` / ``tables=`` arguments of :mod:`leokit.linkage` and :mod:`leokit.context`.
    An in-memory frame is checked like a file (:func:`resolve_checked`, which also returns the notes of what was
    normalised; here they are issued as an :class:`~leokit.errors.InputChangedWarning`).
    """
    df, notes = resolve_checked(name, data_dir, tables)
    if notes:
        notify(InputChangedWarning, "; ".join(notes), "leokit")
    return df


def resolve_checked(name: str, data_dir=None, tables: Mapping[str, pd.DataFrame] | None = None,
                    columns: Sequence[str] | None = None, *,
                    check_key: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """``(frame, notes)``: :func:`resolve_table`'s frame, with an in-memory frame passed through
    :func:`leokit.validation.check_frame` (its declared ``columns``, default all present; padding stripped,
    codes upper-cased, integer-valued text cast, each noted) so that it is held to the same schema as a file."""
    if tables is not None and name in tables:
        return check_frame(match_case(tables[name], name), name, columns, check_key=check_key)
    return load_table(name, data_dir), []
