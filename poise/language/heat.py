"""How heated the caller is, causally, against their own normal in this call.

Three sound measures of the caller's recent speech (median pitch and loudness of the last
`RECENT_VOICED_S` of voiced frames, syllable-nucleus rate over the last `RECENT_SPEECH_S` of
speech) are compared with the caller's own running normal: the medians of everything they said
up to `NORMAL_LAG_S` ago, kept as histograms so a long call costs the same per step as a short
one. Each rise becomes a 0..1 score (a raised voice is about +3 st or +6 dB, as the
agent's own thresholds, `coach.CoachConfig`); the acoustic heat is their mean, so one measure
alone does not make a caller heated: on the real booking call the caller's loudness reached
+5.8 dB and their pace 1.4x with a calm voice (mean of the two largest: 0.54), a raised voice
(+3.5 st, +6 dB) is 0.67 at an unchanged pace. Hostile and abusive
words (`phrases.py`) add a score that decays over `WORDS_MEMORY_S`. Heat never becomes a cue by
itself; `language.coach` uses it to decide what the agent is coached on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from poise.audio.track import RoleTrack
from poise.audio.types import FRAME_HOP_S

RECENT_VOICED_S = 2.0  # s of the caller's latest voiced frames for "how they sound now" (about one sentence)
RECENT_SPEECH_S = 4.0  # s of the caller's latest speech for the nucleus rate (Poisson noise over shorter spans)
RECENT_MAX_SPAN_S = 12.0  # s: older speech is not "now", however little was said since
NORMAL_LAG_S = 5.0  # s: the normal is how they sounded until 5 s ago, so a rising voice is not its own normal
NORMAL_MIN_VOICED_S = 4.0  # s of voiced caller speech before their normal is trusted
PITCH_FULL_ST = 3.0  # semitones over their normal that count as fully raised (brief: ~3 st is a raised voice)
LOUD_FULL_DB = 6.0  # dB over their normal that count as fully raised
PACE_FULL_RATIO = 1.6  # times their normal nucleus rate that count as fully hurried (nuclei over 4 s are Poisson-noisy: the demo caller reaches 1.59x calm)
WORDS_MEMORY_S = 30.0  # s over which a hostile sentence's contribution decays to zero
HOSTILE_WORD_SCORE = 0.6  # heat from one hostile/distressed sentence (with any raised measure: heated)
ABUSE_WORD_SCORE = 1.0  # heat from abuse: heated whatever the voice
HEATED = 0.5  # heat at or above this is "heated"

_ST_BINS = np.arange(-24.0, 36.0 + 0.1, 0.1)  # semitones re 100 Hz, 0.1 st bins (below what anyone hears)
_DB_BINS = np.arange(-90.0, 0.0 + 0.25, 0.25)  # dBFS, 0.25 dB bins


def _st(hz: np.ndarray) -> np.ndarray:
    return 12.0 * np.log2(hz / 100.0)


class _RunningMedian:
    """Median of everything added so far, from a fixed histogram (O(bins) per query)."""

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        self.counts = np.zeros(len(edges) - 1, np.int64)
        self.n = 0

    def add(self, values: np.ndarray) -> None:
        if len(values):
            idx = np.clip(np.searchsorted(self.edges, values) - 1, 0, len(self.counts) - 1)
            np.add.at(self.counts, idx, 1)
            self.n += len(values)

    def median(self) -> float | None:
        if self.n == 0:
            return None
        i = int(np.searchsorted(np.cumsum(self.counts), (self.n + 1) / 2))
        return float((self.edges[i] + self.edges[i + 1]) / 2)


@dataclass
class HeatReading:
    """The caller's heat at audio time `t`, with what it came from."""

    t: float
    heat: float  # 0..1
    pitch_rise_st: float | None
    loud_rise_db: float | None
    pace_ratio: float | None
    words: float  # the hostile/abusive words' share, 0..1

    @property
    def heated(self) -> bool:
        return self.heat >= HEATED


