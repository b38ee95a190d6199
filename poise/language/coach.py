"""Language cues from the transcript, through the engine's one cue budget.

The engine's `Coach` owns a `LanguageCoach`. The Session hands it every final segment: live as
the transcriber delivers it (`add_segment`), a recording all at once with the delay each
segment would have had live (`schedule`, `SEGMENT_DELAY_S` after it ends). Every rule step the
Coach calls `step`, which updates the caller's heat from their frames, reads the segments that
have arrived by now and offers the cues that are due through the Coach's budget (`offer`); a cue
the budget holds back stays pending for `PENDING_MAX_S` and is offered again. A cue's evidence
holds times and the matched phrase, never a sentence: reports redact the transcript, not evidence.

- `avoid_defensive`: an agent segment carries a defensive or dismissive phrase; the message
  is a better phrase for that kind of defence.
- `set_boundary`: a caller segment carries abuse; the message is a calm boundary sentence.
- `acknowledge`: the caller has been heated for `acknowledge_after_s`, the agent has spoken in
  that heat (a segment has arrived), and none of her turns so far carried an acknowledgement or
  an apology. Once per heated stretch.
- `next_steps`: the call winds down (closing words from either side) after a complaint or a
  heated stretch, and the agent has stated no next step with a time.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from poise.audio.track import RoleTrack
from poise.audio.types import Cue, Segment

from .heat import ABUSE_WORD_SCORE, HEATED, HOSTILE_WORD_SCORE, CallerHeat, HeatReading
from .phrases import PhraseMatch, classify, normalize

SEGMENT_DELAY_S = 1.5  # s after a segment ends until it reaches the coach live (as pace.WORD_DELAY_S: finals, median 1.2 s)
PENDING_MAX_S = 4.0  # s a cue held back by the budget stays due (a phrase cue later than this no longer helps)
HEATED_MEMORY_S = 30.0  # s: a heated stretch ends this long after the heat last stood at HEATED
ACKNOWLEDGE_AFTER_S = 4.0  # s the caller must have been heated before "Acknowledge" (about one heated sentence)
SENTENCE_GAP_S = 1.0  # s: a pause this long inside a transcribed piece ends a sentence (a turn's own pauses are shorter)
HEAT_SUSTAIN_S = 1.0  # s the heat must hold at HEATED before the caller counts as heated (one loud phrase is not)
HEAT_STEP_S = 0.3  # s between two heat updates (it must hold 1 s anyway; every 100 ms cost 0.28 ms a step in medians)
HEAT_SERIES_STEP_S = 1.0  # s between the heat values kept for the review timeline

LANGUAGE_KINDS: tuple[str, ...] = ("acknowledge", "avoid_defensive", "set_boundary", "next_steps")
LANGUAGE_MESSAGES: dict[str, str] = {
    "acknowledge": "Acknowledge how they feel",
    "avoid_defensive": "Try: \u201cI understand why that\u2019s frustrating\u201d",
    "set_boundary": "Try: \u201cI need us to keep this respectful\u201d",  # short: the overlay is as wide as the longest message
    "next_steps": "State the next step and when",
}
# A better phrase per defensive rule (phrases.RULES names); the default is LANGUAGE_MESSAGES.
BETTER_PHRASE: dict[str, str] = {
    "policy": "Try: \u201cHere\u2019s what I can do for you\u201d",
    "nothing i can do": "Try: \u201cHere\u2019s what I can do for you\u201d",
    "not my fault": "Try: \u201cLet me put this right for you\u201d",
    "your fault": "Try: \u201cLet\u2019s sort this out together\u201d",
    "blame": "Try: \u201cLet\u2019s check it together\u201d",
    "as i said": "Try: \u201cLet me put that another way\u201d",
}
_CLOSING = re.compile(
    r"\b(?:anything else (?:i can|we can|today)|is that everything|is that all|"
    r"have a (?:nice|good|lovely|great) (?:day|evening|weekend|one)|goodbye|bye|that is (?:everything|all)|that is all for (?:now|today)|"
    r"no that is (?:it|all|everything))\b"
)

_FAREWELL = re.compile(  # the call is over once one side says it: the silence after it is not dead air
    r"\b(?:goodbye|good bye|bye|bye bye|have a (?:nice|good|lovely|great) (?:day|evening|weekend|one)|take care|speak soon|talk soon)\b"
)

Offer = Callable[[str, float, dict[str, Any], str | None], Cue | None]


@dataclass
class PhraseMoment:
    """A phrase family found in a final segment: who said it, when, and the words."""

    role: str
    t: float  # s: the segment's start
    end: float  # s: the segment's end
    family: str
    text: str  # the segment's text
    match: str  # the words that matched (normalised)
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role, "t": round(self.t, 3), "end": round(self.end, 3), "family": self.family,
                "text": self.text, "match": self.match}


@dataclass
class _Pending:
    kind: str
    due: float
    evidence: dict[str, Any]
    message: str | None = None


@dataclass
class LanguageState:
    """What the language coach has seen of a call so far (read by the summary and the review)."""

    moments: list[PhraseMoment] = field(default_factory=list)
    heat: list[tuple[float, float]] = field(default_factory=list)  # (t, heat) every HEAT_SERIES_STEP_S
    heated_spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of heated stretches


def sentences(segment: Segment) -> list[Segment]:
    """A final segment cut into sentences by its words (end punctuation, or a pause of SENTENCE_GAP_S).

    A recording is transcribed in long pieces (up to 30 s of one channel); live, a piece is at most
    3 s. Cut into sentences, each reaches the rules when its own last word would have arrived live,
    and a phrase moment carries the time of its sentence, not of the whole piece.
    """
    if not segment.words:
        return [segment]
    out: list[Segment] = []
    current: list = []
    for i, word in enumerate(segment.words):
        if current and word.start - current[-1].end > SENTENCE_GAP_S:
            out.append(_segment_of(segment, current))
            current = []
        current.append(word)
        if word.word.strip().endswith((".", "?", "!")) or i == len(segment.words) - 1:
            out.append(_segment_of(segment, current))
            current = []
    return out


def _segment_of(segment: Segment, words: list) -> Segment:
    text = "".join(w.word if w.word.startswith(" ") else " " + w.word for w in words).strip()
    return Segment(segment.role, words[0].start, words[-1].end, text, list(words))


def moments_of(segment: Segment) -> list[PhraseMoment]:
    """The phrase families of one final segment (its role's families only)."""
    found: list[PhraseMatch] = classify(segment.text, segment.role)
    return [PhraseMoment(segment.role, segment.start, segment.end, m.family, segment.text.strip(), m.text, m.rule) for m in found]


class LanguageCoach:
    """Turns final transcript segments and the caller's frames into language cue candidates."""

    def __init__(self, acknowledge_after_s: float = ACKNOWLEDGE_AFTER_S) -> None:
        self.acknowledge_after_s = acknowledge_after_s
        # the phrase model loads or trains on first use (0.3-0.6 s to train): start it now, off the caller's thread (the import, with
        # scipy, happens here: the main window shows before scipy loads)
        from .classifier import warm_up

        warm_up()
        self.heat = CallerHeat()
        self.state = LanguageState()
        self._lock = threading.Lock()
        self._arrived: list[Segment] = []  # live: reach the coach at the next step
        self._scheduled: list[tuple[float, Segment]] = []  # a recording: (arrival time, segment), by arrival
        self._pending: list[_Pending] = []
        self._heated_since: float | None = None
        self._last_heated: float | None = None
        self._acknowledged = False  # anywhere in the call so far (the issue: "the agent's turns so far carry no acknowledgement")
        self._acknowledge_cued = False
        self._unacknowledged_turn: float | None = None  # start of an agent turn in the current heated stretch without acknowledgement
        self._complained = False  # a heated stretch or hostile words happened in this call
        self._next_step_stated = False
        self._closing_cued = False
        self.farewell_end: float | None = None  # s: the end of the latest segment that said goodbye (either side)
        self._last_series_t = -1e9
        self._hot_since: float | None = None  # since when the heat has stood at HEATED or above

    # --- input -----------------------------------------------------------------------------------
    def add_segment(self, segment: Segment) -> None:
        """A live final segment (any thread): it reaches the rules at the next step."""
        with self._lock:
            self._arrived.extend(sentences(segment))

    def schedule(self, segments: list[Segment], delay_s: float = SEGMENT_DELAY_S) -> None:
        """A recording's transcript: each segment reaches the rules `delay_s` after it ends, as live."""
        pieces = [piece for s in segments for piece in sentences(s)]
        with self._lock:
            self._scheduled.extend((s.end + delay_s, s) for s in pieces)
            self._scheduled.sort(key=lambda item: item[0])

    def _due_segments(self, t: float) -> list[Segment]:
        with self._lock:
            due, self._arrived = self._arrived, []
            cut = 0
            while cut < len(self._scheduled) and self._scheduled[cut][0] <= t:
                cut += 1
            due += [s for _, s in self._scheduled[:cut]]
            del self._scheduled[:cut]
        return due

    # --- per rule step ---------------------------------------------------------------------------
    def step(self, k: int, t: float, caller: RoleTrack | None, offer: Offer) -> list[Cue]:
        """Rules at frame k / audio time t; `offer` passes a candidate through the engine's budget."""
        for segment in self._due_segments(t):
            self._on_segment(segment, t)
        if self.heat.latest is None or t - self.heat.latest.t >= HEAT_STEP_S - 1e-6:
            self._track_heat(self.heat.update(k, t, caller))
        reading = self.heat.latest
        assert reading is not None
        if (
            self._unacknowledged_turn is not None
            and self._heated_since is not None
            and not self._acknowledged
            and not self._acknowledge_cued
            and t - self._heated_since >= self.acknowledge_after_s
        ):
            self._acknowledge_cued = True
            self._due("acknowledge", t, {"heated_since": round(self._heated_since, 3), "heat": round(reading.heat, 2),
                                         "said_at": round(self._unacknowledged_turn, 3)})
        cues: list[Cue] = []
        keep: list[_Pending] = []
        for p in self._pending:
            if t - p.due > PENDING_MAX_S:
                continue
            cue = offer(p.kind, t, p.evidence, p.message)
            if cue is not None:
                cues.append(cue)
            else:
                keep.append(p)
        self._pending = keep
        return cues

    def _track_heat(self, r: HeatReading) -> None:
        if r.t - self._last_series_t >= HEAT_SERIES_STEP_S:
            self.state.heat.append((r.t, r.heat))
            self._last_series_t = r.t
        if r.heat < HEATED:
            self._hot_since = None
        elif self._hot_since is None:
            self._hot_since = r.t
        if self._hot_since is not None and r.t - self._hot_since >= HEAT_SUSTAIN_S - 1e-6:
            if self._heated_since is None:
                self._heated_since, self._acknowledge_cued = r.t, False
                self._unacknowledged_turn = None
                self.state.heated_spans.append((r.t, r.t))
            self._last_heated = r.t
            self._complained = True
            self.state.heated_spans[-1] = (self.state.heated_spans[-1][0], r.t)
        elif self._last_heated is not None and r.t - self._last_heated > HEATED_MEMORY_S:
            self._heated_since = self._last_heated = None

    def _on_segment(self, segment: Segment, t: float) -> None:
        moments = moments_of(segment)
        self.state.moments.extend(moments)
        if _FAREWELL.search(normalize(segment.text)):
            self.farewell_end = segment.end
        families = {m.family: m for m in moments}
        if segment.role == "caller":
            if "abuse" in families:
                self.heat.add_words(t, ABUSE_WORD_SCORE)
                self._due("set_boundary", t, {"said_at": round(segment.start, 3)})
            elif "hostile" in families:
                self.heat.add_words(t, HOSTILE_WORD_SCORE)
            if "hostile" in families or "abuse" in families:
                self._complained = True
        else:
            if "acknowledge" in families or "apology" in families:
                self._acknowledged = True
            if "next_steps" in families:
                self._next_step_stated = True
            if "defensive" in families:
                m = families["defensive"]
                self._due("avoid_defensive", t, {"phrase": m.match, "said_at": round(segment.start, 3)},
                          BETTER_PHRASE.get(m.rule))
            elif self._heated_since is not None and not self._acknowledged and segment.end > self._heated_since:
                self._unacknowledged_turn = segment.start  # a turn in the heat that named no feeling
        if (
            self._complained
            and not self._next_step_stated
            and not self._closing_cued
            and _CLOSING.search(normalize(segment.text))
        ):
            self._closing_cued = True
            self._due("next_steps", t, {"said_at": round(segment.start, 3)})

    def _due(self, kind: str, t: float, evidence: dict[str, Any], message: str | None = None) -> None:
        self._pending.append(_Pending(kind, t, evidence, message))
