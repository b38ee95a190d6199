"""The trainer's *Replay at another pace* tab: a view of `poise.app.replay.Replay`.

The agent side of a recording, time-stretched with its pitch kept, played through an
output device; its articulation rate can be measured against the original's. The
slow parts (loading, stretching, measuring) run through `workers.run_in_background`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QFileDialog, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from poise.app.replay import REPLAY_RATES, Replay, ReplayPace
from poise.audio.coach import wpm_from_rate
from poise.audio.sources import LoadedCall
from poise.desktop.widgets import card, status_label
from poise.desktop.workers import run_in_background
from poise.report.format import fmt_duration


class ReplayTab(QWidget):
    """The agent side of a recording, played at another pace with its pitch kept."""

    def __init__(self, output_device: str | int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.output_device = output_device
        self.replay: Replay | None = None
        self.rate = 1.0
        self._jobs: set[threading.Thread] = set()

        self.open_button = QPushButton("Open recording…")
        self.open_button.clicked.connect(self.open_dialog)
        self.file_label = QLabel("No recording open.", objectName="hint")
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.file_label, 1)

        self.speed_group = QButtonGroup(self)
        self.speed_group.setExclusive(True)
        speeds = QHBoxLayout()
        speeds.addWidget(QLabel("Speed", objectName="fieldLabel"))
        for rate in REPLAY_RATES:
            button = QToolButton()
            button.setText(f"{rate:g}×")
            button.setCheckable(True)
            button.setChecked(rate == 1.0)
            self.speed_group.addButton(button)
            button.clicked.connect(lambda _=False, r=rate: self.set_rate(r))
            speeds.addWidget(button)
        speeds.addStretch(1)

        self.play_button = QPushButton("Play", objectName="startButton")
        self.play_button.clicked.connect(self.play)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.analyse_button = QPushButton("Analyse this pace")
        self.analyse_button.clicked.connect(self.analyse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.analyse_button)

        self.status = status_label()
        self.status.setText("Open a recorded call; its agent side plays at the speed you pick, at its own pitch.")
        self.original_value = QLabel("—", objectName="paceValue")
        self.original_note = QLabel("", objectName="hint")
        self.stretched_value = QLabel("—", objectName="paceValue")
        self.stretched_note = QLabel("", objectName="hint")
        cards = QHBoxLayout()
        for title, value, note in (
            ("Original articulation", self.original_value, self.original_note),
            ("At this speed", self.stretched_value, self.stretched_note),
        ):
            frame, lay = card(title)
            row = QHBoxLayout()
            row.addWidget(value)
            row.addWidget(QLabel("syll/s", objectName="paceUnit"), 0, Qt.AlignmentFlag.AlignBottom)
            row.addStretch(1)
            lay.addLayout(row)
            lay.addWidget(note)
            cards.addWidget(frame)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addLayout(speeds)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addLayout(cards)
        layout.addStretch(1)
        self._enable()

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a recorded call", "", "Recordings (*.wav *.flac *.ogg *.opus *.mp3);;All files (*)"
        )
        if path:
            self.open_recording(path)

    @property
    def call(self) -> LoadedCall | None:
        """The open recording."""
        return self.replay.call if self.replay is not None else None

    def open_recording(self, path: str | Path) -> None:
        """Load a recording on a worker thread (bad files are reported in one sentence)."""
        self.stop()
        self.status.setText(f"Opening {Path(path).name}…")
        self._start_job(lambda: Replay.load(path), self._loaded)

    def _loaded(self, replay: Replay) -> None:
        self.replay = replay
        for label in (self.original_value, self.stretched_value):
            label.setText("—")
        for label in (self.original_note, self.stretched_note):
            label.setText("")
        self.file_label.setText(f"{Path(replay.call.info.path).name} · {fmt_duration(replay.call.duration_s)}")
        self.status.setText("Pick a speed and press Play.")
        self._enable()

    def set_rate(self, rate: float) -> None:
        """Choose the playback speed (one of REPLAY_RATES); playback restarts at it if running."""
        self.rate = rate
        for button in self.speed_group.buttons():
            button.setChecked(button.text() == f"{rate:g}×")
        measured = self.replay.measured(rate) if self.replay is not None else None
        self.stretched_value.setText(_fmt_rate(measured))
        self.stretched_note.setText("")

    def stretched(self, rate: float) -> np.ndarray:
        """The agent side at `rate` (cached; computed on the calling thread)."""
        assert self.replay is not None
        return self.replay.stretched(rate)

    def play(self) -> None:
        """Play the agent side at the chosen speed; never blocks the UI."""
        replay = self.replay
        if replay is None:
            self.status.setText("Open a recording first.")
            return
        rate = self.rate
        self.status.setText(f"Preparing {rate:g}×…")
        self._start_job(lambda: replay.play(rate, self.output_device), lambda played: self._playing(played, rate))

    def _playing(self, played: tuple[str | None, float], rate: float) -> None:
        error, seconds = played
        if error:
            self.status.setText(error)
        else:
            self.status.setText(f"Playing the agent side at {rate:g}× ({fmt_duration(seconds)}).")

    def stop(self) -> None:
        Replay.stop()
        if self.replay is not None:
            self.status.setText("Stopped.")

    def analyse(self) -> None:
        """Measure the articulation rate of the original and of the chosen speed (worker thread)."""
        replay = self.replay
        if replay is None:
            self.status.setText("Open a recording first.")
            return
        rate = self.rate
        self.status.setText("Measuring the pace…")
        self.analyse_button.setEnabled(False)
        self._start_job(lambda: replay.measure(rate), self._analysed)

    def _analysed(self, pace: ReplayPace) -> None:
        self._enable()
        original, stretched = pace.original_sps, pace.stretched_sps
        self.original_value.setText(_fmt_rate(original))
        self.original_note.setText(f"about {wpm_from_rate(original):.0f} wpm while speaking" if original else "too little speech")
        if pace.rate != self.rate:
            return
        self.stretched_value.setText(_fmt_rate(stretched))
        if pace.change_pct is not None and stretched:
            self.stretched_note.setText(
                f"about {wpm_from_rate(stretched):.0f} wpm while speaking; {pace.change_pct:+.0f} % at {pace.rate:g}×"
            )
        self.status.setText("Measured with the same engine as a live call (syllables per second of speech).")

    def _start_job(self, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        def done(result: Any) -> None:
            self._jobs.discard(thread)
            on_done(result)

        def failed(message: str) -> None:
            self._jobs.discard(thread)
            self._failed(message)

        thread = run_in_background(fn, done=done, failed=failed, owner=self, name="poise-trainer")
        self._jobs.add(thread)

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self._enable()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for running jobs (tests, closing)."""
        for thread in list(self._jobs):
            thread.join(timeout)

    def _enable(self) -> None:
        loaded = self.replay is not None
        for w in (self.play_button, self.stop_button, self.analyse_button):
            w.setEnabled(loaded)


def _fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}"
