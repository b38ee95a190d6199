"""The trainer's *Read at pace* tab: a script read aloud at a target pace, the reader's live pace against it.

A view of a practice call (`poise.app.practice.practice_call`): the teleprompter's
timing and the verdict come from `poise.app.practice`, the pace from the call's meters.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QTextEdit, QVBoxLayout, QWidget

from poise.app.calls import AgentSource, LiveCall
from poise.app.practice import (
    TARGET_WPM_DEFAULT,
    TARGET_WPM_RANGE,
    pace_band,
    pace_verdict,
    practice_call,
    script_words,
    word_interval_ms,
)
from poise.app.spec import CallState
from poise.audio.types import Meters, Status
from poise.desktop.bridge import SessionBridge
from poise.desktop.widgets import AGENT_COLOR, CUE_COLOR, PaceGauge, card, status_label
from poise.desktop.workers import on_ui_thread

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


class ReadAtPaceTab(QWidget):
    """A script read aloud at a target pace, with the reader's live pace against it."""

    def __init__(self, source_factory: AgentSource | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_factory = source_factory  # None: the agent's microphone from the settings
        self.call: LiveCall | None = None
        self._running = False  # from Start until the UI thread has seen the call end
        self.bridge = SessionBridge(self)
        self.bridge.meters.connect(self.on_meters)
        self.bridge.status.connect(self.on_status)
        self.words: list[tuple[int, int]] = []  # (start, end) character positions of each word
        self.word_index = -1
        self.last_wpm: float | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._advance)

        self.script = QTextEdit(objectName="script")
        self.script.setAcceptRichText(False)
        self.script.setPlainText(DEFAULT_SCRIPT)
        # the app stylesheet sets 13px on every widget, so the script's size goes in a stylesheet too
        self.script.setStyleSheet(f"QTextEdit {{ font-size: {SCRIPT_POINT_SIZE}pt; }}")

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
        self.status = status_label()
        self.status.setText("Press Start and read the highlighted words as they come.")
        pace_card, pace_layout = card("Your pace")
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
        """From Start until the window has seen the practice call end."""
        return self._running

    def current_word(self) -> str | None:
        """The word highlighted now (None before the call runs)."""
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
        """Start a practice call; the highlight starts once the microphone is open (RUNNING)."""
        self.words = script_words(self.script.toPlainText())
        if not self.words:
            self.status.setText("Type or paste a script to read first.")
            return
        if self.is_running():
            return
        call = practice_call(self.source_factory, on_event=self.bridge.emit_event)
        call.on_state = lambda state: on_ui_thread(lambda: self._on_call_state(call, state), owner=self)
        self.call = call
        self.last_wpm = None
        self.word_index = -1
        self.pace_value.setText("—")
        self.verdict.setText("")
        self.pitch_value.setText("")
        self.gauge.set_value(None)
        self.status.setText("Opening the microphone…")
        self.script.setReadOnly(True)
        self._set_running(True)
        call.begin()

    def stop(self) -> None:
        """Stop the highlight and the microphone (the call ends on its own thread)."""
        self.timer.stop()
        if self.call is not None:
            self.call.stop()

    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop and wait for the pipeline thread (window closing)."""
        self.timer.stop()
        if self.call is not None:
            self.call.close(timeout)

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

    def _on_call_state(self, call: LiveCall, state: CallState) -> None:
        """A state change of the practice call, on the UI thread."""
        if call is not self.call:
            return  # a previous run ending late
        if state is CallState.RUNNING:
            self.status.setText("Listening… read the highlighted word as it comes.")
            self.word_index = 0
            self._show_highlight()
            self.timer.start(word_interval_ms(self.target.value()))
        elif state.ended:
            self.timer.stop()
            self.script.setReadOnly(False)
            self._set_running(False)
            outcome = call.outcome
            if outcome is not None and outcome.error:
                self.status.setText(outcome.error)

    def _advance(self) -> None:
        self.word_index += 1
        if self.word_index >= len(self.words):
            self.stop()
            self.status.setText("End of the script.")
            return
        self._show_highlight()

    # helpers ----------------------------------------------------------------------------
    def _target_changed(self, value: int) -> None:
        self.gauge.set_band(*pace_band(value))
        if self.timer.isActive():
            self.timer.setInterval(word_interval_ms(value))
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
        self._running = running
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setProperty("running", "true" if running else "false")
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)
