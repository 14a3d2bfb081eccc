"""Fuzzing the pandas route with in-memory frames: every corruption is loud, none is silent.

Each case corrupts one committed synthetic table (``tests/fuzz/_corrupt.py``) and passes it, as a frame, to a
public load / link / context / derive function. The case passes only if the function either raises an error
whose message names the table and the column, or returns its result with a warning or report that names them
(and, for a normalisation, gives the same answer as the clean input).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import leokit
import leokit.derive as d
from leokit.errors import InputChangedWarning, RowsDroppedWarning, SchemaError
from leokit.linkage import add_ae_id, outcomes_by_person, person_lookup

from _corrupt import (Corruption, as_number, as_text, assert_loud, drop_rows, duplicate_rows, empty, future_date,
                      lower, negate, outcome, pad, set_missing, swap_dates)

EK = "learner_ae_id_to_edukey_lookup"
PM = "learner_ae_id_to_pmr_lookup"


# ----------------------------------------------------------------------------------------------
# Clean inputs: small, consistent slices of the committed synthetic data
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean():
    ek = leokit.load_table(EK)
    pm = leokit.load_table(PM)
    people = pm["AE_ID"].drop_duplicates().sort_values().iloc[:400]
    ek = ek[ek["AE_ID"].isin(people)].reset_index(drop=True)
    pm = pm[pm["AE_ID"].isin(people)].reset_index(drop=True)
    keys = set(ek["EDUKEY"])
    earn = leokit.load_table("leo_earnings")
    earn = earn[earn["Edukey"].isin(keys)].reset_index(drop=True)
    emp = leokit.load_table("leo_employment")
    emp = emp[emp["EduKey"].isin(keys)].reset_index(drop=True)
    ben = leokit.load_table("leo_benefit")
    ben = ben[ben["EduKey"].isin(keys)].reset_index(drop=True)
    sa = leokit.load_table("leo_self_assessment")
    sa = sa[sa["Edukey"].isin(keys)].reset_index(drop=True)
    census = leokit.load_table("spring_census_2016").iloc[:600].reset_index(drop=True)
    hesa = leokit.load_table("hesa_2015").iloc[:400].reset_index(drop=True)
    ks4 = leokit.load_table("KS4Pupil_2015_to_2021").iloc[:500].reset_index(drop=True)
    imd = leokit.load_table("imd2019_lsoa11")
    apps = leokit.load_table("ucas_applicants").iloc[:500].reset_index(drop=True)
    quals = leokit.load_table("ucas_qualifications").iloc[:500].reset_index(drop=True)
    assert min(map(len, (ek, pm, earn, emp, ben, sa))) > 20
    return {EK: ek, PM: pm, "leo_earnings": earn, "leo_employment": emp, "leo_benefit": ben,
            "leo_self_assessment": sa, "spring_census_2016": census, "hesa_2015": hesa,
            "KS4Pupil_2015_to_2021": ks4, "imd2019_lsoa11": imd, "ucas_applicants": apps,
            "ucas_qualifications": quals}


def _numeric_keys(t: dict) -> dict:
    """The same tables with EDUKEYs made of digits ('100001'...), so that a corruption can store them as numbers."""
    codes = {k: str(100000 + i) for i, k in enumerate(sorted(set(t[EK]["EDUKEY"])))}
    out = dict(t)
    out[EK] = t[EK].assign(EDUKEY=t[EK]["EDUKEY"].map(codes))
    out["leo_earnings"] = t["leo_earnings"].assign(Edukey=t["leo_earnings"]["Edukey"].map(codes))
    return out


# ----------------------------------------------------------------------------------------------
# The calls: each takes the dict of tables and runs one public function on them
# ----------------------------------------------------------------------------------------------
def paye(t):
    return d.annual_paye_earnings(t["leo_earnings"], t[EK])


def sa(t):
    return d.sa_earnings(t["leo_self_assessment"], t[EK])


def days(t):
    return d.days_employed(t["leo_employment"], t[EK])


def sustained(t):
    return d.sustained_employment(t["leo_employment"], t[EK])


def benefit(t):
    return d.out_of_work_benefit_days(t["leo_benefit"], t[EK])


def employer(t):
    return d.main_employer(t["leo_earnings"], None, t[EK])


def lookup(t):
    return person_lookup(lookups={PM: t[PM], EK: t[EK]}, report=True)


def by_person(t):
    return outcomes_by_person(t["leo_earnings"], "Earnings", lookups={EK: t[EK]}, table="leo_earnings", report=True)


def stack_census(t):
    return leokit.stack_census({2016: t["spring_census_2016"]}, report=True)


def derive_stack_census(t):
    return d.stack_census({2016: t["spring_census_2016"]})


def stack_hesa(t):
    return leokit.stack_hesa({2015: t["hesa_2015"]}, report=True)


def he_entry(t):
    return d.he_entry(d.stack_hesa({2015: t["hesa_2015"]}), on_gap="ignore")


def ks4(t):
    return d.ks4_attainment(ks4_post=t["KS4Pupil_2015_to_2021"])


def stack_ks4(t):
    return leokit.stack_ks4(tables={"post2015": t["KS4Pupil_2015_to_2021"]}, report=True)


def area(t):
    homes = t["spring_census_2016"][["LSOA11_spr16"]].rename(columns={"LSOA11_spr16": "lsoa11cd"})
    return leokit.add_area(homes, measures=("imd",), tables={"imd2019_lsoa11": t["imd2019_lsoa11"]}, report=True)


def offers(t):
    return d.ucas_offers_and_placement(t["ucas_applicants"], leokit.load_table("ucas_applications"))


def qual_points(t):
    return d.ucas_alevel_points(t["ucas_qualifications"])


# (corruption, call, must it be an error?, the column the message must name [default: the corruption's])
CASES = [
    # --- keys padded as SQL Server CHAR(n) returns them: normalised, said so, same answer --------------
    (Corruption("lookup EDUKEY padded", EK, pad("EDUKEY")), paye, False),
    (Corruption("earnings Edukey padded", "leo_earnings", pad("Edukey")), paye, False),
    (Corruption("SA Edukey padded", "leo_self_assessment", pad("Edukey")), sa, False),
    (Corruption("employment EduKey padded", "leo_employment", pad("EduKey")), days, False),
    (Corruption("benefit EduKey padded", "leo_benefit", pad("EduKey")), benefit, False),
    (Corruption("PMR lookup PMR padded", PM, pad("PUPILMATCHINGREFANONYMOUS")), lookup, False),
    (Corruption("EDUKEY lookup padded (person_lookup)", EK, pad("EDUKEY")), lookup, False),
    (Corruption("earnings Edukey padded (outcomes_by_person)", "leo_earnings", pad("Edukey")), by_person, False),
    (Corruption("census PMR padded", "spring_census_2016", pad("PupilMatchingRefAnonymous_spr16")), stack_census,
     False),
    (Corruption("HESA PMR padded", "hesa_2015", pad("HE_PUPILMATCHINGREFANONYMOUS")), stack_hesa, False),
    (Corruption("KS4 PMR padded", "KS4Pupil_2015_to_2021", pad("KS4_PupilMatchingRefAnonymous")), stack_ks4, False),
    # --- codes in lower case: upper-cased, said so ------------------------------------------------------
    (Corruption("IMD lookup LSOA lower case", "imd2019_lsoa11", lower("lsoa11cd")), area, False),
    (Corruption("census LSOA lower case", "spring_census_2016", lower("LSOA11_spr16")), stack_census, False),
    (Corruption("census Gender lower case", "spring_census_2016", lower("Gender_spr16")), stack_census, False),
    (Corruption("UCAS grade lower case", "ucas_qualifications", lower("grade")), qual_points, False),
    # --- key type mismatches: cast to the declared kind, said so -----------------------------------------
    (Corruption("lookup AE_ID as text", EK, as_text("AE_ID")), paye, False),
    (Corruption("PMR lookup AE_ID as text", PM, as_text("AE_ID")), lookup, False),
    (Corruption("census RecordStatus as text", "spring_census_2016", as_text("RecordStatus_spr16")), stack_census,
     False),
    (Corruption("census RecordStatus as text (derive)", "spring_census_2016", as_text("RecordStatus_spr16")),
     derive_stack_census, False),
    (Corruption("earnings TaxYear as text", "leo_earnings", as_text("TaxYear")), paye, False),
    (Corruption("employment StartDate as text", "leo_employment", as_text("StartDate")), days, False),
    (Corruption("KS4 FSM6 as text", "KS4Pupil_2015_to_2021", as_text("KS4_FSM6")), stack_ks4, False),
    # --- duplicated records (would be summed): refused ------------------------------------------------
    (Corruption("earnings rows duplicated", "leo_earnings", duplicate_rows()), paye, True, "Edukey, TaxYear"),
    (Corruption("SA rows duplicated", "leo_self_assessment", duplicate_rows()), sa, True, "Edukey, TaxYear"),
    (Corruption("earnings rows duplicated (main_employer)", "leo_earnings", duplicate_rows()), employer, True,
     "Edukey, TaxYear"),
    (Corruption("IMD lookup rows duplicated", "imd2019_lsoa11", duplicate_rows()), area, True, "lsoa11cd"),
    (Corruption("UCAS applicants duplicated", "ucas_applicants", duplicate_rows()), offers, True, "unique_id_cycle"),
    # --- rows that cannot be linked: dropped, and counted ----------------------------------------------
    (Corruption("EDUKEYs absent from the lookup", EK, drop_rows(10)), paye, False, "Edukey"),
    (Corruption("EDUKEYs absent from the lookup (spells)", EK, drop_rows(10)), days, False, "EduKey"),
    (Corruption("EDUKEYs absent from the lookup (SA)", EK, drop_rows(10)), sa, False, "Edukey"),
    # --- dates and years after the extract: refused ----------------------------------------------------
    (Corruption("employment StartDate in 2090", "leo_employment", future_date("StartDate")), days, True),
    (Corruption("employment EndDate in 2090", "leo_employment", future_date("EndDate")), sustained, True),
    (Corruption("benefit EndDate in 2090", "leo_benefit", future_date("EndDate")), benefit, True),
    (Corruption("earnings TaxYear 2090/91", "leo_earnings", future_date("TaxYear")), paye, True),
    (Corruption("HESA start date in 2090", "hesa_2015", future_date("HE_COMDATE")), stack_hesa, True),
    (Corruption("HESA start date in 2090 (derive)", "hesa_2015", future_date("HE_COMDATE")), he_entry, True),
    (Corruption("HESA end date in 2090", "hesa_2015", future_date("HE_ENDDATE")), stack_hesa, True),
    (Corruption("census date in 2090", "spring_census_2016", future_date("CensusDate_spr16")), stack_census, True),
    # --- spells that end before they start: refused ---------------------------------------------------
    (Corruption("employment spell ends before it starts", "leo_employment", swap_dates("StartDate", "EndDate")),
     days, True, "EndDate"),
    (Corruption("benefit spell ends before it starts", "leo_benefit", swap_dates("StartDate", "EndDate")),
     benefit, True, "EndDate"),
    (Corruption("HESA instance ends before it starts", "hesa_2015", swap_dates("HE_COMDATE", "HE_ENDDATE")),
     stack_hesa, True, "HE_ENDDATE"),
    # --- missing values in required columns: refused (never silently dropped) -------------------------
    (Corruption("KS4_ACADYR missing", "KS4Pupil_2015_to_2021", set_missing("KS4_ACADYR")), ks4, True),
    (Corruption("KS4_ACADYR missing (stack_ks4)", "KS4Pupil_2015_to_2021", set_missing("KS4_ACADYR")), stack_ks4,
     True),
    (Corruption("earnings Edukey missing", "leo_earnings", set_missing("Edukey")), paye, True),
    (Corruption("lookup EDUKEY missing", EK, set_missing("EDUKEY")), paye, True),
    (Corruption("employment StartDate missing", "leo_employment", set_missing("StartDate")), days, False),
    # --- values out of range ---------------------------------------------------------------------------
    (Corruption("negative earnings (floored at 0, as HMRC does)", "leo_earnings", negate("Earnings")), paye, False),
    # --- empty tables: refused ------------------------------------------------------------------------
    (Corruption("empty earnings", "leo_earnings", empty()), paye, True, None),
    (Corruption("empty lookup", EK, empty()), paye, True, None),
    (Corruption("empty PMR lookup", PM, empty()), lookup, True, None),
    (Corruption("empty employment", "leo_employment", empty()), days, True, None),
    (Corruption("empty census", "spring_census_2016", empty()), stack_census, True, None),
    (Corruption("empty HESA", "hesa_2015", empty()), stack_hesa, True, None),
    (Corruption("empty IMD lookup", "imd2019_lsoa11", empty()), area, True, None),
]


def _id(case):
    return case[0].name.replace(" ", "-")


def _column(case) -> str | None:
    if len(case) > 3:
        return case[3]
    c = case[0].corrupt
    for cell in (c.__closure__ or ()):
        v = cell.cell_contents
        if isinstance(v, str):
            return v
    return None


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_no_corruption_is_silent(clean, case):
    corruption, call, must_fail = case[:3]
    tables = dict(clean)
    tables[corruption.table] = corruption(clean[corruption.table])
    out = outcome(lambda: call(tables))
    col = _column(case)
    if col is None:
        assert out.error is not None and "0 rows" in str(out.error), out.text
    assert_loud(out, corruption.table, col, error=must_fail)
    if not must_fail and "absent" not in corruption.name and "missing" not in corruption.name:
        # a normalisation: the same answer as on the clean tables
        base = outcome(lambda: call(clean))
        assert base.error is None, base.error
        got, want = out.value, base.value
        got = got[0] if isinstance(got, tuple) else got
        want = want[0] if isinstance(want, tuple) else want
        assert len(got) == len(want), (corruption.name, len(got), len(want))


def test_at_least_45_cases_of_each_kind():
    assert len(CASES) >= 45
    assert sum(1 for c in CASES if c[2]) >= 15 and sum(1 for c in CASES if not c[2]) >= 15


# ----------------------------------------------------------------------------------------------
# Key type mismatches between two frames joined (the EDUKEY text vs int, AE_ID text vs int)
# ----------------------------------------------------------------------------------------------
def test_edukey_text_vs_int_is_cast_not_lost(clean):
    t = _numeric_keys(clean)
    want = paye(t)
    bad = dict(t)
    bad[EK] = as_number("EDUKEY")(t[EK].copy())
    with pytest.warns(InputChangedWarning, match="EDUKEY"):
        got = paye(bad)
    assert len(got) == len(want) > 0
    assert got["paye_earnings"].sum() == pytest.approx(want["paye_earnings"].sum())
    bad2 = dict(t)
    bad2["leo_earnings"] = as_number("Edukey")(t["leo_earnings"].copy())
    with pytest.warns(InputChangedWarning, match="Edukey"):
        assert len(paye(bad2)) == len(want)
    got3, rep = by_person(bad)
    assert len(got3) == len(by_person(t)[0]) and any("EDUKEY" in n for n in rep.steps[0].notes)


def test_ae_id_text_in_one_lookup_int_in_the_other_keeps_people_linkable(clean):
    cohort = clean[PM].rename(columns={"PUPILMATCHINGREFANONYMOUS": "PupilMatchingRefAnonymous"}).drop_duplicates(
        "AE_ID").assign(ks4_year=2012)
    pay = paye(clean)
    want = d.outcomes_at_age(cohort, pay, edukey_map=clean[EK], ages=[25])
    text_map = as_text("AE_ID")(clean[EK].copy())
    with pytest.warns(InputChangedWarning, match="AE_ID"):
        got = d.outcomes_at_age(cohort, pay, edukey_map=text_map, ages=[25])
    assert (got["linked"] == 1).sum() == (want["linked"] == 1).sum() > 0
    text_cohort = as_text("AE_ID")(cohort.copy())
    with pytest.warns(InputChangedWarning, match="AE_ID"):
        got2 = d.outcomes_at_age(text_cohort, pay, edukey_map=clean[EK], ages=[25])
    assert (got2["linked"] == 1).sum() == (want["linked"] == 1).sum()


def test_key_kinds_that_cannot_be_reconciled_are_refused(clean):
    frame = pd.DataFrame({"EDUKEY": [1.5, 2.5]})
    with pytest.raises(SchemaError, match="learner_ae_id_to_edukey_lookup"):
        from leokit.validation import check_join_keys
        check_join_keys(frame, "EDUKEY", "frame", clean[EK], "EDUKEY", EK, kind="str")


# ----------------------------------------------------------------------------------------------
# Same name, same behaviour; one default; missing is not zero
# ----------------------------------------------------------------------------------------------
def test_stack_census_with_a_mapping_stacks_the_mapping(clean):
    small = clean["spring_census_2016"].iloc[:3]
    assert len(leokit.stack_census({2016: small})) == 3
    assert len(d.stack_census({2016: small})) == 3
    assert len(leokit.stack_hesa({2015: clean["hesa_2015"].iloc[:3]})) == 3
    with pytest.raises(TypeError, match="once"):
        leokit.stack_census({2016: small}, tables={2016: small})


def test_pmr_to_person_keeps_unmatched_like_add_ae_id(clean):
    cohort = pd.DataFrame({"PupilMatchingRefAnonymous": list(clean[PM]["PUPILMATCHINGREFANONYMOUS"].iloc[:5])
                           + ["not-a-pupil"]})
    out = d.pmr_to_person(cohort, clean[PM])
    assert len(out) == 6 and out["AE_ID"].isna().sum() == 1
    got, rep = add_ae_id(cohort, lookups={PM: clean[PM], EK: clean[EK]}, report=True)
    assert len(got) == 6 and rep.kept_unmatched_left == 1
    with pytest.warns(RowsDroppedWarning, match="1 of 6 rows dropped"):
        assert len(d.pmr_to_person(cohort, clean[PM], how="inner")) == 5


def test_add_ae_id_padded_pmr_is_normalised_and_reported(clean):
    pmrs = clean[PM]["PUPILMATCHINGREFANONYMOUS"].iloc[:30]
    cohort = pd.DataFrame({"KS4_PupilMatchingRefAnonymous": pmrs.to_numpy()})
    _, want = add_ae_id(cohort, lookups={PM: clean[PM], EK: clean[EK]}, report=True)
    padded = pad("KS4_PupilMatchingRefAnonymous", every=2)(cohort.copy())
    _, rep = add_ae_id(padded, lookups={PM: clean[PM], EK: clean[EK]}, report=True)
    assert rep.matched_left == want.matched_left == 30
    assert any("trailing blanks" in n and "KS4_PupilMatchingRefAnonymous" in n for n in rep.notes)


def test_sustained_employment_is_zero_for_linked_people_with_no_spell(clean):
    cohort = clean[PM].drop_duplicates("AE_ID").assign(ks4_year=2012)[["AE_ID", "ks4_year"]]
    cohort = pd.concat([cohort, pd.DataFrame({"AE_ID": [-1], "ks4_year": [2012]})], ignore_index=True)
    se = sustained(clean)
    out = d.outcomes_at_age(cohort, se, edukey_map=clean[EK], ages=[25])
    linked_no = out[(out["linked"] == 1) & (out["has_record"] == 0) & (out["observed"] == 1)]
    assert len(linked_no) > 0
    assert (linked_no["sustained_employment"] == 0).all() and (linked_no["days_employed"].isna().all()
                                                                 if "days_employed" in out else True)
    unlinkable = out[out["linked"] == 0]
    assert len(unlinkable) >= 1 and unlinkable["sustained_employment"].isna().all()
    with_rec = out[out["has_record"] == 1]
    assert with_rec["sustained_employment"].notna().all()


def test_hesa_2021_has_no_schema():
    from leokit import schema
    with pytest.raises(KeyError):
        schema.get_schema("hesa_2021")
    assert schema.get_schema(f"hesa_{schema.LAST_HESA_YEAR}").name == "hesa_2020"


def test_clean_tables_are_quiet(clean):
    """The control: the clean slices give no normalisation note and no error (the cases above are not noise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputChangedWarning)
        for call in (paye, sa, days, benefit, stack_census, stack_hesa, stack_ks4, area, qual_points):
            call(clean)
    _, rep = stack_census(clean)
    assert not any("normalised" in n or "stripped" in n or "cast" in n for n in rep.notes)
    assert np.isfinite(paye(clean)["paye_earnings"]).any()


