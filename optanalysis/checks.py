"""Argument checks shared by the public functions: one rule and one message for each kind of argument
(integers, arrays of real numbers, vectors, learning-rate sequences)."""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["integer", "boolean", "INT64_MAX", "real_array", "float_or_inf", "vector", "lr_array"]

INT64_MAX = 2**63 - 1


def integer(value, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an ``int``, checked to be an integer (not a bool) in ``[low, high]``.

    Parameters
    ----------
    value
        The argument (Python or NumPy integer).
    name : str
        Its name, for the message.
    low : int
        Smallest valid value.
    high : int, optional
        Largest valid value (if None: 2**63 - 1, as counts and sizes go into int64 arrays).

    Raises
    ------
    TypeError
        If ``value`` is not an integer: "<name> must be an integer >= low" (or "in [low, high]").
    ValueError
        If it is out of range (same message).
    """
    if type(value) is int and low <= value <= (INT64_MAX if high is None else high):
        return value  # the common case, without the ABC check and the message
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {bound}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    if high is None and value > INT64_MAX:  # counts and sizes end up in int64 arrays
        raise ValueError(f"{name} must be an integer {bound} and <= 2**63 - 1, got {value!r}")
    return int(value)


def boolean(value, name: str) -> bool:
    """``value`` checked to be a ``bool`` (not 0/1 or a string): "<name> must be a bool"."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return value


def real_array(value, name: str, what: str) -> np.ndarray:
    """``value`` as a new float64 array, if it holds real numbers: bools, complex numbers,
    strings, dates and masked arrays are a TypeError (NumPy would convert or drop them
    silently); an integer beyond float64 becomes inf, for the caller's finiteness check."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must be {what}, got a masked array")
    try:
        try:
            a = np.asarray(value)
        except OverflowError:  # an int beyond float64 among numbers
            a = np.array(value, dtype=object)
    except (TypeError, ValueError):  # ragged
        raise TypeError(f"{name} must be {what}") from None
    if a.dtype.kind == "O":
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in a.flat):
            raise TypeError(f"{name} must be {what}")
        return np.array([float_or_inf(v) for v in a.flat], np.float64).reshape(a.shape)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {what}, got {a.dtype} values")
    if a.dtype.itemsize <= 8:  # no overflow possible (integers, float16/32/64): no errstate
        return a.astype(np.float64)
    with np.errstate(over="ignore"):  # a long double beyond float64
        return a.astype(np.float64)


def float_or_inf(v) -> float:
    """``float(v)``, or +-inf for an integer beyond float64 (float() raises OverflowError)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def vector(value, name: str, d: int | None = None, *, broadcast: bool = False) -> np.ndarray:
    """``value`` as a new finite, non-empty 1-D float64 array (of length ``d`` if given); errors name it.
    With ``broadcast``, one value stands for all ``d`` coordinates (``--x0 1`` on the command line)."""
    v = real_array(value, name, "a 1-D array of finite numbers")
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {v.shape}")
    if broadcast and d is not None and v.size == 1:
        v = np.full(d, v[0])
    if d is not None and v.size != d:
        allowed = f"1 or d = {d} values" if broadcast else f"length d = {d}"
        raise ValueError(f"{name} must have {allowed}, got {v.size}")
    if not np.isfinite(v).all():  # (the method: half the cost of np.all on a small array)
        raise ValueError(f"{name} must be finite")
    return v


def lr_array(lrs, steps: int, rows: int | None = None) -> np.ndarray:
    """A user's lr sequence as a (m, steps) float64 array, finite and >= 0: m = 1, or ``rows`` when
    one sequence per configuration is allowed (a batch); errors name ``lrs``."""
    shapes = [(steps,)] + ([(rows, steps)] if rows is not None else [])
    what = " or ".join(map(str, shapes))
    seq = real_array(lrs, "lrs", f"an array of shape {what} of finite numbers >= 0")
    if seq.shape not in shapes:
        raise ValueError(f"lrs must have shape {what} (one lr per step, steps={steps}), got {seq.shape}")
    if not np.isfinite(seq).all():
        raise ValueError("lrs must be finite")
    if (seq < 0).any():
        raise ValueError("lrs entries must be >= 0")
    return seq.reshape(-1, steps)
