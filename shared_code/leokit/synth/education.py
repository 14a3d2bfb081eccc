"""Education side after KS2: KS4 measures, A levels, UCAS with contextual offers, HE, degrees, ILR.

Data-generating process (see also ``data_synthetic/README.md``)
--------------------------------------------------------------
*KS4 measures.* Level 2 incl. English and maths (``KS4_LEVEL2_EM`` / ``KS4_L2BASICS_94``):
``ks4_z + N(0, 0.3^2) > q`` with the share rising from 44% (2005) to 60% (2016). Points are monotone
in ``ks4_z`` (``KS4_ATT8 = clip(46 + 16 ks4_z, 0, 90)``; ``KS4_PTSCNEWE = clip(320 + 85 ks4_z, 0, 580)``).

*A levels.* The top 40% of each cohort on ``1.1 ks4_z + 0.15 background + 0.3 FSM + N(0, 0.9^2)`` take 3 (70%)
or 4 A levels; grade latent per subject ``0.9 ks4_z + 0.2 ability + N(0, 0.6^2)`` cut at fixed
points (about A* 9%, A 18%, B 22%, C 24%, D 16%, E 7%, U 4% of entries). ``alevel_points`` = best three on the
post-2017 UCAS tariff (A*=56, A=48, B=40, C=32, D=24, E=16). Predicted grades are the achieved grades
raised by 0/1/2 grades (40/45/10%) or lowered by one (5%).

*UCAS.* A-level takers apply (cycle = cohort + 2) with probability
``expit(0.9 + 0.8 ks4_z + 0.3 background + 0.3 female + 0.9 FSM)``, to up to five courses.

*Contextual offers and high-tariff entry* (the planted RD). Running variable ``x`` = IDACI 2019 score
of the home LSOA at 16; eligible ``E = 1[x >= cutoff]``. High-tariff providers adopt contextual offers
in waves (``contextual_offer_adoption_cycles``; 40% of high-tariff providers per wave for two waves,
the rest never). ``a_c`` = capacity of providers adopted by cycle ``c`` / capacity of all eventually
adopting providers. Each applicant draws ``u ~ U(0,1)``;

    p0 = min(expit(-1.0 + (points - 128)/14 + 0.3 background - 0.8 (x - 0.2)), 1 - tau)
    high(e) = 1[u < p0 + e * tau * a_c]

so ``E[high(1) - high(0)] = tau * a_c`` exactly for everyone (``tau`` =
``contextual_offer_high_tariff_entry_effect``) and the RD estimand at the cut-off equals ``tau`` in
cycles with full adoption. Marginal entrants (``high(1) = 1, high(0) = 0``) enter an adopting provider
holding a contextual offer (``syn_offer_tariff_required`` = standard - 8 x grade reduction) that
they met. Non-high applicants enter medium (``expit((points - 100)/16)``), else low (65%) or no HE,
with the same draw in both potential states. Degree completion and class are computed for both
potential states from the same draws; marginal contextual entrants have a completion logit 0.2
lower and a class index 0.6 SD lower (fewer firsts; Durham evidence).

*HE entry without UCAS.* 25% of non-A-level pupils who reach level 3 in FE by 18 enter a low (80%) or
medium tariff provider directly.

*Degree.* Course length 3 years (medicine 5; 10% of others 4 with a sandwich year). Completion
``expit(1.1 + 0.6 ability + 0.3 background + t_g)`` (``t_g`` = 0.5 high, 0.2 medium, 0 low).
Class index ``0.8 ability + 0.15 background + 0.25 female + (0.1, 0, -0.1 by tariff) + 0.05 (grad_year
- 2010) + N(0, 0.7^2)``: first above 1.75, 2:1 above 0.4, 2:2 above -0.75, else third.

*ILR.* 80% of pupils without A levels (still in state education at 16) study in FE for 1-3 years from
16 (aims at level 2 or 3 by prior attainment), 15% of those as apprentices; achievement
``expit(0.8 + 0.5 ability)``. ``highest_level`` (by 21): 6 degree, 4 HE without degree, 3 two or more
A-level passes or an achieved level-3 aim, 2 five A*-C at KS4 (68%) or an achieved level-2 aim, else 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leokit.synth.truth import SUBJECT_GROUPS

from ._util import expit, random_codes

TARIFF = np.array(["high", "medium", "low"], dtype=object)
NONE = 3  # tariff index for "no HE"
#: grade units (A*=7 ... E=2, U=0) -> letters / post-2017 tariff / pre-2017 tariff / KS5 points old & new
GRADE_LETTER = {7: "A*", 6: "A", 5: "B", 4: "C", 3: "D", 2: "E", 0: "U"}
_LETTERS = np.array(["U", "U", "E", "D", "C", "B", "A", "A*"], dtype=object)
_TARIFF_NEW = np.array([0, 0, 16, 24, 32, 40, 48, 56])
_TARIFF_OLD = np.array([0, 0, 40, 60, 80, 100, 120, 140])
_KS5_OLD = np.array([0, 0, 150, 180, 210, 240, 270, 300])
_KS5_NEW = np.array([0, 0, 10, 20, 30, 40, 50, 60])
A_LEVEL_SUBJECTS = np.array([
    ("2210", "Mathematics"), ("2230", "Further Mathematics"), ("1110", "Biology"), ("1210", "Chemistry"),
    ("1410", "Physics"), ("5110", "English Literature"), ("4010", "History"), ("4210", "Geography"),
    ("4410", "Economics"), ("4810", "Psychology"), ("4850", "Sociology"), ("7010", "Art and Design"),
    ("5410", "French"), ("4730", "Business Studies"), ("6110", "Media Studies"), ("4620", "Law"),
], dtype=object)
_SUBJ_W = np.array([14, 4, 10, 8, 6, 8, 8, 6, 5, 10, 6, 5, 3, 4, 3, 2], float)
#: JACS 3 subject-area letters and CAH codes of each subject group
JACS_LETTERS = {
    "medicine": ["A"], "stem": ["C", "F", "G", "H", "I", "J"], "econ_business_law": ["L", "M", "N"],
    "social_science": ["L", "K"], "humanities": ["Q", "R", "T", "V"], "creative_arts": ["W", "P"],
    "education_health": ["B", "X"],
}
CAH_CODES = {
    "medicine": ["CAH01-01-01"], "stem": ["CAH03-01-01", "CAH07-02-01", "CAH09-01-01", "CAH10-01-01", "CAH11-01-01"],
    "econ_business_law": ["CAH15-02-01", "CAH16-01-01", "CAH17-01-01"], "social_science": ["CAH15-01-01", "CAH13-01-01"],
    "humanities": ["CAH19-01-01", "CAH20-01-01", "CAH20-01-03"], "creative_arts": ["CAH25-01-01", "CAH24-01-01"],
    "education_health": ["CAH02-04-01", "CAH22-01-01"],
}
CLASS_CODES = np.array(["01", "02", "03", "04"], dtype=object)


@dataclass
class Providers:
    n: int
    tariff: np.ndarray            # 0 high, 1 medium, 2 low
    cap: np.ndarray
    quality: np.ndarray
    adopt_cycle: np.ndarray       # float, NaN = never
    ucas_code: np.ndarray
    hesa_code: np.ndarray
    base_req: np.ndarray          # typical standard offer (tariff points)


def build_providers(rng: np.random.Generator, truth: dict) -> Providers:
    counts = (24, 40, 50)
    tariff = np.repeat(np.arange(3), counts)
    n = len(tariff)
    cap = rng.gamma(3.0, 1.0, n)
    quality = np.array([1.0, 0.0, -1.0])[tariff] + rng.normal(0, 0.35, n)
    quality = (quality - quality.mean()) / quality.std()
    waves = list(truth["contextual_offer_adoption_cycles"] or [])
    adopt = np.full(n, np.nan)
    hi = np.flatnonzero(tariff == 0)
    hi = hi[rng.permutation(len(hi))]
    if waves:
        share_each = 0.8 / len(waves)
        k = int(round(share_each * len(hi)))
        for w, cyc in enumerate(waves):
            adopt[hi[w * k:(w + 1) * k]] = float(cyc)
    codes = random_codes(rng, 2 * n, 6)
    base = np.array([144.0, 112.0, 80.0])[tariff] + 8 * np.round(rng.normal(0, 1.0, n))
    base = np.clip(base, np.array([120, 96, 48])[tariff], np.array([168, 136, 112])[tariff])
    return Providers(n=n, tariff=tariff, cap=cap, quality=quality, adopt_cycle=adopt,
                     ucas_code=np.char.add("U", codes[:n].astype(str)).astype(object),
                     hesa_code=np.char.add("H", codes[n:].astype(str)).astype(object), base_req=base)


def adoption_share(prov: Providers, cycle: np.ndarray) -> np.ndarray:
    """a_c: capacity share of eventually-adopting high-tariff providers adopted by each cycle."""
    ad = ~np.isnan(prov.adopt_cycle)
    tot = prov.cap[ad].sum()
    cycle = np.asarray(cycle)
    if tot <= 0:
        return np.zeros(len(cycle))
    out = np.zeros(len(cycle))
    for c in np.unique(cycle):
        out[cycle == c] = prov.cap[ad & (prov.adopt_cycle <= c)].sum() / tot
    return out


def _pick(rng, prov: Providers, mask: np.ndarray, n: int) -> np.ndarray:
    """n capacity-weighted draws among providers in ``mask``."""
    idx = np.flatnonzero(mask)
    w = prov.cap[idx] / prov.cap[idx].sum()
    return idx[np.minimum(np.searchsorted(np.cumsum(w), rng.random(n), side="right"), len(idx) - 1)]


def pick_by_tariff(rng, prov: Providers, tg: np.ndarray) -> np.ndarray:
    out = np.full(len(tg), -1, np.int64)
    for g in range(3):
        i = tg == g
        if i.any():
            out[i] = _pick(rng, prov, prov.tariff == g, int(i.sum()))
    return out


def units_to_tariff(units: np.ndarray, table=_TARIFF_NEW) -> np.ndarray:
    return table[units]


def best3(units: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Sum of post-2017 tariff over the best three of each row (units (n, 4); taken mask)."""
    t = np.where(taken, _TARIFF_NEW[units], -1)
    t.sort(axis=1)
    return np.clip(t[:, -3:], 0, None).sum(1).astype(float)


