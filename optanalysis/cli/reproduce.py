"""``optanalysis reproduce``: write every derivation, figure and study under ``--out``.

Prints a table of the studies' verdicts and exits 1 when a verdict differs from the one the study
expects (0 otherwise; 2 for bad arguments).
"""

EXAMPLES = ("optanalysis reproduce --quick --out figures",
            "optanalysis reproduce --only gd_stability_and_rate --only derivations --out results")


def add_parser(sub):
    from ..reproduction import JOBS

    p = sub.add_parser("reproduce", help="derive, draw and run every study into figures/")
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only this job or study (repeatable); jobs: " + ", ".join(j.name for j in JOBS)
                   + "; studies: see `optanalysis study --help`")
    p.add_argument("--quick", action="store_true", help="small grids and quick studies")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="studies run N at a time (default 1)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..reproduction import reproduce

    outcomes = reproduce(args.out, args.only, quick=args.quick, jobs=args.jobs).outcomes
    if not outcomes:
        return 0
    rows = [(o.name, len(o.records), o.counts, o.confirmed, len(o.exploratory), o.status) for o in outcomes]
    w1, w3 = max(len(r[0]) for r in rows), max(len(r[2]) for r in rows)
    print(f"{'study':<{w1}}  records  {'verdicts':<{w3}}  confirmed  exploratory  status")
    for name, n, verdicts, confirmed, found, status in rows:
        print(f"{name:<{w1}}  {n:>7}  {verdicts:<{w3}}  {confirmed:>9}  {found:>11}  {status}")
    bad = sum(not o.ok for o in outcomes)
    skipped = sum(bool(o.not_run) for o in outcomes)
    found = sum(len(o.exploratory) for o in outcomes)
    ran = len(outcomes) - skipped
    print(f"{ran - bad}/{ran} studies as expected" + (f" ({skipped} not run: optional extra missing)" if skipped else "")
          + f"; {found} exploratory finding(s), listed apart in {args.out}/SUMMARY.md")
    return 1 if bad else 0
