"""Disadvantage: FSM in the last six years, and area measures of the home LSOA (IDACI, IMD, POLAR4, TUNDRA).

The school census comes as one wide table per year with suffixed column names
(``FSMeligible_spr11``). :func:`stack_census` turns ``{year: frame}`` (or ``{"spring_census_2011": frame}``)
into one long frame with plain names. The area lookups are the public tables declared in
:mod:`leokit.schema` (``imd2019_lsoa11``, ``polar4_lsoa11``, ``tundra_lsoa11``, ``lsoa01_lsoa11_lookup``);
the functions take them as frames and never read files.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from leokit.derive._common import (check_input, warn_dropped, 
    PMR,
    PUPIL_ID_NAMES,
    DerivationError,
    as_numeric,
    format_years,
    pick_column,
    report_gap,
    require_columns,
    require_rows,
)
from leokit.derive.registry import derived
from leokit.stack import dedup_census
from leokit.stack import stack_census as _stack_census

__all__ = ["stack_census", "fsm_ever6", "area_measures", "pupil_characteristics", "FSM_WINDOW_YEARS"]

#: "Ever FSM in the last 6 years": the KS4 year and the five before it.
FSM_WINDOW_YEARS = 6


def _year_keys(tables: Mapping, what: str) -> dict[int, pd.DataFrame]:
    """``{2011: frame}`` or ``{"spring_census_2011": frame}`` -> ``{2011: frame}``."""
    out = {}
    for key, frame in tables.items():
        m = re.search(r"(\d{4})$", str(key))
        if not m:
            raise DerivationError(f"{what}: cannot read a year from key {key!r} (use 2011 or '..._2011')")
        out[int(m.group(1))] = frame
    if not out:
        raise DerivationError(f"{what}: no tables given")
    return out


def stack_census(tables: Mapping) -> pd.DataFrame:
    """Stack in-memory census frames (``{2011: frame}`` or ``{"spring_census_2011": frame}``) and keep main
    records: :func:`leokit.load.stack_census` (``map_lsoa=False``: ``lsoa11cd`` is filled for 2011 LSOAs only;
    the frames are checked against the census schema, with what was normalised noted in its logged report)
    followed by :func:`leokit.load.dedup_census`; the duplicate records dropped are counted in a
    :class:`~leokit.errors.RowsDroppedWarning`. The functions below accept the output of either."""
    long = _stack_census(tables=_year_keys(tables, "stack_census"), map_lsoa=False, validate=True)
    out, rep = dedup_census(long, report=True)
    for why, n in rep.dropped.items():
        warn_dropped(n, rep.rows_in, "census (stack_census)", why)
    return out.reset_index(drop=True)


def _cohort(cohort: pd.DataFrame, fn: str) -> tuple[str, np.ndarray]:
    """The cohort's pupil id column (either accepted name) and its KS4 years (int64); errors if unusable."""
    pid = pick_column(cohort, PUPIL_ID_NAMES, "cohort")
    require_columns(cohort, [pid, "ks4_year"], "cohort")
    require_rows(cohort, "cohort", "did you select a KS4 year that is not in the data? (ks4_attainment(..., "
                                   "years=[...]) and leokit.load.stack_ks4(years=[...]) say which years there are)")
    y = as_numeric(cohort["ks4_year"], "cohort", "ks4_year")
    if y.isna().any():
        raise DerivationError(f"{fn}: {int(y.isna().sum()):,} cohort rows have no ks4_year; the window is counted "
                              "from the KS4 year", table="cohort")
    return pid, y.to_numpy(dtype="int64")


def _main_records(census: pd.DataFrame) -> pd.DataFrame:
    if "RecordStatus" in census.columns:
        rs = as_numeric(census["RecordStatus"], "census", "RecordStatus").to_numpy()
        return census[~(rs >= 100)]
    return census


