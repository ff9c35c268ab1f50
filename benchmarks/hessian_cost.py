"""The cost of a real model's sharpness (top-1 Hessian eigenvalue) at 10^3, 10^4 and 10^5 parameters
(issue 19 §1): Hessian-vector products and seconds.

    python benchmarks/hessian_cost.py [--samples N] [--tol T] [--json FILE]

Model: an MLP 64-h-10 (tanh) on the first ``--samples`` 8x8 digits with cross-entropy, float64,
h = 13, 133, 1333 (985, 9985, 99985 parameters), at its seeded initialisation.  The operator is
:class:`optanalysis.landscape.HessianOperator` (double backward through the gradient built once);
the eigenvalue is ``scipy.sparse.linalg.eigsh(k=1, which="LA")`` from a seeded start, at
``--tol`` (0: machine precision; 1e-6: what the edge-of-stability study uses).  Reported: products,
seconds for the operator (the gradient graph), seconds for eigsh, seconds per product, and one
gradient's seconds for scale.  One thread (torch.set_num_threads(1)).  Needs the ``models`` extra.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WIDTHS = (13, 133, 1333)


def measure(width: int, samples: int, tol: float) -> dict:
    import torch
    from sklearn.datasets import load_digits

    from optanalysis.landscape import HessianOperator, hessian_eigenvalues

    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    inputs = torch.as_tensor(x[:samples] / 16.0, dtype=torch.float64)
    targets = torch.as_tensor(y[:samples], dtype=torch.long)
    model = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.Tanh(), torch.nn.Linear(width, 10))
    start = time.perf_counter()
    op = HessianOperator(model, torch.nn.functional.cross_entropy, inputs, targets)
    built = time.perf_counter() - start
    start = time.perf_counter()
    top = float(hessian_eigenvalues(op, 1, tol=tol)[0])
    eig = time.perf_counter() - start
    w = op.point.clone().requires_grad_(True)
    start = time.perf_counter()
    for _ in range(5):
        torch.autograd.grad(op.function(w), w)
    grad = (time.perf_counter() - start) / 5
    return {"parameters": op.shape[0], "width": width, "hvp": op.n_hvp, "operator_s": built, "eigsh_s": eig,
            "s_per_hvp": eig / op.n_hvp, "gradient_s": grad, "lambda_max": top}


def main(argv=None) -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=400)
    p.add_argument("--tol", type=float, default=0.0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    measure(WIDTHS[0], args.samples, args.tol)  # warm-up: first calls load kernels and allocate
    rows = [measure(w, args.samples, args.tol) for w in WIDTHS]
    print(f"top-1 Hessian eigenvalue, MLP 64-h-10 on {args.samples} digits, float64, eigsh tol={args.tol:g}")
    print("| parameters | HVPs | eigsh (s) | s / HVP | gradient (s) | operator (s) | lambda_max |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['parameters']} | {r['hvp']} | {r['eigsh_s']:.3f} | {r['s_per_hvp']:.2e} | {r['gradient_s']:.2e} "
              f"| {r['operator_s']:.3f} | {r['lambda_max']:.6g} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
