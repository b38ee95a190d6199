"""Two takes side by side: aligned from where each reading began, the scores compared (real read speech)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from conftest import speech_path

from poise.app.practice import aligned_series, builtin_scripts, practice_call, save_take, score_take
from poise.audio.sources import FileSource, load_call
from poise.audio.store import HistoryStore

READER_CLIPS = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LEAD_S = 3.0  # s of silence before the reading in the late take


def _take(path):
    call = load_call(path)
    practice = practice_call(lambda: FileSource(call, realtime=False))
    practice.begin()
    return practice.wait(120).result


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The reader sped up 1.4x (the first take), then at his own pace after 3 s of silence (the second)."""
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    folder = tmp_path_factory.mktemp("compare")
    natural, fast, late = folder / "natural.wav", folder / "fast.wav", folder / "late.wav"
    subprocess.run(["sox", *[str(speech_path(n)) for n in READER_CLIPS], str(natural)], check=True, capture_output=True)
    subprocess.run(["sox", str(natural), str(fast), "tempo", "-s", "1.4"], check=True, capture_output=True)
    subprocess.run(["sox", str(natural), str(late), "pad", str(LEAD_S), "0"], check=True, capture_output=True)
    return {"natural": _take(natural), "fast": _take(fast), "late": _take(late)}


def test_takes_are_aligned_where_the_reading_began(results):
    natural, late = score_take(results["natural"], 155), score_take(results["late"], 155)
    assert natural.speech_start_s <= 1.0
    assert late.speech_start_s - natural.speech_start_s == pytest.approx(LEAD_S, abs=1.0)
    a, b = aligned_series(natural), aligned_series(late)
    # once aligned, the same reading gives the same pace at the same moment
    common = [t for t in a.t if np.isfinite(a.wpm[a.t == t]).all() and np.any(np.isclose(b.t, t, atol=0.55))]
    assert len(common) > 15
    wa = np.array([a.wpm[a.t == t][0] for t in common])
    wb = np.array([b.wpm[np.argmin(np.abs(b.t - t))] for t in common])
    ok = np.isfinite(wb)
    assert np.median(np.abs(wa[ok] - wb[ok]) / wa[ok]) < 0.1
    assert np.nanmedian(np.abs(a.pitch_st)) < 3.0  # semitones from his own median


def test_the_trainer_compares_the_last_two_takes_side_by_side(qtbot, results):
    from poise.desktop.trainer_window import TrainerWindow

    script = builtin_scripts()[0]
    fast, natural = score_take(results["fast"], 155), score_take(results["natural"], 155)
    with HistoryStore() as store:
        rushed = save_take(store, "sam", script, fast, results["fast"].source.duration_s, started_at=T0)
        calm = save_take(store, "sam", script, natural, results["natural"].source.duration_s, started_at=T0 + timedelta(days=1))
    win = TrainerWindow(agent="sam")
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.takes_tab)
    assert win.takes_tab.compare_button.text() == "Compare the last two"
    win.takes_tab.compare_selected()  # nothing selected: the last two, the older first
    tab = win.compare_tab
    assert win.tabs.currentWidget() is tab and tab.chosen_ids() == (rushed, calm)
    assert tab.stack.currentIndex() == 1
    curves = tab.pace.listDataItems()
    assert len(curves) == 2  # one per take, on one time axis
    for curve in curves:
        xs, _ = curve.getData()
        assert xs[0] < 1.5  # both from where their reading began
    rows = {tab.scores.item(i, 0).text(): [tab.scores.item(i, j).text() for j in (1, 2, 3)] for i in range(tab.scores.rowCount())}
    assert rows["Score"][0] == f"{fast.overall:.0f}" and rows["Score"][1] == f"{natural.overall:.0f}"
    assert rows["Score"][2].endswith("better")
    assert rows["Time on pace"][0] == f"{fast.time_in_band * 100:.0f} %" and "points" in rows["Time on pace"][2]
    assert "higher" in tab.verdict.text()

    # two chosen in the table, the newer clicked first: still shown older first
    win.tabs.setCurrentWidget(win.takes_tab)
    win.takes_tab.select([calm, rushed])
    assert win.takes_tab.compare_button.text() == "Compare the two selected"
    win.takes_tab.compare_selected()
    assert tab.chosen_ids() == (rushed, calm)
    tab.show_takes(calm, calm)
    assert "same take" in tab.status.text()
    win.close()


def test_compare_needs_two_takes_and_says_so(qtbot):
    from poise.desktop.trainer_window import TrainerWindow

    win = TrainerWindow(agent="nobody-yet")
    qtbot.addWidget(win)
    win.takes_tab.compare_selected()
    assert "Two takes are needed" in win.takes_tab.status.text()
    win.tabs.setCurrentWidget(win.compare_tab)
    assert win.compare_tab.stack.currentIndex() == 0 and "Two takes are needed" in win.compare_tab.empty.text()
    win.close()


