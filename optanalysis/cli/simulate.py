"""``optanalysis simulate``: run one rule on a quadratic with the compiled kernels."""
import json

from ..spec import parse_assignments, parse_floats

EXAMPLES = ("optanalysis simulate adam --param lr=0.01 --param amsgrad=true --spectrum uniform:mu=0.1,L=1,d=4 "
            "--x0 1 --steps 100 --schedule cosine:T_max=100 --json",
            "optanalysis simulate gd --param lr=0.5 --hessian-diag 1,0.5,0.1 --x0 -1,0.5,2 --steps 1000 "
            "--noise hessian:sigma=0.1 --batch 8 --seed 3 --record-every 100")

EPILOG = """\
specs (NAME[:key=value,...]; values are numbers, true/false or [n1,n2,...]):
  --spectrum  uniform:mu=M,L=L,d=D | loguniform:mu=M,L=L,d=D,seed=S | twopoint:mu=M,L=L,d=D
              | powerlaw:d=D   (h_i = 1/i)
  --schedule  e.g. step:step_size=30,gamma=0.1 | multistep:milestones=[30,60],gamma=0.5
              | cosine:T_max=100 | plateau:patience=5 | ..._optax variants
              (`optanalysis schedules` lists them all)
  --noise     isotropic:sigma=S (cov S^2 I) | hessian:sigma=S (cov S^2 H) | diag:c=[c1,...]
              every covariance divided by --batch; --seed is required with noise
"""


def add_parser(sub):
    p = sub.add_parser("simulate", help="run a rule on a quadratic (compiled kernels)",
                       description="Run RULE on f(x) = 1/2 (x - x*)^T H (x - x*) and report the loss "
                                   "after every --record-every steps (index 0 = initial loss).",
                       epilog=EPILOG)
    p.add_argument("rule", help="rule name (optanalysis rules lists them)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="hyperparameter, repeatable (booleans: true/false)")
    p.add_argument("--schedule", metavar="SPEC", help="learning-rate schedule (default constant)")
    h = p.add_mutually_exclusive_group(required=True)
    h.add_argument("--hessian-diag", metavar="V1,V2,...", help="diagonal of H")
    h.add_argument("--spectrum", metavar="SPEC", help="spectrum of H from a spec")
    p.add_argument("--rotate", type=int, metavar="SEED",
                   help="dense H: rotate the spectrum by a seeded random orthogonal matrix")
    p.add_argument("--x0", required=True, metavar="V1,V2,...",
                   help="initial iterate (one value: the same for every coordinate)")
    p.add_argument("--xstar", metavar="V1,V2,...", help="minimiser (default 0; one value broadcasts)")
    p.add_argument("--steps", type=int, required=True, metavar="N")
    p.add_argument("--noise", metavar="SPEC", help="gradient noise model")
    p.add_argument("--batch", type=int, default=1, metavar="B", help="batch size dividing the noise covariance")
    p.add_argument("--seed", type=int, metavar="S", help="noise seed (required with --noise)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--record-every", type=int, default=1, metavar="K")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def _vector(text, flag: str, d: int):
    from ..checks import vector

    return vector(parse_floats(text, what=flag), flag, d, broadcast=True)


def run(args) -> int:
    import numpy as np

    from ..io import finite_or_null
    from ..models.quadratic import rotated_hessian, spectrum
    from ..simulation import simulate

    h = (np.array(parse_floats(args.hessian_diag, what="--hessian-diag")) if args.hessian_diag
         else spectrum(args.spectrum))
    layout = {"hessian_diag": h} if args.rotate is None else {"hessian": rotated_hessian(h, args.rotate)}
    d = h.size
    res = simulate(args.rule, parse_assignments(args.param, what="--param"), x0=_vector(args.x0, "--x0", d),
                   xstar=None if args.xstar is None else _vector(args.xstar, "--xstar", d),
                   steps=args.steps, schedule=args.schedule, noise=args.noise, batch=args.batch,
                   seed=args.seed, dtype=args.dtype, record_every=args.record_every, **layout)
    if args.json:
        out = {"rule": args.rule, "steps": args.steps, "record_every": args.record_every,
               "loss": res.loss.tolist(), "lr": res.lr.tolist(), "x": res.x.tolist(),
               "diverged_at": res.diverged_at}
        print(json.dumps(finite_or_null(out), allow_nan=False))
        return 0
    status = "did not diverge" if res.diverged_at is None else f"diverged at step {res.diverged_at}"
    print(f"{args.rule}: loss {res.loss[0]:.6g} -> {res.loss[-1]:.6g} after {args.steps} steps ({status})")
    return 0
