"""Faults a whole shift meets, each injected for real: a live call SIGKILLed mid-call (the next
start recovers its recording up to at most 2 s before the kill and the call reaches history,
redacted), and two Poise processes on one data folder (the second is told plainly).

The killed call is a real `LiveCall` in a child process, fed by the real booking call at 4x
real time in place of the devices (the recorder, the session and the pipeline are the app's).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import soundfile as sf

from conftest import REPO, speech_path
from test_trust import assert_clean, run_poise

REAL_CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
KILL_AT_S = 12.3  # s of call audio processed when the child is killed (not on a flush boundary)
MAX_LOSS_S = 2.0  # s: the allowance for a killed call
CHILD_TIMEOUT_S = 120.0

LIVE_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from poise.app.calls import LiveCall, InstanceLock
    from poise.app.spec import CallKind, CallSpec
    from poise.audio.sources import FileSource, load_call
    from poise.audio.types import Meters

    call_path, record_dir = sys.argv[1], Path(sys.argv[2])
    from poise.app.calls import claim_data_folder
    assert claim_data_folder() is None
    spec = CallSpec(kind=CallKind.LIVE, caller_device="caller", keep_audio=True, record_dir=record_dir, transcribe=False)
    def on_event(event):
        if isinstance(event, Meters):
            print(f"{event.t:.2f}", flush=True)
    call = LiveCall(spec, on_event=on_event, source_factory=lambda s: FileSource(load_call(call_path), realtime=True, speed=4.0))
    assert call.prepare()
    call.start()
    call.wait()
    """
)


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONWARNINGS")}
    env.update(PYTHONPATH=str(REPO), POISE_DATA_DIR=str(data))
    return env


