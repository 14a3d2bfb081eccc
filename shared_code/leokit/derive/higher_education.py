"""Higher education: entry, provider tariff group, subject group, degree class, graduation year.

HESA comes as one table per academic year (``hesa_2011`` = 2010/11). The functions here take one
*stacked* frame with a ``hesa_year`` column (the academic year's end year); build it with
:func:`stack_hesa` from ``{2011: hesa_2011_frame, ...}`` or ``{"hesa_2011": frame, ...}``.
Person key: ``HE_PUPILMATCHINGREFANONYMOUS`` (the NPD PMR); outputs use ``PupilMatchingRefAnonymous``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from leokit.derive._common import check_input, PERSON, PMR, DerivationError, Problem, as_numeric, format_years, report_gap, require_columns, require_rows, taxyear_code
from leokit.schema import LAST_HESA_YEAR, get_schema
from leokit.derive.disadvantage import _year_keys
from leokit.derive.registry import derived
from leokit.stack import stack_hesa as _stack_hesa

__all__ = [
    "stack_hesa",
    "SUBJECT_GROUPS",
    "JACS_SUBJECT_GROUP",
    "DEGREE_CLASS_LABELS",
    "jacs_subject_group",
    "cah_subject_group",
    "he_entry",
    "subject_group",
    "degree_class",
    "graduation",
    "provider_tariff_group",
    "provider_tariff_group_syn",
    "hesa_study_taxyears",
]

HE_PMR = "HE_PUPILMATCHINGREFANONYMOUS"

#: The seven subject groups of the kit (same names as the synthetic generator's ``SUBJECT_GROUPS``).
SUBJECT_GROUPS = ("medicine", "stem", "econ_business_law", "social_science", "humanities", "creative_arts",
                  "education_health")
#: JACS 3 subject-area letter -> subject group. 'L1' (economics) is handled separately.
#: D (veterinary, agriculture) -> stem is the kit's choice (INFERRED; not listed in the generator's comment).
JACS_SUBJECT_GROUP = {
    "A": "medicine",
    "B": "education_health", "X": "education_health",
    "C": "stem", "D": "stem", "F": "stem", "G": "stem", "H": "stem", "I": "stem", "J": "stem",
    "M": "econ_business_law", "N": "econ_business_law",
    "K": "social_science", "L": "social_science",
    "Q": "humanities", "R": "humanities", "T": "humanities", "V": "humanities",
    "P": "creative_arts", "W": "creative_arts",
}
#: HE_XCLASS01 code -> label (codes simplified in the kit's schema; INFERRED)
DEGREE_CLASS_LABELS = {"01": "first", "02": "upper second", "03": "lower second", "04": "third or pass"}


def stack_hesa(tables: Mapping) -> pd.DataFrame:
    """Stack per-year HESA frames (``{2011: frame}`` or ``{"hesa_2011": frame}``) with an int ``hesa_year``
    column: :func:`leokit.load.stack_hesa` on in-memory frames, each checked against its year's schema (what was
    normalised is noted in the logged report)."""
    return _stack_hesa(tables=_year_keys(tables, "stack_hesa"), validate=True)


def jacs_subject_group(codes: pd.Series) -> pd.Series:
    """JACS 3 codes (e.g. 'L100', 'F300') -> subject group (missing for unknown/blank codes).

    The rule (contract C6): the first letter through :data:`JACS_SUBJECT_GROUP`, except ``L1xx`` (economics)
    -> ``econ_business_law``; every other ``L`` code -> ``social_science``.
    """
    c = pd.Series(codes).astype("string").str.strip().str.upper()
    letter = c.str[0]
    grp = letter.map(JACS_SUBJECT_GROUP)
    econ = c.str.match(r"^L1", na=False)
    grp = grp.where(~econ, "econ_business_law")
    return grp.astype(object).where(grp.notna(), None)


def cah_subject_group(codes: pd.Series, mapping) -> pd.Series:
    """CAH codes (``HE_XCAH01_1``, e.g. ``'CAH15-02-01'``) -> subject group through ``mapping``, by the **longest**
    prefix of the code found in ``mapping`` (e.g. ``{"CAH15-02": "econ_business_law", "CAH15": "social_science"}``);
    missing where no prefix matches.

    The kit ships no CAH mapping: CAH codes and versions changed between HESA collections, and economics is a
    level-3 node inside the social sciences, so a mapping consistent with the JACS rule (``L1xx`` ->
    ``econ_business_law``) needs the CAH version of your extract (an open question for the kit). Build ``mapping``
    from that version's list and pass it as ``cah_groups=`` to :func:`subject_group` / :func:`he_entry`.
    """
    bad = sorted({g for g in mapping.values() if g not in SUBJECT_GROUPS})
    if bad:
        raise DerivationError(f"cah_groups: unknown subject group(s) {bad}; the kit's groups are {list(SUBJECT_GROUPS)}",
                              table="cah_groups")
    c = pd.Series(codes).astype("string").str.strip().str.upper()
    out = pd.Series([None] * len(c), index=c.index, dtype=object)
    done = pd.Series(False, index=c.index)
    for prefix in sorted(mapping, key=len, reverse=True):
        hit = (c.str.startswith(str(prefix).upper()).fillna(False) & ~done).to_numpy(dtype=bool)
        out[hit] = mapping[prefix]
        done |= hit
    return out


def _hesa(hesa, cols):
    """The stacked HESA frame, each year's rows checked against that year's declared schema (the columns used)."""
    require_columns(hesa, [HE_PMR, "hesa_year", *cols], "hesa (stacked with stack_hesa)")
    years = as_numeric(hesa["hesa_year"], "hesa (stacked with stack_hesa)", "hesa_year")
    if len(hesa) == 0:
        require_rows(hesa, "hesa (stacked with stack_hesa)")
    if years.isna().any():
        raise DerivationError(f"hesa (stacked with stack_hesa): {int(years.isna().sum()):,} rows have no hesa_year",
                              table="hesa", problems=[Problem("hesa", "hesa_year", "no missing values",
                                                              f"{int(years.isna().sum())} missing", "null")])
    parts, changed = [], False
    for y in sorted(pd.unique(years.to_numpy())):
        rows = (years == y).to_numpy(dtype=bool)
        try:
            sch = get_schema(f"hesa_{int(y)}")
        except KeyError:
            continue  # not a year of the extract (a hand-made frame): no declared schema to check it against
        use = [c for c in [HE_PMR, *cols] if c in sch.column_names]
        sub = hesa[rows]
        part = check_input(sub, sch.name, use, f"hesa_{int(y)} rows of the stacked HESA frame")
        if part is not sub:  # something was normalised (and warned about)
            changed = True
            parts.append((rows, part, use))
    if not changed:
        return hesa
    out = hesa.copy()
    for rows, part, use in parts:
        for c in use:
            if out[c].dtype != part[c].dtype:
                out[c] = out[c].astype(object)
            out.loc[rows, c] = part[c].to_numpy()
    return out


def _subjects(d: pd.DataFrame, cah_groups, on_gap: str, fn: str) -> np.ndarray:
    """Subject group of each HESA row: JACS where mapped, else CAH through ``cah_groups``; reports CAH-only rows
    that stay unmapped (the coding does not cover those years) by the coverage policy."""
    grp = (jacs_subject_group(d["HE_XJACS01_1"]) if "HE_XJACS01_1" in d.columns
           else pd.Series([None] * len(d), index=d.index, dtype=object))
    if "HE_XCAH01_1" in d.columns:
        cah = d["HE_XCAH01_1"]
        need = (grp.isna() & cah.notna()).to_numpy(dtype=bool)
        if need.any():
            if cah_groups is not None:
                grp = grp.where(~pd.Series(need, index=grp.index), cah_subject_group(cah, cah_groups))
            else:
                yrs = format_years(d.loc[need, "hesa_year"].to_numpy(dtype="int64"))
                report_gap(f"{fn}: {int(need.sum()):,} first-degree records (HESA years {yrs}) have a CAH subject "
                           "(HE_XCAH01_1) but no JACS code, and the kit has no CAH -> subject group mapping (see "
                           "leokit.derive.cah_subject_group); their subject group is missing. Pass cah_groups={...} "
                           "built from your extract's CAH version, or on_gap='ignore'", on_gap)
    return grp.to_numpy(dtype=object)


@derived(
    name="he_entry_year", label="Year of entry to a first degree", theme="higher_education",
    definition="hesa_year (academic year end) of the person's first HESA record with HE_XQLEV601 = 'UG' and "
               "HE_YEARPRG = 1; if there is none, of the first record with HE_XQLEV601 = 'UG'.",
    sources=[("hesa_2015", "HE_PUPILMATCHINGREFANONYMOUS"), ("hesa_2015", "HE_XQLEV601"), ("hesa_2015", "HE_YEARPRG")],
    unit="calendar year in which the academic year ends (2015 = 2014/15)", valid_values="2005..2021",
    caveats="Only NPD/ILR-linked students are in HESA. The fallback catches students first seen in a later year of "
            "programme (transfers, data gaps); flag he_entry_fallback = 1.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="he_entry_provider", label="Provider at first-degree entry", theme="higher_education",
    definition="HE_XINSTID01_ANON of the entry record (see he_entry_year).",
    sources=[("hesa_2015", "HE_XINSTID01_ANON")], unit="pseudonymised provider id", valid_values="provider ids",
    caveats="Several rows in the entry year (several instances): the first by HE_COMDATE is taken.",
    level="person", status="kit", output_key=[PMR],
)
def he_entry(hesa: pd.DataFrame, *, cah_groups=None, on_gap: str = "warn") -> pd.DataFrame:
    """First-degree entry per person: ``[PupilMatchingRefAnonymous, he_entry_year, he_entry_provider,
    he_entry_subject, he_entry_fallback]``.

    ``he_entry_subject`` is the subject group of the entry record (JACS; CAH-only records through ``cah_groups``,
    see :func:`subject_group`)."""
    h = _hesa(hesa, ["HE_XQLEV601", "HE_YEARPRG", "HE_XINSTID01_ANON"])
    ug = h[h["HE_XQLEV601"].astype("string").str.strip().eq("UG").fillna(False).to_numpy(dtype=bool)]
    y1 = (as_numeric(ug["HE_YEARPRG"], "hesa", "HE_YEARPRG") == 1).to_numpy(dtype=bool)
    cols = [HE_PMR, "hesa_year", "HE_XINSTID01_ANON"]
    extra = [c for c in ("HE_COMDATE", "HE_XJACS01_1", "HE_XCAH01_1") if c in ug.columns]
    d = ug[cols + extra].assign(_fallback=np.where(y1, 0, 1))
    sort = ["_fallback", HE_PMR, "hesa_year"] + (["HE_COMDATE"] if "HE_COMDATE" in extra else [])
    d = d.sort_values(sort, kind="stable", na_position="last")
    first = d.drop_duplicates(HE_PMR, keep="first")
    out = pd.DataFrame({
        PMR: first[HE_PMR].to_numpy(),
        "he_entry_year": first["hesa_year"].astype("int64").to_numpy(),
        "he_entry_provider": first["HE_XINSTID01_ANON"].to_numpy(),
        "he_entry_subject": _subjects(first, cah_groups, on_gap, "he_entry"),
        "he_entry_fallback": first["_fallback"].astype("int64").to_numpy(),
    })
    return out.sort_values(PMR, kind="stable").reset_index(drop=True)


@derived(
    name="subject_group", label="Subject group of the first degree", theme="higher_education",
    definition="Subject group of HE_XJACS01_1 (JACS 3 principal subject) on the qualifying record (graduates) or else "
               "the entry record: first letter A medicine; B, X education_health; C, D, F, G, H, I, J stem; L1xx, M, N "
               "econ_business_law; K, other L social_science; Q, R, T, V humanities; P, W creative_arts.",
    sources=[("hesa_2015", "HE_XJACS01_1")], unit="category", valid_values="; ".join(SUBJECT_GROUPS),
    caveats="Groups are the kit's seven (same as the synthetic generator); D -> stem is a kit choice (INFERRED). JACS "
            "is recorded to 2019/20; from 2019/20 subjects are HECoS, grouped by the Common Aggregation Hierarchy "
            "(HE_XCAH01_1). The kit ships no CAH -> group mapping (open question: CAH versions differ and economics "
            "is a level-3 node inside the social sciences); records with only a CAH code get a missing group and a "
            "CoverageWarning unless a mapping is passed (cah_groups).",
    level="person", status="kit", output_key=[PMR],
)
def subject_group(hesa: pd.DataFrame, *, cah_groups=None, on_gap: str = "warn") -> pd.DataFrame:
    """Subject group per person: ``[PupilMatchingRefAnonymous, subject_group]`` (qualifying record first).

    ``cah_groups``: optional CAH prefix -> group mapping for records with a CAH subject but no JACS code (see
    :func:`cah_subject_group`); without it such records are reported by the coverage policy (``on_gap``) and
    left without a group.
    """
    h = _hesa(hesa, ["HE_XJACS01_1", "HE_XQLEV601"])
    ug = h[h["HE_XQLEV601"].astype("string").str.strip().eq("UG").fillna(False).to_numpy(dtype=bool)]
    qual = ((as_numeric(ug["HE_XPQUAL01"], "hesa", "HE_XPQUAL01") == 1).to_numpy(dtype=bool)
            if "HE_XPQUAL01" in ug.columns else np.zeros(len(ug), bool))
    d = pd.DataFrame({PMR: ug[HE_PMR].to_numpy(), "y": ug["hesa_year"].to_numpy(), "q": np.where(qual, 0, 1),
                      "subject_group": _subjects(ug, cah_groups, on_gap, "subject_group")})
    d = d[pd.notna(d["subject_group"])]
    # qualifying record (latest) first, else the earliest record
    d = d.assign(_ord=np.where(d["q"] == 0, -d["y"], d["y"]))
    d = d.sort_values([PMR, "q", "_ord"], kind="stable").drop_duplicates(PMR)
    return d[[PMR, "subject_group"]].reset_index(drop=True)


@derived(
    name="graduation_year", label="Year of first-degree graduation", theme="higher_education",
    definition="hesa_year (academic year end) of the person's first HESA record with HE_XPQUAL01 = 1, "
               "HE_XQLEV601 = 'UG' and HE_XCLASS01 in 01-04 (a classified first degree).",
    sources=[("hesa_2015", "HE_XPQUAL01"), ("hesa_2015", "HE_XCLASS01"), ("hesa_2015", "HE_XQLEV601")],
    unit="calendar year in which the academic year ends", valid_values="2005..2021; missing = no classified first degree",
    caveats="Unclassified degrees (05) are not counted as graduation here (kit choice); DfE graduate outcomes include "
            "all first-degree qualifiers.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="degree_class", label="Degree classification", theme="higher_education",
    definition="HE_XCLASS01 of the graduation record: 01 'first', 02 'upper second', 03 'lower second', 04 'third or pass'.",
    sources=[("hesa_2015", "HE_XCLASS01")], unit="category",
    valid_values="first; upper second; lower second; third or pass",
    caveats="HESA code values are simplified in the kit's schema (INFERRED); check the real code list.",
    level="person", status="inferred", output_key=[PMR],
)
@derived(
    name="good_degree", label="First or upper second", theme="higher_education",
    definition="1 if degree_class is 'first' or 'upper second', 0 for other classes, missing if not a graduate.",
    sources=[("hesa_2015", "HE_XCLASS01")], unit="indicator", valid_values="0, 1",
    caveats="As degree_class.", level="person", status="kit", output_key=[PMR],
)
def graduation(hesa: pd.DataFrame) -> pd.DataFrame:
    """Graduation per person: ``[PupilMatchingRefAnonymous, graduation_year, degree_class_code, degree_class,
    good_degree, graduation_provider]``."""
    h = _hesa(hesa, ["HE_XPQUAL01", "HE_XCLASS01", "HE_XQLEV601"])
    cls = h["HE_XCLASS01"].astype("string").str.strip().str.zfill(2)
    ok = ((as_numeric(h["HE_XPQUAL01"], "hesa", "HE_XPQUAL01") == 1)
          & cls.isin(list(DEGREE_CLASS_LABELS)).fillna(False)
          & h["HE_XQLEV601"].astype("string").str.strip().eq("UG").fillna(False))
    d = h.loc[ok.to_numpy(dtype=bool), [HE_PMR, "hesa_year"] + (["HE_XINSTID01_ANON"] if "HE_XINSTID01_ANON" in h.columns else [])]
    d = d.assign(_cls=cls[ok.to_numpy(dtype=bool)].to_numpy())
    d = d.sort_values([HE_PMR, "hesa_year", "_cls"], kind="stable").drop_duplicates(HE_PMR)
    out = pd.DataFrame({
        PMR: d[HE_PMR].to_numpy(),
        "graduation_year": d["hesa_year"].astype("int64").to_numpy(),
        "degree_class_code": d["_cls"].astype(object).to_numpy(),
    })
    out["degree_class"] = out["degree_class_code"].map(DEGREE_CLASS_LABELS)
    out["good_degree"] = out["degree_class_code"].isin(["01", "02"]).astype("int64")
    if "HE_XINSTID01_ANON" in d.columns:
        out["graduation_provider"] = d["HE_XINSTID01_ANON"].to_numpy()
    return out.sort_values(PMR, kind="stable").reset_index(drop=True)


def degree_class(hesa: pd.DataFrame) -> pd.DataFrame:
    """Alias of :func:`graduation` (degree class is computed with the graduation year)."""
    return graduation(hesa)


@derived(
    name="provider_tariff_group", label="Provider tariff group (UCAS)", theme="higher_education",
    definition="he_provider_tariff_group (high/medium/low) of the applicant's Firm application "
               "(app_response_june30 = 'Firm') in the latest cycle in which the applicant was accepted "
               "(ucas_applicants.accept_flag = 1); applicants linked to NPD by PupilMatchingRefAnonymous.",
    sources=[("ucas_applicants", "PupilMatchingRefAnonymous"), ("ucas_applicants", "unique_id_cycle"),
             ("ucas_applicants", "accept_flag"), ("ucas_applications", "unique_id_cycle"),
             ("ucas_applications", "app_response_june30"), ("ucas_applications", "he_provider_tariff_group"),
             ("ucas_applications", "application_cycle")],
    unit="category", valid_values="high; medium; low",
    caveats="The firm choice is not always where the applicant was placed (insurance/clearing placements); UCAS "
            "covers 18-year-old English applicants (cycles 2007-2021) only. Table names INFERRED (schema).",
    level="person", status="inferred", output_key=[PMR],
)
def provider_tariff_group(ucas_applicants: pd.DataFrame, ucas_applications: pd.DataFrame) -> pd.DataFrame:
    """Tariff group of the accepted firm choice: ``[PupilMatchingRefAnonymous, application_cycle, provider_tariff_group]``."""
    ucas_applicants = check_input(ucas_applicants, "ucas_applicants", [PMR, "unique_id_cycle", "accept_flag"])
    require_columns(ucas_applications, ["unique_id_cycle", "application_cycle", "app_response_june30",
                                        "he_provider_tariff_group"], "ucas_applications")
    a = ucas_applicants.loc[(as_numeric(ucas_applicants["accept_flag"], "ucas_applicants", "accept_flag") == 1).to_numpy(dtype=bool)
                            & ucas_applicants[PMR].notna().to_numpy(dtype=bool), [PMR, "unique_id_cycle"]]
    firm = ucas_applications.loc[ucas_applications["app_response_june30"].astype("string").eq("Firm").fillna(False).to_numpy(dtype=bool),
                                 ["unique_id_cycle", "application_cycle", "he_provider_tariff_group"]]
    d = a.merge(firm, on="unique_id_cycle", how="inner")
    d = d.sort_values([PMR, "application_cycle"], ascending=[True, False], kind="stable").drop_duplicates(PMR)
    d = d.rename(columns={"he_provider_tariff_group": "provider_tariff_group"})
    return d[[PMR, "application_cycle", "provider_tariff_group"]].reset_index(drop=True)


@derived(
    name="provider_tariff_group_syn", label="Provider tariff group (synthetic provider table)", theme="higher_education",
    definition="syn_tariff_group of the provider (HE_XINSTID01_ANON) of the graduation record, or the entry record for "
               "non-graduates, from the SYNTHETIC-ONLY table syn_he_provider.",
    sources=[("syn_he_provider", "HE_XINSTID01_ANON"), ("syn_he_provider", "syn_tariff_group")],
    unit="category", valid_values="high; medium; low",
    caveats="SYNTHETIC ONLY: syn_he_provider does not exist in the SRS (providers are pseudonymised). On real data use "
            "provider_tariff_group (UCAS) or derive groups from entrants' tariff points.",
    level="person", status="kit", output_key=[PMR],
)
def provider_tariff_group_syn(persons: pd.DataFrame, syn_he_provider: pd.DataFrame, *,
                              provider_col: str = "he_entry_provider") -> pd.DataFrame:
    """Attach ``provider_tariff_group_syn`` to ``persons`` via their provider column (synthetic data only)."""
    require_columns(persons, [provider_col], "persons")
    syn_he_provider = check_input(syn_he_provider, "syn_he_provider", ["HE_XINSTID01_ANON", "syn_tariff_group"])
    m = syn_he_provider[["HE_XINSTID01_ANON", "syn_tariff_group"]].drop_duplicates("HE_XINSTID01_ANON")
    m = m.rename(columns={"HE_XINSTID01_ANON": provider_col, "syn_tariff_group": "provider_tariff_group_syn"})
    return persons.merge(m, on=provider_col, how="left")


def hesa_study_taxyears(hesa: pd.DataFrame, pmr_map: pd.DataFrame | None = None, *,
                        person_col: str = PERSON) -> pd.DataFrame:
    """Person-tax years in further study (any HESA record): academic year ending Y -> tax year starting Y - 1.

    Academic year Y-1/Y (September Y-1 - August Y) overlaps most of the tax year starting April Y-1 (7 of its
    12 months); e.g. a HESA 2020/21 record (hesa_year 2021) -> TaxYear 202021. With ``pmr_map``
    (``learner_ae_id_to_pmr_lookup``) persons are ``AE_ID``; else the PMR. Returns ``[person, TaxYear]``.
    """
    h = _hesa(hesa, [])
    d = pd.DataFrame({"PUPILMATCHINGREFANONYMOUS": h[HE_PMR].to_numpy(),
                      "TaxYear": taxyear_code(as_numeric(h["hesa_year"], "hesa", "hesa_year").to_numpy(dtype="int64") - 1)})
    if pmr_map is not None:
        require_columns(pmr_map, ["AE_ID", "PUPILMATCHINGREFANONYMOUS"], "pmr_map")
        d = d.merge(pmr_map[["AE_ID", "PUPILMATCHINGREFANONYMOUS"]].drop_duplicates(), on="PUPILMATCHINGREFANONYMOUS")
        d = d.rename(columns={"AE_ID": person_col})[[person_col, "TaxYear"]]
    else:
        d = d.rename(columns={"PUPILMATCHINGREFANONYMOUS": PMR})
    return d.drop_duplicates().reset_index(drop=True)
