"""Reviewing a recorded call: where the agent sped up, got loud or talked over the caller.

The analysis (`poise.app.review.review_call`: the same engine as live, with the user's
cue rules and the agent's saved voice profile, so it shows the cues the agent would have
seen live) runs on a worker thread and the review is saved to history by the same
policy as `poise analyze --save`; the window shows its progress, then a timeline of the call with the
cues marked, the numbers, and the transcript. Clicking a cue or a transcript line
moves the timeline's cursor there.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from poise.app.history import History
from poise.app.review import review_call
from poise.app.spec import CallKind, CallOutcome, CallSpec
from poise.app.redact import for_storage
from poise.audio.report import write_json
from poise.report.format import band_verdict, fmt_clock, fmt_duration, format_evidence
from poise.report.html import write_html
from poise.audio.types import AnalysisResult
from poise.desktop.widgets import AGENT_COLOR, CALLER_COLOR, CUE_COLOR, MUTED_TEXT
from poise.desktop.settings import Settings
from poise.desktop.workers import on_ui_thread, run_in_background


def _number_card(title: str) -> tuple[QWidget, QLabel, QLabel]:
    card = QWidget(objectName="card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(14, 10, 14, 10)
    layout.addWidget(QLabel(title.upper(), objectName="cardTitle"))
    value = QLabel("—", objectName="paceValue")
    note = QLabel("", objectName="hint")
    note.setWordWrap(True)
    layout.addWidget(value)
    layout.addWidget(note)
    return card, value, note


class ReviewWindow(QMainWindow):
    """One recorded call, analysed and laid out for review."""

    analysis_done = Signal(object)  # AnalysisResult

    def __init__(
        self,
        path: str | Path,
        caller_path: str | Path | None = None,
        *,
        agent_channel: str = "left",
        model_path: str | None = None,
        transcribe: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        """Review `path` with the user's settings (cue rules, model folder, agent's profile);
        `model_path` overrides the model folder."""
        super().__init__(parent)
        self.path = Path(path)
        self.spec = CallSpec.from_settings(
            CallKind.REVIEW, Settings().load(),
            file=self.path, caller_file=Path(caller_path) if caller_path else None,
            agent_channel=agent_channel, transcribe=transcribe,
        )
        if model_path:
            self.spec = replace(self.spec, model_dir=model_path)
        self.result: AnalysisResult | None = None
        self.error: str | None = None
        self.outcome: CallOutcome | None = None
        self._cancel = threading.Event()
        self._history = History()  # where the review is saved is fixed when it is asked for
        self.setWindowTitle(f"Poise — review: {self.path.name}")
        self.resize(1200, 800)
        self._build_ui()
        self._worker = run_in_background(self._analyse, done=self._on_outcome, owner=self, name="poise-review")

    # --- layout -------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget(objectName="liveView")
        root = QVBoxLayout(central)
        root.setContentsMargins(14, 12, 14, 12)
        root.setSpacing(10)

        top = QHBoxLayout()
        self.status = QLabel(f"Analysing {self.path.name}…")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export report…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_dialog)
        top.addWidget(self.status, 1)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.export_button)
        root.addLayout(top)

        cards = QGridLayout()
        self.cards: dict[str, tuple[QLabel, QLabel]] = {}
        for i, (key, title) in enumerate(
            [("wpm", "Agent pace"), ("share", "Agent talk share"), ("interruptions", "Interruptions"),
             ("monologue", "Longest monologue"), ("dead_air", "Dead air"), ("cues", "Cues")]
        ):
            card, value, note = _number_card(title)
            self.cards[key] = (value, note)
            cards.addWidget(card, 0, i)
        root.addLayout(cards)

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground("w")
        self.plots = {}
        for row, (key, label) in enumerate(
            [("speaking", "who speaks"), ("pace", "pace (syl/s)"), ("pitch", "pitch (Hz)"), ("volume", "volume (dBFS)")]
        ):
            p = self.plot.addPlot(row=row, col=0)
            p.setLabel("left", label)
            p.showGrid(x=True, y=True, alpha=0.15)
            p.setMouseEnabled(y=False)
            if row:
                p.setXLink(self.plots["speaking"])
            self.plots[key] = p
        self.plots["speaking"].setYRange(-0.2, 2.2)
        self.plots["speaking"].getAxis("left").setTicks([[(0.5, "caller"), (1.5, "agent")]])
        self.plots["volume"].setLabel("bottom", "call time (s)")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(MUTED_TEXT, width=1, style=Qt.DashLine))
        self.plots["speaking"].addItem(self.cursor)

        lists = QSplitter(Qt.Horizontal)
        self.cue_list = QListWidget(objectName="cueList")
        self.cue_list.itemClicked.connect(self._jump_to_item)
        self.transcript = QListWidget(objectName="transcript")
        self.transcript.itemClicked.connect(self._jump_to_item)
        lists.addWidget(self.cue_list)
        lists.addWidget(self.transcript)
        lists.setSizes([350, 850])

        body = QSplitter(Qt.Vertical)
        body.addWidget(self.plot)
        body.addWidget(lists)
        body.setSizes([430, 300])
        root.addWidget(body, 1)
        self.setCentralWidget(central)

        export = QAction("Export report…", self, shortcut=QKeySequence("Ctrl+E"), triggered=self.export_dialog)
        close = QAction("Close", self, shortcut=QKeySequence.Close, triggered=self.close)
        self.addActions([export, close])

    # --- the analysis (worker thread) -----------------------------------------------------------
    def _analyse(self) -> CallOutcome:
        def progress(fraction: float, label: str) -> None:
            on_ui_thread(lambda: self._on_progress(fraction, label), owner=self)

        return review_call(self.spec, history=self._history, progress=progress, cancel=self._cancel)

    def _on_outcome(self, outcome: CallOutcome) -> None:
        self.outcome = outcome
        if outcome.result is None:
            self._on_failed(outcome.error or "The analysis gave no result.")
        else:
            self._on_done(outcome.result)

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the worker has ended (tests, closing)."""
        self._worker.join(timeout)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._cancel.set()
        super().closeEvent(event)

    # --- results (UI thread) ----------------------------------------------------------------------
    def _on_progress(self, fraction: float, label: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(f"{self.path.name}: {label}…")

    def _on_failed(self, message: str) -> None:
        self.error = message
        self.status.setText(message)
        self.progress.hide()
        self.cancel_button.hide()

    def _on_done(self, result: AnalysisResult) -> None:
        self.result = result
        self.progress.hide()
        self.cancel_button.hide()
        self.export_button.setEnabled(True)
        self.status.setText(f"{self.path.name} · {fmt_clock(result.source.duration_s)}")
        self._fill_cards(result)
        self._fill_plots(result)
        self._fill_lists(result)
        self.analysis_done.emit(result)

    def _fill_cards(self, r: AnalysisResult) -> None:
        def put(key: str, value: str, note: str = "") -> None:
            self.cards[key][0].setText(value)
            self.cards[key][1].setText(note)

        wpm = r.agent.wpm
        low, high = band = (self.spec.config.target_wpm_low, self.spec.config.target_wpm_high)  # the user's band
        verdict = band_verdict(wpm, band)
        put("wpm", f"{wpm:.0f} wpm" if wpm is not None else "—", f"{verdict} the {low:.0f}–{high:.0f} band" if verdict else "no words")
        c = r.conversation
        put("share", f"{c.agent_talk_share * 100:.0f} %" if c.agent_talk_share is not None else "—", "of all talk")
        put("interruptions", str(c.agent_interruptions) if c.agent_interruptions is not None else "—", "agent over caller")
        put("monologue", fmt_duration(c.longest_agent_monologue_s))
        put("dead_air", fmt_duration(c.dead_air_s), "nobody speaking")
        put("cues", str(len(r.cues)), "prompts the agent would have seen")

    def _fill_plots(self, r: AnalysisResult) -> None:
        tl = r.timeline
        t = [x + tl.step_s / 2 for x in tl.t]
        speaking = self.plots["speaking"]
        speaking.addItem(pg.BarGraphItem(x=t, height=[v * 0.8 for v in tl.agent_speaking], width=tl.step_s, y0=1.1, brush=AGENT_COLOR, pen=None))
        if tl.caller_speaking:
            speaking.addItem(pg.BarGraphItem(x=t, height=[v * 0.8 for v in tl.caller_speaking], width=tl.step_s, y0=0.1, brush=CALLER_COLOR, pen=None))

        def curve(key: str, values: list, color: QColor) -> None:
            ys = np.array([np.nan if v is None else v for v in values], dtype=float)
            if np.isfinite(ys).any():  # gaps (silence) stay gaps
                self.plots[key].plot(t, ys, pen=pg.mkPen(color, width=2), connect="finite")

        curve("pace", tl.agent_rate_sps, AGENT_COLOR)
        curve("pitch", tl.agent_pitch_hz, AGENT_COLOR)
        curve("volume", tl.agent_db, AGENT_COLOR)
        if tl.caller_db:
            curve("volume", tl.caller_db, CALLER_COLOR)
        dashed = pg.mkPen(MUTED_TEXT, width=1, style=Qt.DashLine)
        for key, value in (("pace", r.baseline.rate_sps), ("pitch", r.baseline.pitch_hz), ("volume", r.baseline.db)):
            if value is not None:
                self.plots[key].addItem(pg.InfiniteLine(pos=value, angle=0, pen=dashed))
        for i, cue in enumerate(r.cues):
            for key, plot in self.plots.items():
                line = pg.InfiniteLine(pos=cue.t, angle=90, pen=pg.mkPen(CUE_COLOR, width=1.5))
                if key == "speaking":  # labels on three heights so neighbouring cues stay readable
                    line.label = pg.InfLineLabel(line, text=cue.message, position=(0.88, 0.68, 0.48)[i % 3], color=CUE_COLOR)
                plot.addItem(line)
        self.plots["speaking"].setXRange(0, max(r.source.duration_s, 1.0), padding=0.01)

    def _fill_lists(self, r: AnalysisResult) -> None:
        for cue in r.cues:
            item = QListWidgetItem(f"{fmt_clock(cue.t)}  {cue.message}\n        {format_evidence(cue.evidence)}")
            item.setData(Qt.UserRole, cue.t)
            item.setForeground(CUE_COLOR)
            self.cue_list.addItem(item)
        if not r.cues:
            self.cue_list.addItem("No cues: calm and clear throughout.")
        for seg in r.segments:
            item = QListWidgetItem(f"{fmt_clock(seg.start)}  {seg.role.capitalize():<7} {seg.text}")
            item.setData(Qt.UserRole, seg.start)
            item.setForeground(AGENT_COLOR if seg.role == "agent" else CALLER_COLOR)
            self.transcript.addItem(item)
        if not r.segments:
            self.transcript.addItem("No transcript.")

    def _jump_to_item(self, item: QListWidgetItem) -> None:
        t = item.data(Qt.UserRole)
        if t is not None:
            self.cursor.setPos(float(t))

    # --- export ------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if self.result is None:
            return
        target, _ = QFileDialog.getSaveFileName(
            self, "Export report", str(self.path.with_suffix(".html")), "HTML report (*.html);;JSON (*.json)"
        )
        if target:
            self.export(Path(target))

    def export(self, target: Path) -> str:
        """Write the report as HTML or JSON (by suffix); returns the sentence shown in the status line."""
        assert self.result is not None
        try:
            exported = for_storage(self.result)  # redacted unless the user keeps numbers (Settings → Privacy)
            (write_json if target.suffix.lower() == ".json" else write_html)(exported, target)
            message = f"Report saved to {target}"
        except OSError as exc:
            message = f"Could not save the report ({exc.strerror or exc}): choose another folder."
        self.status.setText(message)
        return message
