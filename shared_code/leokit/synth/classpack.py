"""A class pack: one synthetic data set per learner, each with its own seed and planted truth, and an answer key.

``python -m leokit classpack --out DIR --learners N --seed S`` draws, for each learner, a generator seed and a
set of planted effects within :data:`RANGES`, generates that learner's data with
:func:`leokit.synth.generate.generate` (exactly what ``python -m leokit generate --seed ... --truth ...`` does),
and writes an answer key that only the instructor keeps::

    DIR/
      README.md                              what is where, and how to use it
      learners/learner-01/ ...               learner 1's data folder (npd_i2/, leo_i2/, ..., truth.json, truth/)
      learners/learner-02/ ...
      instructor/answer_key.json             the key: every learner's seed, drawn truth, realised values, command
      instructor/answer_key.csv              the same, one row per learner (for a spreadsheet)
      instructor/truth_overrides/learner-01.json   the --truth file each learner's data were generated with
      instructor/truths/learner-01/          (only with withhold_truth) the learner's truth.json and truth/ tables

Hand out ``learners/learner-NN`` only. By default each learner's folder keeps its ``truth.json`` (and the hidden
``truth/`` tables), so a self-paced learner can compare at the end; with ``withhold_truth=True``
(``--withhold-truth``) both are moved to ``instructor/truths/`` before anything is handed out, for a marked
exercise.

Everything is a function of the pack seed: the learners' seeds, their truths and therefore (the generator being
deterministic) every byte of their data and of the key. Re-running the command with the same arguments
re-creates the pack; the key records the command, and for each learner the ``python -m leokit generate``
command that re-creates that learner's folder alone.

Which effects are drawn, and from where (:data:`RANGES`): each key is drawn uniformly from its range and
rounded to :data:`DECIMALS` decimals; all other planted parameters keep their defaults
(:mod:`leokit.synth.truth`). The ranges keep every estimand recoverable by the exemplars' designs and away from
zero, so a learner's estimate can tell their value from a neighbour's. The contextual-offer entry effect stays
below the largest effect a two-grade scheme can produce at the default cut-off (``B(cutoff)``, 0.11-0.12 at the
default cut-off; see :mod:`leokit.synth.ucas`). The cut-off, grade reduction and adoption cycles are *not* drawn:
they are published rules a researcher knows, and the exemplars state them.
"""

from __future__ import annotations

import csv
import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from leokit.synth.generate import generate
from leokit.synth.params import GENERATOR_VERSION
from leokit.synth.truth import DEFAULTS

__all__ = ["RANGES", "DECIMALS", "REALISED_IN_KEY", "LearnerPack", "draw_truths", "learner_seeds", "write_classpack",
           "read_answer_key"]

#: truth key -> (low, high): the range each learner's value is drawn from (uniform, then rounded).
RANGES: dict[str, tuple[float, float]] = {
    "degree_return_female": (0.10, 0.40),
    "degree_return_male": (0.00, 0.20),
    "school_peer_effect": (0.05, 0.30),
    "coworker_graduate_share_effect": (0.02, 0.20),
    "firm_graduate_share_productivity_effect": (0.10, 0.50),
    "firm_effect_sd": (0.10, 0.20),
    "contextual_offer_high_tariff_entry_effect": (0.02, 0.09),
}

#: Decimals the drawn values are rounded to (a value a learner can write down).
DECIMALS = 3

#: Realised values (``truth.json`` -> ``_realised``) copied into the key: the estimands that are measured on the
#: generated population rather than set (the RD and DiD truths, the AKM variance shares).
REALISED_IN_KEY = (
    "contextual_offer_high_tariff_entry_effect_realised",
    "contextual_offer_adoption_did_estimand_eligible_share",
    "akm_firm_variance_share",
    "akm_person_variance_share",
    "akm_sorting_covariance_share",
    "degree_return_female_att_at_29",
    "degree_return_male_att_at_29",
)

