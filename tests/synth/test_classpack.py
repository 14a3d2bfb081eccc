"""``python -m leokit classpack``: one data set per learner with its own seed and truth, and an answer key.

The pack is made through the command line (the one command the instructor page documents), small (50 pupils
per cohort, 2 cohorts), once per module. Every value compared with the key is read from the learners'
``truth.json`` files or the key itself, never typed here.
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
    _run("--out", str(out), "--learners", "2", "--seed", "11", *SMALL)
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
    assert key["pack"]["seed"] == 11 and key["pack"]["learners"] == 2


def test_two_learners_get_different_seeds_and_truths(pack):
    a, b = cp.read_answer_key(pack)["learners"]
    assert a["seed"] != b["seed"]
    ta, tb = _truth_json(pack, a), _truth_json(pack, b)
    assert ta["_meta"]["seed"] != tb["_meta"]["seed"]
    differ = [k for k in cp.RANGES if ta[k]["value"] != tb[k]["value"]]
    assert len(differ) >= len(cp.RANGES) - 1, differ  # continuous draws: (almost) every planted effect differs


def test_the_key_matches_each_folders_truth_json(pack):
    key = cp.read_answer_key(pack)
    defaults = default_truth()
    for e in key["learners"]:
        t = _truth_json(pack, e)
        assert t["_meta"]["seed"] == e["seed"]
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
    assert _files(tmp_path / "again") == _files(pack / e["folder"])


def test_the_pack_is_reproducible_from_its_seed(pack, tmp_path):
    again = tmp_path / "pack"
    _run("--out", str(again), "--learners", "2", "--seed", "11", *SMALL)
    assert _files(again / "learners") == _files(pack / "learners")
    assert _files(again / "instructor" / "truth_overrides") == _files(pack / "instructor" / "truth_overrides")
    k1, k2 = cp.read_answer_key(pack), cp.read_answer_key(again)
    assert k1["learners"] == k2["learners"]
    assert k1["pack"]["command"].replace(str(pack), "OUT") == k2["pack"]["command"].replace(str(again), "OUT")
    assert (again / "instructor" / "answer_key.csv").read_bytes() == (pack / "instructor" / "answer_key.csv").read_bytes()


def test_another_pack_seed_gives_other_truths_and_a_learner_keeps_hers_when_the_class_grows():
    assert cp.draw_truths(11, 3) != cp.draw_truths(12, 3)
    assert cp.learner_seeds(11, 3) != cp.learner_seeds(12, 3)
    assert cp.draw_truths(11, 5)[:3] == cp.draw_truths(11, 3)
    assert cp.learner_seeds(11, 5)[:3] == cp.learner_seeds(11, 3)
    many = cp.draw_truths(3, 200)
    assert len({json.dumps(t, sort_keys=True) for t in many}) == 200
    assert len(set(cp.learner_seeds(3, 200))) == 200
    for k, (lo, hi) in cp.RANGES.items():  # the draws fill the documented range, not a corner of it
        values = [t[k] for t in many]
        assert lo <= min(values) < lo + 0.1 * (hi - lo) and hi - 0.1 * (hi - lo) < max(values) <= hi, k


def test_withheld_truths_go_to_the_instructor_folder(tmp_path):
    out = tmp_path / "pack"
    _run("--out", str(out), "--learners", "1", "--seed", "4", *SMALL, "--withhold-truth")
    e = cp.read_answer_key(out)["learners"][0]
    assert not (out / e["folder"] / "truth.json").exists()
    assert not (out / e["folder"] / "truth").exists()
    kept = out / "instructor" / "truths" / e["learner"]
    t = json.loads((kept / "truth.json").read_text())
    assert {k: t[k]["value"] for k in cp.RANGES} == e["truth"]
    assert (kept / "truth" / "truth_person.parquet").is_file()
    assert cp.read_answer_key(out)["pack"]["withhold_truth"] is True
    assert "withheld" in (out / "README.md").read_text()


def test_a_folder_that_is_not_a_pack_is_never_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds no class pack"):
        cp.write_classpack(tmp_path, 1, scale=50, cohorts=1, overwrite=True)
    with pytest.raises(FileExistsError, match="not empty"):
        cp.write_classpack(tmp_path, 1, scale=50, cohorts=1)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="at least 1"):
        cp.write_classpack(tmp_path / "new", 0)


def test_the_ranges_name_real_parameters_and_the_cli_lists_them(capsys):
    with pytest.raises(KeyError, match="not planted parameters"):
        cp.draw_truths(1, 1, ranges={"degree_return_femal": (0.1, 0.2)})
    with pytest.raises(SystemExit):
        cli.main(["classpack", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for k, (lo, hi) in cp.RANGES.items():
        assert f"{k} {lo:g}-{hi:g}" in text
    assert "(default: 2026)" in text and "(default: 2500)" in text
