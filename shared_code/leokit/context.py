"""Contextual linkage: area, HE provider and employer context, each with a match report.

Area (:func:`add_area`)
    2011 LSOA -> IMD 2019 (rank, decile, quintile), IDACI 2019 (score, rank, decile), rural-urban
    classification 2011 (code, name, ``urban`` flag), POLAR4 and TUNDRA quintiles, from the public
    tables ``imd2019_lsoa11``, ``ruc11_lsoa11``, ``polar4_lsoa11``, ``tundra_lsoa11``. 2001 LSOA
    codes (census ``LLSOA`` to 2011/12) are first mapped to 2011 LSOAs with
    :func:`map_lsoa01_to_lsoa11` through ``lsoa01_lsoa11_lookup``.

    The rule for 2001 LSOAs that were split into several 2011 LSOAs (the smallest 2011 code, flagged
    ``lsoa11_ambiguous``) is stated in :mod:`leokit.frames`.

HE provider (:func:`provider_entry_tariff`, :func:`add_provider_context`)
    In the SRS providers are pseudonymised (``HE_XINSTID01_ANON``), so their selectivity is computed
    from the data: the **entry tariff** of a provider is the mean KS5 points (``KS5_TOTPTSE``) of
    its UG entrants (HESA first-year students linked by PMR to the KS5 student table), also as a
    mean within-KS5-year percentile (robust to the 2016 points-scale change), plus the mean
    ``HE_XTARIFF`` (UCAS tariff, HESA 2011/12-2016/17) where present. ``tariff_group`` = thirds of
    providers by the percentile measure ('high' = top third). Clearly flagged **synthetic-only**:
    ``add_provider_context(..., synthetic=True)`` also joins ``syn_he_provider`` (``syn_tariff_group``,
    ``syn_quality_score``, ``syn_contextual_adoption_cycle``), which has no SRS counterpart.

Employer (:func:`add_employer_context`)
    ``main_enterprise`` (ENTKEY) of ``leo_earnings`` -> ``idbr_lookup`` size band (``Employees``) and
    SIC section (``SECTIONNAME``), choosing the IDBR extract by tax year as LEO does: ``SourceYear``
    '2019' for tax years up to 2016/17 (``TaxYear <= 201617``), '2020' from 2017/18.

Report pattern (the same in the whole package): every function returns the frame; with
``report=True`` it returns ``(frame, report)``; reports are logged to the ``leokit`` logger.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from leokit import frames
from leokit.errors import ChainReport, DropReport, LinkError, Report, finish
from leokit.frames import find_column
from leokit.linkage import link
from leokit.read import resolve_checked, resolve_table
from leokit.years import idbr_source_year

__all__ = [
    "map_lsoa01_to_lsoa11",
    "add_area",
    "AREA_MEASURES",
    "URBAN_RUC11",
    "provider_entry_tariff",
    "add_provider_context",
    "add_employer_context",
    "idbr_source_year",
]

#: Area measures and the columns each adds.
AREA_MEASURES = {
    "imd": ("imd2019_lsoa11", {"imd_rank": "imd_rank", "imd_decile": "imd_decile"}),
    "idaci": ("imd2019_lsoa11", {"idaci_score": "idaci19_score", "idaci_rank": "idaci19_rank",
                                 "idaci_decile": "idaci19_decile"}),
    "ruc": ("ruc11_lsoa11", {"ruc11cd": "ruc11cd", "ruc11nm": "ruc11nm"}),
    "polar4": ("polar4_lsoa11", {"polar4_quintile": "polar4_quintile"}),
    "tundra": ("tundra_lsoa11", {"tundra_quintile": "tundra_quintile"}),
}
#: Urban classes of the 2011 rural-urban classification (LSOA level); D1-E2 are rural.
URBAN_RUC11 = ("A1", "B1", "C1", "C2")


# ----------------------------------------------------------------------------------------------
# Area
# ----------------------------------------------------------------------------------------------
def map_lsoa01_to_lsoa11(
    codes: pd.Series,
    lookup: pd.DataFrame | None = None,
    *,
    data_dir=None,
    report: bool = False,
):
    """Map 2001 LSOA codes to 2011 LSOA codes: :func:`leokit.frames.map_lsoa01_to_lsoa11` (the rule for split
    LSOAs is stated there), loading the public table ``lsoa01_lsoa11_lookup`` from ``data_dir`` when
    ``lookup`` is not given.

    Returns a frame aligned with ``codes`` (same index): ``lsoa11cd`` (missing when the code is
    missing or not in the lookup), ``lsoa11_ambiguous`` (bool), ``lsoa11_n_candidates`` (int).
    """
    lk = lookup if lookup is not None else resolve_table("lsoa01_lsoa11_lookup", data_dir)
    return frames.map_lsoa01_to_lsoa11(codes, lk, report=report)


def add_area(
    df: pd.DataFrame,
    lsoa_col: str = "lsoa11cd",
    *,
    vintage: str = "2011",
    measures: Sequence[str] = ("imd", "idaci", "ruc", "polar4", "tundra"),
    data_dir=None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    report: bool = False,
):
    """Add area context for the LSOA in ``lsoa_col`` (left joins: no row dropped or duplicated).

    ``vintage="2001"``: the codes are 2001 LSOAs; ``lsoa11cd``, ``lsoa11_ambiguous`` and
    ``lsoa11_n_candidates`` are added first (:func:`map_lsoa01_to_lsoa11`). Columns added per
    measure: imd -> ``imd_rank``, ``imd_decile``, ``imd_quintile`` (1 = most deprived);
    idaci -> ``idaci19_score``, ``idaci19_rank``, ``idaci19_decile`` (IDACI 2019, distinct from the
    census ``idaci_score``); ruc -> ``ruc11cd``, ``ruc11nm``, ``urban`` (bool; missing if unknown);
    polar4 -> ``polar4_quintile``; tundra -> ``tundra_quintile`` (1 = lowest participation).
    ``tables={name: frame}`` overrides the public tables (e.g. the published files in the SRS).
    Each lookup is joined ``m:1`` (a duplicated LSOA in a lookup raises CardinalityError); the
    result has a fresh RangeIndex;
    ``report=True`` returns ``(frame, ChainReport)`` with one MatchReport per lookup.
    """
    if lsoa_col not in df.columns:
        raise LinkError(f"add_area: no column {lsoa_col!r} in the frame")
    bad = [m for m in measures if m not in AREA_MEASURES]
    if bad:
        raise ValueError(f"add_area: unknown measure(s) {bad}; choose from {list(AREA_MEASURES)}")
    if vintage not in ("2001", "2011"):
        raise ValueError(f"vintage must be '2001' or '2011', not {vintage!r}")
    out = df.reset_index(drop=True)
    steps: list[Report] = []
    key = lsoa_col
    if len(out) == 0:
        raise LinkError(f"add_area: the frame has 0 rows (column {lsoa_col!r}); nothing to add area context to")
    out, notes = _normalise_codes(out, lsoa_col, "frame")
    if vintage == "2001":
        for c in ("lsoa11cd", "lsoa11_ambiguous", "lsoa11_n_candidates"):
            if c in out.columns:
                raise LinkError(f"add_area: the frame already has a column {c!r}")
        lk, n = resolve_checked("lsoa01_lsoa11_lookup", data_dir, tables)
        notes += n
        m, mrep = map_lsoa01_to_lsoa11(out[lsoa_col], lk, report=True)
        out = pd.concat([out, m.reset_index(drop=True)], axis=1)
        steps.append(mrep)
        key = "lsoa11cd"
    by_table: dict[str, dict[str, str]] = {}
    for m in measures:
        tname, cols = AREA_MEASURES[m]
        by_table.setdefault(tname, {}).update(cols)
    for tname, cols in by_table.items():
        t, n = resolve_checked(tname, data_dir, tables)
        notes += n
        kc = find_column(t, "lsoa11cd", tname)
        src = {find_column(t, c, tname): new for c, new in cols.items()}
        clash = [new for new in src.values() if new in out.columns]
        if clash:
            raise LinkError(f"add_area: the frame already has column(s) {clash}")
        right = t[[kc] + list(src)].rename(columns={**src, kc: "__leokit_lsoa"})
        out, rep = link(out, right, left_on=key, right_on="__leokit_lsoa", how="left", expect="m:1",
                        name=f"add_area: {key} -> {tname}", report=True)
        out = out.drop(columns="__leokit_lsoa")
        steps.append(rep)
    if "imd_decile" in out.columns and "imd" in measures:
        out["imd_quintile"] = ((out["imd_decile"] + 1) // 2).astype("float64")
        if out["imd_quintile"].notna().all():
            out["imd_quintile"] = out["imd_quintile"].astype("int64")
    if "ruc11cd" in out.columns and "ruc" in measures:
        out["urban"] = out["ruc11cd"].isin(URBAN_RUC11).astype("boolean").where(out["ruc11cd"].notna(), pd.NA)
    chain = ChainReport(name="add_area", steps=steps, notes=notes)
    return finish(out, chain, report)


def _normalise_codes(df: pd.DataFrame, col: str, frame: str) -> tuple[pd.DataFrame, list[str]]:
    """Strip trailing blanks from and upper-case the LSOA codes of ``df[col]`` (text only), with a note for
    each change: ``e01000001 `` and ``E01000001`` are the same LSOA, and the public lookups hold the latter."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s.dtype) and s.notna().any():
        raise LinkError(f"add_area: {frame} column {col!r} holds numbers (dtype {s.dtype}); expected LSOA codes "
                        "such as 'E01000001'")
    nn = s.notna()
    if not nn.any() or not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        return df, []
    fixed = s.str.rstrip().str.upper()  # vectorised; missing values stay missing
    n = int((nn & (fixed != s)).fillna(False).sum())
    if not n:
        return df, []
    out = df.copy()
    out[col] = fixed
    return out, [f"table {frame!r}, column {col!r}: LSOA codes upper-cased / trailing blanks stripped in "
                 f"{n:,} row{'s' if n != 1 else ''}"]


