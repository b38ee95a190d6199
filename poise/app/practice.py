"""The trainer's read-along: a script read at a target pace, measured by a practice call.

The reader's audio goes through `LiveCall` (kind "practice": the same session as a live
call, nothing saved, see `history.POLICY`); the teleprompter's timing and the verdict
against the target are here so that the window only draws them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..language.phrases import classify, normalize
from ..report.format import band_verdict
from .calls import AgentSource, EventListener, LiveCall, StateListener, agent_call
from .spec import CallKind

TARGET_WPM_DEFAULT = 150  # wpm: the top of comfortable phone pace, pauses included
TARGET_WPM_RANGE = (90, 220)  # wpm: from deliberately slow to a nervous rush
PACE_TOLERANCE = 0.10  # ±10 % of the target counts as on pace (~the smallest tempo change a listener notices)

VERDICTS = {"in": "On pace", "above": "Too fast", "below": "Too slow", "": ""}

SCRIPTS_FILE = Path(__file__).resolve().parents[1] / "assets" / "practice_scripts.toml"
OWN_SCRIPT = "own"  # the `id` of a take read from the trainer's own text
# The phrase families that calm a caller (poise.language.phrases); "defensive" is the one that inflames.
CALMING_FAMILIES: tuple[str, ...] = ("acknowledge", "apology", "confirm", "next_steps", "escalation", "boundary")
FAMILY_LABELS = {
    "acknowledge": "acknowledges the feeling",
    "apology": "apologises without blame",
    "confirm": "repeats back to confirm",
    "next_steps": "a next step with a time",
    "escalation": "offers to escalate",
    "boundary": "sets a calm boundary",
    "defensive": "defensive: avoid",
}
_TRIM = ".,;:!?\"'“”‘’()"  # punctuation a mark does not cover at its ends


@dataclass(frozen=True)
class PracticeScript:
    """A script to read aloud: a built-in one (from `SCRIPTS_FILE`) or the trainer's own text."""

    id: str
    title: str
    text: str
    teaches: str = ""  # one line on what the script practises


@dataclass(frozen=True)
class PhraseMark:
    """A phrase the language recogniser found in a script: its characters [start, end) and family."""

    start: int
    end: int
    family: str
    text: str  # the script's own words at [start, end)

    @property
    def calming(self) -> bool:
        return self.family in CALMING_FAMILIES


class ScriptFileError(Exception):
    """The built-in scripts file cannot be read; the message is one plain sentence."""


@lru_cache(maxsize=4)
def _load_scripts(path: Path) -> tuple[PracticeScript, ...]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        scripts = tuple(
            PracticeScript(
                id=str(item["id"]), title=str(item["title"]),
                text=" ".join(str(item["text"]).split()), teaches=str(item.get("teaches", "")),
            )
            for item in doc["script"]
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ScriptFileError(f"The practice scripts in {path} cannot be read ({exc}).") from exc
    return scripts


def builtin_scripts(path: Path | None = None) -> list[PracticeScript]:
    """The built-in practice scripts, in the file's order (raises `ScriptFileError` with one sentence)."""
    return list(_load_scripts(Path(path) if path is not None else SCRIPTS_FILE))


def script_by_id(script_id: str) -> PracticeScript | None:
    """A built-in script by its id (None for the trainer's own text or an unknown id)."""
    return next((s for s in builtin_scripts() if s.id == script_id), None)


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` (cut after . ! ? and at blank lines)."""
    spans, start = [], 0
    for m in re.finditer(r"(?<=[.!?])\s+|\n\s*\n", text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _bare(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token)


def _locate(text: str, lo: int, hi: int, found: str) -> tuple[int, int] | None:
    """Where the recogniser's normalised words `found` are in text[lo:hi] (character span), or None.

    Each original word is normalised on its own ("I'm" -> "i am"), so a run of normalised
    tokens maps back to the words it came from. A next step's "i will … today" is two parts:
    the mark runs from the first to the end of the second.
    """
    words = [(m.start() + lo, m.end() + lo) for m in re.finditer(r"\S+", text[lo:hi])]
    flat: list[tuple[str, int]] = []  # (normalised token, index of its word)
    for i, (a, b) in enumerate(words):
        flat.extend((tok, i) for tok in map(_bare, normalize(text[a:b]).split()) if tok)
    tokens = [t for t, _ in flat]
    first_word = last_word = None
    pos = 0
    for part in found.split("…"):
        want = [t for t in map(_bare, part.split()) if t]
        if not want:
            continue
        at = next((k for k in range(pos, len(tokens) - len(want) + 1) if tokens[k:k + len(want)] == want), None)
        if at is None:
            return None
        if first_word is None:
            first_word = flat[at][1]
        last_word = flat[at + len(want) - 1][1]
        pos = at + len(want)
    if first_word is None or last_word is None:
        return None
    start, end = words[first_word][0], words[last_word][1]
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def phrase_marks(text: str) -> list[PhraseMark]:
    """The de-escalation phrases of a script (as the agent would say them), in reading order.

    Found by `poise.language.phrases.classify`, sentence by sentence, so the marks are what
    the live coach recognises, not a hand-kept list; a phrase whose words cannot be traced
    back marks its whole sentence.
    """
    marks: list[PhraseMark] = []
    for lo, hi in _sentences(text):
        for match in classify(text[lo:hi], role="agent"):
            span = _locate(text, lo, hi, match.text)
            if span is None:
                lo_s = lo + len(text[lo:hi]) - len(text[lo:hi].lstrip())
                span = (lo_s, lo + len(text[lo:hi].rstrip()))
            marks.append(PhraseMark(span[0], span[1], match.family, text[span[0]:span[1]]))
    return sorted(marks, key=lambda m: (m.start, m.end))


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
    "CALMING_FAMILIES", "FAMILY_LABELS", "OWN_SCRIPT", "PACE_TOLERANCE", "PhraseMark", "PracticeScript",
    "ScriptFileError", "TARGET_WPM_DEFAULT", "TARGET_WPM_RANGE", "builtin_scripts", "pace_band",
    "pace_verdict", "phrase_marks", "practice_call", "script_by_id", "script_words", "word_interval_ms",
]