@derived(
    name="fsm_ever6", label="Free school meals in the last six years (at KS4)", theme="disadvantage",
    definition="1 if FSMeligible = 1 in any January census (main records, RecordStatus < 100) in the KS4 academic year "
               "or the five before it; 0 if the pupil has census records in that window but none eligible; otherwise "
               "(no census record in the window) KS4_FSM6 from the KS4 table where available.",
    sources=[("spring_census_2015", "FSMeligible_spr15"), ("spring_census_2015", "PupilMatchingRefAnonymous_spr15"),
             ("spring_census_2015", "RecordStatus_spr15"), ("KS4Pupil_2015_to_2021", "KS4_FSM6")],
    unit="indicator", valid_values="0, 1; missing if neither source is available",
    caveats="DfE's EVERFSM_6 uses termly censuses (spring, summer, autumn); January-only data miss some spells, so this "
            "is a slight under-count (kit choice). Pupils in independent schools have no census records. Pupil-level "
            "censuses start in 2001/02 (PLASC), so the windows of KS4 2004/05 and 2005/06 are only partly covered: "
            "the function warns (CoverageWarning) whenever a cohort's window lacks census years in the data passed, "
            "and the value is then a lower bound.",
    level="person", status="kit", output_key=[PMR],
)
def fsm_ever6(cohort: pd.DataFrame, census: pd.DataFrame | None = None, *, on_gap: str = "warn") -> pd.DataFrame:
    """FSM in the last six years per pupil of ``cohort``.

    ``cohort``: one row per pupil with the pupil id (``PupilMatchingRefAnonymous`` as from :func:`ks4_attainment`,
    or ``KS4_PupilMatchingRefAnonymous`` as from ``leokit.load.stack_ks4`` / ``dedup_ks4``) and ``ks4_year``;
    optionally ``ks4_fsm6`` (or the raw ``KS4_FSM6``) for the fallback. ``census``: output of :func:`stack_census`
    or ``leokit.load.stack_census``.

    Returns ``cohort`` (all columns) plus ``fsm_ever6`` (Int64) and ``fsm_ever6_source`` ('census' / 'KS4_FSM6' /
    missing).

    Coverage: the window of KS4 year C is the censuses of C-5 .. C. If the census passed lacks some of those years
    for a cohort in ``cohort`` (e.g. KS4 2005 needs 2000-2005 but pupil-level censuses start in 2002, or only some
    years were loaded), the value uses the years present - a lower bound - and the gap is reported by the kit's
    coverage policy: ``on_gap="warn"`` (default, :class:`~leokit.errors.CoverageWarning`), ``"raise"``
    (:class:`~leokit.derive.CoverageError`) or ``"ignore"``. An empty cohort raises
    :class:`~leokit.derive.DerivationError`.
    """
    pid, ks4y = _cohort(cohort, "fsm_ever6")
    out = cohort.copy()
    census_val = pd.Series(np.nan, index=out.index)
    if census is not None:
        require_columns(census, [PMR, "census_year", "FSMeligible"], "census (output of stack_census)")
        years_present = set(np.unique(as_numeric(census["census_year"], "census", "census_year").dropna()
                                      .to_numpy(dtype="int64")).tolist())
        gaps = []
        for c in np.unique(ks4y):
            need = set(range(int(c) - FSM_WINDOW_YEARS + 1, int(c) + 1))
            lack = sorted(need - years_present)
            if lack:
                gaps.append(f"KS4 {c} ({int((ks4y == c).sum()):,} pupils) lacks {format_years(lack)}")
        if gaps:
            report_gap("fsm_ever6: the census passed does not cover the six-year window (KS4 year and the five "
                       f"before) of every cohort - it has census years {format_years(years_present) or 'none'}; "
                       + "; ".join(gaps) + ". Those pupils' fsm_ever6 uses the years present only (a lower bound); "
                       "select cohorts whose window is covered or pass on_gap='ignore' after checking", on_gap)
        c = _main_records(census)
        c = pd.DataFrame({PMR: c[PMR].to_numpy(),
                          "census_year": as_numeric(c["census_year"], "census", "census_year").to_numpy(),
                          "_f": (as_numeric(c["FSMeligible"], "census", "FSMeligible").to_numpy() == 1).astype("int64")})
        coh = pd.DataFrame({PMR: out[pid].to_numpy(), "ks4_year": ks4y}).drop_duplicates(PMR)
        c = c.merge(coh, on=PMR)
        c = c[(c["census_year"] <= c["ks4_year"]) & (c["census_year"] > c["ks4_year"] - FSM_WINDOW_YEARS)]
        census_val = pd.Series(out[pid].map(c.groupby(PMR)["_f"].max()).to_numpy(dtype="float64"), index=out.index)
    fcol = next((k for k in ("ks4_fsm6", "KS4_FSM6") if k in out.columns), None)
    ks4_val = (as_numeric(out[fcol], "cohort", fcol) if fcol else pd.Series(np.nan, index=out.index))
    out["fsm_ever6"] = census_val.fillna(ks4_val).astype("Int64")
    src = np.where(census_val.notna(), "census", np.where(ks4_val.notna(), "KS4_FSM6", None))
    out["fsm_ever6_source"] = pd.Series(src, index=out.index, dtype=object)
    return out


