"""The trainer's *Read at pace* tab: a script read aloud at a target pace, the reader's live pace against it.

A view of a practice call (`poise.app.practice.practice_call`): the teleprompter's
timing and the verdict come from `poise.app.practice`, the pace from the call's meters.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTextEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from poise.app.calls import AgentSource, LiveCall
from poise.app.practice import (
    FAMILY_LABELS,
    OWN_SCRIPT,
    TARGET_WPM_DEFAULT,
    TARGET_WPM_RANGE,
    PhraseMark,
    PracticeScore,
    PracticeScript,
    ScriptFileError,
    TakeAudio,
    builtin_scripts,
    keeps_take_audio,
    pace_band,
    pace_verdict,
    phrase_marks,
    practice_call,
    save_take,
    score_take,
    script_words,
    word_interval_ms,
)
from poise.audio.store import HistoryStore, StoreError, borrowed_store
from poise.desktop.practice_strip import LiveStrip
from poise.app.spec import CallState
from poise.audio.types import Meters, Status
from poise.desktop.bridge import SessionBridge
from poise.desktop.widgets import AGENT_COLOR, CUE_COLOR, card, status_label
from poise.desktop.workers import on_ui_thread

SCRIPT_POINT_SIZE = 22  # pt: readable from arm's length while speaking
READ_COLOR = QColor("#a3aaae")  # words already read fade back
CURRENT_BG = QColor("#e3efe9")  # the word to say now
CALM_COLOR = QColor(AGENT_COLOR)  # a phrase that calms: the agent's teal, underlined
DEFENSIVE_COLOR = QColor(CUE_COLOR)  # a defensive phrase (only in the trainer's own text): amber
OWN_TEXT_TITLE = "Your own text"

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
    """A script read aloud at a target pace, with the reader's live pace against it.

    At the end of a take its score (`poise.app.practice.score_take`) is shown and saved in
    the trainee's practice history (`agent`, in `history`, default: the user's); `take_saved(id)`
    is emitted once it is.
    """

    take_saved = Signal(int)
    highlight_changed = Signal()  # the word to say now, the words read or the marks changed
    scored = Signal(object)  # the PracticeScore of a take that just ended

    def __init__(
        self, source_factory: AgentSource | None = None, parent: QWidget | None = None, *,
        agent: str = "default", history: HistoryStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.source_factory = source_factory  # None: the agent's microphone from the settings
        self.agent = agent  # the trainee whose history the takes go to
        self._history = history
        self.last_score: PracticeScore | None = None
        self.last_take_id: int | None = None
        self._take_script: PracticeScript | None = None  # what this take reads (fixed at Start)
        self._take_started: datetime | None = None
        self._shown_wpm: list[tuple[float, float | None]] = []  # (audio s, wpm) the gauge showed this take: it is scored on it
        self._take_agent = agent  # whose take this is (fixed at Start)
        self.take_audio: TakeAudio | None = None  # the sound of the take running (None: not kept)
        # whether takes are recorded (to play them back); default: the *Keep audio* setting, as for calls
        self.record_takes = keeps_take_audio
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

        self.marks: list[PhraseMark] = []  # the de-escalation phrases of the script shown
        self._own_text = DEFAULT_SCRIPT  # what "Your own text" holds (kept while a built-in is shown)
        try:
            self.scripts: list[PracticeScript] = builtin_scripts()
            scripts_error = None
        except ScriptFileError as exc:
            self.scripts, scripts_error = [], str(exc)
        self.script_picker = QComboBox(objectName="scriptPicker")
        for item in self.scripts:
            self.script_picker.addItem(item.title, item.id)
        self.script_picker.addItem(OWN_TEXT_TITLE, OWN_SCRIPT)
        self.script_picker.setToolTip("A built-in script of good de-escalation phrasing, or your own text")
        self.script_picker.currentIndexChanged.connect(self._script_chosen)
        self.teaches = QLabel("", objectName="hint")
        self.teaches.setWordWrap(True)
        self.legend = QLabel("", objectName="hint")

        self.script = QTextEdit(objectName="script")
        self.script.setAcceptRichText(False)
        # the app stylesheet sets 13px on every widget, so the script's size goes in a stylesheet too
        self.script.setStyleSheet(f"QTextEdit {{ font-size: {SCRIPT_POINT_SIZE}pt; }}")
        self.script.textChanged.connect(self._text_changed)
        self.script.viewport().installEventFilter(self)

        self.target = QSpinBox()
        self.target.setRange(*TARGET_WPM_RANGE)
        self.target.setValue(TARGET_WPM_DEFAULT)
        self.target.setSuffix(" wpm")
        self.target.setSingleStep(5)
        self.target.valueChanged.connect(self._target_changed)
        self.start_button = QPushButton("Start", objectName="startButton")
        self.present_button = QPushButton("Present", objectName="presentButton")
        self.present_button.setToolTip("The read-along full screen in large, high-contrast type, for a projector (Esc closes)")
        self.present_button.clicked.connect(self.present)
        self.presentation = None  # the PresentationView, once opened
        self.start_button.clicked.connect(self.toggle)

        top = QHBoxLayout()
        top.addWidget(QLabel("Script", objectName="fieldLabel"))
        top.addWidget(self.script_picker)
        top.addSpacing(12)
        top.addWidget(QLabel("Target pace", objectName="fieldLabel"))
        top.addWidget(self.target)
        top.addStretch(1)
        top.addWidget(self.present_button)
        top.addWidget(self.start_button)

        self.pace_value = QLabel("—", objectName="paceValue")
        self.verdict = QLabel("", objectName="clock")
        self.pitch_value = QLabel("", objectName="hint")
        self.strip = LiveStrip()  # pace against the band and pitch, as the take goes (it replaced the gauge)
        self.status = status_label()
        self.status.setText(scripts_error or "Press Start and read the highlighted words as they come.")
        pace_card, pace_layout = card("Your pace")
        now = QVBoxLayout()  # the numbers now, left of the strip (a 700 px screen keeps the script tall)
        row = QHBoxLayout()
        row.addWidget(self.pace_value)
        row.addWidget(QLabel("wpm", objectName="paceUnit"), 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        now.addLayout(row)
        now.addWidget(self.verdict)
        now.addWidget(self.pitch_value)
        now.addStretch(1)
        numbers = QWidget()
        numbers.setLayout(now)
        numbers.setFixedWidth(150)
        now.setContentsMargins(0, 0, 0, 0)
        live = QHBoxLayout()
        live.addWidget(numbers)
        live.addWidget(self.strip, 1)
        pace_layout.addLayout(live)
        self.score_line = QLabel("", objectName="scoreLine")
        self.score_line.setWordWrap(True)
        self.score_line.setStyleSheet("#scoreLine { font-size: 15px; font-weight: 600; }")
        self.score_line.hide()
        pace_layout.addWidget(self.score_line)
        pace_layout.addWidget(self.status)
        self._target_changed(self.target.value())
        self._script_chosen(self.script_picker.currentIndex())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.teaches)
        layout.addWidget(self.script, 1)
        layout.addWidget(self.legend)
        layout.addWidget(pace_card)

    # state ------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """From Start until the window has seen the practice call end."""
        return self._running

    def script_choice(self) -> PracticeScript:
        """The script being read: the built-in one chosen, or the trainer's own text."""
        chosen = self._builtin(self.script_picker.currentData())
        if chosen is not None:
            return chosen
        return PracticeScript(OWN_SCRIPT, OWN_TEXT_TITLE, self.script.toPlainText())

    def choose_script(self, script_id: str) -> None:
        """Show a built-in script (by id) or, with `OWN_SCRIPT`, the trainer's own text."""
        index = self.script_picker.findData(script_id)
        if index >= 0:
            self.script_picker.setCurrentIndex(index)

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
        self.take_audio = TakeAudio() if self.record_takes() else None
        call = practice_call(self.source_factory, on_event=self.bridge.emit_event, audio=self.take_audio)
        call.on_state = lambda state: on_ui_thread(lambda: self._on_call_state(call, state), owner=self)
        self.call = call
        self.last_wpm = None
        self.word_index = -1
        self.pace_value.setText("—")
        self.verdict.setText("")
        self.pitch_value.setText("")
        self.strip.clear_take()
        self._shown_wpm = []
        self.status.setText("Opening the microphone…")
        self.script.setReadOnly(True)
        self.script_picker.setEnabled(False)
        self.target.setEnabled(False)  # the take is scored against the target it was read at
        self._take_script = self.script_choice()
        self._take_started = datetime.now(timezone.utc)
        self._take_agent = self.agent
        self.last_score = None
        self.last_take_id = None
        self.score_line.hide()
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
        if self.presentation is not None:
            self.presentation.close()
        if self.call is not None:
            self.call.close(timeout)

    # slots ------------------------------------------------------------------------------
    def on_meters(self, m: Meters) -> None:
        wpm = m.agent_wpm_est
        if self.is_running():
            self.strip.add(m.t, wpm, m.agent_pitch_hz if m.agent_speaking else None)
            self._shown_wpm.append((m.t, wpm))
        if m.agent_pitch_hz is not None:
            self.pitch_value.setText(f"pitch {m.agent_pitch_hz:.0f} Hz")
        if wpm is None:
            return
        self.last_wpm = wpm
        self.pace_value.setText(f"{wpm:.0f}")
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
            self.script_picker.setEnabled(True)
            self.target.setEnabled(True)
            self._set_running(False)
            outcome = call.outcome
            if outcome is not None and outcome.result is not None:
                self._score(outcome.result)
            if outcome is not None and outcome.error:
                self.status.setText(outcome.error)

    def _score(self, result) -> None:
        """Score the finished take, show it, and save it in the trainee's history."""
        score = score_take(result, self.target.value(), self._shown_wpm)
        self.last_score = score
        self.scored.emit(score)
        self.score_line.setText(score.summary())
        self.score_line.show()
        if score.overall is None:
            self.status.setText("Not saved: " + (score.note or "the take could not be scored."))
            return
        script = self._take_script or self.script_choice()
        words_read = min(len(self.words), self.word_index + 1) if self.word_index >= 0 else 0
        recording, unrecorded = None, ""
        if self.take_audio is not None and self.take_audio.duration_s > 0:
            try:
                recording = self.take_audio.save(started_at=self._take_started)
            except OSError as exc:  # the score is still saved, without its sound
                unrecorded = f" Its sound could not be kept ({getattr(exc, 'strerror', None) or exc})."
        try:
            with borrowed_store(self._history) as store:
                take_id = save_take(
                    store, self._take_agent, script, score, result.source.duration_s,
                    started_at=self._take_started, words_read=words_read, recording=recording,
                )
        except StoreError as exc:
            if recording is not None:
                recording.unlink(missing_ok=True)
            self.status.setText(str(exc))
            return
        self.last_take_id = take_id
        self.status.setText(f"Saved in {self._take_agent}’s practice takes.{unrecorded}")
        self.take_saved.emit(take_id)

    def _advance(self) -> None:
        self.word_index += 1
        if self.word_index >= len(self.words):
            self.stop()
            self.status.setText("End of the script.")
            return
        self._show_highlight()

    def present(self) -> None:
        """Open the presentation view (full screen, large type, high contrast) on this read-along."""
        from poise.desktop.practice_presentation import PresentationView

        if self.presentation is None:
            self.presentation = PresentationView(self)
        self.presentation.open_full_screen()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A tooltip over a marked phrase says what it does ("acknowledges the feeling")."""
        if watched is self.script.viewport() and event.type() == QEvent.Type.ToolTip:
            pos = self.script.cursorForPosition(event.pos()).position()
            mark = next((m for m in self.marks if m.start <= pos < m.end), None)
            if mark is not None:
                QToolTip.showText(event.globalPos(), FAMILY_LABELS.get(mark.family, mark.family), self.script)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

    # helpers ----------------------------------------------------------------------------
    def _builtin(self, script_id: object) -> PracticeScript | None:
        return next((s for s in self.scripts if s.id == script_id), None)

    def _script_chosen(self, index: int) -> None:
        chosen = self._builtin(self.script_picker.itemData(index))
        text = chosen.text if chosen is not None else self._own_text
        self.teaches.setText(chosen.teaches if chosen is not None else "Type or paste the text to practise.")
        if self.script.toPlainText() != text:
            self.script.blockSignals(True)
            self.script.setPlainText(text)
            self.script.blockSignals(False)
        self._mark_phrases()

    def _text_changed(self) -> None:
        """The trainer edited the text: it is their own text from now on."""
        self._own_text = self.script.toPlainText()
        chosen = self._builtin(self.script_picker.currentData())
        if chosen is not None and chosen.text != self._own_text:
            self.script_picker.blockSignals(True)
            self.script_picker.setCurrentIndex(self.script_picker.findData(OWN_SCRIPT))
            self.script_picker.blockSignals(False)
            self.teaches.setText("Your own text: the phrases that calm are marked as you type.")
        self._mark_phrases()

    def _mark_phrases(self) -> None:
        """Find the script's calming (and defensive) phrases and underline them."""
        if not self.is_running():
            self.word_index = -1  # a new text: the last take's highlight no longer fits it
        self.marks = phrase_marks(self.script.toPlainText())
        calming = sum(m.calming for m in self.marks)
        defensive = len(self.marks) - calming
        if not self.marks:
            self.legend.setText("No phrase that calms a caller found in this text.")
        else:
            legend = f"Underlined in green: {calming} phrase{'s' if calming != 1 else ''} that calm the caller"
            if defensive:
                legend += f"; in amber: {defensive} defensive phrase{'s' if defensive != 1 else ''} to avoid"
            self.legend.setText(legend + " (point at one to see what it does).")
        self._draw_selections()

    def _mark_selections(self, doc: QTextDocument, colors: dict[str, QColor], read_up_to: int = 0) -> list[QTextEdit.ExtraSelection]:
        """The marks from character `read_up_to` on (Qt draws overlapping selections badly: the
        words already read and the word to say now are selections of their own, so a mark starts
        after them; measured under Xvfb, see `selections_for`)."""
        out = []
        for mark in self.marks:
            start = max(mark.start, read_up_to)
            if start >= mark.end:
                continue
            sel = QTextEdit.ExtraSelection()
            sel.cursor = QTextCursor(doc)
            sel.cursor.setPosition(start)
            sel.cursor.setPosition(mark.end, QTextCursor.MoveMode.KeepAnchor)
            sel.format = QTextCharFormat()
            color = colors["calm"] if mark.calming else colors["defensive"]
            sel.format.setForeground(QBrush(color))
            sel.format.setFontUnderline(True)
            sel.format.setUnderlineColor(color)
            out.append(sel)
        return out

    def _draw_selections(self) -> None:
        """The words already read (grey), the phrase marks still to come, and the word to say now."""
        self.script.setExtraSelections(self.selections_for(self.script))
        self.highlight_changed.emit()

    def selections_for(self, view: QTextEdit, colors: dict[str, QColor] | None = None) -> list[QTextEdit.ExtraSelection]:
        """The read-along's highlight for a text view showing this script (this tab's or the presentation's).

        `colors` overrides "read", "now", "calm" and "defensive" (the presentation's high-contrast set).
        """
        c = {"read": READ_COLOR, "now": CURRENT_BG, "calm": CALM_COLOR, "defensive": DEFENSIVE_COLOR, **(colors or {})}
        doc = view.document()
        if not 0 <= self.word_index < len(self.words):
            return self._mark_selections(doc, c)
        start, end = self.words[self.word_index]
        done = QTextEdit.ExtraSelection()
        done.cursor = QTextCursor(doc)
        done.cursor.setPosition(0)
        done.cursor.setPosition(start, QTextCursor.MoveMode.KeepAnchor)
        done.format = QTextCharFormat()
        done.format.setForeground(QBrush(c["read"]))
        now = QTextEdit.ExtraSelection()
        now.cursor = QTextCursor(doc)
        now.cursor.setPosition(start)
        now.cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        now.format = QTextCharFormat()
        now.format.setBackground(QBrush(c["now"]))
        if "now_text" in c:
            now.format.setForeground(QBrush(c["now_text"]))
        now.format.setFontWeight(QFont.Weight.DemiBold)
        if any(m.start <= start < m.end for m in self.marks):
            now.format.setFontUnderline(True)  # the word is part of a marked phrase
        # Qt drops a selection listed after one with a background, and overlapping ones: the ranges
        # do not overlap, and the word to say now (the one with a background) comes last
        return [done] + self._mark_selections(doc, c, end) + [now]

    def _target_changed(self, value: int) -> None:
        self.strip.set_band(*pace_band(value))
        if self.timer.isActive():
            self.timer.setInterval(word_interval_ms(value))
        if self.last_wpm is not None:
            self.verdict.setText(pace_verdict(self.last_wpm, value))

    def _show_highlight(self) -> None:
        self._draw_selections()
        cursor = QTextCursor(self.script.document())
        cursor.setPosition(self.words[self.word_index][1])
        self.script.setTextCursor(cursor)
        self.script.ensureCursorVisible()

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setProperty("running", "true" if running else "false")
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)
