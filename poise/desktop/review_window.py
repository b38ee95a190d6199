"""Reviewing a recorded call by ear: where the agent sped up, got loud or talked over the caller.

Two jobs start off the UI thread when the window opens. The first reads the audio
(`poise.app.review.load_audio`): the call lane is drawn from it at once and the player is
ready, long before the analysis ends. The second is the analysis (`review_call`: the same
engine as live, with the user's cue rules and the agent's saved voice profile, saved to
history by the policy of `poise analyze --save`); it fills the cards, the other lanes, the
cues and the transcript.

Playback (`poise.audio.player.CallPlayer`, one sounddevice stream) starts from wherever
the user clicks: the timeline, a cue, a transcript line. A 30 fps timer moves the playhead
on every lane from the stream's clock and keeps the line being spoken highlighted and in
view. Space plays and pauses, ←/→ seek 5 s, Home/End go to either end; Ctrl+F searches the
transcript and marks the matches on the timeline. Export writes the HTML report, CSVs of
the cues and of the transcript, or a PDF of the cards and the timeline.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
import weakref
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMarginsF, QPoint, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QToolButton,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from poise import paths
from poise.app.history import History
from poise.app.review import (
    CUE_LEAD_S,
    LEVEL_STEP_S,
    explain_cue,
    find_segments,
    kept_numbers,
    level_db,
    load_audio,
    numbers_note,
    review_call,
    summary_cards,
    transcript_lines,
    write_cues_csv,
    write_segments_csv,
)
from poise.app.errors import describe
from poise.app.redact import for_storage
from poise.app.spec import CallKind, CallOutcome, CallSpec
from poise.audio.player import CallPlayer, Listen
from poise.audio.report import write_json
from poise.audio.sources import LoadedCall
from poise.audio.types import AnalysisResult
from poise.desktop.language_panel import LanguagePanel
from poise.desktop.review_timeline import ReviewTimeline
from poise.desktop.settings import Settings
from poise.desktop.widgets import AGENT_COLOR, CALLER_COLOR, CUE_COLOR
from poise.desktop.window_actions import RECORDING_FILTER, RecordingDrop, quit_poise, show_about
from poise.desktop.window_geometry import place, save_geometry
from poise.desktop.workers import on_ui_thread, run_in_background
from poise.report.format import call_numbers, fmt_clock, fmt_length, no_cues_sentence
from poise.report.html import write_html

log = logging.getLogger(__name__)

FRAME_MS = 30  # ms between playhead updates while playing: 33 frames per second, above the 30 fps target
SEEK_STEP_S = 5.0  # s that ← and → move
DEFAULT_SIZE = (1280, 880)  # px, shrunk to a smaller screen: the lists under the timeline need ~200 px to be read
GEOMETRY_FILE = "review_window.json"  # next to settings.json: the review window's last geometry
EXPORT_KINDS = {  # what Export writes, by the choice's name: (suffix, file-dialog filter)
    "html": (".html", "HTML report (*.html)"),
    "cues": ("-cues.csv", "CSV of the cues (*.csv)"),
    "segments": ("-transcript.csv", "CSV of the transcript (*.csv)"),
    "pdf": (".pdf", "PDF of the summary and timeline (*.pdf)"),
    "json": (".json", "JSON, schema poise.analysis/1 (*.json)"),
}
EXPORT_LABELS = {"html": "Report", "json": "JSON report", "cues": "Cues", "segments": "Transcript", "pdf": "PDF summary"}
# The analysis reports progress once per second of audio measured and per Whisper segment, from two threads at
# once (1,800+ calls for a 30-minute call, the labels "measuring voice" and "transcribing agent" taking turns).
# Each one sent on was a queued call to the UI thread, a progress-bar repaint and, when the label flipped, a
# re-laid-out status line: work that took the GIL and a core from the analysis. Ten a second reads as smooth.
PROGRESS_PERIOD_S = 0.1  # s: the least time between two progress updates sent to the UI thread
PROGRESS_LABEL_S = 1.0  # s: the status line's words change at most this often (steady enough to read)
LISTEN_CHOICES = [(Listen.BOTH, "Both sides"), (Listen.AGENT, "Agent only"), (Listen.CALLER, "Caller only")]

_open_windows: list[ReviewWindow] = []  # windows opened by `open_review` (kept alive until closed)
_workers: weakref.WeakSet = weakref.WeakSet()  # every review's analysis thread, joined at exit


def open_review(path: str | Path, caller_path: str | Path | None = None, **options) -> ReviewWindow:  # noqa: ANN003
    """Open (and show) a review window that stays alive until the user closes it."""
    window = ReviewWindow(path, caller_path, **options)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_windows.append(window)
    window.destroyed.connect(lambda *_: _open_windows.remove(window) if window in _open_windows else None)
    window.show()
    return window


def wait_for_reviews(timeout_s: float) -> None:
    """Let running analyses leave their last Whisper chunk before the process exits (CTranslate2 aborts otherwise)."""
    for thread in list(_workers):
        thread.join(timeout_s)


class ProgressThrottle:
    """Passes a progress report (fraction, label) on to `send` at most once per `period_s`, from any
    thread; the last one (fraction 1.0) always. The label changes at most once per `label_s`."""

    def __init__(self, send: Callable[[float, str], None], period_s: float = PROGRESS_PERIOD_S,
                 label_s: float = PROGRESS_LABEL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._period_s = period_s
        self._label_s = label_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sent_at = -float("inf")
        self._label: str | None = None
        self._label_at = -float("inf")
        self.sent = 0  # reports passed on
        self.dropped = 0  # reports left out (a later one says more)

    def __call__(self, fraction: float, label: str) -> None:
        with self._lock:
            now = self._clock()
            last = fraction >= 1.0
            if not last and now - self._sent_at < self._period_s:
                self.dropped += 1
                return
            if label != self._label:
                if self._label is not None and not last and now - self._label_at < self._label_s:
                    label = self._label  # the words stay; the bar moves
                else:
                    self._label, self._label_at = label, now
            self._sent_at = now
            self.sent += 1
        self._send(fraction, label)


class _Card(QFrame):
    """One summary number: title, value and note on one line, and one line on why it matters."""

    def __init__(self, title: str) -> None:
        super().__init__(objectName="card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 5, 10, 6)
        layout.setSpacing(1)
        self.title = QLabel(title.upper(), objectName="cardTitle")
        self.value = QLabel("—", objectName="reviewValue")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setWeight(QFont.Weight.DemiBold)
        self.value.setFont(font)
        self.note = QLabel("", objectName="hint")
        self.why = QLabel("", objectName="hint")
        self.why.setWordWrap(True)
        self.note.setWordWrap(True)
        for label in (self.note, self.why):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.why.setStyleSheet("font-style: italic; font-size: 11px;")
        line = QHBoxLayout()
        line.setSpacing(8)
        line.addWidget(self.value)
        line.addWidget(self.note, 1, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(self.title)
        layout.addLayout(line)
        layout.addWidget(self.why)


class ReviewWindow(QMainWindow):
    """One recorded call: heard, seen on a timeline, read, and exported."""

    COMPACT_BELOW_PX = 820  # px of window height under which the cards drop their "why" lines (their tooltip keeps
    #   them): at 1024 x 700 the cue list and transcript had 100 px, two cues and five lines

    audio_ready = Signal()  # the call lane is drawn and the player can play
    analysis_done = Signal(object)  # AnalysisResult
    analysis_failed = Signal(str)  # the sentence shown (also for "Analysis cancelled.")

    def __init__(
        self,
        path: str | Path,
        caller_path: str | Path | None = None,
        *,
        agent_channel: str = "left",
        model_path: str | None = None,
        transcribe: bool = True,
        output_device: str | int | None = None,
        opener: Callable[[str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """Review `path` (and `caller_path`) with the user's settings (cue rules, model folder,
        agent's profile); `model_path` overrides the model folder, `output_device` the speakers;
        `opener(path)` opens another recording (dropped or chosen here; default: a new window)."""
        super().__init__(parent)
        self.path = Path(path)
        self.spec = CallSpec.from_settings(
            CallKind.REVIEW, Settings().load(),
            file=self.path, caller_file=Path(caller_path) if caller_path else None,
            agent_channel=agent_channel, transcribe=transcribe,
        )
        if model_path:
            self.spec = replace(self.spec, model_dir=model_path)
        self.band = (self.spec.config.target_wpm_low, self.spec.config.target_wpm_high)
        self.result: AnalysisResult | None = None
        self.error: str | None = None
        self.outcome: CallOutcome | None = None
        self.numbers_note = ""  # when history keeps this call with other numbers (its live run): one sentence
        self.audio: LoadedCall | None = None
        self.player: CallPlayer | None = None
        self.player_error: str | None = None
        self._output_device = output_device
        self._opener = opener or (lambda p: open_review(p))
        self._cancel = threading.Event()
        self._history = History()  # where the review is saved is fixed when it is asked for
        self._seg_starts: list[float] = []
        self.lines: list = []  # the transcript's lines (poise.app.review.transcript_lines)
        self._current_row = -1
        self._matches: list[int] = []
        self.setWindowTitle(f"Poise — review: {self.path.name}")
        self.setAcceptDrops(True)
        self._drop = RecordingDrop(self, lambda p: self._opener(p))
        self.installEventFilter(self._drop)
        self._build_ui()
        self._build_menus()
        place(self, GEOMETRY_FILE, DEFAULT_SIZE)  # the last geometry if still on a screen, else the default fitted to it
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._tick)
        self._set_playable(False)
        self._update_play_button()
        self.timeline.set_message(f"Reading {self.path.name}…")
        self._loader = run_in_background(self._load, done=self._on_audio, failed=self._on_audio_failed,
                                         owner=self, name="poise-review-audio")
        self._worker: threading.Thread | None = None  # the analysis: started once the audio is read (below)
        self.progress_reports: ProgressThrottle | None = None  # the analysis's progress, as passed to the UI thread

    # --- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget(objectName="liveView")
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 8, 12, 8)
        root.setSpacing(8)

        top = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.play_button.setToolTip("Play or pause (Space)")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.setMinimumWidth(92)
        self.play_button.clicked.connect(self.toggle_play)
        self.clock = QLabel("00:00 / 00:00", objectName="fieldLabel")
        self.clock.setMinimumWidth(100)
        self.listen_combo = QComboBox()
        for listen, label in LISTEN_CHOICES:
            self.listen_combo.addItem(label, listen.value)
        self.listen_combo.setToolTip("Which side of the call you hear")
        self.listen_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.listen_combo.currentIndexChanged.connect(lambda _i: self.set_listen(self.listen_combo.currentData()))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the transcript (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(240)
        self.search.setMinimumWidth(150)
        self.search.textChanged.connect(self.find)
        self.search.returnPressed.connect(self.next_match)
        self.search.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Space plays until the user asks to search
        self.search.setAcceptDrops(False)  # a recording dropped here opens, as anywhere on the window
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setEnabled(False)
        self.status = QLabel(f"Analysing {self.path.name}…", objectName="hint")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel analysis")
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel_button.clicked.connect(self.cancel)
        top.addWidget(self.play_button)
        top.addWidget(self.clock)
        top.addWidget(self.listen_combo)
        top.addSpacing(8)
        top.addWidget(self.status, 3)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.search, 2)
        top.addWidget(self.export_button)
        root.addLayout(top)

        cards = QGridLayout()
        cards.setSpacing(8)
        self.cards: dict[str, tuple[QLabel, QLabel]] = {}
        self.card_widgets: dict[str, _Card] = {}
        for i, (key, title) in enumerate(
            [("wpm", "Agent pace"), ("length", "Length"), ("pitch_range", "Pitch range"), ("cues", "Cues per 10 min"),
             ("share", "Agent talk share"), ("interruptions", "Interruptions"), ("monologue", "Longest monologue"),
             ("dead_air", "Dead air")]
        ):
            card = _Card(title)
            self.card_widgets[key] = card
            self.cards[key] = (card.value, card.note)
            cards.addWidget(card, i // 4, i % 4)
        self.cards_box = QWidget()
        self.cards_box.setLayout(cards)
        root.addWidget(self.cards_box)

        self.timeline = ReviewTimeline()
        self.timeline.seek_requested.connect(lambda t: self.seek(t, play=True))  # a click plays from there

        lists = QSplitter(Qt.Orientation.Horizontal)
        self.cue_list = QListWidget(objectName="cueList")
        self.cue_list.setWordWrap(True)
        self.cue_list.itemClicked.connect(self._jump_to_item)
        self.transcript = QListWidget(objectName="transcript")
        self.transcript.setWordWrap(True)
        self.transcript.itemClicked.connect(self._jump_to_item)
        self.cue_list.addItem("The cues appear here when the analysis is done.")
        self.transcript.addItem("The transcript appears here when the analysis is done.")
        lists.addWidget(self.cue_list)
        lists.addWidget(self.transcript)
        self.language_panel = LanguagePanel()  # what was said: summary, draft notes, phrase moments (issue 10)
        self.language_panel.seek_requested.connect(self.seek)
        lists.addWidget(self.language_panel)
        lists.setSizes([300, 560, 300])

        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.timeline)
        body.addWidget(lists)
        body.setSizes([400, 260])  # the share each keeps as the window grows or shrinks
        lists.setMinimumHeight(100)  # px: a wrapped cue and three transcript lines (a 1024×700 screen has no more)
        body.setChildrenCollapsible(False)
        root.addWidget(body, 1)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        def action(text: str, shortcut, slot, *, window_only: bool = True) -> QAction:  # noqa: ANN001
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
                if window_only:
                    a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(action("Open recording…", QKeySequence.StandardKey.Open, self.choose_recording))
        export = QMenu("Export", self)
        self.export_actions: dict[str, QAction] = {}
        for kind, label in (("html", "HTML report…"), ("cues", "Cues as CSV…"), ("segments", "Transcript as CSV…"),
                            ("pdf", "Summary and timeline as PDF…"), ("json", "JSON…")):
            a = QAction(label, self)
            a.triggered.connect(lambda _=False, k=kind: self.export_dialog(k))
            a.setEnabled(False)
            export.addAction(a)
            self.export_actions[kind] = a
        self.export_actions["html"].setShortcut(QKeySequence("Ctrl+E"))
        self.addAction(self.export_actions["html"])
        file_menu.addMenu(export)
        self.export_button.setMenu(export)
        file_menu.addSeparator()
        file_menu.addAction(action("Close", QKeySequence.StandardKey.Close, self.close))
        file_menu.addAction(action("Quit", QKeySequence.StandardKey.Quit, quit_poise))  # every window, the process

        play = self.menuBar().addMenu("&Playback")
        self.play_action = action("Play / pause", Qt.Key.Key_Space, self.toggle_play)
        play.addAction(self.play_action)
        play.addAction(action(f"Back {SEEK_STEP_S:.0f} s", Qt.Key.Key_Left, lambda: self.seek_by(-SEEK_STEP_S)))
        play.addAction(action(f"Forward {SEEK_STEP_S:.0f} s", Qt.Key.Key_Right, lambda: self.seek_by(SEEK_STEP_S)))
        play.addAction(action("To the start", Qt.Key.Key_Home, lambda: self.seek(0.0)))
        play.addAction(action("To the end", Qt.Key.Key_End, lambda: self.seek(self.duration_s)))
        play.addSeparator()
        group = QActionGroup(self)
        self.listen_actions: dict[str, QAction] = {}
        for listen, label in LISTEN_CHOICES:
            a = QAction(label, self, checkable=True)
            a.setChecked(listen is Listen.BOTH)
            a.triggered.connect(lambda _=False, v=listen.value: self.set_listen(v))
            group.addAction(a)
            play.addAction(a)
            self.listen_actions[listen.value] = a

        find = self.menuBar().addMenu("&Find")
        find.addAction(action("Search the transcript", QKeySequence.StandardKey.Find, self.focus_search))
        find.addAction(action("Next match", QKeySequence.StandardKey.FindNext, self.next_match))
        done = QAction("Leave the search", self.search, shortcut=QKeySequence(Qt.Key.Key_Escape))
        done.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        done.triggered.connect(lambda: (self.search.clear(), self.timeline.setFocus()))
        self.search.addAction(done)

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(action("About Poise", None, lambda: show_about(self)))

    # --- reading the audio (worker thread, then UI) -------------------------------------------
    def _load(self) -> tuple[LoadedCall, object, object]:
        audio = load_audio(self.spec)
        agent = level_db(audio.agent)
        caller = level_db(audio.caller) if audio.caller is not None else None
        return audio, agent, caller

    def _start_analysis(self) -> None:
        """The analysis starts after the audio is read: the first lanes do not share the two cores
        with its own decoding (it reads the file again: the engine takes a path)."""
        if self._worker is None:
            self._worker = run_in_background(self._analyse, done=self._on_outcome, owner=self, name="poise-review")
            _workers.add(self._worker)

    def _on_audio(self, loaded: tuple) -> None:
        audio, agent_db, caller_db = loaded
        self._start_analysis()
        self.audio = audio
        self.timeline.set_duration(audio.duration_s)
        self.timeline.set_audio(agent_db, caller_db, LEVEL_STEP_S)
        if self.error is not None:
            self._on_failed(self.error)
        elif self.result is None:  # the analysis goes on: say so where its lanes will be
            self.timeline.set_message("")
            self.timeline.set_message("Measuring pace, pitch and loudness… press Space to listen meanwhile.", ("pitch",))
        self.player = CallPlayer(audio.agent, audio.caller, device=self._output_device)
        if audio.caller is None:
            self.listen_combo.setEnabled(False)
            for a in self.listen_actions.values():
                a.setEnabled(False)
        self._set_playable(True)
        self._update_clock(0.0)
        self.audio_ready.emit()

    def _on_audio_failed(self, message: str) -> None:
        self._start_analysis()  # it says in one sentence what is wrong with the file
        if self.error is None and self.result is None:
            self.timeline.set_message("")  # the analysis says what is wrong with the file

    # --- the analysis (worker thread) -----------------------------------------------------------
    def _analyse(self) -> CallOutcome:
        def send(fraction: float, label: str) -> None:
            on_ui_thread(lambda: self._on_progress(fraction, label), owner=self)

        self.progress_reports = ProgressThrottle(send)  # kept: the benchmark counts what reached the UI thread
        outcome = review_call(self.spec, history=self._history, progress=self.progress_reports, cancel=self._cancel)
        if outcome.result is not None and outcome.call_id is None:  # already in history: does it keep other numbers?
            self.numbers_note = numbers_note(call_numbers(outcome.result), kept_numbers(self.path, self._history.path))
        return outcome

    def _on_outcome(self, outcome: CallOutcome) -> None:
        self.outcome = outcome
        if outcome.result is None:
            self._on_failed(outcome.error or "The analysis gave no result.")
        else:
            self._on_done(outcome.result)

    def cancel(self) -> None:
        """Stop the analysis; what was read of the audio stays to be heard."""
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.status.setText("Cancelling…")

    def wait(self, timeout: float | None = None) -> None:
        """Block until the analysis has ended (tests, closing)."""
        self._loader.join(timeout)
        QApplication.processEvents()  # the loader's result starts the analysis on this thread
        if self._worker is not None:
            self._worker.join(timeout)

    # --- results (UI thread) ----------------------------------------------------------------------
    def _on_progress(self, fraction: float, label: str) -> None:
        if self.outcome is not None:
            return
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(f"{self.path.name}: {label}…  You can listen while Poise works.")

    def _on_failed(self, message: str) -> None:
        self.error = message
        self.progress.hide()
        self.cancel_button.hide()
        cancelled = message == "Analysis cancelled."
        if cancelled:
            self.status.setText("Analysis cancelled. You can still listen to the call; open it again to analyse it.")
            self.timeline.set_message("Analysis cancelled: no pace, pitch or cues.", ("pace", "pitch", "loudness"))
        else:
            self.status.setText(message)
            if self.audio is None:
                self.timeline.set_message(message)
            else:
                self.timeline.set_message("The analysis failed; the audio is here to listen to.", ("pace",))
        for key in self.cards:
            self.cards[key][0].setText("—")
        self.cue_list.clear()
        self.cue_list.addItem("No cues: the analysis did not finish.")
        self.transcript.clear()
        self.transcript.addItem("No transcript: the analysis did not finish.")
        self.analysis_failed.emit(message)

    def _on_done(self, result: AnalysisResult) -> None:
        self.result = result
        self.progress.hide()
        self.cancel_button.hide()
        for a in self.export_actions.values():
            a.setEnabled(True)
        self.export_button.setEnabled(True)
        notes = " ".join(self.audio.notes) if self.audio is not None and self.audio.notes else ""
        saved = " Saved to history." if self.outcome and self.outcome.call_id is not None else ""
        warning = f" {self.outcome.warning}" if self.outcome and self.outcome.warning else ""
        kept = f" {self.numbers_note}" if self.numbers_note else ""
        self.status.setText(
            f"{self.path.name} · {fmt_length(result.source.duration_s)} long.{saved}{kept}{warning} {notes}".strip())
        self._fill_cards(result)
        self.timeline.set_message("")
        if self.audio is None:
            self.timeline.set_duration(result.source.duration_s)
        self.timeline.set_result(result, self.band, self.spec.config.pitch_rise_st)
        self._fill_lists(result)
        self.language_panel.set_result(result)
        if self.search.text():
            self.find(self.search.text())
        self.analysis_done.emit(result)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        compact = self.height() < self.COMPACT_BELOW_PX
        for card in self.card_widgets.values():
            card.why.setVisible(not compact)

    def _fill_cards(self, r: AnalysisResult) -> None:
        for card in summary_cards(r, self.band):
            widget = self.card_widgets[card.key]
            widget.value.setText(card.value)
            widget.note.setText(card.note)
            widget.why.setText(card.why)
            widget.setToolTip(card.why)  # read here when a short window hides the line (resizeEvent)
            widget.value.setStyleSheet(f"color: {CUE_COLOR.name()};" if card.warn else "")

    def _fill_lists(self, r: AnalysisResult) -> None:
        self.cue_list.clear()
        self.transcript.clear()
        for cue in sorted(r.cues, key=lambda c: c.t):
            why = explain_cue(cue)
            item = QListWidgetItem(f"{fmt_clock(cue.t)}  {cue.message}" + (f"\n        {why}" if why else ""))
            item.setData(Qt.ItemDataRole.UserRole, max(cue.t - CUE_LEAD_S, 0.0))
            item.setToolTip(f"Click to hear it from {fmt_clock(max(cue.t - CUE_LEAD_S, 0.0))}")
            item.setForeground(CUE_COLOR)
            self.cue_list.addItem(item)
        if not r.cues:
            self.cue_list.addItem(no_cues_sentence(r))
        self.lines = transcript_lines(r.segments)  # short lines to follow while listening
        self.timeline.set_lines(self.lines)
        self._seg_starts = [line.start for line in self.lines]
        for seg in self.lines:
            item = QListWidgetItem(f"{fmt_clock(seg.start)}  {seg.role.capitalize():<7} {seg.text.strip()}")
            item.setData(Qt.ItemDataRole.UserRole, seg.start)
            item.setForeground(AGENT_COLOR if seg.role == "agent" else CALLER_COLOR)
            self.transcript.addItem(item)
        if not self.lines:
            self.transcript.addItem("No transcript." if not self.spec.transcribe else "No words were heard.")

    # --- playback ----------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        if self.audio is not None:
            return self.audio.duration_s
        return self.result.source.duration_s if self.result is not None else 0.0

    def position_s(self) -> float:
        """The playback position (s), from the player's stream clock."""
        return self.player.position_s() if self.player is not None else self.timeline.position()

    def _set_playable(self, playable: bool) -> None:
        self.play_button.setEnabled(playable)
        self.play_action.setEnabled(playable)

    def toggle_play(self) -> None:
        """Space: play from the playhead, or pause."""
        if self.player is None:
            return
        if self.player.playing:
            self.pause()
        else:
            self.play()

    def play(self, from_s: float | None = None) -> bool:
        """Start playing (from `from_s`); False with a sentence in the status line when nothing can play."""
        if self.player is None:
            return False
        error = self.player.play(from_s)
        if error:
            self.player_error = error
            self.status.setText(error)
            self._update_play_button()
            return False
        self._frame.start()
        self._update_play_button()
        self._tick(walking=False)  # playing starts where the user can see it
        return True

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()
        self._frame.stop()
        self._update_play_button()
        self._tick()

    def seek(self, t: float, play: bool | None = None) -> None:
        """Move the playhead (and playback) to `t`; `play` True also starts playing."""
        t = min(max(float(t), 0.0), self.duration_s)
        if self.player is not None:
            self.player.seek(t)
            if play and not self.player.playing:
                self.play()
        self.timeline.set_position(t, follow=True)
        self._show_position(t)

    def seek_by(self, dt: float) -> None:
        self.seek(self.position_s() + dt)

    def set_listen(self, value: str) -> None:
        """Both sides, agent only or caller only."""
        if self.player is not None:
            self.player.set_listen(value)
        i = self.listen_combo.findData(value)
        if i >= 0 and i != self.listen_combo.currentIndex():
            self.listen_combo.setCurrentIndex(i)
        if value in self.listen_actions:
            self.listen_actions[value].setChecked(True)

    def _update_play_button(self) -> None:
        playing = self.player is not None and self.player.playing
        self.play_button.setText("Pause" if playing else "Play")
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _tick(self, walking: bool = True) -> None:
        """The frame timer: the playhead, clock and transcript line at the player's position."""
        t = self.position_s()
        self.timeline.set_position(t, follow=True, walking=walking)
        self._show_position(t)
        if self.player is not None and not self.player.playing and self._frame.isActive():
            self._frame.stop()  # the end of the call, or the output went away
            self._update_play_button()
            if self.player.error:
                self.player_error = self.player.error
                self.status.setText(self.player.error)

    def _show_position(self, t: float) -> None:
        self._update_clock(t)
        row = bisect.bisect_right(self._seg_starts, t + 1e-6) - 1
        if row != self._current_row and 0 <= row < self.transcript.count():
            self._current_row = row
            self.transcript.setCurrentRow(row)
            self.transcript.scrollToItem(self.transcript.item(row), QListWidget.ScrollHint.EnsureVisible)

    def _update_clock(self, t: float) -> None:
        self.clock.setText(f"{fmt_clock(t)} / {fmt_clock(self.duration_s)}")

    def _jump_to_item(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.ItemDataRole.UserRole)
        if t is not None:
            self.seek(float(t), play=True)

    # --- search ------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def find(self, text: str) -> list[int]:
        """Mark the transcript lines containing `text` (list and timeline); returns their rows."""
        segments = self.lines
        self._matches = find_segments(segments, text)
        hits = set(self._matches)
        for row in range(len(segments)):
            item = self.transcript.item(row)
            item.setBackground(QColor("#fff1c2") if row in hits else QColor(0, 0, 0, 0))
        self.timeline.set_matches(self._matches)
        if text.strip():
            n = len(self._matches)
            self.statusBar().showMessage(f"{n} line{'s' if n != 1 else ''} with “{text.strip()}”" if n else
                                         f"No line says “{text.strip()}”.")
            if self._matches:
                self.transcript.scrollToItem(self.transcript.item(self._matches[0]), QListWidget.ScrollHint.PositionAtCenter)
        else:
            self.statusBar().clearMessage()
        return list(self._matches)

    def next_match(self) -> None:
        """Enter in the search field: play from the next matching line after the playhead."""
        if not self._matches or self.result is None:
            return
        now = self.position_s()
        later = [i for i in self._matches if self.lines[i].start > now + 0.05]
        i = later[0] if later else self._matches[0]
        self.seek(self.lines[i].start)

    # --- opening others ---------------------------------------------------------------------------------
    def choose_recording(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a recorded call", str(self.path.parent), RECORDING_FILTER)
        if path:
            self._opener(path)

    # --- export ------------------------------------------------------------------------------------
    def export_dialog(self, kind: str = "html") -> None:
        if self.result is None:
            return
        suffix, name_filter = EXPORT_KINDS[kind]
        target, _ = QFileDialog.getSaveFileName(self, "Export", str(self.path.with_name(self.path.stem + suffix)), name_filter)
        if target:
            self.export(Path(target), kind)

    def export(self, target: Path, kind: str | None = None) -> str:
        """Write `kind` ("html", "cues", "segments", "pdf", "json"; by default from the suffix) to
        `target`; returns the sentence shown in the status line."""
        assert self.result is not None
        target = Path(target)
        kind = kind or {".json": "json", ".pdf": "pdf", ".csv": "cues"}.get(target.suffix.lower(), "html")
        try:
            exported = for_storage(self.result)  # redacted unless the user keeps numbers (Settings → Privacy)
            if kind == "json":
                write_json(exported, target)
            elif kind == "cues":
                write_cues_csv(exported, target)
            elif kind == "segments":
                write_segments_csv(exported, target)
            elif kind == "pdf":
                existed = target.exists()
                self.write_pdf(target)  # the cards and the timeline: no transcript text
                paths.give_to_user(target, existed)  # the user's umask, not the data folder's 077
            else:
                write_html(exported, target)
            message = f"{EXPORT_LABELS[kind]} saved to {target}"
        except OSError as exc:
            message = f"Could not save {target.name} ({exc.strerror or describe(exc)}): choose another folder."
        self.status.setText(message)
        return message

    def write_pdf(self, target: Path) -> None:
        """A4 landscape: the file and date, the cards and the timeline (vector, from the widgets), then the cues
        by time with what each was about (the timeline's dots carry no names), on further pages if need be."""
        if not target.parent.is_dir():
            raise FileNotFoundError(2, "No such folder", str(target.parent))
        writer = QPdfWriter(str(target))
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Landscape,
                                         QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter))
        writer.setResolution(96)
        writer.setTitle(f"Poise review: {self.path.name}")
        writer.setCreator("Poise")
        painter = QPainter()
        if not painter.begin(writer):
            raise PermissionError(13, "Permission denied", str(target))
        try:
            page = writer.pageLayout().paintRectPixels(writer.resolution())
            width = page.width()
            head = QFont(self.font())
            head.setPointSizeF(14)
            head.setBold(True)
            painter.setFont(head)
            painter.drawText(0, 20, f"Poise review · {self.path.name}")
            small = QFont(self.font())
            small.setPointSizeF(9)
            painter.setFont(small)
            assert self.result is not None
            painter.drawText(0, 40, f"{fmt_length(self.result.source.duration_s)} long · exported "
                                    f"{datetime.now().strftime('%Y-%m-%d %H:%M')}")
            y = 56.0
            scale = width / max(self.cards_box.width(), 1)
            painter.save()
            painter.translate(0, y)
            painter.scale(scale, scale)
            self.cards_box.render(painter, QPoint(0, 0))
            painter.restore()
            y += self.cards_box.height() * scale + 12
            view = self.timeline  # a QGraphicsView: drawn as vectors into the rectangle left
            scale = min(width / max(view.width(), 1), (page.height() - y) / max(view.height(), 1))
            for head in view.playheads.values():  # the page shows the call, not where playback stood
                head.hide()
            try:
                view.render(painter, QRectF(0, y, view.width() * scale, view.height() * scale), view.viewport().rect())
            finally:
                for head in view.playheads.values():
                    head.show()
            self._paint_cue_list(writer, painter, page, y + view.height() * scale + 16, QFont(self.font()), small)
        finally:
            painter.end()

    def _paint_cue_list(self, writer: QPdfWriter, painter: QPainter, page: QRect, y: float, head_font: QFont,
                        small: QFont) -> None:
        """The cues from `y` down, time, prompt and why (redacted as every export is), onto new pages as needed."""
        assert self.result is not None
        cues = sorted(for_storage(self.result).cues, key=lambda c: c.t)
        if not cues:
            return
        head_font.setPointSizeF(12)
        head_font.setBold(True)
        line_px = QFontMetrics(small).lineSpacing()
        painter.setFont(small)
        for i, cue in enumerate(cues):
            why = explain_cue(cue)
            text = f"{fmt_clock(cue.t)}   {cue.message}" + (f" — {why}" if why else "")
            box = painter.boundingRect(QRectF(0, 0, page.width(), 10 * line_px), Qt.TextFlag.TextWordWrap, text)
            if i == 0 or y + box.height() > page.height():
                if i > 0 or y + 24 + box.height() > page.height():
                    writer.newPage()
                    y = 0.0
                painter.setFont(head_font)
                painter.drawText(QRectF(0, y, page.width(), 20), f"Cues ({len(cues)})" + (", continued" if i else ""))
                painter.setFont(small)
                y += 24
            painter.drawText(QRectF(0, y, page.width(), box.height()), Qt.TextFlag.TextWordWrap, text)
            y += box.height() + line_px * 0.4

    # --- window ------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._cancel.set()
        self._frame.stop()
        if self.player is not None:
            self.player.close()
        save_geometry(GEOMETRY_FILE, self)
        super().closeEvent(event)


__all__ = ["ProgressThrottle", "ReviewWindow", "open_review", "wait_for_reviews"]
