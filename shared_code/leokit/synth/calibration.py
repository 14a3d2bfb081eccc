"""Calibration of the synthetic data against published figures, and the generated README sections.

:func:`calibration_table` recomputes every published figure the way a researcher would in the SRS, from
the **released tables only** (no ``truth_*`` table): persons are resolved with the released lookups
(:func:`leokit.linkage.person_lookup` PMR -> AE_ID, :func:`leokit.linkage.resolve_edukeys` EDUKEY -> AE_ID),
FSM is the observable :func:`leokit.derive.fsm_ever6` from the school census and KS4 tables, graduates
come from the HESA qualifier records (:func:`leokit.derive.graduation`), and earnings and sustained
employment are the kit's one definition of each (:func:`leokit.derive.total_earnings`,
:func:`leokit.derive.sustained_employment`). Rows that check a *planted* parameter or a statistic of
the planted components (the degree-return ATT, the AKM variance shares, the contextual-offer effect)
read ``truth.json`` and say so in ``computed_from``.

Who counts. The published figures are computed on people found in the linked data, so pupils whose
AE_ID has no EDUKEY (about 5% of the synthetic pupils; they cannot be linked to any DWP/HMRC record)
are **left out of numerator and denominator**; they are never counted as people with no earnings. The
note of each row gives the numbers.

Thresholds. The ONS age-25 figures compare annual earnings with "the annualised full-time equivalent of
the Living Wage" [ONS-FSM25], the Living Wage Foundation's voluntary UK rate [LWF]. The kit annualises
the hourly UK rate for the tax year as rate x 37.5 hours x 52 weeks, the Living Wage Foundation's own
annual-salary formula [LWF]; the hours ONS used are not stated in what we have read (INFERRED).

:func:`update_readme` rewrites the sections of a data README between ``<!-- BEGIN GENERATED: name -->``
and ``<!-- END GENERATED: name -->`` markers (tables and row counts, calibration, messiness, planted
truth).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from leokit import derive as dv
from leokit import load as ld
from leokit import schema as S
from leokit.linkage import person_lookup, resolve_edukeys
from leokit.synth.generate import JSON_SIGNIFICANT_DIGITS
from leokit.synth.manifest import MANIFEST
from leokit.synth.writer import RELEASED_DECIMALS, TRUTH_DECIMALS
from leokit.synth.params import MESSINESS
from leokit.years import taxyear_at_age, taxyear_code, yag_taxyear

__all__ = ["calibration_table", "researcher_frames", "table_inventory", "update_readme", "living_wage_annual",
           "LIVING_WAGE_HOURLY", "LIVING_WAGE_HOURS_PER_WEEK", "LIVING_WAGE_WEEKS"]

#: Living Wage Foundation UK (outside London) hourly rate in force in each tax year, GBP [LWF]. The
#: Foundation announces a rate each November and names it after the following year ("the 2016/17 UK
#: Living Wage rate", announced 2 November 2015: GBP 8.25, up from 7.85); employers apply it by May.
#: The tax year T/T+1 therefore gets the rate announced in November T-1.
LIVING_WAGE_HOURLY = {201516: 7.85, 201617: 8.25, 201718: 8.45, 201819: 8.75}
LIVING_WAGE_HOURS_PER_WEEK = 37.5
LIVING_WAGE_WEEKS = 52
#: ONS age-25 comparison window: the tax years in which the cohorts turned 25 (INFERRED: 2015/16-2018/19).
AGE25_TAX_YEARS = (201516, 201617, 201718, 201819)
#: ONS age-30 figures: tax years ending 2017-2019 [ONS-FSM30].
AGE30_TAX_YEARS = (201617, 201718, 201819)


def living_wage_annual(taxyear: int) -> float:
    """Annualised full-time Living Wage for a LEO tax year: hourly UK rate x 37.5 h x 52 weeks [LWF]."""
    if taxyear not in LIVING_WAGE_HOURLY:
        raise KeyError(f"no Living Wage rate for tax year {taxyear}; known: {sorted(LIVING_WAGE_HOURLY)}")
    return LIVING_WAGE_HOURLY[taxyear] * LIVING_WAGE_HOURS_PER_WEEK * LIVING_WAGE_WEEKS


def researcher_frames(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The frames a researcher builds from the released tables to reproduce the published figures.

    Returns ``pupils`` (one row per KS4 pupil: PMR, ``ks4_year``, ``fsm_ever6``, ``AE_ID`` or missing,
    ``linked`` = 1 if the AE_ID owns at least one EDUKEY), ``graduates`` (PMR, ``graduation_year`` of a
    classified first degree, ``AE_ID``, ``linked``) and ``person_years`` (AE_ID, TaxYear, PAYE, SA and total
    earnings, sustained employment with self-employment counted). Nothing here reads a ``truth_*`` table.
    """
    d = Path(data_dir)
    ek = resolve_edukeys(d)
    pl = person_lookup(d)
    have = set(ld.list_tables(d))
    ks4 = dv.ks4_attainment(*(ld.load_table(n, d, validate=False) if n in have else None
                              for n in ("KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021")))
    census = ld.dedup_census(ld.stack_census(data_dir=d, validate=False))
    # the census starts in 2002, so KS4 2005-06 have part of their six-year window: their fsm_ever6 uses the
    # years present (a lower bound), as a researcher with the real extract would have to; said in the notes
    pupils = dv.fsm_ever6(ks4[["PupilMatchingRefAnonymous", "ks4_year", "ks4_fsm6"]], census, on_gap="ignore")
    pmr = "PupilMatchingRefAnonymous"
    owners = set(ek["AE_ID"])
    pupils = pupils.merge(pl[[pmr, "AE_ID"]], on=pmr, how="left")
    pupils["linked"] = pupils["AE_ID"].isin(owners).astype("int64")
    grads = dv.graduation(ld.stack_hesa(data_dir=d, validate=False))[[pmr, "graduation_year"]]
    grads = grads.merge(pl[[pmr, "AE_ID"]], on=pmr, how="left")
    grads["linked"] = grads["AE_ID"].isin(owners).astype("int64")
    emap = ek[["EDUKEY", "AE_ID"]]
    paye = dv.annual_paye_earnings(ld.load_table("leo_earnings", d, validate=False), emap)
    sa = dv.sa_earnings(ld.load_table("leo_self_assessment", d, validate=False), emap)
    tot = dv.total_earnings(paye, sa)
    sus = dv.sustained_employment(ld.load_table("leo_employment", d, validate=False), emap, sa=sa)
    py = tot.merge(sus[["AE_ID", "TaxYear", "sustained_employment"]], on=["AE_ID", "TaxYear"], how="outer")
    py["sustained_employment"] = py["sustained_employment"].fillna(0).astype("int64")
    py["total_earnings"] = py["total_earnings"].fillna(0.0)
    return {"pupils": pupils, "graduates": grads, "person_years": py}