# ----------------------------------------------------------------------------------------------
# HE provider
# ----------------------------------------------------------------------------------------------
def provider_entry_tariff(
    hesa: pd.DataFrame,
    ks5: pd.DataFrame,
    *,
    provider_col: str = "HE_XINSTID01_ANON",
    levels: Sequence[str] | None = ("UG",),
    report: bool = False,
):
    """Entry tariff of each HE provider computed from the data (no synthetic-only input).

    Entrants: HESA rows with ``HE_YEARSTU == 1`` (first year of the student instance) and, unless
    ``levels=None``, ``HE_XQLEV601`` in ``levels``; one row per (PMR, provider) - the first, by
    ``hesa_year`` when present. Each entrant is linked by PMR to the KS5 student table: a pupil
    with several KS5 rows contributes the row with the highest ``KS5_TOTPTSE`` (each KS5 year's
    points are also converted to a percentile rank within that KS5 year, 0-100).

    Returns one row per provider: ``provider_col``, ``n_entrants``, ``n_with_ks5``,
    ``entry_tariff`` (mean KS5_TOTPTSE), ``entry_tariff_pctile`` (mean within-year percentile),
    ``hesa_tariff`` (mean HE_XTARIFF where present, else missing) and ``tariff_group``
    ('high'/'medium'/'low' thirds of providers by ``entry_tariff_pctile``; missing when no entrant
    has KS5 data).
    """
    pm = find_column(hesa, "HE_PUPILMATCHINGREFANONYMOUS", "hesa")
    for c in ("HE_YEARSTU", provider_col):
        if c not in hesa.columns:
            raise LinkError(f"provider_entry_tariff: no column {c!r} in the HESA frame")
    ent = hesa[pd.to_numeric(hesa["HE_YEARSTU"], errors="coerce") == 1]
    n_first = len(ent)
    if levels is not None and "HE_XQLEV601" in ent.columns:
        ent = ent[ent["HE_XQLEV601"].isin(list(levels))]
    n_level = len(ent)
    if "hesa_year" in ent.columns:
        ent = ent.sort_values("hesa_year", kind="stable")
    keep = [pm, provider_col] + (["HE_XTARIFF"] if "HE_XTARIFF" in ent.columns else [])
    ent = ent[keep].dropna(subset=[pm, provider_col]).drop_duplicates([pm, provider_col], keep="first")
    kp = find_column(ks5, "KS5_PupilMatchingRefAnonymous", "ks5")
    for c in ("KS5_ACADYR", "KS5_TOTPTSE"):
        if c not in ks5.columns:
            raise LinkError(f"provider_entry_tariff: no column {c!r} in the KS5 student frame")
    k = ks5[[kp, "KS5_ACADYR", "KS5_TOTPTSE"]].dropna(subset=[kp]).copy()
    k["ks5_pctile"] = k.groupby("KS5_ACADYR")["KS5_TOTPTSE"].rank(pct=True) * 100
    k = k.sort_values("KS5_TOTPTSE", ascending=False, na_position="last", kind="stable").drop_duplicates(kp)
    k = k.rename(columns={kp: "__leokit_pmr"})[["__leokit_pmr", "KS5_TOTPTSE", "ks5_pctile"]]
    linked, lrep = link(ent, k, left_on=pm, right_on="__leokit_pmr", how="left", expect="m:1",
                        name="provider_entry_tariff: HESA entrants -> KS5 (best row per pupil)", report=True)
    g = linked.groupby(provider_col, sort=True)
    out = pd.DataFrame({
        "n_entrants": g.size(),
        "n_with_ks5": g["KS5_TOTPTSE"].count(),
        "entry_tariff": g["KS5_TOTPTSE"].mean(),
        "entry_tariff_pctile": g["ks5_pctile"].mean(),
        "hesa_tariff": g["HE_XTARIFF"].mean() if "HE_XTARIFF" in linked.columns else np.nan,
    }).reset_index()
    pct = out["entry_tariff_pctile"]
    ranks = pct.rank(pct=True, method="average")
    grp = np.where(ranks > 2 / 3, "high", np.where(ranks > 1 / 3, "medium", "low"))
    out["tariff_group"] = pd.Series(grp, dtype=object).where(pct.notna(), np.nan)
    rep = ChainReport(name="provider_entry_tariff", steps=[
        DropReport(name="HESA entrants", rows_in=len(hesa), rows_out=len(ent), dropped={
            "not first year of instance (HE_YEARSTU != 1)": len(hesa) - n_first,
            f"level not in {tuple(levels) if levels is not None else 'any'}": n_first - n_level,
            "missing PMR/provider or repeat entry to the same provider": n_level - len(ent)}),
        lrep])
    rep.steps[0].check()
    return finish(out, rep, report)


