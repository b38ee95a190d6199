"""Per-frame prosody for one role: loudness, speech (see vad.py), pitch and syllable nuclei.

`ProsodyTracker` is streaming and causal: feed it samples in blocks of any size and
it returns the frames whose whole analysis window has arrived. The frames are the
same whatever the block size, so a file replayed block by block gives exactly the
numbers of the whole file at once.

Pitch is YIN (de Cheveigné & Kawahara 2002), vectorised over frames with an FFT.
librosa's `yin` does the same maths but returns no aperiodicity, which we need to
tell voiced from unvoiced frames, and its `pyin` relies on numba, whose first-call
compilation would delay the first live result by seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import FRAME_HOP, SAMPLE_RATE
from .vad import NoiseFloor, SileroReplay, SileroStream, VoiceJudge

FRAME_LEN = 640  # samples (40 ms): two periods of the lowest pitch plus YIN's integration window
F0_MIN_HZ = 70.0  # lowest male speaking pitch; below is creak, which has no reliable period
F0_MAX_HZ = 500.0  # above a raised female voice; higher are squeaks and artefacts
TAU_MAX = int(SAMPLE_RATE / F0_MIN_HZ)  # samples: longest period searched
TAU_MIN = int(SAMPLE_RATE / F0_MAX_HZ)  # samples: shortest period searched
YIN_WINDOW = FRAME_LEN - TAU_MAX  # samples summed in the difference function
YIN_THRESHOLD = 0.15  # CMNDF dip that counts as "periodic" (the paper's 0.1–0.2)
VOICED_MAX_APERIODICITY = 0.3  # frames less periodic than this have no pitch
FFT_SIZE = 1024  # ≥ FRAME_LEN + YIN_WINDOW, so circular correlation is linear

SILENCE_DB = -100.0  # dBFS: floor for digital silence, keeps logs finite
SPEECH_BAND_HZ = (150.0, 3800.0)  # whose speech a frame is, is judged on this band's level: hum, thumps and
#   pink line noise sit mostly below it (on the built calls at 10 dB pink SNR the caller's frames stood 3-6 dB
#   over a broadband floor, too little to count as audible); loudness cues keep the broadband level
NOISE_COMPENSATION_MAX_DB = 10.0  # dB at most taken off a frame's loudness for the line noise under it (a frame
#   at the floor itself says nothing about the voice; it is never among the voiced frames the cues use)
SPEECH_BAND_ORDER = 2  # Butterworth order per edge (12 dB/octave): enough for hum at 50/60 Hz, cheap per sample
PITCH_CANDIDATE_PROB = 0.3  # speech probability above which a frame's pitch is computed (a superset of speech)

NUCLEUS_DIP_DB = 2.0  # a syllable peak must stand this far above the dips around it (de Jong & Wempe 2009)
NUCLEUS_MIN_GAP_FRAMES = 8  # 80 ms: no speaker articulates faster than ~12 syllables/s
NUCLEUS_BELOW_PEAK_DB = 25.0  # peaks this far under the loudest recent speech are noise, not syllables
NUCLEUS_SMOOTH_FRAMES = 3  # 30 ms moving average of loudness before peak picking


@dataclass
class Measured:
    """What one role's frames sound like before anyone judges whose speech they are."""

    start_index: int
    db: np.ndarray  # float32 loudness, dBFS
    prob: np.ndarray  # float32 speech probability from the neural detector
    f0: np.ndarray  # float32 Hz where the frame may be speech and is periodic; NaN elsewhere
    band_db: np.ndarray  # float32 speech-band level, dBFS: what judging whose speech it is compares

    def __len__(self) -> int:
        return len(self.db)


