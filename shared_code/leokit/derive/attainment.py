"""Prior attainment (KS2, KS4), A levels, and highest qualification level by age.

NPD tables are keyed by the Pupil Matching Reference; outputs use the column ``PupilMatchingRefAnonymous``.
Academic years are given by their end year (2010 = 2009/10), read from the ``KS*_ACADYR`` strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import DerivationError, acadyr_end, require_columns
from .registry import derived

__all__ = [
    "ks2_attainment",
    "ks4_attainment",
    "alevel_results",
    "highest_qualification_by_age",
    "ALEVEL_TARIFF",
    "QUALIFICATION_AGES",
]

PMR = "PupilMatchingRefAnonymous"
#: Post-2017 UCAS tariff points per A-level grade.
ALEVEL_TARIFF = {"A*": 56, "A": 48, "B": 40, "C": 32, "D": 24, "E": 16, "U": 0}
QUALIFICATION_AGES = (18, 21, 25)


def _zscore(values: pd.Series, groups: pd.Series) -> pd.Series:
    """(x - mean) / population SD within groups (missing values ignored; SD 0 -> missing)."""
    keys = groups.to_numpy()
    mean = values.groupby(keys).transform("mean")
    sd = np.sqrt((values - mean).pow(2).groupby(keys).transform("mean"))
    return (values - mean) / sd.where(sd > 0)


def _pctile(values: pd.Series, groups: pd.Series) -> pd.Series:
    r = values.groupby(groups.to_numpy()).rank(method="average")
    n = values.notna().groupby(groups.to_numpy()).transform("sum")
    return 100.0 * (r - 0.5) / n


@derived(
    name="ks2_z", label="KS2 attainment, standardised within year", theme="attainment",
    definition="z-score within KS2 year (KS2_ACADYR; mean 0, population SD 1) of the KS2 raw score: KS2_ENGTOTMRK + "
               "KS2_MATTOTMRK (test marks, KS2 years to 2014/15) or KS2_READSCORE + KS2_MATSCORE (scaled scores, "
               "2015/16 on). One record per pupil: the record in national results (KS2_NATRES = 1) with the highest "
               "raw score; a pupil with KS2 records in several years keeps the earliest year.",
    sources=[("KS2Pupil_1996_to_2019_and_2022", "KS2_PupilMatchingRefAnonymous"),
             ("KS2Pupil_1996_to_2019_and_2022", "KS2_ACADYR"), ("KS2Pupil_1996_to_2019_and_2022", "KS2_ENGTOTMRK"),
             ("KS2Pupil_1996_to_2019_and_2022", "KS2_MATTOTMRK"), ("KS2Pupil_1996_to_2019_and_2022", "KS2_READSCORE"),
             ("KS2Pupil_1996_to_2019_and_2022", "KS2_MATSCORE"), ("KS2Pupil_1996_to_2019_and_2022", "KS2_NATRES")],
    unit="standard deviations", valid_values="about -4..4; missing if either component is missing",
    caveats="Marks (to 2015) and scaled scores (2016 on) are different scales; z-scores make years comparable "
            "only in rank terms. English marks pre-2016 include writing; scaled scores here use reading only.",
    level="person", status="kit", output_key=[PMR],
)
def ks2_attainment(ks2: pd.DataFrame) -> pd.DataFrame:
    """KS2 standardised attainment: ``[PupilMatchingRefAnonymous, ks2_year, ks2_raw, ks2_measure, ks2_z]``."""
    need = ["KS2_PupilMatchingRefAnonymous", "KS2_ACADYR"]
    require_columns(ks2, need, "KS2 table")
    year = acadyr_end(ks2["KS2_ACADYR"]).to_numpy(dtype="float64")
    old = year <= 2015

    def num(c):
        if c not in ks2.columns:
            return pd.Series(np.nan, index=ks2.index)
        return pd.to_numeric(ks2[c], errors="coerce").astype("float64")

    if old.any():
        require_columns(ks2, ["KS2_ENGTOTMRK", "KS2_MATTOTMRK"], "KS2 table (years to 2014/15)")
    if (~old & ~np.isnan(year)).any():
        require_columns(ks2, ["KS2_READSCORE", "KS2_MATSCORE"], "KS2 table (2015/16 on)")
    raw = np.where(old, (num("KS2_ENGTOTMRK") + num("KS2_MATTOTMRK")).to_numpy(), (num("KS2_READSCORE") + num("KS2_MATSCORE")).to_numpy())
    natres = num("KS2_NATRES").fillna(0).to_numpy() if "KS2_NATRES" in ks2.columns else np.zeros(len(ks2))
    d = pd.DataFrame({PMR: ks2["KS2_PupilMatchingRefAnonymous"].to_numpy(), "ks2_year": year, "ks2_raw": raw,
                      "_nat": natres, "ks2_measure": np.where(old, "marks", "scaled")})
    d = d[~np.isnan(d["ks2_year"])]
    d = d.sort_values([PMR, "ks2_year", "_nat", "ks2_raw"], ascending=[True, True, False, False], na_position="last",
                      kind="stable")
    d = d.drop_duplicates([PMR, "ks2_year"])
    d["ks2_z"] = _zscore(d["ks2_raw"], d["ks2_year"])
    d = d.drop_duplicates(PMR, keep="first")
    d["ks2_year"] = d["ks2_year"].astype("int64")
    return d[[PMR, "ks2_year", "ks2_raw", "ks2_measure", "ks2_z"]].reset_index(drop=True)


@derived(
    name="ks4_z", label="KS4 attainment, standardised within year", theme="attainment",
    definition="z-score within KS4 year (mean 0, population SD 1) of KS4_PTSCNEWE (capped GCSE points; KS4 years to "
               "2013/14, table KS4Pupil_2002_to_2014) or KS4_ATT8 (Attainment 8; 2014/15 on, table "
               "KS4Pupil_2015_to_2021). One record per pupil and year, chosen as ECHILD does: KS4_NATRES desc, "
               "level 2 flag desc, score desc; the earliest KS4 year is kept.",
    sources=[("KS4Pupil_2002_to_2014", "KS4_PupilMatchingRefAnonymous"), ("KS4Pupil_2002_to_2014", "KS4_ACADYR"),
             ("KS4Pupil_2002_to_2014", "KS4_PTSCNEWE"), ("KS4Pupil_2002_to_2014", "KS4_NATRES"),
             ("KS4Pupil_2015_to_2021", "KS4_ATT8"), ("KS4Pupil_2015_to_2021", "KS4_ACADYR")],
    unit="standard deviations", valid_values="about -4..4",
    caveats="The two measures differ in content (best 8 GCSEs vs Attainment 8 buckets); only the within-year rank is "
            "comparable across the 2015 reform. Mean/SD over all pupils in the given tables (pass national-results "
            "pupils only for national norms).",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="ks4_pctile", label="KS4 attainment percentile within year", theme="attainment",
    definition="Percentile rank (0-100, mid-rank: 100 x (rank - 0.5) / n, ties averaged) of the KS4 score within KS4 "
               "year, on the same deduplicated records as ks4_z.",
    sources=[("KS4Pupil_2002_to_2014", "KS4_PTSCNEWE"), ("KS4Pupil_2015_to_2021", "KS4_ATT8")],
    unit="percentile", valid_values="0..100", caveats="As ks4_z.", level="person", status="kit", output_key=[PMR],
)
@derived(
    name="ks4_level2", label="Level 2 at KS4 (5 A*-C incl. English and maths / grade 4+ basics)", theme="attainment",
    definition="KS4_LEVEL2_EM (5+ A*-C including English and maths; to 2013/14) or KS4_L2BASICS_94 (grade 4+ in "
               "English and maths; 2014/15 on) of the chosen KS4 record.",
    sources=[("KS4Pupil_2002_to_2014", "KS4_LEVEL2_EM"), ("KS4Pupil_2015_to_2021", "KS4_L2BASICS_94")],
    unit="indicator", valid_values="0, 1",
    caveats="The post-2015 'basics' measure needs only English and maths, not 5 GCSEs: the two are not equivalent.",
    level="person", status="kit", output_key=[PMR],
)
def ks4_attainment(ks4_pre: pd.DataFrame | None = None, ks4_post: pd.DataFrame | None = None) -> pd.DataFrame:
    """KS4 attainment on one scale: ``[PupilMatchingRefAnonymous, ks4_year, ks4_measure, ks4_raw, ks4_z,
    ks4_pctile, ks4_level2, ks4_fsm6]`` (``ks4_fsm6`` = KS4_FSM6 where present)."""
    parts = []
    for frame, name, score, l2 in ((ks4_pre, "KS4Pupil_2002_to_2014", "KS4_PTSCNEWE", "KS4_LEVEL2_EM"),
                                   (ks4_post, "KS4Pupil_2015_to_2021", "KS4_ATT8", "KS4_L2BASICS_94")):
        if frame is None:
            continue
        require_columns(frame, ["KS4_PupilMatchingRefAnonymous", "KS4_ACADYR", score, l2], name)
        parts.append(pd.DataFrame({
            PMR: frame["KS4_PupilMatchingRefAnonymous"].to_numpy(),
            "ks4_year": acadyr_end(frame["KS4_ACADYR"]).to_numpy(dtype="float64"),
            "ks4_measure": "PTSCNEWE" if score == "KS4_PTSCNEWE" else "ATT8",
            "ks4_raw": pd.to_numeric(frame[score], errors="coerce").astype("float64").to_numpy(),
            "ks4_level2": pd.to_numeric(frame[l2], errors="coerce").astype("float64").to_numpy(),
            "_nat": (pd.to_numeric(frame["KS4_NATRES"], errors="coerce").fillna(0).to_numpy()
                     if "KS4_NATRES" in frame.columns else np.zeros(len(frame))),
            "ks4_fsm6": (pd.to_numeric(frame["KS4_FSM6"], errors="coerce").astype("float64").to_numpy()
                         if "KS4_FSM6" in frame.columns else np.full(len(frame), np.nan)),
        }))
    if not parts:
        raise DerivationError("ks4_attainment: give ks4_pre and/or ks4_post")
    d = pd.concat(parts, ignore_index=True)
    d = d[~np.isnan(d["ks4_year"])]
    d = d.sort_values([PMR, "ks4_year", "_nat", "ks4_level2", "ks4_raw"], ascending=[True, True, False, False, False],
                      na_position="last", kind="stable").drop_duplicates([PMR, "ks4_year"])
    d["ks4_z"] = _zscore(d["ks4_raw"], d["ks4_year"])
    d["ks4_pctile"] = _pctile(d["ks4_raw"], d["ks4_year"])
    d = d.drop_duplicates(PMR, keep="first")
    d["ks4_year"] = d["ks4_year"].astype("int64")
    d["ks4_level2"] = d["ks4_level2"].astype("Int64")
    d["ks4_fsm6"] = d["ks4_fsm6"].astype("Int64")
    return d[[PMR, "ks4_year", "ks4_measure", "ks4_raw", "ks4_z", "ks4_pctile", "ks4_level2", "ks4_fsm6"]].reset_index(drop=True)


@derived(
    name="alevel_points", label="A-level points, best three (UCAS tariff)", theme="attainment",
    definition="Sum of post-2017 UCAS tariff points (A*=56, A=48, B=40, C=32, D=24, E=16) of the pupil's best three "
               "A-level grades: KS5 exam rows with KS5_SUBLEVNO = 111, best grade per subject (KS5_MAPPING) across "
               "years, grades A*-E.",
    sources=[("KS5Exam_2004_to_2021", "KS5_PupilMatchingRefAnonymous"), ("KS5Exam_2004_to_2021", "KS5_SUBLEVNO"),
             ("KS5Exam_2004_to_2021", "KS5_GRADE"), ("KS5Exam_2004_to_2021", "KS5_MAPPING")],
    unit="UCAS tariff points (2017 scale)", valid_values="16..168; missing if no A-level pass",
    caveats="One scale for all years (the NPD KS5_POINTS scale changed in 2015/16); AS levels and other level 3 "
            "qualifications are ignored. Fewer than three passes: the sum of those there are.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="alevel_best3", label="Best three A-level grades", theme="attainment",
    definition="The best three A-level grades (A*-E) as a string from best to worst, e.g. 'A*AB' or 'AAB'; fewer "
               "letters if fewer than three passes.",
    sources=[("KS5Exam_2004_to_2021", "KS5_GRADE"), ("KS5Exam_2004_to_2021", "KS5_SUBLEVNO")],
    unit="grade string", valid_values="e.g. A*A*A*, AAB, CCD, E", caveats="As alevel_points.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="n_alevels", label="Number of A-level passes", theme="attainment",
    definition="Number of distinct A-level subjects (KS5_MAPPING) with a grade A*-E.",
    sources=[("KS5Exam_2004_to_2021", "KS5_MAPPING"), ("KS5Exam_2004_to_2021", "KS5_GRADE")],
    unit="count", valid_values=">= 1", caveats="A missing KS5_MAPPING counts each row as its own subject.",
    level="person", status="kit", output_key=[PMR],
)
def alevel_results(ks5_exam: pd.DataFrame) -> pd.DataFrame:
    """Best three A levels: ``[PupilMatchingRefAnonymous, n_alevels, alevel_points, alevel_best3, alevel_year]``."""
    require_columns(ks5_exam, ["KS5_PupilMatchingRefAnonymous", "KS5_SUBLEVNO", "KS5_GRADE"], "KS5 exam table")
    e = ks5_exam
    lev = pd.to_numeric(e["KS5_SUBLEVNO"], errors="coerce").eq(111).to_numpy(dtype=bool)
    grade = e["KS5_GRADE"].astype("string").str.strip().str.upper()
    pts = grade.map({k: v for k, v in ALEVEL_TARIFF.items() if v > 0}).astype("float64")
    keep = lev & pts.notna().to_numpy(dtype=bool)
    subj = (e["KS5_MAPPING"].astype("string") if "KS5_MAPPING" in e.columns else pd.Series(pd.NA, index=e.index, dtype="string"))
    rowid = pd.Series(np.arange(len(e)), index=e.index).astype(str)
    subj = subj.fillna("_row" + rowid)
    year = acadyr_end(e["KS5_ACADYR"]).to_numpy(dtype="float64") if "KS5_ACADYR" in e.columns else np.full(len(e), np.nan)
    d = pd.DataFrame({PMR: e["KS5_PupilMatchingRefAnonymous"].to_numpy()[keep], "subj": subj.to_numpy()[keep],
                      "pts": pts.to_numpy()[keep], "grade": grade.to_numpy()[keep], "year": year[keep]})
    d = d.sort_values([PMR, "pts", "subj"], ascending=[True, False, True], kind="stable")
    d = d.drop_duplicates([PMR, "subj"])
    n = d.groupby(PMR, sort=True).size().rename("n_alevels")
    top = d.groupby(PMR, sort=False).head(3)
    g = top.groupby(PMR, sort=True)
    out = pd.concat([n, g["pts"].sum().rename("alevel_points"), g["grade"].agg("".join).rename("alevel_best3"),
                     d.groupby(PMR, sort=True)["year"].max().rename("alevel_year")], axis=1).reset_index()
    out["n_alevels"] = out["n_alevels"].astype("int64")
    out["alevel_year"] = out["alevel_year"].astype("Int64")
    return out


@derived(
    name="highest_level_age18", label="Highest qualification level by age 18", theme="attainment",
    definition="Highest level (0-6) recorded in an academic year ending no later than KS4 year + 2 (age 18 at 31 August): "
               "KS4: 2 if ks4_level2 = 1, else 1 if the KS4 score is > 0, else 0; KS5: 3 if KS5_LEV3THRESH = 1; ILR: "
               "NotionalNVQLev (1-6) of aims with outcome = 1 (achieved), dated by the academic year of end_date "
               "(start_date if missing); HESA: 6 for a classified first degree (graduation_year).",
    sources=[("KS4Pupil_2002_to_2014", "KS4_LEVEL2_EM"), ("KS4Pupil_2015_to_2021", "KS4_L2BASICS_94"),
             ("KS5Student_2004_to_2021", "KS5_LEV3THRESH"), ("KS5Student_2004_to_2021", "KS5_ACADYR"),
             ("aims", "NotionalNVQLev"), ("aims", "outcome"), ("aims", "end_date"), ("aims", "RECORDID"),
             ("education_records_lookup", "AE_ID"), ("learner_ae_id_to_pmr_lookup", "PUPILMATCHINGREFANONYMOUS"),
             ("hesa_2015", "HE_XPQUAL01")],
    unit="qualification level (RQF/NVQ)", valid_values="0..6",
    caveats="Age is the cohort's age at 31 August of the academic year (KS4 year = age 16). KS4 level 1 is "
            "approximated by 'any KS4 points'. ILR level 9 (mixed) and entry level are ignored; qualifications "
            "outside NPD/ILR/HESA (e.g. abroad, private providers) are missing, so levels are lower bounds.",
    level="person", status="kit", output_key=[PMR],
)
@derived(
    name="highest_level_age21", label="Highest qualification level by age 21", theme="attainment",
    definition="As highest_level_age18, academic years ending no later than KS4 year + 5.",
    sources=[("aims", "NotionalNVQLev"), ("hesa_2015", "HE_XPQUAL01")], unit="qualification level (RQF/NVQ)",
    valid_values="0..6", caveats="As highest_level_age18.", level="person", status="kit", output_key=[PMR],
)
@derived(
    name="highest_level_age25", label="Highest qualification level by age 25", theme="attainment",
    definition="As highest_level_age18, academic years ending no later than KS4 year + 9.",
    sources=[("aims", "NotionalNVQLev"), ("hesa_2015", "HE_XPQUAL01")], unit="qualification level (RQF/NVQ)",
    valid_values="0..6", caveats="As highest_level_age18; education data end in 2020/21, so later cohorts are censored "
                                 "(missing when KS4 year + 9 > 2021).",
    level="person", status="kit", output_key=[PMR],
)
def highest_qualification_by_age(
    ks4: pd.DataFrame,
    *,
    ks5_student: pd.DataFrame | None = None,
    aims: pd.DataFrame | None = None,
    education_records_lookup: pd.DataFrame | None = None,
    pmr_lookup: pd.DataFrame | None = None,
    graduates: pd.DataFrame | None = None,
    ages=QUALIFICATION_AGES,
    last_academic_year: int = 2021,
) -> pd.DataFrame:
    """Highest qualification level by age per pupil of the KS4 cohort.

    ``ks4``: output of :func:`ks4_attainment` (defines the cohort and its KS4 year). ``ks5_student``: the KS5
    student table. ``aims`` with ``education_records_lookup`` and ``pmr_lookup``
    (``learner_ae_id_to_pmr_lookup``): ILR achievements mapped RECORDID -> AE_ID -> PMR. ``graduates``: output of
    :func:`leokit.derive.graduation`. Returns ``[PupilMatchingRefAnonymous, ks4_year, highest_level_age<a>...]``;
    a value is missing when the age is beyond ``last_academic_year``.
    """
    require_columns(ks4, [PMR, "ks4_year", "ks4_level2", "ks4_raw"], "ks4 (output of ks4_attainment)")
    recs = [pd.DataFrame({
        PMR: ks4[PMR].to_numpy(),
        "year": ks4["ks4_year"].to_numpy(dtype="int64"),
        "level": np.where(ks4["ks4_level2"].fillna(0).to_numpy(dtype="float64") == 1, 2,
                          np.where(ks4["ks4_raw"].fillna(0).to_numpy(dtype="float64") > 0, 1, 0)),
    })]
    if ks5_student is not None:
        require_columns(ks5_student, ["KS5_PupilMatchingRefAnonymous", "KS5_ACADYR", "KS5_LEV3THRESH"], "KS5 student table")
        k5 = ks5_student[pd.to_numeric(ks5_student["KS5_LEV3THRESH"], errors="coerce").eq(1).to_numpy(dtype=bool)]
        recs.append(pd.DataFrame({PMR: k5["KS5_PupilMatchingRefAnonymous"].to_numpy(),
                                  "year": acadyr_end(k5["KS5_ACADYR"]).to_numpy(dtype="float64"), "level": 3}))
    if aims is not None:
        if education_records_lookup is None or pmr_lookup is None:
            raise DerivationError("highest_qualification_by_age: aims need education_records_lookup and pmr_lookup")
        require_columns(aims, ["RECORDID", "outcome", "NotionalNVQLev", "end_date", "start_date"], "aims")
        require_columns(education_records_lookup, ["RECORDID", "AE_ID"], "education_records_lookup")
        require_columns(pmr_lookup, ["AE_ID", "PUPILMATCHINGREFANONYMOUS"], "learner_ae_id_to_pmr_lookup")
        lev = pd.to_numeric(aims["NotionalNVQLev"], errors="coerce")
        ok = pd.to_numeric(aims["outcome"], errors="coerce").eq(1) & lev.between(1, 6)
        a = aims.loc[ok.to_numpy(dtype=bool), ["RECORDID", "end_date", "start_date"]].assign(level=lev[ok].to_numpy())
        dt = pd.to_datetime(a["end_date"]).fillna(pd.to_datetime(a["start_date"]))
        a = a.assign(year=(dt.dt.year + (dt.dt.month >= 9).astype("int64")).to_numpy(dtype="float64"))
        a = a.merge(education_records_lookup[["RECORDID", "AE_ID"]].drop_duplicates(), on="RECORDID")
        a = a.merge(pmr_lookup[["AE_ID", "PUPILMATCHINGREFANONYMOUS"]].drop_duplicates(), on="AE_ID")
        recs.append(pd.DataFrame({PMR: a["PUPILMATCHINGREFANONYMOUS"].to_numpy(), "year": a["year"].to_numpy(),
                                  "level": a["level"].to_numpy()}))
    if graduates is not None:
        require_columns(graduates, [PMR, "graduation_year"], "graduates (output of graduation)")
        g = graduates[graduates["graduation_year"].notna()]
        recs.append(pd.DataFrame({PMR: g[PMR].to_numpy(), "year": g["graduation_year"].to_numpy(dtype="float64"), "level": 6}))
    r = pd.concat(recs, ignore_index=True)
    r = r[pd.notna(r["year"])]
    cohort = ks4[[PMR, "ks4_year"]].drop_duplicates(PMR)
    r = r.merge(cohort, on=PMR, how="inner")
    out = cohort.copy()
    for age in ages:
        cut = r["ks4_year"] + (age - 16)
        best = r[r["year"] <= cut].groupby(PMR)["level"].max()
        col = f"highest_level_age{age}"
        v = out[PMR].map(best).fillna(0).astype("float64")
        censored = (out["ks4_year"] + (age - 16)) > last_academic_year
        out[col] = v.where(~censored).astype("Int64")
    return out.reset_index(drop=True)
