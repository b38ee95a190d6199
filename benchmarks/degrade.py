"""Realistic line and room conditions for built test calls (`benchmarks/real_calls.py`).

Every function takes the clean 16 kHz tracks (agent, caller), the truth masks of the clean tracks
(10 ms frames, see `benchmarks/truth.py`) and a seeded generator, and returns new tracks plus the
parameters it drew (for the results). None of them changes who is speaking: the truth stays that
of the clean tracks. Levels are dBFS (full scale sine = +3 dBFS RMS convention not used: RMS of the
samples, 0 dB = RMS 1.0).
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.signal as ss
import soundfile as sf
import soxr

from benchmarks import truth as T

SR = T.SR

CROSSTALK_DB = (-35.0, -20.0)  # leakage of the other side, dB re its own level (issue 6: -20 to -35 dB)
CROSSTALK_DELAY_S = (0.020, 0.150)  # s: sidetone / echo path delay (issue 6: 20-150 ms)
NOISE_FLOOR_DBFS = (-60.0, -50.0)  # steady line/room noise floors (issue 6)
HUM_DBFS = -45.0  # RMS of the 50 Hz hum with its harmonics: clearly audible, well under speech (~-20 dBFS)
HUM_HARMONICS = (1.0, 0.5, 0.35, 0.25, 0.15, 0.1)  # amplitudes of 50, 100, ... 300 Hz (rectifier-rich mains hum)
BABBLE_SIR_DB = 25.0  # dB the agent's speech level is above the babble (several talkers a few desks away)
BABBLE_TALKERS = 4  # talkers summed (issue 6: 3+)
THUMP_EVERY_S = (4.0, 9.0)  # s between thumps / desk knocks
THUMP_PEAK_DBFS = (-12.0, -4.0)  # peak of a low-frequency bump (a hand on the desk, the mic cable): loud
KNOCK_PEAK_DBFS = (-20.0, -10.0)  # peak of a knock (broadband, 5-30 ms decay)
BREATH_DB_RE_SPEECH = (-22.0, -14.0)  # dB re the agent's speech level: an in-breath on a close headset mic
BREATH_S = (0.25, 0.6)  # s
KEYS_DBFS = (-38.0, -28.0)  # peak level of a key click
KEYS_RATE_HZ = (4.0, 9.0)  # clicks per second while typing
COMFORT_NOISE_DBFS = -53.0  # the level the issue saw line noise come back at after digital silence
DIGITAL_SILENCE_MIN_S = 1.0  # s: a silence this long on a channel goes digitally silent (DTX) ...
COMFORT_AFTER_S = (0.3, 1.5)  # ... for this long, then comfort noise until the talker speaks again
DROPOUTS_PER_MIN = 6.0  # short runs of zeros (lost packets) per minute and channel
DROPOUT_S = (0.02, 0.2)  # s


@dataclass
class Degraded:
    agent: np.ndarray
    caller: np.ndarray
    params: dict


Degradation = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.random.Generator, Path], Degraded]


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-13))


def speech_level_db(x: np.ndarray, mask: np.ndarray) -> float:
    """RMS level of x over its truth speech frames, dBFS (the 'active speech level')."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return rms_db(x)
    sel = np.concatenate([np.arange(k * T.HOP, k * T.HOP + T.HOP) for k in idx[::1]])
    sel = sel[sel < len(x)]
    return rms_db(x[sel])


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise of unit RMS, by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    y = np.fft.irfft(spec, n)
    return y / np.sqrt(np.mean(y**2))


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def at_db(x: np.ndarray, db: float) -> np.ndarray:
    """x scaled to an RMS of db dBFS."""
    return x * (10 ** (db / 20) / (np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def f32(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -1.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- the degradations


def crosstalk(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Each side hears the other, attenuated and delayed (sidetone, acoustic echo)."""
    ga, gc = rng.uniform(*CROSSTALK_DB), rng.uniform(*CROSSTALK_DB)
    da, dc = rng.uniform(*CROSSTALK_DELAY_S), rng.uniform(*CROSSTALK_DELAY_S)

    def leak(src: np.ndarray, gain_db: float, delay_s: float) -> np.ndarray:
        d = int(round(delay_s * SR))
        out = np.zeros_like(src)
        out[d:] = src[: len(src) - d]
        # a headset/handset path is band-limited and slightly coloured
        sos = ss.butter(2, (200, 3400), btype="bandpass", fs=SR, output="sos")
        return ss.sosfilt(sos, out) * 10 ** (gain_db / 20)

    return Degraded(f32(agent + leak(caller, ga, da)), f32(caller + leak(agent, gc, dc)),
                    {"caller_into_agent_db": round(ga, 1), "caller_into_agent_delay_ms": round(da * 1000),
                     "agent_into_caller_db": round(gc, 1), "agent_into_caller_delay_ms": round(dc * 1000)})


def noise_floor(agent, caller, ta, tc, rng, speech) -> Degraded:
    """A steady, slightly coloured noise floor on each side (line hiss, room, fan)."""
    la, lc = rng.uniform(*NOISE_FLOOR_DBFS), rng.uniform(*NOISE_FLOOR_DBFS)
    n = len(agent)
    mix = lambda: 0.5 * white(n, rng) + pink(n, rng)  # noqa: E731
    return Degraded(f32(agent + at_db(mix(), la)), f32(caller + at_db(mix(), lc)),
                    {"agent_floor_dbfs": round(la, 1), "caller_floor_dbfs": round(lc, 1)})


def snr_noise(kind: str, snr_db: float) -> Degradation:
    """White or pink noise at snr_db below each side's speech level, from the first sample."""
    def apply(agent, caller, ta, tc, rng, speech) -> Degraded:
        gen = white if kind == "white" else pink
        sa, sc = speech_level_db(agent, ta), speech_level_db(caller, tc)
        n = len(agent)
        return Degraded(f32(agent + at_db(gen(n, rng), sa - snr_db)), f32(caller + at_db(gen(n, rng), sc - snr_db)),
                        {"noise": kind, "snr_db": snr_db, "agent_noise_dbfs": round(sa - snr_db, 1),
                         "caller_noise_dbfs": round(sc - snr_db, 1)})
    apply.__name__ = f"{kind}{int(snr_db)}"
    return apply


def hum(agent, caller, ta, tc, rng, speech) -> Degraded:
    """50 Hz mains hum with harmonics (ground loop in the headset adapter), slowly wavering, on the agent side."""
    t = np.arange(len(agent)) / SR
    wobble = 1.0 + 0.1 * np.sin(2 * np.pi * 0.2 * t)
    y = sum(a * np.sin(2 * np.pi * 50 * (i + 1) * t + rng.uniform(0, 2 * np.pi)) for i, a in enumerate(HUM_HARMONICS))
    y = at_db(y * wobble, HUM_DBFS)
    return Degraded(f32(agent + y), caller.copy(), {"hum_dbfs": HUM_DBFS, "harmonics": len(HUM_HARMONICS)})


def _talker_pool(speech: Path, exclude: tuple[str, ...]) -> list[Path]:
    names = ["fw_jfk.flac", "sb_ljspeech_LJ050-0131.wav", "pyannote_sample.wav", "pyannote_ami_dev00.wav",
             "pyannote_ami_tst00.wav", "ps_goforward.wav", "sr_english.wav"]
    names += [Path(p).name for p in sorted(glob.glob(str(speech / "ps_librivox_*.wav")))]
    return [speech / n for n in names if (speech / n).exists() and n not in exclude]


def load_mono_16k(path: Path) -> np.ndarray:
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = x.mean(axis=1)
    return soxr.resample(y, sr, SR).astype(np.float32) if sr != SR else y


def babble_track(n: int, speech: Path, rng: np.random.Generator, exclude: tuple[str, ...] = ()) -> tuple[np.ndarray, list[str]]:
    """A sum of BABBLE_TALKERS other recordings, each looped to n samples from a random offset, equalised."""
    pool = _talker_pool(speech, exclude)
    picks = rng.choice(len(pool), size=min(BABBLE_TALKERS, len(pool)), replace=False)
    out = np.zeros(n)
    used = []
    for i in picks:
        x = load_mono_16k(pool[i])
        x = x / (np.sqrt(np.mean(x**2)) + 1e-12)
        reps = int(np.ceil((n + len(x)) / len(x)))
        tiled = np.tile(x, reps)
        off = int(rng.integers(0, len(x)))
        out += tiled[off : off + n]
        used.append(pool[i].name)
    # a room away: the high end is absorbed
    sos = ss.butter(2, 3000, btype="lowpass", fs=SR, output="sos")
    return ss.sosfilt(sos, out), used


def babble(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Office babble on the agent side: other talkers from ../shared/speech, BABBLE_SIR_DB under the agent."""
    b, used = babble_track(len(agent), speech, rng)
    level = speech_level_db(agent, ta) - BABBLE_SIR_DB
    return Degraded(f32(agent + at_db(b, level)), caller.copy(), {"talkers": used, "babble_dbfs": round(level, 1)})


def _silent_spots(mask: np.ndarray, n_samples: int, rng: np.random.Generator, every_s: tuple[float, float],
                  clear_s: float) -> list[int]:
    """Sample positions about every `every_s` where the truth has no speech within clear_s."""
    spots, t = [], rng.uniform(*every_s)
    clear = int(clear_s / T.HOP_S)
    while t < n_samples / SR - 1:
        k = int(t / T.HOP_S)
        if not mask[max(0, k - clear) : k + clear].any():
            spots.append(int(t * SR))
        t += rng.uniform(*every_s)
    return spots


def thumps(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Low-frequency bumps (a hand on the desk, the mic cable) and desk knocks on the agent side, in pauses."""
    out = agent.astype(np.float64).copy()
    events = []
    for pos in _silent_spots(ta, len(agent), rng, THUMP_EVERY_S, 0.3):
        if rng.random() < 0.6:  # bump: a decaying 15-60 Hz swing
            dur = rng.uniform(0.08, 0.25)
            t = np.arange(int(dur * SR)) / SR
            f = rng.uniform(15, 60)
            y = np.sin(2 * np.pi * f * t) * np.exp(-t / (dur / 4))
            peak = rng.uniform(*THUMP_PEAK_DBFS)
            kind = "bump"
        else:  # knock: a short broadband ring
            dur = rng.uniform(0.005, 0.03)
            t = np.arange(int(0.08 * SR)) / SR
            y = rng.standard_normal(len(t)) * np.exp(-t / dur)
            y = ss.sosfilt(ss.butter(2, (300, 5000), btype="bandpass", fs=SR, output="sos"), y)
            peak = rng.uniform(*KNOCK_PEAK_DBFS)
            kind = "knock"
        y = y / (np.max(np.abs(y)) + 1e-12) * 10 ** (peak / 20)
        end = min(len(out), pos + len(y))
        out[pos:end] += y[: end - pos]
        events.append(kind)
    return Degraded(f32(out), caller.copy(), {"bumps": events.count("bump"), "knocks": events.count("knock")})


def breaths(agent, caller, ta, tc, rng, speech) -> Degraded:
    """An in-breath before most agent turns (close headset mic): shaped noise, 0.25-0.6 s, ending 0.1-0.3 s before the onset."""
    out = agent.astype(np.float64).copy()
    level = speech_level_db(agent, ta)
    count = 0
    for s, _ in T.runs(ta):
        dur, lead = rng.uniform(*BREATH_S), rng.uniform(0.1, 0.3)
        end = int((s * T.HOP_S - lead) * SR)
        start = end - int(dur * SR)
        k0 = int(start / T.HOP)
        if start <= 0 or ta[max(0, k0 - 20) : int(end / T.HOP) + 1].any() or rng.random() < 0.3:
            continue
        y = rng.standard_normal(end - start)
        y = ss.sosfilt(ss.butter(2, (400, 2500), btype="bandpass", fs=SR, output="sos"), y)
        y *= np.hanning(len(y)) ** 0.7
        y = at_db(y, level + rng.uniform(*BREATH_DB_RE_SPEECH))
        out[start:end] += y
        count += 1
    return Degraded(f32(out), caller.copy(), {"breaths": count})


def keyboard(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Typing bursts on the agent side while the agent is silent (often while the caller talks)."""
    out = agent.astype(np.float64).copy()
    clicks = 0
    for pos in _silent_spots(ta, len(agent), rng, (5.0, 12.0), 1.2):
        burst = rng.uniform(1.0, 3.0)
        rate = rng.uniform(*KEYS_RATE_HZ)
        t = 0.0
        while t < burst:
            p = pos + int(t * SR)
            k = int(p / T.HOP)
            if k < len(ta) and ta[max(0, k - 10) : k + 10].any():
                break
            n = int(rng.uniform(0.004, 0.012) * SR)
            y = rng.standard_normal(n) * np.exp(-np.arange(n) / (n / 5))
            y = ss.sosfilt(ss.butter(2, 1500, btype="highpass", fs=SR, output="sos"), y)
            y = y / (np.max(np.abs(y)) + 1e-12) * 10 ** (rng.uniform(*KEYS_DBFS) / 20)
            end = min(len(out), p + n)
            out[p:end] += y[: end - p]
            clicks += 1
            t += rng.exponential(1 / rate)
    return Degraded(f32(out), caller.copy(), {"key_clicks": clicks})


def comfort_noise(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Both sides: in each silence >= DIGITAL_SILENCE_MIN_S the line goes to digital zeros (DTX), then after
    0.3-1.5 s switches to comfort noise at COMFORT_NOISE_DBFS until the talker speaks again."""
    outs, stretches = [], 0
    for x, m in ((agent, ta), (caller, tc)):
        y = x.astype(np.float64).copy()
        for s, e in T.runs(~m):
            if (e - s) * T.HOP_S < DIGITAL_SILENCE_MIN_S:
                continue
            a, b = (s + 5) * T.HOP, min(len(y), (e - 5) * T.HOP)  # 50 ms margins: speech edges untouched
            if b <= a:
                continue
            cut = min(b, a + int(rng.uniform(*COMFORT_AFTER_S) * SR))
            y[a:cut] = 0.0
            if b - cut > 16:
                noise = ss.sosfilt(ss.butter(2, (100, 3400), btype="bandpass", fs=SR, output="sos"), rng.standard_normal(b - cut))
                y[cut:b] = at_db(noise, COMFORT_NOISE_DBFS)
            stretches += 1
        outs.append(f32(y))
    return Degraded(outs[0], outs[1], {"stretches": stretches, "comfort_noise_dbfs": COMFORT_NOISE_DBFS})


def dropouts(agent, caller, ta, tc, rng, speech) -> Degraded:
    """Short runs of zeros (lost packets) anywhere on both sides."""
    outs, total = [], 0
    for x in (agent, caller):
        y = x.copy()
        n = rng.poisson(DROPOUTS_PER_MIN * len(x) / SR / 60)
        for _ in range(n):
            p = int(rng.integers(0, len(x)))
            y[p : p + int(rng.uniform(*DROPOUT_S) * SR)] = 0.0
        outs.append(y)
        total += n
    return Degraded(outs[0], outs[1], {"dropouts": total})


DEGRADATIONS: dict[str, Degradation] = {
    "crosstalk": crosstalk,
    "noise_floor": noise_floor,
    "white20": snr_noise("white", 20.0),
    "pink10": snr_noise("pink", 10.0),
    "hum": hum,
    "babble": babble,
    "thumps": thumps,
    "breaths": breaths,
    "keyboard": keyboard,
    "comfort_noise": comfort_noise,
    "dropouts": dropouts,
}
# all of them on one call (20 dB pink noise instead of 10 dB white: one noise, the milder SNR)
ALL_TOGETHER = ("crosstalk", "hum", "babble", "thumps", "breaths", "keyboard", "pink20", "comfort_noise", "dropouts")
EXTRA = {"pink20": snr_noise("pink", 20.0)}


def apply(names: tuple[str, ...], agent: np.ndarray, caller: np.ndarray, ta: np.ndarray, tc: np.ndarray,
          seed: int, speech: Path) -> Degraded:
    """Apply degradations in order (crosstalk first: it leaks the other side's clean-but-changed speech)."""
    rng = np.random.default_rng(seed)
    params = {}
    for name in names:
        fn = DEGRADATIONS.get(name) or EXTRA[name]
        d = fn(agent, caller, ta, tc, rng, speech)
        agent, caller = d.agent, d.caller
        params[name] = d.params
    return Degraded(agent, caller, params)
