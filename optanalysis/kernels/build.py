"""Per-rule kernel modules: the template bound to one rule, written to the cache, imported.

The files go to ``optanalysis.cache.cache_dir("kernels")``; Numba keeps their compiled code in
``__pycache__`` beside them.

Why generated files: Numba's disk cache (``cache=True``) keys compiled code on the *file* of a
module-level function; closures made in a factory and functions passed as arguments are
recompiled in every process.  So the template's text is written once per rule with its
BINDING block replaced (the rule's ``grad_point``/``step`` as ``rewrite.py`` writes them,
``NSTATE``, ``NHYPER`` and unrolled state load/store), and imported from that file.

Why a hash in the file name: Numba does not invalidate a caller's cache when a callee changes.
The name carries a hash of every source the kernels inline (template, rules, ops, noise,
reduction, schedules' plateau controller) and of the Numba version, so any change gives a new
file and a fresh compilation; a file, once written, is never rewritten (its mtime keys the cache).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

import numba

from ..cache import cache_dir
from ..rules import Rule, get_rule
from .rewrite import binding_functions

__all__ = ["kernel_module"]

_PACKAGE = Path(__file__).resolve().parent.parent
_TEMPLATE = Path(__file__).with_name("_template.py")
_START, _END = "# BINDING START\n", "# BINDING END\n"
# Every source whose code ends up inside a compiled kernel.
_DEPENDENCIES = ("ops.py", "rules/*.py", "kernels/noise.py", "kernels/reduce.py",
                 "kernels/mixed.py", "kernels/rewrite.py", "schedules.py")
_LOADED: dict = {}
_LOCK = threading.Lock()


def _binding(rule: Rule) -> str:
    n = len(rule.state)
    load = ", ".join(f"S[{k}, i]" for k in range(n))
    store = "".join(f"    S[{k}, i] = s[{k}]\n" for k in range(n))
    functions, npow = binding_functions(rule)
    powers = "".join(f"pwt[prow[{j}], k], " for j in range(npow))
    rounded = ", ".join(f"_cast_like(s[{k}], S)" for k in range(n))
    # a group's flags are the same in every lane (``F``, a tuple): the branches they take are
    # loop invariant, so the lane loop still vectorises
    lane_hyper = "".join(f", F[{m}]" if p.flag else f", HP[{m}, i]"
                         for m, p in enumerate(rule.hyper) if m)
    flags = tuple(m for m, p in enumerate(rule.hyper) if p.flag)
    lane_powers = "".join(f"PW[t, {j}, i], " for j in range(npow))
    return ("from numba.extending import register_jitable\n\n"
            "from optanalysis import ops\n"
            "from optanalysis.kernels.mixed import (add as _add, cast_like as _cast_like, "
            "mul as _mul, pow as _pow,\n                                       sub as _sub, "
            "truediv as _truediv)\n\n"
            f"# {rule.module.__name__}'s grad_point and step, as kernels/rewrite.py writes them\n"
            f"{functions}"
            f"NSTATE = {n}\nNHYPER = {len(rule.hyper)}\nFLAGS = np.array({list(flags)!r}, np.int64)\n\n\n"
            f"@njit\ndef _load(S, i):\n    return ({load},)\n\n\n"
            f"@njit\ndef _store(S, i, s):\n{store}\n\n"
            f"@njit\ndef _round(S, s):\n    return ({rounded},)\n\n\n"
            f"@njit\ndef _powers_at(pwt, prow, k):\n    return ({powers})\n\n\n"
            f"@njit\ndef _hyper_lane(HP, LR, t, i, F):\n    return (LR[t, i]{lane_hyper},)\n\n\n"
            f"@njit\ndef _powers_lane(PW, t, i):\n    return ({lane_powers})\n")


def _source(rule: Rule) -> str:
    text = _TEMPLATE.read_text()
    head, rest = text.split(_START, 1)
    _, tail = rest.split(_END, 1)
    return head + _START + _binding(rule) + _END + tail


def _fingerprint(source: str) -> str:
    digest = hashlib.sha256(source.encode())
    digest.update(numba.__version__.encode())
    for pattern in _DEPENDENCIES:
        for path in sorted(_PACKAGE.glob(pattern)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _write_once(path: Path, text: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if not path.exists():  # another process may have won the race: keep its file (and mtime)
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def kernel_module(rule) -> ModuleType:
    """The compiled-kernel module of ``rule`` (a name or :class:`Rule`): ``run_diag``, ``run_lanes``,
    ``run_dense``.

    Generated and imported on first use in a process; compiled on first call per dtype and
    loaded from Numba's disk cache afterwards.
    """
    rule = get_rule(rule)
    with _LOCK:
        if rule.name not in _LOADED:
            source = _source(rule)
            name = f"optanalysis_kernel_{rule.name}_{_fingerprint(source)}"
            path = cache_dir("kernels") / f"{name}.py"
            _write_once(path, source)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            _LOADED[rule.name] = module
        return _LOADED[rule.name]
