"""Deterministic summation shared by the kernels."""
from numba import njit

__all__ = ["lane_sum"]


@njit(cache=True, error_model="numpy")
def lane_sum(a, n):
    """Sum of ``a[:n]`` in a fixed order: eight interleaved partial sums, then a fixed tree.

    Without fast-math a single running sum cannot be vectorised; eight independent ones can be,
    and the order (hence every rounding) is the same on every machine and thread count.
    """
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    j = 0
    while j + 8 <= n:
        s0 += a[j]
        s1 += a[j + 1]
        s2 += a[j + 2]
        s3 += a[j + 3]
        s4 += a[j + 4]
        s5 += a[j + 5]
        s6 += a[j + 6]
        s7 += a[j + 7]
        j += 8
    tail = 0.0
    while j < n:
        tail += a[j]
        j += 1
    return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))) + tail
