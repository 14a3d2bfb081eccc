"""Difference-in-differences with staggered adoption: event studies with pyfixest, robust and plain.

``event_study`` fits, on a unit x period panel in which units start treatment in different periods (and
some never do), either

* ``estimator="did2s"`` - Gardner's two-stage estimator [Gardner2022] (``pyfixest.did2s``): unit and
  period effects are estimated on the untreated observations only (never-treated units and the
  not-yet-treated periods of the others), the outcome is residualised with them, and the residuals are
  regressed on event-time indicators. Valid when effects differ across adoption cohorts and event times; or
* ``estimator="twfe"`` - the plain two-way fixed-effects regression on the same indicators
  (``pyfixest.feols``), which uses already-treated units as controls and so can be biased when effects
  change over time [deChaisemartin2020] [SunAbraham2021].

Both return the event-time coefficients (relative to ``ref``, default the period before adoption) and a
single post-adoption average from the same estimator (``did2s``: ``~ treat`` in the second stage; ``twfe``:
``y ~ treat | unit + period``). Leads (negative event times) are the pre-trend check.

Plumbing that keeps notebooks clean: the panel is checked before pyfixest sees it (pyfixest can abort
the Python process on degenerate samples), pyfixest's own pandas deprecation warning is filtered (only
that one), and event times beyond ``window`` are binned into the end points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from leokit import sdc

__all__ = ["EventStudyResult", "EventStudyInputError", "event_study", "plot_event_study", "check_panel_cells"]


class EventStudyInputError(ValueError):
    """A panel the event-study helper cannot use (names the column and what was expected)."""


@dataclass(frozen=True)
class EventStudyResult:
    """Event-time coefficients (``coefs``: ``event_time, estimate, se, ci_low, ci_high``; the reference period
    is a row of zeros with ``se`` NaN) and the pooled post-adoption effect (``att``...) of one estimator."""

    estimator: str
    coefs: pd.DataFrame
    att: float
    att_se: float
    att_ci_low: float
    att_ci_high: float
    ref: int
    n_obs: int
    n_units: int
    n_treated_units: int
    n_never_treated_units: int
    fit: Any = None
    fit_att: Any = None

    def pretrend_max_abs_t(self) -> float:
        """Largest |estimate / se| among the leads (event times before ``ref``): a quick pre-trend summary."""
        lead = self.coefs[(self.coefs["event_time"] < self.ref) & self.coefs["se"].notna()]
        return float((lead["estimate"] / lead["se"]).abs().max()) if len(lead) else float("nan")


def _import_pyfixest():
    """pyfixest without its logging side effect (:func:`leokit.analyse.fixest.import_pyfixest`)."""
    from leokit.analyse.fixest import import_pyfixest

    return import_pyfixest()


def _filter_pyfixest_warning():
    """Context: silence only pyfixest's own known warnings (:func:`leokit.analyse.fixest.quiet_pyfixest`)."""
    from leokit.analyse.fixest import quiet_pyfixest

    cm = quiet_pyfixest()
    cm.__enter__()
    return cm


def _check_panel(panel: pd.DataFrame, y: str, unit: str, time: str, first_treated: str, weights: str | None,
                 cluster: str) -> pd.DataFrame:
    if not isinstance(panel, pd.DataFrame):
        raise EventStudyInputError(f"event_study: expected a pandas DataFrame, got {type(panel).__name__}")
    need = [c for c in (y, unit, time, first_treated, weights, cluster) if c is not None]
    missing = [c for c in need if c not in panel.columns]
    if missing:
        raise EventStudyInputError(f"event_study: no column(s) {missing} in the panel (it has {list(panel.columns)})")
    for c in [y, time, first_treated] + ([weights] if weights else []):
        if not pd.api.types.is_numeric_dtype(panel[c]):
            raise EventStudyInputError(f"event_study: column {c!r} must be numeric, found {panel[c].dtype}")
    d = panel[list(dict.fromkeys(need))].copy()
    if d[[y, unit, time]].isna().any().any():
        bad = [c for c in (y, unit, time) if d[c].isna().any()]
        raise EventStudyInputError(f"event_study: missing values in {bad}; drop or fill those rows first")
    if d.duplicated([unit, time]).any():
        raise EventStudyInputError(f"event_study: the panel has several rows for a ({unit}, {time}) pair; "
                                   "expected one row per unit and period")
    ft = d.groupby(unit)[first_treated].nunique(dropna=False)
    if (ft > 1).any():
        raise EventStudyInputError(f"event_study: {first_treated!r} must be constant within each {unit!r} "
                                   f"(e.g. {ft[ft > 1].index[0]!r} has several values)")
    if weights is not None and (d[weights] <= 0).any():
        raise EventStudyInputError(f"event_study: weights {weights!r} must be positive")
    if d[unit].nunique() < 3 or d[time].nunique() < 3:
        raise EventStudyInputError("event_study: need at least 3 units and 3 periods")
    treated_units = d.loc[d[first_treated].notna(), unit].nunique()
    if treated_units == 0:
        raise EventStudyInputError(f"event_study: no unit is ever treated ({first_treated!r} is all missing)")
    untreated = (d[first_treated].isna()) | (d[time] < d[first_treated])
    if untreated.sum() < d[unit].nunique() + d[time].nunique():
        raise EventStudyInputError("event_study: too few untreated observations to estimate unit and period effects")
    return d


