"""The benchmarked problem: a diagonal quadratic and the hyperparameters of each rule.

Subnormal floats must never appear: x86 handles them in microcode (10-100x slower), so a
benchmark that reaches them times the FPU's assists instead of the kernel.  Hence

* the minimiser is ``xstar = 1`` and the start ``x0 = 0``: heavy ball converges to numbers of
  order one whose differences are 0 or multiples of ulp(1) (never subnormal), instead of
  decaying geometrically towards zero;
* Adam's lr is tiny (1e-8): its step is about lr in size, so x stays in the transient
  (x < 1 for < 1e8 steps, more than any timing runs) where g ~ -h, m ~ -h, v ~ h^2 are normal.
  Once Adam converges, g is exactly 0 on coordinates with x == xstar and m decays by beta1 per
  step into the subnormals (seen at lr = 1e-2 after ~10^4 steps).  The arithmetic per step does
  not depend on lr.

``check_normal`` verifies the final state of every timed run.
"""
from __future__ import annotations

import numpy as np

__all__ = ["RULE_PARAMS", "quadratic", "check_normal"]

# heavy ball: lr * h <= 0.5 < 2(1 + momentum), inside the Jury region (stable, rate sqrt(0.9)).
RULE_PARAMS = {
    "heavy_ball": {"lr": 0.5, "momentum": 0.9},
    "adam": {"lr": 1e-8, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


def quadratic(d: int, dtype) -> tuple:
    """Curvatures ``h`` evenly spaced in [0.01, 1], start ``x0 = 0`` and minimiser ``xstar = 1``.

    Parameters
    ----------
    d : int
        Dimension (>= 1).
    dtype : str or numpy dtype
        ``float64`` or ``float32``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(h, x0, xstar)``, each of shape ``(d,)`` and the given dtype.
    """
    if not (isinstance(d, (int, np.integer)) and d >= 1):
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype}")
    h = np.linspace(0.01, 1.0, int(d)).astype(dtype)
    return h, np.zeros(d, dtype), np.ones(d, dtype)


def check_normal(*arrays) -> None:
    """Raise if any array holds a subnormal number or a non-finite one (an invalid timing)."""
    for a in arrays:
        a = np.asarray(a)
        tiny = np.finfo(a.dtype).tiny
        if not np.all(np.isfinite(a)):
            raise RuntimeError("benchmark state is not finite: the timing is meaningless")
        if np.any((a != 0) & (np.abs(a) < tiny)):
            raise RuntimeError("benchmark state holds subnormal numbers: the timing is distorted")
