"""The trainer's window: read a script at a target pace, replay a call at other paces, trends per agent.

Three tabs:

- *Read at pace*: a teleprompter highlight advances word by word at the target pace
  while the reader's live pace (the same `Session` as a live call, fed by the
  microphone on a worker thread) is shown against the target.
- *Replay at another pace*: the agent side of a recording, time-stretched with its
  pitch kept (`poise.audio.tempo`), played through the default output device; its
  articulation rate can be measured against the original's.
- *Trends*: pace and cue count per call for one agent, from the history.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from poise.audio.coach import wpm_from_rate
from poise.app.errors import describe
from poise.audio.session import Session, SessionRunner
from poise.audio.sources import LoadedCall, load_call
from poise.audio.store import HistoryStore, StoreError
from poise.audio.tempo import articulation_rate, time_stretch
from poise.audio.types import SAMPLE_RATE, Block, Meters, Status
from poise.desktop.bridge import SessionBridge
from poise.report.format import fmt_duration
from poise.desktop.live_view import AGENT_COLOR, CUE_COLOR, MUTED_TEXT, PaceGauge, _card

log = logging.getLogger("poise")

SourceFactory = Callable[[], Iterable[Block]]

TARGET_WPM_DEFAULT = 150  # wpm: the top of comfortable phone pace, pauses included
TARGET_WPM_RANGE = (90, 220)  # wpm: from deliberately slow to a nervous rush
PACE_TOLERANCE = 0.10  # ±10 % of the target counts as on pace (~the smallest tempo change a listener notices)
REPLAY_RATES = (0.8, 1.0, 1.25, 1.5)  # playback speeds offered: a noticeable step either way of normal
SCRIPT_POINT_SIZE = 22  # pt: readable from arm's length while speaking

READ_COLOR = QColor("#a3aaae")  # words already read fade back
CURRENT_BG = QColor("#e3efe9")  # the word to say now

DEFAULT_SCRIPT = (
    "Thank you for calling, my name is Sam. I'm sorry you've had trouble with your order, "
    "and I'm going to help you sort it out today.\n\n"
    "Let me make sure I have this right. Your parcel was due on Monday, it hasn't arrived, "
    "and the tracking page hasn't changed since Friday. I can hear how frustrating that is.\n\n"
    "Here is what I'll do. I'm checking with the carrier now, while you're on the line. "
    "If the parcel is lost, I'll send a replacement today by express delivery, at no cost to you.\n\n"
    "You'll get an email with the new tracking number within the hour. "
    "Is there anything else I can help you with while I have you?"
)

NO_OUTPUT = "No sound output device is available; connect speakers or headphones and try again."


def pace_verdict(wpm: float | None, target: float) -> str:
    """The verdict ("On pace", "Too fast", "Too slow") against `target` ±10 %; "" while there is no pace."""
    if wpm is None:
        return ""
    if wpm > target * (1 + PACE_TOLERANCE):
        return "Too fast"
    if wpm < target * (1 - PACE_TOLERANCE):
        return "Too slow"
    return "On pace"


def default_source_factory() -> Iterable[Block]:
    """The agent's microphone from the settings (raises AudioInputError when it cannot be opened)."""
    from poise.audio.capture import LiveSource
    from poise.desktop.settings import Settings

    return LiveSource(Settings().agent_device or None)


