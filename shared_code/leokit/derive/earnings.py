"""Earnings per person and tax year: PAYE, self-assessment, total, real terms, annualised.

All functions take the LEO tables as loaded (real column names) and an optional EDUKEY -> person
mapping (``learner_ae_id_to_edukey_lookup`` or ``leokit.linkage.resolve_edukeys()``: columns ``AE_ID``,
``EDUKEY``). With a mapping the output is keyed by ``AE_ID`` and a person's EDUKEYs are summed (an EDUKEY
linked to several AE_IDs belongs to the smallest, so each record counts once); without one it is keyed
by ``EDUKEY``.
Tax years keep the LEO coding (``TaxYear`` = 200405 for 6 April 2004 - 5 April 2005).
"""

from __future__ import annotations


from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from leokit.schema import FIRST_SA_TAX_YEAR
from leokit.errors import InputChangedWarning, notify
from leokit.derive._common import (check_input, warn_dropped, PERSON, DerivationError, as_numeric, as_taxyear, attach_person, group_index, report_gap,
                      require_columns)
from leokit.derive.registry import derived

__all__ = [
    "annual_paye_earnings",
    "sa_earnings",
    "total_earnings",
    "load_deflator",
    "real_earnings",
    "annualised_earnings",
]


def _person_col(mapping, person_col):
    return person_col or (PERSON if mapping is not None else "EDUKEY")


