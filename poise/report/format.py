"""How Poise writes numbers for people: clock times, lengths, cue evidence, pace verdicts.

One module for the report, the terminal summary, the desktop and the CLI, so a time or
a verdict reads the same wherever it is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio.coach import CoachConfig
from ..audio.stats import DEAD_AIR_MIN_S
from ..audio.report import _num
from ..audio.types import AnalysisResult, Segment, Word

DEFAULT_WPM_BAND = (CoachConfig.target_wpm_low, CoachConfig.target_wpm_high)  # the cue rules' defaults: one band
EXPLAIN_QUOTE_CHARS = 60  # characters of the words a language cue quotes




def finite(value: Any) -> float | None:
    """A finite float, or None for None/NaN/inf/non-numbers."""
    return _num(value, 12)


def fmt_clock(seconds: float | None) -> str:
    """Audio time as m:ss (h:mm:ss past an hour); '—' when unknown."""
    s = finite(seconds)
    if s is None:
        return "—"
    total = int(math.floor(max(0.0, s) + 1e-6))  # floor, as players show time: 1:41.9 is still 01:41
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def fmt_duration(seconds: float | None) -> str:
    """A span within a call (talk time, dead air, a monologue): '14.2 s' under a minute, '3:02' above (whole
    seconds floored, as `fmt_clock` and the players count). A call's or recording's own length is `fmt_length`."""
    s = finite(seconds)
    if s is None:
        return "—"
    if s < 60:
        return f"{math.floor(s * 10 + 1e-6) / 10:.1f} s"  # floored too: 59.97 s is '59.9 s', never '60.0 s'
    return fmt_length(s)


def no_cues_sentence(result: AnalysisResult) -> str:
    """What an empty cue list says: that she stayed near her own normal, or, when too little of her speech
    was heard to learn one, only that there were no cues (no normal, nothing to be near)."""
    if result.baseline.is_ready():
        return "No cues: you stayed close to your own normal throughout."
    return "No cues (too little of the agent's speech to learn their normal)."


DEAD_AIR_NOTE = f"in all, silences of {DEAD_AIR_MIN_S:.0f} s or more"  # the dead-air card: a total, not the longest
LOUDNESS_NOTE = "Loudness in dBFS: decibels under the loudest sound the recording can hold (0); -20 is louder than -30."


def fmt_durations_alike(*seconds: float | None) -> list[str]:
    """Spans read side by side (the agent's and the caller's talk time) in one unit: all m:ss once any
    reaches a minute ('1:02' beside '0:32', not beside '32.9 s'), else all as `fmt_duration`."""
    values = [finite(s) for s in seconds]
    if any(v is not None and math.floor(v + 1e-6) >= 60 for v in values):  # floored as fmt_duration: 59.97 s stays '59.9 s'
        return ["<0:01" if v is not None and 0 < v < 1 else fmt_length(v) for v in values]
    return [fmt_duration(v) for v in values]


def fmt_length(seconds: float | None) -> str:
    """A call's (or recording's) length: m:ss at any length ('0:48', '3:02'; h:mm:ss past an hour), whole
    seconds floored as the players count, so the card, history and the player's '00:48 / 00:48' agree; '—'
    when unknown. The clock keeps two-digit minutes (`fmt_clock`), as clocks do."""
    s = finite(seconds)
    if s is None:
        return "—"
    total = int(math.floor(max(0.0, s) + 1e-6))
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_number(value: Any, fmt: str, unit: str = "") -> str:
    v = finite(value)
    if v is None:
        return "—"
    return f"{v:{fmt}}{unit}"


def fmt_value(value: Any) -> str:
    """A free-form evidence value in a few significant characters."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return "—" if value is None else str(value)
    v = finite(value)
    if v is None:
        return str(value) if not isinstance(value, (int, float, np.number)) else "—"
    if float(v).is_integer() and abs(v) < 1e6:
        return str(int(v))
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}".rstrip("0").rstrip(".")


_EVIDENCE_UNITS = {"s": "s", "hz": "Hz", "db": "dB", "dbfs": "dBFS", "sps": "syl/s", "wpm": "wpm", "semitones": "semitones"}


def format_evidence(evidence: dict[str, Any] | None) -> str:
    """Cue evidence for people: {'wpm': 212, 'baseline_wpm': 148} → '212 wpm · baseline 148 wpm'."""
    if not evidence:
        return ""
    parts = []
    for key, value in evidence.items():
        if isinstance(value, (dict, list, tuple, set)) or (value is not None and fmt_value(value) == "—"):
            continue
        if value is None:
            continue
        words = str(key).split("_")
        unit = _EVIDENCE_UNITS.get(words[-1].lower())
        if unit:
            name = " ".join(words[:-1])
            parts.append(f"{name} {fmt_value(value)} {unit}".strip())
        else:
            parts.append(f"{' '.join(words)} {fmt_value(value)}")
    return " · ".join(parts)


