"""The rule contract, checked on a rule's source before anything runs it.

A rule that breaks the contract would otherwise fail deep inside SymPy ("cannot determine truth
value of Relational") or Numba (a typing error pages long).  :func:`check_rule` reads the source
of ``step``, ``grad_point`` and ``init`` (the AST, never executing it) and raises one
:class:`RuleContractError` naming the rule, the file and line, and the fix, for:

* branching on a value that is not a flag (``if v > 0``, ``a if g > 0 else b``, ``and``/``or``,
  ``while``): the same step must run on SymPy symbols, so use ``ops.where(ops.gt(v, 0), a, b)``;
* a call of anything but ``abs``, ``optanalysis.ops`` functions and functions of rule modules;
* a name that is neither a parameter nor assigned nor ``ops``/a rule module (a hyperparameter used
  but not declared), or a signature that does not follow ``step(*state, g, *hyper, t)``;
* a returned state tuple whose length is not that of the declared state;
* augmented assignments (``x += ...``) and other statements the kernel builder does not rewrite.

:func:`check_call` then calls ``step`` once on floats, and the kernel builder reports a step that
Numba cannot compile the same way (:func:`compile_error`).
"""
from __future__ import annotations

import ast
import inspect
import textwrap
from types import ModuleType

from .. import ops

__all__ = ["RuleContractError", "check_rule", "check_call", "compile_error", "where"]

_OPS = tuple(ops.__all__)  # what a rule may call: optanalysis.ops is the one list
_ALLOWED_STATEMENTS = (ast.Assign, ast.Return, ast.If, ast.Expr, ast.Pass)


class RuleContractError(ValueError):
    """A rule breaks the contract of :mod:`optanalysis.rules`; the message names the rule, the file
    and line, and the fix."""


def where(fn, node=None) -> str:
    """``file:line`` of ``fn``'s source (or of ``node`` inside it)."""
    try:
        path = inspect.getsourcefile(fn) or "<unknown>"
        first = inspect.getsourcelines(fn)[1]
    except (OSError, TypeError):
        return "<unknown>"
    return f"{path}:{first + (node.lineno - 1 if node is not None else 0)}"


def _error(rule_name: str, fn, node, problem: str, fix: str) -> RuleContractError:
    return RuleContractError(f"rule {rule_name!r}, {where(fn, node)}: {problem}; {fix}")


def _rule_modules(fn) -> set:
    return {name for name, value in fn.__globals__.items()
            if isinstance(value, ModuleType) and value.__name__.startswith("optanalysis.rules")}


def _ops_names(fn) -> set:
    return {name for name, value in fn.__globals__.items()
            if isinstance(value, ModuleType) and value.__name__ == "optanalysis.ops"}