def play_audio(samples: np.ndarray, device: str | int | None = None) -> str | None:
    """Start playing 16 kHz mono `samples` on `device` (None = the default output) without
    blocking; returns None, or one sentence saying why nothing plays."""
    try:
        import sounddevice as sd
    except OSError:  # no PortAudio library at all
        return NO_OUTPUT
    try:
        info = sd.query_devices(device, kind="output")
    except ValueError:
        if device not in (None, ""):
            return f"The output device “{device}” was not found; choose another one or leave it empty for the default."
        return NO_OUTPUT
    except sd.PortAudioError:
        return NO_OUTPUT
    if int(info.get("max_output_channels", 0)) < 1:
        return f"“{info['name']}” cannot play sound; choose an output device such as speakers or headphones."
    rate = SAMPLE_RATE
    try:
        sd.check_output_settings(device=info["index"], samplerate=rate, channels=1)
    except (ValueError, sd.PortAudioError):
        import soxr

        rate = int(info["default_samplerate"])
        samples = soxr.resample(samples, SAMPLE_RATE, rate)
    try:
        sd.play(np.asarray(samples, np.float32), rate, device=info["index"])
    except (ValueError, sd.PortAudioError):
        return f"Poise could not play through “{info['name']}”; check that it is connected and not used by another program."
    return None


def stop_audio() -> None:
    """Stop what `play_audio` started (nothing happens when nothing plays)."""
    try:
        import sounddevice as sd

        sd.stop()
    except Exception:
        log.debug("stopping playback failed", exc_info=True)


