"""Small seeded toy data sets for the chapters that teach a method, each with its truth and its naive bias.

Like pyfixest's ``get_data(N, seed)``: a chapter that needs a few thousand rows with a known answer - not the
full LEO tables - starts from one of these. Every function is seeded (same arguments, same frame), states its
data-generating process, the true effect and the bias of the naive estimator in its docstring, and returns a
DataFrame whose ``attrs["truth"]`` holds the same numbers computed for the arguments given, so a lesson (and
its tests) read the truth from the data set, never type it:

* :func:`returns_selection` - returns to a degree with selection on ability (OLS without ability is biased up);
* :func:`peer_loo` - a leave-one-out peer mean with randomisation-pool fixed effects: the
  Guryan-Kroft-Notowidigdo (2009) mechanical bias, and its fix;
* :func:`sharp_rd` - a sharp regression discontinuity (a comparison of means is biased by the running variable);
* :func:`fuzzy_rd` - a fuzzy regression discontinuity (the jump in the outcome alone is the effect of eligibility,
  not of the treatment: it must be divided by the jump in take-up);
* :func:`staggered_did` - staggered adoption with effects that differ by cohort and grow with time (the
  static two-way fixed-effects coefficient is not the ATT);
* :func:`akm_limited_mobility` - worker and firm effects with few movers (the plug-in variance of the
  estimated firm effects is biased up).

``attrs["truth"]`` always has ``estimand`` (what the truth is), ``truth`` (its value), ``naive`` (the naive
estimator, in words), ``naive_estimand`` (what the naive estimator converges to) and ``naive_bias``
(``naive_estimand - truth``). These data are made up for teaching; they are not the synthetic LEO extract
(:func:`leokit.synth.generate`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["returns_selection", "peer_loo", "sharp_rd", "fuzzy_rd", "staggered_did", "akm_limited_mobility"]


def _truth(df: pd.DataFrame, estimand: str, truth: float, naive: str, naive_estimand: float, **extra) -> pd.DataFrame:
    df.attrs["truth"] = {"estimand": estimand, "truth": float(truth), "naive": naive,
                         "naive_estimand": float(naive_estimand), "naive_bias": float(naive_estimand - truth),
                         **{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in extra.items()}}
    return df


def returns_selection(n: int = 4000, seed: int = 0, *, effect: float = 0.25, ability_on_pay: float = 0.30,
                      ability_on_degree: float = 1.0) -> pd.DataFrame:
    """Returns to a degree when able people are more likely to graduate (selection on ability).

    DGP, for persons ``i = 1..n``::

        ability_i  ~ N(0, 1)
        degree_i   = 1[ability_on_degree * ability_i + e_i > 0],        e_i ~ N(0, 1)
        log_pay_i  = 9.8 + effect * degree_i + ability_on_pay * ability_i + u_i,   u_i ~ N(0, 0.4^2)
        ks4_score_i = ability_i + N(0, 0.5^2)                            (a noisy measure of ability)

    True effect: ``effect`` (0.25 by default): the degree raises log pay by the same amount for everyone.

    Naive estimator: OLS of ``log_pay`` on ``degree`` alone (a difference in means). Graduates are abler, so it
    converges to ``effect + ability_on_pay * (E[ability | degree] - E[ability | no degree])`` with
    ``E[ability | degree] - E[ability | no degree] = 2 g / sqrt(1 + g^2) * sqrt(2 / pi)`` (``g =
    ability_on_degree``): a bias of ``0.30 * 1.128 = 0.339`` with the defaults. Controlling for ``ability``
    recovers ``effect``; controlling for ``ks4_score`` removes part of the bias (the measure is noisy).

    Columns: ``person_id``, ``ability``, ``ks4_score``, ``degree``, ``log_pay``.
    """
    rng = np.random.default_rng(seed)
    ability = rng.normal(0.0, 1.0, n)
    degree = (ability_on_degree * ability + rng.normal(0.0, 1.0, n) > 0).astype(np.int64)
    log_pay = 9.8 + effect * degree + ability_on_pay * ability + rng.normal(0.0, 0.4, n)
    ks4 = ability + rng.normal(0.0, 0.5, n)
    df = pd.DataFrame({"person_id": np.arange(n, dtype=np.int64), "ability": ability, "ks4_score": ks4,
                       "degree": degree, "log_pay": log_pay})
    g = float(ability_on_degree)
    gap = 2.0 * g / math.sqrt(1.0 + g * g) * math.sqrt(2.0 / math.pi)
    return _truth(df, "effect of a degree on log pay", effect, "OLS of log_pay on degree alone",
                  effect + ability_on_pay * gap, ability_gap=gap)


def peer_loo(n_pools: int = 500, pool_size: int = 40, group_size: int = 10, seed: int = 0, *,
             peer_effect: float = 0.10, own_effect: float = 0.50) -> pd.DataFrame:
    """A leave-one-out peer mean with randomisation-pool fixed effects (Guryan, Kroft and Notowidigdo 2009).

    DGP: ``n_pools`` randomisation pools (e.g. a school's cohort) of ``pool_size`` people, each split at random
    into peer groups (e.g. classes, or coworkers) of ``group_size``. For person ``i`` in group ``c`` of pool
    ``p``::

        x_i       ~ N(0, 1)                                   (a pre-determined trait, e.g. prior attainment)
        peer_loo_i = mean of x over the other members of c    (leave-one-out peer mean)
        pool_loo_i = mean of x over the other members of p    (leave-one-out pool mean)
        y_i        = a_p + own_effect * x_i + peer_effect * peer_loo_i + u_i,   a_p ~ N(0, 1), u_i ~ N(0, 1)

    True effect: ``peer_effect`` (0.10 by default): the effect on ``y`` of the peers' mean ``x``.

    Naive estimator: OLS of ``y`` on ``peer_loo`` with pool fixed effects, without the person's own ``x``.
    Within a pool, a person's leave-one-out peer mean is mechanically *negatively* related to their own ``x``
    (the pool's total is fixed), so own ``x`` is an omitted variable even under random assignment. The naive
    coefficient converges to ``peer_effect - own_effect * (k - 1) / (N - k + 1)`` with ``k = group_size``,
    ``N = pool_size``: a bias of ``-0.5 * 9 / 31 = -0.145`` with the defaults (and a "balancing test" of own
    ``x`` on ``peer_loo`` finds ``-(k - 1) / (N - k + 1)`` instead of 0). The fix of Guryan et al. - add the
    leave-one-out pool mean ``pool_loo`` as a control - recovers ``peer_effect``.

    Columns: ``person_id``, ``pool``, ``group``, ``x``, ``peer_loo``, ``pool_loo``, ``y``.
    """
    if pool_size % group_size or group_size < 2:
        raise ValueError("pool_size must be a multiple of group_size (>= 2)")
    rng = np.random.default_rng(seed)
    n = n_pools * pool_size
    pool = np.repeat(np.arange(n_pools, dtype=np.int64), pool_size)
    # random assignment to groups within each pool
    slot = np.concatenate([rng.permutation(pool_size) for _ in range(n_pools)])
    group = pool * (pool_size // group_size) + slot // group_size
    x = rng.normal(0.0, 1.0, n)
    gsum = np.bincount(group, weights=x)
    psum = np.bincount(pool, weights=x)
    peer = (gsum[group] - x) / (group_size - 1)
    pool_loo = (psum[pool] - x) / (pool_size - 1)
    a = rng.normal(0.0, 1.0, n_pools)
    y = a[pool] + own_effect * x + peer_effect * peer + rng.normal(0.0, 1.0, n)
    df = pd.DataFrame({"person_id": np.arange(n, dtype=np.int64), "pool": pool, "group": group, "x": x,
                       "peer_loo": peer, "pool_loo": pool_loo, "y": y})
    k, N = group_size, pool_size
    balance = -(k - 1) / (N - k + 1)
    return _truth(df, "effect of the leave-one-out peer mean of x on y", peer_effect,
                  "OLS of y on peer_loo with pool fixed effects, without own x",
                  peer_effect + own_effect * balance, balancing_coefficient=balance)


def sharp_rd(n: int = 5000, seed: int = 0, *, effect: float = 0.20, cutoff: float = 0.0, slope: float = 0.80,
             curvature: float = 0.50) -> pd.DataFrame:
    """A sharp regression discontinuity: treatment for everyone at or above a cut-off of a running variable.

    DGP::

        running_i = U(-1, 1)                                  (e.g. a contextual-eligibility score)
        treated_i = 1[running_i >= cutoff]
        y_i       = 1 + slope * running_i + curvature * running_i^2 + effect * treated_i + u_i,  u_i ~ N(0, 0.3^2)

    True effect: ``effect`` (0.20 by default), the jump of ``E[y | running]`` at the cut-off.

    Naive estimator: the difference in mean ``y`` between treated and untreated. It converges to
    ``effect + slope + curvature * 2 * cutoff / 3`` (the treated have higher ``running``): a bias of ``0.80``
    with the defaults. A local-linear regression at the cut-off (e.g. ``rdrobust``) recovers ``effect``.

    Columns: ``person_id``, ``running``, ``treated``, ``y``.
    """
    if not -1.0 < cutoff < 1.0:
        raise ValueError("cutoff must lie inside the support of the running variable, (-1, 1)")
    rng = np.random.default_rng(seed)
    r = rng.uniform(-1.0, 1.0, n)
    d = (r >= cutoff).astype(np.int64)
    y = 1.0 + slope * r + curvature * r ** 2 + effect * d + rng.normal(0.0, 0.3, n)
    df = pd.DataFrame({"person_id": np.arange(n, dtype=np.int64), "running": r, "treated": d, "y": y})
    return _truth(df, "jump in E[y | running] at the cut-off", effect, "difference in mean y, treated - untreated",
                  effect + slope + curvature * 2.0 * cutoff / 3.0, cutoff=cutoff)


def fuzzy_rd(n: int = 20000, seed: int = 0, *, effect: float = 0.40, cutoff: float = 0.0, take_up_below: float = 0.10,
             take_up_above: float = 0.70, slope: float = 0.80, selection: float = 0.30) -> pd.DataFrame:
    """A fuzzy regression discontinuity: crossing the cut-off makes the treatment more likely, not certain.

    DGP::

        running_i  = U(-1, 1)                                 (e.g. a contextual-eligibility score)
        eligible_i = 1[running_i >= cutoff]
        v_i        = U(0, 1)                                  (reluctance to take the treatment up)
        treated_i  = 1[v_i < take_up_below + (take_up_above - take_up_below) * eligible_i]
        y_i        = 1 + slope * running_i + effect * treated_i + selection * (0.5 - v_i) + u_i,   u_i ~ N(0, 0.2^2)

    Take-up is selective: people who take the treatment up more readily (low ``v``) have higher ``y`` anyway, so a
    comparison of the treated with the untreated (even near the cut-off) is biased upwards.

    True effect: ``effect`` (0.40 by default), the effect of the treatment on those whom eligibility makes take it
    up at the cut-off (the local average treatment effect; with a constant effect it is also the average effect).

    Naive estimator: the sharp RD jump in ``y`` at the cut-off, reported as the effect of the treatment. It is the
    effect of *eligibility* (an intention-to-treat), ``effect * (take_up_above - take_up_below)``: 0.24 with the
    defaults, a bias of -0.16. The fuzzy RD - the jump in ``y`` divided by the jump in ``treated`` (``first_stage``,
    0.60 with the defaults), e.g. ``rdrobust(y, running, fuzzy=treated)`` - recovers ``effect``.

    Columns: ``person_id``, ``running``, ``eligible``, ``treated``, ``y``.
    """
    if not -1.0 < cutoff < 1.0:
        raise ValueError("cutoff must lie inside the support of the running variable, (-1, 1)")
    if not 0.0 <= take_up_below < take_up_above <= 1.0:
        raise ValueError("take-up probabilities must satisfy 0 <= take_up_below < take_up_above <= 1")
    rng = np.random.default_rng(seed)
    r = rng.uniform(-1.0, 1.0, n)
    eligible = (r >= cutoff).astype(np.int64)
    v = rng.uniform(0.0, 1.0, n)
    treated = (v < take_up_below + (take_up_above - take_up_below) * eligible).astype(np.int64)
    y = 1.0 + slope * r + effect * treated + selection * (0.5 - v) + rng.normal(0.0, 0.2, n)
    df = pd.DataFrame({"person_id": np.arange(n, dtype=np.int64), "running": r, "eligible": eligible,
                       "treated": treated, "y": y})
    first = take_up_above - take_up_below
    return _truth(df, "effect of the treatment on those whom eligibility makes take it up, at the cut-off", effect,
                  "sharp RD jump in y at the cut-off (the effect of eligibility)", effect * first, cutoff=cutoff,
                  first_stage=first)


#: Adoption period -> (effect in the first treated period, share of units) of :func:`staggered_did`;
#: the remaining units are never treated.
STAGGERED_COHORTS = {3: (0.50, 0.25), 5: (0.30, 0.25), 7: (0.10, 0.25)}


def staggered_did(n_units: int = 400, n_periods: int = 10, seed: int = 0, *, growth: float = 0.10) -> pd.DataFrame:
    """Staggered adoption with effects that differ by cohort and grow with time since adoption.

    DGP: a balanced panel of ``n_units`` units (e.g. providers) over periods ``t = 1..n_periods``. Units adopt at
    period ``g`` in {3, 5, 7} (a quarter each, :data:`STAGGERED_COHORTS`) or never (the last quarter)::

        y_it = unit_i + time_t + tau_{g,t} * 1[t >= g] + u_it,     unit_i ~ N(0, 1), time_t = 0.1 t, u ~ N(0, 0.5^2)
        tau_{g,t} = base_g + growth * (t - g),   base = 0.50, 0.30, 0.10 for g = 3, 5, 7

    Parallel trends and no anticipation hold by construction.

    True effect: the ATT, the mean of ``tau_{g,t}`` over the treated unit-periods (0.62 with the defaults;
    ``attrs["truth"]["truth"]`` gives it for the arguments given, and ``tau`` holds every unit-period's effect).

    Naive estimator: the static two-way fixed-effects regression ``y ~ treated | unit + period``. With effects
    that vary by cohort and time it weights the ``tau_{g,t}`` with weights that are not the treated shares (some
    negative: already-treated units serve as controls), so it converges to a different number, computed exactly
    from the design (``naive_estimand``; 0.35, a bias of -0.27 with the defaults). An estimator that compares
    each cohort-period only with not-yet- and never-treated units - e.g. the fully interacted regression
    ``y ~ i(cohort x period cells) | unit + period`` aggregated with treated-share weights - recovers the ATT.

    Columns: ``unit``, ``period``, ``cohort`` (adoption period, 0 = never), ``treated``, ``tau``, ``y``.
    """
    rng = np.random.default_rng(seed)
    shares = np.array([s for _, s in STAGGERED_COHORTS.values()])
    counts = np.floor(shares * n_units).astype(int)
    cohort_of_unit = np.concatenate([np.full(c, g) for g, c in zip(STAGGERED_COHORTS, counts)]
                                    + [np.zeros(n_units - counts.sum(), dtype=int)])
    cohort_of_unit = rng.permutation(cohort_of_unit)
    unit = np.repeat(np.arange(n_units, dtype=np.int64), n_periods)
    period = np.tile(np.arange(1, n_periods + 1, dtype=np.int64), n_units)
    g = cohort_of_unit[unit].astype(np.int64)
    treated = ((g > 0) & (period >= g)).astype(np.int64)
    base = np.array([STAGGERED_COHORTS.get(int(c), (0.0, 0.0))[0] for c in range(max(STAGGERED_COHORTS) + 1)])
    tau = np.where(treated == 1, base[g] + growth * (period - g), 0.0)
    alpha = rng.normal(0.0, 1.0, n_units)
    y = alpha[unit] + 0.1 * period + tau + rng.normal(0.0, 0.5, n_units * n_periods)
    df = pd.DataFrame({"unit": unit, "period": period, "cohort": g, "treated": treated, "tau": tau, "y": y})
    att = float(tau[treated == 1].mean())
    # static TWFE estimand: (residualised D)' tau / (residualised D)' D in the balanced panel (FWL)
    D = treated.astype(float).reshape(n_units, n_periods)
    Dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    twfe = float((Dt * tau.reshape(n_units, n_periods)).sum() / (Dt * D).sum())
    return _truth(df, "ATT: mean effect over treated unit-periods", att,
                  "static two-way fixed effects: y ~ treated | unit + period", twfe)


def akm_limited_mobility(n_workers: int = 1500, n_firms: int = 100, n_periods: int = 5, seed: int = 0, *,
                         move_prob: float = 0.08, sd_firm: float = 0.20, sd_worker: float = 0.40,
                         sorting: float = 0.30, sd_noise: float = 0.30) -> pd.DataFrame:
    """Worker and firm pay effects (AKM) estimated from few movers: the limited-mobility bias.

    DGP: ``n_workers`` workers over ``n_periods`` periods at ``n_firms`` firms. Each worker starts at a random
    firm and moves to a random other firm with probability ``move_prob`` each period (few movers: "limited
    mobility"). Firm effects ``psi_j ~ N(0, sd_firm^2)``; worker effects ``alpha_i = sorting * psi_(first firm)
    / sd_firm * sd_worker + sqrt(1 - sorting^2) * N(0, sd_worker^2)`` (better workers start at better firms)::

        log_pay_it = alpha_i + psi_j(i,t) + u_it,      u_it ~ N(0, sd_noise^2)

    Only the largest set of firms connected by movers is kept (firm effects are identified within it, up to a
    constant).

    True value: the variance of the firm effects over worker-periods, ``var(psi_j(i,t))`` (about
    ``sd_firm^2 = 0.04``; ``attrs["truth"]["truth"]`` gives it for the realised assignment: 0.040 with the
    defaults).

    Naive estimator: the variance of the estimated firm effects of the two-way fixed-effects (AKM) regression,
    ``log_pay ~ 1 | worker + firm``. Each estimated firm effect carries estimation noise, which few movers make
    large, so the plug-in variance is biased up by ``sd_noise^2 * trace(A (F'M F)^-1)`` (``A``: the
    worker-period variance operator on firm effects; ``F'M F``: the firm block of the normal equations after
    absorbing worker effects), computed exactly from the design (``naive_estimand``: a bias of 0.012, about
    30% of the truth, with the defaults, where about 450 of the 1,500 workers move). Subtracting that trace
    term with an estimate of ``sd_noise^2`` (Andrews, Gill, Schank and Upward 2008) recovers the truth.

    Columns: ``worker``, ``period``, ``firm``, ``alpha``, ``psi``, ``log_pay``.
    """
    rng = np.random.default_rng(seed)
    firm = np.empty((n_workers, n_periods), dtype=np.int64)
    firm[:, 0] = rng.integers(0, n_firms, n_workers)
    for t in range(1, n_periods):
        move = rng.random(n_workers) < move_prob
        other = (firm[:, t - 1] + rng.integers(1, n_firms, n_workers)) % n_firms
        firm[:, t] = np.where(move, other, firm[:, t - 1])
    psi_f = rng.normal(0.0, sd_firm, n_firms)
    alpha = (sorting * psi_f[firm[:, 0]] / sd_firm * sd_worker
             + math.sqrt(1.0 - sorting ** 2) * rng.normal(0.0, sd_worker, n_workers))
    worker = np.repeat(np.arange(n_workers, dtype=np.int64), n_periods)
    f = firm.ravel()
    psi = psi_f[f]
    y = alpha[worker] + psi + rng.normal(0.0, sd_noise, n_workers * n_periods)
    # largest connected set of firms (firms linked by a worker who moved between them)
    nxt = firm[:, 1:].ravel()
    prv = firm[:, :-1].ravel()
    adj = coo_matrix((np.ones(len(nxt)), (prv, nxt)), shape=(n_firms, n_firms))
    _, comp = connected_components(adj, directed=False)
    big = np.argmax(np.bincount(comp))
    keep = comp[f] == big
    df = pd.DataFrame({"worker": worker, "period": np.tile(np.arange(1, n_periods + 1), n_workers), "firm": f,
                       "alpha": alpha[worker], "psi": psi, "log_pay": y})[keep].reset_index(drop=True)
    truth = float(df["psi"].var(ddof=0))
    bias = sd_noise ** 2 * _akm_trace(df["worker"].to_numpy(), df["firm"].to_numpy())
    return _truth(df, "variance of firm effects over worker-periods", truth,
                  "variance of the estimated AKM firm effects (plug-in)", truth + bias,
                  n_movers=int(df.groupby("worker")["firm"].nunique().gt(1).sum()), noise_variance=sd_noise ** 2)


def _akm_trace(worker: np.ndarray, firm: np.ndarray) -> float:
    """``trace(A (F'MF)^-1)`` for the design: the noise in the plug-in variance of AKM firm effects per unit of
    noise variance (one firm normalised to 0, which leaves the variance unchanged)."""
    _, w = np.unique(worker, return_inverse=True)
    fl, f = np.unique(firm, return_inverse=True)
    n, J = len(f), len(fl)
    F = np.zeros((n, J))
    F[np.arange(n), f] = 1.0
    counts = np.bincount(w)
    sums = np.zeros((counts.size, J))
    np.add.at(sums, w, F)
    Fm = F - sums[w] / counts[w][:, None]  # F'MF = Fm'Fm (worker effects absorbed)
    G = (Fm.T @ Fm)[1:, 1:]
    Fc = F - F.mean(axis=0)
    A = (Fc.T @ Fc)[1:, 1:] / n
    return float(np.trace(np.linalg.solve(G, A)))
