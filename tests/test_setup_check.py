"""The learners' pre-session check, ``python -m leokit.setup_check``, passes here and fails clearly."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from _foundation import ROOT, guarded_env
from leokit import setup_check


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leokit.setup_check", *args], cwd=ROOT,
                          env=guarded_env(), capture_output=True, text=True, timeout=300)


def test_passes_on_the_committed_data_without_a_kernel():
    res = _run("--quick")
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("[")]
    assert not [ln for ln in lines if ln.startswith("[FAIL]")], res.stdout
    checks = {ln.split("]", 1)[1].split(":", 1)[0].strip() for ln in lines}
    assert {"python", "leokit", "data folder", "load and validate", "SQL (DuckDB)", "figures"} <= checks
    assert "Jupyter kernel" not in checks  # --quick skips it
    assert "you are ready" in res.stdout


@pytest.mark.slow
def test_jupyter_kernel_check_runs_leokit_in_a_kernel():
    results = setup_check.run_checks(kernel=True)
    kernel = [r for r in results if r.check == "Jupyter kernel"]
    assert kernel and kernel[0].status == "ok", [r.line() for r in results]


def test_missing_data_folder_fails_with_advice(tmp_path):
    res = _run("--quick", "--data-dir", str(tmp_path / "nowhere"))
    assert res.returncode == 1
    assert "[FAIL] data folder" in res.stdout and "LEOKIT_DATA_DIR" in res.stdout


def test_partial_data_folder_names_the_missing_tables(tmp_path):
    shutil.copytree(ROOT / "data_synthetic" / "public", tmp_path / "public")
    res = _run("--quick", "--data-dir", str(tmp_path))
    assert res.returncode == 1
    fail = [ln for ln in res.stdout.splitlines() if ln.startswith("[FAIL] data folder")]
    assert fail and "KS4Pupil_2002_to_2014" in fail[0] and "imd2019_lsoa11" not in fail[0]


def test_lock_mismatch_is_a_warning_not_a_failure(monkeypatch):
    monkeypatch.setattr(setup_check, "_lock_versions", lambda: {"pandas": "0.0.1"})
    results = {r.check: r for r in setup_check._packages()}
    assert results["package pandas"].status == "warn"
    assert "0.0.1" in results["package pandas"].detail
    assert results["package numpy"].status == "ok"


def test_missing_package_fails(monkeypatch):
    monkeypatch.setitem(setup_check.REQUIRED, "leokit_no_such_module", "leokit-no-such-module")
    results = setup_check.run_checks(kernel=False)
    assert results[-1].status == "FAIL" and "leokit_no_such_module" in results[-1].detail
    # nothing after the package checks runs when a package is missing
    assert not any(r.check == "data folder" for r in results)
