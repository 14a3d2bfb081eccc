"""Same seed, same bytes, across machines: regenerating the committed ``data_synthetic/`` reproduces it.

The seed, scale and cohorts are read from the committed ``truth.json``; the file list and each file's SHA-256
from the committed ``leokit_manifest.json``. With the pyarrow version that wrote the committed files (the lock's)
every file must be byte-identical; with another pyarrow (the pandas-2.2 environment) the Parquet encoder may
differ, so there every table's decoded values (:func:`leokit.synth.writer.content_hash`) and truth.json's bytes
must be identical. About 10 s on 2 cores (generation 6 s), so not marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leokit.synth.generate import generate
from leokit.synth.manifest import MANIFEST, file_sha256
from leokit.synth.writer import RELEASED_DECIMALS, content_hash, quantise, to_arrow

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data_synthetic"


def _manifest(folder: Path) -> dict[str, dict]:
    doc = json.loads((folder / MANIFEST).read_text())
    assert doc["complete"] is True
    return doc["files"]


def test_the_committed_manifest_lists_the_committed_files():
    files = _manifest(DATA)
    on_disk = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file()} - {MANIFEST, "README.md"}
    assert set(files) == on_disk
    for rel, entry in files.items():
        assert file_sha256(DATA / rel) == entry["sha256"], rel


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    meta = json.loads((DATA / "truth.json").read_text())["_meta"]
    out = tmp_path_factory.mktemp("regen") / "data"
    generate(out, seed=meta["seed"], scale=meta["scale"], cohorts=meta["cohorts"], truth=meta["override"] or None,
             progress=False)
    return out


def test_regenerating_the_committed_data_gives_the_same_bytes(regenerated):
    committed, again = _manifest(DATA), _manifest(regenerated)
    assert set(again) == set(committed)
    assert (regenerated / "truth.json").read_bytes() == (DATA / "truth.json").read_bytes()
    writer = pq.ParquetFile(DATA / "public" / "imd2019_lsoa11.parquet").metadata.created_by
    same_pyarrow = writer.endswith(f"version {pa.__version__}")
    differ = []
    for rel in sorted(committed):
        if not rel.endswith(".parquet"):
            continue
        if same_pyarrow:
            if again[rel]["sha256"] != committed[rel]["sha256"]:
                differ.append(rel)
        elif content_hash(pq.read_table(regenerated / rel)) != content_hash(pq.read_table(DATA / rel)):
            differ.append(rel)
    assert not differ, (f"regenerated files differ from data_synthetic ({'bytes' if same_pyarrow else 'values'}; "
                        f"committed files written by {writer}): {differ}")


def test_floats_are_quantised_and_never_negative_zero():
    a = np.array([-0.0, -1e-9, 0.1 + 0.2, 1.23456789, np.nan, -2.5000004])
    q = quantise(a, RELEASED_DECIMALS)
    assert not np.signbit(q[:2]).any() and q[0] == 0.0 and q[1] == 0.0
    assert q[2] == 0.3 and q[3] == 1.234568 and np.isnan(q[4]) and q[5] == -2.5
    f32 = np.array([-0.0, 1.5], dtype=np.float32)
    assert quantise(f32, 9).dtype == np.float32 and not np.signbit(quantise(f32, 9)).any()
    from leokit import schema as S
    sch = S.get_schema("imd2019_lsoa11")
    cols = {c.name: ([-0.0, 0.1234567891] if c.kind == "float" else (["x", "y"] if c.kind == "str" else [1, 2]))
            for c in sch.columns}
    t = to_arrow(sch, cols)
    for c in sch.columns:
        if c.kind == "float":
            v = t[c.name].to_numpy()
            assert not np.signbit(v).any() and v[1] == round(0.1234567891, RELEASED_DECIMALS)


def test_changing_cohorts_changes_every_cohorts_people(tmp_path):
    """Documented in data_synthetic/README.md: the population of all cohorts is drawn at once, so the first
    cohort of a two-cohort run is not the one-cohort run's."""
    import pandas as pd

    first = {}
    for n in (1, 2):
        generate(tmp_path / f"c{n}", seed=5, scale=50, cohorts=n, progress=False)
        tp = pd.read_parquet(tmp_path / f"c{n}" / "truth" / "truth_person.parquet")
        first[n] = tp.loc[tp["cohort"] == tp["cohort"].min(), "ability"].to_numpy()
    m = min(len(first[1]), len(first[2]))
    assert not np.allclose(first[1][:m], first[2][:m])
    assert "`--cohorts` changes every cohort's people" in (DATA / "README.md").read_text()
