"""Speech, not sound: a neural voice activity detector, streamed, plus the judgement of whose speech it is.

`SileroStream` runs the Silero VAD model that faster-whisper ships as ONNX (no torch) over
32 ms chunks, carrying the model's recurrent state across calls, so its probabilities are
the same whatever the block size. It costs about 0.2 % of one core per role.

`VoiceJudge` turns a role's per-frame loudness and speech probability into the frames the
coach calls speech. A frame is that role's own speech only when

- it sounds like speech to the model (line noise, hum, clicks, thumps and comfort noise do not),
- it stands above the channel's noise floor, measured on the frames the model calls non-speech
  (so the floor is right from the first second, whatever the noise),
- it is within `OWN_RANGE_DB` of the loud part of that role's own voice (other people in the
  room leak into a headset 20–50 dB down), and
- it is louder than what the other side's signal explains (`LeakageEstimator`: sidetone, echo,
  crosstalk between headsets).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from .types import FRAME_HOP

SILERO_CHUNK = 512  # samples at 16 kHz (32 ms): the model's fixed input length
SILERO_CONTEXT = 64  # samples of the previous chunk the model expects in front of each chunk
SILERO_STATE = (1, 1, 128)  # shape of the model's recurrent state tensors
SILERO_FILE = "silero_vad_v6.onnx"  # in faster_whisper/assets

PROB_ONSET = 0.5  # model probability that starts (or confirms) speech (Silero's own default threshold)
PROB_HOLD = 0.35  # probability that keeps speech going (Silero's default: onset − 0.15)
PROB_NOISE_MAX = 0.2  # frames below this are surely not speech: the noise floor is measured on them
PROB_OWN_REF = 0.7  # frames this sure teach the role's own-voice level
HANGOVER_FRAMES = 30  # 300 ms without speech evidence ends speech (bridges stops and the pauses inside a phrase)
ABOVE_FLOOR_DB = 6.0  # dB over the noise floor a frame needs to be audible speech (8 lost a third of the speech at 10 dB SNR)
ABOVE_FLOOR_SURE_DB = 3.0  # dB over the floor when the model is sure: at 10 dB SNR speech frames stand 2-5 dB over the noise
PROB_SURE = 0.8  # model probability above which the floor margin shrinks
FLOOR_RISE_DB_PER_FRAME = 0.3  # 30 dB/s on non-speech frames: comfort noise after digital silence is learnt in < 2 s
ABS_MIN_DB = -70.0  # dBFS: quieter frames are never speech (below any phone line's hiss)
OWN_RANGE_DB = 22.0  # dB below the loud part of the role's own voice still counted as theirs (crosstalk is 24–50 dB down)
OWN_REF_PERCENTILE = 90.0  # % of own speech frames quieter than the reference level
OWN_REF_PRIOR_DB = -30.0  # dBFS: a headset or phone voice before any is heard (gate at −52 dBFS)
OWN_REF_PRIOR_FRAMES = 100  # weight of the prior, in frames (1 s of speech outvotes it)
OWN_REF_MIN_DB_OVER_FLOOR = 15.0  # dB over the floor for a frame to teach the own-voice level
REFRESH_FRAMES = 100  # statistics are refreshed every 1 s of audio, at fixed frame indices (block-size independent)

LEAK_DELAY_MAX_FRAMES = 20  # 200 ms: longest sidetone/echo/crosstalk delay followed (real ones are 20–150 ms)
LEAK_MARGIN_DB = 6.0  # dB a frame must exceed the expected leakage by to be this side's own speech
COUPLING_PRIOR_DB = -20.0  # dB: assumed leakage of the other side until it is measured
COUPLING_MAX_DB = -15.0  # dB: no headset or handset leaks the far end louder than this
COUPLING_MIN_DB = -70.0
COUPLING_PERCENTILE = 90.0  # %: this level − the other's 200 ms peak is at most the coupling when only the leak is heard
LEAK_SAMPLE_MIN_GAP_DB = 10.0  # dB the other side must be louder than this side for a frame to measure the leak
COUPLING_MIN_FRAMES = 200  # 2 s of the other side talking before the measured coupling replaces the prior
OTHER_TALKING_MIN_DB = -50.0  # dBFS: the other side counts as clearly talking above this (and sure speech)

_DB_EDGES = np.arange(-100.0, 0.5, 0.5)  # dBFS histogram bins, 0.5 dB
_DIFF_EDGES = np.arange(-100.0, 40.5, 0.5)  # dB difference histogram bins


class SpeechModelError(RuntimeError):
    """The speech detector's model cannot be loaded; the message is one plain sentence."""


