"""N worker processes on this machine, each loading the model once; results come back to the caller.

Each worker is a fresh interpreter (forkserver where the system has it, else spawn: never a
fork of a process that may hold CTranslate2 or ONNX threads) talking over its own pipe: it
gets one call, sends back its `CallDone`, and gets the next. The parent sees a worker that
dies (out of memory, a crash in a native library) through the process's sentinel: that call
becomes a row with its reason and a fresh worker takes over. Workers ignore SIGINT: Ctrl+C is
the parent's, which ends them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import Any

from .work import CallDone, CallTask, WorkerSetup, analyse_call, prepare_worker, thread_env

POLL_S = 0.2  # s between checks of the cancel flag while waiting for results
STOP_WAIT_S = 5.0  # s a worker gets to leave after it is told to, before it is terminated


class BatchInterrupted(Exception):
    """The user stopped the batch (Ctrl+C); what was done so far is kept."""


class WorkerSetupError(Exception):
    """No worker can analyse anything (e.g. the Whisper model is missing); one sentence."""


def _worker_main(conn: Connection, setup: WorkerSetup) -> None:
    """A worker's life: prepare once, then one call per message until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn.send(("ready", prepare_worker(setup)))
        while True:
            task = conn.recv()
            if task is None:
                break
            conn.send(("done", analyse_call(task, setup)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):  # the parent is gone or stopping
        pass
    finally:
        conn.close()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class _Worker:
    def __init__(self, ctx: Any, setup: WorkerSetup) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, setup), name="poise-batch-worker", daemon=True)
        self.process.start()
        child.close()
        self.task: CallTask | None = None
        self.ready = False

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(STOP_WAIT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _start_quietly(ctx: Any, setup: WorkerSetup) -> _Worker:
    """Start a worker with SIGINT ignored from its first instruction (inherited through exec),
    so a Ctrl+C during its start-up never prints a traceback from the child."""
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if on_main else None
    saved = {k: os.environ.get(k) for k in thread_env(setup.threads)}
    os.environ.update({k: v for k, v in thread_env(setup.threads).items() if saved[k] is None})
    try:
        return _Worker(ctx, setup)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class ProcessPoolRunner:
    """Runs calls on `workers` local processes."""

    name = "process pool"

    def __init__(self, setup: WorkerSetup, workers: int) -> None:
        self.setup = setup
        self.workers = max(1, workers)

    def run(self, tasks: Iterable[CallTask], on_done: Callable[[CallDone], None], cancel: threading.Event) -> None:
        """Analyse `tasks`, calling `on_done` in this thread for each as it finishes.

        Raises BatchInterrupted when `cancel` is set (workers are ended first) and
        WorkerSetupError when a worker cannot load the model.
        """
        pending = deque(tasks)
        if not pending:
            return
        ctx = _context()
        pool: list[_Worker] = []
        try:
            for _ in range(min(self.workers, len(pending))):
                pool.append(_start_quietly(ctx, self.setup))
            while pool:
                if cancel.is_set():
                    raise BatchInterrupted()
                by_conn = {w.conn: w for w in pool}
                by_sentinel = {w.process.sentinel: w for w in pool}
                for ready in wait([*by_conn, *by_sentinel], timeout=POLL_S):
                    worker = by_conn.get(ready) or by_sentinel.get(ready)  # type: ignore[call-overload]
                    if worker is None or worker not in pool:
                        continue
                    message = None
                    if ready in by_conn:
                        try:
                            message = worker.conn.recv()
                        except (EOFError, OSError):
                            message = None
                    if message is None:  # the process died (or closed its pipe)
                        pool.remove(worker)
                        worker.kill()
                        if worker.task is not None:
                            code = worker.process.exitcode
                            on_done(CallDone(
                                key=worker.task.key, ok=False,
                                error=f"the worker analysing this call stopped unexpectedly (exit code {code}); "
                                "it may have run out of memory: try it alone with `poise analyze`.",
                            ))
                        elif not worker.ready:
                            raise WorkerSetupError("a batch worker could not start; see Poise's log for details.")
                        if pending:
                            pool.append(_start_quietly(ctx, self.setup))
                        continue
                    kind, payload = message
                    if kind == "ready":
                        if payload:  # the model cannot be used: no worker can do anything
                            raise WorkerSetupError(payload)
                        worker.ready = True
                    else:
                        worker.task = None
                        on_done(payload)
                    if pending and not cancel.is_set():
                        worker.task = pending.popleft()
                        worker.conn.send(worker.task)
                    else:
                        worker.stop()
                        pool.remove(worker)
                        worker.process.join(STOP_WAIT_S)
                        worker.kill()
        finally:
            for worker in pool:  # on Ctrl+C or an error: end them now, mid-call or not
                worker.kill()


__all__ = ["BatchInterrupted", "ProcessPoolRunner", "WorkerSetupError", "default_workers"]
