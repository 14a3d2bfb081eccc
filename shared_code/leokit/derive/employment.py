"""Employment days, sustained employment, out-of-work benefits and activity status per person and tax year.

Spell tables (``leo_employment``, ``leo_benefit``) are keyed by ``EduKey``. A person's spells from all
their EDUKEYs are first merged (union of overlapping or abutting spells), so no day is counted twice.
A missing ``EndDate`` is treated as "still open" and closed at the end of the last tax year of the
data (5 April 2021), a missing ``StartDate`` drops the spell (LEO already defaults uncertain dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.schema import FIRST_SA_TAX_YEAR, LAST_TAX_YEAR, OUT_OF_WORK_BENEFITS
from leokit.derive._common import (check_input, warn_dropped, DerivationError, Problem, 
    PERSON,
    as_dates,
    as_numeric,
    as_taxyear,
    attach_person,
    group_index,
    group_sum,
    merge_intervals,
    month_index_of_days,
    require_columns,
    split_by_taxyear,
    taxyear_code,
    taxyear_start_year,
)
from leokit.derive.registry import derived

__all__ = [
    "person_spells",
    "days_employed",
    "sustained_employment",
    "out_of_work_benefit_days",
    "activity_status",
    "ACTIVITY_CATEGORIES",
    "GO_CATEGORIES",
    "SUSTAINED_MIN_MONTHS",
]

#: Months October-March that must contain employment for "sustained" (5 of the 6) [DEST; INFERRED for LEO GO].
SUSTAINED_MIN_MONTHS = 5
_LAST_DAY = pd.Timestamp(taxyear_start_year(LAST_TAX_YEAR) + 1, 4, 5)


def _pc(mapping, person_col):
    return person_col or (PERSON if mapping is not None else "EDUKEY")


def person_spells(spells: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *, key_col: str = "EduKey",
                  person_col: str | None = None, frame: str = "spells", open_end: pd.Timestamp = _LAST_DAY) -> pd.DataFrame:
    """Spells re-keyed to persons and merged: ``[person, StartDate, EndDate]`` with disjoint, sorted spells."""
    if frame in ("leo_employment", "leo_benefit"):
        spells = check_input(spells, frame, [key_col, "StartDate", "EndDate"])  # kinds, dates in range, order
    else:
        require_columns(spells, [key_col, "StartDate", "EndDate"], frame)
    pc = _pc(edukey_map, person_col)
    d = spells[[key_col, "StartDate", "EndDate"]]
    if edukey_map is not None:
        d = attach_person(d, key_col, edukey_map, mapping_key="EDUKEY", person_col=pc,
                          frame=frame)[[pc, "StartDate", "EndDate"]]
    else:
        d = d.rename(columns={key_col: pc})
    s = as_dates(d["StartDate"], frame, "StartDate").to_numpy("datetime64[ns]")
    e = as_dates(d["EndDate"], frame, "EndDate").to_numpy("datetime64[ns]")
    e = np.where(np.isnat(e), np.datetime64(open_end, "ns"), e)
    ok = ~np.isnat(s) & (e >= s)
    warn_dropped(int(np.isnat(s).sum()), len(s), frame, "missing StartDate (a spell with no start cannot be placed)")
    bad = ~np.isnat(s) & (e < s)
    if bad.any():
        raise DerivationError(f"{frame}: {int(bad.sum()):,} spells end before they start (EndDate < StartDate); fix "
                              "or drop them first", table=frame,
                              problems=[Problem(frame, "EndDate", "EndDate on or after StartDate",
                                                f"{int(bad.sum())} rows ending before they start", "order")])
    d = pd.DataFrame({pc: d[pc].to_numpy()[ok], "StartDate": s[ok], "EndDate": e[ok]})
    return merge_intervals(d, [pc], "StartDate", "EndDate")


@derived(
    name="days_employed", label="Days in PAYE employment in the tax year", theme="employment",
    definition="Number of days of the tax year (6 April - 5 April) covered by at least one leo_employment spell of any "
               "of the person's EDUKEYs (spells merged first, so overlapping spells count once).",
    sources=[("leo_employment", "EduKey"), ("leo_employment", "StartDate"), ("leo_employment", "EndDate")],
    unit="days", valid_values="1..366 (person-years without employment are absent here; 0 for linked people with "
                                  "no spell once attached by outcomes_at_age / outcomes_yag)",
    caveats="Missing EndDate = open spell, closed at 5 April 2021; missing StartDate drops the spell. Spell dates "
            "may be defaulted (UncertainStartDate/UncertainEndDate). Excludes self-employment. Following FFT "
            "(spell days intersecting the year).",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
def days_employed(leo_employment: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *,
                  person_col: str | None = None, spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Days employed per person and tax year: ``[person, TaxYear, days_employed]``.

    ``spells``: optional output of :func:`person_spells` (to share the merge step with other functions).
    """
    pc = _pc(edukey_map, person_col)
    sp = person_spells(leo_employment, edukey_map, person_col=pc, frame="leo_employment") if spells is None else spells
    pieces = split_by_taxyear(sp, "StartDate", "EndDate")
    out = group_sum(pieces, [pc, "_ty"], {"days_employed": pieces["days"].to_numpy()})
    out["TaxYear"] = taxyear_code(out["_ty"].to_numpy())
    out = out[[pc, "TaxYear", "days_employed"]]
    out["days_employed"] = out["days_employed"].astype("int64")
    return out


