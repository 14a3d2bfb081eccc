"""An output session: every output a notebook releases, checked against the earlier ones, and the output request.

Each table passes the rules of thumb on its own; two tables can still give a number away together. A sum over
everyone and a sum over everyone but one person are two releasable cells whose difference is that person's
earnings; a cell suppressed in one table comes back from a total released in another. No rule of thumb stops
this, and ACRO does not either [ACRO]. :class:`OutputSession` keeps, for every released cell, the set of units
it covers (unit ids when the helper was given ``unit=`` or the frame has a person id column; row labels of the
frame otherwise) and refuses or suppresses a new cell whose unit set differs from an earlier released cell, or
from a sum of released cells (a table's total, one line of a table), by 1 to ``threshold - 1`` units.

What it compares, for each new checked table or figure (:class:`~leokit.sdc.results.SDCResult`):

* every released cell (and, for shares, the units with the outcome) with every cell released before, in the
  same *space* (the same unit column; for row labels, a frame with the same columns);
* the same cells with every *implied* cell: the sum of the released cells of one line of an earlier table (all
  its cells, or those with one key value fixed), which anyone can add up;
* the new table's own totals with the sum of its released cells under them (a total minus released cells is
  the sum of the suppressed ones: the secondary suppression of one table guarantees two unknown cells, not
  ``threshold`` units between them).

A cell in conflict is suppressed (``on_conflict="suppress"``, the default; the table's secondary suppression is
re-run and the check repeated) or the release is refused with :class:`~leokit.errors.DifferencingError`
(``on_conflict="raise"``). The reason names the earlier output and cell, and the number of units between them.

What it does not catch: cells of different unit spaces (one table counted by ``AE_ID``, the other by
``PupilMatchingRefAnonymous``); row-label spaces of frames that were rebuilt (a new index) or gained columns
between the releases; tables checked from aggregates (:func:`~leokit.sdc.check_table`: no unit ids) and
models, sample flows and match summaries, which are recorded in the request but not compared; differences
of sums of cells from *several* earlier tables; class disclosure by differencing (two share cells whose
difference is a group that all have, or all lack, the outcome: the units differ by 10 or more, so it passes);
and anything released outside the session. The output
checker's judgement is still needed: the request says which outputs were compared.

:meth:`OutputSession.write_request` writes what a researcher hands to the SRS output checkers: each output as
a CSV, its evidence as a CSV, ``README.md`` (the checker notes) and ``manifest.json`` (file names, SHA-256,
titles, the rules). The same releases give the same bytes (no timestamps unless ``date=`` is passed).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leokit.errors import DifferencingError, SDCInputError
from leokit.sdc.checks import differencing, secondary, unit_difference
from leokit.sdc.results import CellDefs, ModelCheck, SDCResult, report_frame
from leokit.sdc.rules import DEFAULT_RULES, NOT_APPLICABLE, SDCRules

__all__ = ["OutputSession", "Release"]


@dataclass
class Release:
    """One released output: what was shown (``table``), the evidence, the notes for the checker."""

    index: int
    title: str
    kind: str
    table: pd.DataFrame
    evidence: pd.DataFrame | None
    notes: str
    differencing: list[dict] = field(default_factory=list)
    compared: bool = False


@dataclass
class _Entry:
    release: int
    title: str
    label: str
    members: np.ndarray
    implied: bool = False
    cells: tuple = ()  # for a sum of cells: the cells (of its own table) it adds up


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60].rstrip("-") or "output"


def _csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


class OutputSession:
    """Every output a notebook releases, checked for differencing against the earlier ones.

    Parameters
    ----------
    name : str
        Name of the output request (the project or notebook).
    rules : SDCRules, optional
        The rules (the threshold sets the differencing limit); default :data:`DEFAULT_RULES`.
    on_conflict : {"suppress", "raise"}
        What to do with a cell whose units differ from an earlier released cell (or sum of cells) by 1 to
        ``threshold - 1``: suppress it (re-running the table's secondary suppression), or refuse the release
        with :class:`~leokit.errors.DifferencingError`.

    Examples
    --------
    >>> session = OutputSession("my project")                                  # doctest: +SKIP
    >>> shown = session.release(sdc.safe_table(df, "region", unit="AE_ID"))  # doctest: +SKIP
    >>> session.write_request("_build/output_request")                       # doctest: +SKIP
    """

    def __init__(self, name: str, rules: SDCRules | None = None, *, on_conflict: str = "suppress"):
        if not isinstance(name, str) or not name.strip():
            raise SDCInputError(f"OutputSession needs a name (the output request's title), got {name!r}")
        if on_conflict not in ("suppress", "raise"):
            raise SDCInputError(f"on_conflict must be 'suppress' or 'raise', got {on_conflict!r}")
        self.name = name
        self.rules = rules or DEFAULT_RULES
        self.on_conflict = on_conflict
        self.releases: list[Release] = []
        self._entries: dict[str, list[_Entry]] = {}

    # ------------------------------------------------------------------ release
    def release(self, output: Any, title: str | None = None, *, note: str | None = None,
                on_fail: str = "mark") -> Any:
        """Record an output for the request and return what may be shown.

        ``output``: an :class:`~leokit.sdc.results.SDCResult` (``safe_table``, ``safe_share``, ``check_table``,
        ``safe_binned``, ``safe_histogram``) -- checked against the earlier releases and returned, with any
        cell in conflict suppressed; a :class:`~leokit.sdc.results.ModelCheck` -- its coefficient table
        (``on_fail`` as in :func:`~leokit.sdc.safe_coef_table`) is returned; a DataFrame made by a kit helper
        that checks its output (``safe_coef_table``, ``sample_flow``, ``match_summary``: they set
        ``attrs["sdc"]``), or any other DataFrame with ``note=`` saying why it is safe (e.g. "built from the
        released tables 3 and 4") -- recorded as it is. ``title`` defaults to the output's own title.
        """
        idx = len(self.releases) + 1
        if isinstance(output, SDCResult):
            if output.rules.threshold < self.rules.threshold:
                raise SDCInputError(f"the output was checked with threshold {output.rules.threshold}, below the "
                                    f"session's {self.rules.threshold}")
            shown, rows, compared = self._check(output, title or output.title, idx)
            notes = shown.checker_note()
            if rows:
                notes += "\n\nDifferencing against earlier outputs:\n" + report_frame(rows).to_string(index=False)
            elif compared:
                notes += "\n\nDifferencing against earlier outputs: no cell within " \
                         f"{self.rules.threshold - 1} units of an earlier released cell or sum of cells"
            else:
                notes += "\n\nDifferencing against earlier outputs: not checked (no unit-level cell definitions)"
            if note:
                notes += f"\n\nNote: {note}"
            self.releases.append(Release(idx, title or output.title or f"output {idx}", output.kind, shown.table,
                                         shown.evidence, notes, rows, compared))
            return shown
        if isinstance(output, ModelCheck):
            table = output.coef_table(on_fail=on_fail)
            notes = repr(output) + "\n\nAll model checks:\n" + output.report.to_string(index=False)
            notes += f"\n\nObservations (rounded): {table.attrs.get('nobs')}"
            notes += "\n\nDifferencing: models are not compared with other outputs"
            if note:
                notes += f"\n\nNote: {note}"
            self.releases.append(Release(idx, title or "model coefficients", "model", table, output.report, notes))
            return table
        if isinstance(output, pd.DataFrame):
            checked = output.attrs.get("sdc")
            if checked is None and not note:
                raise SDCInputError(
                    "session.release: this DataFrame was not made by a kit helper that checks its output (no "
                    "attrs['sdc']); release the checked result itself, or pass note= saying why it is safe"
                )
            table = output.reset_index() if not isinstance(output.index, pd.RangeIndex) else output
            notes = f"Checked by: {checked}" if checked else ""
            if note:
                notes += ("\n\n" if notes else "") + f"Note: {note}"
            notes += "\n\nDifferencing: not compared with other outputs (no cell definitions)"
            self.releases.append(Release(idx, title or "table", "table", table, None, notes))
            return output
        raise SDCInputError(f"session.release: cannot release a {type(output).__name__}; give an SDCResult, a "
                            "ModelCheck or a checked DataFrame")

    # ------------------------------------------------------------------ differencing
    def _released(self, res: SDCResult, defs: CellDefs, forced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell released, numerator released) per cell: read off the checked table, less the cells the session
        suppressed (``forced``)."""
        table = res.table
        syms = {res.rules.suppressed_symbol, NOT_APPLICABLE}
        n = len(defs.members)
        shown = np.zeros(n, dtype=bool)
        num = np.zeros(n, dtype=bool)
        cols = [c for c in defs.value_cols if c in table.columns]
        for i in range(n):
            r = int(defs.rows[i])
            if r < 0 or r >= len(table):
                continue
            shown[i] = any(str(table[c].iloc[r]) not in syms for c in cols)
            if defs.num_members is not None and "n_outcome" in table.columns:
                num[i] = str(table["n_outcome"].iloc[r]) not in syms
        return shown & ~forced, num & ~forced

    def _implied(self, defs: CellDefs, shown: np.ndarray, title: str, rel: int) -> list[_Entry]:
        """Sums of released base cells anyone can add up: all of them, and each line (one key value fixed)."""
        base = np.flatnonzero(defs.base & shown)
        if not len(base):
            return []
        out = [_Entry(rel, title, "sum of all its released cells", np.unique(np.concatenate(
            [defs.members[i] for i in base])), True, tuple(int(i) for i in base))]
        if defs.key_tuples is None or len(defs.key_tuples[0]) < 2:
            tuples = None
        else:
            tuples = defs.key_tuples
        if tuples is not None:
            k = len(tuples[0])
            for d in range(k):
                lines: dict[Any, list[int]] = {}
                for i in base:
                    lines.setdefault(tuples[i][d], []).append(i)
                for key, members in lines.items():
                    if members:  # one released cell too: a total minus it is the rest of the line
                        lab = f"sum of its released cells with {defs.labels[members[0]].split(', ')[d]}"
                        out.append(_Entry(rel, title, lab, np.unique(np.concatenate(
                            [defs.members[i] for i in members])), True, tuple(int(i) for i in members)))
        return out

    def _conflicts(self, cand: list[tuple[int, str, np.ndarray]], earlier: list[_Entry]) -> list[tuple]:
        T = self.rules.threshold
        out = []
        if not earlier:
            return out
        sizes = np.array([e.members.size for e in earlier])
        for i, lab, m in cand:
            near = np.flatnonzero(np.abs(sizes - m.size) < T)
            for j in near:
                d = unit_difference(m, earlier[j].members)
                if 0 < d < T:
                    out.append((i, lab, earlier[j], d))
                    break
        return out

    def _check(self, res: SDCResult, title: str, rel: int) -> tuple[SDCResult, list[dict], bool]:
        defs = res.cells
        if defs is None or not len(defs.members):
            return res, [], False
        T = self.rules.threshold
        earlier = self._entries.get(defs.space, [])
        forced = np.zeros(len(defs.members), dtype=bool)
        rows: list[dict] = []
        for _round in range(len(defs.members) + 1):
            shown, num_shown = self._released(res, defs, forced)
            new_forced = forced.copy()
            prior = [((e.label if e.implied else repr(e.label)) + f" of output {e.release} ('{e.title}')",
                      e.members) for e in earlier]
            for members, ok, labels in ((defs.members, shown, defs.labels),
                                        (defs.num_members, num_shown, [lab + " (with the outcome)"
                                                                       for lab in defs.labels])):
                if members is None:
                    continue
                chk = differencing(members, ok & ~new_forced, prior, self.rules, labels)
                new_forced |= chk.mask
                rows.extend(chk.rows)
            # totals of this table against the released cells under them; the union against earlier cells
            shown = shown & ~new_forced  # the cells still released once the cell conflicts are suppressed
            own = self._implied(defs, shown, title, rel)
            totals = [(i, defs.labels[i], defs.members[i]) for i in np.flatnonzero(shown & ~defs.base)]
            unions = [(-1 - k, e.label, e.members) for k, e in enumerate(own)]
            picked = False  # one complementary pick per round: the sums change with it
            for cands, against in ((totals, own), (unions, earlier)):
                for i, lab, e, d in self._conflicts(cands, against):
                    # suppress one more of the cells the sum adds up (so that the sum moves away)
                    summed = e.cells if i >= 0 else own[-1 - i].cells
                    base = [b for b in summed if shown[b] and not new_forced[b]]
                    if not base or picked:
                        continue
                    picked = True
                    pick = min(base, key=lambda b: (defs.members[b].size, b))
                    new_forced[pick] = True
                    other = f"{e.label} of output {e.release} ('{e.title}')" if e.release != rel else e.label
                    rows.append(dict(cell=defs.labels[pick], statistic="", rule="differencing",
                                     action="suppressed",
                                     detail=f"{d} unit{'s' if d != 1 else ''} (< {T}) between "
                                            f"{'the total ' + repr(lab) if i >= 0 else 'the sum of its released cells'}"
                                            f" and {other}: complementary suppression"))
            if defs.all_tokens is not None and (new_forced & ~forced).any():
                sizes = np.array([m.size for m in defs.members])
                labels = defs.labels
                chk = secondary(defs.key_tuples, defs.all_tokens, sizes, new_forced | ~shown,
                                np.zeros(len(sizes), dtype=bool), labels, "(session)")
                extra = chk.mask & ~(new_forced | ~shown)
                for i in np.flatnonzero(extra):
                    rows.append(dict(cell=labels[i], statistic="", rule="differencing", action="suppressed",
                                     detail="complementary suppression after a differencing suppression"))
                new_forced |= extra
            if (new_forced == forced).all():
                break
            forced = new_forced
        if rows and self.on_conflict == "raise":
            raise DifferencingError(
                f"output {rel} ('{title}') would give units away by differencing with earlier outputs: "
                + "; ".join(f"{r['cell']}: {r['detail']}" for r in rows[:5])
            )
        shown, num_shown = self._released(res, defs, forced)
        table = self._apply(res, defs, forced)
        entries = self._entries.setdefault(defs.space, [])
        for i in np.flatnonzero(shown):
            entries.append(_Entry(rel, title, defs.labels[i], defs.members[i]))
        if defs.num_members is not None:
            for i in np.flatnonzero(num_shown):
                entries.append(_Entry(rel, title, defs.labels[i] + " (with the outcome)", defs.num_members[i]))
        entries.extend(self._implied(defs, shown, title, rel))
        if not rows:
            return res, [], True
        out = self._result_with(res, defs, table, forced, rows)
        return out, rows, True

    def _apply(self, res: SDCResult, defs: CellDefs, forced: np.ndarray) -> pd.DataFrame:
        table = res.table.copy()
        if not forced.any():
            return table
        sym = res.rules.suppressed_symbol
        rows = sorted({int(defs.rows[i]) for i in np.flatnonzero(forced) if defs.rows[i] >= 0})
        if res.kind == "figure":
            return table.drop(index=table.index[rows]).reset_index(drop=True)
        for c in defs.value_cols:
            if c in table.columns:
                col = table[c].astype(object)
                col.iloc[rows] = sym
                table[c] = col
        return table

    def _result_with(self, res: SDCResult, defs: CellDefs, table: pd.DataFrame, forced: np.ndarray,
                     rows: list[dict]) -> SDCResult:
        ev = res.evidence.copy()
        labels = set(defs.labels[i] for i in np.flatnonzero(forced))
        if len(ev):
            from leokit.sdc.aggregate import cell_labels
            key_cols = [c for c in ev.columns if c not in ("statistic", "n", "n_outcome", "n_without", "top1_share",
                                                            "top2_share", "p_ratio", "dominance_checked", "n_shown",
                                                            "value_shown", "rules")]
            evl = cell_labels(ev[key_cols]) if res.kind != "figure" else [f"bin={b}" for b in ev["bin"]]
            hit = np.array([lab in labels for lab in evl], dtype=bool)
            ev.loc[hit, "value_shown"] = False
            ev.loc[hit, "n_shown"] = False
            ev.loc[hit, "rules"] = ev.loc[hit, "rules"].map(lambda r: "; ".join([x for x in [r, "differencing"] if x]))
        k = int(forced.sum())
        summary = res.summary + f"; differencing with earlier outputs: {k} more cell{'s' if k != 1 else ''} " \
                                "suppressed"
        # a shown table (figure) keeps only the released bins
        if res.kind == "figure":
            rows_new = np.full(len(defs.rows), -1)
            keep = [i for i in range(len(defs.rows)) if defs.rows[i] >= 0 and not forced[i]]
            order = sorted(keep, key=lambda i: defs.rows[i])
            for j, i in enumerate(order):
                rows_new[i] = j
            defs = replace(defs, rows=rows_new)
        report = pd.concat([res.report, report_frame(rows)], ignore_index=True)
        return replace(res, table=table, report=report, summary=summary, evidence=ev,
                       n_suppressed=res.n_suppressed + k, cells=defs)

    # ------------------------------------------------------------------ the request
    def __repr__(self) -> str:
        lines = [f"OutputSession {self.name!r}: {len(self.releases)} output(s)"]
        for r in self.releases:
            extra = f"; {len(r.differencing)} differencing suppression(s)" if r.differencing else ""
            lines.append(f"  {r.index:2d}. {r.title} ({r.kind}{extra})")
        return "\n".join(lines)

    def write_request(self, folder: str | Path, *, date: str | None = None) -> Path:
        """Write the output request to ``folder``: per output ``NN-title.csv`` (what is released) and
        ``NN-title-evidence.csv`` (for the checker, not for release), ``README.md`` (the checker notes) and
        ``manifest.json`` (file names, SHA-256, titles, the rules). Deterministic: the same releases give the same
        bytes (``date`` is written only when passed). Files of an earlier request in the folder (listed in its
        manifest) are replaced; a non-empty folder without a manifest is refused. Returns the manifest's path.
        """
        folder = Path(folder)
        if folder.exists():
            old = folder / "manifest.json"
            if old.exists():
                try:
                    prev = json.loads(old.read_text(encoding="utf-8"))
                    for f in prev.get("files", []):
                        p = folder / f["file"]
                        if p.is_file() and p.parent == folder:
                            p.unlink()
                except (ValueError, KeyError, TypeError):
                    raise SDCInputError(f"{old} is not an output-request manifest; choose another folder") from None
                old.unlink()
            elif any(folder.iterdir()):
                raise SDCInputError(f"{folder} is not empty and holds no output request (manifest.json); choose an "
                                    "empty or new folder")
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, bytes] = {}
        outputs = []
        readme = [f"# Output request: {self.name}", ""]
        if date:
            readme += [f"Date: {date}", ""]
        r = self.rules
        readme += [
            "Checked with leokit.sdc. Rules: " + f"threshold {r.threshold} units; zeros disclosive: "
            f"{r.zeros_are_disclosive}; dominance ({r.nk_n}, {r.nk_k:.0%}) and p-ratio {r.pratio_p:.0%} for sums "
            f"and means; counts rounded to {r.round_counts}, money to {r.round_money}, percentages to "
            f"{r.pct_decimals} dp; suppressed = '{r.suppressed_symbol}'.",
            "",
            "Every table and figure was released through one output session: each cell was compared with the "
            f"cells and sums of cells released before it, and cells within 1-{r.threshold - 1} units of one were "
            "suppressed (rule 'differencing'). Models, sample flows and match summaries are listed but not "
            "compared. The evidence files are for the checker, not for release.",
            "",
            "| # | output | kind | released file | evidence file | differencing |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        body = []
        for rel in self.releases:
            stem = f"{rel.index:02d}-{_slug(rel.title)}"
            tfile = f"{stem}.csv"
            files[tfile] = _csv(rel.table)
            efile = None
            if rel.evidence is not None and len(rel.evidence):
                efile = f"{stem}-evidence.csv"
                files[efile] = _csv(rel.evidence)
            diff = (f"{len(rel.differencing)} cell(s) suppressed" if rel.differencing else
                    ("compared, none" if rel.compared else "not compared"))
            readme.append(f"| {rel.index} | {rel.title.replace('|', '/')} | {rel.kind} | {tfile} | {efile or '-'} "
                          f"| {diff} |")
            body += ["", f"## {rel.index}. {rel.title}", "", "```text", rel.notes.rstrip(), "```"]
            outputs.append({"index": rel.index, "title": rel.title, "kind": rel.kind, "file": tfile,
                            "evidence": efile, "differencing_suppressed": len(rel.differencing),
                            "compared": rel.compared})
        files["README.md"] = ("\n".join(readme + body) + "\n").encode("utf-8")
        for name, data in files.items():
            (folder / name).write_bytes(data)
        manifest = {
            "request": self.name,
            "rules": asdict(self.rules),
            "outputs": outputs,
            "files": [{"file": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                      for n, d in sorted(files.items())],
        }
        if date:
            manifest["date"] = date
        path = folder / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path
