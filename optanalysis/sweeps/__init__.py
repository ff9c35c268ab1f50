"""Sweeps: a declarative grid (TOML), cut into chunks that run in-process or on a Dask cluster,
results in Parquet under one directory, resumable, bit-identical whatever runs them.

``spec`` (the file and its validation), ``grid`` (the chunks), ``compute`` (one chunk, a pure
function), ``store`` (Parquet + manifest, resume), ``execute`` (where chunks run).  Importing this
package loads neither pandas, pyarrow nor dask; :func:`sweep` and :func:`load_sweep` load what
they need.
"""
from __future__ import annotations

import os

__all__ = ["sweep", "load_sweep"]


def _as_sweep(spec_or_path):
    from .spec import Sweep, load_spec, parse_spec

    if isinstance(spec_or_path, Sweep):
        return spec_or_path
    if isinstance(spec_or_path, dict):
        return parse_spec(spec_or_path)
    if isinstance(spec_or_path, (str, os.PathLike)):
        return load_spec(spec_or_path)
    raise TypeError(f"spec must be a Sweep, a dict or the path of a TOML file, got {type(spec_or_path).__name__}")


def sweep(spec_or_path, out, *, scheduler=None, local_workers=None, yes=False, progress=True, stream=None):
    """Run a sweep into directory ``out`` and return its :class:`~optanalysis.sweeps.store.SweepRun`.

    Parameters
    ----------
    spec_or_path : Sweep, dict or path of a TOML file
        The grid (:mod:`optanalysis.sweeps.spec`).
    out : path
        Directory of the results: a new or empty one, or one holding this same sweep (resumed).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    local_workers : int, optional
        Start a Dask ``LocalCluster`` of this many worker processes for the run.
    yes : bool
        Allow a grid of more than 10^9 points.
    progress, stream
        Write a progress line to ``stream`` (default stderr).
    """
    from .store import check_out, check_size, run_sweep

    sw = _as_sweep(spec_or_path)
    check_size(sw, yes)
    check_out(sw, out)  # refuse a foreign directory before a cluster is started
    if scheduler is not None and local_workers is not None:
        raise ValueError("give either scheduler (an address) or local_workers (a count), not both")
    if scheduler is None and local_workers is None:
        return run_sweep(sw, out, progress=progress, stream=stream, yes=yes)
    from .execute import DaskExecutor

    executor = DaskExecutor(address=scheduler, local_workers=local_workers)
    try:
        return run_sweep(sw, out, executor=executor, progress=progress, stream=stream, yes=yes)
    finally:
        executor.close()


def load_sweep(out):
    """The results under ``out`` as a pandas DataFrame ordered by point (see
    :func:`optanalysis.sweeps.store.load_sweep`).

    Parameters
    ----------
    out : str or pathlib.Path
        The directory a sweep wrote.

    Returns
    -------
    pandas.DataFrame
        One row per grid point and seed.
    """
    from .store import load_sweep as _load

    return _load(out)
