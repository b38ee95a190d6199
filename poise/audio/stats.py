"""Whole-call numbers from the frame tracks and the transcript (the contract's per-role and conversation objects)."""

from __future__ import annotations

import numpy as np

from .track import CallFrames, RoleTrack
from .types import FRAME_HOP_S, ConversationStats, Role, RoleStats, Segment, Timeline, Word

TURN_GAP_S = 2.0  # s: a silence this long between words ends a turn (how the 125–165 wpm norms are counted)
DEAD_AIR_MIN_S = 2.0  # s: shorter mutual silences are ordinary turn-taking gaps
CALL_WPM_MIN_WORDS = 10  # words before a side's pace is given: one word in 0.26 s read "231 wpm, fast" on a 0.3 s clip
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


def _call(frames: RoleTrack | CallFrames) -> CallFrames:
    """The whole-call record (a RoleTrack kept whole reads its arrays as they are)."""
    return frames.call_frames(from_live=False) if isinstance(frames, RoleTrack) else frames


def role_stats(track: RoleTrack | CallFrames, segments: list[Segment] | None, role: Role) -> RoleStats:
    call = _call(track)
    speech = call.speech
    talk_time = float(speech.sum() * FRAME_HOP_S)
    f0 = call.f0  # voiced frames
    db = call.db  # voiced frames: the level a listener hears
    voicing_s = talk_time - call.pause_frames * FRAME_HOP_S  # articulation rate leaves a turn's pauses out
    rate = call.nucleus.sum() / voicing_s if voicing_s > 0 else None
    words = role_words(segments, role) if segments is not None else None
    return RoleStats(
        talk_time_s=round(talk_time, 2),
        words=len(words) if words is not None else None,
        wpm=_round(words_per_minute(words)) if words and len(words) >= CALL_WPM_MIN_WORDS else None,
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


def conversation_stats(agent: RoleTrack | CallFrames, caller: RoleTrack | CallFrames | None,
                       interruptions: int) -> ConversationStats:
    agent = _call(agent)
    n = agent.n
    a = agent.speech[:n]
    if caller is None:
        return ConversationStats(None, None, None, None, None)
    c = _call(caller).speech[:n]
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


class _Lanes:
    """Window queries over a whole-call record, answered as RoleTrack answers them over its arrays."""

    def __init__(self, call: CallFrames) -> None:
        self.call = call
        self._lo_seen, self._first = 0, 0  # the last bin's end, and the voiced frames before it

    def voiced_span(self, lo: int, hi: int) -> slice:
        """Where the voiced frames of [lo, hi) sit in `f0` and `db` (bins visited in order: one count each)."""
        v = self.call.voiced
        first = self._first if lo == self._lo_seen else int(np.count_nonzero(v[:lo]))
        last = first + int(np.count_nonzero(v[lo:hi]))
        self._lo_seen, self._first = hi, last
        return slice(first, last)

    def rate_sps(self, start: int, end: int) -> tuple[float | None, float]:
        speech_s = int(np.count_nonzero(self.call.speech[max(start, 0) : end])) * FRAME_HOP_S
        if speech_s <= 0:
            return None, 0.0
        return float(self.call.nucleus[start:end].sum()) / speech_s, speech_s


def _median(values: np.ndarray) -> tuple[float | None, float]:
    if len(values) == 0:
        return None, 0.0
    return float(np.median(values)), len(values) * FRAME_HOP_S


def build_timeline(agent: RoleTrack | CallFrames, caller: RoleTrack | CallFrames | None) -> Timeline:
    a_call = _call(agent)
    c_call = _call(caller) if caller is not None else None
    a_lanes, c_lanes = _Lanes(a_call), _Lanes(c_call) if c_call is not None else None
    n = a_call.n
    duration = n * FRAME_HOP_S
    step_s = max(1.0, float(np.ceil(duration / TIMELINE_MAX_POINTS)))
    per = int(round(step_s / FRAME_HOP_S))
    steps = max(1, int(np.ceil(n / per)))
    out = Timeline(step_s=step_s, t=[], agent_speaking=[], caller_speaking=[], agent_rate_sps=[],
                   agent_pitch_hz=[], agent_db=[], caller_db=[])
    for i in range(steps):
        lo, hi = i * per, min(n, (i + 1) * per)
        out.t.append(round(lo * FRAME_HOP_S, 2))
        a = a_call.speech[lo:hi]
        out.agent_speaking.append(round(float(a.mean()), 3) if hi > lo else 0.0)
        rate, speech_s = a_lanes.rate_sps(max(0, hi - 4 * per), hi)  # smoothed over ~4 steps
        out.agent_rate_sps.append(_round(rate, 2) if speech_s >= 1.0 else None)
        voiced = a_lanes.voiced_span(lo, hi)
        f0, voiced_s = _median(a_call.f0[voiced])
        out.agent_pitch_hz.append(_round(f0) if voiced_s >= 0.2 else None)
        db, _ = _median(a_call.db[voiced])
        out.agent_db.append(_round(db))
        if c_call is not None and c_lanes is not None:
            out.caller_speaking.append(round(float(c_call.speech[lo:hi].mean()), 3) if hi > lo else 0.0)
            cdb, _ = _median(c_call.db[c_lanes.voiced_span(lo, hi)])
            out.caller_db.append(_round(cdb))
    return out