def _at(frame: pd.DataFrame, taxyear: pd.Series, py: pd.DataFrame) -> pd.DataFrame:
    """Attach the person-year outcomes of ``py`` at each row's ``taxyear`` (left join on AE_ID, TaxYear)."""
    f = frame.assign(TaxYear=np.asarray(taxyear, dtype="int64"))
    return f.merge(py, on=["AE_ID", "TaxYear"], how="left")


def calibration_table(data_dir: str | Path) -> pd.DataFrame:
    """Published targets against values recomputed from the released tables (see the module docstring).

    Columns: target, source, target_value, produced, tolerance, ok, computed_from, note.
    """
    d = Path(data_dir)
    doc = json.loads((d / "truth.json").read_text())
    real = doc.get("_realised", {})
    fr = researcher_frames(d)
    pupils, grads, py = fr["pupils"], fr["graduates"], fr["person_years"]
    rows = []
    released = "released tables"

    def add(target, source, tv, produced, tol, note="", computed_from=released):
        bad = produced is None or (isinstance(produced, float) and np.isnan(produced))
        ok = None if bad else bool(abs(produced - tv) <= tol)
        rows.append(dict(target=target, source=source, target_value=tv, produced=None if bad else float(produced),
                         tolerance=tol, ok=ok, computed_from=computed_from, note=note))

    # 1. graduate earnings 5 and 10 years after graduation: 2009/10 first-degree graduates, sustained employment
    g = grads[grads["graduation_year"] == 2010]
    n_unl = int((g["linked"] == 0).sum())
    gl = g[g["linked"] == 1]
    for yag, quants in ((5, ((0.25, "lower-quartile", 17900, 3000), (0.5, "median", 25600, 2500),
                              (0.75, "upper-quartile", 33700, 3500))),
                        (10, ((0.5, "median", 30400, 2500),))):
        ty = int(yag_taxyear(2010, yag))
        if ty > S.LAST_TAX_YEAR or gl.empty:
            for q, lab, tv, tol in quants:
                add(f"Graduate {lab} earnings {yag} YAG (GBP, 2015/16 prices)", "DfE LEO graduate outcomes [GO-DATA]",
                    tv, None, tol, "no 2009/10 graduates observed at this YAG (needs the KS4 2005 cohort)")
            continue
        m = _at(gl, np.full(len(gl), ty), py)
        m = m[m["sustained_employment"] == 1]
        e = m["total_earnings"]
        if ty != 201516:
            e = dv.real_earnings(m.assign(_e=e), "_e", base_taxyear=201516)["real_earnings"]
        note = (f"{len(m)} of {len(gl)} linked 2009/10 first-degree graduates in sustained employment in "
                f"{ty // 100}/{ty % 100:02d} (PAYE 5 of 6 months Oct-Mar, or SA earnings); PAYE + SA earnings"
                + ("" if ty == 201516 else "; CPIH to 2015/16 prices (published: 2004/05 graduates in 2015/16)")
                + f"; {n_unl} unlinkable graduates left out")
        for q, lab, tv, tol in quants:
            add(f"Graduate {lab} earnings {yag} YAG (GBP, 2015/16 prices)", "DfE LEO graduate outcomes [GO-DATA]",
                tv, float(e.quantile(q)) if len(e) else None, tol, note)
    # 2. FSM and earnings at 25 (ONS): share above the annualised Living Wage, share with no recorded earnings
    p = pupils.copy()
    p["TaxYear25"] = taxyear_code(taxyear_at_age(25, p["ks4_year"].to_numpy()))
    p = p[p["TaxYear25"].isin(AGE25_TAX_YEARS) & p["fsm_ever6"].notna()]
    n_unl = p.groupby("fsm_ever6")["linked"].apply(lambda s: int((s == 0).sum())).to_dict()
    m25 = _at(p[p["linked"] == 1], p.loc[p["linked"] == 1, "TaxYear25"], py)
    m25["threshold"] = m25["TaxYear"].map(living_wage_annual)
    m25["e"] = m25["total_earnings"].fillna(0.0)
    lw = ", ".join(f"{ty // 100}/{ty % 100:02d} GBP {living_wage_annual(ty):,.0f}" for ty in AGE25_TAX_YEARS)
    for f, lab, above_t, none_t in ((1, "FSM", 0.230, 0.29), (0, "non-FSM", 0.435, 0.15)):
        s = m25[m25["fsm_ever6"] == f]
        n = len(s)
        base = (f"n = {n} linked pupils turning 25 in 2015/16-2018/19 (window INFERRED); {n_unl.get(f, 0)} unlinkable "
                f"left out; FSM = fsm_ever6")
        add(f"Share earning above the annualised Living Wage at 25, {lab}", "ONS 2022 [ONS-FSM25]", above_t,
            float((s["e"] > s["threshold"]).mean()) if n else None, 0.05,
            base + f"; PAYE + SA earnings above rate x 37.5 h x 52 [LWF]: {lw}")
        add(f"Share with no recorded earnings at 25, {lab}", "ONS 2022 [ONS-FSM25]", none_t,
            float((s["e"] <= 0).mean()) if n else None, 0.05, base + "; no PAYE or SA earnings in the tax year")
    # 3. FSM median earnings at 30 (ONS: half of FSM recipients earned at most GBP 17,000)
    p = pupils.copy()
    p["TaxYear30"] = taxyear_code(taxyear_at_age(30, p["ks4_year"].to_numpy()))
    p = p[p["TaxYear30"].isin(AGE30_TAX_YEARS) & (p["fsm_ever6"] == 1)]
    m30 = _at(p[p["linked"] == 1], p.loc[p["linked"] == 1, "TaxYear30"], py)
    e30 = m30["total_earnings"]
    e30 = e30[e30 > 0]
    add("Median earnings at 30 of FSM recipients with earnings (GBP, nominal)", "ONS 2022 [ONS-FSM30]", 17000,
        float(e30.median()) if len(e30) else None, 2000,
        f"{len(e30)} of {len(m30)} linked FSM pupils with PAYE or SA earnings in the tax year they turn 30 "
        f"(tax years ending 2017-2019); {int((p['linked'] == 0).sum())} unlinkable left out; fsm_ever6 of KS4 "
        f"2005-06 from the censuses present (2002 on: part of their six-year window)")
    # 4. first degree by 30, by FSM (HESA through PMR; no LEO link needed)
    p = pupils[(pupils["ks4_year"] + 13 <= S.LAST_ACADEMIC_YEAR - 1) & pupils["fsm_ever6"].notna()]
    gy = p["PupilMatchingRefAnonymous"].map(grads.drop_duplicates("PupilMatchingRefAnonymous")
                                            .set_index("PupilMatchingRefAnonymous")["graduation_year"])
    p = p.assign(deg30=(gy <= p["ks4_year"] + 13).astype("int64"))
    for f, lab, tv in ((1, "FSM", 0.162), (0, "non-FSM (state school)", 0.282)):
        s = p[p["fsm_ever6"] == f]
        add(f"Share with a first degree by 30, {lab}", "ONS 2022 [ONS-FSM30]", tv,
            float(s["deg30"].mean()) if len(s) else None, 0.04,
            f"n = {len(s)} KS4 pupils of cohorts observed to 30 in HESA; classified first degree (HESA) by the "
            "academic year the cohort turns 30")
    # 5. planted components and parameters (truth.json)
    planted = "truth (planted-parameter check)"
    xb = real.get("akm_xb_variance_share")
    for key, lab, tv, tol in (("akm_person_share_net_of_xb", "person effects", 0.575, 0.03),
                              ("akm_firm_share_net_of_xb", "enterprise premia", 0.125, 0.03),
                              ("akm_sorting_share_net_of_xb", "2 cov(person, enterprise)", 0.125, 0.03),
                              ("akm_residual_share_net_of_xb", "residual", 0.175, 0.03)):
        v = real.get(key)
        add(f"AKM share of log pay-rate variance net of age terms: {lab}",
            "[Card2018]; [Bonhomme2023] (prime-age ranges; split INFERRED)", tv, None if v is None else float(v), tol,
            f"planted components; {real.get('akm_sample', '')}; shares of var(pay - age and coworker terms) (the age "
            f"terms are {100 * (xb or 0):.0f}% of the variance at these young ages); person = person mean of pay net of "
            "premium, age and coworker terms (it holds the persistent part of part-time work), residual = deviations",
            computed_from=planted)
    for sex in ("female", "male"):
        k = f"degree_return_{sex}_att_at_29"
        if k in real:
            add(f"Degree return at 29, {sex} (planted ATT)", "[Belfield2018]", doc[f"degree_return_{sex}"]["value"],
                real[k], 0.01, "mean of the individual returns over all graduates of that sex", computed_from=planted)
    k = real.get("contextual_offer_high_tariff_entry_effect_realised")
    add("Contextual offers: effect on high-tariff entry at the cut-off", "planted (truth.json)",
        doc["contextual_offer_high_tariff_entry_effect"]["value"], k, 0.05,
        f"potential outcomes of UCAS applicants in full-adoption cycles: local-linear intercept at the cut-off "
        f"(bandwidth {real.get('contextual_offer_full_scheme_effect_bandwidth')}; "
        f"n = {real.get('contextual_offer_n_near_cutoff_full_adoption')} applicants near it)", computed_from=planted)
    return pd.DataFrame(rows)


