"""The import drawing of leokit: layers that follow the data flow, no cycle (import-linter).

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``); ``make test`` runs this file, so an
import that points up a layer - or closes a cycle inside a package - fails CI. import-linter reads every
import, including those inside functions, so a "lazy" import is an arrow like any other.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True)


def test_import_contracts_are_kept():
    import tomllib

    n = len(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"])
    r = _lint_imports("--no-cache")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert f"{n} kept, 0 broken" in r.stdout, r.stdout[-2000:]


def test_contract_is_exhaustive_and_names_every_layer():
    """Every top-level module of leokit is placed in the drawing (a new one must be placed to pass)."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in cfg["contracts"] if c["id"] == "layers")
    assert layers["exhaustive"] is True and layers["containers"] == ["leokit"]
    placed = {m.strip() for layer in layers["layers"] for m in layer.split("|")}
    pkg = ROOT / "shared_code" / "leokit"
    modules = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in pkg.glob("*/__init__.py")}
    assert modules == placed
    sdc_layers = next(c for c in cfg["contracts"] if c["id"] == "sdc-layers")
    placed_sdc = {m.strip() for layer in sdc_layers["layers"] for m in layer.split("|")}
    assert placed_sdc == {p.stem for p in (pkg / "sdc").glob("*.py") if p.stem != "__init__"}


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The check can fail: two real layers swapped (link imports read, so read above link) is a broken contract."""
    cfg = textwrap.dedent("""
        [importlinter]
        root_package = leokit

        [importlinter:contract:swapped]
        name = swapped
        type = layers
        containers = leokit
        layers =
            read
            linkage
    """)
    (tmp_path / ".importlinter").write_text(cfg, encoding="utf-8")
    r = _lint_imports(str(tmp_path / ".importlinter"), "--no-cache", cwd=tmp_path)
    assert r.returncode != 0, r.stdout[-2000:]
    assert "swapped BROKEN" in r.stdout and "leokit.linkage -> leokit.read" in r.stdout, r.stdout[-3000:]


@pytest.mark.parametrize("module", ["leokit.load", "leokit.linkage", "leokit.context", "leokit.db", "leokit.sdc",
                                    "leokit.derive", "leokit.analyse"])
def test_nothing_below_the_generator_imports_it(module):
    """Loading, linking, deriving and disclosure control run on the real SRS tables without the generator."""
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('leokit.synth')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
