"""Sphinx configuration: the API reference from the numpydoc docstrings, and the Markdown pages.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (the ``docs`` extra). Every ``docs/*.md`` is
a page (the index's toctree is a glob), and the API pages are generated at each build by walking the
package (``docs/api/``, not committed), so new pages and modules appear without being listed here.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # document this checkout, not another installed copy

import optanalysis  # noqa: E402

project = "optanalysis"
author = "optanalysis authors"
release = version = optanalysis.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc", "myst_parser"]
root_doc = "index"
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3  # the pages link to their own sections as (#section-title)
numpydoc_show_class_members = False  # autodoc documents the members; no generated stub tables
autodoc_member_order = "bysource"
# an override without a docstring is not documented with its parent's (matplotlib's RST is not ours)
autodoc_inherit_docstrings = False
html_theme = "alabaster"
html_title = f"optanalysis {version}"


# -- API pages, generated from the package at each build ---------------------------------------------
API = DOCS / "api"
# packages whose modules are source templates, not importable: kernels/build.py copies them into a
# package per rule beside its generated binding (the package's own docstring says so, and is shown)
TEMPLATES = ("optanalysis.kernels.paths.",)


def public_modules():
    """Every module of the package whose dotted name has no ``_``-prefixed part, in walk order."""
    found = ["optanalysis"]
    for info in pkgutil.walk_packages(optanalysis.__path__, "optanalysis."):
        private = any(part.startswith("_") for part in info.name.split("."))
        if not private and not info.name.startswith(TEMPLATES):
            found.append(info.name)
    return found


def front_door():
    """``optanalysis.__all__`` resolved: name -> object (the lazy names are loaded here)."""
    return {name: getattr(optanalysis, name) for name in optanalysis.__all__ if name != "__version__"}


def _rst_title(text):
    return f"{text}\n{'=' * len(text)}\n"


def _module_page(name, children, door):
    module = importlib.import_module(name)
    # the front door's functions are documented once, on the API index, under their public names
    shown = [attr for attr, value in vars(module).items() if any(value is obj for obj in door.values())]
    lines = [_rst_title(f"``{name}``"), f".. automodule:: {name}", "   :members:"]
    if shown:
        lines.append(f"   :exclude-members: {', '.join(sorted(shown))}")
    if children:
        lines += ["", ".. toctree::", "   :maxdepth: 1", "", *(f"   {child}" for child in children)]
    return "\n".join(lines) + "\n"


def _index_page(door, top):
    # the package's docstring, then its ``__all__`` documented under the public names (autodoc follows
    # ``__all__``); a subpackage in ``__all__`` (``oa.rules``, callable) links to its own page
    modules = [f":mod:`oa.{name} <{obj.__name__}>`" for name, obj in door.items()
               if isinstance(obj, type(optanalysis))]
    lines = [_rst_title("API reference"), ".. automodule:: optanalysis", "   :members:", ""]
    if modules:
        lines += [f"Subpackages in ``__all__``: {', '.join(modules)}.", ""]
    lines += [".. toctree::", "   :maxdepth: 1", "   :caption: Modules", "", *(f"   {name}" for name in top)]
    return "\n".join(lines) + "\n"


def skip_foreign(app, what, name, obj, skip, options):
    """Skip members defined outside the package (e.g. the ``set`` matplotlib adds to a Figure subclass)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and not module.startswith("optanalysis"):
        return True
    return None


def write_api_pages(app=None):
    """Write ``docs/api/*.rst`` (only files whose text changed, so rebuilds stay incremental)."""
    names = public_modules()
    door = front_door()
    pages = {"index": _index_page(door, [n for n in names if n.count(".") == 1])}
    for name in names[1:]:  # the package itself is the index
        children = [n for n in names if n.rpartition(".")[0] == name]
        pages[name] = _module_page(name, children, door)
    API.mkdir(exist_ok=True)
    for stale in set(API.glob("*.rst")) - {API / f"{page}.rst" for page in pages}:
        stale.unlink()  # a module that is gone
    for page, text in pages.items():
        path = API / f"{page}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def front_door_reference(app, env, node, contnode):
    """A reference to a front-door function under its defining module (``optanalysis.simulation.simulate``)
    resolves to its one entry, ``optanalysis.simulate`` (module pages leave it out)."""
    module, _, name = node.get("reftarget", "").rpartition(".")
    door = front_door()
    if node.get("refdomain") != "py" or not module.startswith("optanalysis") or name not in door:
        return None
    try:
        same = getattr(importlib.import_module(module), name) is door[name]
    except (ImportError, AttributeError):
        return None
    if not same:
        return None
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                             f"optanalysis.{name}", node, contnode)


_LITERAL = re.compile(r"(`+[^`]*`+)")  # ``code``, :math:`...`: left as written


def literal_pipes(app, what, name, obj, options, lines):
    """Docstrings write absolute values as ``|x|``, which reStructuredText reads as a substitution:
    escape every ``|`` outside backquotes, except on a grid table's lines (``+---+``, ``| a | b |``)."""
    for i, line in enumerate(lines):
        row = line.strip()
        if "|" in line and not row.startswith("+") and not (row.startswith("|") and row.endswith("|")):
            parts = _LITERAL.split(line)
            lines[i] = "".join(p if k % 2 else p.replace("|", r"\|") for k, p in enumerate(parts))


def setup(app):
    app.connect("builder-inited", write_api_pages)
    app.connect("autodoc-process-docstring", literal_pipes)
    app.connect("autodoc-skip-member", skip_foreign)
    app.connect("missing-reference", front_door_reference)
