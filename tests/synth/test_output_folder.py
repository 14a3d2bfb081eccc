"""Where ``generate`` may write: a new or empty folder, or its own previous output (its manifest) with
``overwrite``; a run that stops half way leaves a folder a rerun recognises and cleans."""

from __future__ import annotations

import importlib
import json

import pytest

from leokit.errors import OutputFolderError
from leokit.synth.manifest import MANIFEST

G = importlib.import_module("leokit.synth.generate")  # the module (leokit.synth.generate is also the function)

SMALL = dict(seed=3, scale=50, cohorts=1, progress=False)


def test_a_run_that_stops_half_way_is_cleaned_by_a_rerun(tmp_path, monkeypatch):
    out = tmp_path / "data"

    def boom(*args, **kwargs):
        raise RuntimeError("stopped (simulated)")

    monkeypatch.setattr(G, "simulate_labour", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        G.generate(out, **SMALL)
    man = json.loads((out / MANIFEST).read_text())
    assert man["complete"] is False and not (out / "truth.json").exists()
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.parquet")}
    assert written and written <= set(man["files"])  # every file on disk is listed, so a rerun can remove it
    monkeypatch.undo()
    with pytest.raises(OutputFolderError, match="overwrite"):
        G.generate(out, **SMALL)
    G.generate(out, **SMALL, overwrite=True)
    man = json.loads((out / MANIFEST).read_text())
    assert man["complete"] is True
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == set(man["files"]) | {MANIFEST}


def test_an_output_without_a_manifest_is_recognised_by_its_truth_json(tmp_path):
    out = tmp_path / "old"
    G.generate(out, **SMALL)
    (out / MANIFEST).unlink()  # as written by generator versions before the manifest
    (out / "notes.txt").write_text("mine")
    G.generate(out, **SMALL, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / MANIFEST).is_file()


def test_bad_inputs_write_nothing(tmp_path):
    out = tmp_path / "x"
    with pytest.raises(ValueError, match="firm_effect_sd"):
        G.generate(out, **SMALL, truth={"firm_effect_sd": 2.0})
    with pytest.raises(OutputFolderError, match="empty path"):
        G.generate("", **SMALL)
    (tmp_path / "afile").write_text("")
    with pytest.raises(OutputFolderError, match="is a file"):
        G.generate(tmp_path / "afile", **SMALL)
    assert not out.exists()
