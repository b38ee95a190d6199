"""The "read this paragraph" voice calibration: measure the agent's own normal and save it.

The agent reads a short support-call paragraph aloud. The dialog is a view of a
`poise.app.calibration.CalibrationCall` (a `LiveCall` of kind "calibration"): a UI timer
polls how much agent speech it has heard; once it has `CALIBRATION_SPEECH_S` of speech
the recording stops by itself and the measured normal (pitch, loudness, pace) is shown,
to be saved to the agent's voice profile or discarded.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from poise.app.calibration import CalibrationCall
from poise.app.calls import AgentSource
from poise.app.spec import CallState
from poise.audio.baseline import CALIBRATION_SPEECH_S
from poise.audio.coach import wpm_from_rate
from poise.audio.types import Baseline
from poise.desktop.workers import on_ui_thread, run_in_background

log = logging.getLogger("poise")

POLL_MS = 100  # ms: progress and level refresh rate; smooth enough for a bar, cheap for the UI thread
LEVEL_FLOOR_DBFS = -60.0  # dBFS: the level meter's empty end (room noise on a headset sits around here)
LEVEL_DECAY_DB = 3.0  # dB per poll: the meter falls gently instead of flickering between blocks
JOIN_ON_CLOSE_S = 3.0  # s: longest wait for the worker when the dialog closes (a live source stops within ~0.1 s)
LISTENING = "Listening… start reading whenever you are ready."

PARAGRAPH = (
    "Hi, thanks for calling, my name is Sam and I'll be looking after you today. "
    "I'm sorry your order hasn't arrived yet; I know how frustrating that is. "
    "Let me pull up your account so we can sort this out together. "
    "Could you read me the order number from your confirmation email? Thank you. "
    "I can see the parcel left our warehouse on Monday, and it was held at the local depot "
    "because of the weather. Here's what I'll do: I'll ask the courier to deliver it tomorrow "
    "morning, and I'll text you the tracking link as soon as it's booked. "
    "If it hasn't arrived by noon, just call us back and we'll send a replacement straight away. "
    "Is there anything else I can help you with today?"
)

class CalibrationDialog(QDialog):
    """Records the agent reading a paragraph and measures their normal pitch, loudness and pace.

    `source_factory` makes a fresh source of agent audio for each attempt (default: the
    microphone from the settings). `profile_saved` carries the saved `Baseline` (the
    agent's profile after this calibration was folded in).
    """

    profile_saved = Signal(object)

    def __init__(
        self,
        agent_name: str,
        source_factory: AgentSource | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.agent_name = agent_name
        self.source_factory = source_factory  # None: the microphone from the settings
        self.call: CalibrationCall | None = None  # the current attempt
        self.baseline: Baseline | None = None  # the measured normal, once calibration completed
        self.saved_profile: Baseline | None = None
        self.state = "intro"  # intro → recording → (finishing) → result | message; saving; saved
        self._level_shown = LEVEL_FLOOR_DBFS

        self.setWindowTitle("Calibrate your voice")
        self.setObjectName("calibrationDialog")
        self.setMinimumWidth(640)
        self._build_ui()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._show_intro()

    # --- layout ------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 20, 24, 20)
        root.setSpacing(14)

        self.title = QLabel("Read this aloud, as you would to a caller")
        self.title.setObjectName("calibTitle")
        root.addWidget(self.title)

        # Rich text for the line spacing: long lines read more easily with air between them.
        self.paragraph = QLabel(f'<p style="line-height:145%">{html.escape(PARAGRAPH)}</p>')
        self.paragraph.setObjectName("calibParagraph")
        self.paragraph.setTextFormat(Qt.TextFormat.RichText)
        self.paragraph.setWordWrap(True)
        self.paragraph.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.paragraph.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        root.addWidget(self.paragraph)

        self.pages = QStackedWidget()
        root.addWidget(self.pages)

        # intro
        lay = self._add_page()
        self.intro_hint = QLabel(
            "Speak at your usual pace and volume. About 30 seconds of your voice is enough; "
            "Poise then compares your calls with your own normal, not with anyone else's."
        )
        self.intro_hint.setObjectName("hint")
        self.intro_hint.setWordWrap(True)
        lay.addWidget(self.intro_hint)

        # recording
        lay = self._add_page(spacing=8)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("calibMessage")
        lay.addWidget(self.progress_label)
        self.speech_bar = QProgressBar()
        self.speech_bar.setObjectName("speechBar")
        self.speech_bar.setRange(0, int(CALIBRATION_SPEECH_S * 10))
        self.speech_bar.setTextVisible(False)
        lay.addWidget(self.speech_bar)
        level_row = QHBoxLayout()
        level_label = QLabel("Microphone")
        level_label.setObjectName("hint")
        level_row.addWidget(level_label)
        self.level_bar = QProgressBar()
        self.level_bar.setObjectName("levelBar")
        self.level_bar.setRange(0, int(-LEVEL_FLOOR_DBFS))
        self.level_bar.setTextVisible(False)
        self.level_bar.setFixedWidth(160)
        level_row.addWidget(self.level_bar)
        level_row.addStretch(1)
        lay.addLayout(level_row)

        # result
        lay = self._add_page(spacing=8)
        done = QLabel("This is your normal. Poise will compare your calls with it.")
        done.setObjectName("calibMessage")
        lay.addWidget(done)
        card = QFrame()
        card.setObjectName("card")
        grid = QGridLayout(card)
        grid.setContentsMargins(18, 12, 18, 12)
        grid.setHorizontalSpacing(28)
        self.result_values: dict[str, QLabel] = {}
        self.result_units: dict[str, QLabel] = {}
        columns = (("pitch", "PITCH"), ("loudness", "LOUDNESS"), ("pace", "PACE"), ("wpm", "WORDS/MIN"))
        for col, (key, title) in enumerate(columns):
            head = QLabel(title)
            head.setObjectName("cardTitle")
            value = QLabel("–")
            value.setObjectName("resultValue")
            unit = QLabel()
            unit.setObjectName("resultUnit")
            grid.addWidget(head, 0, col)
            grid.addWidget(value, 1, col)
            grid.addWidget(unit, 2, col)
            self.result_values[key] = value
            self.result_units[key] = unit
        lay.addWidget(card)
        self.result_error = QLabel()
        self.result_error.setObjectName("calibMessage")
        self.result_error.setProperty("error", True)
        self.result_error.setWordWrap(True)
        self.result_error.hide()
        lay.addWidget(self.result_error)

        # message (errors, not enough speech, saving)
        lay = self._add_page()
        self.message = QLabel()
        self.message.setObjectName("calibMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)
        for i in range(self.pages.count()):
            self.pages.widget(i).layout().addStretch(1)  # each page's content at its top

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.stop_button = QPushButton("Stop")
        self.discard_button = QPushButton("Discard")
        self.retry_button = QPushButton("Try again")
        self.start_button = QPushButton("Start")
        self.save_button = QPushButton("Save")
        for b in (self.start_button, self.save_button, self.retry_button):
            b.setObjectName("primaryButton")
        for b in self._all_buttons():
            b.setAutoDefault(False)
            buttons.addWidget(b)
        root.addLayout(buttons)

        self.cancel_button.clicked.connect(self.reject)
        self.stop_button.clicked.connect(self.stop)
        self.discard_button.clicked.connect(self.reject)
        self.retry_button.clicked.connect(self.start)
        self.start_button.clicked.connect(self.start)
        self.save_button.clicked.connect(self.save)

    def _add_page(self, spacing: int | None = None) -> QVBoxLayout:
        """A new page of the stack; its layout, for the page's widgets."""
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        if spacing is not None:
            lay.setSpacing(spacing)
        self.pages.addWidget(page)
        return lay

    def _all_buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.cancel_button, self.stop_button, self.discard_button,
            self.retry_button, self.start_button, self.save_button,
        )

    def _buttons(self, *visible: QPushButton) -> None:
        for b in self._all_buttons():
            b.setVisible(b in visible)
        primary = next((b for b in visible if b.objectName() == "primaryButton"), None)
        if primary is not None:
            primary.setDefault(True)
            primary.setFocus()

    def _set_page(self, index: int) -> None:
        """Show one page; the stack takes that page's height, not the tallest page's."""
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.pages.widget(i).setSizePolicy(policy, policy)
        self.pages.setCurrentIndex(index)
        if self.isVisible():
            width = self.width()
            self.adjustSize()
            self.resize(max(width, self.width()), self.height())

    def _dim_paragraph(self, dimmed: bool) -> None:
        self.paragraph.setProperty("dimmed", dimmed)
        self.paragraph.style().unpolish(self.paragraph)
        self.paragraph.style().polish(self.paragraph)

    def _show_intro(self) -> None:
        self.state = "intro"
        self.title.setText("Read this aloud, as you would to a caller")
        self._dim_paragraph(False)
        self.paragraph.show()
        self._set_page(0)
        self._buttons(self.cancel_button, self.start_button)

    def _show_message(self, text: str, *, error: bool, retry: bool) -> None:
        self.state = "message"
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self._set_page(3)
        self._dim_paragraph(True)
        self._buttons(*((self.cancel_button, self.retry_button) if retry else (self.cancel_button,)))
        self.cancel_button.setText("Close")

    # --- recording ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start a calibration call and show its progress (also "Try again")."""
        self._halt_worker()
        self.baseline = None
        self.cancel_button.setText("Cancel")
        call = CalibrationCall(self.agent_name, self.source_factory)
        call.call.on_state = lambda state: on_ui_thread(lambda: self._on_call_state(call, state), owner=self)
        self.call = call
        self.state = "recording"
        self.title.setText("Read this aloud, as you would to a caller")
        self._dim_paragraph(False)
        self.paragraph.show()
        self._level_shown = LEVEL_FLOOR_DBFS
        self.level_bar.setValue(0)
        self.speech_bar.setValue(0)
        self.progress_label.setText(LISTENING)
        self._set_page(1)
        self._buttons(self.cancel_button, self.stop_button)
        call.begin()  # opens the microphone off the UI thread
        self._timer.start()

    def stop(self) -> None:
        """End the recording now; what was heard is measured if it is enough."""
        if self.state == "recording" and self.call is not None:
            self.state = "finishing"
            self.progress_label.setText("Measuring…")
            self.stop_button.setEnabled(False)
            self.call.stop()

    def _poll(self) -> None:
        call = self.call
        if call is None or self.state not in ("recording", "finishing"):
            return
        heard = call.speech_s
        self.speech_bar.setValue(int(min(heard, CALIBRATION_SPEECH_S) * 10))
        level = call.level_dbfs
        target = LEVEL_FLOOR_DBFS if level is None else max(LEVEL_FLOOR_DBFS, min(0.0, level))
        self._level_shown = max(target, self._level_shown - LEVEL_DECAY_DB)
        self.level_bar.setValue(round(self._level_shown - LEVEL_FLOOR_DBFS))
        if self.state != "recording":
            return
        self.progress_label.setText(
            f"Heard {min(heard, CALIBRATION_SPEECH_S):.0f} of {CALIBRATION_SPEECH_S:.0f} seconds of your voice"
            if heard > 0
            else LISTENING
        )
        if call.enough():
            self.stop()

    def _on_call_state(self, call: CalibrationCall, state: CallState) -> None:
        """A state change of an attempt, on the UI thread; only the current attempt's end counts."""
        if call is not self.call or not state.ended or self.state not in ("recording", "finishing"):
            return
        self._timer.stop()
        self.stop_button.setEnabled(True)
        measured = call.measurement()
        if measured.baseline is None:
            self._show_message(measured.problem or "", error=measured.is_error, retry=True)
            return
        self._show_result(measured.baseline)

    def _show_result(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self.result_error.hide()
        self.state = "result"
        self.title.setText("Your voice, measured")
        assert baseline.pitch_hz is not None and baseline.db is not None and baseline.rate_sps is not None
        self.result_values["pitch"].setText(f"{baseline.pitch_hz:.0f}")
        self.result_units["pitch"].setText("Hz, median")
        self.result_values["loudness"].setText(f"{baseline.db:.0f}")
        self.result_units["loudness"].setText("dBFS at your microphone")
        self.result_values["pace"].setText(f"{baseline.rate_sps:.1f}")
        self.result_units["pace"].setText("syllables/s")
        self.result_values["wpm"].setText(f"≈{wpm_from_rate(baseline.rate_sps):.0f}")
        self.result_units["wpm"].setText("while speaking (est.)")
        self._dim_paragraph(True)
        self.paragraph.hide()
        self._set_page(2)
        self._buttons(self.discard_button, self.save_button)

    # --- saving ------------------------------------------------------------------------------
    def save(self) -> None:
        """Fold the measured normal into the agent's saved profile (on a worker thread)."""
        if self.state != "result" or self.baseline is None or self.call is None:
            return
        self.state = "saving"
        self.save_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        call, baseline = self.call, self.baseline
        run_in_background(
            lambda: call.save(baseline), done=self._on_saved, failed=self._on_save_failed,
            owner=self, name="poise-calibration-save",
        )

    def _on_saved(self, saved: Any) -> None:
        if saved.profile is None:
            self._on_save_failed(saved.warning or "Poise could not save your voice profile: try again.")
            return
        self.save_button.setEnabled(True)
        self.discard_button.setEnabled(True)
        self.state = "saved"
        self.saved_profile = saved.profile
        self.profile_saved.emit(saved.profile)
        self.accept()

    def _on_save_failed(self, error: str) -> None:
        self.save_button.setEnabled(True)
        self.discard_button.setEnabled(True)
        self.state = "result"  # the measurement is kept: the user can try saving again or discard it
        self.result_error.setText(error)
        self.result_error.show()

    # --- closing -----------------------------------------------------------------------------
    def _halt_worker(self) -> None:
        """Stop the current attempt (its result is ignored) and wait briefly for it."""
        self._timer.stop()
        call = self.call
        if call is not None and self.state in ("recording", "finishing"):
            self.call = None  # a late end of this attempt is ignored
            call.close(JOIN_ON_CLOSE_S)
            if call.runner is not None and call.runner.is_running():
                log.warning("calibration worker did not stop within %.1f s", JOIN_ON_CLOSE_S)

    def is_worker_running(self) -> bool:
        """True while the recording worker of the current attempt is alive."""
        runner = self.call.runner if self.call is not None else None
        return runner is not None and runner.is_running()

    def reject(self) -> None:
        """Cancel / Discard / Escape: stop listening and save nothing."""
        if self.state == "saving":
            return  # the profile write is quick; closing mid-write would hide its outcome
        self._halt_worker()
        self.state = "cancelled" if self.baseline is None else "discarded"
        super().reject()

    def done(self, result: int) -> None:
        self._halt_worker()
        super().done(result)

    def closeEvent(self, event: Any) -> None:
        self._halt_worker()
        super().closeEvent(event)
