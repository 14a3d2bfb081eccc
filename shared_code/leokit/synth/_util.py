"""Small vectorised helpers shared by the education-side generator modules."""

from __future__ import annotations

import numpy as np

_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype="S1")


def expit(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def zscore(x: np.ndarray, groups: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Standardise ``x`` to mean 0, SD 1 within ``groups``, using only rows in ``mask`` for the moments."""
    x = np.asarray(x, float)
    m = np.ones(len(x), bool) if mask is None else np.asarray(mask, bool)
    if groups is None:
        return (x - x[m].mean()) / x[m].std()
    g, inv = np.unique(groups, return_inverse=True)
    cnt = np.bincount(inv[m], minlength=len(g))
    s1 = np.bincount(inv[m], weights=x[m], minlength=len(g))
    s2 = np.bincount(inv[m], weights=x[m] ** 2, minlength=len(g))
    mu = s1 / np.maximum(cnt, 1)
    sd = np.sqrt(np.maximum(s2 / np.maximum(cnt, 1) - mu**2, 1e-12))
    return (x - mu[inv]) / sd[inv]


def random_codes(rng: np.random.Generator, n: int, length: int, prefix: str = "") -> np.ndarray:
    """``n`` distinct random upper-case alphanumeric codes (object array of str) of total ``length``.

    Draw all the codes a key space needs in one call, so they are distinct across persons.
    Distinctness is checked on the first 12 random characters (36^12 values).
    """
    body = length - len(prefix)
    w = min(body, 12)
    powers = 36 ** np.arange(w, dtype=np.int64)
    while True:
        idx = rng.integers(0, len(_ALNUM), size=(n, body), dtype=np.int8)
        key = idx[:, :w].astype(np.int64) @ powers
        if len(np.unique(key)) == n:
            break
    raw = _ALNUM[idx].view(f"S{body}").ravel()
    if prefix:
        raw = np.char.add(prefix.encode(), raw)
    return raw.astype(f"U{length}").astype(object)


def unique_ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` distinct random int64 in [lo, hi)."""
    out = np.unique(rng.integers(lo, hi, size=int(n * 1.05) + 10))
    while len(out) < n:
        out = np.unique(np.concatenate([out, rng.integers(lo, hi, size=n)]))
    return rng.permutation(out)[:n]


def blocks(sizes: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to ``sizes`` summing exactly to ``total`` (largest remainder)."""
    w = np.asarray(sizes, float)
    raw = w / w.sum() * total
    base = np.floor(raw).astype(np.int64)
    rem = total - base.sum()
    if rem > 0:
        order = np.argsort(-(raw - base), kind="stable")[:rem]
        base[order] += 1
    return base


def choice_within(rng: np.random.Generator, group: np.ndarray, members_sorted: np.ndarray,
                  starts: np.ndarray, counts: np.ndarray, cumw: np.ndarray | None = None) -> np.ndarray:
    """For each element of ``group``, draw one member of that group.

    ``members_sorted`` lists members sorted by group; ``starts``/``counts`` index each group's block.
    ``cumw`` (optional) is the cumulative weight within each block (ending at 1 per block).
    """
    u = rng.random(len(group))
    st, ct = starts[group], counts[group]
    if cumw is None:
        pos = st + np.minimum((u * ct).astype(np.int64), np.maximum(ct - 1, 0))
    else:
        # cumulative weight of the whole array, offset per block
        base = np.where(st > 0, cumw[st - 1], 0.0)
        span = cumw[st + ct - 1] - base
        target = base + u * span
        pos = np.searchsorted(cumw, target, side="right")
        pos = np.clip(pos, st, st + ct - 1)
    return members_sorted[pos]


def group_index(group_of_member: np.ndarray, n_groups: int):
    """(members sorted by group, starts, counts) for :func:`choice_within`."""
    order = np.argsort(group_of_member, kind="stable")
    counts = np.bincount(group_of_member, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts, counts


def loo_mean(value: np.ndarray, group: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Leave-one-out mean of ``value`` over rows with ``use`` in the same ``group`` (NaN if none)."""
    g, inv = np.unique(group, return_inverse=True)
    v = np.where(use, value, 0.0)
    s = np.bincount(inv, weights=v, minlength=len(g))
    c = np.bincount(inv, weights=use.astype(float), minlength=len(g))
    num = s[inv] - v
    den = c[inv] - use
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def local_linear_at(x, y, c: float, h: float, min_n: int = 0) -> tuple[float, int, float, float]:
    """Local-linear (triangular kernel) estimate of E[y | x = c] from both sides of ``c``.

    The bandwidth is ``h``, widened (up to the whole range of ``x``) until at least ``min_n``
    observations fall inside the window. Returns ``(estimate, n, se, bandwidth)`` with ``n`` the
    observations inside the window and ``se`` a heteroskedasticity-robust (sandwich) standard error;
    NaN if fewer than two distinct ``x`` values fall inside. Used for the realised truth at a cut-off,
    where ``y`` is a potential-outcome difference that is continuous in ``x``.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    nan = (float("nan"), 0, float("nan"), float(h))
    if len(x) == 0:
        return nan
    dist = np.abs(x - c)
    if min_n and (dist < h).sum() < min_n:
        h = float(np.sort(dist)[min(min_n, len(dist)) - 1]) * 1.0001 + 1e-9
    w = np.clip(1.0 - dist / h, 0.0, None)
    inside = w > 0
    n = int(inside.sum())
    if n < 2 or len(np.unique(x[inside])) < 2:
        return (float("nan"), n, float("nan"), float(h))
    d = x[inside] - c
    ww, yy = w[inside], y[inside]
    X = np.column_stack([np.ones(n), d])
    xtwx = X.T @ (X * ww[:, None])
    if np.linalg.det(xtwx) <= 0:
        return (float("nan"), n, float("nan"), float(h))
    inv = np.linalg.inv(xtwx)
    beta = inv @ (X.T @ (ww * yy))
    e = yy - X @ beta
    meat = X.T @ (X * ((ww * e) ** 2)[:, None])
    se = float(np.sqrt(max((inv @ meat @ inv)[0, 0], 0.0)))
    return float(beta[0]), n, se, float(h)


def acadyr(end_year) -> np.ndarray:
    """'2009/2010' strings for academic years ending in ``end_year``."""
    e = np.asarray(end_year, dtype=np.int64)
    lut = {int(y): f"{y - 1}/{y}" for y in np.unique(e)}
    return np.array([lut[int(y)] for y in e], dtype=object) if len(lut) > 1 else np.full(len(e), lut[int(e[0])] if len(e) else "", dtype=object)


def take_str(codes: np.ndarray, idx: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    out = np.asarray(codes, dtype=object)[idx]
    if missing is not None and missing.any():
        out = out.copy()
        out[missing] = None
    return out


def dates(year, month, day) -> np.ndarray:
    """datetime64[D] from integer arrays."""
    y = np.asarray(year, np.int64)
    m = np.asarray(month, np.int64)
    d = np.asarray(day, np.int64)
    ym = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return ym.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")
