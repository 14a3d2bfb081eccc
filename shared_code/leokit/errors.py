"""Every error and warning class of the package, and the row-accounting reports.

This module is the bottom layer of ``leokit``: it imports nothing from the package, and every
exception class of the package is defined here (the modules that raise them re-export the public
ones, so ``leokit.sdc.SDCInputError`` and ``leokit.errors.SDCInputError`` are the same class).

Errors
------
:class:`SchemaError` (a ``ValueError``) is raised whenever a table does not match its declared
schema (``leokit.schema``). It collects *all* problems of a table in one error: ``err.problems``
is a list of :class:`Problem` (table, column, expected, found) and the message has one line per
problem, each naming the table and the column, e.g.::

    table 'leo_earnings', column 'TaxYear': expected values in [200304, 202021], found 3 rows out of range (e.g. 199900)

:class:`TableNotFoundError` (a ``SchemaError`` and a ``LookupError``) is raised for a table name
with no declared schema or no data file; its message lists near matches.

:class:`LinkError` (a ``ValueError``) is raised by the linkage helpers, and its subclass
:class:`CardinalityError` when a join does not have the cardinality the caller stated.

:class:`CoverageWarning` (a ``UserWarning``) is issued when the tables passed to a helper do not cover
the window of years a result needs (e.g. census years missing from a cohort's six-year FSM window);
see :mod:`leokit.derive` for the kit's coverage policy.

The other modules' errors, each raised where its name says:

* :class:`UnknownTableError` (a ``KeyError``) - :func:`leokit.schema.get_schema` for an undeclared name;
* :class:`DerivationError` (a ``SchemaError``) and its subclass :class:`CoverageError` - ``leokit.derive``;
* :class:`SDCInputError` (a ``ValueError``) and :class:`DisclosureError` (a ``RuntimeError``) - ``leokit.sdc``;
* :class:`DataFolderError` (a ``FileNotFoundError``) and :class:`SRSTranslationError` (a ``ValueError``) -
  ``leokit.db``;
* :class:`GeneratorInputError` (a ``ValueError``) and :class:`OutputFolderError` (a ``FileExistsError``) -
  ``leokit.synth`` (the generator, the class pack and their command line).

Every "did you mean ...?" hint in the package (schema validation, ``leokit.derive``'s
``DerivationError``, the linkage helpers) comes from one function, :func:`did_you_mean`.

Reports - the one pattern used across the package
-------------------------------------------------
Every helper that can drop, duplicate or add rows (``stack_census``, ``dedup_census``,
``dedup_ks4``, ``stack_ks4``, ``person_lookup``, ``link``, ``add_ae_id``, ``add_area``,
``add_employer_context`` ...) **returns the frame**; called with ``report=True`` it returns the
pair ``(frame, report)`` instead. The report is also written to the ``"leokit"`` logger at level
INFO, so ``logging.basicConfig(level=logging.INFO)`` shows every report without asking for it.

* :class:`DropReport` - rows in, rows out and the number of rows dropped for each reason
  (identity: ``rows_in == rows_out + sum(dropped.values())`` unless ``rows_added`` says otherwise).
* :class:`MatchReport` - one join: rows on each side, matched / unmatched rows, rows dropped and
  why, duplicates created (identities checked by :meth:`MatchReport.check`).
* :class:`ChainReport` - several reports of a multi-step helper, in order.

All reports print as a short human-readable summary and have ``to_dict()``. :func:`finish` is the
one implementation of that return convention (log the report, return the frame or the pair).
"""

from __future__ import annotations

import difflib
import logging
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

__all__ = [
    "Problem",
    "SchemaError",
    "TableNotFoundError",
    "LinkError",
    "CardinalityError",
    "CoverageWarning",
    "RowsDroppedWarning",
    "InputChangedWarning",
    "UnknownTableError",
    "DerivationError",
    "CoverageError",
    "SDCInputError",
    "DisclosureError",
    "DataFolderError",
    "SRSTranslationError",
    "GeneratorInputError",
    "OutputFolderError",
    "DifferencingError",
    "did_you_mean",
    "numeric_values",
    "Report",
    "DropReport",
    "MatchReport",
    "ChainReport",
    "log_report",
    "finish",
    "notify",
]

logger = logging.getLogger("leokit")