@derived(
    name="idaci_decile", label="IDACI 2019 decile of the home LSOA at KS4", theme="disadvantage",
    definition="idaci_decile (1 = most deprived 10%) from imd2019_lsoa11 for the pupil's home 2011 LSOA in the latest "
               "January census at or before the KS4 year; a 2001 LSOA (LLSOA, censuses to 2011/12) is converted with "
               "lsoa01_lsoa11_lookup (first 2011 LSOA in code order when split).",
    sources=[("imd2019_lsoa11", "idaci_decile"), ("imd2019_lsoa11", "lsoa11cd"), ("spring_census_2015", "LSOA11_spr15"),
             ("spring_census_2012", "LLSOA_spr12"), ("lsoa01_lsoa11_lookup", "lsoa01cd"),
             ("lsoa01_lsoa11_lookup", "lsoa11cd")],
    unit="decile", valid_values="1..10",
    caveats="IMD/IDACI 2019 is applied to every cohort (one vintage; the NPD's own IDACIScore columns change vintage "
            "over time). Home address at the KS4 census only.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="imd_quintile", label="IMD 2019 quintile of the home LSOA at KS4", theme="disadvantage",
    definition="ceil(imd_decile / 2) from imd2019_lsoa11 for the home LSOA found as for idaci_decile (1 = most deprived 20%).",
    sources=[("imd2019_lsoa11", "imd_decile")], unit="quintile", valid_values="1..5", caveats="As idaci_decile.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="polar4_quintile", label="POLAR4 quintile of the home LSOA at KS4", theme="disadvantage",
    definition="polar4_quintile (1 = lowest young HE participation) from polar4_lsoa11 for the home LSOA found as for "
               "idaci_decile.",
    sources=[("polar4_lsoa11", "polar4_quintile"), ("polar4_lsoa11", "lsoa11cd")], unit="quintile", valid_values="1..5",
    caveats="Real POLAR4 is published by ward/MSOA/postcode; an LSOA best-fit lookup is assumed (schema). UCAS carries "
            "applicant_polar4_code for applicants.",
    level="person", status="inferred", output_key=[PMR],
)
@derived(
    name="tundra_quintile", label="TUNDRA quintile of the home LSOA at KS4", theme="disadvantage",
    definition="tundra_quintile (1 = lowest participation) from tundra_lsoa11 (OfS LSOA version) for the home LSOA.",
    sources=[("tundra_lsoa11", "tundra_quintile"), ("tundra_lsoa11", "lsoa11cd")], unit="quintile", valid_values="1..5",
    caveats="As idaci_decile.", level="person", status="kit", output_key=[PMR],
)
def area_measures(
    cohort: pd.DataFrame,
    census: pd.DataFrame,
    *,
    imd: pd.DataFrame | None = None,
    polar4: pd.DataFrame | None = None,
    tundra: pd.DataFrame | None = None,
    lsoa01_lookup: pd.DataFrame | None = None,
    on_gap: str = "warn",
) -> pd.DataFrame:
    """Area measures of the home LSOA at KS4: ``cohort`` plus ``lsoa11cd, idaci_decile, imd_decile, imd_quintile,
    polar4_quintile, tundra_quintile`` (only those whose lookup is given).

    ``cohort`` as for :func:`fsm_ever6` (either pupil id name). If the census passed has no census of some
    cohort's KS4 year, those pupils' home LSOA comes from an earlier census (or is missing): reported by the
    coverage policy (``on_gap``, see :func:`fsm_ever6`).
    """
    pid, ks4y = _cohort(cohort, "area_measures")
    require_columns(census, [PMR, "census_year"], "census (output of stack_census)")
    years_present = set(np.unique(as_numeric(census["census_year"], "census", "census_year").dropna()
                                  .to_numpy(dtype="int64")).tolist())
    lack = sorted(set(np.unique(ks4y).tolist()) - years_present)
    if lack:
        report_gap(f"area_measures: the census passed (years {format_years(years_present) or 'none'}) has no census "
                   f"of KS4 year(s) {format_years(lack)} ({int(np.isin(ks4y, lack).sum()):,} pupils): their home "
                   "LSOA comes from an earlier census, or is missing", on_gap)
    c = _main_records(census)
    n = len(c)
    l11 = (c["lsoa11cd"].astype(object).to_numpy() if "lsoa11cd" in c.columns else np.full(n, None, dtype=object))
    if "lsoa_original" in c.columns:
        require_columns(c, ["lsoa_vintage"], "census (output of stack_census)")
        orig = c["lsoa_original"].astype(object).to_numpy()
        vint = c["lsoa_vintage"].astype(object).to_numpy()
        l11 = np.where(pd.isna(l11) & (vint == "2011"), orig, l11)
        need01 = pd.isna(l11) & (vint == "2001") & ~pd.isna(orig)
        if need01.any():
            if lsoa01_lookup is None:
                raise DerivationError("area_measures: some census LSOAs are 2001 LSOAs (LLSOA) without lsoa11cd; pass "
                                      "lsoa01_lookup (lsoa01_lsoa11_lookup) or use leokit.load.stack_census")
            lsoa01_lookup = check_input(lsoa01_lookup, "lsoa01_lsoa11_lookup", ["lsoa01cd", "lsoa11cd"])
            first11 = (lsoa01_lookup.sort_values(["lsoa01cd", "lsoa11cd"]).drop_duplicates("lsoa01cd")
                       .set_index("lsoa01cd")["lsoa11cd"])
            l11 = np.where(need01, pd.Series(orig).map(first11).to_numpy(dtype=object), l11)
    elif "lsoa11cd" not in c.columns:
        raise DerivationError("area_measures: census has neither lsoa11cd nor lsoa_original (use stack_census)")
    c = pd.DataFrame({PMR: c[PMR].to_numpy(), "census_year": c["census_year"].to_numpy(dtype="int64"), "_l11": l11})
    c = c[~pd.isna(c["_l11"])]
    c = c.merge(pd.DataFrame({PMR: cohort[pid].to_numpy(), "ks4_year": ks4y}).drop_duplicates(PMR), on=PMR)
    c = c[c["census_year"] <= c["ks4_year"]]
    c = c.sort_values([PMR, "census_year"], ascending=[True, False], kind="stable").drop_duplicates(PMR)
    lsoa11 = c["_l11"]
    home = pd.DataFrame({pid: c[PMR].to_numpy(), "lsoa11cd": lsoa11.to_numpy()})
    adds = ["lsoa11cd"] + (["idaci_decile", "imd_decile", "imd_quintile"] if imd is not None else []) + (
        ["polar4_quintile"] if polar4 is not None else []) + (["tundra_quintile"] if tundra is not None else [])
    taken = [a for a in adds if a in cohort.columns]
    if taken:
        raise DerivationError(f"area_measures: cohort already has column(s) {taken}, which the output adds; drop or "
                              "rename them", table="cohort")
    out = cohort.merge(home, on=pid, how="left", validate="m:1")
    if imd is not None:
        imd = check_input(imd, "imd2019_lsoa11", ["lsoa11cd", "idaci_decile", "imd_decile"])
        i = imd[["lsoa11cd", "idaci_decile", "imd_decile"]].drop_duplicates("lsoa11cd")
        out = out.merge(i, on="lsoa11cd", how="left")
        out["imd_quintile"] = np.ceil(as_numeric(out["imd_decile"], "imd2019_lsoa11", "imd_decile") / 2).astype("Int64")
        out["idaci_decile"] = out["idaci_decile"].astype("Int64")
        out["imd_decile"] = out["imd_decile"].astype("Int64")
    if polar4 is not None:
        polar4 = check_input(polar4, "polar4_lsoa11", ["lsoa11cd", "polar4_quintile"])
        out = out.merge(polar4[["lsoa11cd", "polar4_quintile"]].drop_duplicates("lsoa11cd"), on="lsoa11cd", how="left")
        out["polar4_quintile"] = out["polar4_quintile"].astype("Int64")
    if tundra is not None:
        tundra = check_input(tundra, "tundra_lsoa11", ["lsoa11cd", "tundra_quintile"])
        out = out.merge(tundra[["lsoa11cd", "tundra_quintile"]].drop_duplicates("lsoa11cd"), on="lsoa11cd", how="left")
        out["tundra_quintile"] = out["tundra_quintile"].astype("Int64")
    return out


