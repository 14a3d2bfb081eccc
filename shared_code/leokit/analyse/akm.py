"""Worker and firm fixed effects: exact two-way least squares, connected sets, AKM variance decompositions
and a split-sample correction for limited-mobility bias.

The model of Abowd, Kramarz and Margolis [AKM1999] for the log pay of worker ``i`` in year ``t``::

    y_it = alpha_i + psi_J(i,t) + x_it' beta + e_it

has a fixed effect for every worker and every firm (here: LEO ``main_enterprise``). Firm effects are
identified only *within a connected set* - firms linked to one another by workers who move between
them - and only up to one constant per set. This module provides:

* :func:`drop_singletons` - rows whose worker or firm (or other fixed effect) appears once, removed
  iteratively (they carry no information on the slopes; pyfixest drops them too);
* :func:`largest_connected_set` - the largest connected set of the worker-firm graph, with what was dropped;
* :func:`two_way_effects` - the exact least-squares worker and firm effects of a vector on the two sets
  of dummies, from the normal equations with the workers eliminated (a sparse, symmetric positive-definite
  firm-level system once one firm per connected component is fixed at zero), solved by preconditioned
  conjugate gradients to a relative residual of 1e-13;
* :func:`feols_two_way` - ``y ~ x | worker + firm (+ low-dimensional absorbed factors such as the year)``
  by Frisch-Waugh-Lovell with that exact projection, cluster-robust (CRV1) standard errors with
  pyfixest's default small-sample correction, and the estimated effects for every row;
* :func:`variance_decomposition` - shares of the variance of pay net of the covariates held by the worker
  effects, the firm effects, twice their covariance (sorting) and the residual (as in [Card2013], [Card2018]);
* :func:`split_sample_decomposition` - the same shares corrected for limited-mobility bias by estimating
  firm effects on two random halves of the *workers* and using their cross-products (the estimation errors
  of the two halves are independent), with delete-a-group jackknife standard errors.

Why not pyfixest here? pyfixest (used for every other fixed-effects model in the kit) demeans by
alternating projections, which converge slowly precisely when the worker-firm graph is thinly connected
(few movers per firm: the situation this lesson is about); on the committed synthetic data a
person + firm + year model took about 10 s and recovering the fixed effects (``fixef()``) about 80 s. Solving
the firm-level normal equations directly gives the same solution in about a second.
The tests check the slopes and standard errors against pyfixest and the effects against a dense
least-squares solution.

**Limited-mobility bias** [Andrews2008]: each firm effect is estimated from the few workers who move in or
out, so it is noisy; the variance of the *estimated* firm effects is the variance of the true ones
plus the average noise variance, and the covariance of worker and firm effects is biased downwards (the
errors of the two are negatively correlated). Standard corrections: the homoskedastic bias correction of
[Andrews2008]; the heteroskedasticity-robust leave-out estimator of [KSS2020]; grouping firms into
classes with a random-effects distribution [BLM2019]; [Bonhomme2023] compare them on several countries.
The split-sample estimator here is a simple relative of the leave-out idea that is robust to serial
correlation of a worker's errors (a worker's observations are all in the same half). Its estimand is the
variance over the firms identified in both halves: the least connected firms drop out. The maintained
Python implementation of the homoskedastic and leave-out corrections, ``pytwoway``, cannot join the kit's
environment: its dependency ``bipartitepandas`` (1.1.10) requires ``pandas<=2.0.3``, below the kit's
pandas 2.2+/3.x, and that pandas does not import with numpy 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import cg, splu

from leokit import sdc
from leokit.analyse.results import Estimate

__all__ = ["TwoWayInputError", "ConnectedSet", "drop_singletons", "largest_connected_set", "movers_per_firm", "TwoWayEffects",
           "two_way_effects", "TwoWayFit", "feols_two_way", "variance_decomposition", "SplitSampleResult",
           "split_sample_decomposition", "DECOMPOSITION_PARTS"]

#: The parts of a variance decomposition, in display order.
DECOMPOSITION_PARTS = ("person", "firm", "sorting", "residual")


class TwoWayInputError(ValueError):
    """Input a two-way fixed-effects helper cannot use (names the column and what was expected)."""


# ----------------------------------------------------------------------------------------------------------
# Checks and encodings
# ----------------------------------------------------------------------------------------------------------
def _check_frame(data: Any, cols: Iterable[str], what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TwoWayInputError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    cols = list(dict.fromkeys(c for c in cols if c is not None))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise TwoWayInputError(f"{what}: no column(s) {missing} in the data (it has {list(data.columns)[:20]})")
    bad = [c for c in cols if data[c].isna().any()]
    if bad:
        raise TwoWayInputError(f"{what}: missing values in {bad}; drop or fill those rows first "
                               f"({int(data[bad].isna().any(axis=1).sum())} rows)")
    return data


def _numeric(data: pd.DataFrame, col: str, what: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
        if pd.api.types.is_bool_dtype(data[col]):
            return data[col].to_numpy(dtype="float64")
        raise TwoWayInputError(f"{what}: column {col!r} must be numeric, found {data[col].dtype}")
    v = data[col].to_numpy(dtype="float64")
    if not np.isfinite(v).all():
        raise TwoWayInputError(f"{what}: column {col!r} has non-finite values")
    return v


def _codes(values: Any) -> tuple[np.ndarray, int]:
    """Dense integer codes 0..n-1 in sorted order of the values (deterministic whatever the row order)."""
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), len(uniques)


def drop_singletons(data: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """Boolean mask of the rows kept after removing, repeatedly, rows whose level of any column in ``cols``
    occurs only once among the kept rows (a fixed effect fitted to one row leaves nothing for the slopes)."""
    _check_frame(data, cols, "drop_singletons")
    codes = [_codes(data[c])[0] for c in cols]
    keep = np.ones(len(data), bool)
    while True:
        bad = np.zeros(len(data), bool)
        for c in codes:
            cnt = np.bincount(c[keep], minlength=c.max() + 1 if len(c) else 0)
            bad |= keep & (cnt[c] == 1)
        if not bad.any():
            return keep
        keep &= ~bad


# ----------------------------------------------------------------------------------------------------------
# Connected sets
# ----------------------------------------------------------------------------------------------------------
def _components(w: np.ndarray, f: np.ndarray, nw: int, nf: int) -> tuple[int, np.ndarray]:
    """Connected components of the bipartite worker-firm graph: (number, label of each firm)."""
    g = sp.coo_matrix((np.ones(len(w)), (w, nw + f)), shape=(nw + nf, nw + nf)).tocsr()
    n, lab = connected_components(g, directed=False)
    return n, lab


@dataclass(frozen=True)
class ConnectedSet:
    """The largest connected set of a worker-firm panel. ``mask``: rows in it (aligned with the input)."""

    mask: np.ndarray
    n_rows: int
    n_workers: int
    n_firms: int
    n_movers: int
    n_components: int
    rows_dropped: int
    workers_dropped: int
    firms_dropped: int

    @property
    def share_rows(self) -> float:
        return self.n_rows / max(self.n_rows + self.rows_dropped, 1)

    def table(self, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
        """Counts kept and dropped, rounded as an output checker requires (to ``rules.round_counts``)."""
        rules = rules or sdc.DEFAULT_RULES
        r = rules.round_counts
        rows = {"person-years": (self.n_rows, self.rows_dropped), "workers": (self.n_workers, self.workers_dropped),
                "firms": (self.n_firms, self.firms_dropped)}
        rows["movers (workers with 2+ firms)"] = (self.n_movers, None)
        out = pd.DataFrame({"in the largest connected set": [int(sdc.round_to(v[0], r)) for v in rows.values()],
                            "outside it (dropped)": pd.array([None if v[1] is None else int(sdc.round_to(v[1], r))
                                                              for v in rows.values()], dtype="Int64")},
                           index=list(rows))
        out.attrs["sdc"] = f"counts rounded to the nearest {r}"
        return out


def largest_connected_set(data: pd.DataFrame, worker: str, firm: str) -> ConnectedSet:
    """The largest connected set of the bipartite graph whose nodes are workers and firms and whose edges are
    the rows (a worker employed at a firm). Firm effects are comparable only within one connected set."""
    _check_frame(data, [worker, firm], "largest_connected_set")
    if len(data) == 0:
        raise TwoWayInputError("largest_connected_set: the data have no rows")
    w, nw = _codes(data[worker])
    f, nf = _codes(data[firm])
    _, lab = _components(w, f, nw, nf)
    row_lab = lab[nw + f]
    big = int(np.argmax(np.bincount(row_lab)))
    mask = row_lab == big
    n_comp = len(np.unique(row_lab))
    wk = np.unique(w[mask])
    firms_per_worker = pd.Series(f[mask]).groupby(w[mask]).nunique()
    return ConnectedSet(mask=mask, n_rows=int(mask.sum()), n_workers=len(wk), n_firms=len(np.unique(f[mask])),
                        n_movers=int((firms_per_worker > 1).sum()), n_components=int(n_comp),
                        rows_dropped=int((~mask).sum()), workers_dropped=int(len(np.unique(w)) - len(wk)),
                        firms_dropped=int(len(np.unique(f)) - len(np.unique(f[mask]))))


def movers_per_firm(data: pd.DataFrame, worker: str, firm: str) -> pd.Series:
    """Number of movers (workers seen at two or more firms in ``data``) who pass through each firm, indexed by
    firm (every firm in ``data``, zero where none): the movers that identify each firm's effect. Firms with few
    are where limited-mobility bias comes from. A statistic of firms: round or band it before it is shown."""
    _check_frame(data, [worker, firm], "movers_per_firm")
    mover = data.groupby(worker)[firm].transform("nunique") > 1
    counts = data.loc[mover].groupby(firm)[worker].nunique()
    return counts.reindex(pd.unique(data[firm]), fill_value=0).rename("movers")


# ----------------------------------------------------------------------------------------------------------
# The exact two-way solver
# ----------------------------------------------------------------------------------------------------------
class _TwoWay:
    """Exact least squares on worker and firm dummies for integer codes ``w`` (0..nw-1) and ``f`` (0..nf-1).

    Normal equations with workers eliminated: ``S psi = F'v - C T^-1 D'v`` with ``S = diag(n_f) - C T^-1 C'``
    (``C`` = firm x worker counts, ``T`` = rows per worker), a graph Laplacian that is singular with one zero
    eigenvalue per connected component; one firm per component is fixed at zero and the rest solved by
    conjugate gradients with a diagonal (Jacobi) preconditioner to a relative residual of 1e-13 - exact to
    floating-point accuracy for this symmetric positive-definite system (a sparse LU factorisation is the
    fallback if it does not converge). Workers: ``alpha_i`` = mean over i's rows of ``v - psi``.
    """

    RTOL = 1e-13
    MAXITER = 20_000

    def __init__(self, w: np.ndarray, f: np.ndarray, nw: int | None = None, nf: int | None = None):
        self.w, self.f = w, f
        self.nw = int(w.max()) + 1 if nw is None else nw
        self.nf = int(f.max()) + 1 if nf is None else nf
        n = len(w)
        self.T = np.bincount(w, minlength=self.nw).astype(float)
        self.nfirm = np.bincount(f, minlength=self.nf).astype(float)
        if (self.T == 0).any() or (self.nfirm == 0).any():
            raise TwoWayInputError("two-way solver: every worker and firm code must occur (codes must be dense)")
        C = sp.coo_matrix((np.ones(n), (f, w)), shape=(self.nf, self.nw)).tocsr()
        C.sum_duplicates()
        self.C = C
        S = (sp.diags(self.nfirm) - C @ sp.diags(1.0 / self.T) @ C.T).tocsr()
        self.n_components, lab = _components(w, f, self.nw, self.nf)
        firm_lab = lab[self.nw:]
        # one reference firm per component: the first firm code of each component
        _, first = np.unique(firm_lab, return_index=True)
        free = np.ones(self.nf, bool)
        free[first] = False
        self.free = np.flatnonzero(free)
        self.S = S[self.free][:, self.free].tocsr()
        self.M = sp.diags(1.0 / self.S.diagonal()) if len(self.free) else None
        self._lu = None

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        out = np.zeros_like(rhs)
        for k in range(rhs.shape[1]):
            b = rhs[:, k]
            if not np.any(b):
                continue
            x, info = cg(self.S, b, rtol=self.RTOL, atol=0.0, maxiter=self.MAXITER, M=self.M)
            if info != 0:  # not converged: exact sparse LU (slower on large, thinly connected graphs)
                if self._lu is None:
                    self._lu = splu(self.S.tocsc(), permc_spec="MMD_AT_PLUS_A")
                x = self._lu.solve(b)
            out[:, k] = x
        return out

    def effects(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Worker effects (nw x m) and firm effects (nf x m) of the columns of ``V`` (n x m)."""
        V = np.asarray(V, dtype="float64")
        one = V.ndim == 1
        V2 = V[:, None] if one else V
        m = V2.shape[1]
        Dv = np.zeros((self.nw, m))
        Fv = np.zeros((self.nf, m))
        for k in range(m):
            Dv[:, k] = np.bincount(self.w, weights=V2[:, k], minlength=self.nw)
            Fv[:, k] = np.bincount(self.f, weights=V2[:, k], minlength=self.nf)
        rhs = Fv - self.C @ (Dv / self.T[:, None])
        psi = np.zeros((self.nf, m))
        if len(self.free):
            psi[self.free] = self._solve(np.ascontiguousarray(rhs[self.free]))
        alpha = (Dv - self.C.T @ psi) / self.T[:, None]
        return (alpha[:, 0], psi[:, 0]) if one else (alpha, psi)

    def residualise(self, V: np.ndarray) -> np.ndarray:
        alpha, psi = self.effects(V)
        return np.asarray(V, dtype="float64") - alpha[self.w] - psi[self.f]


