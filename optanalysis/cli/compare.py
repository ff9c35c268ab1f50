"""``optanalysis compare``: prediction and simulation of one configuration, side by side.

Prints the records (a table, ``--json`` or ``--csv``); exit status 0 if every verdict passes, 1 if
some record fails, 2 on bad input.
"""
import json
import sys

from ..spec import parse_assignments, parse_floats

EXAMPLES = ("optanalysis compare heavy_ball --param lr=0.5 --param momentum=0.5 --hessian-diag 1,0.1 --x0 1,-1 "
            "--steps 300",
            "optanalysis compare gd --param lr=0.5 --hessian-diag uniform:mu=0.1,L=1,d=4 --steps 100 "
            "--noise hessian:sigma=0.1 --seeds 1000 --csv")


def add_parser(sub):
    p = sub.add_parser("compare", help="predict and simulate one configuration; print the records")
    p.add_argument("rule", help="a linear rule: gd, heavy_ball, sgd_momentum, nesterov")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--schedule", default=None, help="schedule spec, e.g. step:step_size=30,gamma=0.1")
    h = p.add_mutually_exclusive_group(required=True)
    h.add_argument("--hessian-diag", help="comma-separated diagonal of H, or a spectrum spec (uniform:mu=1,L=10,d=5)")
    h.add_argument("--hessian", help="dense H: rows separated by ';', entries by ','")
    p.add_argument("--x0", help="comma-separated initial point (default: all ones)")
    p.add_argument("--xstar", help="comma-separated minimiser (default: 0)")
    p.add_argument("--steps", type=int, required=True, help="number of steps")
    p.add_argument("--noise", default=None, help="noise spec: isotropic:sigma=S, hessian:sigma=S, diag:c=[...]")
    p.add_argument("--batch", type=int, default=1, help="batch size dividing the noise covariance")
    p.add_argument("--seeds", type=int, default=None, help="number of Monte Carlo seeds (with --noise)")
    p.add_argument("--level", type=float, default=0.99, help="confidence level of the Monte Carlo interval")
    p.add_argument("--checkpoints", type=int, default=10, help="number of compared steps")
    p.add_argument("--output", default=None, help="also write the records to this .csv or .json file")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(run=run)


def _hessian_diag(text):
    if text is None:
        return None
    try:
        return parse_floats(text, what="--hessian-diag")
    except ValueError:
        if ":" in text:
            return text  # a spectrum spec, read by optanalysis.models.quadratic
        raise


def _hessian(text):
    if text is None:
        return None
    return [parse_floats(row, what="--hessian") for row in text.split(";")]


def run(args) -> int:
    from ..comparison import compare, provenance, records_to_csv, records_to_json, write_records

    params = parse_assignments(args.param, what="--param")
    hd, hm = _hessian_diag(args.hessian_diag), _hessian(args.hessian)
    if args.x0 is not None:
        x0 = parse_floats(args.x0, what="--x0")
    else:
        from ..models.quadratic import make_quadratic

        x0 = [1.0] * make_quadratic(hessian_diag=hd, hessian=hm).d
    xstar = None if args.xstar is None else parse_floats(args.xstar, what="--xstar")
    seeds = None if args.seeds is None else list(range(args.seeds))
    records = compare(args.rule, params, x0=x0, hessian_diag=hd, hessian=hm, xstar=xstar, steps=args.steps,
                      schedule=args.schedule, noise=args.noise, batch=args.batch, seeds=seeds, level=args.level,
                      checkpoints=args.checkpoints)
    prov = provenance(rule=args.rule, params=params, schedule=args.schedule, hessian_diag=hd, hessian=hm, x0=x0,
                      xstar=xstar, steps=args.steps, noise=args.noise, batch=args.batch, seeds=args.seeds,
                      level=args.level)
    if args.output is not None:
        write_records(records, args.output, prov)
    if args.json:
        sys.stdout.write(records_to_json(records, prov) + "\n")
    elif args.csv:
        sys.stdout.write(records_to_csv(records, prov))
    else:
        _table(records)
    return 0 if all(r.verdict == "pass" for r in records) else 1


def _table(records):
    cols = ("quantity", "predicted", "observed", "tolerance", "verdict")
    rows = [[r.quantity, f"{r.predicted:.10g}", f"{r.observed:.10g}", f"{r.tolerance:.3g}", r.verdict] for r in records]
    width = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    if records:
        r = records[0]
        print(f"{r.rule}  schedule={r.schedule}  {json.dumps(r.hyperparameters)}")
    print("  ".join(c.ljust(w) for c, w in zip(cols, width)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, width)))
