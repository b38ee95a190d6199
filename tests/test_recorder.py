"""Crash-safe call recording: round trip, a SIGKILLed recorder, a full disk, a write error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import REPO, speech_path

from poise.audio.recorder import CallRecorder, find_interrupted, recover
from poise.audio.types import SAMPLE_RATE, Block

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
BLOCK = 1600  # samples: 0.1 s blocks, as the live source yields them
LSB = 1 / 32768  # one int16 step in float


def load_call(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The first `seconds` of the real two-channel call at 16 kHz: (agent, caller)."""
    path = speech_path(CALL)
    data, rate = sf.read(path, frames=int(seconds * 8000), dtype="float32", always_2d=True)
    up = soxr.resample(data, rate, SAMPLE_RATE).astype(np.float32)
    return up[:, 0].copy(), up[:, 1].copy()


def blocks_of(agent: np.ndarray, caller: np.ndarray | None) -> list[Block]:
    return [
        Block(t0=i / SAMPLE_RATE, agent=agent[i : i + BLOCK], caller=None if caller is None else caller[i : i + BLOCK])
        for i in range(0, len(agent) - BLOCK + 1, BLOCK)
    ]


def test_round_trip_keeps_both_sides(tmp_path: Path) -> None:
    agent, caller = load_call(12.0)
    rec = CallRecorder(tmp_path, name="call")
    assert rec.part_path.exists() and rec.part_path.name == "call.wav.part"
    for block in blocks_of(agent, caller):
        rec.write(block)
    path = rec.close()

    assert path == tmp_path / "call.wav" and path.exists()
    assert not rec.part_path.exists() and rec.error is None
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE and data.shape == (len(agent), 2)
    np.testing.assert_allclose(data[:, 0], np.clip(agent, -1, 1), atol=LSB)
    np.testing.assert_allclose(data[:, 1], np.clip(caller, -1, 1), atol=LSB)
    # The two sides are really different voices, not one channel copied.
    assert np.corrcoef(data[:, 0], data[:, 1])[0, 1] < 0.5


def test_agent_only_blocks_give_a_silent_right_channel_or_mono(tmp_path: Path) -> None:
    agent, _ = load_call(12.0)
    stereo = CallRecorder(tmp_path, name="stereo")
    mono = CallRecorder(tmp_path, name="mono", channels=1)
    for block in blocks_of(agent, None):
        stereo.write(block)
        mono.write(block)
    s, _ = sf.read(stereo.close(), dtype="float32", always_2d=True)
    m, _ = sf.read(mono.close(), dtype="float32", always_2d=True)
    assert s.shape[1] == 2 and m.shape[1] == 1
    assert np.abs(s[:, 0]).max() > 0.1 and np.abs(s[:, 1]).max() == 0
    np.testing.assert_allclose(m[:, 0], s[:, 0])


def test_names_do_not_clobber_earlier_recordings(tmp_path: Path) -> None:
    first = CallRecorder(tmp_path, name="call")
    first.write(Block(0.0, np.full(BLOCK, 0.25, np.float32)))
    first.close()
    second = CallRecorder(tmp_path, name="call")
    assert second.path == tmp_path / "call-2.wav"
    second.close()
    assert sf.info(tmp_path / "call.wav").frames == BLOCK


def test_a_jump_in_block_time_is_filled_with_silence(tmp_path: Path) -> None:
    rec = CallRecorder(tmp_path, name="gap", channels=1)
    tone = np.full(BLOCK, 0.5, np.float32)
    rec.write(Block(10.0, tone))
    rec.write(Block(10.0 + 2 * BLOCK / SAMPLE_RATE, tone))  # one block missing
    data, _ = sf.read(rec.close(), dtype="float32")
    assert len(data) == 3 * BLOCK
    assert np.all(data[BLOCK : 2 * BLOCK] == 0) and np.all(data[2 * BLOCK :] > 0.49)


def test_the_part_file_is_readable_while_recording(tmp_path: Path) -> None:
    """Sizes are patched at every sync, so even the .part is a valid WAV of all but the last ~1 s."""
    agent, caller = load_call(4.0)
    rec = CallRecorder(tmp_path, name="live")
    for block in blocks_of(agent, caller):
        rec.write(block)
    info = sf.info(rec.part_path)
    assert len(agent) - SAMPLE_RATE * 1.05 <= info.frames <= len(agent)
    assert find_interrupted(tmp_path) == []  # still being written: not a crash leftover
    rec.close()
    assert find_interrupted(tmp_path) == []


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np, soundfile as sf, soxr
    from pathlib import Path
    from poise.audio.recorder import CallRecorder
    from poise.audio.types import Block

    src, folder = sys.argv[1], Path(sys.argv[2])
    data, rate = sf.read(src, frames=8000 * 30, dtype="float32", always_2d=True)
    up = soxr.resample(data, rate, 16000).astype(np.float32)
    rec = CallRecorder(folder, name="crash")
    for i in range(0, len(up) - 1600 + 1, 1600):
        rec.write(Block(i / 16000, up[i:i + 1600, 0].copy(), up[i:i + 1600, 1].copy()))
        print(f"{(i + 1600) / 16000:.1f}", flush=True)
        time.sleep(0.02)  # 5x real time: the kill lands at a random point between syncs
    print("done", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_loses_at_most_two_seconds_and_recovers(tmp_path: Path) -> None:
    src = speech_path(CALL)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    folder = tmp_path / "rec"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, str(script), str(src), str(folder)], stdout=subprocess.PIPE, text=True, env=env
    )
    reported = 0.0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            reported = float(line)
            if reported >= 6.35:  # not on a 1 s sync boundary
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert reported >= 6.35, "the recording child died before writing 6 s"

    parts = find_interrupted(folder)
    assert parts == [folder / "crash.wav.part"]
    with open(parts[0], "ab") as f:
        f.write(b"\x01\x02\x03")  # a torn last write: half a frame
    wav = recover(parts[0])
    assert wav == folder / "crash.wav" and not parts[0].exists()

    data, rate = sf.read(wav, dtype="float32", always_2d=True)
    got_s = len(data) / rate
    assert reported - 2.0 <= got_s <= reported + 1.0, (reported, got_s)
    agent, caller = load_call(30.0)
    np.testing.assert_allclose(data[:, 0], agent[: len(data)], atol=LSB)
    np.testing.assert_allclose(data[:, 1], caller[: len(data)], atol=LSB)
    assert find_interrupted(folder) == []


