"""Aggregation: unit-level rows -> one row per cell with the counts and unit contributions the rules need.

:func:`prepare` checks the input columns and encodes the keys (rows with a missing key, value or unit are
dropped and noted); :func:`cells_from_rows` aggregates per cell (with all margins when totals are shown):
``n`` (units), ``num`` (units with the outcome, for shares), ``sum``/``mean``/``median`` of the value, and
the absolute contributions per unit behind the dominance rules: ``abs_total``, ``top1``, ``top2``, ``topn``
(:func:`contribution_shares` turns them into the top-1/top-2 shares and the p-ratio).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.rules import SDCRules

__all__ = ["Keys", "as_list", "check_frame", "check_columns", "check_numeric", "prepare", "encode_keys", "aggregate",
           "cells_from_rows", "key_output", "cell_labels", "contribution_shares"]


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------
def as_list(x: str | Sequence[str] | None, what: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    try:
        out = list(x)
    except TypeError:
        raise SDCInputError(f"{what} must be a column name or a list of column names, got {x!r}") from None
    return out


def check_frame(data: Any, what: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise SDCInputError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    return data


def check_columns(data: pd.DataFrame, cols: Iterable[str], role: str) -> None:
    for c in cols:
        if c not in data.columns:
            raise SDCInputError(
                f"{role} column {c!r} not found in data; available columns: "
                f"{', '.join(map(str, data.columns[:20]))}{' ...' if len(data.columns) > 20 else ''}"
            )


def check_numeric(data: pd.DataFrame, col: str, role: str) -> None:
    dt = data[col].dtype
    if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)):
        raise SDCInputError(
            f"{role} column {col!r} must be numeric (int, float or bool), got dtype {dt}"
        )


def prepare(data: pd.DataFrame, by: list[str], value: str | None, unit: str | None,
             report: list[dict], reserved: Sequence[str]) -> tuple[pd.DataFrame, Keys]:
    check_columns(data, by, "by")
    if value is not None:
        check_columns(data, [value], "value")
        check_numeric(data, value, "value")
    if unit is not None:
        check_columns(data, [unit], "unit")
    if len(set(by)) != len(by):
        raise SDCInputError(f"by columns must be distinct, got {by}")
    for b in by:
        if b in reserved:
            raise SDCInputError(f"by column {b!r} clashes with an output column name {list(reserved)}; rename it")
    keys = encode_keys(data, by)
    cols: dict[str, Any] = {f"__k{i}": keys.codes[:, i] for i in range(len(by))}
    if value is not None:
        cols["__v"] = data[value].astype("float64").to_numpy()
    if unit is not None:
        cols["__u"] = data[unit].to_numpy()
    else:
        cols["__u"] = np.zeros(len(data), dtype="int64")
    work = pd.DataFrame(cols, index=pd.RangeIndex(len(data)))
    keep = np.ones(len(work), dtype=bool)
    if by:
        miss_k = (keys.codes < 0).any(axis=1)
        if miss_k.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_k.sum())} rows with a missing `by` value are not tabulated"))
        keep &= ~miss_k
    if value is not None:
        miss_v = ~np.isfinite(cols["__v"])
        if miss_v.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_v.sum())} rows with missing {value!r} are not used"))
        keep &= ~miss_v
    if unit is not None:
        miss_u = data[unit].isna().to_numpy()
        if miss_u.any():
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_u.sum())} rows with missing unit {unit!r} are not used"))
        keep &= ~miss_u
    if not keep.all():
        work = work.loc[keep].reset_index(drop=True)
    return work, keys


# --------------------------------------------------------------------------------------
# Key encoding and aggregation (vectorised)
# --------------------------------------------------------------------------------------
@dataclass
class Keys:
    names: list[str]
    levels: list[pd.Index]
    dtypes: list[Any]
    codes: np.ndarray  # shape (n_rows, n_keys), -1 = missing


def encode_keys(data: pd.DataFrame, by: list[str]) -> Keys:
    levels, dtypes, codes = [], [], []
    for k in by:
        col = data[k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            lev = pd.Index(col.cat.categories)
            c = col.cat.codes.to_numpy().astype("int64")
        else:
            lev = pd.Index(col.dropna().unique())
            try:
                lev = lev.sort_values()
            except TypeError:  # mixed types: keep order of appearance
                pass
            c = lev.get_indexer(col).astype("int64")
        levels.append(lev)
        dtypes.append(col.dtype)
        codes.append(c)
    arr = np.column_stack(codes) if codes else np.zeros((len(data), 0), dtype="int64")
    return Keys(list(by), levels, dtypes, arr)


def aggregate(work: pd.DataFrame, kcols: list[str], magnitude: bool, has_unit: bool,
               nk_n: int, share: bool = False) -> pd.DataFrame:
    """Per-cell statistics.  ``work`` has int key-code columns, ``__v`` and ``__u``."""
    if not kcols:
        work = work.assign(__all=0)
        kcols_g = ["__all"]
    else:
        kcols_g = kcols
    g = work.groupby(kcols_g, observed=True, sort=True)
    out = pd.DataFrame({"n": g["__u"].nunique() if has_unit else g.size()})
    if share:
        pos = work.loc[work["__pos"]]
        gp = pos.groupby(kcols_g, observed=True, sort=True)
        num = gp["__u"].nunique() if has_unit else gp.size()
        out["num"] = num.reindex(out.index, fill_value=0)
    if magnitude:
        v = g["__v"]
        out["sum"] = v.sum()
        out["mean"] = v.mean()
        out["median"] = v.median()
        if has_unit:
            contrib = (
                work.groupby(kcols_g + ["__u"], observed=True, sort=False)["__v"].sum().abs().reset_index()
            )
        else:
            contrib = work[kcols_g].assign(__v=work["__v"].abs())
        contrib = contrib.sort_values(
            kcols_g + ["__v"], ascending=[True] * len(kcols_g) + [False], kind="mergesort"
        )
        rank = contrib.groupby(kcols_g, observed=True, sort=False).cumcount().to_numpy()
        c = contrib["__v"].to_numpy(dtype="float64")
        contrib = contrib.assign(
            __t1=np.where(rank == 0, c, 0.0),
            __t2=np.where(rank == 1, c, 0.0),
            __tn=np.where(rank < nk_n, c, 0.0),
        )
        agg = contrib.groupby(kcols_g, observed=True, sort=True)[["__v", "__t1", "__t2", "__tn"]].sum()
        out["abs_total"] = agg["__v"]
        out["top1"] = agg["__t1"]
        out["top2"] = agg["__t2"]
        out["topn"] = agg["__tn"]
    out = out.reset_index()
    if not kcols:
        out = out.drop(columns="__all")
    return out


def cells_from_rows(work: pd.DataFrame, keys: Keys, magnitude: bool, has_unit: bool,
                     rules: SDCRules, margins: bool, complete: bool, share: bool = False) -> pd.DataFrame:
    """Cells (one row each) with int key codes; ALL code for dimension d is len(levels[d])."""
    kcols = [f"__k{i}" for i in range(len(keys.names))]
    dims = list(range(len(kcols)))
    subsets = [tuple(s) for r in range(len(dims), -1, -1) for s in itertools.combinations(dims, r)] \
        if margins else [tuple(dims)]
    pieces = []
    for kept in subsets:
        kept_cols = [kcols[d] for d in kept]
        agg = aggregate(work, kept_cols, magnitude, has_unit, rules.nk_n, share=share)
        if complete and kept_cols:
            grid = pd.MultiIndex.from_product(
                [range(len(keys.levels[d])) for d in kept], names=kept_cols
            ).to_frame(index=False)
            agg = grid.merge(agg, on=kept_cols, how="left", sort=False)
        for d in dims:
            if d not in kept:
                agg[kcols[d]] = len(keys.levels[d])
        pieces.append(agg)
    cells = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    fill0 = [c for c in ("n", "num", "sum", "abs_total", "top1", "top2", "topn") if c in cells.columns]
    cells[fill0] = cells[fill0].fillna(0)
    cells["n"] = cells["n"].astype("int64")
    if "num" in cells.columns:
        cells["num"] = cells["num"].astype("int64")
    if kcols:
        cells = cells.sort_values(kcols, kind="mergesort").reset_index(drop=True)
    return cells


def key_output(cells: pd.DataFrame, keys: Keys, margins: bool, margins_name: str) -> pd.DataFrame:
    """Turn key codes back into labelled key columns."""
    out = {}
    for i, name in enumerate(keys.names):
        codes = cells[f"__k{i}"].to_numpy()
        lev = keys.levels[i]
        if margins:
            labels = np.array(list(lev) + [margins_name], dtype=object)
            out[name] = pd.Series(labels[codes], dtype=object)
        elif isinstance(keys.dtypes[i], pd.CategoricalDtype):
            out[name] = pd.Series(pd.Categorical.from_codes(codes, dtype=keys.dtypes[i]))
        else:
            out[name] = pd.Series(lev.take(codes))
    return pd.DataFrame(out)


def cell_labels(keyframe: pd.DataFrame) -> list[str]:
    if keyframe.shape[1] == 0:
        return ["(all)"] * len(keyframe)
    parts = [keyframe[c].astype(object).map(lambda v, c=c: f"{c}={v}") for c in keyframe.columns]
    lab = parts[0]
    for p in parts[1:]:
        lab = lab + ", " + p
    return lab.tolist()


def contribution_shares(cells: pd.DataFrame, nk_n: int = 2) -> tuple[np.ndarray, ...]:
    """(total, top1 share, top2 share, top-nk_n share, p-ratio) per cell from its unit contributions.

    Shares are of the total of absolute unit contributions; the p-ratio is
    (total - top1 - top2) / top1.  NaN where the cell has no contributions (or top1 is 0).
    """
    m = len(cells)
    if "abs_total" not in cells.columns:
        nan = np.full(m, np.nan)
        return nan, nan, nan, nan, nan
    tot = cells["abs_total"].to_numpy(dtype="float64")
    top1 = cells["top1"].to_numpy(dtype="float64")
    top2 = cells["top2"].to_numpy(dtype="float64")
    topn = cells["topn"].to_numpy(dtype="float64") if "topn" in cells.columns else top1 + top2
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = tot > 0
        s1 = np.where(pos, top1 / np.where(pos, tot, 1.0), np.nan)
        s2 = np.where(pos, (top1 + top2) / np.where(pos, tot, 1.0), np.nan)
        sn = np.where(pos, topn / np.where(pos, tot, 1.0), np.nan)
        pr = np.where(top1 > 0, (tot - top1 - top2) / np.where(top1 > 0, top1, 1.0), np.nan)
    return tot, s1, s2, sn, pr
