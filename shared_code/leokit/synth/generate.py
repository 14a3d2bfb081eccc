"""Orchestrator: ``leokit.synth.generate(out, seed, scale, cohorts, truth)`` writes the synthetic SRS.

Random streams: ``np.random.SeedSequence(seed).spawn(2)`` gives one child stream for the education
side (this package) and one for the labour side (``leokit.synth.labour.simulate_labour``), so a
change in one side's draws never shifts the other's. Same seed, scale, cohorts and truth give
byte-identical files.

Output layout: ``out/<database>/<table>.parquet`` for every SRS database (npd_i2, hesa_i2, lilr_i2,
ucas_i2, leo_i2, public) plus ``out/truth/truth_*.parquet``, ``out/truth.json`` and the manifest
``out/leokit_manifest.json`` (every file written, :mod:`leokit.synth.manifest`). Floats are quantised at write
time (precision rule in :mod:`leokit.synth.writer`; the realised statistics in truth.json to 10 significant
digits, the planted values as given), so the bytes do
not depend on the machine, the BLAS or the NumPy minor version.

``cohorts`` changes every cohort's people: the population of all cohorts is drawn at once, so the 2005 cohort
of ``--cohorts 12`` is not the 2005 cohort of ``--cohorts 4``.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from leokit import schema as S
from leokit.errors import GeneratorInputError
from leokit.synth import truth as T
from leokit.synth.manifest import check_output, write_manifest

from leokit.synth.education import simulate_education
from leokit.synth.labour import simulate_labour
from leokit.synth.params import GENERATOR_VERSION, MESSINESS
from leokit.synth.population import build_geography, build_people
from leokit.synth.tables import (assign_ids, build_census, build_hesa, build_ilr, build_ks2, build_ks4, build_ks5,
                                 build_lookups, build_public, census_years)
from leokit.synth.ucas import build_ucas_tables, contextual_truth
from leokit.synth.writer import frame_to_arrow, to_arrow, write_parquet

__all__ = ["generate", "check_inputs", "PEOPLE_COLUMNS", "education_side", "MAX_SCALE", "MIN_SCALE"]

#: The ``people`` interface handed to ``simulate_labour`` (contract; extra columns may follow).
PEOPLE_COLUMNS = [
    "person_id", "ae_id", "cohort", "sex", "birth_year", "birth_month", "ability", "background", "fsm_ever6",
    "region", "lsoa11cd", "idaci_score", "school_id", "ks2_z", "ks4_z", "alevel_points", "he_entry", "he_entry_year",
    "provider_id", "tariff_group", "subject_group", "degree", "degree_class", "grad_year", "highest_level",
    "contextual_eligible", "ucas_applicant", "edukey", "edukey2",
]
#: Extra person columns written to truth_person (beyond PEOPLE_COLUMNS).
TRUTH_EXTRA = [
    "pmr", "pmr2", "recordid", "edukey_linked", "in_ks4", "ks2_observed", "ks2_loo_mean", "school_effect",
    "fsm_ks4", "ethnic_minor", "eal", "sen", "primary_id", "la_idx", "move_ncyear", "left_ncyear", "gap_from",
    "gap_to", "ks4_level2", "alevel_n", "predicted_points", "sixth_form", "fe_learner", "apprentice",
    "fe_achieved", "via_ucas", "contextual_entrant", "contextual_offer_holder", "course_length", "years_studied",
    "exit_award",
]
_DATABASES = ("npd_i2", "hesa_i2", "lilr_i2", "ucas_i2", "leo_i2", "public", "truth")


def _bar(total: int, enabled: bool):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="leokit generate", unit="step", file=sys.stderr,
                disable=not (enabled and sys.stderr.isatty()), leave=False)


def education_side(rng: np.random.Generator, scale: int, cohorts: int, truth: Mapping[str, Any]):
    """Simulate the population and education side. Returns (people-frame P, fsm history, geo, edu, ucas)."""
    geo = build_geography(rng, scale)
    P, fsm = build_people(rng, geo, scale, cohorts, S.FIRST_KS4_YEAR, dict(truth))
    assign_ids(rng, P)
    edu = simulate_education(rng, P, dict(truth))
    edu["geo"] = geo
    uc = build_ucas_tables(rng, P, edu, dict(truth))
    for c in P.columns:  # object-dtype strings: cheap repeated .to_numpy(dtype=object) in the table builders
        if P[c].dtype.kind not in "iufbM" and P[c].dtype != object:
            P[c] = pd.Series(P[c].to_numpy(dtype=object), index=P.index, dtype=object)
    return P, fsm, geo, edu, uc


def _edu_realised(P: pd.DataFrame, tables_rows: dict, census_stats: dict) -> dict:
    r: dict[str, Any] = {}
    r["n_persons"] = int(len(P))
    r["share_fsm_ever6"] = float(P["fsm_ever6"].mean())
    r["share_a_levels"] = float((P["alevel_n"] > 0).mean())
    r["share_ucas_applicant"] = float(P["ucas_applicant"].mean())
    r["share_he_entry"] = float(P["he_entry"].mean())
    r["share_degree"] = float(P["degree"].mean())
    for f in (0, 1):
        m = P["fsm_ever6"] == f
        r[f"share_degree_fsm{f}"] = float(P.loc[m, "degree"].mean()) if m.any() else None
    g = P["degree"] == 1
    r["degree_class_shares"] = {k: float(v) for k, v in P.loc[g, "degree_class"].value_counts(normalize=True).sort_index().items()}
    r["tariff_group_shares_entrants"] = {k: float(v) for k, v in P.loc[P["he_entry"] == 1, "tariff_group"].value_counts(normalize=True).sort_index().items()}
    r["highest_level_shares"] = {str(k): float(v) for k, v in P["highest_level"].value_counts(normalize=True).sort_index().items()}
    r["corr_ks2_ks4"] = float(np.corrcoef(P["ks2_z"], P["ks4_z"])[0, 1])
    r["messiness_education"] = census_stats
    return r


#: Largest ``scale`` (pupils per KS4 cohort) :func:`generate` accepts: 1,000,000, about 1.7 times England's
#: KS4 cohort (about 600,000), so an England-sized extract (600,000 x 4 cohorts, several GB of memory and
#: several minutes) can be made while a typo (1e9) is refused before minutes of work and gigabytes of files.
MAX_SCALE = 1_000_000
#: Smallest ``scale``: below 50 pupils per cohort schools, providers and enterprises have too few members.
MIN_SCALE = 50


def _whole(name: str, value: Any, lo: int, hi: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise GeneratorInputError(f"generate: {name} must be a whole number, found {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"at least {lo:,}" if hi is None else f"in [{lo:,}, {hi:,}]"
        raise GeneratorInputError(f"generate: {name} must be {rng}, found {value:,}")
    return int(value)


def check_inputs(seed: Any, scale: Any, cohorts: Any, truth: Mapping[str, Any] | str | Path | None
                 ) -> tuple[int, int, int, dict[str, Any], dict[str, Any]]:
    """The checked ``(seed, scale, cohorts, override, merged truth)`` of a :func:`generate` call, or
    :class:`~leokit.errors.GeneratorInputError` (one line naming the input and its allowed range): ``seed`` a
    whole number >= 0, ``scale`` in [:data:`MIN_SCALE`, :data:`MAX_SCALE`], ``cohorts`` from 1 to the last
    cohort with two years of follow-up, every ``truth`` key in its documented range
    (:data:`leokit.synth.truth.RANGES`)."""
    seed = _whole("seed", seed, 0, None)
    scale = _whole("scale (pupils per KS4 cohort)", scale, MIN_SCALE, MAX_SCALE)
    cohorts = _whole("cohorts", cohorts, 1, S.LAST_ACADEMIC_YEAR - 2 - S.FIRST_KS4_YEAR + 1)
    raw = T.read_override(truth) if isinstance(truth, (str, Path)) else (dict(truth) if truth else None)
    override = T.check_override(raw)
    return seed, scale, cohorts, override, T.merge_truth(override)


def generate(out: str | Path, seed: int = 20261129, scale: int = 2500, cohorts: int = S.DEFAULT_COHORTS,
             truth: Mapping[str, Any] | str | Path | None = None, progress: bool = True,
             overwrite: bool = False) -> dict:
    """Generate the synthetic LEO/NPD extract into ``out``; returns a summary dict.

    Parameters
    ----------
    out : str or Path
        Output folder: new, empty, or (with ``overwrite``) a previous output of the generator, whose listed
        files are replaced (:mod:`leokit.synth.manifest`); anything else raises
        :class:`~leokit.errors.OutputFolderError` before anything is written.
    seed, scale, cohorts : int
        Random seed (>= 0; the same seed, scale, cohorts and truth give the same bytes), pupils per KS4 cohort
        (:data:`MIN_SCALE` to :data:`MAX_SCALE`) and consecutive KS4 cohorts from 2005. Changing ``cohorts``
        changes every cohort's people, not only the number of cohorts (the draws are made for all cohorts at
        once).
    truth : None, mapping or path
        None (defaults), a dict of overrides, or a path to a JSON override file; every key is checked against
        its documented range (:data:`leokit.synth.truth.RANGES`) before anything is written.
    progress : bool
        Show a progress bar on a terminal.
    overwrite : bool
        Replace a previous output of the generator in ``out``.

    Returns
    -------
    dict
        ``out``, ``tables`` (name -> rows), ``files`` (name -> path), ``truth`` (merged parameters),
        ``realised``, ``seconds`` and ``timings``.

    Raises
    ------
    GeneratorInputError
        An input out of range (one line naming it); nothing has been written.
    OutputFolderError
        ``out`` may not be written into (see ``out``); nothing has been written.
    """
    t_start = time.perf_counter()
    seed, scale, cohorts, override, tr = check_inputs(seed, scale, cohorts, truth)
    previous = check_output(out, overwrite)
    out = Path(out)
    ss = np.random.SeedSequence(int(seed))
    edu_ss, lab_ss = ss.spawn(2)
    rng = np.random.default_rng(edu_ss)
    rng_lab = np.random.default_rng(lab_ss)
    written: list[str] = []
    rows: dict[str, int] = {}
    files: dict[str, str] = {}
    bar = _bar(8, progress)

    timings: dict[str, float] = {}
    t_last = [time.perf_counter()]

    def step(msg):
        now = time.perf_counter()
        timings[msg] = round(now - t_last[0], 2)
        t_last[0] = now
        bar.set_postfix_str(msg)
        bar.update(1)

    pool = ThreadPoolExecutor(max_workers=2)  # Parquet compression releases the GIL
    pending = []

    def put(name, cols):
        sch = S.get_schema(name)
        t = to_arrow(sch, cols)
        p = out / sch.database / f"{sch.name}.parquet"
        record(p.relative_to(out).as_posix())
        pending.append(pool.submit(write_parquet, t, p))
        rows[name] = t.num_rows
        files[name] = str(p.relative_to(out))

    # the education side checks the entry effect against B(cutoff): it runs before anything is written
    P, fsm, geo, edu, uc = education_side(rng, scale, cohorts, tr)
    out.mkdir(parents=True, exist_ok=True)
    write_manifest(out, previous, complete=False)  # a run that stops half way is recognised and cleaned by a rerun
    (out / "truth.json").unlink(missing_ok=True)  # ... and never looks complete (synth.cache)
    for f in previous:  # the previous output's files (the new run rewrites most of them; stale ones go)
        (out / f).unlink(missing_ok=True)

    def record(rel: str) -> None:
        written.append(rel)
        write_manifest(out, [*previous, *written], complete=False)

    step("education simulated")
    # education tables (census first; ILR assigns RECORDIDs before lookups)
    mess: dict[str, float] = {}
    n_rows = n_dup = n_lsoa_na = n_eth_na = n_fsm_na = 0
    census_cache: dict = {}
    for y in census_years(P):
        cols = build_census(rng, P, fsm, geo, y, cache=census_cache)
        sfx = S.census_suffix(y)
        main = cols["RecordStatus" + sfx] == 1
        n_rows += int(main.sum())
        n_dup += int((~main).sum())
        area = cols.get("LLSOA" + sfx, cols.get("LSOA11" + sfx))
        n_lsoa_na += int(area.is_null().to_numpy(zero_copy_only=False)[main].sum())
        n_eth_na += int(cols["EthnicGroupMinor" + sfx].is_null().to_numpy(zero_copy_only=False)[main].sum())
        n_fsm_na += int(np.isnan(cols["FSMeligible" + sfx][main].astype(float)).sum())
        put(S.census_table_name(y), cols)
    mess["census_duplicate_rows"] = n_dup / max(n_rows, 1)
    mess["census_missing_lsoa"] = n_lsoa_na / max(n_rows, 1)
    mess["census_missing_ethnicity"] = n_eth_na / max(n_rows, 1)
    mess["census_missing_fsm"] = n_fsm_na / max(n_rows, 1)
    del census_cache
    gap = P["gap_to"].to_numpy() >= P["gap_from"].to_numpy()
    mess["census_temporary_gap"] = float(gap.mean())
    mess["lsoa_movers"] = float((P["move_ncyear"] > 0).mean())
    step("census written")
    ks4 = build_ks4(rng, P, geo)
    n4 = n4m = n4i = 0
    for cols in ks4.values():
        pm = pd.Series(cols["KS4_PupilMatchingRefAnonymous"])
        n4 += pm.nunique()
        n4m += int((pm.value_counts() > 1).sum())
        n4i += int(np.isnan(cols["KS4_IDACI"]).sum())
    mess["ks4_multiple_records"] = n4m / max(n4, 1)
    mess["ks4_missing_idaci"] = n4i / max(sum(len(c["KS4_IDACI"]) for c in ks4.values()), 1)
    mess["ucas_unlinked_pmr"] = float(pd.isna(uc["ucas_applicants"]["PupilMatchingRefAnonymous"]).mean()) if len(
        uc["ucas_applicants"]["unique_id_cycle"]) else 0.0
    for name, cols in {**build_ks2(rng, P, fsm, geo), **ks4, **build_ks5(rng, P, fsm, geo, edu["alevel"])}.items():
        put(name, cols)
    for name, cols in build_hesa(rng, P, edu["providers"]).items():
        put(name, cols)
    for name, cols in build_ilr(rng, P, geo).items():
        put(name, cols)
    for name in ("ucas_applicants", "ucas_applications", "ucas_qualifications"):
        put(name, uc[name])
    for name, cols in build_lookups(P).items():
        put(name, cols)
    for name, cols in build_public(geo, edu["providers"]).items():
        put(name, cols)
    step("education tables written")
    # people interface -> labour side
    people = P[PEOPLE_COLUMNS].copy()
    for c in ("provider_id", "tariff_group", "subject_group", "degree_class", "edukey2"):
        people[c] = people[c].astype(object)
    lab = simulate_labour(people, dict(tr), rng_lab, last_tax_year=S.LAST_TAX_YEAR,
                          progress=(lambda m: bar.set_postfix_str(str(m))) if progress else None)
    step("labour simulated")
    lab_realised = dict(lab.pop("_realised", {}) or {})
    for name, df in lab.items():
        if name.startswith("truth_"):
            continue
        put(name, {c: df[c] for c in df.columns})
    step("labour tables written")
    # truth tables
    tp = P[PEOPLE_COLUMNS + TRUTH_EXTRA].copy()
    lab_tp = lab.get("truth_person")
    if lab_tp is not None:
        add = lab_tp[[c for c in lab_tp.columns if c == "person_id" or c not in tp.columns]]
        tp = tp.merge(add, on="person_id", how="left", sort=False)
    tp = tp.sort_values("person_id", kind="stable").reset_index(drop=True)
    ctx_df, ctx_r = contextual_truth(P, edu, uc, tr)
    truth_tables = {"truth_person": tp, "truth_contextual": ctx_df}
    for name, df in lab.items():
        if name.startswith("truth_") and name != "truth_person":
            truth_tables[name] = df
    for name, df in truth_tables.items():
        p = out / "truth" / f"{name}.parquet"
        record(p.relative_to(out).as_posix())
        pending.append(pool.submit(write_parquet, frame_to_arrow(df), p))
        rows[name] = len(df)
        files[name] = str(p.relative_to(out))
    step("truth tables built")
    for f in pending:
        f.result()
    pool.shutdown()
    step("truth tables written")
    # realised messiness on identifiers
    mess["ae_id_two_pmrs"] = float(P["pmr2"].notna().mean())
    mess["ae_id_two_edukeys"] = float(P["edukey2"].notna().mean())
    mess["no_edukey_link"] = float(1 - P["edukey_linked"].mean())
    mess["ks2_missing"] = float(1 - P["ks2_observed"].mean())
    mess["left_state_schools"] = float(1 - P["in_ks4"].mean())
    realised = {**_edu_realised(P, rows, mess), **ctx_r, **lab_realised}
    realised = _clean(json.loads(json.dumps(realised, default=_json_default)), JSON_SIGNIFICANT_DIGITS)
    meta = {"seed": int(seed), "scale": int(scale), "cohorts": int(cohorts), "first_ks4_year": S.FIRST_KS4_YEAR,
            "generator_version": GENERATOR_VERSION, "override": override or {}, "messiness_targets": MESSINESS}
    doc = T.truth_document(tr, meta, realised)
    (out / "truth.json").write_text(json.dumps(_clean(doc), indent=1, sort_keys=False, default=_json_default, allow_nan=False) + "\n")
    write_manifest(out, [*written, "truth.json"], complete=True)
    step("truth.json written")
    bar.close()
    return {"out": str(out), "tables": rows, "files": files, "truth": tr, "realised": realised,
            "seconds": time.perf_counter() - t_start, "timings": timings}


#: Significant digits of every float written to truth.json (Python's correctly rounded formatting, the same
#: on every machine; the realised statistics' last digits depend on the BLAS and the NumPy version).
JSON_SIGNIFICANT_DIGITS = 10


def _clean(o, digits: int | None = None):
    """Replace NaN/inf by None recursively (strict JSON); with ``digits``, round floats to that many significant
    digits and write -0.0 as 0.0 (for the realised statistics; planted values are inputs and stay exact)."""
    if isinstance(o, dict):
        return {str(k): _clean(v, digits) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v, digits) for v in o]
    if isinstance(o, (float, np.floating)) and not isinstance(o, bool):
        if not np.isfinite(o):
            return None
        return float(o) if digits is None else float(format(float(o), f".{digits}g")) + 0.0
    return o


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, float) and o != o:
        return None
    return str(o)
