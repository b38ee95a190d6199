"""The read-along's live strip: the reader's pace against the target band and their pitch against
their own median, drawn as the take goes.

Fed with the practice call's meters (about ten a second). The pitch is in semitones from the
median of this take's pitch so far, with the score's ±3 st "calm" limits dashed
(`poise.app.practice.PITCH_CALM_ST`), so what is drawn is what the score will count.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from poise.app.practice import PITCH_CALM_ST
from poise.desktop.plots import TimeAxis, still_plot
from poise.desktop.widgets import AGENT_COLOR, BAND_COLOR, MUTED_TEXT

PACE_RANGE_WPM = (60.0, 260.0)  # as the live gauge
PITCH_RANGE_ST = (-7.0, 7.0)  # semitones from the take's own median
MIN_SPAN_S = 30.0  # s: the axis shows at least this much, so the line grows from the left
STRIP_HEIGHT_PX = 116  # px: both lanes and the time axis, under the gauge


class LiveStrip(pg.GraphicsLayoutWidget):
    """Pace and pitch of the take so far; `clear_take()` at Start, `add(t, wpm, pitch_hz)` per meter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveStrip")
        self.setBackground("w")
        self.setFixedHeight(STRIP_HEIGHT_PX)
        self.ci.setContentsMargins(0, 0, 0, 0)
        self.ci.setSpacing(2)
        self.pace = self._lane(0, "pace", bottom_axis=False)
        self.pitch = self._lane(1, "pitch", bottom_axis=True)
        self.pitch.setXLink(self.pace)
        self.pace.setYRange(*PACE_RANGE_WPM, padding=0)
        self.pitch.setYRange(*PITCH_RANGE_ST, padding=0)
        self.pace.getAxis("left").setTicks([[(v, f"{v:.0f}") for v in (100.0, 200.0)]])
        self.pitch.getAxis("left").setTicks([[(-PITCH_CALM_ST, f"−{PITCH_CALM_ST:.0f}"), (0.0, "0"), (PITCH_CALM_ST, f"+{PITCH_CALM_ST:.0f}")]])
        self.setToolTip(
            "Pace in words per minute against the target band; pitch in semitones from your median in this take "
            f"(outside the dashed lines, ±{PITCH_CALM_ST:.0f}, counts against pitch calm)"
        )
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.band = pg.LinearRegionItem(values=(135.0, 165.0), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(BAND_COLOR), pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.pace.addItem(self.band, ignoreBounds=True)
        dashed = pg.mkPen(MUTED_TEXT, width=1, style=Qt.PenStyle.DashLine)
        for level in (-PITCH_CALM_ST, PITCH_CALM_ST):
            self.pitch.addItem(pg.InfiniteLine(pos=level, angle=0, pen=dashed), ignoreBounds=True)
        self.pitch.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#c5cacd", width=1)), ignoreBounds=True)
        self.pace_curve = self.pace.plot([], [], pen=pg.mkPen(AGENT_COLOR, width=2), connect="finite")
        self.pitch_curve = self.pitch.plot([], [], pen=pg.mkPen(AGENT_COLOR, width=1.5), connect="finite")
        self.t: list[float] = []
        self.wpm: list[float] = []
        self.pitch_hz: list[float] = []
        self.clear_take()

    def _lane(self, row: int, label: str, *, bottom_axis: bool) -> pg.PlotItem:
        self.addLabel(label, row=row, col=0, justify="right", color=MUTED_TEXT, size="8pt")
        axis = {"bottom": TimeAxis(orientation="bottom")} if bottom_axis else {}
        plot = self.addPlot(row=row, col=1, axisItems=axis)
        still_plot(plot)
        plot.getAxis("left").setWidth(32)
        plot.getAxis("left").setStyle(tickLength=-3)
        if not bottom_axis:
            plot.hideAxis("bottom")
        return plot

    def set_band(self, lo: float, hi: float) -> None:
        """The target band (wpm)."""
        self.band.setRegion((lo, hi))

    def clear_take(self) -> None:
        """A new take: nothing drawn yet."""
        self.t, self.wpm, self.pitch_hz = [], [], []
        self.pace_curve.setData([], [])
        self.pitch_curve.setData([], [])
        self.pace.setXRange(0.0, MIN_SPAN_S, padding=0)

    def add(self, t: float, wpm: float | None, pitch_hz: float | None) -> None:
        """One meter reading of the take (audio time `t`, s)."""
        self.t.append(float(t))
        self.wpm.append(math.nan if wpm is None else float(wpm))
        self.pitch_hz.append(math.nan if pitch_hz is None or pitch_hz <= 0 else float(pitch_hz))
        t_arr = np.asarray(self.t)
        self.pace_curve.setData(t_arr, np.clip(np.asarray(self.wpm), *PACE_RANGE_WPM))
        self.pitch_curve.setData(t_arr, np.clip(self.pitch_st(), *PITCH_RANGE_ST))
        self.pace.setXRange(0.0, max(MIN_SPAN_S, float(t) * 1.05), padding=0)

    def pitch_st(self) -> np.ndarray:
        """The pitch so far in semitones from its median so far (NaN where unvoiced)."""
        hz = np.asarray(self.pitch_hz, float)
        voiced = hz[np.isfinite(hz)]
        if not len(voiced):
            return np.full(len(hz), np.nan)
        return 12.0 * np.log2(hz / float(np.median(voiced)))