class CallerHeat:
    """Per-call heat of the caller, updated every rule step from their frames and words."""

    def __init__(self) -> None:
        self._pitch = _RunningMedian(_ST_BINS)
        self._loud = _RunningMedian(_DB_BINS)
        self._speech_frames = 0
        self._nuclei = 0
        self._normal_done = 0  # frames already in the normal
        self._word_events: list[tuple[float, float]] = []  # (time, score)
        self.latest: HeatReading | None = None

    def add_words(self, t: float, score: float) -> None:
        """A hostile (HOSTILE_WORD_SCORE) or abusive (ABUSE_WORD_SCORE) caller sentence became known at `t`."""
        self._word_events.append((t, score))

    def _words_score(self, t: float) -> float:
        self._word_events = [(te, s) for te, s in self._word_events if t - te < WORDS_MEMORY_S]
        total = sum(s * (1.0 - (t - te) / WORDS_MEMORY_S) for te, s in self._word_events if te <= t)
        return min(1.0, total)

    def _grow_normal(self, track: RoleTrack, upto: int) -> None:
        lo, hi = self._normal_done, max(self._normal_done, upto)
        if hi <= lo:
            return
        f0, db, speech = track.f0[lo:hi], track.db[lo:hi], track.speech[lo:hi]
        voiced = np.isfinite(f0) & (f0 > 0)
        self._pitch.add(_st(f0[voiced]))
        self._loud.add(db[voiced])
        self._speech_frames += int(speech.sum())
        self._nuclei += int(track.nucleus[lo:hi].sum())
        self._normal_done = hi

    def update(self, k: int, t: float, track: RoleTrack | None) -> HeatReading:
        """Heat at frame k (track holds frames up to k); None track (agent-only call): words only."""
        pitch_rise = loud_rise = pace = None
        scores: list[float] = []
        if track is not None and k >= 0:
            self._grow_normal(track, k + 1 - int(NORMAL_LAG_S / FRAME_HOP_S))
            end = k + 1
            if self._pitch.n * FRAME_HOP_S >= NORMAL_MIN_VOICED_S and _heard_recently(track, k):
                start = track.window_by_voiced(end, RECENT_VOICED_S, RECENT_MAX_SPAN_S)
                f0, voiced_s = track.median_f0(start, end)
                db, _ = track.median_db(start, end)
                if f0 is not None and voiced_s >= RECENT_VOICED_S / 2:
                    pitch_rise = float(12.0 * math.log2(f0 / 100.0)) - (self._pitch.median() or 0.0)
                    loud_rise = (db - (self._loud.median() or 0.0)) if db is not None else None
                    scores += [_score(pitch_rise, PITCH_FULL_ST), _score(loud_rise, LOUD_FULL_DB)]
                    rstart = track.window_by_speech(end, RECENT_SPEECH_S, RECENT_MAX_SPAN_S)
                    rate, speech_s = track.rate_sps(rstart, end)
                    if rate is not None and speech_s >= RECENT_SPEECH_S / 2 and self._speech_frames > 0 and self._nuclei > 0:
                        pace = rate / (self._nuclei / (self._speech_frames * FRAME_HOP_S))
                        scores.append(_score(pace - 1.0, PACE_FULL_RATIO - 1.0))
        acoustic = float(np.mean(scores)) if len(scores) >= 2 else 0.0
        words = self._words_score(t)
        heat = min(1.0, max(acoustic, words, 0.5 * acoustic + words))
        self.latest = HeatReading(round(t, 3), round(heat, 3), _round(pitch_rise), _round(loud_rise), _round(pace), round(words, 3))
        return self.latest


def _heard_recently(track: RoleTrack, k: int, frames: int = 300) -> bool:
    """The caller spoke in the last 3 s: heat from the sound is about how they sound now."""
    return bool(track.active[max(0, k - frames + 1) : k + 1].any())


def _score(rise: float | None, full: float) -> float:
    if rise is None or not math.isfinite(rise):
        return 0.0
    return float(min(1.0, max(0.0, rise / full)))


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2)
