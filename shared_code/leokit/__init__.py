"""leokit: helpers for England's Longitudinal Education Outcomes (LEO) and National Pupil Database (NPD) data.

The package follows the data flow of a LEO project, one layer per step; a module imports only from the
layers below it (``pyproject.toml``'s import-linter contract, checked by ``make test``):

====================  ===============================================================================
layer (top first)     modules
====================  ===============================================================================
entry points          ``leokit.__main__`` (command line), ``leokit.setup_check``
generate              ``leokit.synth`` - the synthetic-data generator (a producer of tables; nothing
                      in the package imports it)
analyse               ``leokit.analyse`` - estimation helpers for the exemplars (the tables and figures
                      they return are checked by ``leokit.sdc``)
derive | sdc          ``leokit.derive`` - the simplified, consistent set of derived variables with
                      metadata | ``leokit.sdc`` - statistical disclosure control for every table and
                      figure (it imports nothing but ``leokit.errors``)
context               ``leokit.context`` - area, provider and employer context
linkage               ``leokit.linkage`` - identity linkage PMR / RECORDID / EDUKEY through AE_ID, with match
                      reports (``leokit.link`` is its join function :func:`leokit.linkage.link`)
load                  ``leokit.load`` (the loading step's public face: every name below) | ``leokit.db``
                      (the same tables as DuckDB views with SRS-like schemas)
                      ``leokit.stack`` - census, KS4 and HESA stacking and de-duplication
                      ``leokit.read`` - Parquet -> pandas (:func:`load_table`, :func:`list_tables`)
                      ``leokit.validation`` - :func:`validate` against the declared schema
frames                ``leokit.frames`` (pure frame helpers) | ``leokit.census`` (census naming rule) |
                      ``leokit.srs`` (SQL Server names, DuckDB SQL -> T-SQL)
facts                 ``leokit.schema`` (declared tables, identifier names) | ``leokit.paths`` (the data
                      folder) | ``leokit.years`` (calendar conventions)
errors                ``leokit.errors`` - every error class and the row-accounting reports
====================  ===============================================================================

``import leokit`` makes the main parts available as attributes (``leokit.derive`` and ``leokit.years`` are
imported on first use, so ``import leokit`` stays light).
"""

__version__ = "0.1.0"

from leokit.errors import (  # noqa: E402
    CardinalityError,
    ChainReport,
    CoverageWarning,
    DropReport,
    LinkError,
    MatchReport,
    SchemaError,
    TableNotFoundError,
)
from leokit.load import (  # noqa: E402
    dedup_census,
    dedup_ks4,
    list_tables,
    load_table,
    match_case,
    stack_census,
    stack_hesa,
    stack_ks4,
    validate,
)
from leokit.linkage import (  # noqa: E402
    add_ae_id,
    edukeys_for_pmr,
    link,
    outcomes_by_person,
    person_lookup,
    resolve_edukeys,
)
from leokit.context import (  # noqa: E402
    add_area,
    add_employer_context,
    add_provider_context,
    provider_entry_tariff,
)
from leokit import db, linkage, schema, sdc  # noqa: E402

# ``leokit.link`` is the join function (:func:`leokit.linkage.link`), not a module: the module is
# ``leokit.linkage``. Code written for the old module name (``from leokit.link import person_lookup``) keeps
# working through this alias of the module; new code imports from ``leokit.linkage``.
import sys as _sys  # noqa: E402

_sys.modules.setdefault("leokit.link", linkage)

__all__ = [
    "SchemaError", "TableNotFoundError", "LinkError", "CardinalityError", "CoverageWarning",
    "DropReport", "MatchReport", "ChainReport",
    "load_table", "list_tables", "validate", "match_case",
    "stack_census", "dedup_census", "stack_ks4", "dedup_ks4", "stack_hesa",
    "link", "person_lookup", "resolve_edukeys", "edukeys_for_pmr", "add_ae_id", "outcomes_by_person",
    "add_area", "add_employer_context", "add_provider_context", "provider_entry_tariff",
    "db", "linkage", "schema", "sdc", "derive", "years",
]

_LAZY = ("derive", "years")


def __getattr__(name: str):
    """Import ``leokit.derive`` / ``leokit.years`` on first access (``leokit.derive.fsm_ever6`` after ``import leokit``)."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f"leokit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'leokit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
