"""Population side of the synthetic data: areas, schools, pupils, KS2 and KS4 attainment.

Data-generating process (equations are also in ``data_synthetic/README.md``)
--------------------------------------------------------------------------
*Areas.* ``n_lsoa = min(32844, max(600, scale // 3))`` 2011 LSOAs (codes ``E01`` + 6 digits) in
``n_la = min(152, max(18, n_schools // 22))`` local authorities in the nine regions. Each LSOA has a
latent deprivation ``d_l = r_region + a_LA + e_l`` (``a_LA ~ N(0, 0.5^2)``, ``e_l ~ N(0, 0.8^2)``),
standardised; IDACI 2019 score ``idaci_l = round(expit(-1.75 + 0.9 d_l), 3)``; IMD, POLAR4, TUNDRA
and rural-urban codes are noisy functions of ``d_l``. About 3% of 2011 LSOAs were split from a 2001
LSOA with a different code (pairs share one 2001 code); census tables to 2011/12 carry the 2001 code.

*Schools.* ``n_schools = max(60, round(scale / 175))`` secondary schools (about 175 pupils per
cohort at England scale, fewer but at least 60 schools at small scale) and
``max(150, round(scale / 35))`` primary schools. Within each LA the LSOAs are ordered by
``d_l + N(0, 0.5^2)`` and cut into contiguous catchments, so a school's intake is homogeneous in
deprivation. A pupil attends the catchment school of the home LSOA with probability 0.75, another
school of the LA with probability 0.2, and a school elsewhere in the region otherwise.

*Pupils* (``scale`` per cohort, KS4 years ``FIRST_KS4_YEAR ..``): ``background ~ N(0,1)``; home LSOA at
16 matched on ``0.55 background + 0.835 N(0,1)`` against LSOA affluence ``-d_l`` (so background and
area deprivation correlate at about -0.5); ``ability = 0.35 background + 0.937 N(0,1)``. 10% move
LSOA once within the LA (earlier censuses show the old LSOA). FSM eligibility in each school year
``t``: ``FSM_it = 1[-0.6 background + 0.5 d_l + N(0, 0.9^2) + N(0, 0.5^2)_t > c]`` with ``c`` set so
14% are eligible in a year; ``fsm_ever6`` = eligible at any census in Years 6-11 (about 25%).

*KS2* (end of Year 6, year ``cohort - 5``): latent ``k2 = 0.85 ability + 0.2 background - 0.1 FSM +
p_primary + N(0, 0.45^2)``; average point score ``KS2_APS = clip(27.5 + 4 k2/sd, 12, 36)`` (1 dp);
``ks2_z`` = APS standardised within year over pupils with a result (3% have none, codes A/N/T).

*KS4* (the planted school peer effect): with ``P_i`` the leave-one-out mean of observed ``ks2_z``
over the other pupils of the same school and cohort,

    ks4_z = beta * P_i + c_cohort * (0.75 ability + 0.25 background - 0.1 FSM + s_school,cohort + N(0, 0.45^2)) - m_cohort,

``beta = truth['school_peer_effect']``; ``c_cohort, m_cohort`` are solved per cohort so ``ks4_z`` has
mean 0 and SD 1 exactly, so ``beta`` is the effect in SD of the standardised KS4 score. School
effects ``s_school,cohort = s_school + w_school,cohort + e_school,cohort``: a permanent part
``s_school = 0.35 z(school mean background) + N(0, 0.2^2)`` correlated with intake (a regression needs
school fixed effects), a centred random walk over cohorts ``w`` (steps N(0, 0.03^2)) and a
school-cohort shock ``e ~ N(0, 0.05^2)``. The time-varying parts are drawn independently of cohort
composition, so cohort-to-cohort variation of ``P_i`` within a school still identifies ``beta`` (with
school and cohort fixed effects), but pupils of one school and cohort share a shock: standard errors
must be clustered (by school).

*What the peer effect is and is not.* Only peers' *prior attainment* (KS2, determined before
secondary school) affects own KS4; peers' *outcomes* (their KS4) have no effect on own KS4. There is
therefore no reflection problem in this DGP (Manski's: own and peers' outcomes determined jointly),
and a regression of own KS4 on the peer mean of KS4 does not estimate ``beta`` -- it picks up shared
school-cohort shocks, sorting and the mechanical link between a pupil's outcome and their peers'.
Peers' background, FSM or ability (contextual effects other than KS2) have no effect either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leokit.schema import GOR_CODES

from leokit.synth._util import blocks, choice_within, expit, group_index, loo_mean, unique_ints, zscore
from leokit.synth.params import MESSINESS, REGION_SHARES

#: Time variation of school effects (independent of cohort composition): random-walk step and school-cohort shock SDs.
SCHOOL_EFFECT_DRIFT_SD = 0.03
SCHOOL_COHORT_SHOCK_SD = 0.05
REGION_DEP = np.array([0.45, 0.25, 0.25, 0.05, 0.2, -0.3, 0.3, -0.45, -0.2])
RUC_NAMES = {
    "A1": "Urban major conurbation", "B1": "Urban minor conurbation", "C1": "Urban city and town",
    "C2": "Urban city and town in a sparse setting", "D1": "Rural town and fringe",
    "D2": "Rural town and fringe in a sparse setting", "E1": "Rural village and dispersed",
    "E2": "Rural village and dispersed in a sparse setting",
}
ETHNIC_MINOR = np.array(["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
                         "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"], dtype=object)
ETHNIC_MAJOR_OF = np.array(["WHIT"] * 5 + ["MIXD"] * 4 + ["ASIA"] * 4 + ["BLAC"] * 3 + ["CHIN", "AOEG", "UNCL", "UNCL"],
                           dtype=object)
# shares outside London / in London (approximate pupil shares)
_ETH_P_OTHER = np.array([.80, .003, .001, .035, .002, .015, .004, .01, .01, .025, .03, .008, .008, .006, .012, .002,
                         .003, .01, .006, .01])
_ETH_P_LONDON = np.array([.38, .01, .003, .10, .003, .03, .008, .02, .04, .06, .04, .05, .04, .02, .12, .01,
                          .01, .03, .01, .016])


@dataclass
class Geography:
    n_lsoa: int
    lsoa11cd: np.ndarray          # object, codes
    lsoa01cd: np.ndarray          # 2001 code of each 2011 LSOA (as used in census LLSOA)
    lsoa_chg: np.ndarray          # 'U' or 'S'
    lsoa_region: np.ndarray       # int 0..8
    lsoa_la: np.ndarray           # int
    lsoa_dep: np.ndarray          # standardised latent deprivation
    lsoa_pop: np.ndarray          # relative young population
    idaci: np.ndarray             # IDACI 2019 score (3 dp)
    idaci_rank: np.ndarray
    idaci_decile: np.ndarray
    imd_rank: np.ndarray
    imd_decile: np.ndarray
    polar4: np.ndarray
    tundra: np.ndarray
    ruc: np.ndarray
    idaci_vintage: dict            # vintage -> (score, rank) arrays (2004/2007/2010 -> '', 2010 -> '_10', 2015 -> '_15')
    n_la: int
    la_region: np.ndarray
    la_code: np.ndarray
    n_schools: int
    school_la: np.ndarray
    school_urn: np.ndarray
    school_laestab: np.ndarray
    school_w: np.ndarray
    lsoa_school: np.ndarray        # catchment secondary school of each LSOA
    n_primary: int
    primary_urn: np.ndarray
    primary_laestab: np.ndarray
    primary_la: np.ndarray
    lsoa_primary: np.ndarray


def _rank_scaled(score_desc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank 1 = highest score, spread over 1..32844; decile 1 = top 10%."""
    n = len(score_desc)
    order = np.argsort(-score_desc, kind="stable")
    r = np.empty(n, np.int64)
    r[order] = np.arange(n)
    rank = 1 + (r * 32844) // n
    decile = 1 + (r * 10) // n
    return rank, decile


