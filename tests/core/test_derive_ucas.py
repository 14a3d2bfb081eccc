"""leokit.derive.ucas: offers, placement and A-level points per applicant and cycle, from released UCAS columns."""

from __future__ import annotations

import pandas as pd
import pytest

import leokit.derive as d


def _tables():
    applicants = pd.DataFrame({
        "PupilMatchingRefAnonymous": ["P1", "P2", "P3", "P4", None],
        "unique_id_cycle": ["A1_2016", "A2_2016", "A3_2016", "A4_2016", "A5_2016"],
        "application_cycle": [2016] * 5,
        "accept_flag": [1, 1, 1, 0, 1],
        "acceptance_route": ["Firm", "Insurance", "Clearing", None, "Firm"],
    })
    applications = pd.DataFrame({
        "unique_id_cycle": ["A1_2016", "A1_2016", "A2_2016", "A2_2016", "A3_2016", "A4_2016", "A5_2016"],
        "inst_code_anon": ["U1", "U2", "U1", "U3", "U1", "U1", "U3"],
        "he_provider_tariff_group": ["high", "medium", "high", "low", "high", "high", "low"],
        "provider_decision_june30": ["Conditional offer", "Conditional offer", "Conditional offer",
                                     "Unconditional offer", "Rejected", "Withdrawn", "Conditional offer"],
        "app_response_june30": ["Firm", "Insurance", "Firm", "Insurance", "No response", "No response", "Firm"],
    })
    return applicants, applications


def test_placement_follows_the_route():
    out = d.ucas_offers_and_placement(*_tables()).set_index("unique_id_cycle")
    assert out.loc["A1_2016", "placed_tariff_group"] == "high" and out.loc["A1_2016", "high_tariff_entry"] == 1
    # placed through the insurance choice: the insurance provider, not the (high-tariff) firm choice
    assert out.loc["A2_2016", "placed_provider"] == "U3" and out.loc["A2_2016", "high_tariff_entry"] == 0
    assert out.loc["A3_2016", "placed_tariff_group"] == "clearing" and pd.isna(out.loc["A3_2016", "placed_provider"])
    assert pd.isna(out.loc["A4_2016", "placed_tariff_group"]) and out.loc["A4_2016", "placed"] == 0
    assert list(out["high_tariff_offer"]) == [1, 1, 0, 0, 0]
    assert list(out["n_high_tariff_applications"]) == [1, 1, 1, 1, 0]
    assert len(out) == 5  # one row per applicant-cycle, unlinked applicants (no PMR) kept


def test_duplicate_firm_or_applicant_is_an_error():
    a, ap = _tables()
    with pytest.raises(ValueError, match="more than one 'Firm'"):
        d.ucas_offers_and_placement(a, pd.concat([ap, ap.head(1)]))
    with pytest.raises(ValueError, match="ucas_applicants.*unique_id_cycle"):
        d.ucas_offers_and_placement(pd.concat([a, a.head(1)]), ap)
    with pytest.raises(d.DerivationError, match="acceptance_route"):
        d.ucas_offers_and_placement(a.drop(columns="acceptance_route"), ap)


def test_best_three_points_by_status():
    q = pd.DataFrame({
        "unique_id_cycle": ["A1"] * 8 + ["A2"] * 2,
        "qualification_status": ["Pending"] * 4 + ["Gained"] * 4 + ["Pending", "Pending"],
        "qualification_description": ["GCE Advanced Level"] * 10,
        "grade": ["A*", "A", "B", "C", "A", "B", "B", "U", "C", "D"],
    })
    out = d.ucas_alevel_points(q).set_index("unique_id_cycle")
    assert out.loc["A1", "ucas_predicted_points"] == 56 + 48 + 40
    assert out.loc["A1", "ucas_achieved_points"] == 48 + 40 + 40
    assert out.loc["A2", "ucas_predicted_points"] == 32 + 24 and pd.isna(out.loc["A2", "ucas_achieved_points"])
    assert out.loc["A1", "ucas_n_predicted"] == 4


def test_registered_in_the_codebook():
    for name in ("ucas_predicted_points", "ucas_achieved_points", "high_tariff_offer", "placed_tariff_group",
                 "high_tariff_entry"):
        assert name in d.REGISTRY
