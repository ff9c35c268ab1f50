"""Noisy runs (issue 18, goal 2): ns per element-step of ``simulate`` with isotropic gradient noise,
the Gaussian generator alone (ns per normal), and optax jit+scan with ``jax.random.normal`` noise
as the baseline measured in the same run.  Target: <= 3 ns per noisy element-step (heavy ball and
Adam, diagonal, float64, d = 1e3 and 1e6)."""
from __future__ import annotations

import gc
import time

import numpy as np

from problem import RULE_PARAMS, check_normal, quadratic
from timing import time_steps

__all__ = ["run", "table"]

SIGMA = 1e-3  # noise scale: small enough that heavy ball stays near x* and Adam in its transient
SEED = 12345
TARGET_NS = 3.0
FULL = dict(sizes=(10**3, 10**6), dtypes=("float64", "float32"), target=0.3, repeats=3,
            generator_n=2**20)
QUICK = dict(sizes=(10**3,), dtypes=("float64", "float32"), target=0.03, repeats=3,
             generator_n=2**16)
# At d = 1e6 a call runs >= 200 steps, so simulate's fixed cost per call (allocation, initial
# loss, ~10 ms) is amortised as over a real run rather than timed alone (see elementwise.py).
MIN_ELEMENT_STEPS = 2 * 10**8


def _simulate(rule, h, x0, xstar, noisy):
    from optanalysis.simulation import simulate

    dtype = np.dtype(h.dtype).name
    last = []
    noise = f"isotropic:sigma={SIGMA}" if noisy else None

    def run(steps):
        last[:] = [simulate(rule, RULE_PARAMS[rule], x0=x0, hessian_diag=h, xstar=xstar,
                            steps=steps, dtype=dtype, record_every=steps, noise=noise,
                            seed=SEED if noisy else None)]

    return run, lambda: tuple(last[0].state)


def _optax(rule, h, x0, xstar):
    """optax inside one jitted scan, the gradient h (x - x*) + sigma z with z from
    ``jax.random.normal(fold_in(key, t), (d,))`` (a counter-based key per step, as ours)."""
    from jax_baseline import _optimizer, _args, jax_setup

    jax, optax = jax_setup()
    import jax.numpy as jnp

    h, x0, xstar = jnp.asarray(h), jnp.asarray(x0), jnp.asarray(xstar)
    opt = _optimizer(optax, rule, *_args(rule, RULE_PARAMS[rule]))
    key = jax.random.PRNGKey(SEED)
    compiled, last = {}, [x0]

    def scan(h, xs, x, steps):
        def body(carry, t):
            x, s = carry
            z = jax.random.normal(jax.random.fold_in(key, t), x.shape, x.dtype)
            u, s = opt.update(h * (x - xs) + SIGMA * z, s, x)
            return (optax.apply_updates(x, u), s), None

        return jax.lax.scan(body, (x, opt.init(x)), jnp.arange(steps))[0][0]

    def run(steps):
        if steps not in compiled:
            compiled[steps] = jax.jit(lambda h, xs, x: scan(h, xs, x, steps))
        last[0] = compiled[steps](h, xstar, x0).block_until_ready()

    return run, lambda: (np.asarray(jax.device_get(last[0])),)


def _generator(n, repeats):
    """ns per normal of the block generator (``fill_normals``, when it exists) and of the scalar
    ``normal`` called per coordinate, over n coordinates of one step, best of ``repeats``."""
    from numba import njit

    from optanalysis.kernels import noise

    @njit
    def scalar(key, out):
        for i in range(out.size):
            out[i] = noise.normal(key, i)

    out = np.empty(n)
    key = np.uint64(noise.step_key(SEED, 0))  # Python receives an int: keep it unsigned
    fns = {"normal (scalar)": lambda: scalar(key, out)}
    if hasattr(noise, "fill_normals"):
        fns["fill_normals (block)"] = lambda: noise.fill_normals(key, 0, n, out)
    rows = []
    for name, fn in fns.items():
        fn()  # compile
        best = min(_seconds(fn) for _ in range(repeats))
        rows.append(dict(generator=name, n=n, ns_per_normal=best / n * 1e9))
    return rows


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(quick: bool) -> dict:
    """Time every case; rows carry the optax baseline of the same (rule, dtype, d) and the ratio."""
    import importlib.util

    import numba

    cfg = QUICK if quick else FULL
    has_jax = importlib.util.find_spec("jax") is not None and importlib.util.find_spec("optax")
    rows, targets = [], []
    for rule in ("heavy_ball", "adam"):
        for dtype in cfg["dtypes"]:
            for d in cfg["sizes"]:
                h, x0, xstar = quadratic(d, dtype)
                min_steps = -(-MIN_ELEMENT_STEPS // d) if d >= 10**6 else 1
                row = dict(rule=rule, dtype=dtype, d=d, threads=numba.get_num_threads())
                contenders = [("noiseless", lambda: _simulate(rule, h, x0, xstar, False)),
                              ("noisy", lambda: _simulate(rule, h, x0, xstar, True))]
                if has_jax:
                    contenders.append(("optax_noisy", lambda: _optax(rule, h, x0, xstar)))
                for name, make in contenders:
                    fn, state = make()
                    t = time_steps(fn, d, target=cfg["target"], repeats=cfg["repeats"],
                                   min_steps=min_steps, max_steps=2 * 10**7)
                    check_normal(*state())
                    row[f"{name}_ns"] = t["ns_per_element_step"]
                    fn = state = None
                    gc.collect()
                if "optax_noisy_ns" in row:
                    row["optax_over_noisy"] = row["optax_noisy_ns"] / row["noisy_ns"]
                row["noise_overhead_ns"] = row["noisy_ns"] - row["noiseless_ns"]
                optax = row.get("optax_noisy_ns", float("nan"))
                print(f"  {rule:10s} {dtype:7s} d={d:<8d} noiseless {row['noiseless_ns']:7.3f}  "
                      f"noisy {row['noisy_ns']:7.3f}  optax {optax:7.3f} ns/elem-step", flush=True)
                rows.append(row)
                if dtype == "float64":
                    value = row["noisy_ns"]
                    targets.append(dict(target=f"noisy {rule} float64 d={d} ns/element-step",
                                        value=value, required=TARGET_NS, met=value <= TARGET_NS))
    generator = _generator(cfg["generator_n"], repeats=5)
    return dict(rows=rows, generator=generator, targets=targets, sigma=SIGMA, seed=SEED)


def table(result: dict) -> str:
    """Markdown tables: the noisy cases (with optax and the noiseless run of the same case), the
    generator alone, the targets."""
    lines = ["| rule | dtype | d | noiseless ns | noisy ns | optax noisy ns | optax / noisy |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        optax = r.get("optax_noisy_ns")
        o_ns, o_ratio = ("-", "-") if optax is None else (f"{optax:.2f}",
                                                           f"{r['optax_over_noisy']:.1f}x")
        lines.append(f"| {r['rule']} | {r['dtype']} | {r['d']:.0e} | {r['noiseless_ns']:.2f} | "
                     f"{r['noisy_ns']:.2f} | {o_ns} | {o_ratio} |")
    lines += ["", "| generator | n | ns per normal |", "|---|---|---|"]
    lines += [f"| {g['generator']} | {g['n']} | {g['ns_per_normal']:.2f} |"
              for g in result["generator"]]
    lines += ["", "| target | value | required | met |", "|---|---|---|---|"]
    lines += [f"| {t['target']} | {t['value']:.2f} | <= {t['required']} | {t['met']} |"
              for t in result["targets"]]
    return "\n".join(lines)
