"""Transcription on real speech: accuracy, word times, guards, model errors, live worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from faster_whisper.transcribe import Segment as WhisperSegment
from faster_whisper.transcribe import Word as WhisperWord

from poise.audio.transcribe import (
    WHISPER_OPTIONS,
    ModelError,
    StreamingTranscriber,
    clean_segments,
    default_model_path,
    load_model,
    transcribe_batch,
    transcribe_utterance,
)
from poise.audio.types import SAMPLE_RATE, Segment

from conftest import REPO, speech_path

pytestmark = pytest.mark.slow

LIBRIVOX = [f"ps_librivox_sense_and_sensibility_01_austen_64kb-0{n}.wav" for n in (870, 880, 890, 920, 930)]
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country"
NUMBERS = {"1": "one", "2": "two", "3": "three", "10": "ten", "mr": "mister"}


def load_16k(name: str) -> np.ndarray:
    data, rate = sf.read(speech_path(name), dtype="float32", always_2d=True)
    return soxr.resample(data.mean(axis=1), rate, SAMPLE_RATE).astype(np.float32)


def reference(name: str) -> str:
    return speech_path(name).with_name(name + ".txt").read_text().strip()


def words_of(text: str) -> list[str]:
    text = re.sub(r"[-]", " ", text.lower())
    return [NUMBERS.get(w, w) for w in re.sub(r"[^\w\s']", "", text).split()]


def wer(ref: str, hyp: str) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    r, h = words_of(ref), words_of(hyp)
    row = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(h) + 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return row[len(h)] / max(1, len(r))


def text_of(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments)


def check_times(segments: list[Segment], lo: float, hi: float) -> None:
    """Words are monotonic and inside [lo, hi]; segments span their words."""
    last = lo
    for seg in segments:
        assert lo <= seg.start <= seg.end <= hi + 1e-6
        assert seg.words, seg
        for w in seg.words:
            assert lo <= w.start <= w.end <= hi + 1e-6, (w, lo, hi)
            assert w.start >= last - 1e-6
            last = w.start
        assert seg.start == seg.words[0].start


@pytest.fixture(scope="module")
def model():
    return load_model()


# ---------------------------------------------------------------------------- batch


def test_default_model_is_the_bundled_tiny_en():
    path = default_model_path()
    assert (path / "model.bin").is_file() and (path / "tokenizer.json").is_file()


def test_model_is_cached_per_path_and_threads(model):
    assert load_model() is model
    assert load_model(str(default_model_path())) is model


def test_jfk_batch_accuracy_and_absolute_word_times(model):
    audio = load_16k("fw_jfk.flac")
    offset = 42.0
    fractions: list[float] = []
    segments = transcribe_batch(model, audio, "agent", offset_s=offset, progress=fractions.append)
    assert wer(JFK_TEXT, text_of(segments)) <= 0.10
    assert all(s.role == "agent" for s in segments)
    check_times(segments, offset, offset + audio.size / SAMPLE_RATE)
    assert segments[0].start < offset + 1.0  # speech starts at once in this clip
    assert fractions and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)


def test_librivox_word_error_rate(model):
    errors, total = 0.0, 0
    for name in LIBRIVOX:
        audio = load_16k(name)
        segments = transcribe_batch(model, audio, "caller")
        ref = reference(name)
        file_wer = wer(ref, text_of(segments))
        assert file_wer <= 0.40, (name, text_of(segments))
        errors += file_wer * len(words_of(ref))
        total += len(words_of(ref))
        check_times(segments, 0.0, audio.size / SAMPLE_RATE)
    assert errors / total <= 0.15


def test_one_two_three(model):
    segments = transcribe_batch(model, load_16k("sr_english.wav"), "agent")
    assert words_of(text_of(segments)) == ["one", "two", "three"]


@pytest.mark.parametrize("kind", ["silence", "white_noise", "quiet_hum"])
def test_no_text_without_speech(model, kind):
    rng = np.random.default_rng(7)
    n = 6 * SAMPLE_RATE
    audio = {
        "silence": np.zeros(n),
        "white_noise": 0.1 * rng.standard_normal(n),
        "quiet_hum": 0.003 * np.sin(2 * np.pi * 50 * np.arange(n) / SAMPLE_RATE) + 3e-4 * rng.standard_normal(n),
    }[kind].astype(np.float32)
    assert transcribe_batch(model, audio, "agent") == []
    # the live path has no VAD of its own: the guards alone must hold
    assert transcribe_utterance(model, audio[: 3 * SAMPLE_RATE], "agent", 10.0) == []


def test_empty_audio_gives_nothing(model):
    assert transcribe_batch(model, np.zeros(0, np.float32), "agent") == []


# ---------------------------------------------------------------------------- guards


def whisper_segment(text: str, start: float, end: float, **kw) -> WhisperSegment:
    words = [
        WhisperWord(start=start + i * (end - start) / len(text.split()), end=start + (i + 1) * (end - start) / len(text.split()), word=" " + w, probability=0.9)
        for i, w in enumerate(text.split())
    ]
    fields = dict(id=0, seek=0, start=start, end=end, text=" " + text, tokens=[], avg_logprob=-0.3,
                  compression_ratio=1.2, no_speech_prob=0.05, words=words, temperature=0.0)
    fields.update(kw)
    return WhisperSegment(**fields)


def test_guards_keep_real_speech_untouched(model):
    audio = load_16k("fw_jfk.flac")
    raw = list(model.transcribe(audio, **WHISPER_OPTIONS)[0])
    assert [s.text for s in clean_segments(raw, audio)] == [s.text for s in raw]


def test_stock_phrase_dropped_over_silence_kept_over_speech():
    speech = load_16k("sr_english.wav")  # real speech, loud enough
    silence = np.zeros_like(speech)
    seg = whisper_segment("Thank you.", 0.5, 2.0)
    assert list(clean_segments([seg], silence)) == []
    assert [s.text for s in clean_segments([seg], speech)] == [" Thank you."]
    # a stock phrase over a click-length stretch is dropped even when loud
    assert list(clean_segments([whisper_segment("you", 0.5, 0.6)], speech)) == []


def test_guards_drop_failed_decodes():
    audio = load_16k("sr_english.wav")
    assert list(clean_segments([whisper_segment("one two", 0.2, 1.0, no_speech_prob=0.8, avg_logprob=-1.5)], audio)) == []
    assert list(clean_segments([whisper_segment("one two", 0.2, 1.0, compression_ratio=3.1)], audio)) == []
    assert list(clean_segments([whisper_segment("...", 0.2, 1.0)], audio)) == []
    # high no-speech alone is not enough: confident text stays
    assert len(list(clean_segments([whisper_segment("one two", 0.2, 1.0, no_speech_prob=0.8)], audio))) == 1


def test_loops_collapse():
    audio = load_16k("sr_english.wav")
    looped = whisper_segment("I am sorry. I am sorry. I am sorry. I am sorry. Let me check", 0.0, 2.7)
    (out,) = clean_segments([looped], audio)
    assert out.text.split() == ["I", "am", "sorry.", "Let", "me", "check"]
    assert [w.word.strip() for w in out.words] == out.text.split()
    # a word said three times is speech, not a loop
    (kept,) = clean_segments([whisper_segment("no no no", 0.0, 2.0)], audio)
    assert kept.text.split() == ["no", "no", "no"]
    # the same segment three times in a row: the third goes
    same = [whisper_segment("Let me check that for you.", i, i + 0.9) for i in range(3)]
    assert len(list(clean_segments(same, audio))) == 2


# ---------------------------------------------------------------------------- model errors


def _model_copy(tmp_path: Path, skip: str | None = None) -> Path:
    """A model folder of symlinks to the bundled files (not cached under the bundled path)."""
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    for f in default_model_path().iterdir():
        if f.name != skip:
            (folder / f.name).symlink_to(f)
    return folder


def assert_one_sentence(err: ModelError, folder: Path) -> None:
    msg = str(err)
    assert "\n" not in msg and "Traceback" not in msg and str(folder) in msg and msg.endswith(".")


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError) as err:
        load_model(tmp_path / "nowhere")
    assert_one_sentence(err.value, tmp_path / "nowhere")


def test_folder_without_model_bin(tmp_path):
    folder = _model_copy(tmp_path, skip="model.bin")
    with pytest.raises(ModelError) as err:
        load_model(folder)
    assert_one_sentence(err.value, folder)
    assert "model.bin" in str(err.value)


def test_corrupt_model(tmp_path):
    folder = _model_copy(tmp_path, skip="model.bin")
    (folder / "model.bin").write_bytes(default_model_path().joinpath("model.bin").read_bytes()[:2_000_000])
    with pytest.raises(ModelError) as err:
        load_model(folder)
    assert_one_sentence(err.value, folder)


def test_loading_never_touches_the_hub(tmp_path):
    """Hub allowed by env but unroutable, sockets disabled: a folder loads, a name or a gap fails fast."""
    good = _model_copy(tmp_path / "a")
    no_tokenizer = _model_copy(tmp_path / "b", skip="tokenizer.json")
    script = f"""
