"""Analysis helpers shared by the exemplar notebooks (the "analyse" step of the data flow).

``derive -> analyse -> sdc``: functions here take the derived, linked analysis frames and return
estimates; every table or figure built from them still goes through :mod:`leokit.sdc` before it is
shown. Nothing here reads the synthetic generator; :mod:`leokit.analyse.results` reads ``truth.json``
only to put the planted value beside an estimate.

* :mod:`leokit.analyse.results` - the exemplars' results contract (one JSON object per headline
  estimate: ``name, truth_key, estimate, se, ci_low, ci_high, truth, covered``).
* :mod:`leokit.analyse.rd` - regression discontinuity with rdrobust: estimates, a standard table, a
  disclosure-checked RD plot, density (manipulation) test, bandwidth sensitivity, placebo cut-offs, balance.
* :mod:`leokit.analyse.event_study` - staggered-adoption event studies with pyfixest: did2s and plain TWFE.
* :mod:`leokit.analyse.linkage` - match reports of a chain of joins, and the steps of a sample construction, as
  tables fit for release.
* :mod:`leokit.analyse.returns` - returns to a degree under selection on observables: the ATT by regression
  adjustment (by group, with effect modifiers, fixed effects and clustered standard errors), coefficient paths as
  controls are added, Oster's bounds for selection on unobservables.
* :mod:`leokit.analyse.fixest` - pyfixest's ``feols`` guarded against samples that crash it, with only its own
  known warnings silenced.
* :mod:`leokit.analyse.peers` - leave-one-out peer means, coworker shares with unlinkable coworkers, group shares.
* :mod:`leokit.analyse.akm` - worker and firm fixed effects: exact two-way least squares, connected sets, the
  AKM variance decomposition and a split-sample correction for limited-mobility bias.
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

from leokit.analyse import akm, event_study, fixest, linkage, peers, rd, returns  # noqa: E402,F401  (rdrobust/pyfixest load on first use)

__all__ = ["akm", "event_study", "fixest", "linkage", "peers", "rd", "returns", "RESULT_KEYS", "Estimate", "estimate_from_fit", "read_truth", "results_frame", "truth_value",
           "write_results"]
