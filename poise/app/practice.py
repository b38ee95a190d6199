"""The trainer's read-along: a script read at a target pace, measured by a practice call.

The reader's audio goes through `LiveCall` (kind "practice": the same session as a live
call, nothing saved, see `history.POLICY`); the teleprompter's timing and the verdict
against the target are here so that the window only draws them.
"""

from __future__ import annotations

import re

from ..report.format import band_verdict
from .calls import AgentSource, EventListener, LiveCall, StateListener, agent_call
from .spec import CallKind

TARGET_WPM_DEFAULT = 150  # wpm: the top of comfortable phone pace, pauses included
TARGET_WPM_RANGE = (90, 220)  # wpm: from deliberately slow to a nervous rush
PACE_TOLERANCE = 0.10  # ±10 % of the target counts as on pace (~the smallest tempo change a listener notices)

VERDICTS = {"in": "On pace", "above": "Too fast", "below": "Too slow", "": ""}


def pace_band(target_wpm: float) -> tuple[float, float]:
    """The on-pace band around `target_wpm` (±`PACE_TOLERANCE`)."""
    return target_wpm * (1 - PACE_TOLERANCE), target_wpm * (1 + PACE_TOLERANCE)


def pace_verdict(wpm: float | None, target_wpm: float) -> str:
    """"On pace", "Too fast" or "Too slow" against the target ±10 %; "" while there is no pace."""
    return VERDICTS[band_verdict(wpm, pace_band(target_wpm))]


def script_words(text: str) -> list[tuple[int, int]]:
    """(start, end) character positions of each word of a script, in reading order."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def word_interval_ms(target_wpm: float) -> int:
    """How long each word stays highlighted at `target_wpm` (ms)."""
    return max(1, round(60_000 / target_wpm))


def practice_call(
    source: AgentSource | None = None,
    *,
    on_event: EventListener | None = None,
    on_state: StateListener | None = None,
) -> LiveCall:
    """The read-along's call: the reader's live pace.

    History keeps nothing of a practice (`history.POLICY`), so the call does not open it.
    """
    return agent_call(CallKind.PRACTICE, source, on_event=on_event, on_state=on_state, save=False)


__all__ = [
    "PACE_TOLERANCE", "TARGET_WPM_DEFAULT", "TARGET_WPM_RANGE",
    "pace_band", "pace_verdict", "practice_call", "script_words", "word_interval_ms",
]
