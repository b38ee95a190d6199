"""Build test calls from a real recording with coaching situations injected at known times.

Used by the cue tests (tests/test_analysis_e2e.py). A situation is a change to the
agent's side of a real two-channel call: a stretch sped up, pitch-raised, made
louder or quieter, agent speech dropped into a long caller turn (taking the floor),
or a short backchannel inside a caller turn (which must NOT give a cue).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from poise.audio.prosody import ProsodyTracker
from poise.audio.types import FRAME_HOP_S, SAMPLE_RATE

EXPECTED_CUE = {
    "fast": "slow_down",
    "high": "lower_tone",
    "loud": "lower_volume",
    "quiet": "speak_up",
    "interrupt": "let_caller_finish",
    "backchannel": None,
}
STRETCH_S = 10.0  # s of agent audio changed per situation
RAISE_ST = 3.5  # semitones a "high" stretch is raised over the agent's normal pitch (the cue fires at 3)
FAST_SPAN_S = 20.0  # s of call time over which the agent's turns are sped up (pace is judged over 8 s of speech)
CALIBRATION_END_S = 80.0  # s: situations start after the agent's normal is known (20 s of her speech + 5 s lag: ~78 s into the booking call)
SITUATION_SPACING_S = 30.0  # s between situations in one call (longer than the 20 s cooldown)
BACKCHANNEL_S = 0.8  # s of the agent's own speech dropped into a caller turn: a real "okay, sure" (the AMI headsets'
#   backchannels run 0.24-0.74 s; the truth calls an agent stretch under 1 s a backchannel)


@dataclass
class Situation:
    kind: str  # fast, high, loud, quiet, interrupt, backchannel
    start: float  # s: when the changed audio begins
    end: float

    @property
    def expected_cue(self) -> str | None:
        return EXPECTED_CUE[self.kind]


def load_stereo_16k(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(agent, caller) at 16 kHz from a stereo recording, agent on the left."""
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    agent, caller = x[:, 0], x[:, 1]
    if sr != SAMPLE_RATE:
        agent, caller = soxr.resample(agent, sr, SAMPLE_RATE), soxr.resample(caller, sr, SAMPLE_RATE)
    return agent.astype(np.float32), caller.astype(np.float32)


def median_f0(x: np.ndarray) -> float:
    """Median pitch (Hz) of the voiced frames, from the engine's own tracker."""
    f0 = ProsodyTracker().process(x).f0
    return float(np.median(f0[np.isfinite(f0)]))


def speech_mask(x: np.ndarray) -> np.ndarray:
    """Voice activity per 10 ms frame, from the engine's own tracker."""
    return ProsodyTracker().process(x).speech


def _runs(mask: np.ndarray) -> list[tuple[float, float]]:
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(s * FRAME_HOP_S, e * FRAME_HOP_S) for s, e in zip(edges[::2], edges[1::2])]


def agent_stretches(agent: np.ndarray, caller: np.ndarray, min_speech_share: float = 0.4) -> list[float]:
    """Start times of STRETCH_S windows after calibration that begin with an agent onset while the
    caller is quiet and hold mostly agent speech, spaced apart."""
    mask = speech_mask(agent)
    cmask = speech_mask(caller)
    per = int(STRETCH_S / FRAME_HOP_S)
    starts: list[float] = []
    for onset, _ in _runs(mask):
        i = int(round(onset / FRAME_HOP_S))
        if onset < CALIBRATION_END_S:
            continue
        if i + per > len(mask) or mask[max(0, i - 20) : i].any() or cmask[max(0, i - 20) : i + 20].any():
            continue
        if mask[i : i + per].mean() >= min_speech_share:
            starts.append(onset)
    return starts


def caller_turns(agent: np.ndarray, caller: np.ndarray, min_len_s: float = 3.0) -> list[float]:
    """Start times of caller turns at least min_len_s long (pauses < 0.5 s bridged) during which the agent is silent."""
    c = speech_mask(caller)
    a = speech_mask(agent)
    bridged = c.copy()
    for s, e in _runs(~c):
        if e - s < 0.5:
            bridged[int(s / FRAME_HOP_S) : int(e / FRAME_HOP_S)] = True
    out = []
    for s, e in _runs(bridged):
        lo, hi = int(s / FRAME_HOP_S), int(e / FRAME_HOP_S)
        if e - s >= min_len_s and not a[lo:hi].any() and s > 5.0:
            out.append(s)
    return out


