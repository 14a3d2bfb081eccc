"""Returns to a degree under selection on observables: regression adjustment, control blocks, Oster bounds.

The estimators of the returns-to-a-degree exemplar, written for any binary treatment ``D`` (a first degree)
whose effect on an outcome ``y`` (the log PAYE pay rate at 29) is identified by *selection on observables*:
conditional on the controls ``X`` (prior attainment, FSM, area, school ...), who takes the treatment is as
good as random. Under that assumption, and with the comparison group's outcome modelled as linear in ``X``:

* :func:`att_regression` - the **average effect on the treated (ATT)**, by group (e.g. by sex), by
  *regression adjustment*: ``y`` on the treatment interacted with the controls, the controls centred at the
  treated group's means, so the coefficient on each group's treatment indicator is that group's ATT
  [Kline2011] [ImbensWooldridge2009]. With effects that differ across people (by subject, by provider), a
  regression with a single treatment dummy and additive controls estimates a variance-weighted average of
  the effects instead, which differs from the ATT when the effects vary with the controls. Optional
  *effect modifiers* (subject group, provider tariff group) add, for the treated, contrasts between their
  levels (an additive model of how the effect varies), still centred so that the group coefficients stay
  ATTs. School (or any) fixed effects and clustered standard errors come from pyfixest [pyfixest].
* :func:`control_path` - the same treatment coefficient as blocks of controls are added (plain OLS with
  additive controls, then fixed effects): how much of the raw gap each block explains. Large movements are
  the warning sign that what is *not* observed may matter too.
* :func:`oster_inputs`, :func:`oster_beta`, :func:`oster_delta` - Oster's bounds [Oster2019]: how large
  would selection on unobservables have to be, relative to selection on the observed controls, to explain
  the estimate away (``delta`` for a zero effect), and what the estimate would be if it were as large
  (``delta = 1``), given a bound ``R_max`` on the R-squared a regression on *all* relevant variables could
  reach. Oster's rule of thumb is ``R_max = 1.3 x`` the R-squared with the observed controls.
* :func:`control_matrix` - the controls as numeric columns: numeric variables, squares, dummies of
  categorical variables, and the missing-indicator treatment of a partly missing control.

No well-kept Python package implements Oster's bounds (Stata's ``psacalc`` and R's ``robomit``/``bate`` do);
the formulas here are Oster's Proposition 2 and her approximation, and are tested on simulated data that
satisfy her assumptions exactly.

pyfixest is imported on first use with its logging side effect undone, only its own pandas deprecation
warning is filtered, and every sample is checked before pyfixest sees it (it can abort the Python process
on degenerate samples).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from leokit import sdc
from leokit.analyse.results import Estimate

__all__ = ["ReturnsInputError", "Controls", "control_matrix", "ATTResult", "att_regression", "control_path",
           "OsterInputs", "oster_inputs", "oster_beta", "oster_beta_approx", "oster_delta", "oster_table"]


class ReturnsInputError(ValueError):
    """Bad input to a returns helper: names the column (or argument) and what was expected."""


# ----------------------------------------------------------------------------------------------
# plumbing
# ----------------------------------------------------------------------------------------------
def _pyfixest():
    from leokit.analyse.event_study import _import_pyfixest

    return _import_pyfixest()


def _feols(pf, formula: str, data: pd.DataFrame, vcov):
    """pyfixest.feols with only pyfixest's own pandas deprecation warning silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace.*", category=DeprecationWarning)
        return pf.feols(formula, data=data, vcov=vcov)


