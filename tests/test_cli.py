"""``python -m leokit``: every subcommand's --help shows the defaults that run."""

from __future__ import annotations

import argparse
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
