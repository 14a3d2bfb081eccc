"""Benchmark the synthetic-data generator: wall time and peak memory at several scales.

Runs ``python -m leokit generate`` in a fresh subprocess per configuration (so imports and memory
are measured per run), reads the child's peak RSS from ``os.wait4``, and prints time per 100k pupils,
ratios to the smallest run *measured in the same session* (the baseline), and the log-log growth
exponent of time and memory against the number of pupils. Not a test: figures depend on the machine.

    .venv/bin/python bench/bench_generate.py                    # 5k, 20k, 80k, 600k x 1 cohort + committed config
    .venv/bin/python bench/bench_generate.py --scales 5000 20000 --no-default
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def run_once(scale: int, cohorts: int, seed: int = 1) -> dict:
    with tempfile.TemporaryDirectory(prefix="leokit_bench_") as tmp:
        cmd = [sys.executable, "-m", "leokit", "generate", "--out", tmp, "--seed", str(seed), "--scale", str(scale),
               "--cohorts", str(cohorts), "--no-progress"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"generate failed ({scale} x {cohorts}):\n{err[-3000:]}")
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"scale": scale, "cohorts": cohorts, "pupils": scale * cohorts, "seconds": wall,
            "peak_rss_gb": ru.ru_maxrss / 1024**2, "output_mb": size / 1e6, "stdout": out.strip()}


def slope(x, y) -> float:
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=int, nargs="+", default=[5000, 20000, 80000, 600000])
    ap.add_argument("--cohorts", type=int, default=1)
    ap.add_argument("--no-default", action="store_true", help="skip the committed default config (2500 x 12)")
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    a = ap.parse_args(argv)
    runs = []
    for s in sorted(a.scales):
        r = run_once(s, a.cohorts)
        runs.append(r)
        print(f"  {s:>8,} x {a.cohorts}: {r['seconds']:7.1f} s, peak RSS {r['peak_rss_gb']:.2f} GB, "
              f"{r['output_mb']:.1f} MB", flush=True)
    if not a.no_default:
        r = run_once(2500, 12)
        r["label"] = "committed default (2500 x 12)"
        runs.append(r)
        print(f"  committed 2500 x 12: {r['seconds']:.1f} s, peak RSS {r['peak_rss_gb']:.2f} GB, {r['output_mb']:.1f} MB")
    base = runs[0]
    print("\n| pupils | cohorts | seconds | s per 100k pupils | peak RSS GB | output MB | time ratio | pupils ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {r['pupils']:,} | {r['cohorts']} | {r['seconds']:.1f} | {100000 * r['seconds'] / r['pupils']:.2f} | "
              f"{r['peak_rss_gb']:.2f} | {r['output_mb']:.1f} | {r['seconds'] / base['seconds']:.2f} | "
              f"{r['pupils'] / base['pupils']:.0f} |")
    one = [r for r in runs if r["cohorts"] == a.cohorts and "label" not in r]
    print(f"\ngrowth exponent (log-log slope vs pupils, {a.cohorts}-cohort runs): time {slope([r['pupils'] for r in one], [r['seconds'] for r in one]):.2f}, "
          f"memory {slope([r['pupils'] for r in one], [r['peak_rss_gb'] for r in one]):.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
