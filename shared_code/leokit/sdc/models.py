"""Disclosure checks for regression models: :func:`check_model` and :func:`safe_coef_table`.

The model is read by :mod:`leokit.sdc.fitted` (statsmodels or pyfixest) and checked by the model rules of
:mod:`leokit.sdc.checks`: residual degrees of freedom, small cells behind dummies, small fixed-effect or
categorical levels.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from leokit.sdc.aggregate import as_list
from leokit.sdc.checks import dummy_cells, level_cells, residual_dof
from leokit.sdc.fitted import describe
from leokit.sdc.results import ModelCheck, coefficient_table, report_frame
from leokit.sdc.rounding import fmt_num
from leokit.sdc.rules import DEFAULT_RULES, SDCRules

__all__ = ["check_model", "safe_coef_table"]


def check_model(
    fitted: Any,
    data: pd.DataFrame | None = None,
    categorical: str | Sequence[str] | None = None,
    *,
    rules: SDCRules | None = None,
) -> ModelCheck:
    """Disclosure checks for a fitted regression model.

    Works for statsmodels results (OLS, WLS, GLM, Logit, Probit, ...) and
    pyfixest ``Feols`` / ``Fepois`` objects.  Checks:

    * residual degrees of freedom >= ``rules.dof_threshold``;
    * every 0/1 regressor (including formula dummies such as
      ``C(region)[T.North]``) has at least ``threshold`` observations equal to
      1 and to 0, and each factor's reference level has at least ``threshold``;
    * every other regressor has at least ``threshold`` observations whose value
      differs from its most common value (an indicator coded 0/2 or -1/+1 for
      one person would otherwise release that person's outcome: intercept plus
      coefficient is their fitted value);
    * every fixed-effect level (pyfixest) has at least ``threshold``
      observations;
    * with ``data`` and ``categorical`` (names of categorical regressors or
      fixed effects), every level of those columns in the estimation sample
      has at least ``threshold`` observations.

    Returns
    -------
    ModelCheck with ``.ok``, ``.report`` and ``.coef_table()``.
    """
    rules = rules or DEFAULT_RULES
    model = describe(fitted, data)
    level_checks = [(fe, "fixed-effect level") for fe in model.fixed_effects]
    level_checks += [(c, "categorical level") for c in as_list(categorical, "categorical")]
    dof = residual_dof(model.dof, model.nobs, rules)
    dummies = dummy_cells(model.X, model.names, rules)
    levels = level_cells(model.data, level_checks, model.names, rules)
    report = model.notes + dof.rows + dummies.rows + levels.rows
    flagged = list(dict.fromkeys(dummies.flagged + levels.flagged))
    global_fail = dof.failed
    ok = not global_fail and not flagged and not levels.failed
    rep = report_frame(report)
    n_fail = int((rep["action"] == "fail").sum())
    summary = (f"{'OK' if ok else 'FAIL'}: {n_fail} failed check{'s' if n_fail != 1 else ''}; "
               f"residual dof {fmt_num(model.dof)} {'<' if dof.failed else '>='} {rules.dof_threshold}")
    if flagged:
        summary += f"; small cells behind {', '.join(flagged)}"
    return ModelCheck(ok, rep, model.dof, model.nobs, flagged, global_fail, summary, rules, fitted)


def safe_coef_table(
    fitted: Any,
    data: pd.DataFrame | None = None,
    categorical: str | Sequence[str] | None = None,
    *,
    decimals: int = 3,
    rules: SDCRules | None = None,
    on_fail: str = "raise",
) -> pd.DataFrame:
    """Rounded coefficients and standard errors of a model that passes :func:`check_model`.

    ``on_fail="raise"`` (default) raises :class:`DisclosureError` when any
    check fails; ``on_fail="mark"`` returns the table with ``"c"`` for the
    coefficients resting on a small cell (all of them when the residual
    degrees of freedom are too few).  Small fixed-effect levels do not hide
    slope coefficients in "mark" mode (fixed-effect estimates are never in
    this table), but they make the check fail.  ``table.attrs["nobs"]`` is
    the number of observations rounded to ``rules.round_counts``.
    """
    chk = check_model(fitted, data, categorical, rules=rules)
    return chk.coef_table(decimals=decimals, on_fail=on_fail)
