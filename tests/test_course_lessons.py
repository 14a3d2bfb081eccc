"""Every course chapter has the lesson shape of the intro-course issue (static checks, fast).

Applies to the MyST chapters under book/intro/ and book/advanced/: a jupytext
header, learning objectives in an admonition, data loaded through leokit, at least one exercise
with a hidden solution, a self-check, key ideas, and a closing checklist. truth.json is read only
in hidden cells (self-checks), never by the analysis.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

import toc
from _foundation import ROOT

COURSE_DIRS = ("book/intro", "book/advanced")
CHAPTERS = sorted(p for d in COURSE_DIRS for p in (ROOT / d).glob("*.md"))


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_the_intro_course_has_at_least_eight_chapters_in_the_toc():
    intro = [p for p in CHAPTERS if p.parent.name == "intro"]
    assert len(intro) >= 8
    listed = set(toc.files())
    assert set(intro) <= listed


def test_the_advanced_course_has_at_least_six_chapters_in_the_toc_each_leading_on():
    advanced = [p for p in CHAPTERS if p.parent.name == "advanced"]
    assert len(advanced) >= 6
    listed = toc.files()
    assert set(advanced) <= set(listed)
    # the advanced part reads in order: chapters numbered in toc order, each exemplar after a methods chapter
    order = [p for p in listed if p.parent.name in ("advanced", "exemplars")]
    chapters = [p for p in order if p.parent.name == "advanced"]
    assert chapters == sorted(chapters), "advanced chapters out of order in _toc.yml"
    for i, p in enumerate(order):
        if p.parent.name == "exemplars":
            assert i > 0 and order[i - 1].parent.name == "advanced", f"{p.name} does not follow a methods chapter"
            assert any(p.stem in c.read_text(encoding="utf-8") for c in chapters), f"no chapter leads into {p.name}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_has_the_lesson_shape(chapter):
    text = chapter.read_text(encoding="utf-8")
    assert toc.is_myst_notebook(chapter), "jupytext header missing"
    assert re.search(r"```\{admonition\} Learning objectives\n:class: tip", text), "objectives admonition"
    assert re.search(r"\bleokit\.(load_table|stack_\w+|db\.query|db\.views|dedup_\w+)\(", text), "no leokit loading"
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: ([\w-]+)", text)
    assert exercises, "no exercise"
    for label in exercises:
        hidden = (re.search(r"```\{solution-start\} " + re.escape(label) + r"\n:class: dropdown", text)
                  or re.search(r"```\{solution\} " + re.escape(label) + r"\n:class: dropdown", text))
        assert hidden, f"exercise {label} has no solution hidden in a dropdown"
    for heading in ("## Self-check", "## Key ideas", "## Checklist"):
        assert re.search(rf"^{heading}", text, flags=re.M), f"missing {heading!r}"
    checklist = text[text.index("## Checklist"):]
    assert ":::{container} checklist" in checklist and "- [ ]" in checklist


@pytest.mark.parametrize("chapter", CHAPTERS, ids=_ids(CHAPTERS))
def test_truth_is_read_only_in_hidden_cells(chapter):
    nb = jupytext.read(chapter)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        if "truth.json" in cell.source or re.search(r"\bTRUTH\[", cell.source):
            assert tags & {"remove-cell", "hide-input"}, f"truth read in a visible cell:\n{cell.source}"


def test_the_checks_above_can_fail(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
                   "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n"
                   "# Bad\n\n```{code-cell} ipython3\nx = TRUTH['a']\n```\n")
    with pytest.raises(AssertionError):
        test_chapter_has_the_lesson_shape(bad)
    with pytest.raises(AssertionError):
        test_truth_is_read_only_in_hidden_cells(bad)
