"""The grid cut into chunks: each chunk is one ``simulate_batch`` call (configs x seeds).

Order of the points (deterministic, from the canonical spec alone): rule, problem, noise, batch,
schedule (the "group": everything one kernel call shares), then the rule's hyperparameter product
(last declared fastest), then the seeds.  A chunk is a contiguous range of points inside one
group, at most ``chunk_size`` points: ``chunk_size // len(seeds)`` configs with all seeds, or one
config with a slice of its seeds when the seeds alone exceed ``chunk_size``.  :func:`chunk` finds
chunk ``i`` arithmetically, so a worker never builds the list of all chunks.
"""
from __future__ import annotations

from dataclasses import dataclass

from .spec import Problem, Sweep

__all__ = ["Chunk", "chunk", "chunks", "n_chunks", "n_points"]


@dataclass(frozen=True)
class Chunk:
    """Chunk ``index``: ``rule`` with ``params`` (list of dicts) x ``seeds`` on ``problem`` under
    ``schedule``, ``noise`` ("none" or a spec) and ``batch``; its points are
    ``first .. first + len(params) * len(seeds) - 1``, params-major."""

    index: int
    rule: str
    params: list
    schedule: str
    problem: Problem
    noise: str
    batch: int
    seeds: tuple
    first: int

    @property
    def points(self) -> int:
        return len(self.params) * len(self.seeds)


def n_points(sweep: Sweep) -> int:
    return sweep.n_points


def _layout(sweep: Sweep, configs: int) -> tuple:
    """(configs per chunk, seed blocks per config, chunks) of a group of ``configs`` configs."""
    S, cs = len(sweep.seeds), sweep.chunk_size
    if S <= cs:
        per = cs // S
        return per, 1, -(-configs // per)
    blocks = -(-S // cs)
    return 1, blocks, configs * blocks


def _groups(sweep: Sweep):
    """(rule, problem, noise, batch, schedule) in grid order."""
    for r in sweep.rules:
        for p in sweep.problems:
            for nz in sweep.noise:
                for b in sweep.batch:
                    for s in sweep.schedules:
                        yield r, p, nz, b, s


def n_chunks(sweep: Sweep) -> int:
    per_rule = len(sweep.problems) * len(sweep.noise) * len(sweep.batch) * len(sweep.schedules)
    return sum(_layout(sweep, r.n_configs)[2] for r in sweep.rules) * per_rule


def chunk(sweep: Sweep, index: int) -> Chunk:
    """Chunk ``index`` (0-based) of :func:`chunks`, computed without the others."""
    total = n_chunks(sweep)
    if not (isinstance(index, int) and 0 <= index < total):
        raise ValueError(f"chunk index must be in [0, {total - 1}], got {index!r}")
    S = len(sweep.seeds)
    first_chunk = first_point = 0
    per_group = len(sweep.problems) * len(sweep.noise) * len(sweep.batch) * len(sweep.schedules)
    for r in sweep.rules:  # skip whole rules at once: a rule's groups all have the same layout
        per, blocks, count = _layout(sweep, r.n_configs)
        if index < first_chunk + count * per_group:
            break
        first_chunk += count * per_group
        first_point += r.n_configs * S * per_group
    g, j = divmod(index - first_chunk, count)
    rest = g
    rest, si = divmod(rest, len(sweep.schedules))
    rest, bi = divmod(rest, len(sweep.batch))
    pi, ni = divmod(rest, len(sweep.noise))
    first_point += g * r.n_configs * S
    if blocks == 1:
        c0, c1 = j * per, min(r.n_configs, (j + 1) * per)
        seeds, first_point = sweep.seeds, first_point + c0 * S
    else:
        c0, b = divmod(j, blocks)
        c1 = c0 + 1
        s0 = b * sweep.chunk_size
        seeds = sweep.seeds[s0:s0 + sweep.chunk_size]
        first_point += c0 * S + s0
    return Chunk(index, r.name, [r.config(k) for k in range(c0, c1)], sweep.schedules[si], sweep.problems[pi],
                 sweep.noise[ni], sweep.batch[bi], tuple(seeds), first_point)


def chunks(sweep: Sweep) -> list:
    """Every chunk, in order (their points tile 0 .. n_points - 1 in order)."""
    return [chunk(sweep, i) for i in range(n_chunks(sweep))]
