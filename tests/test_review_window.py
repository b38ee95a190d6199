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


@pytest.mark.slow
def test_a_review_in_the_app_gives_the_cues_of_poise_analyze_with_the_same_settings(qtbot, tmp_path):
    """The user's cue rules and the agent's saved profile reach the review: the same cues as the CLI."""
    import json
    import os
    import subprocess
    import sys

    from poise.app.settings import SettingsStore
    from poise.audio.coach import CoachConfig
    from poise.audio.report import to_json
    from poise.audio.store import HistoryStore
    from poise.audio.types import Baseline
    from poise.desktop.main_window import MainWindow

    call = speech_path("call_spokenwoz_agent_left_8k_ulaw.wav")
    config = CoachConfig(pace_ratio=1.15, cooldown_s=10.0)
    config.enabled["let_caller_finish"] = False  # the booking call's first cue (7.7 s) with defaults
    SettingsStore().update(coach=config, agent_name="Sam")
    quiet_normal = Baseline(pitch_hz=200.0, db=-32.0, rate_sps=2.2, speech_s=600.0)  # the agent is ~11 dB louder
    with HistoryStore() as store:
        store.update_profile("Sam", quiet_normal)

    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.open_recording(call)
    review = main.review_windows[0]
    qtbot.waitUntil(lambda: review.outcome is not None, timeout=180_000)
    assert review.error is None, review.error
    cues = to_json(review.result)["cues"]
    kinds = {c["kind"] for c in cues}
    assert "let_caller_finish" not in kinds, cues
    normal_based = [c for c in cues if c["kind"] in ("slow_down", "lower_tone", "lower_volume", "speak_up")]
    assert normal_based and normal_based[0]["t"] < 30.0, cues  # from the saved profile, not 30 s of learning

    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    env["PYTHONPATH"] = str(repo)
    out = tmp_path / "cli.json"
    proc = subprocess.run([sys.executable, "-m", "poise.cli", "analyze", str(call), "--json", str(out), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["cues"] == cues

    with HistoryStore() as store:  # the review was saved once, and did not refine the profile
        assert [c.kind for c in store.list_calls()] == ["review"]
        assert store.load_profile("Sam") == quiet_normal
    main.open_recording(call)  # reviewing the same recording again adds nothing
    qtbot.waitUntil(lambda: main.review_windows[-1].outcome is not None, timeout=180_000)
    with HistoryStore() as store:
        assert len(store.list_calls()) == 1
    review.close()
