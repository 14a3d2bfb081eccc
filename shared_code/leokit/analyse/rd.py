"""Regression discontinuity with rdrobust: one call, a standard table, a disclosure-checked plot.

``rd_estimate`` runs :func:`rdrobust.rdrobust` (Calonico, Cattaneo and Titiunik [CCT2014]; the Python
package [rdrobust]) on columns of a frame and returns an :class:`RDResult`: the conventional local-polynomial
estimate, the robust bias-corrected standard error and confidence interval, the data-driven bandwidths and
the *effective* numbers of observations on each side. The helpers around it are the checks an RD needs:

* :func:`rd_table` - one row per specification, counts rounded and checked as an SRS output checker would;
* :func:`rd_plot` - binned means (through :func:`leokit.sdc.safe_binned`) and the local-linear fits;
* :func:`rd_density_test` - the manipulation test of Cattaneo, Jansson and Ma [CJM2020] (package ``rddensity``);
* :func:`rd_bandwidth_sensitivity`, :func:`rd_placebo_cutoffs`, :func:`rd_balance`.

Conventions. *Sharp* design (``fuzzy=None``): the estimate is the jump in ``E[y | x]`` at the cut-off, the
effect of crossing it (here: of being eligible). *Fuzzy* design (``fuzzy="d"``): the jump in ``y`` divided by
the jump in the treatment take-up ``d`` (the effect on those whom crossing the cut-off makes take the
treatment). Units at ``x >= cutoff`` are on the right (treated) side, as in rdrobust. The point estimate
reported is the conventional one; the interval is the robust bias-corrected one (it need not be centred
on the estimate), and ``se`` is the robust standard error that goes with it [CCT2014].

rdrobust prints notes (e.g. "Mass points detected in the running variable.") instead of warning; they
are captured and kept in :attr:`RDResult.notes`, so nothing is printed.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from leokit import sdc
from leokit.analyse.results import Estimate

__all__ = ["RDResult", "RDInputError", "rd_estimate", "rd_table", "rd_plot", "rd_density_test",
           "rd_bandwidth_sensitivity", "rd_placebo_cutoffs", "rd_balance"]

_KERNELS = {"triangular": "tri", "tri": "tri", "epanechnikov": "epa", "epa": "epa", "uniform": "uni", "uni": "uni"}


class RDInputError(ValueError):
    """Bad input to an RD helper (missing or non-numeric column, too few observations on a side, ...)."""


@dataclass(frozen=True)
class RDResult:
    """One rdrobust fit. ``estimate``/``se``: conventional; ``estimate_bc``: bias-corrected; ``se_robust``,
    ``ci_low``/``ci_high`` and ``pvalue``: robust bias-corrected; ``h_*``/``b_*``: main and bias bandwidths;
    ``n_left``/``n_right``: observations within ``h`` on each side (effective sample); ``n_used``: rows used;
    ``n_dropped``: rows dropped for a missing value in a column used; ``first_stage``: the jump in take-up
    (fuzzy designs only)."""

    outcome: str
    running: str
    cutoff: float
    estimate: float
    se: float
    estimate_bc: float
    se_robust: float
    ci_low: float
    ci_high: float
    pvalue: float
    h_left: float
    h_right: float
    b_left: float
    b_right: float
    n_left: int
    n_right: int
    n_used: int
    n_dropped: int
    p: int = 1
    kernel: str = "triangular"
    bwselect: str = "mserd"
    vce: str = "hc1"
    covariates: tuple[str, ...] = ()
    cluster: str | None = None
    fuzzy: str | None = None
    first_stage: float | None = None
    level: float = 95.0
    notes: tuple[str, ...] = field(default=())

    @property
    def h(self) -> float:
        """The main bandwidth (the left one; equal to the right one unless ``bwselect`` is a two-sided rule)."""
        return self.h_left

    def to_estimate(self, name: str, truth_key: str | None = None) -> Estimate:
        """The result as a :class:`leokit.analyse.results.Estimate` (conventional estimate, robust SE and
        robust bias-corrected interval)."""
        return Estimate(name=name, estimate=self.estimate, se=self.se_robust, truth_key=truth_key,
                        ci_low=self.ci_low, ci_high=self.ci_high, level=self.level / 100)

    def describe(self) -> str:
        """One line: design, estimate, robust CI, bandwidth and effective sample (counts rounded to 5)."""
        design = f"fuzzy (take-up {self.fuzzy})" if self.fuzzy else "sharp"
        nl, nr = (int(sdc.round_to(n, 5)) for n in (self.n_left, self.n_right))
        return (f"{self.outcome}: {design} RD at {self.cutoff:g}: {self.estimate:.3f} "
                f"(robust {self.level:.0f}% CI {self.ci_low:.3f} to {self.ci_high:.3f}), h = {self.h:.3f}, "
                f"about {nl:,} left / {nr:,} right within h")


def _check_frame(data: Any, cols: Iterable[str], what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise RDInputError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    cols = [c for c in cols if c is not None]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise RDInputError(f"{what}: no column(s) {missing} in the frame (it has {list(data.columns)[:15]})")
    return data


def _numeric(s: pd.Series, col: str, what: str) -> np.ndarray:
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("Float64")
    if not (pd.api.types.is_numeric_dtype(s)):
        raise RDInputError(f"{what}: column {col!r} must be numeric, found dtype {s.dtype}")
    return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def rd_estimate(data: pd.DataFrame, y: str, x: str, cutoff: float, *, covs: Sequence[str] | None = None,
                cluster: str | None = None, fuzzy: str | None = None, weights: str | None = None,
                h: float | None = None, b: float | None = None, p: int = 1, kernel: str = "triangular",
                bwselect: str = "mserd", vce: str = "hc1", masspoints: str = "adjust", level: float = 95,
                min_side: int = 10) -> RDResult:
    """Local-polynomial RD estimate of the jump in ``y`` at ``x = cutoff`` with :func:`rdrobust.rdrobust`.

    ``covs``: pre-determined covariates for precision (they must not jump at the cut-off: check with
    :func:`rd_balance`); ``cluster``: cluster variable (e.g. the area the running variable is measured in);
    ``fuzzy``: treatment take-up column for a fuzzy design; ``weights``: observation weights; ``h``/``b``:
    fixed main and bias bandwidths (default: data-driven, ``bwselect``); ``vce``: variance estimator
    (``"hc1"`` default here: rdrobust's nearest-neighbour default is slow with many mass points and gives
    nearly the same standard errors; with ``cluster`` rdrobust uses ``"cr1"``). Rows with a missing value in any
    column used are dropped and counted (``n_dropped``). Raises :class:`RDInputError` if fewer than
    ``min_side`` observations lie on either side of the cut-off.
    """
    from rdrobust import rdrobust

    covs = list(covs or [])
    cols = [y, x, *covs, cluster, fuzzy, weights]
    what = f"rd_estimate({y!r} on {x!r})"
    _check_frame(data, cols, what)
    if kernel not in _KERNELS:
        raise RDInputError(f"{what}: kernel must be one of {sorted(_KERNELS)}, got {kernel!r}")
    num = {c: _numeric(data[c], c, what) for c in [y, x, *covs, fuzzy, weights] if c is not None}
    ok = np.ones(len(data), bool)
    for v in num.values():
        ok &= ~np.isnan(v)
    if cluster is not None:
        ok &= data[cluster].notna().to_numpy(dtype=bool)
    xv = num[x][ok]
    n_l, n_r = int((xv < cutoff).sum()), int((xv >= cutoff).sum())
    if min(n_l, n_r) < min_side or len(np.unique(xv[xv < cutoff])) < 2 or len(np.unique(xv[xv >= cutoff])) < 2:
        raise RDInputError(f"{what}: too few observations on a side of the cut-off {cutoff:g} after dropping "
                           f"{int((~ok).sum())} rows with missing values ({n_l} left, {n_r} right; need at least "
                           f"{min_side} and two distinct {x} values on each side)")
    kw: dict[str, Any] = dict(c=float(cutoff), p=int(p), kernel=_KERNELS[kernel], bwselect=bwselect, vce=vce,
                              masspoints=masspoints, level=level)
    if covs:
        kw["covs"] = np.column_stack([num[c][ok] for c in covs])
    if cluster is not None:
        kw["cluster"] = data[cluster].to_numpy()[ok]
    if fuzzy is not None:
        kw["fuzzy"] = num[fuzzy][ok]
    if weights is not None:
        kw["weights"] = num[weights][ok]
    if h is not None:
        kw["h"] = float(h)
    if b is not None:
        kw["b"] = float(b)
    buf = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buf):
        warnings.simplefilter("always")
        r = rdrobust(num[y][ok], xv, **kw)
    notes = tuple([ln.strip() for ln in buf.getvalue().splitlines() if ln.strip()]
                  + [str(w.message).strip() for w in caught])
    coef, se, ci, pv = r.coef.iloc[:, 0], r.se.iloc[:, 0], r.ci, r.pv.iloc[:, 0]
    first = None
    if fuzzy is not None and getattr(r, "tau_T", None) is not None:
        first = float(np.asarray(r.tau_T).ravel()[0])
    return RDResult(
        outcome=y, running=x, cutoff=float(cutoff), estimate=float(coef.iloc[0]), se=float(se.iloc[0]),
        estimate_bc=float(coef.iloc[1]), se_robust=float(se.iloc[2]), ci_low=float(ci.iloc[2, 0]),
        ci_high=float(ci.iloc[2, 1]), pvalue=float(pv.iloc[2]), h_left=float(r.bws.iloc[0, 0]),
        h_right=float(r.bws.iloc[0, 1]), b_left=float(r.bws.iloc[1, 0]), b_right=float(r.bws.iloc[1, 1]),
        n_left=int(r.N_h[0]), n_right=int(r.N_h[1]), n_used=int(ok.sum()), n_dropped=int((~ok).sum()), p=int(p),
        kernel=kernel, bwselect=bwselect if h is None else "fixed", vce=("cr1" if cluster is not None and vce in
                                                                         ("hc1", "nn", "hc0") else vce),
        covariates=tuple(covs), cluster=cluster, fuzzy=fuzzy, first_stage=first, level=float(level), notes=notes)


def rd_table(results: Mapping[str, RDResult] | Sequence[RDResult], *, decimals: int = 3,
             rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """One row per RD result: estimate, robust SE, robust CI, p-value, bandwidth and the effective numbers of
    observations each side, rounded as for release (counts to the nearest ``rules.round_counts``).

    A side with fewer than ``rules.threshold`` effective observations makes its row's numbers ``"c"``
    (suppressed): an estimate resting on a handful of people is disclosive. ``table.attrs["report"]`` lists
    the rows suppressed and why (for you and the output checker).
    """
    rules = rules or sdc.DEFAULT_RULES
    items = list(results.items()) if isinstance(results, Mapping) else [(r.outcome, r) for r in results]
    rows, report = [], []
    for label, r in items:
        if not isinstance(r, RDResult):
            raise TypeError(f"rd_table: expected RDResult objects, got {type(r).__name__} for {label!r}")
        small = min(r.n_left, r.n_right) < rules.threshold
        row = {"specification": label, "design": "fuzzy" if r.fuzzy else "sharp",
               "estimate": round(r.estimate, decimals), "robust SE": round(r.se_robust, decimals),
               f"robust {r.level:.0f}% CI": f"{r.ci_low:.{decimals}f} to {r.ci_high:.{decimals}f}",
               "p-value": round(r.pvalue, 3), "bandwidth h": round(r.h, 3),
               "N left (within h)": int(sdc.round_to(r.n_left, rules.round_counts)),
               "N right (within h)": int(sdc.round_to(r.n_right, rules.round_counts))}
        if small:
            row = {k: (v if k in ("specification", "design") else rules.suppressed_symbol) for k, v in row.items()}
            report.append({"row": label, "rule": "threshold",
                           "detail": f"fewer than {rules.threshold} observations within h on a side"})
        rows.append(row)
    out = pd.DataFrame(rows).set_index("specification")
    out.attrs["report"] = pd.DataFrame(report, columns=["row", "rule", "detail"])
    return out


def _local_linear_fit(xs: np.ndarray, ys: np.ndarray, c: float, h: float) -> tuple[float, float] | None:
    w = np.clip(1 - np.abs(xs - c) / h, 0, None)
    k = w > 0
    if k.sum() < 3 or len(np.unique(xs[k])) < 2:
        return None
    X = np.column_stack([np.ones(k.sum()), xs[k] - c])
    beta = np.linalg.lstsq(X * np.sqrt(w[k])[:, None], ys[k] * np.sqrt(w[k]), rcond=None)[0]
    return float(beta[0]), float(beta[1])


def rd_plot(data: pd.DataFrame, y: str, x: str, cutoff: float, *, result: RDResult | None = None,
            window: float | None = None, bins_per_side: int = 15, ax=None, unit: str | None = None,
            rules: sdc.SDCRules | None = None, ylabel: str | None = None, xlabel: str | None = None):
    """RD plot: means of ``y`` in equal-width bins of ``x`` on each side of the cut-off, released through
    :func:`leokit.sdc.safe_binned` (bins failing a disclosure rule are left out), and the local-linear fits
    within the bandwidth of ``result`` (triangular kernel, no covariates) on each side.

    ``window``: half-width of the plotted range (default: three times the bandwidth, or the data range).
    Returns ``(ax, SDCResult)``; the SDC result's ``.report`` says which bins were dropped.
    """
    import matplotlib.pyplot as plt

    _check_frame(data, [y, x, unit], "rd_plot")
    d = data[[c for c in (y, x, unit) if c is not None]].dropna(subset=[y, x])
    xv = _numeric(d[x], x, "rd_plot")
    if window is None:
        window = 3 * result.h if result is not None else float(np.nanmax(np.abs(xv - cutoff)))
    edges = np.unique(np.concatenate([np.linspace(cutoff - window, cutoff, bins_per_side + 1),
                                      np.linspace(cutoff, cutoff + window, bins_per_side + 1)]))
    # safe_binned's bins are [a, b): the cut-off is a left edge, so units at x = cutoff sit on the right
    binned = sdc.safe_binned(d, x, y, bins=list(edges), unit=unit, rules=rules, decimals=3, x_decimals=3)
    t = binned.table
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    left = t["x"] < cutoff
    ax.plot(t.loc[left, "x"], t.loc[left, "y"], "o", color="C0", ms=4, label="bin mean, not eligible")
    ax.plot(t.loc[~left, "x"], t.loc[~left, "y"], "o", color="C1", ms=4, label="bin mean, eligible")
    if result is not None:
        yv = _numeric(d[y], y, "rd_plot")
        for side, col in ((xv < cutoff, "C0"), (xv >= cutoff, "C1")):
            fit = _local_linear_fit(xv[side], yv[side], cutoff, result.h)
            if fit is not None:
                sgn = -1 if col == "C0" else 1
                gx = np.linspace(cutoff, cutoff + sgn * result.h, 20)
                ax.plot(gx, fit[0] + fit[1] * (gx - cutoff), "-", color=col, lw=2)
    ax.axvline(cutoff, color="grey", ls=":", lw=1)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    return ax, binned


def rd_density_test(values: pd.Series | np.ndarray, cutoff: float, *, rules: sdc.SDCRules | None = None,
                    **kwargs) -> pd.DataFrame:
    """Manipulation test of the running variable's density at the cut-off (Cattaneo, Jansson and Ma,
    package ``rddensity``): one row with the units each side (rounded), the bandwidths, the robust T
    statistic and its p-value. A small p-value says the density jumps at the cut-off.

    Pass the values *at the level the running variable varies* (one per area for an area-level index): a
    unit-level test of an area score mistakes the clumping of many pupils on one area's value for sorting.
    ``kwargs`` go to ``rddensity.rddensity``.
    """
    rules = rules or sdc.DEFAULT_RULES
    v = np.asarray(pd.Series(values).astype("Float64").to_numpy(dtype="float64", na_value=np.nan))
    v = v[~np.isnan(v)]
    n_l, n_r = int((v < cutoff).sum()), int((v >= cutoff).sum())
    if min(n_l, n_r) < max(rules.threshold, 20):
        raise RDInputError(f"rd_density_test: too few values on a side of {cutoff:g} ({n_l} left, {n_r} right)")
    with warnings.catch_warnings():  # rddensity changes the global warning filters when it is imported
        warnings.simplefilter("ignore")
        import rddensity as _rdd
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            r = _rdd.rddensity(X=v, c=float(cutoff), **kwargs)
    h = r.h
    return pd.DataFrame([{
        "units left": int(sdc.round_to(n_l, rules.round_counts)),
        "units right": int(sdc.round_to(n_r, rules.round_counts)),
        "h left": round(float(h["left"]), 3), "h right": round(float(h["right"]), 3),
        "T (robust)": round(float(r.test["t_jk"]), 2), "p-value": round(float(r.test["p_jk"]), 3)}])


def rd_bandwidth_sensitivity(data: pd.DataFrame, y: str, x: str, cutoff: float, base: RDResult, *,
                             factors: Sequence[float] = (0.5, 0.75, 1.0, 1.5, 2.0), **kwargs) -> dict[str, RDResult]:
    """The estimate of ``base`` re-run with its bandwidths multiplied by each factor (main and bias bandwidth
    scaled together); keys like ``"h x 0.5 (0.021)"``. Other options as ``rd_estimate`` (pass the same
    covariates and variance estimator as the base specification)."""
    out = {}
    for f in factors:
        r = rd_estimate(data, y, x, cutoff, h=base.h * f, b=max(base.b_left * f, base.h * f), **kwargs)
        out[f"h x {f:g} ({base.h * f:.3f})"] = r
    return out


def rd_placebo_cutoffs(data: pd.DataFrame, y: str, x: str, cutoff: float, placebos: Iterable[float],
                       **kwargs) -> dict[str, RDResult]:
    """RD estimates at placebo cut-offs where nothing happens: a placebo below the true cut-off uses only the
    units below it, one above only the units at or above it (so the true jump never enters). Keys like
    ``"placebo 0.14"``."""
    out = {}
    xv = _numeric(data[x], x, "rd_placebo_cutoffs")
    for pc in placebos:
        if pc == cutoff:
            raise RDInputError(f"rd_placebo_cutoffs: {pc} is the true cut-off")
        side = data[xv < cutoff] if pc < cutoff else data[xv >= cutoff]
        out[f"placebo {pc:g}"] = rd_estimate(side, y, x, pc, **kwargs)
    return out


def rd_balance(data: pd.DataFrame, covariates: Iterable[str], x: str, cutoff: float, **kwargs) -> dict[str, RDResult]:
    """Covariate balance: the RD 'effect' on each pre-determined covariate (none is expected); keys are the
    covariate names. Do not pass ``covs`` here."""
    if "covs" in kwargs:
        raise RDInputError("rd_balance: do not adjust a balance check for covariates")
    return {c: rd_estimate(data, c, x, cutoff, **kwargs) for c in covariates}