def add_provider_context(
    df: pd.DataFrame,
    provider_col: str = "HE_XINSTID01_ANON",
    *,
    provider_table: pd.DataFrame | None = None,
    synthetic: bool = False,
    data_dir=None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    report: bool = False,
):
    """Add provider context to rows carrying a provider id (left joins, m:1).

    ``provider_table``: the output of :func:`provider_entry_tariff` (its columns other than the
    provider id are added, prefixed ``provider_``). ``synthetic=True`` adds the SYNTHETIC-ONLY
    columns of ``syn_he_provider`` (``syn_tariff_group``, ``syn_quality_score``,
    ``syn_contextual_adoption_cycle``) - they do not exist in the SRS; the provider id is matched
    on ``HE_XINSTID01_ANON`` or, for UCAS rows (``provider_col="inst_code_anon"``), on
    ``inst_code_anon``.
    """
    if provider_col not in df.columns:
        raise LinkError(f"add_provider_context: no column {provider_col!r} in the frame")
    if provider_table is None and not synthetic:
        raise ValueError("add_provider_context: give provider_table= (see provider_entry_tariff) and/or synthetic=True")
    out, steps = df.reset_index(drop=True), []
    if provider_table is not None:
        pc = provider_table.columns[0] if provider_col not in provider_table.columns else provider_col
        right = provider_table.rename(columns={c: f"provider_{c}" for c in provider_table.columns if c != pc})
        right = right.rename(columns={pc: "__leokit_prov"})
        out, rep = link(out, right, left_on=provider_col, right_on="__leokit_prov", how="left", expect="m:1",
                        name=f"add_provider_context: {provider_col} -> provider_table", report=True)
        out = out.drop(columns="__leokit_prov")
        steps.append(rep)
    if synthetic:
        syn = resolve_table("syn_he_provider", data_dir, tables)
        key = "inst_code_anon" if provider_col.lower() == "inst_code_anon" else "HE_XINSTID01_ANON"
        cols = ["syn_tariff_group", "syn_quality_score", "syn_contextual_adoption_cycle"]
        right = syn[[key] + cols].rename(columns={key: "__leokit_prov"})
        out, rep = link(out, right, left_on=provider_col, right_on="__leokit_prov", how="left", expect="m:1",
                        name=f"add_provider_context: {provider_col} -> syn_he_provider (SYNTHETIC-ONLY)", report=True)
        rep.notes.append("syn_* columns are synthetic-only: they do not exist in the SRS")
        out = out.drop(columns="__leokit_prov")
        steps.append(rep)
    return finish(out, ChainReport(name="add_provider_context", steps=steps), report)


