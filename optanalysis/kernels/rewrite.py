"""A rule's ``grad_point`` and ``step`` rewritten for the kernels (the rule itself is unchanged).

Two rewrites of the source text, neither visible in the results:

* **arithmetic**: ``a + b`` becomes ``_add(a, b)``, and so on for ``- * / **``: torch's
  float32 semantics (see ``mixed.py``); float64 kernels do the very same operations;
* **tabulated powers**: ``beta1 ** t`` (a hyperparameter to a power that depends on the step
  count only) becomes ``_pw[j]``.  The kernels pass, at each step, values tabulated once per
  distinct hyperparameter value by ``power_table`` (the same ``_pow`` of the same float64
  operands, so the same bits).  libm ``pow`` is the costliest operation of an Adam step (two
  per step; benchmarks/README.md): a sweep over 4096 configurations that share beta2 and 64
  values of beta1 computes 65 rows of powers instead of 8192, and a single run computes its
  powers in a tight loop, off the update's critical path.

A function of another rule called by the rule (AdamW calls Adam's step) is rewritten too, as
``_adam_step``; its powers are tabulated when the call passes the caller's hyperparameters by
name, as AdamW does.
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from types import ModuleType

__all__ = ["binding_functions"]

_RULES_PACKAGE = "optanalysis.rules."
_MIXED = {ast.Add: "_add", ast.Sub: "_sub", ast.Mult: "_mul", ast.Div: "_truediv", ast.Pow: "_pow"}
_PW = "_pw"  # the parameter that carries the step's tabulated powers


def _kernel_name(fn) -> str:
    return f"_{fn.__module__.rsplit('.', 1)[1]}_{fn.__name__}"


def _depends_on_t_only(node) -> bool:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} == {"t"}


class _Rewrite(ast.NodeTransformer):
    def __init__(self, fn, hyper: dict, powers: list | None):
        self.modules = {name: m for name, m in fn.__globals__.items()
                        if isinstance(m, ModuleType) and m.__name__.startswith(_RULES_PACKAGE)}
        self.hyper = hyper  # parameter name -> index of the rule's hyperparameter it carries
        self.powers = powers  # shared (hyperparameter index, exponent source) list, or None
        self.calls = []  # (callee, its hyper mapping)

    def visit_BinOp(self, node):
        if (self.powers is not None and isinstance(node.op, ast.Pow)
                and isinstance(node.left, ast.Name) and node.left.id in self.hyper
                and _depends_on_t_only(node.right)):
            key = (self.hyper[node.left.id], ast.unparse(self.visit(node.right)))
            if key not in self.powers:
                self.powers.append(key)
            index = ast.Constant(self.powers.index(key))
            lookup = ast.Subscript(ast.Name(_PW, ast.Load()), index, ast.Load())
            return ast.copy_location(lookup, node)
        self.generic_visit(node)
        if type(node.op) not in _MIXED:
            raise ValueError(f"kernels: unsupported operator in a rule: {ast.unparse(node)}")
        call = ast.Call(ast.Name(_MIXED[type(node.op)], ast.Load()), [node.left, node.right], [])
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node):
        raise ValueError(f"kernels: write {ast.unparse(node)} as a plain assignment in the rule")

    def visit_Call(self, node):
        func = node.func
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id in self.modules):
            callee = getattr(self.modules[func.value.id], func.attr)
            params = list(inspect.signature(callee).parameters)
            mapping = {params[i]: self.hyper[a.id] for i, a in enumerate(node.args)
                       if isinstance(a, ast.Name) and a.id in self.hyper}
            self.calls.append((callee, mapping))
            node.func = ast.copy_location(ast.Name(_kernel_name(callee), ast.Load()), func)
            node.args = [self.visit(a) for a in node.args]
            if self.powers is not None:
                node.args.append(ast.Name(_PW, ast.Load()))
            return node
        self.generic_visit(node)
        return node


def _rewritten(fn, name: str, hyper: dict, powers: list | None, done: set) -> str:
    """Source of ``fn`` rewritten as ``name`` (plus the rule functions it calls, first)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    node.name, node.decorator_list = name, [ast.Name("register_jitable", ast.Load())]
    if powers is not None:
        node.args.args.append(ast.arg(_PW))
    assigned = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    hyper = {name: k for name, k in hyper.items() if name not in assigned}  # still the hyperparameter
    rewrite = _Rewrite(fn, hyper, powers)
    rewrite.visit(node)
    text = ast.unparse(ast.fix_missing_locations(node)) + "\n\n\n"
    for callee, mapping in rewrite.calls:
        if _kernel_name(callee) not in done:
            done.add(_kernel_name(callee))
            text = _rewritten(callee, _kernel_name(callee), mapping, powers, done) + text
    return text


def binding_functions(rule) -> tuple:
    """(source, number of tabulated powers): the source defines ``_grad_point``,
    ``_step(..., t, _pw)``, ``NPOW``, ``POW_BASES`` (the hyperparameter index of each tabulated
    power) and ``_exponent(j, t)`` (power j is ``base ** _exponent(j, t)``)."""
    hyper = {name: k for k, name in enumerate(rule.hyper_names)}
    powers: list = []
    done: set = set()
    text = (_rewritten(rule.module.grad_point, "_grad_point", {}, None, done)
            + _rewritten(rule.module.step, "_step", hyper, powers, done))
    cases = "".join(f"    if j == {j}:\n        return {exponent}\n"
                    for j, (_, exponent) in enumerate(powers))
    return (text + f"NPOW = {len(powers)}\nPOW_BASES = {tuple(k for k, _ in powers)!r}\n\n\n"
            "@register_jitable\ndef _exponent(j, t):\n"
            '    """The exponent of tabulated power j at step t, as the rule writes it."""\n'
            f"{cases}    return np.nan\n\n\n"), len(powers)
