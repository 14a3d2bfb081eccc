"""Outcomes N years after graduation (DfE rule) and at fixed ages (the kit's age convention).

Both functions pick, for each person, the tax year of interest and attach person-year outcomes
(any frame keyed by ``[person, TaxYear]``: earnings, sustained employment, activity status ...).
Person-years with no outcome record are kept, with missing outcome values: decide explicitly
whether "no record" means zero earnings / not employed for your analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import LAST_TAX_YEAR
from ..years import yag_taxyear
from ._common import PERSON, DerivationError, lookup_rows, require_columns, taxyear_at_age, taxyear_code
from .registry import derived

__all__ = ["yag_taxyear", "outcomes_yag", "outcomes_at_age", "person_year_outcomes", "YAGS", "AGES"]

YAGS = (1, 3, 5, 10)
AGES = (25, 28, 30)


def _attach(base: pd.DataFrame, outcomes, person_col: str) -> pd.DataFrame:
    """Left-join each outcome frame on ``[person, TaxYear]`` (a fast positional join when the frame has one row
    per person-year; numeric columns become float64 with NaN where there is no record, as a merge does)."""
    frames = outcomes if isinstance(outcomes, (list, tuple)) else [outcomes]
    out = base.reset_index(drop=True)
    keys = [person_col, "TaxYear"]
    for f in frames:
        if f is None:
            continue
        require_columns(f, keys, "outcomes frame")
        f = f.drop(columns=[c for c in f.columns if c in out.columns and c not in keys]).reset_index(drop=True)
        pos = lookup_rows(out, f, keys) if len(f) else None
        if pos is None:  # repeated person-years in f (or f empty): a plain merge
            out = out.merge(f, on=keys, how="left")
            continue
        hit = pos >= 0
        idx = np.where(hit, pos, 0)
        cols = {}
        for c in f.columns:
            if c in keys:
                continue
            col = f[c]
            if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_extension_array_dtype(col.dtype):
                cols[c] = np.where(hit, col.to_numpy(dtype="float64")[idx], np.nan)
            else:
                cols[c] = col.iloc[idx].reset_index(drop=True).where(pd.Series(hit))
        out = pd.concat([out, pd.DataFrame(cols, index=out.index)], axis=1)
    return out


@derived(
    name="yag", label="Years after graduation", theme="outcomes",
    definition="N = 1, 3, 5, 10: the Nth full tax year after the academic year of graduation, i.e. TaxYear starting in "
               "April of graduation_year + N (graduation_year = end year of the academic year). Example: 2018/19 "
               "graduates -> 1 YAG = 2020/21 (202021), 3 YAG = 2022/23; the tax year overlapping graduation (2019/20) "
               "is skipped.",
    sources=[("hesa_2015", "HE_XPQUAL01"), ("leo_earnings", "TaxYear")],
    unit="years", valid_values="1, 3, 5, 10",
    caveats="Outcome years after 2020/21 are not observed: rows are returned with observed = 0.",
    level="person-year", status="documented", output_key=[PERSON, "yag"],
)
def outcomes_yag(graduates: pd.DataFrame, outcomes=None, *, yags=YAGS, person_col: str = PERSON,
                 last_taxyear: int = LAST_TAX_YEAR) -> pd.DataFrame:
    """One row per graduate and YAG: ``[person, graduation_year, yag, TaxYear, observed, <outcome columns>]``.

    ``graduates``: ``[person, graduation_year]`` (e.g. :func:`leokit.derive.graduation` mapped to AE_ID).
    ``outcomes``: a frame or list of frames keyed by ``[person, TaxYear]``.
    """
    require_columns(graduates, [person_col, "graduation_year"], "graduates")
    g = graduates[[person_col, "graduation_year"]].dropna().drop_duplicates(person_col)
    n = len(g)
    y = np.asarray(yags, dtype="int64")
    base = pd.DataFrame({
        person_col: np.repeat(g[person_col].to_numpy(), len(y)),
        "graduation_year": np.repeat(g["graduation_year"].to_numpy(dtype="int64"), len(y)),
        "yag": np.tile(y, n),
    })
    base["TaxYear"] = yag_taxyear(base["graduation_year"].to_numpy(), base["yag"].to_numpy())
    base["observed"] = (base["TaxYear"] <= last_taxyear).astype("int64")
    return _attach(base, outcomes, person_col)


@derived(
    name="age_taxyear", label="Tax year at a given age", theme="outcomes",
    definition="For age A = 25, 28, 30 and KS4 year C (end year of the KS4 academic year): the tax year starting in "
               "April of C + A - 17. Convention age_in_taxyear(T, C) = T - C + 17: the age the whole cohort has reached "
               "by 31 August T+1. Example: KS4 2009/10 (C = 2010) -> age 25 in 2018/19 (201819).",
    sources=[("KS4Pupil_2002_to_2014", "KS4_ACADYR"), ("leo_earnings", "TaxYear")],
    unit="years of age", valid_values="25, 28, 30",
    caveats="Pupils born September - 5 April reach age A during that tax year; those born 6 April - August reach it "
            "a few months after it ends (same as the synthetic generator's 'tax year in which the person reaches age "
            "29'). Out-of-year pupils (KS4 taken early/late) are placed by their KS4 year.",
    level="person-year", status="kit", output_key=[PERSON, "age"],
)
def outcomes_at_age(cohort: pd.DataFrame, outcomes=None, *, ages=AGES, person_col: str = PERSON,
                    last_taxyear: int = LAST_TAX_YEAR) -> pd.DataFrame:
    """One row per person and age: ``[person, ks4_year, age, TaxYear, observed, <outcome columns>]``.

    ``cohort``: ``[person, ks4_year]``; ``outcomes``: frame(s) keyed by ``[person, TaxYear]``.
    """
    require_columns(cohort, [person_col, "ks4_year"], "cohort")
    c = cohort[[person_col, "ks4_year"]].dropna().drop_duplicates(person_col)
    a = np.asarray(ages, dtype="int64")
    base = pd.DataFrame({
        person_col: np.repeat(c[person_col].to_numpy(), len(a)),
        "ks4_year": np.repeat(c["ks4_year"].to_numpy(dtype="int64"), len(a)),
        "age": np.tile(a, len(c)),
    })
    base["TaxYear"] = taxyear_code(taxyear_at_age(base["age"].to_numpy(), base["ks4_year"].to_numpy()))
    base["observed"] = (base["TaxYear"] <= last_taxyear).astype("int64")
    return _attach(base, outcomes, person_col)



def person_year_outcomes(
    edukey_map: pd.DataFrame | None = None,
    *,
    leo_earnings: pd.DataFrame | None = None,
    leo_self_assessment: pd.DataFrame | None = None,
    leo_employment: pd.DataFrame | None = None,
    leo_benefit: pd.DataFrame | None = None,
    study: pd.DataFrame | None = None,
    sa_counts_as_sustained: bool = False,
    person_col: str | None = None,
) -> pd.DataFrame:
    """All LEO person-year outcomes in one frame (a convenience wrapper around the registered functions).

    One row per person and tax year with any record in the given tables: ``paye_earnings``, ``sa_earnings``,
    ``total_earnings``, ``has_paye``, ``has_sa``, ``days_employed``, ``annualised_earnings``,
    ``months_employed_oct_mar``, ``sustained_employment``, ``oow_benefit_days``, ``any_oow_benefit`` and, with
    everything else, ``activity_status`` / ``go_category`` (``study``: person-years in further study, e.g.
    :func:`leokit.derive.hesa_study_taxyears`). Counts and flags are 0 where a table has no record for the
    person-year; earnings stay missing. ``sa_counts_as_sustained``: pass the SA earnings to
    :func:`sustained_employment` (self-employment counts as sustained).
    """
    from .earnings import annual_paye_earnings, annualised_earnings, sa_earnings, total_earnings
    from .employment import activity_status, days_employed, out_of_work_benefit_days, person_spells, sustained_employment

    pc = person_col or (PERSON if edukey_map is not None else "EDUKEY")
    parts = []
    paye = annual_paye_earnings(leo_earnings, edukey_map, person_col=pc) if leo_earnings is not None else None
    sa = sa_earnings(leo_self_assessment, edukey_map, person_col=pc) if leo_self_assessment is not None else None
    tot = None
    if paye is not None:
        tot = total_earnings(paye, sa, person_col=pc)
        parts.append(tot)
    elif sa is not None:
        empty = pd.DataFrame({pc: sa[pc].iloc[:0], "TaxYear": pd.Series([], dtype="int64"),
                              "paye_earnings": pd.Series([], dtype="float64")})
        tot = total_earnings(empty, sa, person_col=pc)
        parts.append(tot)
    days = sus = None
    if leo_employment is not None:
        spells = person_spells(leo_employment, edukey_map, person_col=pc, frame="leo_employment")
        days = days_employed(None, edukey_map, person_col=pc, spells=spells)
        sus = sustained_employment(None, edukey_map, person_col=pc, spells=spells,
                                   sa=sa if sa_counts_as_sustained else None)
        parts += [days, sus]
    ben = out_of_work_benefit_days(leo_benefit, edukey_map, person_col=pc) if leo_benefit is not None else None
    if ben is not None:
        parts.append(ben)
    if not parts:
        raise DerivationError("person_year_outcomes: give at least one LEO table")
    keys = pd.concat([p[[pc, "TaxYear"]] for p in parts], ignore_index=True).drop_duplicates()
    keys = keys.sort_values([pc, "TaxYear"], kind="stable").reset_index(drop=True)
    out = _attach(keys, [p for p in parts], pc)
    if paye is not None and days is not None:
        ann = annualised_earnings(paye, days, person_col=pc)[[pc, "TaxYear", "annualised_earnings"]]
        out = _attach(out, ann, pc)
    for c in ("has_paye", "has_sa", "days_employed", "months_employed_oct_mar", "sustained_employment",
              "oow_benefit_days", "any_oow_benefit"):
        if c in out.columns:
            out[c] = out[c].fillna(0).astype("int64")
    if days is not None and tot is not None and ben is not None:
        out = activity_status(out, sustained=out, days=out, earnings=out, benefits=out, study=study, person_col=pc)
    return out
