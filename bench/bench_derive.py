"""Benchmark: the derived-variable pipeline in pandas (leokit.derive) vs a hand-written DuckDB SQL baseline.

Pipeline (both engines, same inputs, same definitions):
  1. annual PAYE earnings per person-tax year (EDUKEY -> AE_ID, summed over a person's EDUKEYs)
  2. days employed per person-tax year (spells merged, clipped to tax years)
  3. sustained employment (5 of the 6 months October-March)
  4. outcomes 1/3/5/10 years after graduation (earnings + sustained employment, with the linkage flags
     linked / has_record / linkage_status of contract C4 in both engines)
  5. main employer per person-year and leave-one-out coworker graduate share

Inputs are built with numpy in the real column layout (England-size by default: 600,000 persons,
16 tax years 2005/06-2020/21), or read from a generated data folder with --data-dir
(``<dir>/leo_i2/leo_earnings.parquet`` etc.; graduates then come from ``hesa_i2``).

    .venv/bin/python bench/bench_derive.py                 # England size
    .venv/bin/python bench/bench_derive.py --persons 50000 # quick
    .venv/bin/python bench/bench_derive.py --check         # also check pandas == DuckDB results
    .venv/bin/python bench/bench_derive.py --repeat 3      # fastest of 3 runs per step (noisy machines)

Prints the time of each step in each engine and the ratio pandas / DuckDB (target <= 1.5).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import leokit.derive as d

FIRST_TY, N_TY = 2005, 16  # tax years 2005/06 .. 2020/21


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------
def build_inputs(n_persons: int, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """Synthetic-looking inputs in the real LEO layout, built with numpy (no generator needed)."""
    rng = np.random.default_rng(seed)
    ae = np.arange(1, n_persons + 1, dtype="int64")
    # EDUKEY: 14-character strings; 2% of persons have a second EDUKEY
    second = rng.random(n_persons) < 0.02
    lk_ae = np.concatenate([ae, ae[second]])
    lk_key = np.array([f"EK{i:012d}" for i in range(len(lk_ae))], dtype=object)
    lookup = pd.DataFrame({"AE_ID": lk_ae, "EDUKEY": lk_key})
    key_of = lk_key[:n_persons]

    # earnings: each person-year present with prob 0.8; some years on the second EDUKEY
    n_py = n_persons * N_TY
    p_idx = np.repeat(np.arange(n_persons), N_TY)
    ty = FIRST_TY + np.tile(np.arange(N_TY), n_persons)
    keep = rng.random(n_py) < 0.8
    p_idx, ty = p_idx[keep], ty[keep]
    earn_key = key_of[p_idx].copy()
    sec_pos = np.flatnonzero(second)
    sec_key = dict(zip(sec_pos, lk_key[n_persons:]))
    use2 = second[p_idx] & (rng.random(len(p_idx)) < 0.5)
    if use2.any():
        earn_key[use2] = np.array([sec_key[i] for i in p_idx[use2]], dtype=object)
    earnings = np.round(np.exp(rng.normal(9.9, 0.8, len(p_idx)))).astype("int64")
    n_ent = max(n_persons // 8, 10)
    ent_size = rng.pareto(1.2, n_ent) + 1
    ent = rng.choice(n_ent, len(p_idx), p=ent_size / ent_size.sum())
    ent_key = np.array([f"ENT{i:08d}" for i in range(n_ent)], dtype=object)
    leo_earnings = pd.DataFrame({
        "Edukey": earn_key,
        "TaxYear": (ty * 100 + (ty + 1) % 100).astype("int64"),
        "Earnings": earnings,
        "main_enterprise": ent_key[ent],
        "enterprise_earnings": (earnings * rng.uniform(0.5, 1.0, len(p_idx))).astype("int64"),
    }).drop_duplicates(["Edukey", "TaxYear"]).reset_index(drop=True)

    # employment spells: on average 3 per person, lengths 1 day .. 6 years
    n_sp = n_persons * 3
    sp_p = rng.integers(0, n_persons, n_sp)
    start = np.datetime64(f"{FIRST_TY}-04-06") + rng.integers(0, N_TY * 365, n_sp).astype("timedelta64[D]")
    length = np.minimum(rng.exponential(500, n_sp).astype("int64"), 6 * 365).astype("timedelta64[D]")
    end = np.minimum(start + length, np.datetime64("2021-04-05"))
    sp_end = pd.Series(end.astype("datetime64[ns]"))
    sp_end[rng.random(n_sp) < 0.03] = pd.NaT
    leo_employment = pd.DataFrame({"EduKey": key_of[sp_p], "StartDate": start.astype("datetime64[ns]"),
                                   "EndDate": sp_end.to_numpy(), "UncertainStartDate": 0, "UncertainEndDate": 0})

    # graduates: 35% of persons, graduation years 2006..2020
    g = rng.random(n_persons) < 0.35
    graduates = pd.DataFrame({"AE_ID": ae[g], "graduation_year": rng.integers(2006, 2021, int(g.sum())).astype("int64")})
    return {"learner_ae_id_to_edukey_lookup": lookup, "leo_earnings": leo_earnings, "leo_employment": leo_employment,
            "graduates": graduates}


def read_inputs(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Read the LEO tables from a generated folder; graduates from its HESA tables (via leokit.derive)."""
    def rd(db, name):
        return pd.read_parquet(data_dir / db / f"{name}.parquet")

    lookup = rd("leo_i2", "learner_ae_id_to_edukey_lookup")
    out = {"learner_ae_id_to_edukey_lookup": lookup, "leo_earnings": rd("leo_i2", "leo_earnings"),
           "leo_employment": rd("leo_i2", "leo_employment")}
    hesa = d.stack_hesa({p.stem: pd.read_parquet(p) for p in sorted((data_dir / "hesa_i2").glob("hesa_*.parquet"))})
    grads = d.graduation(hesa)
    pmr = rd("leo_i2", "learner_ae_id_to_pmr_lookup")
    grads = d.pmr_to_person(grads, pmr)[["AE_ID", "graduation_year"]].drop_duplicates("AE_ID")
    out["graduates"] = grads
    return out


