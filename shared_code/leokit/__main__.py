"""Command line: ``python -m leokit <subcommand> ...``.

Subcommands are registered in ``COMMANDS`` (name -> (add_arguments, run)); add one by writing the
two functions and registering them. ``generate`` writes the synthetic data;
``classpack`` writes one data set per learner (different seeds and truths, drawn from a secret key) and the
instructor's answer key;
``synth-readme`` regenerates the generated sections of ``data_synthetic/README.md``.

A user error (an input out of range, a folder that may not be written, a file that cannot be read) is reported
as one line on stderr, ``python -m leokit COMMAND: error: ...``, with exit code 2 (as argparse reports a bad
option), never a traceback: :data:`USER_ERRORS`.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Callable

from leokit.derive import cli as codebook_cli
from leokit.synth.cache import up_to_date
from leokit.synth.calibration import update_readme
from leokit.synth.classpack import RANGES, write_classpack
from leokit.errors import (DataFolderError, DerivationError, GeneratorInputError, OutputFolderError, SchemaError,
                           UnknownTableError)
from leokit.synth.generate import MAX_SCALE, MIN_SCALE, generate

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}


def register(name: str, help: str):
    """Decorator pair: ``@register(name, help)`` on a class-free (add_args, run) tuple factory."""
    def deco(fn):
        add, run = fn()
        COMMANDS[name] = (add, run, help)
        return fn
    return deco


@register("generate", "write the synthetic LEO/NPD data (Parquet + truth.json)")
def _generate_cmd():
    def add(p: argparse.ArgumentParser) -> None:
        # the defaults are generate()'s own, so the help cannot drift from what runs
        d = {k: v.default for k, v in inspect.signature(generate).parameters.items()}
        p.add_argument("--out", required=True,
                       help="output folder: new or empty, or a previous output of the generator (see the overwrite switch)")
        p.add_argument("--seed", type=int, default=d["seed"], help="random seed: the same seed gives the same bytes")
        p.add_argument("--scale", type=int, default=d["scale"],
                       help=f"pupils per KS4 cohort ({MIN_SCALE:,} to {MAX_SCALE:,})")
        p.add_argument("--cohorts", type=int, default=d["cohorts"],
                       help="consecutive KS4 cohorts from 2005 (changing it changes every cohort's people)")
        p.add_argument("--truth", default=d["truth"],
                       help="JSON file overriding planted truth parameters (default: none, the built-in truth)")
        p.add_argument("--no-progress", action="store_true", help="do not show progress bars (default: shown)")
        p.add_argument("--readme", default=None,
                       help="also regenerate the generated sections of this README, e.g. data_synthetic/README.md "
                            "(default: none)")
        p.add_argument("--overwrite", action="store_true",
                       help="replace the files a previous run wrote into OUT (listed in its leokit_manifest.json); "
                            "other files there are left alone (default: refuse a non-empty folder)")
        p.add_argument("--reuse", action="store_true",
                       help="do nothing if OUT/truth.json shows data from this generator version with the same "
                            "seed, scale, cohorts and truth; used by 'make exemplar-data' (default: always generate)")

    def run(a: argparse.Namespace) -> int:
        if a.reuse:
            ok, why = up_to_date(a.out, seed=a.seed, scale=a.scale, cohorts=a.cohorts, truth=a.truth)
            if ok:
                print(f"{why}: not regenerated")
                return 0
            print(f"generating: {why}")
        res = generate(a.out, seed=a.seed, scale=a.scale, cohorts=a.cohorts, truth=a.truth, progress=not a.no_progress,
                       overwrite=a.overwrite)
        if a.readme:
            update_readme(a.out, a.readme)
        n = sum(res["tables"].values())
        print(f"wrote {len(res['tables'])} tables ({n:,} rows) to {res['out']} in {res['seconds']:.1f} s")
        return 0
    return add, run


@register("classpack", "write one synthetic data set per learner (different seeds and planted truths) and an "
                      "answer key the instructor keeps")
def _classpack_cmd():
    def add(p: argparse.ArgumentParser) -> None:
        d = {k: v.default for k, v in inspect.signature(write_classpack).parameters.items()}
        p.add_argument("--out", required=True, help="folder of the pack (created; must be empty unless --overwrite)")
        p.add_argument("--learners", type=int, required=True, help="number of learners (one data set each)")
        p.add_argument("--key-file", default=None,
                       help="re-create a pack: read the secret pack key from this file (an earlier pack's "
                            "instructor/pack_key.txt) instead of drawing a new one (default: a new random key)")
        p.add_argument("--scale", type=int, default=d["scale"], help="pupils per KS4 cohort in each data set")
        p.add_argument("--cohorts", type=int, default=d["cohorts"], help="consecutive KS4 cohorts from 2005")
        p.add_argument("--withhold-truth", action="store_true",
                       help="move each learner's truth.json and truth/ tables into instructor/truths/ "
                            "(default: left in the learner's folder)")
        p.add_argument("--overwrite", action="store_true",
                       help="replace an existing class pack in --out (default: refuse a non-empty folder)")
        p.add_argument("--no-progress", action="store_true", help="do not print a line per learner (default: printed)")
        p.epilog = "drawn for each learner (uniform): " + "; ".join(f"{k} {lo:g}-{hi:g}" for k, (lo, hi) in RANGES.items())

    def run(a: argparse.Namespace) -> int:
        key = write_classpack(a.out, a.learners, key_file=a.key_file, scale=a.scale, cohorts=a.cohorts,
                              withhold_truth=a.withhold_truth, overwrite=a.overwrite,
                              progress=None if a.no_progress else print)
        print(f"wrote {len(key['learners'])} learner data sets to {Path(a.out) / 'learners'}; "
              f"answer key and secret key (keep them, hand out nothing from it): {Path(a.out) / 'instructor'}")
        return 0
    return add, run


@register("synth-readme", "regenerate the generated sections (tables, calibration) of a data README")
def _readme_cmd():
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("data_dir")
        p.add_argument("--readme", default=None, help="README to update (default: DATA_DIR/README.md)")

    def run(a: argparse.Namespace) -> int:
        update_readme(a.data_dir, a.readme or str(Path(a.data_dir) / "README.md"))
        return 0
    return add, run


@register("codebook", "write the derived-variable codebook (CSV / Markdown) generated from leokit.derive")
def _codebook_cmd():
    return codebook_cli.add_arguments, codebook_cli.run


#: Errors that are the user's (bad input, a folder that may not be written, a file that cannot be read or
#: written): reported in one line with exit code 2. Anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (GeneratorInputError, OutputFolderError, SchemaError, DerivationError,
                                                DataFolderError, UnknownTableError, OSError)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every option's default, except where the help text already says it,
    for required options and for switches (``store_true``: off unless given)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.required or action.default is None
                or isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction))):
            return text
        return super()._get_help_string(action)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leokit", description="leokit command line",
                                     formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add, _run, help_) in COMMANDS.items():
        add(sub.add_parser(name, help=help_, description=help_, formatter_class=HelpFormatter))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][1](args)
    except USER_ERRORS as e:
        # a user error is one line on stderr and exit code 2, as argparse reports a bad option
        msg = " ".join(str(e).split()) or type(e).__name__
        msg = msg.removeprefix(f"{args.command}: ")
        print(f"python -m leokit {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
