"""Linkage: joins with stated cardinality and full row accounting, and person resolution via AE_ID.

Person identifiers in LEO I2 [VRF; FFT]
---------------------------------------
* ``PupilMatchingRefAnonymous`` (PMR) - NPD (``KS4_PupilMatchingRefAnonymous``,
  ``PupilMatchingRefAnonymous_spr11`` ...), HESA (``HE_PUPILMATCHINGREFANONYMOUS``) and UCAS
  (``PupilMatchingRefAnonymous``);
* ``RECORDID`` - ILR (``learners``/``aims``);
* ``EDUKEY`` - every DWP/HMRC outcome table, spelled ``Edukey`` (earnings, self-assessment,
  geography), ``EduKey`` (employment, benefit) or ``EDUKEY`` (lookup, CJRS): SQL Server is
  case-insensitive, pandas is not, so the helpers here find these columns case-insensitively;
* ``AE_ID`` - DfE's single person resolution id, bridging them through
  ``education_records_lookup(RECORDID, AE_ID)``, ``learner_ae_id_to_pmr_lookup(AE_ID,
  PUPILMATCHINGREFANONYMOUS)`` and ``learner_ae_id_to_edukey_lookup(AE_ID, EDUKEY)``.

The person is the AE_ID. Resolution rules (deterministic, every case flagged and counted):

* **EDUKEY -> AE_ID** (:func:`resolve_edukeys`): an EDUKEY belongs to exactly one AE_ID; if the
  lookup gives it several, the *smallest* AE_ID owns it (FFT ``person_lookup`` rule), flag
  ``edukey_multi_ae_id``. An AE_ID may own several EDUKEYs (``multiplex`` = how many): the
  outcomes of a person are the **sum over all their EDUKEYs** per tax year
  (:func:`outcomes_by_person`); nothing is double-counted because each EDUKEY has one owner.
* **PMR -> AE_ID** (:func:`person_lookup`): a PMR mapped to several AE_IDs takes the *smallest*
  (flag ``pmr_multi_ae_id``); an AE_ID mapped to several PMRs keeps all of them, each row pointing
  to the same AE_ID (flag ``ae_id_multi_pmr``): person-level analyses should aggregate by AE_ID.
* **RECORDID -> AE_ID**: the lookup is keyed on RECORDID; should a RECORDID have several AE_IDs,
  the smallest is taken (flag ``recordid_multi_ae_id``).

Joins
-----
:func:`link` wraps ``pandas.merge`` and (1) checks the cardinality you state (``expect="1:1"``,
``"m:1"``, ``"1:m"``, ``"m:m"``; :class:`~leokit.errors.CardinalityError` otherwise), (2) never
matches missing keys to each other (pandas does), (3) accounts for every row in a
:class:`~leokit.errors.MatchReport`.

Report pattern (the same in the whole package): every function returns the frame; with
``report=True`` it returns ``(frame, report)``. Reports are also logged to the ``leokit`` logger.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from leokit.errors import CardinalityError, ChainReport, DropReport, LinkError, MatchReport, did_you_mean, finish
from leokit.frames import find_column
from leokit.read import resolve_checked
from leokit.validation import check_join_keys, strip_key_padding
from leokit.schema import PERSON, PMR

__all__ = [
    "link",
    "person_lookup",
    "resolve_edukeys",
    "resolve_recordids",
    "edukeys_for_pmr",
    "add_ae_id",
    "outcomes_by_person",
    "find_column",
    "id_type_of",
    "PMR",
    "PERSON",
]

#: Column names of the PMR (NPD spelling) and of the person id in the frames made here: one definition, in
#: :mod:`leokit.schema` (``PMR``, ``PERSON``), re-exported here.

_EXPECT = {"1:1": "1:1", "one_to_one": "1:1", "m:1": "m:1", "many_to_one": "m:1",
           "1:m": "1:m", "one_to_many": "1:m", "m:m": "m:m", "many_to_many": "m:m"}
_TMP_K, _TMP_L, _TMP_R, _TMP_M = "__leokit_k", "__leokit_l", "__leokit_r", "__leokit_m"


# ----------------------------------------------------------------------------------------------
# Columns (find_column: leokit.frames, re-exported here)
# ----------------------------------------------------------------------------------------------
def id_type_of(column: str) -> str | None:
    """'pmr', 'recordid' or 'edukey' for an identifier column name (any case, prefix or suffix)."""
    c = str(column).lower()
    if "pupilmatchingrefanonymous" in c:
        return "pmr"
    if c == "recordid":
        return "recordid"
    if c == "edukey":
        return "edukey"
    if c == "ae_id":
        return "ae_id"
    return None


def _kind(s: pd.Series) -> str:
    dt = s.dtype
    if len(s) == 0 or bool(s.isna().all()):
        return "empty"  # nothing can match: any dtype is compatible
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_numeric_dtype(dt):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "date"
    if isinstance(dt, pd.StringDtype):
        return "text"
    if dt == object:
        inf = pd.api.types.infer_dtype(s, skipna=True)
        if inf in ("string", "empty"):
            return "text" if inf == "string" else "empty"
        if inf in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "number"
        return inf
    return str(dt)


# ----------------------------------------------------------------------------------------------
# link
# ----------------------------------------------------------------------------------------------
def _as_list(x) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else list(x)


def _dup_examples(keys: pd.DataFrame, n: int = 3) -> tuple[int, str]:
    vc = keys.value_counts()
    vc = vc[vc > 1]
    ex = []
    for k, c in vc.head(n).items():
        k = k if isinstance(k, tuple) else (k,)
        ex.append("(" + ", ".join(f"{col}={v!r}" for col, v in zip(keys.columns, k)) + f") x{c}")
    return len(vc), "; ".join(ex)


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    on: str | Sequence[str] | None = None,
    *,
    left_on: str | Sequence[str] | None = None,
    right_on: str | Sequence[str] | None = None,
    how: str = "inner",
    expect: str = "m:m",
    name: str | None = None,
    suffixes: tuple[str, str] = ("_x", "_y"),
    report: bool = False,
):
    """Join ``left`` and ``right`` like ``pandas.merge``, checking cardinality and counting rows.

    ``expect``: the cardinality you assert - ``"1:1"`` (keys unique on both sides), ``"m:1"``
    (unique in ``right``: each left row matches at most one right row, so no left row is
    duplicated), ``"1:m"`` (unique in ``left``) or ``"m:m"`` (no check). Uniqueness is checked over
    the rows with non-missing keys; a violation raises :class:`~leokit.errors.CardinalityError`
    naming the duplicated keys.

    Rows with a missing value in any key column never match (``pandas.merge`` would match NaN to
    NaN); with ``how="left"``/``"outer"`` they are kept unmatched, otherwise dropped and counted
    as such. Keys of incompatible types (number vs text) raise :class:`~leokit.errors.LinkError`. Trailing
    blanks of text keys (SQL Server ``CHAR(n)`` padding) are stripped first, with a note in the report.

    Returns the joined frame (fresh RangeIndex); with ``report=True`` also a
    :class:`~leokit.errors.MatchReport` (rows on each side, matched/unmatched, pairs, rows out,
    rows dropped by reason, duplicates created).
    """
    if how not in ("inner", "left", "right", "outer"):
        raise ValueError(f"how must be 'inner', 'left', 'right' or 'outer', not {how!r}")
    if expect not in _EXPECT:
        raise ValueError(f"expect must be one of '1:1', 'm:1', '1:m', 'm:m', not {expect!r}")
    expect = _EXPECT[expect]
    if on is not None:
        if left_on is not None or right_on is not None:
            raise ValueError("give either on= or left_on=/right_on=, not both")
        left_on = right_on = on
    lk, rk = _as_list(left_on), _as_list(right_on)
    if not lk or len(lk) != len(rk):
        raise ValueError("link needs key columns: on=..., or left_on=/right_on= of equal length")
    label = name or f"link({', '.join(lk)} -> {', '.join(rk)})"
    for side, df, keys in (("left", left, lk), ("right", right, rk)):
        miss = [k for k in keys if k not in df.columns]
        if miss:
            near = {k: did_you_mean(k, df.columns) for k in miss}
            raise LinkError(f"{label}: {side} frame has no key column(s) {miss}"
                            + "".join(f"; for {k!r} did you mean {v!r}?" for k, v in near.items() if v))
    for a, b in zip(lk, rk):
        ka, kb = _kind(left[a]), _kind(right[b])
        if "empty" in (ka, kb):
            continue
        if ka != kb:
            raise LinkError(f"{label}: key {a!r} in left is {ka} ({left[a].dtype}) but {b!r} in right is "
                            f"{kb} ({right[b].dtype}); convert one side first (e.g. .astype(str) or pd.to_numeric)")
    L = left.reset_index(drop=True)
    R = right.reset_index(drop=True)
    pad_notes: list[str] = []
    for side, X, keys in (("left", "L", lk), ("right", "R", rk)):
        for k in keys:
            frame = L if X == "L" else R
            frame, n = strip_key_padding(frame, k, f"{side} frame of {label}")
            pad_notes += n
            if X == "L":
                L = frame
            else:
                R = frame
    # an all-missing key column cannot match anything; give it the other side's dtype so that
    # pandas accepts the merge (it refuses e.g. float64 NaN against str)
    for a, b in zip(lk, rk):
        for X, x, Y, y in ((L, a, R, b), (R, b, L, a)):
            if _kind(X[x]) == "empty" and _kind(Y[y]) != "empty" and X[x].dtype != Y[y].dtype:
                target = "float64" if pd.api.types.is_integer_dtype(Y[y].dtype) else Y[y].dtype
                try:
                    X[x] = X[x].astype(target)
                except (TypeError, ValueError):  # pragma: no cover - exotic dtypes
                    X[x] = X[x].astype(object)
    lnull = L[lk].isna().any(axis=1).to_numpy()
    rnull = R[rk].isna().any(axis=1).to_numpy()
    if expect in ("1:1", "1:m"):
        kk = L.loc[~lnull, lk]
        if kk.duplicated().any():
            n, ex = _dup_examples(kk)
            raise CardinalityError(f"{label}: expected {expect!r} but {n} key value(s) occur more than once in the "
                                   f"left frame (e.g. {ex}); de-duplicate left or state expect='m:1'/'m:m'")
    if expect in ("1:1", "m:1"):
        kk = R.loc[~rnull, rk]
        if kk.duplicated().any():
            n, ex = _dup_examples(kk)
            raise CardinalityError(f"{label}: expected {expect!r} but {n} key value(s) occur more than once in the "
                                   f"right frame (e.g. {ex}); each left row would be duplicated - de-duplicate "
                                   "right or state expect='1:m'/'m:m'")
    nl, nr = len(L), len(R)
    L2 = L.assign(**{_TMP_K: np.where(lnull, -(np.arange(nl) + 1), 0), _TMP_L: np.arange(nl)})
    R2 = R.assign(**{_TMP_K: np.where(rnull, -(nl + np.arange(nr) + 1), 0), _TMP_R: np.arange(nr)})
    out = L2.merge(R2, left_on=lk + [_TMP_K], right_on=rk + [_TMP_K], how=how, suffixes=suffixes,
                   indicator=_TMP_M, sort=False)
    ind = out[_TMP_M].astype(str).to_numpy()
    both = ind == "both"
    pairs = int(both.sum())
    matched_left = int(pd.unique(out.loc[both, _TMP_L]).size)
    matched_right = int(pd.unique(out.loc[both, _TMP_R]).size)
    kept_l = int((ind == "left_only").sum())
    kept_r = int((ind == "right_only").sum())
    unmatched_left, unmatched_right = nl - matched_left, nr - matched_right
    dropped_left, dropped_right = unmatched_left - kept_l, unmatched_right - kept_r
    dropped: dict[str, int] = {}
    for side, other, n_dropped, null, tail in (("left", "right", dropped_left, lnull, ""),
                                               ("right", "left", dropped_right, rnull, " (not in output)")):
        if n_dropped:  # the dropped rows of one side: those with a missing key, then those with no match
            nn = int(null.sum())
            if nn:
                dropped[f"{side} rows with a missing key{tail}"] = nn
            if n_dropped - nn:
                dropped[f"{side} rows with no match in {other}{tail}"] = n_dropped - nn
    out = out.drop(columns=[c for c in (_TMP_K, _TMP_L, _TMP_R, _TMP_M) if c in out.columns])
    rep = MatchReport(
        name=label, how=how, expect=expect,
        keys=", ".join(a if a == b else f"{a}={b}" for a, b in zip(lk, rk)),
        left_rows=nl, right_rows=nr, left_null_keys=int(lnull.sum()), right_null_keys=int(rnull.sum()),
        matched_left=matched_left, unmatched_left=unmatched_left,
        matched_right=matched_right, unmatched_right=unmatched_right,
        pairs=pairs, out_rows=len(out), kept_unmatched_left=kept_l, kept_unmatched_right=kept_r,
        dropped_left=dropped_left, dropped_right=dropped_right,
        duplicates_left=pairs - matched_left, duplicates_right=pairs - matched_right, dropped=dropped,
    )
    rep.notes.extend(pad_notes)
    rep.check()
    return finish(out, rep, report)


# ----------------------------------------------------------------------------------------------
# Lookups
# ----------------------------------------------------------------------------------------------
def _pairs(df: pd.DataFrame, a: str, b: str, table: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Distinct non-missing (a, b) pairs of a lookup, renamed to the canonical names a, b."""
    ca, cb = find_column(df, a, table), find_column(df, b, table)
    d = df[[ca, cb]].rename(columns={ca: a, cb: b})
    n0 = len(d)
    d = d.dropna()
    n1 = len(d)
    d = d.drop_duplicates().reset_index(drop=True)
    return d, {"missing id": n0 - n1, "repeated pair": n1 - len(d)}


