"""``optanalysis reproduce``: write every derivation, figure and study under ``--out``."""


def add_parser(sub):
    from ..reproduce import JOBS

    p = sub.add_parser("reproduce", help="derive, draw and run everything into figures/")
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
    p.add_argument("--only", action="append", default=None, metavar="JOB",
                   help="run only this job (repeatable): " + ", ".join(j.name for j in JOBS))
    p.add_argument("--quick", action="store_true", help="small grids and quick studies (for tests)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..reproduce import reproduce

    reproduce(args.out, args.only, quick=args.quick)
    return 0
