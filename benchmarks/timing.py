"""Wall-clock timing: calibrate the step count, warm up, keep the best of several repeats."""
from __future__ import annotations

import time

__all__ = ["Timing", "time_steps"]


class Timing(dict):
    """One measurement: ``steps``, ``seconds`` (best repeat), ``all_seconds``, ``d`` and rates."""


def _once(run, steps: int) -> float:
    start = time.perf_counter()
    run(steps)
    return time.perf_counter() - start


def time_steps(run, d: int, *, target: float = 0.3, repeats: int = 3, min_steps: int = 1,
               max_steps: int = 10**8) -> Timing:
    """Time ``run(steps)`` with ``steps`` chosen so one call lasts about ``target`` seconds.

    Parameters
    ----------
    run : callable
        ``run(steps)`` performs ``steps`` optimizer steps on ``d`` coordinates and blocks until
        the result exists (``block_until_ready`` for JAX).
    d : int
        Number of coordinates, for the element-steps rate.
    target : float
        Aimed-at duration of one timed call, in seconds (the brief asks for 0.2-1 s).
    repeats : int
        Timed calls after the warm-up; the best (least disturbed by other processes) is kept.
    min_steps, max_steps : int
        Bounds on the chosen step count (e.g. memory for per-step outputs).

    Returns
    -------
    Timing
        ``steps``, ``seconds`` (best), ``all_seconds``, ``ns_per_element_step`` and
        ``element_steps_per_s``.

    Notes
    -----
    The first call at a given step count compiles (Numba, ``jax.jit``) and is never timed: the
    calibration probes (each run twice, the second timed) grow the step count until a call
    lasts >= target/2; the chosen count is run once untimed (JAX compiles a scan per length)
    before the timed repeats.  If the best repeat is then < target/3 (the probes were slowed by
    start-up costs), the count is scaled up and the warm-up and repeats are done again (at most
    twice more).
    """
    if not (isinstance(d, int) and d >= 1):
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not target > 0:
        raise ValueError(f"target must be > 0 seconds, got {target!r}")
    steps = max(min_steps, 1)
    _once(run, steps)  # compile / first-touch
    elapsed = _once(run, steps)
    # Grow until one call lasts >= target/2: a fixed per-call cost (dispatch, allocation)
    # would make a linear extrapolation from a short probe undershoot.
    while elapsed < target / 2 and steps < max_steps:
        steps = min(max_steps, int(steps * min(10.0, max(2.0, target / max(elapsed, 1e-9)))))
        _once(run, steps)  # a new length may compile (JAX)
        elapsed = _once(run, steps)
    steps = int(min(max_steps, max(min_steps, round(steps * target / max(elapsed, 1e-9)))))
    for _ in range(3):  # slow first calls (lazy init, thread start-up) can make steps too few
        _once(run, steps)  # warm-up at the final length
        all_seconds = [_once(run, steps) for _ in range(repeats)]
        best = min(all_seconds)
        if best >= target / 3 or steps >= max_steps:
            break
        steps = int(min(max_steps, round(steps * target / max(best, 1e-9))))
    return Timing(d=d, steps=steps, seconds=best, all_seconds=all_seconds,
                  ns_per_element_step=best / (d * steps) * 1e9,
                  element_steps_per_s=d * steps / best)
