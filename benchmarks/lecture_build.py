"""Time `optanalysis lecture` and measure the site's size (docs/lecture.md, "Speed and size").

    python benchmarks/lecture_build.py [--figures figures] [--cold]

Runs, each as a user would, in a fresh process: (1) a build that copies the studies' outputs
(``--figures``), caches warm; (2) a build that runs every study in quick mode, caches warm; (3) a
rebuild of that site (study outputs reused); with ``--cold`` also (4) the copying build with empty
derivation and Numba caches.  Prints wall seconds, the load average at the start of each run (the
machine is shared: say it with the number) and the site's size without and with its figures.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _size(path: Path, skip=None) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and (skip is None or skip not in p.parts))


def _run(label, argv, env=None):
    load = os.getloadavg()[0]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "optanalysis", "lecture", *argv], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"| {label} | {time.perf_counter() - start:.1f} | {load:.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", default="figures", help="a directory of study outputs (default: figures)")
    parser.add_argument("--cold", action="store_true", help="also time a build with empty caches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("| build | seconds | load average |\n|---|---|---|")
        _run("all topics, --figures (copied), caches warm", ["--out", str(tmp / "a"), "--figures", args.figures])
        _run("all topics, --quick (16 studies run, 2 jobs), caches warm", ["--out", str(tmp / "b"), "--quick", "--jobs", "2"])
        _run("rebuild of that site (study outputs reused)", ["--out", str(tmp / "b"), "--quick"])
        if args.cold:
            env = {**os.environ, "OPTANALYSIS_CACHE_DIR": str(tmp / "cache"), "NUMBA_CACHE_DIR": str(tmp / "numba")}
            _run("all topics, --figures, empty caches (derivations, kernels)",
                 ["--out", str(tmp / "c"), "--figures", args.figures], env)
        site = tmp / "a"
        print(f"\nsite without figures: {_size(site, 'figures') / 2**20:.2f} MiB; "
              f"with figures: {_size(site) / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
