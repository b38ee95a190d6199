"""The live call view: pace gauge, pitch and loudness traces, who is talking (and how heated the caller
sounds: a quiet indicator, never a cue), transcript, cues; after the call, the call's notes.

The pace gauge shows what `poise.app.live_pace` says: the acoustic estimate (labelled so) until the
agent's words arrive, then the words' pace, and after the call the call's own number
(`report.format.call_numbers`), the one the end-of-call message, the review and history show.

The traces are pyqtgraph's: they are built right after the view's first paint (`build_plots`), so the
main window shows without waiting for pyqtgraph's import; anything that needs them earlier builds them."""

from __future__ import annotations

import html
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPaintEvent, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSpacerItem,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from poise.app.live_pace import SOURCE_NOTES, LivePace
from poise.audio.coach import wpm_from_rate
from poise.audio.types import AnalysisResult, Cue, Meters, Segment
from poise.desktop.heat_indicator import HeatIndicator
from poise.desktop.widgets import (
    AGENT_COLOR,
    CALLER_COLOR,
    CUE_COLOR,
    GRID_COLOR,
    MUTED_TEXT,
    TEXT_COLOR,
    PaceGauge,
    TalkIndicator,
    card,
)
from poise.desktop.language_panel import LanguagePanel
from poise.report.format import call_numbers
from poise.report.format import fmt_mmss as format_mmss

WINDOW_S = 60.0  # s: how much of the call the traces show
REDRAW_MS = 100  # ms: plots redraw at most ~10 times a second, whatever the event rate
HISTORY_POINTS = 1500  # meter snapshots kept: 60 s at up to ~25 per second
TRACE_HANGOVER_S = 0.6  # s: a trace stays drawn through pauses shorter than this, then breaks (silence)
SAME_TURN_GAP_S = 5.0  # s: consecutive segments of one role closer than this read as one turn

NO_PACE = "–"  # shown until the agent has said enough for a pace
UNIT_WORDS = "wpm"
NOTES_TRACES_SHARE = 0.45  # of the view's height left to the traces once the call's notes are shown
UNIT_ESTIMATE = "wpm (estimate)"  # the acoustic estimate says it is one
PLOT_MIN_HEIGHT_PX = 120  # px: a trace's plot (and the place kept for it before it is built) is never shorter
IDLE_BASELINE_TEXT = "Poise learns your normal pace, pitch and loudness in the first minute of a call."
LEARNING_TEXT = "Learning your normal voice…"


@dataclass
class Traces:
    """The live view's pyqtgraph items (built by `LiveView.build_plots`)."""

    pitch_plot: Any
    loudness_plot: Any
    pitch_curve: Any
    loudness_curve: Any
    caller_loudness_curve: Any
    pitch_baseline: Any
    loudness_baseline: Any


def _trace(name: str) -> property:
    """A `Traces` item as an attribute of the view (built on first use)."""
    return property(lambda self: getattr(self.traces(), name), doc=f"The traces' `{name}` (builds them if needed).")


