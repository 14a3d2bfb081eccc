"""Check that a learner's environment can run the course: ``python -m leokit.setup_check``.

Run it before a taught session (or before starting the course on your own). Each check prints one
line, ``[ok]``, ``[warn]`` or ``[FAIL]``, and a failing check says what to do. The exit status is 0
when nothing failed, 1 otherwise, so instructors can also run it in a loop over machines.

Checks, in order: the Python version; the packages the course imports (and, where the repository's
``requirements/lock.txt`` is present, whether their versions match it); where ``leokit`` is
installed from; the data folder (tables and ``truth.json``); loading and validating a table; a SQL
query through DuckDB; drawing a figure; and a Jupyter kernel that can ``import leokit`` (skip the
last with ``--quick``). Nothing here uses the network.

Options: ``--data-dir PATH`` checks another data folder (default: ``$LEOKIT_DATA_DIR`` or the
committed ``data_synthetic/``); ``--quick`` skips starting a Jupyter kernel.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import leokit
from leokit import db
from leokit.paths import package_dir, repo_root, resolve_data_dir, table_files
from leokit.read import load_table

__all__ = ["Result", "run_checks", "main", "REQUIRED", "MIN_PYTHON"]

MIN_PYTHON = (3, 11)
#: import name -> distribution name (as in requirements/lock.txt)
REQUIRED = {
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "duckdb": "duckdb",
    "statsmodels": "statsmodels",
    "matplotlib": "matplotlib",
    "ipykernel": "ipykernel",
    "jupyter_client": "jupyter_client",
}
#: tables the course's first chapters read (a missing one means a wrong or partial data folder)
COURSE_TABLES = ("KS4Pupil_2002_to_2014", "spring_census_2011", "learner_ae_id_to_pmr_lookup",
                 "learner_ae_id_to_edukey_lookup", "leo_earnings", "leo_employment", "hesa_2015",
                 "imd2019_lsoa11")


@dataclass
class Result:
    status: str  # "ok", "warn" or "FAIL"
    check: str
    detail: str

    def line(self) -> str:
        return f"[{self.status}] {self.check}: {self.detail}"


def _python() -> Result:
    v = sys.version_info
    here = f"Python {v.major}.{v.minor}.{v.micro} at {sys.executable}"
    if (v.major, v.minor) < MIN_PYTHON:
        return Result("FAIL", "python", f"{here}; the course needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer "
                                        "(install a newer Python, then run `make venv`)")
    return Result("ok", "python", here)


def _lock_versions() -> dict[str, str]:
    lock = repo_root() / "requirements" / "lock.txt"
    if not lock.is_file():
        return {}
    out = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, _, version = line.partition("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def _packages() -> list[Result]:
    from importlib import metadata

    locked = _lock_versions()
    results = []
    for module, dist in REQUIRED.items():
        try:
            importlib.import_module(module)
        except Exception as exc:  # ImportError, or a broken install raising something else
            results.append(Result("FAIL", f"package {dist}", f"cannot import {module!r} ({exc}); run `make venv` "
                                                              "and use the .venv Python / Jupyter kernel"))
            continue
        version = metadata.version(dist)
        want = locked.get(dist.lower().replace("_", "-"))
        if want and want != version:
            results.append(Result("warn", f"package {dist}", f"{version} installed, {want} in requirements/lock.txt "
                                                              "(results may differ slightly; `make venv` installs the locked one)"))
        else:
            results.append(Result("ok", f"package {dist}", version))
    return results


def _leokit() -> Result:
    return Result("ok", "leokit", f"{leokit.__version__} from {package_dir()}")


def _data(data_dir) -> list[Result]:
    try:
        root = resolve_data_dir(data_dir)
    except FileNotFoundError as exc:
        return [Result("FAIL", "data folder", f"{exc}; run from a clone of the repository, or set LEOKIT_DATA_DIR")]
    files = table_files(root)
    missing = [t for t in COURSE_TABLES if t not in files]
    if missing:
        return [Result("FAIL", "data folder", f"{root} has {len(files)} tables but not {', '.join(missing)} "
                                              "(a partial copy? clone the repository again, or regenerate with "
                                              "`python -m leokit generate --out DIR`)")]
    out = [Result("ok", "data folder", f"{root}: {len(files)} tables")]
    truth = root / "truth.json"
    out.append(Result("ok", "truth.json", str(truth)) if truth.is_file() else
               Result("warn", "truth.json", f"not in {root}: analyses run, but self-checks cannot compare answers"))
    return out


def _load(data_dir) -> Result:
    t0 = time.perf_counter()
    df = load_table("KS4Pupil_2002_to_2014", data_dir=data_dir)
    return Result("ok", "load and validate", f"KS4Pupil_2002_to_2014: {len(df):,} rows in {time.perf_counter() - t0:.1f} s")


def _sql(data_dir) -> Result:
    n = db.query("SELECT count(*) AS n FROM leo_i2.leo_earnings", data_dir=data_dir)["n"].iloc[0]
    return Result("ok", "SQL (DuckDB)", f"leo_i2.leo_earnings has {int(n):,} rows")


def _figure() -> Result:
    import io

    import matplotlib

    matplotlib.use("Agg")  # a script, not a notebook: draw off-screen
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Result("ok", "figures", f"matplotlib {matplotlib.__version__} drew a {len(buf.getvalue()):,}-byte PNG")


def _kernel(data_dir) -> Result:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    if data_dir is not None:
        env["LEOKIT_DATA_DIR"] = str(Path(data_dir).resolve())
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        reply = kc.execute_interactive("import leokit, sys; print(leokit.__version__, sys.executable)",
                                       timeout=60, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            return Result("FAIL", "Jupyter kernel", f"`import leokit` failed in the python3 kernel: "
                                                    f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}; "
                                                    "select the .venv interpreter as the notebook kernel")
        return Result("ok", "Jupyter kernel", "the python3 kernel starts and imports leokit")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run_checks(data_dir=None, *, kernel: bool = True, echo: Callable[[str], None] | None = None) -> list[Result]:
    """Run every check; return the results (``echo`` is called with each line as it is known)."""
    results: list[Result] = []

    def add(items) -> None:
        for r in items if isinstance(items, list) else [items]:
            results.append(r)
            if echo:
                echo(r.line())

    add(_python())
    add(_packages())
    if any(r.status == "FAIL" for r in results):
        return results  # nothing below can work without the packages
    steps: list[tuple[str, Callable[[], object]]] = [
        ("leokit", _leokit), ("data folder", lambda: _data(data_dir))]
    for name, fn in steps:
        try:
            add(fn())
        except Exception as exc:
            add(Result("FAIL", name, f"{type(exc).__name__}: {exc}"))
    if any(r.status == "FAIL" for r in results):
        return results
    more: list[tuple[str, Callable[[], object]]] = [
        ("load and validate", lambda: _load(data_dir)), ("SQL (DuckDB)", lambda: _sql(data_dir)),
        ("figures", _figure)]
    if kernel:
        more.append(("Jupyter kernel", lambda: _kernel(data_dir)))
    for name, fn in more:
        try:
            add(fn())
        except Exception as exc:
            add(Result("FAIL", name, f"{type(exc).__name__}: {exc}"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leokit.setup_check",
                                     description="Check that this environment can run the LEO/NPD course.")
    parser.add_argument("--data-dir", default=None, help="data folder to check (default: LEOKIT_DATA_DIR or data_synthetic/)")
    parser.add_argument("--quick", action="store_true", help="skip starting a Jupyter kernel")
    args = parser.parse_args(argv)
    results = run_checks(args.data_dir, kernel=not args.quick, echo=print)
    failed = [r for r in results if r.status == "FAIL"]
    warned = [r for r in results if r.status == "warn"]
    if failed:
        print(f"\n{len(failed)} check(s) failed: fix them before the session (see the course's troubleshooting page).")
        return 1
    print(f"\nAll checks passed{f' ({len(warned)} warning(s))' if warned else ''}: you are ready for the course.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
