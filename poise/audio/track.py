"""The frame history of one role, with the window queries the coach needs.

A live call keeps only its recent frames (`release`): older ones are folded into `CallFrames`, the
compact whole-call record the end-of-call numbers are computed from (one bit a frame for speech,
nuclei and voicing, plus the pitch and level of the voiced frames), after the hindsight the
live rules could not use (onsets dated back, a turn's pauses bridged: `settle`) has been applied
to them with a lag of under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .prosody import Frames
from .types import FRAME_HOP_S

_INITIAL_CAPACITY = 6000  # frames (1 min)
_GROW_MIN_FRAMES = 30_000  # frames (5 min): the arrays grow by this much or by an eighth, whichever is more, so a
#   long call never holds more than ~12% of empty room (doubling held up to 2x: +28 MB/h on a 3-hour replay)
_BLOCK = 256  # frames: the speech and voiced counts are kept at every 256th frame (8 bytes per 2.56 s, not 16 per frame)
_FIELDS = (("db", np.float32, 0.0), ("speech", np.bool_, False), ("f0", np.float32, np.nan), ("nucleus", np.bool_, False),
           ("active", np.bool_, False), ("audible", np.bool_, False), ("voiced_sound", np.bool_, False))
_CALL_FILL = {"call_speech": False}  # the speech the call's numbers count (hindsight applied by `settle`)


class FreedFramesError(IndexError):
    """A reader asked for frames a live call has already folded into its summaries."""


class _Lane:
    """One per-frame array indexed by frame number in the call, whose oldest frames can be dropped.

    Indexing (an int or a slice without negative bounds) reads the frames of the call as if the array
    held them all; frames before `base` are gone and raise FreedFramesError."""

    __slots__ = ("_held",)

    def __init__(self, array: np.ndarray) -> None:
        self._held = (0, array)  # (first frame held, the array from it): one attribute, swapped whole

    @property
    def base(self) -> int:
        return self._held[0]

    @property
    def array(self) -> np.ndarray:
        return self._held[1]

    def _local(self, key: int | slice, base: int) -> int | slice:
        if isinstance(key, slice):
            start = 0 if key.start is None else key.start
            if start < base:
                raise FreedFramesError(f"frames before {base} were folded into the call's summaries (asked from {start})")
            stop = None if key.stop is None else max(key.stop - base, 0)
            return slice(start - base, stop, key.step)
        if key < base:
            raise FreedFramesError(f"frame {key} was folded into the call's summaries (frames from {base} are held)")
        return key - base

    def __getitem__(self, key: int | slice):  # noqa: ANN204 - a numpy scalar or view
        base, array = self._held
        return array[self._local(key, base)]

    def __setitem__(self, key: int | slice, value: object) -> None:
        base, array = self._held
        array[self._local(key, base)] = value


@dataclass
class CallFrames:
    """One role's whole call as the end-of-call numbers see it: speech (hindsight applied), syllable nuclei
    and voicing per frame, and the pitch and level of the voiced frames only, in frame order."""

    n: int
    speech: np.ndarray  # bool, n frames
    nucleus: np.ndarray  # bool, n frames
    voiced: np.ndarray  # bool, n frames: finite pitch
    f0: np.ndarray  # float32 Hz of the voiced frames
    db: np.ndarray  # float32 dBFS of the voiced frames
    pause_frames: int  # frames of the speech that are pauses inside a turn (bridged)


@dataclass
class _Folded:
    """The frames a live call no longer holds, as `CallFrames` needs them (chunks, joined at the end)."""

    n: int = 0
    sizes: list | None = None  # frames of each chunk
    speech: list | None = None  # np.packbits chunks
    nucleus: list | None = None
    voiced: list | None = None
    f0: list | None = None  # float32 chunks, voiced frames only
    db: list | None = None

    def __post_init__(self) -> None:
        self.sizes, self.speech, self.nucleus, self.voiced, self.f0, self.db = [], [], [], [], [], []

    def nbytes(self) -> int:
        return sum(a.nbytes for part in (self.speech, self.nucleus, self.voiced, self.f0, self.db) for a in part)


class RoleTrack:
    """Per-frame arrays of one role (13 bytes a frame, 14 with the call's own speech), plus the speech and
    voiced counts at every `_BLOCK`-th frame, so a count up to any frame costs at most one block's sum.

    Appended in order; a live Session `settle`s and `release`s the old frames, so a call of any length
    holds only its last minutes here (`call_frames` gives the whole call's record)."""

    def __init__(self) -> None:
        self.n = 0
        for name, dtype, fill in _FIELDS:
            setattr(self, name, _Lane(np.full(_INITIAL_CAPACITY, fill, dtype)))
        self.call_speech = _Lane(np.zeros(_INITIAL_CAPACITY, np.bool_))
        self._block_base = 0  # blocks dropped by `release`
        self._blocks_speech = [0]  # speech frames before frame j * _BLOCK (index j - _block_base)
        self._blocks_voiced = [0]  # voiced frames (finite f0) before frame j * _BLOCK
        self.pause_frames = 0  # frames bridge_pauses (or `settle`) marked as speech (pauses inside a turn)
        # `settle`'s state: onsets dated before this frame; pauses bridged up to `_bridged`; the open silence
        self._dated = 1
        self._bridged = 0
        self._prev_speech = False  # the call's speech at frame `_bridged` - 1
        self._gap_start: int | None = None  # an open silence after a speech run that may still be bridged
        self.settled = 0  # frames before this one have their final call speech
        self._folded = _Folded()

    def _lanes(self) -> list[tuple[_Lane, object]]:
        return [(getattr(self, name), fill) for name, _, fill in _FIELDS] + [(self.call_speech, False)]

    def _grow(self, needed: int) -> None:
        base = self.speech.base
        cap = len(self.db.array)
        if needed - base <= cap:
            return
        cap = max(needed - base, cap + max(_GROW_MIN_FRAMES, cap // 8))
        for lane, fill in self._lanes():  # one array at a time: the copy never holds two whole tracks
            old = lane.array
            new = np.full(cap, fill, old.dtype)
            new[: self.n - base] = old[: self.n - base]
            lane._held = (base, new)
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
        self.call_speech[s] = frames.speech
        self.n += k
        self._count_blocks(self._block_base + len(self._blocks_speech))

    def _count_blocks(self, first: int) -> None:
        """The block counts from block `first` (whose start count is known) up to the last complete block."""
        bb = self._block_base
        del self._blocks_speech[first - bb :], self._blocks_voiced[first - bb :]
        for j in range(first, self.n // _BLOCK + 1):
            lo, hi = (j - 1) * _BLOCK, j * _BLOCK
            self._blocks_speech.append(self._blocks_speech[-1] + int(np.count_nonzero(self.speech[lo:hi])))
            self._blocks_voiced.append(self._blocks_voiced[-1] + int(np.count_nonzero(np.isfinite(self.f0[lo:hi]))))

    def _speech_before(self, i: int) -> int:
        j = i // _BLOCK
        return self._blocks_speech[j - self._block_base] + int(np.count_nonzero(self.speech[j * _BLOCK : i]))

    def _voiced_before(self, i: int) -> int:
        j = i // _BLOCK
        return self._blocks_voiced[j - self._block_base] + int(np.count_nonzero(np.isfinite(self.f0[j * _BLOCK : i])))

    # --- the call's numbers: hindsight, then folding -----------------------------------------------
    def date_onsets_back(self, max_back: int, max_gap: int) -> int:
        """Extend every speech run back over the own-level sound just before it (up to `max_back` frames,
        dips up to `max_gap` bridged): the speech model confirms a voice 30-400 ms after it starts. For the
        whole-call numbers at the end of a call kept whole (`Session(keep_frames=True)`); the live rules
        have read these frames already. Returns the frames added."""
        n = self.n
        if n < 2:
            return 0
        speech, audible = self.speech[:n], self.audible[:n]
        onsets = np.flatnonzero(speech[1:] & ~speech[:-1]) + 1
        added = 0
        for k in onsets.tolist():
            first = _onset_start(speech, audible, k, max_back, max_gap)
            if first < k:
                speech[first:k] = True
                added += k - first
        if added:
            self._count_blocks(1)
        return added

    def bridge_pauses(self, max_gap: int) -> int:
        """Mark the pauses inside a turn (silences of at most `max_gap` frames between two speech runs)
        as speech, the way turn-level annotations and the floor rules count them. For the whole-call
        numbers at the end of a call kept whole; `pause_frames` keeps how many frames were pauses
        (articulation rate leaves them out). Returns the frames added."""
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

    def settle(self, max_back: int, max_gap: int, max_pause: int, final: bool = False) -> int:
        """`date_onsets_back` and `bridge_pauses` as the frames arrive, into `call_speech` (the rules keep
        reading `speech` as it was live): an onset is dated when it is seen (its frames are at most
        `max_back` old), a silence bridged once the next run starts within `max_pause` frames. Frames before
        the returned index (`settled`) are final; `final` (the call has ended) settles them all."""
        n = self.n
        call = self.call_speech
        if n >= 2 and self._dated < n:
            base, raw = self.speech._held  # plain arrays from `base` for the scans: no lane call a frame
            audible = self.audible.array
            assert self._dated - max_back - 1 >= base or base == 0, "an onset reaches back into folded frames"
            lo = self._dated
            s = raw[lo - 1 - base : n - base]
            for k in (np.flatnonzero(s[1:] & ~s[:-1]) + lo - base).tolist():
                first = _onset_start(raw, audible, k, max_back, max_gap, floor=-base)
                if first < k:
                    call.array[first:k] = True
            self._dated = n
        dated = n if final else max(n - max_back, self._bridged)  # later onsets only reach back to here
        lo = self._bridged
        if dated > lo:
            seg = call[lo:dated]
            edges = np.flatnonzero(np.diff(np.concatenate([[self._prev_speech], seg]).astype(np.int8))) + lo
            for e in edges.tolist():
                if call[e]:  # a run starts: the silence before it was a pause of this turn if short enough
                    if self._gap_start is not None and e - self._gap_start <= max_pause:
                        call[self._gap_start : e] = True
                        self.pause_frames += e - self._gap_start
                    self._gap_start = None
                else:
                    self._gap_start = e
            self._prev_speech = bool(call[dated - 1])
            self._bridged = dated
        if self._gap_start is not None and (final or dated - self._gap_start > max_pause):
            self._gap_start = None  # the silence is too long to be a pause, or the call ended in it
        self.settled = dated if self._gap_start is None else self._gap_start
        return self.settled

    def release(self, upto: int) -> int:
        """Fold the settled frames before `upto` (rounded down to a block) into the call's record and drop
        them from the arrays; returns the first frame still held. Only frames no live reader will ask for
        again may go (the Session keeps the longest look-back of its rules)."""
        upto = min(upto, self.settled, self.n) // _BLOCK * _BLOCK
        base = self.speech.base
        if upto <= base:
            return base
        f = self._folded
        assert f.n == base, "frames are folded in order"
        voiced = np.isfinite(self.f0[base:upto])
        f.speech.append(np.packbits(self.call_speech[base:upto]))
        f.nucleus.append(np.packbits(self.nucleus[base:upto]))
        f.voiced.append(np.packbits(voiced))
        f.f0.append(self.f0[base:upto][voiced].copy())
        f.db.append(self.db[base:upto][voiced].copy())
        f.sizes.append(upto - base)
        f.n = upto
        held = self.n - upto
        cap = max(_INITIAL_CAPACITY, held + 2 * (upto - base))  # room for two more such chunks: no growth between
        for lane, fill in self._lanes():
            old = lane.array
            new = np.full(cap, fill, old.dtype)
            new[:held] = old[upto - base : self.n - base]
            lane._held = (upto, new)
            del old
        drop = upto // _BLOCK - self._block_base
        del self._blocks_speech[:drop], self._blocks_voiced[:drop]
        self._block_base += drop
        return upto

    def held_bytes(self) -> int:
        """Bytes of this role's per-frame arrays and folded record (what grows with the call)."""
        return sum(lane.array.nbytes for lane, _ in self._lanes()) + self._folded.nbytes()

    def call_frames(self, from_live: bool = True) -> CallFrames:
        """The whole call's record: the folded frames and the ones still held. `from_live=False` (a call
        kept whole, hindsight applied in place by `date_onsets_back`/`bridge_pauses`) reads `speech`."""
        n, f = self.n, self._folded
        lo = f.n
        speech_lane = self.call_speech if from_live else self.speech
        f0_tail = self.f0[lo:n]
        voiced_tail = np.isfinite(f0_tail)
        if lo == 0:
            return CallFrames(n, speech_lane[:n], self.nucleus[:n], voiced_tail, f0_tail[voiced_tail],
                              self.db[:n][voiced_tail], self.pause_frames)

        def unpack(chunks: list, tail: np.ndarray) -> np.ndarray:
            """The folded chunks' bits (each padded to a byte on its own) and the held tail."""
            out = np.empty(n, bool)
            pos = 0
            for packed, size in zip(chunks, f.sizes):
                out[pos : pos + size] = np.unpackbits(packed, count=size).astype(bool)
                pos += size
            out[pos:] = tail
            return out

        return CallFrames(
            n,
            unpack(f.speech, speech_lane[lo:n]),
            unpack(f.nucleus, self.nucleus[lo:n]),
            unpack(f.voiced, voiced_tail),
            np.concatenate(f.f0 + [f0_tail[voiced_tail]]),
            np.concatenate(f.db + [self.db[lo:n][voiced_tail]]),
            self.pause_frames,
        )

    # --- the live rules' queries --------------------------------------------------------------------
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

    def _window(self, flags: _Lane | None, before, end: int, need_s: float, max_span_s: float) -> int:  # noqa: ANN001
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

    def noise_power_db(self, start: int, end: int, min_s: float, other: RoleTrack | None = None) -> float | None:
        """Mean power (dB) of the frames in [start, end) that hold neither this role's speech nor a sound at its
        speaking level (a thump, a click), nor — given the `other` side's track — the other side's speech (its
        leak): this line's noise; None with fewer than `min_s` of them. The mean, not a median: noise adds its
        mean power to a voice (under pink noise the median of the frames sat 5 dB under it)."""
        quiet = ~self.speech[start:end] & ~self.audible[start:end]
        if other is not None:
            quiet &= ~other.speech[start:end]
        if quiet.sum() * FRAME_HOP_S < min_s:
            return None
        power = np.power(10.0, self.db[start:end][quiet] / 10.0, dtype=np.float64)
        return float(10.0 * np.log10(max(power.mean(), 1e-12)))

    def median_f0(self, start: int, end: int) -> tuple[float | None, float]:
        f0 = self.f0[start:end]
        f0 = f0[np.isfinite(f0)]
        if len(f0) == 0:
            return None, 0.0
        return float(np.median(f0)), len(f0) * FRAME_HOP_S


def _onset_start(speech: np.ndarray, audible: np.ndarray, k: int, max_back: int, max_gap: int, floor: int = 0) -> int:
    """The first frame of the own-level sound just before the speech onset at k (dips up to `max_gap`
    frames bridged, at most `max_back` frames back, never before `floor`: frame 0 of the call); k when
    there is none."""
    first, gap, i = k, 0, k - 1
    while i >= max(floor, k - max_back) and not speech[i]:
        if audible[i]:
            first, gap = i, 0
        else:
            gap += 1
            if gap > max_gap:
                break
        i -= 1
    return first
