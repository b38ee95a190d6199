"""The agent's own normal pitch, loudness and pace, calibrated from their speech.

Cues compare the agent with themselves, not with fixed numbers: voices differ by a
factor of two in pitch and microphones by 20 dB in level. The estimate is a running
median over all agent speech so far (histograms keep it O(1) per frame), so a
short stretch of fast or raised speech barely moves it, while a slow drift of the
line level is followed. Until enough speech has been heard, a saved profile from
earlier calls (if any) stands in.

The saved profile is only trusted while the voice fits it: when the pitch of this call's
first 10-20 s of speech sits `MISMATCH_ST` or more away from the profile's (another
person at the desk, a profile chosen wrongly), the profile is dropped for the rest of
the call and the normal is learnt afresh from this voice (`mismatch`, said once through
`take_mismatch`). Until the first second of this call's voice has been heard and agrees
with the profile (within `MISMATCH_ST`), the profile is on probation: it drives no pitch or
loudness cue, so a wrong profile never cues in the seconds before it is found out. Pitch is the one measure that tells voices apart: loudness depends
on the microphone and pace on the call.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from .types import FRAME_HOP_S, Baseline

CALIBRATION_SPEECH_S = 20.0  # s of agent speech before their own normal is trusted (2000 frames: the medians are stable)
MIN_VOICED_S = 5.0  # s of voiced frames needed for a pitch normal
RATE_CHUNK_SPEECH_S = 2.0  # s of speech per pace sample; the normal is the median of these samples
PITCH_REF_HZ = 55.0  # semitone scale origin (A1)
# One person's median pitch moves 1-2 st between calls (mood, line, cold); two adult voices of
# the same sex are often 2-4 st apart and of different sexes 8-14 st. 4 st is "plainly not them".
MISMATCH_ST = 4.0  # semitones between this call's median pitch and the profile's that end trust in the profile
MISMATCH_FROM_SPEECH_S = 10.0  # s of speech before the comparison is made (a median of 1000 frames)
MISMATCH_UNTIL_SPEECH_S = CALIBRATION_SPEECH_S  # s: after that the call's own normal takes over anyway
# The tracker sees frames 5 s late (session.BASELINE_LAG_FRAMES) and a pitch cue needs 1.5 s of voice:
# the profile drives pitch and loudness cues only once this much of this call's voice agrees with it.
PROBATION_VOICED_S = 0.5  # s of voiced frames (50 frames: a median within ~1-2 st, far finer than 4 st) before the profile is used

_ST_BINS = np.arange(0.0, 48.0 + 0.05, 0.1)  # semitones above PITCH_REF_HZ, 0.1 st resolution
_DB_BINS = np.arange(-100.0, 0.0 + 0.25, 0.5)  # dBFS, 0.5 dB resolution
_RATE_BINS = np.arange(0.0, 15.0 + 0.05, 0.1)  # syllables/s, 0.1 resolution


def hz_to_st(hz: np.ndarray | float) -> np.ndarray | float:
    return 12.0 * np.log2(np.asarray(hz) / PITCH_REF_HZ)


def st_to_hz(st: float) -> float:
    return float(PITCH_REF_HZ * 2.0 ** (st / 12.0))


def _hist_median(counts: np.ndarray, edges: np.ndarray) -> float | None:
    total = counts.sum()
    if total == 0:
        return None
    i = int(np.searchsorted(np.cumsum(counts), total / 2.0))
    return float((edges[i] + edges[i + 1]) / 2.0)


@dataclass(frozen=True)
class ProfileMismatch:
    """The voice on the line does not fit the saved profile."""

    profile_hz: float  # the profile's normal pitch
    heard_hz: float  # this call's median pitch so far
    semitones: float  # heard minus profile, in semitones
    speech_s: float  # s of this call's speech it was decided on

    @property
    def message(self) -> str:
        """One sentence for the status line."""
        return (  # fits the status line of a 1024 px window
            f"This voice does not match the saved profile ({self.heard_hz:.0f} Hz, not "
            f"{self.profile_hz:.0f} Hz): Poise learns it afresh for this call."
        )


class BaselineTracker:
    """Running estimate of the agent's normal from their frames."""

    def __init__(self, prior: Baseline | None = None) -> None:
        self.prior = prior if prior is not None and prior.is_ready() else None
        self.mismatch: ProfileMismatch | None = None  # set when the voice plainly is not the profile's
        self.prior_trusted = False  # on probation until this call's first voice agrees with it
        self._mismatch_unsaid = False
        self._st = np.zeros(len(_ST_BINS) - 1, np.int64)
        self._db = np.zeros(len(_DB_BINS) - 1, np.int64)
        self._rate = np.zeros(len(_RATE_BINS) - 1, np.int64)
        self._speech_frames = 0
        self._chunk_speech = 0
        self._chunk_nuclei = 0
        self._increment_frames = 0  # speech frames of the latest update
        self._cached: Baseline | None = None

    def update(self, db: np.ndarray, speech: np.ndarray, f0: np.ndarray, nucleus: np.ndarray) -> None:
        """Add consecutive agent frames (arrays as in `prosody.Frames`)."""
        n_speech = int(speech.sum())
        if n_speech == 0:
            return
        self._cached = None
        self._speech_frames += n_speech
        self._increment_frames = n_speech
        voiced = np.isfinite(f0)
        if voiced.any():
            self._db += np.histogram(db[voiced], _DB_BINS)[0]
            self._st += np.histogram(hz_to_st(f0[voiced]), _ST_BINS)[0]
        chunk_frames = int(RATE_CHUNK_SPEECH_S / FRAME_HOP_S)
        for is_speech, is_nucleus in zip(speech.tolist(), nucleus.tolist()):
            if is_nucleus:
                self._chunk_nuclei += 1
            if is_speech:
                self._chunk_speech += 1
                if self._chunk_speech >= chunk_frames:
                    rate = self._chunk_nuclei / RATE_CHUNK_SPEECH_S
                    self._rate[min(int(rate / 0.1), len(self._rate) - 1)] += 1
                    self._chunk_speech = self._chunk_nuclei = 0
        self._check_prior()

    def _check_prior(self) -> None:
        """Drop the prior when this call's pitch, over its first 10-20 s of speech, is far from it."""
        prior = self.prior
        if prior is None or prior.pitch_hz is None:
            return
        if self.speech_s - self._last_increment_s() >= MISMATCH_UNTIL_SPEECH_S:
            return  # the window had passed before this update: the call's own normal rules now
        voiced_s = self._st.sum() * FRAME_HOP_S
        if voiced_s < PROBATION_VOICED_S:
            return
        st = _hist_median(self._st, _ST_BINS)
        if st is None:
            return
        diff = st - float(hz_to_st(prior.pitch_hz))
        self.prior_trusted = abs(diff) < MISMATCH_ST  # re-judged at every update until the decision
        if self.speech_s < MISMATCH_FROM_SPEECH_S or voiced_s < MIN_VOICED_S:
            return
        if abs(diff) >= MISMATCH_ST:
            self.mismatch = ProfileMismatch(float(prior.pitch_hz), st_to_hz(st), float(diff), self.speech_s)
            self._mismatch_unsaid = True
            self.prior = None
            self._cached = None

    def _last_increment_s(self) -> float:
        return self._increment_frames * FRAME_HOP_S

    def take_mismatch(self) -> ProfileMismatch | None:
        """The mismatch, once (for the status line); None if there is none or it was taken."""
        if not self._mismatch_unsaid:
            return None
        self._mismatch_unsaid = False
        return self.mismatch

    @property
    def speech_s(self) -> float:
        return self._speech_frames * FRAME_HOP_S

    def own(self) -> Baseline:
        """The estimate from this call alone (fields None until calibrated)."""
        if self._cached is not None:
            return self._cached
        ready = self.speech_s >= CALIBRATION_SPEECH_S
        st = _hist_median(self._st, _ST_BINS) if self._st.sum() * FRAME_HOP_S >= MIN_VOICED_S else None
        result = Baseline(
            pitch_hz=st_to_hz(st) if (ready and st is not None) else None,
            db=_hist_median(self._db, _DB_BINS) if ready else None,
            rate_sps=_hist_median(self._rate, _RATE_BINS) if ready else None,
            speech_s=self.speech_s,
        )
        self._cached = result
        return result

    def current(self) -> Baseline:
        """What cues compare against now: this call's own normal once calibrated, else the saved prior."""
        own = self.own()
        if own.is_ready() or self.prior is None:
            return own
        if not self.prior_trusted:  # on probation, or doubted: pace may use it, pitch and loudness not
            return Baseline(pitch_hz=None, db=None, rate_sps=self.prior.rate_sps, speech_s=own.speech_s)
        return self.prior