# ----------------------------------------------------------------------------------------------
# pandas pipeline (leokit.derive)
# ----------------------------------------------------------------------------------------------
def run_pandas(t: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    times, res = {}, {}
    lk = t["learner_ae_id_to_edukey_lookup"]
    t0 = time.perf_counter()
    res["paye"] = d.annual_paye_earnings(t["leo_earnings"], lk)
    times["1 annual earnings"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    spells = d.person_spells(t["leo_employment"], lk)
    res["days"] = d.days_employed(None, lk, spells=spells)
    times["2 days employed"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    res["sus"] = d.sustained_employment(None, lk, spells=spells)
    times["3 sustained employment"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    res["yag"] = d.outcomes_yag(t["graduates"], [res["paye"][["AE_ID", "TaxYear", "paye_earnings"]],
                                                 res["sus"][["AE_ID", "TaxYear", "sustained_employment"]]],
                                edukey_map=lk)
    times["4 YAG outcomes"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    emp = d.main_employer(t["leo_earnings"], None, lk)
    attrs = t["graduates"][["AE_ID"]].assign(graduate=1.0)
    pers = pd.DataFrame({"AE_ID": lk["AE_ID"].unique()})
    attrs = pers.merge(attrs, on="AE_ID", how="left").fillna({"graduate": 0.0})
    res["loo"] = d.coworker_loo(emp, attrs, ["graduate"])
    times["5 main employer + coworker LOO"] = time.perf_counter() - t0
    return times, res


# ----------------------------------------------------------------------------------------------
# DuckDB baseline (hand-written SQL, DuckDB dialect)
# ----------------------------------------------------------------------------------------------
SQL_PAYE = """
CREATE OR REPLACE TABLE r_paye AS
SELECT m.AE_ID, e.TaxYear, SUM(greatest(e.Earnings, 0)) AS paye_earnings, COUNT(DISTINCT e.Edukey) AS n_edukeys_paye
FROM leo_earnings e JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM lookup GROUP BY EDUKEY) m ON m.EDUKEY = e.Edukey
GROUP BY m.AE_ID, e.TaxYear
"""
SQL_SPELLS = """
CREATE OR REPLACE TABLE r_spells AS
WITH s AS (
  SELECT m.AE_ID, e.StartDate::DATE AS s, COALESCE(e.EndDate::DATE, DATE '2021-04-05') AS e
  FROM leo_employment e JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM lookup GROUP BY EDUKEY) m ON m.EDUKEY = e.EduKey
  WHERE e.StartDate IS NOT NULL AND COALESCE(e.EndDate::DATE, DATE '2021-04-05') >= e.StartDate::DATE
), o AS (
  SELECT *, max(e) OVER (PARTITION BY AE_ID ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pm
  FROM s
), g AS (
  SELECT *, sum(CASE WHEN pm IS NULL OR s > pm + 1 THEN 1 ELSE 0 END)
            OVER (PARTITION BY AE_ID ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp
  FROM o
)
SELECT AE_ID, min(s) AS s, max(e) AS e FROM g GROUP BY AE_ID, grp
"""
SQL_PIECES = """
CREATE OR REPLACE TABLE r_pieces AS
WITH b AS (
  SELECT AE_ID, s, e,
         year(s) - CASE WHEN month(s) < 4 OR (month(s) = 4 AND day(s) < 6) THEN 1 ELSE 0 END AS ty0,
         year(e) - CASE WHEN month(e) < 4 OR (month(e) = 4 AND day(e) < 6) THEN 1 ELSE 0 END AS ty1
  FROM r_spells
), x AS (SELECT AE_ID, s, e, unnest(range(ty0, ty1 + 1)) AS ty FROM b)
SELECT AE_ID, ty, greatest(s, make_date(ty, 4, 6)) AS ps, least(e, make_date(ty + 1, 4, 5)) AS pe FROM x
"""
SQL_DAYS = """
CREATE OR REPLACE TABLE r_days AS
SELECT AE_ID, ty * 100 + (ty + 1) % 100 AS TaxYear, SUM(date_diff('day', ps, pe) + 1) AS days_employed
FROM r_pieces GROUP BY AE_ID, ty
"""
SQL_SUS = """
CREATE OR REPLACE TABLE r_sus AS
WITH m AS (
  SELECT AE_ID, ty,
         greatest(year(ps) * 12 + month(ps) - 1, ty * 12 + 9) AS ms,
         least(year(pe) * 12 + month(pe) - 1, ty * 12 + 14) AS me
  FROM r_pieces
), c AS (
  SELECT AE_ID, ty, ms, me,
         lag(me) OVER (PARTITION BY AE_ID, ty ORDER BY ms, me) AS pme
  FROM m WHERE me >= ms
), n AS (
  SELECT AE_ID, ty, SUM(me - ms + 1 - CASE WHEN pme >= ms THEN pme - ms + 1 ELSE 0 END) AS months
  FROM c GROUP BY AE_ID, ty
), py AS (SELECT DISTINCT AE_ID, ty FROM r_pieces)
SELECT py.AE_ID, py.ty * 100 + (py.ty + 1) % 100 AS TaxYear, COALESCE(n.months, 0) AS months_employed_oct_mar,
       CASE WHEN COALESCE(n.months, 0) >= 5 THEN 1 ELSE 0 END AS sustained_employment
FROM py LEFT JOIN n ON n.AE_ID = py.AE_ID AND n.ty = py.ty
"""
SQL_YAG = """
CREATE OR REPLACE TABLE r_yag AS
WITH grid AS (
  SELECT g.AE_ID, g.graduation_year, y.yag,
         (g.graduation_year + y.yag) * 100 + (g.graduation_year + y.yag + 1) % 100 AS TaxYear
  FROM graduates g CROSS JOIN (VALUES (1), (3), (5), (10)) AS y (yag)
), owners AS (
  SELECT DISTINCT AE_ID FROM (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM lookup GROUP BY EDUKEY)
)
SELECT gr.*, CASE WHEN gr.TaxYear <= 202021 THEN 1 ELSE 0 END AS observed,
       CASE WHEN o.AE_ID IS NULL THEN 0 ELSE 1 END AS linked,
       CASE WHEN o.AE_ID IS NULL THEN NULL
            WHEN p.AE_ID IS NOT NULL OR s.AE_ID IS NOT NULL THEN 1 ELSE 0 END AS has_record,
       CASE WHEN o.AE_ID IS NULL THEN 'not linkable'
            WHEN p.AE_ID IS NOT NULL OR s.AE_ID IS NOT NULL THEN 'linked, record'
            ELSE 'linked, no record' END AS linkage_status,
       CASE WHEN o.AE_ID IS NOT NULL THEN p.paye_earnings END AS paye_earnings,
       CASE WHEN o.AE_ID IS NOT NULL THEN s.sustained_employment END AS sustained_employment
FROM grid gr
LEFT JOIN owners o ON o.AE_ID = gr.AE_ID
LEFT JOIN r_paye p ON p.AE_ID = gr.AE_ID AND p.TaxYear = gr.TaxYear
LEFT JOIN r_sus s ON s.AE_ID = gr.AE_ID AND s.TaxYear = gr.TaxYear
"""
SQL_LOO = """
CREATE OR REPLACE TABLE r_loo AS
WITH e AS (
  SELECT m.AE_ID, e.TaxYear, e.main_enterprise,
         row_number() OVER (PARTITION BY m.AE_ID, e.TaxYear
                            ORDER BY e.enterprise_earnings DESC NULLS LAST, e.Earnings DESC NULLS LAST,
                                     e.main_enterprise) AS rk
  FROM leo_earnings e JOIN (SELECT EDUKEY, MIN(AE_ID) AS AE_ID FROM lookup GROUP BY EDUKEY) m ON m.EDUKEY = e.Edukey
  WHERE e.main_enterprise IS NOT NULL
), a AS (
  SELECT e.AE_ID, e.TaxYear, e.main_enterprise, CASE WHEN g.AE_ID IS NULL THEN 0.0 ELSE 1.0 END AS graduate
  FROM e LEFT JOIN (SELECT DISTINCT AE_ID FROM graduates) g ON g.AE_ID = e.AE_ID WHERE e.rk = 1
)
SELECT AE_ID, TaxYear, main_enterprise,
       count(*) OVER w - 1 AS n_coworkers,
       CASE WHEN count(*) OVER w > 1 THEN (sum(graduate) OVER w - graduate) / (count(*) OVER w - 1) END
         AS loo_mean_graduate
FROM a
WINDOW w AS (PARTITION BY main_enterprise, TaxYear)
"""


def run_duckdb(t: dict[str, pd.DataFrame], threads: int | None) -> tuple[dict, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("lookup", t["learner_ae_id_to_edukey_lookup"])
    con.register("leo_earnings", t["leo_earnings"])
    con.register("leo_employment", t["leo_employment"])
    con.register("graduates", t["graduates"])
    times = {}
    steps = [("1 annual earnings", [SQL_PAYE]), ("2 days employed", [SQL_SPELLS, SQL_PIECES, SQL_DAYS]),
             ("3 sustained employment", [SQL_SUS]), ("4 YAG outcomes", [SQL_YAG]),
             ("5 main employer + coworker LOO", [SQL_LOO])]
    for name, sqls in steps:
        t0 = time.perf_counter()
        for s in sqls:
            con.execute(s)
        times[name] = time.perf_counter() - t0
    return times, con


def check(res: dict, con) -> None:
    """pandas == DuckDB on every output (sorted, float comparison)."""
    def cmp(pdf, table, keys, cols):
        q = con.execute(f"SELECT {', '.join(keys + cols)} FROM {table}").df()
        a = pdf[keys + cols].sort_values(keys).reset_index(drop=True).astype("float64")
        b = q.sort_values(keys).reset_index(drop=True).astype("float64")
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)

    cmp(res["paye"], "r_paye", ["AE_ID", "TaxYear"], ["paye_earnings", "n_edukeys_paye"])
    cmp(res["days"], "r_days", ["AE_ID", "TaxYear"], ["days_employed"])
    cmp(res["sus"], "r_sus", ["AE_ID", "TaxYear"], ["months_employed_oct_mar", "sustained_employment"])
    cmp(res["yag"], "r_yag", ["AE_ID", "yag"], ["TaxYear", "observed", "linked", "has_record", "paye_earnings",
                                                 "sustained_employment"])
    q = con.execute("SELECT AE_ID, yag, linkage_status FROM r_yag").df().sort_values(["AE_ID", "yag"])
    a = res["yag"].sort_values(["AE_ID", "yag"])
    assert a["linkage_status"].tolist() == q["linkage_status"].tolist(), "linkage_status differs"
    cmp(res["loo"].dropna(subset=["n_coworkers"]), "r_loo", ["AE_ID", "TaxYear"], ["n_coworkers", "loo_mean_graduate"])
    print("check: pandas and DuckDB results are identical")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--persons", type=int, default=600_000)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    p.add_argument("--check", action="store_true", help="check that both engines give identical results")
    p.add_argument("--repeat", type=int, default=1,
                   help="run each engine this many times, alternating, and report the fastest run of each step")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    t = read_inputs(args.data_dir) if args.data_dir else build_inputs(args.persons)
    build = time.perf_counter() - t0
    print(f"inputs: {len(t['learner_ae_id_to_edukey_lookup']):,} lookup rows, {len(t['leo_earnings']):,} earnings rows, "
          f"{len(t['leo_employment']):,} employment spells, {len(t['graduates']):,} graduates (built in {build:.1f} s)")
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, duckdb "
          f"{duckdb.__version__}, {os.cpu_count()} cores")

    tp, td = {}, {}
    for _ in range(max(args.repeat, 1)):
        tp1, res = run_pandas(t)
        td1, con = run_duckdb(t, args.threads)
        tp = {k: min(v, tp.get(k, v)) for k, v in tp1.items()}
        td = {k: min(v, td.get(k, v)) for k, v in td1.items()}
    print(f"\n{'step':34s} {'pandas s':>9s} {'duckdb s':>9s} {'ratio':>6s}")
    for k in tp:
        print(f"{k:34s} {tp[k]:9.2f} {td[k]:9.2f} {tp[k] / td[k]:6.2f}")
    sp, sd = sum(tp.values()), sum(td.values())
    print(f"{'total':34s} {sp:9.2f} {sd:9.2f} {sp / sd:6.2f}")
    print(f"\nratio pandas/duckdb = {sp / sd:.2f} (target <= 1.5)")
    if args.check:
        check(res, con)
    return 0


if __name__ == "__main__":
    sys.exit(main())
