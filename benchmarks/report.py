"""Provenance, target verdicts, the printed table and the atomic JSON file."""
from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata

import numba

from optanalysis.io import atomic_write

__all__ = ["environment", "verdicts", "table", "write_json", "update_readme"]

OURS = "optanalysis.simulate"
TARGETS = "ahead of optax jit+scan and torch fused at every size; >= 1.5x at d <= 1e3, >= 1.2x at d >= 1e6"


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(threads: int) -> dict:
    """Versions, CPU and thread counts recorded with every result file."""
    torch_threads = None
    if _version("torch"):
        import torch

        torch_threads = torch.get_num_threads()
    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        **{name: _version(name) for name in ("numpy", "numba", "llvmlite", "torch", "jax",
                                              "jaxlib", "optax")},
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "numba_threads": threads,
        "numba_threading_layer": _threading_layer(),
        "torch_threads": torch_threads,
        "jax_threads": "XLA default (not restricted)",
        "load_average_at_start": os.getloadavg(),
    }


def _threading_layer():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return None


def _need(d):
    return 1.5 if d <= 1000 else (1.2 if d >= 10**6 else 1.0)


def verdicts(rows: list, sweeps: list) -> list:
    """One record per target of the brief: value, required value, met."""
    out = []
    by_case = {}
    for r in rows:
        if "error" in r:
            continue
        by_case.setdefault((r["rule"], r["dtype"], r["d"]), {})[r["contender"]] = r
    for (rule, dtype, d), case in by_case.items():
        if OURS not in case:
            continue
        ours = case[OURS]["ns_per_element_step"]
        for rival in ("optax jit+scan", "torch fused"):
            # torch fused at its best thread count (1 or Numba's), whichever is faster here
            times = [r["ns_per_element_step"] for n, r in case.items() if n.startswith(rival)]
            if times:
                ratio = min(times) / ours
                out.append(dict(target=f"{rule} {dtype} d={d}: speed vs {rival}", value=ratio,
                                required=_need(d), met=ratio >= _need(d)))
    for s in sweeps:
        if "speedup_vs_jax_vmap" in s:
            out.append(dict(target=f"sweep {s['rule']}: speed vs jax.vmap",
                            value=s["speedup_vs_jax_vmap"], required=2.0,
                            met=s["speedup_vs_jax_vmap"] >= 2.0))
        out.append(dict(target=f"sweep {s['rule']}: {s['threads']} threads vs 1",
                        value=s["thread_speedup"], required=1.8, met=s["thread_speedup"] >= 1.8))
    return out


