"""The trainer's *Trends* tab: pace and cue count per call for one agent, from the history."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise.audio.coach import wpm_from_rate
from poise.audio.store import HistoryStore, StoreError
from poise.desktop.widgets import AGENT_COLOR, CUE_COLOR, MUTED_TEXT, status_label
from poise.report.format import fmt_duration


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
        self.table.setObjectName("trendsTable")

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
        self.status = status_label()

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
