"""Poise's window icon: the shipped artwork, else a drawn one."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap

from poise import paths


def app_icon() -> QIcon:
    """The app's icon: poise/assets/poise.svg or .png when shipped, else a drawn one."""
    for name in ("poise.svg", "poise.png"):
        path = paths.assets_dir() / name
        if path.is_file():
            icon = QIcon(str(path))
            if not icon.isNull():
                return icon
    icon = QIcon()
    for size in (16, 32, 64, 128, 256):
        icon.addPixmap(_drawn_icon(size))
    return icon


def _drawn_icon(size: int) -> QPixmap:
    """A calm teal tile with three soft sound bars, levelling out (poise)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(0, 0, size, size).adjusted(1, 1, -1, -1), size * 0.22, size * 0.22)
    grad = QLinearGradient(0, 0, 0, size)
    grad.setColorAt(0, QColor("#3c9a84"))
    grad.setColorAt(1, QColor("#24685a"))
    p.fillPath(tile, grad)
    pen = QPen(QColor("#f4f1ea"), max(1.5, size * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    heights = (0.46, 0.30, 0.18)
    for i, h in enumerate(heights):
        x = size * (0.32 + 0.18 * i)
        p.drawLine(int(x), int(size * (0.5 - h / 2)), int(x), int(size * (0.5 + h / 2)))
    p.end()
    return pm


__all__ = ["app_icon"]
