"""The documentation builds with Sphinx, warnings as errors (``sphinx-build -W -b html docs OUT``), and
what it promises is on the pages: every ``docs/*.md`` page, the front door ``optanalysis.__all__`` with its
numpydoc sections, one page per public module (found here by walking the source tree, independently of
``docs/conf.py``), and the pages' ``$...$`` typeset as math rather than left as text."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

import optanalysis

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _public_modules():
    """Dotted names of the package's modules with no ``_``-prefixed part (kernels/paths: templates)."""
    names = set()
    for path in (ROOT / "optanalysis").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts) and parts[:3] != ("optanalysis", "kernels", "paths"):
            names.add(".".join(parts))
    return names


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # the docs extra; skipped only where it is not installed (CI installs it)
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module)
    out = tmp_path_factory.mktemp("docs")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                          cwd=ROOT, capture_output=True, text=True)
    # the usual docstring faults: |x| is a substitution in RST (write ``|x|``); a definition-list term
    # is one line, and a more indented line inside a paragraph needs a blank line before it; a link from a
    # docs page to a path outside docs/ (../README.md, a directory) has no target in the site
    assert done.returncode == 0, done.stderr[-5000:]
    return out / "html"


@pytest.mark.slow
def test_every_markdown_page_and_notebook_index_is_built(site):
    pages = {p.stem for p in DOCS.glob("*.md") if p.name != "README.md"}
    assert {"index", "reference", "studies", "sweeps"} <= pages
    assert [p for p in sorted(pages) if not (site / f"{p}.html").exists()] == []
    index = (site / "index.html").read_text(encoding="utf-8")
    # linked from the index's toctree, not only built
    assert [p for p in sorted(pages - {"index"}) if f'href="{p}.html"' not in index] == []
    examples = (site / "examples" / "README.html").read_text(encoding="utf-8")
    notebooks = sorted(p.name for p in (DOCS / "examples").glob("*.ipynb"))
    assert notebooks and [n for n in notebooks if f"/{n}\"" not in examples] == []  # each one downloadable


@pytest.mark.slow
def test_the_front_door_is_documented_with_numpydoc_sections(site):
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    functions = [n for n in optanalysis.__all__ if callable(getattr(optanalysis, n))
                 and not isinstance(getattr(optanalysis, n), type(optanalysis))]
    assert len(functions) >= 15
    assert [n for n in functions if f'id="optanalysis.{n}"' not in api] == []
    # numpydoc turned each function's sections into field lists; the text from its anchor to the next
    # function's is its entry
    entries = dict(re.findall(r'id="optanalysis\.(\w+)"(.*?)(?=id="optanalysis\.\w+"|$)', api, re.S))
    assert [n for n in functions if ">Parameters<" not in entries[n]] == []


@pytest.mark.slow
def test_every_public_module_has_a_page(site):
    modules = _public_modules()
    assert {"optanalysis.simulation", "optanalysis.rules.adam", "optanalysis.studies.edge_of_stability"} <= modules
    assert [m for m in sorted(modules - {"optanalysis"}) if not (site / "api" / f"{m}.html").exists()] == []


@pytest.mark.slow
def test_dollar_math_is_typeset_not_left_as_text(site):
    for page in DOCS.glob("*.md"):
        source = page.read_text(encoding="utf-8")
        if page.name == "README.md" or not re.search(r"\$[^$\s][^$]*\$", source):
            continue
        html = (site / f"{page.stem}.html").read_text(encoding="utf-8")
        assert 'class="math' in html, page.name
