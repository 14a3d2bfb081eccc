"""The planted causal truth of the synthetic data: default values, definitions, and overrides.

Every parameter of the data-generating process that an exemplar tries to recover lives here, with a
one-line definition. ``generate(..., truth=...)`` merges an override (any subset of the keys) into
these defaults; the generator writes the merged set, plus *realised* values measured on the
generated population, to ``truth.json`` in the output folder.

``truth.json`` layout (contract)::

    {"degree_return_female": {"value": 0.26, "definition": "..."}, ...,
     "_meta": {"seed": 20261129, "scale": ..., "cohorts": ..., "generator_version": ...},
     "_realised": {...}}   # statistics measured on the generated data (calibration, AKM shares)

An override file may give either ``{"key": value}`` or ``{"key": {"value": value}}``. Every key has a documented
type and range (:data:`RANGES`); :func:`merge_truth` refuses anything else before the generator writes a file.
Sources are cited by their keys in ``book/references.bib`` (e.g. [Belfield2018], [BoliverJones2025],
[SuttonTrust2017]); the calibration of the generated data against published figures is in
``data_synthetic/README.md`` (:func:`leokit.synth.calibration.calibration_table`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from leokit.errors import GeneratorInputError, did_you_mean

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
    "degree_return_female": (0.26, "Average effect on the treated (female first-degree graduates) of completing a first degree "
                                   "on the log PAYE pay rate in the tax year in which the person's KS4 cohort C is 29, i.e. the tax "
                                   "year starting in April C + 12 (leokit.years.taxyear_at_age(29, C); contract C1). Log PAYE pay "
                                   "rate = log annualised PAYE pay (leokit.derive.annualised_earnings): leo_earnings.Earnings "
                                   "summed over the person's EDUKEYs, divided by the days in PAYE employment that tax year "
                                   "(leo_employment spells), times 365. Graduate = a classified first degree in the HESA "
                                   "qualifier records. Population: all female graduates of the synthetic cohorts; the potential "
                                   "pay rates exist for everyone in the generator and are observed for those in PAYE employment "
                                   "that year. Exact in the generator: the degree shifts full-year log pay by D x r_i and nothing "
                                   "else on the pay-rate path depends on the person's own degree (employer, region, part-time "
                                   "status, age profile, pay shocks), so the mean of D x r_i over female graduates is this value. "
                                   "Not part of the parameter: effects of the degree on whether the person is in PAYE employment, "
                                   "abroad, self-employed or on benefits (extensive margins), on days worked, and hence on annual "
                                   "(not annualised) earnings. Subject and tariff deviations are centred to zero over female "
                                   "graduates. Calibrated to [Belfield2018] (women about 26% at 29)."),
    "degree_return_male": (0.06, "As degree_return_female, for male first-degree graduates ([Belfield2018]: about 6% for men at 29)."),
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
    "coworker_graduate_share_effect": (0.10, "Effect on the log PAYE pay rate (as defined for degree_return_female) of raising S "
                                              "from 0 to 1, where S is the leave-one-out share of first-degree graduates among the "
                                              "person's coworkers: the other sample persons whose main_enterprise (leo_earnings, the "
                                              "only employer LEO links to a person-year) is the same ENTKEY in the same tax year; "
                                              "a coworker is a graduate in tax year T if their first degree was awarded in an "
                                              "academic year ending in T or earlier. Constant across persons and years; only "
                                              "person-years with at least one coworker carry it. Coworkers are the synthetic sample "
                                              "(a few cohorts), not the enterprise's whole workforce. Workers with high unobserved "
                                              "skill join enterprises whose graduate share is high, so estimates need person (and "
                                              "enterprise) fixed effects."),
    "firm_graduate_share_productivity_effect": (0.30, "SYNTHETIC-ONLY outcome. Effect on an enterprise's log output per worker "
                                                       "(syn_enterprise_output.syn_log_output_per_worker, leo_i2) of raising G from "
                                                       "0 to 1, where G is the graduate share among its workers in the tax year: the "
                                                       "persons whose leo_earnings record for that tax year names it as "
                                                       "main_enterprise, graduate as for coworker_graduate_share_effect. Constant "
                                                       "across enterprises and years. More productive enterprises pay more and so "
                                                       "attract more graduates: a cross-section is biased upwards, enterprise and "
                                                       "year fixed effects recover the effect. Illustrative value (no published "
                                                       "calibration)."),
    "firm_effect_sd": (0.15, "Standard deviation of the enterprise wage premia psi_j (log points, in full-year log pay and so in "
                             "the log PAYE pay rate), weighted by the expected distribution of joined enterprises (worker "
                             "weighting); the realised worker-weighted SD is _realised.firm_effect_sd_worker_weighted."),
    "worker_firm_sorting": (0.35, "Correlation between a worker's (latent, standardised) ability and the premium of the enterprise "
                                  "they join, in expectation under the job-choice model (realised: "
                                  "_realised.realised_sorting_corr)."),
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
    # downstream: intention-to-treat effects of eligibility among ALL applicants (not entrants) at the cut-off
    "contextual_offer_first_class_effect",    # effect on P(completing a first degree with a first) at the cut-off
    "contextual_offer_degree_effect",         # effect on P(completing a first degree) at the cut-off
    "contextual_offer_continuation_effect",   # effect on P(entering HE and studying into a second year)
    "contextual_offer_n_changed_near_cutoff",  # applicants near the cut-off whose potential outcomes differ
    "contextual_offer_earnings_effect",       # effect on the degree component of log pay at 29 (via tariff)
    "contextual_offer_tariff_return_effect",  # effect on the tariff deviation of the degree return
    "contextual_offer_adoption_effect_eligible_share",  # DiD truth: adoption effect on eligible share of entrants
    "contextual_offer_adoption_spillover_eligible_share",  # ... and the spillover onto not-yet/never adopters
    "contextual_offer_adoption_did_estimand_eligible_share",  # effect minus spillover: what a DiD estimates
    "akm_firm_variance_share",                # var(firm premium) / var(log pay rate net of year effects), see _realised["akm_sample"]
    "akm_sorting_covariance_share",           # 2 cov(person component, firm premium) / the same variance
    "degree_return_female_att_at_29",         # mean of D r_i over female graduates at T29 (= degree_return_female)
    "degree_return_male_att_at_29",
)


def default_truth() -> dict[str, Any]:
    """Default parameter values, key -> value."""
    return {k: v for k, (v, _) in DEFAULTS.items()}


#: Documented range of every planted parameter: key -> (kind, low, high). ``kind`` is ``"float"`` (a finite
#: number; ints accepted), ``"int"`` (a whole number; bools refused) or ``"cycles"`` (a list of at most
#: :data:`MAX_ADOPTION_WAVES` strictly increasing UCAS cycles, each in ``[low, high]``). An override outside its
#: range is refused (:func:`check_override`) before the generator writes anything. The ranges are wide enough for
#: any teaching variation and narrow enough that every estimand stays defined: returns within +-1 log point,
#: SDs and correlations where the labour side's job-choice model is defined (the sorting correlation is used in
#: ``rho / sqrt(1 - rho^2)``), the entry effect at most what a full contextual-offer scheme can produce (also
#: checked against the realised ``B(cutoff)`` before anything is written, see :mod:`leokit.synth.ucas`).
RANGES: dict[str, tuple[str, float, float]] = {
    "degree_return_female": ("float", -1.0, 1.0),
    "degree_return_male": ("float", -1.0, 1.0),
    **{f"degree_return_subject_{g}": ("float", -0.5, 0.5) for g in SUBJECT_GROUPS},
    **{f"degree_return_tariff_{g}": ("float", -0.5, 0.5) for g in TARIFF_GROUPS},
    "school_peer_effect": ("float", -1.0, 1.0),
    "coworker_graduate_share_effect": ("float", -1.0, 1.0),
    "firm_graduate_share_productivity_effect": ("float", -2.0, 2.0),
    "firm_effect_sd": ("float", 0.0, 0.5),
    "worker_firm_sorting": ("float", -0.95, 0.95),
    "contextual_offer_high_tariff_entry_effect": ("float", 0.0, 0.25),
    "contextual_offer_cutoff": ("float", 0.02, 0.6),
    "contextual_offer_grade_reduction": ("int", 0, 4),
    "contextual_offer_adoption_cycles": ("cycles", 2006, 2021),
}
#: At most this many adoption waves in ``contextual_offer_adoption_cycles``.
MAX_ADOPTION_WAVES = 4


def _range_text(key: str) -> str:
    kind, lo, hi = RANGES[key]
    if kind == "cycles":
        return (f"a list of at most {MAX_ADOPTION_WAVES} strictly increasing whole-number UCAS cycles in "
                f"[{lo:g}, {hi:g}]")
    return f"{'a whole number' if kind == 'int' else 'a finite number'} in [{lo:g}, {hi:g}]"


def check_value(key: str, value: Any) -> Any:
    """``value`` for planted parameter ``key`` if it is of the documented type and in the documented range
    (:data:`RANGES`), as a plain Python value; else :class:`~leokit.errors.GeneratorInputError`, one line naming
    the key, the range and what was found. NaN, infinities, bools and strings are refused."""
    if key not in RANGES:
        near = did_you_mean(key, RANGES)
        raise GeneratorInputError(f"truth override: unknown key {key!r}"
                                  + (f" (did you mean {near!r}?)" if near else f"; known keys are {sorted(RANGES)}"))
    kind, lo, hi = RANGES[key]

    def bad(why: str = "") -> GeneratorInputError:
        return GeneratorInputError(f"truth override: {key} must be {_range_text(key)}, found {value!r}{why}")

    def whole(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not float(v).is_integer():
            raise bad()
        return int(v)

    if kind == "cycles":
        if not isinstance(value, (list, tuple)) or len(value) > MAX_ADOPTION_WAVES:
            raise bad()
        cycles = [whole(v) for v in value]
        if any(not lo <= c <= hi for c in cycles) or any(b <= a for a, b in zip(cycles, cycles[1:])):
            raise bad()
        return cycles
    if kind == "int":
        v = whole(value)
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad()
        v = float(value)
    if not lo <= v <= hi:
        raise bad()
    return v


def check_override(override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every key of ``override`` checked by :func:`check_value` (all problems in one error, one line each)."""
    if override is None:
        return {}
    if not isinstance(override, Mapping):
        raise GeneratorInputError(f"truth override: expected a mapping of key -> value, found {type(override).__name__}")
    out: dict[str, Any] = {}
    problems: list[str] = []
    for k, v in override.items():
        try:
            out[k] = check_value(str(k), v)
        except GeneratorInputError as e:
            problems.append(str(e))
    if problems:
        raise GeneratorInputError("; ".join(problems))
    return out


