"""The review window's "What was said" pane: the language summary, the call notes and the phrase moments.

The summary and the moments come from `poise.language.summary.summarize` on the call's segments
and cues. The notes are saved with the call in history: the pane finds the call by its recording
(the review saved it, or it was already there), shows the notes saved before or else the draft,
and saves every edit a moment after the typing stops (`SAVE_AFTER_MS`), with the follow-up's due
date read from the notes' "Follow-up:" line against the call's date (`poise.language.notes`).
A draft that promises a follow-up is saved at once, so the reminder is in the history window
even if the agent never edits it. Clicking a moment asks the window to play from a little before
it (`seek_requested`).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QHideEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QScrollArea,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from poise import paths
from poise.app.redact import for_storage
from poise.audio.store import HistoryStore, StoreError
from poise.audio.types import AnalysisResult
from poise.language.notes import SavedNotes, follow_up_due, follow_up_line
from poise.language.summary import FAMILY_NAMES, LanguageSummary, draft_notes_text, summarize
from poise.report.format import fmt_clock

MOMENT_LEAD_S = 1.0  # s played before a moment, so its sentence is heard from its start
NOTES_LINES = 5  # visible lines of the notes editor
MOMENTS_MIN_PX = 90  # px: at least two moments visible under the notes (the pane scrolls to them)
SAVE_AFTER_MS = 800  # ms after the last keystroke before the notes are saved (one write per pause, not per key)


class LanguagePanel(QWidget):
    """What was said in one call; `set_result` fills it."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("languagePanel")
        self.summary: LanguageSummary | None = None
        self.history_path: Path | None = None  # the history file the notes go to (None: the user's)
        self.call_id: int | None = None  # the call in history the notes belong to
        self.call_date: date | None = None  # the call's local date: what "tomorrow" is counted from
        self._saved: SavedNotes | None = None  # the notes as history has them
        self._problem: str | None = None  # why the notes cannot be saved (one sentence)
        self._open_store: HistoryStore | None = None
        self._loading = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_AFTER_MS)
        self._save_timer.timeout.connect(self.save_notes)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)  # the review gives this pane what the timeline leaves: it scrolls, never overlaps
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        scroll.setWidget(content)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.setSpacing(6)
        title = QLabel("WHAT WAS SAID", objectName="cardTitle")
        self.lines = QLabel("No transcript yet.", objectName="hint")
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        notes_title = QLabel("CALL NOTES", objectName="cardTitle")
        notes_title.setToolTip("Drafted from the transcript; edit freely: your edits are saved with the call")
        self.notes = QPlainTextEdit(objectName="callNotes")
        self.notes.setPlaceholderText("Concern, what was offered, the follow-up and when.")
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * NOTES_LINES + 14)
        self.copy_button = QPushButton("Copy notes")
        self.copy_button.setToolTip("Copy the notes to paste them into your ticket or CRM")
        self.copy_button.clicked.connect(self.copy_notes)
        self.notes.textChanged.connect(self._edited)
        self.follow_up_label = QLabel("", objectName="hint")
        self.follow_up_label.setWordWrap(True)
        self.follow_up_done = QCheckBox("Done")
        self.follow_up_done.setToolTip("The promised follow-up was done: it leaves the reminders in the history window")
        self.follow_up_done.toggled.connect(self._done_toggled)
        self.follow_up_done.hide()
        self.notes_status = QLabel("", objectName="hint")
        self.notes_status.setWordWrap(True)
        follow = QHBoxLayout()
        follow.addWidget(self.follow_up_label, 1)
        follow.addWidget(self.follow_up_done)
        row = QHBoxLayout()
        row.addWidget(notes_title, 1)
        row.addWidget(self.copy_button)
        self.moments = QListWidget(objectName="languageMoments")
        self.moments.setWordWrap(True)
        self.moments.itemClicked.connect(self._jump)
        layout.addWidget(title)
        layout.addWidget(self.lines)
        layout.addLayout(row)
        layout.addWidget(self.notes)
        layout.addLayout(follow)
        layout.addWidget(self.notes_status)
        self.moments.setMinimumHeight(MOMENTS_MIN_PX)
        layout.addWidget(self.moments, 1)

    def set_result(self, result: AnalysisResult, call_id: int | None = None) -> None:
        """Show the call's language summary, notes and moments; `call_id` is its history row (default: found
        by the recording)."""
        self.flush()
        self.summary = summary = summarize(result.segments, result.cues)
        self.moments.clear()
        self._find_call(result, call_id)
        if not result.segments:
            self.lines.setText("No transcript: nothing to read here.")
            self._show_notes(self._saved_text() or "", draft=False)
            return
        self.lines.setText("\n".join(summary.lines()))
        saved = self._saved_text()
        self._show_notes(saved if saved is not None else self._draft(result), draft=saved is None)
        for m in summary.moments:
            item = QListWidgetItem(f"{fmt_clock(m.t)}  {m.role.capitalize()} · {FAMILY_NAMES.get(m.family, m.family)}\n        {m.text}")
            item.setData(Qt.ItemDataRole.UserRole, max(m.t - MOMENT_LEAD_S, 0.0))
            item.setToolTip(f"Click to hear it from {fmt_clock(max(m.t - MOMENT_LEAD_S, 0.0))}")
            self.moments.addItem(item)
        if not summary.moments:
            self.moments.addItem("No phrases of note.")

    def _draft(self, result: AnalysisResult) -> str:
        """The draft notes, from the transcript as history keeps it: numbers redacted unless the user keeps them
        (the draft is saved with the call, so it must not hold what the stored transcript may not)."""
        try:
            stored = for_storage(result)
        except Exception:  # noqa: BLE001 - unreadable settings: redact, the safe side
            stored = for_storage(result, keep_numbers=False)
        assert stored is not None
        return draft_notes_text(stored.segments)

    # --- the notes in history --------------------------------------------------------------------
    def _store(self) -> contextlib.AbstractContextManager[HistoryStore]:
        """The history, opened once while the pane is in use (each save is one small write, not an open)."""
        path = self.history_path or paths.history_db_path()
        if self._open_store is None or self._open_store.path != path:
            self._close_store()
            self._open_store = HistoryStore(path)
        return contextlib.nullcontext(self._open_store)

    def _close_store(self) -> None:
        if self._open_store is not None:
            self._open_store.close()
            self._open_store = None

    def _find_call(self, result: AnalysisResult, call_id: int | None) -> None:
        self.call_id, self.call_date, self._problem, self._saved = call_id, None, None, None
        path = self.history_path or paths.history_db_path()
        if call_id is None and (not result.source.path or not path.exists()):
            return
        try:
            with self._store() as store:
                if call_id is None:
                    self.call_id = store.call_with_recording(Path(result.source.path))
                if self.call_id is not None:
                    started = store.call_started_at(self.call_id)
                    self.call_date = started.astimezone().date() if started is not None else None
                    self._saved = store.load_notes(self.call_id)
        except StoreError as exc:
            self.call_id, self._problem = None, str(exc)

    def _saved_text(self) -> str | None:
        saved = self._saved
        return saved.text if saved is not None and self.call_id is not None and saved.call_id == self.call_id else None

    def _show_notes(self, text: str, draft: bool) -> None:
        self._loading = True
        self.notes.setPlainText(text)
        self._loading = False
        saved = self._saved if not draft else None
        self.follow_up_done.blockSignals(True)
        self.follow_up_done.setChecked(bool(saved is not None and saved.follow_up_done))
        self.follow_up_done.blockSignals(False)
        if self.call_id is None:
            self.notes_status.setText(self._problem or "This call is not in history: the notes are not saved (copy them).")
        elif draft and follow_up_line(text) is not None:
            self.save_notes()  # the promise becomes a reminder at once
            return
        elif draft:
            self.notes_status.setText("Draft from the transcript: your edits are saved with the call.")
        else:
            when = saved.updated_at.astimezone() if saved is not None else datetime.now()
            self.notes_status.setText(f"Saved with the call ({when:%d %b %H:%M}).")
        self._show_due(text)

    def _show_due(self, text: str) -> None:
        due = follow_up_due(text, self.call_date) if self.call_date is not None else None
        self.follow_up_done.setVisible(due is not None and self.call_id is not None)
        if due is None:
            self.follow_up_label.setText("No follow-up promised." if self.call_date is not None else "")
            return
        self.follow_up_label.setText(f"Follow-up due {due:%a %d %b %Y}.")

    def _edited(self) -> None:
        if self._loading:
            return
        self._show_due(self.notes.toPlainText())
        if self.call_id is not None:
            self.notes_status.setText("Editing…")
            self._save_timer.start()

    def save_notes(self) -> bool:
        """Save the notes as they stand with the call (and the follow-up's due date); False when not saved."""
        self._save_timer.stop()
        if self.call_id is None:
            return False
        text = self.notes.toPlainText()
        due = follow_up_due(text, self.call_date) if self.call_date is not None else None
        try:
            with self._store() as store:
                store.save_notes(self.call_id, text, due)
                self._saved = store.load_notes(self.call_id)
        except StoreError as exc:
            self.notes_status.setText(str(exc))
            return False
        self.notes_status.setText(f"Saved with the call ({datetime.now():%H:%M}).")
        self._show_due(text)
        self.follow_up_done.blockSignals(True)
        self.follow_up_done.setChecked(bool(self._saved is not None and self._saved.follow_up_done))
        self.follow_up_done.blockSignals(False)
        return True

    def flush(self) -> None:
        """Save an edit still waiting for its pause."""
        if self._save_timer.isActive():
            self.save_notes()

    def _done_toggled(self, done: bool) -> None:
        self.flush()
        if self.call_id is None:
            return
        try:
            with self._store() as store:
                if store.load_notes(self.call_id) is None:
                    store.save_notes(self.call_id, self.notes.toPlainText(),
                                     follow_up_due(self.notes.toPlainText(), self.call_date or date.today()))
                store.mark_follow_up_done(self.call_id, done)
                self._saved = store.load_notes(self.call_id)
        except StoreError as exc:
            self.notes_status.setText(str(exc))
            return
        self.notes_status.setText("Follow-up marked done." if done else "Follow-up open again.")

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        self.flush()
        self._close_store()  # the review closed (or hid): the history file is not held open
        super().hideEvent(event)

    def notes_text(self) -> str:
        """The notes as the agent left them."""
        return self.notes.toPlainText()

    def copy_notes(self) -> None:
        QGuiApplication.clipboard().setText(self.notes_text())

    def _jump(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.ItemDataRole.UserRole)
        if t is not None:
            self.seek_requested.emit(float(t))
