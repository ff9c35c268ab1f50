"""Diagnosis micro-benchmarks: loop shapes kept because each explains a decision of the kernels
(run by ``benchmarks/run.py``; see ``loop_shapes.py``)."""
