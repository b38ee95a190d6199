"""Agent profiles in the app: a picker (main window, trainer, trends) and a view to look at,
rename, reset and delete them. The work is `poise.app.profiles`; this is its face.

The picker with `save_choice=True` is "who is at this desk": choosing an agent saves it in
the settings, and the next call starts from that agent's profile.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from poise.app import profiles
from poise.app.settings import DEFAULT_AGENT, SettingsStore
from poise.audio.store import HistoryStore, StoreError
from poise.desktop.widgets import status_label

NEW_AGENT = "\x00new"  # the combo's data for its "New agent…" entry
PICKER_MAX_PX = 190  # px: the main window's top bar must fit a 1024 px screen


class _Store:
    """The given store, or the user's history opened for one use."""

    def __init__(self, history: HistoryStore | None) -> None:
        self.history = history

    def __enter__(self) -> HistoryStore:
        self._opened = self.history is None
        self._store = self.history or HistoryStore()
        return self._store

    def __exit__(self, *exc: object) -> None:
        if self._opened:
            self._store.close()


def ask_name(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """A name typed in a small dialog (None when cancelled)."""
    name, ok = QInputDialog.getText(parent, title, label, text=text)
    return name if ok else None


def ask_yes(parent: QWidget, title: str, question: str) -> bool:
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(question)
    yes = box.addButton(title, QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes


class ProfilePicker(QComboBox):
    """The agents on this machine, and "New agent…". Emits `chosen(name)` when the user picks one.

    `save_choice`: the pick becomes the settings' agent (whose profile calls start from).
    `ask_new(parent)` returns a new agent's name (default: a small dialog); tests replace it.
    """

    chosen = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, history: HistoryStore | None = None,
        save_choice: bool = True, allow_new: bool = True, settings: SettingsStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profilePicker")
        self._history = history
        self._settings = settings or SettingsStore()
        self.save_choice = save_choice
        self.allow_new = allow_new
        self.ask_new: Callable[[QWidget], str | None] = lambda w: ask_name(w, "New agent", "The agent's name:")
        self.error: str | None = None
        self._current = self._settings.load().agent if save_choice else DEFAULT_AGENT
        self.setToolTip("Whose voice profile and history the calls belong to")
        self.setMaximumWidth(PICKER_MAX_PX)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.activated.connect(self._activated)
        self.refresh()

    def current(self) -> str:
        return self._current

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.refresh()  # a rename or delete in another window shows at once
        super().showPopup()

    def set_current(self, name: str) -> None:
        """Show `name` as chosen (without saving or emitting)."""
        self._current = name
        self.refresh()

    def refresh(self) -> None:
        """Read the agents again (after a rename or a delete elsewhere)."""
        if self.save_choice:
            self._current = self._settings.load().agent
        try:
            with _Store(self._history) as store:
                names = [p.name for p in profiles.list_profiles(store, current=self._current)]
            self.error = None
        except StoreError as exc:
            names, self.error = [self._current], str(exc)
        self.blockSignals(True)
        self.clear()
        for name in names:
            self.addItem(name, name)
        if self.allow_new:
            self.insertSeparator(self.count())
            self.addItem("New agent…", NEW_AGENT)
        self.setCurrentIndex(max(0, self.findData(self._current)))
        self.blockSignals(False)

    def choose(self, name: str) -> None:
        """Make `name` the chosen agent (saved when `save_choice`), as a click in the list would."""
        name = profiles.check_name(name)
        if self.save_choice:
            profiles.choose_profile(name, self._settings)
        self._current = name
        self.refresh()
        self.chosen.emit(name)

    def add(self, name: str) -> str:
        """Add a new agent and choose it; returns the cleaned name (raises ValueError/StoreError with one sentence)."""
        with _Store(self._history) as store:
            clean = profiles.add_profile(store, name)
        self.choose(clean)
        return clean

    def _activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == NEW_AGENT:
            name = self.ask_new(self)
            if name:
                try:
                    self.add(name)
                    return
                except (ValueError, StoreError) as exc:
                    self.error = str(exc)
                    QMessageBox.information(self, "New agent", str(exc))
            self.refresh()
        elif data:
            self.choose(str(data))


class ProfilesView(QWidget):
    """Every agent's profile: their normal pitch, loudness and pace, and rename, reset, delete.

    `ask_yes(title, question)` and `ask_name(title, label, text)` talk to the user (message
    boxes by default); tests answer them instead. `changed` is emitted after any change.
    """

    changed = Signal()

    def __init__(
        self, parent: QWidget | None = None, *, history: HistoryStore | None = None,
        settings: SettingsStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profilesView")
        self._history = history
        self._settings = settings or SettingsStore()
        self.ask_yes: Callable[[str, str], bool] = lambda title, q: ask_yes(self, title, q)
        self.ask_name: Callable[[str, str, str], str | None] = lambda title, label, text: ask_name(self, title, label, text)
        self.summaries: list[profiles.ProfileSummary] = []

        self.list = QListWidget(objectName="profileList")
        self.list.setMaximumWidth(240)
        self.list.currentItemChanged.connect(lambda *_: self._show())
        self.title = QLabel("", objectName="sectionTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title.setFont(font)
        self.values = {key: QLabel("—") for key in ("pitch", "loudness", "pace", "learnt", "calls", "last")}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for key, label in (
            ("pitch", "Normal pitch"), ("loudness", "Normal loudness"), ("pace", "Normal pace"),
            ("learnt", "Learnt from"), ("calls", "Calls in history"), ("last", "Last call"),
        ):
            self.values[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(QLabel(label, objectName="fieldLabel"), self.values[key])
        self.note = QLabel("", objectName="hint")
        self.note.setWordWrap(True)
        self.use_button = QPushButton("Use for calls")
        self.use_button.setToolTip("Calls on this computer start from this agent's profile")
        self.rename_button = QPushButton("Rename…")
        self.reset_button = QPushButton("Reset…")
        self.reset_button.setToolTip("Forget the learnt normal; the next calls learn it afresh (calls stay)")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the agent: profile, calls and recordings")
        self.new_button = QPushButton("New agent…")
        self.use_button.clicked.connect(lambda: self._use())
        self.rename_button.clicked.connect(lambda: self._rename())
        self.reset_button.clicked.connect(lambda: self._reset())
        self.delete_button.clicked.connect(lambda: self._delete())
        self.new_button.clicked.connect(lambda: self._new())
        buttons = QHBoxLayout()
        for b in (self.use_button, self.rename_button, self.reset_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.status = status_label()

        detail = QVBoxLayout()
        detail.addWidget(self.title)
        detail.addLayout(form)
        detail.addWidget(self.note)
        detail.addStretch(1)
        detail.addLayout(buttons)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addWidget(self.new_button)
        row = QHBoxLayout()
        row.addLayout(left)
        row.addSpacing(12)
        row.addLayout(detail, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.addLayout(row, 1)
        layout.addWidget(self.status)
        self.refresh()

    # ---- reading ------------------------------------------------------------------------

    def chosen_agent(self) -> str:
        return self._settings.load().agent

    def selected(self) -> profiles.ProfileSummary | None:
        item = self.list.currentItem()
        if item is None:
            return None
        return next((p for p in self.summaries if p.name == item.data(Qt.ItemDataRole.UserRole)), None)

    def refresh(self, select: str | None = None) -> None:
        keep = select or (self.selected().name if self.selected() else self.chosen_agent())
        try:
            with _Store(self._history) as store:
                self.summaries = profiles.list_profiles(store, current=self.chosen_agent())
        except StoreError as exc:
            self.status.setText(str(exc))
            self.summaries = []
        chosen = self.chosen_agent()
        self.list.blockSignals(True)
        self.list.clear()
        for p in self.summaries:
            item = QListWidgetItem(f"{p.name}  ·  in use" if p.name == chosen else p.name)
            item.setData(Qt.ItemDataRole.UserRole, p.name)
            self.list.addItem(item)
            if p.name == keep:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._show()

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(i)
                return

    def _show(self) -> None:
        p = self.selected()
        for b in (self.use_button, self.rename_button, self.reset_button, self.delete_button):
            b.setEnabled(p is not None)
        if p is None:
            self.title.setText("No agents yet")
            for v in self.values.values():
                v.setText("—")
            self.note.setText("")
            return
        self.title.setText(p.name)
        self.values["pitch"].setText(f"{p.pitch_hz:.0f} Hz" if p.pitch_hz is not None else "not learnt yet")
        self.values["loudness"].setText(f"{p.loudness_dbfs:.0f} dBFS" if p.loudness_dbfs is not None else "not learnt yet")
        self.values["pace"].setText(
            f"about {p.pace_wpm:.0f} words per minute ({p.rate_sps:.1f} syllables/s)" if p.pace_wpm is not None
            else "not learnt yet"
        )
        self.values["learnt"].setText(
            f"{p.speech_s / 60:.1f} min of speech" if p.learnt else "—"
        )
        self.values["calls"].setText(str(p.calls))
        self.values["last"].setText(f"{p.last_call.astimezone():%d %b %Y, %H:%M}" if p.last_call else "—")
        self.use_button.setEnabled(p.name != self.chosen_agent())
        self.reset_button.setEnabled(p.learnt)
        self.note.setText(
            "Calls on this computer start from this profile." if p.name == self.chosen_agent()
            else "" if p.learnt else "Calibrate (Ctrl+K) or take a live call and Poise learns this voice."
        )

    # ---- changing -----------------------------------------------------------------------

    def _done(self, message: str, select: str | None = None) -> None:
        self.status.setText(message)
        self.refresh(select)
        self.changed.emit()

    def _use(self) -> None:
        p = self.selected()
        if p is not None:
            profiles.choose_profile(p.name, self._settings)
            self._done(f"Calls now start from {p.name}'s profile.", p.name)

    def _new(self) -> None:
        name = self.ask_name("New agent", "The agent's name:", "")
        if not name:
            return
        try:
            with _Store(self._history) as store:
                clean = profiles.add_profile(store, name)
        except (ValueError, StoreError) as exc:
            self.status.setText(str(exc))
            return
        self._done(f"Added {clean}.", clean)

    def _rename(self) -> None:
        p = self.selected()
        if p is None:
            return
        new = self.ask_name("Rename agent", f"New name for {p.name}:", p.name)
        if not new:
            return
        try:
            with _Store(self._history) as store:
                clean = profiles.rename_profile(store, p.name, new, self._settings)
        except (ValueError, StoreError) as exc:
            self.status.setText(str(exc))
            return
        self._done(f"Renamed {p.name} to {clean}.", clean)

    def _reset(self) -> None:
        p = self.selected()
        if p is None or not self.ask_yes(
            "Reset profile", f"Forget {p.name}'s normal pitch, loudness and pace? Their calls stay in history, "
            "and the next calls learn the voice afresh."
        ):
            return
        try:
            with _Store(self._history) as store:
                profiles.reset_profile(store, p.name)
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self._done(f"{p.name}'s profile was reset.", p.name)

    def _delete(self) -> None:
        p = self.selected()
        if p is None or not self.ask_yes(
            "Delete agent", f"Delete {p.name}: their voice profile, {p.calls} call(s) in history and the "
            "recordings Poise made of them? This cannot be undone."
        ):
            return
        try:
            with _Store(self._history) as store:
                done = profiles.delete_profile(store, p.name, self._settings)
        except StoreError as exc:
            self.status.setText(str(exc))
            return
        self._done(f"Deleted {p.name}. {done.describe()}")


def agent_corner(window: QMainWindow) -> ProfilePicker:
    """An "Agent" picker at the right end of `window`'s menu bar (it costs the top bar no width); returns it."""
    holder = QWidget(window.menuBar())
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 1, 8, 1)
    row.setSpacing(6)
    label = QLabel("Agent", objectName="fieldLabel")
    picker = ProfilePicker(holder)
    label.setBuddy(picker)
    row.addWidget(label)
    row.addWidget(picker)
    window.menuBar().setCornerWidget(holder, Qt.Corner.TopRightCorner)
    return picker


__all__ = ["ProfilePicker", "ProfilesView", "agent_corner"]
