"""The trainer's *Compare takes* tab: two takes side by side, their pace and pitch on one time axis, the
scores compared, and both played one after the other.

Both takes are drawn from the moment their reading began (`poise.app.practice.aligned_series`),
so the same sentence sits at about the same place on the axis; the target band is shaded.
The numbers are `compare_takes`: score, time on pace, steadiness, pitch calm, median pace.
*Play* plays the first take, a short silence, then the second (takes are recorded when
*Keep audio* is on), with a playhead in the playing take's colour.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from poise.app.practice import (
    PITCH_CALM_ST,
    PracticeTake,
    ScoreLine,
    aligned_series,
    compare_takes,
    list_takes,
    one_after_the_other,
    playhead_at,
    take_audio,
)
from poise.audio.playback import play_audio, stop_audio
from poise.audio.store import HistoryStore, StoreError, borrowed_store
from poise.audio.types import SAMPLE_RATE
from poise.desktop.workers import run_in_background
from poise.desktop.plots import TimeAxis, still_plot
from poise.desktop.widgets import AGENT_COLOR, BAND_COLOR, CALLER_COLOR, CUE_COLOR, MUTED_TEXT, empty_or, status_label

FIRST_COLOR = QColor(CALLER_COLOR)  # the earlier take: muted purple
SECOND_COLOR = QColor(AGENT_COLOR)  # the later take: Poise's teal (the one to look at)
PACE_RANGE_WPM = (60.0, 260.0)  # as the live gauge and the review's pace lane
PITCH_RANGE_ST = (-8.0, 8.0)  # semitones from the reader's own median
TAKES_LISTED = 200
PLAYHEAD_TICK_MS = 33  # ms: the playhead moves at ~30 frames a second


def _take_label(take: PracticeTake) -> str:
    score = "unscored" if take.score.overall is None else f"score {take.score.overall:.0f}"
    return f"{take.started_at.astimezone():%d %b %H:%M} · {take.script_title} · {take.target_wpm:.0f} wpm · {score}"


def _cell(line: ScoreLine, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" + (f" {line.unit}" if line.unit else "")


class CompareTakesTab(QWidget):
    """Two of the trainee's takes side by side (the last two until others are chosen)."""

    def __init__(
        self, agent: str, history: HistoryStore | None = None, parent: QWidget | None = None, *,
        output_device: str | int | None = None,
    ) -> None:
        super().__init__(parent)
        self._agent = agent
        self._history = history
        self.output_device = output_device  # None: the system's default output
        self.takes: list[PracticeTake] = []
        self._playing: tuple[PracticeTake, float, PracticeTake, float, float] | None = None  # first, len, second, at, len
        self._play_started = 0.0
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAYHEAD_TICK_MS)
        self._play_timer.timeout.connect(self._tick)
        self._playhead_take = 0
        self.playheads: list[pg.InfiniteLine] = []
        self.first_picker = QComboBox(objectName="firstTake")
        self.second_picker = QComboBox(objectName="secondTake")
        for picker in (self.first_picker, self.second_picker):
            picker.currentIndexChanged.connect(lambda _i: self._draw())
            picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(30)
        pickers = QGridLayout()
        for row, (label, picker, color) in enumerate(
            (("First take", self.first_picker, FIRST_COLOR), ("Second take", self.second_picker, SECOND_COLOR))
        ):
            swatch = QLabel("━━", objectName="swatch")
            swatch.setStyleSheet(f"color: {color.name()}; font-weight: 700;")
            pickers.addWidget(swatch, row, 0)
            pickers.addWidget(QLabel(label, objectName="fieldLabel"), row, 1)
            pickers.addWidget(picker, row, 2)
        pickers.setColumnStretch(2, 1)
        self.play_button = QPushButton("Play one after the other", objectName="playTakesButton")
        self.play_button.setToolTip("Play the first take, then the second, with a playhead on the timeline")
        self.play_button.clicked.connect(self.play)
        self.stop_button = QPushButton("Stop", objectName="stopTakesButton")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.now_playing = QLabel("", objectName="hint")
        play_row = QHBoxLayout()
        play_row.addWidget(self.play_button)
        play_row.addWidget(self.stop_button)
        play_row.addWidget(self.now_playing, 1)

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setObjectName("compareTimeline")
        self.plots.setBackground("w")
        self.pace = self._lane(0, "pace<br>words/min", bottom_axis=False)
        self.pitch = self._lane(1, "pitch, semitones<br>vs own median", bottom_axis=True)
        self.pitch.setXLink(self.pace)
        self.pace.setYRange(*PACE_RANGE_WPM, padding=0)
        self.pitch.setYRange(*PITCH_RANGE_ST, padding=0)
        self.plots.ci.layout.setRowStretchFactor(0, 3)
        self.plots.ci.layout.setRowStretchFactor(1, 2)
        self.plots.setMinimumHeight(240)

        self.scores = QTableWidget(0, 4, objectName="compareScores")
        self.scores.setHorizontalHeaderLabels(("", "First", "Second", "Change"))
        self.scores.verticalHeader().setVisible(False)
        self.scores.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scores.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.scores.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scores.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verdict = QLabel("", objectName="hint")
        self.verdict.setWordWrap(True)

        content = QWidget()
        c = QVBoxLayout(content)
        c.setContentsMargins(0, 0, 0, 0)
        c.setSpacing(8)
        c.addLayout(pickers)
        c.addLayout(play_row)
        c.addWidget(self.plots, 3)
        c.addWidget(self.scores, 2)
        c.addWidget(self.verdict)
        self.stack, self.empty = empty_or(content)
        self.status = status_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)

    def _lane(self, row: int, label: str, *, bottom_axis: bool) -> pg.PlotItem:
        self.plots.addLabel(label, row=row, col=0, justify="right", color=MUTED_TEXT, size="8pt")
        axis = {"bottom": TimeAxis(orientation="bottom")} if bottom_axis else {}
        plot = self.plots.addPlot(row=row, col=1, axisItems=axis)
        still_plot(plot)
        plot.showGrid(x=False, y=True, alpha=0.15)
        plot.getAxis("left").setWidth(40)
        if not bottom_axis:
            plot.hideAxis("bottom")
        return plot

    # ------------------------------------------------------------------------------------
    def set_agent(self, agent: str) -> None:
        self._agent = agent
        self.refresh()

    def refresh(self) -> None:
        """Read the trainee's takes again (keeping the two chosen when they are still there)."""
        chosen = self.chosen_ids()
        try:
            with borrowed_store(self._history) as store:
                self.takes = list_takes(store, self._agent, limit=TAKES_LISTED)
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        for picker in (self.first_picker, self.second_picker):
            picker.blockSignals(True)
            picker.clear()
            for take in self.takes:
                picker.addItem(_take_label(take), take.id)
            picker.blockSignals(False)
        ids = {t.id for t in self.takes}
        if chosen and all(i in ids for i in chosen):
            self.show_takes(*chosen)
        elif len(self.takes) >= 2:
            self.show_takes(self.takes[1].id, self.takes[0].id)  # the last two, the older first
        else:
            self._draw()

    def chosen_ids(self) -> tuple[int, int] | None:
        a, b = self.first_picker.currentData(), self.second_picker.currentData()
        return (int(a), int(b)) if a is not None and b is not None else None

    def show_takes(self, first_id: int, second_id: int) -> None:
        """Compare these two takes (ids from the history)."""
        for picker, take_id in ((self.first_picker, first_id), (self.second_picker, second_id)):
            picker.blockSignals(True)
            picker.setCurrentIndex(max(0, picker.findData(take_id)))
            picker.blockSignals(False)
        self._draw()

    def chosen(self) -> tuple[PracticeTake, PracticeTake] | None:
        ids = self.chosen_ids()
        if ids is None:
            return None
        by_id = {t.id: t for t in self.takes}
        return (by_id[ids[0]], by_id[ids[1]]) if ids[0] in by_id and ids[1] in by_id else None

    # ------------------------------------------------------------------------------------
    def _draw(self) -> None:
        pair = self.chosen() if len(self.takes) >= 2 else None
        self.stack.setCurrentIndex(1 if pair else 0)
        self.empty.setText(
            f"Two takes are needed to compare: “{self._agent}” has {len(self.takes)}. "
            "Read a script in “Read at pace”, then read it again."
        )
        self.stop()
        self.pace.clear()
        self.pitch.clear()
        self.playheads = [pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen("#222222", width=1.5)) for _ in (0, 1)]
        for plot, line in zip((self.pace, self.pitch), self.playheads):
            line.hide()
            plot.addItem(line, ignoreBounds=True)
        if pair is None:
            self.scores.setRowCount(0)
            self.verdict.setText("")
            return
        first, second = pair
        if first.id == second.id:
            self.status.setText("The same take is chosen twice: choose another as the second.")
        else:
            self.status.setText("")
        bands = {first.score.band, second.score.band}
        for band in bands:
            region = pg.LinearRegionItem(values=band, orientation="horizontal", movable=False,
                                         brush=pg.mkBrush(BAND_COLOR), pen=pg.mkPen(None))
            region.setZValue(-10)
            self.pace.addItem(region, ignoreBounds=True)
        dashed = pg.mkPen(MUTED_TEXT, width=1, style=Qt.PenStyle.DashLine)
        for level in (-PITCH_CALM_ST, PITCH_CALM_ST):
            self.pitch.addItem(pg.InfiniteLine(pos=level, angle=0, pen=dashed), ignoreBounds=True)
        self.pitch.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#c5cacd", width=1)), ignoreBounds=True)
        end = 1.0
        for take, color, width in ((first, FIRST_COLOR, 2), (second, SECOND_COLOR, 3)):
            series = aligned_series(take.score)
            if len(series.t):
                end = max(end, float(series.t[-1]))
            self.pace.plot(series.t, np.clip(series.wpm, *PACE_RANGE_WPM), pen=pg.mkPen(color, width=width),
                           connect="finite")
            self.pitch.plot(series.t, np.clip(series.pitch_st, *PITCH_RANGE_ST), pen=pg.mkPen(color, width=width - 0.5),
                            connect="finite")
        self.pace.setXRange(0.0, end, padding=0.02)
        self._fill_scores(compare_takes(first, second))
        recorded = first.recording is not None and second.recording is not None
        self.play_button.setEnabled(recorded)
        self.play_button.setToolTip(
            "Play the first take, then the second, with a playhead on the timeline" if recorded else
            "Only takes recorded with Keep audio on (Settings) can be played"
        )

    # ---- playing the two takes ----------------------------------------------------------
    def play(self) -> None:
        """Play the first take, a short silence, then the second; never blocks the UI."""
        pair = self.chosen()
        if pair is None:
            self.status.setText("Choose two takes first.")
            return
        first, second = pair
        sounds = [take_audio(first), take_audio(second)]
        missing = [name for name, sound in zip(("first", "second"), sounds) if sound is None or not len(sound)]
        if missing:
            self.status.setText(
                f"The {' and the '.join(missing)} take{'s have' if len(missing) > 1 else ' has'} no recording: "
                "takes are recorded when Keep audio is on in Settings."
            )
            return
        joined, second_at = one_after_the_other(sounds[0], sounds[1])
        lengths = (len(sounds[0]) / SAMPLE_RATE, len(sounds[1]) / SAMPLE_RATE)
        self.stop()
        self.status.setText("Starting…")
        device = self.output_device

        def started(error: str | None) -> None:
            if error:
                self.status.setText(error)
                return
            self.status.setText("")
            self._playing = (first, lengths[0], second, second_at, lengths[1])
            self._play_started = time.monotonic()
            self.stop_button.setEnabled(True)
            self._play_timer.start()
            self._tick()

        run_in_background(lambda: play_audio(joined, device), done=started,
                          failed=self.status.setText, owner=self, name="poise-trainer")

    def stop(self) -> None:
        """Stop playing (nothing happens when nothing plays)."""
        if self._playing is None:
            return
        self._playing = None
        self._play_timer.stop()
        stop_audio()
        self.stop_button.setEnabled(False)
        self.now_playing.setText("")
        for line in self.playheads:
            line.hide()

    def playhead(self) -> tuple[int, float] | None:
        """(take 0 or 1, x on the axis) of the playhead now, or None when it is hidden."""
        line = self.playheads[0] if self.playheads else None
        if line is None or not line.isVisible():
            return None
        return self._playhead_take, float(line.value())

    def _tick(self) -> None:
        if self._playing is None:
            return
        first, first_len, second, second_at, second_len = self._playing
        elapsed = time.monotonic() - self._play_started
        if elapsed >= second_at + second_len:
            self.stop()
            self.now_playing.setText("Played both takes.")
            return
        head = playhead_at(elapsed, first, first_len, second, second_at, second_len)
        if head is None:  # the silence between them
            for line in self.playheads:
                line.hide()
            return
        self._playhead_take = head.take
        color = FIRST_COLOR if head.take == 0 else SECOND_COLOR
        self.now_playing.setText("Playing the first take…" if head.take == 0 else "Playing the second take…")
        for line in self.playheads:
            line.setPen(pg.mkPen(color, width=2))
            line.setValue(head.x)
            line.show()

    def _fill_scores(self, lines: list[ScoreLine]) -> None:
        self.scores.setRowCount(len(lines))
        for i, line in enumerate(lines):
            change = line.change
            verdict = line.verdict()
            unit = {"%": " points", "": ""}.get(line.unit, f" {line.unit}")  # a change of a share is in points
            change_text = "—" if change is None else f"{change:+.0f}{unit}"
            if verdict:
                change_text += f"  {verdict}"
            cells = (line.label, _cell(line, line.first), _cell(line, line.second), change_text)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if j == 3 and verdict in ("better", "worse"):
                    item.setForeground(AGENT_COLOR if verdict == "better" else CUE_COLOR)
                self.scores.setItem(i, j, item)
        score = next((line for line in lines if line.label == "Score"), None)
        if score is None or score.change is None:
            self.verdict.setText("")
        elif score.verdict() == "better":
            self.verdict.setText(f"The second take scores {score.change:.0f} points higher.")
        elif score.verdict() == "worse":
            self.verdict.setText(f"The second take scores {-score.change:.0f} points lower.")
        else:
            self.verdict.setText("The two takes score the same.")
