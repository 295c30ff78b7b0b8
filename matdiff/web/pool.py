"""A pool of derivation worker processes with a time limit per request.

The event loop never derives: each request goes to an idle worker process through a pipe,
and the loop waits for the pipe to become readable.  A worker that does not answer within
the time limit is killed and replaced by a fresh process, so a pathological expression
costs one worker for at most the limit while the others keep answering.  Workers are
started with 'spawn' (no copy of the server's threads or event loop) and hold no state
between requests.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import time

from ..core.errors import MatdiffError


class TimeLimitError(MatdiffError):
    """A request took longer than the server's time limit (its worker was replaced)."""


class BusyError(MatdiffError):
    """Every worker stayed busy for the whole time limit."""


def _error(kind: str, message: str) -> dict:
    return {"error": kind, "message": message, "line": None, "column": None, "source": None,
            "span": None, "context": None}


def _work(conn, memory_mb: int) -> None:   # pragma: no cover - runs in the worker process
    """The worker's loop: receive (endpoint, body), send (status, JSON body)."""
    if memory_mb:
        import resource
        limit = memory_mb * 2 ** 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from .endpoints import answer
    conn.send("ready")
    while True:
        try:
            name, body = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = answer(name, body)
        except RecursionError:
            result = 400, _error("LimitError", "the expression is nested too deeply to derive")
        except MemoryError:
            result = 400, _error("LimitError", f"the request needs more than the "
                                 f"{memory_mb} MiB of memory a worker may use")
        except Exception as e:   # a bug: report it as one, keep serving
            result = 500, _error("InternalError",
                                 f"internal error: {type(e).__name__}: {e}"[:500])
        conn.send(result)


class Worker:
    def __init__(self, ctx, memory_mb: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_work, args=(child, memory_mb), daemon=True,
                                   name="matdiff-worker")
        self.process.start()
        child.close()

    async def readable(self, timeout: float | None) -> bool:
        """Wait (without blocking the loop) until the worker has written to the pipe."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
        try:
            await asyncio.wait_for(ready, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """``size`` worker processes; ``await pool.run(endpoint, body)`` → (status, dict)."""

    def __init__(self, size: int = 2, time_limit: float = 10.0, memory_mb: int = 1024,
                 start_timeout: float = 120.0):
        if size < 1:
            raise MatdiffError(f"the pool needs at least one worker, got {size}")
        self.size, self.time_limit, self.start_timeout = size, time_limit, start_timeout
        self.memory_mb = memory_mb   # address-space limit of each worker (0: none)
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[Worker] | None = None
        self._all: set[Worker] = set()        # started and ready
        self._starting: set[Worker] = set()
        self.replaced = 0

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        await asyncio.gather(*(self._add() for _ in range(self.size)))

    async def _add(self) -> None:
        worker = Worker(self._ctx, self.memory_mb)
        self._starting.add(worker)
        try:
            ok = await worker.readable(self.start_timeout) and worker.conn.recv() == "ready"
        except (EOFError, OSError):
            ok = False
        finally:
            self._starting.discard(worker)
        if not ok:   # pragma: no cover - a worker that cannot even start
            worker.kill()
            raise RuntimeError("a matdiff worker process did not start")
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def _replace(self, worker: Worker) -> None:
        """Kill a stuck or broken worker and start a fresh one in the background."""
        self._all.discard(worker)
        worker.kill()
        self.replaced += 1
        task = asyncio.get_running_loop().create_task(self._add())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def run(self, name: str, body) -> tuple[int, dict]:
        started = time.monotonic()
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.time_limit)
        except asyncio.TimeoutError:
            raise BusyError(f"every worker stayed busy for {self.time_limit:g} s; "
                            f"try again") from None
        try:
            worker.conn.send((name, body))
            ok = await worker.readable(self.time_limit)
            result = worker.conn.recv() if ok else None
        except (EOFError, OSError):   # the worker died (e.g. out of memory)
            self._replace(worker)
            raise MatdiffError("the worker deriving this request stopped; try a smaller "
                               "expression") from None
        except BaseException:   # cancelled (the client left): the worker may still be busy
            self._replace(worker)
            raise
        if result is None:
            self._replace(worker)
            waited = time.monotonic() - started
            raise TimeLimitError(f"the derivation took longer than the time limit of "
                                 f"{self.time_limit:g} s (stopped after {waited:.1f} s); "
                                 f"try a smaller expression or no check")
        self._idle.put_nowait(worker)
        return result

    async def close(self) -> None:
        for worker in list(self._all | self._starting):
            worker.kill()
        self._all.clear()

    def pids(self) -> list[int]:
        return sorted(w.process.pid for w in self._all)


def default_size() -> int:
    return int(os.environ.get("MATDIFF_WEB_POOL", "2"))


def default_memory_mb() -> int:
    return int(os.environ.get("MATDIFF_WEB_MEMORY_MB", "1024"))


def default_time_limit() -> float:
    return float(os.environ.get("MATDIFF_WEB_TIME_LIMIT", "10"))
