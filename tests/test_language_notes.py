"""Call notes and their follow-ups (issue 10): the promise's time phrase resolved against the call's date
(fixed dates, no clock), the due date read from the notes as edited, and the notes kept with the call in
history (save, load, reminders due, mark done, gone with the call)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from poise.audio.session import Session
from poise.audio.store import HistoryStore, StoreError
from poise.audio.types import SAMPLE_RATE, Block, Segment
from poise.language.followup import resolve_due
from poise.language.notes import follow_up_due, follow_up_line, reminders_in_order

TUESDAY = date(2026, 12, 1)  # a Tuesday
FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("phrase", "said_on", "due"),
    [
        ("within two days", TUESDAY, date(2026, 12, 3)),
        ("by Friday", TUESDAY, FRIDAY),
        ("by Friday", FRIDAY, date(2026, 12, 11)),  # said on a Friday: the next one
        ("tomorrow", TUESDAY, date(2026, 12, 2)),
        ("tomorrow morning", date(2026, 12, 31), date(2027, 1, 1)),
        ("the day after tomorrow", TUESDAY, date(2026, 12, 3)),
        ("today", TUESDAY, TUESDAY),
        ("by 5 pm", TUESDAY, TUESDAY),
        ("within 48 hours", TUESDAY, date(2026, 12, 3)),
        ("within the hour", TUESDAY, TUESDAY),
        ("in three to five working days", FRIDAY, date(2026, 12, 11)),  # Mon..Fri after, weekend skipped
        ("within 2 business days", FRIDAY, date(2026, 12, 8)),
        ("within a week", TUESDAY, date(2026, 12, 8)),
        ("by the end of the week", TUESDAY, FRIDAY),
        ("by the end of the week", date(2026, 12, 5), date(2026, 12, 6)),  # a Saturday: its Sunday
        ("by the end of the month", TUESDAY, date(2026, 12, 31)),
        ("next Tuesday", TUESDAY, date(2026, 12, 8)),
        ("next Friday", TUESDAY, date(2026, 12, 11)),  # the week after this one
        ("next week", TUESDAY, date(2026, 12, 7)),
        ("on the 15th", TUESDAY, date(2026, 12, 15)),
        ("by the 3rd of January", TUESDAY, date(2027, 1, 3)),
        ("in a month", date(2026, 1, 31), date(2026, 2, 28)),
        ("shortly", TUESDAY, None),
        ("", TUESDAY, None),
    ],
)
def test_a_promise_time_resolves_against_the_call_date(phrase: str, said_on: date, due: date | None) -> None:
    assert resolve_due(phrase, said_on) == due


def test_the_due_date_is_read_from_the_notes_as_edited() -> None:
    draft = "Concern: the parcel never arrived.\nOffered: a replacement\nFollow-up: I'll send a replacement by Friday. (by friday)"
    assert follow_up_line(draft) == "I'll send a replacement by Friday. (by friday)"
    assert follow_up_due(draft, TUESDAY) == FRIDAY
    edited = draft.replace("(by friday)", "").replace("by Friday", "tomorrow")
    assert follow_up_due(edited, TUESDAY) == date(2026, 12, 2)
    assert follow_up_due("Concern: x\nFollow-up: —", TUESDAY) is None  # the draft's "nothing promised"
    assert follow_up_due("Concern: x", TUESDAY) is None
    assert follow_up_due("Follow-up: call her back", TUESDAY) == TUESDAY  # undated: due the day of the call
    two = "Follow-up: email the label (today); engineer visit (within two days)"
    assert follow_up_due(two, TUESDAY) == TUESDAY  # the earliest promise


def _result(duration_s: int = 4):
    session = Session(has_caller=True)
    rng = np.random.default_rng(0)
    for i in range(duration_s):
        noise = (rng.standard_normal(SAMPLE_RATE) * 1e-4).astype(np.float32)
        session.feed(Block(t0=float(i), agent=noise, caller=noise.copy()))
    return session.finish(segments=[Segment("agent", 1.0, 2.0, "I'll call you back tomorrow.")])


def test_notes_are_kept_with_the_call_and_follow_ups_come_due(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        monday = store.save_call(_result(), "live", agent="ann", started_at=datetime(2026, 11, 30, 9, tzinfo=timezone.utc),
                                 recording=tmp_path / "a.wav")
        tuesday = store.save_call(_result(), "review", agent="bo", started_at=datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
        quiet = store.save_call(_result(), "review", agent="bo")
        assert store.load_notes(monday) is None
        store.save_notes(monday, "Follow-up: call back (tomorrow)", date(2026, 12, 1))
        store.save_notes(tuesday, "Follow-up: send the label (by friday)", FRIDAY)
        store.save_notes(quiet, "Concern: a question", None)
        notes = store.load_notes(monday)
        assert notes is not None and notes.text == "Follow-up: call back (tomorrow)"
        assert notes.follow_up_due == date(2026, 12, 1) and not notes.follow_up_done

        due = store.due_follow_ups(until=TUESDAY)
        assert [(r.call_id, r.due, r.agent, r.follow_up) for r in due] == [(monday, date(2026, 12, 1), "ann", "call back (tomorrow)")]
        assert due[0].recording == str((tmp_path / "a.wav").absolute())
        assert [r.call_id for r in store.due_follow_ups()] == [monday, tuesday]  # no date bound; the undated-free call is absent

        assert store.mark_follow_up_done(monday)
        assert [r.call_id for r in store.due_follow_ups()] == [tuesday]
        assert [r.call_id for r in store.due_follow_ups(include_done=True)] == [monday, tuesday]
        store.save_notes(monday, "Follow-up: call back (tomorrow), as promised", date(2026, 12, 1))
        assert store.load_notes(monday).follow_up_done  # same date: still done
        store.save_notes(monday, "Follow-up: call back (by friday)", FRIDAY)
        assert not store.load_notes(monday).follow_up_done  # a new date opens it again
        assert not store.mark_follow_up_done(999)

        assert store.call_with_recording(tmp_path / "a.wav") == monday
        assert store.call_with_recording(tmp_path / "b.wav") is None
        assert store.call_started_at(monday) == datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
        assert store.segment_texts([monday, 999]) == {monday: ["I'll call you back tomorrow."], 999: []}

        store.delete_call(monday)
        assert store.load_notes(monday) is None and [r.call_id for r in store.due_follow_ups()] == [tuesday]
        with pytest.raises(StoreError, match="no longer in the history"):
            store.save_notes(monday, "x")


def test_reminders_are_ordered_overdue_then_due_then_upcoming_then_done(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        ids = [store.save_call(_result(), "review") for _ in range(4)]
        for call_id, due in zip(ids, (date(2026, 12, 8), date(2026, 11, 20), TUESDAY, date(2026, 11, 1))):
            store.save_notes(call_id, "Follow-up: x", due)
        store.mark_follow_up_done(ids[3])
        ordered = reminders_in_order(store.due_follow_ups(include_done=True), today=TUESDAY)
    assert [(r.call_id, r.status(TUESDAY), r.done) for r in ordered] == [
        (ids[1], "overdue", False), (ids[2], "due today", False), (ids[0], "upcoming", False), (ids[3], "overdue", True)]


def test_a_live_call_that_promised_a_follow_up_is_reminded_without_a_review(tmp_path: Path) -> None:
    from poise.app.history import History
    from poise.app.spec import CallKind

    history = History(tmp_path / "h.sqlite")
    promised = history.record(CallKind.LIVE, "ann", _result())  # "I'll call you back tomorrow."
    demo = history.record(CallKind.DEMO, "ann", _result())
    session = Session(has_caller=True)
    session.feed(Block(t0=0.0, agent=np.zeros(SAMPLE_RATE, np.float32), caller=np.zeros(SAMPLE_RATE, np.float32)))
    silent = history.record(CallKind.LIVE, "ann", session.finish(segments=[Segment("agent", 0.1, 0.5, "Goodbye.")]))
    with HistoryStore(tmp_path / "h.sqlite") as store:
        notes = store.load_notes(promised.call_id)
        assert notes is not None and "Follow-up: I'll call you back tomorrow. (tomorrow)" in notes.text
        started = store.call_started_at(promised.call_id).astimezone().date()
        assert notes.follow_up_due == started + (date(2026, 1, 2) - date(2026, 1, 1))
        assert store.load_notes(demo.call_id) is None and store.load_notes(silent.call_id) is None
        assert [r.call_id for r in store.due_follow_ups()] == [promised.call_id]
