"""Outcomes N years after graduation (DfE rule) and at fixed ages (the kit's age convention), with linkage flags.

:func:`outcomes_yag` and :func:`outcomes_at_age` pick, for each person, the tax year of interest and attach
person-year outcomes (any frame keyed by ``[person, TaxYear]``: earnings, sustained employment, activity
status ...) through :func:`attach_outcomes`, which also says, for every row, **why** an outcome may be missing.

What a missing outcome means
----------------------------
Every output row carries four flags, so that nobody is counted as a non-earner by accident:

* ``observed`` (int64): 1 if the tax year is within the data (``TaxYear <= last_taxyear``, 2020/21), else 0:
  outcomes are unknown, not zero.
* ``linked`` (Int64): 1 if the person owns at least one EDUKEY in ``edukey_map`` (the AE_ID -> EDUKEY lookup,
  after the kit's rule that an EDUKEY linked to several AE_IDs belongs to the smallest), else 0. A person who
  is not linked has **no** HMRC/DWP records *that we can see*: their outcome columns are always missing
  (``NaN``/``<NA>``), never zero - they are unknown, not non-earners. A missing person id counts as not linked.
* ``has_record`` (Int64): 1 if any of the outcome frames has a row for the person-year, 0 if the person is
  linked but no frame has a row (for PAYE earnings: no P14 record that year - not employed by a PAYE employer,
  self-employed, abroad, or a low earner missing from P14), ``<NA>`` if not linked.
* ``linkage_status`` (str): ``"not linkable"``, ``"linked, record"``, ``"linked, no record"`` - the same
  information as one label, for tables.

**Counts and indicators of spells are correct as they stand** (:data:`ZERO_WHEN_NO_RECORD`:
``days_employed``, ``months_employed_oct_mar``, ``sustained_employment``, ``oow_benefit_days``,
``any_oow_benefit``): 0 for a linked person with no spell in that frame in an observed tax year that the frame
covers (no employment spell = not employed), ``NaN`` for the unlinkable, the unobserved and the tax years outside
the frame's years. Use them as they are; no ``fillna(0)`` is needed.

So: any other outcome column (earnings) is missing where ``linked == 0`` (unknown), where ``has_record == 0`` (no
record that year: decide explicitly whether that means zero earnings / not employed for *your* question - e.g.
``df["paye_earnings"].where(df["linked"] == 0, df["paye_earnings"].fillna(0))``), where ``observed == 0``
(after the data end; ``has_record`` is 0 there for linked people by construction, so filter on
``observed == 1`` first), or where the frame's own value is missing.

Coverage
--------
An outcome frame can only speak for the tax years it covers. If a row asks (``observed == 1``) for a tax year
outside the range of tax years present in an outcome frame (e.g. a ``sa_earnings`` frame, which starts in
2013/14, asked for 2011/12), the functions report the gap by the kit's coverage policy (``on_gap``:
a :class:`~leokit.errors.CoverageWarning` by default, ``"raise"`` for a
:class:`~leokit.derive.CoverageError`, ``"ignore"``). An empty outcome frame, an empty population and a
selection of ages / YAGs none of which lies within the data raise :class:`~leokit.derive.DerivationError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


from leokit.errors import InputChangedWarning, SchemaError, notify
from leokit.schema import LAST_TAX_YEAR
from leokit.validation import check_join_keys
from leokit.years import yag_taxyear
from leokit.derive._common import (
    check_mapping,
    PERSON,
    DerivationError,
    as_numeric,
    format_years,
    lookup_rows,
    map_unique,
    report_gap,
    require_columns,
    require_rows,
    taxyear_at_age,
    taxyear_code,
)
from leokit.derive.earnings import annual_paye_earnings, annualised_earnings, sa_earnings, total_earnings
from leokit.derive.employment import (activity_status, days_employed, out_of_work_benefit_days, person_spells,
                                      sustained_employment)
from leokit.derive.registry import derived

__all__ = ["yag_taxyear", "outcomes_yag", "outcomes_at_age", "attach_outcomes", "linked_persons",
           "person_year_outcomes", "YAGS", "AGES", "LINKAGE_STATUSES"]

YAGS = (1, 3, 5, 10)
AGES = (25, 28, 30)
#: The values of ``linkage_status``, in this order.
LINKAGE_STATUSES = ("not linkable", "linked, record", "linked, no record")
_FLAGS = ("observed", "linked", "has_record", "linkage_status")
#: Outcome columns that are 0, not missing, for a linked person with no row in their frame (an observed tax year
#: the frame covers): no spell means no days and no sustained employment. NaN for the unlinkable.
ZERO_WHEN_NO_RECORD = ("days_employed", "months_employed_oct_mar", "sustained_employment", "oow_benefit_days",
                       "any_oow_benefit")

_WHY_MAP = ("edukey_map is required: it is the AE_ID -> EDUKEY lookup (learner_ae_id_to_edukey_lookup, or "
            "leokit.linkage.resolve_edukeys()) that tells a person with no HMRC/DWP records (a non-earner) from a "
            "person who cannot be linked to those records at all (unknown); without it unlinkable people would "
            "silently count as non-earners")


def linked_persons(edukey_map: pd.DataFrame | None, *, person_col: str = PERSON, caller: str = "linked_persons"):
    """The person ids that own at least one EDUKEY in ``edukey_map``, as a unique array.

    Ownership follows the kit's rule (``leokit.linkage.resolve_edukeys``, :func:`leokit.derive.annual_paye_earnings`):
    an EDUKEY that the lookup gives to several AE_IDs belongs to the smallest, so a person whose only EDUKEY is
    owned by another AE_ID is not linked (their records are counted for the owner). ``None`` raises
    :class:`DerivationError` explaining why the lookup is needed.
    """
    if edukey_map is None:
        raise DerivationError(f"{caller}: {_WHY_MAP}", table="edukey_map")
    pc = person_col if person_col in edukey_map.columns else PERSON
    require_columns(edukey_map, ["EDUKEY", pc], "edukey_map (learner_ae_id_to_edukey_lookup)")
    edukey_map = check_mapping(edukey_map, "EDUKEY", pc)
    m = edukey_map[["EDUKEY", pc]]
    m = m[(m["EDUKEY"].notna() & m[pc].notna()).to_numpy(dtype=bool)]
    if not m["EDUKEY"].is_unique:
        m = m.sort_values(["EDUKEY", pc], kind="stable").drop_duplicates("EDUKEY")
    return pd.unique(m[pc])


def _outcome_positions(base: pd.DataFrame, f: pd.DataFrame, keys: list[str], name: str) -> np.ndarray:
    """Row of ``f`` matching each row of ``base`` on ``keys`` (-1 = none); ``f`` must have unique keys."""
    pos = lookup_rows(base, f, keys)
    if pos is not None:
        return pos
    kf = f[keys]
    dup = kf.duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        ex = kf[dup].drop_duplicates().head(3).to_dict("records")
        raise DerivationError(
            f"{name}: {int(dup.sum()):,} rows share a ({', '.join(keys)}) with another row (e.g. {ex}); an outcome "
            "frame must have one row per person and tax year - aggregate it first (the derive functions return "
            "one row per person-year)", table=name)
    idx = pd.MultiIndex.from_frame(kf)
    return np.asarray(idx.get_indexer(pd.MultiIndex.from_frame(base[keys])), dtype="int64")


@derived(
    name="observed", label="Tax year within the data", theme="outcomes",
    definition="1 if the row's tax year is at or before the last tax year of the LEO data (TaxYear <= 202021, "
               "2020/21), else 0. Outcomes of rows with observed = 0 are unknown, not zero.",
    sources=[("leo_earnings", "TaxYear")], unit="indicator", valid_values="0, 1",
    caveats="Only the end of the data is flagged here; a tax year before the first year an outcome frame covers "
            "(e.g. self-assessment before 2013/14) is reported as a coverage gap (CoverageWarning).",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="linked", label="Person can be linked to HMRC/DWP records", theme="outcomes",
    definition="1 if the person (AE_ID) owns at least one EDUKEY in learner_ae_id_to_edukey_lookup (an EDUKEY "
               "linked to several AE_IDs is owned by the smallest AE_ID), else 0; 0 also when the person id is "
               "missing.",
    sources=[("learner_ae_id_to_edukey_lookup", "AE_ID"), ("learner_ae_id_to_edukey_lookup", "EDUKEY")],
    unit="indicator", valid_values="0, 1",
    caveats="People who are not linked have unknown outcomes: their outcome columns are always missing, never "
            "zero. Linkage to HMRC/DWP data is not complete and not random (e.g. people who left England, name or "
            "date-of-birth mismatches); report linkage rates by group.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="has_record", label="Has an outcome record in the tax year", theme="outcomes",
    definition="For linked persons: 1 if any of the outcome frames passed has a row for the person and tax year, "
               "else 0; missing for persons who are not linked.",
    sources=[("leo_earnings", "TaxYear"), ("learner_ae_id_to_edukey_lookup", "EDUKEY")],
    unit="indicator", valid_values="0, 1; missing if not linked",
    caveats="0 means no record in the frames passed, e.g. no P14 record for PAYE earnings: not working for a PAYE "
            "employer, self-employed, abroad, or a low earner missing from P14. Whether that counts as zero "
            "earnings is the analyst's decision. Rows after the data end (observed = 0) have 0 by construction.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
@derived(
    name="linkage_status", label="Linkage and record status", theme="outcomes",
    definition="'not linkable' (linked = 0), 'linked, record' (has_record = 1), 'linked, no record' "
               "(has_record = 0).",
    sources=[("learner_ae_id_to_edukey_lookup", "AE_ID"), ("leo_earnings", "TaxYear")],
    unit="category", valid_values="; ".join(LINKAGE_STATUSES),
    caveats="As linked and has_record.",
    level="person-year", status="kit", output_key=[PERSON, "TaxYear"],
)
def attach_outcomes(frame: pd.DataFrame, outcomes=None, *, edukey_map: pd.DataFrame | None,
                    person_col: str = PERSON, last_taxyear: int = LAST_TAX_YEAR, on_gap: str = "warn",
                    name: str = "frame") -> pd.DataFrame:
    """Attach person-year outcomes to ``frame`` (rows keyed by ``[person_col, TaxYear]``) with linkage flags.

    Returns ``frame`` (every column, every row, in order) plus ``observed``, ``linked``, ``has_record``,
    ``linkage_status`` and the columns of each outcome frame (numeric columns as float64 with NaN, others with
    ``<NA>``/``None``). Missing values are explained in the module docstring: outcome columns are missing where
    ``linked == 0`` (unknown - never zero), ``has_record == 0`` (no record), ``observed == 0`` (after the data).

    ``outcomes``: a frame or list of frames, each with one row per ``[person_col, TaxYear]`` and columns not
    already in ``frame`` or in another outcome frame. ``edukey_map``: the AE_ID -> EDUKEY lookup (required).
    ``on_gap``: what to do when a row asks for a tax year outside the years an outcome frame covers
    (``"warn"``, ``"raise"``, ``"ignore"``). With no outcome frames (``outcomes=None``) only the flags are added
    and ``has_record`` is 0 for every linked row (there is nothing to have a record in).
    """
    require_columns(frame, [person_col, "TaxYear"], name)
    owners = linked_persons(edukey_map, person_col=person_col, caller=name)
    frame = _align_person(frame, person_col, owners, name)
    taken = [c for c in _FLAGS if c in frame.columns]
    if taken:
        raise DerivationError(f"{name}: already has column(s) {taken}, which attach_outcomes adds; drop or rename "
                              "them first", table=name)
    out = frame.reset_index(drop=True)
    return _attach_flagged(out, outcomes, _is_linked(out[person_col], owners), person_col=person_col,
                           last_taxyear=last_taxyear, on_gap=on_gap, name=name)


def _align_person(frame: pd.DataFrame, person_col: str, owners, what: str) -> pd.DataFrame:
    """``frame`` with its person ids of the same kind as the lookup's (text ``"17"`` vs the number 17 would make
    every person "not linkable"): cast with a warning, or refused naming both frames and the column."""
    if person_col not in frame.columns or not len(owners):
        return frame
    own = pd.DataFrame({person_col: owners})
    try:
        out, _, notes = check_join_keys(frame, person_col, what, own, person_col, "edukey_map",
                                        kind="int" if person_col == PERSON else None)
    except SchemaError as e:
        raise DerivationError(str(e), table=what, problems=e.problems) from None
    if notes:
        notify(InputChangedWarning, f"{what}: person ids normalised to match the edukey_map: " + "; ".join(notes), "leokit.derive")
    return out


def _is_linked(pid: pd.Series, owners) -> np.ndarray:
    """True where the person id is one of ``owners`` (never for a missing id)."""
    linked = map_unique(pid, pd.Series(owners)) >= 0 if len(owners) else np.zeros(len(pid), dtype=bool)
    return linked & pid.notna().to_numpy(dtype=bool)


def _attach_flagged(out: pd.DataFrame, outcomes, linked: np.ndarray, *, person_col: str, last_taxyear: int,
                    on_gap: str, name: str) -> pd.DataFrame:
    """The body of :func:`attach_outcomes`, with ``linked`` (one bool per row of ``out``) already known."""
    ty = as_numeric(out["TaxYear"], name, "TaxYear").to_numpy()
    observed = ty <= last_taxyear
    hit_any = np.zeros(len(out), dtype=bool)
    frames = outcomes if isinstance(outcomes, (list, tuple)) else ([] if outcomes is None else [outcomes])
    keys = [person_col, "TaxYear"]
    cols: dict[str, object] = {}
    gaps: list[str] = []
    for i, f in enumerate(frames):
        if f is None:
            continue
        fname = f"outcomes frame {i + 1}" if len(frames) > 1 else "outcomes frame"
        require_columns(f, keys, fname)
        vcols = [c for c in f.columns if c not in keys]
        fname += f" ({', '.join(map(str, vcols[:4]))}{', ...' if len(vcols) > 4 else ''})"
        require_rows(f, fname, "an empty outcome frame cannot tell a person with no record from missing data")
        clash = [c for c in vcols if c in out.columns or c in cols]
        if clash:
            raise DerivationError(f"{fname}: column(s) {clash} are already in the population frame or in an earlier "
                                  "outcome frame; pass each column once (select columns, e.g. "
                                  f"frame[{[person_col, 'TaxYear'] + clash[:1]}])", table=fname)
        fty = as_numeric(f["TaxYear"], fname, "TaxYear")
        lo, hi = float(np.nanmin(fty.to_numpy())), float(np.nanmax(fty.to_numpy()))
        ask = observed & linked & ((ty < lo) | (ty > hi))
        if ask.any():
            gaps.append(f"{fname} covers tax years {int(lo)}..{int(hi)} but {int(ask.sum()):,} linked, observed "
                        f"row(s) ask for {format_years(np.unique(ty[ask]).astype('int64'))}")
        f = f.reset_index(drop=True)
        if not pd.api.types.is_integer_dtype(f["TaxYear"].dtype) and pd.api.types.is_integer_dtype(out["TaxYear"].dtype):
            f = f.assign(TaxYear=fty)
        pos = _outcome_positions(out, f, keys, fname)
        hit = pos >= 0
        hit_any |= hit
        idx = np.where(hit, pos, 0)
        for c in vcols:
            col = f[c]
            if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_extension_array_dtype(col.dtype):
                v = col.to_numpy(dtype="float64")[idx] if len(col) else np.zeros(len(out))
                if c in ZERO_WHEN_NO_RECORD:  # no spell = 0, where the frame could have had one
                    covered = observed & (ty >= lo) & (ty <= hi)
                    cols[c] = np.where(hit & linked, v, np.where(linked & covered, 0.0, np.nan))
                else:
                    cols[c] = np.where(hit & linked, v, np.nan)
            else:
                cols[c] = col.iloc[idx].reset_index(drop=True).where(pd.Series(hit & linked))
    if gaps:
        report_gap(f"{name}: outcome frames do not cover every tax year asked for (rows outside a frame's years "
                   "would read as 'linked, no record'): " + "; ".join(gaps), on_gap)
    out["observed"] = observed.astype("int64")
    out["linked"] = pd.array(linked.astype("int64"), dtype="Int64")
    out["has_record"] = pd.arrays.IntegerArray(hit_any.astype("int64"), ~linked)
    status = np.where(~linked, LINKAGE_STATUSES[0], np.where(hit_any, LINKAGE_STATUSES[1], LINKAGE_STATUSES[2]))
    out["linkage_status"] = pd.Series(status, index=out.index).astype(str)
    if cols:
        out = pd.concat([out, pd.DataFrame(cols, index=out.index)], axis=1)
    return out


def _population(frame: pd.DataFrame, person_col: str, key: str, what: str, points: np.ndarray, point_col: str,
                hint: str, owners) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Repeat every row of ``frame`` once per point; returns the repeated frame, its ``key`` values (int64) and
    whether each repeated row's person is linked (computed once per person, then repeated)."""
    require_columns(frame, [person_col, key], what)
    require_rows(frame, what, hint)
    taken = [c for c in (point_col, "TaxYear") + _FLAGS if c in frame.columns]
    if taken:
        raise DerivationError(f"{what}: already has column(s) {taken}, which the output adds; drop or rename them "
                              "first", table=what)
    pid = frame[person_col]
    dup = (pid.duplicated(keep=False) & pid.notna()).to_numpy(dtype=bool)
    if dup.any():
        ex = list(pd.unique(pid[dup]))[:3]
        raise DerivationError(
            f"{what}: {len(pd.unique(pid[dup])):,} {person_col} values occur in more than one row (e.g. {ex}); the "
            f"output has one row per person and {point_col}, so each person must appear once - de-duplicate first "
            f"(e.g. frame.drop_duplicates({person_col!r}) after choosing which row to keep). An AE_ID with several "
            "PMRs is one person (leokit.linkage.person_lookup).", table=what)
    k = as_numeric(frame[key], what, key)
    if k.isna().any():
        raise DerivationError(f"{what}: {int(k.isna().sum()):,} rows have no {key}; {hint}", table=what)
    n = len(frame)
    linked = _is_linked(pid.reset_index(drop=True), owners)
    rows = np.repeat(np.arange(n), len(points))
    base = frame.iloc[rows].reset_index(drop=True)
    base[point_col] = np.tile(points, n)
    return base, k.to_numpy(dtype="int64")[rows], linked[rows]


