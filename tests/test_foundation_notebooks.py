"""Execute every notebook listed in _toc.yml, under the network guard.

The list comes from _toc.yml (tests/toc.py), so it cannot go stale:

* exemplars/**.ipynb -> strict nbval in a subprocess: every cell must run and
  reproduce its stored outputs, after the substitutions in
  tests/nbval_sanitize.cfg (random HTML ids, memory addresses, timings).
  Mark a cell whose output legitimately varies with `# NBVAL_IGNORE_OUTPUT`.
* MyST .md notebooks (and any .ipynb outside exemplars/) -> converted with
  jupytext and executed with nbclient; outputs are not compared because
  they are not stored.

The book build executes the same notebooks again; these tests give a
per-notebook failure report and run in `make test`.

To run one exemplar by hand:
    PYTHONPATH=tests/netguard .venv/bin/python -m pytest -p no:cacheprovider \\
        --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \\
        exemplars/NAME.ipynb
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import toc
from _foundation import ROOT, SANITIZE_CFG, guarded_env

CELL_TIMEOUT = 600  # seconds, same as execute.timeout in _config.yml


def _ids(paths):
    return [str(Path(p).relative_to(ROOT)) for p in paths]


def run_nbval(notebook: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Strict nbval on one notebook, in a subprocess, with the network guard."""
    cmd = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
        "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(SANITIZE_CFG),
        f"--nbval-cell-timeout={CELL_TIMEOUT}",
        str(notebook),
    ]
    return subprocess.run(cmd, cwd=cwd, env=guarded_env(), capture_output=True,
                          text=True, timeout=3600)


def execute_notebook(path: Path) -> nbformat.NotebookNode:
    """Run a MyST .md or .ipynb notebook top to bottom in its own folder."""
    nb = jupytext.read(path)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


EXEMPLARS = toc.exemplar_notebooks()
EXECUTE_ONLY = toc.myst_notebooks() + toc.other_notebooks()


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("notebook", EXEMPLARS, ids=_ids(EXEMPLARS))
def test_exemplar_reproduces_its_outputs(notebook):
    res = run_nbval(notebook)
    assert res.returncode == 0, res.stdout[-20000:] + res.stderr[-5000:]


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("notebook", EXECUTE_ONLY, ids=_ids(EXECUTE_ONLY))
def test_chapter_notebook_executes(notebook, guard_env_in_process):
    execute_notebook(notebook)


# --- the machinery above must be able to fail ---------------------------------

def _stored_notebook(path: Path, code: str, stored_text: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cell = nbformat.v4.new_code_cell(code)
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1,
                                           data={"text/plain": stored_text})]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
@pytest.mark.slow
def test_strict_nbval_catches_changed_output_and_sanitizes_addresses(tmp_path):
    same = _stored_notebook(tmp_path / "same.ipynb", "6 * 7", "42")
    changed = _stored_notebook(tmp_path / "changed.ipynb", "6 * 7", "41")
    # the memory address differs on every run; the sanitize file masks it
    addr = _stored_notebook(tmp_path / "addr.ipynb", "object()",
                            "<object at 0x7f0000000000>")
    for nb, ok in [(same, True), (changed, False), (addr, True)]:
        res = run_nbval(nb, cwd=tmp_path)
        assert (res.returncode == 0) is ok, (nb.name, res.stdout[-3000:])


@pytest.mark.notebook
@pytest.mark.slow
def test_myst_execution_fails_on_a_raising_cell(tmp_path, guard_env_in_process):
    header = ("---\njupytext:\n  text_representation:\n    extension: .md\n"
              "    format_name: myst\nkernelspec:\n  display_name: Python 3\n"
              "  language: python\n  name: python3\n---\n")
    good = tmp_path / "good.md"
    good.write_text(header + "```{code-cell} ipython3\nimport leokit\nx = 1\n```\n")
    bad = tmp_path / "bad.md"
    bad.write_text(header + "```{code-cell} ipython3\n1 / 0\n```\n")
    assert toc.is_myst_notebook(good) and toc.is_myst_notebook(bad)
    execute_notebook(good)
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        execute_notebook(bad)