for _k, (_lo, _hi) in RANGES.items():  # the ranges must name real parameters: a typo is an error at import
    if _k not in DEFAULTS:
        raise KeyError(f"classpack RANGES: {_k!r} is not a planted parameter of leokit.synth.truth")
    if not _lo < _hi:
        raise ValueError(f"classpack RANGES: empty range for {_k!r}: {(_lo, _hi)}")


def learner_seeds(seed: int, learners: int) -> list[int]:
    """The generator seed of each learner: distinct integers derived from the pack ``seed`` (NumPy
    ``SeedSequence.spawn``), so that learner *k*'s seed does not change when the class grows."""
    if learners < 1:
        raise ValueError(f"learners must be at least 1, got {learners}")
    children = np.random.SeedSequence(int(seed)).spawn(learners)
    seeds: list[int] = []
    for child in children:
        s = int(child.generate_state(1, dtype=np.uint32)[0])
        while s in seeds:  # never two learners with one seed (astronomically rare; kept a guarantee)
            s = (s + 1) % (2 ** 32)
        seeds.append(s)
    return seeds


def draw_truths(seed: int, learners: int, ranges: Mapping[str, tuple[float, float]] | None = None,
                decimals: int = DECIMALS) -> list[dict[str, float]]:
    """One truth override per learner, each key drawn uniformly from ``ranges`` (default :data:`RANGES`) and
    rounded to ``decimals``; no two learners get the same set of values. A function of ``seed`` alone, and
    learner *k*'s draw does not depend on how many learners there are."""
    ranges = dict(RANGES if ranges is None else ranges)
    unknown = sorted(set(ranges) - set(DEFAULTS))
    if unknown:
        raise KeyError(f"draw_truths: {unknown} are not planted parameters of leokit.synth.truth")
    out: list[dict[str, float]] = []
    for child in np.random.SeedSequence([int(seed), 1]).spawn(learners):
        rng = np.random.default_rng(child)
        while True:
            t = {k: round(float(rng.uniform(lo, hi)), decimals) for k, (lo, hi) in ranges.items()}
            if t not in out:
                break
        out.append(t)
    return out


@dataclass(frozen=True)
class LearnerPack:
    """One learner's entry in the answer key."""

    learner: str
    folder: str
    seed: int
    truth: dict[str, float]
    realised: dict[str, Any]
    command: str

    def to_dict(self) -> dict[str, Any]:
        return {"learner": self.learner, "folder": self.folder, "seed": self.seed, "truth": dict(self.truth),
                "realised": dict(self.realised), "command": self.command}


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _readme(n: int, scale: int, cohorts: int, withhold: bool, command: str) -> str:
    where = ("moved to instructor/truths/ (withheld: learners cannot look)" if withhold else
             "left in each learner's folder (truth.json and truth/): ask learners not to open them until they "
             "have estimated, or re-run with --withhold-truth")
    ranges = "\n".join(f"| `{k}` | {lo:g} | {hi:g} |" for k, (lo, hi) in RANGES.items())
    return f"""# Class pack: {n} synthetic LEO/NPD data sets with different planted truths

Made with `{command}`
(leokit synthetic data generator {GENERATOR_VERSION}; {scale:,} pupils per KS4 cohort, {cohorts} cohorts).

- `learners/learner-NN/`: one data folder per learner. Hand out these folders only. A learner points
  leokit at theirs with `export LEOKIT_DATA_DIR=/path/to/learner-NN` (or `data_dir=` in every call).
- `instructor/answer_key.json` and `instructor/answer_key.csv`: the key. **Keep it.** For each learner:
  the generator seed, the planted values drawn for them, the realised values of the estimands that are
  measured on the generated population, and the command that re-creates their folder.
- `instructor/truth_overrides/`: the `--truth` file each learner's data were generated with.
- The learners' `truth.json` files were {where}.

Drawn for each learner (uniform, rounded to {DECIMALS} decimals); every other parameter has its default:

| truth key | low | high |
|---|---|---|
{ranges}

The same command with the same seed re-creates this pack byte for byte.
"""


