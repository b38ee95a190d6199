"""Session events → Qt signals: the hop from the pipeline's worker thread to the UI thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from poise.audio.types import Cue, Meters, Segment, Status


class SessionBridge(QObject):
    """Re-emits a session's events as Qt signals.

    The session calls the listener on its worker thread; the listener does nothing
    but emit. Because this object lives on the UI thread, Qt queues each signal to
    it, so connected slots run on the UI thread.
    """

    cue = Signal(object)  # Cue
    segment = Signal(object)  # Segment
    meters = Signal(object)  # Meters
    status = Signal(object)  # Status
    finished = Signal()

    def attach(self, session: Any) -> None:
        """Subscribe to `session` (anything with `subscribe(listener)`)."""
        session.subscribe(self.emit_event)

    def emit_event(self, event: object) -> None:
        """Route one engine event to its signal; safe to call from any thread."""
        if isinstance(event, Meters):
            self.meters.emit(event)
        elif isinstance(event, Cue):
            self.cue.emit(event)
        elif isinstance(event, Segment):
            self.segment.emit(event)
        elif isinstance(event, Status):
            self.status.emit(event)

    def emit_finished(self) -> None:
        """Tell the UI the run is over; meant as a `SessionRunner.on_finished` callback."""
        self.finished.emit()
