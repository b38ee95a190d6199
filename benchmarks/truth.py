"""Truth for `benchmarks/real_calls.py`, derived from the audio and its annotations, never from the engine.

- Frames: the engine's grid, 10 ms hop; frame k covers samples [160k, 160k + 640) at 16 kHz and
  stands for its centre time (160k + 320) / 16000 s.
- `rttm_mask`: a speaker's speech per frame from an RTTM (frame centre inside a segment).
- `energy_speech`: speech per frame of a *clean, one-talker* track from its own energy in the
  speech band, with thresholds set relative to that track's own noise floor and speech level
  (hysteresis: a region must reach the high threshold and extends while above the low one),
  gaps shorter than `BRIDGE_GAP_S` bridged and blips shorter than `MIN_RUN_S` dropped.
- `conversation_events`: agent onsets classified from the two truth masks (floor take,
  backchannel, handover) as the issue defines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.signal as ss

SR = 16_000  # Hz: the engine's rate; truth is computed on the same samples the engine gets
HOP = 160  # samples (10 ms), the engine's frame hop
FRAME_LEN = 640  # samples (40 ms), the engine's frame window: frame k is centred at (HOP*k + FRAME_LEN/2) / SR
HOP_S = HOP / SR

# energy detector (truth on clean tracks)
BAND_HZ = (150.0, 3800.0)  # speech band: drops hum/rumble below and nothing a phone line carries above
ENERGY_WIN = 320  # samples (20 ms) centred on each frame centre: sharp enough for 10 ms onsets
FLOOR_PCT = 10.0  # percentile of the (non-digital-silence) frame levels taken as the track's quietest noise floor
LEVEL_PCT = 95.0  # percentile taken as the track's speech level
OWN_VOICE_WITHIN_DB = 15.0  # dB: voiced frames this close to the speech level are the track's own talker
OWN_F0_MARGIN = 1.25  # the talker's own F0 range = [p5 / 1.25, p95 x 1.25] of those frames; a core with its
#                       median F0 outside it is another voice in the room (e.g. a low voice behind the agent)
MAX_EXTEND_S = 0.3  # s a voiced core extends over unvoiced consonants on each side (an onset /st/ is < ~0.25 s)
BACKGROUND_PCT = 25.0  # percentile of a gap's levels taken as its background (comfort noise, room)
BACKGROUND_MARGIN_DB = 6.0  # dB over a gap's background a consonant must be to count as speech
VOICED_MIN_FRAMES = 3  # 30 ms of Praat-voiced frames: a region with no voicing is a click, breath or comfort noise
PITCH_RANGE_HZ = (75.0, 500.0)  # Praat's pitch floor / ceiling for the voicing check
HIGH_FRAC = 0.45  # a region must reach floor + HIGH_FRAC x (level - floor) ...
LOW_FRAC = 0.25  # ... and extends while above floor + LOW_FRAC x (level - floor) (soft onsets and word ends)
HIGH_MIN_FRAMES = 3  # 30 ms above the high threshold: one click is not speech
BRIDGE_GAP_S = 0.3  # s: shorter gaps inside speech (stop closures, short breaths) are part of the stretch
MIN_RUN_S = 0.12  # s: a shorter region after bridging is a click or a breath, not a word ("mm" lasts ~0.2 s)
DIGITAL_SILENCE_DB = -100.0  # dBFS: frames below this are digital zeros (excluded from the floor estimate)

# the product brief's norms (../shared/design.md), used to name events in the truth
BACKCHANNEL_MAX_S = 1.0  # s: an agent stretch this short inside caller speech is not a floor take (issue 6)
FLOOR_TAKE_CALLER_AFTER_S = 0.5  # s the caller must keep talking after the agent's onset (issue 6)
HANDOVER_LOOKBACK_S = 2.0  # s: an agent onset this soon after the caller's last sound answers the caller
DEAD_AIR_S = 6.0  # s of mutual silence mid-call (brief: "nobody has spoken for ~6 s")
MONOLOGUE_S = 45.0  # s of agent talk without a caller turn (brief: "~45 s")
CALLER_TURN_MIN_S = 1.0  # s: a caller stretch this long is a turn that ends a monologue (shorter: backchannel)


def n_frames(n_samples: int) -> int:
    """Frames the engine makes of n_samples (full 40 ms windows)."""
    return max(0, (n_samples - FRAME_LEN) // HOP + 1)


def frame_centres(n: int) -> np.ndarray:
    """Centre time of frames 0..n-1, s."""
    return (np.arange(n) * HOP + FRAME_LEN / 2) / SR


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame index pairs of the True runs."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def runs_s(mask: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of the True runs (frame centres; end = last centre + one hop)."""
    return [(s * HOP_S + FRAME_LEN / 2 / SR, e * HOP_S + FRAME_LEN / 2 / SR) for s, e in runs(mask)]