class LiveView(QWidget):
    """Everything the agent can glance at during a call.

    Feed it engine events (`on_meters`, `on_segment`, `on_cue`) on the UI thread;
    it keeps the last `WINDOW_S` seconds of pitch and loudness and redraws at most
    every `REDRAW_MS`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveView")
        self._segments: list[Segment] = []
        self._cues: list[Cue] = []
        self._t = deque(maxlen=HISTORY_POINTS)
        self._pitch = deque(maxlen=HISTORY_POINTS)
        self._agent_db = deque(maxlen=HISTORY_POINTS)
        self._caller_db = deque(maxlen=HISTORY_POINTS)
        self._baseline_pitch: float | None = None
        self._baseline_db: float | None = None
        self._now = 0.0
        self._dirty = False
        self._ranges: dict[str, tuple[float, float]] = {}  # last axis ranges set, to skip unchanged ones
        self._has_caller = True
        self._last_spoke = {"agent": -1e9, "caller": -1e9}  # audio time each role was last speaking
        self.live_pace = LivePace()  # the agent's words so far: the gauge's pace once they arrive
        self.pace_source = "none"  # where the pace shown comes from: none, sound, words, call (poise.app.live_pace)

        # Top row: pace and who is talking
        self.pace_value = QLabel()
        self.pace_value.setObjectName("paceValue")
        self._set_pace_text(None)
        self.pace_unit = QLabel(UNIT_WORDS)
        self.pace_unit.setObjectName("paceUnit")
        self.pace_note = QLabel("")  # where the number comes from: the sound (an estimate), the words, the call
        self.pace_note.setObjectName("hint")
        self.pace_note.setWordWrap(True)
        self.pace_gauge = PaceGauge()
        self.baseline_label = QLabel(IDLE_BASELINE_TEXT)
        self.baseline_label.setObjectName("hint")
        self.baseline_label.setWordWrap(True)
        self.clock_label = QLabel("00:00")
        self.clock_label.setObjectName("clock")
        self.agent_indicator = TalkIndicator("Agent", AGENT_COLOR)
        self.caller_indicator = TalkIndicator("Caller", CALLER_COLOR)
        self.caller_heat = HeatIndicator()  # the engine's Meters.caller_heat, drawn only (poise.language.heat)

        pace_card, pace_layout = card("Pace")
        pace_row = QHBoxLayout()
        pace_row.setSpacing(16)
        number = QHBoxLayout()
        number.setSpacing(4)
        number.addWidget(self.pace_value, 0, Qt.AlignmentFlag.AlignBottom)
        number.addWidget(self.pace_unit, 0, Qt.AlignmentFlag.AlignBottom)
        pace_row.addLayout(number)
        pace_row.addWidget(self.pace_gauge, 1)
        pace_layout.addLayout(pace_row)
        pace_layout.addWidget(self.pace_note)
        pace_layout.addWidget(self.baseline_label)

        talk_card, talk_layout = card("Talking now")
        talk_row = QHBoxLayout()
        talk_row.addWidget(self.agent_indicator)
        talk_row.addWidget(self.caller_indicator)
        talk_layout.addLayout(talk_row)
        talk_layout.addWidget(self.caller_heat)
        clock_row = QHBoxLayout()
        elapsed = QLabel("Call time")
        elapsed.setObjectName("hint")
        clock_row.addWidget(elapsed)
        clock_row.addStretch(1)
        clock_row.addWidget(self.clock_label)
        talk_layout.addLayout(clock_row)

        # Traces: the cards now, their plots right after the first paint (build_plots)
        self._traces: Traces | None = None
        self._cue_lines: list[Any] = []
        self._plots_scheduled = False
        pitch_card, pitch_layout = card("Pitch")
        loud_card, loud_layout = card("Loudness")
        self._pitch_layout, self._loud_layout = pitch_layout, loud_layout
        # the plot's place, under the card's title (build_plots puts the plot there): as tall as the plot at least,
        #   so the card's own minimum holds title, plot and legend (a fixed card minimum let the legend be cut)
        pitch_layout.addSpacerItem(_plot_place())
        legend = QLabel(
            f'<span style="color:{AGENT_COLOR.name()}">━ agent</span>&nbsp;&nbsp;'
            f'<span style="color:{CALLER_COLOR.name()}">━ caller</span>&nbsp;&nbsp;'
            f'<span style="color:{TEXT_COLOR.name()}">┅ your normal</span>'
        )
        legend.setObjectName("hint")
        loud_layout.addSpacerItem(_plot_place())
        loud_layout.addWidget(legend)

        # Transcript and cues
        self.transcript = QTextBrowser()
        self.transcript.setObjectName("transcript")
        self.transcript.setOpenLinks(False)
        self.transcript.setFrameShape(QFrame.Shape.NoFrame)
        self.transcript.setPlaceholderText("The transcript appears here as people speak.")
        self.cue_list = QListWidget()
        self.cue_list.setObjectName("cueList")
        self.cue_list.setFrameShape(QFrame.Shape.NoFrame)
        self.cue_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._cue_empty = QLabel("No cues yet. Poise speaks up only when it matters.")
        self._cue_empty.setObjectName("hint")
        self._cue_empty.setWordWrap(True)
        transcript_card, _ = card("Transcript", self.transcript)
        cue_card, cue_layout = card("Cues so far")
        cue_layout.addWidget(self._cue_empty, 1, Qt.AlignmentFlag.AlignTop)
        cue_layout.addWidget(self.cue_list, 1)

        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(pace_card, 3)
        top.addWidget(talk_card, 1)

        traces = QGridLayout()
        traces.setHorizontalSpacing(12)
        traces.addWidget(pitch_card, 0, 0)
        traces.addWidget(loud_card, 0, 1)
        traces_widget = QWidget()
        traces_widget.setLayout(traces)
        traces.setContentsMargins(0, 0, 0, 0)

        # After the call: what was said and the drafted notes, editable, saved with the call (issue 10)
        self.notes_panel = LanguagePanel()
        self.notes_card = QFrame()
        self.notes_card.setObjectName("card")
        notes_layout = QVBoxLayout(self.notes_card)
        notes_layout.setContentsMargins(14, 10, 14, 12)
        notes_layout.addWidget(self.notes_panel)
        self.notes_card.hide()  # shown by `show_call_result` once a call has ended

        bottom = _splitter(Qt.Orientation.Horizontal, (transcript_card, 3, 500), (self.notes_card, 2, 360),
                           (cue_card, 1, 260))
        vertical = _splitter(Qt.Orientation.Vertical, (traces_widget, 5, 500), (bottom, 4, 400))
        self._vertical = vertical

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(vertical, 1)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._redraw_timer.start()
        self._update_cue_empty()

    # Traces -----------------------------------------------------------------------

    pitch_plot = _trace("pitch_plot")
    loudness_plot = _trace("loudness_plot")
    pitch_curve = _trace("pitch_curve")
    loudness_curve = _trace("loudness_curve")
    caller_loudness_curve = _trace("caller_loudness_curve")
    pitch_baseline = _trace("pitch_baseline")
    loudness_baseline = _trace("loudness_baseline")

    def plots_built(self) -> bool:
        """Whether the pitch and loudness plots exist yet."""
        return self._traces is not None

    def traces(self) -> Traces:
        """The pitch and loudness plots, built now if they are not yet."""
        if self._traces is None:
            self.build_plots()
        assert self._traces is not None
        return self._traces

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        if self._traces is None and not self._plots_scheduled:  # the window is on screen: now the plots
            self._plots_scheduled = True
            QTimer.singleShot(0, self, self.build_plots)

    def build_plots(self) -> None:
        """Build the pitch and loudness plots into their cards (once; pyqtgraph is imported here)."""
        if self._traces is not None:
            return
        from poise.desktop.plots import pg

        pitch_plot = self._make_plot("Hz")
        loudness_plot = self._make_plot("dBFS")
        loudness_plot.setXLink(pitch_plot)
        pitch_curve = pitch_plot.plot(pen=pg.mkPen(AGENT_COLOR, width=2), connect="finite", name="agent")
        loudness_curve = loudness_plot.plot(pen=pg.mkPen(AGENT_COLOR, width=2), connect="finite", name="agent")
        caller_pen = pg.mkPen(CALLER_COLOR, width=1.5)
        caller_loudness_curve = loudness_plot.plot(pen=caller_pen, connect="finite", name="caller")
        dash = pg.mkPen(TEXT_COLOR, width=1.2, style=Qt.PenStyle.DashLine)
        pitch_baseline = pg.InfiniteLine(angle=0, pen=dash, movable=False)
        loudness_baseline = pg.InfiniteLine(angle=0, pen=dash, movable=False)
        pitch_plot.addItem(pitch_baseline, ignoreBounds=True)
        loudness_plot.addItem(loudness_baseline, ignoreBounds=True)
        pitch_baseline.hide()
        loudness_baseline.hide()
        pitch_plot.setYRange(80, 300, padding=0)
        loudness_plot.setYRange(-60, -10, padding=0)
        pitch_plot.setXRange(0, WINDOW_S, padding=0)
        for layout, plot in ((self._pitch_layout, pitch_plot), (self._loud_layout, loudness_plot)):
            layout.removeItem(layout.itemAt(1))  # the place kept for the plot, under the card's title
            layout.insertWidget(1, plot, 1)
        self._traces = Traces(pitch_plot, loudness_plot, pitch_curve, loudness_curve, caller_loudness_curve,
                              pitch_baseline, loudness_baseline)
        for cue in self._cues:  # cues that came before the plots (a view fed before it was shown)
            self._add_cue_line(cue)
        self._dirty = True
        self._redraw()

    def _make_plot(self, unit: str) -> Any:
        from poise.desktop.plots import TimeAxis, pg

        plot = pg.PlotWidget(axisItems={"bottom": TimeAxis(orientation="bottom")})
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("left", unit)
        plot.getPlotItem().getViewBox().setDefaultPadding(0.0)
        plot.setMinimumHeight(PLOT_MIN_HEIGHT_PX)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(GRID_COLOR))
            axis.setTextPen(pg.mkPen(MUTED_TEXT))
        plot.setFrameShape(QFrame.Shape.NoFrame)
        return plot

    # Configuration ----------------------------------------------------------------

    def set_target_band(self, low_wpm: float, high_wpm: float) -> None:
        """The pace band shaded on the gauge."""
        self.pace_gauge.set_band(low_wpm, high_wpm)

    def set_has_caller(self, has_caller: bool) -> None:
        """Grey out the caller's indicator for a mono (agent-only) call."""
        self._has_caller = has_caller
        self.caller_indicator.set_available(has_caller)
        self.caller_heat.set_available(has_caller)

    def clear(self) -> None:
        """Forget the previous call."""
        self._ranges.clear()
        for d in (self._t, self._pitch, self._agent_db, self._caller_db):
            d.clear()
        self._segments.clear()
        self._cues.clear()
        self.transcript.clear()
        self.cue_list.clear()
        traces = self._traces  # (not built yet: nothing drawn to forget)
        if traces is not None:
            for line in self._cue_lines:
                traces.pitch_plot.removeItem(line)
            traces.pitch_baseline.hide()
            traces.loudness_baseline.hide()
        self._cue_lines.clear()
        self._baseline_pitch = self._baseline_db = None
        self._last_spoke = {"agent": -1e9, "caller": -1e9}
        self._now = 0.0
        self.pace_gauge.set_value(None)
        self.pace_gauge._last_wpm = None
        self.pace_gauge.set_normal(None)
        self.live_pace.clear()
        self._set_pace_text(None)
        self._set_pace_source("none")
        self.baseline_label.setText(LEARNING_TEXT)
        self.notes_panel.flush()
        self.notes_card.hide()
        self.clock_label.setText("00:00")
        self.agent_indicator.set_active(False)
        self.caller_indicator.set_active(False)
        self.caller_heat.clear()
        self._update_cue_empty()
        self._dirty = True

    # Events -----------------------------------------------------------------------

    def on_meters(self, m: Meters) -> None:
        """A meters snapshot (about ten a second)."""
        self._now = max(self._now, m.t)
        if m.agent_speaking:
            self._last_spoke["agent"] = m.t
        if m.caller_speaking:
            self._last_spoke["caller"] = m.t
        # The meters hold the last speech's values through silence; the traces show speech only.
        agent_on = m.t - self._last_spoke["agent"] <= TRACE_HANGOVER_S
        caller_on = m.t - self._last_spoke["caller"] <= TRACE_HANGOVER_S
        self._t.append(m.t)
        self._pitch.append(float(m.agent_pitch_hz) if agent_on and m.agent_pitch_hz is not None else math.nan)
        self._agent_db.append(float(m.agent_db) if agent_on and m.agent_db is not None else math.nan)
        self._caller_db.append(float(m.caller_db) if caller_on and m.caller_db is not None else math.nan)
        self.agent_indicator.set_active(m.agent_speaking)
        self.caller_indicator.set_active(m.caller_speaking)
        if self._has_caller:
            self.caller_heat.set_heat(m.caller_heat)

        if self.pace_source != "call":  # after the call the gauge holds the call's own number
            self._show_live_pace(m.agent_wpm_est)
        # her normal pace is known only from the sound: drawn while the gauge shows the sound's estimate, so one
        # scale is never marked against the other (the words' normal lives in the coach, not in Meters)
        normal_wpm = None if m.baseline_rate_sps is None else wpm_from_rate(m.baseline_rate_sps)
        if self.pace_source != "sound":
            normal_wpm = None
        self.pace_gauge.set_normal(normal_wpm)

        self._baseline_pitch = m.baseline_pitch_hz
        self._baseline_db = m.baseline_db
        if m.baseline_ready:
            parts = []
            if m.baseline_pitch_hz is not None:
                parts.append(f"pitch {m.baseline_pitch_hz:.0f} Hz")
            if m.baseline_db is not None:
                parts.append(f"loudness {m.baseline_db:.0f} dBFS".replace("-", "\u2212"))
            if normal_wpm is not None:
                parts.append(f"pace ≈{normal_wpm:.0f} wpm (estimate)")
            self.baseline_label.setText("Your normal voice: " + " · ".join(parts))
        else:
            self.baseline_label.setText(LEARNING_TEXT)
        self.clock_label.setText(format_mmss(self._now))
        self._dirty = True

    def on_segment(self, seg: Segment) -> None:
        """A final piece of transcript; shown in time order, newest at the bottom."""
        text = seg.text.strip()
        if not text:
            return
        self.live_pace.add_segment(seg)
        bar = self.transcript.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4
        in_order = not self._segments or seg.start >= self._segments[-1].start
        previous = self._segments[-1] if self._segments else None
        self._segments.append(seg)
        if in_order:
            cursor = self.transcript.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            if previous is not None:
                cursor.insertBlock()
            cursor.insertHtml(self._segment_html(seg, previous))
        else:  # the other role's words arrived late: re-lay the transcript in time order
            self._segments.sort(key=lambda s: s.start)
            lines = [
                self._segment_html(s, self._segments[i - 1] if i else None) for i, s in enumerate(self._segments)
            ]
            self.transcript.setHtml("<br>".join(lines))
        if follow:
            bar.setValue(bar.maximum())

    def on_cue(self, cue: Cue) -> None:
        """A cue the agent saw (or would have seen, if muted)."""
        self._cues.append(cue)
        item = QListWidgetItem(f"{format_mmss(cue.t)}   {cue.message}")
        item.setData(Qt.ItemDataRole.UserRole, cue.kind)
        if cue.evidence:
            item.setToolTip(", ".join(f"{k}: {_fmt(v)}" for k, v in cue.evidence.items()))
        item.setForeground(TEXT_COLOR)
        self.cue_list.addItem(item)
        self.cue_list.scrollToBottom()
        if self._traces is not None:  # else build_plots draws it
            self._add_cue_line(cue)
        self._update_cue_empty()
        self._dirty = True

    def _add_cue_line(self, cue: Cue) -> None:
        from poise.desktop.plots import pg

        line = pg.InfiniteLine(pos=cue.t, angle=90, pen=pg.mkPen(CUE_COLOR, width=1, style=Qt.PenStyle.DotLine))
        self.traces().pitch_plot.addItem(line, ignoreBounds=True)
        self._cue_lines.append(line)

    def show_call_result(self, result: AnalysisResult | None, call_id: int | None = None) -> None:
        """The call has ended: the gauge shows the call's pace (the end-of-call message's number) and, when the
        call was transcribed, the notes card shows what was said and the drafted notes, saved with call `call_id`."""
        if result is None:
            return
        shown = call_numbers(result)
        self.clock_label.setText(format_mmss(result.source.duration_s))  # the call's length, as its summary counts it
        if shown.wpm is not None:
            self.pace_gauge.set_value(shown.wpm)
            self._set_pace_text(shown.wpm, shown.pace_value)
            self.pace_gauge.set_normal(None)
            self._set_pace_source("call")
        if result.segments:
            self.notes_panel.set_result(result, call_id)
            self.notes_card.show()
            total = sum(self._vertical.sizes())
            if total > 0:  # the call is over: the notes get the room the live traces needed
                self._vertical.setSizes([int(total * NOTES_TRACES_SHARE), total - int(total * NOTES_TRACES_SHARE)])

    # Read-back (tests, screenshots) -------------------------------------------------

    def pace_text(self) -> str:
        """The pace as shown: number, unit and where it comes from ("197 wpm · whole call, …")."""
        note = self.pace_note.text()
        return f"{self.pace_value.text()} {self.pace_unit.text()}" + (f" · {note}" if note else "")

    def transcript_text(self) -> str:
        return self.transcript.toPlainText()

    def cue_texts(self) -> list[str]:
        return [self.cue_list.item(i).text() for i in range(self.cue_list.count())]

    def pitch_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The pitch trace as drawn (x = audio time, s; y = Hz, NaN where silent)."""
        x, y = self.pitch_curve.getData()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))

    def loudness_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The agent's loudness trace as drawn (dBFS, NaN where silent)."""
        x, y = self.loudness_curve.getData()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))

    def redraw_now(self) -> None:
        """Redraw the traces without waiting for the timer (building them if they are not yet)."""
        self.traces()
        self._dirty = True
        self._redraw()

    # Drawing ----------------------------------------------------------------------

    def _segment_html(self, seg: Segment, previous: Segment | None = None) -> str:
        color = AGENT_COLOR if seg.role == "agent" else CALLER_COLOR
        who = "Agent" if seg.role == "agent" else "Caller"
        if previous is not None and previous.role == seg.role and seg.start - previous.end < SAME_TURN_GAP_S:
            color = QColor(color)
            color.setAlpha(70)  # the same speaker going on: the name steps back
            color = QColor.fromRgbF(  # QTextDocument ignores alpha: blend towards white instead
                1 - color.alphaF() * (1 - color.redF()),
                1 - color.alphaF() * (1 - color.greenF()),
                1 - color.alphaF() * (1 - color.blueF()),
            )
        return (
            f'<span style="color:{MUTED_TEXT.name()}; font-size:small">{format_mmss(seg.start)}</span>'
            f"&nbsp;&nbsp;<b style=\"color:{color.name()}\">{who}</b>&nbsp;&nbsp;"
            f'<span style="color:{TEXT_COLOR.name()}">{html.escape(seg.text.strip())}</span>'
        )

    def _show_live_pace(self, estimate_wpm: float | None) -> None:
        """The gauge during the call: the words' pace once they arrive, else the sound's estimate."""
        shown = self.live_pace.shown(estimate_wpm)
        speaking = estimate_wpm is not None  # the meters' window holds recent agent speech
        self.pace_gauge.set_value(shown.wpm if speaking else None)
        if shown.wpm is not None:
            self._set_pace_text(shown.wpm)
        self._set_pace_source(shown.source, shown.call_wpm)

    def _set_pace_source(self, source: str, call_wpm: float | None = None) -> None:
        self.pace_source = source
        self.pace_unit.setText(UNIT_ESTIMATE if source == "sound" else UNIT_WORDS)
        note = SOURCE_NOTES[source]
        if source == "words" and call_wpm is not None:
            note += f" · this call so far {call_wpm:.0f} wpm"
        self.pace_note.setText(note[:1].upper() + note[1:])

    def _set_pace_text(self, wpm: float | None, text: str | None = None) -> None:
        self.pace_value.setText(NO_PACE if wpm is None else text or f"{wpm:.0f}")
        empty = wpm is None
        if self.pace_value.property("empty") != empty:
            self.pace_value.setProperty("empty", empty)
            self.pace_value.style().unpolish(self.pace_value)
            self.pace_value.style().polish(self.pace_value)

    def _update_cue_empty(self) -> None:
        empty = not self._cues
        self._cue_empty.setVisible(empty)
        self.cue_list.setVisible(not empty)

    def _redraw(self) -> None:
        if not self._dirty or self._traces is None:  # (build_plots draws what came before it)
            return
        self._dirty = False
        t = np.fromiter(self._t, dtype=float, count=len(self._t))
        start = max(0.0, self._now - WINDOW_S)
        keep = t >= start - 1.0
        t = t[keep]
        pitch = np.fromiter(self._pitch, dtype=float, count=len(self._pitch))[keep]
        agent_db = np.fromiter(self._agent_db, dtype=float, count=len(self._agent_db))[keep]
        caller_db = np.fromiter(self._caller_db, dtype=float, count=len(self._caller_db))[keep]
        self.pitch_curve.setData(t, pitch, connect="finite")
        self.loudness_curve.setData(t, agent_db, connect="finite")
        if self._has_caller:
            self.caller_loudness_curve.setData(t, caller_db, connect="finite")
        else:
            self.caller_loudness_curve.setData([], [])
        # Axes repaint their tick labels whenever a range changes, and that painting was most of
        # the UI thread's time: scroll in whole seconds and move the y ranges in coarse steps.
        x_range = (float(np.ceil(start)), float(np.ceil(start)) + WINDOW_S)
        if x_range != self._ranges.get("x"):
            self._ranges["x"] = x_range
            self.pitch_plot.setXRange(*x_range, padding=0)

        self._set_baseline(self.pitch_baseline, self._baseline_pitch)
        self._set_baseline(self.loudness_baseline, self._baseline_db)
        for key, plot, y_range, step in (
            ("pitch", self.pitch_plot, _y_range([pitch], self._baseline_pitch, (80.0, 300.0), 20.0, (40.0, 600.0)), 20.0),
            ("db", self.loudness_plot, _y_range([agent_db, caller_db], self._baseline_db, (-60.0, -10.0), 4.0, (-90.0, 0.0)), 5.0),
        ):
            y_range = (float(np.floor(y_range[0] / step) * step), float(np.ceil(y_range[1] / step) * step))
            if y_range != self._ranges.get(key):
                self._ranges[key] = y_range
                plot.setYRange(*y_range, padding=0)
        for line in list(self._cue_lines):
            if line.value() < start - 1.0:
                self.pitch_plot.removeItem(line)
                self._cue_lines.remove(line)

    @staticmethod
    def _set_baseline(line: Any, value: float | None) -> None:
        if value is None:
            line.hide()
        else:
            line.setValue(value)
            line.show()


