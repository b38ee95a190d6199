"""The history window's follow-up reminders (issue 10): what the agent promised a caller, by when.

Every call whose notes promise a follow-up (`HistoryStore.due_follow_ups`, saved by the review's
language panel) is listed until it is marked done: overdue first, then due today, then the ones
coming up, each by due date. A row opens its call in review or is marked done. The panel hides
itself when nothing is open, so the Calls tab looks as before for an agent who promised nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise.audio.store import HistoryStore, StoreError
from poise.desktop.widgets import CUE_COLOR, MUTED_TEXT, TEXT_COLOR
from poise.language.notes import FollowUpReminder, reminders_in_order

VISIBLE_ROWS = 4  # rows shown before the list scrolls: the reminders must not push the calls off the tab
ROW_PX = 24


def _when(r: FollowUpReminder, today: date) -> str:
    return _due(r, today) + ("" if r.date_said() else " (no date said)")


def _due(r: FollowUpReminder, today: date) -> str:
    days = (r.due - today).days
    if days < 0:
        return f"Overdue {-days} day{'s' if days != -1 else ''} ({r.due:%a %d %b})"
    if days == 0:
        return "Due today"
    if days == 1:
        return "Due tomorrow"
    return f"Due {r.due:%a %d %b}"


class FollowUpsPanel(QFrame):
    """The open follow-ups: `refresh(store)` reads them; `open_requested(call_id)` asks to review one."""

    COLUMNS = ("When", "Agent", "Call", "Promised")
    open_requested = Signal(int)
    changed = Signal()  # a follow-up was marked done

    def __init__(self, today: Callable[[], date] = date.today, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self._today = today
        self._store: HistoryStore | None = None
        self.reminders: list[FollowUpReminder] = []
        self.title = QLabel("FOLLOW-UPS", objectName="cardTitle")
        self.summary = QLabel("", objectName="hint")
        self.table = QTableWidget(0, len(self.COLUMNS), objectName="followUps")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_PX)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((190, 110, 130)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.open_button = QPushButton("Open call")
        self.open_button.clicked.connect(lambda: self._open(self._selected()))
        self.done_button = QPushButton("Mark done")
        self.done_button.setToolTip("The follow-up was done: it leaves this list (the call's notes keep it)")
        self.done_button.clicked.connect(lambda: self.mark_done(self._selected()))
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.summary, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.done_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.hide()

    def refresh(self, store: HistoryStore | None) -> str | None:
        """Read the open follow-ups from `store`; returns a sentence when they could not be read."""
        self._store = store
        if store is None:
            self.reminders = []
            self._fill()
            return None
        try:
            self.reminders = reminders_in_order(store.due_follow_ups(), self._today())
        except StoreError as exc:
            self.reminders = []
            self._fill()
            return str(exc)
        self._fill()
        return None

    def _fill(self) -> None:
        today = self._today()
        rows = self.reminders
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            status = r.status(today)
            cells = (_when(r, today), r.agent, f"{r.started_at.astimezone():%d %b %H:%M}", r.follow_up or "(see the call's notes)")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(r.follow_up if j == 3 else text)
                if j == 0:
                    item.setForeground(QBrush(QColor(CUE_COLOR if status == "overdue" else TEXT_COLOR if status == "due today"
                                                     else MUTED_TEXT)))
                self.table.setItem(i, j, item)
        due = sum(r.status(today) != "upcoming" for r in rows)
        self.summary.setText(
            (f"{due} due or overdue, " if due else "") + f"{len(rows)} open" if rows else ""
        )
        self.table.setFixedHeight(self.table.horizontalHeader().height() + ROW_PX * min(max(len(rows), 1), VISIBLE_ROWS) + 4)
        if rows:
            self.table.selectRow(0)
        self.setVisible(bool(rows))
        self._update_buttons()

    def _selected(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _update_buttons(self) -> None:
        ok = 0 <= self._selected() < len(self.reminders)
        self.open_button.setEnabled(ok)
        self.done_button.setEnabled(ok)

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.reminders):
            self.open_requested.emit(self.reminders[row].call_id)

    def mark_done(self, row: int) -> str | None:
        """Mark reminder `row` done and drop it from the list; returns a sentence when it failed."""
        if self._store is None or not 0 <= row < len(self.reminders):
            return None
        try:
            self._store.mark_follow_up_done(self.reminders[row].call_id)
        except StoreError as exc:
            return str(exc)
        del self.reminders[row]
        self._fill()
        self.changed.emit()
        return None


__all__ = ["FollowUpsPanel"]
