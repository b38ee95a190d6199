"""Whisper's memory on a recording (issue 9: a 60-minute call may peak at most 100 MB above a 10-minute one).

The batched pipeline's peak was its encoder taking a batch of 8 speech pieces at once (~580 MB above the
model on tiny.en); Poise encodes them one at a time and joins the outputs, which are the same bits, so the
transcript is unchanged. The audio of the chunk being transcribed is held once, not twice.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from faster_whisper import BatchedInferencePipeline
from faster_whisper.audio import pad_or_trim

from conftest import REPO, speech_path
from poise.audio.analysis import TRANSCRIBE_CHUNK_S, streamed_chunks
from poise.audio.sources import load_call
from poise.audio.transcribe import BATCH_SIZE, WHISPER_OPTIONS, _pipeline, _PieceByPieceEncoder, load_model
from poise.audio.types import SAMPLE_RATE

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"  # the real booking call, 8 kHz µ-law stereo
PIECES = 8  # speech pieces encoded together: faster-whisper's default batch, the largest a caller would ask for
PIECE_S = 17  # s of speech per test piece (the pipeline's pieces are at most 30 s, padded to 30 s)
ENCODE_EXTRA_MAX_MB = 250.0  # MB: encoding a batch of 8 may add at most this to the peak (measured ~120 one piece
#   at a time; ~580 with the batch at once)


@pytest.fixture(scope="module")
def model():
    return load_model(cpu_threads=2)


@pytest.fixture(scope="module")
def agent() -> np.ndarray:
    return load_call(speech_path(CALL)).agent


def _features(model, audio: np.ndarray) -> np.ndarray:
    pieces = [audio[i * 20 * SAMPLE_RATE : (i * 20 + PIECE_S) * SAMPLE_RATE] for i in range(PIECES)]
    return np.stack([pad_or_trim(model.feature_extractor(p)[..., :-1]) for p in pieces])


def test_piece_by_piece_encoding_is_the_batchs_own_bits(model, agent):
    features = _features(model, agent)
    whole = np.asarray(model.encode(features))
    pieces = np.asarray(_PieceByPieceEncoder(model).encode(features))
    assert pieces.shape == whole.shape == (PIECES, 1500, 384)
    assert np.array_equal(pieces, whole)


def test_the_transcript_is_the_pipelines_own(model, agent):
    """Two minutes of the booking call: Poise's pipeline (batches of BATCH_SIZE) gives faster-whisper's own segments and
    words at its default batch of 8."""
    audio = np.ascontiguousarray(agent[: 120 * SAMPLE_RATE])
    own, _ = BatchedInferencePipeline(model).transcribe(audio, batch_size=PIECES, **WHISPER_OPTIONS)
    assert BATCH_SIZE != PIECES
    ours, _ = _pipeline(model, audio, WHISPER_OPTIONS, None)
    own, ours = list(own), list(ours)
    assert sum(len(s.words) for s in own) > 100
    assert [(s.text, s.start, s.end, s.avg_logprob, s.no_speech_prob, s.words) for s in ours] == \
        [(s.text, s.start, s.end, s.avg_logprob, s.no_speech_prob, s.words) for s in own]


ENCODE_PEAK_SCRIPT = r"""
import sys
import numpy as np
from faster_whisper.audio import pad_or_trim
from poise.audio.sources import load_call
from poise.audio.transcribe import _PieceByPieceEncoder, load_model, release_free_memory

def hwm_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))

model = load_model(cpu_threads=2)
agent = load_call(sys.argv[1]).agent
pieces = [agent[i * 320000 : i * 320000 + int(sys.argv[2]) * 16000] for i in range(int(sys.argv[3]))]
features = np.stack([pad_or_trim(model.feature_extractor(p)[..., :-1]) for p in pieces])
del agent, pieces
release_free_memory()
before = max(hwm_mb(), rss_mb())
out = _PieceByPieceEncoder(model).encode(features)
print(hwm_mb() - before)
"""


def test_a_batch_is_encoded_without_the_batchs_attention_at_once():
    """In a fresh process: encoding a batch of 8 pieces raises the peak by far less than 8 pieces' attention."""
    out = subprocess.run([sys.executable, "-c", ENCODE_PEAK_SCRIPT, str(speech_path(CALL)), str(PIECE_S), str(PIECES)],
                         capture_output=True, text=True, cwd=REPO, check=True)
    extra = float(out.stdout.strip().splitlines()[-1])
    assert extra < ENCODE_EXTRA_MAX_MB, f"encoding a batch of {PIECES} added {extra:.0f} MB to the peak"


def test_the_chunk_being_transcribed_is_held_once():
    """While a chunk is out (the transcription has it), `streamed_chunks` holds no second copy of it."""
    seconds = int(TRANSCRIBE_CHUNK_S * 2.5)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(seconds * SAMPLE_RATE) * np.repeat(rng.random(seconds * 10), SAMPLE_RATE // 10)).astype(np.float32)
    chunk_bytes = TRANSCRIBE_CHUNK_S * SAMPLE_RATE * 4
    tracemalloc.start()
    try:
        held = []
        for _lo, audio in streamed_chunks(x[i : i + 37_000].copy() for i in range(0, len(x), 37_000)):
            held.append(tracemalloc.get_traced_memory()[0])
            del audio
    finally:
        tracemalloc.stop()
    assert len(held) == 3
    assert max(held[:2]) < 1.3 * chunk_bytes, f"{max(held[:2]) / 2**20:.0f} MB held for a {chunk_bytes / 2**20:.0f} MB chunk"
