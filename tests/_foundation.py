"""Helpers for the foundation tests (paths, network-guard environments, Makefile).

Imported as ``from _foundation import ...`` (tests/ is on sys.path through
``pythonpath`` in pyproject's pytest config). Not named conftest: several
conftest.py files exist under tests/, so ``import conftest`` is ambiguous.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETGUARD_DIR = ROOT / "tests" / "netguard"
SANITIZE_CFG = ROOT / "tests" / "nbval_sanitize.cfg"
VENV_BIN = Path(sys.executable).parent  # tests run with .venv/bin/python


def guarded_env(base: dict | None = None, **extra: str) -> dict:
    """A copy of the environment with the network guard on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(NETGUARD_DIR) not in parts:
        parts.insert(0, str(NETGUARD_DIR))
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.update(extra)
    return env


def unguarded_env(base: dict | None = None) -> dict:
    """A copy of the environment with the network guard removed from PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    parts = [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep)
        if p and Path(p).resolve() != NETGUARD_DIR
    ]
    if parts:
        env["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        env.pop("PYTHONPATH", None)
    return env


def makefile_var(name: str) -> str:
    """Value of a simple ``NAME := value`` / ``NAME ?= value`` line in the Makefile."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    m = re.search(rf"^{re.escape(name)}\s*[:?]?=[ \t]*(.*)$", text, flags=re.M)
    if not m:
        raise LookupError(f"{name} is not set in the Makefile")
    return m.group(1).strip()


def jupyter_book_cmd() -> list[str]:
    """The book-build command the Makefile uses, minus the source folder."""
    exe = VENV_BIN / "jupyter-book"
    assert exe.exists(), f"jupyter-book not installed next to {sys.executable}"
    return [str(exe), "build", *makefile_var("JB_FLAGS").split()]


#: The jupytext header a MyST chapter with code cells must begin with (as the README says).
MYST_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""
