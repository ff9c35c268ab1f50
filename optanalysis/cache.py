"""The one on-disk cache location of optanalysis.

Everything optanalysis keeps between processes lives under one root: ``$OPTANALYSIS_CACHE_DIR``
if set, else ``$XDG_CACHE_HOME/optanalysis``, else ``~/.cache/optanalysis``.  Each kind of entry
has its own subdirectory (``kernels``: generated kernel modules and, next to them, Numba's
compiled code; ``derivations``: symbolic derivations; ``cycles``: period-2 orbits), so that
removing the root clears every cache at once.

Numba's own cache of the few ``cache=True`` functions defined in the package itself
(:mod:`optanalysis.theory.worst_case`, :mod:`optanalysis.schedules.plateau`, ...) is not ours to place: Numba puts it
in ``__pycache__`` next to the source (or ``$NUMBA_CACHE_DIR``).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "KINDS"]

KINDS = ("kernels", "derivations", "cycles")


def cache_dir(kind: str | None = None) -> Path:
    """The cache root, or its subdirectory for one kind of entry (not created here).

    Parameters
    ----------
    kind : {None, "kernels", "derivations", "cycles"}
        None for the root itself.

    Returns
    -------
    pathlib.Path
        ``$OPTANALYSIS_CACHE_DIR``, else ``$XDG_CACHE_HOME/optanalysis``, else
        ``~/.cache/optanalysis``; followed by ``kind`` when given.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None or one of {', '.join(KINDS)}; got {kind!r}")
    env = os.environ.get("OPTANALYSIS_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = Path(base) / "optanalysis"
    return root if kind is None else root / kind
