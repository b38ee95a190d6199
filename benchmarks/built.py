"""Built test calls for `benchmarks/real_calls.py`: real two-channel speech with coaching situations
placed from the *truth* of the clean tracks (benchmarks/truth.py), never from the engine's detector.

Situations (kinds as in benchmarks/situations.py, plus quick handovers):

- fast: every agent stretch over FAST_SPAN_S sped up by WSOLA (sox `tempo -s`), pitch kept, so that it
  reads 1.4x her normal pace (1.4x, more where she spoke below her normal there)                  -> slow_down
- high: STRETCH_S of the agent pitch-shifted +3.5 semitones                                      -> lower_tone
- loud: STRETCH_S of the agent +9 dB                                                              -> lower_volume
- quiet: STRETCH_S of the agent -10 dB                                                            -> speak_up
  (each prosody stretch is lengthened until it holds as much of her speech as its rule reads:
  STRETCH_MIN_SPEECH_S, FAST_MIN_SPEECH_S after the speed-up)
- interrupt: a real agent utterance of 1.5-3 s dropped into a long caller stretch, 1 s after its start,
  ending >= 0.5 s before the caller stops (the agent takes the floor)                              -> let_caller_finish
- backchannel: a real short agent utterance (0.2-0.95 s) dropped into a caller stretch            -> no cue
- quick_handover: a real caller->agent handover moved so the agent starts 0.1-0.2 s after the
  caller's last sound (the agent's silence before the onset is moved after the utterance)          -> no cue

Every change updates the truth masks with the same edit, so the floor events (floor takes,
backchannels, handovers) of the built call come from `truth.conversation_truth` on the edited masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import soundfile as sf
import soxr

from benchmarks import truth as T
from benchmarks.situations import median_f0, pitch, tempo

SR, HOP, HOP_S = T.SR, T.HOP, T.HOP_S

EXPECTED_CUE = {"fast": "slow_down", "high": "lower_tone", "loud": "lower_volume", "quiet": "speak_up",
                "interrupt": "let_caller_finish", "backchannel": None, "quick_handover": None}
STRETCH_S = 10.0  # s of agent call time changed by high / loud / quiet (as benchmarks/situations.py)
FAST_SPAN_S = 20.0  # s of call time whose agent stretches are sped up (at least)
FAST_MIN_SPEECH_S = 8.0  # s of her sped-up speech a fast stretch holds: the pace rule reads ~8-10 s of speech
#   (12 words); 20 s of call time held as little as 5.2 s after the speed-up
STRETCH_MIN_SPEECH_S = 5.0  # s of her speech a high / loud / quiet stretch holds: the pitch rule reads 3 s of voiced
#   frames (~60 % of speech is voiced); the read call's 10 s held 2.7 s
STRETCH_MAX_S = 40.0  # s: a stretch is not lengthened past this
FAST_RATE = 1.4  # x her normal pace (issue 6: stretches sped up 1.4-1.5x)
FAST_TEMPO_MAX = 2.0  # tempo factor cap: a stretch she spoke far below her normal is not made a caricature
PITCH_ST = 3.5  # semitones (brief: ~3 st is a raised voice)
LOUD_DB, QUIET_DB = 9.0, -10.0  # dB (brief: +6 dB / -8 dB thresholds)
PROSODY_SPACING_S = 25.0  # s between prosody situations (kinds cycle, so one kind recurs every 100 s: past its 20 s budget)
FLOOR_SPACING_S = 22.0  # s between interrupts: one let_caller_finish per 20 s is the budget
CLEAR_OF_OTHERS_S = 6.0  # s kept between a no-cue situation (backchannel, handover) and any other situation
INTERRUPT_LEN_S = (1.5, 3.0)  # s: the agent's utterance that takes the floor
BACKCHANNEL_LEN_S = (0.2, 0.95)  # s: a real "okay" (0.2 s) to the AMI headsets' "Mm. Yeah." (0.74 s) and the booking
#   agent's 0.94 s acknowledgement (the truth calls an agent stretch under 1 s inside caller speech a backchannel)
QUICK_GAP_S = (0.1, 0.2)  # s after the caller's last sound (issue 6)


@dataclass
class Situation:
    kind: str
    start: float  # s: the changed audio begins (interrupt / backchannel / quick handover: the agent's onset)
    end: float
    detail: dict = field(default_factory=dict)

    @property
    def expected(self) -> str | None:
        return EXPECTED_CUE[self.kind]


@dataclass
class BuiltCall:
    name: str
    agent: np.ndarray
    caller: np.ndarray
    ta: np.ndarray  # agent truth per frame (bridged)
    tc: np.ndarray
    situations: list[Situation]
    calibration_end_s: float  # no prosody situation before this


def _frames(t: float) -> int:
    return int(round(t / HOP_S))


def _busy(situations: list[Situation], lo: float, hi: float, margin: float) -> bool:
    return any(s.start - margin < hi and lo < s.end + margin for s in situations)


def background(agent: np.ndarray, ta: np.ndarray, n: int) -> np.ndarray:
    """n samples of the agent's own background (the longest truth silence that is not digital zeros), looped."""
    best, best_len = None, 0
    for s, e in T.runs(~ta):
        seg = agent[s * HOP : e * HOP]
        if e - s > best_len and np.mean(np.abs(seg) > 0) > 0.9:
            best, best_len = seg, e - s
    if best is None or len(best) == 0:
        return np.zeros(n, np.float32)
    return np.tile(best, int(np.ceil(n / len(best))) + 1)[:n].astype(np.float32)


