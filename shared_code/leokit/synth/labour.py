"""Labour-market side of the synthetic LEO generator: firms, jobs, PAYE earnings, spells, SA, benefits.

Entry point: :func:`simulate_labour` (the contract with the education side of the generator)::

    simulate_labour(people, truth, rng, last_tax_year=202021, progress=None) -> dict

It turns one row per synthetic person (education history already simulated) into the HMRC/DWP
outcome tables of the LEO I2 standard extract (``leo_employment``, ``leo_earnings``,
``leo_self_assessment``, ``leo_benefit``, ``geography``, ``idbr_lookup``), the synthetic-only
``syn_enterprise_output``, the hidden tables ``truth_enterprise``, ``truth_enterprise_year``,
``truth_person`` and ``truth_person_year``, and ``_realised``, a dict of statistics of the generated
population (AKM shares, sorting, mobility, connected set). Calibration figures against published
statistics are computed from the *released* tables by :mod:`leokit.synth.calibration`.

The model - clocks, what the degree may and may not change, activity, enterprises, the employer path
and the coworker channel, pay, enterprise output, messiness, spells, truth tables - is described once,
in ``LABOUR_DGP.md`` beside this file (the data README renders it); this docstring only says where each
part is in the code.

Code layout
-----------
:func:`simulate_labour` runs one function per stage, in this order, each reading what it needs from a
small state object (:class:`_LabourState`) and storing what later stages need:

===================  ============================================================  =============
stage                what                                                          LABOUR_DGP.md
===================  ============================================================  =============
``_setup``           parameters, random streams, tax-year calendar, person inputs  1
``_timeline``        school / HE / labour-market years                             3
``_person_draws``    skill, person effect, propensities, degree return r_i         2, 6
``_enterprises``     enterprises, premia, the employer sampler                     4, 5
``_histories``       the yearly loop: residence, activity, employer path, jobs     3, 5
``_pay``             full-year log pay before the coworker term                    6
``_spells``          spells and days; annual pay                                   6, 9
``_record_keys``     EDUKEYs and the ordering of released rows                     8
``_leo_earnings``    released earnings rows; the coworker share and term           6, 8
``_leo_employment``  released spells                                               8, 9
``_other_tables``    SA, benefits, geography, IDBR, enterprise output              7, 8
``_realised``        realised statistics                                           11
``_truth_tables``    truth tables and the result                                   10
===================  ============================================================  =============

Randomness: ``rng`` is split into one child stream per process (:data:`_STREAMS`), each drawing the
same number of values whatever anyone's education, so a person's degree changes no draw of the
employer path, residence, part-time status or pay shocks. Same inputs, same bytes.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from leokit.synth import truth as truth_mod
from leokit.years import age_in_taxyear, taxyear_at_age

__all__ = [
    "simulate_labour",
    "LABOUR_PARAMS",
    "LABOUR_MESSINESS",
    "PART_TIME_LOG_FACTOR",
    "age_in_tax_year",
    "tax_year_code",
    "tax_year_age29",
    "degree_return_individual",
    "degree_ramp",
    "age_profile",
]

# ------------------------------------------------------------------------------------------
# Parameters (not part of the planted truth: calibration knobs, documented in LABOUR_DGP.md)
# ------------------------------------------------------------------------------------------
LABOUR_PARAMS: dict[str, Any] = {
    # full-year log pay y* = mu + Y_T + alpha_i + psi_J + X_s(age) + D r_i + kappa S + eps + c [in education]
    "mu": 9.55,                 # log GBP full-year base (2015/16 prices: Y_2015 = 0)
    "alpha_ability": 0.16,      # person effect alpha_i = a_ab ability + a_bg background + a_f [female] + a_fsm [FSM] + u_i
    "alpha_background": 0.0,    # family background acts through attainment, FSM and employment, not directly on pay
    "alpha_female": -0.10,
    "alpha_fsm": -0.15,         # eligible for free school meals at school (observable: fsm_ever6)
    "skill_sd": 0.18,           # SD of u_i, the unobserved skill (not measured by KS2/KS4, not related to education)
    "age_b_male": 0.55,         # age profile X_s(a) = B_s [g(a) - g(16)], g(a) = 1 / (1 + exp(-(a - a0) / s)),
    "age_b_female": 0.45,       # a = cohort age (leokit.years): slow growth in the early 20s, fastest around a0
    "age_mid": 26.0,
    "age_scale": 1.5,
    "student_offset": -1.6,     # part-time student work while at school/college or in HE
    "shock_ar_rho": 0.5,
    "shock_ar_sd": 0.10,        # stationary SD of the AR(1) part of eps
    "shock_iid_sd": 0.12,
    "ramp_years": 6,            # degree ramp min(1, (T - grad_year + 1) / 6): full from 5 YAG (before 29)
    "part_time_hours": 0.60,    # annual (and annualised) pay factor of a part-time person-year
    # part-time: PT_it = 1[q_it > threshold], q_it = p_i + b_f [female, age >= 27] + v_it (v: AR(1) on the age clock)
    "pt_ability": -0.15,
    "pt_fsm": 0.40,
    "pt_person_sd": 0.35,
    "pt_female_27": 0.55,
    "pt_shock_rho": 0.4,
    "pt_shock_sd": 0.90,
    "pt_threshold": 1.45,
    # enterprises and the employer path
    "firms_per_person": 0.20,
    "firm_pareto_shape": 1.1,
    "firm_weight_cap_share": 0.006,
    "stay_prob_young": 0.72,    # employer path: stay with last year's enterprise, cohort ages 16-21 ...
    "stay_prob": 0.85,          # ... and from 22
    "young_age_max": 21,
    "student_stay_prob": 0.80,  # student jobs (separate process while in education)
    "own_region_prob": 0.85,
    # coworker sorting on unobserved skill: a joiner aged 22+ draws enterprise j with extra weight
    # exp(lambda_u (u_i / sd(u)) (Q_jt - centre)), Q_jt = share of "qualified" people (A-level points in the top
    # 30% of the sample) among those aged 22+ who stay on j's payroll path this year (it moves with j's
    # graduate share; it uses no one's degree, so no one's degree changes anyone's employer)
    "coworker_sorting_tilt": 12.0,
    "coworker_sorting_min_age": 22,
    "coworker_sorting_centre": 0.3,
    "qualified_quantile": 0.70,
    # residence path (cohort ages)
    "celtic_move_age": 19,
    "celtic_move_prob": 0.02,
    "london_move_age": 22,
    "london_move_index": (-3.0, 0.4, 0.0),   # P(move to London at 22) = expit(a + b ability + c background)
    "region_move_prob": 0.01,
    # synthetic-only enterprise output: q_jt = mu_q + phi_j + Y_T + theta G_jt + nu_jt
    "output_mu": 10.8,
    "output_premium_loading": 0.5,   # phi_j = loading * z(psi_j) + N(0, sd^2): productive enterprises pay more
    "output_productivity_sd": 0.25,
    "output_shock_sd": 0.15,
}

#: Youngest cohort age in the AKM variance decomposition of ``_realised`` (prime-age-style sample: the
#: steep early-career profile and first jobs are left out, as AKM studies of older workers do).
AKM_MIN_AGE = 25

#: log of the part-time pay factor: the log PAYE pay rate is y* + PART_TIME_LOG_FACTOR x part_time.
PART_TIME_LOG_FACTOR = math.log(LABOUR_PARAMS["part_time_hours"])

#: Nominal log year effects: growth by calendar start year of the tax year (Y_2015 = 0).
_GROWTH = {**{t: 0.04 for t in range(1990, 2008)}, 2008: 0.03, **{t: 0.015 for t in range(2009, 2014)},
           2014: 0.02, 2015: 0.025, 2016: 0.025, 2017: 0.028, 2018: 0.03, 2019: 0.03, 2020: 0.01,
           **{t: 0.025 for t in range(2021, 2031)}}

#: Rates of the planted messiness in the released tables (targets; realised rates in ``_realised``).
LABOUR_MESSINESS: dict[str, float] = {
    "negative_adjustment_rows": 0.003,    # earnings rows whose year total is negative -> floored to 0
    "zero_pay_rows": 0.006,               # further rows with zero pay (employment with no pay)
    "low_earner_threshold": 2500.0,       # GBP; rows below this at 0-9 employee enterprises ...
    "low_earner_small_employer_drop": 0.5,  # ... are dropped with this probability (below tax threshold)
    "missing_person_year": 0.01,          # earnings rows lost at random (gaps in a person's history)
    "main_enterprise_missing": 0.02,      # rows with no IDBR link: main_enterprise/Main_* missing
    "secondary_job": 0.08,                # rows with an extra small secondary employment
    "uncertain_start": 0.05,              # spells whose StartDate is defaulted to 6 April
    "uncertain_end": 0.05,                # ended spells whose EndDate is defaulted to 5 April
    "spell_missing": 0.01,                # spells absent from leo_employment (earnings without a spell)
    "edukey2_year_share": 0.5,            # persons with edukey2: share of their records filed under it
    "geography_missing": 0.02,            # person-years with no CIS address row
    "sic_change_2020": 0.03,              # enterprises whose SIC differs in the 2020 IDBR extract
}

_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")
# approximate UK employment shares by SIC 2007 section (sum normalised)
_SECTION_SHARE = np.array([1.2, 0.2, 8.0, 0.5, 0.7, 6.5, 15.0, 4.8, 7.5, 4.3, 3.5, 1.7, 8.5, 8.8,
                           4.5, 8.5, 13.0, 2.8, 2.5, 0.2, 0.05])
_SECTION_PREMIUM = np.array([-0.10, 0.15, 0.05, 0.15, 0.05, 0.05, -0.10, 0.0, -0.20, 0.15, 0.20,
                             0.05, 0.10, -0.10, 0.05, 0.0, -0.02, -0.10, -0.10, -0.20, 0.10])
# SIC 2007 division ranges per section
_SECTION_DIVISIONS = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43), "G": (45, 47),
    "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68), "M": (69, 75), "N": (77, 82),
    "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93), "S": (94, 96), "T": (97, 98), "U": (99, 99),
}
_STUDENT_SECTIONS = {"G": 3.0, "I": 4.0, "N": 1.0, "R": 1.0}
_GOR = ("E12000001", "E12000002", "E12000003", "E12000004", "E12000005", "E12000006",
        "E12000007", "E12000008", "E12000009")
_GOR_NAMES = ("North East", "North West", "Yorkshire and The Humber", "East Midlands",
              "West Midlands", "East of England", "London", "South East", "South West")
_REGION_FIRM_SHARE = np.array([3.8, 11.0, 8.2, 7.0, 8.8, 9.5, 19.0, 15.0, 8.5])
_REGION_PREMIUM = np.array([-0.05, -0.03, -0.04, -0.03, -0.03, 0.02, 0.15, 0.05, -0.02])
_LONDON = 6
_SIZE_BANDS = ("0-9", "10-49", "50-249", "250-999", "1000+")
_LEGAL = ("1", "2", "3", "4", "5", "7")  # company, sole proprietor, partnership, public corp, ..., non-profit
_LEGAL_P = np.array([0.70, 0.12, 0.08, 0.03, 0.04, 0.03])
#: Independent random streams (children of the ``rng`` passed to simulate_labour), one per process, so
#: that a change in one process (e.g. someone's education path) never shifts the draws of another.
_STREAMS = ("person", "firms", "geo", "path", "state", "student", "part_time", "pay", "release", "output")


# ------------------------------------------------------------------------------------------
# Small public helpers (deterministic; no randomness)
# ------------------------------------------------------------------------------------------
def tax_year_code(t):
    """TaxYear code of the tax year starting in April of calendar year ``t`` (2004 -> 200405).

    The same as :func:`leokit.years.taxyear_code` but always returns an array (vectorised use here)."""
    t = np.asarray(t)
    return t * 100 + (t + 1) % 100


def age_in_tax_year(birth_year, birth_month, t):
    """Birthday age reached in the tax year starting April ``t`` (internal: when a person may work).

    Only the start of working life uses birthdays (nobody works before the tax year of their 16th
    birthday). Every age-dependent behaviour on the pay path, and every documented outcome point, uses the
    kit's cohort age :func:`leokit.years.age_in_taxyear` instead."""
    return np.asarray(t) - np.asarray(birth_year) + (np.asarray(birth_month) <= 3)


