"""Per-agent trends from the history: pace, interruptions per call, cues per 10 minutes and what the agent
said (acknowledgements and defensive phrases per call, issue 10), over real dates.

The language counts are read from the transcript lines history keeps (`poise.language.trends`), off
the UI thread the first time (a working month of calls is ~0.5 s of phrase rules), then remembered.

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
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise import paths
from poise.audio.coach import wpm_from_rate
from poise.audio.store import HistoryStore, StoreError, borrowed_store
from poise.desktop.profiles import ProfilePicker
from poise.desktop.plots import still_plot
from poise.desktop.widgets import AGENT_COLOR, CALLER_COLOR, CUE_COLOR, MUTED_TEXT, empty_or, status_label
from poise.desktop.workers import run_in_background
from poise.language.trends import LanguageCountCache, LanguageCounts
from poise.report.format import row_numbers

TREND_CALLS = 200  # the agent's latest calls drawn (a working month of calls at ten a day)
_LANGUAGE_COUNTS = LanguageCountCache()  # per process: a saved call's transcript never changes
TABLE_MIN_ROWS = 4  # calls the table always shows under the four plots (it had room for one and a half)
TABLE_HEADER_PX = 30  # px: the column header and the frame
PLOT_MIN_PX = 110  # px per plot with its title and dates: room for three y labels that do not overlap
RATE_MIN_CALL_S = 30.0  # s: a shorter call's cue rate is not plotted (0 cues in a 5 s clip is not a calm call)



def _set_y(plot: pg.PlotWidget, lo: float, hi: float) -> None:
    """The y range, labelled at two or three round values (0 among them when it is in range): a plot of ~50 px
    with pyqtgraph's own ticks printed "200" over "180"."""
    plot.setYRange(lo, hi, padding=0)
    span = max(hi - max(lo, 0.0), 1e-9)
    step = next(s * 10**k for k in range(-1, 6) for s in (1, 2, 5) if span / (s * 10**k) <= 2.5)
    first = np.ceil(max(lo, 0.0) / step) * step
    values = np.arange(first, hi + 1e-9, step)
    plot.getAxis("left").setTicks([[(float(v), f"{v:g}") for v in values], []])

