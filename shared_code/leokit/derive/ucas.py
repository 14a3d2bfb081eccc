"""UCAS: predicted and achieved A-level points, offers and placements of each applicant in each cycle.

The UCAS extract in LEO [VRF] holds applicants (``ucas_applicants``: one row per applicant and cycle,
``accept_flag``, ``acceptance_route``), their applications (``ucas_applications``: provider, the
provider's tariff group, the decision and the applicant's response at 30 June) and their
qualifications (``ucas_qualifications``: predicted grades with ``qualification_status = 'Pending'``,
achieved grades with ``'Gained'``). The functions here derive the applicant-level quantities a study
of admissions needs; each returns one row per ``unique_id_cycle`` (applicant and cycle).

Offer *conditions* (the grades an offer asks for) and a contextual-offer flag are not among the
fields listed for the real extract [VRF]: in the synthetic data they are the ``syn_`` columns of
``ucas_applications`` and nothing here reads them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.derive._common import check_input, PMR, as_numeric, require_columns
from leokit.derive.attainment import ALEVEL_TARIFF
from leokit.derive.registry import derived

__all__ = ["ucas_alevel_points", "ucas_offers_and_placement", "OFFER_DECISIONS"]

#: ``provider_decision_june30`` values that are offers.
OFFER_DECISIONS = ("Conditional offer", "Unconditional offer")


@derived(
    name="ucas_predicted_points", label="Predicted A-level points (UCAS, best three)", theme="attainment",
    definition="Sum of the UCAS tariff points (post-2017 tariff: A* 56, A 48, B 40, C 32, D 24, E 16) of the three best "
               "predicted A-level grades (ucas_qualifications rows with qualification_status = 'Pending' and "
               "qualification_description 'GCE Advanced Level') of the applicant in the cycle.",
    sources=[("ucas_qualifications", "unique_id_cycle"), ("ucas_qualifications", "qualification_status"),
             ("ucas_qualifications", "qualification_description"), ("ucas_qualifications", "grade")],
    unit="UCAS tariff points", valid_values="0-168; missing if no predicted A level",
    caveats="Predicted grades are set by teachers before the applicant applies, so they are fixed before any offer "
            "(a pre-determined covariate). Fewer than three A levels: the sum of those there are. The post-2017 "
            "tariff is applied to every cycle (kit choice: one scale across cycles).",
    level="person-year", status="kit", output_key=["unique_id_cycle"],
)
@derived(
    name="ucas_achieved_points", label="Achieved A-level points (UCAS, best three)", theme="attainment",
    definition="As ucas_predicted_points, for achieved grades (qualification_status = 'Gained').",
    sources=[("ucas_qualifications", "qualification_status"), ("ucas_qualifications", "grade")],
    unit="UCAS tariff points", valid_values="0-168; missing if no achieved A level recorded",
    caveats="Achieved grades come after offers are made: an offer could change effort, so they are not a "
            "pre-determined covariate in a study of offers. KS5 tables give the same grades from NPD.",
    level="person-year", status="kit", output_key=["unique_id_cycle"],
)
def ucas_alevel_points(ucas_qualifications: pd.DataFrame) -> pd.DataFrame:
    """Best-three A-level tariff points per applicant and cycle: ``[unique_id_cycle, ucas_predicted_points,
    ucas_achieved_points, ucas_n_predicted]`` (missing where the applicant has no such grades)."""
    q = ucas_qualifications
    q = check_input(q, "ucas_qualifications", ["unique_id_cycle", "qualification_status", "grade"])
    is_al = (q["qualification_description"].eq("GCE Advanced Level").fillna(False).to_numpy(dtype=bool)
             if "qualification_description" in q.columns else np.ones(len(q), bool))
    pts = pd.Series(q["grade"].to_numpy(dtype=object)).map(ALEVEL_TARIFF).to_numpy(dtype="float64")
    status = q["qualification_status"].astype(object).to_numpy()
    ids, uniq = pd.factorize(q["unique_id_cycle"], sort=True)
    out = pd.DataFrame({"unique_id_cycle": np.asarray(uniq, dtype=object)})
    n = len(uniq)
    for st, col in (("Pending", "ucas_predicted_points"), ("Gained", "ucas_achieved_points")):
        keep = is_al & ~np.isnan(pts) & (status == st) & (ids >= 0)
        i, v = ids[keep], pts[keep]
        order = np.lexsort((-v, i))  # by applicant, best grade first
        i, v = i[order], v[order]
        first = np.r_[True, i[1:] != i[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(len(i)), 0))
        top = (np.arange(len(i)) - start) < 3  # the best three of each applicant
        total = np.bincount(i[top], weights=v[top], minlength=n)
        has = np.bincount(i, minlength=n) > 0
        out[col] = np.where(has, total, np.nan)
        if st == "Pending":
            out["ucas_n_predicted"] = np.bincount(i, minlength=n).astype("int64")
    return out[["unique_id_cycle", "ucas_predicted_points", "ucas_achieved_points", "ucas_n_predicted"]]


@derived(
    name="high_tariff_offer", label="Holds an offer from a high-tariff provider (30 June)", theme="higher_education",
    definition="1 if any of the applicant's applications in the cycle to a provider with he_provider_tariff_group = "
               "'high' has provider_decision_june30 'Conditional offer' or 'Unconditional offer', else 0.",
    sources=[("ucas_applications", "unique_id_cycle"), ("ucas_applications", "he_provider_tariff_group"),
             ("ucas_applications", "provider_decision_june30")],
    unit="indicator", valid_values="0, 1",
    caveats="Decisions as at 30 June of the cycle; later changes (e.g. after results) are not seen.",
    level="person-year", status="kit", output_key=["unique_id_cycle"],
)
@derived(
    name="placed_tariff_group", label="Tariff group of the provider the applicant was placed at", theme="higher_education",
    definition="For applicants with accept_flag = 1: he_provider_tariff_group of the application with "
               "app_response_june30 = 'Firm' when acceptance_route is 'Firm', of the 'Insurance' application when it "
               "is 'Insurance'; 'clearing' for acceptance_route 'Clearing'; missing if not placed.",
    sources=[("ucas_applicants", "accept_flag"), ("ucas_applicants", "acceptance_route"),
             ("ucas_applications", "app_response_june30"), ("ucas_applications", "he_provider_tariff_group")],
    unit="category", valid_values="high; medium; low; clearing",
    caveats="INFERRED: the placement is read from the route and the firm/insurance choices at 30 June; in the kit's "
            "extract a Clearing placement has no application row, so its provider's tariff group is unknown "
            "('clearing'). UCAS covers 18-year-old English applicants only.",
    level="person-year", status="inferred", output_key=["unique_id_cycle"],
)
@derived(
    name="high_tariff_entry", label="Placed at a high-tariff provider", theme="higher_education",
    definition="1 if placed_tariff_group is 'high', 0 if the applicant was not placed or was placed elsewhere "
               "(Clearing placements count as 0).",
    sources=[("ucas_applicants", "accept_flag"), ("ucas_applicants", "acceptance_route"),
             ("ucas_applications", "he_provider_tariff_group")],
    unit="indicator", valid_values="0, 1",
    caveats="As placed_tariff_group: Clearing placements at high-tariff providers (rare) would be missed.",
    level="person-year", status="inferred", output_key=["unique_id_cycle"],
)
def ucas_offers_and_placement(ucas_applicants: pd.DataFrame, ucas_applications: pd.DataFrame) -> pd.DataFrame:
    """Offers and placement per applicant and cycle: ``[PupilMatchingRefAnonymous, unique_id_cycle,
    application_cycle, n_applications, n_high_tariff_applications, high_tariff_offer, placed, acceptance_route,
    placed_provider, placed_tariff_group, high_tariff_entry]``.

    One row per ``ucas_applicants`` row (applicants without applications have zero counts);
    ``placed_provider`` is the ``inst_code_anon`` of the placing application (missing for Clearing).
    """
    a = ucas_applicants
    ap = ucas_applications
    a = check_input(a, "ucas_applicants", ["unique_id_cycle", "application_cycle", "accept_flag", "acceptance_route"])
    require_columns(ap, ["unique_id_cycle", "inst_code_anon", "he_provider_tariff_group", "provider_decision_june30",
                         "app_response_june30"], "ucas_applications")
    if a["unique_id_cycle"].duplicated().any():
        dup = a.loc[a["unique_id_cycle"].duplicated(), "unique_id_cycle"].iloc[0]
        raise ValueError(f"ucas_applicants: unique_id_cycle must be unique, found {dup!r} more than once")
    tg = ap["he_provider_tariff_group"].astype("string").str.strip().str.lower()
    hi = tg.eq("high").fillna(False).to_numpy(dtype=bool)
    offer = ap["provider_decision_june30"].astype("string").isin(OFFER_DECISIONS).fillna(False).to_numpy(dtype=bool)
    g = pd.DataFrame({"unique_id_cycle": ap["unique_id_cycle"].to_numpy(), "hi": hi, "hi_offer": hi & offer})
    agg = g.groupby("unique_id_cycle", sort=False).agg(n_applications=("hi", "size"),
                                                       n_high_tariff_applications=("hi", "sum"),
                                                       high_tariff_offer=("hi_offer", "max"))
    resp = ap["app_response_june30"].astype("string")
    choice = pd.DataFrame({"unique_id_cycle": ap["unique_id_cycle"].to_numpy(), "response": resp.to_numpy(),
                           "placed_provider": ap["inst_code_anon"].to_numpy(), "tg": tg.to_numpy()})
    choice = choice[choice["response"].isin(["Firm", "Insurance"]).fillna(False).to_numpy(dtype=bool)]
    if choice.duplicated(["unique_id_cycle", "response"]).any():
        raise ValueError("ucas_applications: an applicant has more than one 'Firm' (or 'Insurance') application in a "
                         "cycle; expected at most one of each")
    pmr = a[PMR].to_numpy() if PMR in a.columns else np.full(len(a), None, dtype=object)
    out = pd.DataFrame({PMR: pmr, "unique_id_cycle": a["unique_id_cycle"].to_numpy(),
                        "application_cycle": as_numeric(a["application_cycle"], "ucas_applicants",
                                                        "application_cycle").to_numpy(),
                        "placed": as_numeric(a["accept_flag"], "ucas_applicants", "accept_flag").fillna(0)
                        .astype("int64").to_numpy(),
                        "acceptance_route": a["acceptance_route"].astype(object).to_numpy()})
    out = out.merge(agg.reset_index(), on="unique_id_cycle", how="left", validate="1:1")
    for c in ("n_applications", "n_high_tariff_applications", "high_tariff_offer"):
        out[c] = out[c].fillna(0).astype("int64")
    route = out["acceptance_route"].astype("string")
    key = route.where(out["placed"].eq(1) & route.isin(["Firm", "Insurance"]).fillna(False))
    out = out.assign(_resp=key.astype(object)).merge(
        choice.rename(columns={"response": "_resp"}), on=["unique_id_cycle", "_resp"], how="left", validate="m:1")
    placed_tg = np.where(out["placed"].eq(1) & route.eq("Clearing").fillna(False).to_numpy(dtype=bool), "clearing",
                         out["tg"].astype(object).to_numpy())
    out["placed_tariff_group"] = pd.Series(placed_tg, dtype=object).where(out["placed"].eq(1), None)
    out["high_tariff_entry"] = (out["placed_tariff_group"] == "high").astype("int64")
    cols = [PMR, "unique_id_cycle", "application_cycle", "n_applications", "n_high_tariff_applications",
            "high_tariff_offer", "placed", "acceptance_route", "placed_provider", "placed_tariff_group",
            "high_tariff_entry"]
    return out[cols]