@dataclass
class Frames:
    """A batch of consecutive frames of one role (index = frame number in the call)."""

    start_index: int
    db: np.ndarray  # float32 loudness, dBFS
    speech: np.ndarray  # bool: this role's own speech (causal, with hangover)
    f0: np.ndarray  # float32 Hz; NaN where unvoiced or not speech
    nucleus: np.ndarray  # bool: a syllable nucleus is confirmed at this frame
    active: np.ndarray | None = None  # bool: own speech audible right now (speech without the hangover)
    audible: np.ndarray | None = None  # bool: own-level sound now, speech or not yet confirmed (onset timing)
    voiced_sound: np.ndarray | None = None  # bool: own-level and periodic, speech or not: a hummed "mm-hmm"
    #   is voice, though the speech model gives it 0.02-0.3 (two of the AMI's backchannels)

    def __post_init__(self) -> None:
        if self.active is None:
            self.active = self.speech
        if self.audible is None:
            self.audible = self.active
        if self.voiced_sound is None:
            self.voiced_sound = self.active & np.isfinite(self.f0)

    def __len__(self) -> int:
        return len(self.db)


def _rms_db(windows: np.ndarray) -> np.ndarray:
    """Level of each frame row, dBFS (float32, at least SILENCE_DB)."""
    rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-10)), SILENCE_DB).astype(np.float32)


def frame_end_time(index: int | np.ndarray) -> float | np.ndarray:
    """Audio time at which frame `index` has fully arrived (when a live system knows it)."""
    return (index * FRAME_HOP + FRAME_LEN) / SAMPLE_RATE


def frame_center_time(index: int | np.ndarray) -> float | np.ndarray:
    return (index * FRAME_HOP + FRAME_LEN / 2) / SAMPLE_RATE


