"""``python -m leokit classpack``: one data set per learner with its own seed and truth, and an answer key.

The pack is made through the command line (the one command the instructor page documents), small (50 pupils
per cohort, 2 cohorts), once per module. Every value compared with the key is read from the learners'
``truth.json`` files or the key itself, never typed here. The pack's truths come from a secret key
(``instructor/pack_key.txt``); ``test_the_learner_folder_does_not_determine_its_truth`` checks that nothing
handed to a learner records it or a seed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from leokit import __main__ as cli
from leokit.errors import GeneratorInputError, OutputFolderError
from leokit.synth import classpack as cp
from leokit.synth.truth import default_truth

pytestmark = pytest.mark.slow

SMALL = ["--scale", "50", "--cohorts", "2"]


def _run(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "leokit", "classpack", *args, "--no-progress"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def _files(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under ``root``."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("classpack") / "pack"
    _run("--out", str(out), "--learners", "2", *SMALL)
    return out


def _truth_json(pack: Path, learner: dict) -> dict:
    return json.loads((pack / learner["folder"] / "truth.json").read_text())


def test_the_command_writes_a_folder_per_learner_and_a_key(pack):
    key = cp.read_answer_key(pack)
    assert [e["learner"] for e in key["learners"]] == ["learner-01", "learner-02"]
    for e in key["learners"]:
        folder = pack / e["folder"]
        assert (folder / "truth.json").is_file()
        assert (folder / "leo_i2" / "leo_earnings.parquet").is_file()
        assert (pack / "instructor" / "truth_overrides" / f"{e['learner']}.json").is_file()
    assert (pack / "README.md").read_text().startswith("# Class pack: 2 synthetic")
    assert key["pack"]["learners"] == 2 and (pack / cp.KEY_FILE).read_text().strip() == key["pack"]["key"]


def test_two_learners_get_different_seeds_and_truths(pack):
    a, b = cp.read_answer_key(pack)["learners"]
    assert a["seed"] != b["seed"]
    ta, tb = _truth_json(pack, a), _truth_json(pack, b)
    differ = [k for k in cp.RANGES if ta[k]["value"] != tb[k]["value"]]
    assert len(differ) >= len(cp.RANGES) - 1, differ  # continuous draws: (almost) every planted effect differs


def test_the_key_matches_each_folders_truth_json(pack):
    key = cp.read_answer_key(pack)
    defaults = default_truth()
    for e in key["learners"]:
        t = _truth_json(pack, e)
        assert "seed" not in t["_meta"]  # the learner's seed is the instructor's
        assert t["_meta"]["scale"] == key["pack"]["scale"] and t["_meta"]["cohorts"] == key["pack"]["cohorts"]
        assert set(e["truth"]) == set(cp.RANGES)
        for k, v in e["truth"].items():
            assert t[k]["value"] == v, k
            lo, hi = cp.RANGES[k]
            assert lo <= v <= hi and round(v, cp.DECIMALS) == v
        for k, v in defaults.items():  # nothing else was changed
            if k not in cp.RANGES:
                assert t[k]["value"] == v, k
        for k in cp.REALISED_IN_KEY:
            assert e["realised"][k] == t["_realised"].get(k), k
        override = json.loads((pack / "instructor" / "truth_overrides" / f"{e['learner']}.json").read_text())
        assert override == e["truth"] == t["_meta"]["override"]


def test_the_csv_key_is_the_json_key(pack):
    key = {e["learner"]: e for e in cp.read_answer_key(pack)["learners"]}
    with (pack / "instructor" / "answer_key.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["learner"] for r in rows] == list(key)
    for r in rows:
        e = key[r["learner"]]
        assert int(r["seed"]) == e["seed"] and r["folder"] == e["folder"]
        for k in cp.RANGES:
            assert float(r[k]) == e["truth"][k]


def test_the_recorded_command_recreates_a_learners_folder(pack, tmp_path):
    e = cp.read_answer_key(pack)["learners"][1]
    cmd = e["command"].split()
    assert cmd[:4] == ["python", "-m", "leokit", "generate"]
    args = cmd[4:]
    args[args.index("--out") + 1] = str(tmp_path / "again")
    args[args.index("--truth") + 1] = str(pack / args[args.index("--truth") + 1])
    r = subprocess.run([sys.executable, "-m", "leokit", "generate", *args, "--no-progress"], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    again, mine = _files(tmp_path / "again"), _files(pack / e["folder"])
    # every data file is the same; truth.json differs only by the seed the pack removes, and so the manifest
    for f in ("truth.json", "leokit_manifest.json"):
        del again[f], mine[f]
    assert again == mine
    full = json.loads((tmp_path / "again" / "truth.json").read_text())
    assert full["_meta"].pop("seed") == e["seed"]
    full["_meta"]["seed_kept_by"] = _truth_json(pack, e)["_meta"]["seed_kept_by"]
    assert full == _truth_json(pack, e)


def test_the_pack_is_reproducible_from_its_key_file(pack, tmp_path):
    again = tmp_path / "pack"
    _run("--out", str(again), "--learners", "2", *SMALL, "--key-file", str(pack / cp.KEY_FILE))
    assert _files(again / "learners") == _files(pack / "learners")
    assert _files(again / "instructor" / "truth_overrides") == _files(pack / "instructor" / "truth_overrides")
    k1, k2 = cp.read_answer_key(pack), cp.read_answer_key(again)
    assert k1["learners"] == k2["learners"]
    assert k1["pack"]["command"].replace(str(pack), "OUT") == k2["pack"]["command"].replace(str(again), "OUT")
    assert (again / "instructor" / "answer_key.csv").read_bytes() == (pack / "instructor" / "answer_key.csv").read_bytes()


def test_another_key_gives_other_truths_and_a_learner_keeps_hers_when_the_class_grows():
    k1, k2 = cp.new_key(), cp.new_key()
    assert k1 != k2 and len(k1) == 64
    assert cp.draw_truths(k1, 3) != cp.draw_truths(k2, 3)
    assert cp.learner_seeds(k1, 3) != cp.learner_seeds(k2, 3)
    assert cp.draw_truths(k1, 5)[:3] == cp.draw_truths(k1, 3)
    assert cp.learner_seeds(k1, 5)[:3] == cp.learner_seeds(k1, 3)
    many = cp.draw_truths(k1, 200)
    assert len({json.dumps(t, sort_keys=True) for t in many}) == 200
    assert len(set(cp.learner_seeds(k1, 200))) == 200
    for k, (lo, hi) in cp.RANGES.items():  # the draws fill the documented range, not a corner of it
        values = [t[k] for t in many]
        assert lo <= min(values) < lo + 0.1 * (hi - lo) and hi - 0.1 * (hi - lo) < max(values) <= hi, k


def test_withheld_truths_go_to_the_instructor_folder(tmp_path):
    out = tmp_path / "pack"
    _run("--out", str(out), "--learners", "1", *SMALL, "--withhold-truth")
    e = cp.read_answer_key(out)["learners"][0]
    assert not (out / e["folder"] / "truth.json").exists()
    assert not (out / e["folder"] / "truth").exists()
    kept = out / "instructor" / "truths" / e["learner"]
    t = json.loads((kept / "truth.json").read_text())
    assert {k: t[k]["value"] for k in cp.RANGES} == e["truth"]
    assert (kept / "truth" / "truth_person.parquet").is_file()
    assert cp.read_answer_key(out)["pack"]["withhold_truth"] is True
    assert "withheld" in (out / "README.md").read_text()
    listed = json.loads((out / e["folder"] / "leokit_manifest.json").read_text())["files"]
    assert not [f for f in listed if f.startswith("truth")]  # the learner's manifest names no withheld file
    assert set(listed) == set(_files(out / e["folder"])) - {"leokit_manifest.json"}


def test_a_folder_that_is_not_a_pack_is_never_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="holds no class pack"):
        cp.write_classpack(tmp_path, 1, scale=50, cohorts=1, overwrite=True)
    with pytest.raises(OutputFolderError, match="not empty"):
        cp.write_classpack(tmp_path, 1, scale=50, cohorts=1)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(GeneratorInputError, match="at least 1"):
        cp.write_classpack(tmp_path / "new", 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_failed_pack_leaves_nothing_that_blocks_a_rerun(tmp_path, monkeypatch):
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("disk full (simulated)")
        return real(*args, **kwargs)

    real = cp.generate
    monkeypatch.setattr(cp, "generate", fail_on_second)
    out = tmp_path / "pack"
    with pytest.raises(RuntimeError, match="simulated"):
        cp.write_classpack(out, 2, scale=50, cohorts=1)
    assert list(tmp_path.iterdir()) == []  # no partial pack, no temporary folder
    monkeypatch.setattr(cp, "generate", real)
    key = cp.write_classpack(out, 1, scale=50, cohorts=1)
    assert [e["learner"] for e in key["learners"]] == ["learner-01"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_the_learner_folder_does_not_determine_its_truth(pack):
    """Nothing a learner receives records the key or a seed, and the public code cannot rebuild their truth
    without the key: not from the old default pack seed 2026, nor from any pack seed 0..9999 of the old scheme
    (truths drawn from numpy SeedSequence([seed, 1]).spawn), nor from a fresh key."""
    import numpy as np

    key = cp.read_answer_key(pack)
    secret = key["pack"]["key"]
    for e in key["learners"]:
        folder = pack / e["folder"]
        for rel in _files(folder):
            data = (folder / rel).read_bytes()
            assert secret.encode() not in data and bytes.fromhex(secret) not in data, rel
            if rel.endswith((".json", ".md", ".txt", ".csv")):
                assert str(e["seed"]).encode() not in data, rel  # the data seed is not written down either
        assert "seed" not in _truth_json(pack, e)["_meta"]
    readme = (pack / "README.md").read_text()
    assert secret not in readme and not any(str(e["seed"]) in readme for e in key["learners"])
    truths = [e["truth"] for e in key["learners"]]
    assert cp.draw_truths(secret, len(truths)) == truths  # the key does rebuild them
    assert all(t not in truths for t in cp.draw_truths(cp.new_key(), len(truths)))
    ranges = list(cp.RANGES.items())
    for seed in range(10_000):  # the old public scheme: every pack seed, learners 1 and 2
        for child in np.random.SeedSequence([seed, 1]).spawn(2):
            rng = np.random.default_rng(child)
            t = {k: round(float(rng.uniform(lo, hi)), cp.DECIMALS) for k, (lo, hi) in ranges}
            assert t not in truths, seed
    with pytest.raises(GeneratorInputError, match="64 hex digits"):
        cp.draw_truths(2026, 1)


def test_the_ranges_name_real_parameters_and_the_cli_lists_them(capsys):
    with pytest.raises(KeyError, match="not planted parameters"):
        cp.draw_truths(1, 1, ranges={"degree_return_femal": (0.1, 0.2)})
    with pytest.raises(SystemExit):
        cli.main(["classpack", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for k, (lo, hi) in cp.RANGES.items():
        assert f"{k} {lo:g}-{hi:g}" in text
    assert "(default: 2500)" in text and "--seed" not in text and "--key-file" in text
