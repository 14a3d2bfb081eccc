"""A stand-in ``people`` table for testing and benchmarking :func:`leokit.synth.labour.simulate_labour`.

The real ``people`` table comes from the education side of the generator. This module builds a table
with the same columns and a plausible selection structure (HE entry and degree completion rise with
ability and family background; KS2/KS4 scores are noisy measures of ability), so the labour module
can be tested on its own. It is not used by the real generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.synth.labour import _phi as _labour_phi
from leokit.synth.truth import SUBJECT_GROUPS

_GOR = ("E12000001", "E12000002", "E12000003", "E12000004", "E12000005", "E12000006",
        "E12000007", "E12000008", "E12000009")
_GOR_POP = np.array([4.7, 12.9, 9.6, 8.5, 10.4, 11.0, 15.9, 16.3, 10.0])


def _phi(x):
    return _labour_phi(x)


def fake_people(n: int, cohorts=(2005, 2006, 2007), rng: np.random.Generator | None = None) -> pd.DataFrame:
    """``n`` synthetic persons spread evenly over KS4 ``cohorts`` with the contract columns."""
    rng = rng or np.random.default_rng(0)
    cohorts = np.asarray(cohorts, dtype=np.int64)
    cohort = cohorts[np.arange(n) % len(cohorts)]
    m = rng.integers(1, 13, n)
    birth_year = np.where(m >= 9, cohort - 17, cohort - 16)
    ability = rng.normal(size=n)
    background = 0.35 * ability + np.sqrt(1 - 0.35 ** 2) * rng.normal(size=n)
    fsm = (rng.random(n) < _phi(-1.25 - 0.8 * background)).astype(np.int64)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    region = rng.choice(len(_GOR), size=n, p=_GOR_POP / _GOR_POP.sum())
    lsoa_num = region * 3000 + rng.integers(0, 3000, n)
    ks2 = 0.8 * ability + 0.15 * background + 0.55 * rng.normal(size=n)
    ks4 = 0.85 * ability + 0.2 * background + 0.45 * rng.normal(size=n)
    ks2 = (ks2 - ks2.mean()) / ks2.std()
    ks4 = (ks4 - ks4.mean()) / ks4.std()
    female = sex == "F"
    he = rng.random(n) < _phi(-0.35 + 0.9 * ability + 0.45 * background + 0.15 * female)
    he_entry_year = np.where(he, cohort + 3 + (rng.random(n) < 0.15), np.nan)
    degree = he & (rng.random(n) < _phi(0.9 + 0.4 * ability))
    long = rng.random(n) < 0.15
    grad_year = np.where(degree, he_entry_year + 2 + long, np.nan)
    subj = np.where(he, rng.choice(np.array(SUBJECT_GROUPS, dtype=object), size=n,
                                   p=np.array([0.04, 0.30, 0.18, 0.14, 0.14, 0.10, 0.10])), None)
    tq = ability + 0.4 * background + 0.5 * rng.normal(size=n)
    tariff = np.where(he, np.where(tq > 1.2, "high", np.where(tq > 0.2, "medium", "low")), None)
    cls = np.where(degree, np.array(["01", "02", "03", "04"], dtype=object)[
        np.clip(np.digitize(-(ability + 0.5 * rng.normal(size=n)), [-1.2, 0.0, 1.2]), 0, 3)], None)
    level3 = he | (rng.random(n) < _phi(-0.2 + 0.8 * ability))
    level2 = level3 | (rng.random(n) < _phi(0.6 + 0.8 * ability))
    highest = np.where(degree, 6, np.where(he, 4, np.where(level3, 3, np.where(level2, 2, 1))))
    alevel = np.where(he | (level3 & (rng.random(n) < 0.5)), np.round(np.clip(120 + 40 * ability + 20 * rng.normal(size=n), 20, 250)), np.nan)
    pid = np.arange(1, n + 1, dtype=np.int64)
    ek = np.array([f"K{x:013d}" for x in rng.permutation(n) * 17 + 1000003], dtype=object)
    has2 = rng.random(n) < 0.015
    ek2 = np.array([f"K{x:013d}" if h else None for x, h in zip(rng.permutation(n) * 17 + 5000000011, has2)], dtype=object)
    return pd.DataFrame({
        "person_id": pid,
        "ae_id": pid + 10_000_000,
        "cohort": cohort,
        "sex": sex,
        "birth_year": birth_year.astype(np.int64),
        "birth_month": m.astype(np.int64),
        "ability": ability,
        "background": background,
        "fsm_ever6": fsm,
        "region": np.array(_GOR, dtype=object)[region],
        "lsoa11cd": np.array([f"E01{x:06d}" for x in lsoa_num], dtype=object),
        "idaci_score": np.clip(0.2 - 0.1 * background + 0.05 * rng.normal(size=n), 0, 1),
        "school_id": rng.integers(1, max(2, n // 150), n),
        "ks2_z": ks2,
        "ks4_z": ks4,
        "alevel_points": alevel,
        "he_entry": he.astype(np.int64),
        "he_entry_year": he_entry_year,
        "provider_id": np.where(he, np.array([f"P{x:03d}" for x in rng.integers(0, 120, n)], dtype=object), None),
        "tariff_group": tariff,
        "subject_group": subj,
        "degree": degree.astype(np.int64),
        "degree_class": cls,
        "grad_year": grad_year,
        "highest_level": highest.astype(np.int64),
        "contextual_eligible": (rng.random(n) < 0.2).astype(np.int64),
        "ucas_applicant": he.astype(np.int64),
        "edukey": ek,
        "edukey2": ek2,
    })
