"""The voice calibration dialog, driven by real read speech played in (sped-up) real time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speech_path

from poise.audio.baseline import CALIBRATION_SPEECH_S
from poise.audio.coach import wpm_from_rate
from poise.audio.sources import FileSource, load_call
from poise.audio.store import HistoryStore
from poise.audio.types import SAMPLE_RATE, AudioInputError
from poise.app import calibration as app_calibration
from poise.desktop.calibration_dialog import CalibrationDialog

READER_CLIPS = [
    f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")
]
SPEED = 8.0  # replay 8x faster than real time: ~50 s of reading takes ~6 s
FINISH_TIMEOUT_MS = 60_000  # generous: the machine is shared; nothing here asserts speed


def _reading(tmp_path: Path, repeats: int = 2) -> Path:
    """The same male reader's five LibriVox clips, `repeats` times over (~25 s each pass)."""
    clips = [sf.read(speech_path(name), dtype="float32")[0] for name in READER_CLIPS]
    path = tmp_path / f"reading_x{repeats}.wav"
    sf.write(path, np.concatenate(clips * repeats), SAMPLE_RATE)
    return path


def _factory(path: Path, made: list[FileSource] | None = None):
    call = load_call(path)

    def make() -> FileSource:
        source = FileSource(call, realtime=True, speed=SPEED)
        if made is not None:
            made.append(source)
        return source

    return make


def test_reads_to_completion_and_saves_the_profile(qtbot, tmp_path):
    dialog = CalibrationDialog("dana", _factory(_reading(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Calibrate your voice"
    assert dialog.start_button.isVisible() and not dialog.save_button.isVisible()

    dialog.start_button.click()
    assert dialog.state == "recording"
    assert dialog.stop_button.isVisible() and dialog.cancel_button.isVisible()
    # progress comes from the tracker while the worker runs, before the end
    qtbot.waitUntil(lambda: 0 < dialog.speech_bar.value() < dialog.speech_bar.maximum(), timeout=FINISH_TIMEOUT_MS)
    qtbot.waitUntil(lambda: dialog.level_bar.value() > 0, timeout=FINISH_TIMEOUT_MS)

    qtbot.waitUntil(lambda: dialog.state == "result", timeout=FINISH_TIMEOUT_MS)
    b = dialog.baseline
    assert b is not None and b.is_ready()
    assert 80.0 <= b.pitch_hz <= 130.0  # a male reader
    assert -45.0 < b.db < -5.0
    assert 2.0 < b.rate_sps < 7.0
    assert b.speech_s >= CALIBRATION_SPEECH_S
    # it stopped by itself once it had enough, before the ~50 s file ran out
    assert dialog.call is not None and dialog.call.time_s < 49.0
    assert dialog.result_values["pitch"].text() == f"{b.pitch_hz:.0f}"
    assert dialog.result_values["wpm"].text() == f"≈{wpm_from_rate(b.rate_sps):.0f}"
    assert dialog.save_button.isVisible() and dialog.discard_button.isVisible()

    assert HistoryStore().load_profile("dana") is None
    with qtbot.waitSignal(dialog.profile_saved, timeout=10_000) as saved:
        dialog.save_button.click()
    profile = HistoryStore().load_profile("dana")
    assert profile is not None and profile.is_ready()
    assert profile.pitch_hz == pytest.approx(b.pitch_hz)
    assert saved.args[0].pitch_hz == pytest.approx(b.pitch_hz)
    assert dialog.result() == CalibrationDialog.DialogCode.Accepted


def test_cancel_stops_the_worker_and_saves_nothing(qtbot, tmp_path):
    made: list[FileSource] = []
    dialog = CalibrationDialog("lee", _factory(_reading(tmp_path), made))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.speech_bar.value() > 0, timeout=FINISH_TIMEOUT_MS)
    runner = dialog.call.runner
    assert runner is not None
    dialog.cancel_button.click()
    assert not runner.is_running()
    assert made[0].stopped
    assert dialog.result() == CalibrationDialog.DialogCode.Rejected
    assert dialog.baseline is None
    assert HistoryStore().load_profile("lee") is None


def test_discard_after_measuring_saves_nothing(qtbot, tmp_path):
    dialog = CalibrationDialog("kim", _factory(_reading(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == "result", timeout=FINISH_TIMEOUT_MS)
    dialog.discard_button.click()
    assert dialog.result() == CalibrationDialog.DialogCode.Rejected
    assert HistoryStore().load_profile("kim") is None


def test_a_failing_source_shows_its_sentence(qtbot):
    sentence = "The microphone 'x' is not available: plug it in and try again."

    def broken():
        raise AudioInputError(sentence)

    dialog = CalibrationDialog("sam", broken)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == "message", timeout=FINISH_TIMEOUT_MS)  # the source opens off the UI thread
    assert dialog.message.text() == sentence
    assert "Traceback" not in dialog.message.text()
    assert dialog.retry_button.isVisible()
    assert dialog.call.runner is None and not dialog.is_worker_running()


def test_a_device_failing_mid_recording_shows_one_sentence(qtbot, tmp_path):
    call = load_call(_reading(tmp_path, repeats=1))
    sentence = "The microphone 'x' stopped delivering sound: check its cable and try again."

    def failing_after_a_while():
        for i, block in enumerate(FileSource(call, realtime=True, speed=SPEED)):
            if i == 30:
                raise AudioInputError(sentence)
            yield block

    dialog = CalibrationDialog("sam", failing_after_a_while)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == "message", timeout=FINISH_TIMEOUT_MS)
    assert dialog.message.text() == sentence
    assert HistoryStore().load_profile("sam") is None


def test_too_little_speech_says_so_and_try_again_works(qtbot, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, sf.read(speech_path(READER_CLIPS[0]), dtype="float32")[0], SAMPLE_RATE)  # ~7 s of reading
    files = iter([short, _reading(tmp_path)])

    def make() -> FileSource:
        return FileSource(load_call(next(files)), realtime=True, speed=SPEED)

    dialog = CalibrationDialog("ana", make)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == "message", timeout=FINISH_TIMEOUT_MS)
    assert "heard only" in dialog.message.text() and "try again" in dialog.message.text()
    assert dialog.retry_button.isVisible()
    dialog.retry_button.click()
    qtbot.waitUntil(lambda: dialog.state == "result", timeout=FINISH_TIMEOUT_MS)
    assert 80.0 <= dialog.baseline.pitch_hz <= 130.0


def test_gives_up_when_no_voice_is_heard(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(app_calibration, "GIVE_UP_AFTER_S", 4.0)  # instead of 90 s of audio, to keep the test short
    rng = np.random.default_rng(0)
    hiss = tmp_path / "hiss.wav"
    sf.write(
        hiss, (rng.standard_normal(SAMPLE_RATE * 60) * 1e-3).astype(np.float32), SAMPLE_RATE
    )  # -60 dBFS room noise
    made: list[FileSource] = []
    dialog = CalibrationDialog("ana", _factory(hiss, made))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.state == "message", timeout=FINISH_TIMEOUT_MS)
    assert f"heard only 0 of the {CALIBRATION_SPEECH_S:.0f} seconds" in dialog.message.text()
    assert made[0].position_s < 30.0  # it stopped listening, not the file running out
