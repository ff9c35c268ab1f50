"""Theory on quadratics: exact predictions, the noisy quadratic model, worst case, adaptive rules."""
