"""``optanalysis schedules [SPEC]``: list the schedules, or print the lr sequence of one."""
import json

EXAMPLES = ("optanalysis schedules", "optanalysis schedules cosine:T_max=100 --lr 0.1 --steps 10 --json")


def add_parser(sub):
    p = sub.add_parser("schedules", help="list the learning-rate schedules or evaluate one",
                       description="Without SPEC: one line per schedule (library reproduced, formula, "
                                   "parameters). With an open-loop SPEC: its lr at steps 0..STEPS-1.")
    p.add_argument("spec", nargs="?", metavar="SPEC", help="e.g. cosine:T_max=100 (omit to list all)")
    p.add_argument("--lr", type=float, default=0.1, help="base lr (default 0.1)")
    p.add_argument("--steps", type=int, default=10, help="number of steps to print (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..schedules import OpenLoop, describe_schedule, make_schedule, schedule_names

    if args.spec is None:
        lines = {name: describe_schedule(name) for name in schedule_names()}
        print(json.dumps(lines, indent=2) if args.json else "\n".join(lines.values()))
        return 0
    sched = make_schedule(args.spec)
    if not isinstance(sched, OpenLoop):
        raise ValueError(f"schedule {sched.name!r} is closed-loop (it reacts to the run's loss); "
                         "use `optanalysis simulate --schedule` to see its lr")
    lrs = sched.lrs(args.lr, args.steps).tolist()
    if args.json:
        print(json.dumps({"spec": sched.spec, "base_lr": args.lr, "lr": lrs}))
    else:
        print("\n".join(f"{k} {v!r}" for k, v in enumerate(lrs)))
    return 0
