"""The built book in a real browser: headless Chromium, offline, every page in _toc.yml.

Run with ``make browser-test`` after ``make book`` (CI does both; ``.ci/run`` installs Debian's
``chromium`` first). The make target sets ``LEOKIT_BOOK_HTML`` to the built site and
``LEOKIT_REQUIRE_BROWSER_TEST=1``, which turns every skip below into a failure. In a plain
``make test`` the module is skipped with the reason, because the book may not be built (or be
stale) then.

The site is served from 127.0.0.1 by a thread of this process; Chromium runs with the offline flags
of the intro-course issue and resolves no host name at all, and every request it makes is recorded.
Checked, for every page listed in ``_toc.yml``:

* it loads, its ``<title>`` starts with its ``<h1>``, and no JavaScript error is thrown;
* every internal link (``href`` on the same origin) resolves to a file, and its ``#fragment`` to
  an element id in that file;
* every image loaded (non-zero natural width), and pages whose executed notebook has image outputs
  show at least that many images;
* maths is typeset by MathJax from ``_static/mathjax`` (no raw TeX, no MathJax error);
* notebook pages offer the executed ``.ipynb`` for download, with outputs;
* no request leaves the machine.

Plus: the search page finds chapters by their key terms. Screenshots of every page are written to
``LEOKIT_SCREENSHOTS`` (default ``_build/screenshots``) for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import toc
from _foundation import ROOT
from cdp import Browser, find_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REQUIRED = os.environ.get("LEOKIT_REQUIRE_BROWSER_TEST") == "1"
HTML_DIR = os.environ.get("LEOKIT_BOOK_HTML")
SHOTS = Path(os.environ.get("LEOKIT_SCREENSHOTS") or ROOT / "_build" / "screenshots")

# Everything the page can tell us, in one evaluation (after MathJax and images have settled).
COLLECT_JS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); })));
  const h1 = document.querySelector('main h1, article h1, h1');
  return {
    title: document.title,
    h1: h1 ? h1.textContent.replace(/[#¶]\s*$/, '').trim() : null,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    images: Array.from(document.images).map(img => ({src: img.currentSrc || img.src,
                                                      width: img.naturalWidth,
                                                      output: !!img.closest('.cell_output, .output')})),
    math_elements: document.querySelectorAll('.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    mjx_errors: document.querySelectorAll('mjx-merror').length,
    raw_tex: Array.from(document.querySelectorAll('.math')).filter(
                 el => !el.querySelector('mjx-container') && /\\\(|\\\[|\$/.test(el.textContent)).length,
    mathjax_src: Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s)),
    downloads: Array.from(document.querySelectorAll('.dropdown-download-buttons a, a.btn[href*="_sources"]'))
                    .map(a => a.href),
  };
})()
"""


