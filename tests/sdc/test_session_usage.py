"""Every exemplar releases its outputs through one leokit.sdc.OutputSession and writes its output request next to
its results file; every chapter that shows a checked output uses a session (read from the sources, no execution)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXEMPLARS = sorted((ROOT / "exemplars").glob("*.ipynb"))
CHAPTERS = sorted([*(ROOT / "book" / "intro").glob("*.md"), *(ROOT / "book" / "advanced").glob("*.md")])
#: calls whose result is an output: they must sit inside session.release(...) in an exemplar
OUTPUT_CALL = re.compile(r"\b(?:sdc\.(?:safe_table|safe_share|safe_binned|safe_histogram|check_table)|match_summary|"
                         r"sample_flow)\(")


def _code(nb: Path) -> str:
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _release_spans(src: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"session\.release\(", src):
        depth, i = 1, m.end()
        while depth and i < len(src):
            depth += {"(": 1, ")": -1}.get(src[i], 0)
            i += 1
        spans.append((m.start(), i))
    return spans


def test_every_exemplar_is_found():
    assert {p.stem for p in EXEMPLARS} >= {"returns_to_degree", "spillovers", "contextual_offers"}


@pytest.mark.parametrize("nb", EXEMPLARS, ids=lambda p: p.stem)
def test_exemplar_releases_every_output_and_writes_its_request(nb):
    src = _code(nb)
    assert src.count("sdc.OutputSession(") == 1
    assert re.search(r'request_dir = results_path\.rsplit\("\.", 1\)\[0\] \+ "_output_request"', src), \
        "the request must go next to the results file (under _build or the caller's folder), never the repo tree"
    assert "session.write_request(request_dir)" in src
    first_output = OUTPUT_CALL.search(src)
    assert first_output is None or src.index("sdc.OutputSession(") < first_output.start()
    spans = _release_spans(src)
    outside = [src[max(0, m.start() - 40):m.end() + 20] for m in OUTPUT_CALL.finditer(src)
               if not any(a <= m.start() < b for a, b in spans)]
    assert not outside, f"outputs not released through the session: {outside}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_showing_checked_outputs_uses_a_session(chapter):
    text = chapter.read_text(encoding="utf-8")
    shows = re.search(r"sdc\.(safe_table|safe_share|safe_binned|safe_histogram|safe_coef_table|check_model)\(", text)
    if shows is None:
        pytest.skip("no checked output shown")
    assert "OutputSession(" in text and "session.release(" in text
