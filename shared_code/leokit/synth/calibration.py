"""Calibration of the synthetic data against published figures, and the generated README sections.

:func:`calibration_table` recomputes each target *from the generated tables* (as a researcher
would, through the lookups where it matters) and compares it with the published value
(``shared/reference/leo-npd-data.md`` §6). :func:`update_readme` rewrites the sections of a data
README between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->`` markers
(tables and row counts, calibration, messiness, planted truth).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from leokit import schema as S

from .params import MESSINESS

__all__ = ["calibration_table", "table_inventory", "update_readme", "LIVING_WAGE_ANNUAL"]

#: Annualised Living Wage used for the ONS age-25 comparison (about GBP 7.50-8.20/hour x 37.5 h x 52
#: in 2016/17-2019/20; the labour side reports the same threshold).
LIVING_WAGE_ANNUAL = 15_000


def _read(data_dir: Path, db: str, name: str, columns=None) -> pd.DataFrame:
    return pq.read_table(data_dir / db / f"{name}.parquet", columns=columns).to_pandas()


def _person_earnings(data_dir: Path, tp: pd.DataFrame) -> pd.DataFrame:
    """leo_earnings summed per person (edukey and edukey2) and tax year."""
    e = _read(data_dir, "leo_i2", "leo_earnings", ["Edukey", "TaxYear", "Earnings"])
    keys = pd.concat([
        tp[["person_id", "edukey"]].rename(columns={"edukey": "Edukey"}),
        tp.loc[tp["edukey2"].notna(), ["person_id", "edukey2"]].rename(columns={"edukey2": "Edukey"}),
    ])
    m = e.merge(keys, on="Edukey", how="inner")
    return m.groupby(["person_id", "TaxYear"], as_index=False)["Earnings"].sum()


def calibration_table(data_dir: str | Path) -> pd.DataFrame:
    """Targets vs produced values: columns target, source, target_value, produced, tolerance, ok, note."""
    d = Path(data_dir)
    tp = _read(d, "truth", "truth_person")
    doc = json.loads((d / "truth.json").read_text())
    real = doc.get("_realised", {})
    pe = _person_earnings(d, tp)
    rows = []

    def add(target, source, tv, produced, tol, note=""):
        ok = None if produced is None or (isinstance(produced, float) and np.isnan(produced)) else bool(abs(produced - tv) <= tol)
        rows.append(dict(target=target, source=source, target_value=tv, produced=produced, tolerance=tol, ok=ok, note=note))

    # 1. graduate earnings 5 YAG, 2009/10 graduates, tax year 2015/16 (nominal)
    g = tp[(tp["degree"] == 1) & (tp["grad_year"] == 2010)]
    e5 = pe[(pe["TaxYear"] == 201516) & pe["person_id"].isin(g["person_id"]) & (pe["Earnings"] > 0)]["Earnings"]
    n5 = len(e5)
    note = f"{n5} graduates of 2009/10 with PAYE earnings > 0 in 2015/16"
    if n5:
        add("Graduate median earnings 5 YAG (GBP, 2015/16)", "DfE LEO graduate outcomes [GO-DATA]", 25600,
            float(e5.median()), 3000, note)
        add("Graduate lower-quartile earnings 5 YAG", "DfE LEO graduate outcomes [GO-DATA]", 17900, float(e5.quantile(0.25)), 3000, note)
        add("Graduate upper-quartile earnings 5 YAG", "DfE LEO graduate outcomes [GO-DATA]", 33700, float(e5.quantile(0.75)), 4000, note)
    else:
        add("Graduate median earnings 5 YAG (GBP, 2015/16)", "DfE LEO graduate outcomes [GO-DATA]", 25600, None, 3000,
            "no 2009/10 graduates in these cohorts (needs the KS4 2005 cohort)")
    # 2. FSM at age 25
    t25 = tp["birth_year"] + 25 - (tp["birth_month"] <= 3).astype(int)
    ty25 = 100 * t25 + (t25 + 1) % 100
    p25 = tp.assign(TaxYear=ty25)[["person_id", "TaxYear", "fsm_ever6"]]
    p25 = p25[p25["TaxYear"] <= S.LAST_TAX_YEAR]
    m = p25.merge(pe, on=["person_id", "TaxYear"], how="left")
    m["Earnings"] = m["Earnings"].fillna(0)
    for f, lab, above_t, none_t in ((1, "FSM", 0.230, 0.29), (0, "non-FSM", 0.435, 0.15)):
        s = m[m["fsm_ever6"] == f]
        n = len(s)
        add(f"Share earning above the annualised Living Wage at 25, {lab}", "ONS 2022 (FSM and earnings at 25)",
            above_t, float((s["Earnings"] > LIVING_WAGE_ANNUAL).mean()) if n else None, 0.07,
            f"n = {n}; threshold GBP {LIVING_WAGE_ANNUAL:,}; FSM = EVERFSM_6 at KS4")
        add(f"Share with no PAYE earnings at 25, {lab}", "ONS 2022 (FSM and earnings at 25)", none_t,
            float((s["Earnings"] <= 0).mean()) if n else None, 0.07, f"n = {n}")
    # 3. AKM firm share
    fs = real.get("akm_firm_variance_share")
    add("Firm effects: share of log-earnings variance", "Card et al. 2018; Bonhomme et al. 2023", 0.15,
        float(fs) if fs is not None else None, 0.05, "true firm premia over employed person-years (labour side)")
    # 4. graduate share by FSM
    for f, lab, tv in ((1, "FSM", 0.162), (0, "non-FSM (state school)", 0.282)):
        s = tp[tp["fsm_ever6"] == f]
        add(f"Share with a first degree, {lab}", "ONS 2022 (degree by age 30)", tv,
            float(s["degree"].mean()) if len(s) else None, 0.04, "first degrees completed by about 22 (no mature entrants)")
    # 5. returns at 29 (planted, ATT)
    for sex in ("female", "male"):
        k = f"degree_return_{sex}_att_at_29"
        if k in real:
            add(f"Degree return at 29, {sex} (planted ATT)", "IFS Belfield et al. 2018", doc[f"degree_return_{sex}"]["value"],
                real[k], 0.01, "realised mean of the individual returns over graduates")
    # 6. contextual entry effect (planted)
    k = real.get("contextual_offer_high_tariff_entry_effect_realised")
    add("Contextual offers: effect on high-tariff entry at the cut-off", "planted (truth.json)",
        doc["contextual_offer_high_tariff_entry_effect"]["value"], k, 0.05,
        f"potential outcomes, applicants within 0.03 of the cut-off in full-adoption cycles "
        f"(n = {real.get('contextual_offer_n_near_cutoff_full_adoption')})")
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
                      f"--cohorts {meta['cohorts']} --readme {data_dir.name}/README.md")
    sec = {}
    sec["regenerate"] = (f"Generated with generator version {meta['generator_version']}, seed {meta['seed']}, "
                         f"scale {meta['scale']:,} pupils per cohort, {meta['cohorts']} KS4 cohorts "
                         f"({S.FIRST_KS4_YEAR}-{S.FIRST_KS4_YEAR + meta['cohorts'] - 1}); {total_mb:.1f} MB in total.\n\n"
                         f"```\n{cmd}\n```\n")
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
