"""The trainer's *Takes* tab: a trainee's scored read-along takes, their score trend, delete and compare.

The takes come from the history (`HistoryStore.list_practice_takes`, through
`poise.app.practice.list_takes`); the trend is `score_trend`. Choosing two takes and
*Compare* asks the window to show them side by side (`compare_requested(first, second)`,
the older first).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise.app.practice import PracticeTake, delete_take, list_takes, score_trend
from poise.audio.store import HistoryStore, StoreError, borrowed_store
from poise.desktop.plots import still_plot
from poise.desktop.widgets import AGENT_COLOR, MUTED_TEXT, empty_or, status_label
from poise.report.format import fmt_length

TAKES_SHOWN = 200  # the trainee's latest takes listed and drawn (a term of daily practice)


def pct(value: float | None) -> str:
    """A 0..1 share as "62 %" ("—" when unknown)."""
    return "—" if value is None else f"{value * 100:.0f} %"


class TakesTab(QWidget):
    """One trainee's practice takes, newest first, with their score over time."""

    COLUMNS = ("Date", "Script", "Target", "Score", "On pace", "Steadiness", "Pitch calm", "Length")
    compare_requested = Signal(int, int)  # take ids, the older first

    def __init__(self, agent: str, history: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._agent = agent
        self._history = history
        self.takes: list[PracticeTake] = []

        self.summary = QLabel("", objectName="hint")
        self.compare_button = QPushButton("Compare the two selected", objectName="compareButton")
        self.compare_button.setToolTip("Show two takes side by side (the last two when fewer are selected)")
        self.compare_button.clicked.connect(self.compare_selected)
        self.delete_button = QPushButton("Delete", objectName="deleteTakeButton")
        self.delete_button.setToolTip("Delete the selected takes from the trainee's history")
        self.delete_button.clicked.connect(self.delete_selected)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.delete_button)

        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}, background="#ffffff")
        self.plot.setTitle("Score per take (0–100)", color=MUTED_TEXT.name(), size="10pt")
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        still_plot(self.plot)
        self.plot.getAxis("left").setWidth(44)
        self.plot.setYRange(0, 100, padding=0.04)
        self.plot.setMinimumHeight(150)

        self.table = QTableWidget(0, len(self.COLUMNS), objectName="takesTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.compare_selected())

        content = QSplitter(Qt.Orientation.Vertical)
        content.addWidget(self.plot)
        content.addWidget(self.table)
        content.setStretchFactor(0, 2)
        content.setStretchFactor(1, 3)
        content.setChildrenCollapsible(False)
        self.stack, self.empty = empty_or(content)
        self.status = status_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)

    # ------------------------------------------------------------------------------------
    def agent(self) -> str:
        return self._agent

    def set_agent(self, agent: str) -> None:
        """Show `agent`'s takes."""
        self._agent = agent
        self.refresh()

    def refresh(self) -> None:
        """Read the trainee's takes from the history and redraw."""
        try:
            with borrowed_store(self._history) as store:
                self.takes = list_takes(store, self._agent, limit=TAKES_SHOWN)
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        self._draw()

    def selected_takes(self) -> list[PracticeTake]:
        """The takes selected in the table, newest first."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.takes[r] for r in rows if r < len(self.takes)]

    def select(self, take_ids: list[int]) -> None:
        """Select these takes in the table (as clicks would)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, take in enumerate(self.takes):
            if take.id in take_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def compare_selected(self) -> None:
        """Ask to compare the two selected takes, or the last two when fewer than two are selected."""
        chosen = self.selected_takes()
        if len(chosen) > 2:
            self.status.setText("Select two takes to compare, not more.")
            return
        if len(chosen) < 2:
            if len(self.takes) < 2:
                self.status.setText("Two takes are needed to compare: read the script again.")
                return
            chosen = self.takes[:2]
        older, newer = sorted(chosen, key=lambda t: (t.started_at, t.id))
        self.status.setText("")
        self.compare_requested.emit(older.id, newer.id)

    def delete_selected(self) -> None:
        """Delete the selected takes from the history."""
        chosen = self.selected_takes()
        if not chosen:
            self.status.setText("Select the takes to delete first.")
            return
        try:
            with borrowed_store(self._history) as store:
                for take in chosen:
                    delete_take(store, take)  # the row and the take's sound
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self.refresh()
        self.status.setText(f"Deleted {len(chosen)} take{'s' if len(chosen) != 1 else ''}.")

    # ------------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        n = len(self.selected_takes())
        self.delete_button.setEnabled(n > 0)
        self.compare_button.setText("Compare the two selected" if n == 2 else "Compare the last two")

    def _draw(self) -> None:
        takes = self.takes
        self.stack.setCurrentIndex(1 if takes else 0)
        self.empty.setText(
            f"No practice takes yet for “{self._agent}”: read a script in “Read at pace” and its score is saved here."
        )
        self._fill_table(takes)
        self._selection_changed()
        self.compare_button.setEnabled(len(takes) >= 2)
        trend = score_trend(takes)
        self.summary.setText(trend.summary() if takes else "")
        self.plot.clear()
        if not trend.scores:
            return
        xs = np.array([t.timestamp() for t in trend.times], float)
        ys = np.array(trend.scores, float)
        self.plot.plot(xs, ys, pen=pg.mkPen(AGENT_COLOR, width=2), symbol="o", symbolSize=7,
                       symbolPen=None, symbolBrush=AGENT_COLOR)
        span = max(xs[-1] - xs[0], 600.0)
        self.plot.setXRange(xs[0] - span * 0.05, xs[-1] + span * 0.05, padding=0)
        self.plot.setYRange(0, 100, padding=0.04)

    def _fill_table(self, takes: list[PracticeTake]) -> None:
        self.table.setRowCount(len(takes))
        for i, take in enumerate(takes):
            s = take.score
            when = take.started_at.astimezone()
            cells = (
                f"{when:%Y-%m-%d %H:%M}",
                take.script_title,
                f"{take.target_wpm:.0f} wpm",
                "—" if s.overall is None else f"{s.overall:.0f}",
                pct(s.time_in_band),
                pct(s.steadiness),
                pct(s.pitch_calm),
                fmt_length(take.duration_s),
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j == 1 and take.words_read is not None and take.words_total:
                    item.setToolTip(f"read {take.words_read} of {take.words_total} words")
                self.table.setItem(i, j, item)
