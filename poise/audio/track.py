"""The frame history of one role, with the window queries the coach needs."""

from __future__ import annotations

import numpy as np

from .prosody import Frames
from .types import FRAME_HOP_S

_INITIAL_CAPACITY = 6000  # frames (1 min)
_GROW_MIN_FRAMES = 30_000  # frames (5 min): the arrays grow by this much or by an eighth, whichever is more, so a
#   long call never holds more than ~12% of empty room (doubling held up to 2x: +28 MB/h on a 3-hour replay)
_BLOCK = 256  # frames: the speech and voiced counts are kept at every 256th frame (8 bytes per 2.56 s, not 16 per frame)
_FIELDS = (("db", np.float32, 0.0), ("speech", np.bool_, False), ("f0", np.float32, np.nan), ("nucleus", np.bool_, False),
           ("active", np.bool_, False), ("audible", np.bool_, False), ("voiced_sound", np.bool_, False))


class RoleTrack:
    """Append-only per-frame arrays of one role (13 bytes a frame), plus the speech and voiced counts at every
    `_BLOCK`-th frame, so a count up to any frame costs at most one block's sum."""

    def __init__(self) -> None:
        self.n = 0
        for name, dtype, fill in _FIELDS:
            setattr(self, name, np.full(_INITIAL_CAPACITY, fill, dtype))
        self._blocks_speech = [0]  # speech frames before frame j * _BLOCK
        self._blocks_voiced = [0]  # voiced frames (finite f0) before frame j * _BLOCK
        self.pause_frames = 0  # frames bridge_pauses marked as speech (pauses inside a turn)

    def _grow(self, needed: int) -> None:
        cap = len(self.db)
        if needed <= cap:
            return
        cap = max(needed, cap + max(_GROW_MIN_FRAMES, cap // 8))
        for name, dtype, fill in _FIELDS:  # one array at a time: the copy never holds two whole tracks
            old = getattr(self, name)
            new = np.full(cap, fill, dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
            del old

    def append(self, frames: Frames) -> None:
        k = len(frames)
        if k == 0:
            return
        assert frames.start_index == self.n, "frames must arrive in order"
        self._grow(self.n + k)
        s = slice(self.n, self.n + k)
        self.db[s], self.speech[s], self.f0[s], self.nucleus[s] = frames.db, frames.speech, frames.f0, frames.nucleus
        self.active[s], self.audible[s], self.voiced_sound[s] = frames.active, frames.audible, frames.voiced_sound
        self.n += k
        self._count_blocks(len(self._blocks_speech))

    def _count_blocks(self, first: int) -> None:
        """The block counts from block `first` (whose start count is known) up to the last complete block."""
        del self._blocks_speech[first:], self._blocks_voiced[first:]
        for j in range(first, self.n // _BLOCK + 1):
            lo, hi = (j - 1) * _BLOCK, j * _BLOCK
            self._blocks_speech.append(self._blocks_speech[-1] + int(np.count_nonzero(self.speech[lo:hi])))
            self._blocks_voiced.append(self._blocks_voiced[-1] + int(np.count_nonzero(np.isfinite(self.f0[lo:hi]))))

    def _speech_before(self, i: int) -> int:
        j = i // _BLOCK
        return self._blocks_speech[j] + int(np.count_nonzero(self.speech[j * _BLOCK : i]))

    def _voiced_before(self, i: int) -> int:
        j = i // _BLOCK
        return self._blocks_voiced[j] + int(np.count_nonzero(np.isfinite(self.f0[j * _BLOCK : i])))

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
            self._count_blocks(1)
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
            self._count_blocks(1)
        self.pause_frames += added
        return added

    def speech_frames_between(self, start: int, end: int) -> int:
        start = max(start, 0)
        if end - start <= 2 * _BLOCK:
            return int(np.count_nonzero(self.speech[start:end]))
        return self._speech_before(end) - self._speech_before(start)

    def window_by_speech(self, end: int, speech_s: float, max_span_s: float) -> int:
        """Start index of the shortest window ending at `end` holding `speech_s` of speech,
        but reaching back no further than `max_span_s` of audio."""
        return self._window(self.speech, self._speech_before, end, speech_s, max_span_s)

    def window_by_voiced(self, end: int, voiced_s: float, max_span_s: float) -> int:
        return self._window(None, self._voiced_before, end, voiced_s, max_span_s)

    def _window(self, flags: np.ndarray | None, before, end: int, need_s: float, max_span_s: float) -> int:  # noqa: ANN001
        """The last start i <= end whose window [i, end) still holds `need_s` (counted by `flags`; None: finite f0),
        clamped to `max_span_s` before `end`: searched only within that span."""
        need = int(round(need_s / FRAME_HOP_S))
        lo = max(0, end - int(max_span_s / FRAME_HOP_S))
        target = before(end) - need
        if target <= 0:
            return lo
        below = target - before(lo)  # frames the window [lo, start) may hold
        if below < 0:
            return lo  # even the whole span holds less than `need_s`
        span = self.speech[lo:end] if flags is not None else np.isfinite(self.f0[lo:end])
        counts = np.concatenate(([0], np.cumsum(span)))  # frames in [lo, lo + i)
        return lo + int(np.searchsorted(counts, below, side="right")) - 1

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
