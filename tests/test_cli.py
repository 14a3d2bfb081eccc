"""``python -m leokit``: every subcommand's --help shows the defaults that run."""

from __future__ import annotations

import argparse
import json
import inspect
import re
import subprocess
import sys

import pytest

from leokit import __main__ as cli
from leokit.synth.generate import generate


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(formatter_class=cli.HelpFormatter)
    sub = parser.add_subparsers(dest="command")
    add, _run, help_ = cli.COMMANDS[name]
    p = sub.add_parser(name, help=help_, formatter_class=cli.HelpFormatter)
    add(p)
    return p


def _help(name: str, capsys) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--help"])
    assert e.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping


def test_generate_help_shows_every_default(capsys):
    text = _help("generate", capsys)
    p = _subparser("generate")
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        opt = action.option_strings[0]
        assert opt in text
        entry = text.split(opt, 2)[-1]  # the option's line in the options list
        if action.required:
            assert "default" not in entry.split("--")[0]
        else:
            assert re.search(r"\(default: [^)]+\)", entry.split(" --")[0]), (opt, entry[:120])
        if action.default not in (None, False):
            assert f"(default: {action.default})" in text, opt


def test_generate_defaults_are_the_generators_own():
    sig = inspect.signature(generate).parameters
    p = _subparser("generate")
    defaults = {a.dest: a.default for a in p._actions}
    for name in ("seed", "scale", "cohorts", "truth"):
        assert defaults[name] == sig[name].default, name
    assert defaults["no_progress"] is (not sig["progress"].default)


def test_help_from_the_command_line():
    r = subprocess.run([sys.executable, "-m", "leokit", "generate", "--help"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    sig = inspect.signature(generate).parameters
    for name in ("seed", "scale", "cohorts"):
        assert f"(default: {sig[name].default})" in out


# ---------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit code 2, nothing written (generate and classpack)
# ---------------------------------------------------------------------------------------------
def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leokit", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def _one_line_error(r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("python -m leokit "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


BAD_TRUTH = [  # (override, words the one-line error must contain)
    ({"firm_effect_sd": -0.1}, ["firm_effect_sd", "[0, 0.5]"]),
    ({"worker_firm_sorting": 5}, ["worker_firm_sorting", "[-0.95, 0.95]"]),
    ({"school_peer_effect": True}, ["school_peer_effect", "True"]),
    ({"school_peer_effect": "0.2"}, ["school_peer_effect", "'0.2'"]),
    ({"contextual_offer_high_tariff_entry_effect": 0.9}, ["contextual_offer_high_tariff_entry_effect", "0.25"]),
    ({"contextual_offer_grade_reduction": 2.5}, ["contextual_offer_grade_reduction", "whole number"]),
    ({"contextual_offer_adoption_cycles": [2015, 2012]}, ["contextual_offer_adoption_cycles", "increasing"]),
    ({"degree_return_femal": 0.3}, ["degree_return_femal", "did you mean 'degree_return_female'"]),
]


@pytest.mark.parametrize("override,words", BAD_TRUTH, ids=[next(iter(o)) for o, _ in BAD_TRUTH])
def test_truth_values_out_of_range_are_refused_before_anything_is_written(tmp_path, override, words):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(override))
    out = tmp_path / "out"
    _one_line_error(_cli("generate", "--out", str(out), "--truth", str(p), "--no-progress"), *words)
    assert not out.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_truth_file_are_refused(tmp_path, literal):
    p = tmp_path / "t.json"
    p.write_text('{"school_peer_effect": %s}' % literal)
    out = tmp_path / "out"
    _one_line_error(_cli("generate", "--out", str(out), "--truth", str(p), "--no-progress"), literal)
    assert not out.exists()


def test_every_truth_key_has_a_documented_range_its_default_lies_in():
    from leokit.synth import truth as T
    assert set(T.RANGES) == set(T.DEFAULTS)
    for k, (v, _) in T.DEFAULTS.items():
        assert T.check_value(k, v) == v, k
    with pytest.raises(T.GeneratorInputError, match="school_peer_effect.*nan"):
        T.merge_truth({"school_peer_effect": float("nan")})


@pytest.mark.parametrize("args,words", [
    (["--scale", "1000000000"], ["scale", "1,000,000"]),
    (["--scale", "10"], ["scale", "50"]),
    (["--cohorts", "0"], ["cohorts"]),
    (["--seed", "-1"], ["seed"]),
], ids=["scale-huge", "scale-small", "cohorts", "seed"])
def test_scale_cohorts_and_seed_are_bounded(tmp_path, args, words):
    out = tmp_path / "out"
    _one_line_error(_cli("generate", "--out", str(out), *args, "--no-progress"), *words)
    assert not out.exists()


def test_an_empty_out_is_refused(tmp_path):
    _one_line_error(_cli("generate", "--out", "", "--no-progress", cwd=tmp_path), "empty path")
    _one_line_error(_cli("classpack", "--out", "", "--learners", "1", "--no-progress", cwd=tmp_path), "empty path")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_generator_output_is_left_alone(tmp_path):
    out = tmp_path / "mine"
    (out / "npd_i2").mkdir(parents=True)
    (out / "npd_i2" / "my_table.parquet").write_bytes(b"mine")
    for extra in ([], ["--overwrite"]):
        _one_line_error(_cli("generate", "--out", str(out), "--scale", "50", "--cohorts", "1", "--no-progress", *extra),
                        "not an output of the generator")
    assert [p.relative_to(out).as_posix() for p in out.rglob("*")] == ["npd_i2", "npd_i2/my_table.parquet"]


def test_overwrite_replaces_only_what_the_generator_wrote(tmp_path):
    from leokit.synth.manifest import MANIFEST
    out = tmp_path / "data"
    r = _cli("generate", "--out", str(out), "--scale", "50", "--cohorts", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    first = set(json.loads((out / MANIFEST).read_text())["files"])
    assert "npd_i2/spring_census_2006.parquet" in first
    (out / "notes.txt").write_text("mine")
    (out / "npd_i2" / "my_table.parquet").write_bytes(b"mine")
    _one_line_error(_cli("generate", "--out", str(out), "--scale", "50", "--cohorts", "1", "--no-progress"),
                    "--overwrite")
    r = _cli("generate", "--out", str(out), "--scale", "50", "--cohorts", "1", "--no-progress", "--overwrite")
    assert r.returncode == 0, r.stderr
    second = set(json.loads((out / MANIFEST).read_text())["files"])
    assert second < first  # one cohort writes fewer census years ...
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == second | {MANIFEST, "notes.txt", "npd_i2/my_table.parquet"}  # ... and no stale table stays
    assert (out / "notes.txt").read_text() == "mine" and (out / "npd_i2" / "my_table.parquet").read_bytes() == b"mine"


def test_classpack_bad_input_is_one_line(tmp_path):
    _one_line_error(_cli("classpack", "--out", str(tmp_path / "p"), "--learners", "0", "--no-progress"),
                    "learners", "at least 1")
    _one_line_error(_cli("classpack", "--out", str(tmp_path / "p"), "--learners", "1", "--scale", "1000000000",
                         "--no-progress"), "scale")
    bad = tmp_path / "key.txt"
    bad.write_text("2026\n")
    _one_line_error(_cli("classpack", "--out", str(tmp_path / "p"), "--learners", "1", "--key-file", str(bad),
                         "--no-progress"), "64 hex digits")
    _one_line_error(_cli("classpack", "--out", str(tmp_path / "p"), "--learners", "1", "--key-file",
                         str(tmp_path / "missing.txt"), "--no-progress"), "cannot be read")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.txt"]