def explain_cue(cue: Any) -> str:
    """A `Cue`'s evidence in plain words: "pitch 5.7 semitones above your normal (231 Hz; normal 166 Hz)"; '' when
    there is nothing plain to add (the cue's message says it). The review's tooltips, its CSV, the HTML report and
    the terminal summary all say it this way."""
    e = cue.evidence or {}

    def num(key: str) -> float | None:
        v = e.get(key)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    kind = cue.kind
    if kind == "lower_tone" and num("rise_st") is not None:
        text = f"pitch {num('rise_st'):.1f} semitones above your normal"
        if num("pitch_hz") and num("baseline_pitch_hz"):
            text += f" ({num('pitch_hz'):.0f} Hz; normal {num('baseline_pitch_hz'):.0f} Hz)"
        return text
    if kind == "lower_volume" and num("rise_db") is not None:
        return f"{num('rise_db'):.1f} dB louder than your normal"
    if kind == "speak_up" and num("drop_db") is not None:
        return f"{num('drop_db'):.1f} dB quieter than your normal"
    if kind == "slow_down":  # the rule's own measure first: an estimated wpm beside the lane's counted one misleads
        if num("ratio") and num("ratio") >= 1.0:
            text = f"your recent words {100 * (num('ratio') - 1):.0f} % faster than you said them earlier"
            return text + (f" (your normal pace {num('baseline_wpm'):.0f} wpm)" if num("baseline_wpm") else "")
        if num("wpm"):
            return f"about {num('wpm'):.0f} words a minute"
    if kind == "let_caller_finish" and num("agent_held_s") is not None:
        return f"you talked over the caller for {num('agent_held_s'):.1f} s while they were still speaking"
    if kind == "pause_for_caller" and num("monologue_s") is not None:
        return f"you had talked for {num('monologue_s'):.0f} s without the caller taking a turn"
    if kind == "dead_air" and num("silence_s") is not None:
        return f"nobody had spoken for {num('silence_s'):.0f} s"
    if kind == "acknowledge" and num("heated_since") is not None:
        return f"the caller has sounded upset since {fmt_clock(num('heated_since'))}"
    if kind == "next_steps" and num("said_at") is not None:
        return f"the call was winding down at {fmt_clock(num('said_at'))} and no next step had been stated"
    if kind == "set_boundary" and num("said_at") is not None:
        return f"the caller's words at {fmt_clock(num('said_at'))} were abusive"
    said = e.get("phrase") or e.get("text")  # a cue on words (poise.language): what was said explains it best
    if isinstance(said, str) and said.strip():
        said = " ".join(said.split())
        return f"after “{said[:EXPLAIN_QUOTE_CHARS]}{'…' if len(said) > EXPLAIN_QUOTE_CHARS else ''}”"
    return ""  # nothing plain to add: the cue's message says it


def cue_evidence(cue: Any) -> str:
    """What a report shows beside a cue: `explain_cue`'s plain sentence, else the evidence's numbers
    (`format_evidence`) for a kind it has no sentence for; '' when the cue carries no evidence."""
    return explain_cue(cue) or format_evidence(cue.evidence)


def band_verdict(wpm: float | None, band: tuple[float, float] = DEFAULT_WPM_BAND) -> str:
    """Where a pace sits: "below", "above" or "in" the comfortable band ("" when unknown), judged as shown, in
    whole words per minute (165.4 is the "165 wpm" of a 125-165 band: comfortable, not fast)."""
    v = finite(wpm)
    if v is None:
        return ""
    v = round(v)
    lo, hi = band
    return "below" if v < lo else "above" if v > hi else "in"


BAND_WORDS = {"in": "comfortable", "below": "slow", "above": "fast"}  # a pace against the comfortable band, in a word


def band_note(wpm: float | None, band: tuple[float, float] = DEFAULT_WPM_BAND) -> str:
    """The verdict in a word: "comfortable", "slow", "fast" ("" without a pace)."""
    verdict = band_verdict(wpm, band)
    return BAND_WORDS[verdict] if verdict else ""


def fmt_mmss(seconds: float) -> str:
    """A running clock: m:ss with two-digit minutes (h:mm:ss past an hour); never a dash."""
    return fmt_clock(max(0.0, float(seconds)))


# --- the call's headline numbers, one way everywhere (issue 8) --------------------------------------

CUES_PER_S = 600.0  # s: cue rate is given per 10 minutes of call, as in the README's numbers


