"""``optanalysis lecture [TOPIC ...]``: build the lecture site (static HTML, no server, no network).

Topics in course order: gd, momentum, nesterov, rmsprop, adam, schedules, edge_of_stability (all of
them when none is named).  Any other name is resolved as a rule and gets a page of its own.  The
studies the pages show are run into ``OUT/figures`` (quick mode with ``--quick``) unless
``--figures DIR`` names existing outputs (``optanalysis reproduce --out DIR``) to copy; a rebuild
reuses the site's own study outputs while the package's sources are unchanged.
"""

EXAMPLES = ("optanalysis lecture --out site --quick",
            "optanalysis lecture momentum nesterov heavy_ball --out site --figures figures")


def add_parser(sub):
    from ..lecture import topic_names

    p = sub.add_parser("lecture", help="build the lecture site: one page per topic, derivations, figures, verdicts",
                       description=__doc__.splitlines()[0])
    p.add_argument("topics", nargs="*", metavar="TOPIC",
                   help=f"a topic ({', '.join(topic_names())}) or a rule's name (default: every topic)")
    p.add_argument("--out", default="site", metavar="DIR", help="the site's directory (default: site)")
    p.add_argument("--quick", action="store_true", help="run the studies in quick mode (smaller grids)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="copy the studies' outputs from DIR (written by `optanalysis reproduce`) instead of running them")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="studies run at once (default 1)")
    p.set_defaults(run=run)


def run(args) -> int:
    """Exit status 0, or 1 if a study shown on the pages has a verdict theory did not predict."""
    from ..checks import integer
    from ..lecture import build

    jobs = integer(args.jobs, "jobs", 1, 64)
    site = build(args.topics, args.out, quick=args.quick, figures=args.figures, jobs=jobs)
    print(f"{len(site.pages)} page(s) in {site.seconds:.1f} s: open {site.index}")
    if site.unexpected:
        for name, items in site.unexpected.items():
            print(f"{name}: {len(items)} unexpected verdict(s) (shown on its page)")
        return 1
    return 0
