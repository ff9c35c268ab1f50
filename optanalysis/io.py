"""Atomic output: an interrupted run never leaves a half-written file or destroys an earlier one.

``atomic_write``/``atomic_path`` replace their target; ``directory_once`` creates its directory
only if it does not exist yet, and never replaces it (generated sources whose mtimes key
Numba's cache must keep their first version, whichever process wins a race).
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write", "directory_once", "finite_or_null"]

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # not named after the target: its name may already be at the file-name length limit
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write(path, data) -> Path:
    """Write ``data`` (str or bytes) to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return Path(path)


def directory_once(path, files: dict) -> bool:
    """Create the directory ``path`` holding ``files`` (name -> str) atomically unless it exists;
    never replace it.  Returns whether this call created it.

    The files are written into a temporary directory beside ``path``, which is then renamed:
    a reader sees no directory or the complete one.
    """
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
            os.chmod(tmp / name, 0o666 & ~_UMASK)
        try:
            os.rename(tmp, path)  # fails if another process made path (never empty) meanwhile
        except OSError:
            if not path.is_dir():
                raise
            return False
        return True
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def finite_or_null(v):
    """``v`` (dicts, lists, floats) with non-finite floats as None: standard JSON (null)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: finite_or_null(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite_or_null(x) for x in v]
    return v
