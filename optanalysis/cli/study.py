"""``optanalysis study NAME``: run one study, print its records and verdict, write its files."""

EXAMPLES = ("optanalysis study gd_stability_and_rate --quick --out results",
            "optanalysis study momentum_rate_map")


def add_parser(sub):
    p = sub.add_parser("study", help="run one study of studies/ (figure, records, data) and check its verdicts")
    p.add_argument("name", help="the study's name (a file studies/<name>.py); an unknown name lists the valid ones")
    p.add_argument("--quick", action="store_true", help="the study's quick mode (smaller grids, fewer seeds)")
    p.add_argument("--out", default="figures", metavar="DIR", help="output directory (default: figures)")
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
    from ..studies import run_study

    outcome = run_study(args.name, quick=args.quick, out=args.out)
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