def _check_function(rule, fn, expected: list | None, flags: set) -> None:
    """Check one function of the rule (see module doc); ``expected``: its parameter names."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        raise RuleContractError(f"rule {rule.name!r}: the source of {fn.__name__} cannot be read "
                                f"(define it with def in a .py file)") from None
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef):
        raise _error(rule.name, fn, None, f"{fn.__name__} is not a plain function",
                     "define it with def (no lambda, no decorator)")
    args = node.args
    params = [a.arg for a in args.args]
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or node.decorator_list:
        raise _error(rule.name, fn, node, f"{fn.__name__} takes *args, **kwargs, keyword-only "
                                          f"arguments or decorators",
                     "list every parameter by name")
    if expected is not None and params != expected:
        missing = [n for n in params if n not in expected]
        fix = (f"declare {missing[0]!r} in RULE.hyper (or RULE.state)" if missing else
               f"write def {fn.__name__}({', '.join(expected)})")
        raise _error(rule.name, fn, node, f"{fn.__name__}({', '.join(params)}) does not follow "
                                          f"the declaration, which gives "
                                          f"{fn.__name__}({', '.join(expected)})", fix)
    ops_names, modules = _ops_names(fn), _rule_modules(fn)
    assigned = set(params) | {n.id for n in ast.walk(node)
                              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    concrete = flags & set(params)  # names whose value is always a Python bool

    skip = set()  # the nodes of conditions on flags only (always concrete)

    def condition(test, at):
        names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
        if names <= concrete:
            skip.update(map(id, ast.walk(test)))
        else:
            value = sorted(names - concrete)[0]
            raise _error(rule.name, fn, at, f"branches on {value!r} ({ast.unparse(test)}), which is "
                                            f"a symbol in a derivation",
                         "use ops.where(cond, a, b) with ops.gt / ops.eq (only flags may be "
                         "branched on)")

    for stmt in ast.walk(node):
        if isinstance(stmt, ast.stmt) and stmt is not node \
                and not isinstance(stmt, _ALLOWED_STATEMENTS):
            what = type(stmt).__name__
            fix = ("write it as a plain assignment (x = x + ...)" if isinstance(stmt, ast.AugAssign)
                   else "use ops.where instead of loops or branches" if isinstance(
                       stmt, (ast.For, ast.While)) else "keep to assignments and one return")
            raise _error(rule.name, fn, stmt, f"statement {what} is not allowed in a rule", fix)
        if isinstance(stmt, ast.If):
            condition(stmt.test, stmt)
        elif isinstance(stmt, ast.IfExp):
            condition(stmt.test, stmt)
        elif isinstance(stmt, (ast.BoolOp, ast.Compare)) and id(stmt) not in skip:
            raise _error(rule.name, fn, stmt, f"{ast.unparse(stmt)} compares or combines values "
                                              f"with Python operators",
                         "use ops.gt / ops.eq and ops.where")
        elif isinstance(stmt, ast.Call):
            f = stmt.func
            ok = (isinstance(f, ast.Name) and f.id == "abs") or (
                isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and ((f.value.id in ops_names and f.attr in _OPS) or f.value.id in modules))
            if not ok:
                raise _error(rule.name, fn, stmt, f"calls {ast.unparse(f)}, which is not part of "
                                                  f"the contract",
                             f"use + - * / **, abs and optanalysis.ops ({', '.join(_OPS)}), "
                             f"with `from optanalysis import ops`")
        elif isinstance(stmt, ast.Name) and isinstance(stmt.ctx, ast.Load):
            if stmt.id not in assigned and stmt.id not in ops_names | modules | {"abs"}:
                if isinstance(fn.__globals__.get(stmt.id), ModuleType):
                    raise _error(rule.name, fn, stmt, f"uses the module {stmt.id!r}",
                                 f"use + - * / **, abs and optanalysis.ops ({', '.join(_OPS)}); "
                                 f"write constants as numbers")
                raise _error(rule.name, fn, stmt, f"uses {stmt.id!r}, which is neither a parameter "
                                                  f"nor assigned",
                             f"declare it as a hyperparameter in RULE.hyper and add it to "
                             f"{fn.__name__}'s parameters (constants: write the number)")
        elif isinstance(stmt, ast.Attribute) and isinstance(stmt.ctx, ast.Load) \
                and isinstance(stmt.value, ast.Name) and stmt.value.id in ops_names \
                and stmt.attr not in _OPS:
            raise _error(rule.name, fn, stmt, f"ops.{stmt.attr} does not exist",
                         f"optanalysis.ops has {', '.join(_OPS)}")
    return node


def check_rule(rule) -> None:
    """Check the sources of ``rule``'s ``step``, ``grad_point`` and ``init`` against the contract.

    Parameters
    ----------
    rule : Rule
        A rule whose ``module`` is set.

    Raises
    ------
    RuleContractError
        The first breach found, naming the rule, the file and line, and the fix.
    """
    state, hyper = list(rule.state), list(rule.hyper_names)
    flags = {p.name for p in rule.hyper if p.flag}
    module = rule.module
    node = _check_function(rule, module.step, [*state, "g", *hyper, "t"], flags)
    for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return)):
        if isinstance(ret.value, ast.Call):  # delegation to another rule's step (AdamW -> Adam)
            continue
        if not isinstance(ret.value, ast.Tuple):
            raise _error(rule.name, module.step, ret, "step returns "
                         f"{ast.unparse(ret.value) if ret.value else 'nothing'}, not a tuple",
                         f"return the new state as a tuple ({', '.join(state)})")
        if len(ret.value.elts) != len(state):
            raise _error(rule.name, module.step, ret, f"step returns {len(ret.value.elts)} "
                         f"entries, the declared state has {len(state)} ({', '.join(state)})",
                         "return one entry per state entry, in the declared order (or fix "
                         "RULE.state)")
    gp = getattr(module, "grad_point", None)
    if gp is not None and getattr(gp, "__module__", "") != "optanalysis.rules":
        _check_function(rule, gp, [*state, *hyper], flags)
    init = getattr(module, "init", None)
    if init is not None:
        params = list(inspect.signature(init).parameters)
        if params != ["x0", *hyper]:
            raise _error(rule.name, init, None, f"init({', '.join(params)}) does not follow the "
                                                f"declaration", f"write def init(x0, {', '.join(hyper)})")


def check_call(rule) -> None:
    """Call ``init``, ``grad_point`` and ``step`` once on floats at the defaults: each state is a
    tuple of the declared length.

    Raises
    ------
    RuleContractError
        If a call fails or returns a state of the wrong length.
    """
    import numpy as np

    values = rule.values(rule.params())
    try:
        state = tuple(rule.init(np.array([0.5]), *values))
        y = rule.grad_point(*state, *values)
        new = rule.step(*state, 0.25 * y, *values, 1)
    except Exception as exc:  # the user's code: any failure is a contract breach
        raise RuleContractError(f"rule {rule.name!r}, {where(rule.module.step)}: calling init/"
                                f"grad_point/step on floats at the defaults fails "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                                f"fix the arithmetic") from None
    for what, value in (("init", state), ("step", new)):
        if not isinstance(value, tuple) or len(value) != len(rule.state):
            n = len(value) if isinstance(value, tuple) else 1
            fn = rule.init if what == "init" else rule.module.step
            raise RuleContractError(f"rule {rule.name!r}, {where(fn)}: {what} returns {n} "
                                    f"entries, the declared state has {len(rule.state)} "
                                    f"({', '.join(rule.state)}); return one entry per state entry")


def compile_error(rule, exc: BaseException) -> RuleContractError:
    """The one-line error for a rule whose kernels Numba cannot compile."""
    text = " ".join(str(exc).split())
    for marker in ("Untyped global name", "Unknown attribute", "No implementation of function",
                   "Invalid use of", "Cannot unify", "NameError", "TypingError"):
        i = text.find(marker)
        if i >= 0:
            text = text[i:]
            break
    return RuleContractError(f"rule {rule.name!r}, {where(rule.module.step)}: the kernels do not "
                             f"compile ({text[:200]}); keep step to + - * / **, abs and "
                             f"optanalysis.ops on scalars")
