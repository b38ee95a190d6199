"""The review window: a recorded call analysed off the UI thread, then laid out."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import speech_path
from poise.desktop.review_window import ReviewWindow

DEMO = Path(__file__).resolve().parents[1] / "poise" / "assets" / "demo_call.ogg"


def test_demo_call_review_shows_cues_numbers_and_transcript(qtbot, tmp_path):
    win = ReviewWindow(DEMO)
    qtbot.addWidget(win)
    assert win.windowTitle() == "Poise — review: demo_call.ogg"
    with qtbot.waitSignal(win.analysis_done, timeout=180_000):
        win.show()
    result = win.result
    assert result is not None and win.error is None
    kinds = {c.kind for c in result.cues}
    assert {"dead_air", "let_caller_finish"} <= kinds
    assert win.cue_list.count() == len(result.cues)
    assert win.transcript.count() == len(result.segments) > 5
    assert "wpm" in win.cards["wpm"][0].text()
    # clicking a cue moves the cursor to its time
    item = win.cue_list.item(0)
    win._jump_to_item(item)
    assert win.cursor.value() == pytest.approx(result.cues[0].t)
    message = win.export(tmp_path / "demo.html")
    assert message.startswith("Report saved") and (tmp_path / "demo.html").read_text().count("<svg") >= 1
    win.grab().save(str(tmp_path / "review.png"))


def test_bad_recording_gives_one_sentence_not_a_traceback(qtbot, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    win = ReviewWindow(bad, transcribe=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.error is not None, timeout=30_000)
    assert "notes.wav" in win.error and "\n" not in win.error and "Traceback" not in win.error
    assert win.status.text() == win.error


def test_mono_recording_without_words(qtbot):
    win = ReviewWindow(speech_path("sb_ljspeech_LJ050-0131.wav"), transcribe=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.analysis_done, timeout=60_000):
        pass
    assert win.result.caller is None
    assert win.transcript.item(0).text() == "No transcript."


def test_open_recording_from_the_main_window_opens_a_review(qtbot):
    from poise.desktop.main_window import MainWindow

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.open_recording(speech_path("sb_ljspeech_LJ050-0131.wav"))
    assert len(main.review_windows) == 1
    review = main.review_windows[0]
    with qtbot.waitSignal(review.analysis_done, timeout=120_000):
        pass
    assert review.windowTitle() == "Poise — review: sb_ljspeech_LJ050-0131.wav"
    review.close()
