"""UCAS applications, offers and responses, coherent with the HE entry simulated in ``education``.

Each applicant makes up to five applications (75% five, 10% four, 10% three, 5% two). The tariff
group of each is drawn from the predicted points ``pp`` (high ``expit((pp - 128)/12)``, low
``expit((92 - pp)/12)``, medium otherwise); the standard offer of a course is the provider's typical
offer plus noise, in whole grades. Offer rule (same draw ``w`` in both potential states):

    offer(e) = 1[w < expit((pp - req(e)) / 10 + 1)],   req(e) = standard - 8 R * e * adopted_high(provider, cycle)

where ``R`` = ``contextual_offer_grade_reduction`` (8 tariff points = one A-level grade). The entered
course is the first application, with an offer in both states; a marginal contextual entrant's
entered course has a standard offer of ``floor8(points) + 8R`` (so the contextual offer was met).
Responses: the entered course is Firm, another offer Insurance, further offers Declined; applicants
who did not enter HE firm their most demanding offer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._util import expit, random_codes
from .params import MESSINESS
from .education import A_LEVEL_SUBJECTS, JACS_LETTERS, Providers, _LETTERS, grades_string, pick_by_tariff
from leokit.synth.truth import SUBJECT_GROUPS

_RANGE_LO = np.array([120.0, 96.0, 48.0])
_RANGE_HI = np.array([168.0, 136.0, 112.0])


def simulate_ucas(rng: np.random.Generator, P: pd.DataFrame, edu: dict, truth: dict) -> dict:
    prov: Providers = edu["providers"]
    R = int(truth["contextual_offer_grade_reduction"])
    app = P["ucas_applicant"].to_numpy() == 1
    ai = np.flatnonzero(app)
    m = len(ai)
    cyc = (P["cohort"].to_numpy() + 2)[ai]
    pp = P["predicted_points"].to_numpy()[ai]
    ach = P["alevel_points"].to_numpy()[ai]
    elig = (P["contextual_eligible"].to_numpy() == 1)[ai]
    entered = (P["via_ucas"].to_numpy() == 1)[ai]
    prov_act = P["provider_idx"].to_numpy()[ai]
    marg = (P["contextual_entrant"].to_numpy() == 1)[ai]
    ctx = edu["contextual"]
    marg1 = ctx["marginal1"][ai]
    K = 5
    napps = rng.choice([5, 4, 3, 2], m, p=[0.75, 0.10, 0.10, 0.05])
    valid = np.arange(K)[None, :] < napps[:, None]
    ph = expit((pp - 128) / 12)
    pl = expit((92 - pp) / 12)
    uu = rng.random((m, K))
    tgs = np.where(uu < ph[:, None], 0, np.where(uu < (ph + pl)[:, None], 2, 1))
    provs = pick_by_tariff(rng, prov, tgs.ravel()).reshape(m, K)
    # the entered course is slot 0 (actual state); marginal-in-principle applicants (not eligible) still
    # apply to an adopting provider in slot 0 so their potential contextual offer is defined
    prov1 = ctx["prov1"][ai]
    # slot 0: the adopting provider of a marginal applicant (so the potential contextual offer is
    # defined), else the entered course; a non-eligible marginal applicant's entered course is slot 1
    ent_slot = np.where(marg1 & entered & ~elig, 1, 0)
    napps = np.maximum(napps, ent_slot + 1)
    valid = np.arange(K)[None, :] < napps[:, None]
    provs[:, 0] = np.where(marg1, prov1, np.where(entered, prov_act, provs[:, 0]))
    provs[:, 1] = np.where(ent_slot == 1, prov_act, provs[:, 1])
    tgs[:, 0] = prov.tariff[provs[:, 0]]
    tgs[:, 1] = prov.tariff[provs[:, 1]]
    std = prov.base_req[provs] + 8 * np.round(rng.normal(0, 1.0, (m, K)))
    std = np.clip(std, _RANGE_LO[tgs], _RANGE_HI[tgs])
    floor8 = 8 * np.floor(np.nan_to_num(ach) / 8)
    std0_marg = np.clip(floor8 + 8 * R, 48, 168)
    std[:, 0] = np.where(marg1, std0_marg, std[:, 0])
    adopted = (~np.isnan(prov.adopt_cycle[provs])) & (prov.adopt_cycle[provs] <= cyc[:, None]) & (tgs == 0)
    w = rng.random((m, K))
    offer0 = w < expit((pp[:, None] - std) / 10 + 1.0)
    req1 = std - 8 * R * adopted
    offer1 = w < expit((pp[:, None] - req1) / 10 + 1.0)
    # entered course: offer in both states (marginal: in the eligible state, a contextual one)
    rows = np.arange(m)
    force = entered & ~marg  # entered course holds an offer in both states
    offer0[rows[force], ent_slot[force]] = True
    offer1[rows[force], ent_slot[force]] = True
    offer1[:, 0] |= marg1
    offer0 &= valid
    offer1 &= valid
    hi = (tgs == 0) & valid
    any_hi0 = (offer0 & hi).any(1)
    any_hi1 = (offer1 & hi).any(1)
    offer = np.where(elig[:, None], offer1, offer0)
    req = np.where(elig[:, None], req1, std)
    ctx_flag = offer & adopted & elig[:, None]
    # decisions
    uncond = offer & ~ctx_flag & (rng.random((m, K)) < 0.04) & (np.arange(K)[None, :] > 1)
    wd = rng.random((m, K)) < 0.1
    decision = np.where(offer, np.where(uncond, "Unconditional offer", "Conditional offer"),
                        np.where(wd, "Withdrawn", "Rejected")).astype(object)
    # responses
    resp = np.full((m, K), "No response", dtype=object)
    resp[offer] = "Declined"
    # firm: entrants slot 0; non-entrants: most demanding offer
    score = np.where(offer, req + 0.01 * np.arange(K)[None, :], -1)
    firm_slot = np.where(entered, ent_slot, np.argmax(score, axis=1))
    has_offer = offer.any(1)
    set_firm = entered | has_offer
    resp[rows[set_firm], firm_slot[set_firm]] = "Firm"
    score2 = np.where(offer & (np.arange(K)[None, :] != firm_slot[:, None]), -req, -1e9)
    ins_slot = np.argmax(score2, axis=1)
    has_ins = (score2.max(1) > -1e9)
    resp[rows[has_ins], ins_slot[has_ins]] = "Insurance"
    # subject letters
    sgs = np.asarray(SUBJECT_GROUPS, dtype=object)
    subj_act = P["subject_group"].to_numpy(dtype=object)[ai]
    pref = rng.integers(0, len(SUBJECT_GROUPS), m)
    pref_name = np.where(pd.isna(subj_act), sgs[pref], subj_act)
    letters = np.empty((m, K), dtype=object)
    for g, lets in JACS_LETTERS.items():
        i = pref_name == g
        if i.any():
            letters[i] = np.asarray(lets, dtype=object)[rng.integers(0, len(lets), (int(i.sum()), K))]
    # identifiers
    codes = random_codes(rng, m, 10, prefix="A")
    uid = np.char.add(np.char.add(codes.astype(str), "_"), cyc.astype(str)).astype(object)
    ii, kk = np.nonzero(valid)
    app_id = np.char.add(np.char.add(uid[ii].astype(str), "_"), (kk + 1).astype(str)).astype(object)
    pmr = P["pmr"].to_numpy(dtype=object)[ai].copy()
    unl = rng.random(m) < MESSINESS["ucas_unlinked_pmr"]
    pmr[unl] = None
    lsoa = P["lsoa_idx"].to_numpy()[ai]
    geo = edu["geo"]
    centre = np.where(P["sixth_form"].to_numpy()[ai] == 1, "State school sixth form",
                      np.where(rng.random(m) < 0.6, "Sixth form college", "Further education college")).astype(object)
    applicants = {
        "PupilMatchingRefAnonymous": pmr, "unique_id_cycle": uid, "applicant_id": codes,
        "application_cycle": cyc, "applicant_polar4_code": geo.polar4[lsoa],
        "applicant_imd_code": (geo.imd_decile[lsoa] + 1) // 2, "applicant_gender_code": P["sex"].to_numpy(dtype=object)[ai],
        "apply_centre_type": centre, "accept_flag": entered.astype(np.int64),
        "acceptance_route": np.where(entered, "Firm", None).astype(object),
    }
    req_rows = req[ii, kk]
    off_rows = offer[ii, kk] & (decision[ii, kk] == "Conditional offer")
    applications = {
        "unique_application_id_cycle": app_id, "unique_id_cycle": uid[ii], "application_cycle": cyc[ii],
        "inst_code_anon": prov.ucas_code[provs[ii, kk]], "jacs3_sub_line_code": letters[ii, kk],
        "he_provider_tariff_group": np.array(["high", "medium", "low"], dtype=object)[tgs[ii, kk]],
        "provider_decision_june30": decision[ii, kk], "app_response_june30": resp[ii, kk],
        "main_scheme_application_flag": np.ones(len(ii), np.int64), "entry_year": cyc[ii],
        "syn_offer_grades_required": np.where(off_rows, grades_string(req_rows), None).astype(object),
        "syn_offer_tariff_required": np.where(off_rows, req_rows, np.nan),
        "syn_contextual_offer_flag": (ctx_flag[ii, kk] & off_rows).astype(np.int64),
    }
    # qualifications: predicted (Pending) and achieved (Gained)
    al = edu["alevel"]
    taken = al["taken"][ai]
    qi, qk = np.nonzero(taken)
    nq = len(qi)
    subj_title = A_LEVEL_SUBJECTS[al["subj"][ai][qi, qk], 1]
    quals = {
        "unique_id_cycle": np.concatenate([uid[qi], uid[qi]]),
        "application_cycle": np.concatenate([cyc[qi], cyc[qi]]),
        "qualification_status": np.repeat(np.array(["Pending", "Gained"], dtype=object), nq),
        "qualification_description": np.full(2 * nq, "GCE Advanced Level", dtype=object),
        "subject_title": np.concatenate([subj_title, subj_title]),
        "grade": np.concatenate([_LETTERS[al["pred"][ai][qi, qk]], _LETTERS[al["units"][ai][qi, qk]]]),
        "qualification_year": np.concatenate([cyc[qi], cyc[qi]]),
    }
    order = np.lexsort((np.concatenate([qk, qk]), quals["qualification_status"] == "Gained", np.concatenate([qi, qi])))
    quals = {k: np.asarray(v)[order] for k, v in quals.items()}
    met = (np.nan_to_num(ach) >= req1[:, 0])
    potential = dict(any_hi0=any_hi0, any_hi1=any_hi1, marg_met=met, unique_id_cycle=uid)
    return dict(ucas_applicants=applicants, ucas_applications=applications, ucas_qualifications=quals,
                potential=potential, applicant_idx=ai)
