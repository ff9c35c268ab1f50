"""The only module that imports matplotlib: figures in the packaged style, without pyplot's global
state (figures are plain ``matplotlib.figure.Figure`` objects, freed when dropped)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.style  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["STYLE", "figure"]

STYLE = str(Path(__file__).with_name("optanalysis.mplstyle"))
# Applied once, globally: rcParams are read again at draw and save time, not only at creation.
matplotlib.style.use(STYLE)


def figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
           **subplot_kw):
    """A styled ``(Figure, axes)`` pair; ``axes`` is an array when ``nrows * ncols > 1``."""
    size = matplotlib.rcParams["figure.figsize"]
    fig = Figure(figsize=(width or size[0] * (1 if ncols == 1 else 0.75 * ncols),
                          height or size[1] * (1 if nrows == 1 else 0.8 * nrows)), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
