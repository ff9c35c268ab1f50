"""The arithmetic of the rules inside the kernels: torch's mixed-precision semantics.

torch.optim evaluates every hyperparameter expression (``1 - beta2``, ``lr / (1 - beta1**t)``,
``sqrt(1 - beta2**t)``) on Python floats, i.e. in float64, and rounds the result to the tensor's
dtype where it meets a tensor (NumPy >= 2 does the same with Python floats, NEP 50).  Numba
follows NumPy's older rules instead: a float32 value meeting a float64 scalar *or an integer
literal* is widened to float64, so ``m + (1 - beta1) * (g - m)`` would run in float64 per
element in a float32 kernel (different roundings from torch, and half the SIMD width).

The kernel builder (``build.py``) therefore writes each ``+ - * / **`` of a rule's
``grad_point``/``step`` as a call of the functions below.  Hyperparameters and the step count
reach the rules as float64; where a float32 operand meets a float64 or integer one, the latter is
rounded to float32 and the operation is done in float32.  Every other combination is the plain
operator, so float64 kernels perform exactly the operations they did before (the same bits).
"""
import operator

import numpy as np
from numba import types
from numba.extending import overload

__all__ = ["add", "sub", "mul", "truediv", "pow", "cast_like"]


def _mixed(op):
    def python(a, b):
        return op(a, b)

    @overload(python)
    def _numba(a, b):
        f32, other = types.float32, (types.Float, types.Integer)
        if a == f32 and b != f32 and isinstance(b, other):
            return lambda a, b: op(a, np.float32(b))
        if b == f32 and a != f32 and isinstance(a, other):
            return lambda a, b: op(np.float32(a), b)
        return lambda a, b: op(a, b)

    python.__name__ = op.__name__
    return python


add, sub, mul, truediv, pow = (_mixed(op) for op in (operator.add, operator.sub, operator.mul,
                                                     operator.truediv, operator.pow))


def cast_like(x, arr):
    """``x`` rounded to the dtype of ``arr``, as storing it into ``arr`` would round it."""
    return arr.dtype.type(x)


@overload(cast_like)
def _cast_like_numba(x, arr):
    if arr.dtype == types.float32:
        return lambda x, arr: np.float32(x)
    return lambda x, arr: np.float64(x)