def test_add_area_lower_case_and_padded_codes_in_the_frame_keep_their_matches(clean):
    homes = clean["spring_census_2016"][["LSOA11_spr16"]].rename(columns={"LSOA11_spr16": "lsoa11cd"})
    _, want = leokit.add_area(homes, measures=("imd",), tables={"imd2019_lsoa11": clean["imd2019_lsoa11"]},
                              report=True)
    bad = pad("lsoa11cd", every=3)(lower("lsoa11cd", every=2)(homes.copy()))
    _, rep = leokit.add_area(bad, measures=("imd",), tables={"imd2019_lsoa11": clean["imd2019_lsoa11"]}, report=True)
    assert rep.steps[0].matched_left == want.steps[0].matched_left > 0
    assert any("lsoa11cd" in n and "upper-cased" in n for n in rep.notes)


def test_dedup_census_reads_a_text_record_status_as_numbers(clean):
    long = leokit.stack_census({2016: clean["spring_census_2016"]})
    want = leokit.dedup_census(long)
    got, rep = leokit.dedup_census(as_text("RecordStatus")(long.copy()), report=True)
    assert len(got) == len(want) > 0
    rep.check()


def test_link_strips_padded_text_keys_and_says_so(clean):
    left = clean[PM][["PUPILMATCHINGREFANONYMOUS", "AE_ID"]].iloc[:60].reset_index(drop=True)
    right = left.rename(columns={"AE_ID": "other"})
    _, want = leokit.link(left, right, on="PUPILMATCHINGREFANONYMOUS", expect="1:1", report=True)
    padded = pad("PUPILMATCHINGREFANONYMOUS", every=3)(left.copy())
    out = outcome(lambda: leokit.link(padded, right, on="PUPILMATCHINGREFANONYMOUS", expect="1:1", report=True))
    assert_loud(out, "left frame", "PUPILMATCHINGREFANONYMOUS", error=False)
    assert out.value[1].matched_left == want.matched_left == 60
