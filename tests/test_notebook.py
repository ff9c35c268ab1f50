"""The example notebook (docs/examples/quickstart.ipynb) runs top to bottom with only the front door
and shows what it promises: a derivation as typeset LaTeX and a figure."""
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "examples" / "quickstart.ipynb"


def test_the_notebook_uses_only_the_front_door():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    lines = [line.strip() for c in cells if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()]
    assert {line for line in lines if line.startswith(("import ", "from "))} == {"import optanalysis as oa"}


@pytest.mark.slow
def test_the_notebook_runs_and_shows_latex_and_a_figure(tmp_path):
    # the docs extra; skipped only where it is not installed (CI installs it)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # a cell that raises fails the run (CellExecutionError, with the cell and its traceback)
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], outputs
    shown = {mime for o in outputs for mime in o.get("data", {})}
    assert {"text/latex", "image/png", "text/html"} <= shown, shown
    assert not any(tmp_path.iterdir())  # a notebook run writes no files unless asked to
