"""Remembering where a window was: its geometry in a small JSON file next to settings.json.

The review window's way (`review_window`), for any window that is not the main one (whose
geometry lives in the settings): restored only when it is still on a screen, else a default
size that fits a 1024×700 screen, centred.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from poise import paths

log = logging.getLogger(__name__)

SMALL_SCREEN = QRect(0, 0, 1024, 700)  # px: the target screen, when Qt knows of none
MARGIN_PX = (24, 40)  # px kept free beside and above/below a default-sized window: frame and panel
ON_SCREEN_PX = 200  # px of a restored window's width that must lie on a screen, with its title bar's middle


def geometry_path(name: str) -> Path:
    """The file that keeps the geometry of the window `name` ("trainer_window.json")."""
    return paths.settings_path().parent / name


def load_geometry(name: str) -> QByteArray | None:
    """The saved geometry, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(geometry_path(name).read_text(encoding="utf-8"))
        return QByteArray(base64.b64decode(data["geometry"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_geometry(name: str, window: QWidget) -> None:
    """Keep `window`'s geometry (a failure is logged, never shown: the next window just opens at its default)."""
    try:
        path = geometry_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = base64.b64encode(bytes(window.saveGeometry().data())).decode("ascii")
        path.write_text(json.dumps({"geometry": data}), encoding="utf-8")
    except OSError:
        log.warning("could not save the window geometry in %s", name, exc_info=True)


def on_screen(window: QWidget) -> bool:
    """Whether enough of `window`, its title bar's middle included, is on some screen to be grabbed."""
    frame = window.frameGeometry()
    return any(s.availableGeometry().intersected(frame).width() > ON_SCREEN_PX and
               s.availableGeometry().contains(frame.topLeft() + QPoint(frame.width() // 2, 10))
               for s in QApplication.screens())


def place(window: QWidget, name: str, default_size: tuple[int, int]) -> None:
    """The last geometry if it is still on a screen, else `default_size` (px) shrunk to the screen, centred."""
    geometry = load_geometry(name)
    if geometry is not None and window.restoreGeometry(geometry) and on_screen(window):
        return
    screen = QApplication.primaryScreen().availableGeometry() if QApplication.primaryScreen() else SMALL_SCREEN
    w, h = min(default_size[0], screen.width() - MARGIN_PX[0]), min(default_size[1], screen.height() - MARGIN_PX[1])
    window.resize(w, h)
    window.move(screen.center() - QPoint(w // 2, h // 2))


__all__ = ["geometry_path", "load_geometry", "on_screen", "place", "save_geometry"]
