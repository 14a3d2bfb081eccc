"""Calendar conventions of the kit: tax years, academic years, ages and years after graduation.

This is the one place where the kit states how it turns dates, cohorts and ages into LEO tax years.
Everything else -- ``leokit.derive``, the SQL in ``leokit.derive.sql``, and the synthetic generator in
``leokit.synth`` -- calls these functions, so a researcher's "age 29" and the generator's "age 29" are
the same tax year for every person. The module imports only NumPy and pandas (bottom layer).

Tax years
    A tax year runs 6 April to 5 April. LEO codes it as an integer ``TaxYear``: 200405 is
    6 April 2004 - 5 April 2005 (``leo_earnings.TaxYear``). The kit names a tax year by the calendar
    year ``T`` in which it starts (2004 for 200405): :func:`taxyear_code` and :func:`taxyear_start_year`
    convert between the two.

Academic years
    An academic year runs 1 September to 31 August and is named by the calendar year in which it
    *ends*: ``KS4_ACADYR = '2009/2010'`` is 2010 (:func:`acadyr_end`). A pupil's KS4 year ``C`` is the end
    year of the academic year in which they sat KS4 (Year 11, age 15 at its start, 16 by its end).

Age (the kit's convention)
    The age of a KS4 cohort ``C`` in the tax year starting in April ``T`` is ``T - C + 17``
    (:func:`age_in_taxyear`), and the tax year in which the cohort is ``A`` starts in April ``C + A - 17``
    (:func:`taxyear_at_age`). It is the age every member of the cohort has reached by 31 August
    ``T + 1``, the end of the academic year that starts inside the tax year. Pupils born September to
    5 April turn ``A`` during that tax year; those born 6 April to August turn ``A`` in the months just
    after it ends (they are ``A - 1`` for the whole tax year). Example: KS4 2009/10 (``C = 2010``, born
    September 1993 - August 1994) is "25" in tax year 2018/19. The kit uses a cohort convention because
    cohort is what every NPD/LEO table carries and because it keeps a whole school year group in one tax
    year; a birthday-based convention would split each year group over two tax years. The synthetic
    generator places its planted "age 29" outcome point with the same function.

Years after graduation (DfE)
    ``k`` years after graduation (YAG) is the ``k``-th full tax year after the academic year of
    graduation ends: for a graduation year ``G`` (academic year ending in ``G``), ``k`` YAG is the tax
    year starting in April ``G + k`` (:func:`yag_taxyear`). 2018/19 graduates (``G = 2019``) are 1 YAG in
    2020/21; the tax year overlapping graduation (2019/20) is skipped. Source: DfE graduate outcomes
    (LEO) methodology, on the book's references page.

IDBR extract of a tax year
    LEO links each tax year to one IDBR extract (``idbr_lookup.SourceYear``): the January 2018 extract
    ('2019') for tax years up to 2016/17 (``TaxYear <= 201617``), the September 2020 extract ('2020') after
    [VRF] (:func:`idbr_source_year`; used by ``leokit.context.add_employer_context`` and
    ``leokit.derive.main_employer``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "taxyear_code",
    "taxyear_start_year",
    "taxyear_bounds",
    "taxyear_of_date",
    "acadyr_end",
    "age_in_taxyear",
    "taxyear_at_age",
    "yag_taxyear",
    "IDBR_SWITCH_TAXYEAR",
    "idbr_source_year",
]

#: Last LEO tax year whose employer data come from the IDBR extract with ``SourceYear`` '2019' [VRF].
IDBR_SWITCH_TAXYEAR = 201617


def taxyear_code(start_year):
    """Tax year starting 6 April ``start_year`` -> LEO code (2004 -> 200405). Works on scalars and arrays."""
    s = np.asarray(start_year, dtype="int64")
    out = s * 100 + (s + 1) % 100
    return int(out) if out.ndim == 0 else out


def taxyear_start_year(code):
    """LEO tax-year code -> calendar year in which it starts (200405 -> 2004)."""
    c = np.asarray(code, dtype="int64")
    out = c // 100
    return int(out) if out.ndim == 0 else out


def taxyear_bounds(start_year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the tax year starting in ``start_year`` (6 April .. 5 April)."""
    return pd.Timestamp(start_year, 4, 6), pd.Timestamp(start_year + 1, 4, 5)


def taxyear_of_date(dates: pd.Series) -> pd.Series:
    """Start year of the tax year containing each date (6 April - 5 April); NaT -> <NA>."""
    d = pd.to_datetime(dates)
    y = d.dt.year
    before = (d.dt.month < 4) | ((d.dt.month == 4) & (d.dt.day < 6))
    return (y - before.astype("Int64")).astype("Int64")


def acadyr_end(values: pd.Series) -> pd.Series:
    """Academic year strings ('2009/2010', '2009/10', '200910') or ints -> end calendar year (Int64).

    Plain four-digit years are taken to be end years already; six-digit codes such as 200910 are the
    academic year 2009/10 (end year 2010).
    """
    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s):
        v = pd.to_numeric(s, errors="coerce")
        return pd.Series(np.where(v > 9999, (v // 100) + 1, v), index=s.index).astype("Int64")
    t = s.astype("string").str.strip()
    first = pd.to_numeric(t.str.extract(r"^(\d{4})", expand=False), errors="coerce")
    has_sep = t.str.contains(r"^\d{4}\s*[/-]", regex=True, na=False) | t.str.fullmatch(r"\d{6}", na=False)
    end = np.where(has_sep.to_numpy(dtype=bool), first + 1, first)
    return pd.Series(end, index=s.index).astype("Float64").astype("Int64")


def age_in_taxyear(taxyear_start, ks4_year):
    """Age of KS4 cohort ``ks4_year`` in the tax year starting in April ``taxyear_start``: ``T - C + 17``.

    See the module docstring for what the age means (the age every cohort member has reached by
    31 August ``T + 1``). Example: ``age_in_taxyear(2018, 2010) == 25``.
    """
    return np.asarray(taxyear_start) - np.asarray(ks4_year) + 17


def taxyear_at_age(age, ks4_year):
    """Start year of the tax year in which KS4 cohort ``ks4_year`` is ``age``: ``C + A - 17``.

    The inverse of :func:`age_in_taxyear`. Example: ``taxyear_at_age(29, 2008) == 2020`` (tax year 2020/21).
    Wrap in :func:`taxyear_code` for the LEO code.
    """
    return np.asarray(ks4_year) + np.asarray(age) - 17


def yag_taxyear(graduation_year, yag):
    """LEO tax-year code of ``yag`` years after graduation for an academic year ending in ``graduation_year``.

    1 YAG starts in April ``graduation_year + 1``: 2018/19 graduates (2019) -> 1 YAG = 202021.
    """
    return taxyear_code(np.asarray(graduation_year, dtype="int64") + np.asarray(yag, dtype="int64"))


def idbr_source_year(taxyear) -> np.ndarray:
    """IDBR ``SourceYear`` matching each LEO ``TaxYear`` code: '2019' up to 201617, '2020' after.

    Returns an object array of str; a missing tax year gives ``None``. Text that is not a number raises
    ``ValueError`` (it is never read as missing).
    """
    t = pd.to_numeric(pd.Series(taxyear)).to_numpy(dtype="float64", na_value=np.nan)
    out = np.where(t <= IDBR_SWITCH_TAXYEAR, "2019", "2020").astype(object)
    out[np.isnan(t)] = None
    return out