@dataclass(frozen=True)
class TwoWayEffects:
    """Exact two-way least-squares effects, one value per input row: ``alpha`` (worker), ``psi`` (firm) and
    ``resid``. Firm effects are normalised to mean zero over the rows of each connected component (the worker
    effects absorb the constant); only differences within a component are identified."""

    alpha: np.ndarray
    psi: np.ndarray
    resid: np.ndarray
    n_components: int


def _normalise(alpha_r: np.ndarray, psi_r: np.ndarray, row_lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift firm effects to mean zero over the rows of each component, worker effects the other way."""
    sums = np.bincount(row_lab, weights=psi_r)
    cnt = np.bincount(row_lab)
    shift = (sums / np.maximum(cnt, 1))[row_lab]
    return alpha_r + shift, psi_r - shift


def two_way_effects(y: Any, worker: Any, firm: Any) -> TwoWayEffects:
    """The exact least-squares fit of ``y`` on worker and firm dummies (no other regressors).

    ``y``, ``worker`` and ``firm`` are aligned sequences (e.g. columns of one frame)."""
    y = np.asarray(y, dtype="float64")
    if not (len(y) == len(worker) == len(firm)):
        raise TwoWayInputError("two_way_effects: y, worker and firm must have the same length")
    if len(y) == 0 or not np.isfinite(y).all():
        raise TwoWayInputError("two_way_effects: y must be non-empty and finite")
    w, nw = _codes(worker)
    f, nf = _codes(firm)
    tw = _TwoWay(w, f, nw, nf)
    a, p = tw.effects(y)
    _, lab = _components(w, f, nw, nf)
    alpha, psi = _normalise(a[w], p[f], lab[nw + f])
    return TwoWayEffects(alpha=alpha, psi=psi, resid=y - alpha - psi, n_components=tw.n_components)


# ----------------------------------------------------------------------------------------------------------
# Regression with worker and firm fixed effects
# ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwoWayFit:
    """``y ~ x | worker + firm (+ absorb)`` fitted exactly. ``coef``, ``se``, ``ci_low``, ``ci_high``: Series
    over ``x``; the interval uses the t distribution with (clusters - 1) degrees of freedom, as pyfixest.

    Row-level arrays (aligned with ``data``, the estimation sample after singletons were dropped):
    ``y`` the outcome, ``absorbed`` the fitted part of the absorbed factors (e.g. year effects), ``xb`` = x'beta,
    ``alpha`` and ``psi`` the worker and firm effects (firm effects mean zero over the rows of each connected
    component), ``resid``. So ``y = absorbed + xb + alpha + psi + resid`` exactly.
    """

    coef: pd.Series
    se: pd.Series
    ci_low: pd.Series
    ci_high: pd.Series
    vcov: pd.DataFrame
    nobs: int
    n_workers: int
    n_firms: int
    n_clusters: int
    n_components: int
    df_resid: int
    singletons_dropped: int
    data: pd.DataFrame = field(repr=False)
    y: np.ndarray = field(repr=False)
    absorbed: np.ndarray = field(repr=False)
    xb: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)
    psi: np.ndarray = field(repr=False)
    resid: np.ndarray = field(repr=False)
    worker: str = "worker"
    firm: str = "firm"
    level: float = 0.95

    def to_estimate(self, name: str, coef: str, truth_key: str | None = None) -> Estimate:
        """An :class:`~leokit.analyse.results.Estimate` for one coefficient, with this fit's interval."""
        if coef not in self.coef.index:
            raise KeyError(f"TwoWayFit has no coefficient {coef!r}; it has {list(self.coef.index)}")
        return Estimate(name=name, estimate=self.coef[coef], se=self.se[coef], truth_key=truth_key,
                        ci_low=self.ci_low[coef], ci_high=self.ci_high[coef], level=self.level)

    def table(self, coefs: Sequence[str] | None = None, *, decimals: int = 3,
              rules: sdc.SDCRules | None = None) -> pd.DataFrame:
        """Coefficients for release: rounded, with the residual degrees of freedom checked (``rules.dof_threshold``)
        and counts rounded to ``rules.round_counts``. Individual worker or firm effects are never in it."""
        rules = rules or sdc.DEFAULT_RULES
        if self.df_resid < rules.dof_threshold:
            raise sdc.DisclosureError(f"residual degrees of freedom {self.df_resid} < {rules.dof_threshold}: "
                                      "coefficients not released")
        coefs = list(self.coef.index) if coefs is None else list(coefs)
        out = pd.DataFrame({"coef": self.coef[coefs].round(decimals), "se": self.se[coefs].round(decimals),
                            "ci_low": self.ci_low[coefs].round(decimals), "ci_high": self.ci_high[coefs].round(decimals)})
        out.attrs["nobs"] = int(sdc.round_to(self.nobs, rules.round_counts))
        return out


def _dummies(values: pd.Series) -> np.ndarray:
    codes, n = _codes(values)
    M = np.zeros((len(codes), max(n - 1, 0)))
    rows = np.flatnonzero(codes > 0)
    M[rows, codes[rows] - 1] = 1.0
    return M


def _df_k(d: pd.DataFrame, fes: Sequence[str], cl: np.ndarray, k: int) -> int:
    """Parameters counted in the small-sample factor, as pyfixest's default (``k_fixef="nonnested"``): the slopes,
    plus the fixed-effect levels (minus one per fixed effect after the first), minus the levels of fixed effects
    nested in the clusters, plus one per such nested fixed effect."""
    levels, nested_levels, n_nested = 0, 0, 0
    for c in fes:
        codes, nl = _codes(d[c])
        levels += nl
        per_level = pd.Series(cl).groupby(codes).nunique()
        if (per_level == 1).all():
            nested_levels += nl
            n_nested += 1
    k_fe_adj = levels - (len(fes) - 1)
    return int(k + k_fe_adj - nested_levels + n_nested)


def feols_two_way(data: pd.DataFrame, y: str, x: Sequence[str], worker: str, firm: str, *,
                  absorb: Sequence[str] = (), cluster: str | None = None, level: float = 0.95,
                  drop_singleton_rows: bool = True) -> TwoWayFit:
    """``y ~ x | worker + firm + absorb`` by exact least squares.

    ``absorb``: further factors with few levels (e.g. the tax year), entered as dummies and counted as fixed
    effects (not slopes) in the correction below. Standard errors are clustered by ``cluster`` (default ``firm``):
    CRV1 with pyfixest's default factor ``G/(G-1) * (N-1)/(N-K)``, ``K`` = the slopes plus the fixed-effect
    levels not nested in the clusters (see :func:`_df_k`); the interval is ``t(G-1)``. The slopes and
    standard errors equal pyfixest's ``feols("y ~ x | worker + firm + absorb", vcov={"CRV1": cluster})``.
    Singleton rows are dropped first (iteratively, in every fixed effect), as pyfixest does.
    """
    x = list(x)
    absorb = list(absorb)
    cluster = cluster or firm
    what = "feols_two_way"
    _check_frame(data, [y, *x, worker, firm, *absorb, cluster], what)
    if not x:
        raise TwoWayInputError(f"{what}: give at least one regressor in x (for the effects alone use two_way_effects)")
    if not 0 < level < 1:
        raise TwoWayInputError(f"{what}: level must be in (0, 1), got {level}")
    d = data
    dropped = 0
    if drop_singleton_rows:
        keep = drop_singletons(d, [worker, firm, *absorb])
        dropped = int((~keep).sum())
        d = d[keep]
    n = len(d)
    yv = _numeric(d, y, what)
    X = np.column_stack([_numeric(d, c, what) for c in x])
    A = np.column_stack([_dummies(d[c]) for c in absorb]) if absorb else np.zeros((n, 0))
    w, nw = _codes(d[worker])
    f, nf = _codes(d[firm])
    k = X.shape[1]
    if n <= nw + nf + k + A.shape[1]:
        raise TwoWayInputError(f"{what}: {n} rows cannot identify {nw} worker and {nf} firm effects and {k} slopes "
                               "(after dropping singletons); use a larger sample")
    tw = _TwoWay(w, f, nw, nf)
    XA = np.column_stack([X, A])
    R = tw.residualise(np.column_stack([yv, XA]))
    ry, RX = R[:, 0], R[:, 1:]
    # least squares on the residualised regressors (normal equations of a small, scaled system)
    scale = np.sqrt((RX ** 2).sum(axis=0))
    raw = np.sqrt((X ** 2).sum(axis=0))
    flat = [c for c, sc, r in zip(x, scale[:k], raw) if sc <= 1e-9 * max(r, 1.0)]
    if flat:
        raise TwoWayInputError(f"{what}: regressor(s) {flat} do not vary within workers and firms (absorbed by the "
                               "fixed effects, or constant in this sample); drop them")
    scale[scale <= 1e-12] = 1.0
    Z = RX / scale
    ZZ = Z.T @ Z
    ev = np.linalg.eigvalsh(ZZ[:k, :k]) if k else np.ones(1)
    if ev.min() < 1e-10 * max(ev.max(), 1e-300):
        raise TwoWayInputError(f"{what}: the regressors {x} are collinear with each other once the fixed effects "
                               "are absorbed")
    b_all = np.linalg.lstsq(ZZ, Z.T @ ry, rcond=None)[0] / scale
    u = ry - RX @ b_all
    beta = b_all[:k]
    # CRV1 for the slopes of x: partial the absorbed dummies out of the residualised x first (FWL again)
    if A.shape[1]:
        RA = Z[:, k:]
        G_ = np.linalg.lstsq(RA.T @ RA, RA.T @ RX[:, :k], rcond=None)[0]
        Xt = RX[:, :k] - RA @ G_
    else:
        Xt = RX[:, :k]
    cl, G = _codes(d[cluster])
    if G < 2:
        raise TwoWayInputError(f"{what}: need at least 2 clusters in {cluster!r}")
    df_k = _df_k(d, [worker, firm, *absorb], cl, k)
    bread = np.linalg.inv(Xt.T @ Xt)
    scores = np.zeros((G, k))
    for j in range(k):
        scores[:, j] = np.bincount(cl, weights=Xt[:, j] * u, minlength=G)
    meat = scores.T @ scores
    adj = (G / (G - 1)) * ((n - 1) / (n - df_k))
    V = adj * bread @ meat @ bread
    se = np.sqrt(np.diag(V))
    tq = stats.t.ppf(0.5 + level / 2, G - 1)
    # effects: worker and firm effects of y net of the fitted covariates and absorbed factors
    xb = X @ beta
    absorbed = A @ b_all[k:] if A.shape[1] else np.zeros(n)
    z = yv - xb - absorbed
    a, p = tw.effects(z)
    _, lab = _components(w, f, nw, nf)
    alpha, psi = _normalise(a[w], p[f], lab[nw + f])
    # put the constant of the absorbed part at its mean so that worker effects are centred comparably
    idx = pd.Index(x)
    df_resid = int(n - k - A.shape[1] - nw - nf + tw.n_components)
    return TwoWayFit(coef=pd.Series(beta, idx), se=pd.Series(se, idx), ci_low=pd.Series(beta - tq * se, idx),
                     ci_high=pd.Series(beta + tq * se, idx), vcov=pd.DataFrame(V, idx, idx), nobs=n, n_workers=nw,
                     n_firms=nf, n_clusters=G, n_components=tw.n_components, df_resid=df_resid,
                     singletons_dropped=dropped, data=d, y=yv, absorbed=absorbed, xb=xb, alpha=alpha, psi=psi,
                     resid=z - alpha - psi, worker=worker, firm=firm, level=level)


# ----------------------------------------------------------------------------------------------------------
# Variance decompositions
# ----------------------------------------------------------------------------------------------------------
def _cov(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - a.mean()) * (b - b.mean())))


