"""``optanalysis rules``: the registered rules with hyperparameters, defaults, ranges, references."""
import json

EXAMPLES = ("optanalysis rules", "optanalysis rules --json")


def add_parser(sub):
    p = sub.add_parser("rules", help="list the update rules")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..rules import RULES, rule_names

    rule_names()  # with the rules of installed packages' entry points

    table = [{
        "rule": r.name,
        "linear": r.linear,
        "state": list(r.state),
        "semantics": r.semantics,
        "hyperparameters": [{"name": p.name, "default": p.default, "range": p.range, "doc": p.doc}
                            for p in r.hyper],
        "references": list(r.references),
    } for r in RULES.values()]
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    for r in table:
        kind = "linear" if r["linear"] else "adaptive"
        print(f"{r['rule']}  ({kind}; {r['semantics']})")
        for p in r["hyperparameters"]:
            print(f"    {p['name']:<26} default {str(p['default']):<8} range {p['range']:<14} {p['doc']}")
        for ref in r["references"]:
            print(f"    ref: {ref}")
    return 0