class _Job(QObject):
    """Runs a function on a worker thread and hands its result back on the UI thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.thread = threading.Thread(target=self._run, name="poise-trainer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - reported as a sentence on the UI thread
            self.failed.emit(describe(exc))
            return
        self.done.emit(result)


def _status_label() -> QLabel:
    label = QLabel("", objectName="hint")
    label.setWordWrap(True)
    return label


# --------------------------------------------------------------------------- read at pace


class ReadAtPaceTab(QWidget):
    """A script read aloud at a target pace, with the reader's live pace against it."""

    def __init__(self, source_factory: SourceFactory | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_factory = source_factory or default_source_factory
        self.runner: SessionRunner | None = None
        self.bridge: SessionBridge | None = None
        self.words: list[tuple[int, int]] = []  # (start, end) character positions of each word
        self.word_index = -1
        self.last_wpm: float | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._advance)

        self.script = QTextEdit(objectName="script")
        self.script.setAcceptRichText(False)
        self.script.setPlainText(DEFAULT_SCRIPT)
        # the app stylesheet sets 13px on every widget, so the script's size goes in a stylesheet too
        self.script.setStyleSheet(
            f"QTextEdit {{ background: #ffffff; border: none; padding: 12px; font-size: {SCRIPT_POINT_SIZE}pt; }}"
        )

        self.target = QSpinBox()
        self.target.setRange(*TARGET_WPM_RANGE)
        self.target.setValue(TARGET_WPM_DEFAULT)
        self.target.setSuffix(" wpm")
        self.target.setSingleStep(5)
        self.target.valueChanged.connect(self._target_changed)
        self.start_button = QPushButton("Start", objectName="startButton")
        self.start_button.clicked.connect(self.toggle)

        top = QHBoxLayout()
        top.addWidget(QLabel("Target pace", objectName="fieldLabel"))
        top.addWidget(self.target)
        top.addStretch(1)
        top.addWidget(self.start_button)

        self.pace_value = QLabel("—", objectName="paceValue")
        self.verdict = QLabel("", objectName="clock")
        self.pitch_value = QLabel("", objectName="hint")
        self.gauge = PaceGauge()
        self.status = _status_label()
        self.status.setText("Press Start and read the highlighted words as they come.")
        pace_card, pace_layout = _card("Your pace")
        row = QHBoxLayout()
        row.addWidget(self.pace_value)
        row.addWidget(QLabel("wpm", objectName="paceUnit"), 0, Qt.AlignmentFlag.AlignBottom)
        row.addSpacing(18)
        row.addWidget(self.verdict, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        row.addWidget(self.pitch_value, 0, Qt.AlignmentFlag.AlignBottom)
        pace_layout.addLayout(row)
        pace_layout.addWidget(self.gauge)
        pace_layout.addWidget(self.status)
        self._target_changed(self.target.value())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.script, 1)
        layout.addWidget(pace_card)

    # state ------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.timer.isActive() or (self.runner is not None and self.runner.is_running())

    def current_word(self) -> str | None:
        """The word highlighted now (None before Start)."""
        if not 0 <= self.word_index < len(self.words):
            return None
        start, end = self.words[self.word_index]
        return self.script.toPlainText()[start:end]

    def toggle(self) -> None:
        if self.is_running():
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        """Start the highlight and the live pace; a source that cannot open is reported in one sentence."""
        text = self.script.toPlainText()
        self.words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        if not self.words:
            self.status.setText("Type or paste a script to read first.")
            return
        try:
            source = self.source_factory()
        except Exception as exc:  # noqa: BLE001 - a device that will not open is the user's to fix
            self.status.setText(describe(exc))
            return
        session = Session(has_caller=False)
        self.bridge = SessionBridge(self)
        self.bridge.meters.connect(self.on_meters)
        self.bridge.status.connect(self.on_status)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.attach(session)
        self.runner = SessionRunner(source, session)
        self.runner.on_finished = self.bridge.emit_finished
        self.runner.start()
        self.last_wpm = None
        self.pace_value.setText("—")
        self.verdict.setText("")
        self.pitch_value.setText("")
        self.gauge.set_value(None)
        self.status.setText("Listening… read the highlighted word as it comes.")
        self.script.setReadOnly(True)
        self.word_index = 0
        self._show_highlight()
        self.timer.start(self._interval_ms())
        self._set_running(True)

    def stop(self) -> None:
        """Stop the highlight and the microphone."""
        self.timer.stop()
        if self.runner is not None:
            self.runner.stop()
        self.script.setReadOnly(False)
        self._set_running(False)

    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop and wait for the pipeline thread (window closing)."""
        self.stop()
        if self.runner is not None:
            self.runner.join(timeout)

    # slots ------------------------------------------------------------------------------
    def on_meters(self, m: Meters) -> None:
        wpm = m.agent_wpm_est
        if m.agent_pitch_hz is not None:
            self.pitch_value.setText(f"pitch {m.agent_pitch_hz:.0f} Hz")
        if wpm is None:
            return
        self.last_wpm = wpm
        self.pace_value.setText(f"{wpm:.0f}")
        self.gauge.set_value(wpm)
        verdict = pace_verdict(wpm, self.target.value())
        self.verdict.setText(verdict)
        color = AGENT_COLOR if verdict == "On pace" else CUE_COLOR
        self.verdict.setStyleSheet(f"color: {color.name()};")

    def on_status(self, s: Status) -> None:
        self.status.setText(s.message)

    def _on_finished(self) -> None:
        if self.sender() is not self.bridge:
            return  # a previous run ending late
        self.timer.stop()
        self.script.setReadOnly(False)
        self._set_running(False)
        if self.runner is not None and self.runner.error:
            self.status.setText(self.runner.error)

    def _advance(self) -> None:
        self.word_index += 1
        if self.word_index >= len(self.words):
            self.stop()
            self.status.setText("End of the script.")
            return
        self._show_highlight()

    # helpers ----------------------------------------------------------------------------
    def _interval_ms(self) -> int:
        return max(1, round(60_000 / self.target.value()))

    def _target_changed(self, value: int) -> None:
        self.gauge.set_band(value * (1 - PACE_TOLERANCE), value * (1 + PACE_TOLERANCE))
        if self.timer.isActive():
            self.timer.setInterval(self._interval_ms())
        if self.last_wpm is not None:
            self.verdict.setText(pace_verdict(self.last_wpm, value))

    def _show_highlight(self) -> None:
        start, end = self.words[self.word_index]
        done = QTextEdit.ExtraSelection()
        done.cursor = QTextCursor(self.script.document())
        done.cursor.setPosition(0)
        done.cursor.setPosition(start, QTextCursor.MoveMode.KeepAnchor)
        done.format = QTextCharFormat()
        done.format.setForeground(QBrush(READ_COLOR))
        now = QTextEdit.ExtraSelection()
        now.cursor = QTextCursor(self.script.document())
        now.cursor.setPosition(start)
        now.cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        now.format = QTextCharFormat()
        now.format.setBackground(QBrush(CURRENT_BG))
        now.format.setFontWeight(QFont.Weight.DemiBold)
        self.script.setExtraSelections([done, now])
        cursor = QTextCursor(self.script.document())
        cursor.setPosition(end)
        self.script.setTextCursor(cursor)
        self.script.ensureCursorVisible()

    def _set_running(self, running: bool) -> None:
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setProperty("running", "true" if running else "false")
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)


# --------------------------------------------------------------------------- replay


class ReplayTab(QWidget):
    """The agent side of a recording, played at another pace with its pitch kept."""

    def __init__(self, output_device: str | int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.output_device = output_device
        self.call: LoadedCall | None = None
        self.rate = 1.0
        self._stretched: dict[float, np.ndarray] = {}
        self._rates: dict[float, float | None] = {}  # articulation rate (syll/s) per playback speed
        self._jobs: set[_Job] = set()

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

        self.status = _status_label()
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
            card, lay = _card(title)
            row = QHBoxLayout()
            row.addWidget(value)
            row.addWidget(QLabel("syll/s", objectName="paceUnit"), 0, Qt.AlignmentFlag.AlignBottom)
            row.addStretch(1)
            lay.addLayout(row)
            lay.addWidget(note)
            cards.addWidget(card)

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

    def open_recording(self, path: str | Path) -> None:
        """Load a recording on a worker thread (bad files are reported in one sentence)."""
        self.stop()
        self.status.setText(f"Opening {Path(path).name}…")
        self._start_job(lambda: load_call(path), self._loaded)

    def _loaded(self, call: LoadedCall) -> None:
        self.call = call
        self._stretched = {1.0: call.agent}
        self._rates = {}
        self.original_value.setText("—")
        self.stretched_value.setText("—")
        self.original_note.setText("")
        self.stretched_note.setText("")
        self.file_label.setText(f"{Path(call.info.path).name} · {fmt_duration(call.duration_s)}")
        self.status.setText("Pick a speed and press Play.")
        self._enable()

    def set_rate(self, rate: float) -> None:
        """Choose the playback speed (one of REPLAY_RATES); playback restarts at it if running."""
        self.rate = rate
        for button in self.speed_group.buttons():
            button.setChecked(button.text() == f"{rate:g}×")
        self.stretched_value.setText(_fmt_rate(self._rates.get(rate)) if rate in self._rates else "—")
        self.stretched_note.setText("")

    def stretched(self, rate: float) -> np.ndarray:
        """The agent side at `rate` (cached; computed on the calling thread)."""
        assert self.call is not None
        if rate not in self._stretched:
            self._stretched[rate] = time_stretch(self.call.agent, rate)
        return self._stretched[rate]

    def play(self) -> None:
        """Play the agent side at the chosen speed; never blocks the UI."""
        if self.call is None:
            self.status.setText("Open a recording first.")
            return
        rate = self.rate
        self.status.setText(f"Preparing {rate:g}×…")
        self._start_job(lambda: self.stretched(rate), lambda y: self._play_ready(y, rate))

    def _play_ready(self, samples: np.ndarray, rate: float) -> None:
        error = play_audio(samples, self.output_device)
        if error:
            self.status.setText(error)
        else:
            self.status.setText(f"Playing the agent side at {rate:g}× ({fmt_duration(len(samples) / SAMPLE_RATE)}).")

    def stop(self) -> None:
        stop_audio()
        if self.call is not None:
            self.status.setText("Stopped.")

    def analyse(self) -> None:
        """Measure the articulation rate of the original and of the chosen speed (worker thread)."""
        if self.call is None:
            self.status.setText("Open a recording first.")
            return
        rate = self.rate
        self.status.setText("Measuring the pace…")
        self.analyse_button.setEnabled(False)

        def work() -> tuple[float, float | None, float | None]:
            if 1.0 not in self._rates:
                self._rates[1.0] = articulation_rate(self.stretched(1.0))
            if rate not in self._rates:
                self._rates[rate] = articulation_rate(self.stretched(rate))
            return rate, self._rates[1.0], self._rates[rate]

        self._start_job(work, self._analysed)

    def _analysed(self, result: tuple[float, float | None, float | None]) -> None:
        rate, original, stretched = result
        self._enable()
        self.original_value.setText(_fmt_rate(original))
        self.original_note.setText(f"about {wpm_from_rate(original):.0f} wpm while speaking" if original else "too little speech")
        if rate != self.rate:
            return
        self.stretched_value.setText(_fmt_rate(stretched))
        if original and stretched:
            change = (stretched / original - 1) * 100
            self.stretched_note.setText(
                f"about {wpm_from_rate(stretched):.0f} wpm while speaking; {change:+.0f} % at {rate:g}×"
            )
        self.status.setText("Measured with the same engine as a live call (syllables per second of speech).")

    def _start_job(self, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        job = _Job(fn, self)
        self._jobs.add(job)
        job.done.connect(on_done)
        job.failed.connect(self._failed)
        job.done.connect(lambda _: self._jobs.discard(job))
        job.failed.connect(lambda _: self._jobs.discard(job))
        job.start()

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self._enable()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for running jobs (tests, closing)."""
        for job in list(self._jobs):
            job.thread.join(timeout)

    def _enable(self) -> None:
        loaded = self.call is not None
        for w in (self.play_button, self.stop_button, self.analyse_button):
            w.setEnabled(loaded)


