"""The review window's "What was said" pane: the language summary, the draft call notes and the phrase moments.

Everything shown comes from `poise.language.summary.summarize` on the call's segments and cues,
so the pane needs nothing but an `AnalysisResult`. Clicking a moment asks the window to play
from a little before it (`seek_requested`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QHBoxLayout, QWidget

from poise.audio.types import AnalysisResult
from poise.language.summary import LanguageSummary, summarize
from poise.report.format import fmt_clock

MOMENT_LEAD_S = 1.0  # s played before a moment, so its sentence is heard from its start
NOTES_LINES = 5  # visible lines of the notes editor
FAMILY_NAMES = {
    "acknowledge": "acknowledged",
    "apology": "apologised",
    "defensive": "defensive",
    "confirm": "repeated back",
    "next_steps": "next step",
    "escalation": "offered escalation",
    "boundary": "set a boundary",
    "abuse": "abusive",
    "hostile": "hostile / distressed",
}


class LanguagePanel(QWidget):
    """What was said in one call; `set_result` fills it."""

    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("languagePanel")
        self.summary: LanguageSummary | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        title = QLabel("WHAT WAS SAID", objectName="cardTitle")
        self.lines = QLabel("No transcript yet.", objectName="hint")
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        notes_title = QLabel("CALL NOTES (DRAFT, EDIT FREELY)", objectName="cardTitle")
        self.notes = QPlainTextEdit(objectName="callNotes")
        self.notes.setPlaceholderText("Concern, what was offered, the follow-up and when.")
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * NOTES_LINES + 14)
        self.copy_button = QPushButton("Copy notes")
        self.copy_button.setToolTip("Copy the notes to paste them into your ticket or CRM")
        self.copy_button.clicked.connect(self.copy_notes)
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
        layout.addWidget(self.moments, 1)

    def set_result(self, result: AnalysisResult) -> None:
        """Show the call's language summary, notes and moments."""
        self.summary = summary = summarize(result.segments, result.cues)
        self.moments.clear()
        if not result.segments:
            self.lines.setText("No transcript: nothing to read here.")
            self.notes.setPlainText("")
            return
        self.lines.setText("\n".join(summary.lines()))
        self.notes.setPlainText(summary.notes.as_text())
        for m in summary.moments:
            item = QListWidgetItem(f"{fmt_clock(m.t)}  {m.role.capitalize()} · {FAMILY_NAMES.get(m.family, m.family)}\n        {m.text}")
            item.setData(Qt.ItemDataRole.UserRole, max(m.t - MOMENT_LEAD_S, 0.0))
            item.setToolTip(f"Click to hear it from {fmt_clock(max(m.t - MOMENT_LEAD_S, 0.0))}")
            self.moments.addItem(item)
        if not summary.moments:
            self.moments.addItem("No phrases of note.")

    def notes_text(self) -> str:
        """The notes as the agent left them."""
        return self.notes.toPlainText()

    def copy_notes(self) -> None:
        QGuiApplication.clipboard().setText(self.notes_text())

    def _jump(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.ItemDataRole.UserRole)
        if t is not None:
            self.seek_requested.emit(float(t))
