"""Executors of a sweep (in process, Dask) and the issue's proofs that where a chunk runs changes nothing.

One LocalCluster of 2 worker processes is shared by the module (starting one takes seconds).
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from optanalysis.sweeps.execute import CONNECT_TIMEOUT, DaskExecutor, InProcess  # noqa: E402

# the toy tasks below live in this test module, which workers cannot import: ship them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def square(x):
    return x * x


def sqrt_or_raise(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return x ** 0.5


def flaky(log: str, i: int):
    """Fails on the first attempt of odd i (attempts counted in a file: tasks run anywhere)."""
    with open(log, "a") as f:
        f.write(f"{i}\n")
    tries = Path(log).read_text().split().count(str(i))
    if i % 2 and tries == 1:
        raise RuntimeError(f"first attempt of {i}")
    return i * 10


def always_fails(log: str, i: int):
    with open(log, "a") as f:
        f.write(f"{i}\n")
    raise KeyError(f"task {i}")


def slow_pid(i: int, seconds: float):
    time.sleep(seconds)
    return i, os.getpid()


def attempts(log) -> dict:
    out = {}
    for line in Path(log).read_text().split():
        out[int(line)] = out.get(int(line), 0) + 1
    return out


@pytest.fixture(scope="module")
def dask2():
    with DaskExecutor(local_workers=2) as ex:
        yield ex


# --- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("threads, exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                          (True, TypeError), ("2", TypeError)])
def test_inprocess_bad_threads(threads, exc):
    with pytest.raises(exc, match="threads must be an int >= 1"):
        InProcess(threads)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({}, ValueError, "exactly one of address"),
    ({"address": "tcp://127.0.0.1:8786", "local_workers": 2}, ValueError, "exactly one of address"),
    ({"address": 8786}, TypeError, "address must be a str"),
    ({"address": "127.0.0.1:8786"}, ValueError, "tcp://host:port"),
    ({"address": "http://127.0.0.1:8786"}, ValueError, "tcp://host:port"),
    ({"address": "tcp://127.0.0.1"}, ValueError, "tcp://host:port"),
    ({"local_workers": 0}, ValueError, "local_workers must be an int >= 1"),
    ({"local_workers": 2.0}, TypeError, "local_workers must be an int >= 1"),
    ({"local_workers": True}, TypeError, "local_workers must be an int >= 1"),
])
def test_dask_bad_arguments(kwargs, exc, match):
    t = time.monotonic()
    with pytest.raises(exc, match=match):
        DaskExecutor(**kwargs)
    assert time.monotonic() - t < 1  # refused before any connection or cluster


def test_unreachable_address_is_a_clear_error_within_10s():
    # a port where nothing listens, and a port that accepts but never answers (Dask's own Client
    # would wait forever on the latter)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    def attempt(sock):
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
        t = time.monotonic()
        try:
            DaskExecutor(address=address)
        except ValueError as exc:
            return address, str(exc), time.monotonic() - t
        return address, "no error", time.monotonic() - t

    try:  # both at once: each takes up to CONNECT_TIMEOUT
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(attempt, (refused, silent)))
    finally:
        silent.close()
        refused.close()
    for address, message, seconds in outcomes:
        assert message.startswith(f"address: no Dask scheduler reachable at {address}"), message
        assert seconds < 10
    assert CONNECT_TIMEOUT < 10


# --- in process ------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 3])
def test_inprocess_yields_every_index_once(threads):
    with InProcess(threads) as ex:
        got = list(ex.map(square, range(20)))
    assert sorted(i for i, _ in got) == list(range(20))
    assert all(r == i * i for i, r in got)
    if threads == 1:
        assert [i for i, _ in got] == list(range(20))  # one thread: in order


def test_inprocess_tuple_is_positional_arguments():
    with InProcess() as ex:
        assert list(ex.map(pow, [(2, 3), (3, 2)])) == [(0, 8), (1, 9)]


@pytest.mark.parametrize("threads", [1, 2])
def test_inprocess_retries_a_failure_once(tmp_path, threads):
    log = str(tmp_path / "log")
    with InProcess(threads) as ex:
        got = dict(ex.map(flaky, [(log, i) for i in range(6)]))
    assert got == {i: i * 10 for i in range(6)}
    assert attempts(log) == {i: 1 + i % 2 for i in range(6)}


@pytest.mark.parametrize("threads", [1, 2])
def test_inprocess_second_failure_is_yielded(tmp_path, threads):
    log = str(tmp_path / "log")
    with InProcess(threads) as ex:
        got = dict(ex.map(always_fails, [(log, i) for i in range(3)]))
        # the executor still runs tasks after failures
        assert dict(ex.map(sqrt_or_raise, [4, -1, 9]))[2] == 3.0
    assert sorted(got) == [0, 1, 2]
    assert all(isinstance(e, KeyError) and f"task {i}" in str(e) for i, e in got.items())
    assert attempts(log) == {0: 2, 1: 2, 2: 2}


# --- Dask ------------------------------------------------------------------------------------

def test_dask_yields_every_index_once(dask2):
    got = list(dask2.map(square, range(30)))
    assert sorted(i for i, _ in got) == list(range(30))
    assert all(r == i * i for i, r in got)


def test_dask_workers_share_the_cache_and_run_one_thread(dask2):
    from optanalysis.cache import cache_dir

    env = dask2.client.run(lambda: (os.environ.get("OPTANALYSIS_CACHE_DIR"),
                                    os.environ.get("NUMBA_NUM_THREADS")))
    assert len(env) == 2
    assert set(env.values()) == {(str(cache_dir()), "1")}
    assert set(dask2.client.nthreads().values()) == {1}


def test_dask_retries_a_failure_once(dask2, tmp_path):
    log = str(tmp_path / "log")
    got = dict(dask2.map(flaky, [(log, i) for i in range(6)]))
    assert got == {i: i * 10 for i in range(6)}
    assert attempts(log) == {i: 1 + i % 2 for i in range(6)}


def test_dask_second_failure_is_yielded(dask2, tmp_path):
    log = str(tmp_path / "log")
    got = dict(dask2.map(always_fails, [(log, i) for i in range(3)]))
    assert sorted(got) == [0, 1, 2]
    assert all(isinstance(e, KeyError) and f"task {i}" in str(e) for i, e in got.items())
    assert attempts(log) == {0: 2, 1: 2, 2: 2}
    mixed = dict(dask2.map(sqrt_or_raise, [4, -1, 9]))
    assert mixed[0] == 2.0 and mixed[2] == 3.0 and isinstance(mixed[1], ValueError)


def test_dask_by_address(dask2):
    # a running scheduler, as --scheduler reaches it (here the module's LocalCluster's)
    with DaskExecutor(address=dask2.client.scheduler.address) as ex:
        assert dict(ex.map(square, [1, 2, 3])) == {0: 1, 1: 4, 2: 9}


@pytest.mark.slow
def test_dask_killed_worker_loses_only_its_task(tmp_path):
    with DaskExecutor(local_workers=2) as ex:
        pids = list(ex.client.run(os.getpid).values())
        killed = []

        def kill_one():  # once both workers are busy, SIGKILL one of them mid-task
            time.sleep(1.0)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        killer = threading.Thread(target=kill_one)
        killer.start()
        got = dict(ex.map(slow_pid, [(i, 0.3) for i in range(16)]))
        killer.join()
    assert killed
    assert sorted(got) == list(range(16))
    assert all(not isinstance(r, BaseException) and r[0] == i for i, r in got.items()), got
    # the nanny started a new worker in the killed one's place, or the other worker took over
    assert any(pid != pids[0] for _, pid in got.values())


# --- the proofs: where a chunk runs changes no bit -----------------------------------

SPEC = {
    "steps": 200, "record_every": 20, "seeds": [0, 7, 11],
    "quantities": ["final_loss", "loss", "rate", "diverged_at", "predicted_final_loss"],
    "chunk_size": 4, "schedules": ["constant", "step:step_size=50,gamma=0.5"],
    "noise": ["none", "isotropic:sigma=0.05"],
    "rule": [{"name": "heavy_ball", "lr": [0.5, 1.0, 3.5], "momentum": [0.0, 0.9]},
             {"name": "adam", "lr": [0.01, 0.1]}],
    "problem": [{"name": "u", "spectrum": "uniform:mu=0.1,L=1,d=6", "x0": 1.0}],
}


def _manifest_chunks(out):
    import json

    m = json.loads((Path(out) / "manifest.json").read_text())
    return {k: (v["status"], v["sha256"]) for k, v in m["chunks"].items()}


def _bits(arr) -> bytes:
    import numpy as np

    return np.ascontiguousarray(arr.to_numpy(zero_copy_only=False)).view(np.uint8).tobytes()


def _assert_same_sweep(out, ref):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from optanalysis.sweeps.store import load_sweep

    got, want = load_sweep(out), load_sweep(ref)
    assert len(want) == want.attrs["n_points"] and not want.attrs["failed"] and not want.attrs["missing"]
    assert not got.attrs["failed"] and not got.attrs["missing"]
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    files = sorted(p.name for p in Path(ref).glob("chunk-*.parquet"))
    assert files and files == sorted(p.name for p in Path(out).glob("chunk-*.parquet"))
    for name in files:  # the columns of each file, bit for bit (NaN payloads too)
        a, b = pq.read_table(Path(out) / name), pq.read_table(Path(ref) / name)
        assert a.schema.equals(b.schema), name
        for col in a.column_names:
            x, y = a.column(col).combine_chunks(), b.column(col).combine_chunks()
            if pa.types.is_fixed_size_list(x.type):  # the recorded loss
                x, y = x.flatten(), y.flatten()
            if pa.types.is_string(x.type):
                assert x.to_pylist() == y.to_pylist(), (name, col)
            else:
                assert _bits(x) == _bits(y), (name, col)
    assert _manifest_chunks(out) == _manifest_chunks(ref)  # same bytes, same checksums


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run in this process (Numba's default thread count), the one to match."""
    from optanalysis.sweeps.spec import parse_spec
    from optanalysis.sweeps.store import run_sweep

    out = tmp_path_factory.mktemp("inprocess")
    run = run_sweep(parse_spec(SPEC), out, progress=False)
    assert run.ok and run.computed == run.n_chunks > 8
    return out


