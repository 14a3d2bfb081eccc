"""Build the released (SRS-shaped) education tables from the simulated persons.

Each ``build_*`` function returns ``{table_name: {column: array}}`` with exactly the columns that
``leokit.schema`` declares; the writer types them. Rows are in a deterministic order.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa

from leokit import schema as S

from leokit.synth._util import acadyr, dates, random_codes, unique_ints
from leokit.synth.courses import (A_LEVEL_SUBJECTS, CAH_CODES, JACS_STEMS, _KS5_NEW, _KS5_OLD, _LETTERS, Providers,
                                  ks4_points)
from leokit.synth.params import MESSINESS
from leokit.synth.population import ETHNIC_MAJOR_OF, ETHNIC_MINOR, RUC_NAMES, Geography

_LAST_AY = S.LAST_ACADEMIC_YEAR


def assign_ids(rng: np.random.Generator, P: pd.DataFrame) -> None:
    """PMR (18 chars), a second PMR for 1%, AE_ID, EDUKEY (14 chars), edukey2 for 1.5%, link flags."""
    n = len(P)
    two_pmr = rng.random(n) < MESSINESS["ae_id_two_pmrs"]
    codes = random_codes(rng, n + int(two_pmr.sum()), 18)
    P["pmr"] = codes[:n]
    pmr2 = np.full(n, None, dtype=object)
    pmr2[two_pmr] = codes[n:]
    P["pmr2"] = pmr2
    P["ae_id"] = unique_ints(rng, n, 1_000_000_000, 9_999_999_999).astype(np.int64)
    two_ek = rng.random(n) < MESSINESS["ae_id_two_edukeys"]
    ek = random_codes(rng, n + int(two_ek.sum()), 14)
    P["edukey"] = ek[:n]
    e2 = np.full(n, np.nan, dtype=object)
    e2[two_ek] = ek[n:]
    P["edukey2"] = e2
    P["edukey_linked"] = (rng.random(n) >= MESSINESS["no_edukey_link"]).astype(np.int64)


def _census_date(year: int) -> np.datetime64:
    d = _dt.date(year, 1, 1)
    first_thu = 1 + (3 - d.weekday()) % 7
    return np.datetime64(_dt.date(year, 1, first_thu + 14), "D")


def census_years(P: pd.DataFrame) -> list[int]:
    c = P["cohort"].to_numpy()
    return list(range(max(2002, int(c.min()) - 10), min(_LAST_AY, int(c.max()) + 2) + 1))


_SEN = np.array(["N", "A", "P", "S", "K", "E"], dtype=object)
_LANG = np.array(["1_ENG", "2_OTH", "3_UNCL"], dtype=object)
_NCY = np.array([str(i) for i in range(1, 14)], dtype=object)


def _take(categories, codes: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """String column as ``categories[codes]`` (null where ``mask``), built in Arrow (no Python objects)."""
    cat = categories if isinstance(categories, pa.Array) else pa.array(np.asarray(categories, dtype=object), pa.string())
    return cat.take(pa.array(np.asarray(codes, np.int64), mask=mask))


def build_census(rng: np.random.Generator, P: pd.DataFrame, fsm: np.ndarray, geo: Geography, year: int,
                 cache: dict | None = None) -> dict:
    """One January census (plasc_YYYY / spring_census_YYYY), columns suffixed as schema.py declares.

    ``cache`` (a dict owned by the caller, one per generate run) keeps Arrow copies of per-person
    string columns between census years.
    """
    cache = {} if cache is None else cache
    n = len(P)
    if "pmr_all" not in cache:
        pmr2 = P["pmr2"].to_numpy(dtype=object)
        cache["pmr_all"] = pa.array(np.concatenate([P["pmr"].to_numpy(dtype=object), pmr2]), pa.string(), from_pandas=True)
        cache["has_pmr2"] = pd.notna(pmr2)
        cache["male"] = (P["sex"].to_numpy(dtype=object) == "M").astype(np.int64)
        eth = P["ethnic_minor"].to_numpy(dtype=object)
        lut = {v: i for i, v in enumerate(ETHNIC_MINOR)}
        cache["eth"] = np.array([lut[v] for v in pd.unique(eth)])[pd.factorize(eth, sort=False)[0]] if n else np.zeros(0, np.int64)
        cache["eth_cat"] = (pa.array(ETHNIC_MINOR, pa.string()), pa.array(ETHNIC_MAJOR_OF, pa.string()))
        cache["units"] = pa.array(np.concatenate([geo.school_urn, geo.primary_urn]), pa.string())
        cache["laestabs"] = pa.array(np.concatenate([geo.school_laestab, geo.primary_laestab]), pa.string())
        cache["la_of_unit"] = np.concatenate([geo.school_la, geo.primary_la])
    cohort = P["cohort"].to_numpy()
    ncy_all = year - cohort + 11
    six = P["sixth_form"].to_numpy() == 1
    m = ((ncy_all >= 1) & (ncy_all <= 11)) | (((ncy_all == 12) | (ncy_all == 13)) & six)
    m &= ncy_all < P["left_ncyear"].to_numpy()
    m &= ~((ncy_all >= P["gap_from"].to_numpy()) & (ncy_all <= P["gap_to"].to_numpy()))
    idx = np.flatnonzero(m)
    ncy = ncy_all[idx]
    k = len(idx)
    pmr_code = np.where((ncy <= 6) & cache["has_pmr2"][idx], n + idx, idx)
    by = P["birth_year"].to_numpy()[idx]
    bm = P["birth_month"].to_numpy()[idx]
    lsoa = np.where(ncy < P["move_ncyear"].to_numpy()[idx], P["lsoa_old_idx"].to_numpy()[idx], P["lsoa_idx"].to_numpy()[idx])
    prim = ncy <= 6
    unit = np.where(prim, geo.n_schools + P["primary_id"].to_numpy()[idx], P["school_id"].to_numpy()[idx])
    f = fsm[idx]
    col = np.clip(ncy - 1, 0, 12)
    fsm_now = f[np.arange(k), col].astype(float)
    fsm_now[rng.random(k) < MESSINESS["census_missing_fsm"]] = np.nan
    cum = np.cumsum(f, axis=1)
    ever_all = cum[np.arange(k), col] > 0
    lo = np.clip(col - 6, -1, 12)
    ever6 = (cum[np.arange(k), col] - np.where(lo >= 0, cum[np.arange(k), np.maximum(lo, 0)], 0)) > 0
    sen = P["sen"].to_numpy()[idx]
    sen_ap = P["sen_ap"].to_numpy()[idx] == 1
    ehc = P["ehc_year"].to_numpy()[idx]
    if year < 2015:  # School Action / Action Plus / Statement
        sen_code = np.where(sen == 0, 0, np.where(sen == 1, np.where(sen_ap, 2, 1), 3))
    else:  # SEN support / Statement until converted to an EHC plan
        sen_code = np.where(sen == 0, 0, np.where(sen == 1, 4, np.where(year < ehc, 3, 5)))
    lang = P["eal"].to_numpy()[idx].astype(np.int64)
    lang[rng.random(k) < 0.005] = 2
    miss_eth = rng.random(k) < MESSINESS["census_missing_ethnicity"]
    miss_lsoa = rng.random(k) < MESSINESS["census_missing_lsoa"]
    vint = "" if year <= 2015 else ("_10" if year == 2016 else "_15")
    sc, rk = geo.idaci_vintage[vint]
    # duplicates: dual registration at another school, RecordStatus 101; rows sorted by person
    dup = np.flatnonzero(rng.random(k) < MESSINESS["census_duplicate_rows"])
    other = rng.integers(0, geo.n_schools, len(dup))
    rs = np.r_[np.ones(k, np.int64), np.full(len(dup), 101, np.int64)]
    srt = np.lexsort((rs, np.concatenate([idx, idx[dup]])))
    r = np.concatenate([np.arange(k), dup])[srt]  # source row of each output row
    rs = rs[srt]
    unit_out = np.concatenate([unit, other])[srt]
    eth = cache["eth"][idx][r]
    me = miss_eth[r]
    ml = miss_lsoa[r]
    lso = lsoa[r]
    cols = {
        "PupilMatchingRefAnonymous": cache["pmr_all"].take(pa.array(pmr_code[r])),
        "RecordStatus": rs,
        "AcademicYear": _take([f"{year - 1}/{year}"], np.zeros(len(r), np.int64)),
        "CensusDate": np.full(len(r), _census_date(year)),
        "Gender": _take(["F", "M"], cache["male"][idx][r]),
        "YearOfBirth": by[r], "MonthOfBirth": bm[r],
        "AgeAtStartOfAcademicYear": ((year - 1) - by - (bm > 8))[r],
        "EthnicGroupMajor": _take(cache["eth_cat"][1], eth, me), "EthnicGroupMinor": _take(cache["eth_cat"][0], eth, me),
        "FSMeligible": fsm_now[r], "SENprovision": _take(_SEN, sen_code[r]), "LanguageGroupMajor": _take(_LANG, lang[r]),
        "NCyearActual": _take(_NCY, ncy[r] - 1),
        "LA_anon": _take(geo.la_code, cache["la_of_unit"][unit_out]),
        "LAEstab_anon": cache["laestabs"].take(pa.array(unit_out)), "URN_anon": cache["units"].take(pa.array(unit_out)),
    }
    if year >= 2009:
        cols["OnRoll"] = np.ones(len(r), np.int64)
    if year >= 2010:
        cols["EVERFSM_ALL"] = ever_all[r].astype(np.int64)
        cols["EVERFSM_6"] = ever6[r].astype(np.int64)
    if year <= 2012:
        cols["LLSOA"] = _take(geo.lsoa01cd, lso, ml)
    else:
        cols["LSOA11"] = _take(geo.lsoa11cd, lso, ml)
    cols[f"IDACIScore{vint}"] = np.where(ml, np.nan, sc[lso])
    cols[f"IDACIRank{vint}"] = np.where(ml, np.nan, rk[lso].astype(float))
    sfx = S.census_suffix(year)
    return {name + sfx: v for name, v in cols.items()}


def _grade_cut(z: np.ndarray, shares_top_down: list[float], labels: list[str]) -> np.ndarray:
    from scipy.stats import norm
    cum = np.cumsum(shares_top_down)[:-1]
    cuts = norm.ppf(1 - cum)  # descending
    pos = (z[:, None] < cuts[None, :]).sum(1)
    return np.asarray(labels, dtype=object)[pos]


def build_ks2(rng: np.random.Generator, P: pd.DataFrame, fsm: np.ndarray, geo: Geography) -> dict:
    idx = np.flatnonzero(P["ks2_record"].to_numpy() == 1)
    k = len(idx)
    yr = P["ks2_year"].to_numpy()[idx]
    pmr = P["pmr"].to_numpy(dtype=object)[idx]
    pmr2 = P["pmr2"].to_numpy(dtype=object)[idx]
    pmr = np.where(pd.notna(pmr2), pmr2, pmr)
    obs = P["ks2_observed"].to_numpy()[idx] == 1
    lat = P["ks2_latent"].to_numpy()[idx]
    eng = 0.9 * lat + rng.normal(0, 0.44, k)
    mat = 0.9 * lat + rng.normal(0, 0.44, k)
    levels = ["6", "5", "4", "3", "2", "B"]
    shares = [0.01, 0.32, 0.45, 0.16, 0.05, 0.01]
    el = _grade_cut(eng, shares, levels)
    ml = _grade_cut(mat, shares, levels)
    miss_code = np.array(["A", "N", "T"], dtype=object)[rng.choice(3, k, p=[0.5, 0.3, 0.2])]
    old = yr <= 2015
    pri = P["primary_id"].to_numpy()[idx]
    aps = P["ks2_aps"].to_numpy()[idx]
    fsm6 = fsm[idx, 5].astype(np.int64)
    lso = np.where(P["move_ncyear"].to_numpy()[idx] > 6, P["lsoa_old_idx"].to_numpy()[idx], P["lsoa_idx"].to_numpy()[idx])
    cols = {
        "KS2_PupilMatchingRefAnonymous": pmr, "KS2_ACADYR": acadyr(yr),
        "KS2_LAESTAB_anon": geo.primary_laestab[pri], "KS2_URN_anon": geo.primary_urn[pri],
        "KS2_GENDER": P["sex"].to_numpy(dtype=object)[idx],
        "KS2_YEAROFBIRTH": P["birth_year"].to_numpy()[idx], "KS2_MONTHOFBIRTH": P["birth_month"].to_numpy()[idx],
        "KS2_NATRES": (rng.random(k) < 0.985).astype(np.int64),
        "KS2_ENGLEV": np.where(old, np.where(obs, el, miss_code), None).astype(object),
        "KS2_MATLEV": np.where(old, np.where(obs, ml, miss_code), None).astype(object),
        "KS2_ENGTOTMRK": np.where(old & obs, np.clip(np.round(62 + 15 * eng), 0, 100), np.nan),
        "KS2_MATTOTMRK": np.where(old & obs, np.clip(np.round(60 + 17 * mat), 0, 100), np.nan),
        "KS2_APS": np.where(old & obs, aps, np.nan),
        "KS2_READSCORE": np.where(~old & obs, np.clip(np.round(104 + 6.5 * eng), 80, 120), np.nan),
        "KS2_MATSCORE": np.where(~old & obs, np.clip(np.round(104 + 6.5 * mat), 80, 120), np.nan),
        "KS2_FSM": fsm6,
        "KS2_IDACI": np.where((yr >= 2007) & (yr <= 2010), geo.idaci_vintage[""][0][lso], np.nan),
    }
    return {"KS2Pupil_1996_to_2019_and_2022": cols}


def build_ks4(rng: np.random.Generator, P: pd.DataFrame, geo: Geography) -> dict:
    idx = np.flatnonzero(P["in_ks4"].to_numpy() == 1)
    k = len(idx)
    c = P["cohort"].to_numpy()[idx]
    ks4 = P["ks4_z"].to_numpy()[idx]
    sch = P["school_id"].to_numpy()[idx]
    lsoa = P["lsoa_idx"].to_numpy()[idx]
    vint = np.where(c <= 2015, 0, np.where(c == 2016, 1, 2))
    sc = np.stack([geo.idaci_vintage[v][0] for v in ("", "_10", "_15")])
    idaci = sc[vint, lsoa]
    idaci[rng.random(k) < MESSINESS["ks4_missing_idaci"]] = np.nan
    l2 = P["ks4_level2"].to_numpy()[idx]
    mlat = P["ks4_math_lat"].to_numpy()[idx]
    elat = P["ks4_eng_lat"].to_numpy()[idx]
    old_sh = [0.06, 0.13, 0.2, 0.24, 0.14, 0.09, 0.06, 0.03, 0.03, 0.02]
    g_old = ["*", "A", "B", "C", "D", "E", "F", "G", "U", "X"]
    new_sh = [0.04, 0.07, 0.1, 0.13, 0.14, 0.16, 0.13, 0.1, 0.07, 0.04, 0.02]
    g_new = ["9", "8", "7", "6", "5", "4", "3", "2", "1", "U", "X"]
    common = {
        "KS4_PupilMatchingRefAnonymous": P["pmr"].to_numpy(dtype=object)[idx], "KS4_ACADYR": acadyr(c),
        "KS4_LAESTAB_anon": geo.school_laestab[sch], "KS4_URN_anon": geo.school_urn[sch],
        "KS4_NATRES": np.ones(k, np.int64), "KS4_GENDER": P["sex"].to_numpy(dtype=object)[idx],
        "KS4_YEAROFBIRTH": P["birth_year"].to_numpy()[idx], "KS4_MONTHOFBIRTH": P["birth_month"].to_numpy()[idx],
        "KS4_FSM": P["fsm_ks4"].to_numpy()[idx],
        "KS4_FSM6": np.where(c >= 2012, P["fsm_ever6"].to_numpy()[idx], np.nan), "KS4_IDACI": idaci,
    }
    ks2z = P["ks2_z"].to_numpy()[idx]
    ks2obs = P["ks2_observed"].to_numpy()[idx] == 1
    att8 = ks4_points(ks4, np.full(k, 2015))
    ks2emss = np.round(4.6 + 0.75 * ks2z, 1)
    # ATT8 prediction: mean ATT8 by KS2 fine-level bin and year
    key = c * 1000 + np.round(ks2emss * 10).astype(np.int64)
    dfp = pd.DataFrame({"k": key, "a": att8})
    pred = dfp.groupby("k")["a"].transform("mean").to_numpy()
    p8 = np.where(ks2obs, np.round((att8 - pred) / 10, 2), np.nan)
    specific = {
        "old": {
            "KS4_LEVEL2_EM": l2, "KS4_PTSCNEWE": ks4_points(ks4, np.full(k, 2014)),
            "KS4_HGMATH": _grade_cut(mlat / 0.99, old_sh, g_old), "KS4_APENG": _grade_cut(elat / 0.99, old_sh, g_old),
            "KS4_EBACC": np.where(c >= 2010, P["ks4_ebacc"].to_numpy()[idx], np.nan),
        },
        "new": {
            "KS4_ATT8": att8, "KS4_P8SCORE": np.clip(p8, -8, 8),
            "KS4_KS2EMSS": np.where(ks2obs, ks2emss, np.nan), "KS4_L2BASICS_94": l2,
            "KS4_EBACC_94": P["ks4_ebacc"].to_numpy()[idx],
            "KS4_HGMATH_91": _grade_cut(mlat / 0.99, new_sh, g_new), "KS4_APENG_91": _grade_cut(elat / 0.99, new_sh, g_new),
        },
    }
    out = {}
    for name, sel, kind in (("KS4Pupil_2002_to_2014", c <= 2014, "old"), ("KS4Pupil_2015_to_2021", c >= 2015, "new")):
        if not sel.any():
            continue
        cols = {kk: np.asarray(v)[sel] for kk, v in {**common, **specific[kind]}.items()}
        m = int(sel.sum())
        # a second record for ~2%: another institution, lower points; the ECHILD rule keeps the main one
        dup = np.flatnonzero(rng.random(m) < MESSINESS["ks4_multiple_records"])
        order = np.concatenate([np.arange(m), dup])
        cols = {kk: v[order] for kk, v in cols.items()}
        nd = len(dup)
        if nd:
            other = rng.integers(0, geo.n_schools, nd)
            cols["KS4_URN_anon"][m:] = geo.school_urn[other]
            cols["KS4_LAESTAB_anon"][m:] = geo.school_laestab[other]
            cols["KS4_NATRES"][m:] = (rng.random(nd) < 0.3).astype(np.int64)
            frac = rng.uniform(0.1, 0.6, nd)
            lv = "KS4_LEVEL2_EM" if kind == "old" else "KS4_L2BASICS_94"
            cols[lv][m:] = 0
            if kind == "old":
                cols["KS4_PTSCNEWE"][m:] = np.round(cols["KS4_PTSCNEWE"][m:] * frac, 1)
                cols["KS4_EBACC"][m:] = np.where(np.isnan(cols["KS4_EBACC"][m:]), np.nan, 0)
            else:
                cols["KS4_ATT8"][m:] = np.round(cols["KS4_ATT8"][m:] * frac, 2)
                cols["KS4_P8SCORE"][m:] = np.nan
                cols["KS4_EBACC_94"][m:] = 0
        pid = np.concatenate([idx[sel], idx[sel][dup]])
        srt = np.lexsort((np.r_[np.zeros(m), np.ones(nd)], pid))
        out[name] = {kk: v[srt] for kk, v in cols.items()}
    return out


def build_ks5(rng: np.random.Generator, P: pd.DataFrame, fsm: np.ndarray, geo: Geography, al: dict) -> dict:
    idx = np.flatnonzero(P["alevel_n"].to_numpy() > 0)
    k = len(idx)
    yr = P["cohort"].to_numpy()[idx] + 2
    keep = yr <= _LAST_AY
    idx, yr = idx[keep], yr[keep]
    k = len(idx)
    units, taken, subj = al["units"][idx], al["taken"][idx], al["subj"][idx]
    old = (yr <= 2016)[:, None]
    pts = np.where(old, _KS5_OLD[units], _KS5_NEW[units])
    tot = np.where(taken, pts, 0).sum(1).astype(float)
    six = P["sixth_form"].to_numpy()[idx] == 1
    n_coll = max(20, geo.n_schools // 4)
    coll = np.char.add("C", unique_ints(rng, n_coll, 100000, 999999).astype(str)).astype(object)
    la = P["la_idx"].to_numpy()[idx]
    college = coll[(la * 7 + rng.integers(0, 3, k)) % n_coll]
    urn = np.where(six, geo.school_urn[P["school_id"].to_numpy()[idx]], college)
    student = {
        "KS5_PupilMatchingRefAnonymous": P["pmr"].to_numpy(dtype=object)[idx], "KS5_ACADYR": acadyr(yr),
        "KS5_URN_anon": urn, "KS5_GENDER": P["sex"].to_numpy(dtype=object)[idx],
        "KS5_FSM": fsm[idx, 12].astype(np.int64), "KS5_TOTPTSE": tot,
        "KS5_GRADE_AAB_ALL": (P["alevel_points"].to_numpy()[idx] >= 136).astype(np.int64),
        "KS5_LEV3THRESH": (P["alevel_passes"].to_numpy()[idx] >= 2).astype(np.int64),
    }
    ii, kk = np.nonzero(taken)
    exam = {
        "KS5_PupilMatchingRefAnonymous": P["pmr"].to_numpy(dtype=object)[idx][ii], "KS5_ACADYR": acadyr(yr[ii]),
        "KS5_EXAMYEAR": yr[ii], "KS5_MAPPING": A_LEVEL_SUBJECTS[subj[ii, kk], 0],
        "KS5_SUBLEVNO": np.full(len(ii), 111, np.int64), "KS5_GRADE": _LETTERS[units[ii, kk]],
        "KS5_POINTS": pts[ii, kk].astype(float),
    }
    return {"KS5Student_2004_to_2021": student, "KS5Exam_2004_to_2021": exam}


def person_subject_codes(rng, P: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """JACS 3 principal subject (``HE_XJACS01_1``) and CAH code of each HE entrant's course.

    Codes are drawn from :data:`leokit.synth.education.JACS_STEMS`, so every code maps back to the
    generating subject group under ``leokit.derive.jacs_subject_group`` (contract C6: economics is
    ``L1xx``, other social sciences ``L2xx``-``L9xx`` or ``K``).
    """
    n = len(P)
    sg = P["subject_group"].to_numpy(dtype=object)
    jacs = np.full(n, None, dtype=object)
    cah = np.full(n, None, dtype=object)
    for g, stems in JACS_STEMS.items():
        i = np.flatnonzero(sg == g)
        if len(i):
            s = np.asarray(stems, dtype=object)[rng.integers(0, len(stems), len(i))]
            jacs[i] = np.char.add(s.astype(str), "00").astype(object)
            cah[i] = np.asarray(CAH_CODES[g], dtype=object)[rng.integers(0, len(CAH_CODES[g]), len(i))]
    return jacs, cah


def build_hesa(rng: np.random.Generator, P: pd.DataFrame, prov: Providers) -> dict:
    he = np.flatnonzero(P["he_entry"].to_numpy() == 1)
    jacs, cah = person_subject_codes(rng, P)
    P["jacs"] = jacs
    e = P["he_entry_year"].to_numpy()[he].astype(np.int64)
    ny = P["years_studied"].to_numpy()[he]
    L = P["course_length"].to_numpy()[he]
    deg = P["degree"].to_numpy()[he] == 1
    award = P["exit_award"].to_numpy()[he] == 1
    cls = P["degree_class"].to_numpy(dtype=object)[he]
    comday = rng.integers(15, 31, len(he))
    by = P["birth_year"].to_numpy()[he]
    bm = P["birth_month"].to_numpy()[he]
    sandwich = (L == 4) & (P["subject_group"].to_numpy(dtype=object)[he] != "medicine")
    out = {}
    pts_old = P["alevel_points_old"].to_numpy()[he]
    for year in range(max(2005, int(e.min()) if len(e) else 2005), 2021):
        k = year - e
        sel = (k >= 0) & (k < ny)
        if not sel.any():
            continue
        i = np.flatnonzero(sel)
        kk = k[i]
        last = kk == ny[i] - 1
        comp = deg[i] & last
        exit_aw = award[i] & last  # CertHE/DipHE exit award: an 'OUG' qualifier record (contract C5)
        drop_end = dates(year - np.where(rng.random(len(i)) < 0.5, 1, 0), rng.integers(1, 13, len(i)), 15)
        drop_end = np.minimum(np.maximum(drop_end, dates(year - 1, 10, 1)), dates(year, 7, 31))
        end = np.where(last, np.where(comp | exit_aw, dates(np.full(len(i), year), 6, 30), drop_end), np.datetime64("NaT"))
        cols = {
            "HE_PUPILMATCHINGREFANONYMOUS": P["pmr"].to_numpy(dtype=object)[he][i],
            "HE_XINSTID01_ANON": prov.hesa_code[P["provider_idx"].to_numpy()[he][i]],
            "HE_COMDATE": dates(e[i] - 1, 9, comday[i]),
            "HE_ENDDATE": end.astype("datetime64[D]"),
            "HE_YEARPRG": kk + 1, "HE_YEARSTU": kk + 1,
            "HE_XMODE01": np.where(sandwich[i] & (kk == 2), "SW", "FT").astype(object),
            "HE_XPSR01": np.ones(len(i), np.int64), "HE_XPQUAL01": (comp | exit_aw).astype(np.int64),
            "HE_XQLEV601": np.where(exit_aw, "OUG", "UG").astype(object),
            "HE_XCLASS01": np.where(comp, cls[i], np.where(exit_aw, "05", "06")).astype(object),
            "HE_XJACS01_1": jacs[he][i],  # JACS to 2019/20; CAH from 2019/20 (both in hesa_2020)
            "HE_SEXID": P["sex"].to_numpy(dtype=object)[he][i],
            "HE_XAGEA01": (year - 1) - by[i] - (bm[i] > 8),
            "HE_RSNEND": np.where(last, np.where(comp | exit_aw, "01", "03"), None).astype(object),
        }
        if 2012 <= year <= 2017:
            cols["HE_XTARIFF"] = pts_old[i]
        if year >= 2020:
            cols["HE_XCAH01_1"] = cah[he][i]
        out[f"hesa_{year}"] = cols
    return out


def build_ilr(rng: np.random.Generator, P: pd.DataFrame, geo: Geography) -> dict:
    fe = np.flatnonzero(P["fe_learner"].to_numpy() == 1)
    nf = len(fe)
    rid = unique_ints(rng, nf, 10_000_000, 99_999_999).astype(np.int64)
    P["recordid"] = np.nan
    P.loc[P.index[fe], "recordid"] = rid.astype(float)
    ny = P["fe_years"].to_numpy()[fe]
    start0 = P["cohort"].to_numpy()[fe]  # start year of the academic year after KS4
    n_prov = max(15, geo.n_schools // 3)
    ukprn = np.char.add("P", unique_ints(rng, n_prov, 1000000, 9999999).astype(str)).astype(object)
    pprov = ukprn[(P["la_idx"].to_numpy()[fe] * 5 + rng.integers(0, 2, nf)) % n_prov]
    rows_i = np.repeat(np.arange(nf), ny)
    rows_k = np.arange(len(rows_i)) - (np.cumsum(ny) - ny)[rows_i]
    start = start0[rows_i] + rows_k
    keep = start <= _LAST_AY - 1
    rows_i, rows_k, start = rows_i[keep], rows_k[keep], start[keep]
    m = len(rows_i)
    ext = unique_ints(rng, m, 100_000_000, 999_999_999).astype(np.int64)
    order = np.lexsort((rows_k, rows_i))
    pi = fe[rows_i]
    by = P["birth_year"].to_numpy()[pi]
    bm = P["birth_month"].to_numpy()[pi]
    appr = P["apprentice"].to_numpy()[pi] == 1
    lvl = P["fe_aim_level"].to_numpy()[pi]
    ach = P["fe_achieved"].to_numpy()[pi] == 1
    last = rows_k == ny[rows_i][: len(rows_k)] - 1 if m else np.zeros(0, bool)
    learners = {
        "external_id": ext, "RECORDID": rid[rows_i], "Year": start.astype(str).astype(object),
        "AcademicYear": np.char.add(np.char.add(start.astype(str), "/"), (start + 1).astype(str)).astype(object),
        "ukprn_anon": pprov[rows_i], "Sex": P["sex"].to_numpy(dtype=object)[pi],
        "AcAge": start - by - (bm > 8), "L_FullLevel2": P["ks4_level2"].to_numpy()[pi],
        "L_FullLevel3": np.zeros(m, np.int64),
    }
    learners = {k: np.asarray(v)[order] for k, v in learners.items()}
    # aims: apprentices a programme aim + a component; others 1-2 standalone aims
    naims = np.where(appr, 2, rng.integers(1, 3, m))
    ai = np.repeat(np.arange(m), naims)
    seq = 1 + np.arange(len(ai)) - (np.cumsum(naims) - naims)[ai]
    a_app = appr[ai]
    prog = a_app & (seq == 1)
    # achievers achieve their final-year aims and most earlier ones; non-achievers achieve none (so the
    # highest ILR level achieved is fe_aim_level exactly when fe_achieved = 1: contract C5)
    ach_a = ach[ai] & (last[ai] | (rng.random(len(ai)) < 0.9))
    withdrawn = ~ach_a & (rng.random(len(ai)) < 0.5)
    catalogue = np.char.add(np.repeat(np.arange(10), 200).astype(str),
                            np.char.zfill(np.tile(np.arange(200) * 37 + 1000, 10).astype(str), 7)).astype(object)
    aim_id = np.where(prog, "ZPROG001", catalogue[lvl[ai] * 200 + rng.integers(0, 200, len(ai))]).astype(object)
    st = start[ai]
    start_d = dates(st, 9, rng.integers(1, 21, len(ai)))
    exp_end = dates(st + 1, 7, 15)
    end_d = np.where(withdrawn, dates(st + 1, rng.integers(1, 6, len(ai)), 10), exp_end)
    ongoing = (st >= _LAST_AY - 1) & ~last[ai]
    comp = np.where(ongoing, 1, np.where(withdrawn, 3, 2))
    outc = np.where(ongoing, 8, np.where(ach_a, 1, 3))
    new_app = st >= 2017
    aims = {
        "external_id": ext[ai], "RECORDID": rid[rows_i][ai], "sequence_index": seq,
        "learning_aim_id": aim_id, "start_date": start_d, "end_date_expected": exp_end,
        "end_date": np.where(ongoing, np.datetime64("NaT"), end_d).astype("datetime64[D]"),
        "Compstatus": comp, "outcome": outc, "NotionalNVQLev": lvl[ai],
        "FundModel": np.where(a_app, np.where(new_app, 36, 35), 25),
        "programme_type": np.where(a_app, np.where(new_app & (rng.random(len(ai)) < 0.5), 25, np.where(lvl[ai] >= 3, 2, 3)), np.nan),
        "AimType": np.where(prog, 1, np.where(a_app, 3, 4)),
    }
    srt = np.lexsort((seq, ext[ai]))
    aims = {k: np.asarray(v)[srt] for k, v in aims.items()}
    lsrt = np.argsort(learners["external_id"], kind="stable")
    learners = {k: v[lsrt] for k, v in learners.items()}
    return {"learners": learners, "aims": aims}


def build_lookups(P: pd.DataFrame) -> dict:
    ae = P["ae_id"].to_numpy()
    pmr = P["pmr"].to_numpy(dtype=object)
    pmr2 = P["pmr2"].to_numpy(dtype=object)
    h2 = pd.notna(pmr2)
    a = np.concatenate([ae, ae[h2]])
    p = np.concatenate([pmr, pmr2[h2]])
    o = np.lexsort((p.astype(str), a))
    pmr_lk = {"AE_ID": a[o], "PUPILMATCHINGREFANONYMOUS": p[o]}
    link = P["edukey_linked"].to_numpy() == 1
    ek = P["edukey"].to_numpy(dtype=object)
    ek2 = P["edukey2"].to_numpy(dtype=object)
    h2 = link & pd.notna(ek2)
    a = np.concatenate([ae[link], ae[h2]])
    e = np.concatenate([ek[link], ek2[h2]])
    o = np.lexsort((e.astype(str), a))
    ek_lk = {"AE_ID": a[o], "EDUKEY": e[o]}
    rid = P["recordid"].to_numpy()
    h = ~np.isnan(rid)
    o = np.argsort(rid[h], kind="stable")
    rec = {"RECORDID": rid[h][o].astype(np.int64), "AE_ID": ae[h][o]}
    return {"learner_ae_id_to_pmr_lookup": pmr_lk, "learner_ae_id_to_edukey_lookup": ek_lk,
            "education_records_lookup": rec}


def build_public(geo: Geography, prov: Providers) -> dict:
    o = np.argsort(geo.lsoa11cd.astype(str), kind="stable")
    code = geo.lsoa11cd[o]
    out = {
        "imd2019_lsoa11": {"lsoa11cd": code, "imd_rank": geo.imd_rank[o], "imd_decile": geo.imd_decile[o],
                           "idaci_score": geo.idaci[o], "idaci_rank": geo.idaci_rank[o], "idaci_decile": geo.idaci_decile[o]},
        "polar4_lsoa11": {"lsoa11cd": code, "polar4_quintile": geo.polar4[o]},
        "tundra_lsoa11": {"lsoa11cd": code, "tundra_quintile": geo.tundra[o]},
        "ruc11_lsoa11": {"lsoa11cd": code, "ruc11cd": geo.ruc[o],
                         "ruc11nm": np.array([RUC_NAMES[r] for r in geo.ruc[o]], dtype=object)},
    }
    o2 = np.lexsort((geo.lsoa11cd.astype(str), geo.lsoa01cd.astype(str)))
    out["lsoa01_lsoa11_lookup"] = {"lsoa01cd": geo.lsoa01cd[o2], "lsoa11cd": geo.lsoa11cd[o2], "chgind": geo.lsoa_chg[o2]}
    po = np.argsort(prov.ucas_code.astype(str), kind="stable")
    out["syn_he_provider"] = {
        "inst_code_anon": prov.ucas_code[po], "HE_XINSTID01_ANON": prov.hesa_code[po],
        "syn_tariff_group": np.array(["high", "medium", "low"], dtype=object)[prov.tariff[po]],
        "syn_quality_score": np.round(prov.quality[po], 4), "syn_contextual_adoption_cycle": prov.adopt_cycle[po],
    }
    return out
