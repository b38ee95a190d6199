"""The desktop's one Qt style sheet (QSS), for every window and dialog, in the palette of `poise.theme`.

`$agent`, `$text`, `$muted` and `$background` are `poise.theme`'s colours (shared with
the HTML report); the other greys and tints belong to the desktop alone. Widgets pick
rules up by object name (`#card`, `#calibParagraph`, ...); none sets its own sheet
except where a value is computed (a role's colour, a point size).
"""

from __future__ import annotations

from string import Template

from PySide6.QtCore import QFile, QPointF, Qt, QTemporaryDir
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from poise import theme

QSS = Template("""
QWidget { color: $text; font-size: 13px; }
QMainWindow, #liveView, QDialog { background: $background; }
QMenuBar { background: $background; border-bottom: 1px solid #e3e0d8; }
QMenuBar::item:selected { background: #e9e6de; }
QMenu { background: #ffffff; border: 1px solid #e3e0d8; }
QMenu::item:selected { background: #e3efe9; color: #1f3a33; }
#topBar { background: #ffffff; border-bottom: 1px solid #e3e0d8; }
#fieldLabel { color: $muted; font-size: 12px; }
#card { background: #ffffff; border: 1px solid #e3e0d8; border-radius: 10px; }
#cardTitle { color: $muted; font-size: 11px; font-weight: 600; letter-spacing: 1px; background: transparent; }
#hint { color: $muted; font-size: 12px; background: transparent; }
#paceValue { font-size: 34px; font-weight: 600; color: $text; background: transparent; }
#paceValue[empty="true"] { color: #c5cacd; }
#paceUnit { color: $muted; font-size: 13px; padding-bottom: 6px; background: transparent; }
#clock { font-size: 18px; font-weight: 600; color: $text; background: transparent; }
#transcript, #cueList { background: #ffffff; border: none; }
#transcript { font-size: 14px; }
#cueList::item { padding: 5px 2px; border-bottom: 1px solid #f0ede6; }
#cueList::item:selected { background: #f6efe2; color: $text; }
QComboBox, QLineEdit {
    background: #ffffff; border: 1px solid #d8d4cb; border-radius: 6px; padding: 4px 8px; min-height: 20px;
}
QComboBox:focus, QLineEdit:focus { border-color: #3c9a84; }
QDoubleSpinBox, QSpinBox { min-height: 24px; }
QComboBox:disabled { color: #a3aaae; background: #f3f1ec; }
QComboBox::drop-down { border: none; width: 20px; }
QComboBox QAbstractItemView { background: #ffffff; selection-background-color: #e3efe9; selection-color: #1f3a33; }
QToolButton { background: transparent; border: 1px solid transparent; border-radius: 6px; padding: 6px 10px; color: #44505a; }
QToolButton:hover { background: #f0eee8; border-color: #e3e0d8; }
QToolButton:checked { background: #f6efe2; border-color: #e6d3b0; color: #8a5a12; }
QToolButton:disabled { color: #b3b9bc; }
QPushButton {
    background: #ffffff; border: 1px solid #d8d4cb; border-radius: 8px; padding: 6px 14px; color: $text;
}
QPushButton:hover { background: #f3f1ec; }
#startButton {
    background: $agent; color: #ffffff; border: none; border-radius: 21px; font-size: 15px; font-weight: 600;
    padding: 8px 22px;
}
#startButton:hover { background: #27705f; }
#startButton[running="true"] { background: #b5523b; }
#startButton[running="true"]:hover { background: #a04732; }
#startButton:disabled { background: #9cbfb5; }
#banner { background: #fbf3e4; border-bottom: 1px solid #eedcb9; }
#bannerText { color: #6b4a12; background: transparent; }
#bannerAction { background: $agent; color: #ffffff; border: none; border-radius: 8px; padding: 6px 14px; font-weight: 600; }
#bannerAction:hover { background: #27705f; }
#bannerClose { color: #9a7a42; padding: 2px 6px; }
QStatusBar { background: #ffffff; border-top: 1px solid #e3e0d8; color: #5b646b; }
QStatusBar QLabel { color: #5b646b; padding: 0 8px; background: transparent; }
QStatusBar::item { border: none; }
QSplitter::handle { background: transparent; }
QSplitter::handle:horizontal { width: 12px; }
QSplitter::handle:vertical { height: 12px; }
QTabWidget::pane { border: 1px solid #e3e0d8; border-radius: 8px; background: #ffffff; top: -1px; }
QTabBar::tab { background: transparent; padding: 7px 16px; color: #5b646b; border: none; }
QTabBar::tab:selected { color: #1f3a33; border-bottom: 2px solid $agent; }
QScrollArea { border: none; background: #ffffff; }
QScrollArea > QWidget > QWidget { background: #ffffff; }
QCheckBox { spacing: 8px; background: transparent; }
QCheckBox::indicator { width: 16px; height: 16px; border: 1px solid #b9b3a7; border-radius: 4px; background: #ffffff; }
QCheckBox::indicator:hover { border-color: #3c9a84; }
QCheckBox::indicator:checked { background: $agent; border-color: $agent; image: url($check); }
QCheckBox::indicator:checked:disabled { background: #9cbfb5; border-color: #9cbfb5; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 2px; }
QScrollBar::handle:vertical { background: #dcd8cf; border-radius: 4px; min-height: 24px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; width: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }

/* calibration dialog */
#calibParagraph {
    background: #ffffff; border: 1px solid #e3e0d8; border-radius: 10px; padding: 18px 22px;
    font-size: 19px; color: $text;
}
#calibParagraph[dimmed="true"] { color: $muted; }
#calibTitle { font-size: 17px; font-weight: 600; color: $text; background: transparent; }
#calibMessage { font-size: 14px; color: $text; background: transparent; }
#calibMessage[error="true"] { color: #8a3a26; }
#speechBar {
    background: #ebe8e1; border: none; border-radius: 5px; min-height: 10px; max-height: 10px;
}
#speechBar::chunk { background: $agent; border-radius: 5px; }
#levelBar { background: #ebe8e1; border: none; border-radius: 3px; min-height: 6px; max-height: 6px; }
#levelBar::chunk { background: #8cc2b3; border-radius: 3px; }
#resultValue { font-size: 26px; font-weight: 600; color: $text; background: transparent; }
#resultUnit { color: $muted; font-size: 13px; background: transparent; }
#primaryButton { background: $agent; color: #ffffff; border: none; font-weight: 600; padding: 7px 18px; }
#primaryButton:hover { background: #27705f; }
#primaryButton:disabled { background: #9cbfb5; }

/* cue overlay (a dark panel) */
#overlayMute {
    color: #b9c3cc; background: rgba(255,255,255,0.08); border: none;
    border-radius: 9px; padding: 3px 10px; font-size: 11px;
}
#overlayMute:hover { background: rgba(255,255,255,0.18); color: #ffffff; }

/* trainer */
#script { background: #ffffff; border: none; padding: 12px; }
#trendsTable { background: #ffffff; border: none; gridline-color: #f0ede6; }
""")


def stylesheet() -> str:
    """The style sheet with the palette filled in (needs a QGuiApplication: it draws the check mark)."""
    return QSS.substitute(
        agent=theme.AGENT, text=theme.TEXT, muted=theme.MUTED, background=theme.BACKGROUND, check=_check_mark_path(),
    )


_ui_images: QTemporaryDir | None = None


def _check_mark_path() -> str:
    """A white check mark for styled check boxes, drawn once per process into a temporary folder."""
    global _ui_images
    if _ui_images is None:
        _ui_images = QTemporaryDir()
    path = _ui_images.filePath("check.png")
    if not QFile.exists(path):
        size = 32  # px, drawn at 2x for sharp scaling on high-DPI screens
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#ffffff"), 4.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.drawPolyline([QPointF(8, 17), QPointF(14, 23), QPointF(25, 10)])
        p.end()
        pm.save(path)
    return path


__all__ = ["QSS", "stylesheet"]
