"""A notebook cell that raises makes the book build fail (and a good one passes).

Each test builds a throwaway book in tmp_path with the repository's own
_config.yml and the Makefile's jupyter-book flags, under the network guard,
exactly as `make book` does. Both outcomes are checked, so the check cannot
pass by always failing or always succeeding.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import leokit
import nbformat
import pytest

from _foundation import MYST_HEADER, ROOT, guarded_env, jupyter_book_cmd

pytestmark = [pytest.mark.book, pytest.mark.slow]

GOOD_CODE = """\
import leokit, leo_netguard
assert leo_netguard.is_installed(), "network guard not active in the build kernel"
print("leokit", leokit.__version__)
"""


def _make_book(tmp_path: Path, chapters: dict[str, str]) -> Path:
    """chapters: docname -> file content (.md text, or JSON for .ipynb docnames)."""
    book = tmp_path / "throwaway"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    # _config.yml loads the book's Sphinx glue from book/_ext and the bibliography
    # from book/references.bib; give the copy the same files.
    (book / "book" / "_ext").symlink_to(ROOT / "book" / "_ext")
    shutil.copy(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "book" / "intro.md").write_text("# Throwaway book\n\nBuilt by a test.\n")
    toc = ["format: jb-book", "root: book/intro", "chapters:"]
    for name, content in chapters.items():
        path = book / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        toc.append(f"  - file: {Path(name).with_suffix('').as_posix()}")
    (book / "_toc.yml").write_text("\n".join(toc) + "\n")
    return book


def _ipynb(source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook"),
                nbformat.v4.new_code_cell(source)]
    return json.dumps(nb)


def _myst(source: str) -> str:
    return MYST_HEADER + "# A MyST notebook\n\n```{code-cell} ipython3\n" + source + "```\n"


def _build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*jupyter_book_cmd(), str(book)], cwd=book, env=guarded_env(),
        capture_output=True, text=True, timeout=600,
    )


def _log(res: subprocess.CompletedProcess, book: Path) -> str:
    reports = "".join(p.read_text() for p in (book / "_build" / "html" / "reports").glob("*.log"))
    return res.stdout + res.stderr + reports


def test_book_with_passing_notebooks_builds(tmp_path):
    book = _make_book(tmp_path, {
        "exemplars/good_nb.ipynb": _ipynb(GOOD_CODE),
        "book/good_myst.md": _myst(GOOD_CODE),
    })
    res = _build(book)
    assert res.returncode == 0, _log(res, book)
    html = {n: (book / "_build" / "html" / n).read_text()
            for n in ("exemplars/good_nb.html", "book/good_myst.html")}
    # both notebooks really executed, with leokit importable and the guard on
    for name, text in html.items():
        assert f"leokit {leokit.__version__}" in text, name


@pytest.mark.parametrize("kind", ["ipynb", "myst"])
def test_failing_cell_fails_the_build(tmp_path, kind):
    bad = "raise ValueError('deliberate failure in a throwaway book')\n"
    chapters = ({"exemplars/bad.ipynb": _ipynb(bad)} if kind == "ipynb"
                else {"book/bad.md": _myst(bad)})
    book = _make_book(tmp_path, chapters)
    res = _build(book)
    assert res.returncode != 0, "a raising cell did not fail the build"
    assert "deliberate failure in a throwaway book" in _log(res, book)


def test_network_access_in_a_cell_fails_the_build(tmp_path):
    # The cell first swaps the guard's real-connect reference for a stub, so
    # the test can never send traffic even if the guard were broken.
    code = (
        "import socket, leo_netguard\n"
        "assert leo_netguard.is_installed()\n"
        "def _stub(*a, **k):\n"
        "    raise SystemExit('REAL-CONNECT-' + 'REACHED')\n"
        "leo_netguard._real_connect = _stub\n"
        "socket.socket(socket.AF_INET).connect(('192.0.2.1', 9))\n"
    )
    book = _make_book(tmp_path, {"book/net.md": _myst(code)})
    res = _build(book)
    assert res.returncode != 0
    log = _log(res, book)
    assert "NetworkAccessBlocked" in log and "REAL-CONNECT-REACHED" not in log
