"""exemplars/contextual_offers.ipynb: the default data path is honest, the headline intervals cover the planted
truths on the default data, and they follow an altered truth under another seed (covering the new value,
excluding the old one).

Headline estimates: the RD effect of eligibility on high-tariff entry (with grade covariates), the RD effect on
holding a high-tariff offer, and the did2s adoption effect (net of the spillover onto comparison providers).
Downstream outcomes (continuation, degree, first class) are reported with a power caveat and are not headline:
their truths are intention-to-treat effects of eligibility among all applicants, carried by a few dozen applicants
near the cut-off, far below what the data can detect. The tests check that the rows estimate that estimand (the
truth keys) and that the caveat the notebook prints is true (the minimum detectable effect exceeds each truth).

The altered truth multiplies the entry effect by 2.5. A two-grade scheme cannot move that many applicants at the
cut-off (the generator refuses: its capacity B(cutoff) is 0.11-0.12), so the altered truth also makes the scheme
three grades (capacity 0.16-0.18): a bigger effect needs a more generous scheme.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _exemplars import EXEMPLARS_DIR, generated_data, notebook_parameters, run_exemplar
from _foundation import ROOT, makefile_var

NAME = "contextual_offers"
HEADLINE = ("contextual_offer_high_tariff_entry_effect", "contextual_offer_offer_effect",
            "contextual_offer_adoption_did2s")
ENTRY = "contextual_offer_high_tariff_entry_effect"
ALTERED_SEED = 7
DOWNSTREAM = ("contextual_offer_continuation_effect", "contextual_offer_degree_effect",
              "contextual_offer_first_class_effect")


def _check_downstream(res):
    """Downstream rows estimate the ITT of eligibility among all applicants (the _realised keys of that name), and
    are underpowered as the notebook says: 2.8 robust SEs (80% power at 5%) exceed each planted effect."""
    for name in DOWNSTREAM:
        assert res.loc[name, "truth_key"] == f"_realised.{name}"
        assert res.loc[name, "truth"] is not None
        assert 2.8 * res.loc[name, "se"] > abs(res.loc[name, "truth"]), res.loc[name].to_dict()


def _default_data_dir() -> Path:
    return ROOT / makefile_var("EXEMPLAR_DATA")


def test_default_data_path_is_honest():
    """The notebook's default data_dir is the Makefile's exemplar data, generated for the Makefile's seed and scale
    by this generator version (make test runs make exemplar-data first)."""
    from leokit.synth.params import GENERATOR_VERSION

    params = notebook_parameters(NAME)
    assert set(params) >= {"data_dir", "results_path"}
    assert (EXEMPLARS_DIR / params["data_dir"]).resolve() == _default_data_dir().resolve()
    assert Path(params["results_path"]).parts[:2] == ("..", "_build")
    truth = _default_data_dir() / "truth.json"
    assert truth.is_file(), f"{truth} is missing: run `make exemplar-data` (make test does it first)"
    meta = json.loads(truth.read_text())["_meta"]
    assert meta["seed"] == int(makefile_var("EXEMPLAR_SEED"))
    assert meta["scale"] == int(makefile_var("EXEMPLAR_SCALE"))
    assert meta["generator_version"] == GENERATOR_VERSION
    assert meta["override"] == {}


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    return run_exemplar(NAME, _default_data_dir(), tmp_path_factory.mktemp("co_default") / "results.json")


@pytest.mark.slow
@pytest.mark.notebook
def test_headline_intervals_cover_the_truth_on_the_default_data(default_results):
    res = default_results
    assert set(HEADLINE) <= set(res.index)
    for name in HEADLINE:
        assert res.loc[name, "truth"] is not None and bool(res.loc[name, "covered"]), res.loc[name].to_dict()
    assert res.loc[ENTRY, "se"] <= 0.03  # the bar for an informative RD
    assert res.loc[ENTRY, "ci_low"] > 0  # and the effect is told apart from zero
    # every estimate with a truth is written with it; downstream rows carry their truths too
    assert res["truth"].notna().sum() >= 7
    _check_downstream(res)


@pytest.mark.slow
@pytest.mark.notebook
def test_results_follow_an_altered_truth(default_results, data_cache, tmp_path):
    from leokit.synth.truth import default_truth

    default = default_truth()
    altered = {ENTRY: 2.5 * default[ENTRY],
               "contextual_offer_grade_reduction": default["contextual_offer_grade_reduction"] + 1}
    data = generated_data(data_cache, seed=ALTERED_SEED, scale=20000, cohorts=12, truth=altered)
    doc = json.loads((data / "truth.json").read_text())
    assert doc[ENTRY]["value"] == altered[ENTRY]
    assert not doc["_realised"]["contextual_offer_marginal_probability_shift_capped"]
    res = run_exemplar(NAME, data, tmp_path / "results.json")
    for name in HEADLINE:
        new, old = res.loc[name, "truth"], default_results.loc[name, "truth"]
        lo, hi = res.loc[name, "ci_low"], res.loc[name, "ci_high"]
        assert res.loc[name, "truth_key"] == default_results.loc[name, "truth_key"]
        assert abs(new - old) > 0.04, (name, new, old)  # the truths differ clearly
        assert lo <= new <= hi, (name, lo, new, hi)
        assert not lo <= old <= hi, (name, lo, old, hi)
    _check_downstream(res)
