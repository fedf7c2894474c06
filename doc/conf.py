"""Sphinx configuration of the skinfluence documentation site.

Build (warnings are errors), from the repository root:

    python -m sphinx -W -b html doc doc/_build/html
"""

import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, os.path.abspath(".."))

import skinfluence

project = "skinfluence"
author = "skinfluence developers"
copyright = "2026, skinfluence developers"
version = release = skinfluence.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
# the library's docstrings state formulas in plain text (H^-1, x_i'): no cross-referencing
# of every type name in parameter lists
numpydoc_xref_param_type = False

intersphinx_mapping = {}  # offline build: no inventories fetched

myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # only the fast plot_*.py examples run in the gallery; the longer studies
    # (mislabel_triage.py, sketch_removal.py, ...) are run by hand (see the user guide)
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(^|/)(?!plot_)[^/]*\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skinfluence {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only what skinfluence defines (not scikit-learn's metadata-routing
    methods, whose docstrings refer to scikit-learn's own glossary)."""
    module = getattr(obj, "__module__", None) or ""
    if callable(obj) and not module.startswith("skinfluence"):
        return True
    return skip


_LITERAL = re.compile(r"(``.*?``|`[^`]*`_?)")
_ABS = re.compile(r"(?<![\\|])\|(?=[^\s|])([^|\n]*?[^\s|])\|(?!_)")
_PARAM = re.compile(r"^\s*[\w*][\w, *]* :( |$)")
_NAME = re.compile(r"^\s*\w+\s*$")
_TRAILING_UNDERSCORE = re.compile(r"\b([A-Za-z]\w*?)_(?=[\s,.;:)\]]|$)")


def _plain_text_formulas(app, what, name, obj, options, lines):
    """The docstrings write formulas in plain text: |x| is an absolute value and
    ``n_features_in_`` an attribute, not reST substitutions or link targets.
    Escape them outside literals and tables."""
    for k, line in enumerate(lines):
        text = line.strip()
        table = text.startswith("+") or (text.startswith("|") and text.endswith("|"))
        if table or text.startswith(("..", ">>>")) or _NAME.match(line):
            continue
        head = ""
        m = _PARAM.match(line)  # numpydoc "name : type": leave the name alone
        if m:
            head, line = line[: m.end()], line[m.end():]
        parts = _LITERAL.split(line)
        for j in range(0, len(parts), 2):  # even parts: outside literals
            part = _ABS.sub(lambda m: "\\|" + m.group(1) + "\\|", parts[j])
            parts[j] = _TRAILING_UNDERSCORE.sub(lambda m: m.group(1) + "\\_", part)
        lines[k] = head + "".join(parts)


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _plain_text_formulas)
