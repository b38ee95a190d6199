"""Issue 10: after a live call the main window's end-of-call view shows the drafted notes, editable, saved
with the call in history; and the gauge ends on the call's own pace (issue 8)."""

from __future__ import annotations

from dataclasses import replace

from conftest import speech_path
from poise.app.history import History
from poise.app.review import kept_numbers, numbers_note
from poise.app.spec import CallKind
from poise.audio.store import HistoryStore
from poise.desktop.main_window import MainWindow
from poise.report.format import call_numbers

SHORT_MONO = "sb_ljspeech_LJ050-0131.wav"  # 7.7 s, one voice


def test_the_end_of_call_view_keeps_the_edited_notes_with_the_call(qtbot):
    main = MainWindow(check_recovery=False)
    qtbot.addWidget(main)
    main.show()
    view = main.live_view
    assert not view.notes_card.isVisible()  # nothing to note before a call
    with qtbot.waitSignal(main.call_finished, timeout=120_000):
        main.start_demo(speech_path(SHORT_MONO), speed=4.0)
    outcome = main.last_outcome
    assert main.last_error is None and outcome.call_id is not None and outcome.result.segments
    assert view.notes_card.isVisible() and view.notes_panel.call_id == outcome.call_id
    assert view.pace_value.text() == call_numbers(outcome.result).pace_value  # the end-of-call message's pace
    assert call_numbers(outcome.result).pace in main.banner_text.text()

    text = "Concern: the report.\nOffered: a copy.\nFollow-up: send it by Friday."
    view.notes_panel.notes.setPlainText(text)  # typed: saved a moment after the typing stops
    qtbot.waitUntil(lambda: "Saved with the call" in view.notes_panel.notes_status.text(), timeout=5_000)
    with HistoryStore() as store:
        saved = store.load_notes(outcome.call_id)
    assert saved is not None and saved.text == text and saved.follow_up_due is not None

    # a review of this call's audio is not saved again; when its fresh transcript counts otherwise, it says so
    shown = call_numbers(outcome.result)
    assert kept_numbers(speech_path(SHORT_MONO)) is None  # the demo kept no audio: its review is a call of its own
    audio = speech_path(SHORT_MONO).absolute()
    History().record(CallKind.LIVE, "default", outcome.result, recording=audio)  # as a live call keeps its recording
    kept = kept_numbers(audio)
    assert kept is not None and (kept.pace, kept.length, kept.cues) == (shown.pace, shown.length, shown.cues)
    assert numbers_note(shown, kept) == ""
    other = replace(shown, pace="250 wpm")
    assert f"pace {shown.pace}" in numbers_note(other, kept) and "live" in numbers_note(other, kept)

    main._review_from(1.0)  # a phrase clicked: the call opens in review (the demo's own file)
    assert len(main.review_windows) == 1
    review = main.review_windows[0]
    review.cancel()
    review.wait(60)
    view.clear()  # the next call starts clean
    assert not view.notes_card.isVisible()
    main.wait_for_workers(60)
