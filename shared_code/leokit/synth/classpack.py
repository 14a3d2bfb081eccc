"""A class pack: one synthetic data set per learner, each with its own seed and planted truth, and an answer key.

``python -m leokit classpack --out DIR --learners N`` draws, for each learner, a generator seed and a set of
planted effects within :data:`RANGES`, generates that learner's data with :func:`leokit.synth.generate`
(exactly what ``python -m leokit generate --seed ... --truth ...`` does), and writes an answer key that only the
instructor keeps::

    DIR/
      README.md                              what is where, and how to use it (no key, no seed)
      learners/learner-01/ ...               learner 1's data folder (npd_i2/, leo_i2/, ..., truth.json, truth/)
      learners/learner-02/ ...
      instructor/pack_key.txt                the pack's secret key (keep it; --key-file re-creates the pack)
      instructor/answer_key.json             the key: every learner's seed, drawn truth, realised values, command
      instructor/answer_key.csv              the same, one row per learner (for a spreadsheet)
      instructor/truth_overrides/learner-01.json   the --truth file each learner's data were generated with
      instructor/truths/learner-01/          (only with withhold_truth) the learner's truth.json and truth/ tables

Hand out ``learners/learner-NN`` only. By default each learner's folder keeps its ``truth.json`` (and the hidden
``truth/`` tables), so a self-paced learner can compare at the end; with ``withhold_truth=True``
(``--withhold-truth``) both are moved to ``instructor/truths/`` before anything is handed out, for a marked
exercise.

The secret (why the truths cannot be worked out from the public code)
----------------------------------------------------------------------
Everything is drawn from a per-pack secret key: 32 random bytes from the operating system's entropy
(:func:`secrets.token_hex`), written only to ``instructor/pack_key.txt`` (and the answer key). Learner *k*'s
generator seed and planted truth are derived from (key, learner name) by HMAC-SHA256 (:func:`learner_seeds`,
:func:`draw_truths`), in two independent derivations: knowing a learner's data seed tells nothing about their
truth. Nothing a learner receives records the key or a seed: the learner's ``truth.json`` (when it is not
withheld) has ``_meta.seed`` removed, the folder's manifest lists file sizes and hashes only, and the pack README
prints neither. Without the key, guessing a learner's truth means guessing 256 random bits, not running the
public code over a few thousand seeds. There is no default key: each run makes a new one, so two runs of the
same command make different packs.

A reproducible pack is made with ``key_file=`` (``--key-file instructor/pack_key.txt`` of an earlier pack): the
same key, learners, scale and cohorts re-create the pack byte for byte. The key records, for each learner, the
``python -m leokit generate`` command that re-creates that learner's data files.

Which effects are drawn, and from where (:data:`RANGES`): each key is drawn uniformly from its range and
rounded to :data:`DECIMALS` decimals; all other planted parameters keep their defaults
(:mod:`leokit.synth.truth`). The ranges keep every estimand recoverable by the exemplars' designs and away from
zero, so a learner's estimate can tell their value from a neighbour's. The contextual-offer entry effect stays
below the largest effect a two-grade scheme can produce at the default cut-off (``B(cutoff)``, 0.11-0.12 at the
default cut-off; see :mod:`leokit.synth.ucas`). The cut-off, grade reduction and adoption cycles are *not* drawn:
they are published rules a researcher knows, and the exemplars state them.

The pack is written into a temporary sibling folder and renamed to ``DIR`` at the end, so a run that fails
leaves nothing that blocks a rerun.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import secrets
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from leokit.errors import GeneratorInputError, OutputFolderError
from leokit.synth.generate import check_inputs, generate
from leokit.synth.manifest import MANIFEST, write_manifest
from leokit.synth.params import GENERATOR_VERSION
from leokit.synth.truth import DEFAULTS

__all__ = ["RANGES", "DECIMALS", "REALISED_IN_KEY", "KEY_FILE", "LearnerPack", "new_key", "read_key", "learner_name",
           "draw_truths", "learner_seeds", "write_classpack", "read_answer_key"]

#: Where the pack's secret key is written, relative to the pack folder (the instructor's side only).
KEY_FILE = "instructor/pack_key.txt"
_KEY_HEX_DIGITS = 64  # 32 bytes

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


def new_key() -> str:
    """A new secret pack key: 32 bytes of operating-system entropy as 64 hex digits."""
    return secrets.token_hex(_KEY_HEX_DIGITS // 2)


def _check_key(key: Any) -> bytes:
    if not isinstance(key, str) or len(key) != _KEY_HEX_DIGITS:
        raise GeneratorInputError(f"classpack: the pack key must be {_KEY_HEX_DIGITS} hex digits (as written to "
                                  f"{KEY_FILE} by an earlier pack), found {type(key).__name__}"
                                  + (f" of length {len(key)}" if isinstance(key, str) else ""))
    try:
        return bytes.fromhex(key)
    except ValueError:
        raise GeneratorInputError(f"classpack: the pack key must be {_KEY_HEX_DIGITS} hex digits, found other "
                                  "characters") from None


def read_key(path: str | Path) -> str:
    """The pack key stored in ``path`` (an earlier pack's ``instructor/pack_key.txt``)."""
    try:
        key = Path(path).read_text().strip()
    except OSError as e:
        raise GeneratorInputError(f"classpack: key file {path} cannot be read ({e.strerror or e})") from None
    _check_key(key)
    return key


def learner_name(k: int, learners: int) -> str:
    """Folder name of learner ``k`` (1-based) in a pack of ``learners``: ``learner-01`` ..."""
    return f"learner-{k:0{max(2, len(str(learners)))}d}"


def _derive(key: str, purpose: str, learner: str, attempt: int = 0) -> bytes:
    msg = f"leokit-classpack/v2/{purpose}/{learner}/{attempt}".encode()
    return hmac.new(_check_key(key), msg, hashlib.sha256).digest()


def _names(learners: int) -> list[str]:
    if isinstance(learners, bool) or not isinstance(learners, int) or learners < 1:
        raise GeneratorInputError(f"classpack: learners must be a whole number, at least 1, got {learners!r}")
    return [learner_name(k, learners) for k in range(1, learners + 1)]


def learner_seeds(key: str, learners: int) -> list[int]:
    """The generator seed of each learner: a 128-bit integer from HMAC-SHA256(key, "seed" and the learner's name)
    (too many to try: the data seed cannot be searched for from a learner's data either), distinct across learners; learner *k*'s seed does not change when the class grows (names are padded to two
    digits up to 99 learners)."""
    seeds: list[int] = []
    for name in _names(learners):
        attempt = 0
        while True:  # never two learners with one seed (astronomically rare; kept a guarantee)
            s = int.from_bytes(_derive(key, "seed", name, attempt)[:16], "big")
            if s not in seeds:
                break
            attempt += 1
        seeds.append(s)
    return seeds


def draw_truths(key: str, learners: int, ranges: Mapping[str, tuple[float, float]] | None = None,
                decimals: int = DECIMALS) -> list[dict[str, float]]:
    """One truth override per learner, each key drawn uniformly from ``ranges`` (default :data:`RANGES`) and
    rounded to ``decimals``, from a random stream seeded by HMAC-SHA256(key, "truth" and the learner's name)
    (independent of the learner's data seed); no two learners get the same set of values. Learner *k*'s draw
    does not depend on how many learners there are."""
    ranges = dict(RANGES if ranges is None else ranges)
    unknown = sorted(set(ranges) - set(DEFAULTS))
    if unknown:
        raise KeyError(f"draw_truths: {unknown} are not planted parameters of leokit.synth.truth")
    out: list[dict[str, float]] = []
    for name in _names(learners):
        attempt = 0
        while True:
            rng = np.random.default_rng(int.from_bytes(_derive(key, "truth", name, attempt), "big"))
            t = {k: round(float(rng.uniform(lo, hi)), decimals) for k, (lo, hi) in ranges.items()}
            if t not in out:
                break
            attempt += 1
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
- `instructor/`: the instructor's folder. **Keep it; hand out nothing from it.** `answer_key.json` and
  `answer_key.csv` hold, for each learner, the planted values drawn for them, the realised values of the
  estimands that are measured on the generated population, and the command that re-creates their data;
  `pack_key.txt` holds the pack's secret key; `truth_overrides/` the `--truth` file behind each learner's data.
- The learners' `truth.json` files were {where}.

Drawn for each learner (uniform, rounded to {DECIMALS} decimals) from a secret random key that only the
instructor's folder holds, so no learner can work out their own or a neighbour's values from the public
code; every other parameter has its default:

| truth key | low | high |
|---|---|---|
{ranges}

The instructor can re-create this pack byte for byte from the key (`--key-file`).
"""


def _redact_seed(truth_json: Path) -> None:
    """Remove ``_meta.seed`` from a learner's truth.json (the seed is the instructor's)."""
    doc = json.loads(truth_json.read_text())
    doc["_meta"] = {k: v for k, v in doc.get("_meta", {}).items() if k != "seed"}
    doc["_meta"]["seed_kept_by"] = "the instructor (class pack answer key)"
    truth_json.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")


def _check_pack_folder(out: Path, overwrite: bool) -> None:
    if str(out).strip() in ("", "."):
        raise OutputFolderError("classpack: name a new folder for the pack (e.g. --out classpack), not an empty "
                                "path or the current folder")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"classpack: {out} is a file, not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise OutputFolderError(f"classpack: {out} exists and is not empty; choose another folder or pass "
                                    "overwrite=True (--overwrite) to replace the pack in it")
        if not (out / "instructor" / "answer_key.json").is_file():
            raise OutputFolderError(f"classpack: {out} is not empty and holds no class pack "
                                    "(no instructor/answer_key.json); refusing to delete it")


def write_classpack(out: str | Path, learners: int, *, key: str | None = None, key_file: str | Path | None = None,
                    scale: int = 2500, cohorts: int = 12, withhold_truth: bool = False, overwrite: bool = False,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write a class pack to ``out`` (layout in the module docstring) and return the answer key as a dict.

    Parameters
    ----------
    out : str or Path
        The pack folder: new or empty, or (with ``overwrite``) an earlier class pack, which is replaced as a
        whole once the new pack is complete. The pack is built in a temporary sibling folder and renamed at the
        end: a failure leaves ``out`` as it was.
    learners : int
        Number of data sets (at least 1).
    key, key_file : str or path, optional
        The secret pack key (64 hex digits) or a file holding it (an earlier pack's ``instructor/pack_key.txt``),
        to re-create a pack; by default a new key from the operating system's entropy (:func:`new_key`).
    scale, cohorts : int
        As for :func:`~leokit.synth.generate` (the exemplars' default data use scale 2,500 and 12
        cohorts; the contextual-offers RD needs about 20,000, which takes about half a minute per learner).
    withhold_truth : bool
        Move each learner's ``truth.json`` and ``truth/`` tables into ``instructor/truths/``.
    overwrite : bool
        Replace an existing pack in ``out`` (a non-empty folder that is not a pack is never deleted).
    progress : callable, optional
        Called with a line of text before each learner's data are generated.

    Returns
    -------
    dict
        The answer key (``instructor/answer_key.json``).

    Raises
    ------
    GeneratorInputError
        ``learners``, ``scale``, ``cohorts`` or the key out of range; nothing has been written.
    OutputFolderError
        ``out`` may not be written into; nothing has been written.
    """
    out = Path(out)
    names = _names(learners)
    check_inputs(0, scale, cohorts, None)
    if key is not None and key_file is not None:
        raise GeneratorInputError("classpack: give the pack key or a key file, not both")
    key = read_key(key_file) if key_file is not None else (new_key() if key is None else key)
    _check_key(key)
    _check_pack_folder(out, overwrite)
    command = " ".join(["python -m leokit classpack", f"--out {shlex.quote(str(out))}", f"--learners {learners}",
                        f"--scale {scale}", f"--cohorts {cohorts}"]
                       + (["--withhold-truth"] if withhold_truth else []))
    seeds = learner_seeds(key, learners)
    truths = draw_truths(key, learners)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        key_doc = _write_pack(tmp, out, names, seeds, truths, key, scale, cohorts, withhold_truth, command, progress)
        old = None
        if out.exists():
            if any(out.iterdir()):
                old = out.parent / f".{out.name}.replaced-{secrets.token_hex(4)}"
                os.replace(out, old)
            else:
                out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return key_doc


