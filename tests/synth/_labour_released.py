"""Estimators of the planted labour-market effects from the *released* tables only (shared by the test modules).

Everything here uses what a researcher has in the SRS - ``leokit.load``, ``leokit.link`` and
``leokit.derive`` on the released tables - and never a ``truth_*`` table; ``truth.json`` is read by the
tests only to compare. The designs:

* ``degree_returns``: log PAYE pay rate (:func:`leokit.derive.annualised_earnings`) in the tax year the KS4
  cohort is 29 (:func:`leokit.years.taxyear_at_age`) on a first degree (HESA) by sex, controlling for KS2 and
  KS4 attainment, FSM (:func:`leokit.derive.fsm_ever6`), IDACI decile of the home area and cohort, with school
  fixed effects (pyfixest). Degree x sex is interacted with the controls centred at the graduates' means, so
  each coefficient is the average effect *on the graduates* (returns differ by subject and tariff, and plain
  OLS would weight them by the conditional variance of the degree instead): the estimator is
  ``leokit.analyse.returns.att_regression``, the one the returns exemplar uses.
* ``coworker_effects``: the log pay rate on the leave-one-out graduate share among coworkers (others with
  the same ``main_enterprise`` and tax year; a coworker who cannot be linked counts with the year's graduate
  share among linked workers) with person, enterprise and year fixed
  effects (and, for comparison, OLS, enterprise FE only and person FE only); the share is
  ``leokit.analyse.peers.coworker_share`` and the person + enterprise model ``leokit.analyse.akm.feols_two_way``
  (the exemplar ``exemplars/spillovers.ipynb`` uses the same pieces); labour-market years only (no
  HESA record in the year, cohort age 19+), age polynomial and years-since-graduation dummies.
* ``productivity_effects``: ``syn_enterprise_output`` on the graduate share among the enterprise's workers
  in ``leo_earnings`` with enterprise and year fixed effects (and the naive cross-section), on enterprise-years
  whose workers can all be linked to their education records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leokit.analyse.akm import feols_two_way
from leokit.analyse.fixest import feols
from leokit.analyse.peers import coworker_share, group_share

PMR = "PupilMatchingRefAnonymous"


def _feols(formula, data, cluster):
    return feols(formula, data, vcov={"CRV1": cluster})


def generated_released(out, *, seed: int, scale: int, cohorts: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """Generate a data set into ``out`` and return (:func:`build` of its released tables, its planted values
    from ``truth.json``)."""
    import json

    from leokit.synth.generate import generate

    generate(out, seed=seed, scale=scale, cohorts=cohorts, progress=False)
    truth = {k: v["value"] for k, v in json.loads((out / "truth.json").read_text()).items() if not k.startswith("_")}
    return build(out), truth


def build(data_dir) -> dict[str, pd.DataFrame]:
    """Pupils (with attainment, FSM, area, school, sex, first degree, AE_ID) and the person-year pay-rate panel."""
    import leokit.derive as dv
    from leokit import load as ld
    from leokit.linkage import person_lookup, resolve_edukeys

    have = set(ld.list_tables(data_dir))
    emap = resolve_edukeys(data_dir)[["EDUKEY", "AE_ID"]]
    pl = person_lookup(data_dir)[[PMR, "AE_ID"]]
    ks4_tabs = {n: ld.load_table(n, data_dir) for n in ("KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021") if n in have}
    ks4 = dv.ks4_attainment(ks4_tabs.get("KS4Pupil_2002_to_2014"), ks4_tabs.get("KS4Pupil_2015_to_2021"))
    school = pd.concat([t[["KS4_PupilMatchingRefAnonymous", "KS4_ACADYR", "KS4_URN_anon", "KS4_GENDER"]]
                        for t in ks4_tabs.values()], ignore_index=True)
    school = school.rename(columns={"KS4_PupilMatchingRefAnonymous": PMR})
    school["ks4_year"] = dv.acadyr_end(school["KS4_ACADYR"]).astype("int64")
    school = school.drop_duplicates([PMR, "ks4_year"])
    pupils = ks4.merge(school[[PMR, "ks4_year", "KS4_URN_anon", "KS4_GENDER"]], on=[PMR, "ks4_year"], how="left")
    ks2 = dv.ks2_attainment(ld.load_table("KS2Pupil_1996_to_2019_and_2022", data_dir))
    pupils = pupils.merge(ks2[[PMR, "ks2_z"]], on=PMR, how="left")
    census = ld.dedup_census(ld.stack_census(data_dir=data_dir))
    # the census starts in 2002: KS4 2005-06 get fsm_ever6 from the years present (a lower bound), as with the
    # real extract; FSM is a control here, so the partial window is accepted knowingly
    pupils = dv.fsm_ever6(pupils, census, on_gap="ignore")
    area = dv.area_measures(pupils[[PMR, "ks4_year"]], census, imd=ld.load_table("imd2019_lsoa11", data_dir))
    pupils = pupils.merge(area[[PMR, "idaci_decile"]], on=PMR, how="left")
    hesa = ld.stack_hesa(data_dir=data_dir)
    grads = dv.graduation(hesa)[[PMR, "graduation_year"]]
    pupils = pupils.merge(grads, on=PMR, how="left").merge(pl, on=PMR, how="left")
    earn = ld.load_table("leo_earnings", data_dir)
    paye = dv.annual_paye_earnings(earn, emap)
    days = dv.days_employed(ld.load_table("leo_employment", data_dir), emap)
    ann = dv.annualised_earnings(paye, days)
    ann = ann[ann["annualised_earnings"] > 0]
    ann = ann.assign(log_pay_rate=np.log(ann["annualised_earnings"]))[["AE_ID", "TaxYear", "log_pay_rate"]]
    study = dv.hesa_study_taxyears(hesa, ld.load_table("learner_ae_id_to_pmr_lookup", data_dir))
    e = earn[["Edukey", "TaxYear", "main_enterprise"]].merge(emap, left_on="Edukey", right_on="EDUKEY", how="left")
    return {"pupils": pupils, "pay": ann, "study": study, "earnings": e,
            "output": ld.load_table("syn_enterprise_output", data_dir)}


def degree_returns(b) -> dict[str, tuple[float, float]]:
    """(estimate, SE) of the degree return at 29 for women and men, and of the naive premia (no controls).

    The estimator is :func:`leokit.analyse.returns.att_regression` (the one the returns exemplar uses): degree x
    sex interacted with the controls centred at each sex's graduates' means, school fixed effects, standard errors
    clustered by school."""
    from leokit.analyse.returns import att_regression
    from leokit.years import taxyear_at_age, taxyear_code

    p = b["pupils"].dropna(subset=["AE_ID", "ks4_z", "KS4_URN_anon"]).drop_duplicates("AE_ID").copy()
    p["TaxYear"] = taxyear_code(taxyear_at_age(29, p["ks4_year"].to_numpy()))
    d = p.merge(b["pay"], on=["AE_ID", "TaxYear"], how="inner")
    d["sex"] = np.where(d["KS4_GENDER"] == "F", "F", "M")
    d["deg"] = d["graduation_year"].notna().astype(float)
    d["ks2_miss"] = d["ks2_z"].isna().astype(float)
    d["ks2"] = d["ks2_z"].fillna(0.0)
    d["ks4"] = d["ks4_z"]
    d["ks4sq"] = d["ks4"] ** 2
    d["fsm"] = d["fsm_ever6"].astype(float).fillna(0.0)
    idaci = d["idaci_decile"].astype(float)
    d["idaci"] = idaci.fillna(idaci.median())
    coh = pd.get_dummies(d["ks4_year"], prefix="coh", drop_first=True, dtype=float)
    d = pd.concat([d, coh], axis=1)
    X = ["ks2", "ks2_miss", "ks4", "ks4sq", "fsm", "idaci", *coh.columns]
    fit = att_regression(d, "log_pay_rate", "deg", X, by="sex", fe="KS4_URN_anon", cluster="KS4_URN_anon")
    naive = att_regression(d, "log_pay_rate", "deg", [], by="sex", fe="ks4_year", cluster="KS4_URN_anon")
    out = {f"d{g}": (float(fit.groups.loc[g, "estimate"]), float(fit.groups.loc[g, "se"])) for g in ("F", "M")}
    out.update({f"naive_d{g}": (float(naive.groups.loc[g, "estimate"]), float(naive.groups.loc[g, "se"]))
                for g in ("F", "M")})
    out["n"] = (len(d), 0.0)
    return out


def coworker_panel(b) -> pd.DataFrame:
    """Labour-market person-years with the leave-one-out graduate share among coworkers (S) and the pay rate."""
    e = b["earnings"].dropna(subset=["main_enterprise"]).copy()
    pu = b["pupils"].dropna(subset=["AE_ID"]).drop_duplicates("AE_ID")[["AE_ID", "graduation_year", "ks4_year",
                                                                         "ks4_z", "ks2_z"]]
    e = e.merge(pu, on="AE_ID", how="left")
    e["T"] = e["TaxYear"] // 100
    known = e["AE_ID"].notna() & e["ks4_year"].notna()   # degree status observable
    e["graduate"] = np.where(known, (e["graduation_year"] <= e["T"]).astype(float), np.nan)
    # a coworker who cannot be linked to education records counts with the tax year's graduate share among
    # linked workers (dropping them would leave a noisier share and attenuate the estimate)
    e["S"] = coworker_share(e, "graduate", ["main_enterprise", "TaxYear"])["share"]
    d = e[known].dropna(subset=["S"]).drop_duplicates(["AE_ID", "TaxYear"])
    d = d.merge(b["pay"], on=["AE_ID", "TaxYear"], how="inner")
    d = d.merge(b["study"].assign(_study=1), on=["AE_ID", "TaxYear"], how="left")
    d = d[d["_study"].isna()]
    d["age"] = d["T"] - d["ks4_year"] + 17
    d = d[d["age"] >= 19].copy()
    d["a2"] = (d["age"] - 25.0) ** 2
    d["a3"] = (d["age"] - 25.0) ** 3
    d["grad"] = (d["graduation_year"] <= d["T"]).astype(float)     # own degree (time-invariant controls without
    d["ks2"] = d["ks2_z"].fillna(0.0)                              # person fixed effects)
    d["ks2_miss"] = d["ks2_z"].isna().astype(float)
    d["ks4"] = d["ks4_z"].fillna(0.0)
    since = d["T"] - d["graduation_year"]          # years since graduation (NaN for non-graduates)
    for k in range(5):                              # the degree return ramps up over the first years
        d[f"yag{k}"] = (since == k).astype(float)
    d["ENT"] = d["main_enterprise"].astype(str)
    return d


def coworker_effects(b, specs=("person_firm", "firm", "person", "ols")) -> dict[str, tuple[float, float]]:
    """(estimate, SE) of the coworker graduate-share effect under each specification (SE clustered by enterprise)."""
    d = coworker_panel(b)
    yag = " + ".join(f"yag{k}" for k in range(5))
    own = "grad + ks2 + ks2_miss + ks4"
    fml = {"ols": f"log_pay_rate ~ S + age + a2 + a3 + {yag} + {own} | TaxYear",
           "firm": f"log_pay_rate ~ S + age + a2 + a3 + {yag} + {own} | ENT + TaxYear",
           "person": f"log_pay_rate ~ S + a2 + a3 + {yag} | AE_ID + TaxYear",
           "person_firm": f"log_pay_rate ~ S + a2 + a3 + {yag} | AE_ID + ENT + TaxYear"}
    out = {}
    for k in specs:
        if k == "person_firm":  # the exact sparse solver (same slopes and SEs as pyfixest, much faster here)
            f = feols_two_way(d, "log_pay_rate", ["S", "a2", "a3", *(f"yag{j}" for j in range(5))], "AE_ID", "ENT",
                              absorb=["TaxYear"], cluster="ENT")
            out[k] = (float(f.coef["S"]), float(f.se["S"]))
            continue
        f = _feols(fml[k], d, "ENT")
        out[k] = (float(f.coef()["S"]), float(f.se()["S"]))
    out["n"] = (len(d), 0.0)
    return out


def productivity_effects(b) -> dict[str, tuple[float, float]]:
    """(estimate, SE) of the graduate-share effect on log output per worker: enterprise + year FE, and naive."""
    e = b["earnings"].dropna(subset=["main_enterprise"]).copy()
    pu = b["pupils"].dropna(subset=["AE_ID"]).drop_duplicates("AE_ID")[["AE_ID", "graduation_year"]]
    e = e.merge(pu, on="AE_ID", how="left")
    e["grad"] = np.where(e["AE_ID"].notna(), (e["graduation_year"] <= e["TaxYear"] // 100).astype(float), np.nan)
    g = group_share(e, "grad", ["main_enterprise", "TaxYear"]).rename(columns={"share": "G"})
    g = g[g["all_known"]]  # every worker linkable: the graduate share is measured without error
    d = b["output"].merge(g, left_on=["ENTKEY", "TaxYear"], right_on=["main_enterprise", "TaxYear"], how="inner")
    out = {}
    for k, fml in (("fe", "syn_log_output_per_worker ~ G | ENTKEY + TaxYear"),
                   ("naive", "syn_log_output_per_worker ~ G | TaxYear")):
        f = _feols(fml, d, "ENTKEY")
        out[k] = (float(f.coef()["G"]), float(f.se()["G"]))
    out["n"] = (len(d), 0.0)
    return out
