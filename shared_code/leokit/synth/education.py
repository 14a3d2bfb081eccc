"""Education side after KS2: KS4 measures, A levels, ILR, UCAS admissions with contextual offers, HE.

Data-generating process (see also ``data_synthetic/README.md``)
--------------------------------------------------------------
*KS4 measures.* Level 2 incl. English and maths (``KS4_LEVEL2_EM`` / ``KS4_L2BASICS_94``):
``ks4_z + N(0, 0.3^2) > q`` with the share rising from 44% (2005) to 60% (2016). Headline points are
monotone in ``ks4_z`` (:func:`ks4_points`: ``KS4_PTSCNEWE = clip(320 + 85 ks4_z, 0, 580)`` to 2013/14,
``KS4_ATT8 = clip(46 + 18 ks4_z, 0, 90)`` from 2014/15).

*A levels.* The top 40% of each cohort on ``1.1 ks4_z + 0.15 background + 0.3 FSM + N(0, 0.9^2)`` take 3 (70%)
or 4 A levels; grade latent per subject ``0.9 ks4_z + 0.2 ability + N(0, 0.6^2)`` cut at fixed
points (about A* 9%, A 18%, B 22%, C 24%, D 16%, E 7%, U 4% of entries). ``alevel_points`` = best three on the
post-2017 UCAS tariff (A*=56, A=48, B=40, C=32, D=24, E=16). Predicted grades are the achieved grades
raised by 0/1/2 grades (40/45/10%) or lowered by one (5%). ``KS5_LEV3THRESH`` = two or more passes (E or better).

*ILR.* 80% of pupils without A levels (still in state education at 16) study in FE for 1-3 years from
16 (aims at level 3 (75%) or 2 if they reached level 2 at KS4, else level 2 (60%) or 1), 15% of those as
apprentices. A learner achieves their aims (``outcome = 1``) with probability ``expit(0.8 + 0.5 ability)``
(``fe_achieved``); a learner who does not achieve them has no achieved aim in any year.

*UCAS admissions and contextual offers* (the planted RD and DiD): see :mod:`leokit.synth.ucas`.
A-level takers apply (cycle = cohort + 2) with probability
``expit(0.3 + 0.8 ks4_z + 0.3 background + 0.3 female + 1.0 FSM)`` (calibrated to the ONS
shares with a first degree by 30: FSM 16.2%, non-FSM 28.2% [ONS-FSM30]). Providers (24 high, 40 medium,
50 low tariff) have a typical standard offer set by their quality rank within the tariff group
(high ABB-A*AA, medium BCC-ABB, low DDD-BCC) and a floor under any contextual offer (high BBC,
medium CCC, low DDE).

*HE entry without UCAS.* 25% of non-A-level pupils who reach level 3 in FE by 18 enter a low (80%) or
medium tariff provider directly (30% of them a year later).

*Degree.* Subjects (7 groups) depend on sex and ability (medicine only at high/medium tariff).
Course length 3 years (medicine 5; 10% of others 4 with a sandwich year). Completion
``expit(1.1 + 0.6 ability + 0.3 background + t_g - 0.2 M)`` (``t_g`` = 0.5 high, 0.2 medium, 0 low;
``M`` = 1 for a contextual complier: an entrant at a high-tariff provider who would not have entered one
without eligibility). Class index ``0.8 ability + 0.15 background + 0.25 female + (0.1, 0, -0.1 by tariff)
- 0.6 M + 0.05 (grad_year - 2010) + N(0, 0.7^2)``: first above 1.75, 2:1 above 0.4, 2:2 above -0.75,
else third. Non-completers leave after 1 (60%), 2 (30%) or 3 years of study (at most length - 1);
half of those who studied for two or more years (so completed at least one) leave with a CertHE/DipHE
exit award (:data:`EXIT_AWARD_SHARE`, INFERRED: a plausible share, not a published figure), recorded
on their last HESA record as ``HE_XQLEV601 = 'OUG'``, ``HE_XPQUAL01 = 1``. All degree outcomes are
computed in both potential states of the contextual-offer design from the same draws.

*Highest qualification* (``highest_level``; contract C5, the definition of
``leokit.derive.highest_qualification_by_age``), the highest level ever attained: 6 a classified first
degree; 4 a CertHE/DipHE exit award; 3 two or more A-level passes (``KS5_LEV3THRESH = 1``) or an
achieved ILR level-3 aim; 2 the KS4 level-2 measure including English and maths or an achieved ILR
level-2 aim; 1 any KS4 points or an achieved ILR level-1 aim; 0 none (e.g. pupils who left state
schools before KS4 and never appear in FE). Entering HE without an award is not a qualification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.synth._util import expit
from leokit.synth.courses import (  # noqa: F401  (the building blocks, also importable from here)
    TARIFF, NONE, GRADE_LETTER, _LETTERS, _TARIFF_NEW, _TARIFF_OLD, _KS5_OLD, _KS5_NEW, A_LEVEL_SUBJECTS, _SUBJ_W,
    JACS_LETTERS, JACS_STEMS, CAH_CODES, CLASS_CODES, EXIT_AWARD_SHARE, STD_OFFER_LEVELS, COURSE_OFFER_RANGE,
    CONTEXTUAL_FLOOR, ks4_points, Providers, build_providers, adoption_share, _pick, pick_by_tariff,
    units_to_tariff, best3, grades_string,
)
from leokit.synth.truth import SUBJECT_GROUPS
from leokit.synth.ucas import simulate_admissions


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
    ilr_level = np.where(fe_ach, aim_level, 0)

    # ---- UCAS admissions with contextual offers ------------------------------------------------------
    prov = build_providers(rng, truth)
    out["providers"] = prov
    applicant = alev & (rng.random(n) < expit(0.3 + 0.8 * ks4 + 0.3 * bg + 0.3 * female + 1.0 * fsm6))
    P["ucas_applicant"] = applicant.astype(np.int64)
    cycle = cohort + 2
    x = P["idaci_score"].to_numpy()
    cutoff = float(truth["contextual_offer_cutoff"])
    elig = x >= cutoff - 1e-12
    P["contextual_eligible"] = (applicant & elig).astype(np.int64)
    ai = np.flatnonzero(applicant)
    adm = simulate_admissions(
        rng, prov, truth, cycle=cycle[ai], predicted=P["predicted_points"].to_numpy()[ai],
        achieved=P["alevel_points"].to_numpy()[ai], x=x[ai], eligible=elig[ai])
    out["admissions"] = adm

    # potential states (0: not eligible, 1: eligible) for everyone; NONE = no HE
    tg0 = np.full(n, NONE, np.int64)
    tg1 = np.full(n, NONE, np.int64)
    prov0 = np.full(n, -1, np.int64)
    prov1 = np.full(n, -1, np.int64)
    tg0[ai], tg1[ai] = adm["tg0"], adm["tg1"]
    prov0[ai], prov1[ai] = adm["provider0"], adm["provider1"]
    # non-UCAS direct entrants (FE level 3): the same in both states
    direct = (~applicant) & fe_ach & (aim_level == 3) & (rng.random(n) < 0.25)
    dtg = np.where(rng.random(n) < 0.8, 2, 1)
    dprov = pick_by_tariff(rng, prov, np.where(direct, dtg, -1))
    tg0 = np.where(direct, dtg, tg0)
    tg1 = np.where(direct, dtg, tg1)
    prov0 = np.where(direct, dprov, prov0)
    prov1 = np.where(direct, dprov, prov1)
    act1 = applicant & elig
    tg = np.where(act1, tg1, tg0)
    provider = np.where(act1, prov1, prov0)
    complier1 = (tg1 == 0) & (tg0 != 0)   # enters a high-tariff provider only if eligible
    complier = complier1 & act1

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
    award_draw = rng.random(n)
    he_entry_year = cohort + 3
    entry_age_draw = rng.random(n)
    he_entry_year = np.where(direct & (entry_age_draw < 0.3), he_entry_year + 1, he_entry_year)
    n_left = np.where(drop_draw < 0.6, 1, np.where(drop_draw < 0.9, 2, 3))

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
        ys = np.where(comp, L, np.where(he, np.minimum(n_left, L - 1), 0))
        cont = he & (ys >= 2)        # continued into a second year of study
        award = he & ~comp & (ys >= 2) & (award_draw < EXIT_AWARD_SHARE)
        return dict(he=he, subj=s, L=L, comp=comp, grad=grad, cls=cls, first=first, years=ys, cont=cont,
                    award=award)

    d0 = degree_outcomes(tg0, np.zeros(n, bool))
    d1 = degree_outcomes(tg1, complier1)
    dact = degree_outcomes(tg, complier)
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
    P["years_studied"] = dact["years"]
    P["exit_award"] = dact["award"].astype(np.int64)
    P["contextual_entrant"] = complier.astype(np.int64)
    holder = np.zeros(n, np.int64)
    holder[ai] = np.where(elig[ai], adm["entered_contextual1"], 0)
    P["contextual_offer_holder"] = holder
    P["via_ucas"] = (he & applicant).astype(np.int64)

    # ---- highest qualification (contract C5) ---------------------------------------------------------
    pts4 = ks4_points(ks4, cohort)
    lev1 = (in_ks4 & (pts4 > 0)) | (ilr_level >= 1)
    lev2 = (in_ks4 & (l2 == 1)) | (ilr_level >= 2)
    lev3 = (passes >= 2) | (ilr_level >= 3)
    P["highest_level"] = np.where(deg, 6, np.where(dact["award"], 4, np.where(lev3, 3, np.where(
        lev2, 2, np.where(lev1, 1, 0))))).astype(np.int64)

    out["contextual"] = dict(
        idx=ai, a_c=adoption_share(prov, cycle), elig=elig, tg0=tg0, tg1=tg1, d0=d0, d1=d1,
        marginal1=complier1, prov0=prov0, prov1=prov1, cycle=cycle,
    )
    return out