def write_classpack(out: str | Path, learners: int, *, seed: int = 2026, scale: int = 2500, cohorts: int = 12,
                    withhold_truth: bool = False, overwrite: bool = False,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write a class pack to ``out`` (layout in the module docstring) and return the answer key as a dict.

    ``learners``: number of data sets; ``seed``: the pack seed (everything follows from it); ``scale`` and
    ``cohorts``: as for ``generate`` (the exemplars' default data use scale 2,500 and 12 cohorts; the
    contextual-offers RD needs about 20,000, which takes about half a minute per learner); ``withhold_truth``:
    move each learner's ``truth.json`` and ``truth/`` tables into ``instructor/truths/``; ``overwrite``: replace
    an existing pack in ``out`` (otherwise a non-empty ``out`` is an error: nothing is deleted by accident).
    ``progress``: called with a line of text before each learner's data are generated.
    """
    out = Path(out)
    if learners < 1:
        raise ValueError(f"learners must be at least 1, got {learners}")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"classpack: {out} exists and is not empty; choose another folder or pass "
                                  "overwrite=True (--overwrite) to replace the pack in it")
        if not (out / "instructor" / "answer_key.json").is_file():
            raise FileExistsError(f"classpack: {out} is not empty and holds no class pack "
                                  "(no instructor/answer_key.json); refusing to delete it")
        shutil.rmtree(out)
    command = " ".join(["python -m leokit classpack", f"--out {shlex.quote(str(out))}", f"--learners {learners}",
                        f"--seed {seed}", f"--scale {scale}", f"--cohorts {cohorts}"]
                       + (["--withhold-truth"] if withhold_truth else []))
    seeds = learner_seeds(seed, learners)
    truths = draw_truths(seed, learners)
    width = max(2, len(str(learners)))
    entries: list[LearnerPack] = []
    for i, (s, t) in enumerate(zip(seeds, truths), start=1):
        name = f"learner-{i:0{width}d}"
        folder = out / "learners" / name
        override = out / "instructor" / "truth_overrides" / f"{name}.json"
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text(json.dumps(t, indent=1, sort_keys=True) + "\n")
        if progress is not None:
            progress(f"{name}: generating (seed {s}, scale {scale:,}, {cohorts} cohorts)")
        res = generate(folder, seed=s, scale=scale, cohorts=cohorts, truth=override, progress=False)
        realised = {k: res["realised"].get(k) for k in REALISED_IN_KEY}
        if withhold_truth:
            dest = out / "instructor" / "truths" / name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder / "truth.json"), str(dest / "truth.json"))
            if (folder / "truth").is_dir():
                shutil.move(str(folder / "truth"), str(dest / "truth"))
        gen = (f"python -m leokit generate --out {_rel(folder, out)} --seed {s} --scale {scale} "
               f"--cohorts {cohorts} --truth {_rel(override, out)}")
        entries.append(LearnerPack(name, _rel(folder, out), s, t, realised, gen))
    key = {
        "pack": {"seed": int(seed), "learners": int(learners), "scale": int(scale), "cohorts": int(cohorts),
                 "withhold_truth": bool(withhold_truth), "generator_version": GENERATOR_VERSION,
                 "command": command, "ranges": {k: list(v) for k, v in RANGES.items()}, "decimals": DECIMALS},
        "learners": [e.to_dict() for e in entries],
    }
    kdir = out / "instructor"
    (kdir / "answer_key.json").write_text(json.dumps(key, indent=1) + "\n")
    cols = ["learner", "folder", "seed", *RANGES, *(f"realised.{k}" for k in REALISED_IN_KEY)]
    with (kdir / "answer_key.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for e in entries:
            w.writerow([e.learner, e.folder, e.seed, *(e.truth[k] for k in RANGES),
                        *("" if e.realised[k] is None else e.realised[k] for k in REALISED_IN_KEY)])
    (out / "README.md").write_text(_readme(learners, scale, cohorts, withhold_truth, command))
    return key


def read_answer_key(pack: str | Path) -> dict[str, Any]:
    """The answer key of a class pack folder (``instructor/answer_key.json``)."""
    p = Path(pack) / "instructor" / "answer_key.json"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no answer key here (is {pack} a class pack made by python -m leokit classpack?)")
    return json.loads(p.read_text())

