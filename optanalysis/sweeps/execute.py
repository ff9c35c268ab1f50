"""Where a sweep's chunks run: in this process, or on a Dask cluster.

An executor has one method, ``map(fn, args_list)``, that yields ``(i, result)`` for each
``args_list[i]`` in completion order; ``result`` is ``fn(*args_list[i])``, or the exception of
its second failure.  A task whose ``fn`` raised is run once more by the executor itself (the store
records the second error and goes on; it does not retry again).  A Dask worker that dies mid-task
(killed, out of memory) is Dask's business: the scheduler reruns its tasks elsewhere, up to its
``distributed.scheduler.allowed-failures`` (3); past that the task fails with ``KilledWorker``,
which counts as a failure of ``fn`` here.

Results are whatever ``fn`` returns: a chunk's columns are computed by the same kernels whichever
process runs them, so they are bit-identical (tests/test_sweep_dask.py).
"""
from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

__all__ = ["InProcess", "DaskExecutor", "CONNECT_TIMEOUT"]

# seconds to reach a scheduler before giving up; the issue asks for a clear error within 10 s, and
# Client's own timeout is not a hard bound (a refused connection is retried until it expires, then
# the error is raised), so leave it some room
CONNECT_TIMEOUT = 8

_ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss)://[^\s/]+:\d+/?$")


def _args(item) -> tuple:
    # a tuple is the positional arguments; anything else is the one argument
    return item if isinstance(item, tuple) else (item,)


def _attempt(fn, args):
    try:
        return fn(*args)
    except Exception as exc:  # yielded, not raised: the sweep records it and finishes the rest
        return _Failed(exc)


class _Failed:
    __slots__ = ("exc",)

    def __init__(self, exc):
        self.exc = exc


