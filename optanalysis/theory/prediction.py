"""Exact deterministic predictions for the linear rules (gd, heavy_ball, sgd_momentum, nesterov).

On a quadratic f(x) = 1/2 (x - x*)^T H (x - x*) every linear rule acts on each eigen-direction of H
separately.  With curvature h, minimiser coordinate y* and state s (the rule's state entries in that
direction) one step is the affine map

    s_t = A_t(h, lr_t) s_{t-1} + a_t(h, lr_t) y* + b_t(h, lr_t) xi

where A_t is the Jacobian of the rule's symbolic step with respect to the state, a_t its derivative
with respect to y* (the gradient is h (grad_point - y*)) and b_t its derivative with respect to an
additive gradient noise xi (used by :mod:`optanalysis.theory.noisy`).  All three are derived by SymPy from
the rule's single definition (:func:`optanalysis.symbolic.core.update`) at t = 1 and t = 2 — torch
SGD's first momentum step (buffer = g) is then simply the t = 1 map — and lambdified once.  The
t = 3 map is checked to equal the t = 2 one, so the rule is stationary from its second step on.

The state after any lr sequence is the product of these maps, applied direction by direction
(vectorised over the eigen-directions with NumPy).  Dense Hessians go through their
eigendecomposition H = Q diag(h) Q^T: x0 and x* are rotated into the eigenbasis, and the final
iterate is rotated back.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..checks import boolean, integer, lr_array, vector
from ..models.quadratic import make_quadratic
from ..rules import Rule, get_rule
from ..schedules import make_schedule, open_loop_lrs
from ..symbolic.core import H, hyper_symbols, source_key, state_symbols, update
from .affine_steps import advance

__all__ = ["LinearMaps", "linear_maps", "lr_sequence", "Prediction", "predict"]

MAX_STEPS = 10**7  # beyond this, prediction loops (one NumPy step per lr) are no longer practical
_XSTAR = sympy.Symbol("xstar", real=True)  # minimiser coordinate of the eigen-direction
_XI = sympy.Symbol("xi", real=True)  # additive gradient noise in the eigen-direction


# ----------------------------------------------------------------------------------------------
# Derived maps


@dataclass(frozen=True)
class LinearMaps:
    """Lambdified per-direction maps of one linear rule for given flags.

    ``A(t, h, lr, rest)`` -> (..., n, n), ``a(t, ...)`` and ``b(t, ...)`` -> (..., n, 1); ``t`` is
    1 (first step) or >= 2.  ``rest`` is the tuple of the other real hyperparameter values
    (``args`` names them; :meth:`rest` extracts them from a params dict).  ``symbolic[t]`` holds
    the SymPy matrices (A, a, b).
    """

    rule: str
    n: int
    args: tuple  # names of the real hyperparameters after lr that the functions take
    symbolic: dict  # t -> (A, a, b) SymPy matrices, for noisy.py's symbolic steady state
    _fns: dict

    def rest(self, params: dict) -> tuple:
        """The values of ``args`` taken from validated ``params``."""
        return tuple(float(params[n]) for n in self.args)

    def _eval(self, key, t, h, lr, rest):
        fns, shape = self._fns[(key, 1 if t == 1 else 2)]
        h = np.asarray(h, dtype=float)
        out = np.empty(h.shape + shape)
        flat = out.reshape(h.shape + (-1,))
        for i, f in enumerate(fns):
            flat[..., i] = f(h, lr, *rest)
        return out

    def A(self, t, h, lr, rest=()):
        """State Jacobian at curvatures ``h``: (..., n, n)."""
        return self._eval("A", t, h, lr, rest)

    def a(self, t, h, lr, rest=()):
        """Derivative with respect to the minimiser coordinate y*: (..., n, 1)."""
        return self._eval("a", t, h, lr, rest)

    def b(self, t, h, lr, rest=()):
        """Derivative with respect to an additive gradient noise: (..., n, 1)."""
        return self._eval("b", t, h, lr, rest)


def _require_linear(rule: Rule) -> None:
    if not rule.linear:
        raise ValueError(f"rule: {rule.name!r} is adaptive (not linear in its state), so it has no exact "
                         f"linear prediction; valid: gd, heavy_ball, sgd_momentum, nesterov. For a linearisation "
                         f"around a frozen preconditioner see `optanalysis derive {rule.name} --linearize`")


def _fixed_key(rule: Rule, params: dict) -> tuple:
    """Flags are concrete; real hyperparameters equal to 0 are fixed to 0 as well, because rules
    may branch on them (torch keeps no momentum buffer when momentum == 0) while the symbols are
    positive."""
    return tuple((p.name, params[p.name]) for p in rule.hyper[1:] if p.flag or params[p.name] == 0)


def linear_maps(rule, params: dict) -> LinearMaps:
    """The derived maps of a linear ``rule`` for the flags and zero-valued hyperparameters of ``params``.

    Parameters
    ----------
    rule : str or Rule
        A linear rule (``Rule.linear``); adaptive rules raise ``ValueError``.
    params : dict
        Validated hyperparameters (``Rule.params``); only flags and which reals are zero matter.
    """
    rule = get_rule(rule)
    _require_linear(rule)
    return _linear_maps(rule.name, _fixed_key(rule, params), source_key(rule))


def _entries(matrix: sympy.Matrix, args: list) -> tuple:
    return [sympy.lambdify(args, e, modules="numpy") for e in matrix], matrix.shape


@lru_cache(maxsize=None)
def _linear_maps(name: str, fixed: tuple, source: str = "") -> LinearMaps:
    # ``source``: the rule's source key, so that an edited rule file registered again is re-derived
    rule = get_rule(name)
    fixed_d = dict(fixed)
    s = sympy.Matrix(state_symbols(rule))
    derived = {}
    for t in (1, 2, 3):
        vals = rule.values(hyper_symbols(rule, **fixed_d))
        g = H * (rule.grad_point(*s, *vals) - _XSTAR) + _XI
        _, new, _ = update(rule, t=t, g=g, **fixed_d)
        new = sympy.Matrix(new)
        A = new.jacobian(s).applyfunc(sympy.expand)
        a = new.jacobian([_XSTAR]).applyfunc(sympy.expand)
        b = new.jacobian([_XI]).applyfunc(sympy.expand)
        rest = (new - A * s - a * _XSTAR - b * _XI).applyfunc(sympy.expand)
        if any(e != 0 for e in rest):  # the rule must be affine in (state, x*, noise)
            raise ValueError(f"rule {name!r} is not affine in its state; no exact linear prediction")
        derived[t] = (A, a, b)
    if any((derived[3][i] - derived[2][i]).applyfunc(sympy.simplify) != sympy.zeros(*derived[2][i].shape)
           for i in range(3)):
        raise ValueError(f"rule {name!r} changes its map after the second step; not supported")
    hp = hyper_symbols(rule, **fixed_d)
    lr = hp["lr"]
    others = tuple(p.name for p in rule.hyper[1:] if not p.flag and p.name not in fixed_d)
    args = [H, lr] + [hp[n] for n in others]
    fns = {}
    for t in (1, 2):
        A, a, b = derived[t]
        fns[("A", t)] = _entries(A, args)
        fns[("a", t)] = _entries(a, args)
        fns[("b", t)] = _entries(b, args)
    return LinearMaps(name, len(rule.state), others, {1: derived[1], 2: derived[2]}, fns)


# ----------------------------------------------------------------------------------------------
# Problem and lr sequence


def lr_sequence(base_lr: float, steps: int, schedule=None, lrs=None) -> np.ndarray:
    """The lr of each optimizer step: ``lrs`` as given, else the open-loop ``schedule``'s.

    A reduce-on-plateau schedule is closed loop: its lrs depend on the run, so the sequence the
    run actually used (``SimResult.lr``) must be passed as ``lrs``; the prediction conditioned on
    it is exact again.
    """
    if lrs is not None:
        if schedule is not None:
            raise ValueError("give either schedule or lrs, not both")
        return lr_array(lrs, steps)[0]
    if schedule is None:
        return np.full(steps, float(base_lr))
    seq = open_loop_lrs(schedule, float(base_lr), steps)
    if seq is None:
        raise ValueError("schedule: a reduce-on-plateau schedule is closed loop; pass lrs= the lr sequence "
                         "the run actually used (SimResult.lr) to predict conditioned on it")
    return seq.copy()  # (the cached array is shared)


# ----------------------------------------------------------------------------------------------
# Deterministic prediction


@dataclass(frozen=True)
class Prediction:
    """Predicted trajectory, with the fields of ``SimResult`` that theory determines.

    ``loss`` (n_rec+1,) at steps 0, record_every, ...; ``lr`` (steps,); ``x`` (d,) final iterate;
    ``state`` tuple of (d,) arrays in ``rule.state`` order (original coordinates); ``diverged_at``
    first step with a non-finite loss or None; ``xs`` (n_rec+1, d) iterates if asked;
    ``loss_directions`` (n_rec+1, d) the loss of each eigen-direction; ``h`` (d,) the curvatures.
    """

    loss: np.ndarray
    lr: np.ndarray
    x: np.ndarray
    state: tuple
    diverged_at: int | None
    xs: np.ndarray | None
    loss_directions: np.ndarray
    h: np.ndarray

    def _repr_html_(self) -> str:
        from ..display import fields_table

        return fields_table(self, f"exact prediction over {self.lr.size} steps",
                            ("loss", "lr", "x", "diverged_at", "h"))


def _step_maps(maps: LinearMaps, rest: tuple, h: np.ndarray, seq: np.ndarray) -> tuple:
    """(A (M, d, n, n), a (M, d, n), which (steps,)): the distinct maps of the lr sequence ``seq``
    and the one of each step (the first step's map is its own, t = 1).  The maps of all distinct
    lrs are evaluated at once, broadcast over (lr, direction): the same operations on the same
    values as one lr at a time, so the same bits; an lr repeated takes its first occurrence's
    value (as -0.0 and 0.0 are one lr)."""
    A, a = [maps.A(1, h, seq[0], rest)[None]], [maps.a(1, h, seq[0], rest)[None]]
    which = np.zeros(seq.size, np.int64)
    if seq.size > 1:
        first = np.zeros(1, np.int64)
        which[1:] = 1
        if not (seq[1:] == seq[1]).all():  # a schedule: its distinct lrs
            _, first, inverse = np.unique(seq[1:], return_index=True, return_inverse=True)
            which[1:] += inverse.reshape(-1)
        lr = seq[1:][first][:, None]
        hh = np.broadcast_to(h, (lr.size, h.size))
        A.append(maps.A(2, hh, lr, rest))
        a.append(maps.a(2, hh, lr, rest))
    return np.concatenate(A), np.concatenate(a)[..., 0], which


def _plateau_steps(maps, rest, sched, lr, h, ystar, s, seq, record_every, loss_dir, ys) -> None:
    """The steps of a reduce-on-plateau schedule fed with the predicted loss, as the kernels feed it
    the observed one (the lr of each step written into ``seq``); ``s`` advanced in place."""
    from ..schedules import plateau_update

    control, memory = sched.controller(lr)
    cache = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(seq.size):
            seq[k] = lr
            t = 1 if k == 0 else 2
            key = (t, seq[k])
            if key not in cache:  # the lr changes a handful of times
                cache[key] = (maps.A(t, h, seq[k], rest), maps.a(t, h, seq[k], rest)[..., 0])
            A, a = cache[key]
            s[:] = np.einsum("dij,dj->di", A, s) + a * ystar[:, None]
            if (k + 1) % sched.interval == 0:
                lr = plateau_update(control, memory, float(0.5 * np.sum(h * (s[:, 0] - ystar) ** 2)), lr)
            if (k + 1) % record_every == 0:
                r = (k + 1) // record_every
                loss_dir[r] = 0.5 * h * (s[:, 0] - ystar) ** 2
                if ys is not None:
                    ys[r] = s[:, 0]


def _init_state(rule: Rule, vals: tuple, y0: np.ndarray) -> np.ndarray:
    """The rule's own ``init`` evaluated on the eigen-coordinates (it is linear in x0): (d, n)."""
    values = rule.init(y0, *vals)
    out = np.empty(y0.shape + (len(values),))
    for j, v in enumerate(values):
        out[:, j] = v  # (broadcast, as float64)
    return out


def _validated(rule, params, x0, hessian_diag, hessian, xstar, steps, record_every) -> tuple:
    """The arguments :func:`predict` and :func:`optanalysis.theory.noisy.expected_loss` share, validated:
    (linear Rule, full params, Quadratic, x0 in its eigenbasis, steps, record_every)."""
    rule = get_rule(rule)
    _require_linear(rule)
    params = rule.params(**(params or {}))
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    y0 = q.to_eigen(vector(x0, "x0", q.d))
    steps = integer(steps, "steps", 1, MAX_STEPS)
    return rule, params, q, y0, steps, integer(record_every, "record_every", 1, steps)


def predict(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, steps, schedule=None,
            lrs=None, record_every=1, record_x=False) -> Prediction:
    """Exact state and loss of a linear rule after ``steps`` steps of any lr sequence.

    Parameters
    ----------
    rule : str or Rule
        gd, heavy_ball, sgd_momentum or nesterov (adaptive rules raise ``ValueError``).
    params : dict, optional
        Hyperparameters, validated by ``Rule.params``; ``lr`` is the schedule's base value.
    x0, hessian_diag, hessian, xstar
        The quadratic (see :func:`optanalysis.models.quadratic.make_quadratic`).
    steps : int
        Number of optimizer steps, 1..1e7.
    schedule : optional
        Anything ``optanalysis.schedules.make_schedule`` accepts.  A reduce-on-plateau schedule is
        run closed loop on the *predicted* loss, which reproduces a kernel run as long as no
        evaluation falls within rounding of the plateau threshold (near the floating-point floor
        decisions are decided by rounding); ``lrs=SimResult.lr`` conditions on a run instead.
    lrs : array_like (steps,), optional
        The lr of each step instead of a schedule (e.g. the ``lr`` a plateau run used).
    record_every : int
        Record the loss every ``record_every`` steps (>= 1).
    record_x : bool
        Also return the iterates at the recorded steps.

    Returns
    -------
    Prediction
        ``loss`` at the recorded steps (and ``xs`` with ``record_x``).

    Examples
    --------
    Heavy ball under a step schedule: the product of the derived iteration matrices gives the
    compiled kernels' losses to rounding.

    >>> import optanalysis as oa
    >>> problem = dict(hessian_diag=[1.0, 0.01], x0=[1.0, 1.0], steps=200,
    ...                schedule="step:step_size=50,gamma=0.5")
    >>> pred = oa.predict("heavy_ball", {"lr": 0.5, "momentum": 0.9}, **problem)
    >>> run = oa.simulate("heavy_ball", {"lr": 0.5, "momentum": 0.9}, **problem)
    >>> bool(abs(pred.loss - run.loss).max() <= 1e-12 * run.loss[0])
    True
    >>> f"{pred.loss[-1]:.4e}"
    '1.3180e-07'
    """
    rule, params, q, y0, steps, record_every = _validated(rule, params, x0, hessian_diag, hessian, xstar, steps,
                                                          record_every)
    h, ystar = q.eigenbasis[0], q.to_eigen(q.xstar)
    boolean(record_x, "record_x")
    if schedule is None or lrs is not None:
        seq = lr_sequence(params["lr"], steps, schedule, lrs)  # (which refuses both)
    else:
        seq = open_loop_lrs(schedule, float(params["lr"]), steps)
        seq = None if seq is None else seq.copy()  # (the cached array is shared)
    closed = seq is None  # reduce-on-plateau, fed with the predicted loss
    if closed:
        sched, seq = make_schedule(schedule), np.empty(steps)
    maps = linear_maps(rule, params)
    rest = maps.rest(params)
    vals = rule.values(params)

    s = _init_state(rule, vals, y0)
    n_rec = steps // record_every
    loss_dir = np.empty((n_rec + 1, h.size))
    ys = np.empty((n_rec + 1, h.size)) if record_x else None
    loss_dir[0] = 0.5 * h * (s[:, 0] - ystar) ** 2
    if record_x:
        ys[0] = s[:, 0]
    if closed:
        _plateau_steps(maps, rest, sched, params["lr"], h, ystar, s, seq, record_every, loss_dir, ys)
    else:
        A, a, which = _step_maps(maps, rest, h, seq)
        advance(A, a, which, s, ystar, h, record_every, loss_dir, np.empty((0, 0)) if ys is None else ys,
                record_x)
    loss = loss_dir.sum(axis=1)
    bad = np.flatnonzero(~np.isfinite(loss))
    diverged = int(bad[0] * record_every) if bad.size else None
    state = tuple(q.from_eigen(s[:, j]) for j in range(s.shape[1]))
    return Prediction(loss, seq, state[0], state, diverged, None if ys is None else q.from_eigen(ys), loss_dir, h)
