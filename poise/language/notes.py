"""Call notes as kept in history: the agent's text, and the follow-up's due date read from it.

The draft (`summary.CallNotes.as_text`) has a "Follow-up:" line; the agent may edit it. The due
date is always read from the notes as they stand, so changing "by Friday" to "by Monday" moves
the reminder: the line's time phrase resolved against the call's date (`followup.resolve_due`).
A follow-up promised without a time ("I'll call you back") is due the day of the call: an
undated promise is one to keep soon, and a reminder that never comes due is no reminder.
Qt-free; the history store saves what this computes (`HistoryStore.save_notes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Iterable

from .followup import resolve_due

if TYPE_CHECKING:
    from poise.audio.store import HistoryStore
    from poise.audio.types import Segment

FOLLOW_UP_LABEL = "Follow-up:"
NO_FOLLOW_UP = ("", "—", "-", "none", "no", "n/a")  # what a "Follow-up:" line holds when nothing was promised
_LINE = re.compile(r"^\s*follow[ -]?ups?\s*:\s*(.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class SavedNotes:
    """A call's notes as saved in history."""

    call_id: int
    text: str
    follow_up_due: date | None
    follow_up_done: bool
    updated_at: datetime


@dataclass(frozen=True)
class FollowUpReminder:
    """An open (or done) promised follow-up, with the call it was promised in."""

    call_id: int
    due: date
    done: bool
    follow_up: str  # the notes' follow-up line (without its label)
    started_at: datetime  # when the call began (UTC)
    agent: str
    source: str
    recording: str | None

    def date_said(self) -> bool:
        """Whether the promise names a time Poise could read ("by Friday"); without one it is due on the call's
        date (`follow_up_due`), an assumption the reminder says."""
        return any(resolve_due(_when_of(part), self.started_at.date()) is not None for part in self.follow_up.split(";"))

    def status(self, today: date) -> str:
        """"overdue", "due today" or "upcoming" on `today`."""
        if self.due < today:
            return "overdue"
        return "due today" if self.due == today else "upcoming"


def follow_up_line(text: str) -> str | None:
    """What the notes' "Follow-up:" line promises (None when there is no such line or it says none)."""
    found = [m.group(1).strip() for m in _LINE.finditer(text or "")]
    promised = [f for f in found if f.strip().lower().rstrip(".") not in NO_FOLLOW_UP]
    return "; ".join(promised) if promised else None


def follow_up_due(text: str, call_date: date) -> date | None:
    """When the follow-up in the notes `text` is due (the earliest date it names), or None if none is promised."""
    line = follow_up_line(text)
    if line is None:
        return None
    dates = [d for part in line.split(";") if (d := resolve_due(_when_of(part), call_date)) is not None]
    return min(dates) if dates else call_date


def _when_of(part: str) -> str:
    """A draft's follow-up "I'll call you. (by friday)" keeps its time in brackets; an edited one is read whole."""
    m = re.search(r"\(([^()]*)\)\s*$", part)
    if m and resolve_due(m.group(1), date(2000, 1, 3)) is not None:
        return m.group(1)
    return part


def save_draft_notes(store: HistoryStore, call_id: int, segments: Iterable[Segment]) -> bool:
    """Keep the drafted notes of a just-saved call whose agent promised a follow-up, so its reminder exists
    before anyone opens the call; notes already saved are left alone. True when notes were saved.

    `segments` must be the transcript as history keeps it (redacted unless numbers are kept).
    """
    from .summary import draft_notes_text

    text = draft_notes_text(segments)
    if follow_up_line(text) is None or store.load_notes(call_id) is not None:
        return False
    started = store.call_started_at(call_id)
    if started is None:
        return False
    store.save_notes(call_id, text, follow_up_due(text, started.astimezone().date()))
    return True


def reminders_in_order(reminders: list[FollowUpReminder], today: date) -> list[FollowUpReminder]:
    """Open reminders first (overdue, due today, upcoming; each by due date), done ones last."""
    rank = {"overdue": 0, "due today": 1, "upcoming": 2}
    return sorted(reminders, key=lambda r: (r.done, rank[r.status(today)], r.due, r.started_at))


__all__ = ["FollowUpReminder", "SavedNotes", "follow_up_due", "follow_up_line", "reminders_in_order", "save_draft_notes"]
