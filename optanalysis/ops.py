"""The few functions an update rule may call besides ``+ - * / **`` and ``abs``.

Each works on three kinds of input, so that one rule definition serves every consumer:

* SymPy expressions -> the exact SymPy counterpart (``sqrt``, ``Max``, ``Piecewise``, ``Eq``);
* floats and NumPy arrays -> NumPy;
* inside ``numba.njit`` code -> the ``@overload`` below (scalar code the kernels inline).

Conditions (``eq``, ``gt``) return Python/NumPy booleans for numbers and SymPy relationals for
symbols; ``where`` turns the latter into a ``Piecewise`` so that no rule branches on a state value.

SymPy is not imported here: an argument can only be a SymPy object once something else has
imported SymPy, so until then every input is a number, and a run of the kernels (``optanalysis
simulate``) never pays SymPy's import (~0.3 s).
"""
import math
import sys

import numpy as np
from numba import types
from numba.extending import overload

__all__ = ["sqrt", "rsqrt", "maximum", "sign", "round32", "where", "eq", "gt"]


def _sympy():
    """The SymPy module if it has been imported (else None: no argument can be symbolic)."""
    return sys.modules.get("sympy")


def _is_basic(x) -> bool:
    sympy = _sympy()
    return sympy is not None and isinstance(x, sympy.Basic)


def _symbolic(*args):
    return any(map(_is_basic, args))


def _python_float(x) -> bool:
    # A Python float stays one (math.sqrt), so that it meets a float32 array the way torch's
    # Python-float scalars do: rounded to float32 (NEP 50).  np.sqrt would give a np.float64,
    # which NumPy does not round but widens the array to.
    return type(x) in (float, int) and x >= 0


def sqrt(x):
    """Square root."""
    if _python_float(x):
        return math.sqrt(x)
    return _sympy().sqrt(x) if _symbolic(x) else np.sqrt(x)


def rsqrt(x):
    """Reciprocal square root ``1/sqrt(x)`` (optax's ``jax.lax.rsqrt``)."""
    if _python_float(x) and x > 0:
        return 1.0 / math.sqrt(x)
    return 1 / _sympy().sqrt(x) if _symbolic(x) else 1.0 / np.sqrt(x)


def maximum(a, b):
    """Element-wise maximum (propagates NaN, like ``torch.maximum``)."""
    return _sympy().Max(a, b) if _symbolic(a, b) else np.maximum(a, b)


def sign(x):
    """-1, 0 or 1 by the sign of ``x`` (``sign(0) = 0``, as ``torch.sign`` and ``jnp.sign``)."""
    if _symbolic(x):
        return _sympy().sign(x)
    return np.sign(x) if np.ndim(x) else float(np.sign(x))


_ROUND32 = []  # the SymPy function class of round32, made on first symbolic use


def _round32_function():
    """``_Round32``: float32 rounding inside a symbolic expression: identity for symbols
    (derivations are exact arithmetic; its derivative is 1), the rounded value once the argument
    is a number, so that an update evaluated at numbers is the one the kernels compute.  One class
    per process (SymPy compares function applications by their class)."""
    if not _ROUND32:
        sympy = _sympy()

        class _Round32(sympy.Function):
            @classmethod
            def eval(cls, x):
                if x.is_Number:
                    return sympy.Float(float(np.float32(float(x))))
                return None

            def fdiff(self, argindex=1):
                return sympy.Integer(1)

        _Round32.__module__ = __name__
        _ROUND32.append(_Round32)
    return _ROUND32[0]


def round32(x):
    """``x`` rounded to float32 and held in its own type (float64 stays float64): the scalar
    state torch keeps in its default dtype (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``)."""
    if _symbolic(x):
        return _round32_function()(x)
    if np.ndim(x):
        return np.asarray(x).astype(np.float32).astype(np.asarray(x).dtype)
    return float(np.float32(x))


def eq(a, b):
    """The condition ``a == b``."""
    return _sympy().Eq(a, b) if _symbolic(a, b) else a == b


def gt(a, b):
    """The condition ``a > b``."""
    return _sympy().StrictGreaterThan(a, b) if _symbolic(a, b) else a > b


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b``."""
    if _is_basic(cond):
        sympy = _sympy()
        if cond is sympy.true or cond is sympy.false:
            return a if cond is sympy.true else b
        return sympy.Piecewise((a, cond), (b, True))
    if _symbolic(a, b):
        return a if cond else b
    return np.where(cond, a, b) if np.ndim(cond) else (a if cond else b)


# Numba versions: the kernels call rules on scalars, one coordinate at a time.
@overload(sqrt)
def _sqrt_nb(x):
    return lambda x: math.sqrt(x)


@overload(rsqrt)
def _rsqrt_nb(x):
    return lambda x: 1.0 / math.sqrt(x)


@overload(maximum)
def _maximum_nb(a, b):
    # NaN-propagating like torch.maximum / jnp.maximum (Python's max would drop it).
    return lambda a, b: a if (a > b or a != a) else b


@overload(sign)
def _sign_nb(x):
    return lambda x: (x > 0) - (x < 0) + 0.0 * x


@overload(round32)
def _round32_nb(x):
    if x == types.float32:  # a float32 kernel: already float32, kept so (as NumPy keeps it)
        return lambda x: x
    return lambda x: np.float64(np.float32(x))


@overload(eq)
def _eq_nb(a, b):
    return lambda a, b: a == b


@overload(gt)
def _gt_nb(a, b):
    return lambda a, b: a > b


@overload(where)
def _where_nb(cond, a, b):
    return lambda cond, a, b: a if cond else b
