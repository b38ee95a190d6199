"""Long channels are transcribed in chunks cut at quiet points (bounded memory, no split words)."""

import numpy as np

from poise.audio.analysis import TRANSCRIBE_CHUNK_S, transcription_chunks
from poise.audio.types import SAMPLE_RATE


def test_chunks_cover_the_channel_and_cut_in_the_pause():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(SAMPLE_RATE * 700) * 0.1).astype(np.float32)
    pause = int((TRANSCRIBE_CHUNK_S + 2.0) * SAMPLE_RATE)
    audio[pause : pause + SAMPLE_RATE // 5] = 0.0  # a 200 ms pause 2 s after the nominal cut
    chunks = transcription_chunks(audio)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    assert pause <= chunks[0][1] <= pause + SAMPLE_RATE // 5
    assert max(hi - lo for lo, hi in chunks) <= (TRANSCRIBE_CHUNK_S + 5.0) * SAMPLE_RATE


def test_a_short_channel_is_one_chunk():
    assert transcription_chunks(np.zeros(SAMPLE_RATE * 30, np.float32)) == [(0, SAMPLE_RATE * 30)]
