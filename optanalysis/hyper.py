"""Declarations of hyperparameters: name, default, valid range; the one place validation comes from."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Real", "Flag", "learning_rate", "coefficient", "nonnegative"]


@dataclass(frozen=True)
class Real:
    """A real hyperparameter with a valid interval ``low..high`` (open or closed at each end)."""

    name: str
    default: float
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    doc: str = ""
    symbol: str = ""  # LaTeX in the literature's notation (``\\beta_1``); empty: the plain name

    flag = False

    @property
    def range(self) -> str:
        """The valid range in interval notation, e.g. ``(0, inf)`` or ``[0, 1)``."""
        lo = "(" if self.low_open or self.low == -math.inf else "["
        hi = ")" if self.high_open or self.high == math.inf else "]"
        return f"{lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"

    def contains(self, v):
        """v (a float, or elementwise a float64 array) is finite and in the valid range."""
        with np.errstate(invalid="ignore"):
            return np.isfinite(v) & (v > self.low if self.low_open else v >= self.low) & (
                v < self.high if self.high_open else v <= self.high)

    def validate(self, value) -> float:
        if type(value) is not float and (  # the common case first: cheap in a sweep's loop
                isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise TypeError(f"{self.name} must be a real number in {self.range}, got {value!r}")
        try:
            v = float(value)
        except OverflowError:  # an int beyond float64
            raise ValueError(f"{self.name} must be in {self.range}, got {value!r}") from None
        if not self.contains(v):
            raise ValueError(f"{self.name} must be in {self.range}, got {value!r}")
        return v


@dataclass(frozen=True)
class Flag:
    """A boolean option (``nesterov``, ``amsgrad``, ...). Flags are always concrete, never symbols."""

    name: str
    default: bool
    doc: str = ""
    symbol: str = ""  # LaTeX in the literature's notation; empty: the plain name

    flag = True
    range = "{false, true}"

    def validate(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        raise TypeError(f"{self.name} must be a boolean (true/false), got {value!r}")


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


# Shared declarations, so that every rule states the same range for the same kind of parameter.
def learning_rate(default: float, symbol: str = r"\alpha") -> Real:
    return Real("lr", default, 0.0, low_open=True, doc="learning rate (base value of the schedule)",
                symbol=symbol)


def coefficient(name: str, default: float, doc: str = "", symbol: str = "") -> Real:
    """A decay/momentum coefficient in [0, 1)."""
    return Real(name, default, 0.0, 1.0, high_open=True, doc=doc, symbol=symbol)


def nonnegative(name: str, default: float, doc: str = "", symbol: str = "") -> Real:
    return Real(name, default, 0.0, doc=doc, symbol=symbol)
