"""The registry of derived variables: every variable is defined once, as a function, with its metadata beside it.

Use the :func:`derived` decorator on the function that computes a variable::

    @derived(
        name="paye_earnings",
        label="Annual PAYE earnings",
        theme="earnings",
        definition="Sum of Earnings over all of the person's EDUKEYs in the tax year.",
        sources=[("leo_earnings", "Earnings"), ("leo_earnings", "TaxYear")],
        unit="GBP per tax year (nominal)",
        valid_values=">= 0",
        caveats="Negative P14 earnings are set to 0 by HMRC.",
        level="person-year",
        status="documented",
    )
    def annual_paye_earnings(leo_earnings, edukey_map=None): ...

One function may compute several variables (several output columns): stack one ``@derived`` per
variable. The metadata lives in :data:`REGISTRY` (name -> :class:`VariableMeta`), and the codebook
(the book page ``book/reference/codebook.md`` and the CSV written by ``python -m leokit codebook``)
is generated from it - never written by hand.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

__all__ = [
    "VariableMeta",
    "REGISTRY",
    "THEMES",
    "LEVELS",
    "STATUSES",
    "derived",
    "list_variables",
    "codebook_frame",
    "write_codebook_csv",
    "codebook_markdown",
    "codebook_html",
    "codebook_csv_text",
    "codebook_download_html",
    "get_variable",
]

#: Themes, in the order the codebook shows them.
THEMES: dict[str, str] = {
    "attainment": "Prior attainment and qualifications",
    "disadvantage": "Disadvantage and area",
    "higher_education": "Higher education",
    "earnings": "Earnings",
    "employment": "Employment, benefits and activity",
    "outcomes": "Outcomes after graduation and at fixed ages",
    "employer": "Employers and coworkers",
}
#: Unit of observation of a derived variable.
LEVELS = ("person", "person-year", "person-spell", "enterprise-year", "tax-year")
#: How firmly the definition rests on a published source: ``documented`` (follows a DfE/ONS/OfS
#: published rule), ``inferred`` (our reading of an unpublished or ambiguous rule - check before
#: relying on it), ``kit`` (a convention of this kit, chosen for teaching).
STATUSES = ("documented", "inferred", "kit")


@dataclass(frozen=True)
class VariableMeta:
    """Metadata of one derived variable (one output column of a derivation function)."""

    name: str
    label: str
    theme: str
    definition: str
    sources: tuple[tuple[str, str], ...]
    unit: str
    valid_values: str
    caveats: str
    level: str
    status: str
    function: str = ""  # dotted name of the function that computes it, filled in by the decorator
    output_key: tuple[str, ...] = ()  # the columns identifying a row of the output

    def __post_init__(self) -> None:
        if self.theme not in THEMES:
            raise ValueError(f"derived variable {self.name!r}: unknown theme {self.theme!r} (known: {list(THEMES)})")
        if self.level not in LEVELS:
            raise ValueError(f"derived variable {self.name!r}: unknown level {self.level!r} (known: {LEVELS})")
        if self.status not in STATUSES:
            raise ValueError(f"derived variable {self.name!r}: unknown status {self.status!r} (known: {STATUSES})")

    @property
    def sources_text(self) -> str:
        return "; ".join(f"{t}.{c}" for t, c in self.sources)


#: name -> VariableMeta, in registration order.
REGISTRY: dict[str, VariableMeta] = {}
#: name -> function
_FUNCTIONS: dict[str, Callable] = {}


def derived(
    *,
    name: str,
    label: str,
    theme: str,
    definition: str,
    sources: Iterable[tuple[str, str]],
    unit: str,
    valid_values: str,
    caveats: str,
    level: str,
    status: str = "kit",
    output_key: Iterable[str] = (),
) -> Callable[[Callable], Callable]:
    """Register the decorated function as the one definition of derived variable ``name``.

    ``sources`` lists the real (table, column) pairs read, with table names as in
    :mod:`leokit.schema` (for a year-suffixed family give one member, e.g. ``hesa_2015`` or
    ``spring_census_2015``). The tests check every pair against the schema.
    """

    def wrap(func: Callable) -> Callable:
        if name in REGISTRY and _FUNCTIONS.get(name) is not func:
            raise ValueError(f"derived variable {name!r} registered twice")
        meta = VariableMeta(
            name=name, label=label, theme=theme, definition=" ".join(definition.split()),
            sources=tuple((str(t), str(c)) for t, c in sources), unit=unit, valid_values=valid_values,
            caveats=" ".join(caveats.split()), level=level, status=status,
            function=f"{func.__module__}.{func.__qualname__}", output_key=tuple(output_key),
        )
        REGISTRY[name] = meta
        _FUNCTIONS[name] = func
        existing = getattr(func, "derived_variables", ())
        func.derived_variables = tuple(existing) + (name,)  # type: ignore[attr-defined]
        return func

    return wrap


def get_variable(name: str) -> tuple[VariableMeta, Callable]:
    """Metadata and function of variable ``name``."""
    if name not in REGISTRY:
        raise KeyError(f"no derived variable {name!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[name], _FUNCTIONS[name]


_COLUMNS = [f.name for f in fields(VariableMeta)]


def list_variables() -> pd.DataFrame:
    """All registered variables, one row each, in registration order (sources as a list of pairs)."""
    rows = [asdict(m) for m in REGISTRY.values()]
    return pd.DataFrame(rows, columns=_COLUMNS)


def codebook_frame() -> pd.DataFrame:
    """The codebook as a flat table of strings (sources and output key joined), sorted by theme then name."""
    theme_order = {t: i for i, t in enumerate(THEMES)}
    metas = sorted(REGISTRY.values(), key=lambda m: (theme_order[m.theme], m.name))
    rows = []
    for m in metas:
        rows.append({
            "name": m.name,
            "label": m.label,
            "theme": m.theme,
            "level": m.level,
            "unit": m.unit,
            "valid_values": m.valid_values,
            "definition": m.definition,
            "sources": m.sources_text,
            "caveats": m.caveats,
            "status": m.status,
            "function": m.function,
            "output_key": ", ".join(m.output_key),
        })
    cols = ["name", "label", "theme", "level", "unit", "valid_values", "definition", "sources", "caveats",
            "status", "function", "output_key"]
    return pd.DataFrame(rows, columns=cols).astype(object)


def write_codebook_csv(path: str | Path) -> Path:
    """Write the codebook CSV (UTF-8, one row per variable, deterministic). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(codebook_csv_text(), encoding="utf-8")
    return path