def resolve_edukeys(data_dir=None, *, lookups: Mapping[str, pd.DataFrame] | None = None, report: bool = False):
    """One row per EDUKEY with the AE_ID that owns it.

    Columns: ``EDUKEY``, ``AE_ID`` (smallest AE_ID the lookup gives the EDUKEY),
    ``n_ae_id_for_edukey``, ``edukey_multi_ae_id`` (bool), ``multiplex`` (number of EDUKEYs owned
    by that AE_ID). Source: ``learner_ae_id_to_edukey_lookup`` (or ``lookups[...]``).
    """
    raw, notes = resolve_checked("learner_ae_id_to_edukey_lookup", data_dir, lookups, check_key=False)
    d, drops = _pairs(raw, PERSON, "EDUKEY", "learner_ae_id_to_edukey_lookup")
    g = d.groupby("EDUKEY", sort=True)[PERSON].agg(["min", "nunique"]).reset_index()
    out = pd.DataFrame({"EDUKEY": g["EDUKEY"], PERSON: g["min"], "n_ae_id_for_edukey": g["nunique"].astype("int64")})
    out["edukey_multi_ae_id"] = out["n_ae_id_for_edukey"] > 1
    out["multiplex"] = out.groupby(PERSON)["EDUKEY"].transform("size").astype("int64")
    n_multi = int(out["edukey_multi_ae_id"].sum())
    rep = DropReport(
        name="resolve_edukeys", rows_in=len(raw), rows_out=len(out),
        dropped={"lookup rows with a missing id": drops["missing id"],
                 "repeated (AE_ID, EDUKEY) rows": drops["repeated pair"],
                 "extra AE_IDs of an EDUKEY (owned by the smallest AE_ID)": len(d) - len(out)},
        counts={"EDUKEYs": len(out), "AE_IDs owning EDUKEYs": int(out[PERSON].nunique()),
                "EDUKEYs with several AE_IDs": n_multi,
                "AE_IDs with several EDUKEYs": int((out.groupby(PERSON).size() > 1).sum())},
        notes=notes,
    )
    rep.check()
    return finish(out, rep, report)


