"""_toc.yml is the single list of pages: complete, resolvable, no orphans."""

from __future__ import annotations

from pathlib import Path

import pytest

import toc
from _foundation import MYST_HEADER, ROOT


def _book_md() -> set[Path]:
    skip = {"_vendor", "_generated", "_build", ".ipynb_checkpoints"}
    return {p for p in (ROOT / "book").rglob("*.md") if not skip & set(p.parts)}


def _exemplar_ipynb() -> set[Path]:
    return {p for p in (ROOT / "exemplars").rglob("*.ipynb")
            if ".ipynb_checkpoints" not in p.parts}


def test_toc_has_a_root_page():
    names = toc.docnames()
    assert names, "_toc.yml lists nothing"
    assert names[0] in ("book/intro", "book/index")


def test_every_toc_entry_resolves_to_exactly_one_file():
    problems = []
    for e in toc.entries():
        if not e.candidates:
            problems.append(f"{e.docname}: no .ipynb/.md file")
        elif len(e.candidates) > 1:
            problems.append(f"{e.docname}: several files {[c.name for c in e.candidates]}")
    assert not problems, problems


def test_no_orphan_notebooks_or_chapters():
    """Every book/**.md and exemplars/**.ipynb is in _toc.yml (so it is built and tested)."""
    listed = set(toc.files())
    orphans = sorted(str(p.relative_to(ROOT)) for p in (_book_md() | _exemplar_ipynb()) - listed)
    assert not orphans, f"add these to _toc.yml (or delete them): {orphans}"


def test_md_pages_with_code_cells_have_jupytext_header():
    """Without the jupytext header a MyST page's code cells are silently not run."""
    missing = [
        str(p.relative_to(ROOT)) for p in toc.files()
        if p.suffix == ".md" and "```{code-cell}" in p.read_text(encoding="utf-8")
        and not toc.is_myst_notebook(p)
    ]
    assert not missing, missing


def test_exemplar_notebooks_store_outputs():
    """Strict nbval compares stored outputs, so exemplars are committed executed."""
    import nbformat

    unexecuted = []
    for p in toc.exemplar_notebooks():
        nb = nbformat.read(p, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        if any(c.get("execution_count") is None for c in code):
            unexecuted.append(str(p.relative_to(ROOT)))
    assert not unexecuted, f"run and save these notebooks with outputs: {unexecuted}"


# --- the toc reader itself (so the checks above cannot pass vacuously) -------


@pytest.fixture
def fake_book(tmp_path: Path) -> Path:
    (tmp_path / "book" / "part").mkdir(parents=True)
    (tmp_path / "exemplars").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "nbmd.md").write_text(MYST_HEADER + "# NB\n")
    (tmp_path / "book" / "part" / "a.md").write_text("# A\n")
    (tmp_path / "book" / "part" / "b.md").write_text("# B\n")
    (tmp_path / "exemplars" / "ex1.ipynb").write_text("{}")
    (tmp_path / "dup.md").write_text("x")
    (tmp_path / "dup.ipynb").write_text("{}")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: One\n    chapters:\n"
        "      - file: book/nbmd.md\n"
        "      - file: exemplars/ex1\n        sections:\n          - glob: book/part/*\n"
        "  - caption: Two\n    chapters:\n      - file: missing/page\n      - file: dup\n"
        "      - url: https://example.org\n        title: external\n"
    )
    return tmp_path / "_toc.yml"


def test_toc_reader_walks_parts_sections_and_globs(fake_book):
    assert toc.docnames(fake_book) == [
        "book/intro", "book/nbmd", "exemplars/ex1", "missing/page", "dup",
        "book/part/a", "book/part/b",
    ]
    by_name = {e.docname: e for e in toc.entries(fake_book)}
    assert by_name["missing/page"].path is None and not by_name["missing/page"].candidates
    assert by_name["dup"].path is None and len(by_name["dup"].candidates) == 2
    base = fake_book.parent
    assert toc.exemplar_notebooks(fake_book) == [base / "exemplars" / "ex1.ipynb"]
    assert toc.myst_notebooks(fake_book) == [base / "book" / "nbmd.md"]
    assert toc.other_notebooks(fake_book) == []


def test_toc_reader_handles_a_root_only_toc(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "intro.md").write_text("# hi\n")
    assert toc.docnames(tmp_path / "_toc.yml") == ["intro"]
    assert toc.exemplar_notebooks(tmp_path / "_toc.yml") == []
    assert toc.myst_notebooks(tmp_path / "_toc.yml") == []
