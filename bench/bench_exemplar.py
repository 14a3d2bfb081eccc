"""Benchmark: wall time of an exemplar notebook on its default data, against baselines measured in the same run.

The exemplars must run in at most 30 s on their default data (E1). Machines here are shared and noisy, so the
script measures, in the same session and each in a fresh process:

* ``kernel``   - starting a Jupyter kernel and running one empty cell (papermill's fixed cost);
* ``load``     - reading the tables the exemplar reads (pandas, leokit): for the contextual-offer exemplar the
  UCAS, HESA and LEO lookups; for the returns exemplar the KS4, KS2, census, HESA and LEO tables; for spillovers
  the NPD, HESA and LEO tables;
* ``notebook`` - executing the whole exemplar with papermill, as the tests and the book do.

and prints the wall and CPU seconds (user + system of the process and its kernel) and the ratios notebook / load
and notebook / kernel, fastest of ``--repeat`` runs. Under load the wall time overstates what a run costs on an
idle machine; the CPU time is close to the idle wall time (the work is mostly single-threaded).

    .venv/bin/python bench/bench_exemplar.py                       # contextual_offers on _build/data/synthetic_20000
    .venv/bin/python bench/bench_exemplar.py --repeat 3
    .venv/bin/python bench/bench_exemplar.py --name spillovers     # on data_synthetic (its default data)
    .venv/bin/python bench/bench_exemplar.py --name contextual_offers --data-dir _build/data/synthetic_20000
    .venv/bin/python bench/bench_exemplar.py --name returns_to_degree   # on the committed data_synthetic/
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

ROOT = Path(__file__).resolve().parents[1]

# The load baseline of each exemplar: reading the tables it reads (pandas, leokit), in a fresh process.
LOAD = {
    "contextual_offers": """
import leokit
d = {data!r}
for t in ("ucas_applicants", "ucas_applications", "ucas_qualifications", "syn_he_provider",
          "learner_ae_id_to_pmr_lookup", "learner_ae_id_to_edukey_lookup"):
    leokit.load_table(t, d)
leokit.stack_hesa(data_dir=d)
""",
    "returns_to_degree": """
import leokit
d = {data!r}
leokit.stack_ks4(data_dir=d)
for t in ("KS2Pupil_1996_to_2019_and_2022", "imd2019_lsoa11", "syn_he_provider", "learner_ae_id_to_pmr_lookup",
          "learner_ae_id_to_edukey_lookup", "leo_earnings", "leo_employment"):
    leokit.load_table(t, d)
leokit.stack_census(years=range(2002, 2009), data_dir=d)
leokit.stack_hesa(data_dir=d)
""",
    "spillovers": """
import leokit
d = {data!r}
for t in ("KS4Pupil_2002_to_2014", "KS4Pupil_2015_to_2021", "KS2Pupil_1996_to_2019_and_2022",
          "learner_ae_id_to_pmr_lookup", "leo_earnings", "leo_employment", "syn_enterprise_output"):
    leokit.load_table(t, d)
leokit.resolve_edukeys(d)
leokit.stack_hesa(data_dir=d)
""",
}
# Default data of each exemplar (its notebook's default data_dir).
DEFAULT_DATA = {"contextual_offers": ROOT / "_build" / "data" / "synthetic_20000",
                "returns_to_degree": ROOT / "data_synthetic", "spillovers": ROOT / "data_synthetic"}

KERNEL = """
import nbformat, papermill as pm
nb = nbformat.v4.new_notebook(); nb.cells = [nbformat.v4.new_code_cell("1")]
nb.metadata["kernelspec"] = {{"name": "python3", "display_name": "Python 3", "language": "python"}}
nbformat.write(nb, {path!r})
pm.execute_notebook({path!r}, {path!r}, kernel_name="python3", progress_bar=False)
"""

NOTEBOOK = """
import papermill as pm
pm.execute_notebook({nb!r}, {out!r}, parameters={{"data_dir": {data!r}, "results_path": {res!r}}},
                    cwd={cwd!r}, kernel_name="python3", progress_bar=False)
"""


def _time(code: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the subprocess and everything it started and reaped, e.g.
    the Jupyter kernel) of running ``code`` in a fresh Python process. On a machine shared with other jobs the
    wall time grows with the load; the CPU time much less, so it says what the run costs on an idle machine."""
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, env=os.environ.copy())
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="contextual_offers", choices=sorted(LOAD), help="exemplar (exemplars/NAME.ipynb)")
    p.add_argument("--data-dir", default=None,
                   help="data folder (default: the exemplar's default data, make exemplar-data's 20,000-pupil set for "
                        "contextual_offers, data_synthetic/ for returns_to_degree and spillovers)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    p.add_argument("--json", default=None, help="also write the timings to this JSON file")
    a = p.parse_args(argv)
    data = str(Path(a.data_dir or DEFAULT_DATA[a.name]).resolve())
    if not (Path(data) / "truth.json").is_file():
        print(f"{data} has no data: run `make exemplar-data` first", file=sys.stderr)
        return 2
    nb = ROOT / "exemplars" / f"{a.name}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        codes = {
            "kernel": KERNEL.format(path=str(Path(tmp) / "k.ipynb")),
            "load": LOAD[a.name].format(data=data),
            "notebook": NOTEBOOK.format(nb=str(nb), out=str(Path(tmp) / "out.ipynb"), data=data,
                                        res=str(Path(tmp) / "results.json"), cwd=str(nb.parent)),
        }
        runs = {k: [_time(c) for _ in range(a.repeat)] for k, c in codes.items()}
    best = {k: min(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: min(c for _, c in v) for k, v in runs.items()}
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{a.name} on {data} (load average {load_avg:.1f}, {os.cpu_count()} cores; fastest of {a.repeat})")
    for k, v in best.items():
        print(f"  {k:9s} {v:6.1f} s wall, {cpu[k]:6.1f} s CPU")
    print(f"  notebook / load   = {best['notebook'] / best['load']:.1f}")
    print(f"  notebook / kernel = {best['notebook'] / best['kernel']:.1f}")
    print(f"  target: notebook <= 30 s -> {'met' if best['notebook'] <= 30 else 'NOT met'} in this run")
    if a.json:
        Path(a.json).write_text(json.dumps({"name": a.name, "load_average": load_avg, **best,
                                            **{f"{k}_cpu": v for k, v in cpu.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
