"""`poise coach --headless` under faults, captured for real from PulseAudio null sinks:
an unwritable recordings folder, a `.part` left by a killed call, the disk filling mid-call
(data folder and events file on a small tmpfs), a data folder that cannot be made, and a
model folder without config.json."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

import pulse
from conftest import REPO, mount_small_disk, speech_path

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
START_WAIT_S = 30.0  # s allowed for the coach to load Whisper and open both devices
SMALL_DISK = "2M"  # tmpfs: a stereo 16 kHz recording (64 kB/s) fills it in about 30 s
KILLED_S = 20.0  # s of a real call in the recording a killed coach left behind
FILL_PLAY_S = 45.0  # s of the call played into the small disk: more than fits


@pytest.fixture(scope="module")
def harness() -> pulse.PulseHarness:
    try:
        return pulse.setup()
    except (pulse.PulseUnavailable, OSError) as exc:
        pytest.skip(f"PulseAudio is unavailable, live trust tests skipped: {exc}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with mount_small_disk(tmp_path, SMALL_DISK) as mount:
        yield mount


def _coach(*args: str | Path, data: Path | str, **popen: object) -> subprocess.Popen[str]:
    env = dict(pulse._env(), PYTHONPATH=str(REPO), POISE_DATA_DIR=str(data))
    env.pop("PYTHONWARNINGS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "poise.cli", "coach", "--headless", "--agent-device", pulse.AGENT_PCM,
         "--caller-device", pulse.CALLER_PCM, *map(str, args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,  # type: ignore[call-overload]
    )


def _clean(err: str) -> None:
    assert "Traceback" not in err and "Logging error" not in err, err


def _call_sides(tmp: Path, seconds: float) -> tuple[Path, Path]:
    audio, rate = sf.read(str(speech_path(CALL)), dtype="float32", always_2d=True)
    audio = audio[: int(seconds * rate)]
    agent, caller = tmp / "agent.wav", tmp / "caller.wav"
    sf.write(agent, audio[:, 0], rate)
    sf.write(caller, audio[:, 1], rate)
    return agent, caller


@pytest.mark.live
def test_unwritable_record_dir_never_claims_a_recording(harness, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    coach = _coach("--record-dir", blocker / "rec", "--no-transcript", "--duration", "3",
                   "--events", tmp_path / "events.jsonl", data=tmp_path / "data")
    _out, err = coach.communicate(timeout=120)
    _clean(err)
    assert "cannot be recorded" in err, err
    assert "Recording saved to" not in err, err


@pytest.mark.live
def test_interrupted_recording_is_recovered_at_start(harness, tmp_path: Path) -> None:
    from poise.audio.recorder import CallRecorder
    from poise.audio.types import Block

    rec = tmp_path / "rec"
    audio, rate = sf.read(str(speech_path(CALL)), dtype="float32", always_2d=True)

    speech = soxr.resample(audio[: int(KILLED_S * rate)], rate, 16000).astype(np.float32)
    killed = CallRecorder(rec, name="call-killed")
    for i in range(int(KILLED_S * 10)):  # 20 s of a real call, then the process "dies": the file stays a .part
        piece = speech[i * 1600 : (i + 1) * 1600]
        killed.write(Block(t0=i * 0.1, agent=piece[:, 0].copy(), caller=piece[:, 1].copy()))
    killed.flush()
    killed._file.close()  # released as a killed process's would be, without finishing it
    killed._file = None
    part = rec / "call-killed.wav.part"
    assert part.exists()
    coach = _coach("--record-dir", rec, "--no-transcript", "--duration", "2", "--events", tmp_path / "e.jsonl",
                   data=tmp_path / "data")
    _out, err = coach.communicate(timeout=120)
    _clean(err)
    assert coach.returncode == 0, err
    assert not part.exists() and (rec / "call-killed.wav").exists(), err
    assert "recovered" in err and "call-killed.wav" in err and "added it to history" in err, err
    assert sf.info(str(rec / "call-killed.wav")).duration == pytest.approx(KILLED_S, abs=0.01)
    db = sqlite3.connect(tmp_path / "data" / "history.sqlite")
    rows = db.execute("SELECT kind, recording, duration_s FROM calls").fetchall()
    assert rows[0][:2] == ("live", str((rec / "call-killed.wav").absolute())), rows
    assert rows[0][2] == pytest.approx(KILLED_S, abs=0.1)


@pytest.mark.live
def test_disk_filling_mid_call_keeps_the_call_or_says_so(harness, small_disk: Path, tmp_path: Path) -> None:
    agent_wav, caller_wav = _call_sides(tmp_path, FILL_PLAY_S)
    data = small_disk / "data"
    events = small_disk / "events.jsonl"
    coach = _coach("--record-dir", data / "recordings", "--no-transcript", "--events", events, data=data)
    players = []
    try:
        deadline = time.monotonic() + START_WAIT_S
        while not list((data / "recordings").glob("*.wav.part")) and time.monotonic() < deadline and coach.poll() is None:
            time.sleep(0.2)
        assert coach.poll() is None, coach.communicate()[1]
        players = [pulse.play(agent_wav, "agent"), pulse.play(caller_wav, "caller")]
        for p in players:
            p.wait(timeout=FILL_PLAY_S + 30)
        assert coach.poll() is None, "coaching stopped when the disk filled: " + coach.communicate()[1]
    finally:
        for p in players:
            pulse.stop(p)
        coach.send_signal(signal.SIGINT)
        _out, err = coach.communicate(timeout=90)
    _clean(err)
    assert "disk is full" in err.lower(), err
    lines = [line for line in err.splitlines() if line.strip()]
    if any("nothing could be saved" in line for line in lines):
        later = lines[next(i for i, line in enumerate(lines) if "nothing could be saved" in line):]
        assert not any("kept" in line or "Recording saved to" in line for line in later), err
    for line in lines:
        if line.startswith("Recording saved to "):
            assert Path(line.removeprefix("Recording saved to ")).is_file(), line
    db = data / "history.sqlite"
    saved = False
    if db.exists():
        conn = sqlite3.connect(db)
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'calls'").fetchone()[0]:
            saved = conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    if not saved:
        assert coach.returncode == 1 and "not saved to history" in err, err
    assert not list(data.glob("*.corrupt*"))


@pytest.mark.live
def test_data_folder_that_cannot_be_made_is_one_sentence(harness, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    coach = _coach("--no-transcript", "--duration", "2", "--events", tmp_path / "e.jsonl", data=blocker / "data")
    _out, err = coach.communicate(timeout=120)
    _clean(err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and all(line.startswith("poise: ") for line in lines), err
    assert any(str(blocker / "data") in line for line in lines), err


@pytest.mark.live
def test_model_without_config_json_is_one_sentence_naming_the_flag(harness, tmp_path: Path) -> None:
    from poise.audio.transcribe import default_model_path

    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)
    (model / "config.json").unlink()
    coach = _coach("--model", model, "--duration", "2", "--events", tmp_path / "e.jsonl", data=tmp_path / "data")
    _out, err = coach.communicate(timeout=120)
    _clean(err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert coach.returncode != 0 and len(lines) == 1, err
    assert "config.json" in lines[0] and "--model" in lines[0] and "Settings" not in lines[0], lines[0]


def test_part_header_keeps_up_with_its_data(tmp_path: Path) -> None:
    """After every block the .part's header claims all but at most ~0.5 s of what is on disk."""
    from poise.audio.recorder import HEADER_BYTES, CallRecorder
    from poise.audio.types import Block

    rec = CallRecorder(tmp_path, name="lag", channels=2)
    worst = 0.0
    for i in range(80):
        rec.write(Block(t0=i * 0.1, agent=np.full(1600, 0.1, np.float32), caller=np.full(1600, 0.1, np.float32)))
        on_disk = rec.part_path.stat().st_size - HEADER_BYTES
        with open(rec.part_path, "rb") as f:
            claimed = int.from_bytes(f.read(HEADER_BYTES)[40:44], "little")
        worst = max(worst, (on_disk - claimed) / (16000 * 2 * 2))
    rec.close()
    assert worst <= 0.6, f"the header lagged its data by {worst:.2f} s"