def _agent_snippet(agent: np.ndarray, length_s: float) -> np.ndarray:
    """A stretch of the agent's own speech of about length_s (the loudest-voiced one)."""
    mask = speech_mask(agent)
    for s, e in sorted(_runs(mask), key=lambda r: -(r[1] - r[0])):
        if e - s >= length_s:
            lo = int(s * SAMPLE_RATE)
            return agent[lo : lo + int(length_s * SAMPLE_RATE)].copy()
    raise ValueError("no agent speech long enough for a snippet")


def tempo(x: np.ndarray, rate: float) -> np.ndarray:
    """Speech sped up by `rate` with pitch kept: sox's WSOLA `tempo -s`, which keeps syllables
    distinct (a phase vocoder smears them and sounds like nobody talking fast)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(str(src), x, SAMPLE_RATE, subtype="FLOAT")
        subprocess.run(["sox", str(src), str(dst), "tempo", "-s", str(rate)], check=True, capture_output=True)
        y, _ = sf.read(str(dst), dtype="float32")
    return y


def pitch(x: np.ndarray, semitones: float) -> np.ndarray:
    """Speech with its pitch raised, tempo kept: sox's `pitch` (WSOLA + resampling). librosa's phase
    vocoder leaves artefacts that a speech detector rightly refuses (a third of the frames stay speech)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.wav"
        sf.write(str(src), x, SAMPLE_RATE, subtype="FLOAT")
        subprocess.run(["sox", str(src), str(dst), "pitch", str(round(semitones * 100))], check=True, capture_output=True)
        y, _ = sf.read(str(dst), dtype="float32")
    return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]


def inject(agent: np.ndarray, caller: np.ndarray, kind: str, start: float) -> tuple[np.ndarray, Situation]:
    """A copy of the agent channel with one situation at `start` (s)."""
    out = agent.copy()
    lo = int(start * SAMPLE_RATE)
    hi = min(len(out), lo + int(STRETCH_S * SAMPLE_RATE))
    seg = out[lo:hi]
    end = start + STRETCH_S
    if kind == "fast":
        # every agent talk spurt of FAST_SPAN_S sped up in place: the agent rushes for a while
        hi = min(len(out), lo + int(FAST_SPAN_S * SAMPLE_RATE))
        end = start
        for run_start, run_end in _runs(speech_mask(agent[lo:hi])):
            a, b = lo + int(run_start * SAMPLE_RATE), lo + int(run_end * SAMPLE_RATE)
            fast = tempo(agent[a:b], 1.4)
            out[a:b] = 0.0
            out[a : a + len(fast)] = fast[: b - a]
            end = max(end, (a + len(fast)) / SAMPLE_RATE)
    elif kind == "high":
        # 3.5 st over the agent's normal (a stretch spoken below it needs more than a 3.5 st shift)
        out[lo:hi] = pitch(seg, float(np.clip(RAISE_ST + 12 * np.log2(median_f0(agent) / median_f0(seg)), RAISE_ST, 6.0)))
    elif kind == "loud":
        out[lo:hi] = np.clip(seg * 10 ** (9 / 20), -1.0, 1.0)
    elif kind == "quiet":
        out[lo:hi] = seg * 10 ** (-10 / 20)
    elif kind == "interrupt":
        snippet = _agent_snippet(agent, 2.5)
        out[lo : lo + len(snippet)] += snippet
        end = start + len(snippet) / SAMPLE_RATE
    elif kind == "backchannel":
        snippet = _agent_snippet(agent, BACKCHANNEL_S)
        fade = np.hanning(len(snippet)).astype(np.float32)
        out[lo : lo + len(snippet)] += snippet * fade
        end = start + len(snippet) / SAMPLE_RATE
    else:
        raise ValueError(kind)
    return out.astype(np.float32), Situation(kind, start, end)


def candidate_starts(agent: np.ndarray, caller: np.ndarray, kind: str) -> list[float]:
    """Where a situation of this kind can be injected into the call."""
    if kind in ("interrupt", "backchannel"):
        return [s + 1.0 for s in caller_turns(agent, caller)]
    return agent_stretches(agent, caller)


def masked(start: float, kind: str, base_cues: list[dict]) -> bool:
    """Whether a cue the unchanged call already gets would hide this situation's cue
    (same kind within the cooldown before it, or any cue still on screen)."""
    expected = EXPECTED_CUE[kind] or "let_caller_finish"
    for cue in base_cues:
        if cue["kind"] == expected and start - 22.0 <= cue["t"] <= start + 4.0:
            return True
        if start - 5.0 <= cue["t"] <= start + 1.0:
            return True
    return False


