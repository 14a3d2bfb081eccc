"""``python -m leokit codebook``: write the derived-variable codebook generated from the registry.

Usage::

    python -m leokit codebook --csv PATH        # machine-readable codebook (CSV, UTF-8)
    python -m leokit codebook --markdown PATH   # the Markdown tables the book page shows
    python -m leokit codebook                   # print a one-line summary per variable

Registered in ``leokit/__main__.py`` as the ``codebook`` subcommand through :func:`add_arguments` and
:func:`run`; :func:`codebook_main` parses its own ``argv`` (also ``python -m leokit.derive.cli``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leokit.derive import codebook_frame, codebook_markdown, write_codebook_csv


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the ``codebook`` subcommand (for ``leokit.__main__``'s registry)."""
    p.add_argument("--csv", type=Path, help="write the codebook CSV to this path")
    p.add_argument("--markdown", type=Path, help="write the codebook Markdown tables to this path")


def run(args: argparse.Namespace) -> int:
    """Run the ``codebook`` subcommand. Returns the exit status (0 on success)."""
    if args.csv:
        path = write_codebook_csv(args.csv)
        print(f"wrote {path} ({len(codebook_frame())} variables)")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(codebook_markdown(), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if not args.csv and not args.markdown:
        for r in codebook_frame().itertuples(index=False):
            print(f"{r.theme:17s} {r.name:28s} {r.level:12s} {r.label}")
    return 0


def codebook_main(argv: list[str] | None = None) -> int:
    """Entry point of the ``codebook`` subcommand: parse ``argv`` and run. Returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m leokit codebook",
                                description="Write the derived-variable codebook generated from leokit.derive.REGISTRY.")
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(codebook_main())