def test_recover_refuses_a_file_without_audio(tmp_path: Path) -> None:
    from poise.audio.types import AudioInputError

    part = tmp_path / "empty.wav.part"
    part.write_bytes(b"RIFF")
    with pytest.raises(AudioInputError, match="holds no audio"):
        recover(part)


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 192 KiB tmpfs (about 3 s of 16 kHz stereo); skips where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(mnt)], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here ({done.stderr.strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_stops_recording_and_keeps_what_was_saved(tiny_disk: Path) -> None:
    agent, caller = load_call(10.0)
    rec = CallRecorder(tiny_disk, name="full")
    written = 0
    for block in blocks_of(agent, caller):
        rec.write(block)
        written += 1
        if rec.error:
            break
    assert rec.error is not None, "the 192 KiB disk never filled up"
    assert rec.error.startswith("The disk is full: recording stopped at ")
    assert "free some space" in rec.error and str(tiny_disk / "full.wav") in rec.error
    assert "\n" not in rec.error
    assert not rec.recording
    rec.write(blocks_of(agent, caller)[0])  # ignored, no exception
    path = rec.close()
    assert path == tiny_disk / "full.wav" and not (tiny_disk / "full.wav.part").exists()
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    assert 2.0 <= len(data) / rate <= written * BLOCK / SAMPLE_RATE
    np.testing.assert_allclose(data[:, 0], agent[: len(data)], atol=LSB)


FSIZE_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    import numpy as np
    from pathlib import Path
    from poise.audio.recorder import CallRecorder
    from poise.audio.types import Block

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.RLIM_INFINITY))
    rec = CallRecorder(Path(sys.argv[1]), name="limited")
    t = np.arange(1600) / 16000
    for i in range(100):
        rec.write(Block(i * 0.1, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)))
        if rec.error:
            break
    print(rec.close())
    print(rec.error)
    """
)


def test_any_write_error_stops_recording_with_a_plain_message(tmp_path: Path) -> None:
    if not hasattr(signal, "SIGXFSZ"):
        pytest.skip("needs POSIX file-size limits")
    script = tmp_path / "child.py"
    script.write_text(FSIZE_CHILD)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    path_line, error = out.stdout.strip().splitlines()
    assert Path(path_line) == tmp_path / "limited.wav"
    assert error.startswith("Recording stopped at ") and "could not be written" in error
    assert "the first " in error and "check the recordings folder" in error
    info = sf.info(path_line)
    assert info.channels == 2 and 1.0 <= info.duration <= 100_000 / 64_000


def test_an_unwritable_folder_is_one_plain_error_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recordings folder should be")
    rec = CallRecorder(blocker / "recordings", name="call")
    assert not rec.recording
    assert rec.error is not None and rec.error.startswith(f"The call cannot be recorded in {blocker / 'recordings'}")
    assert rec.error.endswith("check that the folder exists and can be written to.")
    rec.write(Block(0.0, np.zeros(BLOCK, np.float32)))  # ignored
    rec.close()
    assert find_interrupted(tmp_path) == []


def test_device_gaps_are_the_recordings_metadata_even_after_a_kill(tmp_path: Path) -> None:
    """A gap marked while recording is in `<name>.gaps.json` at once (a killed call keeps it), its end
    replaces the open one, and a gap still open at close ends where the recording does."""
    from poise.audio.recorder import Gap, gaps_path, read_gaps

    rec = CallRecorder(tmp_path, name="call")
    for block in blocks_of(np.full(3 * SAMPLE_RATE, 0.1, np.float32), np.zeros(3 * SAMPLE_RATE, np.float32)):
        rec.write(block)
    rec.mark_gap(Gap("caller", 1.0))
    assert read_gaps(rec.part_path) == [Gap("caller", 1.0, None)]  # readable while the call runs
    rec.mark_gap(Gap("caller", 1.0, 2.5))
    rec.mark_gap(Gap("agent", 2.8))
    rec.flush()
    rec._file.close()  # the process dies here: a .part and its gaps are left
    rec._file = None
    wav = recover(tmp_path / "call.wav.part")
    assert gaps_path(wav) == tmp_path / "call.gaps.json"
    assert read_gaps(wav) == [Gap("caller", 1.0, 2.5), Gap("agent", 2.8, None)]

    rec = CallRecorder(tmp_path, name="call")  # the next call does not reuse the name (nor its gaps)
    assert rec.name == "call-2"
    for block in blocks_of(np.zeros(2 * SAMPLE_RATE, np.float32), None):
        rec.write(block)
    rec.mark_gap(Gap("agent", 0.5))
    path = rec.close()
    assert read_gaps(path) == [Gap("agent", 0.5, 2.0)]
    assert read_gaps(tmp_path / "none.wav") == []
