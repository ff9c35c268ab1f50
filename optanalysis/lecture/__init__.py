"""The lecture site: ``optanalysis lecture`` builds static pages a teacher can project, print and hand out.

One page per topic, in course order (:data:`TOPICS`), and one per rule asked for: the rule's
algorithm (its docstring), what the package derives about it on quadratics (typeset as MathML at
build time: :mod:`optanalysis.lecture.mathml` says why), an interactive figure for the linear
rules (precomputed grid, :mod:`optanalysis.lecture.explorer`), the studies that test the lesson's
claims with their verdicts (:mod:`optanalysis.lecture.evidence`), the exact torch/optax semantics
and the references.  HTML and CSS with one small script for the sliders; no server, no network.
"""
from .builder import Site, build, resolve_topics
from .topics import TOPICS, Topic, topic_names

__all__ = ["build", "Site", "resolve_topics", "TOPICS", "Topic", "topic_names"]
