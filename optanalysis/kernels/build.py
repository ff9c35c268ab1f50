"""Per-rule kernel modules: the template bound to one rule, written to the cache, imported.

The files go to ``optanalysis.cache.cache_dir("kernels")``; Numba keeps their compiled code in
``__pycache__`` beside them.

Why generated files: Numba's disk cache (``cache=True``) keys compiled code on the *file* of a
module-level function; closures made in a factory and functions passed as arguments are
recompiled in every process.  So the template's text is written once per rule with its
BINDING block replaced (the rule's ``grad_point``/``step``, their arithmetic rewritten through
``mixed.py``; ``NSTATE``, ``NHYPER`` and unrolled state load/store), and imported from that file.

Why a hash in the file name: Numba does not invalidate a caller's cache when a callee changes.
The name carries a hash of every source the kernels inline (template, rules, ops, noise,
reduction, schedules' plateau controller) and of the Numba version, so any change gives a new
file and a fresh compilation; a file, once written, is never rewritten (its mtime keys the cache).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
import textwrap
import threading
from pathlib import Path
from types import ModuleType

import numba

from ..cache import cache_dir
from ..rules import Rule, get_rule

__all__ = ["kernel_module"]

_PACKAGE = Path(__file__).resolve().parent.parent
_TEMPLATE = Path(__file__).with_name("_template.py")
_START, _END = "# BINDING START\n", "# BINDING END\n"
# Every source whose code ends up inside a compiled kernel.
_DEPENDENCIES = ("ops.py", "rules/*.py", "kernels/noise.py", "kernels/reduce.py",
                 "kernels/mixed.py", "schedules.py")
_RULES_PACKAGE = "optanalysis.rules."
_LOADED: dict = {}
_LOCK = threading.Lock()


_MIXED = {ast.Add: "_add", ast.Sub: "_sub", ast.Mult: "_mul", ast.Div: "_truediv", ast.Pow: "_pow"}


class _ToMixed(ast.NodeTransformer):
    """``a + b`` -> ``_add(a, b)`` (see ``mixed.py``); ``adam.step`` (another rule's function)
    -> ``_adam_step``, recorded in ``calls`` so that its rewritten copy is emitted too."""

    def __init__(self, fn):
        self.modules = {name: m for name, m in fn.__globals__.items()
                        if isinstance(m, ModuleType) and m.__name__.startswith(_RULES_PACKAGE)}
        self.calls = []

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if type(node.op) not in _MIXED:
            raise ValueError(f"kernels: unsupported operator in a rule: {ast.unparse(node)}")
        call = ast.Call(ast.Name(_MIXED[type(node.op)], ast.Load()), [node.left, node.right], [])
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node):
        raise ValueError(f"kernels: write {ast.unparse(node)} as a plain assignment in the rule")

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            fn = getattr(self.modules[node.value.id], node.attr)
            self.calls.append(fn)
            return ast.copy_location(ast.Name(_kernel_name(fn), ast.Load()), node)
        return node


def _kernel_name(fn) -> str:
    return f"_{fn.__module__.rsplit('.', 1)[1]}_{fn.__name__}"


def _rewritten(fn, name: str, done: set) -> str:
    """``fn``'s source with its arithmetic through ``mixed`` (and the rule functions it calls)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    node.name, node.decorator_list = name, [ast.Name("register_jitable", ast.Load())]
    rewrite = _ToMixed(fn)
    rewrite.visit(node)
    text = ast.unparse(ast.fix_missing_locations(node)) + "\n\n\n"
    for callee in rewrite.calls:
        if _kernel_name(callee) not in done:
            done.add(_kernel_name(callee))
            text = _rewritten(callee, _kernel_name(callee), done) + text
    return text


def _binding(rule: Rule) -> str:
    n = len(rule.state)
    load = ", ".join(f"S[{k}, i]" for k in range(n))
    store = "".join(f"    S[{k}, i] = s[{k}]\n" for k in range(n))
    done = set()
    functions = (_rewritten(rule.module.grad_point, "_grad_point", done)
                 + _rewritten(rule.module.step, "_step", done))
    return ("from numba.extending import register_jitable\n\n"
            "from optanalysis import ops\n"
            "from optanalysis.kernels.mixed import (add as _add, mul as _mul, pow as _pow, "
            "sub as _sub,\n                                       truediv as _truediv)\n\n"
            f"# {rule.module.__name__}'s grad_point and step, arithmetic through kernels/mixed.py\n"
            f"{functions}"
            f"NSTATE = {n}\nNHYPER = {len(rule.hyper)}\n\n\n"
            f"@njit\ndef _load(S, i):\n    return ({load},)\n\n\n"
            f"@njit\ndef _store(S, i, s):\n{store}")


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
    """The compiled-kernel module of ``rule`` (a name or :class:`Rule`): ``run_diag``, ``run_dense``.

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