def _fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}"


# --------------------------------------------------------------------------- trends


class _IndexAxis(pg.AxisItem):
    """Call numbers on the x axis labelled with their dates."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.labels: list[str] = []

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            i = round(v)
            out.append(self.labels[i] if abs(v - i) < 1e-6 and 0 <= i < len(self.labels) else "")
        return out


class TrendsTab(QWidget):
    """Pace and cue count per call for one agent, oldest first."""

    COLUMNS = ("Date", "Length", "Pace (wpm)", "Articulation (syll/s)", "Pitch (Hz)", "Cues")

    def __init__(self, agent: str, history: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self.rows: list[dict[str, Any]] = []
        self.agent_edit = QLineEdit(agent)
        self.agent_edit.setPlaceholderText("agent name")
        self.agent_edit.returnPressed.connect(self.refresh)
        show = QPushButton("Show")
        show.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("Agent", objectName="fieldLabel"))
        top.addWidget(self.agent_edit)
        top.addWidget(show)
        top.addStretch(1)

        self.pace_axis, self.cue_axis = _IndexAxis(), _IndexAxis()
        self.pace_plot = self._plot("Pace per call (wpm)", self.pace_axis)
        self.cue_plot = self._plot("Cues per call", self.cue_axis)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setStyleSheet("QTableWidget { background: #ffffff; border: none; gridline-color: #f0ede6; }")

        content = QWidget()
        c = QVBoxLayout(content)
        c.setContentsMargins(0, 0, 0, 0)
        plots = QHBoxLayout()
        plots.addWidget(self.pace_plot)
        plots.addWidget(self.cue_plot)
        c.addLayout(plots, 3)
        c.addWidget(self.table, 2)
        self.empty = QLabel("No calls yet", objectName="hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(content)
        self.status = _status_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)

    @staticmethod
    def _plot(title: str, axis: _IndexAxis) -> pg.PlotWidget:
        plot = pg.PlotWidget(axisItems={"bottom": axis}, background="#ffffff")
        plot.setTitle(title, color=MUTED_TEXT.name(), size="10pt")
        plot.showGrid(y=True, alpha=0.15)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        for name in ("left", "bottom"):
            plot.getAxis(name).setPen(pg.mkPen("#c5cacd"))
            plot.getAxis(name).setTextPen(pg.mkPen(MUTED_TEXT))
        return plot

    def agent(self) -> str:
        return self.agent_edit.text().strip() or "default"

    def refresh(self) -> None:
        """Read the agent's calls from the history and redraw."""
        try:
            store = self._history or HistoryStore()
            try:
                self.rows = store.trends(self.agent())
            finally:
                if self._history is None:
                    store.close()
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        self._draw()

    def _draw(self) -> None:
        rows = self.rows
        self.stack.setCurrentIndex(1 if rows else 0)
        self.empty.setText(f"No calls yet for “{self.agent()}”.")
        labels = [str(r.get("started_at") or "")[5:10].replace("-", "/") for r in rows]
        self.pace_axis.labels = self.cue_axis.labels = labels
        xs = np.arange(len(rows), dtype=float)
        paces = [_pace(r)[0] for r in rows]
        self.pace_plot.clear()
        self.cue_plot.clear()
        if rows:
            ys = np.array([np.nan if p is None else p for p in paces], float)
            self.pace_plot.plot(
                xs, ys, pen=pg.mkPen(AGENT_COLOR, width=2), symbol="o", symbolSize=7,
                symbolBrush=AGENT_COLOR, symbolPen=None, connect="finite",
            )
            self.cue_plot.addItem(
                pg.BarGraphItem(x=xs, height=[r.get("cue_count") or 0 for r in rows], width=0.6, brush=CUE_COLOR, pen=None)
            )
            for plot in (self.pace_plot, self.cue_plot):
                plot.setXRange(-0.6, len(rows) - 0.4, padding=0)
            self.cue_plot.setYRange(0, max(3, max(r.get("cue_count") or 0 for r in rows) + 1), padding=0)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(reversed(rows)):  # newest on top
            pace, estimated = _pace(r)
            cells = (
                str(r.get("started_at") or "")[:16].replace("T", " "),
                fmt_duration(r.get("duration_s") or 0.0),
                "—" if pace is None else f"{pace:.0f}" + (" (est.)" if estimated else ""),
                "—" if r.get("articulation_rate_sps") is None else f"{r['articulation_rate_sps']:.1f}",
                "—" if r.get("pitch_median_hz") is None else f"{r['pitch_median_hz']:.0f}",
                str(r.get("cue_count") or 0),
            )
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))