def _no_observed(base: pd.DataFrame, last_taxyear: int, what: str, point_col: str) -> None:
    if len(base) and not (base["TaxYear"] <= last_taxyear).any():
        raise DerivationError(
            f"{what}: none of the requested {point_col} values falls within the data (tax years up to "
            f"{last_taxyear}): every row would be unobserved. Asked for tax years "
            f"{format_years(np.unique(base['TaxYear'].to_numpy()) // 100)} (start years)", table=what)


@derived(
    name="yag", label="Years after graduation", theme="outcomes",
    definition="N = 1, 3, 5, 10: the Nth full tax year after the academic year of graduation, i.e. TaxYear starting in "
               "April of graduation_year + N (graduation_year = end year of the academic year). Example: 2018/19 "
               "graduates -> 1 YAG = 2020/21 (202021), 3 YAG = 2022/23; the tax year overlapping graduation (2019/20) "
               "is skipped [GO-METH].",
    sources=[("hesa_2015", "HE_XPQUAL01"), ("leo_earnings", "TaxYear")],
    unit="years", valid_values="1, 3, 5, 10",
    caveats="Outcome years after 2020/21 are not observed: rows are returned with observed = 0. Every row also "
            "carries linked / has_record / linkage_status: graduates who cannot be linked to HMRC/DWP data have "
            "missing outcomes, never zeros.",
    level="person-year", status="documented", output_key=[PERSON, "yag"],
)
def outcomes_yag(graduates: pd.DataFrame, outcomes=None, *, edukey_map: pd.DataFrame | None, yags=YAGS,
                 person_col: str = PERSON, last_taxyear: int = LAST_TAX_YEAR, on_gap: str = "warn") -> pd.DataFrame:
    """One row per graduate and YAG: every column of ``graduates``, then ``yag``, ``TaxYear``, ``observed``,
    ``linked``, ``has_record``, ``linkage_status`` and the outcome columns.

    ``graduates``: one row per graduate with ``[person_col, graduation_year]`` (e.g. :func:`leokit.derive.graduation`
    mapped to AE_ID with :func:`leokit.derive.pmr_to_person`; rows with a missing person id are kept and count as
    not linkable). ``outcomes``: a frame or list of frames keyed by ``[person_col, TaxYear]`` (one row each).
    ``edukey_map`` (required): the AE_ID -> EDUKEY lookup, ``learner_ae_id_to_edukey_lookup`` or
    ``leokit.linkage.resolve_edukeys()``.

    Missing outcomes: ``linked == 0`` - the graduate cannot be linked to HMRC/DWP data, outcome unknown (never
    zero); ``has_record == 0`` - linked but no record in the frames that tax year (e.g. no PAYE employment);
    ``observed == 0`` - the tax year is after the data end (2020/21). See :mod:`leokit.derive.outcomes`.

    Raises :class:`DerivationError` if ``graduates`` is empty, a person appears twice, a graduation year is
    missing, or no requested YAG falls within the data; ``on_gap`` governs tax years outside an outcome frame's
    years (see :func:`attach_outcomes`).

    Example::

        >>> import pandas as pd, leokit.derive as d
        >>> grads = pd.DataFrame({"AE_ID": [1, 2], "graduation_year": [2015, 2015]})
        >>> lookup = pd.DataFrame({"AE_ID": [1], "EDUKEY": ["K1"]})
        >>> paye = pd.DataFrame({"AE_ID": [1], "TaxYear": [201617], "paye_earnings": [21000.0]})
        >>> d.outcomes_yag(grads, paye, edukey_map=lookup, yags=[1])[["AE_ID", "TaxYear", "linkage_status",
        ...                                                          "paye_earnings"]]
           AE_ID  TaxYear   linkage_status  paye_earnings
        0      1   201617   linked, record        21000.0
        1      2   201617     not linkable            NaN
    """
    y = np.asarray(yags, dtype="int64")
    owners = linked_persons(edukey_map, person_col=person_col, caller="outcomes_yag")
    graduates = _align_person(graduates, person_col, owners, "graduates")
    base, gy, linked = _population(graduates, person_col, "graduation_year", "graduates", y, "yag",
                                   "outcomes_yag needs graduates only: select the rows with a graduation_year "
                                   "(e.g. the output of leokit.derive.graduation)", owners)
    base["TaxYear"] = yag_taxyear(gy, base["yag"].to_numpy())
    _no_observed(base, last_taxyear, "graduates", "yag")
    return _attach_flagged(base, outcomes, linked, person_col=person_col, last_taxyear=last_taxyear, on_gap=on_gap,
                           name="outcomes_yag")


