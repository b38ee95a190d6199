"""The same batch on Ray: workers are actors that hold the model; results stream back to the one writer.

Needs the optional extra `poise[cluster]` (Ray). `--ray local` starts a private Ray on this
machine with one CPU per worker and stops it at the end; `--ray ADDRESS` joins a running
cluster (`ray start --head` on one node, `ray start --address ...` on the others), whose
nodes must have Poise installed and see the recordings at the same paths. Each actor takes
one call at a time; a call whose actor dies becomes a row with its reason and a fresh actor
takes over. The output folder, the manifest and history are written here, on the driver.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from .. import MALLOC_ARENAS
from .pool import POLL_S, BatchInterrupted, WorkerSetupError
from .work import CallDone, CallTask, WorkerSetup, analyse_call, prepare_worker, thread_env

RAY_EXTRA = "pip install 'poise[cluster]'"
RAY_MESSAGE_MAX = 160  # characters of Ray's own error message kept in the sentence
CONNECT_TIMEOUT_S = 5.0  # s to reach a cluster's head before saying it cannot be reached


class RayError(Exception):
    """Ray is not installed or cannot be reached; one sentence."""


class BatchActor:
    """A Ray actor: one worker process that loads the model once and analyses one call per call."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.problem = prepare_worker(setup)

    def ready(self) -> str | None:
        """None, or why the model cannot be used."""
        return self.problem

    def analyse(self, task: CallTask) -> CallDone:
        return analyse_call(task, self.setup)


def _check_reachable(address: str) -> None:
    """Raise RayError unless `host:port` takes a TCP connection within CONNECT_TIMEOUT_S
    ("auto" and "ray://" addresses are left to Ray)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayError(f"the Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379), 'auto' or 'local'.")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): check that `ray start --head` "
            "runs there and that this machine may connect to it, or use --ray local."
        ) from exc


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RayError(f"--ray needs Ray, which is not installed: {RAY_EXTRA} (or run without --ray).") from exc
    return ray


class RayRunner:
    """Runs calls on `workers` Ray actors (1 CPU each) on a local or remote cluster."""

    name = "ray"

    def __init__(self, setup: WorkerSetup, workers: int, address: str) -> None:
        self.setup = setup
        self.workers = workers
        self.address = address

    def _init(self, ray: Any) -> int:
        local = self.address == "local"
        # glibc reads MALLOC_ARENA_MAX at the process's start: Ray's own threads run before poise is imported in
        # an actor, so the cap poise sets at import (poise/__init__.py) comes too late there
        env = {**thread_env(self.setup.threads), "MALLOC_ARENA_MAX": str(MALLOC_ARENAS)}
        if not local:
            _check_reachable(self.address)  # ray.init retries an unreachable address for ever
        # a local Ray's processes start with SIGINT ignored: a Ctrl+C is the driver's to handle
        on_main = local and threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if on_main else None
        try:
            if local:
                ray.init(
                    num_cpus=max(1, self.workers), include_dashboard=False, log_to_driver=False,
                    logging_level=logging.WARNING, configure_logging=False,
                    runtime_env={"env_vars": env},
                )
            else:
                ray.init(
                    address=self.address, log_to_driver=False, logging_level=logging.WARNING,
                    configure_logging=False, runtime_env={"env_vars": env},
                )
        except Exception as exc:  # noqa: BLE001 - Ray's messages run to tracebacks: the first line, the rest to the log
            from ..app.errors import log_exception

            log_exception(exc)
            first = (str(exc).strip().splitlines() or [""])[0][:RAY_MESSAGE_MAX].rstrip(" .")
            raise RayError(
                f"could not start or reach Ray at {self.address!r} ({type(exc).__name__}{': ' + first if first else ''}); "
                "details are in Poise's log."
            ) from exc
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if self.workers:
            return self.workers
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return max(1, cpus // max(1, self.setup.threads))

    def run(self, tasks: Iterable[CallTask], on_done: Callable[[CallDone], None], cancel: threading.Event) -> None:
        """As ProcessPoolRunner.run: `on_done` here for each call; BatchInterrupted on cancel."""
        ray = _import_ray()
        pending = deque(tasks)
        if not pending:
            return
        started_here = not ray.is_initialized()
        if started_here:
            count = self._init(ray)
        else:
            count = self.workers or 1
        self.workers = count
        remote_actor = ray.remote(num_cpus=1, max_restarts=0)(BatchActor)
        actors: list[Any] = []
        try:
            actors = [remote_actor.remote(self.setup) for _ in range(min(count, len(pending)))]
            for problem in ray.get([a.ready.remote() for a in actors]):
                if problem:
                    raise WorkerSetupError(problem)
            in_flight: dict[Any, tuple[Any, CallTask]] = {}

            def give(actor: Any) -> None:
                task = pending.popleft()
                in_flight[actor.analyse.remote(task)] = (actor, task)

            for actor in list(actors):
                if pending:
                    give(actor)
            while in_flight:
                if cancel.is_set():
                    raise BatchInterrupted()
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=POLL_S)
                for ref in ready:
                    actor, task = in_flight.pop(ref)
                    try:
                        done = ray.get(ref)
                    except ray.exceptions.RayActorError:
                        done = CallDone(
                            key=task.key, ok=False,
                            error="the Ray worker analysing this call stopped unexpectedly; it may have run out of "
                            "memory: try it alone with `poise analyze`.",
                        )
                        actors.remove(actor)
                        actor = remote_actor.remote(self.setup)
                        actors.append(actor)
                    except ray.exceptions.RayError as exc:
                        done = CallDone(key=task.key, ok=False, error=f"Ray could not run this call ({type(exc).__name__}).")
                    on_done(done)
                    if pending and not cancel.is_set():
                        give(actor)
        finally:
            for actor in actors:
                try:
                    ray.kill(actor)
                except Exception:  # noqa: BLE001 - already gone
                    pass
            if started_here:
                ray.shutdown()


__all__ = ["RAY_EXTRA", "BatchActor", "RayError", "RayRunner"]
