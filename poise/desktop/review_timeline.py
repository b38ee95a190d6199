"""The review's timeline: lanes that read at a glance, a playhead on each, cue markers that explain themselves.

Lanes, top to bottom, all on one mm:ss axis:
- the call: each side's loudness envelope (agent up, caller down), drawn from the audio alone
  the moment it is read, before any analysis; search matches are marked on it;
- cues: one dot per cue, on up to three rows so neighbours never overlap at the current zoom;
  hovering says what happened in plain words;
- the caller's heat (0..1, the live coach's own causal measure, `AnalysisResult.caller_heat`) as
  a quiet purple area, darker where it reached "heated", with what the agent said that matters
  marked on it (acknowledged, defensive, boundary, next step): hovering shows the words;
- pace in words per minute per agent turn, the target band shaded;
- pitch in semitones against the agent's normal, the cue threshold dashed;
- loudness in dB against each side's normal.
No chart-library controls are shown (auto-range button, right-click menu); the wheel zooms
in time, a drag pans, a click asks to play from there (`seek_requested`).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QWidget

from poise.app.review import CUE_LEAD_S, LEVEL_FLOOR_DB, explain_cue, gap_label, marker_rows, pace_spans, semitones
from poise.audio.types import AnalysisResult, Segment
from poise.language.coach import PhraseMoment
from poise.language.heat import HEATED
from poise.language.summary import summarize
from poise.desktop.plots import TimeAxis
from poise.desktop.widgets import AGENT_COLOR, BAND_COLOR, CALLER_COLOR, CUE_COLOR, MUTED_TEXT
from poise.report.format import fmt_clock, no_cues_sentence

LABEL_WIDTH_PX = 84  # px: the lanes' names, in a column of their own, left of the plots
AXIS_WIDTH_PX = 34  # px: the tick numbers; the same on every lane so the lanes line up
MARKER_PX = 13  # px: a cue dot, and the least distance between two dots on one row
MARKER_ROWS = 3
PACE_RANGE_WPM = (60.0, 340.0)  # the pace lane's scale: a rushed stretch reads 280-330 wpm (the demo's), clipped at 260
PITCH_RANGE_ST = (-6.0, 9.0)  # semitones against the normal: a stressed voice rises 3-6
LOUDNESS_RANGE_DB = (-15.0, 15.0)  # dB against the normal
MATCH_COLOR = QColor("#d9a400")  # search matches: amber, apart from the cue red
PLAYHEAD_COLOR = QColor("#222222")
GAP_COLOR = QColor(120, 120, 120, 150)  # a device gap: grey hatching over every lane (nothing was heard there)
GAP_FILL = QColor(120, 120, 120, 40)  # and a faint grey under it, so a narrow gap still reads as a span
MIN_HEIGHT_PX = 326  # px: every lane readable, and the time axis
HEAT_RANGE = (-0.04, 1.3)  # the heat lane's scale: heat 0..1, the phrase marks above it at MOMENT_Y
MOMENT_Y = 1.14
MOMENT_PX = 10  # px: a phrase mark (smaller than a cue dot: a cue asks for attention, a phrase is context)
MOMENT_QUOTE_CHARS = 90  # characters of the sentence a phrase mark's tip quotes
HEAT_FILL_ALPHA = 55  # the whole heat curve: quiet
HEATED_FILL_ALPHA = 170  # above HEATED: where the caller was heated, readable at a glance
# The agent's phrase families drawn on the heat lane: (label, pyqtgraph symbol, colour). An apology
# without blame is drawn as an acknowledgement (the summary counts both).
MOMENT_STYLE: dict[str, tuple[str, str, QColor]] = {
    "acknowledge": ("acknowledged", "o", AGENT_COLOR),
    "apology": ("acknowledged (apology)", "o", AGENT_COLOR),
    "defensive": ("defensive", "x", CUE_COLOR),
    "boundary": ("set a boundary", "s", AGENT_COLOR),
    "next_steps": ("next step", "t2", AGENT_COLOR),
}
LANE_TIPS = {  # what each lane draws, in plain words (hover its name)
    "call": "Who speaks when: the agent above the line, the caller below it, by loudness.",
    "cues": "The prompts Poise gave, where it gave them. Click one to hear that moment.",
    "heat": "Shaded: how heated the caller sounds against their own normal in this call (pitch, loudness, pace, "
            "hostile words); darker where heated. Marks: \u25cf acknowledged or apologised, \u2715 defensive, "
            "\u25a0 set a boundary, \u25b2 next step. Hover a mark to read the sentence.",
    "pace": "Words per minute of each agent turn, pauses inside it included; the band is a comfortable phone pace.",
    "pitch": "The agent's pitch in semitones against their own normal; the dashed line is where Lower your tone starts.",
    "loudness": "Loudness in dB: the agent's against their normal, the caller's against the caller's own median.",
}
MOMENT_LEAD_S = 1.0  # s: a clicked phrase mark plays from a little before its sentence (as the language panel)
# Points per pixel column the filled areas (the call's envelope, the caller's heat) are drawn with. pyqtgraph's
# default is 5; its "peak" downsampling keeps each bin's minimum and maximum, so one bin per pixel column loses
# nothing on screen, and a filled area costs per point (it is filled in polygons of 50 points): the full view of a
# 30-minute call went from ~9,000 to ~1,600 points per side, its frame from 39 to 33 ms of CPU (2026-12-01).
FILL_SAMPLES_PER_PX = 1.0
FOLLOW_MARGIN = 0.05  # share of the visible span: the view pages on when the playhead gets this close to its edge


def _with_alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class ReviewTimeline(pg.GraphicsLayoutWidget):
    """The lanes of one call; `set_audio` first, `set_result` when the analysis is done."""

    seek_requested = Signal(float)  # call time the user clicked, s

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setObjectName("reviewTimeline")
        self.duration_s = 1.0
        self._cues: list = []
        self._cue_gap_s: float | None = None  # s: the least gap between dots on one row the cue rows were laid out for
        self._segments: list[Segment] = []
        self.plots: dict[str, pg.PlotItem] = {}
        self.playheads: dict[str, pg.InfiniteLine] = {}
        self._notes: dict[str, pg.TextItem] = {}
        lanes = [("call", "the call", 64), ("cues", "cues", 28), ("heat", "caller heat<br>&amp; your words", 36),
                 ("pace", "pace<br>words/min", 52),
                 ("pitch", "pitch, semitones<br>vs your normal", 52), ("loudness", "loudness, dB<br>vs normal", 52)]
        self.lane_labels: dict[str, pg.LabelItem] = {}
        for row, (key, label, height) in enumerate(lanes):
            axis = {"bottom": TimeAxis(orientation="bottom")} if key == "loudness" else {}
            name = self.addLabel(label, row=row, col=0, justify="right", color=MUTED_TEXT, size="8pt")
            self.lane_labels[key] = name
            name.setToolTip(LANE_TIPS[key])
            p = self.addPlot(row=row, col=1, axisItems=axis)
            p.hideButtons()  # no auto-range "A" button
            p.setMenuEnabled(False)  # no right-click menu
            p.setMouseEnabled(x=True, y=False)
            p.getViewBox().setMouseMode(pg.ViewBox.PanMode)
            p.getAxis("left").setWidth(AXIS_WIDTH_PX)
            if key != "loudness":
                p.hideAxis("bottom")
            if row:
                p.setXLink(self.plots["call"])
            p.setMinimumHeight(height)
            p.setMaximumHeight(height * 1.6)
            head = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen(PLAYHEAD_COLOR, width=1.5), movable=False)
            head.setZValue(50)
            p.addItem(head, ignoreBounds=True)
            self.plots[key] = p
            self.playheads[key] = head
        self.ci.layout.setVerticalSpacing(2)
        self.setMinimumHeight(MIN_HEIGHT_PX)
        self.ci.layout.setColumnFixedWidth(0, LABEL_WIDTH_PX)
        cues = self.plots["cues"]
        cues.setYRange(-0.5, MARKER_ROWS - 0.5, padding=0)
        cues.getAxis("left").setTicks([[]])
        self.plots["call"].getAxis("left").setTicks([[]])
        self.lane_labels["call"].setText(f'<span style="color:{AGENT_COLOR.name()}">agent ▲</span><br>'
                                         f'<span style="color:{CALLER_COLOR.name()}">caller ▼</span>', size="8pt")
        self.plots["call"].setYRange(-1.05, 1.05, padding=0)
        self.plots["heat"].setYRange(*HEAT_RANGE, padding=0)
        self.plots["heat"].getAxis("left").setTicks([[]])
        self.lane_labels["heat"].setText(f'<span style="color:{CALLER_COLOR.name()}">caller heat</span><br>'
                                         f'<span style="color:{AGENT_COLOR.name()}">your words</span>', size="8pt")
        self.moments: list[PhraseMoment] = []
        self.moment_marks = pg.ScatterPlotItem(size=MOMENT_PX, hoverable=True, hoverSize=MOMENT_PX + 4, tip=self._moment_tip)
        self.moment_marks.sigClicked.connect(self._dot_clicked)
        self.plots["heat"].addItem(self.moment_marks)
        self.plots["pace"].setYRange(*PACE_RANGE_WPM, padding=0)
        self.plots["pitch"].setYRange(*PITCH_RANGE_ST, padding=0)
        self.plots["loudness"].setYRange(*LOUDNESS_RANGE_DB, padding=0)
        self.plots["pace"].getAxis("left").setTicks([[(100, "100"), (200, "200"), (300, "300")]])
        self.plots["pitch"].getAxis("left").setTicks([[(-3, "-3"), (0, "0"), (3, "+3"), (6, "+6")]])
        self.plots["loudness"].getAxis("left").setTicks([[(-10, "-10"), (0, "0"), (10, "+10")]])
        self.cue_dots = pg.ScatterPlotItem(size=MARKER_PX, pen=pg.mkPen("w", width=1.5), brush=CUE_COLOR,
                                           hoverable=True, hoverSize=MARKER_PX + 4, tip=self._cue_tip)
        self.cue_dots.sigClicked.connect(self._dot_clicked)
        cues.addItem(self.cue_dots)
        self.match_marks = pg.ScatterPlotItem(size=11, symbol="t", pen=None, brush=MATCH_COLOR,
                                              hoverable=True, tip=self._match_tip)
        self.match_marks.sigClicked.connect(self._dot_clicked)
        self.plots["call"].addItem(self.match_marks)
        self.plots["call"].sigXRangeChanged.connect(lambda *_: self._layout_cues())
        self.scene().sigMouseClicked.connect(self._clicked)
        self._position = 0.0
        self.set_message("")

    # --- frames --------------------------------------------------------------------------------
    # pyqtgraph moves each lane's content to a new range lazily, inside the next paint (`ViewBox.updateMatrix`,
    # and the lines' and regions' bounding rects); what moves during a paint marks the scene dirty again, so every
    # scroll or zoom was painted twice (counted: 2 paints per range change, the second over every lane's data).
    # Settling it right after the range changed, before the paint, makes it one paint (1 per change; CPU per
    # scroll/zoom frame p50 14.6 -> 9.8 ms, p95 28.7 -> 17.3 ms, on a 30-minute call, same run, 2026-12-01).
    def _settle(self) -> None:
        """Apply a range change to every lane now, so the next paint is the only one."""
        self.scene().prepareForPaint()
        for p in self.plots.values():
            for item in p.items:
                if isinstance(item, (pg.InfiniteLine, pg.LinearRegionItem)):
                    item.boundingRect()  # computed (and its geometry change announced) outside the paint

    def set_view(self, x0: float, x1: float) -> None:
        """Show call time `x0`..`x1` (s) on every lane."""
        self.plots["call"].setXRange(x0, x1, padding=0.0)
        self._settle()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name: the wheel zooms in time
        super().wheelEvent(event)
        self._settle()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name: a drag pans
        super().mouseMoveEvent(event)
        if event.buttons():
            self._settle()

    # --- states ------------------------------------------------------------------------------
    def set_message(self, text: str, lanes: tuple[str, ...] = ("call",)) -> None:
        """A calm sentence in the middle of `lanes` (loading, cancelled, failed, empty); "" clears."""
        for key in self.plots:
            note = self._notes.pop(key, None)
            if note is not None:
                self.plots[key].removeItem(note)
        if not text:
            return
        for key in lanes:
            self._note(key, text)

    def _note(self, key: str, text: str) -> None:
        p = self.plots[key]
        old = self._notes.pop(key, None)
        if old is not None:
            p.removeItem(old)
        note = pg.TextItem(text, color=MUTED_TEXT, anchor=(0.5, 0.5))
        p.addItem(note, ignoreBounds=True)
        (x0, x1), (y0, y1) = p.viewRange()
        note.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self._notes[key] = note

    def message(self, key: str = "call") -> str:
        note = self._notes.get(key)
        return note.toPlainText() if note is not None else ""

    # --- content -----------------------------------------------------------------------------
    def set_duration(self, duration_s: float) -> None:
        self.duration_s = max(float(duration_s), 1.0)
        for p in self.plots.values():
            p.setLimits(xMin=0.0, xMax=self.duration_s, minXRange=2.0)
        self.set_view(0.0, self.duration_s)
        for key, note in list(self._notes.items()):
            self._note(key, note.toPlainText())  # re-centred on the new range

    def set_audio(self, agent_db: np.ndarray, caller_db: np.ndarray | None, step_s: float) -> None:
        """The first lane, from the audio alone: each side's level, 0 at the floor, 1 at 0 dBFS."""
        call = self.plots["call"]
        span = -LEVEL_FLOOR_DB

        def envelope(level: np.ndarray, sign: float, color: QColor) -> None:
            if not len(level):
                return
            t = np.arange(len(level), dtype=float) * step_s
            y = sign * (level.astype(float) - LEVEL_FLOOR_DB) / span
            item = pg.PlotDataItem(t, y, pen=pg.mkPen(color, width=1), fillLevel=0.0, brush=_with_alpha(color, 110),
                                   autoDownsampleFactor=FILL_SAMPLES_PER_PX)
            call.addItem(item)  # in its view first: clipping and downsampling read the view's range
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)

        envelope(agent_db, 1.0, AGENT_COLOR)
        if caller_db is not None:
            envelope(caller_db, -1.0, CALLER_COLOR)
        else:
            mono = pg.TextItem("mono recording: the agent alone", color=MUTED_TEXT, anchor=(0.0, 0.5))
            call.addItem(mono, ignoreBounds=True)
            mono.setPos(0.0, -0.5)
        call.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(MUTED_TEXT, width=0.5)), ignoreBounds=True)

    def set_result(self, result: AnalysisResult, band: tuple[float, float], pitch_cue_st: float) -> None:
        """Pace, pitch, loudness and the cues of the finished analysis."""
        self.set_gaps(result.gaps)
        tl = result.timeline
        t = np.asarray(tl.t, dtype=float) + tl.step_s / 2
        base = result.baseline
        dashed = pg.mkPen(MUTED_TEXT, width=1, style=Qt.PenStyle.DashLine)

        pace = self.plots["pace"]
        region = pg.LinearRegionItem(values=band, orientation="horizontal", movable=False,
                                     brush=_with_alpha(BAND_COLOR, 150), pen=pg.mkPen(None))
        region.setZValue(-10)
        pace.addItem(region, ignoreBounds=True)
        spans = pace_spans(result)
        if spans:
            xs = np.array([[s.start, s.end] for s in spans], dtype=float).ravel()
            ys = np.clip(np.repeat([s.wpm for s in spans], 2), *PACE_RANGE_WPM)
            pace.addItem(pg.PlotDataItem(xs, ys, pen=pg.mkPen(AGENT_COLOR, width=3), connect="pairs"))
        else:
            self._note("pace", "no agent words to count")

        pitch = self.plots["pitch"]
        if base.pitch_hz:
            st = np.array([np.nan if (v is None or v <= 0) else semitones(v, base.pitch_hz) for v in tl.agent_pitch_hz])
            if np.isfinite(st).any():
                pitch.addItem(pg.PlotDataItem(t, np.clip(st, *PITCH_RANGE_ST), pen=pg.mkPen(AGENT_COLOR, width=2),
                                              connect="finite"))
            pitch.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(MUTED_TEXT, width=1)), ignoreBounds=True)
            pitch.addItem(pg.InfiniteLine(pos=pitch_cue_st, angle=0, pen=dashed), ignoreBounds=True)
        else:
            self._note("pitch", "too little voiced speech to know your normal pitch")

        loud = self.plots["loudness"]
        drawn = False
        if base.db is not None:
            ys = np.array([np.nan if v is None else v - base.db for v in tl.agent_db])
            loud.addItem(pg.PlotDataItem(t, np.clip(ys, *LOUDNESS_RANGE_DB), pen=pg.mkPen(AGENT_COLOR, width=2), connect="finite"))
            drawn = True
        caller = np.array([np.nan if v is None else v for v in tl.caller_db], dtype=float) if tl.caller_db else np.array([])
        if np.isfinite(caller).any():
            ys = caller - np.nanmedian(caller)  # the caller against the caller's own normal
            loud.addItem(pg.PlotDataItem(t[: len(ys)], np.clip(ys, *LOUDNESS_RANGE_DB), pen=pg.mkPen(CALLER_COLOR, width=1.5),
                                         connect="finite"))
            drawn = True
        loud.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(MUTED_TEXT, width=1)), ignoreBounds=True)
        if not drawn:
            self._note("loudness", "no speech to measure")

        self._set_heat(result)
        self._cues = sorted(result.cues, key=lambda c: c.t)
        self._cue_gap_s = None
        faint = pg.mkPen(_with_alpha(CUE_COLOR, 90), width=1)
        for cue in self._cues:
            for key in ("pace", "pitch", "loudness"):
                self.plots[key].addItem(pg.InfiniteLine(pos=cue.t, angle=90, pen=faint), ignoreBounds=True)
        if not self._cues:
            self._note("cues", no_cues_sentence(result).rstrip(".").lower())
        self._layout_cues()

    def _set_heat(self, result: AnalysisResult) -> None:
        """The caller's heat as the live coach measured it, and the agent's phrase moments on it."""
        lane = self.plots["heat"]
        if result.caller_heat:
            t = np.array([p[0] for p in result.caller_heat], dtype=float)
            heat = np.clip(np.array([p[1] for p in result.caller_heat], dtype=float), 0.0, 1.0)
            areas = [pg.PlotDataItem(t, heat, pen=pg.mkPen(_with_alpha(CALLER_COLOR, 150), width=1), fillLevel=0.0,
                                     brush=_with_alpha(CALLER_COLOR, HEAT_FILL_ALPHA), autoDownsampleFactor=FILL_SAMPLES_PER_PX)]
            if (heat >= HEATED).any():
                areas.append(pg.PlotDataItem(t, np.maximum(heat, HEATED), pen=pg.mkPen(None), fillLevel=HEATED,
                                             brush=_with_alpha(CALLER_COLOR, HEATED_FILL_ALPHA),
                                             autoDownsampleFactor=FILL_SAMPLES_PER_PX))
            for area in areas:  # filled areas are what costs a frame: only what is in view, as the call lane
                lane.addItem(area)  # in its view first: clipping and downsampling read the view's range
                area.setDownsampling(auto=True, method="peak")
                area.setClipToView(True)
            lane.addItem(pg.InfiniteLine(pos=HEATED, angle=0, pen=pg.mkPen(_with_alpha(MUTED_TEXT, 110), width=0.8,
                                                                         style=Qt.PenStyle.DotLine)), ignoreBounds=True)
        elif result.caller is None:
            self._note("heat", "mono recording: no caller to hear")
        self.moments = []
        for m in summarize(result.segments, result.cues).moments:
            if m.role != "agent" or m.family not in MOMENT_STYLE:
                continue
            if m.family == "apology" and any(o.t == m.t and o.family == "acknowledge" for o in self.moments):
                continue  # "I understand, and I'm sorry": one mark, not two on one spot
            self.moments.append(m)
        spots = []
        for i, m in enumerate(self.moments):
            _label, symbol, color = MOMENT_STYLE[m.family]
            spots.append({"pos": (m.t, MOMENT_Y), "data": i, "symbol": symbol, "brush": color,
                          "pen": pg.mkPen("w", width=1) if symbol != "x" else pg.mkPen(color, width=1)})
        self.moment_marks.setData(spots)
        if not result.caller_heat and not self.moments and result.caller is not None:
            self._note("heat", "no caller heat or phrases of note")

    def _layout_cues(self) -> None:
        if not self._cues:
            self.cue_dots.setData([])
            self._cue_gap_s = None
            return
        (x0, x1), _ = self.plots["cues"].viewRange()
        width_px = max(self.plots["cues"].getViewBox().width(), 1.0)
        gap_s = MARKER_PX * (x1 - x0) / width_px
        if gap_s == self._cue_gap_s and len(self.cue_dots.data) == len(self._cues):
            return  # a pan: the same zoom, the same rows (a frame need not rebuild the dots)
        self._cue_gap_s = gap_s
        rows = marker_rows([c.t for c in self._cues], gap_s, MARKER_ROWS)
        self.cue_rows = rows
        self.cue_dots.setData(
            [{"pos": (c.t, MARKER_ROWS - 1 - r), "data": i} for i, (c, r) in enumerate(zip(self._cues, rows))]
        )

    def set_lines(self, lines: list[Segment]) -> None:
        """The transcript lines search matches refer to."""
        self._segments = list(lines)

    def set_matches(self, indices: list[int]) -> None:
        """Mark the transcript lines `indices` (search matches) on the call lane."""
        self._match_indices = list(indices)
        self.match_marks.setData([{"pos": (self._segments[i].start, 0.93), "data": i} for i in indices])

    def set_gaps(self, gaps: list) -> None:
        """Where a capture device was lost (`recorder.Gap`s): a grey hatched span on every lane, its
        tooltip saying so ("Microphone silent (device lost) 12:03–12:12")."""
        for item, plot in getattr(self, "gap_items", []):
            plot.removeItem(item)
        self.gap_items: list[tuple[pg.LinearRegionItem, pg.PlotItem]] = []
        self.gap_tips: list[str] = []
        for gap in gaps:
            if gap.end_s is None or gap.end_s <= gap.start_s:
                continue
            tip = gap_label(gap)
            self.gap_tips.append(tip)
            for p in self.plots.values():
                for brush in (pg.mkBrush(GAP_FILL), QBrush(GAP_COLOR, Qt.BrushStyle.BDiagPattern)):
                    span = pg.LinearRegionItem(values=(gap.start_s, gap.end_s), movable=False, brush=brush,
                                               pen=pg.mkPen(None))
                    span.setZValue(-5)
                    span.setToolTip(tip)
                    p.addItem(span, ignoreBounds=True)
                    self.gap_items.append((span, p))

    def set_position(self, t: float, follow: bool = False, walking: bool = False) -> None:
        """Move every lane's playhead to `t`; with `follow`, page the view along when zoomed in. `walking`
        (playback moving it on): only a view that showed the playhead pages along; a view the user scrolled
        elsewhere while listening stays where they put it (it was pulled back every frame, 30 times a second)."""
        before = self._position
        self._position = float(t)
        for head in self.playheads.values():
            head.setValue(self._position)
        if follow:
            (x0, x1), _ = self.plots["call"].viewRange()
            span = x1 - x0
            if walking and not (x0 <= before <= x1):
                return
            if span < self.duration_s * 0.98 and not (x0 <= t <= x1 - span * FOLLOW_MARGIN):
                start = min(max(t - span * FOLLOW_MARGIN, 0.0), max(self.duration_s - span, 0.0))
                self.set_view(start, start + span)

    def position(self) -> float:
        return self._position

    # --- tips and clicks -----------------------------------------------------------------------
    def _cue_tip(self, x: float, y: float, data: int) -> str:
        cue = self._cues[int(data)]
        why = explain_cue(cue)
        return f"{fmt_clock(cue.t)}  {cue.message}" + (f"\n{why[:1].upper()}{why[1:]}." if why else "")

    def _moment_tip(self, x: float, y: float, data: int) -> str:
        m = self.moments[int(data)]
        text = m.text if len(m.text) <= MOMENT_QUOTE_CHARS else m.text[: MOMENT_QUOTE_CHARS - 1].rstrip() + "…"
        return f"{fmt_clock(m.t)}  You {MOMENT_STYLE[m.family][0]}:\n\u201c{text}\u201d"

    def moment_tip(self, i: int) -> str:
        """What hovering over phrase mark `i` (in time order) shows."""
        return self._moment_tip(0.0, 0.0, i)

    def _match_tip(self, x: float, y: float, data: int) -> str:
        seg = self._segments[int(data)]
        return f"{fmt_clock(seg.start)}  {seg.role.capitalize()}: {seg.text.strip()}"

    def cue_tip(self, i: int) -> str:
        """What hovering over cue `i` (in time order) shows."""
        return self._cue_tip(0.0, 0.0, i)

    def _dot_clicked(self, item: pg.ScatterPlotItem, points, ev=None) -> None:  # noqa: ANN001 - pyqtgraph's
        if len(points):
            data = int(points[0].data())
            if item is self.cue_dots:
                t = max(self._cues[data].t - CUE_LEAD_S, 0.0)
            elif item is self.moment_marks:
                t = max(self.moments[data].t - MOMENT_LEAD_S, 0.0)
            else:
                t = self._segments[data].start
            self.seek_requested.emit(float(t))

    def _clicked(self, event) -> None:  # noqa: ANN001 - pyqtgraph's MouseClickEvent
        if event.isAccepted() or event.button() != Qt.MouseButton.LeftButton:  # a dot took it (pyqtgraph asks items first)
            return
        self.seek_at(event.scenePos())

    def seek_at(self, scene_pos: QPointF) -> bool:
        """Ask to play from the time under `scene_pos` (scene coordinates); False when outside the lanes."""
        for p in self.plots.values():
            vb = p.getViewBox()
            if vb.sceneBoundingRect().contains(scene_pos):
                t = vb.mapSceneToView(scene_pos).x()
                if math.isfinite(t):
                    self.seek_requested.emit(float(min(max(t, 0.0), self.duration_s)))
                    return True
        return False

    def x_of(self, key: str, t: float) -> QPointF:
        """The widget point of call time `t` in the middle of lane `key` (tests click there)."""
        vb = self.plots[key].getViewBox()
        (_, _), (y0, y1) = vb.viewRange()
        scene = vb.mapViewToScene(QPointF(t, (y0 + y1) / 2))
        return self.mapFromScene(scene)


__all__ = ["ReviewTimeline"]
