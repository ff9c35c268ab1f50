"""``optanalysis sweep``: run a declarative grid (a TOML file) into Parquet files under one directory.

Exit status 0 when every chunk finished, 1 when some chunk failed twice (its error is in the
manifest; the others are written), 2 on bad input.  Rerunning the same command resumes.
"""
from pathlib import Path

EXAMPLES = ("optanalysis sweep grid.toml --out results/grid",
            "optanalysis sweep grid.toml --out results/grid --local-workers 2")

def _epilog() -> str:
    from textwrap import indent

    from ..sweeps.spec import EXAMPLE  # standard library only: cheap at parser-build time

    return ("SPEC.toml (values: a scalar, a list, {linspace = [a, b, n]} or {geomspace = [a, b, n]}):\n"
            + indent(EXAMPLE, "  ")
            + "results: DIR/chunk-NNNNN.parquet and DIR/manifest.json; in Python: optanalysis.load_sweep(DIR)\n")


def add_parser(sub):
    p = sub.add_parser("sweep", help="run a grid of configurations (TOML) into Parquet, resumable",
                       description="Run the grid of SPEC.toml in chunks (in-process, or on Dask) and write "
                                   "one Parquet file per chunk plus a manifest under --out; rerunning "
                                   "resumes.", epilog=_epilog())
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep, a TOML file")
    p.add_argument("--out", metavar="DIR", help="results directory (default: SPEC without .toml, plus .sweep)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--local-workers", type=int, metavar="N", help="start a Dask LocalCluster of N workers")
    p.add_argument("--yes", action="store_true", help="allow a grid of more than 10^9 points")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=run)


def run(args) -> int:
    import importlib.util

    missing = [m for m in ("pyarrow", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        raise ValueError(f"the sweep command needs {' and '.join(missing)}: pip install 'optanalysis[sweeps]'")
    from ..sweeps import sweep

    spec = Path(args.spec)
    if not spec.is_file():
        raise ValueError(f"SPEC.toml: no such file {args.spec!r}")
    out = Path(args.out) if args.out else spec.with_suffix("").with_name(spec.stem + ".sweep")
    result = sweep(spec, out, scheduler=args.scheduler, local_workers=args.local_workers, yes=args.yes,
                   progress=not args.quiet)
    print(f"sweep {result.hash[:12]}: {result.n_points} points in {result.n_chunks} chunks -> {out} "
          f"({result.computed} computed, {result.skipped} already done, {len(result.failed)} failed)")
    for i, error in sorted(result.failed.items()):
        print(f"chunk {i} failed: {error}")
    return 0 if result.ok else 1
