"""``optanalysis derive RULE``: the symbolic derivation of a rule, as text, JSON or LaTeX.

Linear rules: iteration matrix, characteristic polynomial, Jury conditions, largest stable lr,
regimes, spectral radius, worst case, optimal tuning, equivalences.  Adaptive rules need
``--linearize`` (frozen preconditioner); without it, those that take part in a relation proven
with the preconditioner frozen (NAdam ~ Nesterov, Adamax ~ Adam: ``Rule.relations``) list it.
Every output lists the relations the rule takes part in, on either side.  ``--param NAME=VALUE`` fixes a hyperparameter (a flag
such as ``nesterov=true`` or a special value such as ``momentum=0``); values are parsed as
numbers/booleans only.
"""
import json

from ..spec import parse_assignments

EXAMPLES = ("optanalysis derive heavy_ball --latex", "optanalysis derive adam --linearize --json")


def add_parser(sub):
    p = sub.add_parser("derive", help="derive a rule's recurrence, stability, rates and tuning")
    p.add_argument("rule", help="rule name (see `optanalysis rules`)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--latex", action="store_true", help="print a LaTeX fragment")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a hyperparameter (repeatable)")
    p.add_argument("--linearize", action="store_true",
                   help="adaptive rules: linearise around a frozen preconditioner")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the on-disk derivation cache")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..rules import get_rule
    from ..symbolic import derive

    from ..symbolic.adaptive_relations import check_relations_for

    rule = get_rule(args.rule)
    fixed = parse_assignments(args.param, what="--param")
    related = check_relations_for(rule.name)
    if not rule.linear and not args.linearize:
        if not related or args.latex or fixed:
            raise ValueError(f"rule {rule.name!r} is adaptive (nonlinear); add --linearize for its "
                             f"frozen-preconditioner linearisation")
        return _relations_only(rule, related, args)
    if args.linearize:
        return _linearized(rule, fixed, args, related)
    d = derive(rule, cache=not args.no_cache, **fixed)
    if args.json:
        print(json.dumps({**d.to_dict(), "relations": [r.to_dict() for r in related]}, indent=2))
    elif args.latex:
        print(d.to_latex(), end="")
    else:
        print(d.to_text() + _relation_text(related), end="")
    return 0


def _relation_text(related) -> str:
    """The relations as text lines (empty if none)."""
    if not related:
        return ""
    lines = ["", "relations of an adaptive rule, proven with its preconditioner frozen:"]
    lines += [f"  - [{'proven' if r.holds else 'FAILED'}] {r.statement}" for r in related]
    return "\n".join(lines) + "\n"


def _relations_only(rule, related, args) -> int:
    hint = f"optanalysis derive {rule.name} --linearize"
    if args.json:
        print(json.dumps({"rule": rule.name, "linear": False,
                          "relations": [r.to_dict() for r in related], "linearize": hint}, indent=2))
    else:
        print(f"{rule.name}: adaptive (nonlinear); no linear recurrence to derive."
              + _relation_text(related) + f"\nfrozen-preconditioner linearisation: {hint}")
    return 0


def _linearized(rule, fixed: dict, args, related) -> int:
    import sympy

    from ..symbolic.linearization import linearization_dict, linearize

    if rule.linear:
        raise ValueError(f"rule {rule.name!r} is linear already; drop --linearize")
    lin = linearize(rule, **fixed)
    if args.json:
        print(json.dumps({**linearization_dict(rule, **fixed),
                          "relations": [r.to_dict() for r in related]}, indent=2))
    elif args.latex:
        lx = sympy.latex
        print(rf"\[ P = {lx(lin.preconditioner)}, \quad {lx(lin.charpoly)} = 0, \quad "
              rf"\lambda_{{\max}}(P^{{-1}}H) < {lx(lin.threshold)} \]")
    else:
        mapping = ", ".join(f"{k} = {v}" for k, v in lin.mapping.items())
        print(f"{rule.name}: linearised around a frozen preconditioner "
              f"(frozen {', '.join(lin.frozen)}; tracked {', '.join(lin.tracked)})")
        print(f"preconditioner P = {lin.preconditioner}   (lam = h/P)")
        print("iteration matrix:")
        for row in lin.matrix.tolist():
            print(f"  [{', '.join(str(x) for x in row)}]")
        print(f"characteristic polynomial: {lin.charpoly}")
        print(f"equivalent: {lin.equivalent} on P^-1 H with {mapping}")
        print(f"stable iff lambda_max(P^-1 H) < {lin.threshold}")
        print(_relation_text(related), end="")
    return 0
