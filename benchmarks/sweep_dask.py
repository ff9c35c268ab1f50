"""Sweeps in process vs on 2 local Dask workers (issue 22 §4): points per second, the scheduling
overhead per chunk, the chunk size that keeps it under 5 %, and how workers best get compiled kernels.

    python benchmarks/sweep_dask.py [--points N] [--chunk-sizes 64,256,1024,4096] [--json FILE]

Grids: heavy ball (lr x momentum) and Adam (lr x beta1), ``--points`` points each (default 10^5),
d = 10, 100 steps, quantity final_loss, noiseless, one seed; every point stable.  A sweep is timed
end to end through ``run_sweep`` (kernels, Parquet files, manifest), after a warm-up that compiled
the kernels in every process.  Needs the ``sweeps`` extra.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

D, STEPS = 10, 100
WORKERS = 2


def spec(rule: str, points: int, chunk_size: int) -> dict:
    """A grid of about ``points`` points (side_a x side_b configurations, one seed)."""
    a = max(2, int(round(math.sqrt(points * 1.6))))
    b = max(2, int(round(points / a)))
    if rule == "heavy_ball":
        hp = {"lr": {"geomspace": [0.01, 1.0, a]}, "momentum": {"linspace": [0.0, 0.95, b]}}
    else:
        hp = {"lr": {"geomspace": [1e-3, 1e-1, a]}, "beta1": {"linspace": [0.0, 0.95, b]}}
    return {"steps": STEPS, "seeds": 1, "quantities": ["final_loss"], "chunk_size": chunk_size,
            "rule": [{"name": rule, **hp}],
            "problem": [{"name": "lu", "spectrum": f"loguniform:mu=0.01,L=1,d={D},seed=0", "x0": 1.0}]}


def timed_sweep(sw: dict, executor) -> tuple:
    from optanalysis.sweeps.spec import parse_spec
    from optanalysis.sweeps.store import run_sweep

    sweep = parse_spec(sw)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        run = run_sweep(sweep, out, executor=executor, progress=False)
        dt = time.perf_counter() - t
    assert run.ok and run.computed == run.n_chunks, run.failed
    return sweep.n_points, run.n_chunks, dt


def noop(i):
    return i


def overhead(executor, n: int = 400) -> float:
    """Seconds per task of a task that does nothing, round trip through ``executor.map``."""
    list(executor.map(noop, range(20)))  # connections and pickles made
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        got = list(executor.map(noop, range(n)))
        best = min(best, (time.perf_counter() - t) / n)
        assert len(got) == n
    return best


def trivial_chunk(executor, rule: str, n: int = 100) -> float:
    """Seconds per chunk of a sweep of 1-point chunks (kernel call, Parquet, manifest included)."""
    points, chunks, dt = timed_sweep(spec(rule, n, 1), executor)
    return dt / chunks


def warm_chunks(sw_dicts) -> None:
    from optanalysis.sweeps.compute import run_chunk
    from optanalysis.sweeps.spec import parse_spec

    for sw in sw_dicts:
        run_chunk(parse_spec(sw).to_dict(), 0)


def warmup_study(rules) -> dict:
    """Time to compiled kernels on 2 fresh workers: compiled once by this process into a shared
    cache dir then loaded by the workers, vs each worker compiling from a cold cache.

    Runs first, in a process that has compiled nothing yet (a kernel built in memory would not be
    written to a new cache dir)."""
    from optanalysis.sweeps.execute import DaskExecutor

    tiny = [spec(r, 4, 4) for r in rules]
    out = {}
    old = os.environ.get("OPTANALYSIS_CACHE_DIR")
    try:
        with tempfile.TemporaryDirectory() as shared, tempfile.TemporaryDirectory() as cold:
            os.environ["OPTANALYSIS_CACHE_DIR"] = shared
            t = time.perf_counter()
            warm_chunks(tiny)  # this process compiles and writes the cache
            out["parent_compile_s"] = time.perf_counter() - t
            with DaskExecutor(local_workers=WORKERS) as ex:
                t = time.perf_counter()
                ex.warm(warm_chunks, tiny)  # every worker loads from the shared cache
                out["workers_load_shared_s"] = time.perf_counter() - t
            os.environ["OPTANALYSIS_CACHE_DIR"] = cold
            with DaskExecutor(local_workers=WORKERS) as ex:
                t = time.perf_counter()
                ex.warm(warm_chunks, tiny)  # every worker compiles, at the same time
                out["workers_compile_cold_s"] = time.perf_counter() - t
            out["shared_total_s"] = out["parent_compile_s"] + out["workers_load_shared_s"]
    finally:
        if old is None:
            os.environ.pop("OPTANALYSIS_CACHE_DIR", None)
        else:
            os.environ["OPTANALYSIS_CACHE_DIR"] = old
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=100_000, help="points per grid (default 1e5)")
    p.add_argument("--chunk-sizes", default="64,256,1024,4096",
                   help="chunk sizes of the 2-worker runs (comma-separated)")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    if args.points < 100:
        p.error("--points must be >= 100")
    sizes = [int(s) for s in args.chunk_sizes.split(",")]
    if not sizes or min(sizes) < 1:
        p.error("--chunk-sizes must be integers >= 1")

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this script

    from optanalysis.sweeps.execute import DaskExecutor, InProcess

    rules = ["heavy_ball", "adam"]
    res = {"points": args.points, "d": D, "steps": STEPS, "workers": WORKERS, "cpus": os.cpu_count(),
           "load_avg_start": os.getloadavg()}
    print(f"# sweeps: {args.points} points per grid, d = {D}, {STEPS} steps, final_loss; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}", flush=True)

    res["warmup"] = w = warmup_study(rules)
    print(f"warm-up: parent compiles {w['parent_compile_s']:.2f} s + 2 workers load the shared cache "
          f"{w['workers_load_shared_s']:.2f} s = {w['shared_total_s']:.2f} s;  "
          f"2 workers compile cold {w['workers_compile_cold_s']:.2f} s", flush=True)

    warm = [spec(r, 4, 4) for r in rules] + [spec(r, 4, 1) for r in rules]  # 1-point chunks too
    warm_chunks(warm)
    rows = res["rows"] = []
    with InProcess() as ex:
        res["inprocess_noop_s"] = overhead(ex)
        res["inprocess_trivial_chunk_s"] = {r: trivial_chunk(ex, r) for r in rules}
        for r in rules:
            for cs in sizes:
                n, c, dt = timed_sweep(spec(r, args.points, cs), ex)
                rows.append({"rule": r, "where": "in process", "chunk_size": cs, "points": n,
                             "chunks": c, "seconds": dt, "points_per_s": n / dt})
                print(f"{r:10s} in process      chunk {cs:5d}: {n / dt:12.0f} points/s "
                      f"({dt:.2f} s, {c} chunks)", flush=True)
    t = time.perf_counter()
    with DaskExecutor(local_workers=WORKERS) as ex:
        res["cluster_start_s"] = time.perf_counter() - t
        ex.warm(warm_chunks, warm)
        res["dask_noop_s"] = overhead(ex)
        res["dask_trivial_chunk_s"] = {r: trivial_chunk(ex, r) for r in rules}
        for r in rules:
            for cs in sizes:
                n, c, dt = timed_sweep(spec(r, args.points, cs), ex)
                rows.append({"rule": r, "where": f"{WORKERS} workers", "chunk_size": cs, "points": n,
                             "chunks": c, "seconds": dt, "points_per_s": n / dt})
                print(f"{r:10s} {WORKERS} local workers chunk {cs:5d}: {n / dt:12.0f} points/s "
                      f"({dt:.2f} s, {c} chunks)", flush=True)

    # the cost of a chunk beyond its points: the slope of a sweep's seconds against its chunk
    # count (same points, chunk sizes varied), in process and on the cluster.  Part of it is
    # serial (the scheduler, and this process writing each chunk's Parquet file), so it caps the
    # whole cluster's rate R: a chunk of s points keeps it under 5 % when s >= 19 * cost * R.
    import numpy as np

    print(f"per chunk: no-op task {res['inprocess_noop_s'] * 1e6:.1f} us in process, "
          f"{res['dask_noop_s'] * 1e3:.2f} ms through Dask; 1-point sweep chunk "
          + ", ".join(f"{r} {res['inprocess_trivial_chunk_s'][r] * 1e3:.2f} ms in process / "
                      f"{res['dask_trivial_chunk_s'][r] * 1e3:.2f} ms Dask" for r in rules), flush=True)
    res["per_chunk_s"], res["chunk_size_for_5pct"] = {}, {}
    for r in rules:
        for where in ("in process", f"{WORKERS} workers"):
            pts = [(x["chunks"], x["seconds"]) for x in rows if x["rule"] == r and x["where"] == where]
            slope = float(np.polyfit(*zip(*pts), 1)[0]) if len(pts) > 1 else float("nan")
            rate = max(x["points_per_s"] for x in rows if x["rule"] == r and x["where"] == where)
            need = math.ceil(19 * slope * rate) if slope == slope else None
            res["per_chunk_s"][f"{r}, {where}"] = slope
            res["chunk_size_for_5pct"][f"{r}, {where}"] = need
            print(f"{r:10s} {where:10s}: {slope * 1e3:.2f} ms per chunk; overhead <= 5 % from "
                  f"chunk_size >= {need} points (19 x {slope * 1e3:.2f} ms x {rate:.0f} points/s)", flush=True)
    res["load_avg_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
