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

Inference. ``vcov="cluster"`` (the default) reports pyfixest's cluster-robust standard errors (for ``did2s``
Gardner's GMM variance, which accounts for the first stage; for ``twfe`` CRV1). With few clusters these are
too small - most of all when few units are left untreated in some periods, so that those periods' effects
rest on a handful of comparison units - and the intervals cover less often than they say (in the contextual-offer
exemplar, 24 providers of which 4 never adopt, about 88% for a nominal 95%). ``vcov="jackknife"`` is the
leave-one-cluster-out jackknife (CRV3-type; MacKinnon, Nielsen and Webb [MacKinnon2023]): both stages are
re-estimated without each cluster in turn, the variance is ``(G - 1) / G`` times the sum of squared deviations
of the ``G`` replicates from their mean, and intervals use Student's t with ``G - 1`` degrees of freedom. The
replicates are computed with a small weighted least-squares version of the same estimator (checked to reproduce
pyfixest's estimate on the full panel); point estimates always come from pyfixest.

Plumbing that keeps notebooks clean: the panel is checked before pyfixest sees it (pyfixest can abort
the Python process on degenerate samples), pyfixest's own pandas deprecation warning is filtered (only
that one), and event times beyond ``window`` are binned into the end points. ``did2s`` estimates each unit's
and each period's effect from its untreated observations only: a unit or period with fewer than two of them is
left out before fitting (pyfixest would drop it from one stage but not the other, and fail) and listed in the
result (``dropped_units``, ``dropped_periods``), never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from leokit import sdc
from leokit.analyse.fixest import import_pyfixest, quiet_pyfixest

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
    vcov: str = "cluster"
    n_clusters: int = 0
    dropped_units: tuple = ()
    dropped_periods: tuple = ()

    def pretrend_max_abs_t(self) -> float:
        """Largest |estimate / se| among the leads (event times before ``ref``): a quick pre-trend summary."""
        lead = self.coefs[(self.coefs["event_time"] < self.ref) & self.coefs["se"].notna()]
        return float((lead["estimate"] / lead["se"]).abs().max()) if len(lead) else float("nan")


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


def _thin_untreated(d: pd.DataFrame, unit: str, time: str, first_treated: str) -> tuple[pd.DataFrame, tuple, tuple]:
    """Drop (repeatedly) the units and periods with fewer than two untreated observations: ``did2s`` estimates their
    effects from the untreated observations only. Returns the panel kept and the units and periods dropped."""
    drop_u: list = []
    drop_t: list = []
    while True:
        untreated = d[first_treated].isna() | (d[time] < d[first_treated])
        nu = untreated.groupby(d[unit]).sum()
        nt = untreated.groupby(d[time]).sum()
        bad_u, bad_t = nu.index[nu < 2], nt.index[nt < 2]
        if len(bad_u) == 0 and len(bad_t) == 0:
            return d, tuple(drop_u), tuple(drop_t)
        drop_u += list(bad_u)
        drop_t += list(bad_t)
        d = d[~d[unit].isin(bad_u) & ~d[time].isin(bad_t)]


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = np.sqrt(w)
    return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


def _fit_numpy(u: np.ndarray, t: np.ndarray, y: np.ndarray, w: np.ndarray, untreated: np.ndarray, X2: np.ndarray,
               estimator: str) -> np.ndarray:
    """The same estimator as pyfixest's, by weighted least squares with unit and period dummies (used for the
    jackknife replicates). ``X2``: the effect regressors (event-time dummies or the treatment indicator). Rows whose
    unit or period has no untreated observation are left out of the ``did2s`` second stage (as pyfixest does);
    coefficients of regressors with no support are NaN."""
    U = (u[:, None] == np.unique(u)[None, :]).astype(float)
    T = (t[:, None] == np.unique(t)[None, :]).astype(float)
    if estimator == "twfe":
        X = np.column_stack([X2, U, T[:, 1:]])
        ok = np.ones(len(y), bool)
    else:
        fe = np.column_stack([U, T[:, 1:]])
        seen = (U[untreated].sum(0) > 0)[np.argmax(U, 1)] & (T[untreated].sum(0) > 0)[np.argmax(T, 1)]
        gamma = _wls(fe[untreated], y[untreated], w[untreated])
        ok = seen
        X = X2
        y = y - fe @ gamma
    support = np.abs(X2[ok]).sum(0) > 0
    beta = np.full(X2.shape[1], np.nan)
    cols = np.concatenate([support, np.ones(X.shape[1] - X2.shape[1], bool)])
    beta[support] = _wls(X[ok][:, cols], y[ok], w[ok])[: int(support.sum())]
    return beta


