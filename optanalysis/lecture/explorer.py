"""Data of the interactive figure of a linear rule, computed in advance on a grid.

For each curvature range [1/kappa, 1] (kappa in :data:`KAPPAS`) and each point of an (lr,
momentum) grid, the figure shows where the point lies on the stability region and the run it
gives.  Everything shown is computed here, by the package itself, so the page needs no server and
no network:

- the colour of each grid cell: the spectral radius rho of the rule's derived iteration map,
  maximised over the run's curvatures (:func:`optanalysis.spectral_radius`); rho >= 1 is unstable;
- the boundary: the derived largest stable lr at h = L, as a function of momentum;
- the tuned point: the derivation's optimal tuning for [mu, L], when it has one;
- the trajectory: log10 of the loss (relative to the start) of the compiled kernel's run
  (:func:`optanalysis.simulate_batch`) on the diagonal quadratic with curvatures
  geomspace(mu, L, 5) from x0 = 1, and the rate it shows over its second half, next to rho.

A rule with no ``momentum`` hyperparameter gets an lr slider only; other hyperparameters keep
their defaults.
"""
from __future__ import annotations

import numpy as np

__all__ = ["explorer_data", "KAPPAS"]

KAPPAS = (10.0, 100.0, 1000.0)
MOMENTA = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
N_LR = 30
STEPS, EVERY = 200, 4  # 51 recorded losses per run
FLOOR = -30.0  # log10 of the relative loss shown at most this low (float64 runs reach ~1e-32)


def _value(expr, values: dict) -> float:
    """``expr`` at ``values`` (by symbol name); the rule's other hyperparameters at their defaults."""
    import sympy

    return float(sympy.N(expr.subs({s: values[s.name] for s in expr.free_symbols if s.name in values})))


def _tuned(d, values: dict) -> dict | None:
    """The derivation's optimal (lr, momentum) at ``values`` (mu, L, kappa, defaults), or None."""
    if d.optimal is None:
        return None
    return {name: _value(expr, values) for name, expr in d.optimal.values.items()}


def explorer_data(rule) -> dict:
    """The grid data of ``rule``'s interactive figure (JSON-able).

    Parameters
    ----------
    rule : str or Rule
        A linear rule with a learning rate (every rule has one).

    Returns
    -------
    dict
        ``rule``, ``lr`` (grid), ``momentum`` (grid, ``[null]`` without momentum), ``kappa``,
        ``steps``, ``every``, ``boundary`` (largest stable lr at h = L per momentum),
        and per kappa: ``rho[k][i][j]``, ``loss[k][i][j]`` (log10 relative loss per record,
        null after divergence), ``observed[k][i][j]`` (rate of the run's second half, null if it
        diverged), ``diverged[k][i][j]`` (step or -1), ``tuned[k]``.

    Raises
    ------
    ValueError
        If ``rule`` is adaptive.
    """
    from ..rules import get_rule
    from ..simulation import simulate_batch
    from ..symbolic import derive
    from ..theory.spectrum import spectral_radius

    rule = get_rule(rule)
    if not rule.linear:
        raise ValueError(f"rule {rule.name!r} is adaptive: the interactive figure needs a linear rule")
    d = derive(rule)
    has_momentum = "momentum" in rule.hyper_names
    momenta = MOMENTA if has_momentum else (None,)
    defaults = {k: v for k, v in rule.defaults.items() if k not in ("lr", "momentum")}
    if d.lr_bound is not None:
        boundary = [_value(d.lr_bound, {**defaults, "h": 1.0, "momentum": m}) for m in momenta]
    else:
        boundary = [None for _ in momenta]
    top = max((b for b in boundary if b is not None), default=2.0)
    lrs = np.linspace(top * 1.05 / N_LR, top * 1.05, N_LR)
    grid = [{"lr": float(a), **({"momentum": m} if has_momentum else {})} for a in lrs for m in momenta]
    shape = (len(lrs), len(momenta))
    out = {"rule": rule.name, "lr": [round(float(a), 6) for a in lrs],
           "momentum": list(momenta), "kappa": list(KAPPAS), "steps": STEPS, "every": EVERY,
           "boundary": [None if b is None else round(b, 6) for b in boundary],
           "rho": [], "loss": [], "observed": [], "diverged": [], "tuned": []}
    for kappa in KAPPAS:
        h = np.geomspace(1 / kappa, 1.0, 5)
        rho = np.max(spectral_radius(rule, params=None, h=h[None, :],
                                     lr=np.array([g["lr"] for g in grid])[:, None])
                     if not has_momentum else
                     spectral_radius(rule, {"momentum": np.array([g["momentum"] for g in grid])[:, None]},
                                     h=h[None, :], lr=np.array([g["lr"] for g in grid])[:, None]),
                     axis=1)
        run = simulate_batch(rule, grid, hessian_diag=h, x0=np.ones_like(h), steps=STEPS,
                             record_every=EVERY)
        loss = run.loss[:, 0, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.log10(loss / loss[:, :1])
        div = run.diverged_at[:, 0]
        logs, observed = [], []
        for p in range(len(grid)):
            row = [None if (div[p] >= 0 and k * EVERY >= div[p]) or not np.isfinite(v)
                   else round(max(float(v), FLOOR), 2) for k, v in enumerate(rel[p])]
            logs.append(row)
            observed.append(None if div[p] >= 0 else _rate(rel[p]))
        out["rho"].append(np.round(rho, 4).reshape(shape).tolist())
        out["loss"].append(_grid(logs, shape))
        out["observed"].append(_grid(observed, shape))
        out["diverged"].append(div.reshape(shape).tolist())
        out["tuned"].append(_tuned(d, {**defaults, "mu": 1 / kappa, "L": 1.0, "kappa": kappa}))
    return out


def _rate(log_loss: np.ndarray) -> float | None:
    """The per-step rate of |x| over the second half of the records above the floor: the loss
    is quadratic in x, so (loss ratio)^(1 / (2 steps))."""
    keep = np.flatnonzero(np.isfinite(log_loss) & (log_loss > FLOOR + 2))
    if len(keep) < 3:
        keep = np.arange(min(3, len(log_loss)))
    a, b = keep[len(keep) // 2], keep[-1]
    if b == a:
        return None
    return round(float(10 ** ((log_loss[b] - log_loss[a]) / (2 * EVERY * (b - a)))), 4)


def _grid(flat: list, shape: tuple) -> list:
    return [flat[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])]