def bridge(mask: np.ndarray, gap_s: float) -> np.ndarray:
    """Fill False gaps shorter than gap_s between True runs."""
    out = np.asarray(mask, bool).copy()
    r = runs(out)
    for (_, e), (s, _) in zip(r, r[1:]):
        if (s - e) * HOP_S < gap_s:
            out[e:s] = True
    return out


def drop_short(mask: np.ndarray, min_s: float) -> np.ndarray:
    out = np.asarray(mask, bool).copy()
    for s, e in runs(out):
        if (e - s) * HOP_S < min_s:
            out[s:e] = False
    return out


def rttm_segments(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Speaker → [(start, end)] from an RTTM file."""
    segs: dict[str, list[tuple[float, float]]] = {}
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            segs.setdefault(f[7], []).append((start, start + dur))
    return segs


def segments_mask(segments: list[tuple[float, float]], n: int) -> np.ndarray:
    """Per frame: whether the frame centre lies in one of the segments."""
    t = frame_centres(n)
    m = np.zeros(n, bool)
    for a, b in segments:
        m |= (t >= a) & (t < b)
    return m


def frame_db(x: np.ndarray, band: tuple[float, float] | None = BAND_HZ, win: int = ENERGY_WIN) -> np.ndarray:
    """Level per engine frame, dBFS: RMS of `win` samples centred on the frame centre, optionally band-passed
    (zero-phase, so onsets are not shifted)."""
    x = np.asarray(x, np.float64)
    if band is not None:
        sos = ss.butter(4, band, btype="bandpass", fs=SR, output="sos")
        x = ss.sosfiltfilt(sos, x)
    n = n_frames(len(x))
    power = np.concatenate([[0.0], np.cumsum(x * x)])
    centre = np.arange(n) * HOP + FRAME_LEN // 2
    lo, hi = np.clip(centre - win // 2, 0, len(x)), np.clip(centre + win // 2, 0, len(x))
    ms = (power[hi] - power[lo]) / np.maximum(hi - lo, 1)
    return 10.0 * np.log10(ms + 1e-13)


@dataclass
class EnergyTruth:
    """Speech per frame of one clean track, and how it was decided (for the report)."""

    speech: np.ndarray
    db: np.ndarray
    floor_db: float
    level_db: float
    low_db: float
    high_db: float
    digital_silence_share: float
    own_f0_hz: tuple[float, float] = (0.0, 0.0)

    def describe(self) -> dict:
        return {
            "floor_dbfs": round(self.floor_db, 1), "speech_level_dbfs": round(self.level_db, 1),
            "low_threshold_dbfs": round(self.low_db, 1), "high_threshold_dbfs": round(self.high_db, 1),
            "digital_silence_share": round(self.digital_silence_share, 3),
            "own_f0_range_hz": [round(float(v)) for v in self.own_f0_hz],
            "speech_s": round(float(self.speech.sum()) * HOP_S, 2),
        }


def praat_f0(x: np.ndarray, n: int) -> np.ndarray:
    """Per engine frame: Praat's F0 (Hz; 0 = unvoiced), independent of the engine's YIN."""
    import parselmouth

    pitch = parselmouth.Sound(np.asarray(x, np.float64), SR).to_pitch(
        time_step=HOP_S, pitch_floor=PITCH_RANGE_HZ[0], pitch_ceiling=PITCH_RANGE_HZ[1])
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    centres = frame_centres(n)
    idx = np.clip(np.round((centres - times[0]) / HOP_S).astype(int), 0, len(f0) - 1)
    ok = (centres >= times[0] - HOP_S) & (centres <= times[-1] + HOP_S)
    return np.where(ok, f0[idx], 0.0)


def energy_speech(x: np.ndarray, *, bridge_s: float = BRIDGE_GAP_S, min_run_s: float = MIN_RUN_S) -> EnergyTruth:
    """Speech per frame of a clean single-talker 16 kHz track.

    1. Level per frame in the speech band; the track's noise floor (FLOOR_PCT of the frames that are not
       digital silence) and speech level (LEVEL_PCT) give a high and a low threshold between them.
    2. Cores: runs of frames above the high threshold that Praat calls voiced (>= VOICED_MIN_FRAMES):
       every word has a vowel; clicks, breaths, bumps and comfort noise have none. A core whose median
       F0 lies outside the talker's own range (from the track's loudest voiced frames) is another voice.
    3. Each core extends outward over its consonants while the level stays above the low threshold and
       above the background of the gap it extends into (that gap's BACKGROUND_PCT level + BACKGROUND_MARGIN_DB:
       comfort noise next to speech is not speech), at most MAX_EXTEND_S.
    4. Gaps shorter than bridge_s are bridged; runs shorter than min_run_s dropped.
    """
    db = frame_db(x)
    n = len(db)
    live = db > DIGITAL_SILENCE_DB
    ref = db[live] if live.any() else db
    floor, level = float(np.percentile(ref, FLOOR_PCT)), float(np.percentile(ref, LEVEL_PCT))
    span = max(level - floor, 1e-6)
    low, high = floor + LOW_FRAC * span, floor + HIGH_FRAC * span
    f0 = praat_f0(x, n)
    voiced = f0 > 0
    own = voiced & (db > level - OWN_VOICE_WITHIN_DB)
    if own.sum() >= 20:
        f0_lo, f0_hi = np.percentile(f0[own], 5) / OWN_F0_MARGIN, np.percentile(f0[own], 95) * OWN_F0_MARGIN
    else:
        f0_lo, f0_hi = PITCH_RANGE_HZ
    cores = [(s, e) for s, e in runs(voiced & (db > high))
             if e - s >= VOICED_MIN_FRAMES and f0_lo <= np.median(f0[s:e]) <= f0_hi]
    speech = np.zeros(n, bool)
    max_ext = int(round(MAX_EXTEND_S / HOP_S))
    bounds = [0] + [v for c in cores for v in c] + [n]
    gap_threshold = []  # per gap before core i (and after the last)
    for lo, hi in zip(bounds[::2], bounds[1::2]):
        g = db[lo:hi][live[lo:hi]]
        bg = float(np.percentile(g, BACKGROUND_PCT)) if len(g) >= 5 else floor
        gap_threshold.append(max(low, bg + BACKGROUND_MARGIN_DB))
    for i, (s, e) in enumerate(cores):
        speech[s:e] = True
        before, after = gap_threshold[i], gap_threshold[i + 1]
        k = s - 1
        while k >= 0 and s - k <= max_ext and db[k] > before and not speech[k]:
            speech[k] = True
            k -= 1
        k = e
        while k < n and k - e < max_ext and db[k] > after:
            speech[k] = True
            k += 1
    speech = drop_short(bridge(speech, bridge_s), min_run_s)
    return EnergyTruth(speech, db, floor, level, low, high, float(1.0 - live.mean()), (float(f0_lo), float(f0_hi)))


# ----------------------------------------------------------------------------- conversation events


@dataclass
class AgentOnset:
    """One agent stretch (bridged truth run) and how it relates to the caller's speech."""

    onset: float  # s
    end: float  # s
    kind: str  # floor_take | backchannel | handover | overlap_handover | free
    caller_end: float | None = None  # s: end of the caller's stretch the onset relates to
    gap_s: float | None = None  # handover: onset - caller's last sound (negative: started before it ended)

    @property
    def length(self) -> float:
        return self.end - self.onset