def _write_pack(root: Path, out: Path, names: list[str], seeds: list[int], truths: list[dict[str, float]], key: str,
                scale: int, cohorts: int, withhold_truth: bool, command: str,
                progress: Callable[[str], None] | None) -> dict[str, Any]:
    """Write the pack into ``root`` (the temporary folder); paths in the key are relative to the pack."""
    kdir = root / "instructor"
    kdir.mkdir(parents=True)
    (root / KEY_FILE).write_text(key + "\n")
    os.chmod(root / KEY_FILE, 0o600)
    entries: list[LearnerPack] = []
    for name, s, t in zip(names, seeds, truths):
        folder = root / "learners" / name
        override = kdir / "truth_overrides" / f"{name}.json"
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_text(json.dumps(t, indent=1, sort_keys=True) + "\n")
        if progress is not None:
            progress(f"{name}: generating ({scale:,} pupils per cohort, {cohorts} cohorts)")
        res = generate(folder, seed=s, scale=scale, cohorts=cohorts, truth=override, progress=False)
        realised = {k: res["realised"].get(k) for k in REALISED_IN_KEY}
        kept = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        kept.remove(MANIFEST)
        if withhold_truth:
            dest = kdir / "truths" / name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder / "truth.json"), str(dest / "truth.json"))
            _redact_seed(dest / "truth.json")
            if (folder / "truth").is_dir():
                shutil.move(str(folder / "truth"), str(dest / "truth"))
            kept = [f for f in kept if f != "truth.json" and not f.startswith("truth/")]
        else:
            _redact_seed(folder / "truth.json")
        write_manifest(folder, kept, complete=True)
        gen = (f"python -m leokit generate --out {_rel(folder, root)} --seed {s} --scale {scale} "
               f"--cohorts {cohorts} --truth {_rel(override, root)}")
        entries.append(LearnerPack(name, _rel(folder, root), s, t, realised, gen))
    key_doc = {
        "pack": {"learners": len(names), "scale": int(scale), "cohorts": int(cohorts),
                 "withhold_truth": bool(withhold_truth), "generator_version": GENERATOR_VERSION,
                 "command": command, "key_file": KEY_FILE, "key": key,
                 "recreate": f"{command} --key-file {shlex.quote(str(out / KEY_FILE))} --overwrite",
                 "ranges": {k: list(v) for k, v in RANGES.items()}, "decimals": DECIMALS},
        "learners": [e.to_dict() for e in entries],
    }
    (kdir / "answer_key.json").write_text(json.dumps(key_doc, indent=1) + "\n")
    cols = ["learner", "folder", "seed", *RANGES, *(f"realised.{k}" for k in REALISED_IN_KEY)]
    with (kdir / "answer_key.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for e in entries:
            w.writerow([e.learner, e.folder, e.seed, *(e.truth[k] for k in RANGES),
                        *("" if e.realised[k] is None else e.realised[k] for k in REALISED_IN_KEY)])
    (root / "README.md").write_text(_readme(len(names), scale, cohorts, withhold_truth, command))
    return key_doc


def read_answer_key(pack: str | Path) -> dict[str, Any]:
    """The answer key of a class pack folder (``instructor/answer_key.json``)."""
    p = Path(pack) / "instructor" / "answer_key.json"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no answer key here (is {pack} a class pack made by python -m leokit classpack?)")
    return json.loads(p.read_text())

