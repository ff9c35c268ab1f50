"""Rules from outside the package: a file, an importable module, a third-party entry point.

``get_rule`` (:mod:`optanalysis.rules`) resolves every rule name the library accepts through
:func:`resolve`, so a rule written in the user's own file works wherever a built-in one does:

``path/to/my_rule.py``
    imported by path under a stable module name derived from the resolved path
    (``optanalysis_user_rule_<stem>_<hash of the path>``); asked again, the file is re-read only if
    its bytes changed, and a changed file replaces the rule it registered before;
``package.module``
    imported with :func:`importlib.import_module`;
entry points of the group ``optanalysis.rules``
    a third-party package declares ``[project.entry-points."optanalysis.rules"]
    my_rule = "my_package.my_rule"`` (a module, or a module attribute that is a module or a
    ``Rule``); they are loaded on the first look-up of a name that is not registered, or when the
    rules are listed.

Every such rule is checked against the contract before it is registered
(:mod:`optanalysis.rules._contract`).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import re
import sys
import warnings
from pathlib import Path
from types import ModuleType

__all__ = ["resolve", "load_file", "load_entry_points", "GROUP"]

GROUP = "optanalysis.rules"
_FILES: dict = {}  # resolved path -> (sha256 of the bytes, Rule)
_ENTRY_POINTS_LOADED = False
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _module_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem)
    return f"optanalysis_user_rule_{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"


def load_file(path) -> "object":
    """The rule declared by the Python file ``path`` (imported by path, registered, cached by the
    file's bytes: a changed file is imported again and replaces its rule).

    Raises
    ------
    ValueError
        If the file does not exist or is not a ``.py`` file; RuleContractError if its rule
        breaks the contract.
    """
    from . import RULES, register

    path = Path(path).expanduser()
    if path.suffix != ".py":
        raise ValueError(f"rule file must be a .py file, got {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"rule file {str(path)!r} does not exist")
    path = path.resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    hit = _FILES.get(path)
    if hit is not None and hit[0] == digest and RULES.get(hit[1].name) is hit[1]:
        return hit[1]  # unchanged and still registered
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    old = sys.modules.get(name)
    sys.modules[name] = module  # inspect.getsource finds the functions' file through it
    try:
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's file: one line naming it, never a traceback
            raise _import_error(path, exc) from None
        rule = register(module, external=True)
    except BaseException:
        if old is None:
            del sys.modules[name]
        else:
            sys.modules[name] = old
        raise
    _FILES[path] = (digest, rule)
    return rule


def _import_error(path: Path, exc: Exception):
    from ._contract import RuleContractError

    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    tb = exc.__traceback__
    while tb is not None:  # the deepest frame in the user's file
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    text = str(exc).splitlines()[0] if str(exc) else ""
    return RuleContractError(f"rule file {path}{f':{line}' if line else ''}: importing it fails "
                             f"({type(exc).__name__}: {text}); fix the file")


def _load_module(name: str):
    from . import register

    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        return None
    return register(module, external=True)


def load_entry_points() -> None:
    """Register the rules of the installed packages' ``optanalysis.rules`` entry points, once.

    A broken entry point is skipped with a warning naming it (one bad package does not hide the
    others' rules)."""
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from . import RULES, Rule, register

    for ep in importlib.metadata.entry_points(group=GROUP):
        try:
            target = ep.load()
            if isinstance(target, Rule):  # the module that declares it
                target = target.module or importlib.import_module(ep.module)
            if isinstance(target, ModuleType) and getattr(target, "RULE", None) is not None \
                    and target.RULE.name in RULES and RULES[target.RULE.name].module is target:
                continue
            register(target, external=True)
        except Exception as exc:  # a third party's failure: report it, keep the other rules
            warnings.warn(f"optanalysis.rules entry point {ep.name!r} ({ep.value}) skipped: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                          RuntimeWarning, stacklevel=2)


def resolve(name: str):
    """The rule called ``name`` that is not registered yet: a file path, a dotted module name or
    an entry point's rule; None if it is none of these."""
    if name.endswith(".py") or "/" in name or "\\" in name:
        return load_file(name)
    load_entry_points()
    from . import RULES

    if name in RULES:
        return RULES[name]
    if _DOTTED.fullmatch(name):
        return _load_module(name)
    return None