def resolve_recordids(data_dir=None, *, lookups: Mapping[str, pd.DataFrame] | None = None, report: bool = False):
    """One row per RECORDID with its AE_ID (smallest if several; flag ``recordid_multi_ae_id``)."""
    raw, notes = resolve_checked("education_records_lookup", data_dir, lookups, check_key=False)
    d, drops = _pairs(raw, "RECORDID", PERSON, "education_records_lookup")
    g = d.groupby("RECORDID", sort=True)[PERSON].agg(["min", "nunique"]).reset_index()
    out = pd.DataFrame({"RECORDID": g["RECORDID"], PERSON: g["min"]})
    out["recordid_multi_ae_id"] = g["nunique"].to_numpy() > 1
    rep = DropReport(
        name="resolve_recordids", rows_in=len(raw), rows_out=len(out),
        dropped={"lookup rows with a missing id": drops["missing id"],
                 "repeated (RECORDID, AE_ID) rows": drops["repeated pair"],
                 "extra AE_IDs of a RECORDID (smallest kept)": len(d) - len(out)},
        counts={"RECORDIDs with several AE_IDs": int(out["recordid_multi_ae_id"].sum())},
        notes=notes,
    )
    rep.check()
    return finish(out, rep, report)


def person_lookup(data_dir=None, *, lookups: Mapping[str, pd.DataFrame] | None = None, report: bool = False):
    """The resolved person table: one row per PMR, FFT-style.

    Columns: ``PupilMatchingRefAnonymous``, ``AE_ID`` (smallest AE_ID of the PMR),
    ``EDUKEY`` (the smallest EDUKEY owned by that AE_ID - see :func:`resolve_edukeys`; missing if
    it owns none), ``multiplex`` (number of EDUKEYs owned by the AE_ID; 0 = no outcome records can
    be linked), ``n_ae_id_for_pmr``, ``n_pmr_for_ae_id`` (PMRs resolved to the same AE_ID),
    ``pmr_multi_ae_id`` and ``ae_id_multi_pmr`` (bool flags).

    Built from ``learner_ae_id_to_pmr_lookup`` and ``learner_ae_id_to_edukey_lookup`` under
    ``data_dir``, or from ``lookups={table name: frame}`` (e.g. real SRS tables). PMRs absent from
    the lookup are not in the table (they cannot be linked). Aggregate outcomes with
    :func:`outcomes_by_person` (all EDUKEYs), not through the single ``EDUKEY`` column here.
    """
    raw, notes = resolve_checked("learner_ae_id_to_pmr_lookup", data_dir, lookups, check_key=False)
    d, drops = _pairs(raw, PERSON, "PUPILMATCHINGREFANONYMOUS", "learner_ae_id_to_pmr_lookup")
    d = d.rename(columns={"PUPILMATCHINGREFANONYMOUS": PMR})
    g = d.groupby(PMR, sort=True)[PERSON].agg(["min", "nunique"]).reset_index()
    out = pd.DataFrame({PMR: g[PMR], PERSON: g["min"]})
    out["n_ae_id_for_pmr"] = g["nunique"].astype("int64").to_numpy()
    out["n_pmr_for_ae_id"] = out.groupby(PERSON)[PMR].transform("size").astype("int64")
    ek, ek_rep = resolve_edukeys(data_dir, lookups=lookups, report=True)
    first = ek.groupby(PERSON, sort=True).agg(EDUKEY=("EDUKEY", "min"), multiplex=("EDUKEY", "size")).reset_index()
    k1, k2 = _kind(first[PERSON]), _kind(out[PERSON])
    if "empty" not in (k1, k2) and k1 != k2:
        raise LinkError(f"AE_ID has type {out[PERSON].dtype} in the PMR lookup but {first[PERSON].dtype} "
                        "in the EDUKEY lookup")
    out = out.merge(first, on=PERSON, how="left")
    out["multiplex"] = out["multiplex"].fillna(0).astype("int64")
    out["pmr_multi_ae_id"] = out["n_ae_id_for_pmr"] > 1
    out["ae_id_multi_pmr"] = out["n_pmr_for_ae_id"] > 1
    out = out[[PMR, PERSON, "EDUKEY", "multiplex", "n_ae_id_for_pmr", "n_pmr_for_ae_id",
               "pmr_multi_ae_id", "ae_id_multi_pmr"]]
    assert not out[PMR].duplicated().any()
    rep = DropReport(
        name="person_lookup", rows_in=len(raw), rows_out=len(out),
        dropped={"lookup rows with a missing id": drops["missing id"],
                 "repeated (AE_ID, PMR) rows": drops["repeated pair"],
                 "extra AE_IDs of a PMR (smallest kept)": len(d) - len(out)},
        counts={"PMRs": len(out), "PMRs with several AE_IDs": int(out["pmr_multi_ae_id"].sum()),
                "AE_IDs with several PMRs": int((out.groupby(PERSON).size() > 1).sum()),
                "PMRs whose AE_ID owns no EDUKEY": int((out["multiplex"] == 0).sum()),
                "PMRs whose AE_ID owns several EDUKEYs": int((out["multiplex"] > 1).sum())},
        notes=notes,
    )
    rep.check()
    chain = ChainReport(name="person_lookup", steps=[rep, ek_rep])
    return finish(out, chain, report)


