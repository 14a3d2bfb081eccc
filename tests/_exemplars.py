"""Shared helpers for the exemplar tests: generate data with other seeds and truths, run a notebook with
papermill on it, and read its results JSON (the contract in ``leokit.analyse.results``).

Each exemplar's tests (``tests/exemplars/test_<name>.py``, ``from _exemplars import ...``) use :func:`generated_data` and
:func:`run_exemplar`; generated folders are cached per pytest session (same arguments, same folder), so
two exemplars that need the same data generate it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from _foundation import ROOT, guarded_env

EXEMPLARS_DIR = ROOT / "exemplars"
RESULT_COLUMNS = ["name", "truth_key", "estimate", "se", "ci_low", "ci_high", "truth", "covered"]


def _key(seed: int, scale: int, cohorts: int, truth: dict | None) -> str:
    t = json.dumps(truth or {}, sort_keys=True)
    return f"s{seed}-n{scale}-c{cohorts}-" + hashlib.sha256(t.encode()).hexdigest()[:10]


def generated_data(base: Path, *, seed: int, scale: int, cohorts: int = 12, truth: dict | None = None) -> Path:
    """A synthetic data folder under ``base`` generated with ``python -m leokit generate`` (the documented CLI,
    with ``--truth`` overrides); reused if it already exists in ``base``."""
    out = Path(base) / _key(seed, scale, cohorts, truth)
    if (out / "truth.json").is_file():
        return out
    cmd = [sys.executable, "-m", "leokit", "generate", "--out", str(out), "--seed", str(seed),
           "--scale", str(scale), "--cohorts", str(cohorts), "--no-progress"]
    if truth:
        tf = Path(base) / f"{out.name}.truth.json"
        tf.write_text(json.dumps(truth))
        cmd += ["--truth", str(tf)]
    res = subprocess.run(cmd, cwd=ROOT, env=guarded_env(), capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out


def run_exemplar(name: str, data_dir: Path, results_path: Path, *, notebook: Path | None = None,
                 **parameters) -> pd.DataFrame:
    """Execute ``exemplars/<name>.ipynb`` (or ``notebook``) with papermill, in its own folder and under the
    network guard, with ``data_dir`` and ``results_path`` set; return the results JSON as a frame indexed by
    ``name`` (every object checked against the contract's keys)."""
    import papermill as pm

    results_path = Path(results_path)
    out_nb = results_path.with_suffix(".ipynb")
    results_path.parent.mkdir(parents=True, exist_ok=True)
    env = guarded_env()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel papermill starts inherits this process's environment
    try:
        nb = Path(notebook) if notebook is not None else EXEMPLARS_DIR / f"{name}.ipynb"
        pm.execute_notebook(str(nb), str(out_nb),
                            parameters={"data_dir": str(Path(data_dir).resolve()),
                                        "results_path": str(results_path.resolve()), **parameters},
                            cwd=str(nb.parent), kernel_name="python3", progress_bar=False)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    data = json.loads(results_path.read_text())
    assert isinstance(data, list) and data, f"{results_path}: expected a non-empty JSON list"
    for obj in data:
        assert list(obj) == RESULT_COLUMNS, f"{results_path}: keys {list(obj)} != {RESULT_COLUMNS}"
    return pd.DataFrame(data).set_index("name")


def truth_of(data_dir: Path, key: str) -> float:
    """A planted value read from the data folder's truth.json (tests never type truths in)."""
    from leokit.analyse.results import read_truth, truth_value

    return truth_value(read_truth(data_dir), key)


def notebook_parameters(name: str) -> dict:
    """The values of the exemplar's cell tagged ``parameters`` (papermill), which holds plain assignments."""
    import nbformat

    nb = nbformat.read(EXEMPLARS_DIR / f"{name}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(cell.source, ns)
    return {k: v for k, v in ns.items() if not k.startswith("__")}
