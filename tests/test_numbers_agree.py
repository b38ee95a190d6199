"""Issue 8: the same call shows the same pace, length, talk share, interruptions and cues per 10 minutes
everywhere: the review window's cards, the HTML report, the terminal summary, the end-of-call message, the
live view after the call, the history list, the history window and the trends. And the live gauge says when
its number is the sound's estimate, counts the words once they arrive, and ends on the call's own pace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from poise.app.live_pace import MIN_WORDS, LivePace
from poise.app.spec import CallOutcome
from poise.audio.store import HistoryStore
from poise.audio.types import Meters, Segment, Word
from poise.desktop.live_view import UNIT_ESTIMATE, UNIT_WORDS, LiveView
from poise.desktop.main_window import call_summary
from poise.desktop.review_window import ReviewWindow
from poise.report.format import call_numbers, cues_per_10min, fmt_clock, fmt_duration, fmt_durations_alike, numbers, row_numbers
from poise.report.html import render_html
from poise.report.summary import format_summary

DEMO = Path(__file__).resolve().parents[1] / "poise" / "assets" / "demo_call.ogg"


def _meters(t: float, wpm_est: float | None) -> Meters:
    return Meters(t=t, agent_speaking=wpm_est is not None, caller_speaking=False, agent_db=-30.0, agent_pitch_hz=180.0,
                  agent_rate_sps=None if wpm_est is None else wpm_est * 1.25 / 60.0, agent_wpm_est=wpm_est,
                  caller_db=None, baseline_ready=True, baseline_pitch_hz=180.0, baseline_db=-30.0,
                  baseline_rate_sps=4.0)


def _words(start: float, n: int, wpm: float) -> list[Word]:
    """`n` words said back to back at `wpm`."""
    step = 60.0 / wpm
    return [Word(f" word{i}", start + i * step, start + (i + 1) * step, 0.9) for i in range(n)]


def _text(html: str) -> str:
    html = re.sub(r"<(style|svg).*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_demo_call_shows_the_same_numbers_in_every_place(qtbot, tmp_path):
    """One real analysis (the review window's, saved to history), followed into every place that shows it."""
    win = ReviewWindow(DEMO)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.analysis_done, timeout=180_000):
        win.show()
    result, call_id = win.result, win.outcome.call_id
    assert result is not None and call_id is not None, win.error
    shown = call_numbers(result)
    assert shown.wpm is not None and shown.cues > 0 and shown.cue_rate == pytest.approx(
        len(result.cues) * 600.0 / result.source.duration_s)

    # the review window's cards
    card = {key: w.value.text() for key, w in win.card_widgets.items()}
    assert (card["wpm"], card["length"], card["share"], card["interruptions"], card["cues"]) == (
        shown.pace, shown.length, shown.talk_share, shown.interruptions, shown.cues_per_10min)
    assert f"{shown.length} long" in win.status.text()
    assert win.clock.text().split(" / ")[1].removeprefix("0") == shown.length  # the player's total: '01:30' is '1:30'

    # the HTML report (its cards, now with the cue rate) and the terminal summary
    page = _text(render_html(result))
    assert f"Agent pace {shown.pace_value} wpm" in page
    assert f"Agent talk share {shown.talk_share}" in page
    assert f"Interruptions {shown.interruptions} " in page
    assert f"Cues per 10 min {shown.cues_per_10min} {shown.cues} cues in {shown.length}" in page
    terminal = format_summary(result, color=False)
    assert re.search(rf"^Length +{re.escape(shown.length)} ", terminal, re.M)
    assert re.search(rf"^Pace +{shown.pace} ", terminal, re.M)
    for label, value in (("Agent talk share", shown.talk_share), ("Agent interruptions", shown.interruptions),
                         ("Cues per 10 min", shown.cues_per_10min)):
        assert re.search(rf"^  {label} +{re.escape(value)}$", terminal, re.M), label

    # the end-of-call message, and the live view once the call has ended
    message = call_summary("demo call", CallOutcome(result=result))
    assert f"{shown.length} long" in message and f"your pace {shown.pace}" in message
    assert f"{shown.cues} cues ({shown.cues_per_10min} per 10 min)" in message
    view = LiveView()
    qtbot.addWidget(view)
    view.clear()
    for seg in result.segments:  # the words as they would arrive live
        view.on_segment(seg)
    assert view.live_pace.call_wpm() == pytest.approx(result.agent.wpm, abs=0.05)  # counted as RoleStats counts
    view.on_meters(_meters(result.source.duration_s, 250.0))
    assert view.pace_unit.text() == UNIT_WORDS  # words have arrived: no longer the estimate
    view.show_call_result(result, call_id)
    assert view.pace_value.text() == shown.pace_value and view.pace_gauge.value() == shown.wpm
    view.on_meters(_meters(result.source.duration_s + 0.1, 250.0))  # a late meter never moves the call's number
    assert view.pace_value.text() == shown.pace_value and "whole call" in view.pace_text().lower()
    assert view.clock_label.text().removeprefix("0") == shown.length  # "Call time" ends on the call's length

    # history: the list, the history window's table, the trends table
    with HistoryStore() as store:
        row = next(r for r in store.list_calls(None) if r.id == call_id)
        trend = next(r for r in store.trends(row.agent) if r["id"] == call_id)
    kept = row_numbers(row)
    assert (kept.pace, kept.length, kept.interruptions, kept.cues_per_10min) == (
        shown.pace, shown.length, shown.interruptions, shown.cues_per_10min)
    from poise.desktop.history_window import CallTableModel
    from poise.desktop.trends_tab import TrendsTab

    model = CallTableModel()
    model.set_rows([row])
    cells = {model.headerData(c, Qt.Orientation.Horizontal): model.data(model.index(0, c))
             for c in range(model.columnCount())}
    assert (cells["Length"], cells["Pace (wpm)"], cells["Interruptions"], cells["Cues / 10 min"]) == (
        shown.length, shown.pace_value, shown.interruptions, shown.cues_per_10min)
    assert row_numbers(trend).cues_per_10min == shown.cues_per_10min
    trends = TrendsTab(row.agent)
    qtbot.addWidget(trends)
    trends.refresh()
    heads = [trends.table.horizontalHeaderItem(c).text() for c in range(trends.table.columnCount())]
    newest = {h: trends.table.item(0, c).text() for c, h in enumerate(heads)}
    assert (newest["Length"], newest["Pace (wpm)"], newest["Interruptions"], newest["Cues / 10 min"]) == (
        shown.length, shown.pace_value, shown.interruptions, shown.cues_per_10min)
    win.close()
    win.wait(60)


