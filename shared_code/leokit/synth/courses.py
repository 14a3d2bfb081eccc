"""Providers, qualifications and grade scales: the building blocks of the education side of the generator.

Shared by :mod:`leokit.synth.education` (the education careers, whose docstring states the DGP) and
:mod:`leokit.synth.ucas` (the admissions model), which both import them from here: tariff groups and
providers (:class:`Providers`, :func:`build_providers`, contextual-offer adoption), A-level subjects and grade
scales (UCAS tariff, KS5 points), HE subject codes (JACS, CAH), degree classes and offer levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leokit.synth._util import random_codes

TARIFF = np.array(["high", "medium", "low"], dtype=object)
NONE = 3  # tariff index for "no HE"
#: grade units (A*=7 ... E=2, U=0) -> letters / post-2017 tariff / pre-2017 tariff / KS5 points old & new
GRADE_LETTER = {7: "A*", 6: "A", 5: "B", 4: "C", 3: "D", 2: "E", 0: "U"}
_LETTERS = np.array(["U", "U", "E", "D", "C", "B", "A", "A*"], dtype=object)
_TARIFF_NEW = np.array([0, 0, 16, 24, 32, 40, 48, 56])
_TARIFF_OLD = np.array([0, 0, 40, 60, 80, 100, 120, 140])
_KS5_OLD = np.array([0, 0, 150, 180, 210, 240, 270, 300])
_KS5_NEW = np.array([0, 0, 10, 20, 30, 40, 50, 60])
A_LEVEL_SUBJECTS = np.array([
    ("2210", "Mathematics"), ("2230", "Further Mathematics"), ("1110", "Biology"), ("1210", "Chemistry"),
    ("1410", "Physics"), ("5110", "English Literature"), ("4010", "History"), ("4210", "Geography"),
    ("4410", "Economics"), ("4810", "Psychology"), ("4850", "Sociology"), ("7010", "Art and Design"),
    ("5410", "French"), ("4730", "Business Studies"), ("6110", "Media Studies"), ("4620", "Law"),
], dtype=object)
_SUBJ_W = np.array([14, 4, 10, 8, 6, 8, 8, 6, 5, 10, 6, 5, 3, 4, 3, 2], float)
#: JACS 3 subject-area letters of each subject group (the letter UCAS applications carry)
JACS_LETTERS = {
    "medicine": ["A"], "stem": ["C", "F", "G", "H", "I", "J"], "econ_business_law": ["L", "M", "N"],
    "social_science": ["L", "K"], "humanities": ["Q", "R", "T", "V"], "creative_arts": ["W", "P"],
    "education_health": ["B", "X"],
}
#: First two characters of the JACS 3 principal subject codes of each group (code = stem + "00").
#: Contract C6: the group of every code under ``leokit.derive.jacs_subject_group`` is the generating
#: group -- economics is ``L1xx`` (econ_business_law), other ``L`` codes are social science.
JACS_STEMS = {
    g: [f"{le}{d}" for le in lets for d in range(1, 10)
        if not (g == "econ_business_law" and le == "L" and d != 1) and not (g == "social_science" and le == "L" and d == 1)]
    for g, lets in JACS_LETTERS.items()
}
CAH_CODES = {
    "medicine": ["CAH01-01-01"], "stem": ["CAH03-01-01", "CAH07-02-01", "CAH09-01-01", "CAH10-01-01", "CAH11-01-01"],
    "econ_business_law": ["CAH15-02-01", "CAH16-01-01", "CAH17-01-01"], "social_science": ["CAH15-01-01", "CAH13-01-01"],
    "humanities": ["CAH19-01-01", "CAH20-01-01", "CAH20-01-03"], "creative_arts": ["CAH25-01-01", "CAH24-01-01"],
    "education_health": ["CAH02-04-01", "CAH22-01-01"],
}
CLASS_CODES = np.array(["01", "02", "03", "04"], dtype=object)


#: Share of non-completers who studied two or more years that leave with a CertHE/DipHE (INFERRED).
EXIT_AWARD_SHARE = 0.5
#: Typical standard offers (post-2017 tariff, three A levels) by tariff group, assigned to providers by
#: quality rank within the group: high ABB/AAB/AAA/A*AA, medium BCC/BBC/BBB/ABB, low DDD..BCC.
STD_OFFER_LEVELS = {
    0: ((128, 136, 144, 152), (0.10, 0.30, 0.40, 0.20)),
    1: ((104, 112, 120, 128), (0.15, 0.35, 0.35, 0.15)),
    2: ((72, 80, 88, 96, 104), (0.10, 0.20, 0.30, 0.25, 0.15)),
}
#: Range of course-level standard offers by tariff group (no DDD/EEE offers at high-tariff providers).
COURSE_OFFER_RANGE = (np.array([128.0, 96.0, 64.0]), np.array([160.0, 136.0, 112.0]))
#: Floor under a contextual (reduced) offer by tariff group: high BBC, medium CCC, low DDE.
CONTEXTUAL_FLOOR = np.array([112.0, 96.0, 64.0])


def ks4_points(ks4_z, cohort) -> np.ndarray:
    """Headline KS4 points as released: ``KS4_PTSCNEWE`` (KS4 years to 2013/14) or ``KS4_ATT8`` (2014/15 on)."""
    z = np.asarray(ks4_z, float)
    old = np.clip(np.round(320 + 85 * z, 1), 0, 580)
    new = np.clip(np.round(46 + 18 * z, 2), 0, 90)
    return np.where(np.asarray(cohort) <= 2014, old, new)


@dataclass
class Providers:
    n: int
    tariff: np.ndarray            # 0 high, 1 medium, 2 low
    cap: np.ndarray
    quality: np.ndarray
    adopt_cycle: np.ndarray       # float, NaN = never
    ucas_code: np.ndarray
    hesa_code: np.ndarray
    std_offer: np.ndarray         # typical standard offer (tariff points, multiple of 8)
    floor: np.ndarray             # lowest offer the provider makes to anyone (contextual offers included)


def build_providers(rng: np.random.Generator, truth: dict) -> Providers:
    counts = (24, 40, 50)
    tariff = np.repeat(np.arange(3), counts)
    n = len(tariff)
    cap = rng.gamma(3.0, 1.0, n)
    quality = np.array([1.0, 0.0, -1.0])[tariff] + rng.normal(0, 0.35, n)
    quality = (quality - quality.mean()) / quality.std()
    waves = list(truth["contextual_offer_adoption_cycles"] or [])
    adopt = np.full(n, np.nan)
    hi = np.flatnonzero(tariff == 0)
    hi = hi[rng.permutation(len(hi))]
    if waves:
        share_each = 0.8 / len(waves)
        k = int(round(share_each * len(hi)))
        for w, cyc in enumerate(waves):
            adopt[hi[w * k:(w + 1) * k]] = float(cyc)
    codes = random_codes(rng, 2 * n, 6)
    std = np.empty(n)
    for g, (levels, probs) in STD_OFFER_LEVELS.items():
        i = np.flatnonzero(tariff == g)
        rank = np.argsort(np.argsort(quality[i], kind="stable"), kind="stable")
        q = (rank + 0.5) / len(i)  # quality quantile within the group
        std[i] = np.asarray(levels, float)[np.minimum(np.searchsorted(np.cumsum(probs), q), len(levels) - 1)]
    return Providers(n=n, tariff=tariff, cap=cap, quality=quality, adopt_cycle=adopt,
                     ucas_code=np.char.add("U", codes[:n].astype(str)).astype(object),
                     hesa_code=np.char.add("H", codes[n:].astype(str)).astype(object), std_offer=std,
                     floor=CONTEXTUAL_FLOOR[tariff])


def adoption_share(prov: Providers, cycle: np.ndarray) -> np.ndarray:
    """a_c: capacity share of eventually-adopting high-tariff providers adopted by each cycle."""
    ad = ~np.isnan(prov.adopt_cycle)
    tot = prov.cap[ad].sum()
    cycle = np.asarray(cycle)
    if tot <= 0:
        return np.zeros(len(cycle))
    out = np.zeros(len(cycle))
    for c in np.unique(cycle):
        out[cycle == c] = prov.cap[ad & (prov.adopt_cycle <= c)].sum() / tot
    return out


def _pick(rng, prov: Providers, mask: np.ndarray, n: int) -> np.ndarray:
    """n capacity-weighted draws among providers in ``mask``."""
    idx = np.flatnonzero(mask)
    w = prov.cap[idx] / prov.cap[idx].sum()
    return idx[np.minimum(np.searchsorted(np.cumsum(w), rng.random(n), side="right"), len(idx) - 1)]


def pick_by_tariff(rng, prov: Providers, tg: np.ndarray) -> np.ndarray:
    out = np.full(len(tg), -1, np.int64)
    for g in range(3):
        i = tg == g
        if i.any():
            out[i] = _pick(rng, prov, prov.tariff == g, int(i.sum()))
    return out


def units_to_tariff(units: np.ndarray, table=_TARIFF_NEW) -> np.ndarray:
    return table[units]


def best3(units: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Sum of post-2017 tariff over the best three of each row (units (n, 4); taken mask)."""
    t = np.where(taken, _TARIFF_NEW[units], -1)
    t.sort(axis=1)
    return np.clip(t[:, -3:], 0, None).sum(1).astype(float)


def grades_string(tariff_points: np.ndarray) -> np.ndarray:
    """Three-grade offer string ('AAB') for tariff totals that are multiples of 8 (48..168)."""
    q = np.clip(np.round(np.asarray(tariff_points, float) / 8).astype(np.int64), 6, 21)
    u1 = -(-q // 3)
    r = q - u1
    u2 = -(-r // 2)
    u3 = r - u2
    L = _LETTERS
    return (L[np.clip(u1, 2, 7)] + L[np.clip(u2, 2, 7)] + L[np.clip(u3, 2, 7)]).astype(object)
