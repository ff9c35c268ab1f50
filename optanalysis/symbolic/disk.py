"""On-disk cache of symbolic results (derivations, period-2 orbits): JSON of ``sympy.srepr`` text.

An entry is ``optanalysis.cache.cache_dir(kind) / "<name>-<key[:32]>.json"``.  :func:`key` hashes
the format version, the SymPy version and the source of this package together with the caller's
parts (the rules' :func:`optanalysis.symbolic.core.source_key` and the fixed values), so editing
a rule or this package, or upgrading SymPy, gives a new key.  A missing, unreadable or corrupt
entry reads as a miss; an unwritable directory is skipped (caching must never break a result).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from pathlib import Path

import sympy

from ..cache import cache_dir
from ..io import atomic_write
from .core import _module_digest

__all__ = ["FORMAT_VERSION", "key", "load", "store"]

FORMAT_VERSION = 1


def _package_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        name = __package__ if path.stem == "__init__" else f"{__package__}.{path.stem}"
        h.update(path.name.encode())
        h.update(_module_digest(importlib.import_module(name)).encode())
    return h.hexdigest()


def key(*parts: str) -> str:
    """The hex key of an entry made from ``parts`` (strings) and this package's source."""
    h = hashlib.sha256(f"v{FORMAT_VERSION} sympy {sympy.__version__}".encode())
    h.update(_package_digest().encode())
    for part in parts:
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def _path(kind: str, name: str, key_: str) -> Path:
    return cache_dir(kind) / f"{name}-{key_[:32]}.json"


def _encode(obj):
    if isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return {"$sympy": sympy.srepr(obj)}
    if dataclasses.is_dataclass(obj):
        return {"$type": type(obj).__name__,
                **{f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(x) for x in obj]}
    if isinstance(obj, list):
        return [_encode(x) for x in obj]
    if isinstance(obj, dict):
        return {"$dict": [[k, _encode(v)] for k, v in obj.items()]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot cache {type(obj).__name__}")


def _decode(obj, types: dict):
    if isinstance(obj, dict):
        if "$sympy" in obj:
            return sympy.sympify(obj["$sympy"])  # our own srepr text, written by _encode
        if "$type" in obj:
            return types[obj["$type"]](**{k: _decode(v, types) for k, v in obj.items() if k != "$type"})
        if "$tuple" in obj:
            return tuple(_decode(x, types) for x in obj["$tuple"])
        if "$dict" in obj:
            return {k: _decode(v, types) for k, v in obj["$dict"]}
        raise ValueError("corrupt cache entry")
    if isinstance(obj, list):
        return [_decode(x, types) for x in obj]
    return obj


def load(kind: str, name: str, key_: str, cls: type, types: tuple = ()):
    """The cached instance of dataclass ``cls`` (nested dataclasses in ``types``), or None."""
    table = {c.__name__: c for c in (cls, *types)}
    try:
        with open(_path(kind, name, key_), encoding="utf-8") as fh:
            value = _decode(json.load(fh)["value"], table)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError, sympy.SympifyError):
        return None
    return value if isinstance(value, cls) else None


def store(kind: str, name: str, key_: str, value) -> None:
    """Write ``value`` atomically (:func:`optanalysis.io.atomic_write`); failures leave no entry."""
    try:
        atomic_write(_path(kind, name, key_), json.dumps({"format": FORMAT_VERSION, "value": _encode(value)}))
    except (OSError, TypeError):  # a read-only directory or an unencodable value: no entry
        pass
