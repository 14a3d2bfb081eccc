"""Fuzzing the pandas route with files: corrupted Parquet files in a tmp copy of data_synthetic are loud.

Each case writes one corrupted committed table into a copy of ``data_synthetic`` under ``tmp_path`` and reads it
with the public functions (``leokit.load_table``, and the linkage / stacking / context functions that load
tables themselves from ``data_dir``). A case passes only if the function raises an error whose message names the
table and the column, or warns/reports a normalisation that names them (and then gives the clean answer).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import leokit
from leokit.linkage import person_lookup, resolve_edukeys
from leokit.paths import default_data_dir
from leokit.read import arrow_to_pandas

from _corrupt import (Corruption, as_text, assert_loud, duplicate_rows, empty, future_date, lower, outcome, pad,
                      set_missing, swap_dates)

EK = "learner_ae_id_to_edukey_lookup"
PM = "learner_ae_id_to_pmr_lookup"


@pytest.fixture(scope="module")
def data_copy(tmp_path_factory) -> Path:
    """A copy of the committed synthetic data (the Parquet files, their folders and truth.json)."""
    dst = tmp_path_factory.mktemp("data_synthetic")
    src = default_data_dir()
    for sub in sorted(p for p in src.iterdir() if p.is_dir()):
        shutil.copytree(sub, dst / sub.name)
    for f in src.glob("*.json"):
        shutil.copy(f, dst / f.name)
    return dst


def _path(root: Path, table: str) -> Path:
    hits = list(root.rglob(f"{table}.parquet"))
    assert len(hits) == 1, hits
    return hits[0]


@pytest.fixture
def corrupt_file(data_copy):
    """Write a corrupted table into the copy; restore the clean file afterwards."""
    saved: list[tuple[Path, bytes]] = []

    def write(c: Corruption) -> Path:
        p = _path(data_copy, c.table)
        saved.append((p, p.read_bytes()))
        c(arrow_to_pandas(pq.read_table(p))).to_parquet(p, index=False)
        return data_copy

    yield write
    for p, b in saved:
        p.write_bytes(b)


# (corruption, must it be an error?, column the message must name [default: the corruption's])
CASES = [
    (Corruption("EDUKEY padded", EK, pad("EDUKEY")), False),
    (Corruption("PMR padded", PM, pad("PUPILMATCHINGREFANONYMOUS")), False),
    (Corruption("earnings Edukey padded", "leo_earnings", pad("Edukey")), False),
    (Corruption("census PMR padded", "spring_census_2016", pad("PupilMatchingRefAnonymous_spr16")), False),
    (Corruption("IMD LSOA lower case", "imd2019_lsoa11", lower("lsoa11cd")), False),
    (Corruption("census LSOA lower case", "spring_census_2016", lower("LSOA11_spr16")), False),
    (Corruption("AE_ID as text", PM, as_text("AE_ID")), True),
    (Corruption("AE_ID as text (EDUKEY lookup)", EK, as_text("AE_ID")), True),
    (Corruption("RecordStatus as text", "spring_census_2016", as_text("RecordStatus_spr16")), True),
    (Corruption("TaxYear as text", "leo_earnings", as_text("TaxYear")), True),
    (Corruption("earnings duplicated", "leo_earnings", duplicate_rows()), True, "Edukey, TaxYear"),
    (Corruption("geography duplicated", "geography", duplicate_rows()), True, "Edukey, TaxYear"),
    (Corruption("UCAS applicants duplicated", "ucas_applicants", duplicate_rows()), True, "unique_id_cycle"),
    (Corruption("employment StartDate 2090", "leo_employment", future_date("StartDate")), True),
    (Corruption("benefit EndDate 2090", "leo_benefit", future_date("EndDate")), True),
    (Corruption("HESA COMDATE 2090", "hesa_2015", future_date("HE_COMDATE")), True),
    (Corruption("HESA ENDDATE 2090", "hesa_2015", future_date("HE_ENDDATE")), True),
    (Corruption("ILR aim start 2090", "aims", future_date("start_date")), True),
    (Corruption("earnings TaxYear 2090", "leo_earnings", future_date("TaxYear")), True),
    (Corruption("employment ends before start", "leo_employment", swap_dates("StartDate", "EndDate")), True,
     "EndDate"),
    (Corruption("benefit ends before start", "leo_benefit", swap_dates("StartDate", "EndDate")), True, "EndDate"),
    (Corruption("HESA ends before start", "hesa_2015", swap_dates("HE_COMDATE", "HE_ENDDATE")), True,
     "HE_ENDDATE"),
    (Corruption("ILR aim ends before start", "aims", swap_dates("start_date", "end_date")), True, "end_date"),
    (Corruption("KS4_ACADYR missing", "KS4Pupil_2015_to_2021", set_missing("KS4_ACADYR")), True),
    (Corruption("EDUKEY missing", EK, set_missing("EDUKEY")), True),
    (Corruption("empty EDUKEY lookup", EK, empty()), True, None),
    (Corruption("empty census", "spring_census_2016", empty()), True, None),
    (Corruption("empty earnings", "leo_earnings", empty()), True, None),
]


def _column(case):
    if len(case) > 2:
        return case[2]
    for cell in (case[0].corrupt.__closure__ or ()):
        if isinstance(cell.cell_contents, str):
            return cell.cell_contents
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].name.replace(" ", "-"))
def test_load_table_is_never_silent(corrupt_file, case):
    c, must_fail = case[:2]
    root = corrupt_file(c)
    out = outcome(lambda: leokit.load_table(c.table, root))
    col = _column(case)
    if col is None:
        assert out.error is not None and "0 rows" in str(out.error), out.text
    assert_loud(out, c.table, col, error=must_fail)
    if not must_fail:
        assert len(out.value) == len(leokit.load_table(c.table))


# ----------------------------------------------------------------------------------------------
# The functions that load the tables themselves (data_dir=) are as loud, and normalised keys still match
# ----------------------------------------------------------------------------------------------
def test_padded_edukey_lookup_file_still_resolves(corrupt_file):
    want = resolve_edukeys()
    root = corrupt_file(Corruption("EDUKEY padded", EK, pad("EDUKEY")))
    out = outcome(lambda: resolve_edukeys(root))
    assert_loud(out, EK, "EDUKEY", error=False)
    assert len(out.value) == len(want) and set(out.value["EDUKEY"]) == set(want["EDUKEY"])


def test_text_ae_id_in_pmr_lookup_file_is_refused_by_person_lookup(corrupt_file):
    root = corrupt_file(Corruption("AE_ID as text", PM, as_text("AE_ID")))
    assert_loud(outcome(lambda: person_lookup(root)), PM, "AE_ID", error=True)


def test_lower_case_lsoa_lookup_file_keeps_add_area_matches(corrupt_file):
    homes = leokit.stack_census([2016])[["lsoa11cd"]].dropna()
    _, want = leokit.add_area(homes, measures=("imd",), report=True)
    root = corrupt_file(Corruption("IMD LSOA lower case", "imd2019_lsoa11", lower("lsoa11cd", every=2)))
    out = outcome(lambda: leokit.add_area(homes, measures=("imd",), data_dir=root, report=True))
    assert_loud(out, "imd2019_lsoa11", "lsoa11cd", error=False)
    assert out.value[1].steps[0].matched_left == want.steps[0].matched_left > 0


def test_stack_census_and_hesa_files(corrupt_file):
    root = corrupt_file(Corruption("census date 2090", "spring_census_2016", future_date("CensusDate_spr16")))
    assert_loud(outcome(lambda: leokit.stack_census([2016], root)), "spring_census_2016", "CensusDate_spr16",
                error=True)
    root = corrupt_file(Corruption("HESA ends before start", "hesa_2015", swap_dates("HE_COMDATE", "HE_ENDDATE")))
    assert_loud(outcome(lambda: leokit.stack_hesa([2015], root)), "hesa_2015", "HE_ENDDATE", error=True)


def test_at_least_25_file_cases():
    assert len(CASES) >= 25