def build_call(
    agent: np.ndarray, caller: np.ndarray, kind: str, max_situations: int = 4, base_cues: list[dict] | None = None
) -> tuple[np.ndarray, list[Situation]]:
    """The call with up to max_situations of one kind, spaced so their cues cannot mask each other,
    and away from the cues the unchanged call gets (`base_cues`)."""
    spacing = SITUATION_SPACING_S if kind != "backchannel" else 0.0
    situations: list[Situation] = []
    out = agent
    for start in candidate_starts(agent, caller, kind):
        if len(situations) >= max_situations:
            break
        if situations and start - situations[-1].start < spacing:
            continue
        if base_cues is not None and masked(start, kind, base_cues):
            continue
        out, sit = inject(out, caller, kind, start)
        situations.append(sit)
    return out, situations


LINE_CROSSTALK = ((-24.0, 0.08), (-28.0, 0.12))  # (dB, s): caller into the agent's headset, agent echo on the line
LINE_FLOOR_DBFS = -55.0  # hiss and room noise on both sides
LINE_HUM_DBFS = -45.0  # 50 Hz mains hum with harmonics on the agent side


def realistic_line(agent: np.ndarray, caller: np.ndarray, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as a real line carries them: each hears the other delayed and attenuated (sidetone,
    echo), a noise floor, and mains hum on the agent's headset adapter."""
    rng = np.random.default_rng(seed)
    n = len(agent)

    def delayed(x: np.ndarray, gain_db: float, delay_s: float) -> np.ndarray:
        d = int(delay_s * SAMPLE_RATE)
        return np.concatenate([np.zeros(d, np.float32), x[: n - d]]) * np.float32(10 ** (gain_db / 20))

    def at_db(x: np.ndarray, db: float) -> np.ndarray:
        return (x * 10 ** (db / 20) / np.sqrt(np.mean(np.square(x, dtype=np.float64)))).astype(np.float32)

    t = np.arange(n) / SAMPLE_RATE
    hum = at_db(sum(a * np.sin(2 * np.pi * 50 * (i + 1) * t) for i, a in enumerate((1.0, 0.5, 0.3))), LINE_HUM_DBFS)
    (ga, da), (gc, dc) = LINE_CROSSTALK
    new_agent = agent + delayed(caller, ga, da) + at_db(rng.standard_normal(n), LINE_FLOOR_DBFS) + hum
    new_caller = caller + delayed(agent, gc, dc) + at_db(rng.standard_normal(n), LINE_FLOOR_DBFS)
    return new_agent.astype(np.float32), new_caller.astype(np.float32)


def write_call(path: Path, agent: np.ndarray, caller: np.ndarray, fmt: str) -> Path:
    """Write as `ulaw8k` (G.711 µ-law stereo at 8 kHz, as call recorders do) or `pcm16k`."""
    stereo = np.stack([agent, caller], axis=1)
    if fmt == "ulaw8k":
        stereo = soxr.resample(stereo, SAMPLE_RATE, 8000)
        sf.write(str(path), np.clip(stereo, -1, 1), 8000, subtype="ULAW")
    elif fmt == "pcm16k":
        sf.write(str(path), np.clip(stereo, -1, 1), SAMPLE_RATE, subtype="PCM_16")
    else:
        raise ValueError(fmt)
    return path


def score(cues: list[dict], situations: list[Situation], kind: str, latency_s: float = 4.0) -> dict:
    """Hits (the expected cue within latency_s after the situation's start) and false cues of the expected kind."""
    expected = EXPECTED_CUE[kind]
    hits, delays = 0, []
    matched: set[int] = set()
    for sit in situations:
        if expected is None:
            continue
        for i, cue in enumerate(cues):
            if cue["kind"] == expected and sit.start <= cue["t"] <= sit.end + latency_s and i not in matched:
                hits += 1
                matched.add(i)
                delays.append(cue["t"] - sit.start)
                break
    check_kind = expected or "let_caller_finish"
    windows = [(s.start, s.end + latency_s) for s in situations]
    on_backchannel = 0
    if expected is None:
        on_backchannel = sum(
            1 for c in cues if c["kind"] == "let_caller_finish" and any(lo <= c["t"] <= hi for lo, hi in windows)
        )
    false = sum(1 for i, c in enumerate(cues) if c["kind"] == check_kind and i not in matched and expected is not None)
    return {"situations": len(situations), "hits": hits, "delays": delays, "false": false, "on_backchannel": on_backchannel}