def variance_decomposition(y: Any, alpha: Any, psi: Any, xb: Any = None) -> pd.Series:
    """Shares of the variance of ``y - xb`` (pay net of the covariates) held by the worker effects
    (``person``: var(alpha)), the firm effects (``firm``: var(psi)), sorting (``sorting``: 2 cov(alpha, psi))
    and the rest (``residual``: var(r) + 2 cov(r, psi) + 2 cov(r, alpha), with r = y - xb - alpha - psi; the
    covariances are zero for least-squares estimates, whose residuals are orthogonal to the dummies).

    The four shares sum to one. Also returned: ``variance`` (of ``y - xb``) and ``corr_person_firm``.
    The same formula, applied to the *planted* components, gives the truth of the synthetic data.
    """
    y = np.asarray(y, dtype="float64")
    alpha = np.asarray(alpha, dtype="float64")
    psi = np.asarray(psi, dtype="float64")
    xb = np.zeros_like(y) if xb is None else np.asarray(xb, dtype="float64")
    if not (len(y) == len(alpha) == len(psi) == len(xb)) or len(y) < 2:
        raise TwoWayInputError("variance_decomposition: y, alpha, psi and xb must be aligned arrays of length >= 2")
    net = y - xb
    r = net - alpha - psi
    V = float(net.var())
    if V <= 0:
        raise TwoWayInputError("variance_decomposition: y - xb has no variance")
    parts = {"person": float(alpha.var()), "firm": float(psi.var()), "sorting": 2 * _cov(alpha, psi),
             "residual": float(r.var()) + 2 * _cov(r, psi) + 2 * _cov(r, alpha)}
    out = {k: v / V for k, v in parts.items()}
    out["variance"] = V
    out["corr_person_firm"] = _cov(alpha, psi) / float(np.sqrt(max(alpha.var() * psi.var(), 1e-300)))
    return pd.Series(out)


