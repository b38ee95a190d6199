"""Entry point of the desktop app: `python -m poise.desktop.app [--demo]`."""

from __future__ import annotations

import argparse
import signal
import sys
from types import TracebackType

from PySide6.QtCore import QFile, QPointF, Qt, QTemporaryDir, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox

from poise import __version__
from poise.app.errors import configure_logging, log_uncaught
from poise.desktop.live_view import configure_plots
from poise.desktop.main_window import MainWindow, app_icon
from poise.desktop.settings import APPLICATION, ORGANIZATION


STYLESHEET = """
QWidget { color: #2b3137; font-size: 13px; }
QMainWindow, #liveView, QDialog { background: #f6f5f1; }
QMenuBar { background: #f6f5f1; border-bottom: 1px solid #e3e0d8; }
QMenuBar::item:selected { background: #e9e6de; }
QMenu { background: #ffffff; border: 1px solid #e3e0d8; }
QMenu::item:selected { background: #e3efe9; color: #1f3a33; }
#topBar { background: #ffffff; border-bottom: 1px solid #e3e0d8; }
#fieldLabel { color: #8a9399; font-size: 12px; }
#card { background: #ffffff; border: 1px solid #e3e0d8; border-radius: 10px; }
#cardTitle { color: #8a9399; font-size: 11px; font-weight: 600; letter-spacing: 1px; background: transparent; }
#hint { color: #8a9399; font-size: 12px; background: transparent; }
#paceValue { font-size: 34px; font-weight: 600; color: #2b3137; background: transparent; }
#paceValue[empty="true"] { color: #c5cacd; }
#paceUnit { color: #8a9399; font-size: 13px; padding-bottom: 6px; background: transparent; }
#clock { font-size: 18px; font-weight: 600; color: #2b3137; background: transparent; }
#transcript, #cueList { background: #ffffff; border: none; }
#transcript { font-size: 14px; }
#cueList::item { padding: 5px 2px; border-bottom: 1px solid #f0ede6; }
#cueList::item:selected { background: #f6efe2; color: #2b3137; }
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
    background: #ffffff; border: 1px solid #d8d4cb; border-radius: 8px; padding: 6px 14px; color: #2b3137;
}
QPushButton:hover { background: #f3f1ec; }
#startButton {
    background: #2e7d6b; color: #ffffff; border: none; border-radius: 21px; font-size: 15px; font-weight: 600;
    padding: 8px 22px;
}
#startButton:hover { background: #27705f; }
#startButton[running="true"] { background: #b5523b; }
#startButton[running="true"]:hover { background: #a04732; }
#startButton:disabled { background: #9cbfb5; }
#banner { background: #fbf3e4; border-bottom: 1px solid #eedcb9; }
#bannerText { color: #6b4a12; background: transparent; }
#bannerAction { background: #2e7d6b; color: #ffffff; border: none; border-radius: 8px; padding: 6px 14px; font-weight: 600; }
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
QTabBar::tab:selected { color: #1f3a33; border-bottom: 2px solid #2e7d6b; }
QScrollArea { border: none; background: #ffffff; }
QScrollArea > QWidget > QWidget { background: #ffffff; }
QCheckBox { spacing: 8px; background: transparent; }
QCheckBox::indicator { width: 16px; height: 16px; border: 1px solid #b9b3a7; border-radius: 4px; background: #ffffff; }
QCheckBox::indicator:hover { border-color: #3c9a84; }
QCheckBox::indicator:checked { background: #2e7d6b; border-color: #2e7d6b; image: url(@CHECK@); }
QCheckBox::indicator:checked:disabled { background: #9cbfb5; border-color: #9cbfb5; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 2px; }
QScrollBar::handle:vertical { background: #dcd8cf; border-radius: 4px; min-height: 24px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0; width: 0; }
QScrollBar::add-page, QScrollBar::sub-page { background: transparent; }
"""

SIGNAL_POLL_MS = 250  # ms: how often Python gets a chance to handle Ctrl+C while Qt runs
EXIT_WAIT_S = 30.0  # s: longest wait at exit for a transcription worker to finish its last decode


def install_excepthook() -> None:
    """Log uncaught exceptions to poise.log and show one plain sentence instead of a traceback."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        message = log_uncaught(exc_type, exc, tb)
        app = QApplication.instance()
        if app is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, "Poise", message)
            box.setWindowIcon(app_icon())
            box.exec()
        else:
            print(message, file=sys.stderr)

    sys.excepthook = hook


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


def create_app(argv: list[str]) -> QApplication:
    """The QApplication with Poise's names, icon and stylesheet (reuses an existing one)."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("Poise")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("poise")
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    app.setStyleSheet(STYLESHEET.replace("@CHECK@", _check_mark_path()))
    configure_plots()  # once per process: pyqtgraph's options are global
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the desktop app; `--demo` starts the demo call at once."""
    argv = list(sys.argv if argv is None else argv)
    parser = argparse.ArgumentParser(prog="poise-desktop", description="Poise: a calm voice coach for calls.")
    parser.add_argument("--demo", action="store_true", help="play the demo call straight away")
    args, _qt_args = parser.parse_known_args(argv[1:])
    configure_logging()
    install_excepthook()
    app = create_app(argv)
    window = MainWindow()
    window.show()
    # Ctrl+C in a terminal closes the window cleanly; the timer lets Python see the signal.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    if args.demo:
        QTimer.singleShot(0, window.start_demo)
    code = app.exec()
    window.wait_for_workers(EXIT_WAIT_S)
    return code


if __name__ == "__main__":
    sys.exit(main())
