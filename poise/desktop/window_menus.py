"""The main window's History menu and Call → Open batch summary…, without their windows.

The menus are built with the main window; the history and batch windows (and what they import:
the store's queries, trends, the batch reader and the review's engine) load only when the user
first opens one, so the main window comes up without them (benchmarks/load.py: process start to
the window shown).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from poise.desktop.window_actions import Opener


def install_history_menu(window: QMainWindow, opener: Opener | None = None) -> None:
    """Give `window` a History menu: Call history (Ctrl+H) and Agent profiles; sets `window.history_window`."""
    window.history_window = None  # type: ignore[attr-defined]

    def show(tab: str) -> None:
        current = window.history_window  # type: ignore[attr-defined]
        if current is None or current.store is None:
            from poise.desktop.history_window import HistoryWindow  # (loaded on first use)

            current = HistoryWindow(opener=opener)
            current.setWindowIcon(window.windowIcon())
            window.history_window = current  # type: ignore[attr-defined]
        else:
            current.refresh()
        current.show_tab(tab)
        current.show()
        current.raise_()
        current.activateWindow()

    history = QAction("Call history…", window)
    history.setShortcut(QKeySequence("Ctrl+H"))
    history.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    history.setToolTip("Every call kept: reopen, compare, delete (Ctrl+H)")
    history.triggered.connect(lambda: show("calls"))
    trends = QAction("Trends…", window)
    trends.triggered.connect(lambda: show("trends"))
    agents = QAction("Agent profiles…", window)
    agents.triggered.connect(lambda: show("profiles"))
    window.history_action = history  # type: ignore[attr-defined]
    window.addAction(history)
    menu = window.menuBar().addMenu("&History")
    for action in (history, trends, agents):
        menu.addAction(action)
    finished = getattr(window, "call_finished", None)
    if finished is not None:  # a call just saved shows in an open history window

        def call_saved(_result: object) -> None:
            current = window.history_window  # type: ignore[attr-defined]
            if current is not None and current.store is not None and current.isVisible():
                current.refresh()

        finished.connect(call_saved)
    QTimer.singleShot(0, lambda: apply_retention_soon(window))


def apply_retention_soon(window: QMainWindow) -> None:
    """Apply the retention setting off the UI thread (at start; every saved call applies it too)."""
    from poise import paths
    from poise.desktop.workers import run_in_background

    try:
        db = paths.history_db_path()
    except OSError:
        return
    if not db.exists():
        return

    def work() -> str:
        from poise.app import forget
        from poise.audio.store import HistoryStore

        with HistoryStore(db) as store:
            done = forget.apply_retention(store)
        return done.describe() if done.calls else ""

    def show(message: str) -> None:
        if message and hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Retention: {message}", 8000)

    run_in_background(work, done=show, failed=lambda _m: None, owner=window, name="poise-retention")


def install_batch_menu(window: QMainWindow, opener: Opener | None = None) -> QAction:
    """Add "Open batch summary…" after "Open recording…" in `window`'s Call menu (or a File menu if it has none)."""

    def open_summary() -> Any:
        from poise.desktop.batch_window import open_batch_summary  # (loaded on first use)

        return open_batch_summary(window, opener=opener)

    action = QAction("Open batch summary…", window)
    action.setToolTip("A `poise batch` run's summary as a table, worst calls first")
    action.setShortcut(QKeySequence("Ctrl+Shift+O"))
    action.triggered.connect(open_summary)
    window.addAction(action)
    anchor = getattr(window, "open_action", None)
    for menu in window.menuBar().findChildren(QMenu):  # (QAction.menu() hands Python a menu it then deletes)
        if anchor is not None and anchor in menu.actions():
            after = menu.actions()[menu.actions().index(anchor) + 1:]
            menu.insertAction(after[0], action) if after else menu.addAction(action)
            break
    else:
        window.menuBar().addMenu("&File").addAction(action)
    window.batch_summary_action = action  # type: ignore[attr-defined]
    return action


__all__ = ["apply_retention_soon", "install_batch_menu", "install_history_menu"]