@dataclass(frozen=True)
class SplitSampleResult:
    """Bias-corrected variance shares (``shares``: person, firm, sorting, residual; summing to one) with
    delete-a-group jackknife standard errors (``se``; intervals use t with ``groups - 1`` degrees of freedom),
    the plug-in shares on the same rows (``plug_in``),
    and what the correction used: ``share_rows`` = share of the fit's rows whose firm is identified in both
    halves (the firm variance is estimated over those), ``groups`` for the jackknife, ``replicates``."""

    shares: pd.Series
    se: pd.Series
    plug_in: pd.Series
    share_rows: float
    n_firms_both: int
    groups: int
    replicates: pd.DataFrame = field(repr=False)
    level: float = 0.95

    def ci(self, part: str) -> tuple[float, float]:
        """Interval ``share -/+ t * se`` with the t distribution's (groups - 1) degrees of freedom (jackknife)."""
        t = float(stats.t.ppf(0.5 + self.level / 2, self.groups - 1))
        return float(self.shares[part] - t * self.se[part]), float(self.shares[part] + t * self.se[part])

    def to_estimate(self, name: str, part: str, truth_key: str | None = None) -> Estimate:
        lo, hi = self.ci(part)
        return Estimate(name=name, estimate=self.shares[part], se=self.se[part], truth_key=truth_key,
                        ci_low=lo, ci_high=hi, level=self.level)