def _run_live_call_and_kill(call: Path, rec: Path, data: Path, at_s: float) -> float:
    """Start a live call in a child, SIGKILL it once `at_s` s of audio went through; the last time it reported."""
    child = subprocess.Popen(
        [sys.executable, "-c", LIVE_CHILD, str(call), str(rec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=_env(data),
    )
    reported = 0.0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            reported = float(line)
            if reported >= at_s:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert reported >= at_s, f"the live call ended before {at_s} s: {child.stderr.read() if child.stderr else ''}"
    return reported


@pytest.mark.slow
def test_sigkilled_live_call_is_recovered_into_history_at_next_start(tmp_path: Path, monkeypatch) -> None:
    """SIGKILL mid-call, then the next start (the app layer both doors use): the recording up to
    at most 2 s before the kill is a valid WAV and the call is in history as a live call, with a
    redacted transcript."""
    from poise.app.calls import recover_interrupted
    from poise.app.history import History
    from poise.app.spec import CallKind, CallSpec
    from poise.audio.recorder import find_interrupted

    call = speech_path(REAL_CALL)
    rec, data = tmp_path / "rec", tmp_path / "data"
    monkeypatch.setenv("POISE_DATA_DIR", str(data))
    reported = _run_live_call_and_kill(call, rec, data, KILL_AT_S)
    parts = find_interrupted(rec)
    assert len(parts) == 1, list(rec.iterdir())

    done = recover_interrupted(CallSpec(kind=CallKind.LIVE, transcribe=True), rec, history=History(data / "history.sqlite"))
    assert len(done) == 1 and done[0].call_id is not None, done
    assert "added it to history" in done[0].message
    wav = done[0].recording
    assert wav is not None and wav.suffix == ".wav" and not parts[0].exists()
    got_s = sf.info(str(wav)).duration
    assert reported - MAX_LOSS_S <= got_s <= reported + 1.0, (reported, got_s)
    with sqlite3.connect(data / "history.sqlite") as db:
        kind, recording, duration = db.execute("SELECT kind, recording, duration_s FROM calls").fetchone()
        texts = [r[0] for r in db.execute("SELECT text FROM segments")]
    assert (kind, recording) == ("live", str(wav.absolute()))
    assert duration == pytest.approx(got_s, abs=0.1)
    assert texts, "the recovered call was transcribed through the review path"
    assert recover_interrupted(CallSpec(kind=CallKind.LIVE), rec, history=History(data / "history.sqlite")) == []


HOLDER = textwrap.dedent(
    """
    import sys, time
    from poise.app.calls import InstanceLock
    lock = InstanceLock()
    print(lock.acquire() or "held", flush=True)
    time.sleep(120)
    """
)


def test_a_second_poise_on_one_data_folder_is_told_plainly(tmp_path: Path, spoken_wav: Path) -> None:
    """One Poise holds the data folder; a second `coach --headless` exits 1 with one sentence naming the
    first's process, before opening any device or touching history; once the first is killed, the lock is free."""
    from poise.app.calls import InstanceLock

    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, env=_env(data))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        proc = run_poise("coach", "--headless", "--no-transcript", "--duration", "1", "--events", tmp_path / "e.jsonl",
                         cwd=tmp_path, POISE_DATA_DIR=str(data))
        assert_clean(proc)
        assert proc.returncode == 1, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "already running" in lines[0] and str(holder.pid) in lines[0], lines
        assert not (data / "history.sqlite").exists()
        assert InstanceLock(data).acquire() is not None  # in this process too
        # analysing a file beside a running Poise is fine (SQLite's WAL keeps both safe)
        proc = run_poise("analyze", spoken_wav, "--no-transcript", "--save", "--quiet", cwd=tmp_path, POISE_DATA_DIR=str(data))
        assert proc.returncode == 0, proc.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    lock = InstanceLock(data)
    assert lock.acquire() is None and lock.held  # a killed Poise never blocks the next
    assert oct((data / "poise.lock").stat().st_mode & 0o777) == "0o600"
    lock.release()


GAP_PLAY_S = 20.0  # s of the real call played into the sinks
UNPLUG_AFTER_S = 5.0  # s of playback before the caller's device goes
UNPLUGGED_S = 4.0  # s it stays away
GAP_SLACK_S = 4.5  # s: a lost device is retried every 2 s (REOPEN_EVERY_S) and a new stream may take 2 s to deliver


@pytest.mark.live
def test_a_device_lost_and_back_is_a_gap_in_events_recording_and_metadata(tmp_path: Path) -> None:
    """`poise coach --headless` through PulseAudio null sinks; the caller's sink is removed for 4 s
    mid-call and comes back: the call goes on, and the gap is in the events file, the recording's
    metadata (`.gaps.json`) and the recording itself (silence on that side)."""
    import time

    import pulse
    from poise.audio.recorder import read_gaps
    from test_trust_live import _call_sides, _clean, _coach

    try:
        harness = pulse.setup()
    except (pulse.PulseUnavailable, OSError) as exc:
        pytest.skip(f"PulseAudio is unavailable: {exc}")
    if harness.rescue_streams != "no":
        pytest.skip("the running PulseAudio moves streams instead of dropping them (rescue-streams)")
    agent_wav, caller_wav = _call_sides(tmp_path, GAP_PLAY_S)
    data, rec, events = tmp_path / "data", tmp_path / "rec", tmp_path / "events.jsonl"
    coach = _coach("--record-dir", rec, "--no-transcript", "--events", events, data=data)
    players: list = []
    try:
        deadline = time.monotonic() + 30.0
        while not list(rec.glob("*.wav.part")) and time.monotonic() < deadline and coach.poll() is None:
            time.sleep(0.2)
        assert coach.poll() is None, coach.communicate()[1]
        players = [pulse.play(agent_wav, "agent"), pulse.play(caller_wav, "caller")]
        time.sleep(UNPLUG_AFTER_S)
        pulse.remove_sink("caller")
        time.sleep(UNPLUGGED_S)
        pulse.create_sink("caller")
        pulse.stop(players[1])
        players[1] = pulse.play(caller_wav, "caller")
        time.sleep(GAP_PLAY_S - UNPLUG_AFTER_S - UNPLUGGED_S)
        assert coach.poll() is None, "the call ended when the device went: " + coach.communicate()[1]
    finally:
        for p in players:
            pulse.stop(p)
        pulse.create_sink("caller")
        coach.send_signal(signal.SIGINT)
        _out, err = coach.communicate(timeout=90)
    _clean(err)
    assert coach.returncode == 0, err
    lines = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    gaps = [g for g in lines if g.get("type") == "gap"]
    assert [g["role"] for g in gaps] == ["caller", "caller"], gaps  # opened, then closed
    opened, closed = gaps
    assert opened["end"] is None and closed["start"] == opened["start"] and closed["end"] is not None
    assert UNPLUGGED_S - 1.0 <= closed["end"] - closed["start"] <= UNPLUGGED_S + GAP_SLACK_S, closed
    wav = next(rec.glob("*.wav"))
    marked = read_gaps(wav)
    assert len(marked) == 1 and marked[0].role == "caller", marked
    assert marked[0].start_s == pytest.approx(closed["start"], abs=0.01) and marked[0].end_s == pytest.approx(closed["end"], abs=0.01)
    audio, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    inside = audio[int((marked[0].start_s + 0.1) * rate): int((marked[0].end_s - 0.1) * rate), 1]
    assert len(inside) > rate and float(abs(inside).max()) == 0.0  # the caller's side is silence in the gap
    assert float(abs(audio[int((marked[0].start_s + 0.1) * rate): int((marked[0].end_s - 0.1) * rate), 0]).max()) > 0.01
    with sqlite3.connect(data / "history.sqlite") as db:
        (recording, summary) = db.execute("SELECT recording, summary FROM calls").fetchone()
    assert read_gaps(Path(recording)) == marked  # the history row's recording carries its gaps
    saved = json.loads(summary)["gaps"]  # and so does the saved call itself
    assert [g["role"] for g in saved] == ["caller"], saved
    assert saved[0]["start"] == pytest.approx(marked[0].start_s, abs=0.01) and saved[0]["end"] == pytest.approx(marked[0].end_s, abs=0.01)
    # analysing the recording again finds them too (the .gaps.json beside it)
    proc = run_poise("analyze", wav, "--no-transcript", "--quiet", "--json", tmp_path / "again.json", cwd=tmp_path,
                     POISE_DATA_DIR=str(data))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["gaps"] == saved