@dataclass
class ConversationTruth:
    agent: np.ndarray  # per-frame speech, bridged
    caller: np.ndarray
    onsets: list[AgentOnset] = field(default_factory=list)
    dead_air: list[tuple[float, float]] = field(default_factory=list)  # mutual silences >= DEAD_AIR_S after the first speech
    monologues: list[tuple[float, float]] = field(default_factory=list)  # agent talk >= MONOLOGUE_S with no caller turn

    def of_kind(self, kind: str) -> list[AgentOnset]:
        return [o for o in self.onsets if o.kind == kind]

    @property
    def overlap_s(self) -> float:
        return float((self.agent & self.caller).sum()) * HOP_S

    def agent_speaking_within(self, t: float, seconds: float) -> bool:
        """Whether the agent spoke (truth) in [t - seconds, t]."""
        lo, hi = int(np.floor((t - seconds - FRAME_LEN / 2 / SR) / HOP_S)), int(np.ceil((t - FRAME_LEN / 2 / SR) / HOP_S))
        lo, hi = max(lo, 0), min(hi + 1, len(self.agent))
        return bool(self.agent[lo:hi].any()) if hi > lo else False

    def agent_speech_s(self, start: float, end: float) -> float:
        """Seconds of agent speech (truth) with frame centres inside [start, end]."""
        lo = max(int(np.ceil((start - FRAME_LEN / 2 / SR) / HOP_S)), 0)
        hi = min(int(np.floor((end - FRAME_LEN / 2 / SR) / HOP_S)) + 1, len(self.agent))
        return float(self.agent[lo:hi].sum()) * HOP_S if hi > lo else 0.0

    def caller_speaking_at(self, t: float) -> bool:
        k = int(round((t - FRAME_LEN / 2 / SR) / HOP_S))
        return 0 <= k < len(self.caller) and bool(self.caller[k])