#: Census columns read by :func:`pupil_characteristics` (harmonised names, as from ``stack_census``).
_CHARACTERISTICS = ("EthnicGroupMajor", "SENprovision", "LanguageGroupMajor")


@derived(
    name="ethnic_group_major", label="Major ethnic group (census at KS4)", theme="disadvantage",
    definition="EthnicGroupMajor of the pupil's main January census record (RecordStatus < 100) in the KS4 year, or "
               "the latest earlier census year with a recorded value: WHIT, MIXD, ASIA, BLAC, CHIN, AOEG (any other "
               "ethnic group), UNCL (unclassified: refused or not obtained).",
    sources=[("spring_census_2015", "EthnicGroupMajor_spr15"), ("spring_census_2015", "PupilMatchingRefAnonymous_spr15"),
             ("spring_census_2015", "RecordStatus_spr15")],
    unit="category", valid_values="WHIT; MIXD; ASIA; BLAC; CHIN; AOEG; UNCL; missing if no census record",
    caveats="Recorded by schools (usually as reported by parents); UNCL is a category of its own, not missing. Pupils "
            "in independent schools have no census records.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="sen_ks4", label="Special educational needs provision (census at KS4)", theme="disadvantage",
    definition="1 if SENprovision is not N (School Action/Action Plus/Statement to 2014/15, SEN support/EHC plan from "
               "2014/15) in the census record used for ethnic_group_major's rule, 0 if N.",
    sources=[("spring_census_2015", "SENprovision_spr15")], unit="indicator", valid_values="0, 1; missing if no record",
    caveats="SEN categories changed in 2014/15 (SEN support and EHC plans replaced School Action/Action Plus and "
            "Statements), so shares are not comparable across that break.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="eal_ks4", label="First language other than English (census at KS4)", theme="disadvantage",
    definition="1 if LanguageGroupMajor = 2_OTH (first language known or believed to be other than English), 0 if "
               "1_ENG, missing if 3_UNCL or no record; census record chosen as for ethnic_group_major.",
    sources=[("spring_census_2015", "LanguageGroupMajor_spr15")], unit="indicator",
    valid_values="0, 1; missing if unclassified or no record",
    caveats="'First language' is the language the child was exposed to in early development, not fluency in English.",
    level="person", status="kit", output_key=[PMR],
)
def pupil_characteristics(cohort: pd.DataFrame, census: pd.DataFrame, *, on_gap: str = "warn") -> pd.DataFrame:
    """Ethnic group, SEN provision and first language of each pupil of ``cohort`` from the January census.

    ``cohort``: one row per pupil with the pupil id (either accepted name) and ``ks4_year``; ``census``: output of
    :func:`stack_census` / ``leokit.load.stack_census`` with ``EthnicGroupMajor``, ``SENprovision`` and
    ``LanguageGroupMajor``. For each variable the value comes from the main record (``RecordStatus`` < 100) of the
    KS4-year census, or of the latest earlier census year in which it is recorded (a value missing in one year is
    taken from an earlier one).

    Returns ``cohort`` (all columns) plus ``ethnic_group_major`` (str), ``sen_ks4`` (Int64) and ``eal_ks4`` (Int64).
    A pupil with no census record at or before the KS4 year gets missing values. If the census passed has no census
    of some cohort's KS4 year, their values come from earlier years: reported by the coverage policy (``on_gap``,
    see :func:`fsm_ever6`).
    """
    pid, ks4y = _cohort(cohort, "pupil_characteristics")
    require_columns(census, [PMR, "census_year", *_CHARACTERISTICS], "census (output of stack_census)")
    taken = [c for c in ("ethnic_group_major", "sen_ks4", "eal_ks4") if c in cohort.columns]
    if taken:
        raise DerivationError(f"pupil_characteristics: cohort already has column(s) {taken}, which the output adds; "
                              "drop or rename them", table="cohort")
    years_present = set(np.unique(as_numeric(census["census_year"], "census", "census_year").dropna()
                                  .to_numpy(dtype="int64")).tolist())
    lack = sorted(set(np.unique(ks4y).tolist()) - years_present)
    if lack:
        report_gap(f"pupil_characteristics: the census passed (years {format_years(years_present) or 'none'}) has no "
                   f"census of KS4 year(s) {format_years(lack)} ({int(np.isin(ks4y, lack).sum()):,} pupils): their "
                   "characteristics come from an earlier census, or are missing", on_gap)
    c = _main_records(census)
    c = pd.DataFrame({PMR: c[PMR].to_numpy(),
                      "census_year": as_numeric(c["census_year"], "census", "census_year").to_numpy(),
                      **{k: c[k].astype("string").str.strip().to_numpy(dtype=object, na_value=None)
                         for k in _CHARACTERISTICS}})
    coh = pd.DataFrame({PMR: cohort[pid].to_numpy(), "ks4_year": ks4y}).drop_duplicates(PMR)
    c = c.merge(coh, on=PMR)
    c = c[c["census_year"] <= c["ks4_year"]].sort_values([PMR, "census_year"], ascending=[True, False], kind="stable")
    latest = {}
    for k in _CHARACTERISTICS:
        v = c[c[k].notna() & (c[k] != "")]
        latest[k] = v.drop_duplicates(PMR).set_index(PMR)[k]
    ids = cohort[pid]
    out = cohort.copy()
    out["ethnic_group_major"] = ids.map(latest["EthnicGroupMajor"]).astype(object).to_numpy()
    sen = ids.map(latest["SENprovision"])
    out["sen_ks4"] = pd.array(np.where(sen.isna(), None, (sen != "N").astype(object)), dtype="Int64")
    lang = ids.map(latest["LanguageGroupMajor"])
    eal = np.where(lang == "2_OTH", 1, np.where(lang == "1_ENG", 0, -1))
    out["eal_ks4"] = pd.array(np.where(eal < 0, None, eal.astype(object)), dtype="Int64")
    return out
