"""After the call: the language summary lines and a draft of the call notes, from the transcript.

Everything here is derived from a call's final segments (and its cues), so a call loaded from
history gets the same summary as the report written when it ended; nothing extra is stored.
The notes are a draft for the agent to edit: the caller's concern (their first sentence that
names a problem; else their first complaint; else the sentence that says what they call about),
what the agent offered, and the follow-up they promised with its time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from poise.audio.types import Cue, Segment

from .coach import LANGUAGE_KINDS, PhraseMoment, moments_of, sentences
from .phrases import normalize

FAMILY_NAMES = {  # how the review, the report and the moments list name a family
    "acknowledge": "acknowledged",
    "apology": "apologised",
    "defensive": "defensive",
    "confirm": "repeated back",
    "next_steps": "next step",
    "escalation": "offered escalation",
    "boundary": "set a boundary",
    "abuse": "abusive",
    "hostile": "hostile / distressed",
}


ACKNOWLEDGING = ("acknowledge", "apology")
COMPLAINT = ("hostile", "abuse")
NOTES_MAX_ITEMS = 4  # offers / follow-ups listed in the draft notes (more is a transcript, not notes)
# "I'm calling about my internet connection" says the topic, not the problem: a concern only
# when no sentence names a problem and no complaint was made.
_CALLING_ABOUT = re.compile(r"\b(?:calling about|calling because|calling regarding|ringing about|phoning about)\b")
_CONCERN = re.compile(
    r"\b(?:problem|issue|charged|not working|does not work|stopped working|has not arrived|"
    r"never arrived|not arrived|broken|wrong|missing|refund|cancel|complain\w*|keeps? \w+ing|still not|overcharged|"
    r"double charged|twice|late|damaged|lost|no one|nobody|been waiting|dropping|down)\b"
)
_OFFER = re.compile(
    r"\b(?:i can|i will|i am going to|i could|we can|we will|let me|i have|you will (?:receive|get|hear))\b.*?\b(?:"
    r"refund\w*|replace\w*|send|credit\w*|book\w*|arrange|escalat\w*|transfer|waive|fix|sort|call|ring|email|look into|"
    r"(?:have|take) a look|look at|investigate|test|run a (?:test|check)|find out|"
    r"check|cancel|compensat\w*|discount|reset|reconnect|visit|post|raise)\b"
)
_WHEN = re.compile(r"…\s*(.+)$")


@dataclass
class FollowUp:
    """A promise with its time, as said."""

    t: float
    text: str
    when: str

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "text": self.text, "when": self.when}

    @property
    def said(self) -> str:
        """The promise as said, with its time when one was found."""
        return f"{self.text} ({self.when})" if self.when else self.text


@dataclass
class CallNotes:
    """A draft of the call notes (editable by the agent)."""

    concern: str | None = None
    offered: list[str] = field(default_factory=list)
    follow_up: list[FollowUp] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"concern": self.concern, "offered": list(self.offered), "follow_up": [f.to_json() for f in self.follow_up]}

    def as_text(self) -> str:
        """The notes as plain text for a notes field."""
        lines = [f"Concern: {self.concern or '—'}"]
        lines.append("Offered: " + (join_said(self.offered) or "—"))
        lines.append("Follow-up: " + (join_said([f.said for f in self.follow_up]) or "—"))
        return "\n".join(lines)


def join_said(items: list[str]) -> str:
    """Sentences said, one after the other: a full stop already ends one, else "; " parts them."""
    out = ""
    for item in items:
        item = item.strip()
        out += ("" if not out else " " if out[-1:] in ".?!" else "; ") + item
    return out


@dataclass
class LanguageSummary:
    """What was said, for the report, the review window and the JSON `language` section."""

    moments: list[PhraseMoment]
    first_complaint_t: float | None
    acknowledged_after_s: float | None  # s from the end of the first complaint to the first acknowledgement after it
    acknowledged_before: bool  # the agent acknowledged or apologised before the first complaint (and not after)
    defensive: list[PhraseMoment]
    next_steps: list[PhraseMoment]  # the agent's
    language_cues: list[Cue]
    notes: CallNotes

    def lines(self) -> list[str]:
        """Short summary lines for people."""
        out: list[str] = []
        if self.first_complaint_t is not None:
            at = _clock(self.first_complaint_t)
            if self.acknowledged_after_s is not None and self.acknowledged_after_s < 1.0:
                out.append(f"Acknowledged straight after the caller's first complaint ({at}).")
            elif self.acknowledged_after_s is not None:
                out.append(f"Acknowledged within {self.acknowledged_after_s:.0f} s of the caller's first complaint ({at}).")
            elif self.acknowledged_before:
                out.append(f"Acknowledged before the caller's first complaint ({at}), not after it.")
            else:
                out.append(f"Not acknowledged after the caller's first complaint ({at}).")
        if self.defensive:
            said = ", ".join(f"\u201c{m.match}\u201d ({_clock(m.t)})" for m in self.defensive[:NOTES_MAX_ITEMS])
            out.append(f"Defensive phrases: {len(self.defensive)} \u2014 {said}.")
        else:
            out.append("Defensive phrases: none.")
        if self.next_steps:
            out.append(f"Next steps stated: yes \u2014 \u201c{self.next_steps[0].text}\u201d ({_clock(self.next_steps[0].t)}).")
        else:
            out.append("Next steps stated: no.")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "moments": [m.to_json() for m in self.moments],
            "first_complaint_t": None if self.first_complaint_t is None else round(self.first_complaint_t, 3),
            "acknowledged_after_s": None if self.acknowledged_after_s is None else round(self.acknowledged_after_s, 1),
            "defensive_phrases": [{"t": round(m.t, 3), "phrase": m.match, "text": m.text} for m in self.defensive],
            "next_steps_stated": bool(self.next_steps),
            "next_steps": [{"t": round(m.t, 3), "text": m.text} for m in self.next_steps],
            "summary": self.lines(),
            "notes": self.notes.to_json(),
        }


def _clock(t: float) -> str:
    """A moment's time as the review's cue list and the report print it (00:35, floored)."""
    from poise.report.format import fmt_clock  # here, not at the top: poise.report imports this module

    return fmt_clock(t)


def summarize(segments: Iterable[Segment], cues: Iterable[Cue] = ()) -> LanguageSummary:
    """The language summary of a finished call from its final segments (any order) and its cues."""
    pieces = sorted((p for s in segments for p in sentences(s)), key=lambda s: (s.start, s.end))
    moments = [m for p in pieces for m in moments_of(p)]
    language_cues = [c for c in cues if c.kind in LANGUAGE_KINDS]
    complaints = [m for m in moments if m.role == "caller" and m.family in COMPLAINT]
    heated_at = [float(c.evidence["heated_since"]) for c in language_cues if c.kind == "acknowledge" and "heated_since" in c.evidence]
    first = min([m.t for m in complaints[:1]] + heated_at[:1], default=None)
    first_end = next((m.end for m in complaints if m.t == first), first)
    acks = [m for m in moments if m.role == "agent" and m.family in ACKNOWLEDGING]
    after = [m for m in acks if first is not None and m.t >= first]
    return LanguageSummary(
        moments=moments,
        first_complaint_t=first,
        acknowledged_after_s=max(0.0, after[0].t - (first_end or 0.0)) if after else None,
        acknowledged_before=bool(first is not None and acks and not after),
        defensive=[m for m in moments if m.role == "agent" and m.family == "defensive"],
        next_steps=[m for m in moments if m.role == "agent" and m.family == "next_steps"],
        language_cues=language_cues,
        notes=draft_notes(pieces, moments),
    )


def draft_notes(pieces: list[Segment], moments: list[PhraseMoment]) -> CallNotes:
    """Concern, offers and promised follow-ups, as the transcript says them."""
    caller = [p for p in pieces if p.role == "caller"]
    concern = next((p.text for p in caller if _CONCERN.search(normalize(p.text))), None)
    if concern is None:
        concern = next((m.text for m in moments if m.role == "caller" and m.family in COMPLAINT), None)
    if concern is None:
        concern = next((p.text for p in caller if _CALLING_ABOUT.search(normalize(p.text))), None)
    offered: list[str] = []
    for p in pieces:
        if p.role == "agent" and _OFFER.search(normalize(p.text)) and p.text not in offered:
            offered.append(p.text)
    follow_up = []
    for m in moments:
        if m.role == "agent" and m.family == "next_steps":
            when = _WHEN.search(m.match)
            follow_up.append(FollowUp(m.t, m.text, when.group(1) if when else ""))
    return CallNotes(concern, offered[:NOTES_MAX_ITEMS], follow_up[:NOTES_MAX_ITEMS])


def draft_notes_text(segments: Iterable[Segment]) -> str:
    """The draft call notes of a call's final segments, as plain text for a notes field."""
    pieces = sorted((p for s in segments for p in sentences(s)), key=lambda s: (s.start, s.end))
    return draft_notes(pieces, [m for p in pieces for m in moments_of(p)]).as_text()


def language_json(segments: Iterable[Segment], cues: Iterable[Cue] = ()) -> dict[str, Any]:
    """The JSON `language` section of a call."""
    return summarize(segments, cues).to_json()
