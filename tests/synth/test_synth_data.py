"""Determinism, messiness rates, planted-truth recovery, overrides and the CLI of the generator."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from leokit.synth.params import MESSINESS
from leokit.synth.truth import merge_truth

HAVE_LABOUR = importlib.util.find_spec("leokit.synth.labour") is not None
needs_labour = pytest.mark.skipif(not HAVE_LABOUR, reason="leokit.synth.labour (labour-market side) is missing")


def _read(out: Path, db: str, name: str) -> pd.DataFrame:
    return pq.read_table(out / db / f"{name}.parquet").to_pandas()


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------
@needs_labour
def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    from leokit.synth.generate import generate
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, scale=150, cohorts=2, progress=False)
    generate(b, seed=11, scale=150, cohorts=2, progress=False)
    generate(c, seed=12, scale=150, cohorts=2, progress=False)
    da, db_, dc = _digest(a), _digest(b), _digest(c)
    assert da == db_
    common = set(da) & set(dc)  # a different seed may add/remove e.g. a late HESA year
    assert len(common) > 0.9 * len(da)
    differ = [k for k in common if da[k] != dc[k]]
    assert len(differ) > 0.9 * len(common)


# ---------------------------------------------------------------------------------------------
# messiness
# ---------------------------------------------------------------------------------------------
def test_messiness_rates(small_data):
    out, res = small_data
    main = dup = 0
    for name, rel in res["files"].items():
        if name.startswith(("plasc_", "spring_census_")):
            t = pq.read_table(out / rel).to_pandas()
            rs = t[[c for c in t.columns if c.startswith("RecordStatus")][0]]
            main += int((rs == 1).sum())
            dup += int((rs == 101).sum())
    assert abs(dup / main - MESSINESS["census_duplicate_rows"]) < 0.005
    # several KS4 records for ~2% of pupils; the ECHILD rule keeps the main (highest points) record
    k4 = _read(out, "npd_i2", "KS4Pupil_2002_to_2014")
    cnt = k4.groupby("KS4_PupilMatchingRefAnonymous").size()
    assert abs((cnt > 1).mean() - MESSINESS["ks4_multiple_records"]) < 0.012
    kept = (k4.sort_values(["KS4_NATRES", "KS4_LEVEL2_EM", "KS4_PTSCNEWE"], ascending=False, kind="stable")
              .drop_duplicates("KS4_PupilMatchingRefAnonymous"))
    mx = k4.groupby("KS4_PupilMatchingRefAnonymous")["KS4_PTSCNEWE"].max()
    assert (kept.set_index("KS4_PupilMatchingRefAnonymous")["KS4_PTSCNEWE"] == mx.loc[kept["KS4_PupilMatchingRefAnonymous"]].to_numpy()).all()
    # linkage
    pl = _read(out, "leo_i2", "learner_ae_id_to_pmr_lookup")
    el = _read(out, "leo_i2", "learner_ae_id_to_edukey_lookup")
    n_ae = pl["AE_ID"].nunique()
    assert abs((pl.groupby("AE_ID").size() > 1).mean() - MESSINESS["ae_id_two_pmrs"]) < 0.008
    assert abs((el.groupby("AE_ID").size() > 1).mean() - MESSINESS["ae_id_two_edukeys"]) < 0.01
    assert abs(1 - el["AE_ID"].nunique() / n_ae - MESSINESS["no_edukey_link"]) < 0.02
    earn = _read(out, "leo_i2", "leo_earnings")
    assert (~earn["Edukey"].isin(el["EDUKEY"])).any()  # outcomes with no AE_ID
    # KS2 missing results (absent / not awarded codes)
    k2 = _read(out, "npd_i2", "KS2Pupil_1996_to_2019_and_2022")
    assert abs(k2["KS2_APS"].isna().mean() - MESSINESS["ks2_missing"]) < 0.015
    assert k2.loc[k2["KS2_APS"].isna(), "KS2_ENGLEV"].isin(["A", "N", "T"]).all()
    ua = _read(out, "ucas_i2", "ucas_applicants")
    assert abs(ua["PupilMatchingRefAnonymous"].isna().mean() - MESSINESS["ucas_unlinked_pmr"]) < 0.025


def test_census_panel_structure(small_data):
    out, res = small_data
    tp = _read(out, "truth", "truth_person")
    c06 = _read(out, "npd_i2", "spring_census_2006")
    main = c06[c06["RecordStatus_spr06"] == 1]
    assert main["PupilMatchingRefAnonymous_spr06"].is_unique
    # KS4 2005 cohort left Year 11 in 2005: in 2006 only the sixth-formers (Year 12) remain
    y12 = main[main["NCyearActual_spr06"] == "12"]
    expected = tp[(tp["cohort"] == 2005) & (tp["sixth_form"] == 1)]
    assert len(y12) == len(expected)
    assert 0.3 < tp["sixth_form"].mean() < 0.5
    # 2001 LSOA codes in the census resolve through the public lookup
    lk = _read(out, "public", "lsoa01_lsoa11_lookup")
    codes = main["LLSOA_spr06"].dropna()
    assert codes.isin(lk["lsoa01cd"]).all()
    assert 0.01 < (lk["chgind"] == "S").mean() < 0.06


# ---------------------------------------------------------------------------------------------
# planted truth
# ---------------------------------------------------------------------------------------------
def _peer_estimate(tp: pd.DataFrame) -> tuple[float, float]:
    """School and cohort FE regression on truth columns; SEs clustered by school (school-cohort shocks)."""
    import statsmodels.formula.api as smf
    d = tp[tp["in_ks4"] == 1]
    fit = smf.ols("ks4_z ~ ks2_loo_mean + ability + background + fsm_ks4 + C(school_id) + C(cohort)", data=d).fit(
        cov_type="cluster", cov_kwds={"groups": d["school_id"].to_numpy()})
    return float(fit.params["ks2_loo_mean"]), float(fit.bse["ks2_loo_mean"])


def _education_people(scale, cohorts, seed, **override):
    from leokit.synth.generate import education_side
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    P, _fsm, _geo, edu, uc = education_side(rng, scale, cohorts, merge_truth(override or None))
    return P, edu, uc


def test_peer_effect_recovered_from_truth_person(small_data):
    out, _ = small_data
    tp = _read(out, "truth", "truth_person")
    planted = json.loads((out / "truth.json").read_text())["school_peer_effect"]["value"]
    est, se = _peer_estimate(tp)
    assert abs(est - planted) < 3 * se + 0.01, (est, se, planted)
    # ks4_z is standardised within cohort; ks2_z standardised within year over observed results
    g = tp.groupby("cohort")["ks4_z"]
    assert np.allclose(g.mean(), 0, atol=1e-9) and np.allclose(g.std(ddof=0), 1, atol=1e-9)


def test_peer_effect_override_moves_estimate():
    base = merge_truth(None)["school_peer_effect"]
    high = base + 0.35
    P15, _, _ = _education_people(1000, 4, 3)
    P50, _, _ = _education_people(1000, 4, 3, school_peer_effect=high)
    e15, s15 = _peer_estimate(P15)
    e50, s50 = _peer_estimate(P50)
    assert e50 > e15 + 0.2
    assert abs(e50 - high) < 3 * s50 + 0.01 and abs(e15 - base) < 3 * s15 + 0.01


@needs_labour
def test_degree_return_override_moves_graduate_earnings(tmp_path):
    from leokit.synth.generate import generate
    res = {}
    base_value = merge_truth(None)["degree_return_female"]
    high_value = base_value + 0.34
    for tag, tr in (("base", None), ("high", {"degree_return_female": high_value})):
        out = tmp_path / tag
        generate(out, seed=3, scale=500, cohorts=1, truth=tr, progress=False)
        tp = _read(out, "truth", "truth_person")
        e = _read(out, "leo_i2", "leo_earnings")
        g = tp[(tp["degree"] == 1) & (tp["sex"] == "F")]
        m = e.merge(g[["edukey"]], left_on="Edukey", right_on="edukey")
        m = m[(m["TaxYear"] >= 201617) & (m["Earnings"] > 0)]
        res[tag] = np.log(m["Earnings"]).mean()
        doc = json.loads((out / "truth.json").read_text())
        assert doc["degree_return_female"]["value"] == (high_value if tr else base_value)
    assert res["high"] > res["base"] + 0.1


def test_truth_override_file_and_unknown_key(tmp_path):
    from leokit.synth.truth import read_override
    p = tmp_path / "o.json"
    p.write_text(json.dumps({"school_peer_effect": {"value": 0.5}}))
    assert read_override(p) == {"school_peer_effect": 0.5}
    with pytest.raises(ValueError):
        merge_truth({"no_such_key": 1})


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
@needs_labour
def test_cli_generate(tmp_path):
    out = tmp_path / "cli"
    override = tmp_path / "truth.json"
    override.write_text(json.dumps({"school_peer_effect": {"value": 0.5}}))
    r = subprocess.run([sys.executable, "-m", "leokit", "generate", "--out", str(out), "--seed", "1",
                        "--scale", "200", "--cohorts", "2", "--truth", str(override)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "truth.json").exists()
    assert (out / "npd_i2" / "KS4Pupil_2002_to_2014.parquet").exists()
    doc = json.loads((out / "truth.json").read_text())
    assert doc["_meta"]["scale"] == 200 and doc["_meta"]["cohorts"] == 2
    assert doc["school_peer_effect"]["value"] == 0.5 and doc["_meta"]["override"] == {"school_peer_effect": 0.5}


def test_cli_help_lists_generate():
    r = subprocess.run([sys.executable, "-m", "leokit", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "generate" in r.stdout


def test_missing_labour_side_fails_loudly():
    """No fallback: the generator imports its labour side at module level, so a broken or missing labour module
    stops the import with the original error (never a stub, a None or a note)."""
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "leokit.synth.labour":
                    raise ImportError("simulated absence of leokit.synth.labour")
        sys.meta_path.insert(0, Block())
        import leokit.synth.generate
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0
    assert "ImportError: simulated absence of leokit.synth.labour" in r.stderr, r.stderr[-2000:]


def test_ucas_offers_and_entry_are_coherent(small_data):
    out, _ = small_data
    tp = _read(out, "truth", "truth_person")
    ua = _read(out, "ucas_i2", "ucas_applicants")
    ap = _read(out, "ucas_i2", "ucas_applications")
    uq = _read(out, "ucas_i2", "ucas_qualifications")
    # accepted applicants entered HE; Firm/Insurance placements are at the provider of that application
    acc = ua[ua["accept_flag"] == 1].merge(tp[["pmr", "provider_id", "he_entry", "alevel_points"]],
                                           left_on="PupilMatchingRefAnonymous", right_on="pmr")
    assert (acc["he_entry"] == 1).all()
    assert set(ua["acceptance_route"].dropna()) <= {"Firm", "Insurance", "Clearing"}
    assert ua["acceptance_route"].notna().eq(ua["accept_flag"] == 1).all()
    for route in ("Firm", "Insurance"):
        held = ap[ap["app_response_june30"] == route]
        assert held["unique_id_cycle"].is_unique
        m = acc[acc["acceptance_route"] == route].merge(held, on="unique_id_cycle")
        assert len(m) == (acc["acceptance_route"] == route).sum() > 0
        assert (m["inst_code_anon"] == m["provider_id"]).all()
        assert m["provider_decision_june30"].isin(["Conditional offer", "Unconditional offer"]).all()
        # a placement through a held offer means its condition was met (or a lenient confirmation, at most
        # the grade reduction below the stated offer)
        cond = m[m["syn_offer_tariff_required"].notna()]
        short = cond["syn_offer_tariff_required"] - cond["alevel_points"]
        assert (short <= 8 * merge_truth(None)["contextual_offer_grade_reduction"]).all()
    # clearing placements are not at a high-tariff provider
    prov = _read(out, "public", "syn_he_provider")
    clr = acc[acc["acceptance_route"] == "Clearing"].merge(prov, left_on="provider_id", right_on="inst_code_anon")
    assert len(clr) and (clr["syn_tariff_group"] != "high").all()
    # offer conditions exist only on conditional offers; contextual offers only at high-tariff providers
    cond = ap["provider_decision_june30"] == "Conditional offer"
    assert ap.loc[cond, "syn_offer_tariff_required"].notna().all() and ap.loc[~cond, "syn_offer_tariff_required"].isna().all()
    assert (ap.loc[ap["syn_contextual_offer_flag"] == 1, "he_provider_tariff_group"] == "high").all()
    assert (ap["unique_id_cycle"].isin(ua["unique_id_cycle"])).all()
    # predicted (Pending) and achieved (Gained) grades for every A level
    n = uq.groupby(["unique_id_cycle", "qualification_status"]).size().unstack()
    assert (n["Pending"] == n["Gained"]).all()
    # HESA providers map to UCAS providers through syn_he_provider
    h = _read(out, "hesa_i2", "hesa_2010")
    assert h["HE_XINSTID01_ANON"].isin(prov["HE_XINSTID01_ANON"]).all()
