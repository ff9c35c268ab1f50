"""``optanalysis study NAME``: run one study, print its records and verdict, write its files."""

EXAMPLES = ("optanalysis study gd_stability_and_rate --quick --out results",
            "optanalysis study momentum_rate_map --full --resolution 200 --local-workers 2")


def add_parser(sub):
    p = sub.add_parser("study", help="run one study of studies/ (figure, records, data) and check its verdicts")
    p.add_argument("name", help="the study's name (a file studies/<name>.py); an unknown name lists the valid ones")
    p.add_argument("--quick", action="store_true", help="the study's quick mode (smaller grids, fewer seeds)")
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    full = p.add_argument_group("full resolution (momentum_rate_map only; run as a sweep, resumable)")
    full.add_argument("--full", action="store_true",
                      help="the map at --resolution x --resolution (lr, momentum) points x 3 spectra, through a "
                           "sweep: writes momentum_rate_map_full.png/.pdf/.json under --out")
    full.add_argument("--resolution", type=int, default=None, metavar="N", help="points per axis (default 400)")
    full.add_argument("--spectra", default=None, metavar="NAMES",
                      help="comma-separated spectra among study, uniform, twopoint (default: all three)")
    full.add_argument("--sweep-dir", default=None, metavar="DIR",
                      help="the sweep's Parquet directory (default: OUT/momentum_rate_map_full.sweep)")
    where = full.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDR", help="a running Dask scheduler, tcp://host:port")
    where.add_argument("--local-workers", type=int, default=None, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    p.set_defaults(run=run)


def _table(outcome) -> str:
    """One aligned line per record: quantity, predicted, observed, tolerance, what the verdict
    tests (its relation), the verdict and the expected one."""
    head = ("quantity", "predicted", "observed", "tolerance", "relation", "verdict", "expected")
    rows = [head] + [(r.quantity, f"{r.predicted:.10g}", f"{r.observed:.10g}", f"{r.tolerance:.3g}", r.relation,
                      r.verdict, e) for r, (_, e, _) in zip(outcome.records, outcome.verdicts)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def run(args) -> int:
    """Exit status 0 if every verdict is the expected one, 1 otherwise."""
    full_only = [f for f, v in (("--resolution", args.resolution), ("--spectra", args.spectra),
                                ("--sweep-dir", args.sweep_dir), ("--scheduler", args.scheduler),
                                ("--local-workers", args.local_workers)) if v is not None]
    if args.full or full_only:
        # ValueError: the CLI prints it as one line and exits 2
        if not args.full:
            raise ValueError(f"{full_only[0]} only goes with --full")
        if args.name != "momentum_rate_map":
            raise ValueError(f"--full is only for momentum_rate_map, not {args.name!r}")
        if args.quick:
            raise ValueError("--full and --quick exclude each other")
        return _full(args)
    from ..studies import MissingExtra, run_study

    try:
        outcome = run_study(args.name, quick=args.quick, out=args.out)
    except MissingExtra as exc:  # one line naming the extra, exit 2 (not a failed verdict)
        raise ValueError(str(exc)) from None
    print(f"{outcome.name}: {outcome.title}")
    print(_table(outcome))
    if outcome.ok:
        print(f"verdict: as expected ({outcome.confirmed} confirmed, {len(outcome.exploratory)} exploratory of "
              f"{len(outcome.records)} records, {outcome.seconds:.1f} s); files: {', '.join(outcome.files)}")
        for quantity, found, reason in outcome.exploratory:
            print(f"exploratory: {quantity} is {found} ({reason})")
        return 0
    for quantity, verdict, expected in outcome.mismatches:
        print(f"UNEXPECTED: {quantity} is {verdict}, expected {expected}")
    return 1


def _full(args) -> int:
    """``--full``: the full-resolution rate map through a sweep (optanalysis.studies._rate_map_full)."""
    import json
    from pathlib import Path

    from ..studies._rate_map_full import run_full

    spectra = None if args.spectra is None else [s.strip() for s in args.spectra.split(",")]
    png = run_full(args.out, resolution=400 if args.resolution is None else args.resolution, spectra=spectra,
                   scheduler=args.scheduler, local_workers=args.local_workers, sweep_dir=args.sweep_dir)
    summary = json.loads(Path(png).with_suffix(".json").read_text())
    t, r = summary["total"], summary["run"]
    err = "none judged" if t["max_error"] is None else f"{t['max_error']:.3g}"
    print(f"momentum_rate_map --full: {t['points']} points ({summary['parameters']['resolution']}^2 x "
          f"{len(summary['spectra'])} spectra), sweep {summary['sweep_hash'][:12]} ({r['computed']} chunks computed, "
          f"{r['skipped']} already done, {r['seconds']} s)")
    print(f"judged {t['judged_points']} of {t['stable_points']} stable points ({t['judged_fraction']:.4f}); "
          f"max |observed - derived| {err}; {t['judged_points_beyond_tolerance']} judged points beyond "
          f"{t['tolerance']:g}")
    print(f"files: {png}, {Path(png).with_suffix('.pdf')}, {Path(png).with_suffix('.json')}")
    return 0