def event_study(panel: pd.DataFrame, y: str, unit: str, time: str, first_treated: str, *,
                estimator: str = "did2s", ref: int = -1, window: tuple[int, int] | None = None,
                weights: str | None = None, cluster: str | None = None, level: float = 0.95) -> EventStudyResult:
    """Event study on a ``unit`` x ``time`` panel; ``first_treated``: the period the unit adopts (missing =
    never). ``window=(lo, hi)`` bins event times below ``lo`` into ``lo`` and above ``hi`` into ``hi``;
    ``weights`` (e.g. cell sizes) weights both stages; standard errors are clustered by ``cluster``
    (default ``unit``). Returns an :class:`EventStudyResult`."""
    pf = _import_pyfixest()
    if estimator not in ("did2s", "twfe"):
        raise EventStudyInputError(f"event_study: estimator must be 'did2s' or 'twfe', got {estimator!r}")
    cluster = cluster or unit
    d = _check_panel(panel, y, unit, time, first_treated, weights, cluster)
    rel = d[time] - d[first_treated]
    if window is not None:
        lo, hi = window
        if not lo < ref < hi:
            raise EventStudyInputError(f"event_study: ref {ref} must lie inside window {window}")
        rel = rel.clip(lo, hi)
    never = d[first_treated].isna()
    d["_rel"] = rel.where(~never, ref).astype("int64")  # never-treated units sit at the reference period
    d["_treat"] = ((~never) & (d[time] >= d[first_treated])).astype("int64")
    d["_unit"] = pd.factorize(d[unit])[0]
    d["_time"] = pd.factorize(d[time])[0]
    d["_cl"] = pd.factorize(d[cluster])[0]
    alpha = 1 - level
    cm = _filter_pyfixest_warning()
    try:
        wkw = {"weights": weights} if weights else {}
        if estimator == "did2s":
            fit = pf.did2s(d, yname=y, first_stage="~ 0 | _unit + _time", second_stage=f"~ i(_rel, ref={ref})",
                           treatment="_treat", cluster="_cl", **wkw)
            fit_att = pf.did2s(d, yname=y, first_stage="~ 0 | _unit + _time", second_stage="~ _treat",
                               treatment="_treat", cluster="_cl", **wkw)
        else:
            fit = pf.feols(f"{y} ~ i(_rel, ref={ref}) | _unit + _time", data=d, vcov={"CRV1": "_cl"}, **wkw)
            fit_att = pf.feols(f"{y} ~ _treat | _unit + _time", data=d, vcov={"CRV1": "_cl"}, **wkw)
        coef, se, ci = fit.coef(), fit.se(), fit.confint(alpha=alpha)
        a_coef, a_se, a_ci = fit_att.coef(), fit_att.se(), fit_att.confint(alpha=alpha)
    finally:
        cm.__exit__(None, None, None)
    rows = []
    for name in coef.index:
        e = _event_time(name)
        if e is None:
            continue
        rows.append((e, float(coef[name]), float(se[name]), float(ci.loc[name].iloc[0]), float(ci.loc[name].iloc[1])))
    rows.append((ref, 0.0, float("nan"), 0.0, 0.0))
    coefs = pd.DataFrame(rows, columns=["event_time", "estimate", "se", "ci_low", "ci_high"])
    coefs = coefs.sort_values("event_time").reset_index(drop=True)
    key = "_treat"
    return EventStudyResult(
        estimator=estimator, coefs=coefs, att=float(a_coef[key]), att_se=float(a_se[key]),
        att_ci_low=float(a_ci.loc[key].iloc[0]), att_ci_high=float(a_ci.loc[key].iloc[1]), ref=ref, n_obs=len(d),
        n_units=int(d[unit].nunique()), n_treated_units=int(d.loc[~never, unit].nunique()),
        n_never_treated_units=int(d.loc[never, unit].nunique()), fit=fit, fit_att=fit_att)


def _event_time(name: str) -> int | None:
    """Event time from a pyfixest coefficient name: ``_rel::3`` (pyfixest 0.30+) or ``C(_rel, ...)[T.3]``."""
    if not name.startswith("_rel") and "(_rel" not in name:
        return None
    if "::" in name:
        tok = name.rsplit("::", 1)[1]
    elif "[" in name:
        tok = name.rsplit("[", 1)[1].rstrip("]")
        tok = tok[2:] if tok.startswith("T.") else tok
    else:
        return None
    try:
        return int(float(tok))
    except ValueError:
        return None


def plot_event_study(results: Mapping[str, EventStudyResult], *, ax=None, truth: Mapping[int, float] | None = None,
                     offset: float = 0.12, ylabel: str = "effect", xlabel: str = "cycles since adoption"):
    """Event-study figure: each result's coefficients with their confidence intervals (side by side), a zero
    line and the adoption period; ``truth`` (event time -> value) adds the planted effect as a line.
    Plots model coefficients only (no cell of the data), so it needs no further disclosure step beyond the
    model checks. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    k = len(results)
    for i, (label, r) in enumerate(results.items()):
        c = r.coefs
        dx = (i - (k - 1) / 2) * offset
        ax.errorbar(c["event_time"] + dx, c["estimate"], yerr=[c["estimate"] - c["ci_low"], c["ci_high"] - c["estimate"]],
                    fmt="o", ms=4, capsize=2, label=label)
    if truth:
        ts = sorted(truth.items())
        ax.plot([t for t, _ in ts], [v for _, v in ts], "k--", lw=1, label="truth (planted)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(-0.5, color="grey", ls=":", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
    return ax


def check_panel_cells(panel: pd.DataFrame, count: str, *, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """Disclosure check of an aggregated panel used for an event study: every cell (row) must rest on at least
    ``rules.threshold`` persons (``count``). Returns the rows that fail (empty when all pass)."""
    rules = rules or sdc.DEFAULT_RULES
    if count not in panel.columns:
        raise EventStudyInputError(f"check_panel_cells: no column {count!r}")
    return panel[panel[count] < rules.threshold]


