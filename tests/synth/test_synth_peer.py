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
from leokit.analyse.peers import leave_one_out_mean

PMR = "PupilMatchingRefAnonymous"


def released_peer_frame(data_dir) -> pd.DataFrame:
    """One row per KS4 pupil with a KS2 result: standardised KS4 and KS2 (``leokit.derive``), the KS4 school
    and year and KS4 FSM of the chosen KS4 record (``ks4_attainment(extra=...)``), and leave-one-out school-cohort
    means of KS2 and of KS4 (``leokit.analyse.peers.leave_one_out_mean``; the exemplar uses the same pieces).

    KS2 records are joined through the AE_ID -> PMR lookup, because some pupils' KS2 record carries an
    earlier PMR than their KS4 record.
    """
    have = set(load.list_tables(data_dir))
    pre, post = (load.load_table(n, data_dir, validate=False) if n in have else None
                 for n in ("KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021"))
    ks4 = d.ks4_attainment(pre, post, extra=["KS4_URN_anon", "KS4_FSM"])
    lk = load.load_table("learner_ae_id_to_pmr_lookup", data_dir, validate=False).rename(
        columns={"PUPILMATCHINGREFANONYMOUS": PMR})
    ks2 = d.ks2_attainment(load.load_table("KS2Pupil_1996_to_2019_and_2022", data_dir, validate=False))
    ks2 = ks2.merge(lk, on=PMR)[["AE_ID", "ks2_z"]].drop_duplicates("AE_ID")
    df = ks4.merge(lk, on=PMR).drop_duplicates(PMR).merge(ks2, on="AE_ID", how="left")
    df = df[df["ks2_z"].notna() & df["ks4_z"].notna()].copy()
    cohort = ["KS4_URN_anon", "ks4_year"]
    df["peer_ks2"] = leave_one_out_mean(df, "ks2_z", cohort)
    df["peer_ks4"] = leave_one_out_mean(df, "ks4_z", cohort)
    return df[df["peer_ks2"].notna()].reset_index(drop=True)


def peer_regressions(data_dir) -> dict[str, tuple[float, float]]:
    """(estimate, SE clustered by school) of the peer coefficient: ``naive`` (cohort FE only), ``school_fe``
    (school and cohort FE), ``peers_ks4`` (peers' KS4 instead of KS2, school and cohort FE: the wrong regressor)."""
    from leokit.analyse.fixest import feols

    df = released_peer_frame(data_dir)
    vc = {"CRV1": "KS4_URN_anon"}
    fits = {
        "naive": feols("ks4_z ~ peer_ks2 + ks2_z + KS4_FSM | ks4_year", df, vcov=vc),
        "school_fe": feols("ks4_z ~ peer_ks2 + ks2_z + KS4_FSM | KS4_URN_anon + ks4_year", df, vcov=vc),
        "peers_ks4": feols("ks4_z ~ peer_ks4 + ks2_z + KS4_FSM | KS4_URN_anon + ks4_year", df, vcov=vc),
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
