"""The review's player: a real sounddevice OutputStream on the PulseAudio null sink, its position
read off the stream's clock (skipped cleanly where there is no PulseAudio)."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pulse
import pytest

from poise.audio.player import OUTPUT_LOST, CallPlayer, Listen, wait_until
from poise.audio.types import SAMPLE_RATE

pytestmark = pytest.mark.live

CALL_S = 30.0
STARTUP_S = 8.0  # s: an idle null sink renders in blocks of up to 2 s (longer on a busy machine) before the first samples play
WARM_UP_S = 2.0  # s: while the output buffer fills (its reported delay grows to ~0.1 s) the clock runs ~7 % slow


@pytest.fixture(scope="module")
def output() -> None:
    """The private PulseAudio whose default sink is a null sink; skips without PulseAudio."""
    try:
        pulse.setup()
    except (pulse.PulseUnavailable, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"PulseAudio is unavailable, playback tests skipped: {exc}")
    from poise.audio.capture import refresh_devices

    refresh_devices()  # PortAudio may have been initialised before PULSE_SERVER was set


def _call() -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(CALL_S * SAMPLE_RATE)) / SAMPLE_RATE
    agent = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    caller = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    return agent, caller


def _moving(player: CallPlayer, past: float) -> bool:
    return wait_until(lambda: player.position_s() > past, STARTUP_S)


def test_position_follows_the_stream_clock(output):
    player = CallPlayer(*_call())
    try:
        assert player.play(from_s=5.0) is None, player.error
        assert _moving(player, 5.2)
        time.sleep(WARM_UP_S)
        walls, positions, handed = [], [], []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            walls.append(time.monotonic())
            positions.append(player.position_s())
            handed.append(player._frame / SAMPLE_RATE)
            time.sleep(0.02)
        slope = np.polyfit(walls, positions, 1)[0]
        # a second of wall time is a second of call time (10 %: the machine is shared), never backwards,
        # and behind what was handed to the device by its buffer: the speaker's time, not the callback's
        assert 0.9 < slope < 1.1, slope
        assert min(h - p for h, p in zip(handed, positions)) > 0.01
        assert all(b >= a for a, b in zip(positions, positions[1:]))
        assert player.playing
    finally:
        player.close()


def test_seek_pause_and_resume_keep_the_position(output):
    player = CallPlayer(*_call())
    try:
        assert player.play() is None
        assert _moving(player, 0.2)
        player.seek(20.0)  # while playing: the position jumps, then runs on from there
        assert 20.0 <= player.position_s() < 20.2
        assert _moving(player, 20.3)
        player.pause()
        held = player.position_s()
        assert 20.3 <= held < 20.3 + STARTUP_S
        time.sleep(0.3)
        assert player.position_s() == held and not player.playing
        player.seek(2.0)  # while paused: playing will start there
        assert player.position_s() == 2.0
        player.set_listen(Listen.CALLER)
        assert player.play() is None
        assert _moving(player, 2.2)
        assert player.listen is Listen.CALLER
    finally:
        player.close()


def test_the_end_of_the_call_stops_and_play_starts_again_from_the_top(output):
    # Play comes right after the last block, while the ended stream still drains: its finished
    # callback ran inside play()'s abort and took the old end for a lost output (1 run in 20 stopped)
    player = CallPlayer(*_call())
    try:
        assert player.play(from_s=CALL_S - 0.5) is None
        assert wait_until(lambda: not player.playing, STARTUP_S + 1.0, poll_s=0.001)
        assert player.position_s() == pytest.approx(CALL_S, abs=0.05)
        assert player.play() is None  # at the end, Play means from the start
        assert player.position_s() < 0.1
        assert _moving(player, 0.1)
        assert player.playing and player.error is None
    finally:
        player.close()


def test_the_output_going_away_stops_playing_and_says_so(output):
    # the PulseAudio daemon itself goes: the stream dies under the player (last in this file: it restarts the daemon)
    player = CallPlayer(*_call())
    try:
        assert player.play(from_s=1.0) is None
        assert _moving(player, 1.2)
        pulse.teardown()
        assert wait_until(lambda: not player.playing, 5.0)
        assert player.error == OUTPUT_LOST
        assert 1.2 < player.position_s() < 1.2 + STARTUP_S
    finally:
        player.close()
        pulse.setup()
        from poise.audio.capture import refresh_devices

        refresh_devices()


def test_the_listen_choice_picks_the_samples():
    agent, caller = _call()
    player = CallPlayer(agent, caller)
    player.set_listen("agent")
    assert np.array_equal(player._samples(0, 100), agent[:100])
    player.set_listen("caller")
    assert np.array_equal(player._samples(0, 100), caller[:100])
    player.set_listen("both")
    assert np.allclose(player._samples(0, 100), agent[:100] + caller[:100])
    mono = CallPlayer(agent, None)
    mono.set_listen("caller")  # a mono call has no caller: both (= the agent) it is
    assert mono.listen is Listen.BOTH and not mono.has_caller


def test_no_such_output_device_is_one_sentence():
    player = CallPlayer(*_call(), device="no such speaker 4711")
    error = player.play()
    assert error and "no such speaker 4711" in error and "\n" not in error
    assert not player.playing and player.position_s() == 0.0
