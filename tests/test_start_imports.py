"""The main window starts without the heavy modules (benchmarks/load.py: process start to the window
shown, ≤ 3 s), builds its plots right after it is on screen, and still opens every window it leads to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

REPO = Path(__file__).resolve().parents[1]

# Loaded when first needed, never by the window's start: scipy (~0.6 s), faster-whisper with PyAV and
# CTranslate2, the other audio libraries, pyqtgraph (after the first paint), and the windows and dialogs
# the menus open.
LAZY_MODULES = (
    "scipy",
    "scipy.signal",
    "scipy.fft",
    "faster_whisper",
    "ctranslate2",
    "av",
    "onnxruntime",
    "librosa",
    "soundfile",
    "pyqtgraph",
    "poise.audio.transcribe",
    "poise.audio.analysis",
    "poise.audio.sources",
    "poise.audio.session",
    "poise.app.review",
    "poise.app.batch_summary",
    "poise.desktop.plots",
    "poise.desktop.review_window",
    "poise.desktop.review_timeline",
    "poise.desktop.history_window",
    "poise.desktop.trends_tab",
    "poise.desktop.batch_window",
    "poise.desktop.trainer_window",
    "poise.desktop.settings_dialog",
    "poise.desktop.calibration_dialog",
    "poise.desktop.practice_compare",
    "poise.desktop.practice_strip",
    "poise.desktop.practice_takes",
    "poise.desktop.read_along_tab",
    "poise.desktop.replay_tab",
)
CHILD_TIMEOUT_S = 120.0  # s: the child imports faster-whisper and scipy at its end (seconds on a busy machine)

CHILD = r"""
import json, sys, time
lazy = json.loads(sys.argv[1])
import poise.desktop.app as app_mod
from poise.desktop.main_window import MainWindow, warm_call_modules

app = app_mod.create_app(["poise"])
window = MainWindow(check_recovery=False)
window.show()
out = {"at_show": sorted(m for m in lazy if m in sys.modules), "built_at_show": window.live_view.plots_built(),
       "modules": len(sys.modules)}
deadline = time.monotonic() + 30
while not window.live_view.plots_built() and time.monotonic() < deadline:  # the event loop: first paint, then plots
    app.processEvents()
    time.sleep(0.01)
out["built"] = window.live_view.plots_built()
out["pyqtgraph_after"] = "pyqtgraph" in sys.modules
out["plot_height"] = window.live_view.pitch_plot.height()
warm_call_modules().result(timeout=90)
out["warmed"] = sorted(m for m in ("scipy.signal", "faster_whisper", "poise.audio.session") if m in sys.modules)
window.close()
print("RESULT " + json.dumps(out), flush=True)
"""


def test_the_main_window_shows_without_the_heavy_modules_then_builds_its_plots(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(LAZY_MODULES)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-2000:]
    out = json.loads(line[len("RESULT "):])
    assert out["at_show"] == [], f"imported before the main window was shown: {out['at_show']}"
    assert not out["built_at_show"]
    assert out["modules"] < 600  # 1382 modules before the lazy loading (2026-12-01), 397 after
    assert out["built"] and out["pyqtgraph_after"]  # the plots follow the first paint by themselves
    assert out["plot_height"] > 0
    assert out["warmed"] == ["faster_whisper", "poise.audio.session", "scipy.signal"]  # ready for the first Start


def _answer_modal(record: list[str], attempts: int = 200) -> None:
    """When a modal dialog is up, note its class and close it (a user pressing Escape)."""
    modal = QApplication.activeModalWidget()
    if modal is not None:
        record.append(type(modal).__name__)
        modal.reject()
    elif attempts:
        QTimer.singleShot(20, lambda: _answer_modal(record, attempts - 1))


@pytest.mark.parametrize("action, dialog", [
    ("settings_action", "SettingsDialog"),
    ("calibrate_action", "CalibrationDialog"),
    ("batch_summary_action", "QFileDialog"),
])
def test_the_menus_still_open_the_dialogs_loaded_on_first_use(qtbot, action: str, dialog: str) -> None:
    from poise.desktop.main_window import MainWindow

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.show()
    seen: list[str] = []
    QTimer.singleShot(0, lambda: _answer_modal(seen))
    getattr(main, action).trigger()  # returns once the dialog is closed
    assert seen == [dialog]
    main.close()


def test_the_menus_still_open_the_windows_loaded_on_first_use(qtbot) -> None:
    from poise.desktop.main_window import MainWindow

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.show()
    main.history_action.trigger()
    assert main.history_window is not None and main.history_window.isVisible()
    main.trainer_action.trigger()
    assert main.trainer_window is not None and main.trainer_window.isVisible()
    for window in (main.history_window, main.trainer_window):
        window.close()
    main.close()
