"""The review's Qt-free parts (poise.app.review): plain-word cue evidence, cards, pace per turn,
search, marker rows, CSV export, the level lane."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import speech_path
from poise.app.review import (
    LEVEL_FLOOR_DB,
    explain_cue,
    find_segments,
    level_db,
    marker_rows,
    pace_spans,
    summary_cards,
    transcript_lines,
    write_cues_csv,
    write_segments_csv,
)
from poise.audio.analysis import analyze_file
from poise.audio.types import SAMPLE_RATE, Cue, Segment, Word
from poise.report.html import render_html


@pytest.fixture(scope="module")
def booking():
    """The real booking call, analysed without Whisper (voice measures and cues only)."""
    return analyze_file(speech_path("call_spokenwoz_agent_left_8k_ulaw.wav"), transcribe=False)


def test_cue_evidence_reads_in_plain_words():
    tone = Cue(t=12.0, kind="lower_tone", message="Lower your tone",
               evidence={"pitch_hz": 231.0, "baseline_pitch_hz": 166.4, "rise_st": 5.71})
    assert explain_cue(tone) == "pitch 5.7 semitones above your normal (231 Hz; normal 166 Hz)"
    loud = Cue(t=1.0, kind="lower_volume", message="Soften your voice", evidence={"db": -20.0, "baseline_db": -27.1, "rise_db": 7.1})
    assert explain_cue(loud) == "7.1 dB louder than your normal"
    over = Cue(t=1.0, kind="let_caller_finish", message="Let the caller finish", evidence={"overlap_start": 3.2, "agent_held_s": 0.84})
    assert "talked over the caller for 0.8 s" in explain_cue(over)
    fast = Cue(t=1.0, kind="slow_down", message="Slow down", evidence={"wpm": 212.4, "baseline_wpm": 148.0, "ratio": 1.4})
    # the ratio the rule judged, not the wpm estimated from it (the pace lane counts words and reads lower)
    assert explain_cue(fast) == "your recent words 40 % faster than you said them earlier (your normal pace 148 wpm)"
    ceiling = Cue(t=1.0, kind="slow_down", message="Slow down", evidence={"wpm": 291.0, "baseline_wpm": 250.0, "ratio": 0.95})
    assert explain_cue(ceiling) == "about 291 words a minute"
    words = Cue(t=1.0, kind="avoid_defensive", message="Skip the defence", evidence={"phrase": "as  i said", "said_at": 3.2})
    assert explain_cue(words) == "after “as i said”"  # never "said at 3.2"
    upset = Cue(t=99.0, kind="acknowledge", message="Acknowledge how they feel", evidence={"heated_since": 93.0, "heat": 0.08})
    assert explain_cue(upset) == "the caller has sounded upset since 01:33"
    closing = Cue(t=172.0, kind="next_steps", message="State the next step and when", evidence={"said_at": 170.1})
    assert explain_cue(closing) == "the call was winding down at 02:50 and no next step had been stated"  # not "said at 170"
    abuse = Cue(t=178.0, kind="set_boundary", message="Try: …", evidence={"said_at": 175.9})
    assert explain_cue(abuse) == "the caller's words at 02:55 were abusive"
    assert explain_cue(Cue(t=1.0, kind="new_kind", message="Something", evidence={"x_st": 2})) == ""


def test_cards_agree_with_the_report_and_say_why(booking):
    cards = {c.key: c for c in summary_cards(booking, (125.0, 165.0))}
    assert {"wpm", "length", "pitch_range", "cues", "share", "interruptions", "monologue", "dead_air"} <= set(cards)
    assert all(c.why and "\n" not in c.why for c in cards.values())
    html = render_html(booking)
    assert cards["length"].value in html  # the same length string as the HTML report
    p10, p90 = booking.agent.pitch_p10_hz, booking.agent.pitch_p90_hz
    assert cards["pitch_range"].value == f"{12 * np.log2(p90 / p10):.1f} semitones"
    minutes = booking.source.duration_s / 60
    assert cards["cues"].value == f"{len(booking.cues) / minutes * 10:.1f}"


def test_pace_per_turn_counts_words_over_the_turn_pauses_included():
    def words(start: float, n: int, step: float) -> list[Word]:
        return [Word(f"w{i}", start + i * step, start + i * step + step * 0.8) for i in range(n)]

    turn1 = words(0.0, 10, 0.4)  # 10 words in 3.92 s
    turn2 = words(10.0, 6, 0.3)  # after a 6 s pause: a turn of its own
    segs = [Segment("agent", 0.0, 12.0, "x", turn1 + turn2), Segment("caller", 4.0, 9.0, "y", words(4.0, 8, 0.5))]
    class R:  # the two fields pace_spans reads
        segments = segs
        timeline = None

    spans = pace_spans(R)  # type: ignore[arg-type]
    assert [round(s.start, 2) for s in spans] == [0.0, 10.0]
    assert spans[0].wpm == pytest.approx(60 * 10 / (turn1[-1].end - turn1[0].start))
    assert spans[1].wpm == pytest.approx(60 * 6 / (turn2[-1].end - turn2[0].start))
    # a long turn with a fast stretch inside: spans of 15 words show it (the last 2 words join the span before)
    long = words(0.0, 15, 0.4) + words(6.0, 15, 0.2) + words(9.0, 2, 0.4)
    spans = pace_spans(type("R", (), {"segments": [Segment("agent", 0.0, 10.0, "x", long)], "timeline": None}))
    assert [len([w for w in long if s.start <= w.start < s.end]) for s in spans] == [15, 17]
    assert spans[1].wpm > 1.5 * spans[0].wpm


def test_transcript_lines_split_long_segments_at_pauses_and_sentences():
    said = "Thank you for calling. How can I help you today? I see two payments on your account"
    ws = [Word(w, 10.0 + 0.3 * i, 10.0 + 0.3 * i + 0.25) for i, w in enumerate(said.split())]
    ws[-4:] = [Word(w.word, w.start + 2.0, w.end + 2.0) for w in ws[-4:]]  # a 2 s pause before "payments on your account"
    caller = Segment("caller", 11.0, 12.0, " Hi ", [])
    lines = transcript_lines([Segment("agent", 10.0, 40.0, said, ws), caller])
    assert [line.text for line in lines] == ["Thank you for calling.", "Hi", "How can I help you today?",
                                            "I see two", "payments on your account"]
    assert lines[0].start == 10.0 and lines[-1].end == ws[-1].end and lines[1].role == "caller"


def test_a_word_piece_whisper_split_off_joins_its_word():
    from poise.report.format import words_text

    ws = [Word(w, float(i), i + 0.5) for i, w in enumerate(["after", "8", ".45", "am,", "cold", "-hearted", "and", "50", "%"])]
    assert words_text(ws) == "after 8.45 am, cold-hearted and 50%"


def test_search_marker_rows_and_level():
    segs = [Segment("agent", 0, 1, "I can see two Payments"), Segment("caller", 1, 2, "payment failed"), Segment("agent", 2, 3, "ok")]
    assert find_segments(segs, "PAYMENT") == [0, 1]
    assert find_segments(segs, "  ") == [] and find_segments(segs, "refund") == []
    rows = marker_rows([10.0, 10.5, 11.0, 30.0, 10.2], min_gap=2.0, max_rows=3)
    assert rows[3] == 0  # far away: the first row again
    assert len({rows[0], rows[1], rows[4]}) == 3  # three close markers on three rows
    one = np.full(SAMPLE_RATE, 0.5, np.float32)
    level = level_db(np.concatenate([one, np.zeros(SAMPLE_RATE, np.float32)]))
    assert len(level) == 20 and level[0] == pytest.approx(20 * np.log10(0.5), abs=0.01) and level[-1] == LEVEL_FLOOR_DB


def test_csv_exports_parse(booking, tmp_path):
    booking.segments = [Segment("agent", 1.0, 2.5, "Hello, thanks for calling", [])]  # a transcript to write
    write_cues_csv(booking, tmp_path / "cues.csv")
    write_segments_csv(booking, tmp_path / "segments.csv")
    cues = list(csv.DictReader((tmp_path / "cues.csv").open(encoding="utf-8")))
    assert len(cues) == len(booking.cues)
    if cues:
        assert float(cues[0]["t_s"]) == pytest.approx(sorted(booking.cues, key=lambda c: c.t)[0].t, abs=1e-3)
    segments = list(csv.DictReader((tmp_path / "segments.csv").open(encoding="utf-8")))
    assert segments == [{"start_s": "1.000", "end_s": "2.500", "start": "00:01", "role": "agent", "words": "4",
                         "text": "Hello, thanks for calling"}]
    from poise.audio.types import Word

    # a recording's batched segment across the caller's reply: one CSV row per turn, in time order
    words = [Word("I'm", 0.0, 0.3), Word("sorry.", 0.3, 0.8), Word("Let", 40.0, 40.2), Word("me", 40.2, 40.4), Word("check.", 40.4, 41.0)]
    booking.segments = [Segment("agent", 0.0, 41.0, "I'm sorry. Let me check.", words), Segment("caller", 5.0, 9.0, "It was charged twice.", [])]
    write_segments_csv(booking, tmp_path / "segments.csv")
    rows = list(csv.DictReader((tmp_path / "segments.csv").open(encoding="utf-8")))
    assert [(r["start"], r["role"], r["text"]) for r in rows] == [
        ("00:00", "agent", "I'm sorry."), ("00:05", "caller", "It was charged twice."), ("00:40", "agent", "Let me check.")]


def test_the_kept_numbers_note_says_what_is_true_for_each_kind_of_call(booking, tmp_path):
    """A call first saved by `poise analyze --save` (a review) was not run live: the note says why it differs."""
    from dataclasses import replace

    from poise.app.history import History
    from poise.app.review import kept_numbers, numbers_note
    from poise.app.spec import CallKind
    from poise.report.format import call_numbers

    recording = speech_path("call_spokenwoz_agent_left_8k_ulaw.wav").absolute()
    history = History(tmp_path / "history.sqlite3")
    shown = call_numbers(booking)
    other = replace(shown, cues=shown.cues + 2)  # as if this review found two more cues
    assert kept_numbers(recording, history.path) is None
    notes = {}
    for kind in (CallKind.REVIEW, CallKind.LIVE, CallKind.DEMO):
        history.record(kind, "sam", booking, recording=recording)  # the newest call with this recording is the one kept
        kept = kept_numbers(recording, history.path)
        assert kept is not None and kept.kind == kind.value and (kept.pace, kept.length, kept.cues) == (
            shown.pace, shown.length, shown.cues)
        assert numbers_note(shown, kept) == ""  # the same numbers: nothing to say
        notes[kind] = numbers_note(other, kept)
        assert notes[kind].startswith("History keeps this call ") and f"(cues {shown.cues})" in notes[kind]
        assert notes[kind].count(". ") == 0 and notes[kind].endswith(".")
    assert "live" not in notes[CallKind.REVIEW] and "settings and voice profile" in notes[CallKind.REVIEW]
    assert "as it ran live" in notes[CallKind.LIVE] and "live transcript" in notes[CallKind.LIVE]
    assert "demo" in notes[CallKind.DEMO]
