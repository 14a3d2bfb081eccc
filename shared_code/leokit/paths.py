"""Where the data live: the default data folder and the Parquet files in it.

Layout: one Parquet file per table, named after the table (the file *stem* is the table name),
optionally in a subfolder named after the SRS database::

    data_synthetic/npd_i2/KS4Pupil_2002_to_2014.parquet
    data_synthetic/leo_i2/leo_earnings.parquet
    data_synthetic/public/imd2019_lsoa11.parquet

Files are found anywhere under the data folder (any depth); hidden folders (``.ipynb_checkpoints``
...) and folders starting with ``_`` are skipped. A folder whose name ends in ``.parquet`` is read
as one (partitioned) table. If the same stem occurs twice, loading it is an error (ambiguous).

The default data folder is, in order:

1. the environment variable ``LEOKIT_DATA_DIR`` when set;
2. the committed ``data_synthetic/`` folder at the repository root, found relative to this file
   (``shared_code/leokit/`` -> ``../../data_synthetic``).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from leokit.errors import TableNotFoundError

__all__ = [
    "ENV_VAR",
    "package_dir",
    "repo_root",
    "default_data_dir",
    "resolve_data_dir",
    "table_files",
    "find_table_file",
    "database_of_path",
]

#: Environment variable that overrides the default data folder.
ENV_VAR = "LEOKIT_DATA_DIR"


def package_dir() -> Path:
    """The folder of the installed ``leokit`` package (``shared_code/leokit``)."""
    return Path(__file__).resolve().parent


def repo_root() -> Path:
    """The repository root (two levels above the package: ``shared_code/leokit`` -> root)."""
    return package_dir().parents[1]


def default_data_dir() -> Path:
    """``$LEOKIT_DATA_DIR`` if set (and non-empty), else ``<repo root>/data_synthetic``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return repo_root() / "data_synthetic"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir`` as a Path, or the default when None. Raises FileNotFoundError if missing."""
    p = default_data_dir() if data_dir is None else Path(data_dir).expanduser().resolve()
    if not p.is_dir():
        hint = f" (set {ENV_VAR} or pass data_dir=...)" if data_dir is None else ""
        raise FileNotFoundError(f"data folder {str(p)!r} does not exist{hint}")
    return p


def _skip(part: str) -> bool:
    return part.startswith(".") or part.startswith("_")


def _scan(root: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if _skip(d):
                continue
            if d.endswith(".parquet"):  # partitioned dataset: one table
                found.setdefault(d[: -len(".parquet")], []).append(here / d)
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if f.endswith(".parquet") and not _skip(f):
                found.setdefault(f[: -len(".parquet")], []).append(here / f)
    return found


def table_files(data_dir: str | os.PathLike | None = None) -> dict[str, list[Path]]:
    """Map table name (file stem) -> the Parquet paths with that stem (more than one = ambiguous)."""
    root = resolve_data_dir(data_dir)
    return dict(sorted(_scan(root).items()))


def find_table_file(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The one Parquet file (or partitioned folder) of table ``name`` under ``data_dir``.

    ``name`` may be schema-qualified as in SQL (``"leo_i2.leo_earnings"``): only files under the
    ``leo_i2/`` subfolder are then considered. Raises :class:`~leokit.errors.TableNotFoundError`
    when there is none (listing near matches) or when the stem is ambiguous (listing the candidates).
    """
    root = resolve_data_dir(data_dir)
    files = _scan(root)
    if "." in name:  # schema-qualified, as in SQL: "leo_i2.leo_earnings" -> only under leo_i2/
        db, _, stem = name.partition(".")
        cands = [p for p in files.get(stem, []) if p.relative_to(root).parts[0].lower() == db.lower()
                 and len(p.relative_to(root).parts) > 1]
        if len(cands) == 1:
            return cands[0]
        files = {stem: cands}
        name = stem
    paths = files.get(name)
    if not paths:
        near = difflib.get_close_matches(name, list(files), n=5, cutoff=0.6)
        near += [s for s in files if s.lower() == name.lower() and s not in near]
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise TableNotFoundError(
            name, f"table {name!r}: no file {name}.parquet under {str(root)!r} "
                  f"({len(files)} tables there){hint}")
    if len(paths) > 1:
        rel = [str(p.relative_to(root)) for p in paths]
        raise TableNotFoundError(
            name, f"table {name!r}: ambiguous, {len(paths)} files have this name under {str(root)!r}: {rel}; "
                  "remove one or point data_dir at a subfolder")
    return paths[0]


def database_of_path(path: Path, data_dir: str | os.PathLike | None = None) -> str | None:
    """The SRS database a file sits in: the name of its top-level subfolder under ``data_dir``
    (``npd_i2/KS4Pupil_2002_to_2014.parquet`` -> ``"npd_i2"``), or None for files at the top."""
    root = resolve_data_dir(data_dir)
    rel = Path(path).resolve().relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else None
