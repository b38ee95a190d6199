"""One Silero pass per channel (issue 11): the speech map a recording's analysis computes once gives the
transcription exactly the speech pieces faster-whisper's pipeline would cut itself, and the prosody exactly
the probabilities its own streamed model would give."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from poise.audio.analysis import Cancelled, analyze_file, chunk_speech
from poise.audio.errors import ModelError
from poise.audio.prosody import ProsodyTracker
from poise.audio.sources import load_call
from poise.audio.transcribe import load_model, pipeline_speech, transcribe_batch
from poise.audio.types import SAMPLE_RATE
from poise.audio.vad import SILERO_CHUNK, SileroReplay, SileroStream, SpeechMap
from tests.conftest import speech_path

CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"  # the real booking call, 8 kHz µ-law stereo
PIPELINE_VAD = VadOptions(max_speech_duration_s=30, min_silence_duration_ms=160)  # BatchedInferencePipeline's own


def _probabilities(audio: np.ndarray, block: int = 37_000) -> np.ndarray:
    """A channel's chunk probabilities as the analysis computes them: streamed in blocks, then finished."""
    stream = SileroStream()
    parts = [stream.process(audio[i : i + block]) for i in range(0, len(audio), block)]
    return np.concatenate(parts + [stream.finish()])


@pytest.fixture(scope="module")
def model():
    return load_model(cpu_threads=2)


@pytest.fixture(scope="module")
def call_channels() -> list[np.ndarray]:
    call = load_call(speech_path(CALL))
    return [call.agent, call.caller]


@pytest.mark.parametrize("name", [CALL, "pyannote_ami_dev00.wav", "fw_jfk.flac", "sb_spokenwoz_MUL1011.opus"])
def test_speech_pieces_are_the_pipelines_own(model, name):
    call = load_call(speech_path(name))
    for audio in [call.agent] + ([call.caller] if call.caller is not None else []):
        probabilities = _probabilities(audio)
        assert len(probabilities) == len(audio) // SILERO_CHUNK + 1  # faster-whisper pads to one more chunk
        assert pipeline_speech(model, probabilities, len(audio)) == get_speech_timestamps(audio, PIPELINE_VAD)


def test_replayed_probabilities_give_the_same_frames(call_channels):
    audio = call_channels[1][: 60 * SAMPLE_RATE]
    live, replayed = ProsodyTracker(), ProsodyTracker(SileroReplay(_probabilities(audio)))
    for i in range(0, len(audio), 16_000):
        a, b = live.process(audio[i : i + 16_000]), replayed.process(audio[i : i + 16_000])
        for field in ("db", "speech", "f0", "nucleus", "active", "audible", "voiced_sound"):
            assert np.array_equal(getattr(a, field), getattr(b, field), equal_nan=True), field


def test_transcript_on_the_map_is_the_pipelines(model, call_channels):
    audio = call_channels[0][: 90 * SAMPLE_RATE]
    speech = pipeline_speech(model, _probabilities(audio), len(audio))
    assert len(speech) > 5
    assert transcribe_batch(model, audio, "agent", speech=speech) == transcribe_batch(model, audio, "agent")


def test_a_later_chunk_reads_its_own_stretch_of_the_map(model, call_channels):
    audio = call_channels[0]
    speech_map = SpeechMap()
    speech_map.add(_probabilities(audio))
    speech_map.close()
    lo, n = 100_037, 60 * SAMPLE_RATE  # not on a chunk boundary
    pieces = chunk_speech(model, speech_map, lo, n)
    whole = pipeline_speech(model, speech_map.probabilities(), len(audio))
    assert pieces and all(0 <= p["start"] < p["end"] <= n for p in pieces)
    # the same speech as the whole channel's map inside the stretch, up to the padding at its edges
    inside = [p for p in whole if p["start"] >= lo + SAMPLE_RATE and p["end"] <= lo + n - SAMPLE_RATE]
    assert inside and all({"start": p["start"] - lo, "end": p["end"] - lo} in pieces for p in inside)


def test_the_map_makes_readers_wait_until_it_knows():
    speech_map = SpeechMap()
    assert not speech_map.wait(3, 0.01)
    later = threading.Timer(0.05, speech_map.add, args=(np.array([0.1, 0.9, 0.8], np.float32),))
    later.start()
    assert speech_map.wait(3, 5.0)
    assert np.array_equal(speech_map.probabilities(1), np.array([0.9, 0.8], np.float32))
    speech_map.close()
    assert speech_map.wait(10, 0.01)  # closed: nothing more will come


def test_analysis_never_runs_the_pipelines_vad():
    get_vad_model.cache_clear()  # faster-whisper loads its Silero model on the first VAD pass
    result = analyze_file(speech_path("fw_stereo_diarization.wav"))
    assert result.segments
    assert get_vad_model.cache_info().misses == 0


def test_cancel_while_finding_speech_leaves_no_thread(tmp_path):
    cancel = threading.Event()
    cancel.set()  # before the first piece: the speech passes stop, the transcription stops waiting
    before = set(threading.enumerate())
    with pytest.raises(Cancelled):
        analyze_file(speech_path(CALL), cancel=cancel)
    assert not [t for t in threading.enumerate() if t not in before and t.name.startswith("poise-")]


def test_a_model_that_cannot_load_is_one_sentence_not_a_hang(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        analyze_file(speech_path(CALL), model_path=tmp_path / "nowhere")
