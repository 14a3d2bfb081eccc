"""Shared helpers of the fuzz suites: corruptions of a table, and the check that nothing happens silently.

A corruption is ``Corruption(name, table, corrupt)``: ``corrupt`` takes a DataFrame (the table as the kit
declares it) and returns a corrupted copy - the ways real extracts go wrong (padded ``CHAR(n)`` keys, codes in
lower case, numbers stored as text, duplicated records, dates in 2090, spells ending before they start, empty
tables, rows missing from a lookup). ``column`` names the column the corruption touches: the message or the
report must name it (and the table).

:func:`outcome` runs a call and collects everything it said: the exception, the kit's warnings
(:class:`~leokit.errors.InputChangedWarning`, :class:`~leokit.errors.RowsDroppedWarning`,
:class:`~leokit.errors.CoverageWarning`), the ``leokit`` logger's reports and the returned report.
:func:`assert_loud` fails a case that was silent. Generic: the pandas suites (``test_fuzz_frames.py``,
``test_fuzz_files.py``) and the SQL suite use the same corruptions and the same check.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from leokit.errors import CoverageWarning, InputChangedWarning, Report, RowsDroppedWarning

__all__ = [
    "Corruption", "Outcome", "outcome", "assert_loud",
    "pad", "lower", "as_text", "as_number", "set_missing", "duplicate_rows", "drop_rows", "future_date",
    "swap_dates", "empty", "negate",
]


@dataclass(frozen=True)
class Corruption:
    """One way a table goes wrong: ``corrupt(frame) -> corrupted frame`` (never modifies its argument)."""

    name: str
    table: str
    corrupt: Callable[[pd.DataFrame], pd.DataFrame]
    column: str | None = None

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = self.corrupt(frame.copy())
        assert out is not frame
        return out


# ----------------------------------------------------------------------------------------------
# Corruptions (each returns a function frame -> frame)
# ----------------------------------------------------------------------------------------------
def _text(values) -> pd.Series:
    s = pd.Series(values, dtype=object)
    return s.astype("str") if pd.__version__ >= "3" else s


def pad(column: str, width: int = 20, every: int = 3) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Right-pad every ``every``-th value of ``column`` with blanks to ``width`` characters (SQL Server CHAR(n))."""
    def f(df):
        s = df[column].astype(object)
        idx = np.arange(len(s)) % every == 0
        vals = [v.ljust(width) if (ok and isinstance(v, str)) else v for v, ok in zip(s, idx)]
        df[column] = _text(vals).to_numpy() if pd.__version__ < "3" else _text(vals).array
        return df
    return f


def lower(column: str, every: int = 1) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Lower-case every ``every``-th value of a code column (``E01000001`` -> ``e01000001``)."""
    def f(df):
        s = df[column].astype(object)
        vals = [v.lower() if (i % every == 0 and isinstance(v, str)) else v for i, v in enumerate(s)]
        df[column] = _text(vals).array
        return df
    return f


def as_text(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Store a numeric or date column as text (a CSV or an ``NVARCHAR`` pull): ``123`` -> ``"123"``."""
    def f(df):
        s = df[column]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            vals = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in s]
        elif pd.api.types.is_float_dtype(s.dtype) and bool((s.dropna() % 1 == 0).all()):
            vals = [None if pd.isna(v) else str(int(v)) for v in s]
        else:
            vals = [None if pd.isna(v) else str(v) for v in s]
        df[column] = _text(vals).array
        return df
    return f