@derived(
    name="paye_earnings", label="Annual PAYE earnings", theme="earnings",
    definition="Sum of leo_earnings.Earnings over all of the person's EDUKEYs in the tax year (one row per person "
               "and TaxYear with any P14 record).",
    sources=[("leo_earnings", "Edukey"), ("leo_earnings", "TaxYear"), ("leo_earnings", "Earnings"),
             ("learner_ae_id_to_edukey_lookup", "EDUKEY"), ("learner_ae_id_to_edukey_lookup", "AE_ID")],
    unit="GBP per tax year, nominal", valid_values=">= 0; missing if every record of the person-year is missing",
    caveats="Pay after at-source deductions (e.g. pension); HMRC sets negative values to 0; low earners at small "
            "employers may be missing from P14. A zero is kept as a zero (a record with no pay), not as missing. An "
            "EDUKEY linked to several AE_IDs counts for the smallest AE_ID only (as leokit.linkage.resolve_edukeys).",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="n_edukeys_paye", label="Number of EDUKEYs with PAYE earnings", theme="earnings",
    definition="Count of distinct EDUKEYs of the person with a leo_earnings record in the tax year.",
    sources=[("leo_earnings", "Edukey"), ("learner_ae_id_to_edukey_lookup", "AE_ID")],
    unit="count", valid_values=">= 1",
    caveats="Values above 1 flag person-resolution issues (one person, several EDUKEYs); check them.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
def annual_paye_earnings(leo_earnings: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *,
                         person_col: str | None = None) -> pd.DataFrame:
    """Annual PAYE earnings per person and tax year.

    Returns columns ``[person, TaxYear, paye_earnings, n_edukeys_paye]``.
    """
    # Earnings is checked as numbers below (negatives are floored at 0, as HMRC does, with a note)
    require_columns(leo_earnings, ["Edukey", "TaxYear", "Earnings"], "leo_earnings")
    leo_earnings = check_input(leo_earnings, "leo_earnings", ["Edukey", "TaxYear"])
    pc = _person_col(edukey_map, person_col)
    d = leo_earnings[["Edukey", "TaxYear", "Earnings"]]
    ty = as_taxyear(d["TaxYear"], "leo_earnings")
    if ty is not d["TaxYear"]:
        d = d.assign(TaxYear=ty)
    if edukey_map is not None:
        d = attach_person(d, "Edukey", edukey_map, mapping_key="EDUKEY", person_col=pc, frame="leo_earnings")
    else:
        d = d.rename(columns={"Edukey": pc}).assign(Edukey=lambda x: x[pc])
    v = as_numeric(d["Earnings"], "leo_earnings", "Earnings").to_numpy()
    n_neg = int((v < 0).sum())
    if n_neg:
        notify(InputChangedWarning, f"leo_earnings: column 'Earnings': {n_neg:,} negative values set to 0 (HMRC's rule)", "leokit.derive")
    v = np.where(v < 0, 0.0, v)
    gid, out = group_index(d, [pc, "TaxYear"])
    ok = gid >= 0
    ng = len(out)
    g = gid[ok]
    notna = ~np.isnan(v[ok])
    total = np.bincount(g, weights=np.where(notna, v[ok], 0.0), minlength=ng)
    count = np.bincount(g, weights=notna, minlength=ng)
    out["paye_earnings"] = np.where(count > 0, total, np.nan)
    # distinct EDUKEYs per person-year: = rows, except in groups with several rows (checked there only)
    rows = np.bincount(g, minlength=ng)
    n_ek = rows.copy()
    multi = np.flatnonzero(rows[g] > 1)
    if len(multi):
        sub = pd.DataFrame({"g": g[multi], "k": d["Edukey"].to_numpy()[np.flatnonzero(ok)[multi]]}).drop_duplicates()
        n_ek[np.unique(sub["g"].to_numpy())] = 0
        n_ek += np.bincount(sub["g"].to_numpy(dtype="int64"), minlength=ng)
    out["n_edukeys_paye"] = n_ek.astype("int64")
    out["TaxYear"] = out["TaxYear"].astype("int64")
    return out


@derived(
    name="sa_earnings", label="Annual self-employment earnings (SA)", theme="earnings",
    definition="Sum of leo_self_assessment.EARNINGS_SELF_EMPLOYMENT over the person's EDUKEYs in the tax year, "
               "for tax years 2013/14 (201314) on; earlier SA records are dropped.",
    sources=[("leo_self_assessment", "Edukey"), ("leo_self_assessment", "TaxYear"),
             ("leo_self_assessment", "EARNINGS_SELF_EMPLOYMENT")],
    unit="GBP per tax year, nominal", valid_values="any (losses may be negative); missing = no SA earnings",
    caveats="SA is robust only from 2013/14 [VRF]. EARNINGS_PTR and EARNINGS_SOLE are not added separately "
            "(EARNINGS_SELF_EMPLOYMENT is taken as the self-employment total - INFERRED).",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
def sa_earnings(leo_self_assessment: pd.DataFrame, edukey_map: pd.DataFrame | None = None, *,
                person_col: str | None = None, first_taxyear: int = FIRST_SA_TAX_YEAR) -> pd.DataFrame:
    """Self-assessment self-employment earnings per person and tax year (2013/14 on).

    Returns ``[person, TaxYear, sa_earnings]``; person-years whose SA earnings are all missing are dropped.
    """
    require_columns(leo_self_assessment, ["Edukey", "TaxYear", "EARNINGS_SELF_EMPLOYMENT"], "leo_self_assessment")
    pc = _person_col(edukey_map, person_col)
    d = leo_self_assessment[["Edukey", "TaxYear", "EARNINGS_SELF_EMPLOYMENT"]]
    d = d.assign(TaxYear=as_taxyear(d["TaxYear"], "leo_self_assessment"))
    early = (d["TaxYear"] < first_taxyear).to_numpy(dtype=bool)
    warn_dropped(int(early.sum()), len(d), "leo_self_assessment",
                 f"TaxYear before {first_taxyear} (self-assessment is robust only from 2013/14)")
    d = d[~early]
    d = check_input(d, "leo_self_assessment", ["Edukey", "TaxYear"])  # kinds, range, duplicated records
    if edukey_map is not None:
        d = attach_person(d, "Edukey", edukey_map, mapping_key="EDUKEY", person_col=pc, frame="leo_self_assessment")
    else:
        d = d.rename(columns={"Edukey": pc})
    v = as_numeric(d["EARNINGS_SELF_EMPLOYMENT"], "leo_self_assessment", "EARNINGS_SELF_EMPLOYMENT")
    d = d.assign(sa_earnings=v)[[pc, "TaxYear", "sa_earnings"]]
    out = d.groupby([pc, "TaxYear"], sort=True, observed=True)["sa_earnings"].sum(min_count=1).reset_index()
    out = out[out["sa_earnings"].notna()].reset_index(drop=True)
    out["TaxYear"] = out["TaxYear"].astype("int64")
    return out


@derived(
    name="total_earnings", label="Total earnings (PAYE + SA)", theme="earnings",
    definition="paye_earnings (0 if none) plus sa_earnings floored at 0 (0 if none), per person and tax year, for "
               "every person-year with a PAYE or an SA record.",
    sources=[("leo_earnings", "Earnings"), ("leo_self_assessment", "EARNINGS_SELF_EMPLOYMENT")],
    unit="GBP per tax year, nominal", valid_values=">= 0",
    caveats="Self-employment losses are floored at 0, mirroring HMRC's flooring of PAYE pay (kit choice). SA is "
            "included only from 2013/14, so totals before and after 2013/14 are not comparable for the "
            "self-employed.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="has_paye", label="Has a PAYE earnings record", theme="earnings",
    definition="1 if the person has a leo_earnings record in the tax year, else 0.",
    sources=[("leo_earnings", "TaxYear")], unit="indicator", valid_values="0, 1", caveats="A record with 0 earnings counts.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="has_sa", label="Has self-employment earnings (SA)", theme="earnings",
    definition="1 if the person has non-missing SA self-employment earnings in the tax year (2013/14 on), else 0.",
    sources=[("leo_self_assessment", "EARNINGS_SELF_EMPLOYMENT")], unit="indicator", valid_values="0, 1",
    caveats="Always 0 before 2013/14.", level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
def total_earnings(paye: pd.DataFrame, sa: pd.DataFrame | None = None, *, person_col: str | None = None) -> pd.DataFrame:
    """Combine :func:`annual_paye_earnings` and :func:`sa_earnings` outputs.

    Returns ``[person, TaxYear, paye_earnings, sa_earnings, total_earnings, has_paye, has_sa]``.
    """
    pc = person_col or (PERSON if PERSON in paye.columns else "EDUKEY")
    require_columns(paye, [pc, "TaxYear", "paye_earnings"], "paye (output of annual_paye_earnings)")
    p = paye[[pc, "TaxYear", "paye_earnings"]].assign(has_paye=1)
    if sa is None:
        sa = pd.DataFrame({pc: pd.Series([], dtype=p[pc].dtype), "TaxYear": pd.Series([], dtype="int64"),
                           "sa_earnings": pd.Series([], dtype="float64")})
    require_columns(sa, [pc, "TaxYear", "sa_earnings"], "sa (output of sa_earnings)")
    s = sa[[pc, "TaxYear", "sa_earnings"]].assign(has_sa=1)
    out = p.merge(s, on=[pc, "TaxYear"], how="outer", sort=True)
    out["has_paye"] = out["has_paye"].fillna(0).astype("int64")
    out["has_sa"] = out["has_sa"].fillna(0).astype("int64")
    out["total_earnings"] = out["paye_earnings"].fillna(0.0) + out["sa_earnings"].clip(lower=0).fillna(0.0)
    out["TaxYear"] = out["TaxYear"].astype("int64")
    return out[[pc, "TaxYear", "paye_earnings", "sa_earnings", "total_earnings", "has_paye", "has_sa"]]


def load_deflator(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped CPIH deflator (``leokit/data/deflator_cpih.csv``): ``tax_year, tax_year_label, cpih_index, status``.

    The shipped values are APPROXIMATE (see the file header); replace them with ONS series L522.
    """
    if path is None:
        with resources.files("leokit").joinpath("data/deflator_cpih.csv").open("r", encoding="utf-8") as fh:
            df = pd.read_csv(fh, comment="#")
    else:
        df = pd.read_csv(path, comment="#")
    require_columns(df, ["tax_year", "cpih_index"], "deflator")
    df["tax_year"] = df["tax_year"].astype("int64")
    df["cpih_index"] = df["cpih_index"].astype("float64")
    return df


@derived(
    name="real_earnings", label="Earnings in constant prices (CPIH)", theme="earnings",
    definition="nominal earnings x CPIH(base tax year) / CPIH(tax year), with the CPIH index (2015 = 100) per tax year "
               "from leokit/data/deflator_cpih.csv; by default base = 100 (2015 prices).",
    sources=[("leo_earnings", "TaxYear"), ("leo_earnings", "Earnings")],
    unit="GBP per tax year at base-year prices",
    valid_values=">= 0 for PAYE; missing when the tax year is not in the deflator (reported as a coverage gap)",
    caveats="The shipped CPIH values are approximate reconstructions (ONS series L522), not copied from the ONS release; "
            "DfE's real-terms series may use another index or base year [GO-DATA] - which one is an open question.",
    level="person-year", status="inferred", output_key=[PERSON, "TaxYear"],
)
def real_earnings(frame: pd.DataFrame, value_col: str = "total_earnings", *, base_taxyear: int | None = None,
                  deflator: pd.DataFrame | None = None, out_col: str = "real_earnings",
                  on_gap: str = "warn") -> pd.DataFrame:
    """Add ``out_col`` = ``value_col`` deflated to the prices of ``base_taxyear`` (default: 2015 = 100).

    Rows whose tax year the deflator does not cover get a missing ``out_col``; that gap is reported by the
    kit's coverage policy (``on_gap``: ``"warn"`` - a :class:`~leokit.errors.CoverageWarning` -, ``"raise"``,
    ``"ignore"``). A ``base_taxyear`` not in the deflator raises :class:`DerivationError`.
    """
    require_columns(frame, ["TaxYear", value_col], "frame")
    dfl = load_deflator() if deflator is None else deflator
    require_columns(dfl, ["tax_year", "cpih_index"], "deflator")
    idx = dfl.set_index("tax_year")["cpih_index"]
    if base_taxyear is None:
        base = 100.0
    else:
        if base_taxyear not in idx.index:
            raise DerivationError(f"base_taxyear {base_taxyear} not in the deflator (has {idx.index.min()}..{idx.index.max()})")
        base = float(idx.loc[base_taxyear])
    ty = as_taxyear(frame["TaxYear"], "frame")
    factor = ty.map(idx).astype("float64")
    lack = ty[factor.isna().to_numpy()]
    if len(lack):
        report_gap(f"real_earnings: the deflator covers tax years {idx.index.min()}..{idx.index.max()}; "
                   f"{len(lack):,} rows in tax years {sorted(set(lack.tolist()))[:10]} get a missing {out_col}", on_gap)
    out = frame.copy()
    out[out_col] = as_numeric(out[value_col], "frame", value_col) * base / factor
    return out


@derived(
    name="annualised_earnings", label="Annualised PAYE earnings", theme="earnings",
    definition="paye_earnings / days_employed x 365, for person-years with days_employed > 0 (earnings per day in PAYE "
               "employment scaled to a year).",
    sources=[("leo_earnings", "Earnings"), ("leo_employment", "StartDate"), ("leo_employment", "EndDate")],
    unit="GBP per year, nominal", valid_values=">= 0; missing when no employment days or no earnings",
    caveats="Used in early DfE graduate-outcome releases [SE2017]. Spell dates are imprecise (defaulted dates, "
            "UncertainStartDate/UncertainEndDate), so short spells can give extreme values; consider trimming or a "
            "minimum number of days.",
    level="person-year", status="documented", output_key=[PERSON, "TaxYear"],
)
def annualised_earnings(paye: pd.DataFrame, days: pd.DataFrame, *, person_col: str | None = None,
                        min_days: int = 1) -> pd.DataFrame:
    """Annualised earnings from :func:`annual_paye_earnings` and :func:`leokit.derive.days_employed` outputs.

    Returns ``[person, TaxYear, paye_earnings, days_employed, annualised_earnings]`` for person-years in ``paye``.
    """
    pc = person_col or (PERSON if PERSON in paye.columns else "EDUKEY")
    require_columns(paye, [pc, "TaxYear", "paye_earnings"], "paye")
    require_columns(days, [pc, "TaxYear", "days_employed"], "days")
    out = paye[[pc, "TaxYear", "paye_earnings"]].merge(days[[pc, "TaxYear", "days_employed"]], on=[pc, "TaxYear"], how="left")
    out["days_employed"] = out["days_employed"].fillna(0).astype("int64")
    ok = out["days_employed"] >= max(min_days, 1)
    out["annualised_earnings"] = np.where(ok, out["paye_earnings"] / out["days_employed"].where(ok, 1) * 365.0, np.nan)
    return out
