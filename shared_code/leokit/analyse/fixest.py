"""pyfixest, guarded: fixed-effects regressions that cannot crash a notebook or litter it with warnings.

:func:`feols` calls :func:`pyfixest.feols` after checking the sample, because pyfixest (0.60) can abort the
whole Python process - a notebook's kernel - on a degenerate sample: a small sample with many fixed-effect
levels, mostly singletons (a Rust panic in its demeaning code). The checks, each with an error that names
the problem:

* every column the formula uses exists (a did-you-mean hint otherwise);
* after dropping rows with a missing value in those columns and, repeatedly, singleton fixed-effect levels
  (as pyfixest does), enough rows remain: more than the number of fixed-effect levels plus regressors plus
  ``min_dof`` (default 10, the SRS rule for residual degrees of freedom);
* each fixed effect has at least two levels left.

It also imports pyfixest without its side effect on logging and silences only pyfixest's own pandas
``Pandas4Warning`` (a DeprecationWarning about ``inplace``) and its note on dropped singletons, so nothing
reaches the notebook output.
"""

from __future__ import annotations

import difflib
import re
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pandas as pd

__all__ = ["FixestSampleError", "feols", "import_pyfixest", "quiet_pyfixest", "formula_columns"]


class FixestSampleError(ValueError):
    """A sample on which pyfixest should not be called (names the problem)."""