@derived(
    name="age_taxyear", label="Tax year at a given age", theme="outcomes",
    definition="For age A = 25, 28, 30 and KS4 year C (end year of the KS4 academic year): the tax year starting in "
               "April of C + A - 17 (leokit.years.taxyear_at_age). Convention age_in_taxyear(T, C) = T - C + 17: the "
               "age the whole cohort has reached by 31 August T+1. Example: KS4 2009/10 (C = 2010) -> age 25 in "
               "2018/19 (201819).",
    sources=[("KS4Pupil_2002_to_2014", "KS4_ACADYR"), ("leo_earnings", "TaxYear")],
    unit="years of age", valid_values="25, 28, 30",
    caveats="Pupils born September - 5 April reach age A during that tax year; those born 6 April - August reach it "
            "a few months after it ends (the synthetic generator places its 'age 29' outcome with the same "
            "function). Out-of-year pupils (KS4 taken early/late) are placed by their KS4 year. Every row also "
            "carries linked / has_record / linkage_status: pupils who cannot be linked to HMRC/DWP data have "
            "missing outcomes, never zeros.",
    level="person-year", status="kit", output_key=[PERSON, "age"],
)
def outcomes_at_age(cohort: pd.DataFrame, outcomes=None, *, edukey_map: pd.DataFrame | None, ages=AGES,
                    person_col: str = PERSON, last_taxyear: int = LAST_TAX_YEAR, on_gap: str = "warn") -> pd.DataFrame:
    """One row per person and age: every column of ``cohort``, then ``age``, ``TaxYear``, ``observed``,
    ``linked``, ``has_record``, ``linkage_status`` and the outcome columns.

    ``cohort``: one row per person with ``[person_col, ks4_year]`` (e.g. :func:`leokit.derive.ks4_attainment`
    with :func:`leokit.derive.fsm_ever6`, mapped to AE_ID with ``pmr_to_person(..., how="left")``; rows whose
    person id is missing are kept and count as not linkable). ``outcomes``: frame(s) keyed by
    ``[person_col, TaxYear]``. ``edukey_map`` (required): the AE_ID -> EDUKEY lookup.

    Missing outcomes: ``linked == 0`` - the person cannot be linked to HMRC/DWP data, outcome unknown (never
    zero); ``has_record == 0`` - linked but no record in the frames that tax year; ``observed == 0`` - after the
    data end (2020/21). See :mod:`leokit.derive.outcomes`.

    Raises :class:`DerivationError` if ``cohort`` is empty, a person appears twice, a KS4 year is missing, or
    no requested age falls within the data (e.g. age 25 for the KS4 2016 cohort, tax year 2024/25).

    Example::

        >>> import pandas as pd, leokit.derive as d
        >>> cohort = pd.DataFrame({"AE_ID": [1, 2, 3], "ks4_year": [2010] * 3, "fsm": [1, 0, 0]})
        >>> lookup = pd.DataFrame({"AE_ID": [1, 2], "EDUKEY": ["K1", "K2"]})
        >>> paye = pd.DataFrame({"AE_ID": [1], "TaxYear": [201819], "paye_earnings": [19000.0]})
        >>> d.outcomes_at_age(cohort, paye, edukey_map=lookup, ages=[25])[["AE_ID", "fsm", "TaxYear", "linked",
        ...                                                               "has_record", "paye_earnings"]]
           AE_ID  fsm  TaxYear  linked  has_record  paye_earnings
        0      1    1   201819       1           1        19000.0
        1      2    0   201819       1           0            NaN
        2      3    0   201819       0        <NA>            NaN
    """
    a = np.asarray(ages, dtype="int64")
    owners = linked_persons(edukey_map, person_col=person_col, caller="outcomes_at_age")
    cohort = _align_person(cohort, person_col, owners, "cohort")
    base, c, linked = _population(cohort, person_col, "ks4_year", "cohort", a, "age",
                                  "every person needs the KS4 year that fixes their age (leokit.derive.ks4_attainment)",
                                  owners)
    base["TaxYear"] = taxyear_code(taxyear_at_age(base["age"].to_numpy(), c))
    _no_observed(base, last_taxyear, "cohort", "age")
    return _attach_flagged(base, outcomes, linked, person_col=person_col, last_taxyear=last_taxyear, on_gap=on_gap,
                           name="outcomes_at_age")


