"""The tabulated powers of the step count (``beta ** t``, see ``rewrite.py``)."""
import numpy as np
from numba import njit

from optanalysis.kernels.mixed import pow as _pow

from .binding import _exponent
from .core import _OPTS

POWER_CHUNK = 4096  # steps of a tabulated power computed by one thread at a time
# b ** e is +0 where e log2(b) < this: the exact power is then below 2^-1100, under 2^-26 of the
# smallest subnormal 2^-1074, which a pow accurate to better than 1 - 2^-26 ulp (glibc's: 0.54)
# can only round to +0.  So skipping the (slow, underflowing) call there keeps pow's bits.
_UNDERFLOWED = -1100.0


@njit(nogil=True, **_OPTS)
def power_table(out, bases, j, t0, first, stride):
    """``out[r, k] = bases[r] ** _exponent(j, t0 + k + 1)`` for the columns k of chunks ``first,
    first + stride, ...`` of POWER_CHUNK steps (``t0``: the step count before column 0): the
    rule's tabulated power j (see ``rewrite.py``) by the rule's own ``_pow`` and exponent, so
    each value has the bits of the in-step ``pow`` it replaces (+0 without the call where it
    has underflowed, see ``_UNDERFLOWED``); computed once per distinct base, shared by the
    problems.  libm ``pow`` is the cost, so callers spread the chunks over threads like
    problems."""
    steps = out.shape[1]
    for c in range(first, -(-steps // POWER_CHUNK), stride):
        for r in range(bases.size):
            b = bases[r]
            lb = np.log2(b) if b > 0 else np.nan  # not for -0.0: (-0.0) ** 3 is -0.0
            # t counts in a float (exact below 2^53, else converted from the integer as the
            # steps convert it): the loop does not vectorise, which would call pow in every
            # lane and mask the result
            exact = t0 + steps < 2**53
            tf = np.float64(t0 + c * POWER_CHUNK)
            for k in range(c * POWER_CHUNK, min((c + 1) * POWER_CHUNK, steps)):
                tf = tf + 1.0 if exact else np.float64(t0 + k + 1)
                e = _exponent(j, tf)
                out[r, k] = 0.0 if e * lb < _UNDERFLOWED else _pow(b, e)