def test_a_take_is_recorded_as_it_is_read_and_saved_as_a_wav(tmp_path):
    import soundfile as sf

    from poise.app.practice import TakeAudio
    from poise.audio.types import SAMPLE_RATE

    call = load_call(speech_path(READER_CLIPS[0]))
    audio = TakeAudio()
    practice = practice_call(lambda: FileSource(call, realtime=False), audio=audio)
    practice.begin()
    outcome = practice.wait(60)
    assert outcome.error is None and outcome.result is not None  # the call saw the same audio
    assert len(audio.samples()) == len(call.agent)
    assert np.array_equal(audio.samples(), call.agent)
    path = audio.save(tmp_path / "takes", started_at=T0)
    again = audio.save(tmp_path / "takes", started_at=T0)  # the same second: another name, not overwritten
    assert path != again and path.name.startswith("take-") and path.suffix == ".wav"
    data, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE and len(data) == len(call.agent)
    assert np.max(np.abs(data - call.agent)) < 1e-3  # 16-bit PCM
    capped = TakeAudio(max_s=1.0)
    for block in capped.wrap(FileSource(call, realtime=False)):
        pass
    assert capped.duration_s == 1.0


def test_two_takes_play_one_after_the_other_with_a_playhead(qtbot, results, tmp_path):
    import time

    from poise.app.practice import PLAY_GAP_S, TakeAudio, list_takes, one_after_the_other, playhead_at
    from poise.desktop.trainer_window import TrainerWindow

    script = builtin_scripts()[0]
    ids = []
    with HistoryStore() as store:
        for day, name in enumerate(("fast", "late")):
            result = results[name]
            audio = TakeAudio()
            for _ in audio.wrap(FileSource(load_call(result.source.path), realtime=False)):
                pass
            recording = audio.save(tmp_path, started_at=T0 + timedelta(days=day))
            ids.append(save_take(store, "pat", script, score_take(result, 155), result.source.duration_s,
                                 started_at=T0 + timedelta(days=day), recording=recording))
        nothing = save_take(store, "pat", script, score_take(results["natural"], 155), 24.7,
                            started_at=T0 + timedelta(days=3))  # Keep audio was off
        first, second = sorted((t for t in list_takes(store, "pat") if t.id in ids), key=lambda t: t.started_at)

    # where the playhead is, in the first take, the silence, the second take
    a, b = load_call(first.recording).agent, load_call(second.recording).agent
    joined, second_at = one_after_the_other(a, b)
    assert len(joined) == len(a) + len(b) + int(PLAY_GAP_S * 16000)
    len_a, len_b = len(a) / 16000, len(b) / 16000
    assert second_at == pytest.approx(len_a + PLAY_GAP_S)
    assert playhead_at(2.0, first, len_a, second, second_at, len_b).take == 0
    assert playhead_at(len_a + 0.1, first, len_a, second, second_at, len_b) is None
    head = playhead_at(second_at + 5.0, first, len_a, second, second_at, len_b)
    assert head.take == 1 and head.x == pytest.approx(5.0 - second.score.speech_start_s)  # aligned like the curves
    assert playhead_at(second_at + len_b + 0.1, first, len_a, second, second_at, len_b) is None

    win = TrainerWindow(agent="pat", output_device="no-such-output-device-xyz")
    qtbot.addWidget(win)
    tab = win.compare_tab
    win.compare(ids[0], ids[1])
    assert tab.play_button.isEnabled()
    tab.play()  # the device does not exist: one sentence, nothing plays
    qtbot.waitUntil(lambda: "not found" in tab.status.text(), timeout=10_000)
    assert tab.playhead() is None and not tab.stop_button.isEnabled()

    # the playhead while playing, driven through the clock the view reads (no sound is sent anywhere here)
    tab._playing = (first, len_a, second, second_at, len_b)
    tab._play_started = time.monotonic() - (second_at + 5.0)
    tab._tick()
    assert tab.playhead() == (1, pytest.approx(head.x, abs=0.1)) and "second take" in tab.now_playing.text()
    tab._play_started = time.monotonic() - (second_at + len_b + 1.0)
    tab._tick()
    assert tab.playhead() is None and tab._playing is None and "Played both" in tab.now_playing.text()

    tab.show_takes(ids[0], nothing)
    assert not tab.play_button.isEnabled()
    tab.play()
    assert "second take has no recording" in tab.status.text() and "Keep audio" in tab.status.text()

    # deleting a take removes its sound too
    win.tabs.setCurrentWidget(win.takes_tab)
    win.takes_tab.select([ids[0]])
    win.takes_tab.delete_selected()
    assert not first.recording.exists() and second.recording.exists()
    win.close()