def test_the_live_gauge_says_estimate_until_the_words_arrive():
    pace = LivePace()
    assert pace.shown(None).source == "none"
    first = pace.shown(190.0)
    assert first.source == "sound" and first.estimated and first.wpm == 190.0 and "estimate" in first.note
    pace.add_segment(Segment("caller", 0.0, 3.0, "x", _words(0.0, 20, 200.0)))  # the caller's words never count
    pace.add_segment(Segment("agent", 3.0, 4.0, "x", _words(3.0, MIN_WORDS - 1, 150.0)))
    assert pace.shown(190.0).source == "sound"  # too few words to say a pace
    pace.add_segment(Segment("agent", 4.0, 8.0, "x", _words(3.0 + (MIN_WORDS - 1) * 0.4, 10, 150.0)))
    now = pace.shown(250.0)
    assert now.source == "words" and not now.estimated
    assert now.wpm == pytest.approx(150.0, rel=0.02) and now.call_wpm == pytest.approx(150.0, rel=0.02)
    pace.add_segment(Segment("agent", 60.0, 70.0, "x", _words(60.0, 30, 220.0)))  # she speeds up a minute later
    assert pace.shown(None).wpm == pytest.approx(220.0, rel=0.02)  # the recent words, not the whole call
    assert 150.0 < pace.call_wpm() < 220.0


def test_the_live_view_labels_the_estimate_and_hides_the_other_scale(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    view.clear()
    view.on_meters(_meters(5.0, 210.0))
    assert view.pace_unit.text() == UNIT_ESTIMATE and "estimate" in view.pace_note.text().lower()
    assert view.pace_gauge.normal() == pytest.approx(4.0 * 60 / 1.25)  # the sound's normal on the sound's scale
    view.on_segment(Segment("agent", 1.0, 6.0, "a few words", _words(1.0, 12, 160.0)))
    view.on_meters(_meters(6.1, 210.0))
    assert view.pace_unit.text() == UNIT_WORDS and view.pace_value.text() == "160"
    assert view.pace_gauge.normal() is None  # no acoustic normal drawn against the words' pace
    assert "this call so far 160 wpm" in view.pace_note.text()
    assert "(estimate)" in view.baseline_label.text() or "wpm" not in view.baseline_label.text()


def test_cue_rate_and_missing_values():
    assert cues_per_10min(5, 90.793) == pytest.approx(33.04, abs=0.01)
    assert cues_per_10min(3, 0.0) is None and cues_per_10min(3, None) is None
    blank = numbers(None, None, None, None, 0)
    assert (blank.pace, blank.length, blank.talk_share, blank.interruptions, blank.cues_per_10min) == ("—",) * 5
    assert numbers(600.0, 197.5, 0.655, 2, 4).pace == "198 wpm"  # one rounding, shared
    assert numbers(90.79, None, None, None, 0).length == "1:30"  # floored, as the clocks: '01:30 / 01:30' at the end
    # under a minute too: the card and history say '0:48' where the player's clock says '00:48' (issue 8 audit)
    assert numbers(48.6, None, None, None, 0).length == "0:48" == fmt_clock(48.6).removeprefix("0")
    assert numbers(59.97, None, None, None, 0).length == "0:59"
    assert numbers(3725.0, None, None, None, 0).length == "1:02:05" == fmt_clock(3725.0)
    assert fmt_duration(48.6) == "48.6 s"  # a span inside a call (dead air, a monologue) keeps its tenths
    # the agent's and the caller's talk time side by side read in one unit (the demo call: '1:02' beside '0:32')
    assert fmt_durations_alike(62.4, 32.9) == ["1:02", "0:32"]
    assert fmt_durations_alike(41.2, 32.9) == ["41.2 s", "32.9 s"]
    assert fmt_durations_alike(62.4, None) == ["1:02", "—"]
    assert fmt_durations_alike(60.0, 0.4) == ["1:00", "<0:01"]  # a brief caller is not silent
    assert fmt_durations_alike(59.97, 3.0) == ["59.9 s", "3.0 s"]


def test_no_cues_says_close_to_her_normal_only_when_there_is_one() -> None:
    from types import SimpleNamespace

    from poise.audio.types import Baseline
    from poise.report.format import no_cues_sentence

    learnt = SimpleNamespace(baseline=Baseline(pitch_hz=200.0, db=-30.0, rate_sps=4.0, speech_s=60.0))
    assert no_cues_sentence(learnt) == "No cues: you stayed close to your own normal throughout."
    barely_spoke = SimpleNamespace(baseline=Baseline())
    assert "too little of the agent's speech" in no_cues_sentence(barely_spoke)
