"""torch.optim on CPU: the gradient of the diagonal quadratic is written into ``p.grad`` in place
(no autograd), then ``optimizer.step()``.

heavy_ball is timed as ``torch.optim.SGD(lr, momentum)``: the same characteristic polynomial
z^2 - (1 + momentum - lr h) z + momentum and, under the constant lr used here, the same iterates
(torch keeps the buffer b = sum momentum^k g instead of x_prev; docs/reference.md §2.6).
"""
from __future__ import annotations

__all__ = ["make_torch", "VARIANTS"]

# (rule, variant) -> optimizer keyword arguments (both paths exist on CPU in torch 2.13).
VARIANTS = {
    ("adam", "foreach"): {"foreach": True},
    ("adam", "fused"): {"fused": True},
    ("heavy_ball", "foreach"): {"foreach": True},
    ("heavy_ball", "fused"): {"fused": True},
}


def make_torch(rule: str, variant: str, params: dict, h, x0, xstar, *, threads=None):
    """A ``run(steps)`` closure continuing one torch trajectory, and a ``state()`` getter (NumPy x).

    Parameters
    ----------
    rule : {"heavy_ball", "adam"}
    variant : {"foreach", "fused"}
        Implementation path of torch.optim.
    params : dict
        Hyperparameters in optanalysis names.
    h, x0, xstar : numpy.ndarray
        Problem arrays; their dtype is kept.
    threads : int or None
        ``torch.set_num_threads`` during each ``run`` (restored after); None keeps the setting.
    """
    import torch

    if (rule, variant) not in VARIANTS:
        raise ValueError(f"(rule, variant) must be one of {sorted(VARIANTS)}, got {(rule, variant)!r}")
    p = torch.nn.Parameter(torch.from_numpy(x0.copy()))
    p.grad = torch.zeros_like(p)
    th, txs = torch.from_numpy(h), torch.from_numpy(xstar)
    if rule == "adam":
        opt = torch.optim.Adam([p], lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                               eps=params["eps"], **VARIANTS[rule, variant])
    else:
        opt = torch.optim.SGD([p], lr=params["lr"], momentum=params["momentum"],
                              **VARIANTS[rule, variant])

    @torch.no_grad()
    def run(steps):
        old = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            grad = p.grad
            for _ in range(steps):
                torch.sub(p, txs, out=grad)
                grad.mul_(th)
                opt.step()
        finally:
            torch.set_num_threads(old)

    return run, lambda: (p.detach().numpy(),)