def _split_once(z, w, f, half, keep_w, n_total_firm) -> dict[str, float] | None:
    """One evaluation of the split-sample moments on the rows of kept workers. Returns sums needed for shares."""
    rows = keep_w[w]
    out: dict[str, Any] = {}
    psi_h, alpha_h, firm_ok = {}, {}, {}
    for h in (0, 1):
        m = rows & (half[w] == h)
        if m.sum() < 3:
            return None
        wc, nw = _codes(w[m])
        fc, nf = _codes(f[m])
        _, lab = _components(wc, fc, nw, nf)
        rl = lab[nw + fc]
        big = np.argmax(np.bincount(rl))
        mm = rl == big
        wc2, nw2 = _codes(wc[mm])
        fc2, nf2 = _codes(fc[mm])
        tw = _TwoWay(wc2, fc2, nw2, nf2)
        zz = z[m][mm]
        a, p = tw.effects(zz)
        fids = np.unique(f[m][mm])        # sorted original firm codes, matching fc2's order
        wids = np.unique(w[m][mm])
        ps = np.full(n_total_firm, np.nan)
        ps[fids] = p
        psi_h[h] = ps
        al = np.full(int(w.max()) + 1, np.nan)
        al[wids] = a
        alpha_h[h] = al
        firm_ok[h] = np.isfinite(ps)
    both = firm_ok[0] & firm_ok[1]
    sel = rows & both[f]
    if sel.sum() < 3:
        return None
    pa, pb = psi_h[0][f[sel]], psi_h[1][f[sel]]
    out["var_psi"] = _cov(pa, pb)
    # sorting: worker effects from the worker's own half, firm effects from the other half
    covs, ns = [], []
    for h in (0, 1):
        s2 = sel & (half[w] == h) & np.isfinite(alpha_h[h][w])
        if s2.sum() >= 3:
            covs.append(_cov(alpha_h[h][w[s2]], psi_h[1 - h][f[s2]]))
            ns.append(int(s2.sum()))
    out["cov"] = float(np.average(covs, weights=ns)) if covs else float("nan")
    out["share_rows"] = float(sel.sum() / rows.sum())
    out["n_firms_both"] = int(both.sum())
    return out