class TrendsTab(QWidget):
    """One agent's pace, interruptions per call and cues per 10 minutes, oldest to newest.

    `agent` is shown first; the picker above the plots chooses another (without changing
    the agent calls are coached as). `history` is the store to read (default: the user's).
    Below the plots, the same calls in a table, newest first.
    """

    COLUMNS = ("Date", "Length", "Pace (wpm)", "Interruptions", "Cues", "Cues / 10 min", "Pitch (Hz)", "Acknowledged",
               "Defensive")

    def __init__(self, agent: str, history: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self.rows: list[dict[str, Any]] = []
        self.language: dict[int, LanguageCounts] = {}  # per call id: what the agent said (filled off the UI thread)
        self._language_job = 0  # the latest count asked for; an older one's result is dropped
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
        self.language_plot = self._plot(
            f'What you said per call: <span style="color:{AGENT_COLOR.name()}">● acknowledgements</span>'
            f'&nbsp;&nbsp;<span style="color:{CUE_COLOR.name()}">✕ defensive phrases</span>')
        for plot in (self.interrupt_plot, self.cue_plot, self.language_plot):
            plot.setXLink(self.pace_plot)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)  # the whole date
        self.table.setObjectName("trendsTable")
        self.table.setMinimumHeight(TABLE_MIN_ROWS * self.table.verticalHeader().defaultSectionSize() + TABLE_HEADER_PX)
        plots = QWidget()
        c = QGridLayout(plots)  # two by two: stacked four high, each plot had ~20 px of data at the window's size
        c.setContentsMargins(0, 0, 0, 0)
        c.setSpacing(6)
        for i, plot in enumerate((self.pace_plot, self.interrupt_plot, self.cue_plot, self.language_plot)):
            c.addWidget(plot, i // 2, i % 2)
        content = QSplitter(Qt.Orientation.Vertical)
        content.addWidget(plots)
        content.addWidget(self.table)
        content.setStretchFactor(0, 3)
        content.setStretchFactor(1, 1)
        content.setChildrenCollapsible(False)
        self.stack, self.empty = empty_or(content, "No calls yet")
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
        still_plot(plot)
        plot.getAxis("left").setWidth(44)
        plot.setMinimumHeight(PLOT_MIN_PX)
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
            with borrowed_store(self._history) as store:
                self.rows = store.trends(self.agent(), limit=TREND_CALLS)
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        self._draw()
        self._count_language()

    def _count_language(self) -> None:
        """Acknowledgements and defensive phrases per call, from history's transcripts (cached; new calls off the UI thread)."""
        store = self._history
        key = str(store.path if store is not None else paths.history_db_path())
        calls = [(int(r["id"]), str(r["started_at"])) for r in self.rows]
        self._language_job += 1
        job = self._language_job
        known = _LANGUAGE_COUNTS.counts(key, calls, lambda _ids: {})
        if len(known) == len(calls):
            self._language_ready(job, known)
            return

        def work() -> dict[int, LanguageCounts]:
            if store is not None:
                return _LANGUAGE_COUNTS.counts(key, calls, store.segment_texts)
            with HistoryStore() as own:
                return _LANGUAGE_COUNTS.counts(key, calls, own.segment_texts)

        self._language_ready(job, known)  # what is known now; the rest when counted
        run_in_background(work, done=lambda counts: self._language_ready(job, counts),
                          failed=self.status.setText, owner=self, name="poise-trends-language")

    def _language_ready(self, job: int, counts: dict[int, LanguageCounts]) -> None:
        if job != self._language_job:
            return  # another agent (or a refresh) was asked for since
        self.language = dict(counts)
        self._draw_language()
        self._fill_table(self.rows)

    def _draw_language(self) -> None:
        plot = self.language_plot
        plot.clear()
        rows = [r for r in self.rows if int(r["id"]) in self.language]
        if not rows:
            return
        xs = np.array([datetime.fromisoformat(r["started_at"]).timestamp() for r in rows], float)
        acks = np.array([self.language[int(r["id"])].acknowledgements for r in rows], float)
        defensive = np.array([self.language[int(r["id"])].defensive for r in rows], float)
        plot.plot(xs, acks, pen=pg.mkPen(AGENT_COLOR, width=2), symbol="o", symbolSize=7, symbolPen=None,
                  symbolBrush=AGENT_COLOR)
        plot.plot(xs, defensive, pen=pg.mkPen(CUE_COLOR, width=1.5, style=Qt.PenStyle.DashLine), symbol="x",
                  symbolSize=8, symbolPen=pg.mkPen(CUE_COLOR, width=1.5), symbolBrush=CUE_COLOR)
        high = max(3.0, float(max(acks.max(), defensive.max())) * 1.15)
        _set_y(plot, -0.06 * high, high)

    def _draw(self) -> None:
        rows = self.rows
        self.stack.setCurrentIndex(1 if rows else 0)
        self.empty.setText(f"No calls yet for “{self.agent()}”: coached and reviewed calls appear here.")
        for plot in (self.pace_plot, self.interrupt_plot, self.cue_plot, self.language_plot):
            plot.clear()
        self._fill_table(rows)
        if not rows:
            self.summary.setText("")
            return
        xs = np.array([datetime.fromisoformat(r["started_at"]).timestamp() for r in rows], float)
        paces = np.array([np.nan if (p := _pace(r)[0]) is None else p for r in rows], float)
        interrupts = np.array([np.nan if r.get("interruptions") is None else r["interruptions"] for r in rows], float)
        per10 = np.array([np.nan if r.get("cues_per_10min") is None or (r.get("duration_s") or 0.0) < RATE_MIN_CALL_S
                          else r["cues_per_10min"] for r in rows], float)
        dot = dict(symbol="o", symbolSize=7, symbolPen=None, connect="finite")
        for plot, ys, colour in ((self.pace_plot, paces, AGENT_COLOR), (self.interrupt_plot, interrupts, CALLER_COLOR),
                                 (self.cue_plot, per10, CUE_COLOR)):
            if np.isfinite(ys).any():  # a series with no value at all (calls without words) draws nothing
                plot.plot(xs, ys, pen=pg.mkPen(colour, width=2), symbolBrush=colour, **dot)
        span = max(xs[-1] - xs[0], 3600.0)
        self.pace_plot.setXRange(xs[0] - span * 0.04, xs[-1] + span * 0.04, padding=0)
        for plot, ys, floor in ((self.interrupt_plot, interrupts, 3.0), (self.cue_plot, per10, 3.0)):
            top = np.nanmax(ys) if np.isfinite(ys).any() else 0.0
            high = max(floor, float(top) * 1.15)
            _set_y(plot, -0.06 * high, high)  # a call at 0 sits on the axis, whole
        if np.isfinite(paces).any():
            lo, hi = float(np.nanmin(paces)), float(np.nanmax(paces))
            _set_y(self.pace_plot, max(0.0, lo - 20), hi + 20)
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
            shown = row_numbers(r)  # the strings of the call's review, report and end-of-call message
            cells = (
                f"{when:%Y-%m-%d %H:%M}",
                shown.length,
                shown.pace_value if not estimated else "—" if pace is None else f"{pace:.0f} (est.)",
                shown.interruptions,
                str(shown.cues),
                shown.cues_per_10min,
                "—" if r.get("pitch_median_hz") is None else f"{r['pitch_median_hz']:.0f}",
                *_said(self.language.get(int(r["id"]))),
            )
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))


def _said(counts: LanguageCounts | None) -> tuple[str, str]:
    """The table's Acknowledged and Defensive cells ("…" while counting, "—" with no transcript)."""
    if counts is None:
        return "…", "…"
    if counts.sentences == 0:
        return "—", "—"
    return str(counts.acknowledgements), str(counts.defensive)


def _pace(row: dict[str, Any]) -> tuple[float | None, bool]:
    """(wpm, estimated): the transcript's wpm, else the articulation rate's estimate."""
    if row.get("wpm") is not None:
        return float(row["wpm"]), False
    if row.get("articulation_rate_sps") is not None:
        return wpm_from_rate(float(row["articulation_rate_sps"])), True
    return None, False