def test_local_cluster_sweep_equals_in_process_bit_for_bit(dask2, reference, tmp_path):
    from distributed import get_task_stream

    from optanalysis.sweeps.spec import parse_spec
    from optanalysis.sweeps.store import run_sweep

    with get_task_stream(client=dask2.client) as ts:
        run = run_sweep(parse_spec(SPEC), tmp_path, executor=dask2, progress=False)
    assert run.ok and run.computed == run.n_chunks
    # the chunks did run on the workers, on both of them
    workers = {t["worker"] for t in ts.data if str(t["key"]).startswith("run_chunk-")}
    assert workers == set(dask2.client.nthreads())
    _assert_same_sweep(tmp_path, reference)


@pytest.mark.slow
def test_worker_killed_mid_sweep_still_completes_identically(reference, tmp_path):
    from optanalysis.sweeps.spec import parse_spec
    from optanalysis.sweeps.store import run_sweep

    with DaskExecutor(local_workers=2) as ex:
        pids = ex.client.run(os.getpid)
        killed = []

        class KillOnFirstChunk:
            """A progress stream (a 'terminal', so written at every chunk) that, when the first
            chunk is in, SIGKILLs a worker that is running chunks at that moment."""

            def isatty(self):
                return True

            def write(self, text):
                if killed or "chunks" not in text:
                    return
                busy = {w: keys for w, keys in ex.client.processing().items() if keys}
                if busy:
                    worker = max(busy, key=lambda w: len(busy[w]))
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append((worker, len(busy[worker])))

            def flush(self):
                pass

        run = run_sweep(parse_spec(SPEC), tmp_path, executor=ex, stream=KillOnFirstChunk())
        assert killed and killed[0][1] >= 1  # a worker died with chunks in hand
        assert run.ok and run.computed == run.n_chunks
        # the nanny replaced it: a new process at the dead worker's place or a new worker
        assert set(ex.client.run(os.getpid).values()) != set(pids.values())
    _assert_same_sweep(tmp_path, reference)
