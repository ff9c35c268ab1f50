"""optanalysis: derive and verify the convergence of first-order optimizers on quadratics."""
__version__ = "0.1.0"

from .rules import RULES, get_rule  # noqa: E402

__all__ = ["RULES", "get_rule", "__version__"]
