"""Fixed constants of the education-side generator: version, messiness rates, calibration shares.

``MESSINESS`` holds every rate of planted "real-data messiness" on the education side; the tests in
``tests/synth`` read it and check the realised rates against it, and ``data_synthetic/README.md``
lists it. Labour-side messiness rates live in ``leokit.synth.labour``.
"""

from __future__ import annotations

#: Bumped whenever the generated data change for a given seed/scale/cohorts/truth.
GENERATOR_VERSION = "1.4.0"  # 1.4.0: floats quantised at write time, no -0.0 (same values to 6 decimals)

#: Planted messiness (education side). Rates are per person unless stated.
MESSINESS: dict[str, float] = {
    # NPD school census
    "census_duplicate_rows": 0.015,     # share of census rows that get a RecordStatus-101 duplicate (dual registration)
    "census_missing_lsoa": 0.005,       # share of census rows with LSOA (and IDACI) missing
    "census_missing_ethnicity": 0.01,   # share of census rows with ethnicity missing (NULL)
    "census_missing_fsm": 0.003,        # share of census rows with FSMeligible missing
    "census_temporary_gap": 0.02,       # persons absent from 1-3 consecutive censuses (left England/state schools, came back)
    "left_state_schools": 0.015,        # persons who leave state schools for good between Year 7 and Year 10 (no KS4)
    "lsoa_movers": 0.10,                # persons who move home LSOA once between Year 2 and Year 11
    # Key stage tables
    "ks2_missing": 0.03,                # KS2 record with no result (absent / not awarded / unable to access codes)
    "ks4_multiple_records": 0.02,       # persons with a second KS4 record in their KS4 year (ECHILD dedup rule resolves)
    "ks4_missing_idaci": 0.01,          # KS4_IDACI missing
    # Identifiers and linkage
    "ae_id_two_pmrs": 0.01,             # AE_IDs linked to two PMRs (early NPD records carry the second PMR)
    "ae_id_two_edukeys": 0.015,         # AE_IDs linked to two EDUKEYs (edukey2; the labour side splits years onto it)
    "no_edukey_link": 0.05,             # education persons with no AE_ID -> EDUKEY row (never matched to DWP/HMRC)
    "ucas_unlinked_pmr": 0.02,          # UCAS applicants with no PupilMatchingRefAnonymous
}

#: Regions (GOR codes) and their shares of England's pupils (approximate, ONS mid-year estimates).
REGION_SHARES = (0.047, 0.129, 0.098, 0.085, 0.106, 0.111, 0.162, 0.163, 0.099)
#: Share of pupils taking A levels (3-4 of them) and of pupils in a school sixth form (census Years 12-13).
A_LEVEL_SHARE = 0.40
