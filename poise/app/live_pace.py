"""The pace the live view shows: an estimate from the sound until the agent's words arrive, then the words.

The engine's `Meters.agent_wpm_est` counts syllable nuclei in the sound (no delay, but it followed
only ~70 % of a tempo change and reads the demo agent's 197 wpm as 180–218). The end-of-call
message, the review's cards, the report and history count words from the transcript
(`stats.words_per_minute`: words over the agent's turns, pauses under 2 s included). Once words
arrive (1–2 s late), the live gauge counts them the same way over the recent `RECENT_S`, and at
the end of the call it shows the call's own number (`report.format.call_numbers`), so the gauge
and the end-of-call message never disagree. Qt-free: `desktop/live_view.py` draws what this says.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal

from ..audio.stats import words_per_minute
from ..audio.types import Segment, Word

RECENT_S = 20.0  # s of audio the live words' pace is counted over (~50 words at 150 wpm: steady, still recent)
MIN_WORDS = 8  # words in that window before their pace replaces the estimate (two words say nothing)

PaceSource = Literal["none", "sound", "words", "call"]

SOURCE_NOTES: dict[str, str] = {  # what the gauge's label says about where its number comes from
    "none": "",
    "sound": "estimate from the sound, until your words are transcribed",
    "words": "from your recent words (transcribed)",
    "call": "whole call, from your words: as in the summary",
}


@dataclass(frozen=True)
class PaceShown:
    """The pace the live gauge shows now, and where it comes from."""

    wpm: float | None
    source: PaceSource
    call_wpm: float | None  # the words' pace of the call so far (what the summary will say, before rounding)

    @property
    def estimated(self) -> bool:
        """True while the number is the acoustic estimate, not counted from words."""
        return self.source == "sound"

    @property
    def note(self) -> str:
        return SOURCE_NOTES[self.source]


class LivePace:
    """The agent's words as they arrive in a live call, and the pace to show from them."""

    def __init__(self, recent_s: float = RECENT_S, min_words: int = MIN_WORDS) -> None:
        self.recent_s = float(recent_s)
        self.min_words = int(min_words)
        self._words: list[Word] = []  # the agent's words, by start time
        self._starts: list[float] = []

    def clear(self) -> None:
        self._words.clear()
        self._starts.clear()

    def add_segment(self, seg: Segment) -> None:
        """A final transcript segment; only the agent's words count."""
        if seg.role != "agent":
            return
        for w in seg.words:
            i = bisect_left(self._starts, w.start)
            self._starts.insert(i, w.start)
            self._words.insert(i, w)

    @property
    def words(self) -> int:
        return len(self._words)

    def call_wpm(self) -> float | None:
        """The agent's words per minute over the call so far, counted as `RoleStats.wpm` counts."""
        return words_per_minute(self._words) if self._words else None

    def recent_wpm(self) -> float | None:
        """Words per minute over the agent's last `recent_s` of words (up to her latest word, so a
        caller's long turn does not empty it); None under `min_words`."""
        if not self._words:
            return None
        last_end = max(w.end for w in self._words[-self.min_words:])
        recent = self._words[bisect_left(self._starts, last_end - self.recent_s):]
        return words_per_minute(recent) if len(recent) >= self.min_words else None

    def shown(self, estimate_wpm: float | None) -> PaceShown:
        """The pace to show now: the recent words' pace once there are enough words, else the
        acoustic `estimate_wpm` (None when nothing is known)."""
        recent = self.recent_wpm()
        if recent is not None:
            return PaceShown(recent, "words", self.call_wpm())
        if estimate_wpm is not None:
            return PaceShown(float(estimate_wpm), "sound", self.call_wpm())
        return PaceShown(None, "none", self.call_wpm())


__all__ = ["LivePace", "MIN_WORDS", "PaceShown", "RECENT_S", "SOURCE_NOTES"]