_session = None
_session_lock = threading.Lock()


def silero_model_path() -> Path:
    """The Silero VAD ONNX file inside the installed faster-whisper package (found without importing it)."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise SpeechModelError("The speech detector is missing (faster-whisper is not installed): reinstall Poise.")
    return Path(list(spec.submodule_search_locations)[0]) / "assets" / SILERO_FILE


def _inference_session():
    global _session
    with _session_lock:
        if _session is None:
            path = silero_model_path()
            if not path.is_file():
                raise SpeechModelError(f"The speech detector's model {path} is missing: reinstall Poise.")
            try:
                import onnxruntime
            except ImportError as exc:
                raise SpeechModelError("The speech detector needs onnxruntime, which is not installed: reinstall Poise.") from exc
            opts = onnxruntime.SessionOptions()
            opts.inter_op_num_threads = 1
            opts.intra_op_num_threads = 1  # a few hundred microseconds a chunk; one thread is plenty
            opts.log_severity_level = 4
            _session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"], sess_options=opts)
        return _session


class SileroStream:
    """Streaming Silero VAD for one 16 kHz channel: probability per completed 32 ms chunk."""

    def __init__(self) -> None:
        self._session = _inference_session()
        self._h = np.zeros(SILERO_STATE, np.float32)
        self._c = np.zeros(SILERO_STATE, np.float32)
        self._context = np.zeros(SILERO_CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)
        self._probs = np.zeros(0, np.float32)  # of chunks [self._first_chunk, chunks_done)
        self._first_chunk = 0
        self.chunks_done = 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Run the model over every chunk completed by `samples`; their probabilities (float32)."""
        buf = np.concatenate([self._pending, np.asarray(samples, np.float32)])
        count = len(buf) // SILERO_CHUNK
        self._pending = buf[count * SILERO_CHUNK :]
        if count == 0:
            return np.zeros(0, np.float32)
        chunks = buf[: count * SILERO_CHUNK].reshape(count, SILERO_CHUNK)
        context = np.concatenate([self._context[None, :], chunks[:-1, -SILERO_CONTEXT:]], axis=0)
        inputs = np.ascontiguousarray(np.concatenate([context, chunks], axis=1), np.float32)
        probs, self._h, self._c = self._session.run(None, {"input": inputs, "h": self._h, "c": self._c})
        probs = np.asarray(probs, np.float32).ravel()
        self._context = chunks[-1, -SILERO_CONTEXT:].copy()
        self.chunks_done += count
        keep = 64  # chunks (2 s): frames never ask further back than the block they belong to
        merged = np.concatenate([self._probs, probs])
        drop = max(0, len(merged) - keep - count)
        self._probs = merged[drop:]
        self._first_chunk += drop
        return probs

    def finish(self) -> np.ndarray:
        """The probability of the last chunk, the samples still pending padded with zeros to a whole chunk (a
        whole chunk of zeros when none are pending), as faster-whisper's VAD pads a channel; the stream ends."""
        tail = np.zeros(SILERO_CHUNK - len(self._pending), np.float32)
        return self.process(tail)

    def frame_probabilities(self, start_index: int, count: int, frame_len: int) -> np.ndarray:
        """Probability for frames start_index.. (each takes the newest chunk complete when the frame ends)."""
        ends = (np.arange(start_index, start_index + count) * FRAME_HOP + frame_len) // SILERO_CHUNK - 1
        out = np.zeros(count, np.float32)
        ok = ends >= self._first_chunk
        out[ok] = self._probs[np.minimum(ends[ok] - self._first_chunk, len(self._probs) - 1)]
        return out