def edukeys_for_pmr(
    pmrs: Iterable | pd.Series | None = None,
    data_dir=None,
    *,
    lookups: Mapping[str, pd.DataFrame] | None = None,
    report: bool = False,
):
    """Every EDUKEY of each PMR's person: columns ``PupilMatchingRefAnonymous``, ``AE_ID``, ``EDUKEY``.

    One row per (PMR, EDUKEY) for all EDUKEYs owned by the PMR's resolved AE_ID (see the module
    docstring). PMRs whose AE_ID owns no EDUKEY do not appear (counted in the report).
    ``pmrs``: restrict to these PMRs (any iterable; missing values ignored).
    """
    people, prep = person_lookup(data_dir, lookups=lookups, report=True)
    ek = resolve_edukeys(data_dir, lookups=lookups)
    if pmrs is not None:
        want = pd.Series(list(pmrs) if not isinstance(pmrs, pd.Series) else pmrs).dropna().unique()
        people = people[people[PMR].isin(want)]
    out, mrep = link(people[[PMR, PERSON]], ek[["EDUKEY", PERSON]], on=PERSON, how="inner", expect="m:m",
                     name="edukeys_for_pmr: PMR -> all EDUKEYs of its AE_ID", report=True)
    out = out.sort_values([PMR, "EDUKEY"], kind="stable").reset_index(drop=True)
    chain = ChainReport(name="edukeys_for_pmr", steps=[prep, mrep])
    return finish(out, chain, report)


