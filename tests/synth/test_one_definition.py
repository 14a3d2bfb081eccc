"""One definition each (issue 7): the generator's planted outcome points and the calibration use the same
conventions as ``leokit.derive``, checked on the committed data end to end (released tables -> derive)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

import leokit
import leokit.derive as d
from leokit.paths import default_data_dir

DATA = default_data_dir()
PMR = "PupilMatchingRefAnonymous"


@pytest.fixture(scope="module")
def persons():
    """KS4 cohort from the released tables, mapped to AE_ID as a researcher would."""
    ks4 = d.ks4_attainment(leokit.stack_ks4())
    return d.pmr_to_person(ks4[[PMR, "ks4_year"]], leokit.load_table("learner_ae_id_to_pmr_lookup"))


def test_age_29_is_the_same_tax_year_in_derive_and_in_the_generator(persons):
    """derive.outcomes_at_age places 'age 29' in the generator's planted outcome year for every person."""
    at29 = d.outcomes_at_age(persons.drop_duplicates("AE_ID"), edukey_map=leokit.load_table(
        "learner_ae_id_to_edukey_lookup"), ages=(29,))
    tp = pq.read_table(DATA / "truth" / "truth_person.parquet", columns=["ae_id", "tax_year_age29"]).to_pandas()
    m = at29[["AE_ID", "TaxYear"]].merge(tp, left_on="AE_ID", right_on="ae_id", how="inner")
    assert len(m) > 0.95 * len(at29)
    assert (m["TaxYear"] == m["tax_year_age29"]).all(), m[m["TaxYear"] != m["tax_year_age29"]].head()


def test_calibration_counts_sustained_employment_with_derive(persons):
    """The calibration's 5-YAG population is derive's sustained employment (PAYE 5 of 6 months October-March,
    or SA earnings), not a private rule: recount it here with leokit.derive and compare with the README row."""
    emap = leokit.load_table("learner_ae_id_to_edukey_lookup")
    sa = d.sa_earnings(leokit.load_table("leo_self_assessment"), emap)
    sus = d.sustained_employment(leokit.load_table("leo_employment"), emap, sa=sa)
    grads = d.pmr_to_person(d.graduation(leokit.stack_hesa()), leokit.load_table("learner_ae_id_to_pmr_lookup"))
    g = grads.loc[grads["graduation_year"] == 2010, ["AE_ID"]].drop_duplicates()
    linked = g[g["AE_ID"].isin(d.linked_persons(emap))]
    s = sus[(sus["TaxYear"] == 201516) & (sus["sustained_employment"] == 1)]
    n_sustained = int(linked["AE_ID"].isin(s["AE_ID"]).sum())
    readme = (DATA / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| Graduate median earnings 5 YAG"))
    got = re.search(r"(\d+) of (\d+) linked 2009/10 first-degree graduates in sustained employment", row)
    assert got, row
    assert (int(got.group(1)), int(got.group(2))) == (n_sustained, len(linked))
