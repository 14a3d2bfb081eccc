"""Every generated table validates against leokit.schema (columns exact, kinds, values, ranges, keys)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from leokit import schema as S
from leokit.load import list_tables, load_table
from leokit.synth.generate import PEOPLE_COLUMNS


def test_every_table_validates(small_data):
    out, res = small_data
    names = list_tables(out)
    assert len(names) == len(res["tables"])
    for name in names:
        load_table(name, out)  # raises SchemaError listing every problem (truth_* validated if declared)


def test_expected_tables_present(small_data):
    out, res = small_data
    t = set(res["tables"])
    for name in ("plasc_2002", "plasc_2005", "spring_census_2006", "KS2Pupil_1996_to_2019_and_2022",
                 "KS4Pupil_2002_to_2014", "KS5Student_2004_to_2021", "KS5Exam_2004_to_2021", "ucas_applicants",
                 "ucas_applications", "ucas_qualifications", "learners", "aims", "education_records_lookup",
                 "learner_ae_id_to_pmr_lookup", "learner_ae_id_to_edukey_lookup", "imd2019_lsoa11", "polar4_lsoa11",
                 "tundra_lsoa11", "ruc11_lsoa11", "lsoa01_lsoa11_lookup", "syn_he_provider", "leo_earnings",
                 "leo_employment", "truth_person", "truth_contextual"):
        assert name in t, name
    # files sit in a folder named after the SRS database
    for name, rel in res["files"].items():
        db = rel.split("/")[0]
        if name.startswith("truth_"):
            assert db == "truth"
        else:
            assert db == S.get_schema(name).database, name


def test_arrow_types_follow_schema(small_data):
    out, res = small_data
    sch = pq.read_schema(out / res["files"]["spring_census_2006"])
    assert str(sch.field("CensusDate_spr06").type) == "date32[day]"
    assert str(sch.field("PupilMatchingRefAnonymous_spr06").type) == "string"
    assert sch.metadata is None or b"pandas" not in sch.metadata


def test_truth_person_has_people_interface(small_data):
    out, _ = small_data
    tp = pq.read_table(out / "truth" / "truth_person.parquet").to_pandas()
    for c in PEOPLE_COLUMNS:
        assert c in tp.columns, c
    assert (tp["person_id"].to_numpy() == range(len(tp))).all()
    assert tp["ae_id"].is_unique and tp["edukey"].is_unique
    assert set(tp["sex"]) <= {"F", "M"}
    assert set(tp["region"]) <= set(S.GOR_CODES)
    assert tp["edukey"].str.len().eq(14).all()
    by_cohort = tp.groupby("cohort")
    # school-year birth window: Sep(cohort-17) .. Aug(cohort-16)
    ok = ((tp["birth_year"] == tp["cohort"] - 17) & (tp["birth_month"] >= 9)) | (
        (tp["birth_year"] == tp["cohort"] - 16) & (tp["birth_month"] <= 8))
    assert ok.all()
    assert len(by_cohort) == 3
    assert set(tp["highest_level"]) <= {0, 1, 2, 3, 4, 6}  # contract C5 levels (no 5)
    assert ((tp["degree"] == 1) <= (tp["he_entry"] == 1)).all()
    assert tp.loc[tp["degree"] == 1, "degree_class"].isin(["01", "02", "03", "04"]).all()


def test_name_drift_in_census(small_data):
    out, res = small_data
    cols05 = pq.read_schema(out / res["files"]["plasc_2005"]).names
    assert "LLSOA_05" in cols05 and "IDACIScore_05" in cols05
    # KS4 2007 cohort reaches Year 13 in 2009: spring census 2009 uses LLSOA, no LSOA11 yet
    assert "LLSOA_spr09" in pq.read_schema(out / res["files"]["spring_census_2009"]).names


def test_truth_json(small_data):
    out, res = small_data
    doc = json.loads((out / "truth.json").read_text())
    assert doc["_meta"]["seed"] == 7 and doc["_meta"]["scale"] == 600 and doc["_meta"]["cohorts"] == 3
    assert "generator_version" in doc["_meta"]
    from leokit.synth.truth import default_truth
    assert doc["school_peer_effect"]["value"] == default_truth()["school_peer_effect"]
    r = doc["_realised"]
    from leokit.synth.truth import REALISED_KEYS
    for k in REALISED_KEYS:
        assert k in r, k
    assert r["messiness_education"]["census_duplicate_rows"] > 0


def test_late_census_years_and_ks4_2015_validate():
    """Years the small fixture does not reach: IDACIScore_10 (2016), IDACIScore_15 and LSOA11 (2017 on), KS4 2015+."""
    import numpy as np

    from leokit.load import arrow_to_pandas, validate
    from leokit.synth.generate import education_side
    from leokit.synth.tables import build_census, build_ks4
    from leokit.synth.truth import merge_truth
    from leokit.synth.writer import to_arrow

    rng = np.random.default_rng(1)
    P, fsm, geo, edu, uc = education_side(rng, 150, 12, merge_truth(None))
    for year, idaci in ((2013, "IDACIScore_spr13"), (2016, "IDACIScore_10_spr16"), (2017, "IDACIScore_15_spr17")):
        cols = build_census(rng, P, fsm, geo, year)
        assert idaci in cols and ("LSOA11_spr%02d" % (year % 100)) in cols
        name = S.census_table_name(year)
        validate(arrow_to_pandas(to_arrow(S.get_schema(name), cols)), name)
    ks4 = build_ks4(rng, P, geo)
    assert set(ks4) == {"KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021"}
    for name, cols in ks4.items():
        validate(arrow_to_pandas(to_arrow(S.get_schema(name), cols)), name)