class InProcess:
    """Run tasks in this process, on ``threads`` Python threads (default 1: in order).

    The kernels release the GIL (``nogil``), so threads > 1 do overlap: Adam chunks of 4096
    points with NUMBA_NUM_THREADS=1 ran at 114-143k points/s on 1 thread, 197-211k on 2 (2 cores).
    But ``simulate_batch`` already spreads one chunk over ``numba.get_num_threads()`` threads, so
    by default more threads here only help when chunks are too small to fill them.
    """

    def __init__(self, threads: int = 1):
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int >= 1, got {type(threads).__name__}")
        if threads < 1:
            raise ValueError(f"threads must be an int >= 1, got {threads}")
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="sweep") if threads > 1 else None

    def map(self, fn, args_list):
        args_list = [_args(a) for a in args_list]
        if self._pool is None:
            for i, args in enumerate(args_list):
                out = _attempt(fn, args)
                if isinstance(out, _Failed):
                    out = _attempt(fn, args)  # the one retry
                yield i, out.exc if isinstance(out, _Failed) else out
            return
        pending = {self._pool.submit(_attempt, fn, args): (i, 1) for i, args in enumerate(args_list)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i, tries = pending.pop(fut)
                    out = fut.result()
                    if isinstance(out, _Failed) and tries == 1:
                        pending[self._pool.submit(_attempt, fn, args_list[i])] = (i, 2)
                        continue
                    yield i, out.exc if isinstance(out, _Failed) else out
        finally:
            for fut in pending:  # a consumer that stops early (Ctrl-C) leaves nothing queued
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"InProcess(threads={self.threads})"


def _worker_env() -> dict:
    """Environment of local worker processes: the parent's cache, one kernel thread each.

    Sharing the cache directory means a kernel compiled once (by the parent, or the first worker)
    is loaded from disk by every other worker instead of compiled again (see docs/sweeps.md for
    the measured times).  One worker process per core and one thread per worker: Numba's own
    thread count would otherwise make N workers run N x cores threads.
    """
    from ..cache import cache_dir

    env = {"OPTANALYSIS_CACHE_DIR": str(cache_dir()), "NUMBA_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if os.environ.get("NUMBA_CACHE_DIR"):
        env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
    return env


def _probe(address: str) -> None:
    """Ask ``address`` who it is, within CONNECT_TIMEOUT seconds, or raise.

    Client(address, timeout=...) alone is not enough: a port that accepts the connection but never
    answers (another service, a hung scheduler) makes it wait forever in the handshake (distributed
    2026.8).  The probe runs on its own thread and event loop, so a caller inside a running loop
    (Jupyter) can still use it.
    """
    import asyncio

    from distributed.comm import connect

    async def identity():
        comm = await connect(address, timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded():
        return await asyncio.wait_for(identity(), CONNECT_TIMEOUT)

    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(asyncio.run, bounded()).result()
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("it answered, but not as a Dask scheduler")


class DaskExecutor:
    """Run tasks on a Dask cluster: a running scheduler (``address``) or a new local one.

    Parameters
    ----------
    address : str, optional
        A running scheduler, ``tcp://host:port`` (or tls://, ucx://, ws://, wss://).  Not reached
        within :data:`CONNECT_TIMEOUT` seconds: ValueError naming it.
    local_workers : int >= 1, optional
        Start a ``LocalCluster`` of that many worker processes, one thread each, sharing this
        process's cache directory; closed by :meth:`close`.  Exactly one of the two is given.
    """

    def __init__(self, address: str | None = None, local_workers: int | None = None):
        if (address is None) == (local_workers is None):
            raise ValueError("give exactly one of address (a running Dask scheduler, "
                             "'tcp://host:port') or local_workers (an int >= 1)")
        if address is not None:
            if not isinstance(address, str):
                raise TypeError(f"address must be a str 'tcp://host:port', got {type(address).__name__}")
            if not _ADDRESS.match(address.strip()):
                raise ValueError(f"address must be a Dask scheduler address 'tcp://host:port' "
                                 f"(or tls://, ucx://, ws://, wss://), got {address!r}")
            address = address.strip()
        else:
            if isinstance(local_workers, bool) or not isinstance(local_workers, int):
                raise TypeError(f"local_workers must be an int >= 1, got {type(local_workers).__name__}")
            if local_workers < 1:
                raise ValueError(f"local_workers must be an int >= 1, got {local_workers}")
        try:
            import distributed
        except ImportError:  # an optional dependency: say which extra brings it
            raise ImportError("a Dask executor needs dask[distributed]: "
                              "pip install 'optanalysis[sweeps]'") from None
        self.address, self.local_workers = address, local_workers
        self._cluster = None
        if address is not None:
            try:
                _probe(address)
                self.client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT}s",
                                                 set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:  # CommClosedError is an OSError
                why = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
                raise ValueError(f"address: no Dask scheduler reachable at {address} within "
                                 f"{CONNECT_TIMEOUT} s ({why})") from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True,
                dashboard_address=None, env=_worker_env())
            try:
                self.client = distributed.Client(self._cluster, set_as_default=False)
            except BaseException:
                self._cluster.close()
                raise
        self._token = uuid.uuid4().hex[:8]  # keys unique to this executor: reruns never collide

    def map(self, fn, args_list):
        from distributed import as_completed

        args_list = [_args(a) for a in args_list]
        name = getattr(fn, "__name__", "task")
        run = uuid.uuid4().hex[:6]

        def submit(i, attempt):
            # keys by index, not by content (pure=False): a retry must run again, not reuse
            return self.client.submit(fn, *args_list[i], key=f"{name}-{self._token}{run}-{i}-{attempt}",
                                      pure=False)

        index = {}
        for i in range(len(args_list)):
            index[submit(i, 1)] = (i, 1)
        queue = as_completed(list(index), loop=self.client.loop)  # not the default client: ours
        try:
            for fut in queue:
                i, attempt = index.pop(fut)
                if fut.status == "finished":
                    result = fut.result()
                    fut.release()  # the worker may forget it: results are kept by the store
                    yield i, result
                    continue
                try:
                    exc = fut.exception()
                except BaseException as err:  # cancelled, e.g. by a scheduler restart
                    exc = err
                fut.release()
                if attempt == 1:
                    retry = submit(i, 2)
                    index[retry] = (i, 2)
                    queue.add(retry)
                else:
                    yield i, exc
        finally:
            if index:  # stopped early: cancel what is still queued on the cluster
                self.client.cancel(list(index))

    def warm(self, fn, *args) -> None:
        """Run ``fn(*args)`` once on every worker (e.g. a one-point chunk, to compile kernels)."""
        self.client.run(fn, *args)

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self._cluster
        self.client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        where = self.address if self.address else f"local_workers={self.local_workers}"
        return f"DaskExecutor({where})"