# ----------------------------------------------------------------------------------------------
# Hints
# ----------------------------------------------------------------------------------------------
def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` was most likely meant to be, or ``None``.

    A candidate equal to ``name`` ignoring letter case wins; otherwise the closest spelling
    (``difflib``, similarity >= 0.6), compared as written and then ignoring case. This is the one
    implementation behind every "did you mean ...?" hint in the package.
    """
    cands = [str(c) for c in candidates]
    lower = {c.lower(): c for c in cands}
    if name.lower() in lower:
        return lower[name.lower()]
    m = difflib.get_close_matches(name, cands, n=1, cutoff=0.6)
    if m:
        return m[0]
    m = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return lower[m[0]] if m else None


def numeric_values(values, table: str, column: str, *, error=None):
    """``values`` as a float64 Series (missing -> NaN), refusing anything that is not a number.

    Numeric and boolean dtypes are converted as they are. A text (object/string) column is accepted only if
    **every** non-missing value parses as a number (e.g. ``"1"``, ``"2.5"`` from a text export); otherwise the
    error names the table, the column and examples of the bad values - never the silent
    ``pd.to_numeric(errors="coerce")`` that would turn them into missing values. Dates and categoricals are
    refused. ``error``: a callable ``(message, problem) -> Exception`` (default: a :class:`SchemaError`). The one
    implementation behind the loader's and ``leokit.derive``'s numeric checks.
    """
    import numpy as np
    import pandas as pd

    def fail(expected: str, found: str, msg: str):
        prob = Problem(table, column, expected, found, "kind")
        exc = error(msg, prob) if error is not None else SchemaError(table, [prob])
        raise exc

    s = values if isinstance(values, pd.Series) else pd.Series(values)
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        fail("numbers", "dtype category", f"{table}: column {column!r} must be numeric but has dtype category; convert "
             f"it first (e.g. df[{column!r}].astype(float))")
    if pd.api.types.is_bool_dtype(dt) or (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt)):
        return s if dt == np.float64 else s.astype("float64")
    if dt == object or isinstance(dt, pd.StringDtype):
        num = pd.to_numeric(s, errors="coerce")
        bad = (s.notna() & num.isna()).to_numpy(dtype=bool)
        if bad.any():
            ex = ", ".join(repr(v) for v in list(pd.unique(pd.Series(s[bad], dtype=object)))[:3])
            n_bad, n_nn = int(bad.sum()), int(s.notna().sum())
            fail("numbers (or text that parses as numbers)", f"{n_bad} values that are not numbers (e.g. {ex})",
                 f"{table}: column {column!r} must be numeric, but {n_bad:,} of its {n_nn:,} non-missing values are "
                 f"not numbers (e.g. {ex}); dtype {dt}. Fix or recode them first - they would otherwise be read as "
                 "missing")
        return num.astype("float64")
    fail("numbers", f"dtype {dt}", f"{table}: column {column!r} must be numeric but has dtype {dt}")


# ----------------------------------------------------------------------------------------------
# Errors and warnings
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One schema violation: which table and column, what was expected, what was found."""

    table: str
    column: str | None
    expected: str
    found: str
    check: str = ""  # missing | extra | kind | null | values | range | key | duplicate-name | read

    def __str__(self) -> str:
        where = f"table {self.table!r}" + (f", column {self.column!r}" if self.column is not None else "")
        return f"{where}: expected {self.expected}, found {self.found}"


class SchemaError(ValueError):
    """A table does not match its declared schema. ``.table``, ``.problems`` (list of Problem).

    ``SchemaError(table, problems)`` with a list of :class:`Problem` (or one string); a single
    argument, ``SchemaError("message")``, is a plain message with no table (as subclasses such as
    ``leokit.derive``'s ``DerivationError`` use it).
    """

    def __init__(self, table: str, problems: list[Problem] | str | None = None):
        if problems is None:
            self.table = None
            self.problems = []
            ValueError.__init__(self, table)
            return
        self.table = table
        if isinstance(problems, str):
            problems = [Problem(table, None, "a valid table", problems, "other")]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._message())

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def _message(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"table {self.table!r}: {len(self.problems)} schema problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    @property
    def columns(self) -> list[str]:
        """Columns named in the problems (in order, without repeats)."""
        out: list[str] = []
        for p in self.problems:
            if p.column is not None and p.column not in out:
                out.append(p.column)
        return out


class TableNotFoundError(SchemaError, LookupError):
    """No declared schema, or no data file, for a table name. The message lists near matches."""

    def __init__(self, table: str, message: str):
        self.table = table
        self.problems = []
        ValueError.__init__(self, message)


class LinkError(ValueError):
    """A linkage step cannot be done as asked (missing key column, incompatible key types ...)."""


class CardinalityError(LinkError):
    """A join does not have the stated cardinality (``expect="1:1"``, ``"m:1"``, ``"1:m"``)."""


class CoverageWarning(UserWarning):
    """The tables passed do not cover the years a result needs (the result is a lower bound or partial).

    Turn it into an error with ``on_gap="raise"`` (the derive functions that issue it) or with
    ``warnings.simplefilter("error", CoverageWarning)``.
    """


class RowsDroppedWarning(UserWarning):
    """A function that returns no report dropped, merged or summed rows of its input; the message says how
    many, of which table, and why (the kit's rule: nothing is lost silently). Turn it into an error with
    ``warnings.simplefilter("error", RowsDroppedWarning)``."""


class InputChangedWarning(UserWarning):
    """A function normalised values of its input before using them (trailing blanks stripped from keys, codes
    upper-cased, integer-valued text cast to the declared kind); the message names the table, the column and
    how many values. Functions that return a report put the same notes in the report instead."""


class UnknownTableError(KeyError):
    """Raised by :func:`leokit.schema.get_schema` when a table name has no declared schema."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "unknown table"


class DerivationError(SchemaError):
    """A derivation function was given an input it cannot use (a missing column, non-numeric values, no rows...).

    A ``ValueError`` and a :class:`SchemaError`: ``.table`` names the input frame, ``.problems``
    lists :class:`Problem` entries, ``.missing_columns`` the missing columns (if any). Missing
    columns come with a "did you mean ...?" hint from the same helper as the schema validator
    (:func:`did_you_mean`). Raised by ``leokit.derive`` (and re-exported there).
    """

    def __init__(self, message: str, *, table: str = "derive", columns=(), problems=None):
        self.table = table
        self.missing_columns = list(columns)
        if problems is None:
            problems = [Problem(table, c, "a column of this name", "no such column", "missing") for c in columns]
        self.problems = list(problems)
        ValueError.__init__(self, message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "derivation error"


class CoverageError(DerivationError):
    """The tables passed do not cover the years a result needs (raised instead of a
    :class:`CoverageWarning` when a ``leokit.derive`` function is called with ``on_gap="raise"``)."""


class SDCInputError(ValueError):
    """Bad input to an SDC function (missing column, wrong dtype, unknown statistic...)."""


class DisclosureError(RuntimeError):
    """An output failed the disclosure checks and cannot be produced safely."""


class DataFolderError(FileNotFoundError):
    """The data folder is missing or holds no Parquet tables (the message says what was expected)."""


class SRSTranslationError(ValueError):
    """DuckDB SQL that :func:`leokit.db.to_srs_sql` cannot turn into SQL Server SQL; ``.construct`` names it."""

    def __init__(self, construct: str, message: str):
        self.construct = construct
        super().__init__(message)


class GeneratorInputError(ValueError):
    """Bad input to the synthetic data generator or the class pack (``leokit.synth``): a ``--truth`` value out of
    its documented range or of the wrong type, a scale or cohort count outside its bounds, an unusable key file.
    The message is one line naming the input and what was expected; nothing has been written when it is raised."""


class OutputFolderError(FileExistsError):
    """The output folder of ``leokit.synth`` (``generate``, ``classpack``) is not one it may write into: not
    empty and not a previous output of the generator (no manifest), an empty path, or a previous output without
    ``overwrite``. Nothing has been written or deleted when it is raised."""


class DifferencingError(DisclosureError):
    """An output would give units away by differencing with outputs released before it
    (``leokit.sdc.OutputSession`` with ``on_conflict="raise"``); the message names the earlier output and cell."""


def notify(category: type[Warning], message: str, source: str = "leokit") -> None:
    """Issue one of the kit's warnings (:class:`RowsDroppedWarning`, :class:`InputChangedWarning`,
    :class:`CoverageWarning`) as coming from ``source`` (e.g. ``"leokit.derive"``), not from a file of the installed
    package: the printed line is ``leokit.derive:0: RowsDroppedWarning: ...``, the same on every machine (no
    install path, no line number that moves with an edit), so notebooks that show it store the same text everywhere.
    Warning filters apply as usual (``warnings.simplefilter("error", RowsDroppedWarning)`` makes it an error), and
    every call is shown (each is a separate event)."""
    warnings.warn_explicit(message, category, filename=source, lineno=0, module=source, registry=None)


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------
def _fmt(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)


@dataclass
class Report:
    """Base class: a named step with free-form counts and notes."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def _lines(self) -> list[str]:
        lines = [f"{k}: {_fmt(v)}" for k, v in self.counts.items()]
        lines += [f"note: {n}" for n in self.notes]
        return lines

    def __str__(self) -> str:
        return "\n".join([f"{type(self).__name__} [{self.name}]"] + [f"  {s}" for s in self._lines()])


@dataclass
class DropReport(Report):
    """Rows in and out of one step, and how many rows were dropped for each reason.

    Identity: ``rows_in + rows_added == rows_out + sum(dropped.values())``.
    """

    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    rows_added: int = 0

    def check(self) -> None:
        if self.rows_in + self.rows_added != self.rows_out + sum(self.dropped.values()):
            raise AssertionError(f"row accounting broken in {self.name}: {self.to_dict()}")

    def _lines(self) -> list[str]:
        lines = [f"rows in: {_fmt(self.rows_in)}", f"rows out: {_fmt(self.rows_out)}"]
        if self.rows_added:
            lines.append(f"rows added: {_fmt(self.rows_added)}")
        lines += [f"dropped ({why}): {_fmt(n)}" for why, n in self.dropped.items()]
        return lines + super()._lines()


@dataclass
class MatchReport(Report):
    """Row accounting of one join (``leokit.linkage.link``).

    A *pair* is a (left row, right row) combination with equal, non-missing keys. Rows whose key is
    missing never match (unlike a plain ``pandas.merge``, where NaN keys match each other).

    Identities (checked by :meth:`check`)::

        left_rows  == matched_left  + unmatched_left      (unmatched_left includes left_null_keys)
        right_rows == matched_right + unmatched_right
        out_rows   == pairs + kept_unmatched_left + kept_unmatched_right
        dropped_left  == unmatched_left  - kept_unmatched_left
        dropped_right == unmatched_right - kept_unmatched_right
        duplicates_left  == pairs - matched_left   (extra copies of left rows)
        duplicates_right == pairs - matched_right
    """

    how: str = "inner"
    expect: str = "m:m"
    keys: str = ""
    left_rows: int = 0
    right_rows: int = 0
    left_null_keys: int = 0
    right_null_keys: int = 0
    matched_left: int = 0
    unmatched_left: int = 0
    matched_right: int = 0
    unmatched_right: int = 0
    pairs: int = 0
    out_rows: int = 0
    kept_unmatched_left: int = 0
    kept_unmatched_right: int = 0
    dropped_left: int = 0
    dropped_right: int = 0
    duplicates_left: int = 0
    duplicates_right: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def match_rate_left(self) -> float:
        return self.matched_left / self.left_rows if self.left_rows else float("nan")

    @property
    def match_rate_right(self) -> float:
        return self.matched_right / self.right_rows if self.right_rows else float("nan")

    def check(self) -> None:
        ok = (
            self.left_rows == self.matched_left + self.unmatched_left
            and self.right_rows == self.matched_right + self.unmatched_right
            and self.out_rows == self.pairs + self.kept_unmatched_left + self.kept_unmatched_right
            and self.dropped_left == self.unmatched_left - self.kept_unmatched_left
            and self.dropped_right == self.unmatched_right - self.kept_unmatched_right
            and self.duplicates_left == self.pairs - self.matched_left
            and self.duplicates_right == self.pairs - self.matched_right
            and sum(self.dropped.values()) == self.dropped_left + self.dropped_right
        )
        if not ok:
            raise AssertionError(f"row accounting broken in {self.name}: {self.to_dict()}")

    def _lines(self) -> list[str]:
        lr = f" ({self.match_rate_left:.1%})" if self.left_rows else ""
        rr = f" ({self.match_rate_right:.1%})" if self.right_rows else ""
        lines = [
            f"join: how={self.how!r}, expect={self.expect!r}, keys: {self.keys}",
            f"left rows: {_fmt(self.left_rows)}; matched {_fmt(self.matched_left)}{lr}, "
            f"unmatched {_fmt(self.unmatched_left)} (of which missing key {_fmt(self.left_null_keys)})",
            f"right rows: {_fmt(self.right_rows)}; matched {_fmt(self.matched_right)}{rr}, "
            f"unmatched {_fmt(self.unmatched_right)} (of which missing key {_fmt(self.right_null_keys)})",
            f"matched pairs: {_fmt(self.pairs)}; rows out: {_fmt(self.out_rows)}",
            f"duplicates created: {_fmt(self.duplicates_left)} extra copies of left rows "
            f"(right rows used more than once: {_fmt(self.duplicates_right)} extra uses)",
        ]
        lines += [f"dropped ({why}): {_fmt(n)}" for why, n in self.dropped.items()]
        return lines + super()._lines()


@dataclass
class ChainReport(Report):
    """The reports of a multi-step helper, in order (``steps``)."""

    steps: list[Report] = field(default_factory=list)

    def __getitem__(self, key: int | str) -> Report:
        if isinstance(key, int):
            return self.steps[key]
        for s in self.steps:
            if s.name == key:
                return s
        raise KeyError(f"no step named {key!r}; steps: {[s.name for s in self.steps]}")

    def __str__(self) -> str:
        head = [f"ChainReport [{self.name}]"] + [f"  {s}" for s in super()._lines()]
        body = ["  " + line for s in self.steps for line in str(s).splitlines()]
        return "\n".join(head + body)


def log_report(report: Report) -> None:
    """Write a report to the ``leokit`` logger (level INFO)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("%s", report)


def finish(frame, report_obj: Report, report: bool):
    """The return convention of every helper that can drop, duplicate or add rows.

    Logs ``report_obj`` (:func:`log_report`) and returns ``frame``, or ``(frame, report_obj)`` when the
    caller asked for the report (``report=True``).
    """
    log_report(report_obj)
    return (frame, report_obj) if report else frame
