"""The trainer's *Replay at another pace* tab: a view of `poise.app.replay.Replay`.

A recording at 0.70× to 1.30× in 0.05 steps, time-stretched with its pitch kept: both
sides, the agent only or the caller only (as the review's player), played through an
output device; the agent's articulation rate can be measured against the original's. The
slow parts (loading, stretching, measuring) run through `workers.run_in_background`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from poise.app.replay import REPLAY_RATES, Replay, ReplayPace, replay_rate
from poise.audio.player import Listen
from poise.audio.coach import wpm_from_rate
from poise.audio.sources import LoadedCall
from poise.desktop.widgets import card, status_label
from poise.desktop.workers import run_in_background
from poise.report.format import fmt_length

LISTEN_CHOICES = [(Listen.BOTH, "Both sides"), (Listen.AGENT, "Agent only"), (Listen.CALLER, "Caller only")]  # as the review's
SIDE_WORDS = {Listen.BOTH: "both sides", Listen.AGENT: "the agent side", Listen.CALLER: "the caller side"}


class ReplayTab(QWidget):
    """A recording (both sides, the agent or the caller) played at another pace with its pitch kept."""

    def __init__(self, output_device: str | int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.output_device = output_device
        self.replay: Replay | None = None
        self.rate = 1.0
        self.listen = Listen.BOTH  # what plays
        self._chosen = Listen.BOTH  # what was picked (a one-sided recording plays its agent side instead)
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
            button.setText(_rate_text(rate))
            button.setToolTip(f"Play at {rate:.0%} of the recorded pace, at its own pitch")
            button.setCheckable(True)
            button.setChecked(rate == 1.0)
            self.speed_group.addButton(button)
            button.clicked.connect(lambda _=False, r=rate: self.set_rate(r))
            speeds.addWidget(button)
        speeds.addStretch(1)
        self.listen_combo = QComboBox()
        for listen, label in LISTEN_CHOICES:
            self.listen_combo.addItem(label, listen.value)
        self.listen_combo.setToolTip("Which side of the call you hear")
        self.listen_combo.currentIndexChanged.connect(lambda _i: self.set_listen(self.listen_combo.currentData()))

        self.play_button = QPushButton("Play", objectName="startButton")
        self.play_button.clicked.connect(self.play)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.analyse_button = QPushButton("Analyse this pace")
        self.analyse_button.clicked.connect(self.analyse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.stop_button)
        buttons.addSpacing(12)
        buttons.addWidget(QLabel("Hear", objectName="fieldLabel"))
        buttons.addWidget(self.listen_combo)
        buttons.addStretch(1)
        buttons.addWidget(self.analyse_button)

        self.status = status_label()
        self.status.setText("Open a recorded call; it plays at the speed you pick, at its own pitch.")
        self.original_value = QLabel("—", objectName="paceValue")
        self.original_note = QLabel("", objectName="hint")
        self.stretched_value = QLabel("—", objectName="paceValue")
        self.stretched_note = QLabel("", objectName="hint")
        cards = QHBoxLayout()
        for title, value, note in (
            ("Agent's articulation, original", self.original_value, self.original_note),
            ("Agent's articulation at this speed", self.stretched_value, self.stretched_note),
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
        sides = "two sides" if replay.has_caller else "one side"
        self.file_label.setText(f"{Path(replay.call.info.path).name} · {fmt_length(replay.call.duration_s)} · {sides}")
        self.status.setText("Pick a speed and press Play.")
        self._enable()
        self.set_listen(self._chosen)

    def set_rate(self, rate: float) -> None:
        """Choose the playback speed (one of REPLAY_RATES); the next Play uses it."""
        rate = replay_rate(rate)
        self.rate = rate
        for button in self.speed_group.buttons():
            button.setChecked(button.text() == _rate_text(rate))
        measured = self.replay.measured(rate) if self.replay is not None else None
        self.stretched_value.setText(_fmt_rate(measured))
        self.stretched_note.setText("")

    def set_listen(self, value: Listen | str) -> None:
        """Both sides, the agent only or the caller only (a one-sided recording: its agent side); the next Play uses it."""
        self._chosen = listen = Listen(value)
        if self.replay is not None:
            listen = self.replay.side(listen)
        self.listen = listen
        index = self.listen_combo.findData(listen.value)
        if index != self.listen_combo.currentIndex():
            self.listen_combo.blockSignals(True)
            self.listen_combo.setCurrentIndex(index)
            self.listen_combo.blockSignals(False)

    def stretched(self, rate: float, listen: Listen | str | None = None) -> np.ndarray:
        """The chosen side(s) at `rate` (cached; computed on the calling thread)."""
        assert self.replay is not None
        return self.replay.stretched(rate, self.listen if listen is None else listen)

    def play(self) -> None:
        """Play the agent side at the chosen speed; never blocks the UI."""
        replay = self.replay
        if replay is None:
            self.status.setText("Open a recording first.")
            return
        rate, listen = self.rate, replay.side(self.listen)
        self.status.setText(f"Preparing {_rate_text(rate)}…")
        self._start_job(lambda: replay.play(rate, self.output_device, listen),
                        lambda played: self._playing(played, rate, listen))

    def _playing(self, played: tuple[str | None, float], rate: float, listen: Listen) -> None:
        error, seconds = played
        if error:
            self.status.setText(error)
        else:
            self.status.setText(f"Playing {SIDE_WORDS[listen]} at {_rate_text(rate)} ({fmt_length(seconds)}).")

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
                f"about {wpm_from_rate(stretched):.0f} wpm while speaking; {pace.change_pct:+.0f} % at {_rate_text(pace.rate)}"
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
        two_sided = self.replay is not None and self.replay.has_caller
        self.listen_combo.setEnabled(two_sided)
        self.listen_combo.setToolTip("Which side of the call you hear" if two_sided or not loaded
                                     else "This recording has one side: the agent's")


def _rate_text(rate: float) -> str:
    """A speed as its button reads: '0.75×', '1×', '1.3×'."""
    return f"{rate:g}×"


def _fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}"
