"""Is a generated data folder up to date? (``python -m leokit generate --reuse``)

A folder written by :func:`leokit.synth.generate` records how it was made in ``truth.json``:
``_meta`` holds the generator version, seed, scale and cohorts, and every planted parameter's value is
written beside its definition. A folder is *up to date* for a request when all of these match: the
running generator's :data:`~leokit.synth.params.GENERATOR_VERSION` (bumped whenever the output for a
given seed, scale, cohorts and truth changes), the seed, scale and cohorts asked for, and the merged
truth (the defaults with the override applied). ``generate`` deletes ``truth.json`` before it writes
anything, so a run that stopped half way never looks up to date.

The build uses this to generate the larger data set the advanced exemplars need once and reuse it
(``make exemplar-data``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from leokit.synth.params import GENERATOR_VERSION
from leokit.synth.truth import merge_truth, read_override

__all__ = ["up_to_date"]


def up_to_date(out: str | Path, *, seed: int, scale: int, cohorts: int,
               truth: Mapping[str, Any] | str | Path | None = None) -> tuple[bool, str]:
    """``(True, reason)`` if ``out/truth.json`` records this generator version, ``seed``, ``scale``, ``cohorts``
    and the same merged truth (``truth``: None, an override dict or an override JSON file); else ``(False, why)``."""
    p = Path(out) / "truth.json"
    if not p.is_file():
        return False, f"{p} does not exist"
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        return False, f"{p} cannot be read ({type(e).__name__}: {e})"
    meta = doc.get("_meta", {}) if isinstance(doc, dict) else {}
    want = {"generator_version": GENERATOR_VERSION, "seed": int(seed), "scale": int(scale), "cohorts": int(cohorts)}
    for k, v in want.items():
        if meta.get(k) != v:
            return False, f"{p}: _meta.{k} is {meta.get(k)!r}, wanted {v!r}"
    override = read_override(truth) if isinstance(truth, (str, Path)) else (dict(truth) if truth else None)
    for k, v in merge_truth(override).items():
        got = doc.get(k, {}).get("value") if isinstance(doc.get(k), dict) else None
        if got != v:
            return False, f"{p}: truth {k} is {got!r}, wanted {v!r}"
    return True, (f"{Path(out)} is up to date (generator {GENERATOR_VERSION}, seed {seed}, scale {scale}, "
                  f"cohorts {cohorts})")
