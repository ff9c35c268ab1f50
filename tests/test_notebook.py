"""The example notebooks (every docs/examples/*.ipynb) run top to bottom and are kept as the docs list
them: stored without outputs, each one named in docs/examples/README.md. The quick start also keeps its
promises: only the front door, and a derivation as typeset LaTeX, a table and a figure."""
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
QUICKSTART = EXAMPLES / "quickstart.ipynb"
_executed = {}  # notebook path -> its executed cells: each notebook runs once per session


def _code_cells(path):
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def _execute(path, tmp_path):
    if path not in _executed:
        # the docs extra; skipped only where it is not installed (CI installs it)
        nbformat = pytest.importorskip("nbformat")
        nbclient = pytest.importorskip("nbclient")
        pytest.importorskip("ipykernel")
        nb = nbformat.read(path, as_version=4)
        # a cell that raises fails the run (CellExecutionError, with the cell and its traceback)
        # the kernel runs in tmp_path and imports this checkout's package, as the tests do
        path_env = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute(
            env={**os.environ, "PYTHONPATH": path_env})
        _executed[path] = nb.cells
        assert not any(tmp_path.iterdir())  # a notebook run writes no files unless asked to
    return _executed[path]


def test_the_examples_are_there_and_listed():
    assert QUICKSTART in NOTEBOOKS and len(NOTEBOOKS) >= 4
    listed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in NOTEBOOKS if f"({p.name})" not in listed] == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    # outputs are made by running (CI does); stored ones would go stale and bloat the diffs
    assert [c["execution_count"] for c in _code_cells(path) if c["outputs"] or c["execution_count"]] == []


def test_the_quickstart_uses_only_the_front_door():
    lines = [line.strip() for c in _code_cells(QUICKSTART) for line in "".join(c["source"]).splitlines()]
    assert {line for line in lines if line.startswith(("import ", "from "))} == {"import optanalysis as oa"}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_without_error_or_warning(path, tmp_path):
    outputs = [o for c in _execute(path, tmp_path) if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    assert outputs  # it shows something


@pytest.mark.slow
def test_the_quickstart_shows_latex_a_table_and_a_figure(tmp_path):
    outputs = [o for c in _execute(QUICKSTART, tmp_path) if c.cell_type == "code" for o in c.outputs]
    shown = {mime for o in outputs for mime in o.get("data", {})}
    assert {"text/latex", "image/png", "text/html"} <= shown, shown
