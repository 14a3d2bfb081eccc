"""The contextual-offer design of the generator: believable offers, who a contextual offer moves, the RD
estimand at the cut-off recomputed from potential outcomes, overrides, and the realised statistics.

Runs the education side only (no labour side, no files) on 12 cohorts, so the full-adoption cycles exist.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leokit.synth._util import local_linear_at
from leokit.synth.truth import merge_truth
from leokit.synth.ucas import TRUTH_BANDWIDTH, contextual_truth

SCALE, COHORTS, SEED = 1500, 12, 5


def _world(seed=SEED, scale=SCALE, **override):
    from leokit.synth.generate import education_side
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    truth = merge_truth(override or None)
    P, _fsm, _geo, edu, uc = education_side(rng, scale, COHORTS, truth)
    return P, edu, uc, truth


@pytest.fixture(scope="module")
def world():
    return _world()


def _entry_diff(edu):
    c = edu["contextual"]
    ai = c["idx"]
    return (c["tg1"][ai] == 0).astype(float) - (c["tg0"][ai] == 0).astype(float), c["a_c"][ai]


def test_eligibility_is_the_idaci_cutoff(world):
    P, _, _, truth = world
    elig = P["contextual_eligible"].to_numpy()
    x = P["idaci_score"].to_numpy()
    appl = P["ucas_applicant"].to_numpy() == 1
    assert (elig[appl] == (x[appl] >= truth["contextual_offer_cutoff"])).all() and (elig[~appl] == 0).all()


def test_rd_estimand_equals_the_key(world):
    _, edu, _, truth = world
    adm = edu["admissions"]
    tau = truth["contextual_offer_high_tariff_entry_effect"]
    # the mapping: delta * B(cutoff) = key, with delta a probability
    assert 0 < adm["delta"] <= 1 and not adm["delta_capped"]
    assert adm["delta"] * adm["B_cutoff"] == pytest.approx(tau, rel=1e-12)
    d, a_c = _entry_diff(edu)
    full = a_c >= 1 - 1e-12
    # in full-adoption cycles a strict applicant's effect is B_i, a lenient applicant's zero
    assert (d[full] == np.where(adm["strict"][full], adm["B"][full], 0)).all()
    # realised RD estimand at the cut-off (potential outcomes, local linear) is the key within sampling error
    est, n, se, _ = local_linear_at(adm["x"][full], d[full], truth["contextual_offer_cutoff"], TRUTH_BANDWIDTH)
    assert n > 300
    assert abs(est - tau) < 3 * se + 0.005, (est, se, tau)
    # no adopted provider, no effect
    assert (d[a_c == 0] == 0).all()
    # partial adoption: a smaller effect than with full adoption
    part = (a_c > 0) & (a_c < 1)
    assert d[part].mean() < d[full].mean()


def test_only_marginal_applicants_are_moved(world):
    P, edu, _, truth = world
    adm = edu["admissions"]
    A = adm["apps"]
    ai = edu["contextual"]["idx"]
    d, _ = _entry_diff(edu)
    moved = d != 0
    assert moved.sum() > 20
    assert adm["strict"][moved].all()  # lenient applicants are admitted the same way in both states
    # every applicant moved into a high-tariff provider entered it (if eligible) through a contextual offer
    # at a provider that had adopted, and met that contextual offer, not the standard one
    comp = d == 1
    rows = np.flatnonzero(comp)
    slot = adm["slot1"][rows]
    assert (slot >= 0).all() and (adm["entered_contextual1"][rows] == 1).all()
    pts = np.nan_to_num(P["alevel_points"].to_numpy()[ai][rows])
    assert (pts >= A["ctx"][rows, slot]).all()
    # ... and most of them had not met the standard offer (the rest were moved at the offer stage)
    assert 0.3 < (pts < A["std"][rows, slot]).mean() <= 1


def test_offers_are_believable(world):
    _, edu, uc, truth = world
    A = edu["admissions"]["apps"]
    R = truth["contextual_offer_grade_reduction"]
    hi = A["valid"] & (A["tgs"] == 0)
    # standard offers at high-tariff providers are ABB or above; contextual ones at most R grades lower, never
    # under the BBC floor, and never above the standard offer
    assert (A["std"][hi] >= 128).all()
    assert (A["ctx"][hi] >= 112).all() and (A["std"][hi] - A["ctx"][hi] <= 8 * R).all()
    assert (A["ctx"] <= A["std"]).all()
    ap = pd.DataFrame(uc["ucas_applications"])
    hi_off = ap[(ap["he_provider_tariff_group"] == "high") & ap["syn_offer_grades_required"].notna()]
    assert len(hi_off) > 100
    assert not hi_off["syn_offer_grades_required"].str.contains("D|E").any()  # no DDD / EEE offers
    ctx = ap[ap["syn_contextual_offer_flag"] == 1]
    assert len(ctx) > 20 and (ctx["syn_offer_tariff_required"] >= 112).all()
    # standard offers are ordered by tariff group
    med = ap.loc[(ap["he_provider_tariff_group"] == "medium") & (ap["syn_contextual_offer_flag"] == 0),
                 "syn_offer_tariff_required"].median()
    low = ap.loc[ap["he_provider_tariff_group"] == "low", "syn_offer_tariff_required"].median()
    high = ap.loc[(ap["he_provider_tariff_group"] == "high") & (ap["syn_contextual_offer_flag"] == 0),
                  "syn_offer_tariff_required"].median()
    assert high > med > low


def test_contextual_entrants_near_published_figures(world):
    P, edu, uc, truth = world
    _, r = contextual_truth(P, edu, uc, truth)
    # about a fifth of entrants at adopting providers hold a contextual offer [BoliverJones2025]
    assert 0.1 < r["contextual_offer_holder_share_at_adopters"] < 0.3
    # about half of them had points below the standard offer [BoliverJones2025]
    assert 0.3 < r["contextual_offer_holders_below_standard_offer_share"] < 0.75
    # they enter with lower grades, by well under a grade per A level [SuttonTrust2017: about a quarter]
    assert 0.05 < r["contextual_offer_holder_attainment_gap_grades"] < 0.6
    # the realised RD estimand and the other effects at the cut-off are written
    assert r["contextual_offer_high_tariff_entry_effect_realised"] == pytest.approx(
        truth["contextual_offer_high_tariff_entry_effect"], abs=0.05)
    assert r["contextual_offer_offer_effect"] > 0
    assert r["contextual_offer_first_class_effect"] <= 0.01
    assert r["contextual_offer_adoption_effect_eligible_share"] > 0
    assert r["contextual_offer_adoption_spillover_eligible_share"] <= 0.005
    # what a DiD against the comparison providers estimates: the effect minus the (negative) spillover
    assert r["contextual_offer_adoption_did_estimand_eligible_share"] >= r["contextual_offer_adoption_effect_eligible_share"]
    assert set(r["contextual_offer_adoption_did_estimand_eligible_share_by_event_time"]) <= set(
        r["contextual_offer_adoption_effect_eligible_share_by_event_time"])
    json.dumps(r)  # serialisable


def test_entry_effect_override_moves_the_estimand(world):
    _, edu, _, truth = world
    tau = truth["contextual_offer_high_tariff_entry_effect"]
    _, edu_h, _, _ = _world(contextual_offer_high_tariff_entry_effect=tau / 2)
    adm, adm_h = edu["admissions"], edu_h["admissions"]
    assert adm_h["B_cutoff"] == pytest.approx(adm["B_cutoff"])  # the full-scheme effect does not depend on the key
    assert adm_h["delta"] == pytest.approx(adm["delta"] / 2)
    d, a_c = _entry_diff(edu)
    dh, _ = _entry_diff(edu_h)
    full = a_c >= 1 - 1e-12
    x = adm["x"][full]
    cut = truth["contextual_offer_cutoff"]
    est, _, _, _ = local_linear_at(x, d[full], cut, TRUTH_BANDWIDTH)
    est_h, _, se_h, _ = local_linear_at(x, dh[full], cut, TRUTH_BANDWIDTH)
    assert est_h < est
    assert abs(est_h - tau / 2) < 3 * se_h + 0.005
    # strict applicants under the smaller key are a subset: the same draws, a lower threshold
    assert (adm_h["strict"] <= adm["strict"]).all()


def test_infeasible_entry_effect_is_a_clear_error():
    from leokit.errors import GeneratorInputError
    from leokit.synth.truth import RANGES
    hi = RANGES["contextual_offer_high_tariff_entry_effect"][2]
    # within the documented range but above what a two-grade scheme produces here: refused against B(cutoff)
    with pytest.raises(GeneratorInputError, match="B\\(cutoff\\)"):
        _world(scale=600, contextual_offer_high_tariff_entry_effect=hi)
    for bad in (-0.05, hi + 0.1):  # outside the documented range: refused before anything is simulated
        with pytest.raises(GeneratorInputError, match=f"contextual_offer_high_tariff_entry_effect must be .*{hi:g}"):
            _world(scale=300, contextual_offer_high_tariff_entry_effect=bad)


def test_downstream_truths_are_intention_to_treat_effects_among_all_applicants(world):
    """The realised downstream truths are the effects of eligibility among ALL applicants at the cut-off (an applicant
    who does not enter, continue or graduate counts as 0), the estimand of a sharp RD on eligibility; they are
    carried only by the applicants eligibility moves, and they are not the effects among entrants."""
    P, edu, uc, truth = world
    df, r = contextual_truth(P, edu, uc, truth)
    cut = truth["contextual_offer_cutoff"]
    full = (df["adoption_share"] >= 1 - 1e-12).to_numpy()
    near = (np.abs(df["idaci_score"] - cut) <= TRUTH_BANDWIDTH).to_numpy()
    x = df["idaci_score"].to_numpy()
    entered_0 = (df["tariff_group_0"] != "none").to_numpy()
    for k, key in (("continuation", "continuation_effect"), ("degree", "degree_effect"),
                   ("first_class", "first_class_effect")):
        diff = (df[f"{k}_1"] - df[f"{k}_0"]).to_numpy(float)
        # over every applicant in full-adoption cycles, entrants or not
        assert r[f"contextual_offer_{key}"] == pytest.approx(local_linear_at(x[full], diff[full], cut, TRUTH_BANDWIDTH)[0])
        # restricting to applicants who enter HE without eligibility would be another number (a selected sample)
        sel = full & entered_0
        assert local_linear_at(x[sel], diff[sel], cut, TRUTH_BANDWIDTH)[0] != pytest.approx(r[f"contextual_offer_{key}"])
        # only applicants eligibility moves into a high-tariff provider change a downstream outcome
        changed = diff != 0
        assert (df["marginal"].to_numpy()[changed] == 1).all()
        assert r["contextual_offer_n_changed_near_cutoff"][k] == int((changed & full & near).sum())
    # some of them enter HE only because they are eligible: counted as 0 without eligibility, not dropped
    moved_in = (df["tariff_group_0"] == "none") & (df["high_tariff_entry_1"] == 1)
    assert moved_in.any() and (df.loc[moved_in, "continuation_0"] == 0).all()
    n = r["contextual_offer_n_changed_near_cutoff"]
    assert 0 < n["continuation"] < n["high_tariff_entry"]  # downstream effects rest on few applicants
    assert "ALL UCAS applicants" in r["contextual_offer_effects_note"]
