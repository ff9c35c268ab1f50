"""``optanalysis worst-case``: exact worst-case ratio after n steps over spectra in [mu, L]."""
import json

from ..spec import parse_assignments

EXAMPLES = ("optanalysis worst-case nesterov --mu 0.01 --L 1 --steps 100 --param lr=1 --param momentum=0.8",
            "optanalysis worst-case gd --mu 0.1 --L 1 --steps 50 --param lr=1 --schedule cosine:T_max=50 --json")


def add_parser(sub):
    p = sub.add_parser("worst-case", help="exact worst case after n steps over quadratics with spectrum in [mu, L]")
    p.add_argument("rule", help="a linear rule: gd, heavy_ball, sgd_momentum, nesterov")
    p.add_argument("--mu", type=float, required=True, help="smallest curvature (> 0)")
    p.add_argument("--L", type=float, required=True, help="largest curvature (>= mu)")
    p.add_argument("--steps", type=int, required=True, help="number of steps n")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--schedule", default=None, help="open-loop lr schedule spec (default: constant lr)")
    # checked by worst_case (its METRICS), so that building the parser imports neither SymPy nor Numba
    p.add_argument("--metric", default="distance",
                   help="distance: ||x_n-x*||^2/||x_0-x*||^2 (default); loss: (f(x_n)-f*)/||x_0-x*||^2")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..io import finite_or_null
    from ..theory.worst_case import worst_case

    params = parse_assignments(args.param, what="--param")
    res = worst_case(args.rule, params, mu=args.mu, L=args.L, steps=args.steps, metric=args.metric,
                     schedule=args.schedule)
    out = {"rule": args.rule, "params": params, "schedule": args.schedule} | res.as_dict()
    if args.json:
        print(json.dumps(finite_or_null(out), indent=2, allow_nan=False))
    else:
        print(f"{args.rule} {params} schedule={args.schedule or 'constant'} n={res.steps} "
              f"over [{res.mu:g}, {res.L:g}] ({res.metric}): ratio {res.ratio:.6g} (log10 {res.log10_ratio:.6g}) at h = {res.h:.10g}")
    return 0
