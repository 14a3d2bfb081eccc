"""Main employer per person-year (with IDBR size band and sector) and leave-one-out coworker composition.

LEO exposes only the *main* enterprise of a person-year (``leo_earnings.main_enterprise``: the IDBR
enterprise paying the most [VRF]). "Coworkers" are therefore other persons whose main enterprise is the same
in the same tax year - an approximation to who works with whom; a job-level employer link is a planned
enhancement of LEO [GTR], not part of the current data.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from leokit.years import idbr_source_year  # the IDBR extract rule is stated once, in leokit.years

from leokit.derive._common import check_input, PERSON, as_numeric, as_taxyear, attach_person, group_index, map_unique, require_columns
from leokit.derive.registry import derived

__all__ = ["main_employer", "coworker_loo", "idbr_source_year"]


@derived(
    name="main_enterprise", label="Main employer (enterprise) in the tax year", theme="employer",
    definition="leo_earnings.main_enterprise of the person-year; with several EDUKEYs, the one from the EDUKEY record "
               "with the highest enterprise_earnings (then Earnings, then enterprise key).",
    sources=[("leo_earnings", "main_enterprise"), ("leo_earnings", "enterprise_earnings"), ("leo_earnings", "Earnings")],
    unit="IDBR enterprise key (ENTKEY)",
    valid_values="ENTKEY values; missing when none of the person-year's records is linked to the IDBR (the row is kept)",
    caveats="Only the main enterprise is in LEO; secondary jobs are invisible. Among several EDUKEY records of a "
            "person-year, records with an enterprise are preferred.",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="employer_size_band", label="Employment size band of the main employer", theme="employer",
    definition="idbr_lookup.Employees of the main enterprise, from the IDBR extract matching the tax year: SourceYear "
               "'2019' for TaxYear <= 201617, '2020' after.",
    sources=[("idbr_lookup", "ENTKEY"), ("idbr_lookup", "Employees"), ("idbr_lookup", "SourceYear")],
    unit="band", valid_values="0-9; 10-49; 50-249; 250-999; 1000+",
    caveats="Size is from one IDBR snapshot per period, not the year's own; band edges INFERRED (schema).",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="employer_sector", label="SIC 2007 section of the main employer", theme="employer",
    definition="idbr_lookup.SECTIONNAME of the main enterprise (same SourceYear rule as employer_size_band); if the "
               "enterprise is not in the lookup, leo_earnings.Main_Section.",
    sources=[("idbr_lookup", "SECTIONNAME"), ("leo_earnings", "Main_Section")],
    unit="SIC 2007 section letter", valid_values="A..U", caveats="As employer_size_band.",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
def main_employer(leo_earnings: pd.DataFrame, idbr_lookup: pd.DataFrame | None = None,
                  edukey_map: pd.DataFrame | None = None, *, person_col: str | None = None) -> pd.DataFrame:
    """Main employer per person-year: ``[person, TaxYear, main_enterprise, employer_size_band, employer_sector]``.

    One row for **every** person-year with a ``leo_earnings`` record: a person-year none of whose records names an
    enterprise (not linked to the IDBR) is kept, with ``main_enterprise`` (and the size band) missing - it is not
    dropped. Among several records of a person-year (several EDUKEYs), records with an enterprise come first,
    then the highest ``enterprise_earnings``, then ``Earnings``, then the enterprise key.

    Example::

        >>> import pandas as pd, leokit.derive as d
        >>> earn = pd.DataFrame({"Edukey": ["K1", "K2"], "TaxYear": [201819, 201819], "Earnings": [9000, 500],
        ...                      "main_enterprise": ["E7", None]})
        >>> out = d.main_employer(earn)  # no lookup: keyed by EDUKEY
        >>> out["EDUKEY"].tolist(), out["main_enterprise"].notna().tolist()
        (['K1', 'K2'], [True, False])
    """
    leo_earnings = check_input(leo_earnings, "leo_earnings", ["Edukey", "TaxYear", "main_enterprise"])
    pc = person_col or (PERSON if edukey_map is not None else "EDUKEY")
    cols = ["Edukey", "TaxYear", "main_enterprise"] + [c for c in ("enterprise_earnings", "Earnings", "Main_Section")
                                                       if c in leo_earnings.columns]
    d = leo_earnings[cols]
    ty = as_taxyear(d["TaxYear"], "leo_earnings")
    if ty is not d["TaxYear"]:
        d = d.assign(TaxYear=ty)
    for c in ("enterprise_earnings", "Earnings"):
        if c in d.columns and not pd.api.types.is_numeric_dtype(d[c].dtype):
            d = d.assign(**{c: as_numeric(d[c], "leo_earnings", c)})
    if edukey_map is not None:
        d = attach_person(d, "Edukey", edukey_map, mapping_key="EDUKEY", person_col=pc, frame="leo_earnings")
    else:
        d = d.rename(columns={"Edukey": pc})
    d = d.reset_index(drop=True)
    gid, _ = group_index(d, [pc, "TaxYear"])
    size = np.bincount(gid[gid >= 0], minlength=int(gid.max()) + 1 if len(gid) else 0)
    multi = (gid >= 0) & (size[np.maximum(gid, 0)] > 1) if len(gid) else np.zeros(0, dtype=bool)
    single_pos = np.flatnonzero((gid >= 0) & ~multi)
    # person-years with several EDUKEY records: a record with an enterprise first, then enterprise earnings,
    # earnings and the enterprise key
    sub = d.iloc[np.flatnonzero(multi)].assign(_pos=np.flatnonzero(multi))
    sub = sub.assign(_noent=sub["main_enterprise"].isna().to_numpy(dtype="int8"))
    sort, asc = [pc, "TaxYear", "_noent"], [True, True, True]
    for c in ("enterprise_earnings", "Earnings"):
        if c in sub.columns:
            sort.append(c)
            asc.append(False)
    sort.append("main_enterprise")
    asc.append(True)
    multi_pos = (sub.sort_values(sort, ascending=asc, kind="stable", na_position="last")
                 .drop_duplicates([pc, "TaxYear"])["_pos"].to_numpy(dtype="int64"))
    chosen = np.concatenate([single_pos, multi_pos])
    chosen = chosen[np.argsort(gid[chosen], kind="stable")]  # sorted by person, then tax year
    out = d.iloc[chosen][[pc, "TaxYear", "main_enterprise"] + (["Main_Section"] if "Main_Section" in d.columns else [])]
    out = out.reset_index(drop=True)
    out["TaxYear"] = out["TaxYear"].astype("int64")
    if idbr_lookup is not None:
        idbr_lookup = check_input(idbr_lookup, "idbr_lookup", ["ENTKEY", "SourceYear", "Employees", "SECTIONNAME"])
        i = idbr_lookup[["ENTKEY", "SourceYear", "Employees", "SECTIONNAME"]].copy()
        i["SourceYear"] = i["SourceYear"].astype(str)
        i = i.drop_duplicates(["ENTKEY", "SourceYear"]).rename(
            columns={"ENTKEY": "main_enterprise", "Employees": "employer_size_band", "SECTIONNAME": "_sec"})
        out["SourceYear"] = idbr_source_year(out["TaxYear"].to_numpy())
        has = out["main_enterprise"].notna().to_numpy(dtype=bool)
        m = out.loc[has, ["main_enterprise", "SourceYear"]].merge(i, on=["main_enterprise", "SourceYear"], how="left")
        out["employer_size_band"] = None
        out["_sec"] = None
        out.loc[has, "employer_size_band"] = m["employer_size_band"].to_numpy(dtype=object)
        out.loc[has, "_sec"] = m["_sec"].to_numpy(dtype=object)
        out = out.drop(columns="SourceYear")
    else:
        out["employer_size_band"] = None
        out["_sec"] = None
    fallback = out["Main_Section"] if "Main_Section" in out.columns else pd.Series(None, index=out.index, dtype=object)
    out["employer_sector"] = out["_sec"].astype(object).where(out["_sec"].notna(), fallback)
    return out[[pc, "TaxYear", "main_enterprise", "employer_size_band", "employer_sector"]]


@derived(
    name="n_coworkers", label="Number of coworkers (same main enterprise and tax year)", theme="employer",
    definition="Number of other persons whose main_enterprise is the same in the same TaxYear (group size - 1).",
    sources=[("leo_earnings", "main_enterprise"), ("leo_earnings", "TaxYear")],
    unit="persons", valid_values=">= 0",
    caveats="Only main employers are observed, so coworkers are undercounted at enterprises that are secondary "
            "employers for many; large enterprises are multi-site (coworkers need not meet). Counts are within the "
            "population passed in (e.g. the linked cohorts), not the whole workforce.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="loo_mean", label="Leave-one-out mean of a coworker attribute", theme="employer",
    definition="For each attribute X: (sum of X over persons with the same main_enterprise and TaxYear - own X) / "
               "(number of them with non-missing X - own non-missing); output column loo_mean_<X>; missing when no "
               "coworker has X.",
    sources=[("leo_earnings", "main_enterprise"), ("leo_earnings", "TaxYear")],
    unit="unit of the attribute (e.g. share for a 0/1 graduate flag)", valid_values="range of the attribute",
    caveats="As n_coworkers. The classic reflection/selection problems of peer effects apply; the leave-one-out mean "
            "removes only the mechanical own-value bias.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
def coworker_loo(employers: pd.DataFrame, attributes: pd.DataFrame | None = None, columns: Iterable[str] = (), *,
                 person_col: str = PERSON, enterprise_col: str = "main_enterprise") -> pd.DataFrame:
    """Leave-one-out coworker composition.

    ``employers``: ``[person, TaxYear, main_enterprise]`` (output of :func:`main_employer`). ``attributes``: person-level
    (``[person, X...]``) or person-year (``[person, TaxYear, X...]``) frame; ``columns``: the attributes X.
    Returns ``employers`` plus ``n_coworkers`` and ``loo_mean_<X>`` for each X. Person-years without a main
    enterprise get ``n_coworkers`` missing. ``employers`` must have one row per person-year (as
    :func:`main_employer` returns); a duplicated person-year would count as two coworkers.
    """
    require_columns(employers, [person_col, "TaxYear", enterprise_col], "employers")
    columns = list(columns)
    out = employers.reset_index(drop=True)
    vals = {}
    if attributes is not None and columns:
        person_level = "TaxYear" not in attributes.columns
        keys = [person_col] if person_level else [person_col, "TaxYear"]
        require_columns(attributes, keys + columns, "attributes")
        if person_level and attributes[person_col].is_unique:
            pos = map_unique(out[person_col], attributes[person_col])
            for x in columns:
                v = as_numeric(attributes[x], "attributes", x).to_numpy()
                vals[x] = np.where(pos >= 0, v[np.maximum(pos, 0)], np.nan)
        else:
            a = attributes[keys + columns].drop_duplicates(keys)
            m = out[[person_col, "TaxYear"]].merge(a, on=keys, how="left")
            for x in columns:
                vals[x] = as_numeric(m[x], "attributes", x).to_numpy()
    gid, grp = group_index(out, [enterprise_col, "TaxYear"])
    has = gid >= 0
    g = gid[has]
    ng = len(grp)
    size = np.bincount(g, minlength=ng)
    n_cow = np.zeros(len(out), dtype="int64")
    n_cow[has] = size[g] - 1
    out["n_coworkers"] = pd.arrays.IntegerArray(n_cow, ~has)
    for x in columns:
        v = vals[x]
        nn = ~np.isnan(v)
        vz = np.where(nn, v, 0.0)
        ssum = np.bincount(g, weights=vz[has], minlength=ng)
        cnt = np.bincount(g, weights=nn[has], minlength=ng)
        loo = np.full(len(out), np.nan)
        num = ssum[g] - vz[has]
        den = cnt[g] - nn[has]
        with np.errstate(invalid="ignore", divide="ignore"):
            loo[has] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        out[f"loo_mean_{x}"] = loo
    return out
