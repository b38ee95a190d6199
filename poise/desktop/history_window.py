"""The history window (Ctrl+H): every call kept, sortable and filterable, opened in review or deleted;
the follow-ups promised in calls, as reminders above the list (due and overdue first); per-agent
trends; the agents' profiles; the retention setting and recordings no call uses.

The calls are a `QTableView` over `CallTableModel`, which holds light rows (`CallRow`, read
from the list's own columns) and sorts and filters them itself in Python: with 10,000
calls the window opens and filters in tens of milliseconds (benchmarks/history.py). The
work (deleting with the audio, retention, orphans) is `poise.app.forget`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from poise.app import forget
from poise.app.history import CallAudio, call_audio
from poise.app.settings import SettingsStore
from poise.audio.store import CallRow, HistoryStore, StoreError
from poise.desktop.follow_ups import FollowUpsPanel
from poise.desktop.profiles import ProfilesView, ask_yes
from poise.desktop.trends_tab import TrendsTab
from poise.desktop.widgets import list_table, status_label
from poise.desktop.window_actions import Opener, RecordingDrop, open_for_review
from poise.desktop.window_menus import apply_retention_soon, install_history_menu  # (here for old callers)
from poise.report.format import fmt_length

ALL_AGENTS = ""  # the agent filter's "All agents"
ANY_DATE = QDate(2000, 1, 1)  # a date edit at this minimum shows "any" (no bound)
_Index = QModelIndex | QPersistentModelIndex


def _none_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else 0)


class CallTableModel(QAbstractTableModel):
    """History's calls for a `QTableView`: sorted and filtered here, formatted only for the rows on screen."""

    COLUMNS = ("Date", "Agent", "Kind", "Length", "Pace (wpm)", "Cues", "Cues / 10 min", "Interruptions", "Audio")
    _SORT_KEYS: tuple[Callable[[CallRow], Any], ...] = (
        lambda r: r.started_at,
        lambda r: r.agent.lower(),
        lambda r: r.kind,
        lambda r: _none_last(r.duration_s),
        lambda r: _none_last(r.agent_wpm),
        lambda r: r.cue_count,
        lambda r: _none_last(r.cues_per_10min),
        lambda r: _none_last(r.interruptions),
        lambda r: r.recording is not None,
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.all_rows: list[CallRow] = []
        self.rows: list[CallRow] = []
        self._sort = (0, Qt.SortOrder.DescendingOrder)
        self.agent: str | None = None
        self.since: date | None = None
        self.until: date | None = None
        self.min_cues = 0
        self.ids: set[int] | None = None  # only these calls (one batch's), None: any

    # ---- content ---------------------------------------------------------------------

    def set_rows(self, rows: list[CallRow], apply: bool = True) -> None:
        """Replace the calls (shown through the current filter and sort unless `apply` is False)."""
        self.all_rows = rows
        if apply:
            self._apply()

    def set_filter(
        self, *, agent: str | None = None, since: date | None = None, until: date | None = None, min_cues: int = 0,
        ids: set[int] | None = None,
    ) -> None:
        """Show only `agent`'s calls (None: everyone's), started on `since`..`until` (local dates, inclusive),
        with at least `min_cues` cues, and only those in `ids` (one batch's) when given."""
        self.agent, self.since, self.until, self.min_cues = agent, since, until, int(min_cues)
        self.ids = ids
        self._apply()

    def _apply(self) -> None:
        agent, min_cues = self.agent, self.min_cues
        lo = datetime.combine(self.since, time.min).astimezone(timezone.utc) if self.since else None
        hi = datetime.combine(self.until, time.max).astimezone(timezone.utc) if self.until else None
        self.beginResetModel()
        self.rows = [
            r for r in self.all_rows
            if (agent is None or r.agent == agent)
            and r.cue_count >= min_cues
            and (self.ids is None or r.id in self.ids)
            and (lo is None or r.started_at >= lo)
            and (hi is None or r.started_at <= hi)
        ]
        column, order = self._sort
        self.rows.sort(key=self._SORT_KEYS[column], reverse=order == Qt.SortOrder.DescendingOrder)
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: N802 - Qt's name
        if not 0 <= column < len(self.COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(key=self._SORT_KEYS[column], reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()

    def row(self, index: int) -> CallRow:
        return self.rows[index]

    # ---- Qt --------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3 and col != 8:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 8:
                return str(r.recording) if r.recording else "No audio was kept for this call"
            return r.source
        if role == Qt.ItemDataRole.UserRole:
            return r.id
        return None

    @staticmethod
    def _text(r: CallRow, col: int) -> str:
        if col == 0:
            return f"{r.started_at.astimezone():%Y-%m-%d %H:%M}"
        if col == 1:
            return r.agent
        if col == 2:
            return r.kind
        if col == 3:
            return fmt_length(r.duration_s)
        if col == 4:
            return "—" if r.agent_wpm is None else f"{r.agent_wpm:.0f}"
        if col == 5:
            return str(r.cue_count)
        if col == 6:
            return "—" if r.cues_per_10min is None else f"{r.cues_per_10min:.1f}"
        if col == 7:
            return "—" if r.interruptions is None else str(r.interruptions)
        return "kept" if r.recording is not None else "—"


class HistoryWindow(QMainWindow):
    """Poise — history: Calls, Trends and Profiles tabs.

    `opener(path, caller_path, agent_channel)` opens a recording in review (the main window passes its own, so the
    review window is the app's usual one); by default a `ReviewWindow` is made here.
    `history` is the store to use (default: the user's, kept open while the window is).
    """

    def __init__(
        self, parent: QWidget | None = None, *, history: HistoryStore | None = None,
        opener: Opener | None = None, settings: SettingsStore | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poise — history")
        self.setObjectName("historyWindow")
        self._own_store = history is None
        self.error: str | None = None
        try:
            self.store: HistoryStore | None = history or HistoryStore()
        except StoreError as exc:
            self.store, self.error = None, str(exc)
        self._settings = settings or SettingsStore()
        self._opener = opener
        self.review_windows: list[QWidget] = []
        self._drop = RecordingDrop(self, lambda p: self._review(Path(p)))  # a recording dropped here opens in review
        self.installEventFilter(self._drop)
        self.ask_yes: Callable[[str, str], bool] = lambda title, q: ask_yes(self, title, q)
        self._today = today  # what "due" and "overdue" count from (tests pass a fixed day)

        self.model = CallTableModel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._calls_tab(), "Calls")
        # Trends (three plots) and Profiles are built when first shown: the plots alone cost
        # ~150 ms, half the window's open-time budget.
        self._trends_tab: TrendsTab | None = None
        self._profiles_view: ProfilesView | None = None
        self.tabs.addTab(QWidget(), "Trends")
        self.tabs.addTab(QWidget(), "Profiles")
        self.tabs.currentChanged.connect(self._tab_changed)
        holder = QWidget()
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.addWidget(self.tabs)
        self.setCentralWidget(holder)
        self.resize(1000, 660)
        close = QAction("Close", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        self.addAction(close)
        reload = QAction("Refresh", self)
        reload.setShortcut(QKeySequence.StandardKey.Refresh)
        reload.triggered.connect(self.refresh)
        self.addAction(reload)
        self.refresh()

    # ---- the lazy tabs --------------------------------------------------------------------

    def _install(self, index: int, widget: QWidget, label: str) -> None:
        current = self.tabs.currentIndex()
        self.tabs.blockSignals(True)
        old = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, label)
        old.deleteLater()
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)

    @property
    def trends_tab(self) -> TrendsTab:
        """The Trends tab (made on first use)."""
        if self._trends_tab is None:
            self._trends_tab = TrendsTab(self._settings.load().agent, self.store)
            self._install(1, self._trends_tab, "Trends")
        return self._trends_tab

    @property
    def profiles_view(self) -> ProfilesView:
        """The Profiles tab (made on first use)."""
        if self._profiles_view is None:
            self._profiles_view = ProfilesView(history=self.store, settings=self._settings)
            self._profiles_view.changed.connect(self.refresh)
            self._install(2, self._profiles_view, "Profiles")
        return self._profiles_view

    # ---- the calls tab ------------------------------------------------------------------

    def _calls_tab(self) -> QWidget:
        tab = QWidget()
        self.follow_ups = FollowUpsPanel(today=self._today)
        self.follow_ups.open_requested.connect(self.open_call)
        self.follow_ups.changed.connect(lambda: self.status.setText("Follow-up marked done."))
        self.agent_filter = QComboBox(objectName="agentFilter")
        self.agent_filter.setMinimumContentsLength(12)
        self.since_edit, self.until_edit = QDateEdit(), QDateEdit()
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setMinimumDate(ANY_DATE)
            edit.setSpecialValueText("any")
            edit.setDate(ANY_DATE)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(lambda *_: self.apply_filter())
        self.cue_filter = QSpinBox(objectName="cueFilter")
        self.cue_filter.setRange(0, 999)
        self.cue_filter.setPrefix("at least ")
        self.cue_filter.valueChanged.connect(lambda *_: self.apply_filter())
        self.agent_filter.currentIndexChanged.connect(lambda *_: self.apply_filter())
        clear = QPushButton("Show all")
        clear.clicked.connect(self.clear_filter)
        # one batch's calls (`poise batch --save`), and its summary table: shown only once a batch exists
        self.batch_filter = QComboBox(objectName="batchFilter")
        self.batch_filter.setMinimumContentsLength(10)
        self.batch_filter.currentIndexChanged.connect(lambda *_: self.apply_filter())
        self.batch_label = QLabel("Batch", objectName="fieldLabel")
        self.batch_button = QPushButton("Summary…")
        self.batch_button.setToolTip("The chosen batch's summary as a table, worst calls first")
        self.batch_button.clicked.connect(self.open_batch_summary)
        self.batches: dict[str, Any] = {}  # id -> BatchInfo
        for widget in (self.batch_label, self.batch_filter, self.batch_button):
            widget.setVisible(False)
        filters = QHBoxLayout()
        for label, widget in (("Agent", self.agent_filter), ("From", self.since_edit), ("To", self.until_edit),
                              ("Cues", self.cue_filter)):
            filters.addWidget(QLabel(label, objectName="fieldLabel"))
            filters.addWidget(widget)
            filters.addSpacing(6)
        for widget in (self.batch_label, self.batch_filter, self.batch_button):
            filters.addWidget(widget)
        filters.addSpacing(6)
        filters.addWidget(clear)
        filters.addStretch(1)

        self.table = QTableView(objectName="historyTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        list_table(self.table, QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        for col, width in enumerate((130, 140, 60, 70, 90, 50, 100, 100, 60)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda index: self.open_call(self.model.row(index.row()).id))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.open_button = QPushButton("Open in review")
        self.open_button.setObjectName("primaryButton")
        self.open_button.clicked.connect(self._open_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self._delete_selected)
        self.forget_all_button = QPushButton("Delete everything…")
        self.forget_all_button.setToolTip("Every call, voice profile and recording Poise keeps (as `poise forget --all`)")
        self.forget_all_button.clicked.connect(self._forget_all)
        self.count_label = QLabel("", objectName="hint")
        self.retention = QSpinBox(objectName="retention")
        self.retention.setRange(0, forget.MAX_RETENTION_DAYS)
        self.retention.setSpecialValueText("forever")
        self.retention.setSuffix(" days")
        self.retention.setToolTip("Calls older than this are deleted with their recordings (off by default)")
        self.retention.editingFinished.connect(lambda: self.set_retention(self.retention.value() or None))
        self.orphans_label = QLabel("", objectName="hint")
        self.orphans_button = QPushButton("Remove them…")
        self.orphans_button.clicked.connect(self._remove_orphans)
        bottom = QHBoxLayout()
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.delete_button)
        bottom.addSpacing(10)
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(QLabel("Keep calls", objectName="fieldLabel"))
        bottom.addWidget(self.retention)
        orphans = QHBoxLayout()
        orphans.addWidget(self.orphans_label)
        orphans.addWidget(self.orphans_button)
        orphans.addStretch(1)
        orphans.addWidget(self.forget_all_button)
        self.status = status_label()

        layout = QVBoxLayout(tab)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.follow_ups)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addLayout(orphans)
        layout.addWidget(self.status)
        return tab

    def refresh(self) -> None:
        """Read the calls, agents, retention and orphans again."""
        if self.store is None:
            self.status.setText(self.error or "History cannot be opened.")
            self._update_buttons()
            return
        try:
            rows = self.store.list_calls(limit=None)
            agents = [a.name for a in self.store.list_agents()]
            keep = forget.retention_days(self.store)
            orphans = forget.find_orphans(self.store)
            batches = self.store.list_batches()
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self._fill_batches(batches)
        chosen = self.agent_filter.currentData()
        self.agent_filter.blockSignals(True)
        self.agent_filter.clear()
        self.agent_filter.addItem("All agents", ALL_AGENTS)
        for name in agents:
            self.agent_filter.addItem(name, name)
        self.agent_filter.setCurrentIndex(max(0, self.agent_filter.findData(chosen)) if chosen else 0)
        self.agent_filter.blockSignals(False)
        self.retention.blockSignals(True)
        self.retention.setValue(keep or 0)
        self.retention.blockSignals(False)
        self.orphans = orphans
        self.orphans_label.setText(
            f"{len(orphans)} recording(s) in Poise's folder belong to no call in history." if orphans else ""
        )
        self.orphans_label.setVisible(bool(orphans))
        self.orphans_button.setVisible(bool(orphans))
        self.model.set_rows(rows, apply=False)
        self.apply_filter()  # filters and sorts once
        problem = self.follow_ups.refresh(self.store)
        if problem:
            self.status.setText(problem)
        if self._trends_tab is not None and self.tabs.currentWidget() is self._trends_tab:
            self._trends_tab.refresh()

    def _fill_batches(self, batches: list) -> None:
        chosen = self.batch_filter.currentData()
        self.batches = {b.id: b for b in batches}
        self.batch_filter.blockSignals(True)
        self.batch_filter.clear()
        self.batch_filter.addItem("All calls", "")
        for b in batches:
            self.batch_filter.addItem(f"{b.name} ({b.calls})", b.id)
            self.batch_filter.setItemData(self.batch_filter.count() - 1, f"{b.folder} · id {b.id}", Qt.ItemDataRole.ToolTipRole)
        self.batch_filter.setCurrentIndex(max(0, self.batch_filter.findData(chosen)) if chosen else 0)
        self.batch_filter.blockSignals(False)
        for widget in (self.batch_label, self.batch_filter, self.batch_button):
            widget.setVisible(bool(batches))

    def show_batch(self, batch_id: str) -> bool:
        """Show only this batch's calls (False when history has no such batch)."""
        index = self.batch_filter.findData(batch_id)
        if index <= 0:
            return False
        self.batch_filter.setCurrentIndex(index)
        return True

    def open_batch_summary(self) -> Any:
        """Open the chosen batch's summary table (the file its `poise batch` run wrote); None when none is chosen."""
        from poise.desktop.batch_window import open_batch_summary

        batch = self.batches.get(self.batch_filter.currentData() or "")
        if batch is None:
            self.status.setText("Choose a batch first: its summary opens as a table.")
            return None
        return open_batch_summary(self, batch.summary, opener=self._opener)

    def apply_filter(self) -> None:
        """Filter the list by what the filter bar shows."""
        ids = None
        batch_id = self.batch_filter.currentData() or None
        if batch_id is not None and self.store is not None:
            try:
                ids = self.store.batch_call_ids(batch_id)
            except StoreError as exc:
                self.status.setText(str(exc))
        self.batch_button.setEnabled(batch_id is not None)
        agent = self.agent_filter.currentData() or None
        since = None if self.since_edit.date() == ANY_DATE else self.since_edit.date().toPython()
        until = None if self.until_edit.date() == ANY_DATE else self.until_edit.date().toPython()
        self.model.set_filter(agent=agent, since=since, until=until, min_cues=self.cue_filter.value(), ids=ids)
        shown, total = len(self.model.rows), len(self.model.all_rows)
        self.count_label.setText(
            f"{total} call{'s' if total != 1 else ''}" if shown == total else f"{shown} of {total} calls"
        )
        if not total:
            self.count_label.setText("No calls yet: coached calls and reviews are kept here.")
        self._update_buttons()

    def clear_filter(self) -> None:
        for w in (self.agent_filter, self.since_edit, self.until_edit, self.cue_filter, self.batch_filter):
            w.blockSignals(True)
        self.agent_filter.setCurrentIndex(0)
        self.batch_filter.setCurrentIndex(0)
        self.since_edit.setDate(ANY_DATE)
        self.until_edit.setDate(ANY_DATE)
        self.cue_filter.setValue(0)
        for w in (self.agent_filter, self.since_edit, self.until_edit, self.cue_filter, self.batch_filter):
            w.blockSignals(False)
        self.apply_filter()

    def selected_ids(self) -> list[int]:
        return [self.model.row(i.row()).id for i in self.table.selectionModel().selectedRows()]

    def _update_buttons(self) -> None:
        n = len(self.selected_ids()) if self.table.selectionModel() else 0
        self.open_button.setEnabled(n == 1)
        self.delete_button.setEnabled(n > 0)
        self.delete_button.setText(f"Delete {n} calls…" if n > 1 else "Delete…")

    # ---- actions ------------------------------------------------------------------------

    def _row(self, call_id: int) -> CallRow | None:
        return next((r for r in self.model.all_rows if r.id == call_id), None)

    def audio_of(self, call_id: int) -> CallAudio | None:
        """The audio to review a call from, opened as it was analysed (`app.history.call_audio`)."""
        r = self._row(call_id)
        if r is None or self.store is None:
            return None
        try:
            return call_audio(self.store, r)
        except StoreError as exc:
            self.status.setText(str(exc))
            return None

    def open_call(self, call_id: int) -> bool:
        """Open the call in review; False (and a sentence in the status line) when its audio is gone."""
        audio = self.audio_of(call_id)
        if audio is None:
            self.status.setText(
                "This call's audio was not kept (or was moved), so it cannot be reviewed; its numbers stay in the list."
            )
            return False
        open_for_review(self, audio.file, self._opener, audio.caller_file, audio.agent_channel)
        self.status.setText(f"Opened {audio.file.name} in review.")
        return True

    def _review(self, path: Path) -> None:
        """Open a recording dropped on the window in review."""
        open_for_review(self, path, self._opener)

    def _open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.open_call(ids[0])

    def delete_calls(self, ids: list[int]) -> forget.Forgotten | None:
        """Delete these calls with the recordings Poise made of them (no question asked)."""
        if self.store is None or not ids:
            return None
        try:
            done = forget.forget_calls(self.store, ids)
        except StoreError as exc:
            self.status.setText(str(exc))
            return None
        self.refresh()
        self.status.setText(done.describe())
        return done

    def _delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids and self.ask_yes(
            "Delete", f"Delete {len(ids)} call(s) from history with the recordings Poise made of them? "
            "This cannot be undone."
        ):
            self.delete_calls(ids)

    def set_retention(self, days: int | None) -> None:
        """Keep calls `days` days (None: forever) and apply it now."""
        if self.store is None:
            return
        try:
            previous = forget.retention_days(self.store)
            if days == previous:
                return
            forget.set_retention(self.store, days)
            done = forget.apply_retention(self.store)
        except (StoreError, ValueError) as exc:
            self.status.setText(str(exc))
            return
        self.refresh()
        self.status.setText(
            f"Calls are kept for {days} days. {done.describe()}" if days else "Calls are kept until you delete them."
        )

    def forget_everything(self) -> forget.Forgotten | None:
        """Delete every call, profile and recording (no question asked); the chosen agent falls back to the default."""
        if self.store is None:
            return None
        try:
            done = forget.forget_all(self.store)
        except StoreError as exc:
            self.status.setText(str(exc))
            return None
        self._settings.update(agent_name="")
        self.refresh()
        if self._profiles_view is not None:
            self._profiles_view.refresh()
        self.status.setText(done.describe())
        return done

    def _forget_all(self) -> None:
        if self.ask_yes(
            "Delete everything", "Delete ALL of Poise's history on this computer: every call, every voice profile "
            "and every recording? This cannot be undone."
        ):
            self.forget_everything()

    def _remove_orphans(self) -> None:
        if self.store is None or not self.orphans:
            return
        if self.ask_yes("Remove recordings", f"Delete {len(self.orphans)} recording(s) that belong to no call in history?"):
            done = forget.remove_orphans(self.store)
            self.refresh()
            self.status.setText(done.describe())

    def _tab_changed(self, index: int) -> None:
        if index == 1:
            self.trends_tab.refresh()
        elif index == 2:
            self.profiles_view.refresh()

    def show_tab(self, name: str) -> None:
        """Bring "calls", "trends" or "profiles" to the front."""
        self.tabs.setCurrentIndex({"calls": 0, "trends": 1, "profiles": 2}[name])

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().closeEvent(event)
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None


__all__ = ["CallTableModel", "HistoryWindow", "apply_retention_soon", "install_history_menu"]
