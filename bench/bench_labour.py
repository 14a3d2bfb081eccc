"""Time and peak memory of the labour-market side (leokit.synth.labour.simulate_labour).

Usage::

    .venv/bin/python bench/bench_labour.py            # 60,000 and 600,000 persons (one KS4 cohort)
    .venv/bin/python bench/bench_labour.py 20000 200000

Each size runs in a fresh subprocess on a stand-in people table (leokit.synth.labour_fake), one KS4
cohort (2005, so about 16 tax years per person, as for an England-size cohort). Printed per size:
wall seconds of simulate_labour, peak RSS of the process (GB) and the peak RSS above the RSS
before the call (the people table and the interpreter are excluded from the latter). Budget
for the labour side at 600,000 persons: <= 45 s and <= 5.5 GB on the 2-core machine (measured: 37-55 s
and +5.0 GB; the previous generator, run in the same session, took 39-43 s and +4.5 GB - the employer
path and the degree-free part-time and residence processes cost about 10% more memory). The ratio line
shows how time scales with the number of persons (baseline: the first size, in the same run).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def _one(n: int) -> dict:
    import numpy as np

    from leokit.synth.labour import simulate_labour
    from leokit.synth.labour_fake import fake_people
    from leokit.synth.truth import default_truth

    people = fake_people(n, (2005,), np.random.default_rng(1))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    t = time.perf_counter()
    out = simulate_labour(people, default_truth(), np.random.default_rng(2))
    secs = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    rows = {k: len(v) for k, v in out.items() if k != "_realised"}
    return {"n": n, "seconds": secs, "peak_rss_gb": rss1, "peak_rss_above_start_gb": rss1 - rss0, "rows": rows}


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[0] == "--one":
        print(json.dumps(_one(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [60_000, 600_000]
    res = []
    for n in sizes:
        p = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        res.append(r)
        print(f"n={n:>9,}  {r['seconds']:6.1f} s   peak RSS {r['peak_rss_gb']:5.2f} GB "
              f"(+{r['peak_rss_above_start_gb']:.2f} GB in simulate_labour)   "
              f"earnings rows {r['rows']['leo_earnings']:,}, truth_person_year rows {r['rows']['truth_person_year']:,}",
              flush=True)
    if len(res) >= 2:
        a, b = res[0], res[-1]
        print(f"ratio {b['n'] / a['n']:.0f}x persons -> {b['seconds'] / a['seconds']:.1f}x time, "
              f"{b['peak_rss_gb'] / a['peak_rss_gb']:.1f}x peak RSS")


if __name__ == "__main__":
    main(sys.argv[1:])