def conversation_truth(agent: np.ndarray, caller: np.ndarray) -> ConversationTruth:
    """Classify every agent onset against the caller's truth, and find dead air and monologues.

    - floor_take: the caller is speaking at the onset, the agent's stretch lasts >= BACKCHANNEL_MAX_S,
      and the caller's stretch goes on >= FLOOR_TAKE_CALLER_AFTER_S after the onset.
    - backchannel: the caller is speaking at the onset and the agent's stretch is shorter than BACKCHANNEL_MAX_S.
    - overlap_handover: the caller is speaking at the onset but stops within FLOOR_TAKE_CALLER_AFTER_S
      (the agent came in on the caller's last syllable).
    - handover: the caller is silent at the onset and stopped at most HANDOVER_LOOKBACK_S before it.
    - free: anything else (the agent starts after a longer silence).
    """
    n = min(len(agent), len(caller))
    a, c = np.asarray(agent[:n], bool), np.asarray(caller[:n], bool)
    t0 = FRAME_LEN / 2 / SR
    caller_runs = runs(c)
    out = ConversationTruth(a, c)
    for s, e in runs(a):
        onset, end = s * HOP_S + t0, e * HOP_S + t0
        current = next(((cs, ce) for cs, ce in caller_runs if cs <= s < ce), None)
        before = [(cs, ce) for cs, ce in caller_runs if ce <= s]
        if current is not None:
            caller_end = current[1] * HOP_S + t0
            if end - onset < BACKCHANNEL_MAX_S:
                kind = "backchannel"
            elif caller_end - onset >= FLOOR_TAKE_CALLER_AFTER_S:
                kind = "floor_take"
            else:
                kind = "overlap_handover"
            out.onsets.append(AgentOnset(onset, end, kind, caller_end, onset - caller_end))
        elif before and (s - before[-1][1]) * HOP_S <= HANDOVER_LOOKBACK_S:
            caller_end = before[-1][1] * HOP_S + t0
            out.onsets.append(AgentOnset(onset, end, "handover", caller_end, onset - caller_end))
        else:
            out.onsets.append(AgentOnset(onset, end, "free"))
    anyone = a | c
    if anyone.any():
        first = int(np.argmax(anyone))
        for s, e in runs(~anyone[first:]):
            if (e - s) * HOP_S >= DEAD_AIR_S and first + e < n:  # mid-call: someone speaks again afterwards
                out.dead_air.append(((first + s) * HOP_S + t0, (first + e) * HOP_S + t0))
    # monologues: agent talk since the last caller turn (a caller stretch >= CALLER_TURN_MIN_S)
    turn_ends = [ce for cs, ce in caller_runs if (ce - cs) * HOP_S >= CALLER_TURN_MIN_S]
    agent_runs = runs(a)
    start: int | None = None
    last_end = 0
    for s, e in agent_runs:
        turns_between = [te for te in turn_ends if (start if start is not None else s) <= te <= s]
        if start is None or turns_between:
            if start is not None and (last_end - start) * HOP_S >= MONOLOGUE_S:
                out.monologues.append((start * HOP_S + t0, last_end * HOP_S + t0))
            start = s
        last_end = e
    if start is not None and (last_end - start) * HOP_S >= MONOLOGUE_S:
        out.monologues.append((start * HOP_S + t0, last_end * HOP_S + t0))
    return out