def table_inventory(data_dir: str | Path) -> pd.DataFrame:
    """Every Parquet table under ``data_dir``: database, table, rows, columns, synthetic_only, size."""
    d = Path(data_dir)
    out = []
    for p in sorted(d.glob("*/*.parquet")):
        md = pq.ParquetFile(p).metadata
        name = p.stem
        syn = name.startswith(("truth_", "syn_"))
        if not syn:
            try:
                syn_cols = [c.name for c in S.get_schema(name).columns if c.synthetic_only]
            except KeyError:
                syn_cols = []
        else:
            syn_cols = []
        out.append(dict(database=p.parent.name, table=name, rows=md.num_rows, columns=md.num_columns,
                         synthetic_only="table" if syn else (", ".join(syn_cols) if syn_cols else ""),
                         kib=round(p.stat().st_size / 1024)))
    return pd.DataFrame(out)


def _md_table(df: pd.DataFrame) -> str:
    def fmt(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "-"
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return str(v).replace("|", "\\|")
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "".join("| " + " | ".join(fmt(v) for v in r) + " |\n" for r in df.itertuples(index=False))


def _sections(data_dir: Path, command: str | None) -> dict[str, str]:
    doc = json.loads((data_dir / "truth.json").read_text())
    meta = doc["_meta"]
    inv = table_inventory(data_dir)
    total_mb = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 1e6
    cmd = command or (f"python -m leokit generate --out {data_dir.name} --seed {meta['seed']} --scale {meta['scale']} "
                      f"--cohorts {meta['cohorts']} --overwrite --readme {data_dir.name}/README.md")
    sec = {}
    sec["regenerate"] = (f"Generated with generator version {meta['generator_version']}, seed {meta['seed']}, "
                         f"scale {meta['scale']:,} pupils per cohort, {meta['cohorts']} KS4 cohorts "
                         f"({S.FIRST_KS4_YEAR}-{S.FIRST_KS4_YEAR + meta['cohorts'] - 1}); {total_mb:.1f} MB in total.\n\n"
                         f"```\n{cmd}\n```\n\n"
                         f"`--overwrite` replaces only the files the previous run wrote (listed with their SHA-256 in "
                         f"`{MANIFEST}`); this README and any other file are kept. The same seed, scale, cohorts and "
                         f"truth give the same bytes on every machine (with the locked pyarrow; the same values with "
                         f"any pyarrow): stored floats are quantised at write time, float64 columns of released tables "
                         f"to {RELEASED_DECIMALS} decimals, of `truth_*` tables to {TRUTH_DECIMALS}, the realised "
                         f"statistics in truth.json to {JSON_SIGNIFICANT_DIGITS} significant digits, and `-0.0` is "
                         f"written as `0.0` "
                         f"(`tests/synth/test_reproducible.py` regenerates this folder and compares). `--cohorts` "
                         f"changes every cohort's people, not only how many cohorts there are: the population is "
                         f"drawn for all cohorts at once.\n")
    sec["tables"] = _md_table(inv)
    cal = calibration_table(data_dir)
    cal["ok"] = cal["ok"].map({True: "yes", False: "NO", None: "-"})
    sec["calibration"] = _md_table(cal)
    mess = doc["_realised"].get("messiness_education", {})
    mrows = [dict(rate=k, target=v, realised=mess.get(k)) for k, v in MESSINESS.items()]
    sec["messiness"] = _md_table(pd.DataFrame(mrows))
    trows = [dict(parameter=k, value=json.dumps(v["value"]), definition=v["definition"])
             for k, v in doc.items() if not k.startswith("_")]
    sec["truth"] = _md_table(pd.DataFrame(trows))
    dgp = Path(__file__).with_name("LABOUR_DGP.md")
    if dgp.exists():  # the labour side's model description, included verbatim (headings demoted)
        body = re.sub(r"^(#+) ", lambda m_: "#" * min(len(m_.group(1)) + 2, 6) + " ", dgp.read_text(), flags=re.M)
        sec["labour_dgp"] = body
    else:
        sec["labour_dgp"] = "See the docstring of `shared_code/leokit/synth/labour.py`."
    return sec


def update_readme(data_dir: str | Path, readme: str | Path, command: str | None = None) -> Path:
    """Rewrite the generated sections of ``readme`` from the data in ``data_dir`` (appends missing sections)."""
    d = Path(data_dir)
    p = Path(readme)
    text = p.read_text() if p.exists() else ""
    for name, body in _sections(d, command).items():
        b, e = f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"
        block = f"{b}\n{body.rstrip()}\n{e}"
        pat = re.compile(re.escape(b) + ".*?" + re.escape(e), re.S)
        if pat.search(text):
            text = pat.sub(lambda _m: block, text)
        else:
            text = text.rstrip() + f"\n\n{block}\n"
    p.write_text(text.rstrip() + "\n")
    return p
