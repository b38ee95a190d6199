"""Memory for a whole shift: `analyze_file` never holds the whole call (issue 9: a 60-minute call
may peak at most 100 MB above a 10-minute one; the call itself is 7.7 MB per minute at 16 kHz).

The call is checked once and read again from disk for each pass; what is read is exactly what
`load_call` holds (same decoder, chunks and resampler), and the Whisper chunks are cut exactly
where `transcription_chunks` cuts them.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, speech_path
from poise.audio.analysis import analyze_file, streamed_chunks, transcription_chunks
from poise.audio.sources import FileSource, load_call, open_call
from poise.audio.types import SAMPLE_RATE

REAL_CALL = "call_spokenwoz_agent_left_8k_ulaw.wav"
LONG_CALL_S = 300.0  # s: 5 minutes of the booking call (37 MB if held whole at 16 kHz float32; 44 MB traced before streaming)
HELD_WHOLE_MB = LONG_CALL_S * SAMPLE_RATE * 4 * 2 / 2**20
MAX_TRACED_MB = 20.0  # MB: what analyze_file may allocate at its peak (Session's frames, a decode chunk; 12 MB measured)


def _same_as_load_call(*args: object) -> None:
    full = load_call(*args)  # type: ignore[arg-type]
    streamed = open_call(*args)  # type: ignore[arg-type]
    assert (streamed.info, streamed.notes, streamed.has_caller) == (full.info, full.notes, full.caller is not None)
    pieces = list(streamed.pieces())
    assert np.array_equal(np.concatenate([a for a, _ in pieces]), full.agent)
    if full.caller is not None:
        assert np.array_equal(np.concatenate([c for _, c in pieces]), full.caller)
    blocks, reference = list(streamed.blocks(1.0)), list(FileSource(full, block_s=1.0))
    assert [b.t0 for b in blocks] == [b.t0 for b in reference]
    assert all(np.array_equal(b.agent, r.agent) for b, r in zip(blocks, reference))


def test_a_streamed_call_is_sample_for_sample_what_load_call_holds(tmp_path: Path) -> None:
    _same_as_load_call(speech_path(REAL_CALL))  # one stereo µ-law file (libsndfile)
    _same_as_load_call(REPO / "poise" / "assets" / "demo_call.ogg")  # Ogg/Opus
    x, rate = sf.read(str(speech_path("fw_jfk.flac")), dtype="float32")
    agent = tmp_path / "agent.wav"
    sf.write(str(agent), x[: len(x) // 2], rate)
    _same_as_load_call(agent, speech_path("fw_jfk.flac"), "left")  # two files of different lengths


def test_streamed_chunks_cut_where_transcription_chunks_cuts() -> None:
    rng = np.random.default_rng(3)
    for seconds in (30, 306, 1300):
        x = (rng.standard_normal(seconds * SAMPLE_RATE) * np.repeat(rng.random(seconds * 10), SAMPLE_RATE // 10)).astype(np.float32)
        got = list(streamed_chunks(x[i : i + 37_000] for i in range(0, len(x), 37_000)))
        assert [(lo, lo + len(a)) for lo, a in got] == transcription_chunks(x)
        assert all(np.array_equal(a, x[lo : lo + len(a)]) for lo, a in got)


def test_analyze_file_never_holds_the_whole_call(tmp_path: Path) -> None:
    """5 minutes of a real call: the analysis allocates far less than the call's audio would take."""
    src = speech_path(REAL_CALL)
    info = sf.info(str(src))
    x, rate = sf.read(str(src), dtype="int16", always_2d=True)
    n = int(LONG_CALL_S * rate)
    long_call = tmp_path / "long.wav"
    sf.write(str(long_call), np.tile(x, (n // len(x) + 1, 1))[:n], rate, subtype=info.subtype, format=info.format)
    tracemalloc.start()
    try:
        result = analyze_file(long_call, transcribe=False)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.source.duration_s == pytest.approx(LONG_CALL_S, abs=0.01)
    assert peak / 2**20 < MAX_TRACED_MB < HELD_WHOLE_MB, f"peak {peak / 2**20:.0f} MB (whole call: {HELD_WHOLE_MB:.0f} MB)"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux's /proc to read resident memory")
def test_free_memory_held_by_the_c_heap_goes_back_to_the_system() -> None:
    """What `analyze_file` does between Whisper chunks: memory freed in the middle of glibc's heap
    (the last block keeps the top in use, as CTranslate2's long-lived buffers do) stays resident
    until it is trimmed."""
    from poise.audio.transcribe import release_free_memory

    blocks = [bytearray(4096) for _ in range(30_000)]  # 120 MB in 4 kB C-heap blocks (above pymalloc's 512 B)
    held = _rss_mb()
    last = blocks[-1]
    del blocks
    freed = _rss_mb()
    if not release_free_memory():
        pytest.skip("no glibc malloc_trim here: the allocator returns memory by itself")
    trimmed = _rss_mb()
    assert held - freed < 20, (held, freed)  # freed, yet still resident
    assert freed - trimmed > 90, (held, freed, trimmed)  # the trim gives it back
    assert len(last) == 4096


def _frames(start: int, n: int, rng: np.random.Generator) -> "Frames":
    from poise.audio.prosody import Frames

    speech = np.repeat(rng.random(n // 40 + 1) < 0.5, 40)[:n] | (rng.random(n) < 0.03)  # talk spurts and blips
    f0 = np.where(speech & (rng.random(n) < 0.7), 80 + 200 * rng.random(n), np.nan).astype(np.float32)
    return Frames(start, rng.standard_normal(n).astype(np.float32) - 30, speech, f0, rng.random(n) < 0.1,
                  speech & (rng.random(n) < 0.9), speech | (rng.random(n) < 0.2), rng.random(n) < 0.3)


def _reference_window(flags: np.ndarray, end: int, need_s: float, max_span_s: float) -> int:
    """The window query as it was written with a running count of every frame (O(log n) searchsorted)."""
    cum = np.concatenate(([0], np.cumsum(flags)))
    need = int(round(need_s / 0.01))
    target = cum[end] - need
    start = int(np.searchsorted(cum[: end + 1], target, side="right")) - 1 if target > 0 else 0
    return max(start, 0, end - int(max_span_s / 0.01))


def test_the_compact_track_answers_every_query_as_a_count_of_every_frame_would() -> None:
    from poise.audio.track import RoleTrack

    rng = np.random.default_rng(9)
    track, pos = RoleTrack(), 0
    while pos < 40_000:
        k = int(rng.integers(1, 3000))
        track.append(_frames(pos, k, rng))
        pos += k
    for dated in (False, True):
        speech, voiced = track.speech[: track.n].copy(), np.isfinite(track.f0[: track.n])
        for _ in range(2000):
            end = int(rng.integers(0, track.n + 1))
            need, span = float(rng.choice([0.0, 1.2, 3.0, 8.0, 60.0])), float(rng.choice([0.5, 20.0, 1e9]))
            assert track.window_by_speech(end, need, span) == _reference_window(speech, end, need, span)
            assert track.window_by_voiced(end, need, span) == _reference_window(voiced, end, need, span)
            start = int(rng.integers(0, end + 1))
            assert track.speech_frames_between(start, end) == int(speech[start:end].sum())
        if not dated:
            assert track.date_onsets_back(40, 8) > 0  # the counts follow the back-dated speech


def test_an_hour_of_frames_costs_14_bytes_a_frame() -> None:
    """A role's history for a 60-minute call kept whole: ~14 B a frame (levels, pitch, five flags, the speech
    the call's numbers count), not 29 B in arrays that doubled (+28 MB an hour on a replayed 3-hour call).
    A live Session keeps only the last minutes of it (tests/test_call_memory.py)."""
    from poise.audio.track import RoleTrack

    rng = np.random.default_rng(1)
    block = _frames(0, 1000, rng)
    track = RoleTrack()
    for start in range(0, 360_000, 1000):  # 10 s blocks of frames
        block.start_index = start
        track.append(block)
    held = track.held_bytes()
    assert held / track.n < 14 * 1.15, f"{held / track.n:.1f} bytes a frame"


def test_the_clips_read_back_for_missed_speech_are_the_calls_samples_one_at_a_time() -> None:
    """`_read_spans` (speech the batched Whisper pass skipped, read again from the file): each clip is the
    samples `load_call` holds there, handed over as soon as the pass has read its end, so a long call's
    clips are never all in memory together (overlapping, out of order, and past the end alike)."""
    from poise.audio.analysis import _read_spans

    src = speech_path(REAL_CALL)
    full, streamed = load_call(src), open_call(src)
    spans = [("caller", 150.0, 153.5), ("agent", 0.2, 1.7), ("agent", 1.0, 40.0), ("caller", 60.25, 61.0),
             ("agent", 180.0, 200.0)]
    order = []
    for i, clip in _read_spans(streamed, spans):
        role, a, b = spans[i]
        whole = full.agent if role == "agent" else full.caller
        assert np.array_equal(clip, whole[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]), spans[i]
        order.append(i)
    assert sorted(order) == list(range(len(spans))) and order.index(1) < order.index(2) < order.index(0)
