"""Entry point of the desktop app: `python -m poise.desktop.app [--demo]`, and `poise review FILE`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import TracebackType
from typing import Callable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from poise import __version__
from poise.app.calls import claim_data_folder
from poise.app.errors import configure_logging, log_uncaught
from poise.desktop.icons import app_icon
from poise.desktop.main_window import WARM_AFTER_SHOW_MS, MainWindow, warm_call_modules
from poise.desktop.settings import APPLICATION, ORGANIZATION
from poise.desktop.style import stylesheet

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


def no_display(qt_args: Sequence[str] = ()) -> str | None:
    """One sentence when this Linux session has no display for a window (Qt would abort with advice to
    reinstall), else None. A platform chosen by the user (QT_QPA_PLATFORM, or Qt's -platform argument:
    offscreen, vnc...) passes."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM") or "-platform" in qt_args:
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("No display found (DISPLAY and WAYLAND_DISPLAY are empty), so Poise cannot open its window: start it "
            "from a desktop session, or use `poise analyze FILE --html report.html` for a call's report without one.")


def create_app(argv: list[str]) -> QApplication:
    """The QApplication with Poise's names, icon and stylesheet (reuses an existing one)."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    # no applicationDisplayName: Qt would append " — Poise" to titles that already start with it
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("poise")
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    return app


def _keep_signals_alive(app: QApplication, close: Callable[[], object]) -> QTimer:
    """Ctrl+C in a terminal calls `close`; the timer lets Python see the signal while Qt runs."""
    signal.signal(signal.SIGINT, lambda *_: close())
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    return wake


def main(argv: list[str] | None = None) -> int:
    """Run the desktop app; `--demo` starts the demo call at once. `argv` are the arguments
    after the program's name (default: the command line's)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="poise-desktop", description="Poise: a calm voice coach for calls.")
    parser.add_argument("--demo", action="store_true", help="play the demo call straight away")
    args, qt_args = parser.parse_known_args(args_in)
    if (message := no_display(qt_args)) is not None:
        print(message, file=sys.stderr)
        return 2
    configure_logging()
    install_excepthook()
    app = create_app([sys.argv[0] if sys.argv else "poise", *qt_args])
    running = claim_data_folder()  # one Poise per data folder (held until this process ends)
    if running:
        QMessageBox.warning(None, "Poise is already running", running)
        return 1
    window = MainWindow()  # without pyqtgraph, scipy or faster-whisper: the plots follow the first paint
    window.show()
    QTimer.singleShot(WARM_AFTER_SHOW_MS, warm_call_modules)  # then what a call needs, off the UI thread
    _keep_signals_alive(app, window.close)  # the timer is the app's child: it lives as long
    if args.demo:
        QTimer.singleShot(0, window.start_demo)
    code = app.exec()
    window.wait_for_workers(EXIT_WAIT_S)
    from poise.desktop.review_window import wait_for_reviews  # (loaded by the first review, if any)

    wait_for_reviews(EXIT_WAIT_S)
    return code


def review_main(path: str, caller_path: str | None = None, agent_channel: str = "left", model_path: str | None = None) -> int:
    """`poise review FILE [--caller FILE]`: the review window alone, until it is closed."""
    from poise.desktop.review_window import open_review, wait_for_reviews

    if (message := no_display()) is not None:
        print(message, file=sys.stderr)
        return 2
    configure_logging()
    install_excepthook()
    app = create_app([sys.argv[0] if sys.argv else "poise"])
    running = claim_data_folder()  # a review is saved to history: one Poise per data folder here too
    if running:
        QMessageBox.warning(None, "Poise is already running", running)
        return 1
    window = open_review(path, caller_path, agent_channel=agent_channel, model_path=model_path)
    _keep_signals_alive(app, window.close)  # the timer is the app's child: it lives as long
    code = app.exec()
    wait_for_reviews(EXIT_WAIT_S)
    return code


if __name__ == "__main__":
    sys.exit(main())