def _jackknife(d: pd.DataFrame, y: str, weights: str | None, X2: pd.DataFrame, estimator: str, full: pd.Series,
               alpha: float) -> tuple[pd.Series, pd.DataFrame, int]:
    """Leave-one-cluster-out jackknife of the coefficients ``full`` (pyfixest's, names = columns of ``X2``):
    standard errors and Student-t intervals with ``G - 1`` degrees of freedom."""
    from scipy.stats import t as student_t

    u, t, cl = d["_unit"].to_numpy(), d["_time"].to_numpy(), d["_cl"].to_numpy()
    yy = d[y].to_numpy(float)
    w = d[weights].to_numpy(float) if weights else np.ones(len(d))
    untreated = d["_treat"].to_numpy() == 0
    x2 = X2.to_numpy(float)
    check = _fit_numpy(u, t, yy, w, untreated, x2, estimator)
    # pyfixest demeans iteratively (to a tolerance of 1e-8 on the fixed effects), so its estimates differ from
    # the exact least-squares solution in the 7th-8th decimal: compare at a tolerance well above that and far
    # below anything a table shows.
    scale = max(1.0, float(np.nanstd(yy)))
    if not np.allclose(check, full[X2.columns].to_numpy(float), rtol=1e-5, atol=1e-6 * scale):
        raise RuntimeError(f"event_study: the jackknife's least-squares fit ({check}) does not reproduce pyfixest's "
                           f"estimate ({full[X2.columns].to_numpy(float)}); please report this")
    groups = np.unique(cl)
    reps = np.array([_fit_numpy(u[cl != g], t[cl != g], yy[cl != g], w[cl != g], untreated[cl != g], x2[cl != g],
                                estimator) for g in groups])
    G = len(groups)
    n = np.sum(~np.isnan(reps), axis=0)
    dev = reps - np.nanmean(reps, axis=0)
    se = np.sqrt((n - 1) / n * np.nansum(dev ** 2, axis=0))
    q = student_t.ppf(1 - alpha / 2, G - 1)
    est = full[X2.columns].to_numpy(float)
    se_s = pd.Series(se, index=X2.columns)
    ci = pd.DataFrame({"low": est - q * se, "high": est + q * se}, index=X2.columns)
    return se_s, ci, G


def event_study(panel: pd.DataFrame, y: str, unit: str, time: str, first_treated: str, *,
                estimator: str = "did2s", ref: int = -1, window: tuple[int, int] | None = None,
                weights: str | None = None, cluster: str | None = None, vcov: str = "cluster",
                level: float = 0.95) -> EventStudyResult:
    """Event study on a ``unit`` x ``time`` panel; ``first_treated``: the period the unit adopts (missing =
    never). ``window=(lo, hi)`` bins event times below ``lo`` into ``lo`` and above ``hi`` into ``hi``;
    ``weights`` (e.g. cell sizes) weights both stages; standard errors are clustered by ``cluster``
    (default ``unit``): ``vcov="cluster"`` pyfixest's cluster-robust ones, ``vcov="jackknife"`` the
    leave-one-cluster-out jackknife (better with few clusters; see the module docstring). Returns an
    :class:`EventStudyResult`."""
    pf = import_pyfixest()
    if estimator not in ("did2s", "twfe"):
        raise EventStudyInputError(f"event_study: estimator must be 'did2s' or 'twfe', got {estimator!r}")
    if vcov not in ("cluster", "jackknife"):
        raise EventStudyInputError(f"event_study: vcov must be 'cluster' or 'jackknife', got {vcov!r}")
    cluster = cluster or unit
    d = _check_panel(panel, y, unit, time, first_treated, weights, cluster)
    dropped_units: tuple = ()
    dropped_periods: tuple = ()
    if estimator == "did2s":
        d, dropped_units, dropped_periods = _thin_untreated(d, unit, time, first_treated)
        d = _check_panel(d, y, unit, time, first_treated, weights, cluster)
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
    with quiet_pyfixest():
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
    n_clusters = int(d["_cl"].nunique())
    if vcov == "jackknife":
        if n_clusters < 3:
            raise EventStudyInputError(f"event_study: the jackknife needs at least 3 clusters, found {n_clusters}")
        names = [c for c in coef.index if _event_time(c) is not None]
        rels = {c: _event_time(c) for c in names}
        X2 = pd.DataFrame({c: (d["_rel"] == e).astype(float).to_numpy() for c, e in rels.items()}, index=d.index)
        se_j, ci_j, _ = _jackknife(d, y, weights, X2, estimator, coef, alpha)
        se = se.copy()
        ci = ci.copy()
        se.loc[names] = se_j
        ci.loc[names, ci.columns[0]] = ci_j["low"]
        ci.loc[names, ci.columns[1]] = ci_j["high"]
        Xa = pd.DataFrame({"_treat": d["_treat"].astype(float).to_numpy()}, index=d.index)
        se_a, ci_a, _ = _jackknife(d, y, weights, Xa, estimator, a_coef, alpha)
        a_se = se_a
        a_ci = pd.DataFrame({a_ci.columns[0]: ci_a["low"], a_ci.columns[1]: ci_a["high"]})
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
        n_never_treated_units=int(d.loc[never, unit].nunique()), fit=fit, fit_att=fit_att, vcov=vcov,
        n_clusters=n_clusters, dropped_units=dropped_units, dropped_periods=dropped_periods)


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


