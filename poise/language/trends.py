"""What an agent said, per call, for their trends: acknowledgements and defensive phrases.

Derived from the transcript lines history keeps (`HistoryStore.segment_texts`), so calls saved
before issue 10 count too. A stored line can hold a whole stretch of one channel (a recording is
transcribed in pieces of up to 30 s), so each line is cut into sentences and every sentence is
read on its own: two apologies in one line are two. An apology without blame counts as an
acknowledgement (the summary's "acknowledged within N s" counts both). History may keep a
transcript with numbers redacted; the phrase families do not depend on digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .phrases import classify

ACKNOWLEDGING = frozenset({"acknowledge", "apology"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class LanguageCounts:
    """One call's agent sentences that acknowledged the caller and that were defensive."""

    acknowledgements: int
    defensive: int
    sentences: int


def count_language(lines: Iterable[str]) -> LanguageCounts:
    """Acknowledging and defensive sentences among the agent's transcript `lines`."""
    acks = defensive = n = 0
    for line in lines:
        for sentence in _SENTENCE_END.split(line.strip()):
            if not sentence.strip():
                continue
            n += 1
            found = {m.family for m in classify(sentence, "agent")}
            acks += bool(found & ACKNOWLEDGING)
            defensive += "defensive" in found
    return LanguageCounts(acks, defensive, n)


class LanguageCountCache:
    """`count_language` per saved call, remembered: a call's transcript does not change once saved.

    A call is known by its history file, id and start time (a history started afresh reuses ids).
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, str], LanguageCounts] = {}

    def counts(
        self, store_key: str, calls: list[tuple[int, str]], fetch: Callable[[list[int]], dict[int, list[str]]]
    ) -> dict[int, LanguageCounts]:
        """The counts of `calls` ((id, started_at)); `fetch` reads the agent lines of the calls not known yet."""
        missing = [i for i, started in calls if (store_key, i, started) not in self._known]
        if missing:
            lines = fetch(missing)
            for i, started in calls:
                if i in lines:
                    self._known[(store_key, i, started)] = count_language(lines[i])
        return {i: self._known[(store_key, i, started)] for i, started in calls if (store_key, i, started) in self._known}


__all__ = ["LanguageCountCache", "LanguageCounts", "count_language"]