def yin(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz) and aperiodicity (CMNDF at the chosen lag, 0 = perfectly periodic) per frame row."""
    n = frames.shape[0]
    if n == 0:
        return np.empty(0, np.float32), np.empty(0, np.float32)
    import scipy.fft  # here, not at the top: scipy costs ~0.7 s of the desktop's start (cached after)

    x = frames.astype(np.float32, copy=False)
    spec_full = scipy.fft.rfft(x, FFT_SIZE, axis=1)
    spec_head = scipy.fft.rfft(x[:, :YIN_WINDOW], FFT_SIZE, axis=1)
    cross = scipy.fft.irfft(np.conj(spec_head) * spec_full, FFT_SIZE, axis=1)[:, : TAU_MAX + 1].astype(np.float64)
    x = x.astype(np.float64)
    sq = np.zeros((n, FRAME_LEN + 1))
    np.cumsum(x * x, axis=1, out=sq[:, 1:])
    energy_head = sq[:, YIN_WINDOW][:, None]
    taus = np.arange(TAU_MAX + 1)
    energy_lag = sq[:, YIN_WINDOW : YIN_WINDOW + TAU_MAX + 1] - sq[:, : TAU_MAX + 1]  # energy of x[tau : tau + W]
    diff = np.maximum(energy_head + energy_lag - 2.0 * cross, 0.0)
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmndf = np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmndf[:, 1:] = np.where(cum > 0, diff[:, 1:] * taus[1:] / cum, 1.0)

    search = cmndf[:, TAU_MIN:TAU_MAX]
    below = search < YIN_THRESHOLD
    has_dip = below.any(axis=1)
    first = np.where(has_dip, below.argmax(axis=1), search.argmin(axis=1))
    # walk from the first dip to its local minimum
    rows = np.arange(n)
    for _ in range(search.shape[1]):
        nxt = np.minimum(first + 1, search.shape[1] - 1)
        step = has_dip & (search[rows, nxt] < search[rows, first])
        if not step.any():
            break
        first = np.where(step, nxt, first)
    tau = first + TAU_MIN
    # parabolic interpolation around the minimum for sub-sample precision
    left = cmndf[rows, np.maximum(tau - 1, 1)]
    mid = cmndf[rows, tau]
    right = cmndf[rows, np.minimum(tau + 1, TAU_MAX)]
    denom = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / denom, 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    f0 = SAMPLE_RATE / (tau + shift)
    return f0.astype(np.float32), mid.astype(np.float32)


class ProsodyTracker:
    """Streaming prosody for one role's 16 kHz samples.

    `measure` → (the Session's cross-channel leakage estimate) → `complete`; `process` does
    both for a role heard alone.
    """

    def __init__(self, speech: SileroStream | SileroReplay | None = None) -> None:
        """`speech`: where the speech probabilities come from (a `SileroReplay` of probabilities computed
        before: a recording's analysis runs the model once per channel); by default the model, streamed."""
        self._pending = np.zeros(0, np.float32)
        self._pending_band = np.zeros(0, np.float32)
        import scipy.signal  # here, not at the top: see yin()

        self._band_sos = scipy.signal.butter(SPEECH_BAND_ORDER, SPEECH_BAND_HZ, "bandpass", fs=SAMPLE_RATE, output="sos")
        self._band_state = scipy.signal.sosfilt_zi(self._band_sos) * 0.0
        self._next_index = 0
        self._vad = speech if speech is not None else SileroStream()
        self.judge = VoiceJudge()
        self._loudness_floor = NoiseFloor()  # broadband: the noise power taken out of the voice's loudness
        # syllable-nucleus peak picker state
        self._smooth: list[float] = []
        self._seeking_peak = True
        self._extreme_db = SILENCE_DB
        self._extreme_index = -1
        self._extreme_voiced = False
        self._last_nucleus = -NUCLEUS_MIN_GAP_FRAMES
        self._loud_ref_db = SILENCE_DB  # slowly decaying maximum of speech loudness

    @property
    def frames_done(self) -> int:
        return self._next_index

    def process(self, samples: np.ndarray) -> Frames:
        """Consume samples; return every frame that is now complete (no other side to discount)."""
        return self.complete(self.measure(samples))

    def measure(self, samples: np.ndarray) -> Measured:
        """Loudness, speech probability and candidate pitch of every frame completed by `samples`."""
        samples = np.asarray(samples, np.float32)
        self._vad.process(samples)
        import scipy.signal  # (loaded by __init__: a dictionary look-up here)

        band, self._band_state = scipy.signal.sosfilt(self._band_sos, samples, zi=self._band_state)
        buf = np.concatenate([self._pending, samples])
        band_buf = np.concatenate([self._pending_band, band.astype(np.float32)])
        count = 0 if len(buf) < FRAME_LEN else (len(buf) - FRAME_LEN) // FRAME_HOP + 1
        start = self._next_index
        if count == 0:
            self._pending, self._pending_band = buf, band_buf
            empty = np.zeros(0, np.float32)
            return Measured(start, empty, empty, empty, empty)
        windows = np.lib.stride_tricks.sliding_window_view(buf, FRAME_LEN)[::FRAME_HOP][:count]
        band_windows = np.lib.stride_tricks.sliding_window_view(band_buf, FRAME_LEN)[::FRAME_HOP][:count]
        self._pending = buf[count * FRAME_HOP :]
        self._pending_band = band_buf[count * FRAME_HOP :]
        self._next_index += count

        db = _rms_db(windows)
        band_db = _rms_db(band_windows)
        prob = self._vad.frame_probabilities(start, count, FRAME_LEN)
        f0 = np.full(count, np.nan, np.float32)
        # pitch only where someone may speak, or where an own-level sound may be a hummed voice: most
        # frames of a call need no FFT
        candidates = (prob >= PITCH_CANDIDATE_PROB) | (band_db >= self.judge.own_level_gate_db())
        if candidates.any():
            rows = np.flatnonzero(candidates)
            pitch, aperiodicity = yin(windows[rows])
            # low-frequency noise (rumble, pink noise) fills YIN's dips on the full band (a voice under 10 dB
            # SNR pink noise: 20 % of its speech frames periodic on the full band, 38 % on the speech band),
            # while a low male voice has its fundamental only on the full band: frames the full band leaves
            # unvoiced are tried again on the band
            retry = aperiodicity >= VOICED_MAX_APERIODICITY
            if retry.any():
                band_pitch, band_aperiodicity = yin(band_windows[rows[retry]])
                pitch[retry], aperiodicity[retry] = band_pitch, band_aperiodicity
            ok = (aperiodicity < VOICED_MAX_APERIODICITY) & (pitch >= F0_MIN_HZ) & (pitch <= F0_MAX_HZ)
            f0[rows[ok]] = pitch[ok]
        return Measured(start, db, prob, f0, band_db)

    def complete(self, measured: Measured, leak_db: np.ndarray | None = None) -> Frames:
        """Judge own speech (discounting `leak_db`, the other side's expected leakage) and find syllable nuclei."""
        speech, active, audible = self.judge.judge(measured.start_index, measured.band_db, measured.prob, leak_db)
        f0 = np.where(speech, measured.f0, np.float32(np.nan)).astype(np.float32)
        nucleus = self._pick_nuclei(measured.start_index, measured.db, np.isfinite(f0), speech)
        voiced_sound = audible & np.isfinite(measured.f0)
        return Frames(measured.start_index, self._voice_db(measured), speech, f0, nucleus, active, audible, voiced_sound)

    def _voice_db(self, measured: Measured) -> np.ndarray:
        """Loudness of the voice without the line noise under it (power subtraction of the noise floor).

        At 10 dB SNR a voice 10 dB quieter than usual measured only 7 dB quieter, under the
        8 dB of `speak_up`; on a quiet line (floor −70 dBFS) nothing changes.
        """
        floors = np.array([self._loudness_floor.update(level, p) for level, p in zip(measured.db.tolist(), measured.prob.tolist())])
        power = np.power(10.0, measured.db / 10.0, dtype=np.float64)
        voice = np.maximum(power - np.power(10.0, floors / 10.0), power * 10 ** (-NOISE_COMPENSATION_MAX_DB / 10))
        return np.maximum(10.0 * np.log10(np.maximum(voice, 1e-10)), SILENCE_DB).astype(np.float32)

    def _pick_nuclei(self, start: int, db: np.ndarray, voiced: np.ndarray, speech: np.ndarray) -> np.ndarray:
        """Causal hysteresis peak picker: a peak is confirmed once loudness falls NUCLEUS_DIP_DB below it."""
        out = np.zeros(len(db), bool)
        smooth = self._smooth
        for i, level in enumerate(db.tolist()):
            index = start + i
            smooth.append(level)
            if len(smooth) > NUCLEUS_SMOOTH_FRAMES:
                smooth.pop(0)
            value = sum(smooth) / len(smooth)
            if speech[i]:
                self._loud_ref_db = max(value, self._loud_ref_db - 0.01)  # forgets a loud burst in ~25 s
            if self._seeking_peak:
                if value > self._extreme_db:
                    self._extreme_db, self._extreme_index, self._extreme_voiced = value, index, bool(voiced[i])
                elif value < self._extreme_db - NUCLEUS_DIP_DB:
                    peak = self._extreme_index
                    if (
                        self._extreme_voiced
                        and peak - self._last_nucleus >= NUCLEUS_MIN_GAP_FRAMES
                        and self._extreme_db > self._loud_ref_db - NUCLEUS_BELOW_PEAK_DB
                    ):
                        self._last_nucleus = peak
                        out[i] = True  # confirmed now (causal), belongs to the peak a few frames back
                    self._seeking_peak = False
                    self._extreme_db = value
            else:
                if value < self._extreme_db:
                    self._extreme_db = value
                elif value > self._extreme_db + NUCLEUS_DIP_DB:
                    self._seeking_peak = True
                    self._extreme_db, self._extreme_index, self._extreme_voiced = value, index, bool(voiced[i])
        return out
