"""Which files in a folder the generator wrote: the manifest, and the rule for writing into a folder.

:func:`leokit.synth.generate` writes ``MANIFEST`` (``leokit_manifest.json``) into its output folder,
listing every file it wrote (path relative to the folder, size and SHA-256) and the generator version; no seed
and nothing else about how the data were drawn. The rule for an output folder (:func:`check_output`):

* a new or empty folder is written into;
* a folder holding a manifest is a previous output of the generator: with ``overwrite`` the files the manifest
  lists are replaced (those the new run does not write are removed), every other file in the folder (a README,
  the user's notes or tables) is left alone; without ``overwrite`` it is refused;
* a folder with a ``truth.json`` whose ``_meta`` names a generator version but no manifest (written before
  manifests existed) counts as a previous output whose files are the generator's own paths found in it;
* any other non-empty folder, an empty path (``--out ""``) or a path that is a file is refused with
  :class:`~leokit.errors.OutputFolderError`, before anything is written or deleted.

While a run is under way the manifest is marked ``"complete": false`` and lists the previous files and every
file written so far, so a run that stops half way leaves a folder that a rerun with ``overwrite`` recognises
and cleans.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from leokit.errors import OutputFolderError
from leokit.synth.params import GENERATOR_VERSION

__all__ = ["MANIFEST", "check_output", "write_manifest", "read_manifest", "file_sha256"]

#: File name of the manifest in a generator output folder.
MANIFEST = "leokit_manifest.json"
#: Databases (sub-folders) the generator writes; a legacy output's files are the Parquet files in these.
GENERATOR_FOLDERS = ("npd_i2", "hesa_i2", "lilr_i2", "ucas_i2", "leo_i2", "public", "truth")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(out: str | Path) -> dict | None:
    """The manifest of ``out`` as a dict, or None if there is none (or it cannot be read)."""
    p = Path(out) / MANIFEST
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("files"), (dict, list)) else None


def _legacy_files(out: Path) -> list[str] | None:
    tj = out / "truth.json"
    try:
        meta = json.loads(tj.read_text()).get("_meta", {})
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(meta, dict) or "generator_version" not in meta:
        return None
    files = ["truth.json"]
    for db in GENERATOR_FOLDERS:
        files += sorted(p.relative_to(out).as_posix() for p in (out / db).glob("*.parquet"))
    return files


def check_output(out: str | Path, overwrite: bool, what: str = "generate") -> list[str]:
    """Check that ``out`` may be written into (rule in the module docstring) and return the relative paths of
    the previous output's files there (empty for a new or empty folder). Writes and deletes nothing; raises
    :class:`~leokit.errors.OutputFolderError` with one line saying why and what to do."""
    if str(out).strip() == "":
        raise OutputFolderError(f"{what}: the output folder is an empty path; name a folder (e.g. --out my_data)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{what}: {out} is a file, not a folder")
    if not out.exists() or not any(out.iterdir()):
        return []
    man = read_manifest(out)
    if man is not None:
        files = sorted(man["files"]) if isinstance(man["files"], dict) else sorted(map(str, man["files"]))
        source = f"its {MANIFEST} lists {len(files)} files"
    else:
        legacy = _legacy_files(out)
        if legacy is None:
            raise OutputFolderError(
                f"{what}: {out} is not empty and is not an output of the generator (no {MANIFEST}); choose a new "
                f"or empty folder (nothing was written or deleted)")
        files = legacy
        source = f"its truth.json names a generator version ({len(files)} generator files)"
    if not overwrite:
        raise OutputFolderError(f"{what}: {out} holds a previous output of the generator ({source}); pass "
                                f"--overwrite (overwrite=True) to replace those files, or choose a new folder")
    for f in files:  # a manifest that points outside its folder is not trusted
        if Path(f).is_absolute() or ".." in Path(f).parts:
            raise OutputFolderError(f"{what}: {out}/{MANIFEST} lists {f!r}, a path outside the folder; "
                                    f"refusing to delete it")
    return files


def write_manifest(out: str | Path, files: Iterable[str], complete: bool) -> Path:
    """Write ``out/MANIFEST``: the relative ``files`` (with size and SHA-256 of those that exist when
    ``complete``), the generator version and whether the run finished."""
    out = Path(out)
    names = sorted(set(files) - {MANIFEST})
    if complete:
        listing: dict | list = {f: {"bytes": (out / f).stat().st_size, "sha256": file_sha256(out / f)} for f in names}
    else:
        listing = names
    doc = {"written_by": "python -m leokit generate (leokit.synth.generate)", "generator_version": GENERATOR_VERSION,
           "complete": bool(complete), "files": listing}
    p = out / MANIFEST
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(p)
    return p
