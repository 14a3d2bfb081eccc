"""Tests of the labour-market side of the generator (leokit.synth.labour) on a stand-in people table.

The stand-in (leokit.synth.labour_fake.fake_people) has the contract columns and realistic selection
(degree more likely with high ability and background), so these tests run without the education side.
Planted values are read from the truth defaults (``default_truth``), never typed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leokit.analyse.fixest import feols
from leokit.load import validate
from leokit.synth.labour import (LABOUR_MESSINESS, PART_TIME_LOG_FACTOR, age_in_tax_year, degree_return_individual,
                                 simulate_labour, tax_year_age29, tax_year_code)
from leokit.synth.labour_fake import fake_people
from leokit.synth.truth import default_truth
from leokit.years import taxyear_at_age

N_PEOPLE = 4000
COHORTS = (2005, 2006, 2007)
RELEASED = ("leo_employment", "leo_earnings", "leo_self_assessment", "leo_benefit", "geography", "idbr_lookup",
            "syn_enterprise_output")


def _run(truth_override=None, seed=11, n=N_PEOPLE, people=None, cohorts=COHORTS):
    people = fake_people(n, cohorts, np.random.default_rng(5)) if people is None else people
    tr = {**default_truth(), **(truth_override or {})}
    return people, simulate_labour(people, tr, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def run():
    return _run()


@pytest.fixture(scope="module")
def tpy(run):
    people, out = run
    t = out["truth_person_year"].merge(
        people[["person_id", "cohort", "sex", "degree", "ability", "background", "ks2_z", "ks4_z", "fsm_ever6"]],
        on="person_id", how="left")
    t["log_pay_rate"] = t["log_earnings_fte"] + PART_TIME_LOG_FACTOR * t["part_time"]
    return t


def _key_to_person(people):
    a = people[["person_id", "edukey"]].rename(columns={"edukey": "Edukey"})
    b = people.loc[people["edukey2"].notna(), ["person_id", "edukey2"]].rename(columns={"edukey2": "Edukey"})
    return pd.concat([a, b], ignore_index=True).astype({"Edukey": object})


def _fe(formula, data, vcov=None):
    return feols(formula, data, vcov=vcov or "hetero")


# ---------------------------------------------------------------------------------------------
# structure
# ---------------------------------------------------------------------------------------------
def test_every_table_validates_against_schema(run):
    _, out = run
    for name in RELEASED + ("truth_enterprise", "truth_person_year"):
        df = out[name]
        assert len(df) > 0, name
        validate(df, name)  # columns exact, kinds, values, ranges, unique keys
    assert isinstance(out["_realised"], dict)
    for name in ("truth_person", "truth_enterprise_year"):
        assert len(out[name]) > 0


def test_tables_sorted_by_key(run):
    _, out = run
    e = out["leo_earnings"]
    assert e.equals(e.sort_values(["Edukey", "TaxYear"]).reset_index(drop=True))
    g = out["geography"]
    assert g[["Edukey", "TaxYear"]].equals(g.sort_values(["Edukey", "TaxYear"])[["Edukey", "TaxYear"]].reset_index(drop=True))
    i = out["idbr_lookup"]
    assert i[["ENTKEY", "SourceYear"]].equals(i.sort_values(["ENTKEY", "SourceYear"])[["ENTKEY", "SourceYear"]].reset_index(drop=True))
    o = out["syn_enterprise_output"]
    assert o[["ENTKEY", "TaxYear"]].equals(o.sort_values(["ENTKEY", "TaxYear"])[["ENTKEY", "TaxYear"]].reset_index(drop=True))
    sa = out["leo_self_assessment"]
    assert not sa.duplicated(["Edukey", "TaxYear"]).any()


def test_deterministic(run):
    _, out1 = run
    _, out2 = _run()
    for name in RELEASED + ("truth_enterprise", "truth_enterprise_year", "truth_person", "truth_person_year"):
        pd.testing.assert_frame_equal(out1[name], out2[name], check_exact=True, obj=name)
    assert out1["_realised"] == out2["_realised"]
    _, out3 = _run(seed=12)
    assert not out3["leo_earnings"]["Earnings"].equals(out1["leo_earnings"]["Earnings"])


def test_tax_year_and_age_conventions():
    assert tax_year_code(2004) == 200405 and tax_year_code(2019) == 201920 and tax_year_code(1999) == 199900
    # working life starts in the tax year of the 16th birthday: born Feb 1989 -> 2004/05, May 1989 -> 2005/06
    assert age_in_tax_year(1989, 2, 2004) == 16
    assert age_in_tax_year(1989, 5, 2005) == 16 and age_in_tax_year(1989, 5, 2004) == 15
    # the planted outcome point uses the kit's cohort convention (leokit.years, contract C1)
    for c in (2005, 2008, 2016):
        assert tax_year_age29(c) == taxyear_at_age(29, c) == c + 12


def test_truth_person_year_age_is_cohort_age(run, tpy):
    assert (tpy["age"] == tpy["TaxYear"] // 100 - tpy["cohort"] + 17).all()
    people, out = run
    tp = out["truth_person"].merge(people[["person_id", "cohort"]], on="person_id")
    assert (tp["tax_year_age29"] == tax_year_code(tp["cohort"] + 12)).all()


def test_no_earnings_before_16_and_sa_from_201314(run):
    people, out = run
    e = out["leo_earnings"].astype({"Edukey": object}).merge(_key_to_person(people), on="Edukey", how="left")
    assert e["person_id"].notna().all()
    e = e.merge(people[["person_id", "birth_year", "birth_month"]], on="person_id")
    age = age_in_tax_year(e["birth_year"], e["birth_month"], e["TaxYear"] // 100)
    assert (age >= 16).all()
    assert (out["leo_self_assessment"]["TaxYear"] >= 201314).all()
    # spells start on or after the 16th birthday (defaulted starts: on or after 6 April of that tax year)
    emp = out["leo_employment"].astype({"EduKey": object}).rename(columns={"EduKey": "Edukey"}).merge(
        _key_to_person(people), on="Edukey").merge(people[["person_id", "birth_year", "birth_month"]], on="person_id")
    bday = pd.to_datetime(pd.DataFrame({"year": emp["birth_year"] + 16, "month": emp["birth_month"], "day": 1}))
    sure = emp["UncertainStartDate"] == 0
    assert (emp.loc[sure, "StartDate"] >= bday[sure]).all()
    t16 = emp["birth_year"] + 16 - (emp["birth_month"] <= 3)
    t16_start = pd.to_datetime(t16.astype(str) + "-04-06")
    assert (emp["StartDate"] >= t16_start).all()


def test_earnings_fields_consistent(run):
    _, out = run
    e = out["leo_earnings"]
    assert (e["Num_Employments"] >= 1).all()
    ok = e["enterprise_earnings"].notna()
    assert (e.loc[ok, "enterprise_earnings"] <= e.loc[ok, "Earnings"]).all()
    # no IDBR link -> all main-enterprise fields missing together
    miss = e["main_enterprise"].isna()
    assert (e.loc[miss, ["Main_Section", "Main_SIC2007"]].isna().all(axis=None))
    assert e.loc[~miss, "Main_SIC2007"].str.len().eq(5).all()
    # section of the SIC code agrees with the enterprise
    te = out["truth_enterprise"].set_index("ENTKEY")
    sec = e.loc[~miss, "main_enterprise"].map(te["section"])
    assert (sec.to_numpy() == e.loc[~miss, "Main_Section"].to_numpy()).all()


def test_main_enterprises_are_in_idbr_with_the_right_source_year(run):
    _, out = run
    e = out["leo_earnings"].dropna(subset=["main_enterprise"])
    idbr = out["idbr_lookup"]
    for src, m in (("2019", e["TaxYear"] <= 201617), ("2020", e["TaxYear"] >= 201718)):
        have = set(idbr.loc[idbr["SourceYear"] == src, "ENTKEY"])
        ents = set(e.loc[m, "main_enterprise"])
        missing = ents - have
        assert len(missing) <= 0.01 * max(len(ents), 1), (src, len(missing))


def test_spells_cover_earnings(run):
    people, out = run
    e = out["leo_earnings"]
    e = e[e["Earnings"] > 0].astype({"Edukey": object})
    sp = out["leo_employment"].astype({"EduKey": object}).rename(columns={"EduKey": "Edukey"})
    end = sp["EndDate"].fillna(pd.Timestamp("2021-04-05"))
    assert (end >= sp["StartDate"]).all()
    # for each earnings row, is there a spell overlapping the tax year?
    m = e[["Edukey", "TaxYear"]].merge(sp.assign(EndDate=end), on="Edukey", how="left")
    ty0 = pd.to_datetime((m["TaxYear"] // 100).astype(str) + "-04-06")
    ty1 = pd.to_datetime((m["TaxYear"] // 100 + 1).astype(str) + "-04-05")
    m["ov"] = (m["StartDate"] <= ty1) & (m["EndDate"] >= ty0)
    covered = m.groupby(["Edukey", "TaxYear"])["ov"].any()
    assert covered.mean() > 0.97
    assert covered.mean() < 1.0  # the documented share of P14 earnings with no P45 spell
    # ongoing spells: missing EndDate, and only for people employed in the last tax year
    assert sp["EndDate"].isna().any()
    flags = sp[["UncertainStartDate", "UncertainEndDate"]].mean()
    assert abs(flags["UncertainStartDate"] - LABOUR_MESSINESS["uncertain_start"]) < 0.015
    assert 0.02 < flags["UncertainEndDate"] < LABOUR_MESSINESS["uncertain_end"] + 0.01


def test_messiness_rates(run):
    people, out = run
    e = out["leo_earnings"]
    r = out["_realised"]
    zero = (e["Earnings"] == 0).mean()
    target = LABOUR_MESSINESS["negative_adjustment_rows"] + LABOUR_MESSINESS["zero_pay_rows"]
    assert abs(zero - target) < 0.005
    assert abs(e["main_enterprise"].isna().mean() - LABOUR_MESSINESS["main_enterprise_missing"]) < 0.006
    assert abs(r["messiness_dropped_missing_person_year_share"] - LABOUR_MESSINESS["missing_person_year"]) < 0.004
    assert r["messiness_dropped_low_earner_small_employer_share"] > 0
    # low earners at micro enterprises are under-represented: few rows < GBP 2,500 at 0-9 employee enterprises
    idbr = out["idbr_lookup"].drop_duplicates("ENTKEY").set_index("ENTKEY")["Employees"]
    band = e["main_enterprise"].map(idbr)
    low = (e["Earnings"] > 0) & (e["Earnings"] < LABOUR_MESSINESS["low_earner_threshold"])
    tp = out["truth_person_year"]
    true_low = ((tp["earnings_true"] > 0) & (tp["earnings_true"] < 2500)).sum()
    assert (low & (band == "0-9")).sum() < true_low
    # people with a second EDUKEY have records under both keys, never the same year twice
    two = people[people["edukey2"].notna()]
    keys = set(e["Edukey"])
    both = [(a in keys) and (b in keys) for a, b in zip(two["edukey"], two["edukey2"])]
    assert np.mean(both) > 0.5
    m = e[["Edukey", "TaxYear"]].astype({"Edukey": object}).merge(_key_to_person(people), on="Edukey")
    assert not m.duplicated(["person_id", "TaxYear"]).any()


def test_benefits_and_geography_codes(run, tpy):
    _, out = run
    b = out["leo_benefit"]
    oow = {"AA", "ESA", "IB", "ICA", "IS", "JSA", "JTA", "PC", "PIB", "RP", "SDA", "UAA", "UBC", "UCE", "UDF"}
    assert (b["Out_of_work_benefit"] == b["Benefit_type"].isin(oow).astype(int)).all()
    assert set(b["Benefit_type"]) >= {"JSA", "ESA", "UCE", "PIP"}
    assert (b["EndDate"].isna() | (b["EndDate"] >= b["StartDate"])).all()
    # out-of-work benefits more common for FSM and low ability (truth person-years)
    lm = tpy[tpy["status"] == "lm"]
    assert lm.loc[lm["fsm_ever6"] == 1, "out_of_work_benefit"].mean() > 1.5 * lm.loc[lm["fsm_ever6"] == 0, "out_of_work_benefit"].mean()
    g = out["geography"]
    shares = g["CTRYNM"].value_counts(normalize=True)
    assert shares["England"] > 0.9 and "Abroad" in shares
    assert g.loc[g["CTRYNM"] == "England", "GOR"].str.startswith("E12").all()
    assert g.loc[g["CTRYNM"].isin(["Abroad", "Unknown"]), "GOR"].isna().all()


def test_self_employment_and_part_time_shares(run):
    _, out = run
    r = out["_realised"]
    assert 0.03 < r["self_employed_share_lm_2013_on"] < 0.10
    assert 0.05 < r["part_time_share_employed_lm"] < 0.25
    assert r["part_time_share_employed_lm_female"] > r["part_time_share_employed_lm_male"]
    sa = out["leo_self_assessment"]
    assert (sa["EARNINGS_PTR"].notna() ^ sa["EARNINGS_SOLE"].notna()).all()


# ---------------------------------------------------------------------------------------------
# the pay rate and the planted degree returns
# ---------------------------------------------------------------------------------------------
def test_released_pay_rate_is_full_year_pay_times_part_time_factor(run, tpy):
    """annualised_earnings (pay / days x 365) from the released tables = exp(y*) x 0.6^part_time (contract C3)."""
    import leokit.derive as dv
    people, out = run
    one = people.loc[people["edukey2"].isna(), ["person_id", "edukey"]]  # one EDUKEY: key = person
    paye = dv.annual_paye_earnings(out["leo_earnings"])
    days = dv.days_employed(out["leo_employment"])
    ann = dv.annualised_earnings(paye, days)
    ann = ann[ann["annualised_earnings"] > 0].astype({"EDUKEY": object})
    t = tpy[tpy["employed"] == 1].merge(one, on=["person_id", "edukey"])
    m = t.merge(ann, left_on=["edukey", "TaxYear"], right_on=["EDUKEY", "TaxYear"])
    assert len(m) > 0.9 * len(t[t["TaxYear"] >= 200304])
    diff = np.log(m["annualised_earnings"]) - m["log_pay_rate"].astype(float)
    exact = diff.abs() < 0.002  # GBP rounding of annual pay and float32 storage
    # the rest: spell dates defaulted to 6 April / 5 April, zero-pay rows (the documented messiness)
    assert exact.mean() > 0.85
    assert np.median(diff) == pytest.approx(0.0, abs=1e-3)


def test_degree_return_exact_at_29(run):
    people, out = run
    tr = default_truth()
    tp = out["truth_person"].merge(people[["person_id", "sex", "degree"]], on="person_id")
    g = tp[tp["degree"] == 1]
    assert g.loc[g["sex"] == "F", "degree_return_at_29"].mean() == pytest.approx(tr["degree_return_female"], abs=1e-12)
    assert g.loc[g["sex"] == "M", "degree_return_at_29"].mean() == pytest.approx(tr["degree_return_male"], abs=1e-12)
    r = out["_realised"]
    assert r["degree_return_female_att_at_29"] == pytest.approx(tr["degree_return_female"], abs=1e-12)
    assert r["degree_return_male_att_at_29"] == pytest.approx(tr["degree_return_male"], abs=1e-12)
    # subject / tariff deviations are present (heterogeneous returns), and centred
    assert g["degree_return_i"].std() > 0.05


def _without_degrees(people, frac, rng):
    """The same people with the degree of a share ``frac`` of graduates removed (they leave HE without one)."""
    q = people.copy()
    flip = (q["degree"] == 1).to_numpy() & (rng.random(len(q)) < frac)
    q.loc[flip, "degree"] = 0
    q.loc[flip, "grad_year"] = np.nan
    q.loc[flip, "degree_class"] = None
    q.loc[flip, "highest_level"] = 4
    return q, flip


@pytest.mark.parametrize("frac", [1.0, 0.05])
def test_no_channel_from_the_degree_to_the_pay_rate_other_than_the_return(run, frac):
    """Counterfactual run with degrees removed, same random streams: employer, premium, region, part-time status,
    age profile, person effect and shocks are identical for everyone; for people in PAYE work in the labour market
    at 29 in both runs the pay rate differs by exactly D r_i plus kappa x the change in S caused by *other*
    people's degrees (coworkers' graduate status)."""
    people, base = run
    tr = default_truth()
    q, flip = _without_degrees(people, frac, np.random.default_rng(3))
    _, cf = _run(people=q)
    a, b = base["truth_person_year"], cf["truth_person_year"]
    assert (a["person_id"].to_numpy() == b["person_id"].to_numpy()).all()
    lm_emp = (a["status"] == "lm") & (b["status"] == "lm") & (a["employed"] == 1) & (b["employed"] == 1)
    for c in ("ENTKEY", "firm_premium", "part_time", "experience_effect", "person_effect", "shock", "year_effect"):
        pd.testing.assert_series_equal(a.loc[lm_emp, c], b.loc[lm_emp, c], check_exact=True, obj=c)
    pd.testing.assert_frame_equal(base["truth_person"][["person_id", "moved_to_london", "part_time_propensity"]],
                                  cf["truth_person"][["person_id", "moved_to_london", "part_time_propensity"]])
    cohort = a["person_id"].map(people.set_index("person_id")["cohort"])
    at29 = lm_emp & (a["TaxYear"] // 100 == cohort + 12) & a["person_id"].isin(people.loc[flip, "person_id"])
    assert at29.sum() > 30
    ya = a["log_earnings_fte"] + PART_TIME_LOG_FACTOR * a["part_time"]
    yb = b["log_earnings_fte"] + PART_TIME_LOG_FACTOR * b["part_time"]
    dS = a["coworker_grad_share"].fillna(0) - b["coworker_grad_share"].fillna(0)
    resid = (ya - yb - a["degree_component"] - tr["coworker_graduate_share_effect"] * dS)[at29]
    assert resid.abs().max() < 1e-5
    assert (b.loc[at29, "degree_component"] == 0).all()


def test_override_moves_female_return():
    people, base = _run()
    tr = default_truth()
    high = tr["degree_return_female"] + 0.34
    _, hi = _run({"degree_return_female": high})
    tb, th = base["truth_person_year"], hi["truth_person_year"]
    # same random draws: only the degree component changes
    pd.testing.assert_series_equal(tb["employed"], th["employed"])
    d = (th["log_earnings_fte"] - tb["log_earnings_fte"])
    t = tb.assign(d=d).merge(people[["person_id", "sex", "degree", "cohort"]], on="person_id")
    at29 = t[(t["TaxYear"] // 100 == t["cohort"] + 12) & (t["employed"] == 1) & (t["degree"] == 1)]
    assert at29.loc[at29["sex"] == "F", "d"].mean() == pytest.approx(0.34, abs=0.03)
    assert at29.loc[at29["sex"] == "M", "d"].abs().max() < 1e-6
    r, _ = degree_return_individual(people, {**tr, "degree_return_female": high})
    assert hi["_realised"]["degree_return_female_att_at_29"] == pytest.approx(high, abs=1e-12)
    assert np.isfinite(r).all()


def test_selection_bias_and_prior_attainment_controls(tpy):
    import statsmodels.formula.api as smf
    tr = default_truth()
    t = tpy[tpy["age"].between(27, 30) & (tpy["employed"] == 1) & (tpy["status"] == "lm")].copy()
    t["female"] = (t["sex"] == "F").astype(float)
    t["deg_f"] = t["degree"] * t["female"]
    target_f, target_m = tr["degree_return_female"], tr["degree_return_male"]
    naive = smf.ols("log_pay_rate ~ degree + deg_f + female + C(TaxYear)", data=t).fit().params
    ctrl = smf.ols("log_pay_rate ~ degree + deg_f + female + C(TaxYear) + ks2_z + ks4_z + fsm_ever6", data=t).fit().params
    bias_naive_m = naive["degree"] - target_m
    bias_ctrl_m = ctrl["degree"] - target_m
    bias_naive_f = naive["degree"] + naive["deg_f"] - target_f
    bias_ctrl_f = ctrl["degree"] + ctrl["deg_f"] - target_f
    assert bias_naive_m > 0.05 and bias_naive_f > 0.05  # positive selection on ability/background
    assert abs(bias_ctrl_m) < 0.5 * bias_naive_m
    assert abs(bias_ctrl_f) < 0.5 * bias_naive_f


# ---------------------------------------------------------------------------------------------
# coworkers, enterprises, productivity
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cow(tpy):
    t = tpy[(tpy["employed"] == 1) & (tpy["status"] == "lm") & tpy["coworker_grad_share"].notna()].copy()
    t["S"] = t["coworker_grad_share"].astype(float)
    t["y"] = t["log_pay_rate"].astype(float)
    t["a2"] = (t["age"] - 25.0) ** 2
    t["a3"] = (t["age"] - 25.0) ** 3
    t["ENT"] = t["ENTKEY"].astype(object)
    t["ramp"] = t["degree_ramp"].astype(float)
    return t


def test_two_way_fe_recovers_coworker_effect(cow):
    kappa = default_truth()["coworker_graduate_share_effect"]
    two = _fe("y ~ S + a2 + a3 + ramp | person_id + ENT + TaxYear", cow, {"CRV1": "ENT"})
    b, se = float(two.coef()["S"]), float(two.se()["S"])
    assert abs(b - kappa) < 3 * se, (b, se)
    # estimated enterprise effects track the planted premia at enterprises with >= 50 worker-years (small ones are
    # noisy: few movers - the limited-mobility problem the spillovers exemplar shows)
    fe = two.fixef()
    key = [k for k in fe if "ENT" in k][0]
    est = pd.Series(fe[key]).rename("est")
    est.index = est.index.astype(str)
    n = cow.groupby("ENT").size()
    truth = cow.groupby("ENT")["firm_premium"].first().astype(float)
    j = pd.concat([est, truth, n.rename("n")], axis=1, join="inner")
    j = j[j["n"] >= 50]
    assert len(j) > 30
    assert np.corrcoef(j["est"], j["firm_premium"])[0, 1] > 0.85




def test_enterprise_output_recovers_productivity_effect(run):
    _, out = run
    theta = default_truth()["firm_graduate_share_productivity_effect"]
    te = out["truth_enterprise_year"]
    parts = te["productivity"] + te["year_effect"] + te["graduate_share_component"] + te["shock"]
    assert np.allclose(te["log_output_per_worker"] - parts, te["log_output_per_worker"].iloc[0] - parts.iloc[0])
    assert np.allclose(te["graduate_share"], te["graduates"] / te["workers"])
    # the released table carries exactly the truth values
    o = out["syn_enterprise_output"].merge(te, on=["ENTKEY", "TaxYear"])
    assert len(o) == len(te) and np.allclose(o["syn_log_output_per_worker"], o["log_output_per_worker"])
    # workers = persons whose released leo_earnings row names the enterprise
    e = out["leo_earnings"].dropna(subset=["main_enterprise"]).groupby(["main_enterprise", "TaxYear"]).size()
    w = te.set_index(["ENTKEY", "TaxYear"])["workers"]
    assert (e.reindex(w.index).to_numpy() == w.to_numpy()).all()
    te = te.assign(ENT=te["ENTKEY"].astype(object))
    fe = _fe("log_output_per_worker ~ graduate_share | ENT + TaxYear", te, {"CRV1": "ENT"})
    assert abs(float(fe.coef()["graduate_share"]) - theta) < 3 * float(fe.se()["graduate_share"])
    naive = _fe("log_output_per_worker ~ graduate_share | TaxYear", te, {"CRV1": "ENT"})
    assert float(naive.coef()["graduate_share"]) - theta > 3 * float(naive.se()["graduate_share"])


def test_akm_and_sorting_realised(run):
    _, out = run
    r = out["_realised"]
    tr = default_truth()
    shares = [r[f"akm_{k}_share_net_of_xb"] for k in ("person", "firm", "sorting", "residual")]
    assert math.isclose(sum(shares), 1.0, abs_tol=1e-9)
    assert math.isclose(r["akm_person_variance_share"] + r["akm_firm_variance_share"] + r["akm_sorting_covariance_share"]
                        + r["akm_xb_variance_share"] + r["akm_residual_variance_share"], 1.0, abs_tol=1e-9)
    assert 0.45 < r["akm_person_share_net_of_xb"] < 0.7
    assert 0.06 < r["akm_firm_share_net_of_xb"] < 0.2
    assert 0.03 < r["akm_sorting_share_net_of_xb"] < 0.25
    assert 0.1 < r["akm_residual_share_net_of_xb"] < 0.3
    assert r["realised_sorting_corr"] == pytest.approx(tr["worker_firm_sorting"], abs=0.1)
    assert r["firm_effect_sd_worker_weighted"] == pytest.approx(tr["firm_effect_sd"], abs=0.03)
    assert r["largest_connected_set_share_person_years"] > 0.9
    assert 0.5 < r["share_movers"] < 0.95
    te = out["truth_enterprise"]
    sz = np.sort(te["sample_worker_years"].to_numpy())[::-1]
    # heavy-tailed sizes (limited-mobility bias is visible): the largest 5% of enterprises hold a fifth of the
    # worker-years (about half at England scale), the largest dwarfs the median
    assert sz[: len(sz) // 20].sum() > 0.2 * sz.sum()
    assert sz.max() > 8 * max(np.median(sz[sz > 0]), 1)
    assert (sz > 0).mean() > 0.8


def test_sorting_override_changes_sorting():
    _, lo = _run({"worker_firm_sorting": 0.0}, n=3000)
    _, hi = _run({"worker_firm_sorting": 0.6}, n=3000)
    assert abs(lo["_realised"]["realised_sorting_corr"]) < 0.08
    assert hi["_realised"]["realised_sorting_corr"] > 0.45


def test_days_from_spells_match_truth_days(run):
    """Days employed computed from leo_employment (as a researcher would) equal the planted days."""
    people, out = run
    one = people[people["edukey2"].isna()]
    keys = set(one["edukey"])
    sp = out["leo_employment"].astype({"EduKey": object})
    sp = sp[sp["EduKey"].isin(keys)]
    sp = sp.assign(EndDate=sp["EndDate"].fillna(pd.Timestamp("2021-04-05")),
                   unc=(sp["UncertainStartDate"] | sp["UncertainEndDate"]))
    parts = []
    for T in range(2004, 2021):
        a, b = pd.Timestamp(f"{T}-04-06"), pd.Timestamp(f"{T + 1}-04-05")
        d = ((sp["EndDate"].clip(upper=b) - sp["StartDate"].clip(lower=a)).dt.days + 1).clip(lower=0)
        g = pd.DataFrame({"edukey": sp["EduKey"], "d": d, "unc": sp["unc"]}).groupby("edukey").agg(
            d=("d", "sum"), unc=("unc", "max")).reset_index()
        parts.append(g.assign(TaxYear=T * 100 + (T + 1) % 100))
    sd = pd.concat(parts)
    t = out["truth_person_year"]
    t = t[(t["employed"] == 1) & (t["TaxYear"] >= 200405)][["edukey", "TaxYear", "days_employed"]].astype({"edukey": object})
    t = t[t["edukey"].isin(keys)]
    m = t.merge(sd, on=["edukey", "TaxYear"], how="left").fillna({"d": 0, "unc": 0})
    sure = m["unc"] == 0
    assert (m.loc[sure, "d"] == m.loc[sure, "days_employed"]).mean() > 0.97
    assert (m["days_employed"] <= 366).all() and (m["days_employed"] >= 1).all()


# ---------------------------------------------------------------------------------------------
# on the real education side's people
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_run():
    import importlib

    gen = importlib.import_module("leokit.synth.generate")  # the module (leokit.synth.generate is also a function)
    from leokit.synth.truth import merge_truth
    tr = merge_truth(None)
    P = gen.education_side(np.random.default_rng(3), 1500, 6, tr)[0]
    people = P[gen.PEOPLE_COLUMNS].copy()
    for c in ("provider_id", "tariff_group", "subject_group", "degree_class", "edukey2"):
        people[c] = people[c].astype(object)
    return people, simulate_labour(people, dict(tr), np.random.default_rng(4))


def test_real_people_validate_and_plant_the_returns(real_run):
    people, out = real_run
    for name in RELEASED + ("truth_enterprise", "truth_person_year"):
        validate(out[name], name)
    tr = default_truth()
    r = out["_realised"]
    assert r["degree_return_female_att_at_29"] == pytest.approx(tr["degree_return_female"], abs=1e-12)
    assert r["degree_return_male_att_at_29"] == pytest.approx(tr["degree_return_male"], abs=1e-12)


def test_real_people_selection_bias_removed_by_prior_attainment(real_run):
    import statsmodels.formula.api as smf
    people, out = real_run
    t = out["truth_person_year"].merge(people[["person_id", "sex", "degree", "ks2_z", "ks4_z", "fsm_ever6"]],
                                       on="person_id")
    t = t[t["age"].between(26, 30) & (t["employed"] == 1) & (t["status"] == "lm")].copy()
    t["y"] = t["log_earnings_fte"] + PART_TIME_LOG_FACTOR * t["part_time"]
    t["female"] = (t["sex"] == "F").astype(float)
    t["deg_f"] = t["degree"] * t["female"]
    tr = default_truth()
    naive = smf.ols("y ~ degree + deg_f + female + C(TaxYear)", data=t).fit().params
    ctrl = smf.ols("y ~ degree + deg_f + female + C(TaxYear) + ks2_z + ks4_z + fsm_ever6", data=t).fit().params
    for sex, nb, cb, target in (("M", naive["degree"], ctrl["degree"], tr["degree_return_male"]),
                                ("F", naive["degree"] + naive["deg_f"], ctrl["degree"] + ctrl["deg_f"],
                                 tr["degree_return_female"])):
        assert nb - target > 0.05, sex                      # naive premium biased upwards
        assert abs(cb - target) < 0.6 * (nb - target), sex  # prior attainment removes most of the bias


def test_real_people_unobserved_skill_sorts_on_graduate_rich_workforces(real_run):
    """Within enterprises, workers with high unobserved skill u are there when the coworker graduate share is high
    (the coworker-sorting channel): enterprise fixed effects alone cannot remove u, person fixed effects can."""
    people, out = real_run
    assert out["_realised"]["corr_skill_coworker_share_within_enterprise"] > 0
    t = out["truth_person_year"]
    t = t[(t["employed"] == 1) & (t["status"] == "lm") & t["coworker_grad_share"].notna()]
    t = t.merge(out["truth_person"][["person_id", "unobserved_skill"]], on="person_id")
    t = t.assign(S=t["coworker_grad_share"].astype(float), ENT=t["ENTKEY"].astype(object))
    f = _fe("unobserved_skill ~ S | ENT + TaxYear", t, {"CRV1": "ENT"})
    assert float(f.coef()["S"]) > 3 * float(f.se()["S"])
    # the qualified-share signal uses A levels (attainment at 18), never anyone's degree
    assert "unobserved_skill" in out["truth_person"] and people["alevel_points"].notna().any()
