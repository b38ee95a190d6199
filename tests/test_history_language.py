"""What was said, in the history window (issue 10, real Qt offscreen, a fixed "today"): promised
follow-ups listed overdue first, then due today, then upcoming; marked done; opened in review; hidden when
none is open; and a trainee's acknowledgements and defensive phrases per call in their trends."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from poise import paths
from poise.audio.store import HistoryStore
from tests.test_history_window import _wav
from tests.test_store import make_result

TODAY = date(2026, 12, 1)
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def _calls() -> dict[str, int]:
    ids: dict[str, int] = {}
    with HistoryStore() as store:
        for name, day, due, text in (
            ("upcoming", 5, date(2026, 12, 4), "Follow-up: send the label (by friday)"),
            ("overdue", 0, date(2026, 11, 27), "Follow-up: call back about the refund (within two days)"),
            ("today", 3, TODAY, "Follow-up: engineer visit (within 3 days)"),
            ("done", 1, date(2026, 11, 26), "Follow-up: email (tomorrow)"),
        ):
            rec = _wav(paths.recordings_dir() / f"{name}.wav")
            ids[name] = store.save_call(make_result(), "live", agent="sam", started_at=T0 + timedelta(days=day), recording=rec)
            store.save_notes(ids[name], f"Concern: x\n{text}", due)
        store.mark_follow_up_done(ids["done"])
        ids["none"] = store.save_call(make_result(), "live", agent="sam", started_at=T0)
    return ids


def test_follow_ups_are_reminded_marked_done_and_opened(qtbot) -> None:
    from poise.desktop.history_window import HistoryWindow

    ids = _calls()
    opened: list[Path] = []
    window = HistoryWindow(opener=lambda path, *_: opened.append(path), today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.follow_ups
    assert panel.isVisible()
    assert [r.call_id for r in panel.reminders] == [ids["overdue"], ids["today"], ids["upcoming"]]
    cells = [[panel.table.item(r, c).text() for c in range(4)] for r in range(panel.table.rowCount())]
    assert cells[0][0] == "Overdue 4 days (Fri 27 Nov)" and cells[1][0] == "Due today" and cells[2][0] == "Due Fri 04 Dec"
    assert cells[0][3] == "call back about the refund (within two days)" and cells[0][1] == "sam"
    assert panel.summary.text() == "2 due or overdue, 3 open"
    window.grab().save(str(paths.data_dir() / "follow_ups.png"))

    panel.table.selectRow(1)
    panel.open_button.click()
    assert opened == [paths.recordings_dir() / "today.wav"]

    panel.table.selectRow(0)
    panel.done_button.click()
    assert [r.call_id for r in panel.reminders] == [ids["today"], ids["upcoming"]]
    assert window.status.text() == "Follow-up marked done."
    with HistoryStore() as store:
        assert store.load_notes(ids["overdue"]).follow_up_done
    window.refresh()
    assert [r.call_id for r in panel.reminders] == [ids["today"], ids["upcoming"]]
    panel.mark_done(0)
    panel.mark_done(0)
    assert panel.reminders == [] and not panel.isVisible()  # nothing open: the Calls tab as before
    window.close()


def test_no_follow_ups_no_panel(qtbot) -> None:
    from poise.desktop.history_window import HistoryWindow

    with HistoryStore() as store:
        store.save_call(make_result(), "live", agent="sam")
    window = HistoryWindow(today=lambda: TODAY)
    qtbot.addWidget(window)
    window.show()
    assert not window.follow_ups.isVisible() and window.follow_ups.reminders == []
    window.close()


def test_trends_show_acknowledgements_and_defensive_phrases_per_call(qtbot) -> None:
    """From the transcript lines history keeps: each sentence of a stored line counted on its own."""
    from dataclasses import replace

    from poise.audio.types import Segment
    from poise.desktop.trends_tab import TrendsTab

    said = [
        "I'm so sorry about that. I understand how frustrating this is. Calm down, please.",
        "As I said, it's our policy.",
        "Thanks for calling, how can I help?",
    ]
    with HistoryStore() as store:
        ids = []
        for i, text in enumerate(said):
            result = replace(make_result(), segments=[Segment("agent", 1.0, 5.0, text), Segment("caller", 6.0, 7.0, "I'm so sorry.")])
            ids.append(store.save_call(result, "review", agent="kim", started_at=T0 + timedelta(days=i)))
        tab = TrendsTab("kim", store)
        qtbot.addWidget(tab)
        tab.refresh()
        qtbot.waitUntil(lambda: len(tab.language) == 3, timeout=5000)
        got = [(tab.language[i].acknowledgements, tab.language[i].defensive) for i in ids]
        assert got == [(2, 1), (0, 1), (0, 0)]  # the caller's apology is not the agent's
        _, acks = tab.language_plot.getPlotItem().listDataItems()[0].getData()
        _, defensive = tab.language_plot.getPlotItem().listDataItems()[1].getData()
        assert list(acks) == [2, 0, 0] and list(defensive) == [1, 1, 0]
        header = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
        row = [tab.table.item(0, c).text() for c in range(tab.table.columnCount())]  # newest first
        assert header[-2:] == ["Acknowledged", "Defensive"] and row[-2:] == ["0", "0"]
        assert [tab.table.item(2, c).text() for c in (7, 8)] == ["2", "1"]
        tab.refresh()  # known now: counted again from the cache, at once
        assert len(tab.language) == 3


def test_a_promise_without_a_time_says_its_date_was_assumed() -> None:
    from datetime import datetime, timezone

    from poise.desktop.follow_ups import _when
    from poise.language.notes import FollowUpReminder

    def reminder(follow_up: str) -> FollowUpReminder:
        return FollowUpReminder(1, TODAY, False, follow_up, datetime(2026, 12, 1, 9, tzinfo=timezone.utc), "sam", "live", None)

    # the demo call's "within free time working days" (Whisper's "three") names no time Poise can read
    assert _when(reminder("it will be refunded within free time working days"), TODAY) == "Due today (no date said)"
    assert _when(reminder("engineer visit (within 3 days)"), TODAY) == "Due today"