def _skip_or_fail(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(root: Path):
    """Serve ``root`` on 127.0.0.1 from a daemon thread; returns (server, base URL)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def page_url(base: str, docname: str) -> str:
    return base + docname + ".html"


def visit(page, url: str) -> dict:
    page.requests(), page.exceptions()  # drop anything from the previous page
    page.goto(url)
    info = page.evaluate(COLLECT_JS, timeout=60)
    info["url"] = url
    info["exceptions"] = page.exceptions()
    info["requests"] = page.requests()
    return info


# --- checks (pure functions, so the tests at the bottom can show they fail) ------------------------
def _ids(html_file: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding="utf-8", errors="replace")))


def link_problems(info: dict, base: str, root: Path) -> list[str]:
    problems, cache = [], {}
    for href in info["links"]:
        if not href.startswith(base):
            continue  # external links are not followed (offline)
        parts = urlsplit(href)
        rel = unquote(parts.path[len(urlsplit(base).path):])
        target = root / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{info['url']}: link to missing file {rel!r}")
            continue
        if parts.fragment and target.suffix == ".html":
            ids = cache.setdefault(target, _ids(target))
            if unquote(parts.fragment) not in ids:
                problems.append(f"{info['url']}: link to missing anchor {rel}#{parts.fragment}")
    return problems


def image_problems(info: dict, expected_outputs: int = 0) -> list[str]:
    problems = [f"{info['url']}: image did not load: {img['src']}" for img in info["images"] if not img["width"]]
    shown = sum(1 for img in info["images"] if img["output"] and img["width"])
    if shown < expected_outputs:
        problems.append(f"{info['url']}: {expected_outputs} figure(s) in the executed notebook, {shown} shown")
    return problems


def math_problems(info: dict) -> list[str]:
    if not info["math_elements"]:
        return []
    problems = []
    if info["mjx"] < info["math_elements"]:
        problems.append(f"{info['url']}: {info['math_elements']} maths elements, {info['mjx']} typeset by MathJax")
    if info["mjx_errors"]:
        problems.append(f"{info['url']}: {info['mjx_errors']} MathJax error(s)")
    if info["raw_tex"]:
        problems.append(f"{info['url']}: {info['raw_tex']} element(s) still show raw TeX")
    if not info["mathjax_src"] or not all("/_static/mathjax/" in s for s in info["mathjax_src"]):
        problems.append(f"{info['url']}: MathJax not served from the site: {info['mathjax_src']}")
    return problems


def request_problems(info: dict, base: str) -> list[str]:
    return [f"{info['url']}: request left the machine: {u}" for u in info["requests"]
            if not (u.startswith(base) or u.startswith(("data:", "blob:", "about:")))]


def executed_image_outputs(root: Path, docname: str) -> int:
    """Image outputs in the notebook the build executed for ``docname`` (0 if not a notebook)."""
    nb = root.parent / "jupyter_execute" / f"{docname}.ipynb"
    if not nb.is_file():
        return 0
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site():
    if not HTML_DIR:
        _skip_or_fail("LEOKIT_BOOK_HTML is not set: run `make book` then `make browser-test`")
    root = Path(HTML_DIR).resolve()
    if not (root / "book" / "intro.html").is_file():
        _skip_or_fail(f"no built book in {root}: run `make book` first")
    if not find_chromium():
        _skip_or_fail("chromium is not installed (Debian: `apt-get install chromium`; CI installs it)")
    server, base = serve(root)
    yield root, base
    server.shutdown()


@pytest.fixture(scope="module")
def visits(site):
    root, base = site
    out = {}
    with Browser() as browser:
        page = browser.new_page()
        for docname in toc.docnames():
            info = visit(page, page_url(base, docname))
            slug = docname.replace("/", "__")
            page.screenshot(SHOTS / f"{slug}.png")
            # also the first figure, exercise and checklist of the page, for people to look at
            for name, selector in [("figure", ".cell_output img"), ("exercise", ".exercise"),
                                   ("checklist", ".checklist")]:
                if page.evaluate(f"!!document.querySelector('{selector}')"):
                    page.evaluate(f"document.querySelector('{selector}').scrollIntoView({{block: 'center'}})")
                    page.screenshot(SHOTS / f"{slug}__{name}.png")
            out[docname] = info
    return out


# --- tests on the built book -------------------------------------------------------------------
def test_every_toc_page_loads_with_its_title(visits):
    problems = []
    for docname, info in visits.items():
        if not info["h1"]:
            problems.append(f"{docname}: no <h1>")
        elif not info["title"].startswith(info["h1"]):
            problems.append(f"{docname}: title {info['title']!r} does not start with h1 {info['h1']!r}")
        problems += [f"{docname}: JavaScript error: {e}" for e in info["exceptions"]]
    assert len(visits) == len(toc.docnames()) and visits
    assert not problems, "\n".join(problems)


def test_internal_links_resolve(site, visits):
    root, base = site
    problems = [p for info in visits.values() for p in link_problems(info, base, root)]
    n_links = sum(len(info["links"]) for info in visits.values())
    assert n_links > 10 * len(visits)  # the sidebar alone links every page
    assert not problems, "\n".join(problems)


def test_figures_have_images(site, visits):
    root, _ = site
    expected = {d: executed_image_outputs(root, d) for d in visits}
    assert sum(expected.values()) >= 3, expected  # the chapters do draw figures
    problems = [p for d, info in visits.items() for p in image_problems(info, expected[d])]
    assert not problems, "\n".join(problems)


def test_math_renders_offline(visits):
    with_math = [d for d, info in visits.items() if info["math_elements"]]
    assert with_math, "no page with maths: the check would be vacuous"
    problems = [p for info in visits.values() for p in math_problems(info)]
    assert not problems, "\n".join(problems)


def test_no_request_leaves_the_machine(site, visits):
    _, base = site
    problems = [p for info in visits.values() for p in request_problems(info, base)]
    assert not problems, "\n".join(problems)


def test_notebook_pages_offer_the_executed_notebook(site, visits):
    root, base = site
    problems = []
    notebooks = [d for d in visits if (ROOT / f"{d}.ipynb").is_file()
                 or ((ROOT / f"{d}.md").is_file() and toc.is_myst_notebook(ROOT / f"{d}.md"))]
    assert any((ROOT / f"{d}.ipynb").is_file() for d in notebooks), "no .ipynb page (exemplar) was visited"
    for docname in notebooks:
        ipynb = [u for u in visits[docname]["downloads"] if u.endswith(".ipynb")]
        if not ipynb:
            problems.append(f"{docname}: no .ipynb download")
            continue
        path = root / unquote(urlsplit(ipynb[0]).path[len(urlsplit(base).path):])
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
            problems.append(f"{docname}: the downloadable notebook has no outputs")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("term, page", [
    ("EDUKEY", "book/intro/03-identifiers-and-linkage"),
    ("sustained", "book/intro/04-derived-variables"),
    ("TUNDRA", "book/intro/05-contextual-data"),
    ("did2s", "book/advanced/05-staggered-did"),
    ("classpack", "book/instructor/advanced-days"),
])
def test_search_finds_the_chapter(site, term, page):
    _, base = site
    with Browser() as browser:
        tab = browser.new_page()
        tab.goto(f"{base}search.html?q={term}")
        tab.wait_for("(document.querySelector('#search-results .search-summary') || {}).textContent", timeout=30)
        hits = tab.evaluate("Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)")
        tab.screenshot(SHOTS / f"search__{term}.png")
    assert any(h.split("#")[0].endswith(page + ".html") for h in hits), hits


def test_screenshots_were_written(visits):
    shots = sorted(SHOTS.glob("*.png"))
    assert len(shots) >= len(visits)
    assert all(p.stat().st_size > 5_000 for p in shots)  # not blank


# --- the checks themselves can fail ------------------------------------------------------------
def test_checks_catch_a_broken_page(tmp_path):
    if not find_chromium():
        _skip_or_fail("chromium is not installed")
    (tmp_path / "ok.html").write_text('<html><head><title>OK</title></head><body><h1 id="top">OK</h1></body></html>')
    (tmp_path / "bad.html").write_text(
        '<html><head><title>Bad page</title></head><body><h1>Bad page</h1>'
        '<a href="missing.html">gone</a> <a href="ok.html#nowhere">no anchor</a> <a href="ok.html#top">fine</a>'
        '<div class="cell_output"><img src="missing.png"></div>'
        '<span class="math">\\(x^2\\)</span>'
        '<img src="http://example.invalid/pixel.png">'
        "<script>undefined_function()</script></body></html>")
    server, base = serve(tmp_path)
    try:
        with Browser() as browser:
            info = visit(browser.new_page(), base + "bad.html")
    finally:
        server.shutdown()
    links = link_problems(info, base, tmp_path)
    assert any("missing.html" in p for p in links) and any("#nowhere" in p for p in links)
    assert not any("#top" in p for p in links)
    assert any("did not load" in p for p in image_problems(info, expected_outputs=1))
    assert math_problems(info)  # raw TeX, no MathJax
    assert request_problems(info, base)  # the external image was attempted (and blocked)
    assert any("undefined_function" in e for e in info["exceptions"])
