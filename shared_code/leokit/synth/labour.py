"""Labour-market side of the synthetic LEO generator: firms, jobs, PAYE earnings, spells, SA, benefits.

Entry point: :func:`simulate_labour` (the contract with the education side of the generator)::

    simulate_labour(people, truth, rng, last_tax_year=202021, progress=None) -> dict

It turns one row per synthetic person (education history already simulated) into the HMRC/DWP
outcome tables of the LEO I2 standard extract (``leo_employment``, ``leo_earnings``,
``leo_self_assessment``, ``leo_benefit``, ``geography``, ``idbr_lookup``), the hidden tables
``truth_enterprise``, ``truth_person`` and ``truth_person_year``, and ``_realised``, a dict of
statistics measured on the generated data (AKM shares, sorting, mobility, connected set,
calibration figures, messiness rates). The model is written out, with the calibration targets
and what is achieved, in ``LABOUR_DGP.md`` next to this file; this docstring is the summary.

Time convention
---------------
A tax year is identified by the calendar year ``T`` in which it starts (6 April T - 5 April T+1)
and coded ``TaxYear = 100*T + (T+1) % 100`` (2004 -> 200405). The *age reached in tax year T* is
the age at the birthday that falls inside that tax year::

    age(T) = T - birth_year + [birth_month <= 3]

(January-March birthdays fall in calendar year T+1; 1-5 April birthdays are treated as April).
The outcome point of ``degree_return_*`` ("the tax year in which the person reaches age 29") is
``T29 = birth_year + 29 - [birth_month <= 3]`` (:func:`tax_year_age29`). A person is simulated
from the tax year in which they reach 16 to ``last_tax_year``; earnings rows are released from
2003/04 (first P14 year). Years after graduation follow DfE: k YAG is tax year ``grad_year + k``
(``grad_year`` = end year of the academic year of graduation; tax year ``grad_year`` is 0 YAG).

Activity
--------
Each person-year is *school/college* (16 to leaving: highest level 1-2 leave at 16 or 17, level 3
at 18, level 4 at 19), *HE* (tax years T with academic year T+1 in [he_entry_year, end of study];
graduates end in ``grad_year``, non-completers one or two years after entry) or *labour market*
(``lm``). Students hold low-paid PAYE jobs (probability about 0.3 at school, 0.45 in HE) at
retail/hospitality/admin/arts enterprises. In the labour market each year a person may be abroad
(persistent spells, more for graduates), self-employed (Markov; more among men and older
workers), PAYE-employed (probit with state dependence on last year's employment, a persistent
person effect, ability, background, FSM, qualification level and a small degree shift; lower when
self-employed and for women from 27) and, if not employed, on out-of-work benefits (persistent;
more with low ability/background, FSM and low qualifications). Employed person-years are
part-time with a persistent probability (more for women from 27, less with ability/background);
part-time multiplies annual pay by 0.6 but is not a log-earnings component.

Enterprises
-----------
``J = max(300, 0.2 N)`` enterprises for ``N`` persons, with Pareto(1.1) attraction weights ``w_j``
(capped at 0.6% of the total: a few enterprises employ hundreds or thousands of sample workers,
the median one employs one or two a year), a SIC 2007 section (UK employment shares) and 5-digit
code, a region (London over-represented), a national employee count (IDBR ``Employees`` band), a
birth year (20% born 2004-2020) and a death year (20% die in the window; large ones never). The
premium is ``psi_j = s (sec_j + reg_j + 0.05 z(log w_j) + N(0, 0.06^2)) - m`` with section and
region premia (finance/ICT/energy high, hospitality low; London +0.15); ``s, m`` give mean 0 and
SD ``truth['firm_effect_sd']`` over the expected distribution of *joined* enterprises under the
choice model below (worker weighting; the choice uses the standardised premium, so the rescaling
does not change who joins whom).

Mobility and sorting
--------------------
An employed person stays with last year's main enterprise with probability 0.84 (0.35 when leaving
education from a student job; forced move if the enterprise died). A mover/entrant joins an alive
enterprise in the region of residence (85%) or anywhere (15%) with::

    P(j | i) ∝ w_j exp(lambda a_i z_j),   z_j = w-standardised psi_j,  a_i = ability (16 bins)

``lambda`` is solved by bisection so that the expected ``corr(a_i, z_joined)`` under this choice
model (regional mixture included) equals ``truth['worker_firm_sorting']`` (a normal ``z`` would
give ``lambda = rho/sqrt(1-rho^2)``); the realised value is in ``_realised``.

Log earnings
------------
Full-year-equivalent log PAYE pay of an employed person-year (nominal £)::

    y*_it = mu + Y_T + alpha_i + psi_J(i,t) + X_s(e_it) + D_it r_i + kappa S_it + eps_it + c [in education]
    alpha_i = 0.29 ability + 0.08 background - 0.12 [female] + u_i,   u_i ~ N(0, 0.10^2),   mu = 9.54
    X_s(e)  = b_s (1 - exp(-e/10)),  b_M = 0.44, b_F = 0.37,  e = years since leaving school/college (HE years count)
    D_it    = min(1, (T - grad_year + 1)/4) for graduates with T >= grad_year, else 0 (full from 3 YAG)
    r_i     = degree_return_<sex> + dev_subject + dev_tariff - c_<sex>
    S_it    = leave-one-out share of graduates (degree and grad_year <= T) among the other sample
              persons with the same main enterprise in tax year T; undefined (NaN in the truth
              table) when there is no such coworker, and then contributes 0
    eps_it  = AR(1) (rho 0.6, stationary SD 0.09) + iid N(0, 0.05^2)
    Y_T     = cumulated nominal growth, 0 in 2015/16 (4%/yr to 2007, 1.5%/yr 2009-13, 2-3%/yr 2014-19, 1% 2020)
    c       = -1.6 (part-time student work)

``kappa = truth['coworker_graduate_share_effect']``. ``c_<sex>`` is chosen so that the mean of
``D_i(T29) r_i`` over *all* graduates of that sex (``D`` evaluated at the tax year they reach 29,
hypothetically when that is after ``last_tax_year``) equals ``degree_return_<sex>`` exactly - the
ATT at 29 that ``truth.py`` defines (:func:`degree_return_individual`). Annual pay is
``exp(y*) x days/365 x (0.6 if part-time)`` rounded to £, where ``days`` are days employed in the
tax year from the spells. Selection: degree attainment rises with ability and background
(education side) and so does ``alpha``, so naive graduate premia are biased upwards; ``ks2_z`` and
``ks4_z`` are noisy measures of ability and controlling for them removes most of the bias.

Spells
------
Consecutive years with the same main enterprise form one spell. A spell after non-employment
starts on a uniform day of its first tax year (not before the 16th birthday; not before mid-July
in the year of leaving education); a job-to-job move happens on a uniform day in the first half of
the tax year, the old spell ending 0-30 days earlier (the person then has two employments that
year and the new enterprise is the main one); a spell followed by non-employment ends on a uniform
day after its start. Spells still open at the end of ``last_tax_year`` have a missing ``EndDate``
(ongoing; INFERRED convention). 5% of start dates are defaulted to 6 April of the start tax year
(``UncertainStartDate = 1``) and 5% of end dates of ended spells to 5 April of the end tax year.

Messiness (rates in :data:`LABOUR_MESSINESS`): zero-pay rows and negative year totals floored to
0; rows under £2,500 at 0-9 employee enterprises dropped with probability 0.5; 1% of person-years
lost; 2% of rows without IDBR link (``main_enterprise``/``Main_*`` missing); 8% with a secondary
job (``Num_Employments`` + 1, ``enterprise_earnings`` < ``Earnings``); 1% of spells missing;
records of persons with a second EDUKEY split between the two keys by tax year; 2% of person-years
without a CIS address; 3% of enterprises re-coded (SIC) in the 2020 IDBR extract.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import truth as truth_mod

__all__ = [
    "simulate_labour",
    "LABOUR_PARAMS",
    "LABOUR_MESSINESS",
    "age_in_tax_year",
    "tax_year_code",
    "tax_year_age29",
    "degree_return_individual",
    "degree_ramp",
]

# ------------------------------------------------------------------------------------------
# Parameters (not part of the planted truth: calibration knobs, documented in LABOUR_DGP.md)
# ------------------------------------------------------------------------------------------
LABOUR_PARAMS: dict[str, Any] = {
    "mu": 9.54,                 # log £ full-year-equivalent base (2015/16 prices: Y_2015 = 0)
    "alpha_ability": 0.29,
    "alpha_background": 0.08,
    "alpha_female": -0.12,
    "alpha_sd": 0.10,
    "exp_b_male": 0.44,
    "exp_b_female": 0.37,
    "exp_tau": 10.0,
    "student_offset": -1.6,
    "shock_ar_rho": 0.6,
    "shock_ar_sd": 0.09,       # stationary SD of the AR(1) part
    "shock_iid_sd": 0.05,
    "firms_per_person": 0.20,
    "firm_pareto_shape": 1.1,
    "firm_weight_cap_share": 0.006,
    "stay_prob": 0.84,
    "stay_prob_entry": 0.35,   # staying with a student job when leaving education
    "own_region_prob": 0.85,
    "london_move_grad": 0.20,
    "ramp_years": 4,           # degree return reaches full value at 3 YAG
    "part_time_hours": 0.60,   # annual pay factor of a part-time person-year
}

#: Nominal log year effects: growth by calendar start year of the tax year (Y_2015 = 0).
_GROWTH = {**{t: 0.04 for t in range(1990, 2008)}, 2008: 0.03, **{t: 0.015 for t in range(2009, 2014)},
           2014: 0.02, 2015: 0.025, 2016: 0.025, 2017: 0.028, 2018: 0.03, 2019: 0.03, 2020: 0.01,
           **{t: 0.025 for t in range(2021, 2031)}}

#: Rates of the planted messiness in the released tables (targets; realised rates in ``_realised``).
LABOUR_MESSINESS: dict[str, float] = {
    "negative_adjustment_rows": 0.003,    # earnings rows whose year total is negative -> floored to 0
    "zero_pay_rows": 0.006,               # further rows with zero pay (employment with no pay)
    "low_earner_threshold": 2500.0,       # £; rows below this at 0-9 employee enterprises ...
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


# ------------------------------------------------------------------------------------------
# Small public helpers (deterministic; no randomness)
# ------------------------------------------------------------------------------------------
def tax_year_code(t):
    """TaxYear code of the tax year starting in April of calendar year ``t`` (2004 -> 200405)."""
    t = np.asarray(t)
    return t * 100 + (t + 1) % 100


def age_in_tax_year(birth_year, birth_month, t):
    """Age reached at the birthday falling in the tax year starting April ``t``."""
    return np.asarray(t) - np.asarray(birth_year) + (np.asarray(birth_month) <= 3)


def tax_year_age29(birth_year, birth_month):
    """Start year T of the tax year in which the person reaches age 29 (the degree-return outcome point)."""
    return np.asarray(birth_year) + 29 - (np.asarray(birth_month) <= 3)


def degree_ramp(grad_year, t, ramp_years: int | None = None):
    """Share of the degree return earned in tax year ``t``: min(1, (t - grad_year + 1)/ramp) for t >= grad_year."""
    ramp_years = ramp_years or LABOUR_PARAMS["ramp_years"]
    g = np.asarray(grad_year, dtype=float)
    x = (np.asarray(t, dtype=float) - g + 1.0) / ramp_years
    out = np.clip(x, 0.0, 1.0)
    return np.where(np.isnan(g), 0.0, out)


def degree_return_individual(people: pd.DataFrame, truth: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, float]]:
    """Individual full degree return ``r_i`` (log points) and the centring constants by sex.

    ``r_i = degree_return_<sex> + dev_subject + dev_tariff - c_<sex>`` for graduates (0 otherwise);
    ``c_sex`` makes the mean over graduates of that sex of ``r_i * degree_ramp(grad_year, T29)``
    equal ``degree_return_<sex>`` exactly. To evaluate a counterfactual subject/tariff for a
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
    t29 = tax_year_age29(people["birth_year"].to_numpy(), people["birth_month"].to_numpy())
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
    from math import sqrt
    return 0.5 * (1.0 + _erf(np.asarray(x) / sqrt(2.0)))