def read_override(path: str | Path) -> dict[str, Any]:
    """Read a ``--truth`` override file: ``{"key": value}`` or ``{"key": {"value": value}}``.

    Strict JSON: ``NaN`` and ``Infinity`` are refused (:class:`~leokit.errors.GeneratorInputError`), as is
    anything but an object. The values are not range-checked here (:func:`check_override` does that)."""
    def no_constant(name: str):
        raise GeneratorInputError(f"truth override {path}: {name} is not a number (JSON allows finite numbers only)")

    try:
        raw = json.loads(Path(path).read_text(), parse_constant=no_constant)
    except OSError as e:
        raise GeneratorInputError(f"truth override {path}: cannot be read ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise GeneratorInputError(f"truth override {path}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise GeneratorInputError(f"truth override {path}: expected a JSON object, found {type(raw).__name__}")
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in raw.items()}


def merge_truth(override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults with ``override`` applied. Every override value is checked against :data:`RANGES` first
    (:func:`check_override`): an unknown key, a value of the wrong type or out of range raises
    :class:`~leokit.errors.GeneratorInputError` (a ``ValueError``) naming the key and the allowed range."""
    truth = default_truth()
    truth.update(check_override(override))
    return truth


def truth_document(truth: Mapping[str, Any], meta: Mapping[str, Any], realised: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document written to truth.json."""
    doc: dict[str, Any] = {k: {"value": truth[k], "definition": DEFAULTS[k][1]} for k in DEFAULTS}
    doc["_meta"] = dict(meta)
    doc["_realised"] = dict(realised)
    return doc

for _k in DEFAULTS:  # every planted parameter has a documented range, and its default lies in it
    if _k not in RANGES:
        raise KeyError(f"leokit.synth.truth: {_k!r} has no entry in RANGES")
    check_value(_k, DEFAULTS[_k][0])
