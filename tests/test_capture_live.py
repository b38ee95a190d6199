"""Live capture through real PortAudio: PulseAudio null sinks `agent` and `caller`, real speech
played into them with paplay, Poise capturing their monitors (poise_agent_in / poise_caller_in).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pulse
import pytest
import soundfile as sf
import soxr
from conftest import speech_path

from poise.audio.capture import LiveSource, find_device, list_input_devices, refresh_devices
from poise.audio.types import SAMPLE_RATE, AudioInputError, Block, Status

pytestmark = pytest.mark.live

AGENT_CLIP = "ps_librivox_sense_and_sensibility_01_austen_64kb-0870.wav"  # male reader, 7.1 s
CALLER_CLIP = "sb_ljspeech_LJ050-0131.wav"  # female reader, 7.7 s
AGENT_READINGS = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-{n:04d}.wav" for n in (870, 880, 890, 920, 930)]
CALLER_READINGS = ["sb_ljspeech_LJ050-0131.wav", "fw_jfk.flac", "sr_english.wav", "ps_goforward.wav"]
BLOCK_S = 0.1


@pytest.fixture(scope="session")
def harness() -> Iterator[pulse.PulseHarness]:
    """A private PulseAudio with the null sinks and ALSA PCMs; skips the live tests when it cannot run."""
    try:
        env = pulse.setup()
    except (pulse.PulseUnavailable, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"PulseAudio is unavailable, live capture tests skipped: {exc}")
    import sounddevice as sd

    if not any(d["name"] == pulse.AGENT_PCM for d in sd.query_devices()):
        # PortAudio was initialised before ~/.asoundrc had our PCMs: make it list devices again.
        refresh_devices()
    yield env
    pulse.teardown()


@pytest.fixture
def sinks(harness: pulse.PulseHarness) -> Iterator[pulse.PulseHarness]:
    """Both sinks present before and after the test (a test may unplug one)."""
    pulse.create_sink("agent")
    pulse.create_sink("caller")
    yield harness
    pulse.create_sink("agent")
    pulse.create_sink("caller")


@pytest.fixture(scope="session")
def long_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """~30 s of continuous reading per role (real clips joined), for tests that outlast one clip."""
    folder = tmp_path_factory.mktemp("long_clips")
    out = {}
    for role, names in (("agent", AGENT_READINGS), ("caller", CALLER_READINGS)):
        path = folder / f"{role}.wav"
        sf.write(path, np.concatenate([reference(n) for n in names]), SAMPLE_RATE)
        out[role] = path
    return out


def reference(name: str) -> np.ndarray:
    """A speech clip as mono float32 at 16 kHz."""
    data, rate = sf.read(speech_path(name), dtype="float32", always_2d=True)
    return soxr.resample(data.mean(axis=1), rate, SAMPLE_RATE).astype(np.float32)


def similarity(captured: np.ndarray, clip: np.ndarray) -> float:
    """Pearson correlation of `captured` with `clip` at the best lag (clip starting inside captured)."""
    n = len(captured) + len(clip)
    nfft = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(captured, nfft) * np.conj(np.fft.rfft(clip, nfft)), nfft)[: len(captured)]
    lag = int(np.argmax(np.abs(xc)))
    overlap = min(len(captured) - lag, len(clip))
    a, b = captured[lag : lag + overlap], clip[:overlap]
    if overlap < SAMPLE_RATE or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(abs(np.corrcoef(a, b)[0, 1]))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


@contextmanager
def watchdog(source: LiveSource, seconds: float) -> Iterator[None]:
    """Stop the source if a test overruns, so a bug ends the iteration instead of hanging."""
    timer = threading.Timer(seconds, source.stop)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run(source: LiveSource, until: Callable[[list[Block], float], bool], max_s: float) -> list[Block]:
    """Iterate `source` until `until(blocks, wall_seconds)` or `max_s` of wall time."""
    blocks: list[Block] = []
    start = time.monotonic()
    with watchdog(source, max_s + 5):
        for block in source:
            blocks.append(block)
            elapsed = time.monotonic() - start
            if until(blocks, elapsed) or elapsed > max_s:
                source.stop()
    return blocks


def assert_continuous(blocks: list[Block], caller: bool = True) -> None:
    n = round(BLOCK_S * SAMPLE_RATE)
    for i, block in enumerate(blocks):
        assert block.t0 == pytest.approx(i * BLOCK_S), f"block {i} starts at {block.t0}"
        assert len(block.agent) == n and block.agent.dtype == np.float32
        if caller:
            assert block.caller is not None and len(block.caller) == n
        else:
            assert block.caller is None


def test_the_harness_devices_are_listed_and_found(sinks: pulse.PulseHarness) -> None:
    devices = {d.name: d for d in list_input_devices()}
    assert pulse.AGENT_PCM in devices and pulse.CALLER_PCM in devices, sorted(devices)
    agent = devices[pulse.AGENT_PCM]
    assert agent.is_monitor and devices[pulse.CALLER_PCM].is_monitor
    assert agent.hostapi == "ALSA" and agent.channels >= 1 and agent.default_samplerate > 0
    assert sum(d.is_default for d in devices.values()) <= 1

    assert find_device(pulse.AGENT_PCM) == agent
    assert find_device("AGENT_in") == agent  # unique case-insensitive substring
    assert find_device(agent.index) == agent
    assert find_device(str(agent.index)) == agent
    with pytest.raises(AudioInputError, match="matches several audio inputs") as many:
        find_device("poise_")
    assert pulse.AGENT_PCM in str(many.value) and pulse.CALLER_PCM in str(many.value)
    with pytest.raises(AudioInputError, match="No audio input matches 'no-such-mic'"):
        find_device("no-such-mic")
    with pytest.raises(AudioInputError, match="no audio input number 9999"):
        find_device(9999)


CANNOT_OPEN_CHILD = """
import sys
sys.path.insert(0, {tests!r})
import pulse
from poise.audio.capture import LiveSource
from poise.audio.types import AudioInputError

