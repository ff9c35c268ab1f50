"""Expression strings read back as SymPy objects, as data: nothing in them is evaluated.

The tokens are checked first (numbers, operators, the given symbols, SymPy's classes and
constants), so that ``sympify`` never evaluates anything else: a derivation read back from JSON,
or an equivalence a rule file states (``h + weight_decay``).
"""
from __future__ import annotations

import io
import tokenize

import sympy

__all__ = ["parse"]

# What an expression string may contain besides its symbols: SymPy's printed functions and
# constants, numbers, operators and lists (matrices); no strings, attributes or underscored
# names.
_PRINTED = frozenset({"sqrt", "cbrt", "root", "True", "False"})
_OPERATORS = frozenset("+ - * / ** ^ ( ) [ ] , < > <= >= == != & | ~".split())


def _allowed_name(name: str, table: dict) -> bool:
    if name in table or name in _PRINTED:
        return True
    obj = getattr(sympy, name, None) if not name.startswith("_") else None
    return (isinstance(obj, type) and issubclass(obj, sympy.Basic)) or isinstance(obj, sympy.Basic)


def parse(text: str, table: dict):
    """``text`` as a SymPy object whose names are the symbols of ``table`` (name -> symbol).

    Raises ``TypeError`` if ``text`` is not a str, ``ValueError`` naming the first token that is
    not allowed or if it is not an expression."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ValueError(f"text is not an expression: {exc}") from None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.NUMBER):
            continue
        if not ((tok.type == tokenize.OP and tok.string in _OPERATORS)
                or (tok.type == tokenize.NAME and _allowed_name(tok.string, table))):
            raise ValueError(f"text: {tok.string!r} is not allowed in an expression")
    try:
        return sympy.sympify(text, locals=table)
    except (sympy.SympifyError, SyntaxError, TypeError) as exc:
        raise ValueError(f"text is not an expression: {exc}") from None
