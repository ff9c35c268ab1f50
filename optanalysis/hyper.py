"""Declarations of parameters, of update rules and of schedules: the one place validation comes from.

Every declaration follows one protocol:

``name``
    the parameter's name (a keyword argument, a spec key);
``default``
    its value when not given, or :data:`REQUIRED`;
``range``
    its valid values, as shown to users (``(0, inf)``, ``integers >= 1``, ``{min, max}``);
``validate(value)``
    the value, converted (``float``, ``int``, ``tuple``, ...), or ``TypeError``/``ValueError``
    "NAME must be ..., got VALUE" naming the parameter and its valid range;
``doc``, ``symbol``
    a short description and the LaTeX of the literature's notation (empty: the plain name);
``flag``
    True only for booleans (a rule's flags are always concrete, never symbols).

Rules declare :class:`Real` and :class:`Flag` (a kernel takes them as float arrays); schedules may also
declare :class:`Int`, :class:`Choice`, :class:`ListOf` and :class:`Optional`.  A new kind of parameter
subclasses :class:`Declaration`, which gives every bad-value message its one form.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .checks import integer

__all__ = ["REQUIRED", "Declaration", "Real", "Flag", "Int", "Choice", "ListOf", "Optional", "learning_rate",
           "coefficient", "nonnegative", "positive"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
"""The ``default`` of a parameter that must be given."""


class Declaration:
    """Base of the declarations: what they share besides their fields (``name``, ``default``,
    ``doc``, ``symbol``, and ``range`` and ``validate`` of their own)."""

    flag = False

    def _error(self, error: type, expected: str, value) -> Exception:
        """The one form of a bad-value message: "NAME must be EXPECTED, got VALUE"."""
        return error(f"{self.name} must be {expected}, got {value!r}")


@dataclass(frozen=True)
class Real(Declaration):
    """A real parameter with a valid interval ``low..high`` (open or closed at each end)."""

    name: str
    default: float
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    doc: str = ""
    symbol: str = ""  # LaTeX in the literature's notation (``\\beta_1``); empty: the plain name

    @property
    def range(self) -> str:
        """The valid range in interval notation, e.g. ``(0, inf)`` or ``[0, 1)``."""
        lo = "(" if self.low_open or self.low == -math.inf else "["
        hi = ")" if self.high_open or self.high == math.inf else "]"
        return f"{lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"

    def contains(self, v):
        """v (a float, or elementwise a float64 array) is finite and in the valid range."""
        # operators only: a float takes no NumPy call (a sweep validates thousands); NaN fails all
        return ((v > self.low if self.low_open else v >= self.low)
                & (v < self.high if self.high_open else v <= self.high) & (abs(v) < math.inf))

    def validate(self, value) -> float:
        if type(value) is not float and (  # the common case first: cheap in a sweep's loop
                isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise self._error(TypeError, f"a real number in {self.range}", value)
        try:
            v = float(value)
        except OverflowError:  # an int beyond float64
            raise self._error(ValueError, f"in {self.range}", value) from None
        if not self.contains(v):
            raise self._error(ValueError, f"in {self.range}", value)
        return v


@dataclass(frozen=True)
class Flag(Declaration):
    """A boolean option (``nesterov``, ``amsgrad``, ``staircase``, ...)."""

    name: str
    default: bool
    doc: str = ""
    symbol: str = ""

    flag = True
    range = "{false, true}"

    def validate(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        raise self._error(TypeError, "a boolean (true/false)", value)


@dataclass(frozen=True)
class Int(Declaration):
    """An integer parameter ``>= low`` (a count of steps, a milestone); checked by :func:`checks.integer`."""

    name: str
    default: object
    low: int = 0
    doc: str = ""
    symbol: str = ""

    @property
    def range(self) -> str:
        return f"integers >= {self.low}"

    def validate(self, value) -> int:
        return integer(value, self.name, self.low)


@dataclass(frozen=True)
class Choice(Declaration):
    """One word out of ``choices`` (``mode=min``)."""

    name: str
    default: str
    choices: tuple
    doc: str = ""
    symbol: str = ""

    @property
    def range(self) -> str:
        return "{" + ", ".join(self.choices) + "}"

    def validate(self, value) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise self._error(ValueError, f"one of {self.range}", value)
        return value


class _Wrapper(Declaration):
    """A declaration built on another one (``item``), whose name, doc and symbol it takes."""

    @property
    def name(self) -> str:
        return self.item.name

    @property
    def doc(self) -> str:
        return self.item.doc

    @property
    def symbol(self) -> str:
        return self.item.symbol


@dataclass(frozen=True)
class ListOf(_Wrapper):
    """A list of values, each validated by ``item`` (a :class:`Real` or :class:`Int`), strictly
    increasing if asked; the default is ``item.default``."""

    item: Real | Int
    increasing: bool = False

    @property
    def default(self):
        return self.item.default

    @property
    def _entries(self) -> str:
        each = f"reals in {self.item.range}" if isinstance(self.item, Real) else self.item.range
        return each + (", strictly increasing" if self.increasing else "")

    @property
    def range(self) -> str:
        return f"lists of {self._entries}"

    def validate(self, value) -> tuple:
        if not isinstance(value, (tuple, list)):
            raise self._error(TypeError, f"a list [..] of {self._entries}", value)
        out = tuple(self.item.validate(v) for v in value)
        if self.increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise self._error(ValueError, "strictly increasing", list(out))
        return out


@dataclass(frozen=True)
class Optional(_Wrapper):
    """A parameter that may be left unset (``None``, the default), which means ``unset``
    (for instance ``"base_lr"``: an optax schedule's ``init_value`` defaults to the base lr)."""

    item: Real
    unset: str = "None"

    default = None

    @property
    def range(self) -> str:
        return self.item.range

    def validate(self, value):
        return None if value is None else self.item.validate(value)


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


# Shared declarations, so that every rule and schedule states the same range for the same kind of
# parameter.
def learning_rate(default: float, symbol: str = r"\alpha") -> Real:
    """The learning rate ``lr``, in (0, inf): every rule's first hyperparameter."""
    return Real("lr", default, 0.0, low_open=True, doc="learning rate (base value of the schedule)",
                symbol=symbol)


def coefficient(name: str, default: float, doc: str = "", symbol: str = "") -> Real:
    """A decay/momentum coefficient in [0, 1)."""
    return Real(name, default, 0.0, 1.0, high_open=True, doc=doc, symbol=symbol)


def nonnegative(name: str, default: float, doc: str = "", symbol: str = "") -> Real:
    """A real in [0, inf)."""
    return Real(name, default, 0.0, doc=doc, symbol=symbol)


def positive(name: str, default: float = REQUIRED, doc: str = "", symbol: str = "") -> Real:
    """A real in (0, inf)."""
    return Real(name, default, 0.0, low_open=True, doc=doc, symbol=symbol)