import socket
def _no_network(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = _no_network
socket.create_connection = _no_network
from poise.audio.transcribe import ModelError, load_model, transcribe_batch
import numpy as np
model = load_model({str(good)!r}, cpu_threads=1)
t = np.arange(16000) / 16000
transcribe_batch(model, (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), "agent")
for bad in ({str(no_tokenizer)!r}, "tiny.en", "Systran/faster-whisper-tiny.en"):
    try:
        load_model(bad)
    except ModelError as err:
        print("refused:", err)
    else:
        raise SystemExit("loaded " + bad)
print("ok")
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://10.255.255.1:9", "PYTHONPATH": str(REPO)}
    env.pop("TRANSFORMERS_OFFLINE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused:") == 3 and done.stdout.strip().endswith("ok")


# ---------------------------------------------------------------------------- streaming


def quiet_cuts(audio: np.ndarray, lo_s: float = 1.8, hi_s: float = 3.0) -> list[tuple[int, int]]:
    """Cut audio into pieces of lo_s..hi_s at the quietest 20 ms frame, like the session's VAD."""
    frame = SAMPLE_RATE // 50
    energy = np.convolve(audio.astype(np.float64) ** 2, np.ones(frame), "same")
    cuts, start = [], 0
    while audio.size - start > hi_s * SAMPLE_RATE:
        lo, hi = start + int(lo_s * SAMPLE_RATE), start + int(hi_s * SAMPLE_RATE)
        end = lo + int(np.argmin(energy[lo:hi]))
        cuts.append((start, end))
        start = end
    cuts.append((start, audio.size))
    return cuts


class Collector:
    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.lock = threading.Lock()

    def __call__(self, segment: Segment) -> None:
        with self.lock:
            self.segments.append(segment)


def test_streaming_jfk_in_chunks(model):
    audio = load_16k("fw_jfk.flac")
    offset = 100.0
    got = Collector()
    worker = StreamingTranscriber(model, got, max_lag_s=1e9)  # accuracy here; skipping is tested below
    worker.start()
    cuts = quiet_cuts(audio)
    assert len(cuts) >= 4
    for a, b in cuts:
        worker.submit("caller", offset + a / SAMPLE_RATE, audio[a:b])
    worker.stop(timeout=60)
    assert wer(JFK_TEXT, text_of(got.segments)) <= 0.25, text_of(got.segments)
    assert all(s.role == "caller" for s in got.segments)
    check_times(got.segments, offset, offset + audio.size / SAMPLE_RATE)
    for seg in got.segments:  # each segment lies inside the utterance it came from
        assert any(offset + a / SAMPLE_RATE <= seg.start and seg.end <= offset + b / SAMPLE_RATE + 1e-6 for a, b in cuts)
    assert worker.skipped_s == 0.0 and worker.lag_s == 0.0 and worker.pending == 0


def test_streaming_skips_ahead_when_flooded(model):
    clips = [load_16k(name) for name in LIBRIVOX[1:]] * 2  # 8 utterances, ~35 s of audio
    got = Collector()
    worker = StreamingTranscriber(model, got, max_lag_s=1.0)
    worker.start()
    t, starts = 0.0, []
    for clip in clips:
        worker.submit("agent", t, clip)
        starts.append(t)
        t += clip.size / SAMPLE_RATE + 0.5
    assert worker.lag_s > 1.0  # the whole flood is waiting behind the first utterance
    worker.stop(timeout=60)
    assert worker.skipped_s > 0.0
    delivered = {max(i for i, s in enumerate(starts) if s <= seg.start + 1e-6) for seg in got.segments}
    assert len(clips) - 1 in delivered  # the newest utterance is always transcribed
    assert len(delivered) < len(clips)
    skipped = sum(clips[i].size for i in range(len(clips)) if i not in delivered) / SAMPLE_RATE
    assert worker.skipped_s == pytest.approx(skipped, abs=0.01)
    assert words_of(text_of([s for s in got.segments if s.start >= starts[-1]])) == words_of(text_of(
        transcribe_utterance(model, clips[-1], "agent", starts[-1])))


def test_streaming_survives_a_failing_listener(model):
    audio = load_16k("sr_english.wav")
    got = Collector()
    calls = []

    def flaky(segment: Segment) -> None:
        calls.append(segment)
        if len(calls) == 1:
            raise RuntimeError("listener bug")
        got(segment)

    worker = StreamingTranscriber(model, flaky)
    worker.start()
    worker.submit("agent", 0.0, audio)
    worker.submit("agent", 3.0, audio)  # within max_lag_s of the first: both are transcribed
    worker.stop(timeout=60)
    assert len(calls) == 2 and got.segments and got.segments[0].start >= 3.0


def test_stop_without_start_is_harmless(model):
    StreamingTranscriber(model, lambda s: None).stop()
