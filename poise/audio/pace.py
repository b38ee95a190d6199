"""Pace from the transcript: how fast the agent says their words, against their own normal.

Syllable nuclei counted in the sound follow only ~70 % of a tempo change on phone audio and
are Poisson-noisy over a few seconds of speech, so `slow_down` missed every sped-up stretch
of the test calls. Words from Whisper carry their own timing. Each word is judged against
the way she said the same word before (the median of her earlier durations of it, once she
has said it `SAME_WORD_MIN` times), any other word against her median time per syllable; the
measure is the median of those ratios over the last `PACE_WINDOW_WORDS` words (pauses
excluded, so a pause never reads as slow). Per syllable alone, a run of short function words
at her normal speed ("is to be ill-disposed", 0.16 s a syllable against her 0.24) read 1.4x
and gave most of the false *Slow down*s on the built calls of benchmarks/real_calls.py (11 in
46 min; judged against her own words 2, and 10 of 12 fast stretches cued instead of 9).
Words per minute over the same windows spread to 1.6x and syllables per second of speech to
1.5x, so neither is used.
Only words inside a phrase are judged (a neighbour on each side closer than `PHRASE_GAP_S`): a word
next to a pause carries little of her pace. Whisper dates a word after a pause late (clipped: 1.24x
her normal on average), lengthens the last word of a phrase as speakers do (0.9x), and both spread
+-0.5-0.8 in log ratio against +-0.2 for words inside phrases (benchmarks/real_calls.py built calls,
the lab of 2026-12-03). Judged so, the false *Slow down*s of those calls went from 7 to 0 in 92 min at
the same recall, which let the threshold come down from 1.35x to 1.3x (31 of 32 sped-up stretches).

Live, words arrive as the streaming transcriber finalises them; a recording admits each word
`WORD_DELAY_S` after it ends, the delay it would have had live, so a review shows the live cues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .stats import words_per_minute
from .types import Word

PACE_WINDOW_WORDS = 12  # recent words the pace is measured over (~3 s of talk: half of them fast moves the median)
PACE_WINDOW_MAX_S = 30.0  # s: a window reaching further back than this is not "recent" speech
PACE_BASELINE_MIN_WORDS = 80  # words judged (inside phrases) before her own normal pace is trusted (~30-60 s of talk): on the booking
#   call's agent the median of 40 random words lies within 0.86-1.18x of her whole-call median (5th-95th percentile),
#   of 80 words within 0.91-1.09x; a baseline 15 % slow makes her normal read 1.15x, and a 12-word window then
#   crosses 1.35x on ordinary phrases (an AMI talker got three "Slow down"s 40 s into the meeting)
WORD_MIN_S = 0.03  # s: Whisper gives zero-length words at segment edges; they carry no timing
WORD_MAX_S = 1.5  # s: a longer "word" is a drawn-out hesitation or a timestamp slip, not pace
WORD_DELAY_S = 1.5  # s after a word ends until it reaches the coach live (finals: median 1.2 s, p95 2.0 s)
PHRASE_GAP_S = 0.25  # s: a longer gap between two words is a pause; the words beside it are not judged (above)
SAME_WORD_KEEP = 16  # earlier durations of one word kept (her recent way of saying it; bounded memory)
SAME_WORD_MIN = 2  # earlier durations of a word before it is judged against them: Whisper's durations of one word
#   vary +-40 % with its place in the phrase, and against a single earlier one her normal speech on the live demo
#   read 1.35-1.5x (a false "Slow down" 3 s before the fast stretch); with two, 1.0-1.1x
_SYL_EDGES = np.arange(0.0, 1.0 + 0.005, 0.005)  # s per syllable, 5 ms bins
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_NOT_LETTERS = re.compile(r"[^a-z']")


def syllables(word: str) -> int:
    """Syllables of an English word by vowel groups (a silent final e dropped); at least 1."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 0
    count = len(_VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and count > 1 and not letters.endswith(("le", "ee", "ye")):
        count -= 1
    return max(count, 1)


def _s_per_syllable(word: Word) -> float | None:
    duration = word.end - word.start
    count = syllables(word.word)
    if count == 0 or not WORD_MIN_S <= duration <= WORD_MAX_S:
        return None
    return duration / count


@dataclass
class PaceReading:
    """The agent's recent pace from their words."""

    rate_sps: float  # her syllables per second now: her normal rate / the median of the words' durations against normal
    baseline_rate_sps: float
    baseline_wpm: float | None  # her normal words per minute (median over 12-word stretches, pauses < 2 s included)
    words: int

    @property
    def ratio(self) -> float:
        return self.rate_sps / self.baseline_rate_sps

    @property
    def wpm(self) -> float | None:
        """Her normal wpm scaled by how much faster she says her words now: steadier than counting
        12 words over their span, which spread from 104 to 330 wpm on the booking call's agent."""
        return self.baseline_wpm * self.ratio if self.baseline_wpm is not None else None


class WordPace:
    """The agent's words as they arrive, their own normal pace, and the recent pace."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self._timed: list[float] = []  # s per syllable of each usable word, in arrival order
        self._vs_same_word: list[float | None] = []  # duration / her median earlier one of that word (None: too few)
        self._durations: dict[str, list[float]] = {}  # her earlier durations of each word (lower case), newest last
        self._hist = np.zeros(len(_SYL_EDGES) - 1, np.int64)
        self._wpm_samples: list[float] = []
        self._judged_starts: list[float] = []  # s: start of each judged word, in arrival order
        self._pending: tuple[float, Word] | None = None  # (gap before it s, the last word): judged when the next arrives

    def add(self, words: list[Word]) -> None:
        """Words of the agent, in time order, as the coach receives them. A word is judged when the next
        one arrives (only then is it known whether a pause follows it)."""
        for word in words:
            if self._pending is not None:
                gap_before, last = self._pending
                if gap_before < PHRASE_GAP_S and word.start - last.end < PHRASE_GAP_S:
                    self._judge(last)
            self._pending = (word.start - self.words[-1].end if self.words else float("inf"), word)
            self.words.append(word)
            if len(self.words) % PACE_WINDOW_WORDS == 0:
                wpm = words_per_minute(self.words[-PACE_WINDOW_WORDS:])
                if wpm is not None:
                    self._wpm_samples.append(wpm)

    def _judge(self, word: Word) -> None:
        """One word inside a phrase: its time per syllable and its duration against her earlier ones."""
        per = _s_per_syllable(word)
        if per is None:
            return
        self._timed.append(per)
        self._judged_starts.append(word.start)
        earlier = self._durations.setdefault(_NOT_LETTERS.sub("", word.word.lower()), [])
        duration = word.end - word.start
        self._vs_same_word.append(duration / float(np.median(earlier)) if len(earlier) >= SAME_WORD_MIN else None)
        earlier.append(duration)
        del earlier[:-SAME_WORD_KEEP]
        self._hist[min(int(per / 0.005), len(self._hist) - 1)] += 1

    def baseline_rate_sps(self) -> float | None:
        """1 / the median time per syllable over her judged words so far (None until enough)."""
        total = int(self._hist.sum())
        if total < PACE_BASELINE_MIN_WORDS:
            return None
        i = int(np.searchsorted(np.cumsum(self._hist), total / 2.0))
        return float(1.0 / ((_SYL_EDGES[i] + _SYL_EDGES[i + 1]) / 2.0))

    def recent(self, now_s: float) -> PaceReading | None:
        """Pace over the last PACE_WINDOW_WORDS judged words, if they are recent enough."""
        baseline = self.baseline_rate_sps()
        if baseline is None or len(self._timed) < PACE_WINDOW_WORDS:
            return None
        if now_s - self._judged_starts[-PACE_WINDOW_WORDS] > PACE_WINDOW_MAX_S:
            return None
        vs_normal = [same if same is not None else per * baseline  # per syllable against her median
                     for same, per in zip(self._vs_same_word[-PACE_WINDOW_WORDS:], self._timed[-PACE_WINDOW_WORDS:])]
        return PaceReading(
            rate_sps=baseline / float(np.median(vs_normal)),
            baseline_rate_sps=baseline,
            baseline_wpm=float(np.median(self._wpm_samples)) if self._wpm_samples else None,
            words=PACE_WINDOW_WORDS,
        )
