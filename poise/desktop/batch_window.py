"""A batch's summary as a table (Call → Open batch summary…, or the history window's batch filter):
one row per call, the highest cue rate first, so a reviewer starts with the worst calls; a
double-click (or Enter) opens the call in review.

Reading and sorting are `poise.app.batch_summary` (Qt-free, tested there); the file is read
off the UI thread, and this module only draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from poise import theme
from poise.app.batch_summary import DEFAULT_SORT, BatchSummary, SummaryError, SummaryRow, load_summary, sort_rows
from poise.app.review import CUES_WARN_PER_10_MIN
from poise.audio.coach import CUE_MESSAGES
from poise.desktop.widgets import list_table, status_label
from poise.desktop.window_actions import Opener, open_for_review
from poise.desktop.window_menus import install_batch_menu  # (here for old callers)
from poise.report.format import fmt_length

SUMMARY_FILTER = "Batch summaries (summary.csv summary.parquet *.csv *.parquet);;All files (*)"
_Index = QModelIndex | QPersistentModelIndex
ERROR_TEXT = "#8a3a26"  # the calibration dialog's error red (style.py #calibMessage[error])
HEADER_PAD_PX = 30  # px beside a header's text: its margins and the sort arrow

# (key, header, tooltip) before the per-kind cue counts; the error column comes last
_FIXED = (
    ("call", "Call", "The call's name in the batch's output folder"),
    ("agent", "Agent", "Whose voice profile the cues started from"),
    ("duration_s", "Length", "The call's length"),
    ("agent_wpm", "Pace (wpm)", "The agent's words per minute, pauses under 2 s included"),
    ("talk_share", "Talk share", "The agent's share of all talk"),
    ("interruptions", "Interr.", "Times the agent started talking over the caller"),
    ("cues_per_10min", "Cues / 10 min", "Cues per 10 minutes of call: the reviewer's first sort"),
    ("cues", "Cues", "All cues of the call"),
)


# short headers of the per-kind cue counts (the tooltip has the cue's message)
_KIND_HEADERS = {
    "slow_down": "Slow down", "lower_tone": "Tone", "lower_volume": "Loud", "let_caller_finish": "Talk-over",
    "pause_for_caller": "Monologue", "dead_air": "Dead air", "speak_up": "Quiet", "acknowledge": "Acknowl.",
    "avoid_defensive": "Defensive", "set_boundary": "Boundary", "next_steps": "Next steps",
}
ERROR_COLUMN = ("error", "Error", "Why the call was not analysed")


def _kind_header(kind: str) -> str:
    return _KIND_HEADERS.get(kind) or kind.replace("_", " ").capitalize()


class BatchTableModel(QAbstractTableModel):
    """The rows of one batch summary for a `QTableView`, sorted here (cue rate, worst first, by default)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.summary: BatchSummary | None = None
        self.rows: list[SummaryRow] = []
        self.columns: list[tuple[str, str, str]] = [*_FIXED, ERROR_COLUMN]
        self.sort_column, self.descending = DEFAULT_SORT

    def set_summary(self, summary: BatchSummary) -> None:
        """Show `summary` (sorted by the current column)."""
        self.beginResetModel()
        self.summary = summary
        kinds = [(f"cue_{k}", _kind_header(k), f"“{CUE_MESSAGES.get(k, k)}” cues") for k in summary.cue_kinds]
        # the error before the per-kind counts: a failed call is seen without scrolling
        self.columns = [*_FIXED, ERROR_COLUMN, *kinds]
        self.rows = sort_rows(summary.rows, self.sort_column, self.descending)
        self.endResetModel()

    def column_of(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c[0] == key)

    def row(self, index: int) -> SummaryRow:
        return self.rows[index]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: N802 - Qt's name
        if not 0 <= column < len(self.columns):
            return
        self.sort_column, self.descending = self.columns[column][0], order == Qt.SortOrder.DescendingOrder
        self.layoutAboutToBeChanged.emit()
        self.rows = sort_rows(self.rows, self.sort_column, self.descending)
        self.layoutChanged.emit()

    # ---- Qt --------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section][2]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, key = self.rows[index.row()], self.columns[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(r, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and key not in ("call", "agent", "error"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not r.ok:
                return QColor(theme.MUTED) if key != "error" else None
            if key == "cues_per_10min" and (r.cues_per_10min or 0) >= CUES_WARN_PER_10_MIN:
                return QColor(theme.CUE)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "error" and r.error:
                return r.error
            if key == "call":
                files = [str(p) for p in (r.agent_file, r.caller_file) if p is not None]
                return "\n".join(files + ([r.notes] if r.notes else []))
        return None

    @staticmethod
    def text(r: SummaryRow, key: str) -> str:
        """What a cell shows ("—" where the batch measured nothing)."""
        if key == "call":
            return r.call
        if key == "agent":
            return r.agent
        if key == "error":
            return r.error or ""
        if key == "duration_s":
            return fmt_length(r.duration_s) if r.duration_s and r.ok else "—"
        if key == "agent_wpm":
            return "—" if r.agent_wpm is None else f"{r.agent_wpm:.0f}"
        if key == "talk_share":
            return "—" if r.talk_share is None else f"{100 * r.talk_share:.0f} %"
        if key == "cues_per_10min":
            return "—" if r.cues_per_10min is None else f"{r.cues_per_10min:.1f}"
        if key == "interruptions":
            return "—" if r.interruptions is None else str(r.interruptions)
        if key == "cues":
            return "—" if r.cues is None else str(r.cues)
        if key.startswith("cue_"):
            n = r.cue_counts.get(key[4:])
            return "—" if n is None or not r.ok else str(n)
        return ""