class SileroReplay:
    """`SileroStream`'s interface over a channel's chunk probabilities computed before (`SpeechMap`): the
    same numbers, without running the model again."""

    def __init__(self, probabilities: np.ndarray) -> None:
        self._probs = np.asarray(probabilities, np.float32)
        self._first_chunk = 0
        self.chunks_done = 0
        self._fed = 0

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Advance over `samples`; the probabilities of the chunks they complete."""
        self._fed += len(samples)
        done = min(self._fed // SILERO_CHUNK, len(self._probs))
        new, self.chunks_done = self._probs[self.chunks_done : done], done
        return new

    frame_probabilities = SileroStream.frame_probabilities


class SpeechMap:
    """One channel's Silero probability per 32 ms chunk, from the call's start: written by one pass over the
    channel, read by the transcription (its speech pieces, `speech_timestamps`) and by the prosody replay
    (`SileroReplay`), so the model runs once per channel. Thread-safe; readers wait for what they need."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._count = 0
        self._closed = False
        self._cond = threading.Condition()

    def add(self, probabilities: np.ndarray) -> None:
        """Append the probabilities of the next chunks."""
        with self._cond:
            self._parts.append(np.asarray(probabilities, np.float32))
            self._count += len(probabilities)
            self._cond.notify_all()

    def close(self) -> None:
        """No more chunks come (the channel ended, or its pass stopped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait(self, chunks: int, timeout: float) -> bool:
        """Wait up to `timeout` s until `chunks` chunks are known or the map is closed; True when so."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count >= chunks or self._closed, timeout)

    def probabilities(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """The probabilities of chunks lo..hi (all known ones by default)."""
        with self._cond:
            if len(self._parts) > 1:
                self._parts = [np.concatenate(self._parts)]
            whole = self._parts[0] if self._parts else np.zeros(0, np.float32)
        return whole[lo:hi]

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed


def speech_timestamps(
    probabilities: np.ndarray,
    n_samples: int,
    *,
    threshold: float,
    neg_threshold: float | None,
    min_speech_duration_ms: int,
    max_speech_duration_s: float,
    min_silence_duration_ms: int,
    speech_pad_ms: int,
    sample_rate: int = 16000,
) -> list[dict[str, int]]:
    """Speech pieces ({"start", "end"} in samples) of `n_samples` of audio whose chunk i (samples 512 i..)
    has probability `probabilities[i]`: faster-whisper 1.2.1's `vad.get_speech_timestamps` after its
    model call, line for line (the options are its `VadOptions`), so the pieces are the ones it would cut."""
    window = SILERO_CHUNK
    min_speech_samples = sample_rate * min_speech_duration_ms / 1000
    speech_pad_samples = sample_rate * speech_pad_ms / 1000
    max_speech_samples = sample_rate * max_speech_duration_s - window - 2 * speech_pad_samples
    min_silence_samples = sample_rate * min_silence_duration_ms / 1000
    min_silence_samples_at_max_speech = sample_rate * 98 / 1000
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    # faster-whisper compares float32 probabilities with the thresholds in float32 (NumPy 2's casting)
    threshold, neg_threshold = float(np.float32(threshold)), float(np.float32(neg_threshold))

    triggered = False
    speeches: list[dict[str, int]] = []
    current: dict[str, int] = {}
    temp_end = 0  # a possible end of the current piece (some silence is tolerated)
    prev_end = next_start = 0  # where to cut when the piece reaches its longest
    for i, prob in enumerate(np.asarray(probabilities, np.float32).tolist()):
        at = window * i
        if prob >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if prob >= threshold and not triggered:
            triggered = True
            current["start"] = at
            continue
        if triggered and at - current["start"] > max_speech_samples:
            if prev_end:
                current["end"] = prev_end
                speeches.append(current)
                current = {}
                if next_start < prev_end:  # silence was reached and speech has not resumed
                    triggered = False
                else:
                    current["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current["end"] = at
                speeches.append(current)
                current = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue
        if prob < neg_threshold and triggered:
            if not temp_end:
                temp_end = at
            if at - temp_end > min_silence_samples_at_max_speech:
                prev_end = temp_end
            if at - temp_end < min_silence_samples:
                continue
            current["end"] = temp_end
            if current["end"] - current["start"] > min_speech_samples:
                speeches.append(current)
            current = {}
            prev_end = next_start = temp_end = 0
            triggered = False
            continue
    if current and n_samples - current["start"] > min_speech_samples:
        current["end"] = n_samples
        speeches.append(current)

    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - speech_pad_samples))
        if i != len(speeches) - 1:
            silence = speeches[i + 1]["start"] - speech["end"]
            if silence < 2 * speech_pad_samples:
                speech["end"] += int(silence // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence // 2))
            else:
                speech["end"] = int(min(n_samples, speech["end"] + speech_pad_samples))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - speech_pad_samples))
        else:
            speech["end"] = int(min(n_samples, speech["end"] + speech_pad_samples))
    return speeches