def as_number(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Store a text key as whole numbers (only for keys made of digits; see ``numeric_keys`` in the suites)."""
    def f(df):
        df[column] = pd.to_numeric(df[column].astype(object)).astype("int64")
        return df
    return f


def set_missing(column: str, every: int = 5) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Blank every ``every``-th value of ``column``."""
    def f(df):
        mask = np.arange(len(df)) % every == 0
        s = df[column].astype(object) if not pd.api.types.is_float_dtype(df[column].dtype) else df[column]
        if pd.api.types.is_datetime64_any_dtype(df[column].dtype):
            df.loc[mask, column] = pd.NaT
            return df
        if pd.api.types.is_integer_dtype(df[column].dtype):
            s = df[column].astype("float64")
        s = s.copy()
        s[mask] = np.nan if pd.api.types.is_float_dtype(s.dtype) else None
        df[column] = s
        return df
    return f


def duplicate_rows(every: int = 10) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Repeat every ``every``-th row (a record delivered twice)."""
    def f(df):
        return pd.concat([df, df.iloc[::every]], ignore_index=True)
    return f


def drop_rows(every: int = 10) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Delete every ``every``-th row (e.g. EDUKEYs absent from the lookup)."""
    def f(df):
        keep = np.arange(len(df)) % every != 0
        return df[keep].reset_index(drop=True)
    return f


def future_date(column: str, year: int = 2090, every: int = 7) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Move every ``every``-th date of ``column`` (or tax year / year code) into ``year``."""
    def f(df):
        s = df[column]
        mask = (np.arange(len(df)) % every == 0) & s.notna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            df.loc[mask, column] = s[mask].map(lambda t: t + pd.DateOffset(years=year - t.year))  # 29 Feb -> 28 Feb
        elif column.lower() == "taxyear":
            df.loc[mask, column] = year * 100 + (year + 1) % 100
        else:
            df.loc[mask, column] = year
        return df
    return f


def swap_dates(start: str, end: str, every: int = 4) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Make every ``every``-th spell end before it starts (the end moved to a year before the start)."""
    def f(df):
        ok = df[start].notna().to_numpy() & df[end].notna().to_numpy()
        mask = (np.arange(len(df)) % every == 0) & ok
        df.loc[mask, end] = df.loc[mask, start] - pd.Timedelta(days=365)
        return df
    return f


def empty() -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The table with its columns and no rows."""
    def f(df):
        return df.iloc[:0].copy()
    return f


def negate(column: str, every: int = 6) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Negative values in a column declared non-negative."""
    def f(df):
        mask = np.arange(len(df)) % every == 0
        df.loc[mask, column] = -df.loc[mask, column].abs() - 1
        return df
    return f


# ----------------------------------------------------------------------------------------------
# Outcome of a call: loud (an error, a warning, a report naming table and column) or silent
# ----------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    error: BaseException | None
    messages: list[str]
    value: object = None

    @property
    def text(self) -> str:
        return "\n".join(([f"{type(self.error).__name__}: {self.error}"] if self.error is not None else [])
                         + self.messages)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage())


def outcome(call: Callable[[], object]) -> Outcome:
    """Run ``call()``; collect its exception, the kit's warnings, the ``leokit`` log and any returned report."""
    log = logging.getLogger("leokit")
    h = _Collect()
    old = log.level
    log.addHandler(h)
    log.setLevel(logging.INFO)
    err, value = None, None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = call()
            except Exception as e:  # noqa: BLE001 - any error counts, if it names table and column
                err = e
    finally:
        log.removeHandler(h)
        log.setLevel(old)
    msgs = [str(w.message) for w in caught
            if issubclass(w.category, (InputChangedWarning, RowsDroppedWarning, CoverageWarning))]
    msgs += h.records
    if isinstance(value, tuple):
        msgs += [str(v) for v in value if isinstance(v, Report)]
    elif isinstance(value, Report):
        msgs.append(str(value))
    return Outcome(err, msgs, value)


def assert_loud(out: Outcome, table: str, column: str | None, *, error: bool | None = None) -> None:
    """The case was not silent: an error, or a warning/report, that names ``table`` and ``column``.

    ``error=True``: it must be an error; ``error=False``: it must not be (the input was normalised and said so).
    """
    text = out.text
    assert text, "silent: no error, no warning, no report"
    if error is True:
        assert out.error is not None, f"expected an error, got only:\n{text}"
    if error is False:
        assert out.error is None, f"expected a normalisation with a note, got an error: {out.error}"
    where = str(out.error) if out.error is not None else "\n".join(out.messages)
    assert table in where, f"table {table!r} not named in:\n{where}"
    if column is not None:
        assert column in where, f"column {column!r} not named in:\n{where}"
