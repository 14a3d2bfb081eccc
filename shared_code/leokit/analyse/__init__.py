"""Analysis helpers shared by the exemplar notebooks (the "analyse" step of the data flow).

``derive -> analyse -> sdc``: functions here take the derived, linked analysis frames and return
estimates; every table or figure built from them still goes through :mod:`leokit.sdc` before it is
shown. Nothing here reads the synthetic generator; :mod:`leokit.analyse.results` reads ``truth.json``
only to put the planted value beside an estimate.

* :mod:`leokit.analyse.results` - the exemplars' results contract (one JSON object per headline
  estimate: ``name, truth_key, estimate, se, ci_low, ci_high, truth, covered``).
"""

from leokit.analyse.results import (  # noqa: F401
    RESULT_KEYS,
    Estimate,
    estimate_from_fit,
    read_truth,
    results_frame,
    truth_value,
    write_results,
)

__all__ = ["RESULT_KEYS", "Estimate", "estimate_from_fit", "read_truth", "results_frame", "truth_value",
           "write_results"]
