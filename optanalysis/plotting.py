"""The only module that imports matplotlib: figures in the packaged style, with no global state.

Importing this module neither selects a backend nor touches ``matplotlib.rcParams``.  The package
style (``optanalysis.mplstyle``) is applied inside :func:`style`, a ``matplotlib.style.context``,
whenever the package builds, draws or saves a figure; matplotlib reads rcParams again at draw and
save time (tick labels, grid, ``savefig.*``), so the figures made here are :class:`StyledFigure`
objects that re-enter the style for those two steps too.  Figures are plain pyplot-free
``matplotlib.figure.Figure`` objects (freed when dropped) that a user can show, restyle or save.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib.style
from matplotlib.figure import Figure

__all__ = ["STYLE", "style", "StyledFigure", "figure", "save_figure", "png_bytes", "stability_regions"]

STYLE = str(Path(__file__).with_name("optanalysis.mplstyle"))


def style() -> contextlib.AbstractContextManager:
    """A context manager applying the package style; rcParams are restored on exit.

    Examples
    --------
    >>> import matplotlib
    >>> with style():
    ...     print(matplotlib.rcParams["savefig.dpi"])
    150.0
    >>> matplotlib.rcParams["savefig.dpi"] == 150.0  # restored
    False
    """
    return matplotlib.style.context(STYLE)


class StyledFigure(Figure):
    """A ``Figure`` that draws and saves in the package style, wherever it is drawn (a file, a
    notebook, a user's window) and whatever the caller's rcParams."""

    def draw(self, renderer):
        with style():
            return super().draw(renderer)

    def savefig(self, fname, **kwargs):
        with style():
            return super().savefig(fname, **kwargs)

    def _repr_png_(self):  # Jupyter shows the figure with no pyplot backend
        return png_bytes(self)


def figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
           **subplot_kw):
    """A styled ``(StyledFigure, axes)`` pair; ``axes`` is an array when ``nrows * ncols > 1``.

    Axes take their colour cycle and grid from the style when created, so they are made inside
    :func:`style`; call the plotting methods inside it too (the study runner does) for line
    widths, legends and colour maps in the package style.
    """
    with style():
        size = matplotlib.rcParams["figure.figsize"]
        fig = StyledFigure(figsize=(width or size[0] * (1 if ncols == 1 else 0.75 * ncols),
                                    height or size[1] * (1 if nrows == 1 else 0.8 * nrows)),
                           layout="constrained")
        return fig, fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)


def save_figure(fig, stem) -> list:
    """Write ``fig`` as ``<stem>.png`` and ``<stem>.pdf`` in the package style, each atomically.

    Returns
    -------
    list of pathlib.Path
        The two paths written.
    """
    from .io import atomic_path

    stem = Path(stem)
    files = []
    for ext in ("png", "pdf"):
        path = stem.with_name(f"{stem.name}.{ext}")
        with atomic_path(path) as tmp, style():
            # no creation date in the PDF: the same figure must give the same bytes on a rerun
            fig.savefig(tmp, format=ext, metadata={"CreationDate": None} if ext == "pdf" else None)
        files.append(path)
    return files


def png_bytes(fig) -> bytes:
    """``fig`` as PNG bytes, drawn in the package style (notebook display)."""
    import io

    buffer = io.BytesIO()
    with style():
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


def stability_regions(maps: list):
    """Stable regions and spectral-radius maps in the (lr*h, momentum) plane.

    ``maps`` are :func:`optanalysis.symbolic.regions.stability_map` results: a rule without
    momentum is drawn as rho(lr*h) with its stable interval shaded; the others as a colour map of
    the spectral radius (capped at 1, divergence in grey), the derived stability boundary (solid)
    and the complex-root region's edges, i.e. critical damping (dashed).
    """
    with style():
        return _stability_regions(maps)


def _stability_regions(maps: list):
    import numpy as np
    from matplotlib.colors import Normalize

    fig, axes = figure(1, len(maps), width=3.6 * len(maps), height=3.4)
    axes = np.atleast_1d(axes)
    image = None
    for ax, d in zip(axes, maps):
        x = d["x"]
        if d["momentum"] is None:
            ax.plot(x, d["rho"], color="C0", label="spectral radius")
            ax.axvspan(x[d["stable"]].min(), x[d["stable"]].max(), color="C2", alpha=0.15,
                       label="stable (derived)")
            ax.axvline(d["boundary"], color="k", lw=1.0, label=f"lr h = {d['boundary']:g}")
            ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
            ax.set_ylim(0, min(2.0, float(np.nanmax(d["rho"])) * 1.05))
            ax.set_xlabel("lr h")
            ax.set_ylabel("spectral radius")
            ax.legend(loc="upper left")
        else:
            m = d["momentum"]
            rho = np.where(d["stable"], np.minimum(d["rho"], 1.0), np.nan)
            cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
            image = ax.pcolormesh(x, m, rho, cmap=cmap, norm=Normalize(0, 1), shading="auto",
                                  rasterized=True)
            ax.plot(d["boundary"], m, color="k", lw=1.2, label="stability boundary")
            if d["complex"] is not None:
                lo, hi = d["complex"]
                ax.plot(lo, m, color="C1", lw=1.0, ls="--", label="critical damping")
                ax.plot(hi, m, color="C1", lw=1.0, ls="--")
            ax.set_xlim(x.min(), x.max())
            ax.set_ylim(m.min(), m.max())
            ax.set_xlabel("lr h")
            ax.set_ylabel("momentum")
            ax.legend(loc="lower right", labelcolor="k", frameon=True, framealpha=0.8)
        ax.set_title(d["rule"])
    if image is not None:
        fig.colorbar(image, ax=list(axes), label="spectral radius (grey: divergence)", shrink=0.9)
    return fig
