"""Whole-call numbers from the frame tracks and the transcript (the contract's per-role and conversation objects)."""

from __future__ import annotations

import numpy as np

from .track import RoleTrack
from .types import FRAME_HOP_S, ConversationStats, Role, RoleStats, Segment, Timeline, Word

TURN_GAP_S = 2.0  # s: a silence this long between words ends a turn (how the 125–165 wpm norms are counted)
DEAD_AIR_MIN_S = 2.0  # s: shorter mutual silences are ordinary turn-taking gaps
TIMELINE_MAX_POINTS = 900  # steps per series: fine enough for a plot, small enough for a report


def role_words(segments: list[Segment], role: Role) -> list[Word]:
    words = [w for s in segments if s.role == role for w in s.words]
    words.sort(key=lambda w: w.start)
    return words


def turns_from_words(words: list[Word], gap_s: float = TURN_GAP_S) -> list[tuple[float, float, int]]:
    """(start, end, word count) of each turn: first word to last, split at silences ≥ gap_s."""
    turns: list[tuple[float, float, int]] = []
    for w in words:
        if turns and w.start - turns[-1][1] < gap_s:
            start, end, count = turns[-1]
            turns[-1] = (start, max(end, w.end), count + 1)
        else:
            turns.append((w.start, w.end, 1))
    return turns


def words_per_minute(words: list[Word]) -> float | None:
    turns = turns_from_words(words)
    span = sum(end - start for start, end, _ in turns)
    if not words or span <= 0:
        return None
    return len(words) / span * 60.0


def _round(value: float | None, digits: int = 1) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def role_stats(track: RoleTrack, segments: list[Segment] | None, role: Role) -> RoleStats:
    n = track.n
    speech = track.speech[:n]
    talk_time = float(speech.sum() * FRAME_HOP_S)
    f0 = track.f0[:n]
    f0 = f0[np.isfinite(f0)]
    db = track.db[:n][np.isfinite(track.f0[:n])]  # voiced frames: the level a listener hears
    voicing_s = talk_time - track.pause_frames * FRAME_HOP_S  # articulation rate leaves a turn's pauses out
    rate = track.nucleus[:n].sum() / voicing_s if voicing_s > 0 else None
    words = role_words(segments, role) if segments is not None else None
    return RoleStats(
        talk_time_s=round(talk_time, 2),
        words=len(words) if words is not None else None,
        wpm=_round(words_per_minute(words)) if words else None,
        articulation_rate_sps=_round(rate, 2),
        pitch_median_hz=_round(np.median(f0)) if len(f0) else None,
        pitch_p10_hz=_round(np.percentile(f0, 10)) if len(f0) else None,
        pitch_p90_hz=_round(np.percentile(f0, 90)) if len(f0) else None,
        volume_median_dbfs=_round(np.median(db)) if len(db) else None,
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs in a boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def conversation_stats(agent: RoleTrack, caller: RoleTrack | None, interruptions: int) -> ConversationStats:
    n = agent.n
    a = agent.speech[:n]
    if caller is None:
        return ConversationStats(None, None, None, None, None)
    c = caller.speech[:n]
    a_time, c_time = a.sum() * FRAME_HOP_S, c.sum() * FRAME_HOP_S
    share = a_time / (a_time + c_time) if a_time + c_time > 0 else None
    anyone = a | c
    dead = 0.0
    active = np.flatnonzero(anyone)
    if len(active):
        inner = ~anyone[active[0] : active[-1] + 1]
        dead = sum((e - s) * FRAME_HOP_S for s, e in _runs(inner) if (e - s) * FRAME_HOP_S >= DEAD_AIR_MIN_S)
    # a monologue runs from the agent's first word after a real caller turn until the next one
    caller_turns = [(s, e) for s, e in _runs(c) if (e - s) * FRAME_HOP_S >= 1.0]
    longest = 0.0
    boundaries = [0] + [e for _, e in caller_turns]
    ends = [s for s, _ in caller_turns] + [n]
    for lo, hi in zip(boundaries, ends):
        spoken = np.flatnonzero(a[lo:hi])
        if len(spoken):
            longest = max(longest, (spoken[-1] - spoken[0] + 1) * FRAME_HOP_S)
    return ConversationStats(
        agent_talk_share=_round(share, 3),
        agent_interruptions=interruptions,
        longest_agent_monologue_s=_round(longest),
        dead_air_s=_round(dead),
        overlap_s=_round((a & c).sum() * FRAME_HOP_S),
    )


def build_timeline(agent: RoleTrack, caller: RoleTrack | None) -> Timeline:
    n = agent.n
    duration = n * FRAME_HOP_S
    step_s = max(1.0, float(np.ceil(duration / TIMELINE_MAX_POINTS)))
    per = int(round(step_s / FRAME_HOP_S))
    steps = max(1, int(np.ceil(n / per)))
    out = Timeline(step_s=step_s, t=[], agent_speaking=[], caller_speaking=[], agent_rate_sps=[],
                   agent_pitch_hz=[], agent_db=[], caller_db=[])
    for i in range(steps):
        lo, hi = i * per, min(n, (i + 1) * per)
        out.t.append(round(lo * FRAME_HOP_S, 2))
        a = agent.speech[lo:hi]
        out.agent_speaking.append(round(float(a.mean()), 3) if hi > lo else 0.0)
        rate, speech_s = agent.rate_sps(max(0, hi - 4 * per), hi)  # smoothed over ~4 steps
        out.agent_rate_sps.append(_round(rate, 2) if speech_s >= 1.0 else None)
        f0, voiced_s = agent.median_f0(lo, hi)
        out.agent_pitch_hz.append(_round(f0) if voiced_s >= 0.2 else None)
        db, _ = agent.median_db(lo, hi)
        out.agent_db.append(_round(db))
        if caller is not None:
            out.caller_speaking.append(round(float(caller.speech[lo:hi].mean()), 3) if hi > lo else 0.0)
            cdb, _ = caller.median_db(lo, hi)
            out.caller_db.append(_round(cdb))
    return out