def _plot_place() -> QSpacerItem:
    """Room for a trace's plot before it is built: PLOT_MIN_HEIGHT_PX high at least, growing like the plot."""
    return QSpacerItem(0, PLOT_MIN_HEIGHT_PX, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.MinimumExpanding)


def _splitter(orientation: Qt.Orientation, *parts: tuple[QWidget, int, int]) -> QSplitter:
    """A splitter of (widget, stretch factor, initial size in px) parts that never collapses one."""
    splitter = QSplitter(orientation)
    splitter.setChildrenCollapsible(False)
    for i, (widget, stretch, _size) in enumerate(parts):
        splitter.addWidget(widget)
        splitter.setStretchFactor(i, stretch)
    splitter.setSizes([size for _w, _s, size in parts])
    return splitter


def _y_range(
    series: list[np.ndarray],
    baseline: float | None,
    default: tuple[float, float],
    pad: float,
    limits: tuple[float, float],
) -> tuple[float, float]:
    """A y range that fits the visible data and the baseline, within sensible limits."""
    values = [s[np.isfinite(s)] for s in series]
    values = [v for v in values if v.size]
    if baseline is not None:
        values.append(np.array([baseline]))
    if not values:
        return default
    allv = np.concatenate(values)
    lo = max(limits[0], float(np.percentile(allv, 1)) - pad)
    hi = min(limits[1], float(np.percentile(allv, 99)) + pad)
    if hi - lo < 4 * pad:
        mid = (hi + lo) / 2
        lo, hi = mid - 2 * pad, mid + 2 * pad
    return lo, hi


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