# ----------------------------------------------------------------------------------------------
# Adding the person id to any table
# ----------------------------------------------------------------------------------------------
def _detect_id(df: pd.DataFrame, id_col: str | None) -> tuple[str, str]:
    if id_col is not None:
        if id_col not in df.columns:
            id_col = find_column(df, id_col, "add_ae_id")
        t = id_type_of(id_col)
        if t is None or t == "ae_id":
            raise LinkError(f"add_ae_id: cannot tell what kind of id {id_col!r} is; expected a PMR, RECORDID or "
                            "EDUKEY column")
        return id_col, t
    found = [(c, id_type_of(c)) for c in df.columns if id_type_of(c) in ("pmr", "recordid", "edukey")]
    if len(found) != 1:
        raise LinkError(f"add_ae_id: found {len(found)} id columns {[c for c, _ in found]}; pass id_col=...")
    return found[0]


#: The lookup each kind of id is resolved through, and the declared kind of that id.
_ID_TABLES = {"pmr": "learner_ae_id_to_pmr_lookup", "recordid": "education_records_lookup",
              "edukey": "learner_ae_id_to_edukey_lookup"}
_ID_KINDS = {"pmr": "str", "recordid": "int", "edukey": "str"}


def add_ae_id(
    df: pd.DataFrame,
    id_col: str | None = None,
    *,
    how: str = "left",
    data_dir=None,
    lookups: Mapping[str, pd.DataFrame] | None = None,
    person_col: str = PERSON,
    report: bool = False,
):
    """Add the person id ``AE_ID`` to any table keyed by PMR, RECORDID or EDUKEY.

    The id column is detected from its name (any case; ``KS4_PupilMatchingRefAnonymous``,
    ``PupilMatchingRefAnonymous_spr11``, ``HE_PUPILMATCHINGREFANONYMOUS``, ``RECORDID``,
    ``Edukey`` ...) or given as ``id_col``. The mapping is resolved (one AE_ID per id, rules in the
    module docstring), so the join is ``m:1``: no row is ever duplicated. ``how="left"`` (default)
    keeps unlinked rows with a missing AE_ID; ``how="inner"`` drops them (counted in the report).
    The flag of the resolution rule (``pmr_multi_ae_id`` / ``recordid_multi_ae_id`` /
    ``edukey_multi_ae_id``) is added too.
    """
    if how not in ("left", "inner"):
        raise ValueError(f"how must be 'left' or 'inner', not {how!r}")
    if person_col in df.columns:
        raise LinkError(f"add_ae_id: the frame already has a column {person_col!r}")
    col, kind = _detect_id(df, id_col)
    if kind == "pmr":
        m = person_lookup(data_dir, lookups=lookups)[[PMR, PERSON, "pmr_multi_ae_id"]]
        key, flag = PMR, "pmr_multi_ae_id"
    elif kind == "recordid":
        m = resolve_recordids(data_dir, lookups=lookups)
        key, flag = "RECORDID", "recordid_multi_ae_id"
    else:
        m = resolve_edukeys(data_dir, lookups=lookups)[["EDUKEY", PERSON, "edukey_multi_ae_id"]]
        key, flag = "EDUKEY", "edukey_multi_ae_id"
    if flag in df.columns:
        raise LinkError(f"add_ae_id: the frame already has a column {flag!r}")
    m = m.rename(columns={key: "__leokit_id", PERSON: person_col})
    table = _ID_TABLES[kind]
    df, m, notes = check_join_keys(df, col, "frame", m, "__leokit_id", table, kind=_ID_KINDS[kind])
    notes = [n.replace("'__leokit_id'", repr(key)) for n in notes]
    out, rep = link(df, m, left_on=col, right_on="__leokit_id", how=how, expect="m:1",
                    name=f"add_ae_id: {col} -> {person_col}", report=True)
    rep.notes.extend(notes)
    out = out.drop(columns="__leokit_id")
    if flag in out.columns:
        out[flag] = out[flag].astype("boolean")
    return finish(out, rep, report)