def import_pyfixest():
    """Import pyfixest without its side effect on logging: one of its modules calls
    ``logging.basicConfig(level=logging.INFO)`` on import, which would make every library's INFO log (leokit's
    match reports included) print in notebooks. The root logger's handlers and level are restored."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import pyfixest as pf
    import pyfixest.estimation.models.feols_compressed_  # noqa: F401  (the module that configures logging)

    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    return pf


@contextmanager
def quiet_pyfixest() -> Iterator[None]:
    """Silence only pyfixest's own pandas Pandas4Warning (a DeprecationWarning about ``inplace``) and its
    UserWarning that singleton fixed effects were dropped (the guard has already counted them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*singleton.*", category=UserWarning, module="pyfixest")
        yield


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_FUNCS = {"i", "C", "I", "np", "log", "exp", "center", "scale", "ref", "poly", "sw", "csw", "sw0", "csw0", "mvsw"}


def formula_columns(fml: str) -> tuple[list[str], list[str], list[str]]:
    """(dependent variables, regressor columns, fixed-effect columns) named in a pyfixest formula
    ``"y ~ x1 + x2 | fe1 + fe2"`` (interacted fixed effects ``a^b`` give both columns)."""
    if "~" not in fml:
        raise FixestSampleError(f"feols: formula {fml!r} has no '~'")
    lhs, rhs = fml.split("~", 1)
    parts = rhs.split("|")
    if len(parts) > 2:
        raise FixestSampleError("feols: instrumental-variable formulas are not supported by the guard")
    def names(s: str) -> list[str]:
        toks = [t for t in _TOKEN.findall(s) if t not in _FUNCS and not re.fullmatch(r"\d+", t)]
        # drop keyword arguments such as ref=...
        return list(dict.fromkeys(t for t in toks if not re.search(rf"\b{re.escape(t)}\s*=", s)))
    y = names(lhs)
    x = [] if parts[0].strip() in ("1", "0", "") else names(parts[0])
    fe = names(parts[1].replace("^", "+")) if len(parts) == 2 and parts[1].strip() != "0" else []
    return y, x, fe


def _did_you_mean(name: str, cols: Any) -> str:
    hits = difflib.get_close_matches(name, [str(c) for c in cols], n=3)
    return f" (did you mean {hits}?)" if hits else ""


def feols(fml: str, data: pd.DataFrame, *, vcov: Any = "iid", min_dof: int = 10, **kwargs: Any):
    """:func:`pyfixest.feols` with the checks in this module's docstring; the fit is returned unchanged."""
    if not isinstance(data, pd.DataFrame):
        raise FixestSampleError(f"feols: expected a pandas DataFrame, got {type(data).__name__}")
    y, x, fe = formula_columns(fml)
    cluster = list(vcov.values()) if isinstance(vcov, dict) else []
    need = list(dict.fromkeys(y + x + fe + [c for c in cluster if isinstance(c, str)]))
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise FixestSampleError(f"feols: no column(s) {missing} in the data" + _did_you_mean(missing[0], data.columns))
    d = data[need].dropna()
    if len(d) == 0:
        raise FixestSampleError(f"feols: no rows without a missing value in {need}")
    keep = np.ones(len(d), bool)
    codes = [pd.factorize(d[c])[0] for c in fe]
    while fe:
        bad = np.zeros(len(d), bool)
        for c in codes:
            cnt = np.bincount(c[keep], minlength=c.max() + 1)
            bad |= keep & (cnt[c] == 1)
        if not bad.any():
            break
        keep &= ~bad
    n = int(keep.sum())
    levels = [len(np.unique(c[keep])) for c in codes]
    for c, nl in zip(fe, levels):
        if nl < 2:
            raise FixestSampleError(f"feols: fixed effect {c!r} has {nl} level(s) after dropping singletons "
                                    f"({n} rows left); it cannot be estimated on this sample")
    k = len(x) + 1
    if n <= sum(levels) + k + min_dof:
        raise FixestSampleError(f"feols: {n} rows (after dropping missing values and singletons) are too few for "
                                f"{sum(levels)} fixed-effect levels and {k} coefficients with at least {min_dof} "
                                "residual degrees of freedom")
    pf = import_pyfixest()
    with quiet_pyfixest():
        return pf.feols(fml, data=data, vcov=vcov, **kwargs)


def coef_table(fits: "dict[str, Any]", coef: "str | dict[str, str]", *, decimals: int = 3,
               rules: Any = None) -> pd.DataFrame:
    """One coefficient from each of several fits, as a table fit for release: one row per fit (the dict's keys),
    with the estimate, its standard error and 95% interval rounded to ``decimals``, and the number of
    observations rounded to ``rules.round_counts``.

    ``fits``: pyfixest fits and/or :class:`leokit.analyse.akm.TwoWayFit` objects. ``coef``: the coefficient's
    name, or a dict from the fit's key to its coefficient (when the regressor differs between fits). Each fit is
    checked as an output checker would (:func:`leokit.sdc.check_model` for pyfixest: residual degrees of
    freedom and small cells behind dummies; the residual degrees of freedom for two-way fits); a coefficient
    that fails is shown as the suppression symbol. Fixed-effect estimates are never shown.
    """
    from leokit import sdc
    from leokit.analyse.akm import TwoWayFit

    rules = rules or sdc.DEFAULT_RULES
    rows = []
    for name, fit in fits.items():
        c = coef[name] if isinstance(coef, dict) else coef
        if isinstance(fit, TwoWayFit):
            ok = fit.df_resid >= rules.dof_threshold
            est, se, lo, hi, n = fit.coef[c], fit.se[c], fit.ci_low[c], fit.ci_high[c], fit.nobs
        else:
            chk = sdc.check_model(fit, rules=rules)
            ok = not chk.global_fail and c not in chk.flagged_terms
            ci = fit.confint()
            est, se, lo, hi, n = fit.coef()[c], fit.se()[c], ci.loc[c].iloc[0], ci.loc[c].iloc[1], fit._N
        vals = [round(float(v), decimals) if ok else rules.suppressed_symbol for v in (est, se, lo, hi)]
        rows.append([name, c, *vals, int(sdc.round_to(n, rules.round_counts))])
    out = pd.DataFrame(rows, columns=["specification", "coefficient", "estimate", "se", "ci_low", "ci_high",
                                      "observations"]).set_index("specification")
    out.attrs["sdc"] = f"estimates rounded to {decimals} places; observations rounded to {rules.round_counts}"
    return out
