"""Tests of the labour-market side of the generator (leokit.synth.labour) on a stand-in people table.

The stand-in (leokit.synth.labour_fake.fake_people) has the contract columns and realistic selection
(degree more likely with high ability and background), so these tests run without the education side.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from leokit.load import validate
from leokit.synth.labour import (LABOUR_MESSINESS, age_in_tax_year, degree_return_individual, simulate_labour,
                                 tax_year_age29, tax_year_code)
from leokit.synth.labour_fake import fake_people
from leokit.synth.truth import default_truth

N_PEOPLE = 4000
COHORTS = (2005, 2006, 2007)
RELEASED = ("leo_employment", "leo_earnings", "leo_self_assessment", "leo_benefit", "geography", "idbr_lookup")


def _run(truth_override=None, seed=11, n=N_PEOPLE):
    people = fake_people(n, COHORTS, np.random.default_rng(5))
    tr = {**default_truth(), **(truth_override or {})}
    return people, simulate_labour(people, tr, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def run():
    return _run()


@pytest.fixture(scope="module")
def tpy(run):
    people, out = run
    t = out["truth_person_year"].merge(
        people[["person_id", "sex", "degree", "ability", "background", "ks2_z", "ks4_z", "fsm_ever6"]],
        on="person_id", how="left")
    return t


def _key_to_person(people):
    a = people[["person_id", "edukey"]].rename(columns={"edukey": "Edukey"})
    b = people.loc[people["edukey2"].notna(), ["person_id", "edukey2"]].rename(columns={"edukey2": "Edukey"})
    return pd.concat([a, b], ignore_index=True).astype({"Edukey": object})


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


def test_tables_sorted_by_key(run):
    _, out = run
    e = out["leo_earnings"]
    assert e.equals(e.sort_values(["Edukey", "TaxYear"]).reset_index(drop=True))
    g = out["geography"]
    assert g[["Edukey", "TaxYear"]].equals(g.sort_values(["Edukey", "TaxYear"])[["Edukey", "TaxYear"]].reset_index(drop=True))
    i = out["idbr_lookup"]
    assert i[["ENTKEY", "SourceYear"]].equals(i.sort_values(["ENTKEY", "SourceYear"])[["ENTKEY", "SourceYear"]].reset_index(drop=True))
    sa = out["leo_self_assessment"]
    assert not sa.duplicated(["Edukey", "TaxYear"]).any()


def test_deterministic(run):
    _, out1 = run
    _, out2 = _run()
    for name in RELEASED + ("truth_enterprise", "truth_person", "truth_person_year"):
        pd.testing.assert_frame_equal(out1[name], out2[name], check_exact=True, obj=name)
    assert out1["_realised"] == out2["_realised"]
    _, out3 = _run(seed=12)
    assert not out3["leo_earnings"]["Earnings"].equals(out1["leo_earnings"]["Earnings"])


def test_tax_year_and_age_conventions():
    assert tax_year_code(2004) == 200405 and tax_year_code(2019) == 201920 and tax_year_code(1999) == 199900
    # born Feb 1989: reaches 16 in Feb 2005, i.e. in tax year 2004/05
    assert age_in_tax_year(1989, 2, 2004) == 16
    # born May 1989: reaches 16 in May 2005, tax year 2005/06
    assert age_in_tax_year(1989, 5, 2005) == 16 and age_in_tax_year(1989, 5, 2004) == 15
    assert tax_year_age29(1989, 2) == 2017 and tax_year_age29(1989, 5) == 2018


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
    # low earners at micro enterprises are under-represented: few rows < £2,500 at 0-9 employee enterprises
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
    # a person-year is filed under one key only: per person, tax years are unique
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


def test_self_employment_share(run):
    _, out = run
    s = out["_realised"]["self_employed_share_lm_2013_on"]
    assert 0.03 < s < 0.10
    sa = out["leo_self_assessment"]
    both = sa["EARNINGS_PTR"].notna() ^ sa["EARNINGS_SOLE"].notna()
    assert both.all()


# ---------------------------------------------------------------------------------------------
# planted truth
# ---------------------------------------------------------------------------------------------
def test_degree_return_exact_at_29(run):
    people, out = run
    tp = out["truth_person"].merge(people[["person_id", "sex", "degree"]], on="person_id")
    g = tp[tp["degree"] == 1]
    tr = default_truth()
    assert g.loc[g["sex"] == "F", "degree_return_at_29"].mean() == pytest.approx(tr["degree_return_female"], abs=1e-12)
    assert g.loc[g["sex"] == "M", "degree_return_at_29"].mean() == pytest.approx(tr["degree_return_male"], abs=1e-12)
    # subject / tariff deviations are present (heterogeneous returns), and centred
    assert g["degree_return_i"].std() > 0.05


def test_ols_at_29_recovers_degree_return(tpy):
    tr = default_truth()
    t = tpy[(tpy["age"] == 29) & (tpy["employed"] == 1) & (tpy["status"] == "lm")].copy()
    # potential outcomes: Y(1) - Y(0) for graduates equals the degree component
    t["gain"] = t["log_earnings_fte"] - t["log_earnings_fte_no_degree"]
    gr = t[t["degree"] == 1]
    assert gr.loc[gr["sex"] == "F", "gain"].mean() == pytest.approx(tr["degree_return_female"], abs=0.03)
    assert gr.loc[gr["sex"] == "M", "gain"].mean() == pytest.approx(tr["degree_return_male"], abs=0.03)
    # OLS of log earnings on degree x sex, controlling for all other components
    import statsmodels.formula.api as smf
    t["dF"] = ((t["degree"] == 1) & (t["sex"] == "F")).astype(float)
    t["dM"] = ((t["degree"] == 1) & (t["sex"] == "M")).astype(float)
    t["y_other"] = (t["person_effect"] + t["firm_premium"] + t["experience_effect"] + t["year_effect"]
                    + t["coworker_component"] + t["shock"])
    fit = smf.ols("log_earnings_fte ~ dF + dM + C(sex) + y_other", data=t).fit()
    assert fit.params["dF"] == pytest.approx(tr["degree_return_female"], abs=0.04)
    assert fit.params["dM"] == pytest.approx(tr["degree_return_male"], abs=0.04)


def test_selection_bias_and_prior_attainment_controls(tpy):
    import statsmodels.formula.api as smf
    tr = default_truth()
    t = tpy[tpy["age"].between(27, 30) & (tpy["employed"] == 1) & (tpy["status"] == "lm")].copy()
    t["female"] = (t["sex"] == "F").astype(float)
    t["deg_f"] = t["degree"] * t["female"]
    target_f, target_m = tr["degree_return_female"], tr["degree_return_male"]
    naive = smf.ols("log_earnings_fte ~ degree + deg_f + female + C(TaxYear)", data=t).fit().params
    ctrl = smf.ols("log_earnings_fte ~ degree + deg_f + female + C(TaxYear) + ks2_z + ks4_z + background",
                   data=t).fit().params
    bias_naive_m = naive["degree"] - target_m
    bias_ctrl_m = ctrl["degree"] - target_m
    bias_naive_f = naive["degree"] + naive["deg_f"] - target_f
    bias_ctrl_f = ctrl["degree"] + ctrl["deg_f"] - target_f
    assert bias_naive_m > 0.05 and bias_naive_f > 0.05  # positive selection on ability/background
    assert abs(bias_ctrl_m) < 0.5 * bias_naive_m
    assert abs(bias_ctrl_f) < 0.5 * bias_naive_f


def test_override_moves_female_return():
    people, base = _run()
    _, hi = _run({"degree_return_female": 0.6})
    tb, th = base["truth_person_year"], hi["truth_person_year"]
    # same random draws: only the degree component changes
    pd.testing.assert_series_equal(tb["employed"], th["employed"])
    d = (th["log_earnings_fte"] - tb["log_earnings_fte"])
    t = tb.assign(d=d).merge(people[["person_id", "sex", "degree"]], on="person_id")
    at29 = t[(t["age"] == 29) & (t["employed"] == 1) & (t["degree"] == 1)]
    assert at29.loc[at29["sex"] == "F", "d"].mean() == pytest.approx(0.34, abs=0.03)
    assert at29.loc[at29["sex"] == "M", "d"].abs().max() < 1e-6
    r, _ = degree_return_individual(people, {**default_truth(), "degree_return_female": 0.6})
    assert hi["_realised"]["degree_return_female_att_at_29"] == pytest.approx(0.6, abs=1e-12)
    assert np.isfinite(r).all()


def test_two_way_fe_recovers_coworker_effect_and_firm_premia(tpy):
    pf = pytest.importorskip("pyfixest")
    kappa = default_truth()["coworker_graduate_share_effect"]
    t = tpy[(tpy["employed"] == 1) & (tpy["status"] == "lm") & tpy["coworker_grad_share"].notna()].copy()
    t["y"] = (t["log_earnings_fte"] - t["experience_effect"] - t["degree_component"] - t["year_effect"]).astype(float)
    t["share"] = t["coworker_grad_share"].astype(float)
    t["ENTKEY"] = t["ENTKEY"].astype(object)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*singleton fixed effect.*", category=UserWarning)
        fit = pf.feols("y ~ share | person_id + ENTKEY", data=t)
    print("coworker effect (two-way FE):", b_print := float(fit.coef()["share"]), float(fit.se()["share"]))
    del b_print
    b = float(fit.coef()["share"])
    se = float(fit.se()["share"])
    assert abs(b - kappa) < max(0.05, 3 * se), (b, se)
    # estimated firm effects track the planted premia (enterprises with >= 10 worker-years)
    fe = fit.fixef()
    key = [k for k in fe if "ENTKEY" in k][0]
    est = pd.Series(fe[key]).rename("est")
    est.index = est.index.astype(str)
    n = t.groupby("ENTKEY").size()
    truth = t.groupby("ENTKEY")["firm_premium"].first().astype(float)
    j = pd.concat([est, truth, n.rename("n")], axis=1, join="inner")
    j = j[j["n"] >= 10]
    assert len(j) > 30
    assert np.corrcoef(j["est"], j["firm_premium"])[0, 1] > 0.85


def test_akm_and_sorting_realised(run):
    _, out = run
    r = out["_realised"]
    assert 0.05 < r["akm_firm_variance_share"] < 0.2
    assert 0.03 < r["akm_sorting_covariance_share"] < 0.25
    assert 0.4 < r["akm_person_variance_share"] < 0.75
    assert r["realised_sorting_corr"] == pytest.approx(default_truth()["worker_firm_sorting"], abs=0.1)
    assert r["firm_effect_sd_worker_weighted"] == pytest.approx(default_truth()["firm_effect_sd"], abs=0.03)
    assert r["largest_connected_set_share_person_years"] > 0.9
    assert 0.5 < r["share_movers"] < 0.95
    te = out["truth_enterprise"]
    sz = te["sample_worker_years"]
    assert sz.max() > 10 * max(sz[sz > 0].median(), 1)  # heavy-tailed sizes
    assert (sz > 0).mean() > 0.8


def test_sorting_override_changes_sorting():
    _, lo = _run({"worker_firm_sorting": 0.0}, n=3000)
    _, hi = _run({"worker_firm_sorting": 0.6}, n=3000)
    assert abs(lo["_realised"]["realised_sorting_corr"]) < 0.08
    assert hi["_realised"]["realised_sorting_corr"] > 0.45


def test_calibration_in_broad_range(run):
    r = run[1]["_realised"]
    assert 18000 < r["grad_earnings_5yag_median_2015"] < 34000
    assert r["age25_fsm_share_above_15000"] < r["age25_nonfsm_share_above_15000"]
    assert r["age25_fsm_share_no_paye"] > 1.4 * r["age25_nonfsm_share_no_paye"]


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
    from leokit.synth import generate as gen
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
    t = out["truth_person_year"].merge(people[["person_id", "sex", "degree", "ks2_z", "ks4_z"]], on="person_id")
    t = t[t["age"].between(26, 30) & (t["employed"] == 1) & (t["status"] == "lm")].copy()
    t["female"] = (t["sex"] == "F").astype(float)
    t["deg_f"] = t["degree"] * t["female"]
    tr = default_truth()
    naive = smf.ols("log_earnings_fte ~ degree + deg_f + female + C(TaxYear)", data=t).fit().params
    ctrl = smf.ols("log_earnings_fte ~ degree + deg_f + female + C(TaxYear) + ks2_z + ks4_z", data=t).fit().params
    for sex, nb, cb, target in (("M", naive["degree"], ctrl["degree"], tr["degree_return_male"]),
                                ("F", naive["degree"] + naive["deg_f"], ctrl["degree"] + ctrl["deg_f"],
                                 tr["degree_return_female"])):
        assert nb - target > 0.05, sex                      # naive premium biased upwards
        assert abs(cb - target) < 0.6 * (nb - target), sex  # prior attainment removes most of the bias
