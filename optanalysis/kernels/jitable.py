"""Make every rule's functions callable from Numba code.

The rules are plain Python (one definition for SymPy, NumPy and Numba).  Registering them with
``register_jitable`` lets kernels call them directly, and lets one rule call another (AdamW calls
Adam's step); they compile inline, with the caller's options (``error_model="numpy"``).
"""
from numba.extending import register_jitable

from ..rules import RULES

for _rule in RULES.values():
    for _fn in (_rule.module.grad_point, _rule.module.step):
        register_jitable(_fn)
