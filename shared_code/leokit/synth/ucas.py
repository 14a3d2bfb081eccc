"""UCAS admissions with contextual offers (the planted RD and DiD), and the released UCAS tables.

Data-generating process
-----------------------
*Applications.* Each applicant makes up to five applications (75% five, 10% four, 10% three, 5% two).
The tariff group of each is drawn from the predicted points ``pp`` (best three predicted grades):
high ``expit((pp - 128)/12)``, low ``expit((92 - pp)/12)``, medium otherwise; the provider within the
group by capacity. The *standard offer* of a course is the provider's typical offer
(:data:`leokit.synth.education.STD_OFFER_LEVELS`) moved by a grade (8 tariff points) up or down for
20% of courses each, within the group's range (high ABB-A*A*A, medium CCC-AAB, low DDE-BBC: no DDD or
EEE offers at high-tariff providers). An adopting provider's *contextual offer* is
``max(standard - 8 R, floor)``: ``R = contextual_offer_grade_reduction`` grades lower, never under the
provider's floor (BBC at high-tariff providers), so never more than ``R`` grades below the standard offer.
Reductions of one or two grades are typical; [SuttonTrust2017] modelled two.

*Admissions under a requirement.* Given the requirement ``req`` of each application (in tariff points):
an offer is made if ``w < expit((pp - req)/8 + c_g)`` (``c_g`` = 0, 1, 2 for high, medium, low; the
draw ``w`` is shared by all potential states); the applicant firms the offer they prefer (prestige of
the tariff group, provider quality and a Gumbel taste draw) and insures the offer with the lowest
requirement among the others. On results day the applicant enters the firm choice if achieved points
``a >= req``, else the insurance choice if ``a >= req``, else Clearing: a medium-tariff provider with
probability ``expit((a - 100)/16)``, else a low-tariff provider (65%) or no HE. Clearing has no
contextual offers.

*Contextual offers: who they change.* Four requirement regimes are evaluated with the same draws:
``S`` standard offers everywhere; ``C`` contextual requirements at high-tariff providers that have
adopted by the applicant's cycle; ``F`` the same at every provider that ever adopts (hypothetical full
adoption); ``L`` contextual requirements at every high-tariff provider. Without a formal scheme a
provider still treats some applicants leniently (offers and near-miss confirmations weighing
personal statements, interviews and informal context): applicant ``i`` is *strict* if ``nu_i < delta``
(``nu_i ~ U(0,1)``), else *lenient*. Potential states::

    state 0 (not eligible): regime L if lenient, S if strict
    state 1 (eligible):     regime L if lenient, C if strict

A formal scheme therefore changes admissions only for strict eligible applicants whose predicted or
achieved points lie within the grade reduction of an adopting provider's offer (the *marginal*
applicants); everyone else has identical potential outcomes. Eligibility: ``x >= cutoff``, with ``x``
the IDACI 2019 score of the home LSOA at 16 (``contextual_offer_cutoff``).

*How the truth key maps to the mechanism.* ``B_i = high(F) - high(S)`` is applicant ``i``'s effect of a
full scheme on entering a high-tariff provider if strict. Because ``nu`` is independent of everything
else, the RD estimand at the cut-off in full-adoption cycles is exactly ``delta * E[B | x = cutoff]``.
The generator estimates ``B(cutoff) = E[B | x = cutoff]`` on the generated applicants (local linear,
triangular kernel, bandwidth 0.05, all cycles under hypothetical full adoption) and sets
``delta = contextual_offer_high_tariff_entry_effect / B(cutoff)``, so the RD estimand equals the key (up to
sampling noise in the realised population, written to ``truth.json`` under ``_realised``). ``delta`` is
the probability shift for marginal applicants ("about half of Durham's contextual entrants would not
have had their offer confirmed" [BoliverJones2025] corresponds to ``delta`` of about 0.5; the default key 0.05 gives
about 0.45). A key above
``B(cutoff)`` cannot be produced by a scheme of ``R`` grades and raises ``ValueError`` (at the default
``R = 2`` and cut-off 0.18, ``B(cutoff)`` is 0.11-0.12 depending on the seed's providers; with ``R = 3`` 0.16-0.18:
a key of 0.125, 2.5 times the default, needs a three-grade scheme); on small data, where ``B(cutoff)`` is imprecise
(the estimate's bandwidth widens until it holds 2,000 applicants), a key within three standard errors
above it, or any key when there are fewer than 2,000 applicants, sets ``delta = 1`` and ``_realised``
says so (``contextual_offer_marginal_probability_shift_capped``). In cycles before full adoption only adopted
providers make contextual offers, so the effect is smaller.

Released tables: ``ucas_applications`` show the June-30 decisions and responses of the actual state
(the offer condition ``syn_offer_tariff_required`` is the contextual offer for an eligible applicant at
an adopted provider, else the standard offer; lenient applicants may be confirmed below their stated
offer); ``ucas_applicants.accept_flag`` and ``acceptance_route`` (``Firm``, ``Insurance``, ``Clearing``)
show where they were placed. The offer-condition columns are synthetic only (``syn_``).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from leokit.errors import GeneratorInputError
from leokit.synth import labour as L
from leokit.synth._util import expit, local_linear_at, random_codes
from leokit.synth.courses import (A_LEVEL_SUBJECTS, COURSE_OFFER_RANGE, JACS_LETTERS, NONE, _LETTERS, Providers,
                                  _pick, adoption_share, grades_string, pick_by_tariff)
from leokit.synth.params import MESSINESS
from leokit.synth.truth import SUBJECT_GROUPS
from leokit.years import taxyear_at_age

K = 5  # applications per applicant (UCAS maximum)
#: Offer-making intercept by tariff group (high, medium, low): high-tariff providers are more selective.
OFFER_INTERCEPT = np.array([0.0, 1.0, 2.0])
#: Prestige of each tariff group in the firm choice.
PRESTIGE = np.array([2.0, 1.0, 0.0])
#: Bandwidth (IDACI score) of the local-linear estimate of B(cutoff) and of the realised effects.
TRUTH_BANDWIDTH = 0.05
#: The bandwidth of the B(cutoff) estimate widens until it holds this many applicants (small data).
CALIBRATION_MIN_N = 2000
ROUTES = np.array([None, "Firm", "Insurance", "Clearing"], dtype=object)


def _admit(req, valid, tgs, provs, prov: Providers, pp, a, w, pref, v, clear_med, clear_low) -> dict:
    """Offers, firm/insurance choice and placement of every applicant under the requirement ``req`` (m, K)."""
    m = len(pp)
    offer = valid & (w < expit((pp[:, None] - req) / 8.0 + OFFER_INTERCEPT[tgs]))
    rows = np.arange(m)
    has = offer.any(1)
    firm = np.where(has, np.argmax(np.where(offer, pref, -np.inf), axis=1), -1)
    others = offer & (np.arange(K)[None, :] != firm[:, None])
    has_ins = others.any(1)
    ins = np.where(has_ins, np.argmax(np.where(others, -req + 0.01 * pref, -np.inf), axis=1), -1)
    req_f = req[rows, np.maximum(firm, 0)]
    req_i = req[rows, np.maximum(ins, 0)]
    met_f = has & (a >= req_f)
    met_i = has_ins & ~met_f & (a >= req_i)
    slot = np.where(met_f, firm, np.where(met_i, ins, -1))
    pm = expit((a - 100.0) / 16.0)
    ctg = np.where(v < pm, 1, np.where(v < pm + (1 - pm) * 0.65, 2, NONE))
    placed = slot >= 0
    tg = np.where(placed, tgs[rows, np.maximum(slot, 0)], ctg)
    provider = np.where(placed, provs[rows, np.maximum(slot, 0)],
                        np.where(ctg == 1, clear_med, np.where(ctg == 2, clear_low, -1)))
    route = np.where(met_f, 1, np.where(met_i, 2, np.where(ctg != NONE, 3, 0)))
    return dict(offer=offer, firm=firm, ins=ins, slot=slot, tg=tg, provider=provider, route=route,
                any_hi_offer=(offer & (tgs == 0)).any(1))


def simulate_admissions(rng: np.random.Generator, prov: Providers, truth: Mapping[str, Any], *, cycle, predicted,
                        achieved, x, eligible) -> dict:
    """Applications and placements of ``m`` UCAS applicants in both potential states (module docstring).

    Returns per-applicant arrays for state 0 (``tg0``, ``provider0``, ``route0``, ...) and state 1, the
    actual state's application-level arrays for the released tables, and the mechanism's constants
    (``B_cutoff``, ``delta``).
    """
    cycle = np.asarray(cycle)
    pp = np.nan_to_num(np.asarray(predicted, float))
    a = np.nan_to_num(np.asarray(achieved, float))
    x = np.asarray(x, float)
    elig = np.asarray(eligible, bool)
    m = len(pp)
    tau = float(truth["contextual_offer_high_tariff_entry_effect"])
    R = truth["contextual_offer_grade_reduction"]
    if not float(R).is_integer() or not 0 <= R <= 4:
        raise GeneratorInputError(f"truth: contextual_offer_grade_reduction must be a whole number of A-level grades 0..4, "
                         f"found {R!r}")
    R = int(R)
    cutoff = float(truth["contextual_offer_cutoff"])

    napps = rng.choice([5, 4, 3, 2], m, p=[0.75, 0.10, 0.10, 0.05])
    valid = np.arange(K)[None, :] < napps[:, None]
    ph = expit((pp - 128) / 12)
    pl = expit((92 - pp) / 12)
    uu = rng.random((m, K))
    tgs = np.where(uu < ph[:, None], 0, np.where(uu < (ph + pl)[:, None], 2, 1))
    provs = pick_by_tariff(rng, prov, tgs.ravel()).reshape(m, K)
    tgs = prov.tariff[provs]
    lo, hi = COURSE_OFFER_RANGE
    std = np.clip(prov.std_offer[provs] + 8 * rng.choice([-1, 0, 1], size=(m, K), p=[0.2, 0.6, 0.2]), lo[tgs], hi[tgs])
    ctx = np.where(tgs == 0, np.minimum(std, np.maximum(std - 8 * R, prov.floor[provs])), std)
    adopt = prov.adopt_cycle[provs]
    ever = (tgs == 0) & ~np.isnan(adopt)
    now = ever & (adopt <= cycle[:, None])
    w = rng.random((m, K))
    pref = PRESTIGE[tgs] + 0.6 * prov.quality[provs] + rng.gumbel(size=(m, K))
    v = rng.random(m)
    clear_med = _pick(rng, prov, prov.tariff == 1, m)
    clear_low = _pick(rng, prov, prov.tariff == 2, m)
    nu = rng.random(m)

    def run(req):
        return _admit(req, valid, tgs, provs, prov, pp, a, w, pref, v, clear_med, clear_low)

    reqs = {"S": std, "C": np.where(now, ctx, std), "F": np.where(ever, ctx, std), "L": np.where(tgs == 0, ctx, std)}
    reg = {k: run(r) for k, r in reqs.items()}
    B = (reg["F"]["tg"] == 0).astype(float) - (reg["S"]["tg"] == 0).astype(float)
    B_cut, n_cut, B_se, B_h = local_linear_at(x, B, cutoff, TRUTH_BANDWIDTH, min_n=CALIBRATION_MIN_N)
    capped = False
    small = n_cut < CALIBRATION_MIN_N  # too few applicants to pin B(cutoff) down: never refuse a key then
    if tau < 0:
        raise GeneratorInputError(f"truth: contextual_offer_high_tariff_entry_effect must be >= 0 (a contextual offer only "
                         f"lowers requirements), found {tau}")
    if tau == 0:
        delta = 0.0
    elif not np.isfinite(B_cut) or B_cut <= 0:
        if not small:
            raise GeneratorInputError(
                f"truth: contextual_offer_high_tariff_entry_effect = {tau} cannot be produced: a full contextual-offer "
                f"scheme has no effect on high-tariff entry at the cut-off here (B(cutoff) = {B_cut}; no adopting "
                f"providers, a zero grade reduction or no applicants near the cut-off)")
        delta, capped = 1.0, True
    else:
        delta = tau / B_cut
        if delta > 1:
            if not small and tau > B_cut + 3 * B_se:
                raise GeneratorInputError(
                    f"truth: contextual_offer_high_tariff_entry_effect = {tau} is more than a {R}-grade contextual offer "
                    f"can produce at the cut-off {cutoff}: at most B(cutoff) = {B_cut:.3f} (SE {B_se:.3f}), the effect "
                    f"if every eligible marginal applicant were admitted because of the scheme")
            delta, capped = 1.0, True  # within sampling noise of B(cutoff), or small data: every marginal moves
    strict = nu < delta
    # regime codes: 0 = S, 1 = C, 2 = L
    r0 = np.where(strict, 0, 2)
    r1 = np.where(strict, 1, 2)
    ract = np.where(elig, r1, r0)
    order = ("S", "C", "L")

    def pick(key, r):
        return np.stack([reg[k][key] for k in order])[r, np.arange(m)]

    out: dict = dict(B=B, B_cutoff=float(B_cut), B_cutoff_se=float(B_se), B_bandwidth=float(B_h), n_cutoff=int(n_cut),
                     delta=float(delta), delta_capped=capped, strict=strict,
                     eligible=elig, cycle=cycle, x=x)
    for s, r in (("0", r0), ("1", r1), ("", ract)):
        for key in ("tg", "provider", "route", "any_hi_offer", "slot"):
            out[f"{key}{s}"] = pick(key, r)
    rows = np.arange(m)
    slot1 = out["slot1"]
    out["entered_contextual1"] = ((slot1 >= 0) & now[rows, np.maximum(slot1, 0)]).astype(np.int64)
    # actual state, application level (for the released tables)
    offer = np.stack([reg[k]["offer"] for k in order])[ract, rows]
    firm = np.stack([reg[k]["firm"] for k in order])[ract, rows]
    ins = np.stack([reg[k]["ins"] for k in order])[ract, rows]
    formal = now & elig[:, None]
    out["apps"] = dict(valid=valid, tgs=tgs, provs=provs, std=std, ctx=ctx, now=now,
                       req=np.where(formal, ctx, std), ctx_flag=formal, offer=offer, firm=firm, ins=ins)
    return out


def build_ucas_tables(rng: np.random.Generator, P: pd.DataFrame, edu: dict, truth: Mapping[str, Any]) -> dict:
    """``ucas_applicants``, ``ucas_applications`` and ``ucas_qualifications`` of the actual state."""
    prov: Providers = edu["providers"]
    adm = edu["admissions"]
    ai = edu["contextual"]["idx"]
    m = len(ai)
    cyc = adm["cycle"]
    A = adm["apps"]
    valid, tgs, provs, req, offer, firm, ins = (A[k] for k in ("valid", "tgs", "provs", "req", "offer", "firm", "ins"))
    ctx_flag = A["ctx_flag"] & offer
    rows = np.arange(m)
    is_firm = np.zeros((m, K), bool)
    is_ins = np.zeros((m, K), bool)
    is_firm[rows[firm >= 0], firm[firm >= 0]] = True
    is_ins[rows[ins >= 0], ins[ins >= 0]] = True
    # decisions at 30 June: a few unconditional offers among the offers not held as firm/insurance
    uncond = offer & ~ctx_flag & ~is_firm & ~is_ins & (rng.random((m, K)) < 0.04)
    wd = rng.random((m, K)) < 0.1
    decision = np.where(offer, np.where(uncond, "Unconditional offer", "Conditional offer"),
                        np.where(wd, "Withdrawn", "Rejected")).astype(object)
    resp = np.where(is_firm, "Firm", np.where(is_ins, "Insurance", np.where(offer, "Declined", "No response"))).astype(object)
    # subject letters: the entered subject group for entrants, else a preferred group
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
    route = adm["route"]
    entered = route > 0
    applicants = {
        "PupilMatchingRefAnonymous": pmr, "unique_id_cycle": uid, "applicant_id": codes,
        "application_cycle": cyc, "applicant_polar4_code": geo.polar4[lsoa],
        "applicant_imd_code": (geo.imd_decile[lsoa] + 1) // 2, "applicant_gender_code": P["sex"].to_numpy(dtype=object)[ai],
        "apply_centre_type": centre, "accept_flag": entered.astype(np.int64),
        "acceptance_route": ROUTES[route],
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
    return dict(ucas_applicants=applicants, ucas_applications=applications, ucas_qualifications=quals,
                unique_id_cycle=uid, applicant_idx=ai)


# ------------------------------------------------------------------------------------------------------
# The answer key: potential outcomes per applicant and realised effects
# ------------------------------------------------------------------------------------------------------
def contextual_truth(P: pd.DataFrame, edu: dict, uc: dict, truth: Mapping[str, Any]) -> tuple[pd.DataFrame, dict]:
    """``truth_contextual`` (one row per UCAS applicant) and the realised contextual-offer statistics."""
    c = edu["contextual"]
    adm = edu["admissions"]
    prov: Providers = edu["providers"]
    ai = c["idx"]
    d0, d1 = c["d0"], c["d1"]
    tgn = np.array(["high", "medium", "low", "none"], dtype=object)
    cut = float(truth["contextual_offer_cutoff"])
    x = adm["x"]
    a_c = c["a_c"][ai]
    df = pd.DataFrame({
        "person_id": P["person_id"].to_numpy()[ai], "ae_id": P["ae_id"].to_numpy()[ai],
        "unique_id_cycle": uc["unique_id_cycle"], "application_cycle": adm["cycle"],
        "idaci_score": x, "eligible": adm["eligible"].astype(np.int64), "adoption_share": a_c,
        "alevel_points": P["alevel_points"].to_numpy()[ai],
        "predicted_points": P["predicted_points"].to_numpy()[ai],
        "strict": adm["strict"].astype(np.int64),
        "full_scheme_effect": adm["B"].astype(np.int64),
        "high_tariff_entry_0": (c["tg0"][ai] == 0).astype(np.int64), "high_tariff_entry_1": (c["tg1"][ai] == 0).astype(np.int64),
        "tariff_group_0": tgn[c["tg0"][ai]], "tariff_group_1": tgn[c["tg1"][ai]],
        "entry_route_0": ROUTES[adm["route0"]], "entry_route_1": ROUTES[adm["route1"]],
        "high_tariff_offer_0": adm["any_hi_offer0"].astype(np.int64), "high_tariff_offer_1": adm["any_hi_offer1"].astype(np.int64),
        "degree_0": d0["comp"][ai].astype(np.int64), "degree_1": d1["comp"][ai].astype(np.int64),
        "first_class_0": d0["first"][ai].astype(np.int64), "first_class_1": d1["first"][ai].astype(np.int64),
        "continuation_0": d0["cont"][ai].astype(np.int64), "continuation_1": d1["cont"][ai].astype(np.int64),
        "marginal": c["marginal1"][ai].astype(np.int64),
        "contextual_offer_entrant_1": adm["entered_contextual1"].astype(np.int64),
    })
    full = a_c >= 1 - 1e-12
    r: dict[str, Any] = {}

    def eff(a, b, mask=full):
        if not mask.any():
            return None
        est = local_linear_at(x[mask], (df[b] - df[a]).to_numpy(float)[mask], cut, TRUTH_BANDWIDTH)[0]
        return float(est) if np.isfinite(est) else None

    r["contextual_offer_high_tariff_entry_effect_realised"] = eff("high_tariff_entry_0", "high_tariff_entry_1")
    r["contextual_offer_offer_effect"] = eff("high_tariff_offer_0", "high_tariff_offer_1")
    r["contextual_offer_first_class_effect"] = eff("first_class_0", "first_class_1")
    r["contextual_offer_degree_effect"] = eff("degree_0", "degree_1")
    r["contextual_offer_continuation_effect"] = eff("continuation_0", "continuation_1")
    near = np.abs(x - cut) <= TRUTH_BANDWIDTH
    r["contextual_offer_n_near_cutoff_full_adoption"] = int((near & full).sum())
    # how many applicants carry each effect: those near the cut-off whose two potential outcomes differ
    r["contextual_offer_n_changed_near_cutoff"] = {
        k: int((near & full & (df[f"{k}_1"] != df[f"{k}_0"]).to_numpy()).sum())
        for k in ("high_tariff_entry", "high_tariff_offer", "continuation", "degree", "first_class")}
    r["contextual_offer_full_scheme_effect_at_cutoff"] = adm["B_cutoff"]
    r["contextual_offer_full_scheme_effect_at_cutoff_se"] = adm["B_cutoff_se"]
    r["contextual_offer_full_scheme_effect_bandwidth"] = adm["B_bandwidth"]
    r["contextual_offer_marginal_probability_shift"] = adm["delta"]
    r["contextual_offer_marginal_probability_shift_capped"] = bool(adm["delta_capped"])
    r["contextual_offer_adoption_share_by_cycle"] = {
        str(int(k)): float(v) for k, v in df.groupby("application_cycle")["adoption_share"].first().items()}
    r["contextual_offer_effects_note"] = (
        "realised effects at the cut-off: local-linear (triangular kernel, bandwidth "
        f"{TRUTH_BANDWIDTH}) intercept at the cut-off of the potential-outcome difference (state 1 = eligible minus "
        "state 0 = not eligible) over ALL UCAS applicants in full-adoption cycles, whether or not they enter HE: the "
        "intention-to-treat effect of eligibility that a sharp RD on eligibility estimates among applicants (an "
        "applicant who does not enter HE, continue or graduate counts as 0; the effect among entrants is not "
        "identified by the RD, because eligibility changes who enters). offer = holds any high-tariff offer; "
        "continuation = entered HE and studied into a second year; degree = completes a first degree; first_class = "
        "completes one with a first (0 otherwise). Downstream effects are carried only by the marginal applicants "
        "eligibility moves (contextual_offer_n_changed_near_cutoff: applicants within the bandwidth whose two "
        "potential outcomes differ); when the same few applicants change both, the continuation and degree effects "
        "are equal")

    # entrants at adopting providers after adoption: contextual-offer holders and their attainment gap
    ent = P["via_ucas"].to_numpy()[ai] == 1
    pidx = P["provider_idx"].to_numpy()[ai]
    ad = prov.adopt_cycle[np.maximum(pidx, 0)]
    at_adopted = ent & (pidx >= 0) & ~np.isnan(ad) & (ad <= adm["cycle"])
    holder = P["contextual_offer_holder"].to_numpy()[ai] == 1
    pts = P["alevel_points"].to_numpy()[ai]
    for k in ("contextual_offer_holder_share_at_adopters", "contextual_offer_holder_attainment_gap_grades",
              "contextual_offer_holders_below_standard_offer_share"):
        r[k] = None
    if at_adopted.any():
        h = holder & at_adopted
        o = ~holder & at_adopted
        r["contextual_offer_holder_share_at_adopters"] = float(h.sum() / at_adopted.sum())
        r["contextual_offer_holder_attainment_gap_grades"] = (
            float((pts[o].mean() - pts[h].mean()) / 24.0) if h.any() and o.any() else None)
        stdf = adm["apps"]["std"][np.arange(len(ai)), np.maximum(adm["slot"], 0)]
        r["contextual_offer_holders_below_standard_offer_share"] = float((pts[h] < stdf[h]).mean()) if h.any() else None
        r["contextual_offer_holder_note"] = (
            "UCAS entrants to high-tariff providers in cycles after the provider adopted: share holding a contextual "
            "offer; attainment gap = mean best-three A-level tariff of other entrants minus that of contextual-offer "
            "entrants, in grades per A level (24 tariff points = one grade in each of three A levels); share of "
            "contextual-offer entrants whose points were below the provider's standard offer")
    # DiD truth: effect of adoption on the share of eligible applicants among a provider's UCAS entrants
    r.update(_did_truth(P, edu, prov, cut))

    # earnings channel: degree-return component of log pay at age 29 (C1), from the labour side's formula
    r_act, consts = L.degree_return_individual(P, dict(truth))
    sexf = P["sex"].to_numpy()[ai] == "F"
    subj = P["subject_group"].to_numpy(dtype=object)[ai]
    dev_s = np.zeros(len(ai))
    for s in SUBJECT_GROUPS:
        dev_s[subj == s] += float(truth[f"degree_return_subject_{s}"])
    csex = np.where(sexf, consts.get("F", 0.0), consts.get("M", 0.0))
    base = np.where(sexf, float(truth["degree_return_female"]), float(truth["degree_return_male"]))
    t29 = taxyear_at_age(29, P["cohort"].to_numpy()[ai])
    devt = np.array([float(truth[f"degree_return_tariff_{g}"]) for g in ("high", "medium", "low")] + [0.0])

    def comp(tgi, d):
        r_ = np.where(d["comp"][ai], base + dev_s + devt[tgi] - csex, 0.0)
        return r_ * L.degree_ramp(np.where(d["comp"][ai], d["grad"][ai], np.nan).astype(float), t29)

    e29 = comp(c["tg1"][ai], d1) - comp(c["tg0"][ai], d0)
    tar = (np.where(d1["comp"][ai], devt[c["tg1"][ai]], 0.0) - np.where(d0["comp"][ai], devt[c["tg0"][ai]], 0.0))
    r["contextual_offer_earnings_effect"] = (
        local_linear_at(x[full], e29[full], cut, TRUTH_BANDWIDTH)[0] if full.any() else None)
    r["contextual_offer_tariff_return_effect"] = (
        local_linear_at(x[full], tar[full], cut, TRUTH_BANDWIDTH)[0] if full.any() else None)
    r["contextual_offer_earnings_effect_note"] = (
        "degree-return channel only, at the cut-off in full-adoption cycles: change in the degree component of "
        "log pay in the tax year the KS4 cohort is 29 (leokit.years.taxyear_at_age); tariff_return_effect: "
        "change in the tariff deviation of the degree return (degree_return_tariff_*) of completed degrees. "
        "Potential outcomes only: the released earnings end in 2020/21, before these cohorts are 29")
    return df, r


def _did_truth(P: pd.DataFrame, edu: dict, prov: Providers, cut: float) -> dict:
    """Truth for a DiD on adoption: effect on the eligible share of a provider's UCAS entrants.

    For every high-tariff provider and cycle with at least one adopted provider, the share of eligible
    applicants among its UCAS entrants in the actual state minus the same share had no provider made
    contextual offers (state 0 for everyone). Averaged (entrant-weighted) over adopted provider-cycles
    (the ATT) and over not-yet- or never-adopted high-tariff provider-cycles (the spillover onto the
    comparison group: eligible applicants drawn away by adopters' contextual offers).
    """
    adm = edu["admissions"]
    elig = adm["eligible"]
    cyc = adm["cycle"]
    p_act = adm["provider"]
    p_0 = adm["provider0"]
    first = np.nanmin(prov.adopt_cycle) if np.isfinite(prov.adopt_cycle).any() else np.inf
    rows = []
    for p in np.flatnonzero(prov.tariff == 0):
        for t in np.unique(cyc[cyc >= first]):
            at = cyc == t
            n1 = int((at & (p_act == p)).sum())
            n0 = int((at & (p_0 == p)).sum())
            if n1 == 0 or n0 == 0:
                continue
            s1 = float((at & (p_act == p) & elig).sum() / n1)
            s0 = float((at & (p_0 == p) & elig).sum() / n0)
            adopted = prov.adopt_cycle[p] <= t  # False for NaN (never)
            rows.append((adopted, t - prov.adopt_cycle[p] if adopted else np.nan, n1, s1 - s0, t))
    out: dict = {"contextual_offer_adoption_effect_eligible_share": None,
                 "contextual_offer_adoption_spillover_eligible_share": None,
                 "contextual_offer_adoption_did_estimand_eligible_share": None}
    if not rows:
        return out
    a = np.array(rows, float)
    tr, co = a[:, 0] == 1, a[:, 0] == 0
    if tr.any():
        out["contextual_offer_adoption_effect_eligible_share"] = float(np.average(a[tr, 3], weights=a[tr, 2]))
        out["contextual_offer_adoption_effect_eligible_share_by_event_time"] = {
            str(int(e)): float(np.average(a[tr & (a[:, 1] == e), 3], weights=a[tr & (a[:, 1] == e), 2]))
            for e in np.unique(a[tr, 1])}
    if co.any():
        out["contextual_offer_adoption_spillover_eligible_share"] = float(np.average(a[co, 3], weights=a[co, 2]))
    # what a DiD against the not-yet- and never-adopted providers estimates: each adopted provider-cycle's
    # effect minus the same cycle's (entrant-weighted) spillover onto those comparison providers
    spill = {t: float(np.average(a[co & (a[:, 4] == t), 3], weights=a[co & (a[:, 4] == t), 2]))
             for t in np.unique(a[co, 4])}
    dd = tr & np.isin(a[:, 4], list(spill))
    if dd.any():
        net = a[dd, 3] - np.array([spill[t] for t in a[dd, 4]])
        out["contextual_offer_adoption_did_estimand_eligible_share"] = float(np.average(net, weights=a[dd, 2]))
        out["contextual_offer_adoption_did_estimand_eligible_share_by_event_time"] = {
            str(int(e)): float(np.average(net[a[dd, 1] == e], weights=a[dd, 2][a[dd, 1] == e]))
            for e in np.unique(a[dd, 1])}
    out["contextual_offer_adoption_effect_note"] = (
        "difference-in-differences truth on the eligible share (IDACI >= cut-off) of a high-tariff provider's UCAS "
        "entrants: actual minus the share had no provider made contextual offers (state 0 for everyone); "
        "adoption_effect = entrant-weighted mean over provider-cycles from the provider's adoption on (by event time "
        "= cycles since adoption); spillover = the same over not-yet- and never-adopted high-tariff providers in "
        "cycles after the first adoption (eligible applicants drawn to adopters). A DiD against those providers "
        "estimates about adoption_effect minus spillover: did_estimand = entrant-weighted mean over adopted "
        "provider-cycles of the effect minus the same cycle's spillover onto the comparison providers (by event time "
        "too)")
    return out