class BatchSummaryWindow(QMainWindow):
    """Poise — batch: one batch's calls, worst first; double-click opens one in review.

    `opener(recording, caller_file, agent_channel)` opens a review (the main window passes its own); by
    default a `ReviewWindow` is made here.
    """

    def __init__(self, path: Path | None = None, *, opener: Opener | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchWindow")
        self.setWindowTitle("Poise — batch summary")
        self._opener = opener
        self.review_windows: list[QWidget] = []
        self.path: Path | None = None
        self.error: str | None = None

        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 17px; font-weight: 600; background: transparent;")
        self.subtitle = QLabel("", objectName="hint")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)
        self.model = BatchTableModel(self)
        self.table = QTableView(objectName="batchTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)  # (this sorts the empty model by column 0: the default is put back)
        self.model.sort_column, self.model.descending = DEFAULT_SORT
        self.table.horizontalHeader().setSortIndicator(self.model.column_of(DEFAULT_SORT[0]), Qt.SortOrder.DescendingOrder)
        list_table(self.table, QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.table.activated.connect(lambda index: self.open_row(index.row()))  # Enter
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.open_button = QPushButton("Open in review", objectName="primaryButton")
        self.open_button.clicked.connect(self._open_selected)
        self.other_button = QPushButton("Open another summary…")
        self.other_button.clicked.connect(self.choose)
        self.status = status_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.other_button)
        buttons.addStretch(1)

        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(14, 12, 14, 8)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.setCentralWidget(holder)
        self.resize(1180, 640)
        close = QAction("Close", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        self.addAction(close)
        if path is not None:
            self.load(path)

    # ---- loading ------------------------------------------------------------------------

    def load(self, path: Path, background: bool = True) -> None:
        """Read the summary at `path` (a file or a batch's output folder), off the UI thread unless told not to."""
        self.status.setText(f"Reading {Path(path).name}…")

        def work() -> BatchSummary | str:
            try:
                return load_summary(Path(path))
            except SummaryError as exc:
                return str(exc)

        if not background:
            self.show_summary(work())
            return
        from poise.desktop.workers import run_in_background

        run_in_background(work, done=self.show_summary, failed=self._failed, owner=self, name="poise-batch-summary")

    def _failed(self, sentence: str) -> None:
        self.show_summary(sentence)

    def show_summary(self, summary: BatchSummary | str) -> None:
        """Draw a summary, or the sentence saying why there is none."""
        if isinstance(summary, str):
            self.error = f"This summary cannot be shown: {summary}"
            self.status.setText("")
            if self.model.summary is None:
                self.title.setText("No batch summary")
                self.subtitle.setText(self.error)
                self.subtitle.setStyleSheet(f"color: {ERROR_TEXT}; font-size: 13px; background: transparent;")
            else:  # the table keeps the summary shown before
                self.status.setText(self.error)
            self._update_buttons()
            return
        self.error, self.path = None, summary.path
        self.subtitle.setStyleSheet("")
        self.model.set_summary(summary)
        self.table.horizontalHeader().setSortIndicator(
            self.model.column_of(self.model.sort_column),
            Qt.SortOrder.DescendingOrder if self.model.descending else Qt.SortOrder.AscendingOrder,
        )
        header = self.table.horizontalHeader()
        metrics = header.fontMetrics()
        widths = {"call": 200, "agent": 90, "error": 240}  # px; the others fit their header (sort arrow included)
        for col, (key, title, _tip) in enumerate(self.model.columns):
            header.resizeSection(col, widths.get(key, metrics.horizontalAdvance(title) + HEADER_PAD_PX))
        self.title.setText(f"Batch {summary.folder.name}")
        self.subtitle.setText(f"{summary.describe()} · {summary.path}")
        self.setWindowTitle(f"Poise — batch {summary.folder.name}")
        self.status.setText("Worst calls first (cues per 10 minutes). Double-click a call to review it.")
        self._update_buttons()

    def choose(self) -> None:
        """Ask for a summary file and show it."""
        start = str(self.path.parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a batch summary", start, SUMMARY_FILTER)
        if path:
            self.load(Path(path))

    # ---- opening a call -------------------------------------------------------------------

    def _update_buttons(self) -> None:
        self.open_button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_row(rows[0].row())

    def open_row(self, index: int) -> bool:
        """Open row `index` (of the sorted table) in review; False, with a sentence, when its audio is gone."""
        if not 0 <= index < len(self.model.rows):
            return False
        r = self.model.row(index)
        missing = [p for p in (r.agent_file, r.caller_file) if p is not None and not p.is_file()]
        if r.agent_file is None or missing:
            gone = missing[0] if missing else None
            self.status.setText(f"{r.call} cannot be reviewed: {gone or 'its recording'} was moved or deleted.")
            return False
        open_for_review(self, r.agent_file, self._opener, r.caller_file, r.agent_channel)
        self.status.setText(f"Opened {r.call} in review." + ("" if r.ok else f" It was not analysed in the batch: {r.error}"))
        return True


def open_batch_summary(parent: QWidget, path: Path | None = None, opener: Opener | None = None) -> BatchSummaryWindow | None:
    """Show a batch summary in its own window: `path`, or one the user chooses (None if they cancel)."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Open a batch summary", "", SUMMARY_FILTER)
        if not chosen:
            return None
        path = Path(chosen)
    window = BatchSummaryWindow(path, opener=opener)
    window.setWindowIcon(parent.windowIcon())
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    windows: list[QWidget] = getattr(parent, "_batch_windows", None) or []
    parent._batch_windows = windows  # type: ignore[attr-defined]  # kept alive while shown
    windows.append(window)
    window.destroyed.connect(lambda *_: windows.remove(window) if window in windows else None)
    window.show()
    return window


__all__ = ["BatchSummaryWindow", "BatchTableModel", "install_batch_menu", "open_batch_summary"]
