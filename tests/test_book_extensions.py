"""The book's Sphinx glue (book/_ext/kit_book.py) and extensions, on throwaway books.

Each test builds a small book with the repository's own _config.yml, bibliography and _ext, and
the Makefile's jupyter-book flags, under the network guard, as `make book` does:

* the references page lists every entry of book/references.bib, labelled [KEY], sorted by key,
  and a {cite} role renders as [KEY];
* exercises render with their solutions hidden (dropdown);
* maths is set up for the MathJax copied into the site (no CDN);
* notebook pages offer the executed .ipynb; Binder/Colab buttons appear only when the repository
  URL is configured, and Colab only for .ipynb pages.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from _foundation import MYST_HEADER, ROOT, guarded_env, jupyter_book_cmd

pytestmark = [pytest.mark.book, pytest.mark.slow]

CHAPTER = MYST_HEADER + """# A chapter

Earnings follow {cite}`VRF` and $\\log y = \\alpha + \\beta x$.

```{code-cell} ipython3
print("executed", 6 * 7)
```

```{exercise} Try it
:label: ex-try

Compute 6 * 7.
```

```{solution-start} ex-try
:class: dropdown
```

```{code-cell} ipython3
print("solution", 6 * 7)
```

```{solution-end}
```
"""

REFERENCES = "# References\n\n```{bibliography}\n:all:\n```\n"


def _bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), flags=re.M)


def _build(tmp_path: Path, repository_url: str | None = None) -> Path:
    book = tmp_path / "throwaway"
    (book / "book").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    if repository_url is not None:
        config["sphinx"]["config"]["kit_repository_url"] = repository_url
    (book / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (book / "book" / "_ext").symlink_to(ROOT / "book" / "_ext")
    shutil.copy(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "book" / "intro.md").write_text("# Throwaway book\n")
    (book / "book" / "chapter.md").write_text(CHAPTER)
    (book / "book" / "references.md").write_text(REFERENCES)
    (book / "exemplars").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# An exemplar"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, book / "exemplars" / "ex.ipynb")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: book/chapter\n  - file: exemplars/ex\n  - file: book/references\n")
    env = guarded_env()
    env.pop("LEOKIT_BOOK_REPOSITORY_URL", None)
    res = subprocess.run([*jupyter_book_cmd(), str(book)], cwd=book, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def offline_site(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("offline"))


def test_references_page_lists_every_key_sorted(offline_site):
    html = (offline_site / "book" / "references.html").read_text()
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>([^<]+)<', html)
    keys = _bib_keys()
    assert labels == sorted(keys, key=str.lower)
    assert set(labels) == set(keys) and len(keys) >= 10


def test_cite_role_shows_the_kit_key(offline_site):
    html = (offline_site / "book" / "chapter.html").read_text()
    assert re.search(r'\[<a [^>]*href="references.html#[^"]+"[^>]*>VRF</a>\]', html), \
        re.findall(r".{80}VRF.{80}", html)


def test_solutions_are_hidden_and_code_executed(offline_site):
    html = (offline_site / "book" / "chapter.html").read_text()
    assert "executed 42" in html and "solution 42" in html
    solution = re.search(r'<div[^>]*class="[^"]*solution[^"]*"', html)
    assert solution and "dropdown" in solution.group(0), solution


def test_inline_scripts_appear_once(offline_site):
    # sphinx-thebe's config script came twice and threw a SyntaxError in the browser
    html = (offline_site / "book" / "chapter.html").read_text()
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert bodies and len(bodies) == len(set(bodies)), [b[:60] for b in bodies if bodies.count(b) > 1]
    assert html.count("const THEBE_JS_URL") == 1


def test_mathjax_is_served_from_the_site(offline_site):
    html = (offline_site / "book" / "chapter.html").read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html, flags=re.I)
    assert scripts and all(s.startswith("../_static/mathjax/") for s in scripts), scripts
    assert (offline_site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert list((offline_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert "cdn.jsdelivr" not in html


def test_offline_build_offers_ipynb_download_and_no_launch_buttons(offline_site):
    html = (offline_site / "book" / "chapter.html").read_text()
    assert "_sources/book/chapter.ipynb" in html
    nb = json.loads((offline_site / "_sources" / "book" / "chapter.ipynb").read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert any("executed 42" in "".join(o.get("text", "")) for o in outputs)
    assert "mybinder.org" not in html and "colab.research.google.com" not in html
    assert "executablebooks/jupyter-book" not in html  # not Jupyter Book's default repository


def test_repository_url_turns_on_binder_and_colab_for_ipynb_only(tmp_path):
    site = _build(tmp_path, repository_url="https://github.com/example-org/leo-kit")
    chapter = (site / "book" / "chapter.html").read_text()
    exemplar = (site / "exemplars" / "ex.html").read_text()
    assert "mybinder.org/v2/gh/example-org/leo-kit/main" in chapter
    assert "colab.research.google.com" not in chapter  # Colab cannot open MyST .md
    assert "colab.research.google.com/github/example-org/leo-kit/blob/main/exemplars/ex.ipynb" in exemplar


def test_a_non_github_repository_url_is_refused(tmp_path):
    with pytest.raises(AssertionError, match="kit_repository_url must be"):
        _build(tmp_path, repository_url="https://gitlab.example/org/repo")
