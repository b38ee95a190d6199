"""Screenshots of the live-call window and the cue overlay, taken from a real X display.

    python scripts/screenshots.py OUT_DIR [--speed 3] [--demo FILE]

Without a DISPLAY it re-runs itself under `xvfb-run`. It opens the app with a
throw-away settings and data folder, plays the demo call through the real
pipeline, and saves:

- overlay.png           the cue overlay (with its transparent corners), as it was showing a cue
- main_window.png       the window late in the demo call
- screen_with_cue.png   the whole screen while a cue shows (overlay over the window, as a user sees it)
- settings_audio.png, settings_cues.png   the settings dialog
- main_window_ended.png the window after the call ended
- main_window_small.png the same on a 1024 x 700 window
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCREEN = "1600x1000x24"  # Xvfb screen: room for the window and the overlay beside it
WINDOW_SIZE = (1280, 820)  # px: a typical laptop-sized window
SMALL_WINDOW_SIZE = (1024, 700)  # px: the smallest screen Poise is laid out for
LATE_FRACTION = 0.8  # the main window is captured 80 % into the call, when every panel has content
OVERLAY_SETTLE_MS = 450  # ms after a cue: the fade-in is over


def _reexec_under_xvfb(argv: list[str]) -> int:
    if shutil.which("xvfb-run") is None:
        print("No DISPLAY and no xvfb-run: install xvfb or run inside a desktop session.", file=sys.stderr)
        return 2
    env = dict(os.environ, POISE_UNDER_XVFB="1")
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", sys.executable, str(Path(__file__).resolve()), *argv]
    return subprocess.call(cmd, env=env)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--speed", type=float, default=3.0, help="replay speed of the demo call (1 = real time)")
    parser.add_argument("--demo", type=Path, default=None, help="another recording to play instead of the demo")
    args = parser.parse_args(argv)

    if not os.environ.get("DISPLAY") and not os.environ.get("POISE_UNDER_XVFB"):
        return _reexec_under_xvfb(argv)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    scratch = Path(tempfile.mkdtemp(prefix="poise-shots-"))
    os.environ["POISE_DATA_DIR"] = str(scratch / "data")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from poise.desktop.app import create_app
    from poise.desktop.main_window import MainWindow
    from poise.desktop.settings_dialog import SettingsDialog

    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    app = create_app([sys.argv[0]])
    window = MainWindow(check_recovery=False)
    window.resize(*WINDOW_SIZE)
    window.move(20, 120)  # leaves the overlay's default spot (top right of the screen) free
    window.show()
    screen = QGuiApplication.primaryScreen()
    saved: set[str] = set()
    duration = {"s": None}

    def save(name: str, pixmap) -> None:
        path = out / name
        pixmap.save(str(path))
        saved.add(name)
        print(f"saved {path}")

    def grab_overlay() -> None:
        if window.overlay.isVisible() and "overlay.png" not in saved:
            save("overlay.png", window.overlay.grab())
            save("screen_with_cue.png", screen.grabWindow(0))

    def on_cue(_cue) -> None:
        QTimer.singleShot(OVERLAY_SETTLE_MS, grab_overlay)

    def on_meters(m) -> None:
        if duration["s"] is None and window._call is not None:
            duration["s"] = getattr(window._call.source, "duration_s", None)
        if duration["s"] and m.t >= LATE_FRACTION * duration["s"] and "main_window.png" not in saved:
            save("main_window.png", window.grab())

    def settings_shots() -> None:
        dialog = SettingsDialog(window, devices=window.devices)
        dialog.show()
        app.processEvents()
        save("settings_audio.png", dialog.grab())
        dialog.tabs.setCurrentIndex(1)
        app.processEvents()
        save("settings_cues.png", dialog.grab())
        dialog.reject()

    def on_finished(_result) -> None:
        def finish() -> None:
            if "main_window.png" not in saved:
                save("main_window.png", window.grab())
            save("main_window_ended.png", window.grab())
            window.resize(*SMALL_WINDOW_SIZE)
            app.processEvents()
            save("main_window_small.png", window.grab())
            settings_shots()
            window.close()
            app.quit()

        QTimer.singleShot(600, finish)

    window.bridge.cue.connect(on_cue)
    window.bridge.meters.connect(on_meters)
    window.call_finished.connect(on_finished)
    QTimer.singleShot(300, lambda: save("main_window_idle.png", window.grab()))
    QTimer.singleShot(600, lambda: window.start_demo(args.demo, speed=args.speed))
    code = app.exec()
    window.wait_for_workers(30.0)
    shutil.rmtree(scratch, ignore_errors=True)
    if window.last_error:
        print(f"the demo call failed: {window.last_error}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
