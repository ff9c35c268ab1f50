"""The lecture's topics, in the order a course takes them: what each page shows.

A topic names the rules whose algorithm, derivation and library semantics it presents, the
studies whose figures and verdicts are its evidence, the rule of its interactive figure (linear
rules only: the figure is exact theory plus the package's own runs), and a paragraph saying what
the lesson is about.  A name that is not a topic is a rule (built-in or registered) and gets a
page of its own (:func:`rule_topic`).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Topic", "TOPICS", "topic_names", "rule_topic"]


@dataclass(frozen=True)
class Topic:
    """One page of the lecture site.

    Attributes
    ----------
    name : str
        The page's file stem and the CLI's name for it.
    title : str
        The page's heading.
    summary : str
        What the lesson is about, in plain words (one paragraph).
    rules : tuple of str
        Rules presented (algorithm, derivation or linearisation, library semantics).
    studies : tuple of str
        Studies whose figures and verdicts are the evidence.
    explorer : str or None
        The linear rule of the interactive figure (None: no interactive figure).
    schedules : tuple of str
        Learning-rate schedules presented (their library semantics and formulas).
    thresholds : bool
        Show the table of largest stable sharpness of every rule (edge of stability).
    """

    name: str
    title: str
    summary: str
    rules: tuple = ()
    studies: tuple = ()
    explorer: str | None = None
    schedules: tuple = ()
    thresholds: bool = False


TOPICS = (
    Topic("gd", "Gradient descent and the step size",
          "On a quadratic, gradient descent multiplies the error along each eigen-direction of "
          "curvature h by 1 − αh. The step size α therefore decides everything: too large and the "
          "steepest direction diverges, too small and the flattest one crawls. The best compromise "
          "over a spectrum [μ, L] and its rate follow from the derivation below.",
          rules=("gd",), studies=("gd_stability_and_rate",), explorer="gd"),
    Topic("momentum", "Heavy ball and momentum",
          "Momentum adds a fraction β of the previous displacement. Each eigen-direction then "
          "follows a two-term recurrence whose roots are real (overdamped) or complex (oscillating "
          "with modulus √β). Tuned, momentum turns the condition number κ of gradient descent's "
          "rate into √κ. torch's SGD with momentum is the same recurrence with the learning rate "
          "moved into the buffer.",
          rules=("heavy_ball", "sgd_momentum"),
          studies=("lesson_momentum_accelerates", "momentum_rate_map", "acceleration_vs_kappa",
                   "formulation_equivalence"),
          explorer="heavy_ball"),
    Topic("nesterov", "Nesterov's accelerated gradient",
          "Nesterov's method evaluates the gradient at a look-ahead point. On quadratics this "
          "changes the characteristic polynomial: the momentum term is multiplied by 1 − αh, which "
          "damps the steep directions and shrinks the stable step size. Whether it is faster than "
          "heavy ball depends on how both are tuned.",
          rules=("nesterov",), studies=("lesson_nesterov_faster", "acceleration_vs_kappa"),
          explorer="nesterov"),
    Topic("rmsprop", "RMSProp",
          "RMSProp divides the gradient by a running root mean square of past gradients. The rule "
          "is nonlinear, but with its second-moment estimate frozen it is gradient descent (or "
          "heavy ball) on the preconditioned curvature λ = h/P, so the linear theory applies to P⁻¹H. "
          "With ε = 0 it is scale-invariant and ends on a period-2 orbit instead of converging.",
          rules=("rmsprop", "rmsprop_optax"),
          studies=("lesson_rmsprop_helps_badly_scaled", "adaptive_cycles")),
    Topic("adam", "Adam, AdamW and AMSGrad",
          "Adam combines momentum on the gradient with RMSProp's preconditioner and corrects both "
          "averages for their zero start. Frozen, it is heavy ball on P⁻¹H with step α(1 − β₁) and "
          "momentum β₁; AdamW decouples the weight decay from the preconditioner; AMSGrad keeps the "
          "running maximum of the second moment, which repairs Reddi et al.'s counterexample.",
          rules=("adam", "adamw", "adam_optax"),
          studies=("lesson_adam_better_when_sparse", "adam_nonconvergence")),
    Topic("schedules", "Learning-rate schedules",
          "A schedule changes the step size along the run: step decay, exponential decay, cosine "
          "annealing with warmup, or reduce-on-plateau reacting to the loss. On a quadratic the "
          "exact state after any schedule is the product of the iteration matrices of each step; "
          "under gradient noise, decay trades speed for a lower noise floor.",
          studies=("lesson_step_decay_converges", "lesson_exp_decay_long_training",
                   "lesson_plateau_improves", "schedules_noisy_quadratic", "exponential_decay_stall",
                   "schedules_real_training"),
          schedules=("step", "multistep", "exponential", "cosine", "warmup_cosine_optax", "wsd",
                     "constant_then_decay", "plateau", "plateau_optax")),
    Topic("edge_of_stability", "Adaptive methods at the edge of stability",
          "Every rule has a largest stable curvature (sharpness) for a given step size: 2/α for "
          "gradient descent, (2 + 2β)/α for heavy ball, and for Adam the preconditioned sharpness "
          "λ_max(P⁻¹H) < (2 + 2β₁)/((1 − β₁)α), 38/α at β₁ = 0.9. Training on neural networks "
          "hovers at these thresholds; on quadratics the onset of divergence is exactly there.",
          studies=("edge_of_stability", "adaptive_cycles"), thresholds=True),
)


def topic_names() -> list:
    """The built-in topics' names.

    Returns
    -------
    list of str
        In course order.
    """
    return [t.name for t in TOPICS]


def rule_topic(name: str) -> Topic:
    """The page of the rule ``name`` (built-in, or one :func:`optanalysis.rules.get_rule` resolves,
    e.g. a user's rule file): its algorithm, derivation or linearisation, semantics and, for a
    linear rule, the interactive figure.

    Parameters
    ----------
    name : str
        What :func:`optanalysis.rules.get_rule` accepts.

    Returns
    -------
    Topic
        The rule's page, named after the rule.

    Raises
    ------
    ValueError
        If ``name`` is not a rule (the message lists the valid names).
    """
    from ..rules import get_rule

    rule = get_rule(name)
    return Topic(rule.name, f"Rule: {rule.name}",
                 f"The rule {rule.name!r}, derived from its own definition by optanalysis.",
                 rules=(rule.name,), explorer=rule.name if rule.linear else None)
