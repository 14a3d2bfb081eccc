"""Aggregation: unit-level rows -> one row per cell with the counts and unit contributions the rules need.

:func:`prepare` checks the input columns and encodes the keys (rows with a missing key, value or unit are
dropped and noted); :func:`cells_from_rows` aggregates per cell (with all margins when totals are shown):
``n`` (units), ``num`` (units with the outcome, for shares), ``sum``/``mean``/``median`` of the value, and
the absolute contributions per unit behind the dominance rules: ``abs_total``, ``top1``, ``top2``, ``topn``
(:func:`contribution_shares` turns them into the top-1/top-2 shares and the p-ratio).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from leokit.errors import SDCInputError
from leokit.sdc.rules import SDCRules

__all__ = ["Keys", "as_list", "check_frame", "check_columns", "check_numeric", "prepare", "encode_keys", "aggregate",
           "cells_from_rows", "key_output", "cell_labels", "contribution_shares", "MISSING_LEVEL", "MISSING_MODES",
           "PERSON_ID", "person_id_columns", "check_repeated_units", "LeftOut", "cell_members"]

#: Label of the cell that holds the rows whose ``by`` value is missing (``missing="cell"``, the default).
MISSING_LEVEL = "missing"
#: What the table helpers do with rows whose ``by`` value is missing.
MISSING_MODES = ("cell", "drop", "raise")
#: Column names that identify a person in the LEO / NPD tables and the kit's frames (case-insensitive): rows that
#: repeat one of them are not persons, so the table helpers refuse them without ``unit=`` [ONS-SRS].
PERSON_ID = re.compile(r"^(?:(?:KS\d_|HE_|CENSUS_)?PupilMatchingRef(?:Anonymous)?(?:_\w+)?|AE_ID|Edukey|pid|"
                       r"person(?:_id)?|pupil(?:_id)?|learner(?:_id)?)$", re.IGNORECASE)


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


@dataclass
class LeftOut:
    """Rows a table helper did not tabulate, by reason (stated in the printed summary, not only in the report)."""

    reasons: dict[str, int]
    missing_cells: dict[str, int]  # by column -> rows shown in its "missing" cell

    @property
    def rows(self) -> int:
        return int(sum(self.reasons.values()))

    def note(self) -> str:
        parts = []
        if self.reasons:
            why = ", ".join(f"{n:,} {r}" for r, n in self.reasons.items())
            parts.append(f"{self.rows:,} rows left out ({why})")
        if self.missing_cells:
            parts.append("; ".join(f"{n:,} rows with missing {c!r} shown as '{MISSING_LEVEL}'"
                                   for c, n in self.missing_cells.items()))
        return "; ".join(parts)


def person_id_columns(data: pd.DataFrame) -> list[str]:
    """Columns of ``data`` whose name says they identify a person (:data:`PERSON_ID`)."""
    return [c for c in data.columns if isinstance(c, str) and PERSON_ID.match(c)]


def check_repeated_units(data: pd.DataFrame, unit: str | None, what: str = "data") -> str | None:
    """Without ``unit=``, refuse rows that repeat a person identifier (one person seen in 12 person-years would
    count as 12 units). Returns the identifier column whose values are unique (the cell members are then known
    by person), or ``None``."""
    if unit is not None:
        return None
    ids = person_id_columns(data)
    for c in ids:
        col = data[c]
        nn = col.dropna()
        if nn.duplicated().any():
            n_rep = int(nn.duplicated(keep=False).sum())
            raise SDCInputError(
                f"{what}: column {c!r} identifies persons and {n_rep:,} rows repeat one of its values, so rows are "
                f"not persons (a person seen in several rows would count several times towards the threshold). "
                f"Pass unit={c!r} to count distinct persons"
            )
    for c in ids:
        if data[c].notna().all():
            return c
    return None


def prepare(data: pd.DataFrame, by: list[str], value: str | None, unit: str | None,
             report: list[dict], reserved: Sequence[str], missing: str = "cell",
             member_col: str | None = None) -> tuple[pd.DataFrame, Keys, LeftOut]:
    """Check the columns, encode the keys and drop the rows that cannot be tabulated (missing value or unit; a
    missing ``by`` value becomes its own cell with ``missing="cell"``, is dropped with ``"drop"``, refused with
    ``"raise"``). ``work`` has ``__k<i>``, ``__v``, ``__u`` and ``__m`` (the member id behind the cell: the unit,
    else ``member_col``, else the row label)."""
    if missing not in MISSING_MODES:
        raise SDCInputError(f"missing must be one of {list(MISSING_MODES)}, got {missing!r}")
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
    if missing == "raise":
        for b in by:
            nmiss = int(data[b].isna().sum())
            if nmiss:
                raise SDCInputError(f"by column {b!r} has {nmiss:,} rows with a missing value (missing='raise'); "
                                    "recode them or pass missing='cell' to show them as their own cell")
    keys = encode_keys(data, by, missing_cell=(missing == "cell"))
    cols: dict[str, Any] = {f"__k{i}": keys.codes[:, i] for i in range(len(by))}
    if value is not None:
        cols["__v"] = data[value].astype("float64").to_numpy()
    if unit is not None:
        cols["__u"] = data[unit].to_numpy()
    else:
        cols["__u"] = np.zeros(len(data), dtype="int64")
    if unit is not None:
        cols["__m"] = cols["__u"]
    elif member_col is not None:
        cols["__m"] = data[member_col].to_numpy()
    else:
        cols["__m"] = np.asarray(data.index, dtype=object)
    work = pd.DataFrame(cols, index=pd.RangeIndex(len(data)))
    keep = np.ones(len(work), dtype=bool)
    reasons: dict[str, int] = {}
    if by:
        miss_k = (keys.codes < 0).any(axis=1)
        if miss_k.any():
            reasons["missing `by` value"] = int(miss_k.sum())
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_k.sum())} rows with a missing `by` value are not tabulated"))
        keep &= ~miss_k
    if value is not None:
        miss_v = ~np.isfinite(cols["__v"])
        if miss_v.any():
            reasons[f"missing {value!r}"] = int((miss_v & keep).sum())
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_v.sum())} rows with missing {value!r} are not used"))
        keep &= ~miss_v
    if unit is not None:
        miss_u = data[unit].isna().to_numpy()
        if miss_u.any():
            reasons[f"missing unit {unit!r}"] = int((miss_u & keep).sum())
            report.append(dict(cell="(input)", statistic="", rule="note", action="rows dropped",
                               detail=f"{int(miss_u.sum())} rows with missing unit {unit!r} are not used"))
        keep &= ~miss_u
    reasons = {r: n for r, n in reasons.items() if n}
    if not keep.all():
        work = work.loc[keep].reset_index(drop=True)
    return work, keys, LeftOut(reasons, dict(keys.missing_rows))


# --------------------------------------------------------------------------------------
# Key encoding and aggregation (vectorised)
# --------------------------------------------------------------------------------------
@dataclass
class Keys:
    names: list[str]
    levels: list[pd.Index]
    dtypes: list[Any]
    codes: np.ndarray  # shape (n_rows, n_keys), -1 = missing
    missing_rows: dict[str, int] = None  # by column -> rows put in its "missing" cell

    def __post_init__(self) -> None:
        if self.missing_rows is None:
            self.missing_rows = {}


def encode_keys(data: pd.DataFrame, by: list[str], missing_cell: bool = False) -> Keys:
    """Integer codes of the ``by`` columns (-1 = missing; with ``missing_cell`` a missing value gets the extra
    level :data:`MISSING_LEVEL`, last)."""
    levels, dtypes, codes = [], [], []
    missing_rows: dict[str, int] = {}
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
        dt = col.dtype
        miss = c < 0
        if missing_cell and miss.any():
            if MISSING_LEVEL in set(map(str, lev)):
                raise SDCInputError(f"by column {k!r} already has a level {MISSING_LEVEL!r}; rows with a missing "
                                    "value could not be told from it (recode them, or pass missing='drop')")
            c = np.where(miss, len(lev), c)
            lev = pd.Index(list(lev) + [MISSING_LEVEL], dtype=object)
            if isinstance(dt, pd.CategoricalDtype):
                dt = pd.CategoricalDtype(list(dt.categories) + [MISSING_LEVEL], ordered=dt.ordered)
            else:
                dt = np.dtype(object)
            missing_rows[k] = int(miss.sum())
        levels.append(lev)
        dtypes.append(dt)
        codes.append(c)
    arr = np.column_stack(codes) if codes else np.zeros((len(data), 0), dtype="int64")
    return Keys(list(by), levels, dtypes, arr, missing_rows)


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
    return pd.DataFrame(out, index=pd.RangeIndex(len(cells)))


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


def cell_members(work: pd.DataFrame, cells: pd.DataFrame, n_keys: int, all_codes: Sequence[int],
                 share: bool = False) -> list[np.ndarray]:
    """The members (``__m``: unit ids, else person ids, else row labels) behind each cell of ``cells`` (key codes,
    ``all_codes[d]`` = the total of dimension ``d``), as sorted unique 64-bit hashes. With ``share``, the
    members with the outcome follow, one array per cell (``2 * len(cells)`` arrays)."""
    from pandas.util import hash_array

    m = work["__m"].to_numpy()
    h = hash_array(np.asarray(m, dtype=object)) if len(m) else np.zeros(0, dtype="uint64")
    codes = work[[f"__k{i}" for i in range(n_keys)]].to_numpy() if n_keys else np.zeros((len(work), 0), "int64")
    pos = work["__pos"].to_numpy(dtype=bool) if share else None
    ckeys = cells[[f"__k{i}" for i in range(n_keys)]].to_numpy() if n_keys else np.zeros((len(cells), 0), "int64")
    groups: dict[tuple, dict] = {}
    out, out_pos = [], []
    for row in ckeys:
        kept = tuple(d for d in range(n_keys) if row[d] != all_codes[d])
        if kept not in groups:
            if kept:
                sub = codes[:, list(kept)]
                idx = pd.DataFrame(sub).groupby(list(range(len(kept))), sort=False).indices
            else:
                idx = {(): np.arange(len(work))}
            groups[kept] = {(k if isinstance(k, tuple) else (k,)): v for k, v in idx.items()}
        key = tuple(int(row[d]) for d in kept)
        rows = groups[kept].get(key, np.zeros(0, dtype="int64"))
        out.append(np.unique(h[rows]))
        if share:
            out_pos.append(np.unique(h[rows[pos[rows]]]))
    return out + out_pos