def cues_per_10min(count: int | None, duration_s: float | None) -> float | None:
    """Cues per 10 minutes of call; None for a call without a length."""
    d = finite(duration_s)
    if count is None or d is None or d <= 0:
        return None
    return int(count) * CUES_PER_S / d


@dataclass(frozen=True)
class CallNumbers:
    """A call's headline numbers as people read them: the end-of-call message, the review's cards,
    the HTML report, the terminal summary, history and trends all show these strings.

    Values are '—' when unknown. `pace` is the transcript's words per minute (pauses under 2 s
    included, `RoleStats.wpm`), never the live gauge's acoustic estimate.
    """

    wpm: float | None  # the number behind `pace` (the agent's words per minute)
    pace_value: str  # "197" (the number alone, for a card with its own unit)
    pace: str  # "197 wpm"
    length: str  # "1:31" / "0:54" (`fmt_length`: m:ss at any length, as the player's clock)
    talk_share: str  # "66 %"
    interruptions: str  # "1"
    cues: int
    cues_per_10min: str  # "33.0"
    cue_rate: float | None  # the number behind `cues_per_10min`


def numbers(
    duration_s: float | None, wpm: float | None, talk_share: float | None, interruptions: int | None, cue_count: int
) -> CallNumbers:
    """The headline numbers from their raw values (a result's, or a history row's)."""
    w = finite(wpm)
    share = finite(talk_share)
    inter = finite(interruptions)
    rate = cues_per_10min(cue_count, duration_s)
    pace_value = "—" if w is None else f"{w:.0f}"
    return CallNumbers(
        wpm=w,
        pace_value=pace_value,
        pace="—" if w is None else f"{pace_value} wpm",
        length=fmt_length(duration_s),
        talk_share="—" if share is None else f"{share * 100:.0f} %",
        interruptions="—" if inter is None else str(int(inter)),
        cues=int(cue_count),
        cues_per_10min="—" if rate is None else f"{rate:.1f}",
        cue_rate=rate,
    )


def call_numbers(result: Any) -> CallNumbers:
    """The headline numbers of an `AnalysisResult` (live, demo or review)."""
    conv = result.conversation
    return numbers(result.source.duration_s, result.agent.wpm, conv.agent_talk_share, conv.agent_interruptions,
                   len(result.cues))


def row_numbers(row: Any) -> CallNumbers:
    """The headline numbers of a history row: a `CallRow`, or a `HistoryStore.trends` dict."""
    if isinstance(row, dict):
        return numbers(row.get("duration_s"), row.get("wpm"), row.get("agent_talk_share"), row.get("interruptions"),
                       int(row.get("cue_count") or 0))
    return numbers(row.duration_s, row.agent_wpm, None, row.interruptions, int(row.cue_count or 0))


ATTACHED_PIECE_STARTS = ".,?!%-"  # a word piece starting so is the rest of the word before it
LINE_GAP_S = 1.0  # s: a pause this long inside a segment starts a new transcript line
LINE_MIN_WORDS = 4  # words: a sentence end starts a new line once the line has this many
LINE_MAX_WORDS = 28  # words: about two lines of the review's transcript pane


def words_text(words: list[Word]) -> str:
    """Words as text: a piece Whisper split off a word (".45", "-hearted", "%") joins the one before."""
    out = ""
    for w in words:
        piece = w.word.strip()
        if not piece:
            continue  # a redacted run's later words (its mark stands on the first)
        out += piece if not out or piece[:1] in ATTACHED_PIECE_STARTS else " " + piece
    return out


def transcript_lines(segments: list[Segment], at_sentences: bool = True) -> list[Segment]:
    """The transcript as short lines to follow while listening: each segment split at pauses of
    LINE_GAP_S and (`at_sentences`) at sentence ends, from its words' times, in time order. A
    segment without words, or not split, stays one line with its own text."""
    lines: list[Segment] = []
    for seg in segments:
        if not seg.words:
            lines.append(Segment(seg.role, seg.start, seg.end, seg.text.strip(), []))
            continue
        run: list[Word] = []
        first_line = len(lines)

        def close() -> None:
            if run:
                lines.append(Segment(seg.role, run[0].start, run[-1].end, words_text(run), list(run)))

        for w in seg.words:
            if run and (
                w.start - run[-1].end >= LINE_GAP_S
                or (at_sentences and len(run) >= LINE_MIN_WORDS and run[-1].word.strip()[-1:] in ".?!")
                or len(run) >= LINE_MAX_WORDS
            ):
                close()
                run = []
            run.append(w)
        close()
        if len(lines) == first_line + 1:
            lines[-1] = Segment(seg.role, seg.start, seg.end, seg.text.strip(), list(seg.words))
    return sorted(lines, key=lambda s: s.start)