def prf(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Frame-level precision, recall, F1 of pred against truth."""
    n = min(len(pred), len(truth))
    p, t = np.asarray(pred[:n], bool), np.asarray(truth[:n], bool)
    tp = int((p & t).sum())
    precision = tp / p.sum() if p.sum() else None
    recall = tp / t.sum() if t.sum() else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if t.sum() else None)
    return {"tp_s": tp * HOP_S, "pred_s": float(p.sum()) * HOP_S, "truth_s": float(t.sum()) * HOP_S,
            "precision": precision, "recall": recall, "f1": f1}


# ----------------------------------------------------------------------------- pace


PACE_TRUTH_WORDS = 12  # words per window of the truth pace: fixed, so the built labels do not move with the rule


def truth_pace(words: list[tuple[str, float, float]], ta: np.ndarray, calibration_end_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Her pace with the engine's timing taken out: syllables of each 12 transcribed words (their text only) per
    second of *truth* speech (`ta`, pauses excluded) between the first word's start and the last word's end,
    against the median of the windows that end before calibration. Returns (start of each window's first word,
    end of its last word, ratio to her normal)."""
    from poise.audio.pace import syllables

    words = [w for w in words if syllables(w[0])]
    if len(words) < PACE_TRUTH_WORDS:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    csum = np.concatenate(([0], np.cumsum(ta.astype(bool))))
    syl = np.array([syllables(w[0]) for w in words])
    starts, ends, rates = [], [], []
    for i in range(PACE_TRUTH_WORDS, len(words) + 1):
        a = int(words[i - PACE_TRUTH_WORDS][1] / HOP_S)
        b = min(int(np.ceil(words[i - 1][2] / HOP_S)), len(ta))
        speech_s = (csum[b] - csum[min(a, b)]) * HOP_S
        starts.append(words[i - PACE_TRUTH_WORDS][1])
        ends.append(words[i - 1][2])
        rates.append(syl[i - PACE_TRUTH_WORDS : i].sum() / speech_s if speech_s > 0 else np.nan)
    starts_a, ends_a, rates_a = np.array(starts), np.array(ends), np.array(rates)
    before = ends_a < calibration_end_s
    normal = np.nanmedian(rates_a[before]) if before.any() else np.nanmedian(rates_a)
    return starts_a, ends_a, rates_a / normal
