"""The small grammar of command-line and file specs — strings are data, never code.

::

    SPEC   := NAME [":" PARAMS]
    PARAMS := NAME "=" VALUE ("," NAME "=" VALUE)*
    VALUE  := number | "true" | "false" | "[" number ("," number)* "]" | "[" NESTED (";" NESTED)* "]"
              | bare word
    NESTED := NAME ["(" PARAMS ")"]            (a spec inside a list, e.g. for sequential schedules)

Examples: ``step:step_size=30,gamma=0.1``, ``multistep:milestones=[30,60,80]``, ``constant``,
``sequential:schedules=[linear(start_factor=0.1,total_iters=5);cosine(T_max=95)],milestones=[5]``.
Numbers are parsed with ``int``/``float`` only; a NESTED item is returned as the spec string
``"NAME:PARAMS"`` (checked with :func:`parse_spec`), to be parsed by its consumer.
:func:`format_spec` writes the spec string that :func:`parse_spec` reads back.
"""
from __future__ import annotations

import re

from .checks import INT64_MAX

__all__ = ["parse_value", "parse_spec", "parse_assignment", "parse_assignments", "parse_floats",
           "format_spec"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_value(text: str, *, what: str = "value"):
    """``"3"`` -> 3, ``"0.1"`` -> 0.1, ``"true"`` -> True, ``"[1,2]"`` -> (1, 2),
    ``"[a(x=1);b]"`` -> ("a:x=1", "b"), else the word."""
    s = text.strip()
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if s.startswith("[") or s.endswith("]"):
        if not (s.startswith("[") and s.endswith("]")):
            raise ValueError(f"{what}: unbalanced brackets in {text!r}")
        inner = s[1:-1].strip()
        try:
            return tuple(_number(p, what) for p in inner.split(",")) if inner else ()
        except ValueError:
            if not _NAME.match(inner[:1]):
                raise
        return tuple(_nested(p, what) for p in _split_top(inner, ";"))
    try:
        return _number(s, what)
    except ValueError:
        if _NAME.match(s):
            return s
        raise


# ASCII numbers only (int/float alone would also take "1_000" and non-ASCII digits)
_INT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z|[+-]?(inf|infinity|nan)\Z",
                    re.IGNORECASE)


def _number(s: str, what: str):
    s = s.strip()
    if _INT.match(s):
        v = int(s)
        # beyond int64 an integer literal is read as the float it is (inf past float64), so the
        # parameter's own check names it instead of an OverflowError on the way
        return v if abs(v) <= INT64_MAX else float(s)
    if _FLOAT.match(s):
        return float(s)
    raise ValueError(f"{what}: {s!r} is not a number")


def _nested(text: str, what: str) -> str:
    """``"NAME(PARAMS)"`` or ``"NAME"`` -> the spec string ``"NAME:PARAMS"`` / ``"NAME"``."""
    s = text.strip()
    name, paren, rest = s.partition("(")
    if paren:
        if not rest.endswith(")"):
            raise ValueError(f"{what}: expected NAME(key=value,...) in a list, got {s!r}")
        s = f"{name.strip()}:{rest[:-1]}"
    parse_spec(s, what=what)
    return s


def parse_assignment(text: str, *, what: str = "parameter") -> tuple:
    """``"NAME=VALUE"`` -> (NAME, value)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name) or not value.strip():
        raise ValueError(f"{what}: expected NAME=VALUE, got {text!r}")
    return name, parse_value(value, what=f"{what} {name}")


def parse_assignments(texts, *, what: str = "parameter") -> dict:
    """``["NAME=VALUE", ...]`` -> {NAME: value}; a name given twice is an error, not "last wins"."""
    out = {}
    for text in texts:
        name, value = parse_assignment(text, what=what)
        if name in out:
            raise ValueError(f"{what}: {name} given twice")
        out[name] = value
    return out


def _split_top(text: str, sep: str = ",") -> list:
    """Split on ``sep`` where it is not inside brackets or parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced brackets in {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise ValueError(f"unbalanced brackets in {text!r}")
    parts.append("".join(cur))
    return parts


def parse_spec(text: str, *, what: str = "spec") -> tuple:
    """``"NAME:a=1,b=[2,3]"`` -> (NAME, {"a": 1, "b": (2, 3)})."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what}: empty")
    name, _, rest = text.strip().partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise ValueError(f"{what}: {name!r} is not a valid name (expected NAME[:key=value,...])")
    params = {}
    if rest.strip():
        for part in _split_top(rest):
            key, value = parse_assignment(part, what=f"{what} {name}")
            if key in params:
                raise ValueError(f"{what} {name}: {key} given twice")
            params[key] = value
    return name, params


def format_spec(name: str, params) -> str:
    """``("NAME", {"a": 1, "b": (2, 3)})`` -> ``"NAME:a=1,b=[2,3]"``, the inverse of :func:`parse_spec`.

    Parameters
    ----------
    name : str
        The spec's name.
    params : mapping
        Values: numbers (floats written with ``repr``, so they read back exactly), bools, words,
        tuples of them, or objects with a ``spec`` string (written ``NAME(PARAMS)``, as in a
        nested list). ``None`` values (unset) are left out.
    """
    def fmt(v):
        if isinstance(v, bool):
            return str(v).lower()
        if hasattr(v, "spec"):
            head, _, rest = v.spec.partition(":")
            return f"{head}({rest})" if rest else head
        if isinstance(v, tuple):
            sep = ";" if v and hasattr(v[0], "spec") else ","
            return "[" + sep.join(fmt(x) for x in v) + "]"
        return repr(v) if isinstance(v, float) else str(v)

    items = ",".join(f"{k}={fmt(v)}" for k, v in params.items() if v is not None)
    return f"{name}:{items}" if items else name


def parse_floats(text: str, *, what: str) -> list:
    """``"1,2.5,3"`` -> [1.0, 2.5, 3.0]; every entry must be a finite number."""
    import math

    out = []
    for part in text.split(","):
        v = float(_number(part, what))
        if not math.isfinite(v):
            raise ValueError(f"{what}: entries must be finite, got {part.strip()!r}")
        out.append(v)
    return out
