"""optax under ``jax.jit`` with ``lax.scan`` over the steps (the whole run is one XLA program).

heavy_ball is timed as ``optax.sgd(lr, momentum)`` (trace t = g + momentum t, u = -lr t): the same
characteristic polynomial and, under a constant lr, the same iterates as Polyak's two-step form.
Adam is ``optax.adam(lr, b1, b2, eps)`` (eps_root = 0: torch's formula, rounding aside).
"""
from __future__ import annotations

__all__ = ["make_optax", "make_optax_sweep", "jax_setup"]


def jax_setup():
    """Import jax with float64 enabled (needed for the float64 timings); return (jax, optax)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    return jax, optax


def _optimizer(optax, rule, lr, a, b=None, eps=None):
    if rule == "adam":
        return optax.adam(lr, b1=a, b2=b, eps=eps)
    if rule == "heavy_ball":
        return optax.sgd(lr, momentum=a)
    raise ValueError(f"rule must be 'heavy_ball' or 'adam', got {rule!r}")


def _args(rule, params):
    if rule == "adam":
        return params["lr"], params["beta1"], params["beta2"], params["eps"]
    return params["lr"], params["momentum"]


def _scan(jax, optax, rule, hyper, h, xstar, x, steps):
    opt = _optimizer(optax, rule, *hyper)

    def body(carry, _):
        x, s = carry
        u, s = opt.update(h * (x - xstar), s, x)
        return (optax.apply_updates(x, u), s), None

    return jax.lax.scan(body, (x, opt.init(x)), None, length=steps)[0][0]


def make_optax(rule: str, params: dict, h, x0, xstar):
    """A ``run(steps)`` closure: one jitted scan from ``x0`` (compiled once per step count).

    Returns ``(run, state)``; ``state()`` gives the final x of the last call as NumPy.
    """
    jax, optax = jax_setup()
    import jax.numpy as jnp

    h, x0, xstar = jnp.asarray(h), jnp.asarray(x0), jnp.asarray(xstar)
    hyper = _args(rule, params)
    compiled = {}
    last = [x0]

    def run(steps):
        if steps not in compiled:
            compiled[steps] = jax.jit(
                lambda h, xs, x: _scan(jax, optax, rule, hyper, h, xs, x, steps))
        last[0] = compiled[steps](h, xstar, x0).block_until_ready()

    return run, lambda: (jax.device_get(last[0]),)


def make_optax_sweep(rule: str, grid, h, x0, xstar, steps: int):
    """``jax.vmap`` of the optax scan over a (P, k) grid of hyperparameters; ``run()`` blocks.

    ``grid`` columns follow ``_args`` (adam: lr, beta1, beta2, eps; heavy_ball: lr, momentum);
    returns ``(run, result)`` where ``result()`` is the (P, d) array of final iterates.
    """
    jax, optax = jax_setup()
    import jax.numpy as jnp

    h, x0, xstar, grid = (jnp.asarray(a) for a in (h, x0, xstar, grid))

    def one(row):
        return _scan(jax, optax, rule, tuple(row[i] for i in range(row.shape[0])), h, xstar, x0,
                     steps)

    fn = jax.jit(jax.vmap(one))
    last = [None]

    def run():
        last[0] = fn(grid).block_until_ready()

    return run, lambda: jax.device_get(last[0])
