"""A stereo recording's two sides are transcribed at once (one CTranslate2 worker and thread each) when
there is a thread for each: the result must be exactly what one side after the other gives, and a side
that fails must stop the analysis with that one error."""

from __future__ import annotations

from pathlib import Path

import pytest

from poise.audio import analysis
from poise.audio.analysis import analyze_file, sides_at_once, transcription_model
from poise.audio.transcribe import cap_cpu_threads

pytestmark = pytest.mark.slow

DEMO_CALL = Path(__file__).resolve().parents[1] / "poise" / "assets" / "demo_call.ogg"


@pytest.fixture
def thread_cap():
    """Set the process's Whisper thread bound for one test, and put it back."""
    yield cap_cpu_threads
    cap_cpu_threads(None)


def test_two_sides_at_once_only_with_a_thread_for_each(thread_cap) -> None:
    thread_cap(None)
    assert sides_at_once(2) and not sides_at_once(1)
    assert transcription_model(None, 2) is not transcription_model(None, 1)  # two workers, not one
    thread_cap(1)
    assert not sides_at_once(2)


def test_at_once_gives_what_one_after_the_other_gives(thread_cap) -> None:
    thread_cap(None)
    together = analyze_file(DEMO_CALL)
    thread_cap(1)
    in_turn = analyze_file(DEMO_CALL)
    assert together.segments, "the demo call is transcribed"
    assert {seg.role for seg in together.segments} == {"agent", "caller"}
    assert [(s.role, s.start, s.end, s.text) for s in together.segments] == \
        [(s.role, s.start, s.end, s.text) for s in in_turn.segments]
    assert [(c.kind, c.t) for c in together.cues] == [(c.kind, c.t) for c in in_turn.cues]


def test_a_failing_side_stops_the_analysis_with_its_error(thread_cap, monkeypatch) -> None:
    thread_cap(None)
    real = analysis.transcribe_batch

    def caller_fails(model, audio, role, **kwargs):
        if role == "caller":
            raise OSError("the caller's side could not be read")
        return real(model, audio, role, **kwargs)

    monkeypatch.setattr(analysis, "transcribe_batch", caller_fails)
    with pytest.raises(OSError, match="caller's side"):
        analyze_file(DEMO_CALL)
