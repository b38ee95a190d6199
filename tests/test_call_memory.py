"""A live call of any length holds the same memory (issue 9: a 3-hour call replayed, memory flat).

Session folds the frames its rules no longer read into the call's compact record (track.py) and settles
the hindsight of the call's numbers (onsets dated back, a turn's pauses bridged) as the call goes. The
old way, every frame kept and the hindsight applied at the end (`Session(keep_frames=True)`), is the
reference: the call's numbers, timeline and cues must come out identical, not merely close.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

import poise.audio.session as session_mod
from conftest import REPO, speech_path
from poise.audio.prosody import Frames
from poise.audio.session import TURN_PAUSE_MAX_FRAMES, Session
from poise.audio.coach import ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES
from poise.audio.sources import load_call
from poise.audio.stats import build_timeline, conversation_stats, role_stats
from poise.audio.track import FreedFramesError, RoleTrack
from poise.audio.types import SAMPLE_RATE, Block

SMALL_FOLD_FRAMES = 512  # frames: fold every 5 s instead of every minute, so a short call folds many times
REAL_CALL_S = 120.0  # s of the real booking call (its first two minutes: the test stays short)


def _run(agent: np.ndarray, caller: np.ndarray | None, keep: bool) -> tuple[Session, dict]:
    session = Session(has_caller=caller is not None, keep_frames=keep)
    for i in range(0, len(agent), SAMPLE_RATE):  # 1 s blocks, as a recording is replayed
        session.feed(Block(t0=i / SAMPLE_RATE, agent=agent[i : i + SAMPLE_RATE],
                           caller=None if caller is None else caller[i : i + SAMPLE_RATE]))
    return session, asdict(session.finish())


@pytest.mark.parametrize("which", ["demo", "real"])
def test_a_call_folded_as_it_goes_gives_the_numbers_timeline_and_cues_of_one_kept_whole(
    which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if which == "demo":
        call = load_call(REPO / "poise" / "assets" / "demo_call.ogg")
        agent, caller = call.agent, call.caller
    else:
        call = load_call(speech_path("call_spokenwoz_agent_left_8k_ulaw.wav"))
        n = int(REAL_CALL_S * SAMPLE_RATE)
        agent, caller = call.agent[:n], call.caller[:n] if call.caller is not None else None
    monkeypatch.setattr(session_mod, "FOLD_FRAMES", SMALL_FOLD_FRAMES)
    kept, expected = _run(agent, caller, keep=True)
    folded, got = _run(agent, caller, keep=False)
    assert got == expected  # every number, timeline point and cue
    assert expected["timeline"]["agent_pitch_hz"] and expected["conversation"]["dead_air_s"] is not None
    assert expected["cues"] or which == "real"  # the demo cues; the booking call's first two minutes have none
    track = folded.tracks["agent"]
    assert track.speech.base > track.n - session_mod.LIVE_LOOKBACK_FRAMES - 2 * SMALL_FOLD_FRAMES  # folded as it went
    with pytest.raises(FreedFramesError):
        track.speech[: track.n]  # what was folded is gone, and asking for it says so
    assert track.held_bytes() < kept.tracks["agent"].held_bytes() / 3


def _frames(start: int, n: int, rng: np.random.Generator) -> Frames:
    """Talk spurts with blips and gaps of every length, sound before onsets, pitch on most speech frames."""
    speech = np.repeat(rng.random(n // 30 + 1) < 0.45, 30)[:n] & (rng.random(n) > 0.04) | (rng.random(n) < 0.02)
    audible = speech | np.repeat(rng.random(n // 6 + 1) < 0.4, 6)[:n]
    f0 = np.where(speech & (rng.random(n) < 0.7), 80 + 200 * rng.random(n), np.nan).astype(np.float32)
    return Frames(start, (rng.standard_normal(n) * 6 - 30).astype(np.float32), speech, f0, rng.random(n) < 0.1,
                  speech & (rng.random(n) < 0.9), audible, rng.random(n) < 0.3)


def test_settling_as_frames_arrive_is_the_whole_calls_dating_and_bridging() -> None:
    """Frames arriving in blocks of any size, settled and folded at random points, against the same frames
    kept whole with the hindsight applied at the end: the same speech, nuclei, pitch and level for the
    call's numbers, and the same numbers and timeline (17 minutes: timeline steps of 2 s)."""
    rng = np.random.default_rng(4)
    roles = {"agent": (RoleTrack(), RoleTrack()), "caller": (RoleTrack(), RoleTrack())}
    pos, total = 0, 102_000
    while pos < total:
        k = int(rng.integers(1, 700))
        for live, whole in roles.values():
            block = _frames(pos, k, rng)
            live.append(block)
            whole.append(block)
            live.settle(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES, TURN_PAUSE_MAX_FRAMES)
            if rng.random() < 0.1:
                live.release(live.n - int(rng.integers(100, 3000)))
        pos += k
    for live, whole in roles.values():
        live.settle(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES, TURN_PAUSE_MAX_FRAMES, final=True)
        whole.date_onsets_back(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES)
        whole.bridge_pauses(TURN_PAUSE_MAX_FRAMES)
        assert live.speech.base > total // 2 and whole.pause_frames > 0
        a, b = live.call_frames(), whole.call_frames(from_live=False)
        for field in ("speech", "nucleus", "voiced", "f0", "db"):
            assert np.array_equal(getattr(a, field), getattr(b, field), equal_nan=True), field
        assert (a.n, a.pause_frames) == (b.n, b.pause_frames)
    (la, wa), (lc, wc) = roles["agent"], roles["caller"]
    calls = {r: t.call_frames() for r, (t, _) in roles.items()}
    assert role_stats(calls["agent"], None, "agent") == role_stats(wa, None, "agent")
    assert conversation_stats(calls["agent"], calls["caller"], 3) == conversation_stats(wa, wc, 3)
    timeline = build_timeline(calls["agent"], calls["caller"])
    assert timeline == build_timeline(wa, wc) and timeline.step_s == 2.0


def test_a_three_hour_track_holds_what_an_hour_holds_but_its_record() -> None:
    """Per role, the arrays stay at the last minutes; what grows is the folded record: 3 bits a frame and
    8 bytes a voiced frame (the timeline's per-step medians need every voiced frame's pitch and level
    until the call's length sets the step), ~1.3 MB an hour here, not 13 bytes a frame (4.7 MB an hour)."""
    rng = np.random.default_rng(2)
    block = _frames(0, 1000, rng)
    track = RoleTrack()
    held = {}
    for start in range(0, 3 * 360_000, 1000):  # 10 s blocks
        block.start_index = start
        track.append(block)
        track.settle(ONSET_BACKDATE_FRAMES, ONSET_GAP_FRAMES, TURN_PAUSE_MAX_FRAMES)
        if track.n - track.speech.base >= 4000 + 6144:
            track.release(track.n - 4000)
        if track.n % 360_000 == 0:
            held[track.n // 360_000] = (track.held_bytes(), sum(lane.array.nbytes for lane, _ in track._lanes()))
    arrays = [a for _, a in held.values()]
    assert max(arrays) < 300_000  # the held frames: the last few minutes, after 1, 2 and 3 hours alike
    voiced_share = float(np.isfinite(block.f0).mean())
    per_hour = (held[3][0] - held[1][0]) / 2
    assert per_hour == pytest.approx(360_000 * (3 / 8 + 8 * voiced_share), rel=0.02), per_hour
