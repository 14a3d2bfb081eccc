"""Prior attainment (KS2, KS4), A levels, and highest qualification level by age.

NPD tables are keyed by the Pupil Matching Reference; outputs use the column ``PupilMatchingRefAnonymous``
(inputs may carry it as ``KS4_PupilMatchingRefAnonymous``, as the KS4 tables and ``leokit.load.stack_ks4`` do).
Academic years are given by their end year (2010 = 2009/10), read from the ``KS*_ACADYR`` strings.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from leokit.derive._common import (check_input, Problem, 
    PMR,
    PUPIL_ID_NAMES,
    DerivationError,
    academic_year,
    as_dates,
    as_numeric,
    format_years,
    pick_column,
    report_gap,
    require_columns,
    require_rows,
)
from leokit.schema import LAST_ACADEMIC_YEAR, LAST_HESA_YEAR
from leokit.derive.registry import derived

__all__ = [
    "ks2_attainment",
    "ks4_attainment",
    "alevel_results",
    "highest_qualification_by_age",
    "ALEVEL_TARIFF",
    "QUALIFICATION_AGES",
    "QUALIFICATION_SOURCE_SPANS",
]

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
    year = academic_year(ks2["KS2_ACADYR"], "KS2 table", "KS2_ACADYR").to_numpy(dtype="float64", na_value=np.nan)
    old = year <= 2015

    def num(c):
        if c not in ks2.columns:
            return pd.Series(np.nan, index=ks2.index)
        return as_numeric(ks2[c], "KS2 table", c)

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


_KS4_REGIMES = {"pre2015": ("KS4Pupil_2002_to_2014", "KS4_PTSCNEWE", "KS4_LEVEL2_EM"),
                "post2015": ("KS4Pupil_2015_to_2021", "KS4_ATT8", "KS4_L2BASICS_94")}
_KS4_PID = ("KS4_PupilMatchingRefAnonymous", PMR)


def _ks4_parts(frame: pd.DataFrame, slot: str, extra: Sequence[str] = ()) -> list[pd.DataFrame]:
    """One KS4 frame -> records ``[PMR, ks4_year, ks4_measure, ks4_raw, ks4_level2, _nat, ks4_fsm6]`` per regime.

    The regime of a row is its ``ks4_regime`` (a frame from ``leokit.load.stack_ks4`` / ``dedup_ks4``, which may
    hold both tables) or else the argument it was passed as (``slot``)."""
    name = _KS4_REGIMES[slot][0] if "ks4_regime" not in frame.columns else "KS4 (stacked)"
    pid = pick_column(frame, _KS4_PID, name)
    require_columns(frame, ["KS4_ACADYR"], name)
    n_year = int(frame["KS4_ACADYR"].isna().sum())
    if n_year:
        raise DerivationError(f"{name}: {n_year:,} of {len(frame):,} rows have no KS4_ACADYR (declared not nullable); "
                              "their KS4 year is unknown, so they would drop out of every cohort", table=name,
                              problems=[Problem(name, "KS4_ACADYR", "no missing values (column is not nullable)",
                                                f"{n_year} rows with missing values", "null")])
    if "ks4_regime" in frame.columns:
        reg = frame["ks4_regime"].astype(object).to_numpy()
        unknown = sorted({str(r) for r in pd.unique(reg)} - set(_KS4_REGIMES))
        if unknown:
            raise DerivationError(f"{name}: ks4_regime values {unknown} are not 'pre2015'/'post2015'", table=name)
    else:
        reg = np.full(len(frame), slot, dtype=object)
    parts = []
    for regime, (tname, score, l2) in _KS4_REGIMES.items():
        rows = reg == regime
        if not rows.any():
            continue
        f = frame[rows]
        require_columns(f, [score, l2, *extra], tname if "ks4_regime" not in frame.columns else f"{name}, {regime} rows")
        parts.append(pd.DataFrame({
            PMR: f[pid].to_numpy(),
            "ks4_year": academic_year(f["KS4_ACADYR"], tname, "KS4_ACADYR").to_numpy(dtype="float64", na_value=np.nan),
            "ks4_measure": "PTSCNEWE" if score == "KS4_PTSCNEWE" else "ATT8",
            "ks4_raw": as_numeric(f[score], tname, score).to_numpy(),
            "ks4_level2": as_numeric(f[l2], tname, l2).to_numpy(),
            "_nat": (as_numeric(f["KS4_NATRES"], tname, "KS4_NATRES").fillna(0).to_numpy()
                     if "KS4_NATRES" in f.columns else np.zeros(len(f))),
            "ks4_fsm6": (as_numeric(f["KS4_FSM6"], tname, "KS4_FSM6").to_numpy()
                         if "KS4_FSM6" in f.columns else np.full(len(f), np.nan)),
            **{c: f[c].to_numpy() for c in extra},
        }))
    return parts


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
def ks4_attainment(ks4_pre: pd.DataFrame | None = None, ks4_post: pd.DataFrame | None = None, *,
                   years=None, extra: Sequence[str] = ()) -> pd.DataFrame:
    """KS4 attainment on one scale: ``[PupilMatchingRefAnonymous, ks4_year, ks4_measure, ks4_raw, ks4_z,
    ks4_pctile, ks4_level2, ks4_fsm6]`` (``ks4_fsm6`` = KS4_FSM6 where present), one row per pupil.

    ``extra``: further columns of the KS4 tables to carry through *from the chosen record* (e.g.
    ``["KS4_URN_anon", "KS4_FSM"]``: the school and FSM status of the record whose attainment is used), added at
    the end; each must be in every table given.

    ``ks4_pre`` / ``ks4_post``: the tables ``KS4Pupil_2002_to_2014`` / ``KS4Pupil_2015_to_2021`` as loaded (pupil id
    ``KS4_PupilMatchingRefAnonymous``), or a frame from ``leokit.load.stack_ks4`` (both tables, with
    ``ks4_regime``) as ``ks4_pre``. ``years``: keep only pupils whose (earliest) KS4 year is one of these; a year
    with no pupils in the data raises :class:`DerivationError` listing the years present (instead of returning
    an empty cohort). z-scores and percentiles are computed within year over all pupils given, before selection.

    Example::

        >>> import pandas as pd, leokit.derive as d
        >>> post = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": ["a", "b"], "KS4_ACADYR": ["2015/2016"] * 2,
        ...                      "KS4_ATT8": [30.0, 60.0], "KS4_L2BASICS_94": [0, 1]})
        >>> d.ks4_attainment(ks4_post=post)[["PupilMatchingRefAnonymous", "ks4_year", "ks4_z", "ks4_level2"]]
          PupilMatchingRefAnonymous  ks4_year  ks4_z  ks4_level2
        0                         a      2016   -1.0           0
        1                         b      2016    1.0           1
    """
    extra = [extra] if isinstance(extra, str) else list(extra)
    clash = [c for c in extra if c in (PMR, "ks4_year", "ks4_measure", "ks4_raw", "ks4_z", "ks4_pctile", "ks4_level2",
                                       "ks4_fsm6", "_nat")]
    if clash:
        raise DerivationError(f"ks4_attainment: extra columns {clash} clash with the output's own columns")
    parts = []
    for frame, slot in ((ks4_pre, "pre2015"), (ks4_post, "post2015")):
        if frame is not None:
            parts += _ks4_parts(frame, slot, extra)
    if not parts:
        raise DerivationError("ks4_attainment: give ks4_pre and/or ks4_post (or a leokit.load.stack_ks4 frame)")
    d = pd.concat(parts, ignore_index=True)
    d = d[~np.isnan(d["ks4_year"])]
    d = d.sort_values([PMR, "ks4_year", "_nat", "ks4_level2", "ks4_raw"], ascending=[True, True, False, False, False],
                      na_position="last", kind="stable").drop_duplicates([PMR, "ks4_year"])
    d["ks4_z"] = _zscore(d["ks4_raw"], d["ks4_year"])
    d["ks4_pctile"] = _pctile(d["ks4_raw"], d["ks4_year"])
    d = d.drop_duplicates(PMR, keep="first")
    d["ks4_year"] = d["ks4_year"].astype("int64")
    if years is not None:
        want = sorted({int(y) for y in ([years] if np.isscalar(years) else years)})
        have = set(d["ks4_year"].unique().tolist())
        missing = [y for y in want if y not in have]
        if missing:
            raise DerivationError(f"ks4_attainment: KS4 year(s) {missing} not in the data given (KS4 years present: "
                                  f"{format_years(have) or 'none'}; years are the end year of the academic year, "
                                  "2016 = 2015/16)", table="KS4")
        d = d[d["ks4_year"].isin(want)]
    d["ks4_level2"] = d["ks4_level2"].astype("Int64")
    d["ks4_fsm6"] = d["ks4_fsm6"].astype("Int64")
    return d[[PMR, "ks4_year", "ks4_measure", "ks4_raw", "ks4_z", "ks4_pctile", "ks4_level2", "ks4_fsm6",
              *extra]].reset_index(drop=True)


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
    lev = (as_numeric(e["KS5_SUBLEVNO"], "KS5 exam table", "KS5_SUBLEVNO") == 111).to_numpy(dtype=bool)
    grade = e["KS5_GRADE"].astype("string").str.strip().str.upper()
    pts = grade.map({k: v for k, v in ALEVEL_TARIFF.items() if v > 0}).astype("float64")
    keep = lev & pts.notna().to_numpy(dtype=bool)
    subj = (e["KS5_MAPPING"].astype("string") if "KS5_MAPPING" in e.columns else pd.Series(pd.NA, index=e.index, dtype="string"))
    rowid = pd.Series(np.arange(len(e)), index=e.index).astype(str)
    subj = subj.fillna("_row" + rowid)
    year = (academic_year(e["KS5_ACADYR"], "KS5 exam table", "KS5_ACADYR").to_numpy(dtype="float64", na_value=np.nan)
            if "KS5_ACADYR" in e.columns else np.full(len(e), np.nan))
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


#: Academic years, relative to the KS4 year C, in which each source can record a qualification: used **only** to
#: decide whether the tables given cover a cohort's window (records outside these years still count). KS5 records
#: the end of 16-18 study (normally C + 2, some a year later); the ILR from the year after KS4; a HESA award needs
#: at least one year of study after the usual entry at 18, so the first normally falls in C + 3. INFERRED (kit
#: choice), documented in the codebook.
QUALIFICATION_SOURCE_SPANS = {"ks5": (2, 3), "ilr": (1, None), "hesa": (3, None)}

_HQ_DEFINITION = (
    "Highest level (0, 1, 2, 3, 4, 6) recorded in an academic year ending no later than KS4 year + {k} (age {a} at "
    "31 August), from released columns only: 6 = a classified first degree (HESA qualifier record: HE_XPQUAL01 = 1, "
    "HE_XQLEV601 = 'UG', HE_XCLASS01 01-04); 4 = a level-4/5 HE exit award (HESA qualifier record with "
    "HE_XQLEV601 = 'OUG', e.g. CertHE/DipHE); 3 = KS5_LEV3THRESH = 1 or an achieved ILR aim (outcome = 1) with "
    "NotionalNVQLev = 3; 2 = the KS4 level-2 measure including English and maths (KS4_LEVEL2_EM to 2013/14, "
    "KS4_L2BASICS_94 from 2014/15) or an achieved ILR level-2 aim; 1 = any KS4 points or an achieved ILR level-1 "
    "aim; 0 = none. ILR aims are dated by the academic year of end_date (start_date if missing); HESA awards by "
    "hesa_year. Entering HE without an award is not a qualification. Missing (censored) where the window reaches "
    "beyond the years covered by a source given (from its first year in the data passed to the end of the extract, "
    "or the coverage argument)."
)
_HQ_CAVEATS = (
    "Age is the cohort's age at 31 August of the academic year (KS4 year = age 16). KS4 level 1 is approximated by "
    "'any KS4 points'. ILR levels 4-5 count as 4 and level 6 as 6 (kit extension, INFERRED: the contract lists ILR "
    "levels 1-3 and the synthetic data have no higher ILR aims); ILR level 9 (mixed) and entry level are ignored. "
    "Qualifications outside NPD/ILR/HESA (abroad, private providers) are missing, so levels are lower bounds. "
    "Censoring: a source covers the academic years from its first year in the data given to the end of the extract "
    "(2020/21 for KS5 and the ILR, 2019/20 for HESA; pass coverage= for a partial extract); KS5 is needed "
    "for KS4 year + 2..3, the ILR from KS4 year + 1 and HESA from KS4 year + 3 (INFERRED spans). With HESA to 2019/20, "
    "'by age 21' is missing for KS4 2016."
)


@derived(
    name="highest_level_age18", label="Highest qualification level by age 18", theme="attainment",
    definition=_HQ_DEFINITION.format(k=2, a=18),
    sources=[("KS4Pupil_2002_to_2014", "KS4_LEVEL2_EM"), ("KS4Pupil_2015_to_2021", "KS4_L2BASICS_94"),
             ("KS4Pupil_2002_to_2014", "KS4_PTSCNEWE"), ("KS4Pupil_2015_to_2021", "KS4_ATT8"),
             ("KS5Student_2004_to_2021", "KS5_LEV3THRESH"), ("KS5Student_2004_to_2021", "KS5_ACADYR"),
             ("aims", "NotionalNVQLev"), ("aims", "outcome"), ("aims", "end_date"), ("aims", "start_date"),
             ("aims", "RECORDID"), ("education_records_lookup", "AE_ID"),
             ("learner_ae_id_to_pmr_lookup", "PUPILMATCHINGREFANONYMOUS"), ("hesa_2015", "HE_XPQUAL01"),
             ("hesa_2015", "HE_XQLEV601"), ("hesa_2015", "HE_XCLASS01")],
    unit="qualification level (RQF/NVQ; 4 = level 4 or 5)", valid_values="0, 1, 2, 3, 4, 6; missing if censored",
    caveats=_HQ_CAVEATS, level="person", status="kit", output_key=[PMR],
)
@derived(
    name="highest_level_age21", label="Highest qualification level by age 21", theme="attainment",
    definition=_HQ_DEFINITION.format(k=5, a=21),
    sources=[("aims", "NotionalNVQLev"), ("hesa_2015", "HE_XPQUAL01"), ("hesa_2015", "HE_XQLEV601"),
             ("KS5Student_2004_to_2021", "KS5_LEV3THRESH")],
    unit="qualification level (RQF/NVQ; 4 = level 4 or 5)", valid_values="0, 1, 2, 3, 4, 6; missing if censored",
    caveats=_HQ_CAVEATS, level="person", status="kit", output_key=[PMR],
)
@derived(
    name="highest_level_age25", label="Highest qualification level by age 25", theme="attainment",
    definition=_HQ_DEFINITION.format(k=9, a=25),
    sources=[("aims", "NotionalNVQLev"), ("hesa_2015", "HE_XPQUAL01"), ("hesa_2015", "HE_XQLEV601"),
             ("KS5Student_2004_to_2021", "KS5_LEV3THRESH")],
    unit="qualification level (RQF/NVQ; 4 = level 4 or 5)", valid_values="0, 1, 2, 3, 4, 6; missing if censored",
    caveats=_HQ_CAVEATS, level="person", status="kit", output_key=[PMR],
)
def highest_qualification_by_age(
    ks4: pd.DataFrame,
    *,
    ks5_student: pd.DataFrame | None = None,
    aims: pd.DataFrame | None = None,
    education_records_lookup: pd.DataFrame | None = None,
    pmr_lookup: pd.DataFrame | None = None,
    hesa: pd.DataFrame | None = None,
    ages=QUALIFICATION_AGES,
    coverage: dict | None = None,
    on_gap: str = "warn",
) -> pd.DataFrame:
    """Highest qualification level by age per pupil of the KS4 cohort (contract C5).

    ``ks4``: the cohort, one row per pupil - the output of :func:`ks4_attainment` (``ks4_level2``, ``ks4_raw``), or
    a de-duplicated KS4 frame from ``leokit.load.dedup_ks4`` (the raw KS4 columns; either pupil id name).
    ``ks5_student``: the KS5 student table. ``aims`` with ``education_records_lookup`` and ``pmr_lookup``
    (``learner_ae_id_to_pmr_lookup``): ILR achievements mapped RECORDID -> AE_ID -> PMR. ``hesa``: the stacked HESA
    tables (:func:`leokit.derive.stack_hesa` / ``leokit.load.stack_hesa``, with ``hesa_year``). Levels come only from
    the sources given: leave one out and its qualifications are not seen.

    Returns the cohort's pupil id, ``ks4_year`` and ``highest_level_age<a>`` (Int64) for each age.

    **Censoring.** A value is missing when the age window reaches beyond the coverage of a source given. The
    academic years a source covers start at its first year in the data passed (KS5: first ``KS5_ACADYR``; ILR:
    first academic year of any aim's ``start_date``/``end_date``; HESA: first ``hesa_year``) and end at the end of
    the extract: ``leokit.schema.LAST_ACADEMIC_YEAR`` (2020/21) for KS5 and the ILR and
    ``leokit.schema.LAST_HESA_YEAR`` (2019/20, the last ``hesa_YYYY`` table) for HESA. The tables span every year of
    the extract, so no record in a late year means no qualification, not missing data; if you pass only some
    years' tables (a partial extract), say so with ``coverage=``. Or the years are given explicitly as ``coverage={"ks5": (2005, 2021), "ilr": (2006, 2021), "hesa": (2005, 2020)}`` (academic
    years by their end year; use it when the tables are a sample that may not show the first or last year). The
    years in which a source must be covered are its span (:data:`QUALIFICATION_SOURCE_SPANS`) cut at the age:
    e.g. HESA from KS4 year + 3 to KS4 year + (age - 16). Censoring at the **end** of the data is expected (young
    cohorts); censoring because a source starts **after** a cohort needs it (tables that do not go back far
    enough) is also reported by the coverage policy (``on_gap``: ``"warn"``, ``"raise"``, ``"ignore"``).
    """
    pid, ks4y, base_level = _ks4_levels(ks4)
    recs = [pd.DataFrame({PMR: ks4[pid].to_numpy(), "year": ks4y.astype("float64"), "level": base_level})]
    cov: dict[str, tuple[int, int]] = {}
    if ks5_student is not None:
        require_columns(ks5_student, ["KS5_PupilMatchingRefAnonymous", "KS5_ACADYR", "KS5_LEV3THRESH"], "KS5 student table")
        y5 = academic_year(ks5_student["KS5_ACADYR"], "KS5 student table", "KS5_ACADYR")
        if y5.notna().any():
            cov["ks5"] = (int(y5.min()), LAST_ACADEMIC_YEAR)
        l3 = (as_numeric(ks5_student["KS5_LEV3THRESH"], "KS5 student table", "KS5_LEV3THRESH") == 1).to_numpy(dtype=bool)
        recs.append(pd.DataFrame({PMR: ks5_student["KS5_PupilMatchingRefAnonymous"].to_numpy()[l3],
                                  "year": y5.to_numpy(dtype="float64", na_value=np.nan)[l3], "level": 3}))
    if aims is not None:
        if education_records_lookup is None or pmr_lookup is None:
            raise DerivationError("highest_qualification_by_age: aims need education_records_lookup and pmr_lookup "
                                  "(RECORDID -> AE_ID -> PMR)")
        aims = check_input(aims, "aims", ["RECORDID", "outcome", "NotionalNVQLev", "end_date", "start_date"])
        education_records_lookup = check_input(education_records_lookup, "education_records_lookup", ["RECORDID", "AE_ID"],
                                               check_key=False)
        pmr_lookup = check_input(pmr_lookup, "learner_ae_id_to_pmr_lookup", ["AE_ID", "PUPILMATCHINGREFANONYMOUS"],
                                 check_key=False)
        start = as_dates(aims["start_date"], "aims", "start_date")
        end = as_dates(aims["end_date"], "aims", "end_date")
        ay_s = start.dt.year + (start.dt.month >= 9).astype("float64")
        ay_e = end.dt.year + (end.dt.month >= 9).astype("float64")
        if ay_s.notna().any() or ay_e.notna().any():
            cov["ilr"] = (int(np.nanmin([ay_s.min(), ay_e.min()])), LAST_ACADEMIC_YEAR)
        lev = as_numeric(aims["NotionalNVQLev"], "aims", "NotionalNVQLev").to_numpy()
        done = (as_numeric(aims["outcome"], "aims", "outcome") == 1).to_numpy(dtype=bool)
        ok = done & (lev >= 1) & (lev <= 6)
        level = np.select([lev <= 3, lev <= 5], [lev, 4.0], default=6.0)
        a = pd.DataFrame({"RECORDID": aims["RECORDID"].to_numpy()[ok],
                          "year": ay_e.fillna(ay_s).to_numpy(dtype="float64")[ok], "level": level[ok]})
        a = a.merge(education_records_lookup[["RECORDID", "AE_ID"]].drop_duplicates(), on="RECORDID")
        a = a.merge(pmr_lookup[["AE_ID", "PUPILMATCHINGREFANONYMOUS"]].drop_duplicates(), on="AE_ID")
        recs.append(pd.DataFrame({PMR: a["PUPILMATCHINGREFANONYMOUS"].to_numpy(), "year": a["year"].to_numpy(),
                                  "level": a["level"].to_numpy()}))
    if hesa is not None:
        require_columns(hesa, ["HE_PUPILMATCHINGREFANONYMOUS", "hesa_year", "HE_XPQUAL01", "HE_XQLEV601", "HE_XCLASS01"],
                        "hesa (stacked with stack_hesa)")
        hy = as_numeric(hesa["hesa_year"], "hesa", "hesa_year")
        if hy.notna().any():
            cov["hesa"] = (int(hy.min()), LAST_HESA_YEAR)
        q = (as_numeric(hesa["HE_XPQUAL01"], "hesa", "HE_XPQUAL01") == 1).to_numpy(dtype=bool)
        qlev = hesa["HE_XQLEV601"].astype("string").str.strip().str.upper()
        cls = hesa["HE_XCLASS01"].astype("string").str.strip().str.zfill(2)
        deg = q & qlev.eq("UG").fillna(False).to_numpy(dtype=bool) & cls.isin(["01", "02", "03", "04"]).fillna(
            False).to_numpy(dtype=bool)
        exit4 = q & qlev.eq("OUG").fillna(False).to_numpy(dtype=bool)
        keep = deg | exit4
        recs.append(pd.DataFrame({PMR: hesa["HE_PUPILMATCHINGREFANONYMOUS"].to_numpy()[keep],
                                  "year": hy.to_numpy()[keep], "level": np.where(deg, 6, 4)[keep]}))
    if coverage is not None:
        unknown = sorted(set(coverage) - set(QUALIFICATION_SOURCE_SPANS))
        if unknown:
            raise DerivationError(f"highest_qualification_by_age: coverage keys {unknown} unknown; use "
                                  f"{list(QUALIFICATION_SOURCE_SPANS)}", table="coverage")
        for k, (lo, hi) in coverage.items():
            cov[k] = (int(lo), int(hi))
    r = pd.concat(recs, ignore_index=True)
    r = r[pd.notna(r["year"]).to_numpy(dtype=bool)]
    cohort = pd.DataFrame({pid: ks4[pid].to_numpy(), "ks4_year": ks4y})
    pos = pd.Index(cohort[pid]).get_indexer(r[PMR])
    r = r[pos >= 0].assign(_c=ks4y[pos[pos >= 0]])
    out = cohort.copy()
    rel = r["year"].to_numpy() - r["_c"].to_numpy()  # academic years after KS4
    rpos = pos[pos >= 0]
    start_gaps: list[str] = []
    for age in ages:
        k = int(age) - 16
        hit = rel <= k
        best = np.zeros(len(out))
        np.maximum.at(best, rpos[hit], r["level"].to_numpy(dtype="float64")[hit])
        censored = np.zeros(len(out), dtype=bool)
        for src, (lo, hi) in cov.items():
            o1, o2 = QUALIFICATION_SOURCE_SPANS[src]
            first = ks4y + o1
            last = ks4y + (k if o2 is None else min(k, o2))
            needed = first <= last
            late = needed & (last > hi)
            early = needed & (first < lo)
            censored |= late | early
            if early.any():
                cs = np.unique(ks4y[early])
                start_gaps.append(f"by age {age}: {src} starts in {lo} but KS4 cohort(s) {format_years(cs)} need it "
                                  f"from {int(cs.min()) + o1} ({int(early.sum()):,} pupils)")
        out[f"highest_level_age{age}"] = pd.arrays.IntegerArray(best.astype("int64"), censored)
    if start_gaps:
        report_gap("highest_qualification_by_age: some sources given do not go back far enough, so these values are "
                   "censored (missing): " + "; ".join(start_gaps) + ". Pass tables covering those years, or "
                   "coverage={...} if the tables are complete", on_gap)
    return out.reset_index(drop=True)


def _ks4_levels(ks4: pd.DataFrame) -> tuple[str, np.ndarray, np.ndarray]:
    """Pupil id column, KS4 year (int64) and KS4 level (2 / 1 / 0) of each cohort row."""
    pid = pick_column(ks4, PUPIL_ID_NAMES, "ks4 (output of ks4_attainment)")
    require_columns(ks4, [pid, "ks4_year"], "ks4 (output of ks4_attainment)")
    require_rows(ks4, "ks4", "did you select a KS4 year that is not in the data? (ks4_attainment(..., years=[...]) "
                             "says which years there are)")
    dup = ks4[pid].duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        raise DerivationError(f"ks4: {int(dup.sum()):,} rows share a pupil id with another row (e.g. "
                              f"{list(pd.unique(ks4[pid][dup]))[:3]}); pass one row per pupil (ks4_attainment, or "
                              "leokit.load.dedup_ks4)", table="ks4")
    y = as_numeric(ks4["ks4_year"], "ks4", "ks4_year")
    if y.isna().any():
        raise DerivationError(f"ks4: {int(y.isna().sum()):,} rows have no ks4_year", table="ks4")
    year = y.to_numpy(dtype="int64")
    if "ks4_level2" in ks4.columns and "ks4_raw" in ks4.columns:
        l2 = as_numeric(ks4["ks4_level2"], "ks4", "ks4_level2").to_numpy()
        raw = as_numeric(ks4["ks4_raw"], "ks4", "ks4_raw").to_numpy()
    else:  # raw KS4 columns (leokit.load.stack_ks4 / dedup_ks4): the measure of the row's regime
        post = (ks4["ks4_regime"].astype(object).to_numpy() == "post2015") if "ks4_regime" in ks4.columns \
            else year >= 2015
        need = (["KS4_LEVEL2_EM", "KS4_PTSCNEWE"] if (~post).any() else []) + (
            ["KS4_L2BASICS_94", "KS4_ATT8"] if post.any() else [])
        require_columns(ks4, need, "ks4 (raw KS4 columns; or pass the output of ks4_attainment)")

        def col(c):
            return as_numeric(ks4[c], "ks4", c).to_numpy() if c in ks4.columns else np.full(len(ks4), np.nan)

        l2 = np.where(post, col("KS4_L2BASICS_94"), col("KS4_LEVEL2_EM"))
        raw = np.where(post, col("KS4_ATT8"), col("KS4_PTSCNEWE"))
    level = np.where(l2 == 1, 2, np.where(np.nan_to_num(raw) > 0, 1, 0)).astype("float64")
    return pid, year, level
