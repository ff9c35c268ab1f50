"""The heavy-ball rate map at full resolution, run as a sweep (``optanalysis study momentum_rate_map
--full``).

Not a study module (the underscore keeps it out of the study list): it redraws the map of
:mod:`optanalysis.studies.momentum_rate_map` on a ``resolution`` x ``resolution`` grid of
(lr L, momentum) for several spectra, through :func:`optanalysis.sweep` (chunks, Parquet, resumable,
in process or on a Dask cluster), and compares every point's observed per-step factor of
||x - x*|| (``sqrt`` of the sweep's fitted loss factor ``rate``) with the derived worst spectral
radius (:func:`optanalysis.theory.spectrum.spectral_radius`, maximised over the spectrum).

The sweep fits each loss trajectory as the study does (``fit_rate``, recurrence estimator, every
step, floor 1e-280 via the spec's ``rate_floor``; the default floor 1e-24 stops the fit before the
16 directions' modes are resolved, off by up to 0.3 on this map).  A point is judged as in the study:
when it is stable (derived radius < 1), the fit did not refuse it, and the fit's model-error
indicator (the sweep's ``rate_indicator``, in the iterate factor) is at most the study's ``REFUSE``
(1e-7).  The summary still counts the judged points beyond the study's tolerance 1e-6 instead of
assuming there are none.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .momentum_rate_map import FLOOR, REFUSE, SPECTRUM, STEPS, TOL

__all__ = ["SPECTRA", "full_spec", "run_full", "STEM"]

STEM = "momentum_rate_map_full"
LR_RANGE = (0.05, 4.0)  # the study's grid ranges (momentum_rate_map._grid)
MOMENTUM_RANGE = (0.0, 0.95)
D = SPECTRUM.size
# name -> a [[problem]] entry's spectrum: the study's own, a uniform and a two-point one with the
# same mu = 0.1, L = 1 and d = 16
SPECTRA = {
    "study": {"hessian_diag": SPECTRUM.tolist()},
    "uniform": {"spectrum": f"uniform:mu=0.1,L=1,d={D}"},
    "twopoint": {"spectrum": f"twopoint:mu=0.1,L=1,d={D}"},
}
CHUNK = 64  # points per chunk: a fit to 1e-280 costs 0.2-1 s here, so a chunk is ~10-60 s on one core


def _names(spectra) -> list:
    names = list(SPECTRA) if spectra is None else ([spectra] if isinstance(spectra, str) else list(spectra))
    if not names:
        raise ValueError(f"spectra: empty; valid: {', '.join(SPECTRA)}")
    for n in names:
        if n not in SPECTRA:
            raise ValueError(f"spectra: unknown spectrum {n!r}; valid: {', '.join(SPECTRA)}")
    if len(set(names)) != len(names):
        raise ValueError("spectra must be distinct")
    return names


def _resolution(resolution) -> int:
    from ..checks import integer

    return integer(resolution, "resolution", 2, 10**4)


def full_spec(resolution=400, spectra=None) -> dict:
    """The sweep (a mapping for :func:`optanalysis.sweeps.spec.parse_spec`): heavy ball over
    ``resolution`` values of lr L in [0.05, 4] by ``resolution`` momenta in [0, 0.95], on each of
    ``spectra`` (names of :data:`SPECTRA`, default all), x0 = 1, x* = 0, the study's 2000 steps with
    the loss of every step and its fit floor 1e-280 (what its fits use), quantities ``rate`` and
    ``diverged_at``."""
    n = _resolution(resolution)
    return {"steps": STEPS, "record_every": 1, "seeds": [0], "quantities": ["rate", "diverged_at"],
            "chunk_size": CHUNK, "rate_floor": FLOOR,
            "rule": [{"name": "heavy_ball", "lr": {"linspace": [*LR_RANGE, n]},
                      "momentum": {"linspace": [*MOMENTUM_RANGE, n]}}],
            "problem": [{"name": name, **SPECTRA[name], "x0": 1.0} for name in _names(spectra)]}


def _eigenvalues(sweep, name) -> np.ndarray:
    (p,) = [p for p in sweep.problems if p.name == name]
    return p.arrays()["hessian_diag"]


def _analyse(df, sweep, names, n):
    """Per spectrum: the (n, n) grids (lr-major) of derived and observed factors and the summary."""
    from ..theory.spectrum import spectral_radius

    lrs = np.array(sweep.rules[0].params[0][1])
    moms = np.array(sweep.rules[0].params[1][1])
    maps, summary = {}, {}
    for name in names:
        part = df[df["problem"] == name].sort_values("point")
        if len(part) != n * n:
            raise ValueError(f"sweep incomplete: spectrum {name} has {len(part)} of {n * n} points")
        LR = part["hp.lr"].to_numpy().reshape(n, n)
        M = part["hp.momentum"].to_numpy().reshape(n, n)
        assert np.array_equal(LR[:, 0], lrs) and np.array_equal(M[0], moms)
        h = _eigenvalues(sweep, name)
        derived = np.max(spectral_radius("heavy_ball", {"momentum": M[None]}, h[:, None, None], lr=LR[None]), axis=0)
        rate = part["rate"].to_numpy().reshape(n, n)
        observed = np.sqrt(rate)  # the fit's loss factor is the square of the iterate factor
        diverged = part["diverged_at"].to_numpy().reshape(n, n) >= 0
        stable = derived < 1
        # the study's refusal: a fit whose model-error indicator, in the iterate factor, exceeds REFUSE
        spread = part["rate_indicator"].to_numpy().reshape(n, n) / (2 * observed)
        judged = stable & np.isfinite(observed) & ~(spread > REFUSE)
        err = np.where(judged, np.abs(observed - derived), -1.0)
        w = np.unravel_index(np.argmax(err), err.shape)
        grew = diverged | (np.isfinite(observed) & (observed > 1))
        refused = np.where(spread > REFUSE, f"model-error indicator > {REFUSE:g}",
                           part["rate_refused"].to_numpy().reshape(n, n))
        maps[name] = {"lr": lrs, "momentum": moms, "derived": derived, "observed": observed, "judged": judged,
                      "eigenvalues": h}
        summary[name] = {
            "points": int(n * n), "stable_points": int(stable.sum()), "judged_points": int(judged.sum()),
            "judged_fraction": float(judged.sum() / max(stable.sum(), 1)),
            "max_error": float(err[w]) if judged.any() else None,
            "max_error_at": {"lr": float(LR[w]), "momentum": float(M[w])} if judged.any() else None,
            "judged_points_beyond_tolerance": int(np.sum(judged & (err > TOL))),
            "beyond_tolerance": [{"lr": float(LR[i]), "momentum": float(M[i]), "error": float(err[i])}
                                 for i in map(tuple, np.argwhere(judged & (err > TOL))[:50])],
            "refused_stable_points": {str(k): int(v) for k, v in
                                      zip(*np.unique(refused[stable & ~judged].astype(str), return_counts=True))},
            "refused_by_indicator": [{"lr": float(LR[i]), "momentum": float(M[i]), "indicator": float(spread[i])}
                                     for i in map(tuple, np.argwhere(stable & np.isfinite(observed) & (spread > REFUSE)))],
            "beyond_edge_stayed_bounded": int(np.sum(~stable & ~grew)),
            "inside_edge_grew": int(np.sum(stable & grew)),
            "mu": float(h.min()), "L": float(h.max()), "d": int(h.size)}
    return maps, summary


def _plot(maps, summary, n, title_extra):
    from ..plotting import figure, style

    names = list(maps)
    with style():
        fig, axes = figure(len(names), 3, width=16, height=4.6 * len(names))
        axes = np.asarray(axes).reshape(len(names), 3)
        for row, name in zip(axes, names):
            m, s = maps[name], summary[name]
            lrs, moms, pred, obs = m["lr"], m["momentum"], m["derived"], m["observed"]
            shown = np.where(m["judged"], obs, np.nan)
            extent = dict(shading="nearest", vmin=0.3, vmax=1, cmap="viridis", rasterized=True)
            for ax, z, title in ((row[0], np.where(pred < 1, pred, np.nan), "predicted: worst spectral radius"),
                                 (row[1], shown, "observed: sqrt(fitted loss factor)")):
                im = ax.pcolormesh(lrs, moms, z.T, **extent)
                ax.set(title=f"{name}: {title}", xlabel="lr * L", ylabel="momentum", xlim=(0, lrs[-1]),
                       ylim=(0, moms[-1]))
            # literature boundaries (Goh 2017): divergence lr L = 2(1 + m), critical damping at mu, L
            lr_line = np.linspace(0.0, lrs[-1], 400)
            for ax in row[:2]:
                ax.plot(2 * (1 + moms) / s["L"], moms, "r-", lw=1.0, label="divergence (h=L)")
                ax.plot(lr_line, (1 - np.sqrt(lr_line * s["L"])) ** 2, "k--", lw=1.0, label="critical damping (h=L)")
                ax.plot(lr_line, (1 - np.sqrt(lr_line * s["mu"])) ** 2, "m:", lw=1.0, label="critical damping (h=mu)")
            row[0].legend(fontsize=6.5, loc="lower left", framealpha=0.8)
            fig.colorbar(im, ax=row[:2], label="per-step factor of ||x - x*||", shrink=0.9)
            err = np.maximum(np.abs(shown - pred), 1e-16)
            im2 = row[2].pcolormesh(lrs, moms, np.log10(np.where(m["judged"], err, np.nan)).T, shading="nearest",
                                    cmap="magma", vmin=-16, vmax=-4, rasterized=True)
            fig.colorbar(im2, ax=row[2], label=f"log10 |observed - predicted| (tolerance {TOL:g})")
            me = "none judged" if s["max_error"] is None else f"max {s['max_error']:.1e}"
            row[2].set(title=f"{name}: error; {s['judged_points']} of {s['stable_points']} stable judged, {me}",
                       xlabel="lr * L", ylabel="momentum", xlim=(0, lrs[-1]), ylim=(0, moms[-1]))
            row[2].text(0.02, 0.02, f"{s['judged_points_beyond_tolerance']} judged points beyond {TOL:g}\n"
                                    f"unjudged (white): unstable, or refused by the fit",
                        transform=row[2].transAxes, fontsize=6.5, va="bottom", bbox=dict(fc="w", alpha=0.85))
        fig.suptitle(f"Heavy-ball rate map by a sweep: {n} x {n} (lr, momentum) x {len(names)} spectra "
                     f"(d = {D}, {STEPS} steps){title_extra}", fontsize=10)
    return fig


def run_full(out, *, resolution=400, spectra=None, scheduler=None, local_workers=None, sweep_dir=None,
             progress=True, stream=None) -> Path:
    """Run the full-resolution map as a sweep and draw it; returns the path of the PNG.

    The sweep's Parquet files go to ``sweep_dir`` (default ``<out>/momentum_rate_map_full.sweep``);
    rerunning resumes it (finished chunks are not computed again).  Writes
    ``<out>/momentum_rate_map_full.png``, ``.pdf`` and ``.json`` (the summary: points, judged
    fraction, max |observed - derived| over the judged points per spectrum, parameters, the sweep's
    hash, wall time).
    """
    from .. import sweeps
    from ..io import atomic_write
    from ..plotting import save_figure
    from ..sweeps.spec import parse_spec

    n = _resolution(resolution)
    names = _names(spectra)
    out = Path(out)
    sweep_dir = out / f"{STEM}.sweep" if sweep_dir is None else Path(sweep_dir)
    sweep = parse_spec(full_spec(n, names))
    t0 = time.perf_counter()
    run = sweeps.sweep(sweep, sweep_dir, scheduler=scheduler, local_workers=local_workers, progress=progress,
                       stream=stream)
    seconds = time.perf_counter() - t0
    if not run.ok:
        raise ValueError(f"sweep: {len(run.failed)} chunk(s) failed, e.g. chunk {next(iter(run.failed))}: "
                         f"{next(iter(run.failed.values()))}; rerun to retry them")
    df = sweeps.load_sweep(sweep_dir)
    maps, summary = _analyse(df, sweep, names, n)
    stable = sum(s["stable_points"] for s in summary.values())
    judged = sum(s["judged_points"] for s in summary.values())
    errors = [s["max_error"] for s in summary.values() if s["max_error"] is not None]
    total = {"points": run.n_points, "stable_points": stable, "judged_points": judged,
             "judged_fraction": judged / max(stable, 1), "max_error": max(errors) if errors else None,
             "judged_points_beyond_tolerance": sum(s["judged_points_beyond_tolerance"] for s in summary.values()),
             "tolerance": TOL}
    record = {"sweep_hash": run.hash, "sweep_dir": str(sweep_dir), "total": total, "spectra": summary,
              "run": {"chunks": run.n_chunks, "computed": run.computed, "skipped": run.skipped,
                      "seconds": round(seconds, 2),
                      # a rate only for a run that computed every chunk (a resumed one did part of it)
                      "points_per_second": round(run.n_points / seconds, 2) if not run.skipped else None,
                      "executor": scheduler or (f"local_workers={local_workers}" if local_workers else "in process")},
              "parameters": {"rule": "heavy_ball", "resolution": n, "lr_grid": [*LR_RANGE, n],
                             "momentum_grid": [*MOMENTUM_RANGE, n], "steps": STEPS, "record_every": 1,
                             "x0": "ones", "xstar": "zeros", "spectra": {k: SPECTRA[k] for k in names},
                             "observed": f"sqrt of the sweep's rate (fit_rate: recurrence, floor {FLOOR:g})",
                             "judged": "derived radius < 1 and the fit not refused", "tolerance": TOL}}
    fig = _plot(maps, summary, n, f"; judged {judged} of {stable} stable, max error {total['max_error']:.1e}"
                if errors else "")
    png, _ = save_figure(fig, out / STEM)
    atomic_write(out / f"{STEM}.json", json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return png