def tax_year_age29(cohort):
    """Start year T of the tax year in which KS4 cohort ``cohort`` is 29: ``leokit.years.taxyear_at_age(29, C)``.

    The outcome point of ``degree_return_*`` (contract C1): the tax year starting in April ``C + 12``."""
    return np.asarray(taxyear_at_age(29, np.asarray(cohort, dtype=np.int64)))


def degree_ramp(grad_year, t, ramp_years: int | None = None):
    """Share of the degree return earned in tax year ``t``: min(1, (t - grad_year + 1)/ramp) for t >= grad_year."""
    ramp_years = ramp_years or LABOUR_PARAMS["ramp_years"]
    g = np.asarray(grad_year, dtype=float)
    x = (np.asarray(t, dtype=float) - g + 1.0) / ramp_years
    out = np.clip(x, 0.0, 1.0)
    return np.where(np.isnan(g), 0.0, out)


def age_profile(age, female, params: Mapping[str, Any] | None = None) -> np.ndarray:
    """Age-earnings profile X_s(a) = B_s [g(a) - g(16)] at cohort age ``a``, g logistic (0 at 16 and below)."""
    p = LABOUR_PARAMS if params is None else params
    b = np.where(np.asarray(female, bool), p["age_b_female"], p["age_b_male"])
    a = np.maximum(np.asarray(age, dtype=float), 16.0)
    g = 1.0 / (1.0 + np.exp(-(a - p["age_mid"]) / p["age_scale"]))
    g16 = 1.0 / (1.0 + math.exp(-(16.0 - p["age_mid"]) / p["age_scale"]))
    return b * (g - g16)


def degree_return_individual(people: pd.DataFrame, truth: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float]]:
    """Individual full degree return ``r_i`` (log points) and the centring constants by sex.

    ``r_i = degree_return_<sex> + dev_subject + dev_tariff - c_<sex>`` for graduates (0 otherwise);
    ``c_sex`` makes the mean over all graduates of that sex of ``r_i * degree_ramp(grad_year, T29)``
    equal ``degree_return_<sex>`` exactly, with ``T29 = leokit.years.taxyear_at_age(29, cohort)``
    (the tax year in which the KS4 cohort is 29). To evaluate a counterfactual subject/tariff for a
    graduate (e.g. the contextual-offer earnings effect), keep ``c_sex`` fixed and change the
    deviation: ``r_i' = r_i - dev_tariff(old) + dev_tariff(new)``.
    """
    deg = people["degree"].to_numpy() == 1
    sexf = people["sex"].to_numpy() == "F"
    subj = people["subject_group"].to_numpy(dtype=object)
    tar = people["tariff_group"].to_numpy(dtype=object)
    dev = np.zeros(len(people))
    for s in truth_mod.SUBJECT_GROUPS:
        dev[subj == s] += float(truth[f"degree_return_subject_{s}"])
    for g in truth_mod.TARIFF_GROUPS:
        dev[tar == g] += float(truth[f"degree_return_tariff_{g}"])
    t29 = tax_year_age29(people["cohort"].to_numpy(np.int64))
    ramp29 = degree_ramp(people["grad_year"].to_numpy(dtype=float), t29)
    r = np.zeros(len(people))
    consts: dict[str, float] = {}
    for sex, mask_sex, key in (("F", sexf, "degree_return_female"), ("M", ~sexf, "degree_return_male")):
        R = float(truth[key])
        m = deg & mask_sex
        if not m.any():
            consts[sex] = 0.0
            continue
        mr = ramp29[m].mean()
        c = ((ramp29[m] * (R + dev[m])).mean() - R) / mr if mr > 0 else 0.0
        consts[sex] = float(c)
        r[m] = R + dev[m] - c
    return r, consts


def _year_effects(t0: int, t1: int) -> np.ndarray:
    """Log nominal year effects for calendar start years t0..t1, normalised to 0 at 2015."""
    years = np.arange(min(t0, 2015), max(t1, 2015) + 1)
    g = np.array([_GROWTH.get(int(y), 0.025) for y in years])
    level = np.concatenate([[0.0], np.cumsum(g[1:])])
    level -= level[years == 2015][0]
    return level[(years >= t0) & (years <= t1)]


def _taxyear_start(t: np.ndarray) -> np.ndarray:
    """datetime64[D] of 6 April of calendar year(s) t."""
    t = np.asarray(t, dtype=np.int64)
    return (t - 1970).astype("datetime64[Y]").astype("datetime64[D]") + np.timedelta64(95, "D") + \
        _is_leap(t).astype("timedelta64[D]")


def _is_leap(y):
    y = np.asarray(y)
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


def _taxyear_length(t: np.ndarray) -> np.ndarray:
    return (_taxyear_start(np.asarray(t) + 1) - _taxyear_start(t)).astype(np.int64)


def _phi(x):
    # standard normal cdf, vectorised without scipy
    return 0.5 * (1.0 + _erf(np.asarray(x) / math.sqrt(2.0)))


