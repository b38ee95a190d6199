"""Reading recorded calls: formats, channel roles, resampling, blocks and bad input."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from poise.audio.sources import FileSource, LoadedCall, load_call
from poise.audio.types import SAMPLE_RATE, AudioInputError, Block, SourceInfo

from conftest import speech_path

CALL_WAV = "call_spokenwoz_agent_left_8k_ulaw.wav"  # real call, agent left, G.711 mu-law 8 kHz
CALL_OPUS = "sb_spokenwoz_MUL1011.opus"  # the same call as Opus, agent on the right


def tone(freq: float, seconds: float, rate: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def dominant_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)])


def espeak(tmp_path: Path, text: str, name: str = "speech.wav") -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    out = tmp_path / name
    subprocess.run(["espeak-ng", "-w", str(out), text], check=True, capture_output=True)
    return out


def ffmpeg(src: Path, dst: Path, *args: str) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(src), *args, str(dst)], check=True)
    return dst


def assert_user_error(exc: pytest.ExceptionInfo[AudioInputError], path: Path, *words: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "Traceback" not in msg
    assert path.name in msg
    assert msg.endswith(".")
    for w in words:
        assert w in msg, msg
    return msg


# --- real recordings -------------------------------------------------------------


def test_real_call_wav_is_stereo_8k_with_agent_left():
    path = speech_path(CALL_WAV)
    call = load_call(path)
    raw, rate = sf.read(path, dtype="float32")
    assert call.info == SourceInfo(path=str(path), duration_s=len(raw) / rate, sample_rate=8000, channels=2, agent_channel="left")
    assert call.info.duration_s == pytest.approx(182.81, abs=0.01)
    assert call.agent.dtype == np.float32 and call.caller is not None and call.caller.dtype == np.float32
    assert len(call.agent) == len(call.caller) == len(raw) * 2
    assert call.duration_s == pytest.approx(call.info.duration_s, abs=1e-3)
    # Both people talk on their own channel; the resampled roles keep each side's loudness.
    assert rms(call.agent) == pytest.approx(rms(raw[:, 0]), rel=0.02)
    assert rms(call.caller) == pytest.approx(rms(raw[:, 1]), rel=0.02)
    assert abs(np.corrcoef(call.agent, call.caller)[0, 1]) < 0.05

    swapped = load_call(path, agent_channel="right")
    np.testing.assert_array_equal(swapped.agent, call.caller)
    np.testing.assert_array_equal(swapped.caller, call.agent)


def test_real_call_opus_matches_the_wav_when_agent_is_right():
    wav = load_call(speech_path(CALL_WAV))
    opus = load_call(speech_path(CALL_OPUS), agent_channel="right")
    assert opus.info.channels == 2 and opus.info.sample_rate == 8000
    assert opus.info.duration_s == pytest.approx(wav.info.duration_s, abs=0.05)
    n = min(len(wav.agent), len(opus.agent))
    assert abs(len(wav.agent) - len(opus.agent)) < SAMPLE_RATE * 0.05
    assert np.corrcoef(wav.agent[:n], opus.agent[:n])[0, 1] > 0.99
    assert np.corrcoef(wav.caller[:n], opus.caller[:n])[0, 1] > 0.99
    assert abs(np.corrcoef(wav.agent[:n], opus.caller[:n])[0, 1]) < 0.05


def test_real_flac_44k_24bit_stereo():
    path = speech_path("fw_jfk.flac")
    call = load_call(path)
    assert (call.info.sample_rate, call.info.channels) == (44100, 2)
    assert call.info.duration_s == pytest.approx(11.0, abs=1e-3)
    assert len(call.agent) == len(call.caller) == 11 * SAMPLE_RATE
    assert rms(call.agent) > 0.01 and rms(call.caller) > 0.01


def test_real_mono_16k_is_agent_alone_and_untouched():
    path = speech_path("ps_goforward.wav")
    raw, rate = sf.read(path, dtype="float32")
    assert rate == SAMPLE_RATE
    call = load_call(path)
    assert call.caller is None
    assert call.info.channels == 1 and call.info.sample_rate == 16000
    np.testing.assert_array_equal(call.agent, raw)  # no resampling at the engine's own rate


# --- generated files: formats ------------------------------------------------------


@pytest.mark.parametrize(
    "name, args",
    [
        ("speech.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
        ("speech.opus", ["-c:a", "libopus"]),
        ("speech.ogg", ["-c:a", "libvorbis"]),
        ("speech.m4a", ["-c:a", "aac"]),  # libsndfile cannot: read through PyAV
        ("speech.webm", ["-c:a", "libopus"]),  # Opus outside Ogg: PyAV as well
    ],
)
def test_compressed_speech_loads_at_16k(tmp_path, name, args):
    src = espeak(tmp_path, "Thank you for calling, how can I help you today?")
    ref, ref_rate = sf.read(src, dtype="float32")
    call = load_call(ffmpeg(src, tmp_path / name, *args))
    ref_s = len(ref) / ref_rate
    assert call.caller is None and call.info.channels == 1
    assert call.info.duration_s == pytest.approx(ref_s, abs=0.1)  # codec padding only
    assert len(call.agent) / SAMPLE_RATE == pytest.approx(ref_s, abs=0.1)
    assert rms(call.agent) == pytest.approx(rms(ref), rel=0.15)


def test_soundfile_written_mp3_and_opus_keep_the_channel_roles(tmp_path):
    left = tone(440, 2.0, 48000)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    for name, fmt, subtype in [("t.mp3", "MP3", "MPEG_LAYER_III"), ("t.ogg", "OGG", "OPUS")]:
        path = tmp_path / name
        sf.write(path, stereo, 48000, format=fmt, subtype=subtype)
        call = load_call(path)
        assert call.caller is not None
        assert rms(call.agent) > 0.15 and rms(call.caller) < 0.01, name
        assert dominant_hz(call.agent) == pytest.approx(440, abs=5)
        assert call.info.duration_s == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(
    "rate, subtype", [(8000, "ULAW"), (8000, "ALAW"), (44100, "PCM_24"), (22050, "FLOAT"), (48000, "PCM_16")]
)
def test_tone_on_the_left_is_the_agent(tmp_path, rate, subtype):
    left = tone(1000, 1.5, rate)
    path = tmp_path / f"call_{rate}_{subtype}.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), rate, subtype=subtype)

    call = load_call(path)
    assert call.info == SourceInfo(path=str(path), duration_s=1.5, sample_rate=rate, channels=2, agent_channel="left")
    assert len(call.agent) == len(call.caller) == int(1.5 * SAMPLE_RATE)
    assert rms(call.agent) == pytest.approx(0.3 / np.sqrt(2), rel=0.03)
    assert rms(call.caller) < 1e-3
    assert dominant_hz(call.agent) == pytest.approx(1000, abs=3)

    swapped = load_call(path, agent_channel="right")
    assert rms(swapped.caller) == pytest.approx(0.3 / np.sqrt(2), rel=0.03)
    assert rms(swapped.agent) < 1e-3


def test_more_than_two_channels_take_0_as_agent_and_1_as_caller(tmp_path):
    rate = 16000
    chans = [tone(300, 1.0, rate, 0.4), tone(700, 1.0, rate, 0.2), tone(1500, 1.0, rate, 0.5), tone(2500, 1.0, rate)]
    path = tmp_path / "quad.wav"
    sf.write(path, np.stack(chans, axis=1), rate)
    call = load_call(path)
    assert call.info.channels == 4
    assert dominant_hz(call.agent) == pytest.approx(300, abs=3)
    assert dominant_hz(call.caller) == pytest.approx(700, abs=3)
    swapped = load_call(path, agent_channel="right")
    assert dominant_hz(swapped.agent) == pytest.approx(700, abs=3)


def test_a_mono_file_with_the_agent_on_the_right_says_it_is_the_agent_alone(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(400, 1.0, 16000, 0.3), 16000)
    call = load_call(path, agent_channel="right")
    assert call.caller is None and dominant_hz(call.agent) == pytest.approx(400, abs=3)
    assert call.notes == [f"{path} is mono: there is no right side, so Poise analysed it as the agent alone."]
    assert load_call(path).notes == []


def test_two_files_with_different_rates_and_lengths(tmp_path):
    agent_path, caller_path = tmp_path / "agent.wav", tmp_path / "caller.flac"
    sf.write(agent_path, tone(500, 2.0, 8000), 8000, subtype="ULAW")
    right_only = tone(1200, 3.0, 44100, 0.4)
    sf.write(caller_path, np.stack([np.zeros_like(right_only), right_only], axis=1), 44100, subtype="PCM_24")

    call = load_call(agent_path, caller_path=caller_path)
    assert call.info == SourceInfo(path=str(agent_path), duration_s=3.0, sample_rate=8000, channels=2, caller_path=str(caller_path))
    assert call.caller is not None
    assert len(call.agent) == len(call.caller) == 3 * SAMPLE_RATE
    assert np.all(call.agent[2 * SAMPLE_RATE :] == 0.0)  # the shorter side is padded with silence
    assert rms(call.agent[: 2 * SAMPLE_RATE]) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
    assert dominant_hz(call.agent[: 2 * SAMPLE_RATE]) == pytest.approx(500, abs=3)
    # The caller file is downmixed: a tone on one of its two channels arrives at half level.
    assert rms(call.caller) == pytest.approx(0.2 / np.sqrt(2), rel=0.03)
    assert dominant_hz(call.caller) == pytest.approx(1200, abs=3)
    mixed = [n for n in call.notes if "channels" in n]  # said: a stereo call given as one side mixes both voices
    assert mixed == [f"The caller file {caller_path} has 2 channels: Poise mixed them into the caller's side; "
                     "if they hold the two sides of a call, analyse that file alone, without a separate caller file."]

    longer_agent = load_call(caller_path, caller_path=agent_path)
    assert any(n.startswith(f"The agent file {caller_path} has 2 channels") for n in longer_agent.notes)
    assert len(longer_agent.agent) == len(longer_agent.caller) == 3 * SAMPLE_RATE
    assert longer_agent.info.sample_rate == 44100


def test_non_finite_samples_become_silence(tmp_path):
    x = tone(440, 1.0, 16000)
    x[100:200] = np.nan
    x[300] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    call = load_call(path)
    assert np.isfinite(call.agent).all()
    assert np.all(call.agent[100:200] == 0.0)


def test_quiet_but_not_silent_audio_is_accepted(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, tone(300, 1.0, 16000, amp=10 ** (-60 / 20)), 16000, subtype="FLOAT")
    assert rms(load_call(path).agent) > 0


# --- bad input -----------------------------------------------------------------


def _png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\xff\x00" * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _make_bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.wav"
    if kind == "missing":
        return path
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.touch()
    elif kind == "text":
        path.write_text("Agent: hello, how can I help?\nCaller: my order never came.\n" * 20)
    elif kind == "png":
        path.write_bytes(_png_bytes())
    elif kind == "header_only":
        sf.write(path, np.zeros(0, np.float32), 16000)
    elif kind == "silence":
        sf.write(path, np.zeros(16000, np.float32), 16000)
    elif kind == "near_silence":  # -80 dBFS hiss: still nothing to listen to
        noise = np.random.default_rng(0).uniform(-1e-4, 1e-4, 16000)
        sf.write(path, noise.astype(np.float32), 16000, subtype="FLOAT")
    elif kind == "codec":
        sf.write(path, tone(440, 1.0, 16000), 16000)
        data = bytearray(path.read_bytes())
        fmt = data.find(b"fmt ")
        data[fmt + 8 : fmt + 10] = struct.pack("<H", 0x1234)  # a format tag no decoder knows
        path.write_bytes(bytes(data))
    elif kind == "cut_to_100_bytes":  # a copy of speech that stopped after 100 bytes: 28 samples, all near zero
        path = tmp_path / "cut.wav"
        sf.write(path, tone(440, 3.0, 16000) * np.linspace(0, 1, 48000), 16000, subtype="PCM_16")
        path.write_bytes(path.read_bytes()[:100])
    elif kind == "truncated_flac":
        path = tmp_path / "truncated.flac"
        sf.write(path, tone(440, 3.0, 16000) + 0.01 * np.random.default_rng(1).standard_normal(48000), 16000)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        raise AssertionError(kind)
    return path


@pytest.mark.parametrize(
    "kind, words",
    [
        ("missing", ["does not exist"]),
        ("folder", ["folder"]),
        ("empty", ["empty"]),
        ("text", ["not an audio file"]),
        ("png", ["not an audio file"]),
        ("header_only", ["no audio samples"]),
        ("silence", ["contains no speech (only silence)"]),
        ("near_silence", ["contains no speech (only silence)"]),
        ("codec", ["codec"]),
        ("truncated_flac", ["damaged or cut short"]),
        ("cut_to_100_bytes", ["is cut short", "promises 3.0 s", "no speech"]),
    ],
)
def test_bad_input_is_one_plain_sentence_naming_the_file(tmp_path, kind, words):
    path = _make_bad(tmp_path, kind)
    with pytest.raises(AudioInputError) as exc:
        load_call(path)
    assert_user_error(exc, path, *words)
    # No library exception rides along (it would show in a traceback if one were printed).
    assert exc.value.__cause__ is None
    assert exc.value.__context__ is None or exc.value.__suppress_context__


def test_silent_caller_file_leaves_the_agent_alone_with_a_note(tmp_path):
    """A silent caller file does not refuse a good agent file: the agent is analysed alone, and said so."""
    agent = tmp_path / "agent_ok.wav"
    sf.write(agent, tone(440, 1.0, 16000), 16000)
    silent = _make_bad(tmp_path, "silence")
    call = load_call(agent, caller_path=silent)
    assert call.caller is None and call.info.channels == 1
    assert call.notes == [f"The caller file {silent} is silent: Poise analysed the agent alone."]


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "truncated_flac"])
def test_caller_file_problems_name_the_caller_file(tmp_path, kind):
    agent = tmp_path / "agent_ok.wav"
    sf.write(agent, tone(440, 1.0, 16000), 16000)
    bad = _make_bad(tmp_path, kind)
    with pytest.raises(AudioInputError) as exc:
        load_call(agent, caller_path=bad)
    msg = assert_user_error(exc, bad)
    assert msg.startswith("The caller file ")
    assert agent.name not in msg


def test_truncated_wav_decodes_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(440, 2.0, 8000), 8000)
    data = path.read_bytes()
    path.write_bytes(data[: 44 + 8000 * 2])  # header claims 2 s, one second of samples remains
    call = load_call(path)
    assert call.info.duration_s == pytest.approx(1.0, abs=0.01)
    assert len(call.agent) == pytest.approx(SAMPLE_RATE, abs=10)
    assert dominant_hz(call.agent) == pytest.approx(440, abs=3)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "locked.wav"
    sf.write(path, tone(440, 1.0, 16000), 16000)
    path.chmod(0)
    try:
        with pytest.raises(AudioInputError) as exc:
            load_call(path)
        assert_user_error(exc, path, "permission")
    finally:
        path.chmod(0o644)


def test_bad_agent_channel_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        load_call(tmp_path / "x.wav", agent_channel="centre")  # type: ignore[arg-type]


# --- FileSource ------------------------------------------------------------------


def test_blocks_concatenate_back_to_the_call_exactly():
    call = load_call(speech_path(CALL_WAV))
    source = FileSource(call)
    assert source.info is call.info
    assert source.duration_s == pytest.approx(182.8125)
    blocks = list(source)
    assert all(isinstance(b, Block) for b in blocks)
    assert [len(b.agent) for b in blocks[:-1]] == [1600] * (len(blocks) - 1)
    assert 0 < len(blocks[-1].agent) <= 1600
    assert all(len(b.agent) == len(b.caller) for b in blocks)
    assert [b.t0 for b in blocks[:3]] == [0.0, 0.1, 0.2]
    assert blocks[-1].t0 == pytest.approx((len(blocks) - 1) * 0.1)
    np.testing.assert_array_equal(np.concatenate([b.agent for b in blocks]), call.agent)
    np.testing.assert_array_equal(np.concatenate([b.caller for b in blocks]), call.caller)
    assert source.position_s == pytest.approx(call.duration_s)


def test_mono_blocks_and_a_short_last_block(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(220, 1.03, 16000), 16000)
    source = FileSource(path, block_s=0.25)  # a path is loaded on the spot
    blocks = list(source)
    assert [len(b.agent) for b in blocks] == [4000, 4000, 4000, 4000, 480]
    assert [b.t0 for b in blocks] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(b.caller is None for b in blocks)
    assert blocks[-1].duration == pytest.approx(0.03)
    np.testing.assert_array_equal(np.concatenate([b.agent for b in blocks]), source.call.agent)


def test_blocks_are_copies(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(220, 0.5, 16000), 16000)
    source = FileSource(path)
    first = next(iter(source))
    first.agent[:] = 0.0
    assert np.any(source.call.agent[:1600] != 0.0)


def test_stop_from_another_thread_ends_iteration():
    call = LoadedCall(agent=np.ones(60 * SAMPLE_RATE, np.float32), caller=None,
                      info=SourceInfo("gen", 60.0, SAMPLE_RATE, 1))
    source = FileSource(call, realtime=True)  # 60 s at real time unless stopped
    got: list[Block] = []
    timer = threading.Timer(0.35, source.stop)
    timer.start()
    started = time.monotonic()
    for block in source:
        got.append(block)
    timer.cancel()
    assert source.stopped
    assert 1 <= len(got) < 600
    assert time.monotonic() - started < 30  # stop() interrupts the wait; far below the call's 60 s


def test_stop_before_iterating_yields_nothing():
    source = FileSource(LoadedCall(np.ones(SAMPLE_RATE, np.float32), None, SourceInfo("gen", 1.0, SAMPLE_RATE, 1)))
    source.stop()
    assert list(source) == []


def test_realtime_paces_to_audio_time_divided_by_speed():
    call = LoadedCall(agent=np.ones(2 * SAMPLE_RATE, np.float32), caller=np.zeros(2 * SAMPLE_RATE, np.float32),
                      info=SourceInfo("gen", 2.0, SAMPLE_RATE, 2))
    started = time.monotonic()
    seen = []
    for block in FileSource(call, realtime=True, speed=4.0):
        # A block is released no earlier than it would have finished arriving, 4x faster.
        seen.append((time.monotonic() - started, block.t0 + block.duration))
    assert len(seen) == 20
    assert all(wall >= (end / 4.0) - 1e-3 for wall, end in seen)


def test_invalid_block_size_or_speed():
    call = LoadedCall(np.ones(10, np.float32), None, SourceInfo("gen", 10 / SAMPLE_RATE, SAMPLE_RATE, 1))
    with pytest.raises(ValueError):
        FileSource(call, block_s=0)
    with pytest.raises(ValueError):
        FileSource(call, speed=0)


def test_speech_cut_to_its_first_instant_is_said_to_be_cut_short(tmp_path):
    """A real recording cut after 100 bytes holds 28 samples of sound, not silence: the loader lets it through,
    the analysis hears no speech, and the refusal names the cut rather than "no speech"."""
    from poise.audio.analysis import analyze_file

    cut = tmp_path / "cut.wav"
    cut.write_bytes(speech_path("sb_ljspeech_LJ050-0131.wav").read_bytes()[:100])
    with pytest.raises(AudioInputError, match=r"cut\.wav is cut short: its header promises 7\.\d s but the file holds only 0\.0 s"):
        analyze_file(cut, transcribe=False)
