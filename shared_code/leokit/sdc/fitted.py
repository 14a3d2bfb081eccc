"""Reading a fitted model: what the model checks need from a statsmodels or pyfixest result.

:func:`describe` returns the estimation sample size, the residual degrees of freedom, the coefficient names,
the design matrix (0/1 columns are the dummies the checks count) and the fixed effects;
:func:`coefficients` the estimates and standard errors. Nothing here applies a rule
(:mod:`leokit.sdc.checks` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.checks import CAT_TERM

__all__ = ["FittedModel", "is_pyfixest", "is_statsmodels", "describe", "coefficients"]


def is_pyfixest(fitted: Any) -> bool:
    return hasattr(fitted, "_N") and hasattr(fitted, "_coefnames") and callable(getattr(fitted, "coef", None))


def is_statsmodels(fitted: Any) -> bool:
    return hasattr(fitted, "df_resid") and hasattr(fitted, "model") and hasattr(fitted, "params")


@dataclass
class FittedModel:
    """What :func:`describe` reads off a fitted model (``notes``: report rows about the data given)."""

    kind: str
    nobs: int
    dof: float
    names: list[str]
    X: np.ndarray
    data: pd.DataFrame | None
    fixed_effects: list[str] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


def describe(fitted: Any, data: pd.DataFrame | None = None) -> FittedModel:
    """The estimation facts of ``fitted`` (statsmodels results or pyfixest ``Feols``/``Fepois``).

    ``data``: the estimation data; for statsmodels it is aligned to the estimation sample by the model's row
    labels when possible, for pyfixest the model's own sample is used when ``data`` has another length.
    """
    notes: list[dict] = []
    fixed_effects: list[str] = []
    if is_pyfixest(fitted):
        kind = "pyfixest"
        nobs = int(fitted._N)
        k_fe = getattr(fitted, "_k_fe", None)
        n_fe = int(getattr(fitted, "_n_fe", 0) or 0)
        absorbed = 0
        if k_fe is not None and n_fe > 0:
            absorbed = int(np.asarray(k_fe).sum()) - (n_fe - 1)
        dof = float(nobs - int(fitted._k) - absorbed)
        names = [str(c) for c in fitted._coefnames]
        est = getattr(fitted, "_data", None)
        if data is None:
            data = est
        elif est is not None and len(data) != nobs:
            notes.append(dict(cell="(model)", statistic="", rule="note", action="check",
                              detail=f"data has {len(data)} rows but the model used {nobs}; counts use the "
                                     "model's own estimation sample"))
            data = est
        cols = []
        for nm in names:
            col = None
            if data is not None and nm in data.columns and pd.api.types.is_numeric_dtype(data[nm].dtype):
                col = data[nm].to_numpy(dtype="float64")
            else:
                m = CAT_TERM.match(nm)
                if data is not None and m and m.group("var").strip() in data.columns:
                    col = (data[m.group("var").strip()].astype(str) == m.group("level")).to_numpy(dtype="float64")
            cols.append(col if col is not None else np.full(nobs, np.nan))
        X = np.column_stack(cols) if cols else np.zeros((nobs, 0))
        fixef = getattr(fitted, "_fixef", None)
        if fixef and fixef != "0":
            fixed_effects = [fe.strip() for fe in str(fixef).split("+")]
    elif is_statsmodels(fitted):
        kind = "statsmodels"
        nobs = int(round(float(fitted.nobs)))
        dof = float(fitted.df_resid)
        names = [str(c) for c in fitted.model.exog_names]
        X = np.asarray(fitted.model.exog, dtype="float64")
        if data is not None:
            row_labels = getattr(getattr(fitted.model, "data", None), "row_labels", None)
            if row_labels is not None and len(row_labels) == nobs and pd.Index(row_labels).isin(data.index).all():
                data = data.loc[row_labels]
            elif len(data) != nobs:
                notes.append(dict(cell="(model)", statistic="", rule="note", action="check",
                                  detail=f"data has {len(data)} rows but the model used {nobs}; could not align "
                                         "to the estimation sample, counting on all rows of data"))
    else:
        raise SDCInputError(
            f"check_model expects a fitted statsmodels results object or a pyfixest Feols object, "
            f"got {type(fitted).__name__}"
        )
    return FittedModel(kind, nobs, dof, names, X, data, fixed_effects, notes)


def coefficients(fitted: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(terms, estimates, standard errors) of a fitted statsmodels or pyfixest model."""
    if is_pyfixest(fitted):
        params = fitted.coef()
        bse = fitted.se()
        terms = [str(t) for t in params.index]
        coef = params.to_numpy(dtype="float64")
        se = bse.reindex(params.index).to_numpy(dtype="float64")
    else:
        names = [str(c) for c in fitted.model.exog_names]
        coef = np.asarray(fitted.params, dtype="float64").ravel()
        se = np.asarray(fitted.bse, dtype="float64").ravel()
        params = fitted.params
        terms = [str(t) for t in params.index] if isinstance(params, pd.Series) else names
    return terms, coef, se
