"""Plotting without global state: the package style lives in a context, never in rcParams."""
import io
import subprocess
import sys

import matplotlib
import pytest
from PIL import Image

from optanalysis import plotting


def rc() -> dict:
    """rcParams without "backend": reading that one would itself choose a backend."""
    return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}

_IMPORTS = """
import importlib, sys
import matplotlib
def rc():  # reading rcParams["backend"] would itself choose a backend (and import pyplot)
    return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}
before, backend = rc(), matplotlib.rcParams._get_backend_or_none()
import optanalysis
import optanalysis.plotting
from optanalysis.studies import study_names
heavy = sorted({"numba", "sympy"} & set(sys.modules))
for name in study_names():
    importlib.import_module("optanalysis.studies." + name)
assert rc() == before, {k for k in before if matplotlib.rcParams[k] != before[k]}
assert matplotlib.rcParams._get_backend_or_none() == backend, matplotlib.rcParams._get_backend_or_none()
assert "matplotlib.pyplot" not in sys.modules
assert not heavy, heavy
print("ok")
"""


def test_importing_the_package_its_studies_and_plotting_leaves_matplotlib_alone():
    """No rcParams changed, no backend chosen, no pyplot; and neither the package, its plotting nor
    the study runner pulls in Numba or SymPy."""
    run = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr


@pytest.mark.parametrize("inside", [False, True])
def test_figure_is_styled_inside_or_outside_the_context(inside):
    before = rc()
    if inside:
        with plotting.style():
            assert matplotlib.rcParams["lines.linewidth"] == 1.4
            fig, ax = plotting.figure()
    else:
        fig, ax = plotting.figure()
    assert rc() == before
    assert isinstance(fig, matplotlib.figure.Figure) and tuple(fig.get_size_inches()) == (7.0, 4.2)
    assert fig._repr_png_().startswith(b"\x89PNG")  # a notebook shows it without pyplot
    assert ax.xaxis.get_gridlines()[0].get_visible() and not ax.spines["top"].get_visible()
    fig2, axes = plotting.figure(2, 3)
    assert axes.shape == (2, 3) and tuple(fig2.get_size_inches()) == pytest.approx((7.0 * 2.25, 4.2 * 1.6))


def test_a_figure_draws_and_saves_in_the_package_style_whatever_the_callers_rcparams(tmp_path):
    fig, ax = plotting.figure()
    ax.plot([0, 1], [1, 0])
    with matplotlib.rc_context({"font.size": 20, "savefig.dpi": 72}):
        fig.savefig(io.BytesIO(), format="png")  # tick labels are made at draw time
        files = plotting.save_figure(fig, tmp_path / "f")
    assert ax.xaxis.get_major_ticks()[0].label1.get_fontsize() == 9.5
    assert [f.name for f in files] == ["f.png", "f.pdf"] and all(f.stat().st_size > 0 for f in files)
    # savefig.dpi of the style (PNG stores whole pixels per metre: 150 dpi reads back as 150.01)
    assert Image.open(files[0]).info["dpi"] == pytest.approx((150, 150), abs=0.02)
