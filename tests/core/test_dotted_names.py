"""Every dotted name ``leokit.x.y`` that the docs and docstrings tell readers to use resolves.

Scans the book (``book/**/*.md``), ``README.md``, ``data_synthetic/README.md``, the source cells of the
exemplar notebooks and the docstrings and comments of ``shared_code/`` for ``leokit.<name>[.<name>...]`` and
imports each: the longest importable module prefix, then attributes. A name that does not resolve (e.g.
``leokit.link.resolve_edukeys`` while ``leokit.link`` was the join function shadowing its module) fails.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"(?<![\w./-])leokit(?:\.[A-Za-z_]\w*)+")


def _sources() -> dict[str, str]:
    out = {}
    for p in sorted((ROOT / "book").rglob("*.md")):
        out[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    for p in (ROOT / "README.md", ROOT / "data_synthetic" / "README.md"):
        out[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    for p in sorted((ROOT / "exemplars").glob("*.ipynb")):
        nb = json.loads(p.read_text(encoding="utf-8"))
        out[str(p.relative_to(ROOT))] = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
    for p in sorted((ROOT / "shared_code").rglob("*")):
        if p.suffix in (".py", ".sql", ".md") and "__pycache__" not in p.parts:
            out[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    return out


def _sql_objects() -> set[str]:
    """Names in DuckDB's ``leokit`` schema (views such as ``leokit.census_long``): SQL objects, not Python names."""
    import leokit.db as db
    return {v for k, v in vars(db).items() if k.isupper() and isinstance(v, str) and v.startswith("leokit.")}


def _names() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    sql = _sql_objects()
    for where, text in _sources().items():
        for m in NAME.finditer(text):
            if m.group(0) not in sql:
                found.setdefault(m.group(0), []).append(where)
    return found


def _resolves(name: str) -> bool:
    """``name`` as a reader's code reaches it: attribute access from ``import leokit``, importing a submodule only
    where the attribute is not already there (so a function that shadows its module, like the old
    ``leokit.link``, does not resolve ``leokit.link.resolve_edukeys``)."""
    parts = name.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=1):
        if not hasattr(obj, attr):
            if not isinstance(obj, type(importlib)):
                return False
            try:
                importlib.import_module(".".join(parts[:i + 1]))
            except ModuleNotFoundError:
                return False
            if not hasattr(obj, attr):
                return False
        obj = getattr(obj, attr)
    return True


NAMES = _names()


def test_the_scan_finds_the_names_the_docs_use():
    assert len(NAMES) > 50
    assert "leokit.linkage.resolve_edukeys" in NAMES and "leokit.derive.fsm_ever6" in NAMES


def test_every_dotted_name_in_the_docs_resolves():
    bad = {n: sorted(set(w))[:3] for n, w in NAMES.items() if not _resolves(n)}
    assert not bad, "dotted names that do not resolve (name: where):\n" + "\n".join(
        f"  {n}: {w}" for n, w in sorted(bad.items()))


@pytest.mark.parametrize("name", ["leokit.link.resolve_edukeys", "leokit.nothing", "leokit.derive.no_such_thing"])
def test_the_check_can_fail(name):
    assert not _resolves(name)
