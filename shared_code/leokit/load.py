"""The loading step's public face: load and validate tables; stack and de-duplicate census, KS4 and HESA.

Learners and exemplars import the loading step from here (``from leokit.load import load_table,
stack_census``; the package root ``leokit`` re-exports the same names). The code lives in one module per
job, each named after it:

* :mod:`leokit.read` - :func:`load_table`, :func:`list_tables`, :func:`arrow_to_pandas` (the Parquet ->
  pandas conversion rules are in its docstring);
* :mod:`leokit.validation` - :func:`validate` (the validation rules are in its docstring);
* :mod:`leokit.frames` - :func:`match_case` (case-insensitive column names of SRS pulls);
* :mod:`leokit.schema` - :func:`schema_for` (a declared schema, with near matches for a wrong name);
* :mod:`leokit.census` - the census naming rule (:data:`IDACI_VINTAGES`, :func:`census_tables`);
* :mod:`leokit.stack` - :func:`stack_census`, :func:`dedup_census`, :func:`stack_ks4`,
  :func:`dedup_ks4`, :func:`stack_hesa` (:data:`KS4_TABLES`).

This module only gathers them (it sits above :mod:`leokit.stack`, which loads tables itself, so that the
names stay importable from here without an import cycle).
"""

from __future__ import annotations

from leokit.census import IDACI_VINTAGES, census_tables
from leokit.frames import match_case
from leokit.read import arrow_to_pandas, list_tables, load_table, resolve_table
from leokit.schema import schema_for
from leokit.stack import KS4_TABLES, dedup_census, dedup_ks4, stack_census, stack_hesa, stack_ks4
from leokit.validation import validate

__all__ = [
    "load_table",
    "validate",
    "match_case",
    "list_tables",
    "arrow_to_pandas",
    "schema_for",
    "census_tables",
    "stack_census",
    "dedup_census",
    "stack_ks4",
    "dedup_ks4",
    "stack_hesa",
    "resolve_table",
    "KS4_TABLES",
    "IDACI_VINTAGES",
]