def _erf(x):
    # Abramowitz-Stegun 7.1.26 (max abs error 1.5e-7)
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def _expit(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _cell_index(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the True cells of a 2-D mask, in row-major order (as np.nonzero)."""
    y = mask.shape[1]
    flat = np.flatnonzero(mask.ravel())
    return flat // y, flat % y


def _noop(msg: str) -> None:
    return None


def _norm_ppf(p: float) -> float:
    # inverse normal cdf by bisection on _phi (only used for a handful of bin edges)
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _phi(mid) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _bin_midpoints(nbins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-probability bins of a standard normal: (conditional means of the bins, inner edges)."""
    edges = np.array([_norm_ppf(q) for q in np.arange(1, nbins) / nbins])
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    dens = np.exp(-0.5 * np.where(np.isfinite(full), full, 0.0) ** 2) / math.sqrt(2 * math.pi)
    dens[~np.isfinite(full)] = 0.0
    means = (dens[:-1] - dens[1:]) * nbins  # E[Z | bin] = (phi(a) - phi(b)) / P(bin)
    return means, edges


# ------------------------------------------------------------------------------------------
# Enterprises
# ------------------------------------------------------------------------------------------
def _make_firms(n_people: int, truth: Mapping[str, Any], rng: np.random.Generator, t_first: int, t_last: int) -> dict[str, np.ndarray]:
    P = LABOUR_PARAMS
    J = max(300, int(round(P["firms_per_person"] * n_people)))
    shape = P["firm_pareto_shape"]
    w = (1.0 - rng.random(J)) ** (-1.0 / shape)
    cap = P["firm_weight_cap_share"] * w.sum()
    for _ in range(5):
        w = np.minimum(w, cap)
        cap = P["firm_weight_cap_share"] * w.sum()
    region = rng.choice(9, size=J, p=_REGION_FIRM_SHARE / _REGION_FIRM_SHARE.sum())
    section = rng.choice(len(_SECTIONS), size=J, p=_SECTION_SHARE / _SECTION_SHARE.sum())
    # sort by region so each region is one contiguous block (sampling by region via cumsum ranges)
    order = np.lexsort((rng.random(J), region))
    w, region, section = w[order], region[order], section[order]
    lw = np.log(w)
    zlw = (lw - lw.mean()) / (lw.std() + 1e-12)
    raw = _SECTION_PREMIUM[section] + _REGION_PREMIUM[region] + 0.05 * zlw + rng.normal(0.0, 0.06, J)
    wm = np.average(raw, weights=w)
    ws = math.sqrt(np.average((raw - wm) ** 2, weights=w))
    zraw = (raw - wm) / ws          # standardised premium: drives the sorting tilt, whatever the premium SD
    psi = zraw * float(truth["firm_effect_sd"])
    # national employee count: sample-scale weight times a national multiplier
    employees = np.maximum(1, np.round(w * np.exp(rng.normal(0.7, 0.8, J)))).astype(np.int64)
    band = np.searchsorted(np.array([10, 50, 250, 1000]), employees, side="right")
    # births and deaths (calendar start years); born before t_first for 80%
    born_late = rng.random(J) < 0.20
    birth_year = np.where(born_late, rng.integers(t_first + 1, t_last + 1, J), rng.integers(1960, t_first + 1, J))
    dies = rng.random(J) < 0.20
    death_year = np.where(dies, rng.integers(t_first + 1, t_last + 2, J), 9999)
    death_year = np.where(dies & (death_year <= birth_year + 1), birth_year + 2, death_year)
    # big enterprises rarely die or are born in the window
    big = band >= 3
    death_year[big] = 9999
    birth_year[big & born_late] = rng.integers(1960, t_first + 1, int((big & born_late).sum()))
    birth_month = rng.integers(1, 13, J)
    death_month = rng.integers(1, 13, J)
    # SIC 2007 5-digit codes
    lo = np.array([_SECTION_DIVISIONS[s][0] for s in _SECTIONS])
    hi = np.array([_SECTION_DIVISIONS[s][1] for s in _SECTIONS])
    div = lo[section] + np.floor(rng.random(J) * (hi[section] - lo[section] + 1)).astype(int)
    sub = rng.integers(0, 100, J) * 10
    sic = div * 1000 + sub
    sic2020 = sic.copy()
    chg = rng.random(J) < LABOUR_MESSINESS["sic_change_2020"]
    sic2020[chg] = div[chg] * 1000 + rng.integers(0, 100, int(chg.sum())) * 10
    legal = rng.choice(len(_LEGAL), size=J, p=_LEGAL_P)
    ids = 1_000_000_000 + np.cumsum(rng.integers(1, 2000, J))
    ids = ids[rng.permutation(J)]
    # productivity (synthetic-only output measure): related to the standardised premium
    phi = P["output_premium_loading"] * zraw + rng.normal(0.0, P["output_productivity_sd"], J)
    # region block boundaries
    starts = np.searchsorted(region, np.arange(9), side="left")
    ends = np.searchsorted(region, np.arange(9), side="right")
    student_w = np.zeros(len(_SECTIONS))
    for s, v in _STUDENT_SECTIONS.items():
        student_w[_SECTIONS.index(s)] = v
    return dict(J=np.int64(J), w=w, region=region, section=section, psi=psi, zraw=zraw, employees=employees, band=band,
                birth_year=birth_year, death_year=death_year, birth_month=birth_month, death_month=death_month,
                sic=sic, sic2020=sic2020, legal=legal, ids=ids, rstart=starts, rend=ends, phi=phi,
                student_w=student_w[section] * w / w.mean())


class _FirmSampler:
    """Draw enterprises for joiners of the employer path, by region, among alive enterprises:

    ``P(j | i) ∝ w_j exp(lambda a_i z_j + lambda_u u_i (G_j - centre))``, with ability ``a`` and standardised
    unobserved skill ``u`` in equal-probability bins of a standard normal (conditional bin means), ``z`` the
    standardised premium and ``G`` the graduate share of the enterprise's continuing workforce (set each
    year; the second factor applies only to joiners flagged ``tilted``).
    """

    def __init__(self, firms, lam: float, lam_u: float = 0.0, nbins: int = 16, ubins: int = 4):
        self.f = firms
        self.lam = lam
        self.lam_u = lam_u
        self.z = firms["zraw"]
        self.mid, self.edges = _bin_midpoints(nbins)
        self.umid, self.uedges = _bin_midpoints(ubins) if lam_u else (np.zeros(1), np.zeros(0))
        self.alive = np.ones(len(self.z), bool)
        self._base = None

    def set_year(self, t: int) -> None:
        f = self.f
        self.alive = (f["birth_year"] <= t) & (f["death_year"] > t)
        base = f["w"] * self.alive
        # (ability bins, J): weights before the coworker-sorting tilt
        self._base = base[None, :] * np.exp(self.lam * self.mid[:, None] * self.z[None, :])
        self.C = self.C0 = None
        self.Cs = np.cumsum(f["student_w"] * self.alive)

    def set_workforce(self, g: np.ndarray | None) -> None:
        """Cumulative weights per (ability bin, skill bin) given the centred graduate shares ``g`` of the
        enterprises' continuing workforces (``self.C``) and without the tilt (``self.C0``)."""
        self.C0 = np.cumsum(self._base, axis=1)[:, None, :]
        if g is None or not self.lam_u:
            self.C = self.C0
            return
        tilt = np.exp(self.lam_u * self.umid[:, None] * g[None, :])                 # (ubins, J)
        self.C = np.cumsum(self._base[:, None, :] * tilt[None, :, :], axis=2)       # (nbins, ubins, J)

    def _range_draw(self, C, lo_idx, hi_idx, u):
        lo_c = np.where(lo_idx > 0, C[np.maximum(lo_idx - 1, 0)], 0.0)
        hi_c = C[hi_idx - 1]
        empty = hi_c <= lo_c
        lo_c = np.where(empty, 0.0, lo_c)
        hi_c = np.where(empty, C[-1], hi_c)
        return np.searchsorted(C, lo_c + u * (hi_c - lo_c), side="right")

    def draw(self, ability, skill, region, national, rng, student: bool = False, tilted=None) -> np.ndarray:
        n = len(region)
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        u = rng.random(n)
        J = len(self.f["w"])
        rs, re_ = self.f["rstart"], self.f["rend"]
        reg = np.where(national | (region < 0), -1, region)
        lo_idx = np.where(reg >= 0, rs[np.maximum(reg, 0)], 0)
        hi_idx = np.where(reg >= 0, re_[np.maximum(reg, 0)], J)
        if student:
            out[:] = self._range_draw(self.Cs, lo_idx, hi_idx, u)
        else:
            b = np.searchsorted(self.edges, ability)
            nu = self.C.shape[1]
            bu = np.searchsorted(self.uedges, skill) if nu > 1 else np.zeros(n, np.int64)
            tl = np.ones(n, bool) if tilted is None else np.asarray(tilted, bool)
            key = np.where(tl, b * nu + bu, -1 - b)
            for kk in np.unique(key):
                m = key == kk
                C = self.C[kk // nu, kk % nu] if kk >= 0 else self.C0[-1 - kk, 0]
                out[m] = self._range_draw(C, lo_idx[m], hi_idx[m], u[m])
        return np.minimum(out, J - 1)


def _calibrate_lambda(firms, rho: float, nbins: int = 16) -> float:
    """Tilt lambda such that corr(ability, z of the joined enterprise) = rho in expectation.

    Uses the sampler's structure (ability bins; 85% own region with regions weighted by their
    enterprise share, 15% national) with all enterprises alive and no skill tilt; solved by bisection.
    """
    if abs(rho) < 1e-9:
        return 0.0
    mid, _ = _bin_midpoints(nbins)
    z, w = firms["zraw"], firms["w"]
    starts = firms["rstart"]
    reg_p = _REGION_FIRM_SHARE / _REGION_FIRM_SHARE.sum()
    own = LABOUR_PARAMS["own_region_prob"]
    nonempty = firms["rend"] > starts
    J = len(w)
    if J > 40_000:  # a deterministic stride subsample (firms are sorted by region) is plenty for 1 number
        stride = J // 20_000
        keep = np.arange(0, J, stride)
        z, w = z[keep], w[keep]
        starts = np.searchsorted(keep, starts)
        nonempty = nonempty & (np.searchsorted(keep, firms["rend"]) > starts)

    def corr(lam: float) -> float:
        W = w[None, :] * np.exp(lam * mid[:, None] * z[None, :])
        m0 = np.add.reduceat(W, starts[nonempty], axis=1)
        m1 = np.add.reduceat(W * z, starts[nonempty], axis=1)
        m2 = np.add.reduceat(W * z * z, starts[nonempty], axis=1)
        rp = reg_p[nonempty] / reg_p[nonempty].sum()
        # mixture over region choice: own region with prob `own`, national otherwise
        e1 = own * (m1 / m0) + (1 - own) * (m1.sum(1) / m0.sum(1))[:, None]
        e2 = own * (m2 / m0) + (1 - own) * (m2.sum(1) / m0.sum(1))[:, None]
        Ez = (e1 * rp).sum(1)                       # by ability bin
        Ez2 = (e2 * rp).sum(1)
        mz, vz = Ez.mean(), Ez2.mean() - Ez.mean() ** 2
        cov = (mid * (Ez - mz)).mean()
        return cov / math.sqrt(vz * (mid ** 2).mean())

    target = min(abs(rho), 0.9)
    lo, hi = 0.0, 6.0
    if corr(hi) < target:
        return math.copysign(hi, rho)
    for _ in range(24):
        m = 0.5 * (lo + hi)
        if corr(m) < target:
            lo = m
        else:
            hi = m
    return math.copysign(0.5 * (lo + hi), rho)


def _rescale_to_joiners(firms, lam: float, target_sd: float, nbins: int = 16) -> None:
    """Shift and scale psi so that its mean is 0 and SD ``target_sd`` over the expected distribution of
    joined enterprises (abilities in equal bins; own region with regions weighted by enterprise share,
    or national). Choice probabilities depend on the standardised z only, so they are unchanged."""
    mid, _ = _bin_midpoints(nbins)
    w, z = firms["w"], firms["zraw"]
    rs, re_ = firms["rstart"], firms["rend"]
    reg_p = _REGION_FIRM_SHARE / _REGION_FIRM_SHARE.sum()
    own = LABOUR_PARAMS["own_region_prob"]
    q = np.zeros(len(w))
    for b in range(nbins):
        W = w * np.exp(lam * mid[b] * z)
        q += (1 - own) * W / W.sum() / nbins
        for r in range(9):
            if re_[r] > rs[r]:
                seg = W[rs[r]:re_[r]]
                q[rs[r]:re_[r]] += own * reg_p[r] * seg / seg.sum() / nbins
    psi = firms["psi"]
    m = np.average(psi, weights=q)
    sd = math.sqrt(np.average((psi - m) ** 2, weights=q))
    if sd > 0:
        firms["psi"] = (psi - m) / sd * target_sd


# ------------------------------------------------------------------------------------------
# Main entry point
# ------------------------------------------------------------------------------------------
class _LabourState:
    """What one stage of :func:`simulate_labour` hands to the next: named arrays, frames and helpers.

    Each stage reads its inputs at its top - ``s.get("a b")``, or ``s.take("c")`` where no later stage needs the
    value, so that memory is freed as early as in one long function - and stores its outputs at its end
    (``s.put(d=d)``).
    """

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def get(self, names: str) -> Any:
        """The values of the space-separated ``names`` (one value for one name, else a tuple)."""
        vals = tuple(self.__dict__[n] for n in names.split())
        return vals[0] if len(vals) == 1 else vals

    def take(self, names: str) -> Any:
        """As :meth:`get`, removing the values from the state (their last reader)."""
        vals = tuple(self.__dict__.pop(n) for n in names.split())
        return vals[0] if len(vals) == 1 else vals

    def put(self, **values: Any) -> None:
        self.__dict__.update(values)


def simulate_labour(people: pd.DataFrame, truth: Mapping[str, Any], rng: np.random.Generator,
                    last_tax_year: int = 202021, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Simulate the HMRC/DWP outcome tables for ``people`` (see the module docstring).

    Returns a dict with the released tables ``leo_employment``, ``leo_earnings``,
    ``leo_self_assessment``, ``leo_benefit``, ``geography``, ``idbr_lookup`` and the synthetic-only
    ``syn_enterprise_output``; the hidden tables ``truth_enterprise``, ``truth_enterprise_year``,
    ``truth_person``, ``truth_person_year``; and ``_realised`` (dict of statistics). Only ``rng`` is
    used for randomness (split into one child stream per process), so equal inputs give identical
    outputs, and a person's own degree changes no draw of the employer path, residence, part-time
    status or pay shocks.
    """
    s = _LabourState(people=people, truth=truth, rng=rng, last_tax_year=last_tax_year, progress=progress)
    _setup(s)
    _timeline(s)
    _person_draws(s)
    _enterprises(s)
    _histories(s)
    _pay(s)
    _spells(s)
    _record_keys(s)
    _leo_earnings(s)
    _leo_employment(s)
    _other_tables(s)
    _realised(s)
    return _truth_tables(s)


def _setup(s: _LabourState) -> None:
    """Parameters, random streams, the calendar of tax years and the person-level inputs."""
    people, truth = s.get("people truth")
    last_tax_year, progress, rng = s.take("last_tax_year progress rng")
    say = progress or _noop
    P = LABOUR_PARAMS
    M = LABOUR_MESSINESS
    truth = {**truth_mod.default_truth(), **dict(truth)}
    kappa = float(truth["coworker_graduate_share_effect"])
    theta = float(truth["firm_graduate_share_productivity_effect"])
    rho = float(truth["worker_firm_sorting"])
    rho = min(max(rho, -0.95), 0.95)
    lam0 = rho / math.sqrt(1.0 - rho ** 2)
    R = dict(zip(_STREAMS, rng.spawn(len(_STREAMS))))

    people = people.sort_values("person_id", kind="stable").reset_index(drop=True)
    N = len(people)
    t_last = int(last_tax_year) // 100
    by = people["birth_year"].to_numpy(np.int64)
    bm = people["birth_month"].to_numpy(np.int64)
    early = (bm <= 3).astype(np.int64)
    t16 = by + 16 - early                    # tax year of the 16th birthday: first year anyone may work
    t_first = int(min(t16.min(), t_last))
    years = np.arange(t_first, t_last + 1)
    Y = len(years)
    TS = _taxyear_start(years)              # datetime64[D] of 6 April
    L = _taxyear_length(years)              # days in each tax year
    Yeff = _year_effects(t_first, t_last)
    say(f"labour: {N:,} persons, tax years {tax_year_code(t_first)}-{tax_year_code(t_last)}")

    female = people["sex"].to_numpy() == "F"
    ability = people["ability"].to_numpy(float)
    background = people["background"].to_numpy(float)
    fsm = people["fsm_ever6"].to_numpy(np.int64) == 1
    hl = people["highest_level"].to_numpy(np.int64)
    cohort = people["cohort"].to_numpy(np.int64)
    he = people["he_entry"].to_numpy(np.int64) == 1
    he_entry_year = people["he_entry_year"].to_numpy(float)
    degree = people["degree"].to_numpy(np.int64) == 1
    grad_year = people["grad_year"].to_numpy(float)
    grad_year = np.where(degree, grad_year, np.nan)
    home_region = pd.Categorical(people["region"].astype(object), categories=_GOR).codes.astype(np.int64)
    home_region = np.where(home_region < 0, 6, home_region)
    s.put(L=L, M=M, N=N, P=P, R=R, TS=TS, Y=Y, Yeff=Yeff, ability=ability, background=background, bm=bm, by=by,
        cohort=cohort, degree=degree, female=female, fsm=fsm, grad_year=grad_year, he=he,
        he_entry_year=he_entry_year, hl=hl, home_region=home_region, kappa=kappa, lam0=lam0, people=people, rho=rho,
        say=say, t16=t16, t_first=t_first, t_last=t_last, theta=theta, truth=truth, years=years)


def _timeline(s: _LabourState) -> None:
    """Education and activity timeline: when each person is at school, in HE or in the labour market."""
    N, R, bm, by, cohort, degree, grad_year, he, hl, years = s.get("N R bm by cohort degree grad_year he hl years")
    he_entry_year = s.take("he_entry_year")
    # ---- education / activity timeline ----------------------------------------------------
    rp = R["person"]
    u = rp.random(N)
    leave_school = np.where(hl <= 2, cohort + (u < 0.5), np.where(hl == 3, cohort + 2, cohort + 3))
    leave_school = np.where(he, cohort + 2, leave_school)
    hey = np.where(he, np.nan_to_num(he_entry_year, nan=0), 0).astype(np.int64)
    u = rp.random(N)
    he_end = np.where(degree, np.nan_to_num(grad_year, nan=0).astype(np.int64), hey + 1 + (u < 0.5))
    T2 = years[None, :]
    age = age_in_tax_year(by[:, None], bm[:, None], T2)          # birthday age: only for "not before 16"
    agec = age_in_taxyear(T2, cohort[:, None]).astype(np.int16)   # the kit's cohort age (leokit.years)
    active = age >= 16
    in_he = he[:, None] & (T2 >= hey[:, None] - 1) & (T2 <= he_end[:, None] - 1)
    in_school = (T2 < leave_school[:, None]) & ~in_he
    lm = active & ~in_he & ~in_school
    edu = active & ~lm
    # descriptive only (truth_person_year.experience): years since leaving school/college, HE years included
    exper = np.where(lm, np.cumsum(lm | in_he, axis=1) - 1, 0).astype(np.int16)
    first_lm = lm & ~np.concatenate([np.zeros((N, 1), bool), lm[:, :-1]], axis=1)
    s.put(T2=T2, active=active, agec=agec, edu=edu, exper=exper, first_lm=first_lm, he_end=he_end, in_he=in_he,
        in_school=in_school, leave_school=leave_school, lm=lm, rp=rp)


def _person_draws(s: _LabourState) -> None:
    """Person-level draws (none depends on the degree): skill, person effect, propensities, degree return."""
    N, P, ability, background, degree, female = s.get("N P ability background degree female")
    fsm, hl, people, truth = s.get("fsm hl people truth")
    rp = s.take("rp")
    # ---- person-level draws (none of them depends on the degree) ------------------------------
    skill = rp.normal(0.0, P["skill_sd"], N)                      # u_i: unobserved skill
    alpha = (P["alpha_ability"] * ability + P["alpha_background"] * background + P["alpha_female"] * female
             + P["alpha_fsm"] * fsm + skill)
    emp_base = (0.30 * ability + 0.20 * background - 0.25 * fsm + 0.20 * (hl >= 3) - 0.35 * (hl <= 1)
                + 0.10 * degree + rp.normal(0.0, 0.75, N))
    se_base = rp.normal(0.0, 0.6, N)
    claim_base = (-0.35 * ability - 0.20 * background + 0.30 * fsm + 0.30 * (hl <= 2) + 0.25 * (hl <= 1)
                  + rp.normal(0.0, 0.5, N))
    pt_base = P["pt_ability"] * ability + P["pt_fsm"] * fsm + rp.normal(0.0, P["pt_person_sd"], N)
    a_l, b_l, c_l = P["london_move_index"]
    p_london = _expit(a_l + b_l * ability + c_l * background)
    r_i, c_sex = degree_return_individual(people, truth)
    # "qualified": A-level points (best three) in the top 30% of the sample - attainment at 18, before any degree
    alev = np.nan_to_num(people["alevel_points"].to_numpy(float), nan=-1.0)
    qualified = alev > np.quantile(alev, P["qualified_quantile"])
    s.put(alpha=alpha, c_sex=c_sex, claim_base=claim_base, emp_base=emp_base, p_london=p_london, pt_base=pt_base,
        qualified=qualified, r_i=r_i, se_base=se_base, skill=skill)


def _enterprises(s: _LabourState) -> None:
    """The enterprises, their premia (rescaled to the joiners) and the sampler of employers."""
    N, P, R, say, truth = s.get("N P R say truth")
    rho, t_first, t_last = s.take("rho t_first t_last")
    firms = _make_firms(N, truth, R["firms"], t_first, t_last)
    J = int(firms["J"])
    lam = _calibrate_lambda(firms, rho)
    _rescale_to_joiners(firms, lam, float(truth["firm_effect_sd"]))
    sampler = _FirmSampler(firms, lam, P["coworker_sorting_tilt"])
    say(f"labour: {J:,} enterprises")
    s.put(J=J, firms=firms, lam=lam, sampler=sampler)


def _histories(s: _LabourState) -> None:
    """The yearly loop: residence, activity states, employer path, student jobs, part-time work, pay shocks."""
    J, N, P, R, Y, ability, active, agec, degree = s.get("J N P R Y ability active agec degree")
    edu, emp_base, female, first_lm, in_he, lm = s.get("edu emp_base female first_lm in_he lm")
    pt_base, say, skill, years = s.get("pt_base say skill years")
    background, claim_base, home_region, p_london = s.take("background claim_base home_region p_london")
    qualified, sampler, se_base = s.take("qualified sampler se_base")
    # ---- yearly loop ----------------------------------------------------------------------------
    # Each process draws from its own stream with the same number of draws whatever anyone's
    # education, so a person's degree changes only what depends on it by design (extensive margins).
    rg, rpa, rs, rst, rpt, rpay = R["geo"], R["path"], R["state"], R["student"], R["part_time"], R["pay"]
    LP = np.full((N, Y), -1, dtype=np.int32)   # employer path: the enterprise a person works at when in PAYE work
    F = np.full((N, Y), -1, dtype=np.int32)    # actual main enterprise (-1 = not employed)
    ABR = np.zeros((N, Y), bool)
    SE = np.zeros((N, Y), bool)
    CLAIM = np.zeros((N, Y), bool)
    PT = np.zeros((N, Y), bool)
    RES = np.zeros((N, Y), np.int8)
    LA = np.zeros((N, Y), np.int8)
    EPS = np.zeros((N, Y), np.float32)
    JOIN = np.zeros((N, Y), bool)        # a new enterprise drawn on the employer path this year
    res = home_region.copy()
    la_cur = np.full(N, -1, np.int64)    # -1 = home LA
    moved_london = np.zeros(N, bool)
    ar = rpay.normal(0.0, P["shock_ar_sd"], N)
    sd_innov = P["shock_ar_sd"] * math.sqrt(1 - P["shock_ar_rho"] ** 2)
    v_pt = rpt.normal(0.0, P["pt_shock_sd"], N)
    sd_pt_innov = P["pt_shock_sd"] * math.sqrt(1 - P["pt_shock_rho"] ** 2)
    cur = np.full(N, -1, np.int64)       # employer path position
    sf = np.full(N, -1, np.int64)        # student job
    prev_emp = np.zeros(N, bool)
    prev_se = np.zeros(N, bool)
    prev_abr = np.zeros(N, bool)
    prev_claim = np.zeros(N, bool)
    for k, t in enumerate(years):
        act, lm_k, edu_k, fl = active[:, k], lm[:, k], edu[:, k], first_lm[:, k]
        a_k = agec[:, k].astype(np.int64)
        sampler.set_year(int(t))
        # residence on the age clock (codes 0-8 English regions, 9 Wales, 10 Scotland)
        ug = rg.random((N, 3))
        new_reg = rg.integers(0, 9, N)
        new_la = rg.integers(0, 33, N)
        celtic = act & (a_k == P["celtic_move_age"]) & (ug[:, 0] < P["celtic_move_prob"])
        res = np.where(celtic, 9 + (ug[:, 1] < 0.4), res)
        to_london = act & (a_k == P["london_move_age"]) & (res <= 8) & (res != _LONDON) & (ug[:, 2] < p_london)
        moved_london |= to_london
        res = np.where(to_london, _LONDON, res)
        la_cur = np.where(to_london, new_la, la_cur)
        mover = (act & (a_k > P["celtic_move_age"]) & (a_k != P["london_move_age"])
                 & (ug[:, 1] < P["region_move_prob"]) & ~celtic)
        res = np.where(mover, new_reg, res)
        la_cur = np.where(mover, new_la, la_cur)
        RES[:, k] = res
        LA[:, k] = la_cur
        # activity states (extensive margins: these may depend on education, including the degree)
        uu = rs.random((N, 5))
        p_ab = np.where(fl, 0.02 + 0.03 * degree, 0.004)
        abr = lm_k & np.where(prev_abr, uu[:, 0] < 0.75, uu[:, 0] < p_ab)
        p_se = _phi(-2.55 + 0.35 * ~female + 0.04 * (a_k - 25) + se_base)
        se = lm_k & ~abr & (a_k >= 18) & np.where(prev_se, uu[:, 1] < 0.85, uu[:, 1] < p_se)
        lat = (emp_base + np.where(prev_emp, 1.35, -0.05) + 0.4 * fl - 0.9 * se
               - 0.30 * (female & (a_k >= 27)) + 0.56)
        lat_s = -0.55 + 0.2 * background + np.where(prev_emp, 0.9, 0.0) + 0.3 * in_he[:, k]
        emp_lm = lm_k & ~abr & (uu[:, 2] < _phi(lat))
        emp_edu = edu_k & (uu[:, 3] < _phi(lat_s))
        emp = emp_lm | emp_edu
        p_cl = _phi(-0.9 + claim_base + np.where(prev_claim, 1.0, 0.0))
        claim = lm_k & ~emp & ~abr & ~se & (uu[:, 4] < p_cl)
        # employer path (age clock): stay, or join an enterprise. Joiners are tilted towards high-premium
        # enterprises by ability (sorting) and, from 22, by their unobserved skill u towards enterprises whose
        # staying workforce is well qualified, i.e. graduate-rich (the reason person fixed effects are needed)
        up = rpa.random((N, 2))
        alive_cur = np.zeros(N, bool)
        hasc = cur >= 0
        alive_cur[hasc] = sampler.alive[cur[hasc]]
        p_stay = np.where(a_k <= P["young_age_max"], P["stay_prob_young"], P["stay_prob"])
        stay = act & alive_cur & (up[:, 0] < p_stay)
        wf = stay & (a_k >= P["coworker_sorting_min_age"])
        n_wf = np.bincount(cur[wf], minlength=J)
        q_wf = np.bincount(cur[wf], weights=qualified[wf].astype(float), minlength=J)
        sampler.set_workforce(np.where(n_wf > 0, q_wf / np.maximum(n_wf, 1) - P["coworker_sorting_centre"], 0.0))
        join = act & ~stay
        national = up[:, 1] > P["own_region_prob"]
        jl = np.flatnonzero(join)
        cur = np.where(stay, cur, -1)
        cur[jl] = sampler.draw(ability[jl], skill[jl] / P["skill_sd"], np.where(res[jl] <= 8, res[jl], -1),
                               national[jl], rpa, tilted=a_k[jl] >= P["coworker_sorting_min_age"])
        LP[:, k] = cur
        JOIN[:, k] = join
        # student jobs: a separate process at retail/hospitality/admin/arts enterprises
        us = rst.random(N)
        alive_sf = np.zeros(N, bool)
        hs = sf >= 0
        alive_sf[hs] = sampler.alive[sf[hs]]
        keep_sf = emp_edu & alive_sf & (us < P["student_stay_prob"])
        sf = np.where(keep_sf, sf, -1)
        je = np.flatnonzero(emp_edu & ~keep_sf)
        sf[je] = sampler.draw(ability[je], skill[je], np.where(res[je] <= 8, res[je], -1),
                              rst.random(len(je)) > P["own_region_prob"], rst, student=True)
        sf = np.where(emp_edu, sf, -1)
        F[:, k] = np.where(emp_lm, cur, np.where(emp_edu, sf, -1))
        # part-time (age clock; applies to PAYE work in the labour market)
        v_pt = P["pt_shock_rho"] * v_pt + rpt.normal(0.0, sd_pt_innov, N)
        q_pt = pt_base + P["pt_female_27"] * (female & (a_k >= 27)) + v_pt
        PT[:, k] = emp_lm & (q_pt > P["pt_threshold"])
        ABR[:, k] = abr
        SE[:, k] = se
        CLAIM[:, k] = claim
        ar = P["shock_ar_rho"] * ar + rpay.normal(0.0, sd_innov, N)
        EPS[:, k] = ar + rpay.normal(0.0, P["shock_iid_sd"], N)
        prev_emp, prev_se, prev_abr, prev_claim = emp, se, abr, claim
    EMP = F >= 0
    del sampler
    say("labour: employment histories done")
    s.put(ABR=ABR, CLAIM=CLAIM, EMP=EMP, EPS=EPS, F=F, JOIN=JOIN, LA=LA, LP=LP, PT=PT, RES=RES, SE=SE,
        moved_london=moved_london)


def _pay(s: _LabourState) -> None:
    """Full-year log pay before the coworker term: person, firm, year, experience, degree and shock components."""
    EMP, EPS, F, N, P, T2, Y, Yeff, agec, alpha = s.get("EMP EPS F N P T2 Y Yeff agec alpha")
    degree, female, firms, grad_year, r_i = s.get("degree female firms grad_year r_i")
    edu = s.take("edu")
    # ---- earnings components ------------------------------------------------------------------
    graduated = degree[:, None] & (T2 >= np.nan_to_num(grad_year, nan=9999)[:, None])
    psi32 = firms["psi"].astype(np.float32)
    psi_cell = np.where(EMP, psi32[np.maximum(F, 0)], np.float32(np.nan))
    ramp = degree_ramp(grad_year[:, None], T2).astype(np.float32)
    Dcomp = ramp * r_i[:, None].astype(np.float32)
    Xcomp = age_profile(agec, female[:, None]).astype(np.float32)
    Ycomp = np.broadcast_to(Yeff[None, :], (N, Y))
    logy = P["mu"] + Ycomp + alpha[:, None]       # full-year log pay before the coworker term (added below)
    logy += Xcomp
    logy += Dcomp
    logy += EPS
    logy += np.where(edu, np.float32(P["student_offset"]), np.float32(0.0))
    logy += np.nan_to_num(psi_cell)
    logy[~EMP] = np.nan
    s.put(Dcomp=Dcomp, Xcomp=Xcomp, graduated=graduated, logy=logy, psi_cell=psi_cell, ramp=ramp)


def _spells(s: _LabourState) -> None:
    """Employment spells and days employed per tax year; annual pay before the coworker term."""
    EMP, F, L, N, P, PT, R, T2, Y, logy, t16 = s.get("EMP F L N P PT R T2 Y logy t16")
    bm, by, first_lm = s.take("bm by first_lm")
    # ---- spells, days ------------------------------------------------------------------------
    rr = R["release"]
    Fprev = np.concatenate([np.full((N, 1), -1, np.int32), F[:, :-1]], axis=1)
    Fnext = np.concatenate([F[:, 1:], np.full((N, 1), -2, np.int32)], axis=1)  # -2: beyond the data (ongoing)
    new_start = EMP & (F != Fprev)
    moved_in = new_start & (Fprev >= 0)
    ends_here = EMP & (F != Fnext) & (Fnext != -2)
    moved_out = ends_here & (Fnext >= 0)
    U1 = rr.random((N, Y), dtype=np.float32)
    U2 = rr.random((N, Y), dtype=np.float32)
    U3 = rr.random((N, Y), dtype=np.float32)
    Lrow = L[None, :].astype(np.int16)
    d = np.floor(U1 * 182).astype(np.int16)
    gap = np.minimum(np.floor(U2 * 31).astype(np.int16), d)
    del U2
    # earliest start: 16th birthday (15th of the birth month) in the first year, mid-July when leaving education
    bday = (((by + 16 - 1970) * 12 + bm - 1).astype("datetime64[M]").astype("datetime64[D]") + np.timedelta64(14, "D"))
    bday_off = (bday - _taxyear_start(t16)).astype(np.int64)
    lo = np.zeros((N, Y), np.int16)
    lo[T2 == t16[:, None]] = np.broadcast_to(np.clip(bday_off, 0, 360)[:, None], (N, Y))[T2 == t16[:, None]]
    lo[first_lm & (T2 > t16[:, None])] = 100
    s_day = np.where(moved_in, d, np.where(new_start, lo + np.floor(U1 * (Lrow - lo)).astype(np.int16), np.int16(0)))
    del lo, U1
    e_day = np.where(ends_here & ~moved_out, s_day + np.floor(U3 * (Lrow - s_day)).astype(np.int16), Lrow - 1)
    del U3
    p_days = np.where(moved_in, d - gap, np.int16(0))
    main_days = np.where(EMP, e_day - s_day + 1, 0).astype(np.int16)
    days = main_days + p_days
    endoff_next = np.concatenate([(d - gap - 1)[:, 1:], np.zeros((N, 1), np.int16)], axis=1)
    del d, gap, Fprev, Fnext
    # annual pay: pay per day of PAYE employment (exp(y*)/365, x 0.6 if part-time) times days employed, so the
    # annualised pay (pay / days x 365, leokit.derive.annualised_earnings) is exactly exp(y*) x 0.6^part_time
    pay_factor = (days / 365.0) * np.where(PT, P["part_time_hours"], 1.0)
    earn0 = np.exp(np.nan_to_num(logy, nan=-np.inf)) * pay_factor    # before the coworker term
    s.put(days=days, e_day=e_day, earn0=earn0, endoff_next=endoff_next, ends_here=ends_here, main_days=main_days,
        moved_out=moved_out, new_start=new_start, p_days=p_days, pay_factor=pay_factor, rr=rr, s_day=s_day)


def _record_keys(s: _LabourState) -> None:
    """Record keys (EDUKEY / second EDUKEY) and the helpers that order released rows by key and tax year."""
    M, N, Y, firms, people, rr, years = s.get("M N Y firms people rr years")
    # ---- record keys (edukey / edukey2) ------------------------------------------------------
    edukey = people["edukey"].astype(object).to_numpy()
    ek2 = people["edukey2"].astype(object).to_numpy() if "edukey2" in people else np.full(N, None, object)
    has2 = pd.notna(ek2)
    USE2 = has2[:, None] & (rr.random((N, Y)) < M["edukey2_year_share"])
    # ranks of all keys for fast sorting
    all_keys = np.concatenate([edukey, ek2[has2]]).astype(str)
    uniq, inv = np.unique(all_keys, return_inverse=True)
    rank1 = inv[:N]
    rank2 = np.full(N, -1, np.int64)
    rank2[has2] = inv[N:]
    key_str = pd.array(uniq, dtype="str")

    def keys_for(i_idx, k_idx):
        use2 = USE2[i_idx, k_idx]
        return np.where(use2, rank2[i_idx], rank1[i_idx])

    perm_key = np.argsort(rank1)   # persons in EDUKEY order (ranks are unique)
    any2 = bool(has2.any())
    tyc = tax_year_code(years).astype(np.int64)

    def cells_by_key(mask):
        """(person, year index, key rank) of the True cells of ``mask``, sorted by (EDUKEY, TaxYear)."""
        flat = np.flatnonzero(mask[perm_key].ravel())
        r = flat // Y
        k = flat - r * Y
        i = perm_key[r]
        kr = rank1[i]
        if any2:
            sub = np.flatnonzero(has2[i])
            u2 = sub[USE2[i[sub], k[sub]]]
            kr[u2] = rank2[i[u2]]
            o = np.argsort(kr * Y + k, kind="stable")  # nearly sorted: only edukey2 rows move
            i, k, kr = i[o], k[o], kr[o]
        return i, k, kr

    ent_str = np.array([str(x) for x in firms["ids"]], dtype=object)
    ent_arr = pd.array(ent_str, dtype="str")
    sec_arr = np.array(_SECTIONS, dtype=object)
    sec_str = pd.array(sec_arr, dtype="str")
    sic_str = pd.array(np.char.zfill(np.concatenate([firms["sic"], firms["sic2020"]]).astype(str), 5).astype(object),
                       dtype="str")
    s.put(cells_by_key=cells_by_key, ent_arr=ent_arr, key_str=key_str, keys_for=keys_for, rank1=rank1,
        sec_arr=sec_arr, sec_str=sec_str, sic_str=sic_str, tyc=tyc)


def _leo_earnings(s: _LabourState) -> None:
    """leo_earnings: which rows are released, the coworker graduate share and term, the released rows."""
    EMP, F, J, M, N, T2, Y, cells_by_key, days = s.get("EMP F J M N T2 Y cells_by_key days")
    ent_arr, firms, graduated, key_str, logy = s.get("ent_arr firms graduated key_str logy")
    main_days, p_days, rr, say, tyc, years = s.get("main_days p_days rr say tyc years")
    earn0, kappa, pay_factor, sec_str, sic_str = s.take("earn0 kappa pay_factor sec_str sic_str")
    # ---- leo_earnings -----------------------------------------------------------------------------
    # Which rows are released, and with a main enterprise, is decided first (on pay before the coworker term, so
    # that the coworker share can be defined on what LEO shows: others whose released row names the enterprise)
    i_e, k_e, kr_e = cells_by_key(EMP & (T2 >= 2003))
    n_e = len(i_e)
    ue = rr.random((n_e, 6), dtype=np.float32)
    neg = ue[:, 0] < M["negative_adjustment_rows"]
    zero = ue[:, 1] < M["zero_pay_rows"]
    low = (np.round(earn0[i_e, k_e]) < M["low_earner_threshold"]) | neg | zero
    f_e = F[i_e, k_e].astype(np.int64)
    small = firms["band"][f_e] == 0
    drop_low = low & small & (ue[:, 2] < M["low_earner_small_employer_drop"])
    drop_miss = ue[:, 3] < M["missing_person_year"]
    keep = ~(drop_low | drop_miss)
    no_link = rr.random(n_e) < M["main_enterprise_missing"]
    VIS = np.zeros((N, Y), bool)              # person-years whose released earnings row names the main enterprise
    VIS[i_e[keep & ~no_link], k_e[keep & ~no_link]] = True
    S, n_cow = _coworker_share(F, EMP, VIS, graduated, J)
    Ccomp = np.float32(kappa) * np.nan_to_num(S, nan=0.0)
    logy += Ccomp
    earn_true = np.exp(np.nan_to_num(logy, nan=-np.inf)) * pay_factor
    del earn0, pay_factor
    say("labour: earnings and spells done")
    earn = np.round(earn_true[i_e, k_e])
    earn[neg | zero] = 0.0
    second = ue[:, 4] < M["secondary_job"]
    share = main_days[i_e, k_e] / np.maximum(days[i_e, k_e], 1)
    share = share * np.where(second, 0.80 + 0.17 * ue[:, 5], 1.0)
    nemp = 1 + (p_days[i_e, k_e] > 0) + second
    ent_earn = np.floor(earn * share)
    sel = np.flatnonzero(keep)
    k_s, kr = k_e[sel], kr_e[sel]
    f_s = f_e[sel]
    nl = no_link[sel]
    sic_idx = np.where(nl, -1, f_s + J * (years[k_s] > 2016))
    earnings = pd.DataFrame({
        "Edukey": pd.Series(key_str.take(kr)),
        "TaxYear": tyc[k_s],
        "Earnings": earn[sel].astype(np.int64),
        "main_enterprise": pd.Series(ent_arr.take(np.where(nl, -1, f_s), allow_fill=True)),
        "enterprise_earnings": np.where(nl, np.nan, ent_earn[sel]),
        "Num_Employments": nemp[sel].astype(np.int64),
        "Main_Section": pd.Series(sec_str.take(np.where(nl, -1, firms["section"][f_s]), allow_fill=True)),
        "Main_SIC2007": pd.Series(sic_str.take(sic_idx, allow_fill=True)),
    }, copy=False)
    # workers as LEO records them (for the synthetic-only output table): released rows naming a main enterprise
    rel = sel[~nl]
    rel_i, rel_k, rel_f = i_e[rel], k_e[rel], f_e[rel]
    del i_e, k_e, kr_e, ue, earn, share, ent_earn, nemp, f_e
    realised_mess = {
        "earnings_rows": int(len(earnings)),
        "zero_earnings_row_share": float((earnings["Earnings"] == 0).mean()) if len(earnings) else 0.0,
        "dropped_low_earner_small_employer_share": float(drop_low.mean()) if n_e else 0.0,
        "dropped_missing_person_year_share": float(drop_miss.mean()) if n_e else 0.0,
        "main_enterprise_missing_share": float(earnings["main_enterprise"].isna().mean()) if len(earnings) else 0.0,
    }
    say(f"labour: leo_earnings {len(earnings):,} rows")
    s.put(Ccomp=Ccomp, S=S, earn_true=earn_true, earnings=earnings, logy=logy, n_cow=n_cow,
        realised_mess=realised_mess, rel=rel, rel_f=rel_f, rel_i=rel_i, rel_k=rel_k)


def _leo_employment(s: _LabourState) -> None:
    """leo_employment: one row per released spell."""
    EMP, L, TS, Y, e_day, endoff_next, key_str = s.get("EMP L TS Y e_day endoff_next key_str")
    keys_for, rr, s_day, say = s.get("keys_for rr s_day say")
    M, ends_here, moved_out, new_start = s.take("M ends_here moved_out new_start")
    # ---- leo_employment (spells) ----------------------------------------------------------------
    flat_emp = EMP.ravel()
    idx = np.flatnonzero(flat_emp)
    ns = new_start.ravel()[idx]
    st_pos = np.flatnonzero(ns)
    en_pos = np.r_[st_pos[1:] - 1, len(idx) - 1] if len(st_pos) else np.array([], np.int64)
    st_cell, en_cell = idx[st_pos], idx[en_pos]
    si, sk = np.divmod(st_cell, Y)
    ei, ek = np.divmod(en_cell, Y)
    start = TS[sk] + s_day[si, sk].astype("timedelta64[D]")
    mo = moved_out[ei, ek]
    ongoing = ~ends_here[ei, ek]
    ek1 = np.minimum(ek + 1, Y - 1)
    end_mo = TS[ek1] + endoff_next[ei, ek].astype("timedelta64[D]")
    end_plain = TS[ek] + e_day[ei, ek].astype("timedelta64[D]")
    end = np.where(mo, end_mo, end_plain)
    nsp = len(st_cell)
    us = rr.random((nsp, 3))
    unc_s = us[:, 0] < M["uncertain_start"]
    unc_e = (us[:, 1] < M["uncertain_end"]) & ~ongoing
    start = np.where(unc_s, TS[sk], start)
    end = np.where(unc_e, TS[ek] + (L[ek] - 1).astype("timedelta64[D]"), end)
    end = np.maximum(end, start)
    keep_sp = (us[:, 2] >= M["spell_missing"]) & (end >= np.datetime64("1997-04-06"))
    start = np.maximum(start, np.datetime64("1997-04-06"))
    kr_sp = keys_for(si, sk)
    emp_df = pd.DataFrame({
        "EduKey_rank": kr_sp, "StartDate": start.astype("datetime64[ns]"), "EndDate": end.astype("datetime64[ns]"),
        "UncertainStartDate": unc_s.astype(np.int64), "UncertainEndDate": unc_e.astype(np.int64),
    })
    emp_df.loc[ongoing, "EndDate"] = pd.NaT
    emp_df = emp_df[keep_sp].sort_values(["EduKey_rank", "StartDate", "EndDate"], kind="stable").reset_index(drop=True)
    emp_df.insert(0, "EduKey", pd.Series(key_str.take(emp_df["EduKey_rank"].to_numpy())))
    employment = emp_df.drop(columns="EduKey_rank")
    say(f"labour: leo_employment {len(employment):,} spells")
    s.put(employment=employment)


def _other_tables(s: _LabourState) -> None:
    """leo_self_assessment, leo_benefit, geography, idbr_lookup and the synthetic-only enterprise output."""
    ABR, CLAIM, EMP, F, LA, RES, SE, Yeff = s.get("ABR CLAIM EMP F LA RES SE Yeff")
    ability, active, alpha, ent_arr, female = s.get("ability active alpha ent_arr female")
    firms, graduated, key_str, lm, people, say = s.get("firms graduated key_str lm people say")
    tyc, years = s.get("tyc years")
    L, R, T2, TS, cells_by_key, fsm, hl, keys_for = s.take("L R T2 TS cells_by_key fsm hl keys_for")
    rel, rel_f, rel_i, rel_k, rr, t16, theta = s.take("rel rel_f rel_i rel_k rr t16 theta")
    # ---- leo_self_assessment ---------------------------------------------------------------------
    i_a, k_a, kr_a = cells_by_key(SE & (T2 >= 2013))
    na = len(i_a)
    ua = rr.random((na, 2))
    se_earn = np.round(np.exp(9.25 + 0.5 * alpha[i_a] + Yeff[k_a] + rr.normal(0.0, 0.9, na)))
    se_earn = np.where(ua[:, 0] < 0.03, 0.0, se_earn)
    ptr = ua[:, 1] < 0.15
    sa = pd.DataFrame({
        "Edukey": pd.Series(key_str.take(kr_a)),
        "TaxYear": tyc[k_a],
        "Self_Employed": np.ones(na, np.int64),
        "EARNINGS_PTR": np.where(ptr, se_earn, np.nan),
        "EARNINGS_SOLE": np.where(ptr, np.nan, se_earn),
        "EARNINGS_SELF_EMPLOYMENT": se_earn,
    })

    # ---- leo_benefit ---------------------------------------------------------------------------
    benefit = _benefits(CLAIM, years, TS, L, female, ability, fsm, hl, t16, lm, rr, keys_for, key_str)
    say(f"labour: leo_benefit {len(benefit):,} spells; leo_self_assessment {len(sa):,} rows")

    # ---- geography -------------------------------------------------------------------------------
    geography = _geography(people, active, years, RES, LA, ABR, rr, cells_by_key, key_str)
    say(f"labour: geography {len(geography):,} rows")
    # ---- idbr_lookup -----------------------------------------------------------------------------
    idbr = _idbr(firms, F, EMP, years, ent_arr)
    say("labour: idbr_lookup done")

    # ---- synthetic-only enterprise output ----------------------------------------------------------
    output, truth_ent_year = _enterprise_output(firms, rel_i, rel_k, rel_f, graduated, years, Yeff, theta, R["output"],
                                                ent_arr)
    del rel, rel_i, rel_k, rel_f
    say(f"labour: syn_enterprise_output {len(output):,} enterprise-years")
    s.put(benefit=benefit, geography=geography, idbr=idbr, output=output, sa=sa, truth_ent_year=truth_ent_year)


def _realised(s: _LabourState) -> None:
    """Realised statistics of the simulated data (written to truth.json)."""
    Ccomp, Dcomp, EMP, EPS, F, JOIN, LP, PT, S = s.get("Ccomp Dcomp EMP EPS F JOIN LP PT S")
    SE, Xcomp, alpha, cohort, firms, grad_year = s.get("SE Xcomp alpha cohort firms grad_year")
    psi_cell, r_i, say, skill, truth_ent_year = s.get("psi_cell r_i say skill truth_ent_year")
    ability, c_sex, degree, female, lm, n_cow = s.take("ability c_sex degree female lm n_cow")
    truth, years = s.take("truth years")
    realised = _realised_stats(truth, years, lm, EMP, JOIN, LP, F, alpha, psi_cell, Xcomp, Dcomp, Ccomp, EPS, PT, S,
                               ability, skill, degree, grad_year, female, cohort, r_i, c_sex, firms, SE, n_cow,
                               truth_ent_year)
    say("labour: realised statistics done")
    s.put(realised=realised)


def _truth_tables(s: _LabourState) -> dict[str, Any]:
    """The truth tables and the result dict of :func:`simulate_labour`."""
    ABR, CLAIM, Ccomp, Dcomp, EMP, EPS, F, J = s.take("ABR CLAIM Ccomp Dcomp EMP EPS F J")
    JOIN, LA, LP, N, P, PT, RES, S, SE, Xcomp, Y = s.take("JOIN LA LP N P PT RES S SE Xcomp Y")
    Yeff, active, agec, alpha, benefit, cohort = s.take("Yeff active agec alpha benefit cohort")
    days, e_day, earn_true, earnings, emp_base = s.take("days e_day earn_true earnings emp_base")
    employment, endoff_next, ent_arr, exper = s.take("employment endoff_next ent_arr exper")
    firms, geography, grad_year, graduated, he = s.take("firms geography grad_year graduated he")
    he_end, idbr, in_he, in_school, key_str, lam = s.take("he_end idbr in_he in_school key_str lam")
    lam0, leave_school, logy, main_days = s.take("lam0 leave_school logy main_days")
    moved_london, output, p_days, people = s.take("moved_london output p_days people")
    psi_cell, pt_base, r_i, ramp, rank1, realised = s.take("psi_cell pt_base r_i ramp rank1 realised")
    realised_mess, s_day, sa, say, sec_arr, skill = s.take("realised_mess s_day sa say sec_arr skill")
    truth_ent_year, tyc = s.take("truth_ent_year tyc")
    # ---- truth tables ------------------------------------------------------------------------------
    t29 = tax_year_age29(cohort)
    truth_person = pd.DataFrame({
        "person_id": people["person_id"].to_numpy(np.int64),
        "edukey": pd.Series(key_str.take(rank1)),
        "person_effect": alpha,
        "unobserved_skill": skill,
        "degree_return_i": r_i,
        "degree_return_at_29": r_i * degree_ramp(grad_year, t29),
        "tax_year_age29": tax_year_code(t29).astype(np.int64),
        "labour_market_entry_tax_year": tax_year_code(np.where(he, he_end, leave_school)).astype(np.int64),
        "employment_propensity": emp_base,
        "part_time_propensity": pt_base,
        "moved_to_london": moved_london.astype(np.int64),
    })
    truth_ent = pd.DataFrame({
        "ENTKEY": pd.Series(ent_arr),
        "firm_premium": firms["psi"],
        "attraction_weight": firms["w"],
        "employees": firms["employees"],
        "size_band": pd.array(np.array(_SIZE_BANDS, dtype=object)[firms["band"]], dtype="str"),
        "section": pd.array(sec_arr[firms["section"]], dtype="str"),
        "region": pd.array(np.array(_GOR, dtype=object)[firms["region"]], dtype="str"),
        "birth_year": firms["birth_year"].astype(np.int64),
        "death_year": np.where(firms["death_year"] == 9999, np.nan, firms["death_year"]),
        "sample_worker_years": np.bincount(F[EMP], minlength=J).astype(np.int64),
    }).sort_values("ENTKEY", kind="stable").reset_index(drop=True)

    # truth_person_year: built column by column, freeing the person-year arrays as they are used
    A = active
    k_t = np.broadcast_to(np.arange(Y)[None, :], (N, Y))[A]
    i_t = np.broadcast_to(np.arange(N)[:, None], (N, Y))[A]
    status_code = np.where(in_school, 0, np.where(in_he, 1, 2)).astype(np.int8)[A]
    f_t = F[A].astype(np.int64)
    cols: dict[str, Any] = {}
    cols["person_id"] = people["person_id"].to_numpy(np.int64)[i_t]
    cols["edukey"] = pd.Series(key_str.take(rank1[i_t]))
    cols["TaxYear"] = tyc.astype(np.int32)[k_t]
    cols["age"] = agec[A].astype(np.int8)
    cols["status"] = pd.Series(pd.array(np.array(["school", "he", "lm"], dtype=object), dtype="str").take(status_code))
    cols["employed"] = (f_t >= 0).astype(np.int8)
    cols["self_employed"] = SE[A].astype(np.int8)
    cols["abroad"] = ABR[A].astype(np.int8)
    cols["out_of_work_benefit"] = CLAIM[A].astype(np.int8)
    cols["part_time"] = PT[A].astype(np.int8)
    del SE, ABR, CLAIM, PT, RES, LA, JOIN, LP
    cols["ENTKEY"] = pd.Series(ent_arr.take(f_t, allow_fill=True))
    cols["days_employed"] = days[A].astype(np.int16)
    cols["graduated"] = graduated[A].astype(np.int8)
    cols["experience"] = exper[A].astype(np.int8)
    del days, graduated, exper, main_days, p_days, s_day, e_day, endoff_next
    cols["person_effect"] = alpha.astype(np.float32)[i_t]
    cols["firm_premium"] = psi_cell[A]
    del psi_cell
    cols["year_effect"] = Yeff.astype(np.float32)[k_t]
    del i_t, k_t
    cols["experience_effect"] = Xcomp[A]
    del Xcomp
    cols["degree_ramp"] = ramp[A]
    del ramp
    cols["coworker_grad_share"] = S[A]
    del S
    c_t = Ccomp[A]
    c_t[f_t < 0] = np.nan
    cols["coworker_component"] = c_t
    del Ccomp, c_t, f_t
    cols["shock"] = EPS[A]
    del EPS
    cols["student_offset"] = np.where(status_code < 2, np.float32(P["student_offset"]), np.float32(0.0))
    del status_code
    ly = logy[A]
    del logy
    dc = Dcomp[A]
    del Dcomp
    cols["degree_component"] = dc
    cols["log_earnings_fte"] = ly
    cols["log_earnings_fte_no_degree"] = (ly - dc).astype(np.float32)
    cols["earnings_true"] = earn_true[A].astype(np.float32)
    del earn_true, ly, dc
    order_cols = ["person_id", "edukey", "TaxYear", "age", "status", "employed", "self_employed", "abroad",
                  "out_of_work_benefit", "part_time", "ENTKEY", "days_employed", "graduated", "experience",
                  "person_effect", "firm_premium", "year_effect", "experience_effect", "degree_ramp", "degree_component",
                  "coworker_grad_share", "coworker_component", "shock", "student_offset", "log_earnings_fte",
                  "log_earnings_fte_no_degree", "earnings_true"]
    truth_py = pd.DataFrame({c: cols.pop(c) for c in order_cols}, copy=False)

    realised.update({f"messiness_{k}": v for k, v in realised_mess.items()})
    realised["sorting_lambda"] = lam
    realised["sorting_lambda_gaussian"] = lam0
    say("labour: done")
    return {
        "leo_employment": employment,
        "leo_earnings": earnings,
        "leo_self_assessment": sa,
        "leo_benefit": benefit,
        "geography": geography,
        "idbr_lookup": idbr,
        "syn_enterprise_output": output,
        "truth_enterprise": truth_ent,
        "truth_enterprise_year": truth_ent_year,
        "truth_person": truth_person,
        "truth_person_year": truth_py,
        "_realised": realised,
    }


def _coworker_share(F, EMP, VIS, graduated, J) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out graduate share among a person's coworkers, and their number.

    Coworkers of an employed person-year (i, t) are the *other* persons whose released ``leo_earnings`` row for
    t names the same main enterprise (``VIS``: released with an enterprise), as a researcher sees them in LEO.
    NaN when there is no such coworker.
    """
    N, Y = F.shape
    S = np.full((N, Y), np.nan, np.float32)
    n_cow = np.zeros((N, Y), np.int32)
    for k in range(Y):
        e_k = np.flatnonzero(EMP[:, k])
        fk = F[e_k, k]
        v = VIS[e_k, k].astype(float)
        g = graduated[e_k, k].astype(float) * v
        n_f = np.bincount(fk, weights=v, minlength=J)
        g_f = np.bincount(fk, weights=g, minlength=J)
        n_o = n_f[fk] - v
        ok = n_o > 0
        s = np.full(len(e_k), np.nan)
        s[ok] = (g_f[fk][ok] - g[ok]) / n_o[ok]
        S[e_k, k] = s
        n_cow[e_k, k] = np.round(n_o).astype(np.int32)
    return S, n_cow


def _enterprise_output(firms, rel_i, rel_k, rel_f, graduated, years, Yeff, theta, rng, ent_arr):
    """Synthetic-only log output per worker of every enterprise-year that appears as a main enterprise in
    the released ``leo_earnings`` (2003/04 on).

    ``q_jt = output_mu + phi_j + Y_T + theta G_jt + nu_jt``: ``G_jt`` = share of graduates (first degree by
    tax year T) among the enterprise's workers as LEO records them, the persons whose ``leo_earnings`` row
    for T names j as ``main_enterprise`` (``rel_i``, ``rel_k``, ``rel_f``: person, year index and enterprise
    of those rows); ``phi_j`` = productivity, related to the enterprise's wage premium (graduates, who sort
    to high-premium enterprises through ability, work at more productive enterprises); ``nu_jt`` iid.
    """
    P = LABOUR_PARAMS
    J = len(firms["w"])
    Y = len(years)
    # enterprise-years in (ENTKEY, TaxYear) order
    rank = np.empty(J, np.int64)
    rank[np.argsort(np.asarray(ent_arr, dtype=object), kind="stable")] = np.arange(J)
    key = rank[rel_f.astype(np.int64)] * Y + rel_k.astype(np.int64)
    n_all = np.bincount(key, minlength=J * Y)
    g_all = np.bincount(key, weights=graduated[rel_i, rel_k].astype(float), minlength=J * Y)
    cells = np.flatnonzero(n_all)
    n_o, g_o = n_all[cells], g_all[cells]
    r_o, k_o = np.divmod(cells, Y)
    j_o = np.argsort(rank)[r_o]
    G = g_o / np.maximum(n_o, 1)
    nu = rng.normal(0.0, P["output_shock_sd"], len(j_o))
    phi = firms["phi"][j_o]
    yk = Yeff[k_o]
    q = P["output_mu"] + phi + yk + theta * G + nu
    tyc = tax_year_code(years[k_o]).astype(np.int64)
    truth_ey = pd.DataFrame({
        "ENTKEY": pd.Series(ent_arr.take(j_o)), "TaxYear": tyc, "workers": n_o.astype(np.int64),
        "graduates": np.round(g_o).astype(np.int64), "graduate_share": G, "productivity": phi, "year_effect": yk,
        "graduate_share_component": theta * G, "shock": nu, "log_output_per_worker": q,
    })
    out = truth_ey[["ENTKEY", "TaxYear"]].copy()
    out["syn_log_output_per_worker"] = truth_ey["log_output_per_worker"].to_numpy()
    return out, truth_ey


# ------------------------------------------------------------------------------------------
# Benefits, geography, IDBR
# ------------------------------------------------------------------------------------------
_BEN_CODES = ("JSA", "IS", "IB", "ESA", "UCE", "DLA", "PIP", "BB")
_OOW = {"JSA": 1, "IS": 1, "IB": 1, "ESA": 1, "UCE": 1, "DLA": 0, "PIP": 0, "BB": 0}


def _benefits(CLAIM, years, TS, L, female, ability, fsm, hl, t16, lm, rng, keys_for, key_str) -> pd.DataFrame:
    N, Y = CLAIM.shape
    i_c, k_c = _cell_index(CLAIM)
    u1 = rng.random(N)[i_c]
    u2 = rng.random(N)[i_c]
    T = years[k_c]
    p_is = 0.08 + 0.12 * female[i_c]
    uc_share = np.clip(0.12 * (T - 2012), 0.0, 0.85)
    legacy = np.where(T < 2008,
                      np.where(u1 < p_is, 1, np.where(u1 < p_is + 0.15, 2, 0)),
                      np.where(u1 < p_is, 1, np.where(u1 < p_is + 0.20, 3, 0)))
    code = np.where(u2 < uc_share, 4, legacy).astype(np.int8)
    TY = np.full((N, Y), -1, np.int8)
    TY[i_c, k_c] = code
    prev = np.where(k_c > 0, TY[i_c, np.maximum(k_c - 1, 0)], -1)
    nxt = np.where(k_c < Y - 1, TY[i_c, np.minimum(k_c + 1, Y - 1)], -2)
    del TY
    ns = code != prev
    ends = (code != nxt) & (nxt != -2)
    n_c = len(i_c)
    Ua = rng.random(n_c)
    Ub = rng.random(n_c)
    Lc = L[k_c]
    s_day = np.floor(Ua * Lc).astype(np.int64)
    e_day = np.where(ns, s_day + np.floor(Ub * (Lc - s_day)).astype(np.int64), np.floor(Ub * Lc).astype(np.int64))
    st_pos = np.flatnonzero(ns)
    en_pos = np.r_[st_pos[1:] - 1, n_c - 1] if len(st_pos) else np.array([], np.int64)
    si, sk = i_c[st_pos], k_c[st_pos]
    ek = k_c[en_pos]
    start = TS[sk] + s_day[st_pos].astype("timedelta64[D]")
    ongoing = ~ends[en_pos]
    end = TS[ek] + e_day[en_pos].astype("timedelta64[D]")
    end = np.maximum(end, start)
    typ = code[st_pos].astype(np.int64)
    kr = keys_for(si, sk)
    parts = [pd.DataFrame({"r": kr, "StartDate": start, "EndDate": np.where(ongoing, np.datetime64("NaT", "D"), end), "t": typ})]
    # disability benefits: DLA, replaced by PIP at reassessment (2014-2018); PIP for new claims from 2013
    t_last = int(years[-1])
    p_dis = _phi(-2.1 - 0.3 * ability + 0.2 * fsm + 0.2 * (hl <= 1))
    dis = np.flatnonzero(rng.random(N) < p_dis)
    nd = len(dis)
    reass = rng.integers(2014, 2019, nd)
    first = np.maximum(t16[dis] + rng.integers(0, 4, nd), int(years[0]))
    first = np.minimum(first, t_last)
    fk = first - int(years[0])
    d_start = TS[fk] + np.floor(rng.random(nd) * L[fk]).astype("timedelta64[D]")
    keep_pip = rng.random(nd) < 0.7
    has_dla = first < reass
    rk = np.minimum(reass, t_last) - int(years[0])
    r_date = TS[rk] + np.floor(rng.random(nd) * L[rk]).astype("timedelta64[D]")
    r_date = np.maximum(r_date, d_start + np.timedelta64(1, "D"))
    dla_end_ongoing = reass > t_last
    m = has_dla
    parts.append(pd.DataFrame({"r": keys_for(dis[m], fk[m]), "StartDate": d_start[m],
                               "EndDate": np.where(dla_end_ongoing[m], np.datetime64("NaT", "D"), r_date[m] - np.timedelta64(1, "D")),
                               "t": np.full(int(m.sum()), 5)}))
    m2 = (~has_dla) | (keep_pip & ~dla_end_ongoing)
    p_start = np.where(has_dla, r_date, d_start)
    parts.append(pd.DataFrame({"r": keys_for(dis[m2], fk[m2]), "StartDate": p_start[m2],
                               "EndDate": np.full(int(m2.sum()), np.datetime64("NaT", "D")), "t": np.full(int(m2.sum()), 6)}))
    # bereavement benefit: rare one-year spells in the labour market
    lm_any = lm.any(axis=1)
    bb = np.flatnonzero(lm_any & (rng.random(N) < 0.0015))
    if len(bb):
        kk = rng.integers(0, Y, len(bb))
        kk = np.maximum(kk, np.argmax(lm[bb], axis=1))
        b_start = TS[kk] + np.floor(rng.random(len(bb)) * L[kk]).astype("timedelta64[D]")
        b_end = b_start + np.timedelta64(364, "D")
        b_end = np.where(b_end > TS[-1] + np.timedelta64(int(L[-1]) - 1, "D"), np.datetime64("NaT", "D"), b_end)
        parts.append(pd.DataFrame({"r": keys_for(bb, kk), "StartDate": b_start, "EndDate": b_end, "t": np.full(len(bb), 7)}))
    df = pd.concat(parts, ignore_index=True)
    df["StartDate"] = df["StartDate"].astype("datetime64[ns]")
    df["EndDate"] = df["EndDate"].astype("datetime64[ns]")
    lo = pd.Timestamp("1999-04-06")
    df = df[(df["EndDate"].isna()) | (df["EndDate"] >= lo)].copy()
    df.loc[df["StartDate"] < lo, "StartDate"] = lo
    df = df.sort_values(["r", "StartDate", "t"], kind="stable").reset_index(drop=True)
    codes = np.array(_BEN_CODES, dtype=object)
    t = df["t"].to_numpy()
    return pd.DataFrame({
        "EduKey": pd.Series(key_str.take(df["r"].to_numpy())),
        "StartDate": df["StartDate"],
        "EndDate": df["EndDate"],
        "Benefit_type": pd.array(codes[t], dtype="str"),
        "Out_of_work_benefit": np.array([_OOW[c] for c in _BEN_CODES], dtype=np.int64)[t],
    })


def _geography(people, active, years, RES, LA, ABR, rng, cells_by_key, key_str) -> pd.DataFrame:
    N, Y = active.shape
    T2 = years[None, :]
    cells = active & (T2 >= 2004) & (rng.random((N, Y), dtype=np.float32) >= LABOUR_MESSINESS["geography_missing"])
    i_g, k_g, kr = cells_by_key(cells)
    del cells
    n = len(i_g)
    unknown = rng.random(n, dtype=np.float32) < 0.005
    abroad = ABR[i_g, k_g]
    res = RES[i_g, k_g].astype(np.int64)
    lsoa = people["lsoa11cd"].astype(object).to_numpy()
    codes, _ = pd.factorize(lsoa, sort=True)
    home_la = (codes.astype(np.int64) * 7 + 3) % 33
    la = LA[i_g, k_g].astype(np.int64)
    la = np.where(la < 0, home_la[i_g], la)
    # vocabulary: 11 residence codes x 33 LAs
    region_codes = list(_GOR) + ["W99999999", "S99999999"]
    region_names = list(_GOR_NAMES) + ["Wales", "Scotland"]
    ctry = ["England"] * 9 + ["Wales", "Scotland"]
    la_vocab = [f"{'E' if r < 9 else ('W' if r == 9 else 'S')}A{r + 1:02d}{j:02d}" for r in range(11) for j in range(33)]
    blank = unknown | abroad
    vocab = lambda xs: pd.array(np.array(xs, dtype=object), dtype="str")  # noqa: E731
    ctry_code = np.where(abroad, 11, np.where(unknown, 12, res))
    res_b = np.where(blank, -1, res)
    return pd.DataFrame({
        "Edukey": pd.Series(key_str.take(kr)),
        "TaxYear": tax_year_code(years).astype(np.int64)[k_g],
        "LAUA_anon": pd.Series(vocab(la_vocab).take(np.where(blank, -1, res * 33 + la), allow_fill=True)),
        "GOR": pd.Series(vocab(region_codes).take(res_b, allow_fill=True)),
        "GORNM": pd.Series(vocab(region_names).take(res_b, allow_fill=True)),
        "CTRYNM": pd.Series(vocab(ctry + ["Abroad", "Unknown"]).take(ctry_code)),
    }, copy=False)


def _idbr(firms, F, EMP, years, ent_arr) -> pd.DataFrame:
    J = len(firms["w"])
    T2 = np.broadcast_to(years[None, :], F.shape)
    m = EMP & (T2 >= 2003)
    linked = np.bincount(F[m], minlength=J) > 0
    rows = []
    by = firms["birth_year"]
    dy = firms["death_year"]
    birth = (pd.to_datetime(pd.DataFrame({"year": by - 1, "month": 4 + (firms["birth_month"] - 1) % 9, "day": 1}))
             .to_numpy().astype("datetime64[ns]"))
    dy_c = np.where(dy == 9999, 2100, dy)
    death = (pd.to_datetime(pd.DataFrame({"year": dy_c, "month": 1 + (firms["death_month"] - 1) % 3, "day": 1}))
             .to_numpy().astype("datetime64[ns]"))
    for src, extract, sic in (("2019", np.datetime64("2018-01-01"), firms["sic"]),
                              ("2020", np.datetime64("2020-09-01"), firms["sic2020"])):
        sel = np.flatnonzero(linked & (birth < extract))
        dd = death[sel]
        rows.append(pd.DataFrame({
            "ENTKEY": pd.Series(ent_arr.take(sel)),
            "SIC2007": pd.array(np.char.zfill(sic[sel].astype(str), 5).astype(object), dtype="str"),
            "SECTIONNAME": pd.array(np.array(_SECTIONS, dtype=object)[firms["section"][sel]], dtype="str"),
            "Govt_Region": pd.array(np.array(_GOR, dtype=object)[firms["region"][sel]], dtype="str"),
            "legalstatus": pd.array(np.array(_LEGAL, dtype=object)[firms["legal"][sel]], dtype="str"),
            "Employees": pd.array(np.array(_SIZE_BANDS, dtype=object)[firms["band"][sel]], dtype="str"),
            "Birth_month": birth[sel],
            "Death_month": np.where(dd < extract, dd, np.datetime64("NaT", "D")).astype("datetime64[ns]"),
            "SourceYear": pd.array(np.full(len(sel), src, dtype=object), dtype="str"),
        }))
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["ENTKEY", "SourceYear"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# Realised statistics
# ------------------------------------------------------------------------------------------
def _largest_connected(F, EMP, lm, J) -> tuple[int, int, int]:
    """Largest connected set of the person-firm bipartite graph over employed labour-market years."""
    N = F.shape[0]
    m = EMP & lm
    i, k = np.nonzero(m)
    f = F[i, k]
    if len(f) == 0:
        return 0, 0, 0
    A = coo_matrix((np.ones(len(i)), (i, N + f)), shape=(N + J, N + J)).tocsr()
    _, lab = connected_components(A, directed=False)
    cell_lab = lab[N + f]
    counts = np.bincount(cell_lab)
    big = int(np.argmax(counts))
    firms_in = int(np.unique(f[cell_lab == big]).size)
    persons_in = int(np.unique(i[cell_lab == big]).size)
    return firms_in, persons_in, int(counts[big])


def _akm_decomposition(pid, y, psi, xb) -> dict[str, float]:
    """Variance shares of ``y = p_i + psi + xb + r`` with ``p_i`` the person mean of ``y - psi - xb``.

    This is the decomposition an AKM model with the true enterprise premia and covariates implies: every
    person-level component (the person effect, and the person's average part-time term, degree component
    and transitory shock over the sample years) is in ``p_i``; year-to-year deviations are in ``r``.
    Shares sum to 1: person var(p), firm var(psi), sorting 2cov(p, psi), xb var(xb) + 2cov(xb, p + psi + r),
    residual var(r) + 2cov(r, psi) (cov(p, r) = 0 by construction).
    """
    rest = y - psi - xb
    cnt = np.bincount(pid)
    pmean = np.bincount(pid, weights=rest) / np.maximum(cnt, 1)
    p = pmean[pid]
    r = rest - p
    V = y.var()

    def cov(a, b):
        return float(np.mean((a - a.mean()) * (b - b.mean())))

    xb_part = xb.var() + 2 * cov(xb, p) + 2 * cov(xb, psi) + 2 * cov(xb, r)
    Vn = V - xb_part          # = var(y - xb)
    parts = {"person": p.var(), "firm": psi.var(), "sorting": 2 * cov(p, psi), "residual": r.var() + 2 * cov(r, psi)}
    out = {"var": float(V), "var_net_of_xb": float(Vn), "xb": xb_part / V,
           "corr_person_firm": cov(p, psi) / math.sqrt(max(p.var() * psi.var(), 1e-300))}
    out.update({k: v / V for k, v in parts.items()})
    out.update({f"{k}_net_of_xb": v / Vn for k, v in parts.items()})
    return out


def _realised_stats(truth, years, lm, EMP, JOIN, LP, F, alpha, psi_cell, Xcomp, Dcomp, Ccomp, EPS, PT, S, ability, skill,
                    degree, grad_year, female, cohort, r_i, c_sex, firms, SE, n_cow, truth_ent_year) -> dict:
    """Statistics of the generated population (DGP facts for truth.json ``_realised``).

    Calibration figures against published statistics are not computed here: they are computed from the
    released tables, as a researcher would, by :func:`leokit.synth.calibration.calibration_table`.
    """
    out: dict[str, Any] = {}
    N, Y = EMP.shape
    J = len(firms["w"])
    m = EMP & lm
    T2 = years[None, :]
    # ---- AKM decomposition of the log PAYE pay rate net of year effects ---------------------------
    agec = age_in_taxyear(T2, cohort[:, None])
    ms = m & (T2 >= 2003) & (agec >= AKM_MIN_AGE)
    i, k = np.nonzero(ms)
    if len(i) > 10:
        ptl = PART_TIME_LOG_FACTOR * PT[i, k]
        psi = psi_cell[i, k].astype(float)
        xb = Xcomp[i, k].astype(float) + Ccomp[i, k].astype(float)
        y = alpha[i] + psi + xb + Dcomp[i, k] + EPS[i, k] + ptl
        d = _akm_decomposition(i, y, psi, xb)
        out["akm_sample"] = (f"employed labour-market person-years from 2003/04 (tax years with PAYE earnings records) "
                             f"at cohort age {AKM_MIN_AGE} and over; outcome log PAYE pay rate net of year effects")
        out["akm_min_age"] = AKM_MIN_AGE
        out["akm_person_years"] = int(len(i))
        out["akm_log_pay_rate_var"] = d["var"]
        out["akm_person_variance_share"] = d["person"]
        out["akm_firm_variance_share"] = d["firm"]
        out["akm_sorting_covariance_share"] = d["sorting"]
        out["akm_xb_variance_share"] = d["xb"]
        out["akm_residual_variance_share"] = d["residual"]
        # the same components as shares of var(y - xb): the pay variance net of the age and coworker terms, the
        # scale of prime-age AKM studies (little age variation); these are compared with the literature
        out["akm_log_pay_rate_var_net_of_xb"] = d["var_net_of_xb"]
        for kk in ("person", "firm", "sorting", "residual"):
            out[f"akm_{kk}_share_net_of_xb"] = d[f"{kk}_net_of_xb"]
        out["corr_person_firm_effect"] = d["corr_person_firm"]
        V = d["var"]
        out["akm_person_effect_alpha_variance_share"] = float(alpha[i].var() / V)
        out["akm_part_time_term_variance_share"] = float(ptl.var() / V)
        out["akm_shock_variance_share"] = float(EPS[i, k].astype(float).var() / V)  # float64: float32 sums differ by NumPy version
        out["part_time_share_employed_lm"] = float(PT[i, k].mean())
        out["part_time_share_employed_lm_female"] = float(PT[i, k][female[i]].mean()) if female[i].any() else None
        out["part_time_share_employed_lm_male"] = float(PT[i, k][~female[i]].mean()) if (~female[i]).any() else None
        out["firm_effect_sd_worker_weighted"] = float(psi.std())
        out["firm_effect_sd_unweighted"] = float(firms["psi"].std())
    # sorting on ability: corr(ability, premium of the enterprise joined on the employer path)
    jr, jk = np.nonzero(JOIN)
    if len(jr) > 2:
        pj = firms["psi"][LP[jr, jk]]
        out["realised_sorting_corr"] = float(np.corrcoef(ability[jr], pj)[0, 1]) if pj.std() > 0 else float("nan")
    # sorting on unobserved skill towards graduate-rich workforces (the reason person fixed effects are needed)
    ok = m & np.isfinite(S)
    i2, k2 = np.nonzero(ok)
    if len(i2) > 10:
        f2 = F[i2, k2].astype(np.int64)
        cnt = np.maximum(np.bincount(f2, minlength=J), 1)
        s2 = S[i2, k2].astype(float)
        u2 = skill[i2]
        sd = s2 - (np.bincount(f2, weights=s2, minlength=J) / cnt)[f2]
        ud = u2 - (np.bincount(f2, weights=u2, minlength=J) / cnt)[f2]
        out["corr_skill_coworker_share_within_enterprise"] = (
            float(np.corrcoef(sd, ud)[0, 1]) if sd.std() > 0 and ud.std() > 0 else float("nan"))
        out["corr_skill_coworker_share"] = float(np.corrcoef(s2, u2)[0, 1]) if s2.std() > 0 else float("nan")
    out["share_employed_with_coworkers"] = float(np.isfinite(S[EMP]).mean()) if EMP.any() else 0.0
    out["share_employed_lm_with_coworkers"] = float(np.isfinite(S[m]).mean()) if m.any() else 0.0
    out["coworkers_median_employed_lm"] = float(np.median(n_cow[m])) if m.any() else 0.0
    # movers: persons with >= 2 distinct labour-market employers
    Fm = np.where(m, F, -1)
    prev = np.concatenate([np.full((N, 1), -1), Fm[:, :-1]], axis=1)
    chg = m & (prev >= 0) & (Fm != prev)
    lm_emp_persons = m.any(axis=1)
    out["share_movers"] = float(chg.any(axis=1)[lm_emp_persons].mean()) if lm_emp_persons.any() else 0.0
    cont = m & (prev >= 0)
    out["annual_job_move_rate"] = float(chg.sum() / max(cont.sum(), 1))
    fc, pc, cc = _largest_connected(F, EMP, lm, J)
    out["largest_connected_set_firms"] = fc
    out["largest_connected_set_persons"] = pc
    out["largest_connected_set_person_years"] = cc
    out["largest_connected_set_share_person_years"] = float(cc / max(m.sum(), 1))
    out["enterprises"] = int(J)
    sz = np.bincount(F[m], minlength=J)
    out["enterprise_sample_worker_years_max"] = int(sz.max()) if len(sz) else 0
    out["enterprise_sample_worker_years_p50_nonzero"] = float(np.median(sz[sz > 0])) if (sz > 0).any() else 0.0
    # degree return at 29 (cohort convention, leokit.years): exact over all graduates by construction
    t29 = tax_year_age29(cohort)
    ramp29 = degree_ramp(grad_year, t29)
    k29 = t29 - int(years[0])
    obs29 = (k29 >= 0) & (k29 < Y)
    emp29 = np.zeros(N, bool)
    emp29[obs29] = m[np.flatnonzero(obs29), k29[obs29]]
    for sex, msk in (("female", female), ("male", ~female)):
        g = degree & msk
        out[f"degree_return_{sex}_att_at_29"] = float((r_i[g] * ramp29[g]).mean()) if g.any() else float("nan")
        ge = g & emp29
        out[f"degree_return_{sex}_mean_over_employed_at_29"] = (
            float((r_i[ge] * ramp29[ge]).mean()) if ge.any() else float("nan"))
        out[f"graduates_{sex}_employed_at_29_n"] = int(ge.sum())
    out["degree_return_centring_constant_female"] = c_sex.get("F", 0.0)
    out["degree_return_centring_constant_male"] = c_sex.get("M", 0.0)
    # self-employment share of labour-market person-years aged 18+ (2013/14 on)
    w = lm & (agec >= 18) & (T2 >= 2013)
    out["self_employed_share_lm_2013_on"] = float(SE[w].mean()) if w.any() else 0.0
    # synthetic-only enterprise output
    te = truth_ent_year
    if len(te) > 10:
        out["enterprise_output_rows"] = int(len(te))
        gs = te["graduate_share"].to_numpy()
        out["corr_productivity_graduate_share"] = (float(np.corrcoef(te["productivity"], gs)[0, 1]) if gs.std() > 0
                                                   else float("nan"))
        out["enterprise_output_graduate_share_mean"] = float(te["graduate_share"].mean())
    return out
