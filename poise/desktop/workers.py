"""The desktop's one way to run work off the UI thread and get its results back onto it.

`run_in_background(fn, done=, failed=, owner=)` runs `fn` on a daemon thread; `done(result)`
or `failed(sentence)` then run on the UI thread. `on_ui_thread(fn, owner=)` queues any
callable to the UI thread from any thread (the app layer's call-state callbacks use it).
Both go through one relay QObject that lives on the UI thread, so Qt queues the calls
to it; a callback whose `owner` widget was deleted meanwhile is dropped.
(Engine events take the other road, `SessionBridge`, one signal per event type.)
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal

from poise.app.errors import describe

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Relay(QObject):
    """Lives on the UI thread; each emit of `call` runs its callable there."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run)

    def _run(self, fn: Callable[[], None]) -> None:
        fn()


_relay: _Relay | None = None
_relay_lock = threading.Lock()


def _ui_relay() -> _Relay:
    global _relay
    with _relay_lock:
        if _relay is None or not shiboken6.isValid(_relay):
            app = QCoreApplication.instance()
            if app is None:
                raise RuntimeError("the Qt application must exist before background work reports to it")
            _relay = _Relay()
            _relay.moveToThread(app.thread())  # made on any thread, always delivered on the UI thread
        return _relay


def on_ui_thread(fn: Callable[[], None], owner: QObject | None = None) -> None:
    """Run `fn()` on the UI thread, soon (queued; from the UI thread too). Dropped if `owner` is gone."""

    def guarded() -> None:
        if owner is None or shiboken6.isValid(owner):
            fn()

    _ui_relay().call.emit(guarded)


def run_in_background(
    fn: Callable[[], T],
    *,
    done: Callable[[T], Any] | None = None,
    failed: Callable[[str], Any] | None = None,
    owner: QObject | None = None,
    name: str = "poise-job",
) -> threading.Thread:
    """Run `fn()` on a new daemon thread; its result goes to `done`, a failure (one sentence) to `failed`."""
    _ui_relay()  # made now, on the caller's thread, before the worker needs it

    def work() -> None:
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - reported as one sentence
            log.warning("background job %s failed", name, exc_info=True)
            if failed is not None:
                sentence = describe(exc)
                on_ui_thread(lambda: failed(sentence), owner)
            return
        if done is not None:
            on_ui_thread(lambda: done(result), owner)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread


__all__ = ["on_ui_thread", "run_in_background"]
