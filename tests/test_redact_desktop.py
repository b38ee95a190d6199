"""Redaction in the app: the Settings dialog's Privacy checkbox, and a report exported from the
review window is redacted while the window itself shows what was said."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from poise.app.redact import count_digit_runs
from poise.app.settings import SettingsStore


def test_settings_dialog_privacy_checkbox_saves_keep_numbers(qtbot, tmp_path: Path) -> None:
    from poise.desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(devices=[])
    qtbot.addWidget(dialog)
    assert not dialog.keep_numbers.isChecked()  # default: redacted
    dialog.keep_numbers.setChecked(True)
    dialog.save()
    assert SettingsStore().load().keep_numbers is True
    again = SettingsDialog(devices=[])
    qtbot.addWidget(again)
    assert again.keep_numbers.isChecked()
    dialog.grab().save(str(tmp_path / "settings.png"))


@pytest.mark.slow
def test_review_window_exports_redacted_and_shows_the_words(qtbot, tmp_path: Path) -> None:
    from poise.desktop.review_window import ReviewWindow

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "numbers.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "-s", "140", "My account number is 4 7 1 9 2 3. Thank you."],
                   check=True, capture_output=True)
    win = ReviewWindow(wav)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.analysis_done, timeout=120_000):
        win.show()
    assert win.result is not None and win.error is None
    shown = [s.text for s in win.result.segments]
    assert count_digit_runs(shown) >= 1, shown  # in memory (and on screen) the words stay
    assert win.export(tmp_path / "r.json").startswith("JSON report saved")
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    exported = [s["text"] for s in doc["segments"]]
    assert count_digit_runs(exported) == 0 and "[number]" in " ".join(exported), exported
    assert win.export(tmp_path / "r.html").startswith("Report saved")
    assert "[number]" in (tmp_path / "r.html").read_text(encoding="utf-8")
