"""The review window's "What was said" pane (pytest-qt, offscreen): summary lines, editable draft
notes, phrase moments that seek when clicked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from poise.audio.session import Session
from poise.audio.types import SAMPLE_RATE, AnalysisResult, Block, Segment


def _result(segments: list[Segment]) -> AnalysisResult:
    """A real Session's result for 20 s of a quiet two-sided line, with this transcript."""
    session = Session(has_caller=True)
    rng = np.random.default_rng(0)
    for i in range(20):
        noise = (rng.standard_normal(SAMPLE_RATE) * 1e-4).astype(np.float32)
        session.feed(Block(t0=float(i), agent=noise, caller=noise.copy()))
    return session.finish(segments=segments)


SEGMENTS = [
    Segment("caller", 1.0, 3.0, "I'm calling because my parcel never arrived."),
    Segment("caller", 3.5, 5.0, "This is ridiculous."),
    Segment("agent", 6.0, 7.5, "As I said, it's out of my hands."),
    Segment("agent", 9.0, 11.0, "I'm so sorry, that must be frustrating."),
    Segment("agent", 12.0, 15.0, "I'll send a replacement by Friday."),
]


def test_the_pane_shows_the_summary_notes_and_moments(qtbot) -> None:
    from poise.desktop.language_panel import LanguagePanel

    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(_result(SEGMENTS))
    lines = panel.lines.text().splitlines()
    assert lines[0] == "Acknowledged within 4 s of the caller's first complaint (00:03)."  # 3.5 s, floored as the moment list below
    assert lines[1].startswith("Defensive phrases: 1") and lines[2].startswith("Next steps stated: yes")
    notes = panel.notes_text()
    assert "Concern: I'm calling because my parcel never arrived." in notes
    assert "I'll send a replacement by Friday. (by friday)" in notes
    texts = [panel.moments.item(i).text() for i in range(panel.moments.count())]
    assert any("Agent · defensive" in t and "As I said" in t for t in texts)
    assert any(t.startswith("00:03  Caller · hostile") for t in texts)  # the same clock as the summary line

    panel.notes.setPlainText("Concern: parcel lost. Follow-up: replacement Friday.")  # the agent edits the draft
    assert panel.notes_text() == "Concern: parcel lost. Follow-up: replacement Friday."

    row = next(i for i, t in enumerate(texts) if "defensive" in t)
    with qtbot.waitSignal(panel.seek_requested, timeout=2000) as blocker:
        panel.moments.itemClicked.emit(panel.moments.item(row))
    assert blocker.args == [pytest.approx(5.0)]  # 1 s before the sentence

    panel.show()
    assert not panel.grab().isNull()


def test_a_call_without_words_says_so(qtbot) -> None:
    from poise.desktop.language_panel import LanguagePanel

    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(_result([]))
    assert panel.lines.text() == "No transcript: nothing to read here." and panel.moments.count() == 0


def _saved(result: AnalysisResult, recording: Path, when: datetime) -> int:
    from poise import paths
    from poise.audio.store import HistoryStore

    with HistoryStore(paths.history_db_path()) as store:
        return store.save_call(result, "review", agent="ann", started_at=when, recording=recording)


def test_the_notes_are_saved_with_the_call_and_edits_move_the_follow_up(qtbot, tmp_path: Path) -> None:
    from poise import paths
    from poise.audio.store import HistoryStore
    from poise.desktop.language_panel import LanguagePanel

    recording = tmp_path / "call.wav"
    result = replace(_result(SEGMENTS), source=replace(_result([]).source, path=str(recording)))
    call_id = _saved(result, recording, datetime(2026, 12, 1, 10, tzinfo=timezone.utc))  # a Tuesday
    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(result)  # the call found by its recording, as the review window does
    assert panel.call_id == call_id and panel.call_date == date(2026, 12, 1)
    assert panel.follow_up_label.text() == "Follow-up due Fri 04 Dec 2026."
    with HistoryStore(paths.history_db_path()) as store:
        saved = store.load_notes(call_id)  # a draft with a promise is saved at once: the reminder exists
        assert saved is not None and saved.follow_up_due == date(2026, 12, 4) and "by Friday" in saved.text
        assert [r.call_id for r in store.due_follow_ups()] == [call_id]

    edited = panel.notes_text().replace("by Friday. (by friday)", "tomorrow.")
    panel.notes.setPlainText(edited)  # the agent edits: saved a moment after the typing stops
    assert panel.notes_status.text() == "Editing…"
    qtbot.waitUntil(lambda: panel.notes_status.text().startswith("Saved with the call"), timeout=3000)
    assert panel.follow_up_label.text() == "Follow-up due Wed 02 Dec 2026."
    panel.follow_up_done.setChecked(True)
    with HistoryStore(paths.history_db_path()) as store:
        saved = store.load_notes(call_id)
        assert saved.text == edited and saved.follow_up_due == date(2026, 12, 2) and saved.follow_up_done
        assert store.due_follow_ups() == []

    again = LanguagePanel()  # the call reviewed again: the saved notes, not a new draft
    qtbot.addWidget(again)
    again.set_result(result)
    again.show()
    assert again.notes_text() == edited and again.follow_up_done.isChecked()
    again.notes.setPlainText(edited + "\nCalled back, resolved.")
    again.hide()  # closing the review saves an edit still waiting
    with HistoryStore(paths.history_db_path()) as store:
        assert store.load_notes(call_id).text.endswith("Called back, resolved.")


def test_a_call_not_in_history_keeps_its_notes_unsaved_and_says_so(qtbot) -> None:
    from poise.desktop.language_panel import LanguagePanel

    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(_result(SEGMENTS))
    assert panel.call_id is None
    assert panel.notes_status.text() == "This call is not in history: the notes are not saved (copy them)."
    assert not panel.save_notes() and not panel.follow_up_done.isVisible()


def test_the_draft_saved_with_the_call_holds_no_numbers_history_would_not(qtbot, tmp_path: Path) -> None:
    from poise import paths
    from poise.audio.store import HistoryStore
    from poise.desktop.language_panel import LanguagePanel

    segments = [Segment("caller", 1.0, 4.0, "I was charged twice on card 4929 1234 5678 9012, it's wrong."),
                Segment("agent", 5.0, 7.0, "I'll refund it by Friday.")]
    recording = tmp_path / "call.wav"
    result = replace(_result(segments), source=replace(_result([]).source, path=str(recording)))
    call_id = _saved(result, recording, datetime(2026, 12, 1, 10, tzinfo=timezone.utc))
    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_result(result)
    assert "charged twice" in panel.notes_text() and "4929" not in panel.notes_text()
    with HistoryStore(paths.history_db_path()) as store:
        assert "5678" not in store.load_notes(call_id).text