def outcomes_by_person(
    outcomes: pd.DataFrame,
    value_cols: str | Sequence[str],
    *,
    by: str | Sequence[str] = ("TaxYear",),
    edukey_col: str | None = None,
    data_dir=None,
    lookups: Mapping[str, pd.DataFrame] | None = None,
    person_col: str = PERSON,
    table: str = "outcomes",
    report: bool = False,
):
    """Sum an EDUKEY-keyed outcome table to one row per person (AE_ID) and ``by`` (default TaxYear).

    Each EDUKEY belongs to one AE_ID (:func:`resolve_edukeys`), so the sum over a person's EDUKEYs
    counts every outcome row exactly once. Outcome rows whose EDUKEY is not in the lookup are
    dropped (counted in the report). Sums use ``min_count=1``: all-missing stays missing.
    Adds ``n_edukeys`` (distinct EDUKEYs contributing to the row).

    The EDUKEYs of both sides are made the same kind first (text vs numbers cast to text, padding stripped;
    noted in the report, where ``table`` names the outcome table, e.g. ``"leo_earnings"``); an empty outcome
    table is refused.

    Returns ``[person_col, *by, *value_cols, n_edukeys]``; ``report=True`` returns
    ``(frame, ChainReport[link step, aggregation step])``.
    """
    vals, by = _as_list(value_cols), _as_list(by)
    ek_col = edukey_col or find_column(outcomes, "EDUKEY", "outcomes")
    for c in vals + by:
        if c not in outcomes.columns:
            raise LinkError(f"outcomes_by_person: no column {c!r} in the outcome table")
    m, ek_rep = resolve_edukeys(data_dir, lookups=lookups, report=True)
    m = m[["EDUKEY", PERSON]].rename(columns={"EDUKEY": "__leokit_id", PERSON: "__leokit_person"})
    if len(outcomes) == 0:
        raise LinkError(f"outcomes_by_person: table {table!r} has 0 rows (nothing to sum)")
    left, m, notes = check_join_keys(outcomes[[ek_col] + by + vals], ek_col, table, m, "__leokit_id",
                                     "learner_ae_id_to_edukey_lookup", kind="str")
    notes = list(ek_rep.notes) + notes
    notes = [n.replace("'__leokit_id'", "'EDUKEY'") for n in notes]
    linked, lrep = link(left, m, left_on=ek_col, right_on="__leokit_id", how="inner",
                        expect="m:1", name=f"outcomes_by_person: {ek_col} -> {person_col}", report=True)
    lrep.notes.extend(notes)
    linked = linked.drop(columns="__leokit_id").rename(columns={"__leokit_person": person_col})
    keys = [person_col] + by
    if linked.empty:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in keys + vals + ["n_edukeys"]})
    else:
        grp = linked.groupby(keys, sort=True, dropna=False)
        out = grp[vals].sum(min_count=1).reset_index() if vals else grp.size().reset_index()[keys]
        out["n_edukeys"] = grp[ek_col].nunique().to_numpy().astype("int64")
    arep = DropReport(name="outcomes_by_person: sum per person", rows_in=len(linked), rows_out=len(out),
                      dropped={f"rows summed into another row of the same {', '.join(keys)}": len(linked) - len(out)})
    arep.check()
    return finish(out, ChainReport(name="outcomes_by_person", steps=[lrep, arep]), report)
