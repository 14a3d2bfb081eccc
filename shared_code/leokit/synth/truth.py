"""The planted causal truth of the synthetic data: default values, definitions, and overrides.

Every parameter of the data-generating process that an exemplar tries to recover lives here, with a
one-line definition. ``generate(..., truth=...)`` merges an override (any subset of the keys) into
these defaults; the generator writes the merged set, plus *realised* values measured on the
generated population, to ``truth.json`` in the output folder.

``truth.json`` layout (contract)::

    {"degree_return_female": {"value": 0.26, "definition": "..."}, ...,
     "_meta": {"seed": 20261129, "scale": ..., "cohorts": ..., "generator_version": ...},
     "_realised": {...}}   # statistics measured on the generated data (calibration, AKM shares)

An override file may give either ``{"key": value}`` or ``{"key": {"value": value}}``.
Calibration sources are cited by their ``book/references.bib`` keys in ``data_synthetic/README.md``
and in the generator modules (e.g. [Belfield2018], [BoliverJones2025], [SuttonTrust2017]).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

#: Subject groups used by the generator (JACS 3 subject-area letters in brackets).
SUBJECT_GROUPS = (
    "medicine",        # A medicine & dentistry
    "stem",            # C F G H I J biological/physical/maths/engineering/computing/technology
    "econ_business_law",  # L1 economics, M law, N business
    "social_science",  # L (other), K architecture
    "humanities",      # Q R T V languages, history, philosophy
    "creative_arts",   # W creative arts, P media
    "education_health",  # B subjects allied to medicine, X education
)
TARIFF_GROUPS = ("high", "medium", "low")

# key -> (default value, one-line definition)
DEFAULTS: dict[str, tuple[Any, str]] = {
    # --- returns to a degree (returns exemplar) -------------------------------------------------
    "degree_return_female": (0.26, "Causal effect of completing a first degree on log annual PAYE earnings in the tax year in "
                                   "which the person reaches age 29 (ATT: average over female graduates; subject and tariff "
                                   "deviations are centred to zero over female graduates). Calibrated to IFS (Belfield et al. 2018)."),
    "degree_return_male": (0.06, "As degree_return_female, for male graduates (IFS: about 0.06 for men at 29)."),
    "degree_return_subject_medicine": (0.20, "Deviation of the log-earnings return for medicine & dentistry from the average return (before centring)."),
    "degree_return_subject_stem": (0.08, "Deviation of the return for STEM subjects from the average return (before centring)."),
    "degree_return_subject_econ_business_law": (0.10, "Deviation of the return for economics, business and law (before centring)."),
    "degree_return_subject_social_science": (0.0, "Deviation of the return for other social sciences (before centring)."),
    "degree_return_subject_humanities": (-0.06, "Deviation of the return for humanities and languages (before centring)."),
    "degree_return_subject_creative_arts": (-0.15, "Deviation of the return for creative arts and media (before centring)."),
    "degree_return_subject_education_health": (0.02, "Deviation of the return for education and subjects allied to medicine (before centring)."),
    "degree_return_tariff_high": (0.08, "Deviation of the return for a high-tariff provider (before centring)."),
    "degree_return_tariff_medium": (0.0, "Deviation of the return for a medium-tariff provider (before centring)."),
    "degree_return_tariff_low": (-0.06, "Deviation of the return for a low-tariff provider (before centring)."),
    # --- spillovers exemplar ------------------------------------------------------------------
    "school_peer_effect": (0.15, "Effect on own KS4 attainment (in SD of the KS4 score, standardised within cohort) of a 1-unit "
                                  "increase in the leave-one-out school-cohort mean of standardised KS2 attainment (KS2 standardised "
                                  "within year to mean 0, SD 1 across pupils)."),
    "coworker_graduate_share_effect": (0.10, "Effect on own log annual PAYE earnings of raising the leave-one-out share of first-degree "
                                              "graduates among coworkers (others with the same main_enterprise in the same tax year) "
                                              "from 0 to 1."),
    "firm_effect_sd": (0.15, "Standard deviation of enterprise wage premia (log points) across enterprises, worker-weighted target."),
    "worker_firm_sorting": (0.35, "Strength of sorting: correlation between worker ability and the premium of the enterprise they join."),
    # --- contextual offers exemplar -------------------------------------------------------------
    # Default 0.05: the low end of the +5 to +10 pp suggested for marginal applicants; it puts the probability
    # shift for marginal applicants at about 0.45 ("about half" of Durham's contextual entrants would not have had
    # their offer confirmed [BoliverJones2025]) and leaves room for a clearly different key (2.5 x 0.05 = 0.125)
    # within what a believable scheme can produce: a two-grade scheme at the default cut-off can move at most
    # B(cutoff) = 0.11-0.12 of applicants (seed-dependent), a three-grade one (grade_reduction = 3) 0.16-0.18.
    "contextual_offer_high_tariff_entry_effect": (0.05, "Regression-discontinuity estimand: effect of contextual-offer eligibility "
                                                        "on the probability that a UCAS applicant enters a high-tariff provider, "
                                                        "at the cut-off, in cycles when every adopting provider has adopted. "
                                                        "Only marginal applicants (strict on stated offers, with predicted or "
                                                        "achieved points within the grade reduction of an adopting provider's "
                                                        "offer) are moved: the generator sets the probability shift for them to "
                                                        "this value divided by the full-scheme effect at the cut-off B(cutoff), "
                                                        "so the key must lie between 0 and B(cutoff) (in _realised). Earlier "
                                                        "cycles: only providers that have adopted make contextual offers."),
    "contextual_offer_cutoff": (0.18, "Eligibility cut-off on the running variable: an applicant is eligible if the IDACI 2019 score of "
                                      "the home LSOA (census at age 15-16, via imd2019_lsoa11) is at or above this value (about "
                                      "a fifth of high-tariff entrants at the default)."),
    "contextual_offer_grade_reduction": (2, "A-level grades (8 tariff points each) by which an adopting high-tariff provider lowers "
                                            "its standard offer for eligible applicants, never below the provider's floor (BBC)."),
    "contextual_offer_adoption_cycles": ([2012, 2015], "UCAS cycles in which the waves of adopting high-tariff providers start "
                                                        "making contextual offers (80% of high-tariff providers adopt, split "
                                                        "equally between waves; the rest never do)."),
}

#: Keys whose realised value is measured and written under ``_realised`` in truth.json by the
#: generator (they are consequences of the parameters above, not parameters).
REALISED_KEYS = (
    "contextual_offer_high_tariff_entry_effect_realised",  # the RD estimand recomputed from potential outcomes
    "contextual_offer_full_scheme_effect_at_cutoff",       # B(cutoff): largest producible entry effect
    "contextual_offer_marginal_probability_shift",         # delta = entry effect / B(cutoff)
    "contextual_offer_offer_effect",          # effect of eligibility at the cut-off on holding a high-tariff offer
    "contextual_offer_first_class_effect",    # effect on P(first-class degree) at the cut-off
    "contextual_offer_degree_effect",         # effect on P(completing a first degree) at the cut-off
    "contextual_offer_continuation_effect",   # effect on P(entering HE and studying into a second year)
    "contextual_offer_earnings_effect",       # effect on the degree component of log pay at 29 (via tariff)
    "contextual_offer_tariff_return_effect",  # effect on the tariff deviation of the degree return
    "contextual_offer_adoption_effect_eligible_share",  # DiD truth: adoption effect on eligible share of entrants
    "contextual_offer_adoption_spillover_eligible_share",  # ... and the spillover onto not-yet/never adopters
    "contextual_offer_adoption_did_estimand_eligible_share",  # effect minus spillover: what a DiD estimates
    "akm_firm_variance_share",                # var(firm effect) / var(log earnings), employed person-years
    "akm_sorting_covariance_share",           # 2 cov(person, firm) / var(log earnings)
)


def default_truth() -> dict[str, Any]:
    """Default parameter values, key -> value."""
    return {k: v for k, (v, _) in DEFAULTS.items()}


def read_override(path: str | Path) -> dict[str, Any]:
    """Read a ``--truth`` override file: ``{"key": value}`` or ``{"key": {"value": value}}``."""
    raw = json.loads(Path(path).read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"truth override {path}: expected a JSON object, found {type(raw).__name__}")
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in raw.items()}


def merge_truth(override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults with ``override`` applied; unknown keys raise ValueError naming them."""
    truth = default_truth()
    if override:
        unknown = sorted(set(override) - set(truth))
        if unknown:
            raise ValueError(f"truth override: unknown keys {unknown}; known keys are {sorted(truth)}")
        for k, v in override.items():
            default = truth[k]
            if isinstance(default, (int, float)) and not isinstance(v, (int, float)):
                raise ValueError(f"truth override: key {k!r} expects a number, found {v!r}")
            truth[k] = v
    return truth


def truth_document(truth: Mapping[str, Any], meta: Mapping[str, Any], realised: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document written to truth.json."""
    doc: dict[str, Any] = {k: {"value": truth[k], "definition": DEFAULTS[k][1]} for k in DEFAULTS}
    doc["_meta"] = dict(meta)
    doc["_realised"] = dict(realised)
    return doc
