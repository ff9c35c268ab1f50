"""The code the documentation shows runs and prints what it says.

* Docstring examples (numpydoc ``Examples`` sections, ``>>>``) run as doctests, module by module, with
  exact output matching (no ELLIPSIS: an example's output is the real output) in a scratch directory;
  the front door's main functions each have at least one example that runs (not ``+SKIP``).
* The README's ```python blocks run in order, as a reader pastes them into one session; they carry
  their own checks (``assert``)."""
import contextlib
import doctest
import importlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# kernels/paths: source templates copied beside a generated binding, not importable as they stand
TEMPLATES = ROOT / "optanalysis" / "kernels" / "paths"
# the front door's functions that must show a running example (the issue names them)
EXAMPLED = ("derive", "simulate", "predict", "worst_case", "compare")


def _modules_with_examples():
    names = []
    for path in sorted((ROOT / "optanalysis").rglob("*.py")):
        if TEMPLATES in path.parents or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _run(tests):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    return runner.summarize(verbose=False), report.getvalue()


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    tests = doctest.DocTestFinder(exclude_empty=True).find(importlib.import_module(name))
    assert sum(len(t.examples) for t in tests) > 0, f"{name}: '>>>' in the source but no example found"
    (failed, attempted), report = _run(tests)
    assert failed == 0, report


def test_the_main_functions_show_a_running_example():
    import optanalysis as oa

    for name in EXAMPLED:
        examples = [e for t in doctest.DocTestFinder().find(getattr(oa, name), name) for e in t.examples
                    if not e.options.get(doctest.SKIP)]
        assert examples, f"oa.{name}: no example that runs"


def _readme_blocks():
    return re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = _readme_blocks()
    assert blocks, "README.md: no ```python block"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for i, block in enumerate(blocks):
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
    assert printed.getvalue().strip(), "the README's example prints nothing"