def _as_list(x, what: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    out = list(x)
    if not all(isinstance(c, str) for c in out):
        raise ReturnsInputError(f"{what}: expected column names (strings), got {out!r}")
    return out


def _check_frame(data: Any, cols: Iterable[str], fn: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ReturnsInputError(f"{fn}: expected a pandas DataFrame, got {type(data).__name__}")
    cols = list(dict.fromkeys(cols))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        import difflib

        hints = {c: difflib.get_close_matches(c, [str(k) for k in data.columns], n=1) for c in missing}
        hint = "; ".join(f"{c!r}: did you mean {h[0]!r}?" for c, h in hints.items() if h)
        raise ReturnsInputError(f"{fn}: no column(s) {missing} in the data" + (f" ({hint})" if hint else ""))
    return data


def _numeric(data: pd.DataFrame, col: str, fn: str, *, allow_missing: bool = False) -> np.ndarray:
    s = data[col]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        ex = list(pd.unique(s.dropna().astype(str)))[:3]
        raise ReturnsInputError(f"{fn}: column {col!r} must be numeric, found {s.dtype} (e.g. {ex})")
    v = s.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    if not allow_missing and np.isnan(v).any():
        raise ReturnsInputError(f"{fn}: column {col!r} has {int(np.isnan(v).sum()):,} missing values; drop those rows "
                                "or give the column to control_matrix(fill_missing=...)")
    if np.isinf(v).any():
        raise ReturnsInputError(f"{fn}: column {col!r} has infinite values (log of 0?)")
    return v


def _treatment(data: pd.DataFrame, col: str, fn: str) -> np.ndarray:
    v = _numeric(data, col, fn)
    if not np.isin(v, [0.0, 1.0]).all():
        bad = pd.unique(v[~np.isin(v, [0.0, 1.0])])[:3]
        raise ReturnsInputError(f"{fn}: treatment {col!r} must be 0/1, found values such as {list(bad)}")
    return v


_NAME = re.compile(r"[^0-9A-Za-z_]+")


def _safe_name(*parts: Any) -> str:
    s = "_".join(_NAME.sub("_", str(p)).strip("_") for p in parts)
    return ("v_" + s) if (not s or s[0].isdigit()) else s


# ----------------------------------------------------------------------------------------------
# controls
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Controls:
    """Numeric control columns (``frame``, float64, aligned with the input rows) and, for each input
    variable, the columns made from it (``sources``)."""

    frame: pd.DataFrame
    sources: dict[str, tuple[str, ...]]

    @property
    def names(self) -> list[str]:
        """Every control column, in order."""
        return list(self.frame.columns)

    def columns(self, *variables: str) -> list[str]:
        """The columns made from ``variables`` (input variable names), in order."""
        out: list[str] = []
        for v in variables:
            if v not in self.sources:
                raise ReturnsInputError(f"Controls.columns: no control made from {v!r}; made from "
                                        f"{list(self.sources)}")
            out += list(self.sources[v])
        return out


def control_matrix(data: pd.DataFrame, *, numeric: Sequence[str] = (), fill_missing: Sequence[str] = (),
                   squared: Sequence[str] = (), categorical: Sequence[str] = (),
                   missing_label: str = "missing") -> Controls:
    """Controls as numeric columns, one row per row of ``data`` (same index).

    * ``numeric``: used as they are (must be numeric and complete).
    * ``fill_missing``: numeric variables that are missing for some rows: the missing values are set to the
      mean of the observed ones and an indicator ``<name>_missing`` is added (the *missing-indicator method*:
      the rows are kept and the indicator absorbs the average difference of those rows; it is not a model of
      why the value is missing - say how many rows it concerns).
    * ``squared``: add ``<name>_sq``, the square of a ``numeric`` or ``fill_missing`` variable (after filling).
    * ``categorical``: one 0/1 column per level except the first (levels sorted as text; a missing value is
      its own level, ``missing_label``), named ``<name>_<level>``.

    Column names are safe in formulas (letters, digits, ``_``). Raises :class:`ReturnsInputError` for a
    missing or non-numeric column, missing values in a ``numeric`` variable, a squared variable that is not
    numeric, or a variable given twice.
    """
    fn = "control_matrix"
    numeric, fill_missing = _as_list(numeric, fn), _as_list(fill_missing, fn)
    squared, categorical = _as_list(squared, fn), _as_list(categorical, fn)
    every = numeric + fill_missing + categorical
    dup = sorted({c for c in every if every.count(c) > 1})
    if dup:
        raise ReturnsInputError(f"{fn}: variable(s) {dup} given twice (numeric, fill_missing and categorical "
                                "are exclusive)")
    bad_sq = [c for c in squared if c not in numeric + fill_missing]
    if bad_sq:
        raise ReturnsInputError(f"{fn}: squared variable(s) {bad_sq} must also be in numeric or fill_missing")
    _check_frame(data, every, fn)
    cols: dict[str, np.ndarray] = {}
    sources: dict[str, tuple[str, ...]] = {}

    def add(src: str, name: str, values: np.ndarray) -> None:
        name = _safe_name(name)
        if name in cols:
            raise ReturnsInputError(f"{fn}: two controls would both be called {name!r}; rename a column")
        cols[name] = values
        sources[src] = sources.get(src, ()) + (name,)

    filled: dict[str, np.ndarray] = {}
    for c in numeric:
        filled[c] = _numeric(data, c, fn)
        add(c, c, filled[c])
    for c in fill_missing:
        v = _numeric(data, c, fn, allow_missing=True)
        miss = np.isnan(v)
        if miss.all():
            raise ReturnsInputError(f"{fn}: column {c!r} is missing for every row")
        filled[c] = np.where(miss, float(np.nanmean(v)), v)
        add(c, c, filled[c])
        if miss.any():
            add(c, f"{c}_missing", miss.astype("float64"))
    for c in squared:
        add(c, f"{c}_sq", filled[c] ** 2)
    for c in categorical:
        lab = data[c].astype("string").fillna(missing_label).to_numpy(dtype=object)
        levels = sorted(pd.unique(lab), key=str)
        if len(levels) < 2:
            raise ReturnsInputError(f"{fn}: categorical {c!r} has a single level ({levels}); drop it")
        for lev in levels[1:]:
            add(c, f"{c}_{lev}", (lab == lev).astype("float64"))
    frame = pd.DataFrame(cols, index=data.index)
    return Controls(frame=frame, sources=sources)


# ----------------------------------------------------------------------------------------------
# ATT by regression adjustment
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ATTResult:
    """Result of :func:`att_regression`.

    ``groups``: one row per treated group (index: the group label; ``"all"`` without ``by``): ``estimate``
    (the ATT), ``se``, ``ci_low``, ``ci_high`` (t-based, the model's own, e.g. clustered), ``n_treated``,
    ``n_comparison``. ``contrasts``: one row per non-reference level of each effect modifier: the difference in
    the effect between that level and the reference level (``modifier``, ``level``, ``reference``, ``estimate``,
    ``se``, ``ci_low``, ``ci_high``, ``n_treated``). Counts here are exact: show them through :meth:`table` /
    :meth:`contrast_table`, which round them and check the model for release.
    """

    outcome: str
    treatment: str
    by: str | None
    groups: pd.DataFrame
    contrasts: pd.DataFrame
    n_obs: int
    level: float
    fe: str | None
    cluster: str | None
    fit: Any = field(default=None, repr=False)
    data: pd.DataFrame | None = field(default=None, repr=False)

    def estimate(self, group: Any = "all", name: str | None = None, truth_key: str | None = None) -> Estimate:
        """The ATT of ``group`` as a :class:`leokit.analyse.results.Estimate` (the model's own interval)."""
        if group not in self.groups.index:
            raise KeyError(f"ATTResult.estimate: no group {group!r}; groups are {list(self.groups.index)}")
        r = self.groups.loc[group]
        return Estimate(name=name or f"att_{group}", estimate=r["estimate"], se=r["se"], truth_key=truth_key,
                        ci_low=r["ci_low"], ci_high=r["ci_high"], level=self.level)

    def contrast(self, modifier: str, level: Any, name: str | None = None, truth_key: str | None = None) -> Estimate:
        """The contrast ``level`` minus reference of ``modifier`` as an :class:`Estimate`."""
        hit = self.contrasts[(self.contrasts["modifier"] == modifier) & (self.contrasts["level"] == str(level))]
        if hit.empty:
            raise KeyError(f"ATTResult.contrast: no contrast {modifier}={level!r}; have "
                           f"{list(zip(self.contrasts['modifier'], self.contrasts['level']))}")
        r = hit.iloc[0]
        return Estimate(name=name or f"{modifier}_{level}", estimate=r["estimate"], se=r["se"], truth_key=truth_key,
                        ci_low=r["ci_low"], ci_high=r["ci_high"], level=self.level)

    def check(self, rules: sdc.SDCRules | None = None) -> sdc.ModelCheck:
        """Disclosure checks of the fitted model (:func:`leokit.sdc.check_model`: residual degrees of freedom,
        small cells behind 0/1 regressors, fixed-effect levels)."""
        return sdc.check_model(self.fit, self.data, rules=rules)

    def table(self, *, decimals: int = 3, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
        """The ATTs for release: estimates rounded, counts rounded (``rules.round_counts``) and the model's
        disclosure check. Raises :class:`leokit.sdc.DisclosureError` if a count behind an estimate is below
        the threshold or the model fails its residual-dof check."""
        rules = rules or sdc.DEFAULT_RULES
        chk = self.check(rules)
        small = self.groups[(self.groups["n_treated"] < rules.threshold) | (self.groups["n_comparison"] < rules.threshold)]
        if chk.global_fail or len(small):
            raise sdc.DisclosureError(f"ATT table not releasable: {chk.summary}"
                                      + (f"; groups with fewer than {rules.threshold} treated or comparison "
                                         f"observations: {list(small.index)}" if len(small) else ""))
        return _release(self.groups, decimals, rules, ["n_treated", "n_comparison"])

    def contrast_table(self, *, decimals: int = 3, rules: sdc.SDCRules | None = None) -> pd.DataFrame:
        """The effect-modifier contrasts for release (as :meth:`table`)."""
        rules = rules or sdc.DEFAULT_RULES
        small = self.contrasts[self.contrasts["n_treated"] < rules.threshold]
        if len(small):
            raise sdc.DisclosureError(f"contrast table not releasable: levels with fewer than {rules.threshold} "
                                      f"treated observations: {list(zip(small['modifier'], small['level']))}")
        t = self.contrasts.set_index(["modifier", "level"])
        return _release(t, decimals, rules, ["n_treated"])


def _release(frame: pd.DataFrame, decimals: int, rules: sdc.SDCRules, counts: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for c in ("estimate", "se", "ci_low", "ci_high"):
        out[c] = out[c].astype("float64").round(decimals)
    for c in counts:
        out[c] = sdc.round_to(out[c].to_numpy(dtype="float64"), rules.round_counts).astype("int64")
    return out


def _vcov(cluster: str | None):
    return {"CRV1": cluster} if cluster else "hetero"


def _check_fe_sample(d: pd.DataFrame, n_params: int, fe: str | Sequence[str] | None, fn: str) -> None:
    """Refuse samples on which the fit would be degenerate (pyfixest can abort on them)."""
    n = len(d)
    fes = _as_list(fe, fn)
    n_fe = sum(int(d[f].nunique()) for f in fes)
    dof = n - n_params - n_fe
    if dof < 10:
        raise ReturnsInputError(f"{fn}: {n:,} observations are too few for {n_params} regressors"
                                + (f" and {n_fe:,} fixed-effect levels ({', '.join(fes)})" if fes else "")
                                + f" (residual degrees of freedom {dof} < 10)")


def att_regression(data: pd.DataFrame, outcome: str, treatment: str, controls: Sequence[str], *,
                   by: str | None = None, modifiers: Sequence[str] = (), reference: Mapping[str, Any] | None = None,
                   fe: str | None = None, cluster: str | None = None, level: float = 0.95) -> ATTResult:
    """The average effect of ``treatment`` on the treated, by group, by regression adjustment.

    The model, for groups ``g`` of ``by`` (e.g. sex), controls ``X`` (numeric columns, e.g. from
    :func:`control_matrix`) and effect modifiers ``M`` (categorical columns defined for the treated)::

        y = a_g + X b_g                                  comparison outcome, by group
            + sum_g D_g [ t_g + (X - Xbar_g) d_g ]       treatment effect of group g, varying with X
            + D (Mdummies - Mbar_g) c                    effect modifiers (contrasts, common to the groups)
            + fixed effect (fe) + error

    where ``D_g`` = treated in group ``g`` and ``Xbar_g``, ``Mbar_g`` are the means over the treated of group
    ``g``. Averaged over those treated the centred terms are zero, so ``t_g`` is the ATT of group ``g`` under
    selection on observables (and linearity of the comparison outcome in ``X`` within ``g``); ``c`` holds the
    differences in the effect between each level of a modifier and its reference (``reference={modifier:
    level}``, default the first level sorted as text). Standard errors are clustered by ``cluster``
    (heteroskedasticity-robust without it) and treat ``Xbar_g`` as fixed (the ATT over the sample's treated).

    Rows with a missing outcome, treatment, control, group or cluster raise an error (select the sample
    first); a treated row with a missing modifier raises too. Returns an :class:`ATTResult`.
    """
    fn = "att_regression"
    controls = _as_list(controls, fn)
    modifiers = _as_list(modifiers, fn)
    reference = dict(reference or {})
    if not 0 < level < 1:
        raise ReturnsInputError(f"{fn}: level must be in (0, 1), got {level!r}")
    need = [outcome, treatment, *controls, *modifiers] + [c for c in (by, fe, cluster) if c]
    _check_frame(data, need, fn)
    y = _numeric(data, outcome, fn)
    D = _treatment(data, treatment, fn)
    X = np.column_stack([_numeric(data, c, fn) for c in controls]) if controls else np.zeros((len(data), 0))
    for c in [c for c in (by, fe, cluster) if c]:
        if data[c].isna().any():
            raise ReturnsInputError(f"{fn}: column {c!r} has {int(data[c].isna().sum()):,} missing values; "
                                    "drop those rows first")
    glab = data[by].astype(str).to_numpy(dtype=object) if by else np.full(len(data), "all", dtype=object)
    groups = sorted(pd.unique(glab), key=str)
    cols: dict[str, np.ndarray] = {}
    names = {}
    for j, g in enumerate(groups):
        in_g = glab == g
        t = (D == 1) & in_g
        n_t, n_c = int(t.sum()), int(((D == 0) & in_g).sum())
        if n_t < 2 or n_c < 2:
            raise ReturnsInputError(f"{fn}: group {g!r} of {by!r} has {n_t} treated and {n_c} comparison "
                                    "observations; each group needs both")
        if j > 0:  # group intercepts and group-specific control slopes of the comparison outcome
            cols[f"_g{j}"] = in_g.astype(float)
            for k in range(X.shape[1]):
                cols[f"_g{j}_x{k}"] = in_g * X[:, k]
        cols[f"_att{j}"] = t.astype(float)
        names[f"_att{j}"] = g
        xbar = X[t].mean(axis=0) if X.shape[1] else np.zeros(0)
        for k in range(X.shape[1]):
            cols[f"_att{j}_x{k}"] = t * (X[:, k] - xbar[k])
    contrast_rows = []
    for m_i, m in enumerate(modifiers):
        lab = data[m].astype("string").to_numpy(dtype=object, na_value=None)
        miss_t = (D == 1) & pd.isna(lab)
        if miss_t.any():
            raise ReturnsInputError(f"{fn}: modifier {m!r} is missing for {int(miss_t.sum()):,} treated rows; "
                                    "drop them or give them a level of their own")
        levels = sorted({str(v) for v in lab[D == 1]}, key=str)
        ref = str(reference.get(m, levels[0]))
        if ref not in levels:
            raise ReturnsInputError(f"{fn}: reference level {ref!r} of {m!r} is not among the treated's levels {levels}")
        for lev in [v for v in levels if v != ref]:
            ind = np.where(D == 1, (lab == lev).astype(float), 0.0)
            col = np.zeros(len(data))
            for g in groups:
                t = (D == 1) & (glab == g)
                col[t] = ind[t] - ind[t].mean()
            key = f"_m{m_i}_{_safe_name(lev)}"
            cols[key] = col
            contrast_rows.append({"key": key, "modifier": m, "level": lev, "reference": ref,
                                  "n_treated": int(((D == 1) & (lab == lev)).sum())})
    work = pd.DataFrame(cols, index=data.index)
    work["_y"] = y
    for k in range(X.shape[1]):
        work[f"_x{k}"] = X[:, k]
    for c in dict.fromkeys([c for c in (fe, cluster) if c]):
        work[c] = data[c].to_numpy()
    rhs = [c for c in work.columns if c.startswith("_att")] + [c for c in work.columns if c.startswith("_g")] \
        + [f"_x{k}" for k in range(X.shape[1])] + [r["key"] for r in contrast_rows]
    _check_fe_sample(work, len(rhs) + (0 if fe else 1), fe, fn)
    pf = _pyfixest()
    formula = "_y ~ " + " + ".join(rhs) + (f" | {fe}" if fe else "")
    fit = _feols(pf, formula, work, _vcov(cluster))
    coef, se = fit.coef(), fit.se()
    ci = fit.confint(alpha=1 - level)
    lost = [k for k in list(names) + [r["key"] for r in contrast_rows] if k not in coef.index]
    if lost:
        raise ReturnsInputError(f"{fn}: the model dropped {lost} (collinear with the controls or the fixed effect); "
                                "check the controls")
    grows = []
    for key, g in names.items():
        in_g = glab == g
        grows.append({"group": g, "estimate": float(coef[key]), "se": float(se[key]),
                      "ci_low": float(ci.loc[key].iloc[0]), "ci_high": float(ci.loc[key].iloc[1]),
                      "n_treated": int(((D == 1) & in_g).sum()), "n_comparison": int(((D == 0) & in_g).sum())})
    gtab = pd.DataFrame(grows).set_index("group")
    crows = [{"modifier": r["modifier"], "level": r["level"], "reference": r["reference"],
              "estimate": float(coef[r["key"]]), "se": float(se[r["key"]]),
              "ci_low": float(ci.loc[r["key"]].iloc[0]), "ci_high": float(ci.loc[r["key"]].iloc[1]),
              "n_treated": r["n_treated"]} for r in contrast_rows]
    ctab = pd.DataFrame(crows, columns=["modifier", "level", "reference", "estimate", "se", "ci_low", "ci_high",
                                        "n_treated"])
    return ATTResult(outcome=outcome, treatment=treatment, by=by, groups=gtab, contrasts=ctab, n_obs=int(fit._N),
                     level=level, fe=fe, cluster=cluster, fit=fit, data=work)


# ----------------------------------------------------------------------------------------------
# control blocks
# ----------------------------------------------------------------------------------------------
def control_path(data: pd.DataFrame, outcome: str, treatment: str, blocks: Mapping[str, Sequence[str]], *,
                 fe_blocks: Mapping[str, str] | None = None, cluster: str | None = None, level: float = 0.95,
                 rules: sdc.SDCRules | None = None) -> pd.DataFrame:
    """The coefficient on ``treatment`` as blocks of controls are added, one OLS regression per row.

    ``blocks``: ordered ``{label: [control columns]}``; row ``k`` uses the controls of blocks ``1..k``
    (a first block with no columns gives the raw gap). ``fe_blocks``: ordered ``{label: fixed-effect column}``
    added after the last block, cumulatively (e.g. ``{"+ school fixed effects": "school"}``). Standard errors
    clustered by ``cluster`` (robust without). Every model is fitted on the same rows (select them first).

    Returns one row per model (index: the label) with ``estimate``, ``se``, ``ci_low``, ``ci_high``,
    ``r2`` (R-squared, fixed effects included), ``n`` (rounded to ``rules.round_counts``) and ``sdc`` (the
    model's disclosure-check summary); ``.attrs["fits"]`` holds the fitted models.
    """
    fn = "control_path"
    rules = rules or sdc.DEFAULT_RULES
    if not blocks:
        raise ReturnsInputError(f"{fn}: give at least one block (e.g. {{'no controls': []}})")
    fe_blocks = dict(fe_blocks or {})
    every = [c for cs in blocks.values() for c in _as_list(cs, fn)]
    _check_frame(data, [outcome, treatment, *every, *fe_blocks.values()] + ([cluster] if cluster else []), fn)
    work = pd.DataFrame({"_y": _numeric(data, outcome, fn), "_d": _treatment(data, treatment, fn)}, index=data.index)
    ren = {}
    for c in dict.fromkeys(every):
        ren[c] = f"_c{len(ren)}"
        work[ren[c]] = _numeric(data, c, fn)
    for c in dict.fromkeys([*fe_blocks.values()] + ([cluster] if cluster else [])):
        if data[c].isna().any():
            raise ReturnsInputError(f"{fn}: column {c!r} has missing values; drop those rows first")
        work[c] = data[c].to_numpy()
    pf = _pyfixest()
    rows, fits, xs, fes = [], {}, [], []
    specs = [(lab, _as_list(cs, fn), None) for lab, cs in blocks.items()] + [(lab, [], f) for lab, f in fe_blocks.items()]
    for lab, cs, f in specs:
        xs += [ren[c] for c in cs if ren[c] not in xs]
        if f:
            fes.append(f)
        _check_fe_sample(work, 1 + len(xs), fes, fn)
        formula = "_y ~ _d" + "".join(f" + {x}" for x in xs) + (f" | {' + '.join(fes)}" if fes else "")
        fit = _feols(pf, formula, work, _vcov(cluster))
        ci = fit.confint(alpha=1 - level)
        chk = sdc.check_model(fit, work, rules=rules)
        rows.append({"model": lab, "estimate": float(fit.coef()["_d"]), "se": float(fit.se()["_d"]),
                     "ci_low": float(ci.loc["_d"].iloc[0]), "ci_high": float(ci.loc["_d"].iloc[1]),
                     "r2": float(fit._r2), "n": int(sdc.round_to([fit._N], rules.round_counts)[0]),
                     "sdc": "OK" if not chk.global_fail and not chk.flagged_terms else chk.summary})
        fits[lab] = fit
    out = pd.DataFrame(rows).set_index("model")
    out.attrs["fits"] = fits
    return out


# ----------------------------------------------------------------------------------------------
# Oster (2019) bounds
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OsterInputs:
    """What Oster's bounds need, after partialling out the ``base`` regressors (all variances and R-squared
    values are of the partialled variables; ``r2_base`` converts to R-squared values of the full models):

    ``beta_short``/``r2_short``: treatment coefficient and R-squared without the controls;
    ``beta_long``/``r2_long``: with them; ``var_y``, ``var_x``: variances of the outcome and the treatment;
    ``var_x_resid``: variance of the treatment's residual on the controls; ``n``: observations."""

    beta_short: float
    r2_short: float
    beta_long: float
    r2_long: float
    var_y: float
    var_x: float
    var_x_resid: float
    r2_base: float = 0.0
    n: int = 0

    def r2_total(self, r2_partial: float) -> float:
        """R-squared of the full model (base regressors included) from a partial one."""
        return self.r2_base + (1 - self.r2_base) * r2_partial

    def r2_partial(self, r2_total: float) -> float:
        """Partial R-squared (net of the base regressors) from the R-squared of a full model."""
        if self.r2_base >= 1:
            raise ReturnsInputError("OsterInputs: the base regressors explain the outcome exactly")
        return (r2_total - self.r2_base) / (1 - self.r2_base)

    @property
    def r2_short_total(self) -> float:
        return self.r2_total(self.r2_short)

    @property
    def r2_long_total(self) -> float:
        return self.r2_total(self.r2_long)


def _lstsq(Z: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (rank-revealing QR: fast, and safe with collinear dummies)."""
    from scipy.linalg import lstsq

    return lstsq(Z, A, lapack_driver="gelsy", check_finite=False)[0]


def _resid(A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    if Z.shape[1] == 0:
        return A - A.mean(axis=0)
    return A - Z @ _lstsq(Z, A)


def oster_inputs(data: pd.DataFrame, outcome: str, treatment: str, controls: Sequence[str], *,
                 base: Sequence[str] = (), fe: str | None = None) -> OsterInputs:
    """Short, long and auxiliary regressions for Oster's bounds, by least squares.

    The *short* regression has the treatment and the ``base`` regressors (e.g. cohort dummies: variables that
    are not informative about selection); the *long* one adds ``controls`` and, with ``fe``, dummies for each
    level of that column (e.g. the school). ``base`` is partialled out of everything first (Frisch-Waugh-Lovell),
    so the R-squared values in the result are partial ones (see :class:`OsterInputs`).
    """
    fn = "oster_inputs"
    controls, base = _as_list(controls, fn), _as_list(base, fn)
    _check_frame(data, [outcome, treatment, *controls, *base] + ([fe] if fe else []), fn)
    y = _numeric(data, outcome, fn)
    x = _treatment(data, treatment, fn)
    n = len(data)
    Z = np.column_stack([np.ones(n)] + [_numeric(data, c, fn) for c in base])
    W = [_numeric(data, c, fn) for c in controls]
    if fe:
        if data[fe].isna().any():
            raise ReturnsInputError(f"{fn}: column {fe!r} has missing values; drop those rows first")
        dummies = pd.get_dummies(data[fe].astype(str), drop_first=True, dtype="float64")
        W += [dummies[c].to_numpy() for c in dummies.columns]
    W = np.column_stack(W) if W else np.zeros((n, 0))
    if n - Z.shape[1] - W.shape[1] - 1 < 10:
        raise ReturnsInputError(f"{fn}: {n:,} observations are too few for {Z.shape[1] + W.shape[1] + 1} regressors")
    ry = _resid(y[:, None], Z)[:, 0]
    rx = _resid(x[:, None], Z)[:, 0]
    rW = _resid(W, Z) if W.shape[1] else W
    r2_base = 1 - (ry @ ry) / (((y - y.mean()) ** 2).sum()) if np.var(y) > 0 else 0.0
    if rx @ rx <= 0:
        raise ReturnsInputError(f"{fn}: the treatment does not vary once the base regressors are partialled out")
    syy = ry @ ry
    b_short = (rx @ ry) / (rx @ rx)
    e_short = ry - b_short * rx
    r2_short = 1 - (e_short @ e_short) / syy
    XL = np.column_stack([rx, rW])
    coef = _lstsq(XL, ry)
    e_long = ry - XL @ coef
    r2_long = 1 - (e_long @ e_long) / syy
    aux = _resid(rx[:, None], rW)[:, 0] if rW.shape[1] else rx
    return OsterInputs(beta_short=float(b_short), r2_short=float(r2_short), beta_long=float(coef[0]),
                       r2_long=float(r2_long), var_y=float(syy / n), var_x=float(rx @ rx / n),
                       var_x_resid=float(aux @ aux / n), r2_base=float(r2_base), n=int(n))


def _check_rmax(inp: OsterInputs, r_max: float, fn: str) -> float:
    rm = inp.r2_partial(float(r_max))
    if not (inp.r2_long < rm <= 1 + 1e-12):
        raise ReturnsInputError(f"{fn}: r_max {r_max!r} must lie above the R-squared with the controls "
                                f"({inp.r2_long_total:.4f}) and at most 1")
    return min(rm, 1.0)


def oster_beta(inp: OsterInputs, r_max: float, delta: float = 1.0) -> float:
    """Oster's bias-adjusted treatment effect: the coefficient if selection on unobservables were ``delta``
    times selection on the observed controls and the R-squared of the regression on all relevant variables
    were ``r_max`` (an R-squared of the full model, base regressors included) [Oster2019, Proposition 2].

    The bias ``nu = beta_long - beta`` solves a cubic (a quadratic for ``delta = 1``); of its real roots the one
    with the sign of ``beta_short - beta_long`` (the unobservables push the estimate the way the observed
    controls did) and the smallest size is taken. NaN when no real root has that sign (for large ``delta`` the
    cubic may have none: no effect is consistent with that much selection); the other root of the quadratic
    does not depend on ``delta`` and is not a bias-adjusted estimate.
    """
    rm = _check_rmax(inp, r_max, "oster_beta")
    bs, bl = inp.beta_short, inp.beta_long
    sy, sx, tx = inp.var_y, inp.var_x, inp.var_x_resid
    r0, rt = inp.r2_short, inp.r2_long
    a = (delta - 1) * tx * (sx - tx)
    b = tx * (bs - bl) * sx * (delta - 2)
    c = delta * (rm - rt) * sy * (sx - tx) - (rt - r0) * sy * tx - (bs - bl) ** 2 * tx * sx
    d = delta * (rm - rt) * sy * (bs - bl) * sx
    roots = np.roots([a, b, c, d] if abs(a) > 1e-14 * max(abs(b), abs(c), abs(d), 1e-300) else [b, c, d])
    real = np.array([r.real for r in roots if abs(r.imag) < 1e-9 * max(1.0, abs(r.real))])
    if real.size == 0:
        return float("nan")
    direction = np.sign(bs - bl)
    pick = real[np.sign(real) == direction] if direction != 0 else real
    if pick.size == 0:
        return float("nan")
    nu = pick[np.argmin(np.abs(pick))]
    return float(bl - nu)


def oster_beta_approx(inp: OsterInputs, r_max: float, delta: float = 1.0) -> float:
    """Oster's approximation ``beta_long - delta (beta_short - beta_long) (r_max - R_long) / (R_long - R_short)``
    (exact only in special cases; easier to explain)."""
    rm = _check_rmax(inp, r_max, "oster_beta_approx")
    if inp.r2_long <= inp.r2_short:
        raise ReturnsInputError("oster_beta_approx: the controls do not raise the R-squared")
    return float(inp.beta_long - delta * (inp.beta_short - inp.beta_long) * (rm - inp.r2_long)
                 / (inp.r2_long - inp.r2_short))


def oster_delta(inp: OsterInputs, r_max: float, beta: float = 0.0) -> float:
    """The ``delta`` (selection on unobservables relative to selection on the observed controls) at which the
    true effect would be ``beta`` (default 0: how strong selection on unobservables must be to explain the
    whole estimate away), given ``r_max`` [Oster2019]. ``|delta| > 1`` is Oster's suggested bar for a
    robust result. The cubic of :func:`oster_beta` is linear in ``delta``; this solves it."""
    rm = _check_rmax(inp, r_max, "oster_delta")
    bs, bl = inp.beta_short, inp.beta_long
    sy, sx, tx = inp.var_y, inp.var_x, inp.var_x_resid
    r0, rt = inp.r2_short, inp.r2_long
    nu = bl - beta
    num = tx * (sx - tx) * nu ** 3 + 2 * tx * (bs - bl) * sx * nu ** 2 + (rt - r0) * sy * tx * nu \
        + (bs - bl) ** 2 * tx * sx * nu
    den = tx * (sx - tx) * nu ** 3 + tx * (bs - bl) * sx * nu ** 2 + (rm - rt) * sy * (sx - tx) * nu \
        + (rm - rt) * sy * (bs - bl) * sx
    return float(num / den) if den != 0 else float("inf")


def oster_table(inp: OsterInputs, r_max: Iterable[float] | Mapping[str, float], *, beta: float = 0.0,
                decimals: int = 3) -> pd.DataFrame:
    """One row per ``r_max`` (a list, or ``{label: r_max}``): the bias-adjusted effect with ``delta = 1``
    (exact and approximate) and the ``delta`` that would make the effect ``beta``. Rounded for release
    (coefficients and R-squared values only; no counts)."""
    items = list(r_max.items()) if isinstance(r_max, Mapping) else [(f"R_max = {v:.3f}", v) for v in r_max]
    rows = []
    for lab, rm in items:
        rows.append({"R_max": lab, "R_max value": round(float(rm), 3),
                     "beta (delta = 1)": round(oster_beta(inp, rm, 1.0), decimals),
                     "beta, approximation": round(oster_beta_approx(inp, rm, 1.0), decimals),
                     f"delta for beta = {beta:g}": round(oster_delta(inp, rm, beta), 2)})
    return pd.DataFrame(rows).set_index("R_max")