@derived(
    name="months_employed_oct_mar", label="Months October-March with employment", theme="employment",
    definition="Number of the six calendar months October (of the tax year's first calendar year) to March (of the "
               "second) in which at least one day is covered by a PAYE employment spell of the person.",
    sources=[("leo_employment", "StartDate"), ("leo_employment", "EndDate")],
    unit="months", valid_values="0..6",
    caveats="'At least one day in the month' is the kit's reading (INFERRED); the DfE destination measures say "
            "'5 of the 6 months' without defining a month's coverage.",
    level="person-year", status="inferred", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="sustained_employment", label="Sustained employment (5 of 6 months October-March)", theme="employment",
    definition="1 if months_employed_oct_mar >= 5, else 0 (PAYE employment only). When the SA earnings are passed "
               "(sa = output of sa_earnings), also 1 if the person has positive SA self-employment earnings in the "
               "tax year (2013/14 on).",
    sources=[("leo_employment", "StartDate"), ("leo_employment", "EndDate"),
             ("leo_self_assessment", "EARNINGS_SELF_EMPLOYMENT")],
    unit="indicator", valid_values="0, 1",
    caveats="INFERRED for graduate outcomes: the 5-of-6-months October-March rule is from the DfE destination "
            "measures [DEST]; the LEO graduate-outcomes definition (and its treatment of SA-only workers and of "
            "earnings thresholds) is not confirmed - an open question. Person-years without any spell are absent from "
            "this function's output; attached by outcomes_at_age / outcomes_yag / attach_outcomes the column is 0 for "
            "a linked person with no spell (in a tax year the spells cover) and missing for the unlinkable - use it "
            "as it is.",
    level="person-year", status="inferred", output_key=[PERSON, "TaxYear"],
)
def sustained_employment(leo_employment: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *,
                         person_col: str | None = None, sa: pd.DataFrame | None = None,
                         min_months: int = SUSTAINED_MIN_MONTHS, spells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sustained employment per person and tax year.

    Returns ``[person, TaxYear, months_employed_oct_mar, sustained_employment]`` for every person-year with a
    spell touching the tax year (plus, with ``sa`` = output of :func:`sa_earnings`, person-years with positive
    SA earnings, which count as sustained). A person-year with no spell is absent here; once attached with
    :func:`leokit.derive.outcomes_at_age` / :func:`~leokit.derive.outcomes_yag` /
    :func:`~leokit.derive.attach_outcomes` the column is correct as it stands: 0 for a linked person with no spell
    (in an observed tax year the spells cover), missing (NaN) for the unlinkable.
    """
    pc = _pc(edukey_map, person_col)
    sp = person_spells(leo_employment, edukey_map, person_col=pc, frame="leo_employment") if spells is None else spells
    pieces = split_by_taxyear(sp, "StartDate", "EndDate")
    gid, keys = group_index(pieces, [pc, "_ty"])  # person-years with any spell day in the tax year
    ty = pieces["_ty"].to_numpy(dtype="int64")
    w_start = (ty - 1970) * 12 + 9  # October of the first calendar year (months since Jan 1970)
    w_end = w_start + 5  # March of the next
    m_s = np.maximum(month_index_of_days(pieces["_ps"].to_numpy()), w_start)
    m_e = np.minimum(month_index_of_days(pieces["_pe"].to_numpy()), w_end)
    keep = m_e >= m_s
    g, ms, me = gid[keep], m_s[keep], m_e[keep]
    # pieces come from disjoint spells; consecutive pieces of one person-year can share a month:
    # distinct months = sum of lengths - sum of overlaps of consecutive pieces (sorted by start)
    if len(g) > 1 and not np.all((g[1:] > g[:-1]) | ((g[1:] == g[:-1]) & (ms[1:] >= ms[:-1]))):
        order = np.lexsort((me, ms, g))
        g, ms, me = g[order], ms[order], me[order]
    overlap = np.zeros(len(g), dtype="int64")
    if len(g) > 1:
        same = g[1:] == g[:-1]
        overlap[1:] = np.where(same, np.maximum(me[:-1] - ms[1:] + 1, 0), 0)
    months = np.bincount(g, weights=(me - ms + 1 - overlap), minlength=len(keys))
    out = keys
    out["months_employed_oct_mar"] = months.astype("int64")
    out["TaxYear"] = taxyear_code(out["_ty"].to_numpy())
    out = out[[pc, "TaxYear", "months_employed_oct_mar"]]
    out["sustained_employment"] = (out["months_employed_oct_mar"] >= min_months).astype("int64")
    if sa is not None:
        require_columns(sa, [pc, "TaxYear", "sa_earnings"], "sa (output of sa_earnings)")
        pos = (as_numeric(sa["sa_earnings"], "sa", "sa_earnings") > 0) & (as_taxyear(sa["TaxYear"], "sa") >= FIRST_SA_TAX_YEAR)
        se = sa.loc[pos.to_numpy(dtype=bool), [pc, "TaxYear"]].drop_duplicates()
        se = se.assign(_se=1)
        out = out.merge(se, on=[pc, "TaxYear"], how="outer")
        out["months_employed_oct_mar"] = out["months_employed_oct_mar"].fillna(0).astype("int64")
        out["sustained_employment"] = ((out["sustained_employment"].fillna(0) == 1) | (out["_se"] == 1)).astype("int64")
        out = out.drop(columns="_se")
        out = out.sort_values([pc, "TaxYear"], kind="stable")
    out["TaxYear"] = out["TaxYear"].astype("int64")
    return out.reset_index(drop=True)


@derived(
    name="oow_benefit_days", label="Days on out-of-work benefits in the tax year", theme="employment",
    definition="Days of the tax year covered by at least one leo_benefit spell that is an out-of-work benefit: "
               "Out_of_work_benefit = 1 OR Benefit_type in the FFT out-of-work list (AA, ESA, IB, ICA, IS, JSA, JTA, PC, "
               "PIB, RP, SDA, UAA, UBC, UCE, UDF); spells merged across types and EDUKEYs.",
    sources=[("leo_benefit", "EduKey"), ("leo_benefit", "StartDate"), ("leo_benefit", "EndDate"),
             ("leo_benefit", "Benefit_type"), ("leo_benefit", "Out_of_work_benefit")],
    unit="days", valid_values="1..366 (absent = 0)",
    caveats="The code list is FFT's [FFT fft.benefits.sql]; DWP's flag and the list may disagree on a few codes - "
            "'either' is used. Universal Credit codes mix in- and out-of-work claimants.",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="any_oow_benefit", label="Any out-of-work benefit in the tax year", theme="employment",
    definition="1 if oow_benefit_days > 0, else 0.",
    sources=[("leo_benefit", "Out_of_work_benefit"), ("leo_benefit", "Benefit_type")],
    unit="indicator", valid_values="0, 1", caveats="As oow_benefit_days.",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
def out_of_work_benefit_days(leo_benefit: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *,
                             person_col: str | None = None) -> pd.DataFrame:
    """Out-of-work benefit days per person and tax year: ``[person, TaxYear, oow_benefit_days, any_oow_benefit]``."""
    leo_benefit = check_input(leo_benefit, "leo_benefit", ["EduKey", "StartDate", "EndDate", "Benefit_type", "Out_of_work_benefit"])
    pc = _pc(edukey_map, person_col)
    flag = as_numeric(leo_benefit["Out_of_work_benefit"], "leo_benefit", "Out_of_work_benefit").to_numpy() == 1
    code = leo_benefit["Benefit_type"].astype("string").str.strip().str.upper().isin(OUT_OF_WORK_BENEFITS).fillna(False)
    oow = leo_benefit[flag | code.to_numpy(dtype=bool)]
    sp = person_spells(oow, edukey_map, person_col=pc, frame="leo_benefit")
    pieces = split_by_taxyear(sp, "StartDate", "EndDate")
    out = group_sum(pieces, [pc, "_ty"], {"oow_benefit_days": pieces["days"].to_numpy()})
    out["TaxYear"] = taxyear_code(out["_ty"].to_numpy())
    out = out[[pc, "TaxYear", "oow_benefit_days"]]
    out["oow_benefit_days"] = out["oow_benefit_days"].astype("int64")
    out["any_oow_benefit"] = (out["oow_benefit_days"] > 0).astype("int64")
    return out


#: Activity categories (mutually exclusive, in order of precedence).
ACTIVITY_CATEGORIES = (
    "sustained employment only",
    "sustained employment and further study",
    "further study only",
    "employment not sustained",
    "out-of-work benefits",
    "no activity captured",
)
#: LEO graduate-outcomes headline categories [GO-METH] and how the activity categories collapse into them.
GO_CATEGORIES = {
    "sustained employment only": "sustained employment only",
    "sustained employment and further study": "sustained employment with further study",
    "further study only": "further study only",
    "employment not sustained": "no sustained destination",
    "out-of-work benefits": "no sustained destination",
    "no activity captured": "activity not captured",
}


@derived(
    name="activity_status", label="Activity status in the tax year", theme="employment",
    definition="First matching of: 'sustained employment only' / 'sustained employment and further study' "
               "(sustained_employment = 1, with further study = a HESA record in the academic year starting in the "
               "tax year); 'further study only'; 'employment not sustained' (any PAYE employment day or earnings > 0 or "
               "SA earnings > 0); 'out-of-work benefits' (any_oow_benefit = 1); 'no activity captured'.",
    sources=[("leo_employment", "StartDate"), ("leo_earnings", "Earnings"), ("leo_benefit", "Out_of_work_benefit"),
             ("hesa_2015", "HE_PUPILMATCHINGREFANONYMOUS")],
    unit="category", valid_values="; ".join(ACTIVITY_CATEGORIES),
    caveats="Categories follow the LEO graduate-outcomes headline groups [GO-METH] but the exact rules are INFERRED: "
            "DfE also counts FE (ILR) study and requires a DWP CIS match for 'activity not captured'. Further study "
            "here = HESA only; tax year T is matched to academic year T/T+1.",
    level="person-year", status="inferred", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="go_category", label="Graduate-outcomes headline category", theme="employment",
    definition="activity_status collapsed to the LEO GO groups: sustained employment only; sustained employment with "
               "further study; further study only; no sustained destination (employment not sustained or out-of-work "
               "benefits); activity not captured.",
    sources=[("leo_employment", "StartDate"), ("leo_benefit", "Out_of_work_benefit")],
    unit="category", valid_values="; ".join(dict.fromkeys(GO_CATEGORIES.values())),
    caveats="As activity_status.", level="person-year", status="inferred", output_key=[PERSON, "TaxYear"],
)
def activity_status(
    population: pd.DataFrame,
    *,
    sustained: pd.DataFrame | None = None,
    days: pd.DataFrame | None = None,
    earnings: pd.DataFrame | None = None,
    benefits: pd.DataFrame | None = None,
    study: pd.DataFrame | None = None,
    person_col: str = PERSON,
) -> pd.DataFrame:
    """Activity status for each person-year of ``population`` (columns ``person_col``, ``TaxYear``).

    Inputs are outputs of the other functions (any may be omitted): ``sustained`` (sustained_employment),
    ``days`` (days_employed), ``earnings`` (total_earnings or annual_paye_earnings: uses ``total_earnings`` if
    present else ``paye_earnings``), ``benefits`` (out_of_work_benefit_days) and ``study``: person-years in
    further study, columns ``[person, TaxYear]`` (e.g. from :func:`leokit.derive.hesa_study_taxyears`).
    Returns ``population`` plus ``activity_status`` and ``go_category`` (string columns).
    """
    require_columns(population, [person_col, "TaxYear"], "population")
    pc = person_col
    out = population[[pc, "TaxYear"]].drop_duplicates().reset_index(drop=True)

    def flag(frame, col, name, cond):
        nonlocal out
        if frame is None:
            out[name] = False
            return
        label = {"_sus": "sustained", "_emp": "days", "_earn": "earnings", "_ben": "benefits"}[name]
        require_columns(frame, [pc, "TaxYear", col], label)
        keep = cond(as_numeric(frame[col], label, col)).to_numpy(dtype=bool)
        f = frame.loc[keep, [pc, "TaxYear"]].drop_duplicates().assign(**{name: True})
        out = out.merge(f, on=[pc, "TaxYear"], how="left")
        out[name] = out[name].eq(True).to_numpy(dtype=bool)

    flag(sustained, "sustained_employment", "_sus", lambda s: s == 1)
    flag(days, "days_employed", "_emp", lambda s: s > 0)
    if earnings is not None:
        ecol = "total_earnings" if "total_earnings" in earnings.columns else "paye_earnings"
        flag(earnings, ecol, "_earn", lambda s: s > 0)
    else:
        out["_earn"] = False
    flag(benefits, "any_oow_benefit", "_ben", lambda s: s == 1)
    if study is not None:
        require_columns(study, [pc, "TaxYear"], "study")
        st = study[[pc, "TaxYear"]].drop_duplicates().assign(_stu=True)
        out = out.merge(st, on=[pc, "TaxYear"], how="left")
        out["_stu"] = out["_stu"].eq(True).to_numpy(dtype=bool)
    else:
        out["_stu"] = False
    conds = [
        out["_sus"] & ~out["_stu"],
        out["_sus"] & out["_stu"],
        out["_stu"],
        out["_emp"] | out["_earn"],
        out["_ben"],
    ]
    status = np.select([c.to_numpy(dtype=bool) for c in conds], list(ACTIVITY_CATEGORIES[:5]), default=ACTIVITY_CATEGORIES[5])
    out["activity_status"] = pd.Series(status, index=out.index, dtype=object).astype(str)
    out["go_category"] = out["activity_status"].map(GO_CATEGORIES)
    return population.merge(out[[pc, "TaxYear", "activity_status", "go_category"]], on=[pc, "TaxYear"], how="left")
