"""Peer measures: leave-one-out group means and shares (school cohorts, coworkers, enterprises).

* :func:`leave_one_out_mean` - the mean of a value over the *other* members of a person's group (the
  school-cohort peer mean of prior attainment; the graduate share among coworkers);
* :func:`coworker_share` - the leave-one-out share among coworkers when some coworkers' status is unknown
  (people whose records cannot be linked), with the unknown imputed or left out;
* :func:`group_share` - the share of a 0/1 value among all members of each group (an enterprise's graduate
  share), with whether every member's status is known.

Why *leave-one-out*: a person's own value is not a peer influence; including it would make the peer mean
mechanically correlated with the person's own outcome. Leaving oneself out has its own cost [Guryan2009]:
within a fixed pool (e.g. a school over all its cohorts) a person with a high value has, mechanically, peers
with a lower mean, so with group fixed effects a balance test of own characteristics on the leave-one-out
peer mean is biased downwards even under random assignment; control for the leave-one-out mean of the pool
(:func:`leave_one_out_mean` with ``by=`` the pool) to remove that bias.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["PeerInputError", "leave_one_out_mean", "coworker_share", "group_share"]


class PeerInputError(ValueError):
    """Input a peer-measure helper cannot use (names the column and what was expected)."""


def _check(data: Any, cols: Sequence[str], what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise PeerInputError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise PeerInputError(f"{what}: no column(s) {missing} in the data (it has {list(data.columns)[:20]})")
    return data


def _as_list(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _numeric(data: pd.DataFrame, col: str, what: str) -> pd.Series:
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if not pd.api.types.is_numeric_dtype(s):
        raise PeerInputError(f"{what}: column {col!r} must be numeric, found {s.dtype}")
    return s.astype("float64")


def leave_one_out_mean(data: pd.DataFrame, value: str, by: str | Sequence[str]) -> pd.Series:
    """For every row, the mean of ``value`` over the other rows of its group (``by``).

    Rows whose ``value`` is missing are members of the group (they get a peer mean) but are not counted among
    anyone's peers. The result is NaN where a row has no other member with a known value (a group of one).
    Rows with a missing group key get NaN. Returns a float Series aligned with ``data``.
    """
    by = _as_list(by)
    _check(data, [value, *by], "leave_one_out_mean")
    v = _numeric(data, value, "leave_one_out_mean")
    known = v.notna().astype("float64")
    keys = [data[c] for c in by]
    tot = v.fillna(0.0).groupby(keys, dropna=True).transform("sum")
    cnt = known.groupby(keys, dropna=True).transform("sum")
    own_v = v.fillna(0.0)
    others = cnt - known
    out = (tot - own_v) / others.where(others > 0)
    out.name = f"loo_mean_{value}"
    return out.astype("float64")


def coworker_share(data: pd.DataFrame, value: str, group: str | Sequence[str], *, impute: str | None = "year_mean",
                   year: str = "TaxYear") -> pd.DataFrame:
    """Leave-one-out share of ``value`` (0/1, missing = unknown) among the other members of ``group``.

    One row per person and group-period (e.g. per person and tax year, ``group=["main_enterprise", "TaxYear"]``).
    ``impute``:

    * ``"year_mean"`` (default): a member whose status is unknown counts with the share among known members
      in the same ``year``. The measured share then has an error that is unrelated to it, rather than being
      computed on fewer coworkers (which makes a noisier share and attenuates its coefficient);
    * ``None``: unknown members are left out of numerator and denominator.

    Returns a frame aligned with ``data``: ``share`` (NaN where nobody else is in the group) and ``n_others``
    (number of other members, unknown ones included).
    """
    g = _as_list(group)
    _check(data, [value, *g] + ([year] if impute == "year_mean" else []), "coworker_share")
    v = _numeric(data, value, "coworker_share")
    bad = v.dropna()
    if not bad.isin([0.0, 1.0]).all():
        raise PeerInputError(f"coworker_share: column {value!r} must be 0/1 (or missing for unknown), found values "
                             f"{sorted(bad[~bad.isin([0.0, 1.0])].unique().tolist())[:5]}")
    keys = [data[c] for c in g]
    n_all = v.groupby(keys, dropna=True).transform("size").astype("float64")
    if impute == "year_mean":
        filled = v.fillna(v.groupby(data[year]).transform("mean"))
        share = leave_one_out_mean(data.assign(_v=filled), "_v", g)
    elif impute is None:
        share = leave_one_out_mean(data.assign(_v=v), "_v", g)
    else:
        raise PeerInputError(f"coworker_share: impute must be 'year_mean' or None, got {impute!r}")
    return pd.DataFrame({"share": share.to_numpy(), "n_others": (n_all - 1).to_numpy()}, index=data.index)


def group_share(data: pd.DataFrame, value: str, group: str | Sequence[str]) -> pd.DataFrame:
    """Share of ``value`` (0/1; missing = unknown) among all members of each group, with the group size,
    the number of members whose status is unknown and ``all_known`` (every member's status known: the
    share is measured without error). One row per group."""
    g = _as_list(group)
    _check(data, [value, *g], "group_share")
    v = _numeric(data, value, "group_share")
    d = data[g].assign(_v=v, _unknown=v.isna().astype("int64"))
    out = d.groupby(g, dropna=True).agg(share=("_v", "mean"), members=("_v", "size"),
                                        unknown=("_unknown", "sum")).reset_index()
    out["all_known"] = out["unknown"] == 0
    return out
