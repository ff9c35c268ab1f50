"""The noisy quadratic model (NQM; Zhang et al., NeurIPS 2019): exact expected loss of linear rules.

With gradient g = H (x - x*) + xi, Cov(xi) = C / B (``noise`` spec and ``batch`` as in
:func:`optanalysis.simulation.simulate`), each eigen-direction of curvature h evolves by the affine
map of :mod:`optanalysis.theory.prediction`,

    s_t = A_t s_{t-1} + a_t y* + b_t xi_t,      Var(xi_t) = c / B  (c = q^T C q, q the eigenvector),

whose coefficients are derived from the rule.  Lifting it to second moments is exact: the mean
follows the deterministic prediction and the covariance P of the state follows

    P_t = A_t P_{t-1} A_t^T + (c/B) b_t b_t^T      (vec form: (A_t (x) A_t) vec P + (c/B) vec(b b^T)),

so E f(x_t) = sum over directions of h/2 ((E x - y*)^2 + P_xx).  Only the variance of each
direction's own noise enters its loss, so correlated noise across directions is handled exactly.

Extensions of the noisy quadratic model (docs/reference.md §7):

* exponential moving average of the iterates, x~_t = gamma x~_{t-1} + (1 - gamma) x_t, x~_0 = x_0:
  the state is augmented with x~ and the loss is that of x~;
* diagonal preconditioning P = H^(-p): the rule receives P g, i.e. curvature h^(1-p) and noise
  variance c h^(-2p), while the loss keeps its curvature h.

The steady state under a constant lr is solved symbolically from the fixed point of the same maps
(:func:`steady_state_loss`), so the literature formulas serve as independent test oracles.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..checks import integer
from .prediction import _fixed_key, _init_state, _require_linear, _validated, linear_maps, lr_sequence
from ..models.quadratic import make_noise, make_quadratic
from ..rules import get_rule
from ..symbolic.core import H, hyper_symbols, source_key

__all__ = ["NoisyPrediction", "expected_loss", "steady_state_loss", "steady_state", "noise_variances",
           "C", "B", "GAMMA", "P"]

C = sympy.Symbol("c", positive=True)  # noise variance of the direction (per example)
B = sympy.Symbol("B", positive=True)  # batch size
GAMMA = sympy.Symbol("gamma", positive=True)  # EMA coefficient
P = sympy.Symbol("p", real=True)  # preconditioning exponent, P = H^(-p)


def noise_variances(noise, quadratic, batch: int = 1) -> np.ndarray:
    """Per eigen-direction variance c_i / B of the gradient noise of spec ``noise`` on the
    :class:`optanalysis.models.quadratic.Quadratic` ``quadratic`` (the kernels' parser,
    :func:`optanalysis.models.quadratic.make_noise`, so both sides read the spec identically)."""
    if noise is None:
        raise ValueError("noise: a spec is required (isotropic:sigma=S, hessian:sigma=S or diag:c=[...])")
    cov = make_noise(noise, quadratic, batch).covariance()
    q = quadratic.eigenbasis[1]
    return np.diag(cov).copy() if q is None else np.einsum("ij,ik,kj->j", q, cov, q)


def _validate_ema(ema):
    if ema is None:
        return None
    if isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0 <= ema < 1:
        raise ValueError(f"ema must be None or a coefficient gamma in [0, 1), got {ema!r}")
    return float(ema)


def _validate_p(precondition):
    if precondition is None:
        return 0.0
    if isinstance(precondition, bool) or not isinstance(precondition, (int, float)) or not 0 <= precondition <= 1:
        raise ValueError(f"precondition must be None or an exponent p in [0, 1], got {precondition!r}")
    return float(precondition)


def _augment(A, a, b, gamma):
    """Append the EMA coordinate x~+ = gamma x~ + (1 - gamma) x+ to the maps (last axis order)."""
    n = A.shape[-1]
    A2 = np.zeros(A.shape[:-2] + (n + 1, n + 1))
    A2[..., :n, :n] = A
    A2[..., n, :n] = (1 - gamma) * A[..., 0, :]
    A2[..., n, n] = gamma
    a2 = np.concatenate((a, (1 - gamma) * a[..., :1]), axis=-1)
    b2 = np.concatenate((b, (1 - gamma) * b[..., :1]), axis=-1)
    return A2, a2, b2


@dataclass(frozen=True)
class NoisyPrediction:
    """Expected loss ``loss`` (n_rec+1,) at steps 0, record_every, ...; ``loss_directions``
    (n_rec+1, d); ``lr`` (steps,); ``variance`` (d,) the noise variance c_i/B of each direction;
    ``h`` (d,) curvatures."""

    loss: np.ndarray
    loss_directions: np.ndarray
    lr: np.ndarray
    variance: np.ndarray
    h: np.ndarray

    def _repr_html_(self) -> str:
        from ..display import fields_table

        return fields_table(self, f"expected loss under noise over {self.lr.size} steps",
                            ("loss", "lr", "variance", "h"))


def _effective(h, p):
    if p and np.any(h <= 0):
        raise ValueError("precondition: H^(-p) needs every curvature > 0")
    return h ** (1 - p) if p else h


def expected_loss(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, steps, noise,
                  batch=1, schedule=None, lrs=None, record_every=1, ema=None, precondition=None) -> NoisyPrediction:
    """Exact E f(x_t) of a linear rule with Gaussian gradient noise, under any lr sequence.

    Parameters
    ----------
    rule, params, x0, hessian_diag, hessian, xstar, steps, schedule, lrs, record_every
        As in :func:`optanalysis.theory.prediction.predict`.
    noise : str
        ``isotropic:sigma=S``, ``hessian:sigma=S`` or ``diag:c=[...]`` (as the kernels read it).
    batch : int
        Batch size B >= 1 (the covariance is divided by B).
    ema : float, optional
        Report the loss of the EMA of the iterates with coefficient gamma in [0, 1).
    precondition : float, optional
        Exponent p in [0, 1] of the diagonal preconditioner H^(-p) (in H's eigenbasis).
    """
    rule, params, q, y0, steps, record_every = _validated(rule, params, x0, hessian_diag, hessian, xstar, steps,
                                                          record_every)
    h, ystar = q.eigenbasis[0], q.to_eigen(q.xstar)
    batch = integer(batch, "batch", 1, 2**62)
    gamma, p = _validate_ema(ema), _validate_p(precondition)
    seq = lr_sequence(params["lr"], steps, schedule, lrs)
    var = noise_variances(noise, q, batch)
    h_eff = _effective(h, p)
    var_eff = var * h ** (-2 * p) if p else var
    maps = linear_maps(rule, params)
    rest = maps.rest(params)

    m = _init_state(rule, rule.values(params), y0)
    if gamma is not None:
        m = np.concatenate((m, y0[:, None]), axis=1)
    k_out = m.shape[1] - 1 if gamma is not None else 0
    d, n = m.shape
    cov = np.zeros((d, n, n))
    n_rec = steps // record_every
    out = np.empty((n_rec + 1, d))

    def loss_now():
        return 0.5 * h * ((m[:, k_out] - ystar) ** 2 + cov[:, k_out, k_out])

    out[0] = loss_now()
    cache = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            t = 1 if k == 0 else 2
            key = (t, seq[k])
            if key not in cache:
                A = maps.A(t, h_eff, seq[k], rest)
                a = maps.a(t, h_eff, seq[k], rest)[..., 0]  # P g = h^(1-p) (y - y*) + h^(-p) xi
                b = maps.b(t, h_eff, seq[k], rest)[..., 0]
                if gamma is not None:
                    A, a, b = _augment(A, a, b, gamma)
                cache[key] = (A, a, b[:, :, None] * b[:, None, :])
            A, a, bb = cache[key]
            m = np.einsum("dij,dj->di", A, m) + a * ystar[:, None]
            cov = np.einsum("dij,djk,dlk->dil", A, cov, A) + var_eff[:, None, None] * bb
            if (k + 1) % record_every == 0:
                out[(k + 1) // record_every] = loss_now()
    return NoisyPrediction(out.sum(axis=1), out, seq, var, h)


# ----------------------------------------------------------------------------------------------
# Steady state, solved symbolically


def steady_state_loss(rule, *, ema=False, precondition=False, **fixed) -> sympy.Expr:
    """Symbolic steady-state expected loss of one direction with minimiser 0 under a constant lr.

    Solves P = A P A^T + (c/B) b b^T for the stationary map (t >= 2) of ``rule`` exactly; the result
    h/2 P_xx is an expression in ``h``, the rule's hyperparameter symbols (``lr``, ``momentum``, ...),
    ``c`` and ``B`` (and ``gamma`` with ``ema=True``, ``p`` with ``precondition=True``).
    ``fixed`` fixes hyperparameters (flags, or reals such as ``momentum=0``).
    """
    rule = get_rule(rule)
    _require_linear(rule)
    key = tuple(sorted(fixed.items()))
    return _steady(rule.name, key, bool(ema), bool(precondition), source_key(rule))


@lru_cache(maxsize=None)
def _steady(name: str, fixed: tuple, ema: bool, precondition: bool, source: str = "") -> sympy.Expr:
    rule = get_rule(name)
    hp = hyper_symbols(rule, **dict(fixed))  # validates the names
    # linear_maps only looks at flags and at which reals are zero; 1.0 stands for "any other value"
    shape = {p.name: (hp[p.name] if p.flag or hp[p.name] == 0 else 1.0) for p in rule.hyper}
    A, _, b = linear_maps(rule, shape).symbolic[2]
    A, b = sympy.Matrix(A), sympy.Matrix(b)
    for name_, value in fixed:
        if isinstance(value, bool):  # flags were applied when deriving the maps
            continue
        sym = sympy.Symbol(name_, positive=True)
        A, b = A.subs(sym, sympy.nsimplify(value)), b.subs(sym, sympy.nsimplify(value))
    if ema:
        n = A.shape[0]
        A = A.row_join(sympy.zeros(n, 1)).col_join(((1 - GAMMA) * A[0, :]).row_join(sympy.Matrix([[GAMMA]])))
        b = b.col_join(sympy.Matrix([[(1 - GAMMA) * b[0]]]))
    n = A.shape[0]
    unknowns = sympy.symbols(f"P0:{n * n}")
    Pm = sympy.Matrix(n, n, lambda i, j: unknowns[min(i, j) * n + max(i, j)])
    noise = C / B
    if precondition:
        A = A.subs(H, H ** (1 - P))
        b, noise = b.subs(H, H ** (1 - P)), noise * H ** (-2 * P)
    eqs = (A * Pm * A.T + noise * b * b.T - Pm)
    eqs = [eqs[i, j] for i in range(n) for j in range(i, n)]
    sol = sympy.solve(eqs, sorted(set(Pm), key=str), dict=True)
    if len(sol) != 1:
        raise ValueError(f"rule {name!r}: no unique steady state")
    k = n - 1 if ema else 0
    return sympy.factor(sympy.simplify(H / 2 * Pm[k, k].subs(sol[0])))


def steady_state(rule, params=None, *, hessian_diag=None, hessian=None, noise, batch=1, ema=None,
                 precondition=None) -> np.ndarray:
    """Steady-state expected loss of each eigen-direction (minimiser 0: the mean then decays to
    0, even with weight decay) under the constant lr ``params["lr"]``; ``inf`` where the rule is
    unstable (spectral radius >= 1) in that direction."""
    from .spectrum import spectral_radius

    rule = get_rule(rule)
    _require_linear(rule)
    params = rule.params(**(params or {}))
    batch = integer(batch, "batch", 1, 2**62)
    gamma, p = _validate_ema(ema), _validate_p(precondition)
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian)
    h, d = q.eigenbasis[0], q.d
    var = noise_variances(noise, q, batch)
    fixed = _fixed_key(rule, params)
    names, f = _steady_fn(rule.name, fixed, gamma is not None, p > 0, source_key(rule))
    extra = ([gamma] if gamma is not None else []) + ([p] if p > 0 else [])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(f(h, var, 1.0, *(params[n] for n in names), *extra), dtype=float) * np.ones(d)
    stable = spectral_radius(rule, params, _effective(h, p)) < 1
    return np.where(stable, out, np.inf)


@lru_cache(maxsize=None)
def _steady_fn(name: str, fixed: tuple, ema: bool, precondition: bool, source: str = ""):
    """(names of the real hyperparameters it takes, lambdified steady_state_loss(h, c, B, *those,
    [gamma], [p]))."""
    rule = get_rule(name)
    expr = steady_state_loss(rule, ema=ema, precondition=precondition, **dict(fixed))
    names = [q.name for q in rule.hyper if not q.flag and q.name not in dict(fixed)]
    free = [H, C, B] + [sympy.Symbol(n, positive=True) for n in names]
    free += ([GAMMA] if ema else []) + ([P] if precondition else [])
    return names, sympy.lambdify(free, expr, modules="numpy")