def grades_string(tariff_points: np.ndarray) -> np.ndarray:
    """Three-grade offer string ('AAB') for tariff totals that are multiples of 8 (48..168)."""
    q = np.clip(np.round(np.asarray(tariff_points, float) / 8).astype(np.int64), 6, 21)
    u1 = -(-q // 3)
    r = q - u1
    u2 = -(-r // 2)
    u3 = r - u2
    L = _LETTERS
    return (L[np.clip(u1, 2, 7)] + L[np.clip(u2, 2, 7)] + L[np.clip(u3, 2, 7)]).astype(object)


def simulate_education(rng: np.random.Generator, P: pd.DataFrame, truth: dict) -> dict:
    """Add KS4 measures, A levels, UCAS, HE and ILR to the person frame ``P`` (in place) and return the
    row-level detail needed for the output tables (dict of arrays/frames)."""
    n = len(P)
    cohort = P["cohort"].to_numpy()
    ab = P["ability"].to_numpy()
    bg = P["background"].to_numpy()
    female = (P["sex"].to_numpy() == "F")
    ks4 = P["ks4_z"].to_numpy()
    in_ks4 = P["in_ks4"].to_numpy() == 1
    out: dict = {}

    # ---- KS4 measures --------------------------------------------------------------------------
    share = 0.44 + (0.60 - 0.44) * np.clip((cohort - 2005) / 11, 0, 1)
    l2lat = ks4 + rng.normal(0, 0.3, n)
    from scipy.stats import norm  # scipy comes with statsmodels
    l2 = (l2lat > norm.ppf(1 - share) * np.sqrt(1 + 0.09)).astype(np.int64)
    P["ks4_level2"] = l2
    eb_lat = ks4 + 0.2 * ab + rng.normal(0, 0.5, n)
    P["ks4_ebacc"] = (eb_lat > np.where(cohort < 2011, 1.4, 0.9)).astype(np.int64)
    P["ks4_math_lat"] = 0.9 * ks4 + rng.normal(0, 0.45, n)
    P["ks4_eng_lat"] = 0.9 * ks4 + 0.15 * female + rng.normal(0, 0.45, n)

    # ---- A levels --------------------------------------------------------------------------------
    fsm6 = P["fsm_ever6"].to_numpy()
    a_lat = 1.1 * ks4 + 0.15 * bg + 0.3 * fsm6 + rng.normal(0, 0.9, n)
    alev = np.zeros(n, bool)
    for c in np.unique(cohort):
        i = (cohort == c) & in_ks4
        thr = np.quantile(a_lat[i], 1 - 0.40 / max(i.mean() / (cohort == c).mean(), 1e-9)) if i.any() else np.inf
        alev |= i & (a_lat > thr)
    nal = np.where(alev, np.where(rng.random(n) < 0.3, 4, 3), 0)
    g_lat = (0.9 * ks4 + 0.2 * ab)[:, None] + rng.normal(0, 0.6, (n, 4))
    cuts = np.array([-1.75, -1.25, -0.65, 0.0, 0.6, 1.35])  # U|E|D|C|B|A|A* on the latent among takers
    mu_takers = (0.9 * ks4 + 0.2 * ab)[alev].mean() if alev.any() else 0.0
    units_map = np.array([0, 2, 3, 4, 5, 6, 7])
    units = units_map[np.searchsorted(cuts, g_lat - mu_takers)]
    taken = np.arange(4)[None, :] < nal[:, None]
    units = np.where(taken, units, 0)
    subj = np.zeros((n, 4), np.int64)
    # distinct subjects per pupil: rank of random keys weighted by popularity
    keys = np.log(rng.random((n, len(_SUBJ_W)))) / _SUBJ_W[None, :]
    subj[:] = np.argsort(-keys, axis=1)[:, :4]
    shift = rng.choice([-1, 0, 1, 2], size=(n, 4), p=[0.05, 0.40, 0.45, 0.10])
    pred = np.clip(np.where(units == 0, 1, units) + shift, 2, 7)
    pred = np.where(taken, pred, 0)
    P["alevel_n"] = nal
    P["alevel_points"] = np.where(alev, best3(units, taken), np.nan)
    P["alevel_points_old"] = np.where(alev, np.where(taken, _TARIFF_OLD[units], 0).sum(1), np.nan)
    P["predicted_points"] = np.where(alev, best3(pred, taken), np.nan)
    passes = (np.where(taken, units, 0) >= 2).sum(1)
    P["alevel_passes"] = passes
    out["alevel"] = dict(units=units, pred=pred, taken=taken, subj=subj)
    # school sixth form (census Years 12-13): 75% of A-level takers, 15% of the others
    P["sixth_form"] = (in_ks4 & (rng.random(n) < np.where(alev, 0.75, 0.15))).astype(np.int64)

    # ---- ILR (FE 16-18) -----------------------------------------------------------------------------
    fe = in_ks4 & ~alev & (rng.random(n) < 0.80)
    appr = fe & (rng.random(n) < 0.15)
    fe_years = np.where(fe, rng.choice([1, 2, 3], n, p=[0.35, 0.45, 0.20]), 0)
    aim_level = np.where(l2 == 1, np.where(rng.random(n) < 0.75, 3, 2), np.where(rng.random(n) < 0.6, 2, 1))
    fe_ach = fe & (rng.random(n) < expit(0.8 + 0.5 * ab))
    P["fe_learner"] = fe.astype(np.int64)
    P["apprentice"] = appr.astype(np.int64)
    P["fe_years"] = fe_years
    P["fe_aim_level"] = np.where(fe, aim_level, 0)
    P["fe_achieved"] = fe_ach.astype(np.int64)
    lev3 = (passes >= 2) | (fe_ach & (aim_level == 3))
    l2_any = (l2lat > norm.ppf(1 - 0.68) * np.sqrt(1 + 0.09))  # five A*-C (any subjects)
    lev2 = l2_any | (l2 == 1) | lev3 | (fe_ach & (aim_level >= 2))

    # ---- UCAS + contextual offers --------------------------------------------------------------------
    prov = build_providers(rng, truth)
    out["providers"] = prov
    applicant = alev & (rng.random(n) < expit(0.9 + 0.8 * ks4 + 0.3 * bg + 0.3 * female + 0.9 * fsm6))
    P["ucas_applicant"] = applicant.astype(np.int64)
    cycle = cohort + 2
    x = P["idaci_score"].to_numpy()
    cutoff = float(truth["contextual_offer_cutoff"])
    tau = float(truth["contextual_offer_high_tariff_entry_effect"])
    R = int(truth["contextual_offer_grade_reduction"])
    elig = x >= cutoff - 1e-12
    a_c = adoption_share(prov, cycle)
    pts = np.nan_to_num(P["alevel_points"].to_numpy(), nan=0.0)
    p0 = np.minimum(expit(-1.0 + (pts - 128) / 14 + 0.3 * bg - 0.8 * (x - 0.2)), 1 - tau)
    u = rng.random(n)
    v = rng.random(n)
    high0 = u < p0
    high1 = u < p0 + tau * a_c
    pm = expit((pts - 100) / 16)
    dest = np.where(v < pm, 1, np.where(v < pm + (1 - pm) * 0.65, 2, NONE))
    tg0 = np.where(high0, 0, dest)
    tg1 = np.where(high1, 0, dest)
    marginal1 = high1 & ~high0
    P["contextual_eligible"] = (applicant & elig).astype(np.int64)

    # non-UCAS direct entrants (FE level 3)
    direct = (~applicant) & fe_ach & (aim_level == 3) & (rng.random(n) < 0.25)
    dtg = np.where(rng.random(n) < 0.8, 2, 1)
    tg0 = np.where(applicant, tg0, np.where(direct, dtg, NONE))
    tg1 = np.where(applicant, tg1, tg0)
    marginal1 &= applicant
    tg = np.where(elig & applicant, tg1, tg0)
    marginal = marginal1 & elig

    # providers: regular entrants by tariff; marginal entrants at adopted high providers
    prov0 = pick_by_tariff(rng, prov, np.where(tg0 == NONE, -1, tg0))
    provm = np.full(n, -1, np.int64)
    for c in np.unique(cycle[marginal1]):
        i = marginal1 & (cycle == c)
        provm[i] = _pick(rng, prov, (prov.tariff == 0) & (prov.adopt_cycle <= c), int(i.sum()))
    prov1 = np.where(marginal1, provm, prov0)
    provider = np.where(elig & applicant, prov1, prov0)

    # subjects (same in both states; medicine only at high/medium tariff)
    S = len(SUBJECT_GROUPS)
    base = np.array([-3.0, 0.6, 0.2, 0.0, -0.1, -0.1, -0.4])
    fem = np.array([0.0, -0.6, -0.1, 0.2, 0.3, 0.2, 1.0])
    abl = np.array([1.2, 0.3, 0.1, 0.0, 0.1, -0.2, -0.2])
    util = base[None, :] + fem[None, :] * female[:, None] + abl[None, :] * ab[:, None] + rng.gumbel(size=(n, S))
    sg = np.argmax(util, axis=1)

    def subj_for(tgs):
        return np.where((sg == 0) & (tgs == 2), 6, sg)

    # degree outcomes (potential, same draws)
    uc = rng.random(n)
    eclass = rng.normal(0, 0.7, n)
    length_draw = rng.random(n)
    drop_draw = rng.random(n)
    he_entry_year = cohort + 3
    entry_age_draw = rng.random(n)
    he_entry_year = np.where(direct & (entry_age_draw < 0.3), he_entry_year + 1, he_entry_year)

    def degree_outcomes(tgs, marg):
        he = tgs != NONE
        s = subj_for(tgs)
        L = np.where(s == 0, 5, np.where(length_draw < 0.10, 4, 3))
        tgeff = np.array([0.5, 0.2, 0.0, 0.0])[tgs]
        pc = expit(1.1 + 0.6 * ab + 0.3 * bg + tgeff - 0.2 * marg)
        comp = he & (uc < pc)
        grad = he_entry_year + L - 1
        z = (0.8 * ab + 0.15 * bg + 0.25 * female + np.array([0.1, 0.0, -0.1, 0.0])[tgs] - 0.6 * marg
             + 0.05 * (grad - 2010) + eclass)
        cls = np.where(z > 1.75, 0, np.where(z > 0.4, 1, np.where(z > -0.75, 2, 3)))
        first = comp & (cls == 0)
        return dict(he=he, subj=s, L=L, comp=comp, grad=grad, cls=cls, first=first)

    d0 = degree_outcomes(tg0, np.zeros(n, bool))
    d1 = degree_outcomes(tg1, marginal1)
    dact = degree_outcomes(tg, marginal)
    he = dact["he"]
    P["he_entry"] = he.astype(np.int64)
    P["he_entry_year"] = np.where(he, he_entry_year, np.nan)
    P["provider_idx"] = np.where(he, provider, -1)
    P["provider_id"] = np.where(he, prov.ucas_code[np.maximum(provider, 0)], None)
    P["tariff_group"] = np.where(he, TARIFF[np.minimum(tg, 2)], None)
    P["subject_group"] = np.where(he, np.asarray(SUBJECT_GROUPS, dtype=object)[dact["subj"]], None)
    deg = dact["comp"]
    P["degree"] = deg.astype(np.int64)
    P["degree_class"] = np.where(deg, CLASS_CODES[dact["cls"]], None)
    P["grad_year"] = np.where(deg, dact["grad"], np.nan)
    P["course_length"] = np.where(he, dact["L"], 0)
    # years studied: completers L; non-completers 1 (60%), 2 (30%), 3 (10%), below L
    ny = np.where(drop_draw < 0.6, 1, np.where(drop_draw < 0.9, 2, 3))
    P["years_studied"] = np.where(deg, dact["L"], np.where(he, np.minimum(ny, dact["L"] - 1), 0))
    P["contextual_entrant"] = marginal.astype(np.int64)
    P["highest_level"] = np.where(deg, 6, np.where(he, 4, np.where(lev3, 3, np.where(lev2, 2, 1)))).astype(np.int64)
    P["via_ucas"] = (he & applicant).astype(np.int64)

    # potential outcomes table for UCAS applicants
    ai = np.flatnonzero(applicant)
    out["contextual"] = dict(
        idx=ai, p0=p0, u=u, a_c=a_c, elig=elig, tg0=tg0, tg1=tg1, d0=d0, d1=d1, marginal1=marginal1,
        prov0=prov0, prov1=prov1, cycle=cycle,
    )
    out["ucas_detail"] = dict(applicant=applicant, marginal=marginal, high_actual=(tg == 0) & applicant)
    return out
