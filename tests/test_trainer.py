"""The trainer's window and its tempo helper, on real speech."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from conftest import speech_path

from poise.audio.prosody import ProsodyTracker
from poise.audio.sources import FileSource, load_call
from poise.audio.tempo import time_stretch
from poise.audio.types import FRAME_HOP_S

JFK = "fw_jfk.flac"
READER = "ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"


def _speech_span(x: np.ndarray) -> float:
    """Seconds from the first to the last frame within 25 dB of the loudest (the speech, not the silence around it)."""
    db = ProsodyTracker().process(x).db
    loud = np.flatnonzero(db > db.max() - 25.0)
    return float(loud[-1] - loud[0]) * FRAME_HOP_S


def _median_f0(x: np.ndarray) -> float:
    return float(np.nanmedian(ProsodyTracker().process(x).f0))


# --------------------------------------------------------------------------- tempo


@pytest.mark.parametrize("name", [READER, JFK])
@pytest.mark.parametrize("rate", [0.8, 1.25, 1.5])
def test_time_stretch_keeps_pitch_and_scales_duration(name, rate):
    x = load_call(speech_path(name)).agent
    y = time_stretch(x, rate)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    assert len(y) / len(x) == pytest.approx(1 / rate, rel=0.02)
    # the speech itself is 1/rate as long
    assert _speech_span(x) > 5.0
    assert _speech_span(y) / _speech_span(x) == pytest.approx(1 / rate, rel=0.02)
    # and at the same pitch (a resampling speed-up would move it by the rate itself)
    assert _median_f0(y) == pytest.approx(_median_f0(x), rel=0.03)


def test_time_stretch_rejects_a_bad_rate_and_passes_1x_through():
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    assert np.array_equal(time_stretch(x, 1.0), x)
    with pytest.raises(ValueError):
        time_stretch(x, 0.0)


# --------------------------------------------------------------------------- window


def test_pace_verdict_uses_a_ten_percent_band():
    from poise.app.practice import pace_verdict

    assert pace_verdict(150, 150) == "On pace"
    assert pace_verdict(164, 150) == "On pace"
    assert pace_verdict(170, 150) == "Too fast"
    assert pace_verdict(130, 150) == "Too slow"
    assert pace_verdict(None, 150) == ""


def test_read_at_pace_shows_live_pace_and_advances_the_highlight(qtbot):
    from poise.desktop.trainer_window import TrainerWindow

    call = load_call(speech_path(JFK))
    win = TrainerWindow(source_factory=lambda: FileSource(call, realtime=True, speed=4), agent="default")
    qtbot.addWidget(win)
    win.show()
    tab = win.read_tab
    assert win.windowTitle() == "Poise — trainer"
    tab.target.setValue(200)
    tab.start()
    assert tab.script.isReadOnly() and tab.is_running()
    qtbot.waitUntil(lambda: tab.current_word() is not None, timeout=20_000)  # the source opens off the UI thread
    assert tab.current_word() in ("Thank", "you", "for")
    qtbot.waitUntil(lambda: tab.last_wpm is not None, timeout=20_000)
    qtbot.waitUntil(lambda: tab.word_index >= 3, timeout=10_000)
    assert tab.pace_value.text().isdigit()
    qtbot.waitUntil(lambda: len(tab.strip.t) >= 3, timeout=10_000)  # the live strip draws the take as it goes
    xs, ys = tab.strip.pace_curve.getData()
    assert len(xs) == len(tab.strip.t) and np.isfinite(ys).any() and np.all(np.diff(xs) >= 0)
    wpm = tab.last_wpm
    assert tab.verdict.text() == ("Too fast" if wpm > 220 else "Too slow" if wpm < 180 else "On pace")
    extra = tab.script.extraSelections()
    assert extra[-1].cursor.selectedText() == tab.current_word()
    # the recording runs out: the window stops by itself and the script is editable again
    qtbot.waitUntil(lambda: not tab.is_running(), timeout=20_000)
    assert tab.start_button.text() == "Start" and not tab.script.isReadOnly()
    win.close()


def test_read_at_pace_reports_a_source_that_cannot_open(qtbot):
    from poise.audio.types import AudioInputError
    from poise.desktop.trainer_window import TrainerWindow

    def broken():
        from poise.audio.capture import LiveSource

        return LiveSource("no-such-microphone-anywhere")

    win = TrainerWindow(source_factory=broken, agent="default")
    qtbot.addWidget(win)
    win.read_tab.start()
    qtbot.waitUntil(lambda: not win.read_tab.is_running(), timeout=20_000)  # the source opens off the UI thread
    message = win.read_tab.status.text()
    assert message and "\n" not in message and "Traceback" not in message
    assert not win.read_tab.is_running()
    with pytest.raises(AudioInputError):
        broken()


def test_replay_without_an_output_device_says_so_and_analyses_the_pace(qtbot):
    from poise.desktop.trainer_window import TrainerWindow

    win = TrainerWindow(output_device="no-such-output-device-xyz", agent="default")
    qtbot.addWidget(win)
    tab = win.replay_tab
    tab.open_recording(speech_path(JFK))
    qtbot.waitUntil(lambda: tab.call is not None, timeout=20_000)
    tab.set_rate(1.25)
    tab.play()
    qtbot.waitUntil(lambda: "not found" in tab.status.text(), timeout=20_000)
    message = tab.status.text()
    assert "no-such-output-device-xyz" in message and "\n" not in message and message.count(". ") == 0
    # the stretched copy is 1/1.25 as long, and measures faster than the original
    assert len(tab.stretched(1.25)) == pytest.approx(len(tab.call.agent) / 1.25, rel=0.01)
    tab.analyse()
    qtbot.waitUntil(lambda: tab.analyse_button.isEnabled(), timeout=60_000)
    original, faster = float(tab.original_value.text()), float(tab.stretched_value.text())
    assert faster > original * 1.1
    assert "%" in tab.stretched_note.text()
    win.close()



def test_replay_offers_0_70_to_1_30_in_0_05_steps():
    from poise.app.replay import REPLAY_RATES, replay_rate

    assert REPLAY_RATES == (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3)
    assert replay_rate(0.7 + 0.05) == 0.75  # a sum of steps is the same cached copy
    with pytest.raises(ValueError):
        replay_rate(1.5)


def test_a_075x_replay_is_4_3_as_long_at_the_same_pitch():
    from poise.app.replay import Replay

    replay = Replay.load(speech_path(READER))
    x, y = replay.original(), replay.stretched(0.75)
    assert len(y) / len(x) == pytest.approx(1 / 0.75, rel=0.01)
    assert _speech_span(y) / _speech_span(x) == pytest.approx(1 / 0.75, rel=0.03)
    assert _median_f0(y) == pytest.approx(_median_f0(x), rel=0.03)  # resampling to 0.75x would drop it a quarter
    assert replay.stretched(0.7 + 0.05) is y  # cached


def test_replay_plays_both_sides_the_agent_or_the_caller():
    from poise.app.replay import Replay
    from poise.audio.player import Listen

    replay = Replay.load(speech_path("fw_stereo_diarization.wav"))
    assert replay.has_caller
    agent, caller, both = (replay.stretched(1.2, side) for side in (Listen.AGENT, Listen.CALLER, Listen.BOTH))
    assert len(agent) == len(caller) == len(both) == pytest.approx(len(replay.call.agent) / 1.2, abs=2)
    # each side is its own voice; both is their mix (the mix's energy, 0.1 s at a time, is the two sides')
    assert np.array_equal(replay.original(Listen.BOTH), np.clip(replay.call.agent + replay.call.caller, -1, 1))

    def energy(x):
        n = len(x) // 1600 * 1600
        return (x[:n].astype(np.float64) ** 2).reshape(-1, 1600).mean(axis=1)

    assert np.corrcoef(energy(agent), energy(caller))[0, 1] < 0.5
    assert np.corrcoef(energy(both), energy(agent) + energy(caller))[0, 1] > 0.9
    mono = Replay.load(speech_path(READER))  # a mono file: the agent alone
    assert not mono.has_caller and mono.side(Listen.CALLER) is Listen.AGENT


def test_the_replay_tab_offers_every_speed_and_side(qtbot):
    from poise.app.replay import REPLAY_RATES
    from poise.audio.player import Listen
    from poise.desktop.replay_tab import ReplayTab

    tab = ReplayTab("no-such-output-device-xyz")
    qtbot.addWidget(tab)
    assert [b.text() for b in tab.speed_group.buttons()] == [f"{r:g}×" for r in REPLAY_RATES]
    tab.open_recording(speech_path("fw_stereo_diarization.wav"))
    qtbot.waitUntil(lambda: tab.call is not None, timeout=20_000)
    assert tab.listen_combo.isEnabled() and tab.listen_combo.count() == 3
    tab.listen_combo.setCurrentIndex(tab.listen_combo.findData("caller"))
    assert tab.listen is Listen.CALLER
    tab.set_rate(0.85)
    assert [b.text() for b in tab.speed_group.buttons() if b.isChecked()] == ["0.85×"]
    assert len(tab.stretched(0.85)) == pytest.approx(len(tab.call.caller) / 0.85, abs=2)
    tab.open_recording(speech_path(READER))  # one side: it plays the agent, and says so
    qtbot.waitUntil(lambda: tab.call is not None and tab.call.caller is None, timeout=20_000)
    assert tab.listen is Listen.AGENT and not tab.listen_combo.isEnabled()
    tab.play()
    qtbot.waitUntil(lambda: "not found" in tab.status.text(), timeout=20_000)
    tab.wait()

def test_trends_show_saved_calls(qtbot):
    from poise.audio.analysis import analyze_file
    from poise.audio.store import HistoryStore
    from poise.desktop.trainer_window import TrainerWindow

    win = TrainerWindow(agent="trainee")
    qtbot.addWidget(win)
    tab = win.trends_tab
    assert tab.stack.currentWidget() is tab.empty and "No calls yet" in tab.empty.text()

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with HistoryStore() as store:
        for i, name in enumerate((JFK, READER)):
            result = analyze_file(speech_path(name), transcribe=False)
            store.save_call(result, "review", agent="trainee", started_at=t0 + timedelta(days=i))
        store.save_call(result, "review", agent="someone else", started_at=t0)
    win.tabs.setCurrentWidget(tab)  # showing the tab reads the history again
    tab.refresh()
    assert tab.table.rowCount() == 2
    assert tab.stack.currentIndex() == 1
    assert tab.table.item(0, 0).text().startswith("2026-03-03")  # newest first
    assert tab.table.item(0, 2).text().endswith("(est.)")  # no transcript: pace from articulation
    xs, _ = tab.pace_plot.getPlotItem().listDataItems()[0].getData()  # a date axis: the calls at their times
    assert list(xs) == [t0.timestamp(), (t0 + timedelta(days=1)).timestamp()]
    win.close()


def test_the_trainer_window_remembers_its_geometry_and_opens_on_screen(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    from poise.desktop.trainer_window import DEFAULT_SIZE, GEOMETRY_FILE, TrainerWindow
    from poise.desktop.window_geometry import geometry_path

    assert not geometry_path(GEOMETRY_FILE).exists()
    win = TrainerWindow(agent="default")
    qtbot.addWidget(win)
    screen = QApplication.primaryScreen().availableGeometry()  # offscreen: 800×600
    assert win.width() <= min(DEFAULT_SIZE[0], screen.width()) and screen.contains(win.frameGeometry().center())
    win.resize(760, 520)
    win.move(screen.topLeft() + QPoint(10, 20))
    win.close()
    assert geometry_path(GEOMETRY_FILE).exists()
    again = TrainerWindow(agent="default")
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (760, 520)
    again.move(screen.topLeft() + QPoint(5000, 5000))  # closed where no screen is (a projector unplugged)
    again.close()
    third = TrainerWindow(agent="default")
    qtbot.addWidget(third)
    assert screen.intersects(third.frameGeometry()) and screen.contains(third.frameGeometry().center())
    third.close()
