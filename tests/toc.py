"""Read ``_toc.yml``: the single list of pages the book builds and the tests run.

The test suite derives the notebooks it executes from the table of contents,
so the list cannot drift from what the book actually contains:

* ``exemplars/**.ipynb`` listed in the toc  -> strict nbval (stored outputs
  must be reproduced), see ``test_foundation_notebooks.py``;
* ``.md`` files listed in the toc that carry a jupytext header (MyST
  notebooks) -> executed with jupytext + nbclient.

Plain functions, no pytest dependency; also usable as a script:
``python tests/toc.py`` prints every toc entry and the file it resolves to.
"""

from __future__ import annotations

import glob as _glob
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "_toc.yml"
# Order matters only for the (forbidden) case of two files with one docname.
SUFFIXES = (".ipynb", ".md", ".rst")


@dataclass(frozen=True)
class TocEntry:
    docname: str            # as written in _toc.yml, extension removed
    candidates: tuple       # existing files that match the docname

    @property
    def path(self) -> Path | None:
        """The single file for this entry, or None if missing/ambiguous."""
        return self.candidates[0] if len(self.candidates) == 1 else None


def _strip_suffix(name: str) -> str:
    for suf in SUFFIXES:
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def _walk(node, files: list[str], globs: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                files.append(value)
            elif key == "glob" and isinstance(value, str):
                globs.append(value)
            else:
                _walk(value, files, globs)
    elif isinstance(node, list):
        for item in node:
            _walk(item, files, globs)


def docnames(toc_path: Path = TOC) -> list[str]:
    """Every docname in the toc (root first), extensions removed, in order."""
    toc_path = Path(toc_path)
    data = yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {}
    files: list[str] = []
    globs: list[str] = []
    _walk(data, files, globs)
    base = toc_path.parent
    for pattern in globs:
        for match in sorted(_glob.glob(str(base / pattern))):
            p = Path(match)
            if p.suffix in SUFFIXES and p.is_file():
                files.append(p.relative_to(base).as_posix())
    seen: dict[str, None] = {}
    for f in files:
        seen.setdefault(_strip_suffix(f.strip("/")), None)
    return list(seen)


def entries(toc_path: Path = TOC) -> list[TocEntry]:
    """Resolve every docname to the existing file(s) it may refer to."""
    base = Path(toc_path).parent
    out = []
    for name in docnames(toc_path):
        cands = tuple(
            base / f"{name}{suf}" for suf in SUFFIXES if (base / f"{name}{suf}").is_file()
        )
        out.append(TocEntry(name, cands))
    return out


def files(toc_path: Path = TOC) -> list[Path]:
    """Files listed in the toc that resolve unambiguously."""
    return [e.path for e in entries(toc_path) if e.path is not None]


def front_matter(path: Path) -> dict:
    """YAML front matter of a Markdown file ({} if none or unparsable)."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end == -1:
        return {}
    try:
        meta = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def is_myst_notebook(path: Path) -> bool:
    """True for a MyST Markdown notebook (jupytext header with format_name myst)."""
    if Path(path).suffix != ".md":
        return False
    jt = front_matter(path).get("jupytext") or {}
    rep = jt.get("text_representation") or {} if isinstance(jt, dict) else {}
    return rep.get("format_name") == "myst"


def exemplar_notebooks(toc_path: Path = TOC) -> list[Path]:
    """.ipynb files under exemplars/ listed in the toc (strict nbval)."""
    base = Path(toc_path).parent
    return [
        p for p in files(toc_path)
        if p.suffix == ".ipynb" and p.relative_to(base).parts[0] == "exemplars"
    ]


def myst_notebooks(toc_path: Path = TOC) -> list[Path]:
    """MyST .md notebooks listed in the toc (executed with jupytext + nbclient)."""
    return [p for p in files(toc_path) if is_myst_notebook(p)]


def other_notebooks(toc_path: Path = TOC) -> list[Path]:
    """.ipynb files in the toc outside exemplars/ (executed, outputs not compared)."""
    ex = set(exemplar_notebooks(toc_path))
    return [p for p in files(toc_path) if p.suffix == ".ipynb" and p not in ex]


if __name__ == "__main__":  # pragma: no cover
    for e in entries():
        where = ", ".join(str(c.relative_to(ROOT)) for c in e.candidates) or "MISSING"
        print(f"{e.docname:50s} -> {where}")
