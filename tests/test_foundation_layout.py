"""Repository layout, configuration and environment contract (foundation issue)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from _foundation import ROOT, makefile_var, unguarded_env

CORE_PACKAGES = [
    "pandas", "numpy", "statsmodels", "matplotlib", "pyarrow", "nbval", "pytest",
    "ipykernel", "jupyter-book", "duckdb", "pyfixest", "rdrobust", "hypothesis",
    "jupytext", "papermill", "tqdm",
]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / os.environ.get("LEOKIT_LOCK", "requirements/lock.txt")).read_text().splitlines():  # make test-pandas22 sets it
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert m, f"lock line is not an exact 'name==version' pin: {line!r}"
        pins[_norm(m.group(1))] = m.group(2)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize(
    "rel",
    ["book", "exemplars", "shared_code/leokit", "data_synthetic", "tests",
     "_config.yml", "_toc.yml", "pyproject.toml", "README.md", ".ci/run",
     "Makefile", "requirements/lock.txt"],
)
def test_layout_entry_exists(rel):
    assert (ROOT / rel).exists(), f"{rel} is missing from the repository root"


def test_leokit_importable_from_any_directory(tmp_path):
    """`import leokit` works from an unrelated folder, without PYTHONPATH."""
    out = subprocess.run(
        [sys.executable, "-c", "import leokit, sys; print(leokit.__file__)"],
        cwd=tmp_path, env=unguarded_env(), capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(out).resolve().is_relative_to(ROOT / "shared_code" / "leokit")


def test_no_sys_path_edits_in_notebooks_or_chapters():
    offenders = []
    for path in [*ROOT.glob("exemplars/**/*.ipynb"), *ROOT.glob("book/**/*.md")]:
        if "_vendor" in path.parts or ".ipynb_checkpoints" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            text = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", [])
                             if c.get("cell_type") == "code")
        if re.search(r"sys\.path\s*(\.|\[|\+?=)", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"notebooks must `import leokit` without sys.path edits: {offenders}"


def test_jupyter_book_config_executes_and_fails_loudly():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["only_build_toc_files"] is True
    assert cfg["copyright"] == "2026"
    ex = cfg["execute"]
    assert ex["execute_notebooks"] == "force"
    assert ex["allow_errors"] is False
    assert isinstance(ex["timeout"], int) and ex["timeout"] > 0
    sph = cfg["sphinx"]["config"]
    assert sph["nb_execution_raise_on_error"] is True
    excluded = set(cfg["exclude_patterns"])
    for d in [".venv", "_build", "data_synthetic", "tests", "bench", "shared_code",
              "README.md", "requirements", ".git"]:
        assert d in excluded, f"{d} must be in exclude_patterns so Sphinx skips it"
    # MathJax comes from the PyPI package sphinx-mathjax-offline (copied into the built site),
    # not from a CDN and not from files committed here
    assert "sphinx-mathjax-offline" in cfg["sphinx"]["extra_extensions"]
    assert "mathjax_path" not in sph  # the extension sets it
    import importlib.util
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    assert spec and (Path(spec.origin).parent / "static" / "mathjax" / "tex-chtml.js").is_file()
    assert not (ROOT / "book" / "_vendor").exists()


def test_toc_root_is_the_landing_page():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    assert toc["root"] in ("book/intro", "book/index")


def test_build_flags_in_makefile():
    flags = makefile_var("JB_FLAGS").split()
    for f in ["--all", "-W", "-n", "--keep-going"]:
        assert f in flags


def test_pyproject_pins_and_pytest_config():
    pp = _pyproject()
    deps = pp["project"]["dependencies"] + [
        d for extra in pp["project"]["optional-dependencies"].values() for d in extra
    ]
    jb = [d for d in deps if _norm(d).startswith("jupyter-book")]
    assert jb == ["jupyter-book>=1.0.4.post1,<2"]
    assert any(d.replace(" ", "").startswith("pandas>=2.2") for d in deps)
    ini = pp["tool"]["pytest"]["ini_options"]
    assert ini["testpaths"] == ["tests"]
    assert "--strict-markers" in ini["addopts"]
    assert {m.split(":")[0] for m in ini["markers"]} >= {"slow", "notebook", "book"}
    for f in ini.get("filterwarnings", []):
        action, _, rest = f.partition(":")
        # narrow ignores only: every ignore names a module or a message
        assert not (action == "ignore" and rest.strip(":") == ""), f"blanket ignore: {f}"
        if action == "ignore":
            parts = f.split(":")
            assert len(parts) >= 4 and (parts[1] or parts[3]), f"ignore too broad: {f}"


def test_lock_pins_every_requirement_exactly():
    pins = _lock()
    for name in CORE_PACKAGES:
        assert _norm(name) in pins, f"{name} missing from requirements/lock.txt"
    pp = _pyproject()
    deps = pp["project"]["dependencies"] + [
        d for extra in pp["project"]["optional-dependencies"].values() for d in extra
    ]
    for dep in deps:
        name = _norm(re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0])
        assert name in pins, f"pyproject requirement {dep!r} has no pin in lock.txt"
    assert "leokit" not in pins, "the editable leokit must not be in the lock"


@pytest.mark.skipif(
    os.environ.get("LEOKIT_UNLOCKED_ENV") == "1",
    reason="LEOKIT_UNLOCKED_ENV=1: deliberately testing other versions (e.g. pandas 2.2)",
)
def test_environment_matches_lock():
    """The running environment has exactly the locked version of every pin."""
    wrong = {}
    for name, version in _lock().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong[name] = (version, have)
    assert not wrong, f"(locked, installed) differ; run `make venv`: {wrong}"


def test_readme_commands_and_ci_script_agree():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", readme, flags=re.S)
    commands = {ln.split("#")[0].strip() for b in blocks for ln in b.splitlines()}
    assert {"make book", "make test"} <= commands
    assert "_build/html/index.html" in readme
    ci_lines = [ln.strip() for ln in ci.splitlines()]
    assert "set -euo pipefail" in ci_lines
    assert "make test" in ci_lines and "make book" in ci_lines
    assert ci_lines.index("make test") < ci_lines.index("make book")


def test_makefile_guards_book_and_test_with_netguard():
    """`make -n` shows the network guard on PYTHONPATH for the build and tests."""
    for target, needle in [("book", "jupyter-book build"), ("test", "-m pytest")]:
        out = subprocess.run(
            ["make", "-n", "-s", target], cwd=ROOT, capture_output=True, text=True,
            check=True, env=unguarded_env(),
        ).stdout
        line = next(ln for ln in out.splitlines() if needle in ln)
        assert "tests/netguard" in line and "PYTHONPATH=" in line, line