pulse.remove_sink("caller")  # the ALSA PCM is still listed, but its PulseAudio source is gone
try:
    source = LiveSource(pulse.AGENT_PCM, pulse.CALLER_PCM, block_s=0.1)
    next(iter(source))
    print("no error")
except AudioInputError as exc:
    print(exc)
    print(len(source.status_events()), "statuses")
finally:
    pulse.create_sink("caller")
"""


def run_child(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python (PortAudio may be left with a stream stuck in its start,
    which would abort any later test that re-initialises PortAudio in this process)."""
    import os
    import sys

    script = tmp_path / "child.py"
    script.write_text(code.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ, PYTHONPATH=str(pulse.REPO))
    out = subprocess.run(
        [sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]  # and no abort at exit
    return out


def test_a_device_that_cannot_be_opened_is_one_plain_error(sinks: pulse.PulseHarness, tmp_path: Path) -> None:
    lines = run_child(CANNOT_OPEN_CHILD, tmp_path).stdout.splitlines()
    assert lines == [
        f"Could not open the caller's audio input '{pulse.CALLER_PCM}'; "
        "check that it is plugged in and not used exclusively by another program.",
        "0 statuses",
    ]


HUNG_START_CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
import sounddevice as sd
import pulse
from poise.audio import capture

stream = sd.InputStream(device=pulse.CALLER_PCM, channels=1, callback=lambda *a: None, latency="high")
pulse.remove_sink("caller")  # the device vanishes between opening and starting
t = time.monotonic()
try:
    capture._start_guarded(stream)
    print("started", flush=True)
except capture._StartHung:
    print(f"gave up after {{time.monotonic() - t:.1f}} s", flush=True)
finally:
    pulse.create_sink("caller")
# A normal exit: PortAudio's exit handler must not trip over the stuck stream.
"""


def test_a_start_that_never_returns_does_not_freeze_the_pipeline(sinks: pulse.PulseHarness, tmp_path: Path) -> None:
    """PortAudio's ALSA start blocks for good when the device vanishes right after opening it."""
    out = run_child(HUNG_START_CHILD, tmp_path)
    # Either PortAudio hung and the guard gave up in time, or (a luckier PortAudio) the
    # start returned; both keep the pipeline going.
    assert out.stdout.startswith(("gave up after 3.", "started")), out.stdout


def test_each_played_clip_arrives_in_its_own_role(sinks: pulse.PulseHarness) -> None:
    agent_ref, caller_ref = reference(AGENT_CLIP), reference(CALLER_CLIP)
    source = LiveSource(pulse.AGENT_PCM, pulse.CALLER_PCM, block_s=BLOCK_S)
    assert source.info.channels == 2 and source.info.path == f"{pulse.AGENT_PCM}, {pulse.CALLER_PCM}"
    players: list = []

    def until(blocks: list[Block], elapsed: float) -> bool:
        if not players and blocks[-1].t0 >= 0.3:
            players.append(pulse.play(speech_path(AGENT_CLIP), "agent"))
            players.append(pulse.play(speech_path(CALLER_CLIP), "caller"))
        return blocks[-1].t0 >= 5.0

    try:
        blocks = run(source, until, max_s=12)
    finally:
        for p in players:
            pulse.stop(p)
    assert blocks and blocks[-1].t0 >= 5.0, "capture stopped early"
    assert_continuous(blocks)
    agent = np.concatenate([b.agent for b in blocks])
    caller = np.concatenate([b.caller for b in blocks])

    assert rms(agent) > 0.01 and rms(caller) > 0.01, (rms(agent), rms(caller))
    own_a, cross_a = similarity(agent, agent_ref), similarity(agent, caller_ref)
    own_c, cross_c = similarity(caller, caller_ref), similarity(caller, agent_ref)
    assert own_a > 0.8 and own_c > 0.8, (own_a, own_c)
    assert cross_a < 0.2 and cross_c < 0.2, (cross_a, cross_c)
    assert source.overflows == {"agent": 0, "caller": 0} or sum(source.overflows.values()) < 5
    assert source.status_events() == []


def test_capture_before_playback_is_near_silent(sinks: pulse.PulseHarness) -> None:
    """Nothing plays: both roles stay at the null sinks' digital silence, audio time still advances."""
    source = LiveSource(pulse.AGENT_PCM, pulse.CALLER_PCM, block_s=BLOCK_S)
    blocks = run(source, lambda b, _: b[-1].t0 >= 1.5, max_s=8)
    assert_continuous(blocks)
    assert max(float(np.abs(b.agent).max()) for b in blocks) < 1e-3
    assert max(float(np.abs(b.caller).max()) for b in blocks) < 1e-3


def test_a_lost_caller_device_keeps_the_call_going_and_reconnects(
    sinks: pulse.PulseHarness, long_clips: dict[str, Path]
) -> None:
    if sinks.rescue_streams != "no":
        pytest.skip(
            "the running PulseAudio moves streams to another source when theirs disappears, so a lost "
            "device cannot be seen; stop it and let scripts/pulse_null_sinks.sh start its own"
        )
    statuses: list[Status] = []
    source = LiveSource(pulse.AGENT_PCM, pulse.CALLER_PCM, block_s=BLOCK_S, on_status=statuses.append)
    agent_player = pulse.play(long_clips["agent"], "agent")
    caller_player = pulse.play(long_clips["caller"], "caller")
    marks: dict[str, float] = {}  # audio time of each step

    def until(blocks: list[Block], elapsed: float) -> bool:
        nonlocal caller_player
        t = blocks[-1].t0
        # Unplug only once the caller's speech is arriving (an idle null sink may hold
        # the first samples back for up to 2 s).
        if "speaking" not in marks and rms(blocks[-1].caller) > 0.003:
            marks["speaking"] = t
        if "speaking" in marks and "unplugged" not in marks and t >= marks["speaking"] + 1.0:
            pulse.remove_sink("caller")
            marks["unplugged"] = t
        if "unplugged" in marks and "replugged" not in marks and t >= marks["unplugged"] + 3.0:
            pulse.create_sink("caller")
            pulse.stop(caller_player)
            caller_player = pulse.play(long_clips["caller"], "caller")
            marks["replugged"] = t
        if "back" not in marks and any(s.level == "info" for s in statuses):
            marks["back"] = t
        return "back" in marks and t >= marks["back"] + 2.0

    try:
        blocks = run(source, until, max_s=18)
    finally:
        pulse.stop(agent_player)
        pulse.stop(caller_player)
        pulse.create_sink("caller")

    assert_continuous(blocks)
    assert len(statuses) == 2, (marks, statuses)
    lost, back = statuses
    assert lost.level == "warning" and pulse.CALLER_PCM in lost.message
    assert "stopped delivering audio" in lost.message and "reconnect" in lost.message
    assert back.level == "info" and back.message == "Caller audio reconnected."
    assert marks["unplugged"] <= lost.t <= marks["unplugged"] + 1.5
    assert back.t >= marks["replugged"]
    assert source.status_events() == statuses  # the same messages, for callers that poll

    def window(role: str, t0: float, t1: float) -> np.ndarray:
        return np.concatenate([getattr(b, role) for b in blocks if t0 <= b.t0 < t1])

    # While the caller is gone its role is silence, and the agent's speech carries on.
    gone = (lost.t + 0.2, marks["replugged"])
    assert np.abs(window("caller", *gone)).max() == 0
    assert rms(window("agent", *gone)) > 0.01
    # Before and after, the caller's speech is there.
    assert rms(window("caller", marks["speaking"], marks["unplugged"])) > 0.01
    assert rms(window("caller", back.t + 0.5, back.t + 2.0)) > 0.01


def test_a_lone_microphone_lost_keeps_audio_time_moving(sinks: pulse.PulseHarness, long_clips: dict[str, Path]) -> None:
    """Agent only, and it vanishes: silence timed by the wall clock, then it comes back."""
    if sinks.rescue_streams != "no":
        pytest.skip("the running PulseAudio moves streams instead of dropping them (rescue-streams)")
    events: list[Status] = []
    source = LiveSource(pulse.AGENT_PCM, block_s=BLOCK_S, on_status=events.append)
    assert source.info.channels == 1
    player = pulse.play(long_clips["agent"], "agent")
    marks: dict[str, float] = {}
    wall: list[float] = []

    def until(blocks: list[Block], elapsed: float) -> bool:
        wall.append(elapsed)
        t = blocks[-1].t0
        if "speaking" not in marks and rms(blocks[-1].agent) > 0.003:
            marks["speaking"] = t
        if "speaking" in marks and "unplugged" not in marks:
            pulse.remove_sink("agent")
            marks["unplugged"] = t
        if "unplugged" in marks and "replugged" not in marks and t >= marks["unplugged"] + 2.5:
            pulse.create_sink("agent")
            marks["replugged"] = t
        if "back" not in marks and any(s.level == "info" for s in events):
            marks["back"] = t
        return "back" in marks and t >= marks["back"] + 0.5

    try:
        blocks = run(source, until, max_s=15)
    finally:
        pulse.stop(player)
        pulse.create_sink("agent")
    assert_continuous(blocks, caller=False)
    assert [s.level for s in events] == ["warning", "info"], (marks, events)
    assert events[0].message.startswith("The microphone 'poise_agent_in' stopped delivering audio")
    assert events[1].message == "Microphone reconnected."
    outage = [b for b in blocks if events[0].t + 0.2 <= b.t0 < marks["replugged"]]
    assert len(outage) >= 15 and all(np.abs(b.agent).max() == 0 for b in outage)
    # Audio time followed the wall clock through the outage (within a second).
    assert abs(blocks[-1].t0 - wall[-1]) < 1.0, (blocks[-1].t0, wall[-1])