def split_sample_decomposition(fit: TwoWayFit, *, groups: int = 20, seed: int = 0, splits: int = 1,
                               level: float = 0.95) -> SplitSampleResult:
    """Variance decomposition of an AKM fit corrected for limited-mobility bias by sample splitting.

    Workers are split at random into two halves (all of a worker's rows go to the same half, so serial
    correlation of a worker's errors does no harm); firm effects are estimated on each half's largest
    connected set from pay net of the fitted covariates and absorbed factors (held at the full-sample
    estimates). Because the two halves' estimation errors are independent,

    * the covariance across firms of the two halves' firm effects (weighted by the full sample's rows)
      estimates the variance of the firm effects without the noise variance;
    * the covariance of each worker's effect (own half) with the other half's firm effects estimates the
      worker-firm covariance without the negative bias from shared estimation error;
    * the residual variance is corrected for the degrees of freedom the effects used,
      ``RSS / (N - workers - firms + 1 - K)`` rescaled to the truth's definition (deviations from worker means);
    * the worker share is the rest, so the shares sum to one.

    The firm variance is estimated over the firms identified in both halves (``share_rows`` of the rows):
    the smallest, least connected firms drop out, which is where the correction cannot reach.
    ``splits`` > 1 averages over several random splits (less noise from the split itself).
    Standard errors: delete-a-group jackknife over ``groups`` random groups of workers.
    """
    if not isinstance(fit, TwoWayFit):
        raise TwoWayInputError(f"split_sample_decomposition: expected a TwoWayFit, got {type(fit).__name__}")
    if groups < 5:
        raise TwoWayInputError("split_sample_decomposition: use at least 5 jackknife groups")
    d = fit.data
    w, nw = _codes(d[fit.worker])
    f, nf = _codes(d[fit.firm])
    z = fit.y - fit.absorbed - fit.xb            # pay net of covariates and absorbed factors
    net = fit.y - fit.absorbed                   # pay net of absorbed factors (the decomposition's y)
    rng = np.random.default_rng(seed)
    halves = [rng.integers(0, 2, nw) for _ in range(splits)]
    grp = rng.integers(0, groups, nw)
    k = len(fit.coef)

    def shares_for(keep_w: np.ndarray) -> dict[str, float] | None:
        rows = keep_w[w]
        vals = [_split_once(z, w, f, h, keep_w, nf) for h in halves]
        if any(v is None for v in vals):
            return None
        var_psi = float(np.mean([v["var_psi"] for v in vals]))
        cov = float(np.mean([v["cov"] for v in vals]))
        # total variance of pay net of covariates, and the corrected residual variance (plug-in residuals from
        # the full fit restricted to these rows would reuse the full-sample effects; refit on the kept rows)
        wk, nwk = _codes(w[rows])
        fk, nfk = _codes(f[rows])
        twk = _TwoWay(wk, fk, nwk, nfk)
        r = twk.residualise(z[rows])
        n = int(rows.sum())
        dof = n - nwk - nfk + twk.n_components - k
        # the truth's residual: deviations from worker means, E = sigma^2 (N - workers) / N under iid errors
        var_r = float(r @ r) / dof * (n - nwk) / n
        V = float((net[rows] - fit.xb[rows]).var())
        out = {"firm": var_psi / V, "sorting": 2 * cov / V, "residual": var_r / V}
        out["person"] = 1.0 - out["firm"] - out["sorting"] - out["residual"]
        out["share_rows"] = float(np.mean([v["share_rows"] for v in vals]))
        out["n_firms_both"] = float(np.mean([v["n_firms_both"] for v in vals]))
        return out

    full = shares_for(np.ones(nw, bool))
    if full is None:
        raise TwoWayInputError("split_sample_decomposition: a half has too few rows to estimate firm effects")
    reps = []
    for g in range(groups):
        r = shares_for(grp != g)
        if r is None:
            raise TwoWayInputError("split_sample_decomposition: a jackknife replicate has too few rows")
        reps.append(r)
    rep = pd.DataFrame(reps)[list(DECOMPOSITION_PARTS)]
    se = np.sqrt((groups - 1) / groups * ((rep - rep.mean()) ** 2).sum())
    plug = variance_decomposition(net, fit.alpha, fit.psi, fit.xb)
    shares = pd.Series({p: full[p] for p in DECOMPOSITION_PARTS})
    return SplitSampleResult(shares=shares, se=se[list(DECOMPOSITION_PARTS)], plug_in=plug[list(DECOMPOSITION_PARTS)],
                             share_rows=full["share_rows"], n_firms_both=int(round(full["n_firms_both"])),
                             groups=groups, replicates=rep, level=level)