def codebook_csv_text() -> str:
    """The codebook CSV as a string (exactly what :func:`write_codebook_csv` writes)."""
    frame = codebook_frame()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow(["" if v is None else str(v) for v in row])
    return buf.getvalue()


def codebook_download_html(filename: str = "codebook.csv", text: str = "Download the codebook as CSV") -> str:
    """An HTML link that downloads the codebook CSV, embedded as a ``data:`` URI (no file is written)."""
    import base64

    payload = base64.b64encode(codebook_csv_text().encode("utf-8")).decode("ascii")
    return (f'<a download="{html.escape(filename)}" href="data:text/csv;charset=utf-8;base64,{payload}">'
            f"{html.escape(text)}</a> ({len(REGISTRY)} variables, generated from <code>leokit.derive.REGISTRY</code>)")


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(theme: str | None = None, *, heading_level: int = 2) -> str:
    """The codebook (or one theme of it) as Markdown: a heading per theme and one table per theme.

    The text is deterministic (same registry -> same string), so a built page is reproducible.
    ``heading_level=0`` leaves out the theme headings (when the page has its own).
    """
    frame = codebook_frame()
    themes = [theme] if theme else [t for t in THEMES if (frame["theme"] == t).any()]
    out: list[str] = []
    for t in themes:
        sub = frame[frame["theme"] == t]
        if heading_level:
            out.append(f"{'#' * heading_level} {THEMES[t]}\n")
        out.append("| Variable | Level | Definition | Unit / values | Sources | Caveats | Status |")
        out.append("|---|---|---|---|---|---|---|")
        for r in sub.itertuples(index=False):
            out.append(
                f"| `{r.name}`<br>{_md_cell(r.label)} | {r.level} | {_md_cell(r.definition)} | "
                f"{_md_cell(r.unit)}; {_md_cell(r.valid_values)} | {_md_cell(r.sources)} | "
                f"{_md_cell(r.caveats)} | {r.status} |"
            )
        out.append("")
    return "\n".join(out)


def codebook_html(theme: str | None = None) -> str:
    """The codebook (or one theme) as an HTML table, deterministic (what the book page displays)."""
    frame = codebook_frame()
    if theme:
        frame = frame[frame["theme"] == theme]
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("Variable", "Definition and caveats", "Sources"))
    rows = []
    for r in frame.itertuples(index=False):
        sources = "<br>".join(f"<code>{esc(s)}</code>" for s in r.sources.split("; ") if s)
        rows.append(
            "<tr>"
            f"<td><code>{esc(r.name)}</code><br><b>{esc(r.label)}</b><br>level: {esc(r.level)}<br>"
            f"status: {esc(r.status)}</td>"
            f"<td>{esc(r.definition)}<br><i>Unit:</i> {esc(r.unit)}. <i>Values:</i> {esc(r.valid_values)}."
            f"<br><i>Caveats:</i> {esc(r.caveats)}</td>"
            f"<td>{sources}</td>"
            "</tr>"
        )
    return ('<table class="leokit-codebook" style="font-size: 0.85em">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