def quick_handovers(agent: np.ndarray, ta: np.ndarray, tc: np.ndarray, rng: np.random.Generator, t_from: float,
                    t_to: float, situations: list[Situation], max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Move up to max_n real handovers (gap >= 0.5 s) to start 0.1-0.2 s after the caller's last sound."""
    conv = T.conversation_truth(ta, tc)
    out, mask = agent.copy(), ta.copy()
    handovers = conv.of_kind("handover")
    for j in rng.permutation(len(handovers)):
        o = handovers[j]
        if sum(s.kind == "quick_handover" for s in situations) >= max_n:
            break
        if not (t_from <= o.caller_end and o.end <= t_to) or o.gap_s is None or o.gap_s < 0.5:
            continue
        if _busy(situations, o.caller_end, o.end, CLEAR_OF_OTHERS_S):
            continue
        gap = rng.uniform(*QUICK_GAP_S)
        new_onset = o.caller_end + gap
        shift = _frames(o.onset) - _frames(new_onset)
        if shift <= 0:
            continue
        k_new, k_on, k_end = _frames(new_onset), _frames(o.onset), _frames(o.end) + 10  # 100 ms tail kept with it
        # agent audio: [k_new, k_on) is silence; put the utterance there and the silence after it
        seg_utt = agent[k_on * HOP : k_end * HOP].copy()
        seg_sil = agent[k_new * HOP : k_on * HOP].copy()
        out[k_new * HOP : k_new * HOP + len(seg_utt)] = seg_utt
        out[k_new * HOP + len(seg_utt) : k_end * HOP] = seg_sil[: k_end * HOP - k_new * HOP - len(seg_utt)]
        m_utt, m_sil = ta[k_on:k_end].copy(), ta[k_new:k_on].copy()
        mask[k_new : k_new + len(m_utt)] = m_utt
        mask[k_new + len(m_utt) : k_end] = m_sil[: k_end - k_new - len(m_utt)]
        situations.append(Situation("quick_handover", round(new_onset, 3), round(new_onset + o.length, 3),
                                    {"caller_end": round(o.caller_end, 3), "gap_s": round(gap, 3), "was_gap_s": round(o.gap_s, 3)}))
    return out, mask


def _agent_utterances(ta: np.ndarray, length: tuple[float, float], t_to: float) -> list[tuple[int, int]]:
    return [(s, e) for s, e in T.runs(ta) if length[0] <= (e - s) * HOP_S <= length[1] and e * HOP_S <= t_to]


def drop_in(agent: np.ndarray, ta: np.ndarray, tc: np.ndarray, src: np.ndarray, src_ta: np.ndarray,
            rng: np.random.Generator, kind: str, t_from: float, t_to: float, situations: list[Situation],
            max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Add real agent utterances into caller stretches: interrupts (floor takes) or backchannels."""
    out, mask = agent.copy(), ta.copy()
    lengths = INTERRUPT_LEN_S if kind == "interrupt" else BACKCHANNEL_LEN_S
    pool = _agent_utterances(src_ta, lengths, len(src_ta) * HOP_S)
    if not pool:
        return out, mask
    caller_runs = T.runs(tc)
    for j in rng.permutation(len(caller_runs)):  # spread over the whole call
        cs, ce = caller_runs[j]
        if sum(s.kind == kind for s in situations) >= max_n:
            break
        start_t = cs * HOP_S + (1.0 if kind == "interrupt" else 0.8)
        us, ue = pool[int(rng.integers(0, len(pool)))]
        length = (ue - us) * HOP_S
        need_after = 0.5 if kind == "interrupt" else 0.3
        if start_t < t_from or start_t + length > t_to or ce * HOP_S < start_t + length + need_after:
            continue
        k = _frames(start_t)
        if mask[max(0, k - 50) : k + (ue - us) + 30].any():  # the agent silent around it in truth
            continue
        spacing = FLOOR_SPACING_S if kind == "interrupt" else CLEAR_OF_OTHERS_S
        if _busy(situations, start_t, start_t + length, CLEAR_OF_OTHERS_S) or any(
                s.kind == kind and abs(s.start - start_t) < spacing for s in situations):
            continue
        snippet = src[us * HOP : ue * HOP].astype(np.float64)
        fade = min(len(snippet) // 4, int(0.01 * SR))
        if fade:
            ramp = np.linspace(0, 1, fade)
            snippet[:fade] *= ramp
            snippet[-fade:] *= ramp[::-1]
        out[k * HOP : k * HOP + len(snippet)] += snippet.astype(np.float32)
        mask[k : k + (ue - us)] |= src_ta[us:ue]
        situations.append(Situation(kind, round(start_t, 3), round(start_t + length, 3),
                                    {"from_s": round(us * HOP_S, 2), "caller_run": [round(cs * HOP_S, 2), round(ce * HOP_S, 2)]}))
    return out, mask


def prosody_starts(ta: np.ndarray, tc: np.ndarray, t_from: float, t_to: float, span_s: float) -> list[float]:
    """Agent onsets (truth) after t_from, with the caller silent 0.3 s around them and >= 35 % agent
    speech in the next span_s."""
    out = []
    per = _frames(span_s)
    for s, _ in T.runs(ta):
        t = s * HOP_S
        if t < t_from or t + span_s > t_to:
            continue
        if tc[max(0, s - 30) : s + 30].any() or ta[max(0, s - 20) : s].any():
            continue
        if ta[s : s + per].mean() >= 0.35:
            out.append(round(t - 0.05, 3))  # 50 ms before the onset: the whole first syllable is changed
    return out


def fast_tempo(words: list[tuple[str, float, float]] | None, ta: np.ndarray, calibration_end_s: float, start: float) -> tuple[float, float | None]:
    """(tempo factor, her pace there before the change) for a fast stretch at `start`: FAST_RATE over her normal,
    as the pitch stretch is placed against her normal pitch. Her pace there is the median truth pace
    (benchmarks/truth.py `truth_pace`, on the clean base's words) of the 12-word windows inside the stretch;
    without words (or windows) the stretch is sped up FAST_RATE."""
    if not words:
        return FAST_RATE, None
    starts, ends, ratio = T.truth_pace(words, ta, calibration_end_s)
    inside = ratio[(starts >= start) & (ends <= start + FAST_SPAN_S)]
    if not len(inside) or not np.isfinite(inside).any():
        return FAST_RATE, None
    here = float(np.nanmedian(inside))
    return float(np.clip(FAST_RATE / here, FAST_RATE, FAST_TEMPO_MAX)), round(here, 2)


def stretch_span(ta: np.ndarray, kind: str, start: float, rate: float = FAST_RATE) -> float:
    """Seconds of call time a prosody stretch at `start` changes: STRETCH_S (FAST_SPAN_S), lengthened until it
    holds STRETCH_MIN_SPEECH_S of her truth speech (FAST_MIN_SPEECH_S once sped up by `rate`), at most STRETCH_MAX_S."""
    base, need = (FAST_SPAN_S, FAST_MIN_SPEECH_S * rate) if kind == "fast" else (STRETCH_S, STRETCH_MIN_SPEECH_S)
    k0 = _frames(start)
    speech = np.cumsum(ta[k0 : k0 + _frames(STRETCH_MAX_S)]) * HOP_S
    enough = int(np.searchsorted(speech, need)) + 1
    return float(np.clip(enough * HOP_S, base, min(STRETCH_MAX_S, len(speech) * HOP_S)))


def change_stretch(agent: np.ndarray, ta: np.ndarray, kind: str, start: float, bg: np.ndarray,
                   rate: float = FAST_RATE, span_s: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """One prosody situation on a copy; returns (audio, truth, end time). `rate`: the fast stretch's tempo factor;
    `span_s`: the call time it changes (default FAST_SPAN_S or STRETCH_S)."""
    out, mask = agent.copy(), ta.copy()
    lo = int(start * SR)
    if kind == "fast":
        hi = min(len(out), lo + int((span_s or FAST_SPAN_S) * SR))
        end = start
        k0, k1 = lo // HOP, hi // HOP
        for s, e in T.runs(ta[k0:k1]):
            a, b = (k0 + s) * HOP, (k0 + e) * HOP
            fast = tempo(agent[a:b], rate)[: b - a]
            out[a:b] = bg[: b - a]
            out[a : a + len(fast)] = fast
            mask[k0 + s : k0 + e] = False
            mask[k0 + s : k0 + s + int(np.ceil(len(fast) / HOP))] = True
            end = max(end, (a + len(fast)) / SR)
        return out, mask, round(end, 3)
    hi = min(len(out), lo + int((span_s or STRETCH_S) * SR))
    seg = out[lo:hi]
    if kind == "high":
        # PITCH_ST over her normal (a stretch spoken below it needs more), by sox: librosa's phase vocoder
        # leaves artefacts a speech detector rightly refuses (two thirds of the frames stop being speech)
        below = 12 * np.log2(median_f0(agent) / median_f0(seg))
        out[lo:hi] = pitch(seg, float(np.clip(PITCH_ST + below, PITCH_ST, 6.0)))
    elif kind == "loud":
        out[lo:hi] = np.clip(seg * 10 ** (LOUD_DB / 20), -1.0, 1.0)
    elif kind == "quiet":
        out[lo:hi] = seg * 10 ** (QUIET_DB / 20)
    else:
        raise ValueError(kind)
    return out, mask, round(hi / SR, 3)


def build(name: str, agent: np.ndarray, caller: np.ndarray, ta: np.ndarray, tc: np.ndarray, *, seed: int,
          calibration_end_s: float, prosody_kinds: tuple[str, ...] = ("fast", "high", "loud", "quiet"),
          n_interrupts: int = 6, n_backchannels: int = 8, n_quick: int = 8,
          agent_words: list[tuple[str, float, float]] | None = None) -> BuiltCall:
    """A call with situations of every kind, placed from the truth and spaced so cues cannot mask each other.
    `agent_words`: the clean base's agent words (text, start s, end s), which set each fast stretch's tempo."""
    rng = np.random.default_rng(seed)
    n = min(len(agent), len(caller))
    agent, caller = agent[:n].astype(np.float32), caller[:n].astype(np.float32)
    nf = T.n_frames(n)
    ta, tc = ta[:nf].copy(), tc[:nf].copy()
    total = n / SR
    situations: list[Situation] = []
    bg = background(agent, ta, int(STRETCH_MAX_S * SR) + SR)
    # prosody situations first (they need the agent's own stretches, after calibration)
    src_a, src_ta = agent.copy(), ta.copy()
    i = 0
    for start in prosody_starts(ta, tc, calibration_end_s, total - 2.0, FAST_SPAN_S):
        if situations and start - situations[-1].end < PROSODY_SPACING_S - STRETCH_S:
            continue
        kind = prosody_kinds[i % len(prosody_kinds)]
        i += 1
        rate, here = fast_tempo(agent_words, src_ta, calibration_end_s, start) if kind == "fast" else (FAST_RATE, None)
        span = stretch_span(src_ta, kind, start, rate)
        agent, ta, end = change_stretch(agent, ta, kind, start, bg, rate, span)
        situations.append(Situation(kind, start, end, {"tempo": round(rate, 2), "pace_before": here} if kind == "fast" else {}))
    # floor situations anywhere after the first 10 s (they need no calibration)
    agent, ta = drop_in(agent, ta, tc, src_a, src_ta, rng, "interrupt", 10.0, total - 2.0, situations, n_interrupts)
    agent, ta = drop_in(agent, ta, tc, src_a, src_ta, rng, "backchannel", 10.0, total - 2.0, situations, n_backchannels)
    agent, ta = quick_handovers(agent, ta, tc, rng, 10.0, total - 2.0, situations, n_quick)
    situations.sort(key=lambda s: s.start)
    return BuiltCall(name, agent, caller, ta, tc, situations, calibration_end_s)


# ----------------------------------------------------------------------------- bases


MONOLOGUE_S = 52.0  # s of agent talk appended with the caller silent: past the brief's ~45 s monologue
TURN_GAP_S = (0.6, 1.5)  # s between turns of an assembled call (the booking call's handovers: 0.6-1.7 s)
PHRASE_GAP_S = (0.3, 0.6)  # s between an agent's phrases inside one turn


def monologue(agent: np.ndarray, ta: np.ndarray, rng: np.random.Generator, length_s: float = MONOLOGUE_S) -> np.ndarray:
    """One long agent turn: the agent's own utterances (truth runs >= 1 s) one after another, with short
    phrase gaps of their own background."""
    bg_a = background(agent, ta, int((length_s + 10) * SR))
    pieces, total, i = [], 0, 0
    utts = [(s, e) for s, e in T.runs(ta) if (e - s) * HOP_S >= 1.0]
    while total < length_s * SR and utts:
        s, e = utts[i % len(utts)]
        gap = bg_a[: int(rng.uniform(*PHRASE_GAP_S) * SR)]
        pieces += [agent[s * HOP : e * HOP], gap]
        total += (e - s) * HOP + len(gap)
        i += 1
    return np.concatenate(pieces).astype(np.float32)


def assembled_read_call(speech, rng: np.random.Generator, length_s: float = 240.0) -> tuple[np.ndarray, np.ndarray]:
    """A call assembled from real recordings: the agent is one LibriVox reader (5 clips, reused in shuffled
    order), the caller the AMI headset speech of FEE013 and FEE016 cut at their quietest 100 ms into 3-7 s
    pieces (their tracks carry the room's other talkers at -20 to -25 dB, as a real line would).
    Turns alternate with 0.6-1.5 s gaps. Between turns the agent's side carries pink noise at the clips' own
    noise floor (the clips hold too little silence to loop), the caller's a real phone line's background."""
    import glob

    from benchmarks.degrade import load_mono_16k

    clips = [load_mono_16k(p) for p in sorted(glob.glob(str(speech / "ps_librivox_*.wav")))]
    caller_src = []
    for name, spans in (("pyannote_ami_seriously_source1.wav", [(7.5, 29.7)]),
                        ("pyannote_ami_seriously_source3.wav", [(0.0, 5.2), (29.8, 44.4)])):
        x = load_mono_16k(speech / name)
        for lo, hi in spans:
            caller_src += _cut_pieces(x[int(lo * SR) : int(hi * SR)], (3.0, 7.0))
    floor_db = float(np.median([np.percentile(T.frame_db(c), T.FLOOR_PCT) for c in clips]))
    from benchmarks.degrade import at_db, pink

    noise = at_db(pink(int((length_s + 30) * SR), rng), floor_db).astype(np.float32)
    # between turns the caller's line carries a real phone line's background: the booking call's caller side
    # where she is silent (the AMI room never is: someone always talks there)
    x, sr = sf.read(str(speech / "call_spokenwoz_agent_left_8k_ulaw.wav"), dtype="float32", always_2d=True)
    booking_caller = soxr.resample(x[:, 1], sr, SR).astype(np.float32)
    caller_bg_src = background(booking_caller, T.energy_speech(booking_caller).speech, 20 * SR)
    a_parts, c_parts, total = [], [], 0
    order = list(rng.permutation(len(clips)))
    pieces = list(rng.permutation(len(caller_src)))
    pi = 0
    while total < length_s * SR:
        # agent turn: two clips
        turn = []
        for _ in range(2):
            if not order:
                order = list(rng.permutation(len(clips)))
            k = order.pop()
            turn += [clips[k], noise[: int(rng.uniform(*PHRASE_GAP_S) * SR)]]
        a_turn = np.concatenate(turn)
        gap = int(rng.uniform(*TURN_GAP_S) * SR)
        if pi >= len(pieces):
            pieces, pi = list(rng.permutation(len(caller_src))), 0
        c_turn = caller_src[pieces[pi]]
        pi += 1
        gap2 = int(rng.uniform(*TURN_GAP_S) * SR)
        la, lc = len(a_turn), len(c_turn)
        seg_len = la + gap + lc + gap2
        a_seg = noise[total : total + seg_len].copy() if total + seg_len <= len(noise) else np.resize(noise, seg_len)
        a_seg[:la] = a_turn
        off = int(rng.integers(0, max(1, len(caller_bg_src) - seg_len))) if len(caller_bg_src) > seg_len else 0
        c_seg = np.tile(caller_bg_src, int(np.ceil(seg_len / len(caller_bg_src))) + 1)[off : off + seg_len].copy()
        c_seg[la + gap : la + gap + lc] = c_turn
        a_parts.append(a_seg)
        c_parts.append(c_seg)
        total += seg_len
    return np.concatenate(a_parts).astype(np.float32), np.concatenate(c_parts).astype(np.float32)


def _cut_pieces(x: np.ndarray, length_s: tuple[float, float]) -> list[np.ndarray]:
    """x cut at its quietest 100 ms steps into pieces of length_s."""
    step = SR // 10
    energy = np.square(x[: len(x) // step * step].reshape(-1, step)).mean(axis=1)
    out, lo = [], 0
    lo_steps, hi_steps = int(length_s[0] * 10), int(length_s[1] * 10)
    while lo + lo_steps < len(energy):
        window = energy[lo + lo_steps : lo + hi_steps]
        if len(window) == 0:
            break
        cut = lo + lo_steps + int(np.argmin(window))
        out.append(x[lo * step + step // 2 : cut * step + step // 2].copy())
        lo = cut
    return out
