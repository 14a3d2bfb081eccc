"""The school peer effect recovered from released columns only (no answer-key column such as ks2_loo_mean).

The teaching check of ``data_synthetic/README.md`` runs :func:`peer_regressions` on the committed data.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import leokit.derive as d
from leokit import load

PMR = "PupilMatchingRefAnonymous"


def released_peer_frame(data_dir) -> pd.DataFrame:
    """One row per KS4 pupil with a KS2 result: standardised KS4 and KS2 (``leokit.derive``), the KS4 school
    and year, KS4 FSM, and leave-one-out school-cohort means of KS2 and of KS4 computed from them.

    KS2 records are joined through the AE_ID -> PMR lookup, because some pupils' KS2 record carries an
    earlier PMR than their KS4 record.
    """
    have = set(load.list_tables(data_dir))
    pre, post = (load.load_table(n, data_dir, validate=False) if n in have else None
                 for n in ("KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021"))
    ks4 = d.ks4_attainment(pre, post)
    raw = pd.concat([f for f in (pre, post) if f is not None], ignore_index=True)
    raw["ks4_year"] = d.acadyr_end(raw["KS4_ACADYR"]).astype("int64")
    raw["_pts"] = raw["KS4_PTSCNEWE"] if "KS4_ATT8" not in raw else raw["KS4_PTSCNEWE"].fillna(raw["KS4_ATT8"])
    raw["_l2"] = raw["KS4_LEVEL2_EM"] if "KS4_L2BASICS_94" not in raw else raw["KS4_LEVEL2_EM"].fillna(raw["KS4_L2BASICS_94"])
    # the school of the record ks4_attainment keeps (ECHILD rule: national results, level 2, points)
    main = (raw.sort_values(["KS4_PupilMatchingRefAnonymous", "ks4_year", "KS4_NATRES", "_l2", "_pts"],
                            ascending=[True, True, False, False, False], kind="stable")
               .drop_duplicates("KS4_PupilMatchingRefAnonymous")
               .rename(columns={"KS4_PupilMatchingRefAnonymous": PMR}))
    ks4 = ks4.merge(main[[PMR, "KS4_URN_anon", "KS4_FSM"]], on=PMR, how="inner", validate="1:1")
    lk = load.load_table("learner_ae_id_to_pmr_lookup", data_dir, validate=False).rename(
        columns={"PUPILMATCHINGREFANONYMOUS": PMR})
    ks2 = d.ks2_attainment(load.load_table("KS2Pupil_1996_to_2019_and_2022", data_dir, validate=False))
    ks2 = ks2.merge(lk, on=PMR)[["AE_ID", "ks2_z"]].drop_duplicates("AE_ID")
    df = ks4.merge(lk, on=PMR).drop_duplicates(PMR).merge(ks2, on="AE_ID", how="left")
    df = df[df["ks2_z"].notna() & df["ks4_z"].notna()].copy()
    g = df.groupby(["KS4_URN_anon", "ks4_year"])
    n = g["ks2_z"].transform("count")
    df["peer_ks2"] = (g["ks2_z"].transform("sum") - df["ks2_z"]) / (n - 1)
    df["peer_ks4"] = (g["ks4_z"].transform("sum") - df["ks4_z"]) / (n - 1)
    return df[n > 1].reset_index(drop=True)


def peer_regressions(data_dir) -> dict[str, tuple[float, float]]:
    """(estimate, SE clustered by school) of the peer coefficient: ``naive`` (cohort FE only), ``school_fe``
    (school and cohort FE), ``peers_ks4`` (peers' KS4 instead of KS2, school and cohort FE: the wrong regressor)."""
    import pyfixest as pf
    df = released_peer_frame(data_dir)
    vc = {"CRV1": "KS4_URN_anon"}
    fits = {
        "naive": pf.feols("ks4_z ~ peer_ks2 + ks2_z + KS4_FSM | ks4_year", data=df, vcov=vc),
        "school_fe": pf.feols("ks4_z ~ peer_ks2 + ks2_z + KS4_FSM | KS4_URN_anon + ks4_year", data=df, vcov=vc),
        "peers_ks4": pf.feols("ks4_z ~ peer_ks4 + ks2_z + KS4_FSM | KS4_URN_anon + ks4_year", data=df, vcov=vc),
    }
    out = {}
    for k, f in fits.items():
        v = "peer_ks4" if k == "peers_ks4" else "peer_ks2"
        out[k] = (float(f.coef()[v]), float(f.se()[v]))
    out["n"] = (float(len(df)), float(df["KS4_URN_anon"].nunique()))
    return out


def test_school_fe_recovers_peer_effect_from_released_columns(small_data):
    out, _ = small_data
    planted = json.loads((out / "truth.json").read_text())["school_peer_effect"]["value"]
    r = peer_regressions(out)
    est, se = r["school_fe"]
    assert abs(est - planted) < 3 * se, (est, se, planted)
    # without school fixed effects the coefficient absorbs sorting and school quality: far above the truth
    naive, nse = r["naive"]
    assert naive > planted + 3 * nse
    assert np.isfinite(r["peers_ks4"][0])