def _catchments(rng, lsoa_la, lsoa_dep, school_la, school_w, n_la):
    """Contiguous catchments: within each LA, LSOAs ordered by deprivation (+noise) split among the LA's schools."""
    n_lsoa = len(lsoa_la)
    key = lsoa_dep + rng.normal(0, 0.5, n_lsoa)
    order = np.lexsort((key, lsoa_la))
    out = np.empty(n_lsoa, np.int64)
    la_sorted = lsoa_la[order]
    bounds = np.searchsorted(la_sorted, np.arange(n_la + 1))
    s_order, s_start, s_count = group_index(school_la, n_la)
    for la in range(n_la):
        a, b = bounds[la], bounds[la + 1]
        schools = s_order[s_start[la]: s_start[la] + s_count[la]]
        if b == a:
            continue
        if len(schools) == 0:
            raise RuntimeError("LA without schools")
        cnt = blocks(school_w[schools], b - a)
        out[order[a:b]] = np.repeat(schools, cnt)
    return out


def build_geography(rng: np.random.Generator, scale: int) -> Geography:
    n_lsoa = int(min(32844, max(600, scale // 3)))
    n_schools = int(max(60, round(scale / 175)))
    n_primary = int(max(150, round(scale / 35)))
    n_la = int(min(152, max(18, n_schools // 22)))
    shares = np.asarray(REGION_SHARES) / np.sum(REGION_SHARES)
    # LAs: at least one per region, the rest by regional shares
    la_region = np.concatenate([np.arange(9), rng.choice(9, n_la - 9, p=shares)])
    la_region.sort(kind="stable")
    la_size = rng.gamma(4.0, 1.0, n_la)
    la_eff = rng.normal(0, 0.5, n_la)
    # LSOAs: region by shares, LA by size within region
    lsoa_region = np.sort(rng.choice(9, n_lsoa, p=shares))
    # guarantee each LA at least one LSOA: first allocate one per LA then the rest
    lsoa_la = np.empty(n_lsoa, np.int64)
    la_order, la_start, la_count = group_index(la_region, 9)
    cum = np.zeros(n_la)
    for r in range(9):
        las = la_order[la_start[r]: la_start[r] + la_count[r]]
        idx = np.flatnonzero(lsoa_region == r)
        if len(idx) < len(las):  # tiny scale: move LSOAs across regions is not needed at n_lsoa >= 600
            raise RuntimeError("too few LSOAs for the LAs of a region")
        cnt = 1 + blocks(la_size[las], len(idx) - len(las))
        lsoa_la[idx] = np.repeat(las, cnt)
        cum[las] = cnt
    dep = REGION_DEP[lsoa_region] + la_eff[lsoa_la] + rng.normal(0, 0.8, n_lsoa)
    dep = (dep - dep.mean()) / dep.std()
    idaci = np.round(expit(-1.75 + 0.9 * dep), 3)
    idaci_rank, idaci_decile = _rank_scaled(idaci + 1e-9 * dep)
    imd_latent = 0.9 * dep + rng.normal(0, 0.35, n_lsoa)
    imd_rank, imd_decile = _rank_scaled(imd_latent)
    part = -0.8 * dep + rng.normal(0, 0.6, n_lsoa)
    polar4 = 1 + (np.argsort(np.argsort(part, kind="stable"), kind="stable") * 5) // n_lsoa
    tund = part + rng.normal(0, 0.45, n_lsoa)
    tundra = 1 + (np.argsort(np.argsort(tund, kind="stable"), kind="stable") * 5) // n_lsoa
    # rural-urban
    la_conurb = rng.random(n_la) < 0.3
    ruc_codes = np.array(list(RUC_NAMES), dtype=object)
    p_conurb = np.array([.9, .02, .06, 0, .02, 0, 0, 0])
    p_other = np.array([0, .05, .58, .01, .15, .01, .17, .03])
    u = rng.random(n_lsoa)
    cp = np.where(la_conurb[lsoa_la][:, None], np.cumsum(p_conurb)[None, :], np.cumsum(p_other)[None, :])
    ruc_i = np.minimum((u[:, None] > cp).sum(1), 7)
    ruc_i[lsoa_region == 6] = 0  # London: major conurbation
    ruc = ruc_codes[ruc_i]
    # codes: 2011 LSOAs E01000001..E01033768 (sample), split pairs share a new 2001 code
    nums = np.sort(rng.choice(np.arange(1, 33769), n_lsoa, replace=False))
    nums = nums[rng.permutation(n_lsoa)]  # codes unrelated to region order
    lsoa11 = np.char.add("E01", np.char.zfill(nums.astype(str), 6)).astype(object)
    n_pairs = int(round(0.03 * n_lsoa / 2))
    changed = rng.choice(n_lsoa, 2 * n_pairs, replace=False)
    unused = np.setdiff1d(np.arange(1, 34754), nums)
    new01 = rng.choice(unused, n_pairs, replace=False)
    lsoa01 = lsoa11.copy()
    chg = np.full(n_lsoa, "U", dtype=object)
    code01 = np.char.add("E01", np.char.zfill(new01.astype(str), 6)).astype(object)
    lsoa01[changed] = np.repeat(code01, 2)
    chg[changed] = "S"
    # IDACI vintages shown in the census: 2010-based ('' to 2014/15 and '_10') and 2015-based ('_15')
    vint = {}
    for v, sd in (("", 0.035), ("_10", 0.03), ("_15", 0.02)):
        sc = np.clip(np.round(idaci + rng.normal(0, sd, n_lsoa), 3), 0.0, 0.99)
        rk, _ = _rank_scaled(sc + 1e-9 * dep)
        vint[v] = (sc, rk)
    # schools: one per LA, rest by LSOA counts
    lsoa_per_la = np.bincount(lsoa_la, minlength=n_la)
    school_la = np.sort(np.concatenate([np.arange(n_la), rng.choice(n_la, n_schools - n_la, p=lsoa_per_la / lsoa_per_la.sum())]))
    school_w = rng.gamma(6.0, 1.0, n_schools)
    primary_la = np.sort(np.concatenate([np.arange(n_la), rng.choice(n_la, n_primary - n_la, p=lsoa_per_la / lsoa_per_la.sum())]))
    primary_w = rng.gamma(6.0, 1.0, n_primary)
    lsoa_school = _catchments(rng, lsoa_la, dep, school_la, school_w, n_la)
    lsoa_primary = _catchments(rng, lsoa_la, dep, primary_la, primary_w, n_la)
    la_code = np.char.add("LA", np.char.zfill(unique_ints(rng, n_la, 100, 1000).astype(str), 3)).astype(object)
    ids = unique_ints(rng, 2 * (n_schools + n_primary), 100000, 999999)
    urn = np.char.add("U", ids[: n_schools + n_primary].astype(str)).astype(object)
    laestab = np.char.add("E", ids[n_schools + n_primary:].astype(str)).astype(object)
    return Geography(
        n_lsoa=n_lsoa, lsoa11cd=lsoa11, lsoa01cd=lsoa01, lsoa_chg=chg, lsoa_region=lsoa_region, lsoa_la=lsoa_la,
        lsoa_dep=dep, lsoa_pop=rng.gamma(8.0, 1.0, n_lsoa), idaci=idaci, idaci_rank=idaci_rank,
        idaci_decile=idaci_decile, imd_rank=imd_rank, imd_decile=imd_decile, polar4=polar4, tundra=tundra, ruc=ruc,
        idaci_vintage=vint, n_la=n_la, la_region=la_region, la_code=la_code, n_schools=n_schools,
        school_la=school_la, school_urn=urn[:n_schools], school_laestab=laestab[:n_schools], school_w=school_w,
        lsoa_school=lsoa_school, n_primary=n_primary, primary_urn=urn[n_schools:], primary_laestab=laestab[n_schools:],
        primary_la=primary_la, lsoa_primary=lsoa_primary,
    )


def _assign_lsoa(rng, geo: Geography, background: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """Home LSOA at 16: rank-match a noisy background index to LSOA affluence, per cohort."""
    n = len(background)
    out = np.empty(n, np.int64)
    aff_order = np.argsort(-geo.lsoa_dep + rng.normal(0, 0.25, geo.n_lsoa), kind="stable")  # least deprived last
    for c in np.unique(cohort):
        idx = np.flatnonzero(cohort == c)
        t = 0.55 * background[idx] + np.sqrt(1 - 0.55**2) * rng.normal(size=len(idx))
        cnt = blocks(geo.lsoa_pop[aff_order], len(idx))
        slots = np.repeat(aff_order, cnt)  # ordered most deprived -> least deprived
        out[idx[np.argsort(t, kind="stable")]] = slots
    return out


def build_people(rng: np.random.Generator, geo: Geography, scale: int, cohorts: int, first_cohort: int,
                 truth: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """Persons with demographics, areas, schools, KS2 and KS4 (see module docstring), and the FSM
    history as an ``(n, 13)`` bool array (column ``k`` = NC year ``k + 1``)."""
    n = scale * cohorts
    P: dict[str, np.ndarray] = {}
    cohort = np.repeat(first_cohort + np.arange(cohorts), scale).astype(np.int64)
    P["person_id"] = np.arange(n, dtype=np.int64)
    P["cohort"] = cohort
    female = rng.random(n) < 0.49
    P["sex"] = np.where(female, "F", "M").astype(object)
    # birth month: Sep..Aug, slightly more births in late summer/autumn
    mw = np.array([1.03, 1.0, 0.98, 0.97, 0.93, 0.98, 0.98, 0.98, 1.0, 1.02, 1.05, 1.05])  # Sep..Aug
    pos = rng.choice(12, n, p=mw / mw.sum())
    bmonth = ((pos + 8) % 12) + 1
    P["birth_month"] = bmonth.astype(np.int64)
    P["birth_year"] = np.where(bmonth >= 9, cohort - 17, cohort - 16).astype(np.int64)
    bg = rng.normal(size=n)
    P["background"] = bg
    ab = 0.35 * bg + np.sqrt(1 - 0.35**2) * rng.normal(size=n)
    P["ability"] = ab
    lsoa = _assign_lsoa(rng, geo, bg, cohort)
    P["lsoa_idx"] = lsoa
    la = geo.lsoa_la[lsoa]
    P["la_idx"] = la
    P["region"] = np.asarray(GOR_CODES, dtype=object)[geo.lsoa_region[lsoa]]
    P["lsoa11cd"] = geo.lsoa11cd[lsoa]
    P["idaci_score"] = geo.idaci[lsoa]
    # movers: old LSOA in the same LA used for NC years < move_year
    lsoa_by_la, la_start, la_count = group_index(geo.lsoa_la, geo.n_la)
    mover = rng.random(n) < MESSINESS["lsoa_movers"]
    old = choice_within(rng, la, lsoa_by_la, la_start, la_count)
    P["lsoa_old_idx"] = np.where(mover, old, lsoa)
    P["move_ncyear"] = np.where(mover, rng.integers(2, 12, n), 0).astype(np.int64)
    # secondary school: catchment of home LSOA (0.75), another in LA (0.2), elsewhere in region (0.05)
    sch_by_la, s_start, s_count = group_index(geo.school_la, geo.n_la)
    cumw = np.cumsum(geo.school_w[sch_by_la] / 1.0)
    other_la = choice_within(rng, la, sch_by_la, s_start, s_count, cumw)
    school_region = geo.la_region[geo.school_la]
    sch_by_reg, r_start, r_count = group_index(school_region, 9)
    other_reg = choice_within(rng, geo.la_region[la], sch_by_reg, r_start, r_count)
    u = rng.random(n)
    school = np.where(u < 0.75, geo.lsoa_school[lsoa], np.where(u < 0.95, other_la, other_reg))
    P["school_id"] = school.astype(np.int64)
    lsoa_y6 = np.where(P["move_ncyear"] > 6, P["lsoa_old_idx"], lsoa)
    P["primary_id"] = geo.lsoa_primary[lsoa_y6]
    # ethnicity (persistent), EAL, SEN
    london = geo.lsoa_region[lsoa] == 6
    ue = rng.random(n)
    e_idx = np.where(london, np.searchsorted(np.cumsum(_ETH_P_LONDON / _ETH_P_LONDON.sum()), ue, side="right"),
                     np.searchsorted(np.cumsum(_ETH_P_OTHER / _ETH_P_OTHER.sum()), ue, side="right"))
    e_idx = np.minimum(e_idx, len(ETHNIC_MINOR) - 1)
    P["ethnic_minor"] = ETHNIC_MINOR[e_idx]
    P["ethnic_major"] = ETHNIC_MAJOR_OF[e_idx]
    p_eal = np.where(e_idx == 0, 0.005, np.where(np.isin(e_idx, [1, 2, 5, 6, 13]), 0.05, 0.55))
    P["eal"] = (rng.random(n) < p_eal).astype(np.int64)
    sen_lat = -0.8 * ab + rng.normal(0, 0.8, n) + 0.25 * (~female)
    q = np.quantile(sen_lat, [0.83, 0.975])
    P["sen"] = np.where(sen_lat > q[1], 2, np.where(sen_lat > q[0], 1, 0)).astype(np.int64)  # 0 none, 1 support, 2 statement/EHC
    P["sen_ap"] = (rng.random(n) < 0.4).astype(np.int64)  # support coded P (Action Plus) rather than A
    P["ehc_year"] = rng.integers(2015, 2019, n).astype(np.int64)  # year a statement became an EHC plan
    # FSM history: NC years 1..13 (column k = NC year k+1)
    dep16 = geo.lsoa_dep[lsoa]
    z = -0.6 * bg + 0.5 * dep16 + rng.normal(0, 0.9, n)
    e = z[:, None] + rng.normal(0, 0.5, (n, 13))
    thr = np.quantile(e[:, :11], 0.86)
    fsm = e > thr
    P["_fsm"] = fsm
    ever6 = fsm[:, 5:11].any(axis=1)  # Years 6-11
    P["fsm_ever6"] = ever6.astype(np.int64)
    P["fsm_ks4"] = fsm[:, 10].astype(np.int64)
    # gaps and leavers
    ugap = rng.random(n)
    leaver = ugap < MESSINESS["left_state_schools"]
    gap = (ugap >= MESSINESS["left_state_schools"]) & (ugap < MESSINESS["left_state_schools"] + MESSINESS["census_temporary_gap"])
    P["left_ncyear"] = np.where(leaver, rng.integers(7, 11, n), 99).astype(np.int64)  # first NC year not in state schools
    g0 = rng.integers(2, 9, n)
    P["gap_from"] = np.where(gap, g0, 99).astype(np.int64)
    P["gap_to"] = np.where(gap, g0 + rng.integers(0, 3, n), -1).astype(np.int64)
    P["in_ks4"] = (~leaver).astype(np.int64)
    P["ks2_year"] = cohort - 5
    # KS2
    fsm6 = fsm[:, 5].astype(float)
    prim_eff = rng.normal(0, 0.15, geo.n_primary)
    k2 = 0.85 * ab + 0.2 * bg - 0.1 * fsm6 + prim_eff[P["primary_id"]] + rng.normal(0, 0.45, n)
    k2s = zscore(k2, cohort)
    absent_ks2 = (P["gap_from"] <= 6) & (P["gap_to"] >= 6)
    ks2_missing = (rng.random(n) < MESSINESS["ks2_missing"]) | absent_ks2
    P["ks2_record"] = (~absent_ks2).astype(np.int64)
    P["ks2_observed"] = (~ks2_missing).astype(np.int64)
    aps = np.clip(np.round(27.5 + 4.0 * k2s, 1), 12.0, 36.0)
    P["ks2_aps"] = aps
    P["ks2_latent"] = k2s
    P["ks2_z"] = zscore(aps, cohort, mask=~ks2_missing)  # defined for all; observed only where ks2_observed
    # KS4 with the planted peer effect
    beta = float(truth["school_peer_effect"])
    peer = loo_mean(P["ks2_z"], cohort * 100000 + school, (~ks2_missing) & (~leaver))
    fill = np.isnan(peer)
    if fill.any():
        peer[fill] = 0.0
    P["ks2_loo_mean"] = peer
    sch_bg = np.bincount(school, weights=bg, minlength=geo.n_schools) / np.maximum(np.bincount(school, minlength=geo.n_schools), 1)
    sch_eff = 0.35 * (sch_bg - sch_bg.mean()) / max(sch_bg.std(), 1e-9) + rng.normal(0, 0.2, geo.n_schools)
    # time-varying school effects, independent of cohort composition: a random walk over cohorts
    # (SD 0.03 per step, centred) plus a school-cohort shock (SD 0.05)
    first = int(cohort.min())
    n_coh = int(cohort.max()) - first + 1
    walk = np.cumsum(rng.normal(0, SCHOOL_EFFECT_DRIFT_SD, (geo.n_schools, n_coh)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    sch_t = sch_eff[:, None] + walk + rng.normal(0, SCHOOL_COHORT_SHOCK_SD, (geo.n_schools, n_coh))
    s_it = sch_t[school, cohort - first]
    P["school_effect"] = s_it
    R = 0.75 * ab + 0.25 * bg - 0.1 * P["fsm_ks4"] + s_it + rng.normal(0, 0.45, n)
    ks4 = np.empty(n)
    for c in np.unique(cohort):
        i = cohort == c
        L, Rc = peer[i], R[i]
        vl, vr = L.var(), Rc.var()
        cov = np.mean((L - L.mean()) * (Rc - Rc.mean()))
        # solve beta^2 vl + 2 beta c cov + c^2 vr = 1 for c > 0
        a2, b2, c2 = vr, 2 * beta * cov, beta**2 * vl - 1.0
        cc = (-b2 + np.sqrt(b2**2 - 4 * a2 * c2)) / (2 * a2)
        y = beta * L + cc * Rc
        ks4[i] = y - y.mean()
    P["ks4_z"] = ks4
    P.pop("_fsm")
    return pd.DataFrame(P), fsm