# ----------------------------------------------------------------------------------------------
# Employer
# ----------------------------------------------------------------------------------------------
def add_employer_context(
    earnings: pd.DataFrame,
    *,
    idbr: pd.DataFrame | None = None,
    enterprise_col: str = "main_enterprise",
    taxyear_col: str = "TaxYear",
    data_dir=None,
    report: bool = False,
):
    """Add the main employer's size band and SIC section to person-year earnings rows.

    Adds ``idbr_source_year`` ('2019' for tax years <= 2016/17, '2020' after), and from
    ``idbr_lookup`` (joined m:1 on ENTKEY and SourceYear, left join) ``employer_size_band``
    (``Employees``) and ``employer_sic_section`` (``SECTIONNAME``). Rows without a main enterprise
    or whose enterprise is not in that IDBR extract keep missing values (counted in the report).
    """
    for c in (enterprise_col, taxyear_col):
        if c not in earnings.columns:
            raise LinkError(f"add_employer_context: no column {c!r} in the earnings frame")
    for c in ("idbr_source_year", "employer_size_band", "employer_sic_section"):
        if c in earnings.columns:
            raise LinkError(f"add_employer_context: the frame already has a column {c!r}")
    t = idbr if idbr is not None else resolve_table("idbr_lookup", data_dir, None)
    ek, sy = find_column(t, "ENTKEY", "idbr_lookup"), find_column(t, "SourceYear", "idbr_lookup")
    emp, sec = find_column(t, "Employees", "idbr_lookup"), find_column(t, "SECTIONNAME", "idbr_lookup")
    right = t[[ek, sy, emp, sec]].rename(columns={ek: "__leokit_ent", sy: "idbr_source_year",
                                                 emp: "employer_size_band", sec: "employer_sic_section"})
    right["idbr_source_year"] = right["idbr_source_year"].astype(object).map(
        lambda v: v if v is None or isinstance(v, str) or v != v else str(int(v)))
    out = earnings.reset_index(drop=True).copy()
    out["idbr_source_year"] = idbr_source_year(out[taxyear_col])
    out, rep = link(out, right, left_on=[enterprise_col, "idbr_source_year"],
                    right_on=["__leokit_ent", "idbr_source_year"], how="left", expect="m:1",
                    name=f"add_employer_context: ({enterprise_col}, tax year) -> idbr_lookup", report=True)
    out = out.drop(columns="__leokit_ent")
    return finish(out, rep, report)
