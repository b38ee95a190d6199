"""The main window's menu and what its actions open: settings, a review, calibration, the trainer,
and the recovery of recordings a crash left behind. The call itself is `main_window`'s.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from poise import __version__, paths
from poise.desktop.workers import run_in_background

log = logging.getLogger(__name__)

STATUS_MESSAGE_MS = 8000  # ms an info message stays in the status bar
RECORDING_FILTER = "Recordings (*.wav *.flac *.ogg *.opus *.mp3);;All files (*)"
RECORDING_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3")  # what a drop onto a window opens


def quit_poise() -> None:
    """Quit (Ctrl+Q) from any window: close every Poise window, then end the event loop."""
    app = QApplication.instance()
    if app is None:
        return
    QApplication.closeAllWindows()  # each window's closeEvent stops its call, playback or analysis
    app.quit()


def about_text() -> str:
    """What Help › About says."""
    return (f"Poise {__version__}\n\nA calm voice coach for phone calls. Everything runs on this computer: "
            "no audio, transcript or number leaves it.")


def show_about(parent: QWidget) -> None:
    """Help › About: the version, in a small box."""
    QMessageBox.about(parent, "About Poise", about_text())


Opener = Callable[[Path, "Path | None", str], object]  # (recording or agent side, caller side, agent channel) -> opens a review


def open_for_review(
    window: QWidget, path: Path, opener: Opener | None,
    caller_path: Path | None = None, agent_channel: str = "left",
) -> None:
    """Open a recording (and its caller file, with the agent on `agent_channel`) in review: the app's
    `opener`, else a review window that `window` keeps in its `review_windows` list while it is open."""
    if opener is not None:
        opener(path, caller_path, agent_channel)
        return
    from poise.desktop.review_window import ReviewWindow

    review = ReviewWindow(path, caller_path, agent_channel=agent_channel)
    review.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    kept: list = window.review_windows  # type: ignore[attr-defined]
    kept.append(review)
    review.destroyed.connect(lambda *_: kept.remove(review) if review in kept else None)
    review.show()


class RecordingDrop(QObject):
    """An event filter that opens audio files dropped onto a window (`open(path)` for each)."""

    def __init__(self, window: QWidget, open_recording: Callable[[str], Any]) -> None:
        super().__init__(window)
        self._open = open_recording
        window.setAcceptDrops(True)

    @staticmethod
    def recordings(mime: Any) -> list[str]:
        """The local audio files in a drag's mime data."""
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in RECORDING_SUFFIXES]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self.recordings(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop:
            files = self.recordings(event.mimeData())
            if files:
                event.acceptProposedAction()
                for path in files:
                    self._open(path)
                return True
        return False


class WindowActions:
    """Mixed into `MainWindow` (a QMainWindow with `overlay`, `live_view`, `settings`, `devices`, ...)."""

    def _build_actions(self) -> None:
        self.start_action = QAction("Start call", self)
        self.start_action.setShortcuts([QKeySequence(Qt.Key.Key_Space), QKeySequence("Ctrl+Return")])
        self.start_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.start_action.triggered.connect(self.toggle_call)

        self.demo_action = QAction("Play the demo call", self)
        self.demo_action.setShortcut(QKeySequence("Ctrl+D"))
        self.demo_action.triggered.connect(lambda: self.start_demo())

        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)

        self.mute_action = QAction("Mute cues", self)
        self.mute_action.setCheckable(True)
        self.mute_action.setShortcut(QKeySequence("Ctrl+M"))
        self.mute_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.mute_action.setToolTip("Hide cues for the rest of this call (Ctrl+M)")
        self.mute_action.toggled.connect(self.overlay.set_muted)
        self.overlay.muted_changed.connect(self.mute_action.setChecked)

        self.open_action = QAction("Open recording…", self)
        self.open_action.setIconText("Open…")  # the short label of the top bar's button
        self.open_action.setToolTip("Open a recorded call for review (Ctrl+O)")
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._choose_recording)

        self.calibrate_action = QAction("Calibrate your voice…", self)
        self.calibrate_action.setShortcut(QKeySequence("Ctrl+K"))
        self.calibrate_action.setToolTip("Read a paragraph so Poise learns your normal voice (Ctrl+K)")
        self.calibrate_action.triggered.connect(self.open_calibration)

        self.trainer_action = QAction("Trainer…", self)
        self.trainer_action.setShortcut(QKeySequence("Ctrl+T"))
        self.trainer_action.setToolTip("Pacing practice, replay at other paces, trends (Ctrl+T)")
        self.trainer_action.triggered.connect(self.open_trainer)

        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(quit_poise)

        self.about_action = QAction("About Poise", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(lambda: show_about(self))
        self._recording_drop = RecordingDrop(self, self.open_recording)  # drop a recording onto the window
        self.installEventFilter(self._recording_drop)

        for action in (
            self.start_action,
            self.demo_action,
            self.settings_action,
            self.mute_action,
            self.open_action,
            self.calibrate_action,
            self.trainer_action,
            self.quit_action,
        ):
            self.addAction(action)

        menu = self.menuBar().addMenu("&Call")
        menu.addAction(self.start_action)
        menu.addAction(self.demo_action)
        menu.addAction(self.mute_action)
        menu.addSeparator()
        menu.addAction(self.open_action)
        menu.addAction(self.trainer_action)
        menu.addAction(self.calibrate_action)
        menu.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        # Help goes last, after the menus other parts of the window add while it is built
        QTimer.singleShot(0, self, lambda: self.menuBar().addMenu("&Help").addAction(self.about_action))

    # What the actions open ---------------------------------------------------------

    def open_settings(self) -> None:
        """Show the settings dialog; applies the new settings when it is accepted."""
        from poise.desktop.settings_dialog import SettingsDialog  # (loaded when first opened)

        dialog = SettingsDialog(self, devices=self.devices)
        if dialog.exec():
            self.coach_config = self.settings.load_coach_config()
            self.overlay.set_click_through(self.settings.overlay_click_through)
            self.overlay.set_display_s(self.coach_config.display_s)
            self.live_view.set_target_band(self.coach_config.target_wpm_low, self.coach_config.target_wpm_high)
            self.refresh_devices()
            if self.is_running():
                self.statusBar().showMessage("New settings apply from the next call.", STATUS_MESSAGE_MS)

    def _choose_recording(self) -> None:
        start = str(paths.recordings_dir())
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a recorded call",
            start,
            RECORDING_FILTER,
        )
        if path:
            self.open_recording(path)

    def open_calibration(self) -> None:
        """Measure the agent's normal voice from a read paragraph and save it to their profile."""
        from poise.desktop.calibration_dialog import CalibrationDialog

        dialog = CalibrationDialog(self.settings.agent_name or "default", parent=self)
        dialog.profile_saved.connect(lambda _p: self.statusBar().showMessage("Your voice profile was saved.", 5000))
        dialog.exec()

    def open_trainer(self) -> None:
        """The trainer's window: read at a target pace, replay at other paces, trends."""
        from poise.desktop.trainer_window import TrainerWindow

        if self.trainer_window is None:
            self.trainer_window = TrainerWindow(opener=self.open_recording)
            self.trainer_window.setWindowIcon(self.windowIcon())
        self.trainer_window.show()
        self.trainer_window.raise_()

    def open_recording(self, path: str | Path, caller_path: str | Path | None = None, agent_channel: str = "left") -> None:
        """Open a recorded call in a review window (analysed off the UI thread), the agent on `agent_channel`."""
        from poise.desktop.review_window import ReviewWindow

        # with the user's settings: the cues the agent would have seen live; a recording dropped
        # or opened in the review window opens here too
        window = ReviewWindow(path, caller_path, agent_channel=agent_channel, opener=self.open_recording)
        window.setWindowIcon(self.windowIcon())
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.review_windows.append(window)
        window.destroyed.connect(lambda *_: self.review_windows.remove(window) if window in self.review_windows else None)
        window.show()
        self.open_recording_requested.emit(str(path))

    def check_interrupted_recordings(self, ask: Callable[[str], bool] | None = None) -> int:
        """Offer to keep (recover) or discard recordings left by a crash; returns how many were found.

        `ask(question)` answers yes (keep) or no (discard); by default a message box asks the user.
        """
        try:
            from poise.audio.recorder import find_interrupted
        except ImportError:
            return 0
        try:
            parts = list(find_interrupted(paths.recordings_dir()))
        except Exception:
            log.warning("looking for interrupted recordings failed", exc_info=True)
            return 0
        for part in parts:
            question = (
                "Poise was closed during a call, and part of its recording is still on disk "
                f"({Path(str(part)).name}). Keep it?"
            )
            keep = ask(question) if ask is not None else self._ask_keep(question)

            def work(part: Any = part, keep: bool = keep) -> str:
                if keep:  # recovered, analysed through the review path and added to history as a live call
                    from poise.app.calls import recover_recording
                    from poise.app.settings import load_settings
                    from poise.app.spec import CallKind, CallSpec

                    return recover_recording(Path(str(part)), CallSpec.from_settings(CallKind.LIVE, load_settings())).message
                _discard_part(part)
                return "Discarded the interrupted recording."

            def show(message: str) -> None:
                self.statusBar().showMessage(message, STATUS_MESSAGE_MS)

            run_in_background(work, done=show, failed=show, owner=self, name="poise-recover")
        return len(parts)

    def _ask_keep(self, question: str) -> bool:
        box = QMessageBox(self)
        box.setWindowTitle("Interrupted recording")
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(question)
        keep = box.addButton("Keep it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is keep


def _discard_part(part: Any) -> None:
    """Delete what an interrupted recording left on disk."""
    path = Path(str(getattr(part, "path", part)))
    if path.is_dir():
        for child in path.iterdir():
            child.unlink(missing_ok=True)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


__all__ = ["RECORDING_FILTER", "STATUS_MESSAGE_MS", "RecordingDrop", "WindowActions", "about_text", "quit_poise", "show_about"]