def _attach(base: pd.DataFrame, frames, person_col: str) -> pd.DataFrame:
    """Left-join outcome frames with unique ``[person, TaxYear]`` rows onto ``base`` (internal, no flags)."""
    out = base.reset_index(drop=True)
    keys = [person_col, "TaxYear"]
    for f in frames:
        f = f.reset_index(drop=True)
        pos = _outcome_positions(out, f, keys, "outcomes")
        hit = pos >= 0
        idx = np.where(hit, pos, 0)
        cols = {}
        for c in f.columns:
            if c in keys or c in out.columns:
                continue
            col = f[c]
            if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_extension_array_dtype(col.dtype):
                v = col.to_numpy(dtype="float64")[idx] if len(col) else np.zeros(len(out))
                cols[c] = np.where(hit, v, np.nan)
            else:
                cols[c] = col.iloc[idx].reset_index(drop=True).where(pd.Series(hit))
        out = pd.concat([out, pd.DataFrame(cols, index=out.index)], axis=1)
    return out


def person_year_outcomes(
    edukey_map: pd.DataFrame | None,
    *,
    leo_earnings: pd.DataFrame | None = None,
    leo_self_assessment: pd.DataFrame | None = None,
    leo_employment: pd.DataFrame | None = None,
    leo_benefit: pd.DataFrame | None = None,
    study: pd.DataFrame | None = None,
    sa_counts_as_sustained: bool = False,
    person_col: str = PERSON,
) -> pd.DataFrame:
    """All LEO person-year outcomes in one frame (a convenience wrapper around the registered functions).

    One row per person (AE_ID) and tax year **with a record in at least one of the given tables**:
    ``paye_earnings``, ``sa_earnings``, ``total_earnings``, ``has_paye``, ``has_sa``, ``days_employed``,
    ``annualised_earnings``, ``months_employed_oct_mar``, ``sustained_employment``, ``oow_benefit_days``,
    ``any_oow_benefit`` and, with everything else, ``activity_status`` / ``go_category`` (``study``: person-years in
    further study, e.g. :func:`leokit.derive.hesa_study_taxyears`). Within these rows, counts and flags are 0
    where a table has no record for the person-year; earnings stay missing. ``sa_counts_as_sustained``: pass the
    SA earnings to :func:`sustained_employment` (self-employment counts as sustained).

    ``edukey_map`` (required): the AE_ID -> EDUKEY lookup. Person-years with no record anywhere - and people who
    cannot be linked at all - are **not** rows here: pass this frame to :func:`outcomes_at_age` or
    :func:`outcomes_yag` to get one row per person of your population, with ``linked`` / ``has_record`` /
    ``linkage_status`` saying which missing values are "no record" and which are "cannot be linked".
    """
    if edukey_map is None:
        raise DerivationError(f"person_year_outcomes: {_WHY_MAP}", table="edukey_map")
    pc = person_col
    parts = []
    paye = annual_paye_earnings(leo_earnings, edukey_map, person_col=pc) if leo_earnings is not None else None
    sa = sa_earnings(leo_self_assessment, edukey_map, person_col=pc) if leo_self_assessment is not None else None
    tot = None
    if paye is not None:
        tot = total_earnings(paye, sa, person_col=pc)
        parts.append(tot)
    elif sa is not None:
        empty = pd.DataFrame({pc: sa[pc].iloc[:0], "TaxYear": pd.Series([], dtype="int64"),
                              "paye_earnings": pd.Series([], dtype="float64")})
        tot = total_earnings(empty, sa, person_col=pc)
        parts.append(tot)
    days = sus = None
    if leo_employment is not None:
        spells = person_spells(leo_employment, edukey_map, person_col=pc, frame="leo_employment")
        days = days_employed(None, edukey_map, person_col=pc, spells=spells)
        sus = sustained_employment(None, edukey_map, person_col=pc, spells=spells,
                                   sa=sa if sa_counts_as_sustained else None)
        parts += [days, sus]
    ben = out_of_work_benefit_days(leo_benefit, edukey_map, person_col=pc) if leo_benefit is not None else None
    if ben is not None:
        parts.append(ben)
    if not parts:
        raise DerivationError("person_year_outcomes: give at least one LEO table")
    keys = pd.concat([p[[pc, "TaxYear"]] for p in parts], ignore_index=True).drop_duplicates()
    keys = keys.sort_values([pc, "TaxYear"], kind="stable").reset_index(drop=True)
    out = _attach(keys, parts, pc)
    if paye is not None and days is not None:
        ann = annualised_earnings(paye, days, person_col=pc)[[pc, "TaxYear", "annualised_earnings"]]
        out = _attach(out, [ann], pc)
    for c in ("has_paye", "has_sa", "days_employed", "months_employed_oct_mar", "sustained_employment",
              "oow_benefit_days", "any_oow_benefit"):
        if c in out.columns:
            out[c] = out[c].fillna(0).astype("int64")
    if days is not None and tot is not None and ben is not None:
        out = activity_status(out, sustained=out, days=out, earnings=out, benefits=out, study=study, person_col=pc)
    return out
