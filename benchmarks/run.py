"""Speed benchmark of optanalysis's kernels against NumPy, torch.optim and optax (issue #3 §6).

Usage::

    python benchmarks/run.py            # full run (~10 min on 2 cores), writes benchmarks/results.json
    python benchmarks/run.py --quick    # small sizes, short timings: a smoke test of the harness
    python benchmarks/run.py --out FILE
    python benchmarks/run.py --readme   # also paste the table into benchmarks/README.md
    python benchmarks/run.py --only dense,noise   # only these sections (names: SECTIONS)

Prints a table and writes the results (with versions, CPU, threads) atomically as JSON.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # sibling modules, and the repository's package

import numba  # noqa: E402

from arithmetic import compute_floor_ns, primitive_costs  # noqa: E402
from bandwidth import copy_bandwidth, triad_bandwidth  # noqa: E402
from elementwise import bench_case  # noqa: E402
from report import environment, table, update_readme, verdicts, write_json  # noqa: E402
from roofline import matched_bandwidth, stream_bytes, working_set  # noqa: E402

# Sections after the element-wise table, each a sibling module ``<name>_cases.py`` exposing
# ``run(quick: bool) -> dict`` (its rows, baselines measured in the same run, ratios, targets) and
# ``table(result: dict) -> str``: dense Hessians, noise, small-call latency, CLI latency.
SECTIONS = ("dense", "noise", "calls", "cli", "worst_case")
CORE = ("elementwise", "sweep", "shapes")

# The sweep's calls last ~30 ms, short enough for a stray tenant of the VM to spoil several in a
# row (best of 3 gave 2-thread speed-ups from 0.95x to 1.72x in one afternoon): best of 10.
FULL = dict(sizes=(10, 10**3, 10**6, 10**7), target=0.3, repeats=3, sweep_side=64,
            sweep_repeats=10, dram_elements=2**25, shape_target=0.2)
QUICK = dict(sizes=(10, 10**3), target=0.03, repeats=3, sweep_side=8, sweep_repeats=3,
             dram_elements=2**22, shape_target=0.03)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings")
    parser.add_argument("--out", default=str(HERE / "results.json"),
                        help="JSON output file (default: benchmarks/results.json)")
    parser.add_argument("--readme", action="store_true",
                        help="replace the table block of benchmarks/README.md with this run's")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections to run, of " + ", ".join(CORE + SECTIONS))
    args = parser.parse_args(argv)
    args.only = set(CORE + SECTIONS) if args.only is None else set(args.only.split(","))
    unknown = args.only - set(CORE + SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {sorted(unknown)}; known: {CORE + SECTIONS}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        parser.error(f"--out: directory {out_dir!r} does not exist")
    return args


def main(argv=None) -> int:
    args = _parse(argv)
    cfg = QUICK if args.quick else FULL
    threads = numba.get_num_threads()
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(threads)  # same cores for torch as for the Numba kernels
    results = {"environment": environment(threads), "quick": args.quick, "config": cfg}

    print("memory bandwidth ...", flush=True)
    n = cfg["dram_elements"]
    results["bandwidth"] = {
        "triad_dram": {k: triad_bandwidth(n, threads=k) for k in sorted({1, threads})},
        "triad_dram_elements": n,
        "numpy_copy": copy_bandwidth(n),
    }
    costs = {dtype: primitive_costs(dtype) for dtype in ("float64", "float32")}
    results["arithmetic"] = {"primitive_ns_per_element": costs,
                             "compute_floor_ns": {rule: {dtype: compute_floor_ns(rule, costs[dtype])
                                                         for dtype in costs}
                                                  for rule in ("heavy_ball", "adam")}}

    rows = []
    if "elementwise" in args.only:
        print("element-steps per second ...", flush=True)
        for rule in ("heavy_ball", "adam"):
            for dtype in ("float64", "float32"):
                for d in cfg["sizes"]:
                    case = bench_case(rule, dtype, d, target=cfg["target"], repeats=cfg["repeats"])
                    bw = matched_bandwidth(working_set(rule, dtype, d), dtype, threads)
                    bound = stream_bytes(rule, dtype) / bw * 1e9
                    floor = compute_floor_ns(rule, costs[dtype])  # one thread
                    for r in case:
                        if "error" in r:
                            continue
                        r.update(stream_bytes=stream_bytes(rule, dtype), matched_bandwidth=bw,
                                 stream_bound_ns=bound,
                                 fraction_of_stream_bound=bound / r["ns_per_element_step"],
                                 compute_floor_ns=floor,
                                 fraction_of_compute_floor=floor / r["ns_per_element_step"])
                    rows += case
                    gc.collect()
        results["elementwise"] = rows
        write_json(args.out, results)  # partial results survive an interrupted run

    results["sweep"] = []
    if "sweep" in args.only:
        print("sweep ...", flush=True)
        if importlib.util.find_spec("optanalysis.simulation") is not None:
            from sweep import bench_sweep

            for rule in ("heavy_ball", "adam"):
                try:
                    results["sweep"].append(bench_sweep(rule, cfg["sweep_side"],
                                                        repeats=cfg["sweep_repeats"]))
                except Exception as exc:  # noqa: BLE001 - report it, keep the other results
                    results.setdefault("errors", []).append(f"sweep {rule}: {type(exc).__name__}: {exc}")
                    print(f"  sweep {rule}: ERROR {exc}")

    write_json(args.out, results)
    if "shapes" in args.only:
        print("loop shapes ...", flush=True)
        try:
            from diagnostics.loop_shapes import bench_loop_shapes

            results["loop_shapes"] = bench_loop_shapes(quick=args.quick, target=cfg["shape_target"])
            if results["sweep"]:
                from diagnostics.loop_shapes import bench_sweep_shape

                results["sweep_shapes"] = [bench_sweep_shape(rule, cfg["sweep_side"],
                                                             repeats=cfg["sweep_repeats"])
                                           for rule in ("heavy_ball", "adam")]
        except Exception as exc:  # noqa: BLE001 - report it, keep the other results
            results.setdefault("errors", []).append(f"loop shapes: {type(exc).__name__}: {exc}")
            print(f"  loop shapes: ERROR {exc}")
    for name in SECTIONS:
        if name not in args.only or importlib.util.find_spec(f"{name}_cases") is None:
            continue
        print(f"{name} ...", flush=True)
        try:
            results.setdefault("sections", {})[name] = importlib.import_module(
                f"{name}_cases").run(quick=args.quick)
        except Exception as exc:  # noqa: BLE001 - report it, keep the other results
            results.setdefault("errors", []).append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"  {name}: ERROR {exc}")
        write_json(args.out, results)
    results["targets"] = verdicts(rows, results["sweep"])
    results["environment"]["numba_threading_layer"] = environment(threads)["numba_threading_layer"]
    write_json(args.out, results)
    print()
    print(table(results))
    print(f"\nwritten {args.out}")
    if args.readme:
        update_readme(HERE / "README.md", table(results))
        print(f"updated {HERE / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
