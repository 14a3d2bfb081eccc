"""Sphinx glue for the LEO/NPD teaching kit's book (loaded through ``local_extensions`` in _config.yml).

Three small jobs, each of which Jupyter Book 1 cannot do from configuration alone:

1. **Citation labels are the kit's keys.** Code, docstrings and the codebook cite sources as
   ``[VRF]``, ``[GO-METH]`` ... (the keys of ``book/references.bib``). The pybtex label style
   ``kitkey`` registered here makes the references page and every ``{cite}`` role show the same
   ``[KEY]``, so a reader can look up a citation found anywhere in the kit. The formatting style
   ``kit`` is pybtex's ``unsrt`` with that label style, keeping titles' capitalisation, with the
   entries sorted by key.

2. **Download the executed notebook.** sphinx-book-theme offers ``.ipynb`` downloads of MyST
   Markdown pages only when a launch service (Binder ...) is configured. Here every notebook page
   gets it, offline: myst-nb writes the executed notebook to ``_build/jupyter_execute/``; it is
   copied next to the page source under ``_sources/`` and offered in the download menu
   (``.ipynb`` with outputs, ``.md`` source, ``.pdf`` via the browser's print).

3. **Launch buttons only where they can work.** Binder and Colab links need the public
   repository's URL, which the offline build neither knows nor needs. Set ``kit_repository_url``
   (a GitHub URL) in ``_config.yml`` (``sphinx: config:``) or the environment variable
   ``LEOKIT_BOOK_REPOSITORY_URL`` when the book is published: notebook pages then get a Binder
   button (JupyterLab, which opens MyST ``.md`` files as notebooks through jupytext) and ``.ipynb``
   pages also a Colab button (Colab opens only ``.ipynb`` files from GitHub, so it is not offered
   for ``.md`` chapters). The links are plain URLs: nothing is fetched at build time.

4. **No duplicated inline scripts.** sphinx-thebe's configuration script (``const THEBE_JS_URL =
   ...``) ends up twice on every page under Jupyter Book 1, and the second copy throws
   ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared`` in the browser. Identical
   script entries are kept once (the browser test fails on any JavaScript error).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.template import field, sentence
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
ENV_REPOSITORY = "LEOKIT_BOOK_REPOSITORY_URL"
BINDER_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"


# --- 1. citation labels -------------------------------------------------------------------------
class KeyLabelStyle(BaseLabelStyle):
    """Label every entry with its BibTeX key: ``[VRF]``, ``[Card2018]``."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield entry.key


class KeySortingStyle(BaseSortingStyle):
    """Entries in alphabetical order of their keys, as in ``references.bib``."""

    def sorting_key(self, entry):
        return entry.key.lower()


class KitStyle(UnsrtStyle):
    """pybtex ``unsrt`` formatting with the kit's key labels, sorted by key."""

    default_label_style = "kitkey"
    default_sorting_style = "kitkey"

    def format_title(self, e, which_field, as_sentence=True):
        # keep the title's own capitalisation (unsrt lower-cases it: "SACRO" -> "sacro")
        formatted = field(which_field)
        return sentence[formatted] if as_sentence else formatted


register_plugin("pybtex.style.labels", "kitkey", KeyLabelStyle)
register_plugin("pybtex.style.sorting", "kitkey", KeySortingStyle)
register_plugin("pybtex.style.formatting", "kit", KitStyle)


# --- 2. executed-notebook downloads -------------------------------------------------------------
def _is_notebook_page(app: Sphinx, pagename: str) -> bool:
    meta = app.env.metadata.get(pagename, {})
    return "kernelspec" in meta or str(app.env.doc2path(pagename)).endswith(".ipynb")


def add_ipynb_download(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if doctree is None or not _is_notebook_page(app, pagename):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix == ".ipynb":
        return  # the theme's source download already is the notebook
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        LOGGER.warning("kit_book: no executed notebook for %s at %s", pagename, executed)
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


# --- 3. launch buttons --------------------------------------------------------------------------
def repository_url(app: Sphinx) -> str:
    return (os.environ.get(ENV_REPOSITORY) or app.config.kit_repository_url or "").strip().rstrip("/")


def configure_launch(app: Sphinx, config) -> None:
    """Turn on Binder/Colab when a public GitHub URL is known; otherwise leave them off."""
    url = repository_url(app)
    opts = dict(config.html_theme_options or {})
    launch = dict(opts.get("launch_buttons") or {})
    if not url:
        for key in ("binderhub_url", "colab_url", "jupyterhub_url", "thebe"):
            launch.pop(key, None)
        opts["launch_buttons"] = launch
        config.html_theme_options = opts
        return
    if not url.startswith("https://github.com/"):
        raise ValueError(f"kit_repository_url must be a https://github.com/<org>/<repo> URL, got {url!r}")
    launch.update(binderhub_url=BINDER_URL, colab_url=COLAB_URL, notebook_interface="jupyterlab")
    opts["launch_buttons"] = launch
    opts["repository_url"] = url
    opts.setdefault("repository_branch", "main")
    config.html_theme_options = opts


def drop_colab_for_markdown(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Colab cannot open MyST .md files: keep its button only on .ipynb pages."""
    if doctree is None or str(app.env.doc2path(pagename)).endswith(".ipynb"):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [b for b in group.get("buttons", []) if b.get("text") != "Colab"]


# --- 4. duplicated scripts ----------------------------------------------------------------------
def dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        # the same file or inline body (registered once with filename None, once with ''),
        # whatever priority it was registered with
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    # in place: the list is the builder's own, and handlers after this one (MathJax, priority 500)
    # append to it; Sphinx restores it before the next page
    scripts[:] = kept


def setup(app: Sphinx) -> dict:
    app.add_config_value("kit_repository_url", "", "html")
    app.connect("config-inited", configure_launch)
    # before sphinx-book-theme's header buttons (priority 501) read ``ipynb_source``
    app.connect("html-page-context", add_ipynb_download, priority=400)
    app.connect("html-page-context", drop_colab_for_markdown, priority=502)
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", dedupe_scripts, priority=450)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