def _erf(x):
    # Abramowitz-Stegun 7.1.26 (max abs error 1.5e-7)
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def _cell_index(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the True cells of a 2-D mask, in row-major order (as np.nonzero)."""
    y = mask.shape[1]
    flat = np.flatnonzero(mask.ravel())
    return flat // y, flat % y


def _noop(msg: str) -> None:
    return None


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
    # region block boundaries
    starts = np.searchsorted(region, np.arange(9), side="left")
    ends = np.searchsorted(region, np.arange(9), side="right")
    student_w = np.zeros(len(_SECTIONS))
    for s, v in _STUDENT_SECTIONS.items():
        student_w[_SECTIONS.index(s)] = v
    return dict(J=np.int64(J), w=w, region=region, section=section, psi=psi, zraw=zraw, employees=employees, band=band,
                birth_year=birth_year, death_year=death_year, birth_month=birth_month, death_month=death_month,
                sic=sic, sic2020=sic2020, legal=legal, ids=ids, rstart=starts, rend=ends,
                student_w=student_w[section] * w / w.mean())


class _FirmSampler:
    """Draw enterprises for movers: P(j) ∝ w_j exp(lambda a z_j) among alive enterprises, by region."""

    def __init__(self, firms, lam: float, nbins: int = 16):
        self.f = firms
        self.lam = lam
        self.nbins = nbins
        self.z = firms["zraw"]
        qs = (np.arange(nbins) + 0.5) / nbins
        # bin midpoints of a standard normal ability
        self.mid = np.array([_norm_ppf(q) for q in qs])
        self.edges = np.array([_norm_ppf(q) for q in np.arange(1, nbins) / nbins])

    def set_year(self, t: int) -> None:
        f = self.f
        alive = (f["birth_year"] <= t) & (f["death_year"] > t)
        self.alive = alive
        base = f["w"] * alive
        self.C = np.cumsum(base[None, :] * np.exp(self.lam * self.mid[:, None] * self.z[None, :]), axis=1)
        self.Cs = np.cumsum(f["student_w"] * alive)

    def draw(self, ability: np.ndarray, region: np.ndarray, national: np.ndarray, rng, student: bool = False) -> np.ndarray:
        n = len(ability)
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
            C = self.Cs
            lo_c = np.where(lo_idx > 0, C[np.maximum(lo_idx - 1, 0)], 0.0)
            hi_c = C[hi_idx - 1]
            empty = hi_c <= lo_c
            lo_c = np.where(empty, 0.0, lo_c)
            hi_c = np.where(empty, C[-1], hi_c)
            out[:] = np.searchsorted(C, lo_c + u * (hi_c - lo_c), side="right")
        else:
            b = np.searchsorted(self.edges, ability)
            for k in np.unique(b):
                m = b == k
                C = self.C[k]
                li, hi = lo_idx[m], hi_idx[m]
                lo_c = np.where(li > 0, C[np.maximum(li - 1, 0)], 0.0)
                hi_c = C[hi - 1]
                empty = hi_c <= lo_c
                lo_c = np.where(empty, 0.0, lo_c)
                hi_c = np.where(empty, C[-1], hi_c)
                out[m] = np.searchsorted(C, lo_c + u[m] * (hi_c - lo_c), side="right")
        return np.minimum(out, J - 1)


def _calibrate_lambda(firms, rho: float, nbins: int = 16) -> float:
    """Tilt lambda such that corr(ability, z of the joined enterprise) = rho in expectation.

    Uses the sampler's structure (ability bins; 85% own region with regions weighted by their
    enterprise share, 15% national) with all enterprises alive; solved by bisection.
    """
    if abs(rho) < 1e-9:
        return 0.0
    samp = _FirmSampler(firms, 0.0, nbins)
    z, w, mid = samp.z, firms["w"], samp.mid
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
    samp = _FirmSampler(firms, lam, nbins)
    w, z, mid = firms["w"], samp.z, samp.mid
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


# ------------------------------------------------------------------------------------------
# Main entry point
# ------------------------------------------------------------------------------------------
def simulate_labour(people: pd.DataFrame, truth: Mapping[str, Any], rng: np.random.Generator,
                    last_tax_year: int = 202021, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Simulate the HMRC/DWP outcome tables for ``people`` (see the module docstring).

    Returns a dict with the released tables ``leo_employment``, ``leo_earnings``,
    ``leo_self_assessment``, ``leo_benefit``, ``geography``, ``idbr_lookup``; the hidden tables
    ``truth_enterprise``, ``truth_person``, ``truth_person_year``; and ``_realised`` (dict of
    statistics). Only ``rng`` is used for randomness, so equal inputs give identical outputs.
    """
    say = progress or _noop
    P = LABOUR_PARAMS
    M = LABOUR_MESSINESS
    truth = {**truth_mod.default_truth(), **dict(truth)}
    kappa = float(truth["coworker_graduate_share_effect"])
    rho = float(truth["worker_firm_sorting"])
    rho = min(max(rho, -0.95), 0.95)
    lam0 = rho / math.sqrt(1.0 - rho ** 2)

    people = people.sort_values("person_id", kind="stable").reset_index(drop=True)
    N = len(people)
    t_last = int(last_tax_year) // 100
    by = people["birth_year"].to_numpy(np.int64)
    bm = people["birth_month"].to_numpy(np.int64)
    early = (bm <= 3).astype(np.int64)
    t16 = by + 16 - early
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

    # ---- education / activity timeline ----------------------------------------------------
    u = rng.random(N)
    leave_school = np.where(hl <= 2, cohort + (u < 0.5), np.where(hl == 3, cohort + 2, cohort + 3))
    leave_school = np.where(he, cohort + 2, leave_school)
    hey = np.where(he, np.nan_to_num(he_entry_year, nan=0), 0).astype(np.int64)
    u = rng.random(N)
    he_end = np.where(degree, np.nan_to_num(grad_year, nan=0).astype(np.int64), hey + 1 + (u < 0.5))
    T2 = years[None, :]
    age = T2 - by[:, None] + early[:, None]
    active = age >= 16
    in_he = he[:, None] & (T2 >= hey[:, None] - 1) & (T2 <= he_end[:, None] - 1)
    in_school = (T2 < leave_school[:, None]) & ~in_he
    lm = active & ~in_he & ~in_school
    edu = active & ~lm
    # experience = years since leaving school/college, HE years included, so that at a given age a graduate
    # and a comparable non-graduate have the same experience (the degree effect at 29 is then D * r only)
    exper = np.where(lm, np.cumsum(lm | in_he, axis=1) - 1, 0).astype(np.int16)
    first_lm = lm & ~np.concatenate([np.zeros((N, 1), bool), lm[:, :-1]], axis=1)

    # ---- person-level draws -----------------------------------------------------------------
    alpha = (P["alpha_ability"] * ability + P["alpha_background"] * background
             + P["alpha_female"] * female + rng.normal(0.0, P["alpha_sd"], N))
    emp_base = (0.30 * ability + 0.20 * background - 0.25 * fsm + 0.20 * (hl >= 3) - 0.35 * (hl <= 1)
                + 0.10 * degree + rng.normal(0.0, 0.75, N))
    se_base = rng.normal(0.0, 0.6, N)
    claim_base = (-0.35 * ability - 0.20 * background + 0.30 * fsm + 0.30 * (hl <= 2) + 0.25 * (hl <= 1)
                  + rng.normal(0.0, 0.5, N))
    r_i, c_sex = degree_return_individual(people, truth)

    firms = _make_firms(N, truth, rng, t_first, t_last)
    J = int(firms["J"])
    lam = _calibrate_lambda(firms, rho)
    _rescale_to_joiners(firms, lam, float(truth["firm_effect_sd"]))
    sampler = _FirmSampler(firms, lam)
    say(f"labour: {J:,} enterprises")

    # ---- yearly loop: residence, abroad, self-employment, employment, employer -----------
    F = np.full((N, Y), -1, dtype=np.int32)
    ABR = np.zeros((N, Y), bool)
    SE = np.zeros((N, Y), bool)
    CLAIM = np.zeros((N, Y), bool)
    RES = np.zeros((N, Y), np.int8)
    EPS = np.zeros((N, Y), np.float32)
    JOIN = np.zeros((N, Y), bool)        # a new employer drawn this year
    res = home_region.copy()
    la_cur = np.full(N, -1, np.int64)    # -1 = home LA
    LA = np.zeros((N, Y), np.int8)
    ar = rng.normal(0.0, P["shock_ar_sd"], N)
    sd_innov = P["shock_ar_sd"] * math.sqrt(1 - P["shock_ar_rho"] ** 2)
    prev_f = np.full(N, -1, np.int64)
    prev_emp = np.zeros(N, bool)
    prev_se = np.zeros(N, bool)
    prev_abr = np.zeros(N, bool)
    prev_claim = np.zeros(N, bool)
    PT = np.zeros((N, Y), bool)
    prev_pt = np.zeros(N, bool)
    pt_base = -0.55 * ability - 0.20 * background + 0.25 * fsm + rng.normal(0.0, 0.5, N)
    for k, t in enumerate(years):
        lm_k, edu_k, fl = lm[:, k], edu[:, k], first_lm[:, k]
        sampler.set_year(int(t))
        # residence (codes 0-8 English regions, 9 Wales, 10 Scotland)
        uu = rng.random((N, 4))
        to_london = fl & degree & (uu[:, 0] < P["london_move_grad"]) & (res <= 8)
        res = np.where(to_london, _LONDON, res)
        la_cur = np.where(to_london, rng.integers(0, 33, N), la_cur)
        to_celtic = fl & (uu[:, 1] < 0.02)
        res = np.where(to_celtic, 9 + (uu[:, 2] < 0.4), res)
        mover = lm_k & ~fl & (uu[:, 3] < 0.01)
        new_reg = rng.integers(0, 9, N)
        res = np.where(mover, new_reg, res)
        la_cur = np.where(mover, rng.integers(0, 33, N), la_cur)
        RES[:, k] = res
        LA[:, k] = la_cur
        uu = rng.random((N, 6))
        # abroad
        p_ab = np.where(fl, 0.02 + 0.03 * degree, 0.004)
        abr = lm_k & np.where(prev_abr, uu[:, 0] < 0.75, uu[:, 0] < p_ab)
        # self-employment (Markov)
        p_se = _phi(-2.55 + 0.35 * ~female + 0.04 * (age[:, k] - 25) + se_base)
        se = lm_k & ~abr & (age[:, k] >= 18) & np.where(prev_se, uu[:, 1] < 0.85, uu[:, 1] < p_se)
        # PAYE employment
        lat = (emp_base + np.where(prev_emp, 1.35, -0.05) + 0.4 * fl - 0.9 * se
               - 0.30 * (female & (age[:, k] >= 27)) + 0.56)
        lat_s = -0.55 + 0.2 * background + np.where(prev_emp, 0.9, 0.0) + 0.3 * in_he[:, k]
        emp = (lm_k & ~abr & (uu[:, 2] < _phi(lat))) | (edu_k & (uu[:, 3] < _phi(lat_s)))
        # benefits (out of work), persistent
        p_cl = _phi(-0.9 + claim_base + np.where(prev_claim, 1.0, 0.0))
        claim = lm_k & ~emp & ~abr & ~se & (uu[:, 4] < p_cl)
        # employer
        alive_prev = np.zeros(N, bool)
        hasp = prev_f >= 0
        alive_prev[hasp] = sampler.alive[prev_f[hasp]]
        p_stay = np.where(fl, P["stay_prob_entry"], np.where(lm_k, P["stay_prob"], 0.8))
        stay = emp & hasp & alive_prev & (uu[:, 5] < p_stay)
        f = np.where(stay, prev_f, -1)
        join = emp & ~stay
        national = rng.random(N) > P["own_region_prob"]
        jl = np.flatnonzero(join & lm_k)
        f[jl] = sampler.draw(ability[jl], np.where(res[jl] <= 8, res[jl], -1), national[jl], rng)
        je = np.flatnonzero(join & edu_k)
        f[je] = sampler.draw(ability[je], np.where(res[je] <= 8, res[je], -1), national[je], rng, student=True)
        # part-time (persistent; more for women from 26, less with ability/background)
        p_pt = _phi(-1.25 + pt_base + 0.55 * (female & (age[:, k] >= 27)))
        pt = emp & lm_k & np.where(prev_pt, rng.random(N) < 0.8, rng.random(N) < p_pt)
        PT[:, k] = pt
        prev_pt = pt
        F[:, k] = f
        JOIN[:, k] = join
        ABR[:, k] = abr
        SE[:, k] = se
        CLAIM[:, k] = claim
        ar = P["shock_ar_rho"] * ar + rng.normal(0.0, sd_innov, N)
        EPS[:, k] = ar + rng.normal(0.0, P["shock_iid_sd"], N)
        prev_f, prev_emp, prev_se, prev_abr, prev_claim = f, emp, se, abr, claim
    EMP = F >= 0
    say("labour: employment histories done")

    # ---- earnings components ------------------------------------------------------------------
    graduated = degree[:, None] & (T2 >= np.nan_to_num(grad_year, nan=9999)[:, None])
    S = np.full((N, Y), np.nan, np.float32)
    for k in range(Y):
        e_k = np.flatnonzero(EMP[:, k])
        fk = F[e_k, k]
        g = graduated[e_k, k].astype(float)
        n_f = np.bincount(fk, minlength=J)
        g_f = np.bincount(fk, weights=g, minlength=J)
        n_o = n_f[fk] - 1
        ok = n_o > 0
        s = np.full(len(e_k), np.nan)
        s[ok] = (g_f[fk][ok] - g[ok]) / n_o[ok]
        S[e_k, k] = s
    psi32 = firms["psi"].astype(np.float32)
    psi_cell = np.where(EMP, psi32[np.maximum(F, 0)], np.float32(np.nan))
    ramp = degree_ramp(grad_year[:, None], T2).astype(np.float32)
    Dcomp = ramp * r_i[:, None].astype(np.float32)
    bexp = np.where(female, P["exp_b_female"], P["exp_b_male"]).astype(np.float32)[:, None]
    Xcomp = np.where(lm, bexp * (1.0 - np.exp(-exper.astype(np.float32) / np.float32(P["exp_tau"]))), np.float32(0.0))
    Ycomp = np.broadcast_to(Yeff[None, :], (N, Y))
    Ccomp = np.float32(kappa) * np.nan_to_num(S, nan=0.0)
    logy = P["mu"] + Ycomp + alpha[:, None]
    logy += Xcomp
    logy += Dcomp
    logy += EPS
    logy += np.where(edu, np.float32(P["student_offset"]), np.float32(0.0))
    logy += np.nan_to_num(psi_cell)
    logy += Ccomp
    logy[~EMP] = np.nan

    # ---- spells, days ------------------------------------------------------------------------
    Lrow = L[None, :]
    Fprev = np.concatenate([np.full((N, 1), -1, np.int32), F[:, :-1]], axis=1)
    Fnext = np.concatenate([F[:, 1:], np.full((N, 1), -2, np.int32)], axis=1)  # -2: beyond the data (ongoing)
    new_start = EMP & (F != Fprev)
    moved_in = new_start & (Fprev >= 0)
    ends_here = EMP & (F != Fnext) & (Fnext != -2)
    moved_out = ends_here & (Fnext >= 0)
    U1 = rng.random((N, Y), dtype=np.float32)
    U2 = rng.random((N, Y), dtype=np.float32)
    U3 = rng.random((N, Y), dtype=np.float32)
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
    earn_true = np.exp(np.nan_to_num(logy, nan=-np.inf)) * (days / Lrow.astype(np.float64))
    earn_true[PT] *= P["part_time_hours"]
    say("labour: earnings and spells done")

    # ---- record keys (edukey / edukey2) ------------------------------------------------------
    edukey = people["edukey"].astype(object).to_numpy()
    ek2 = people["edukey2"].astype(object).to_numpy() if "edukey2" in people else np.full(N, None, object)
    has2 = pd.notna(ek2)
    USE2 = has2[:, None] & (rng.random((N, Y)) < M["edukey2_year_share"])
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

    # ---- leo_earnings -----------------------------------------------------------------------------
    i_e, k_e, kr_e = cells_by_key(EMP & (T2 >= 2003))
    n_e = len(i_e)
    ue = rng.random((n_e, 6), dtype=np.float32)
    earn = np.round(earn_true[i_e, k_e])
    neg = ue[:, 0] < M["negative_adjustment_rows"]
    zero = ue[:, 1] < M["zero_pay_rows"]
    earn[neg | zero] = 0.0
    f_e = F[i_e, k_e].astype(np.int64)
    small = firms["band"][f_e] == 0
    drop_low = (earn < M["low_earner_threshold"]) & small & (ue[:, 2] < M["low_earner_small_employer_drop"])
    drop_miss = ue[:, 3] < M["missing_person_year"]
    keep = ~(drop_low | drop_miss)
    second = ue[:, 4] < M["secondary_job"]
    share = main_days[i_e, k_e] / np.maximum(days[i_e, k_e], 1)
    share = share * np.where(second, 0.80 + 0.17 * ue[:, 5], 1.0)
    nemp = 1 + (p_days[i_e, k_e] > 0) + second
    ent_earn = np.floor(earn * share)
    no_link = rng.random(n_e) < M["main_enterprise_missing"]
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
    del i_e, k_e, kr_e, ue, earn, share, ent_earn, nemp, f_e
    realised_mess = {
        "earnings_rows": int(len(earnings)),
        "zero_earnings_row_share": float((earnings["Earnings"] == 0).mean()) if len(earnings) else 0.0,
        "dropped_low_earner_small_employer_share": float(drop_low.mean()) if n_e else 0.0,
        "dropped_missing_person_year_share": float(drop_miss.mean()) if n_e else 0.0,
        "main_enterprise_missing_share": float(earnings["main_enterprise"].isna().mean()) if len(earnings) else 0.0,
    }
    say(f"labour: leo_earnings {len(earnings):,} rows")

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
    us = rng.random((nsp, 3))
    unc_s = us[:, 0] < M["uncertain_start"]
    unc_e = (us[:, 1] < M["uncertain_end"]) & ~ongoing
    start = np.where(unc_s, TS[sk], start)
    end = np.where(unc_e, TS[ek] + (L[ek] - 1).astype("timedelta64[D]"), end)
    end = np.maximum(end, start)
    keep_sp = (us[:, 2] >= M["spell_missing"]) & (end >= np.datetime64("1997-04-06"))
    start = np.maximum(start, np.datetime64("1997-04-06"))
    kr_sp = keys_for(si, sk)
    endc = end.astype("datetime64[ns]").astype(object)
    emp_df = pd.DataFrame({
        "EduKey_rank": kr_sp, "StartDate": start.astype("datetime64[ns]"), "EndDate": end.astype("datetime64[ns]"),
        "UncertainStartDate": unc_s.astype(np.int64), "UncertainEndDate": unc_e.astype(np.int64),
    })
    del endc
    emp_df.loc[ongoing, "EndDate"] = pd.NaT
    emp_df = emp_df[keep_sp].sort_values(["EduKey_rank", "StartDate", "EndDate"], kind="stable").reset_index(drop=True)
    emp_df.insert(0, "EduKey", pd.Series(key_str.take(emp_df["EduKey_rank"].to_numpy())))
    employment = emp_df.drop(columns="EduKey_rank")
    say(f"labour: leo_employment {len(employment):,} spells")

    # ---- leo_self_assessment ---------------------------------------------------------------------
    i_a, k_a, kr_a = cells_by_key(SE & (T2 >= 2013))
    na = len(i_a)
    ua = rng.random((na, 2))
    se_earn = np.round(np.exp(9.25 + 0.5 * alpha[i_a] + Yeff[k_a] + rng.normal(0.0, 0.9, na)))
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
    benefit = _benefits(CLAIM, years, TS, L, female, ability, fsm, hl, t16, lm, rng, keys_for, key_str)
    say(f"labour: leo_benefit {len(benefit):,} spells; leo_self_assessment {len(sa):,} rows")

    # ---- geography -------------------------------------------------------------------------------
    geography = _geography(people, active, years, RES, LA, ABR, rng, cells_by_key, key_str)

    say(f"labour: geography {len(geography):,} rows")
    # ---- idbr_lookup -----------------------------------------------------------------------------
    idbr = _idbr(firms, F, EMP, years, ent_arr)

    say("labour: idbr_lookup done")
    realised = _realised_stats(people, truth, years, lm, EMP, JOIN, F, logy, alpha, psi_cell, Xcomp, Dcomp, Ycomp,
                               Ccomp, EPS, S, ability, earn_true, days, degree, grad_year, fsm, female, age, by, bm,
                               r_i, c_sex, firms, SE)
    say("labour: realised statistics done")
    # ---- truth tables ------------------------------------------------------------------------------
    t29 = tax_year_age29(by, bm)
    truth_person = pd.DataFrame({
        "person_id": people["person_id"].to_numpy(np.int64),
        "edukey": pd.Series(key_str.take(rank1)),
        "person_effect": alpha,
        "degree_return_i": r_i,
        "degree_return_at_29": r_i * degree_ramp(grad_year, t29),
        "tax_year_age29": tax_year_code(t29).astype(np.int64),
        "labour_market_entry_tax_year": tax_year_code(np.where(he, he_end, leave_school)).astype(np.int64),
        "employment_propensity": emp_base,
        "london_at_entry": (RES == _LONDON).any(axis=1).astype(np.int64),
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
    cols["age"] = age[A].astype(np.int8)
    cols["status"] = pd.Series(pd.array(np.array(["school", "he", "lm"], dtype=object), dtype="str").take(status_code))
    cols["employed"] = (f_t >= 0).astype(np.int8)
    cols["self_employed"] = SE[A].astype(np.int8)
    cols["abroad"] = ABR[A].astype(np.int8)
    cols["out_of_work_benefit"] = CLAIM[A].astype(np.int8)
    cols["part_time"] = PT[A].astype(np.int8)
    del SE, ABR, CLAIM, PT, RES, LA, JOIN
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
        "truth_enterprise": truth_ent,
        "truth_person": truth_person,
        "truth_person_year": truth_py,
        "_realised": realised,
    }


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
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
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


def _q(x, q):
    return float(np.quantile(x, q)) if len(x) else float("nan")


def _realised_stats(people, truth, years, lm, EMP, JOIN, F, logy, alpha, psi_cell, Xcomp, Dcomp, Ycomp, Ccomp, EPS, S,
                    ability, earn_true, days, degree, grad_year, fsm, female, age, by, bm, r_i, c_sex, firms, SE) -> dict:
    out: dict[str, Any] = {}
    N, Y = EMP.shape
    J = len(firms["w"])
    m = EMP & lm
    i, k = np.nonzero(m)
    y = logy[i, k] - Ycomp[i, k]   # net of the (nominal) year effects
    if len(y) > 10:
        v = y.var()
        a = alpha[i]
        p = psi_cell[i, k]
        out["akm_log_earnings_var"] = float(v)
        out["akm_person_variance_share"] = float(a.var() / v)
        out["akm_firm_variance_share"] = float(p.var() / v)
        out["akm_sorting_covariance_share"] = float(2 * np.cov(a, p)[0, 1] / v)
        xb = Xcomp[i, k] + Dcomp[i, k] + Ccomp[i, k]
        out["akm_xb_variance_share"] = float(xb.var() / v)
        out["akm_residual_variance_share"] = float(EPS[i, k].var() / v)
        out["firm_effect_sd_worker_weighted"] = float(p.std())
        out["firm_effect_sd_unweighted"] = float(firms["psi"].std())
        jl = JOIN & lm
        jr, jk = np.nonzero(jl)
        pj = psi_cell[jr, jk]
        ok_var = len(jr) > 2 and pj.std() > 0
        out["realised_sorting_corr"] = float(np.corrcoef(ability[jr], pj)[0, 1]) if ok_var else float("nan")
        out["corr_person_firm_effect"] = float(np.corrcoef(a, p)[0, 1]) if p.std() > 0 else float("nan")
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
    out["share_employed_with_coworkers"] = float(np.isfinite(S[EMP]).mean()) if EMP.any() else 0.0
    # degree return at 29 (exact by construction)
    t29 = tax_year_age29(by, bm)
    ramp29 = degree_ramp(grad_year, t29)
    for sex, msk in (("female", female), ("male", ~female)):
        g = degree & msk
        out[f"degree_return_{sex}_att_at_29"] = float((r_i[g] * ramp29[g]).mean()) if g.any() else float("nan")
    out["degree_return_centring_constant_female"] = c_sex.get("F", 0.0)
    out["degree_return_centring_constant_male"] = c_sex.get("M", 0.0)
    # calibration: graduate earnings at 5 and 10 YAG, in 2015/16 terms using the model's nominal index
    yeff = _year_effects(int(years[0]), int(years[-1]))
    sustained = EMP & (days >= 182)
    for yag in (1, 3, 5, 10):
        kk = np.nan_to_num(grad_year, nan=-99).astype(np.int64) + yag - int(years[0])
        ok = degree & (kk >= 0) & (kk < Y)
        rows = np.flatnonzero(ok)
        kk = kk[rows]
        sel = sustained[rows, kk]
        e = earn_true[rows, kk][sel] * np.exp(-yeff[kk][sel])
        out[f"grad_earnings_{yag}yag_n"] = int(sel.sum())
        out[f"grad_earnings_{yag}yag_lq_2015"] = _q(e, 0.25)
        out[f"grad_earnings_{yag}yag_median_2015"] = _q(e, 0.5)
        out[f"grad_earnings_{yag}yag_uq_2015"] = _q(e, 0.75)
        out[f"grad_in_sustained_paye_{yag}yag_share"] = float(sel.mean()) if len(sel) else float("nan")
    # FSM gaps at 25 (ONS): annual PAYE pay > £15,000, and no PAYE earnings
    t25 = by + 25 - (bm <= 3)
    k25 = t25 - int(years[0])
    ok = (k25 >= 0) & (k25 < Y) & (t25 >= 2015) & (t25 <= 2018)   # ONS window: age 25 in 2015/16-2018/19
    rows = np.flatnonzero(ok)
    kk = k25[rows]
    pay = earn_true[rows, kk]
    emp25 = EMP[rows, kk]
    for lab, msk in (("fsm", fsm[rows]), ("nonfsm", ~fsm[rows])):
        out[f"age25_{lab}_n"] = int(msk.sum())
        out[f"age25_{lab}_share_above_15000"] = float((pay[msk] > 15000).mean()) if msk.any() else float("nan")
        out[f"age25_{lab}_share_no_paye"] = float((~emp25[msk]).mean()) if msk.any() else float("nan")
    # self-employment share of labour-market person-years aged 18+ (2013/14 on)
    T2 = years[None, :]
    w = lm & (age >= 18) & (T2 >= 2013)
    out["self_employed_share_lm_2013_on"] = float(SE[w].mean()) if w.any() else 0.0
    return out