def _hist_percentile(counts: np.ndarray, edges: np.ndarray, percentile: float) -> float:
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, cum[-1] * percentile / 100.0))
    return float((edges[min(i, len(edges) - 2)] + edges[min(i, len(edges) - 2) + 1]) / 2.0)


class NoiseFloor:
    """A channel's noise floor, learnt on the frames the speech model calls non-speech: it drops at
    once and rises at FLOOR_RISE_DB_PER_FRAME, so it sits at the low edge of the noise."""

    def __init__(self) -> None:
        self.db: float | None = None

    def update(self, level: float, prob: float) -> float:
        if self.db is None:
            self.db = level
        elif prob < PROB_NOISE_MAX:
            self.db = level if level < self.db else min(level, self.db + FLOOR_RISE_DB_PER_FRAME)
        return self.db


class VoiceJudge:
    """Per-frame own-speech decision for one role (see the module docstring)."""

    def __init__(self) -> None:
        self._floor = NoiseFloor()
        self._own = np.zeros(len(_DB_EDGES) - 1, np.float64)
        self._own[np.searchsorted(_DB_EDGES, OWN_REF_PRIOR_DB) - 1] = OWN_REF_PRIOR_FRAMES
        self.own_ref_db = OWN_REF_PRIOR_DB
        self._speaking = False
        self._quiet_run = 0

    def judge(
        self, start_index: int, db: np.ndarray, prob: np.ndarray, leak_db: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(speech with hangover, active = own speech audible now, audible = own-level sound now)."""
        n = len(db)
        speech, active, audible = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        leak = leak_db.tolist() if leak_db is not None else [-np.inf] * n
        ref, speaking, quiet = self.own_ref_db, self._speaking, self._quiet_run
        for i, (level, p, expected) in enumerate(zip(db.tolist(), prob.tolist(), leak)):
            if (start_index + i) % REFRESH_FRAMES == 0:
                ref = _hist_percentile(self._own, _DB_EDGES, OWN_REF_PERCENTILE)
            floor = self._floor.update(level, p)
            margin = ABOVE_FLOOR_SURE_DB if p >= PROB_SURE else ABOVE_FLOOR_DB
            loud = level >= max(floor + margin, ABS_MIN_DB, ref - OWN_RANGE_DB, expected + LEAK_MARGIN_DB)
            audible[i] = loud
            if loud and p >= PROB_ONSET:
                speaking, quiet = True, 0
                if p >= PROB_OWN_REF and level >= floor + OWN_REF_MIN_DB_OVER_FLOOR:
                    self._own[min(max(int((level - _DB_EDGES[0]) / 0.5), 0), len(self._own) - 1)] += 1
            elif speaking and loud and p >= PROB_HOLD:
                quiet = 0
            else:
                quiet += 1
                if quiet >= HANGOVER_FRAMES:
                    speaking = False
            speech[i] = speaking
            active[i] = speaking and loud and p >= PROB_HOLD
        self.own_ref_db, self._speaking, self._quiet_run = ref, speaking, quiet
        return speech, active, audible

    @property
    def floor_db(self) -> float | None:
        return self._floor.db

    def own_level_gate_db(self) -> float:
        """The level a frame needs to be this role's own sound, as the judge stands now (before the
        other side's leak is known): a cheap pre-selection of frames worth a pitch estimate."""
        floor = self._floor.db if self._floor.db is not None else ABS_MIN_DB
        return max(floor + ABOVE_FLOOR_DB, ABS_MIN_DB, self.own_ref_db - OWN_RANGE_DB)


class LeakageEstimator:
    """How loud the other side's signal is expected to sound in this channel, frame by frame.

    The other side reaches this channel delayed (up to `LEAK_DELAY_MAX_FRAMES`) and attenuated
    by a coupling measured causally on the frames where the other side clearly talks and is
    10 dB louder than this side (so this side is silent or only leaking): there, this level −
    the other's 200 ms peak is at most the coupling, and its 90th percentile is taken. (Frames
    where the leak hides under this side's noise were tried as excluded: on a quiet line the
    coupling then never left its prior and delayed the agent's onsets over the caller by 0.1 s.) The expected leak of a frame is that peak plus the coupling; a comparison of
    levels, as a double-talk detector does.
    """

    def __init__(self) -> None:
        self._history = np.full(LEAK_DELAY_MAX_FRAMES, -100.0, np.float32)  # the other side's last frames
        self._diffs = np.zeros(len(_DIFF_EDGES) - 1, np.int64)
        self.coupling_db = COUPLING_PRIOR_DB

    def expected(self, start_index: int, this_db: np.ndarray, other_db: np.ndarray, other_prob: np.ndarray) -> np.ndarray:
        """Expected leak level (dBFS) in this channel for each frame of the block."""
        n = len(this_db)
        if n == 0:
            return np.zeros(0, np.float32)
        padded = np.concatenate([self._history, np.asarray(other_db, np.float32)])
        recent_max = np.lib.stride_tricks.sliding_window_view(padded, LEAK_DELAY_MAX_FRAMES + 1).max(axis=1)
        self._history = padded[-LEAK_DELAY_MAX_FRAMES:]
        other = np.asarray(other_db)
        # the other side clearly talking and clearly louder here than this side: this side is silent or only
        # leaking, never a double-talker, so these frames measure the leak and nothing else
        talking = (
            (np.asarray(other_prob) >= PROB_OWN_REF)
            & (other >= OTHER_TALKING_MIN_DB)
            & (other - np.asarray(this_db) >= LEAK_SAMPLE_MIN_GAP_DB)
        )
        diff_bins = np.clip(((np.asarray(this_db) - recent_max - _DIFF_EDGES[0]) / 0.5).astype(np.int64), 0, len(self._diffs) - 1)
        out = np.empty(n, np.float32)
        # the coupling changes only at fixed frame indices, so the result does not depend on block size
        bounds = [0] + [i for i in range(1, n) if (start_index + i) % REFRESH_FRAMES == 0] + [n]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if (start_index + lo) % REFRESH_FRAMES == 0 and self._diffs.sum() >= COUPLING_MIN_FRAMES:
                measured = _hist_percentile(self._diffs, _DIFF_EDGES, COUPLING_PERCENTILE)
                self.coupling_db = float(np.clip(measured, COUPLING_MIN_DB, COUPLING_MAX_DB))
            out[lo:hi] = recent_max[lo:hi] + self.coupling_db
            np.add.at(self._diffs, diff_bins[lo:hi][talking[lo:hi]], 1)
        return out