def table(results: dict) -> str:
    """The human-readable report printed by run.py (also pasted into README.md)."""
    lines = []
    env = results["environment"]
    lines.append(f"CPU {env['cpu']}, {env['logical_cpus']} logical CPUs, numba threads "
                 f"{env['numba_threads']} ({env['numba_threading_layer']}), torch threads "
                 f"{env['torch_threads']}; python {env['python']}, numpy {env['numpy']}, numba "
                 f"{env['numba']}, torch {env['torch']}, jax {env['jax']}, optax {env['optax']}; "
                 f"{env['date_utc']}")
    bw = results["bandwidth"]
    lines.append("memory bandwidth (DRAM, STREAM convention): triad "
                 + ", ".join(f"{k} thread(s) {v / 1e9:.1f} GB/s" for k, v in bw["triad_dram"].items())
                 + f"; numpy copy {bw['numpy_copy'] / 1e9:.1f} GB/s")
    lines.append("")
    head = (f"{'rule':10s} {'dtype':7s} {'d':>9s} {'contender':22s} {'steps':>9s} {'ns/el-step':>10s}"
            f" {'Gel-steps/s':>11s} {'ours x':>7s} {'stream ns':>9s} {'%':>5s} {'compute ns':>10s}"
            f" {'%':>5s}")
    lines.append(head)
    lines.append("-" * len(head))
    case_ours = {(r["rule"], r["dtype"], r["d"]): r["ns_per_element_step"]
                 for r in results.get("elementwise", []) if r["contender"] == OURS and "error" not in r}
    for r in results.get("elementwise", []):
        if "error" in r:
            lines.append(f"{r['rule']:10s} {r['dtype']:7s} {r['d']:9d} {r['contender']:22s} "
                         f"ERROR {r['error'][:80]}")
            continue
        ours = case_ours.get((r["rule"], r["dtype"], r["d"]))
        ratio = f"{r['ns_per_element_step'] / ours:7.2f}" if ours else f"{'-':>7s}"
        lines.append(f"{r['rule']:10s} {r['dtype']:7s} {r['d']:9d} {r['contender']:22s} "
                     f"{r['steps']:9d} {r['ns_per_element_step']:10.3f} "
                     f"{r['element_steps_per_s'] / 1e9:11.3f} {ratio} "
                     f"{r['stream_bound_ns']:9.3f} {100 * r['fraction_of_stream_bound']:4.0f}% "
                     f"{r['compute_floor_ns']:10.3f} {100 * r['fraction_of_compute_floor']:4.0f}%"
                     + ("  CHECK FAILED" if r["check_passed"] is False else ""))
    lines.append("'ours x': how many times faster optanalysis.simulate is than that row.  'stream ns':"
                 " least time of a fused step streaming its arrays at the triad bandwidth of the same "
                 "working set, '%' = that / measured (> 100%: the state does not stream every step).  "
                 "'compute ns': one-thread arithmetic floor (arithmetic.py), '%' = that / measured.")
    ar = results.get("arithmetic")
    if ar:
        lines.append("primitive costs, ns per element (1 thread, L1): " + "; ".join(
            f"{dt} " + ", ".join(f"{k} {v:.3f}" for k, v in c.items())
            for dt, c in ar["primitive_ns_per_element"].items()))
    for s in results["sweep"]:
        lines.append("")
        lines.append(f"sweep {s['rule']}: {s['configs']} configs x d={s['d']} x {s['steps']} steps")
        for k in ("optanalysis_1_threads_s", f"optanalysis_{s['threads']}_threads_s", "jax_vmap_s"):
            if k in s:
                lines.append(f"  {k:28s} {s[k]:8.3f} s  "
                             f"({s['element_steps'] / s[k] / 1e9:.3f} Gel-steps/s)")
        lines.append(f"  thread speed-up {s['thread_speedup']:.2f}x"
                     + (f", vs jax.vmap {s['speedup_vs_jax_vmap']:.2f}x"
                        if "speedup_vs_jax_vmap" in s else ""))
    if results.get("loop_shapes"):
        lines.append("")
        lines.append("loop shapes (diagnosis micro-benchmark, diagnostics/loop_shapes.py): "
                     "ns/elem-step")
        for r in results["loop_shapes"]:
            lines.append(f"  {r['rule']:10s} {r['dtype']:7s} d={r['d']:<9d} {r['shape']:44s} "
                         f"{r['ns_per_element_step']:8.3f}")
    for r in results.get("sweep_shapes", []):
        lines.append(f"  sweep {r['rule']:10s} over {r['configs']} problems: "
                     + ", ".join(f"{k.split('_')[0]} shape {k.split('_')[1]} thread(s) {r[k]:.3f} s"
                                 for k in r if k.endswith("_threads_s"))
                     + f"; bitwise equal to simulate_batch: {r['bitwise_equal_simulate_batch']}")
    for name, section in results.get("sections", {}).items():
        lines.append("")
        lines.append(importlib.import_module(f"{name}_cases").table(section))
    for e in results.get("errors", []):
        lines.append(f"ERROR {e}")
    lines.append("")
    lines.append(f"targets ({TARGETS}; sweep >= 2x jax.vmap, >= 1.8x on 2 threads vs 1):")
    for v in results["targets"]:
        lines.append(f"  {'MET ' if v['met'] else 'MISS'} {v['target']:55s} {v['value']:6.2f}x "
                     f"(need {v['required']:.1f}x)")
    return "\n".join(lines)


def write_json(path, results: dict) -> None:
    """Write ``results`` to ``path`` atomically (``optanalysis.io.atomic_write``)."""
    atomic_write(path, json.dumps(results, indent=1) + "\n")


README_START, README_END = "<!-- TABLE START -->", "<!-- TABLE END -->"


def update_readme(path, text: str) -> None:
    """Replace the block between ``README_START`` and ``README_END`` of ``path`` with ``text``
    (as a code block), atomically."""
    path = os.fspath(path)
    with open(path) as f:
        content = f.read()
    if README_START not in content or README_END not in content:
        raise ValueError(f"{path} has no {README_START} ... {README_END} block")
    head, rest = content.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    atomic_write(path, f"{head}{README_START}\n```\n{text}\n```\n{README_END}{tail}")