def _pace(row: dict[str, Any]) -> tuple[float | None, bool]:
    """(wpm, estimated): the transcript's wpm, else the articulation rate's estimate."""
    if row.get("wpm") is not None:
        return float(row["wpm"]), False
    if row.get("articulation_rate_sps") is not None:
        return wpm_from_rate(float(row["articulation_rate_sps"])), True
    return None, False


# --------------------------------------------------------------------------- window


class TrainerWindow(QMainWindow):
    """Poise — trainer: read at pace, replay at another pace, trends per agent.

    `source_factory` makes the audio source for *Read at pace* (default: the agent
    microphone from the settings); `output_device` names the playback device
    (default: the system's); `agent` and `history` choose whose trends are shown.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        source_factory: SourceFactory | None = None,
        output_device: str | int | None = None,
        agent: str | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poise — trainer")
        if agent is None:
            from poise.desktop.settings import Settings

            agent = Settings().agent_name or "default"
        self.read_tab = ReadAtPaceTab(source_factory)
        self.replay_tab = ReplayTab(output_device)
        self.trends_tab = TrendsTab(agent, history)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.read_tab, "Read at pace")
        self.tabs.addTab(self.replay_tab, "Replay at another pace")
        self.tabs.addTab(self.trends_tab, "Trends")
        self.tabs.currentChanged.connect(self._tab_changed)
        holder = QWidget()
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(self.tabs)
        self.setCentralWidget(holder)
        self.resize(900, 680)
        self.trends_tab.refresh()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.trends_tab:
            self.trends_tab.refresh()

    def closeEvent(self, event) -> None:
        self.read_tab.shutdown()
        self.replay_tab.stop()
        super().closeEvent(event)
