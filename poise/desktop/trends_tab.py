"""Per-agent trends from the history: pace, interruptions per call and cues per 10 minutes, over real dates.

Used by the history window and the trainer. The x axis is the call's date and time
(pyqtgraph's `DateAxisItem`, local time), so calls a week apart are a week apart. The
demo call is not the agent's voice and is left out (`HistoryStore.trends`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise.audio.coach import wpm_from_rate
from poise.audio.store import HistoryStore, StoreError
from poise.desktop.profiles import ProfilePicker
from poise.desktop.widgets import AGENT_COLOR, CALLER_COLOR, CUE_COLOR, MUTED_TEXT, status_label
from poise.report.format import fmt_duration

TREND_CALLS = 200  # the agent's latest calls drawn (a working month of calls at ten a day)


class TrendsTab(QWidget):
    """One agent's pace, interruptions per call and cues per 10 minutes, oldest to newest.

    `agent` is shown first; the picker above the plots chooses another (without changing
    the agent calls are coached as). `history` is the store to read (default: the user's).
    Below the plots, the same calls in a table, newest first.
    """

    COLUMNS = ("Date", "Length", "Pace (wpm)", "Interruptions", "Cues", "Cues / 10 min", "Pitch (Hz)")

    def __init__(self, agent: str, history: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self.rows: list[dict[str, Any]] = []
        self.picker = ProfilePicker(history=history, save_choice=False, allow_new=False)
        self.picker.set_current(agent)
        self.picker.chosen.connect(lambda _name: self.refresh())
        top = QHBoxLayout()
        top.addWidget(QLabel("Agent", objectName="fieldLabel"))
        top.addWidget(self.picker)
        self.summary = QLabel("", objectName="hint")
        top.addWidget(self.summary, 1)

        self.pace_plot = self._plot("Pace per call (words per minute)")
        self.interrupt_plot = self._plot("Interruptions per call")
        self.cue_plot = self._plot("Cues per 10 minutes")
        for plot in (self.interrupt_plot, self.cue_plot):
            plot.setXLink(self.pace_plot)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setObjectName("trendsTable")
        plots = QWidget()
        c = QVBoxLayout(plots)
        c.setContentsMargins(0, 0, 0, 0)
        c.setSpacing(6)
        for plot in (self.pace_plot, self.interrupt_plot, self.cue_plot):
            c.addWidget(plot, 1)
        content = QSplitter(Qt.Orientation.Vertical)
        content.addWidget(plots)
        content.addWidget(self.table)
        content.setStretchFactor(0, 3)
        content.setStretchFactor(1, 1)
        content.setChildrenCollapsible(False)
        self.empty = QLabel("No calls yet", objectName="hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(content)
        self.status = status_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)

    @staticmethod
    def _plot(title: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}, background="#ffffff")
        plot.setTitle(title, color=MUTED_TEXT.name(), size="10pt")
        plot.showGrid(x=False, y=True, alpha=0.15)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        for name in ("left", "bottom"):
            plot.getAxis(name).setPen(pg.mkPen("#c5cacd"))
            plot.getAxis(name).setTextPen(pg.mkPen(MUTED_TEXT))
        plot.getAxis("left").setWidth(44)
        return plot

    def agent(self) -> str:
        return self.picker.current() or "default"

    def set_agent(self, agent: str) -> None:
        """Show `agent`'s trends."""
        self.picker.set_current(agent)
        self.refresh()

    def refresh(self) -> None:
        """Read the agent's calls from the history and redraw."""
        self.picker.refresh()
        try:
            store = self._history or HistoryStore()
            try:
                self.rows = store.trends(self.agent(), limit=TREND_CALLS)
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
        self.empty.setText(f"No calls yet for “{self.agent()}”: coached and reviewed calls appear here.")
        for plot in (self.pace_plot, self.interrupt_plot, self.cue_plot):
            plot.clear()
        self._fill_table(rows)
        if not rows:
            self.summary.setText("")
            return
        xs = np.array([datetime.fromisoformat(r["started_at"]).timestamp() for r in rows], float)
        paces = np.array([np.nan if (p := _pace(r)[0]) is None else p for r in rows], float)
        interrupts = np.array([np.nan if r.get("interruptions") is None else r["interruptions"] for r in rows], float)
        per10 = np.array([np.nan if r.get("cues_per_10min") is None else r["cues_per_10min"] for r in rows], float)
        dot = dict(symbol="o", symbolSize=7, symbolPen=None, connect="finite")
        self.pace_plot.plot(xs, paces, pen=pg.mkPen(AGENT_COLOR, width=2), symbolBrush=AGENT_COLOR, **dot)
        self.interrupt_plot.plot(xs, interrupts, pen=pg.mkPen(CALLER_COLOR, width=2), symbolBrush=CALLER_COLOR, **dot)
        self.cue_plot.plot(xs, per10, pen=pg.mkPen(CUE_COLOR, width=2), symbolBrush=CUE_COLOR, **dot)
        span = max(xs[-1] - xs[0], 3600.0)
        self.pace_plot.setXRange(xs[0] - span * 0.04, xs[-1] + span * 0.04, padding=0)
        for plot, ys, floor in ((self.interrupt_plot, interrupts, 3.0), (self.cue_plot, per10, 3.0)):
            top = np.nanmax(ys) if np.isfinite(ys).any() else 0.0
            high = max(floor, float(top) * 1.15)
            plot.setYRange(-0.06 * high, high, padding=0)  # a call at 0 sits on the axis, whole
        if np.isfinite(paces).any():
            lo, hi = float(np.nanmin(paces)), float(np.nanmax(paces))
            self.pace_plot.setYRange(max(0.0, lo - 20), hi + 20, padding=0)
        first = datetime.fromisoformat(rows[0]["started_at"]).astimezone()
        last = datetime.fromisoformat(rows[-1]["started_at"]).astimezone()
        self.summary.setText(
            f"{len(rows)} call{'s' if len(rows) != 1 else ''}, {first:%d %b %Y} – {last:%d %b %Y}"
        )


    def _fill_table(self, rows: list[dict[str, Any]]) -> None:
        self.table.setRowCount(len(rows))
        for i, r in enumerate(reversed(rows)):  # newest on top
            pace, estimated = _pace(r)
            when = datetime.fromisoformat(r["started_at"]).astimezone()
            per10 = r.get("cues_per_10min")
            cells = (
                f"{when:%Y-%m-%d %H:%M}",
                fmt_duration(r.get("duration_s")),
                "—" if pace is None else f"{pace:.0f}" + (" (est.)" if estimated else ""),
                "—" if r.get("interruptions") is None else str(r["interruptions"]),
                str(r.get("cue_count") or 0),
                "—" if per10 is None else f"{per10:.1f}",
                "—" if r.get("pitch_median_hz") is None else f"{r['pitch_median_hz']:.0f}",
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
