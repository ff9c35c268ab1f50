"""The simulation loops, written once for every rule, one module per execution path.

``core`` (what every path shares), ``powers`` (tabulated ``beta ** t``), ``exact`` (exact single
steps), ``fused`` (fused steps: ``run_diag``), ``blocks`` (one problem's blocks shared among
threads), ``lanes`` (SIMD lanes: ``run_lanes``), ``dense`` (``run_dense``).

These modules are not imported from here: ``build.py`` copies them verbatim into a package
per rule (in the kernel cache), beside that rule's generated ``binding.py`` (see
``contract.py``), which they import relatively.  So each ``njit(cache=True)`` kernel is a
module-level function of a real file (Numba's disk cache misses closures and functions passed
as arguments) whose globals ``_step``/``_grad_point`` are that rule's single definition.

Conventions shared by the kernels
    * one problem = one row of the batch arrays, computed by one thread, so its result does
      not depend on the thread count or on the other problems (threads: see
      ``optanalysis.simulation``; Python threads over ``nogil`` kernels rather than ``prange``,
      see benchmarks/README.md); a large diagonal problem may instead share its coordinate
      blocks among threads (``run_diag_blocks``): blocks are independent and their losses are
      added in block order either way;
    * state ``S[p]`` is ``(NSTATE, d)`` in the working dtype, written from the initial state
      ``S0[s0_row[p]]`` (shared by the seeds of a parameter set; read only, so that a rerun can
      start again from it); hyperparameters ``hp[p]`` are float64 (torch's Python floats;
      ``mixed.py`` rounds them where they meet float32 values) in the rule's order, lr first,
      flags as 0.0/1.0;
    * step k (0-based) of a run started after ``t0`` steps has the 1-based step count
      t = t0 + k + 1, passed to the rule as the float64 of that integer (``beta**t`` is then
      libm ``pow`` as in Python), and the noise of step t0 + k: every path converts t from
      the integer, so a run continued with ``t0`` = the steps done has the uninterrupted bits;
    * losses are float64 sums in a fixed order (``lane_sum`` per block, blocks in order),
      *recorded* every ``rec_every`` steps of the run;
    * divergence at step K (first non-finite loss or loss > 1e30 max(1, loss_0), loss_0 at the
      run's own start): the state is the one after step K, later losses, lrs and recorded
      iterates are NaN.  Every step is checked: an open-loop diagonal run sums its loss only at
      recorded steps and certifies the others elementwise (``limits``); a failed certificate
      reruns it with every loss summed.  The plateau controller and dense Hessians sum the loss
      at every step.
"""
