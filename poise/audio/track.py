"""The frame history of one role, with the window queries the coach needs."""

from __future__ import annotations

import numpy as np

from .prosody import Frames
from .types import FRAME_HOP_S

_INITIAL_CAPACITY = 6000  # frames (1 min); grows by doubling


class RoleTrack:
    """Append-only per-frame arrays of one role, plus cumulative counts for O(log n) windows."""

    def __init__(self) -> None:
        self.n = 0
        cap = _INITIAL_CAPACITY
        self.db = np.zeros(cap, np.float32)
        self.speech = np.zeros(cap, bool)
        self.f0 = np.full(cap, np.nan, np.float32)
        self.nucleus = np.zeros(cap, bool)
        self.active = np.zeros(cap, bool)
        self.audible = np.zeros(cap, bool)
        self.voiced_sound = np.zeros(cap, bool)
        self.pause_frames = 0  # frames bridge_pauses marked as speech (pauses inside a turn)
        self._cum_speech = np.zeros(cap + 1, np.int64)  # speech frames before index i
        self._cum_voiced = np.zeros(cap + 1, np.int64)

    def _grow(self, needed: int) -> None:
        cap = len(self.db)
        if needed <= cap:
            return
        while cap < needed:
            cap *= 2
        for name, fill in (("db", 0.0), ("speech", False), ("f0", np.nan), ("nucleus", False), ("active", False), ("audible", False),
                           ("voiced_sound", False)):
            old = getattr(self, name)
            new = np.full(cap, fill, old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        for name in ("_cum_speech", "_cum_voiced"):
            old = getattr(self, name)
            new = np.zeros(cap + 1, np.int64)
            new[: self.n + 1] = old[: self.n + 1]
            setattr(self, name, new)

    def append(self, frames: Frames) -> None:
        k = len(frames)
        if k == 0:
            return
        assert frames.start_index == self.n, "frames must arrive in order"
        self._grow(self.n + k)
        s = slice(self.n, self.n + k)
        self.db[s], self.speech[s], self.f0[s], self.nucleus[s] = frames.db, frames.speech, frames.f0, frames.nucleus
        self.active[s], self.audible[s], self.voiced_sound[s] = frames.active, frames.audible, frames.voiced_sound
        self._cum_speech[self.n + 1 : self.n + k + 1] = self._cum_speech[self.n] + np.cumsum(frames.speech)
        voiced = np.isfinite(frames.f0)
        self._cum_voiced[self.n + 1 : self.n + k + 1] = self._cum_voiced[self.n] + np.cumsum(voiced)
        self.n += k

    def date_onsets_back(self, max_back: int, max_gap: int) -> int:
        """Extend every speech run back over the own-level sound just before it (up to `max_back` frames,
        dips up to `max_gap` bridged): the speech model confirms a voice 30-400 ms after it starts. For the
        whole-call numbers at the end of a call; the live rules have read these frames already. Returns
        the frames added."""
        n = self.n
        if n < 2:
            return 0
        speech, audible = self.speech[:n], self.audible[:n]
        onsets = np.flatnonzero(speech[1:] & ~speech[:-1]) + 1
        added = 0
        for k in onsets.tolist():
            first, gap, i = k, 0, k - 1
            while i >= max(0, k - max_back) and not speech[i]:
                if audible[i]:
                    first, gap = i, 0
                else:
                    gap += 1
                    if gap > max_gap:
                        break
                i -= 1
            if first < k:
                speech[first:k] = True
                added += k - first
        if added:
            self._cum_speech[1 : n + 1] = np.cumsum(speech)
        return added

    def bridge_pauses(self, max_gap: int) -> int:
        """Mark the pauses inside a turn (silences of at most `max_gap` frames between two speech runs)
        as speech, the way turn-level annotations and the floor rules count them. For the whole-call
        numbers at the end of a call; `pause_frames` keeps how many frames were pauses (articulation rate
        leaves them out). Returns the frames added."""
        n = self.n
        speech = self.speech[:n]
        if n < 3 or not speech.any():
            return 0
        changes = np.flatnonzero(np.diff(np.concatenate([[False], speech, [False]]).astype(np.int8)))
        starts, ends = changes[::2], changes[1::2]  # speech runs [start, end)
        added = 0
        for end, start in zip(ends[:-1].tolist(), starts[1:].tolist()):
            if start - end <= max_gap:
                speech[end:start] = True
                added += start - end
        if added:
            self._cum_speech[1 : n + 1] = np.cumsum(speech)
        self.pause_frames += added
        return added

    def speech_frames_between(self, start: int, end: int) -> int:
        return int(self._cum_speech[end] - self._cum_speech[max(start, 0)])

    def window_by_speech(self, end: int, speech_s: float, max_span_s: float) -> int:
        """Start index of the shortest window ending at `end` holding `speech_s` of speech,
        but reaching back no further than `max_span_s` of audio."""
        need = int(round(speech_s / FRAME_HOP_S))
        target = self._cum_speech[end] - need
        start = int(np.searchsorted(self._cum_speech[: end + 1], target, side="right")) - 1 if target > 0 else 0
        return max(start, 0, end - int(max_span_s / FRAME_HOP_S))

    def window_by_voiced(self, end: int, voiced_s: float, max_span_s: float) -> int:
        need = int(round(voiced_s / FRAME_HOP_S))
        target = self._cum_voiced[end] - need
        start = int(np.searchsorted(self._cum_voiced[: end + 1], target, side="right")) - 1 if target > 0 else 0
        return max(start, 0, end - int(max_span_s / FRAME_HOP_S))

    def rate_sps(self, start: int, end: int) -> tuple[float | None, float]:
        """Syllable nuclei per second of speech in [start, end), and the speech seconds it rests on."""
        speech_s = self.speech_frames_between(start, end) * FRAME_HOP_S
        if speech_s <= 0:
            return None, 0.0
        return float(self.nucleus[start:end].sum()) / speech_s, speech_s

    def median_db(self, start: int, end: int) -> tuple[float | None, float]:
        """Median loudness of the voiced frames (vowels: the level a listener hears, not breaths or hangover)."""
        mask = np.isfinite(self.f0[start:end])
        if not mask.any():
            return None, 0.0
        return float(np.median(self.db[start:end][mask])), mask.sum() * FRAME_HOP_S

    def median_f0(self, start: int, end: int) -> tuple[float | None, float]:
        f0 = self.f0[start:end]
        f0 = f0[np.isfinite(f0)]
        if len(f0) == 0:
            return None, 0.0
        return float(np.median(f0)), len(f0) * FRAME_HOP_S
