"""The trainer's read-along: a script read at a target pace, measured by a practice call.

The reader's audio goes through `LiveCall` (kind "practice": the same session as a live
call, nothing saved, see `history.POLICY`); the teleprompter's timing and the verdict
against the target are here so that the window only draws them.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
import threading
from typing import Any, Iterable, Iterator

import numpy as np

from ..audio.baseline import hz_to_st
from ..audio.coach import wpm_from_rate
from ..audio.store import HistoryStore, PracticeTakeRow
from .. import paths
from ..audio.types import SAMPLE_RATE, AnalysisResult, Block
from ..language.phrases import classify, normalize
from ..report.format import band_verdict
from .calls import AgentSource, EventListener, LiveCall, StateListener, agent_call, open_source
from .settings import load_settings
from .spec import CallKind, CallSpec

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


def _clauses(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """(start, end) of each clause of the sentence text[lo:hi], cut at , ; : and at " and "."""
    spans, start = [], lo
    for m in re.finditer(r"[,;:]\s*|\s+and\s+", text[lo:hi]):
        spans.append((start, lo + m.start()))
        start = lo + m.end()
    spans.append((start, hi))
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
    back, or a rule that takes the whole clause ("so you ...?"), marks its whole sentence. A
    sentence's clauses are looked at too, for the families the sentence has: "I will refund it
    today, and you will see it within five days" holds two next steps ("it's our policy and
    it's not my fault", two defences). Marks never overlap (the read-along's highlight needs that).
    """
    marks: list[PhraseMark] = []
    for lo, hi in _sentences(text):
        matches = classify(text[lo:hi], role="agent")
        placed = any(m.rule != "model" for m in matches)
        families = {m.family for m in matches}
        located = [(m, lo, hi) for m in matches]
        located += [(m, a, b) for a, b in _clauses(text, lo, hi)
                    for m in classify(text[a:b], role="agent") if m.family in families and m.rule != "model"]
        for match, lo_m, hi_m in located:
            if match.rule == "model" and placed:
                continue  # the model judges the whole sentence; where the rules placed a phrase in it, that is the mark
            span = None if "..." in match.rule else _locate(text, lo_m, hi_m, match.text)
            if span is None:  # the whole sentence, trimmed of its spaces and end marks
                piece = text[lo:hi]
                span = (lo + len(piece) - len(piece.lstrip(" \n" + _TRIM)), lo + len(piece.rstrip(" \n" + _TRIM)))
            marks.append(PhraseMark(span[0], span[1], match.family, text[span[0]:span[1]]))
    disjoint: list[PhraseMark] = []  # two rules' phrases that overlap: the first keeps it
    for mark in sorted(marks, key=lambda m: (m.start, -m.end)):
        start = max(mark.start, disjoint[-1].end) if disjoint else mark.start
        if start < mark.end:
            disjoint.append(PhraseMark(start, mark.end, mark.family, text[start:mark.end]))
    return disjoint


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


# --- the score of a take ---------------------------------------------------------------------------

PITCH_CALM_ST = 3.0  # semitones from the reader's own median: the live coach's "raised voice" threshold (pitch_rise_st)
STEADY_CV_ZERO = 0.5  # coefficient of variation of the pace that scores zero steadiness (pace swinging 0.5x-1.5x)
MIN_SCORED_SPEECH_S = 5.0  # s of paced speech below which a take is too short to score (~12 words)
SCORE_WEIGHTS = {"time_in_band": 0.5, "steadiness": 0.3, "pitch_calm": 0.2}  # the overall score's mix (sums to 1)
SPEECH_START_S = 0.2  # s of speech in a 1 s step that mark where the reading began
SCORE_VERSION = 1  # bump when the formula changes: saved takes keep the version they were scored with


@dataclass(frozen=True)
class PracticeScore:
    """How a take went, from its finished call (`score_take`).

    - `time_in_band`: the share of the take's speech time whose pace (the session's
      articulation-rate timeline, 1 s steps smoothed over ~4 s, in words per minute as the
      live view shows it) is inside the target band, target ±10 %; speech in a step with no
      pace yet (under 1 s of speech in its window, e.g. the first second) is not counted.
    - `steadiness`: 1 − CV / `STEADY_CV_ZERO`, clipped to [0, 1], where CV is the
      speech-weighted coefficient of variation of that same windowed pace: a reader who
      holds one pace scores near 1, whatever the pace is.
    - `pitch_calm`: the share of voiced time whose 1 s median pitch is within
      `PITCH_CALM_ST` semitones of the reader's own median in this take. Per-second
      medians, not frames: ordinary intonation moves several semitones within a word,
      and what a caller hears as a raised or strained voice is a pitch held up for a
      second or more; the reader's own median, not a profile, so any voice can score 1.
    - `overall` (0-100) = 100 × (0.5 × time_in_band + 0.3 × steadiness + 0.2 × pitch_calm):
      pace on target is what the read-along practises, steadiness next, pitch calm last.

    A take with less than `MIN_SCORED_SPEECH_S` of paced speech has no score (`overall`
    None) and `note` says why in one sentence.
    """

    target_wpm: float
    band: tuple[float, float]  # wpm
    time_in_band: float | None  # 0..1
    steadiness: float | None  # 0..1
    pitch_calm: float | None  # 0..1
    overall: float | None  # 0..100
    speech_s: float  # s of speech with a pace measured
    median_wpm: float | None
    pitch_median_hz: float | None
    above_s: float = 0.0  # s of speech faster than the band
    below_s: float = 0.0  # s of speech slower than the band
    speech_start_s: float = 0.0  # s into the take where the reading began (takes are compared from there)
    t: list[float] = field(default_factory=list)  # s, start of each step
    wpm: list[float | None] = field(default_factory=list)  # the windowed pace per step (None: no speech)
    pitch_hz: list[float | None] = field(default_factory=list)  # the median pitch per step
    note: str | None = None  # one sentence when the take could not be scored

    def to_detail(self) -> dict[str, Any]:
        """The score as plain JSON (the `detail` column of a saved take)."""
        return {
            "version": SCORE_VERSION,
            "target_wpm": self.target_wpm, "band": [round(self.band[0], 1), round(self.band[1], 1)],
            "time_in_band": _r(self.time_in_band, 3), "steadiness": _r(self.steadiness, 3),
            "pitch_calm": _r(self.pitch_calm, 3), "overall": _r(self.overall, 1),
            "speech_s": round(self.speech_s, 2), "median_wpm": _r(self.median_wpm, 1),
            "pitch_median_hz": _r(self.pitch_median_hz, 1),
            "above_s": round(self.above_s, 2), "below_s": round(self.below_s, 2),
            "speech_start_s": round(self.speech_start_s, 2),
            "timeline": {"t": [round(x, 2) for x in self.t], "wpm": [_r(v, 1) for v in self.wpm],
                         "pitch_hz": [_r(v, 1) for v in self.pitch_hz]},
            "note": self.note,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> PracticeScore:
        """A score read back from a saved take's `detail`."""
        tl = detail.get("timeline") or {}
        band = detail.get("band") or pace_band(float(detail["target_wpm"]))
        return cls(
            target_wpm=float(detail["target_wpm"]), band=(float(band[0]), float(band[1])),
            time_in_band=detail.get("time_in_band"), steadiness=detail.get("steadiness"),
            pitch_calm=detail.get("pitch_calm"), overall=detail.get("overall"),
            speech_s=float(detail.get("speech_s") or 0.0), median_wpm=detail.get("median_wpm"),
            pitch_median_hz=detail.get("pitch_median_hz"),
            above_s=float(detail.get("above_s") or 0.0), below_s=float(detail.get("below_s") or 0.0),
            speech_start_s=float(detail.get("speech_start_s") or 0.0),
            t=list(tl.get("t") or []), wpm=list(tl.get("wpm") or []), pitch_hz=list(tl.get("pitch_hz") or []),
            note=detail.get("note"),
        )

    def summary(self) -> str:
        """One line for the trainee: the score and its three parts."""
        if self.overall is None:
            return self.note or "This take could not be scored."
        parts = [f"Score {self.overall:.0f}/100", f"on pace {self.time_in_band * 100:.0f} % of the time"]
        if self.above_s > self.below_s and self.above_s > 0:
            parts[-1] += " (too fast the rest)" if self.below_s == 0 else " (mostly too fast otherwise)"
        elif self.below_s > 0:
            parts[-1] += " (too slow the rest)" if self.above_s == 0 else " (mostly too slow otherwise)"
        parts.append(f"steadiness {self.steadiness * 100:.0f} %")
        if self.pitch_calm is not None:
            parts.append(f"pitch calm {self.pitch_calm * 100:.0f} %")
        return ", ".join(parts) + "."


def _r(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def overall_score(time_in_band: float, steadiness: float, pitch_calm: float | None) -> float:
    """The 0-100 score of `PracticeScore` (without a pitch measure, its weight goes to the other two)."""
    parts = {"time_in_band": time_in_band, "steadiness": steadiness, "pitch_calm": pitch_calm}
    used = {k: w for k, w in SCORE_WEIGHTS.items() if parts[k] is not None}
    total = sum(used.values())
    return 100.0 * sum(w * float(parts[k]) for k, w in used.items()) / total


def score_take(
    result: AnalysisResult, target_wpm: float, shown_wpm: Iterable[tuple[float, float | None]] | None = None,
) -> PracticeScore:
    """Score a finished practice take against `target_wpm` (see `PracticeScore`).

    `shown_wpm`: the (audio time s, wpm) the live read-along showed during the take; when given, the take is
    scored on the median of what it showed in each timeline step, so the score's "on pace" is the gauge's (the
    timeline's own estimate, over 4 s steps instead of the gauge's 8 s of speech, read 122 wpm where the gauge
    had shown 138 "On pace"). Without it (a take replayed from a file), the timeline's estimate."""
    tl = result.timeline
    band = pace_band(target_wpm)
    t = [float(x) for x in tl.t]
    wpm = [None if r is None else wpm_from_rate(float(r)) for r in tl.agent_rate_sps]
    shown = sorted((float(at), float(v)) for at, v in (shown_wpm or ()) if v is not None)
    if shown:
        at = np.array([a for a, _ in shown])
        values = np.array([v for _, v in shown])
        edges = np.searchsorted(at, np.array(t + [t[-1] + tl.step_s if t else 0.0]))
        wpm = [float(np.median(values[a:b])) if b > a else None for a, b in zip(edges[:-1], edges[1:])]
    pitch = [None if f is None else float(f) for f in tl.agent_pitch_hz]
    base = PracticeScore(
        target_wpm=float(target_wpm), band=band, time_in_band=None, steadiness=None, pitch_calm=None,
        overall=None, speech_s=0.0, median_wpm=None, pitch_median_hz=result.agent.pitch_median_hz,
        t=t, wpm=wpm, pitch_hz=pitch,
    )
    speech = np.array(tl.agent_speaking, float) * tl.step_s  # s of speech in each step
    spoken = np.flatnonzero(speech >= SPEECH_START_S)
    base = _with(base, speech_start_s=float(t[spoken[0]]) if len(spoken) else 0.0)
    paced = np.array([w is not None for w in wpm])
    pace = np.array([np.nan if w is None else w for w in wpm], float)
    weights = np.where(paced, speech, 0.0)
    speech_s = float(weights.sum())
    if speech_s < MIN_SCORED_SPEECH_S:
        heard = f"{speech_s:.0f} s" if speech_s >= 1 else "no speech"
        return _with(base, speech_s=speech_s, note=(
            f"Too little speech to score ({heard} with a pace): read at least {MIN_SCORED_SPEECH_S:.0f} s of the script."
        ))
    lo, hi = band
    inside = paced & (pace >= lo) & (pace <= hi)
    time_in_band = float(weights[inside].sum() / speech_s)
    above_s = float(weights[paced & (pace > hi)].sum())
    below_s = float(weights[paced & (pace < lo)].sum())
    mean = float(np.sum(weights[paced] * pace[paced]) / speech_s)
    sd = float(np.sqrt(np.sum(weights[paced] * (pace[paced] - mean) ** 2) / speech_s))
    steadiness = float(np.clip(1.0 - (sd / mean) / STEADY_CV_ZERO, 0.0, 1.0)) if mean > 0 else 0.0
    order = np.argsort(pace[paced])
    cum = np.cumsum(weights[paced][order])
    median_wpm = float(pace[paced][order][np.searchsorted(cum, cum[-1] / 2.0)])
    pitch_calm = None
    voiced = np.array([f is not None for f in pitch]) & (speech > 0)
    ref = result.agent.pitch_median_hz
    if voiced.any() and ref:
        st = np.array([hz_to_st(f) if f is not None else np.nan for f in pitch], float)
        near = voiced & (np.abs(st - float(hz_to_st(ref))) <= PITCH_CALM_ST)
        pitch_calm = float(speech[near].sum() / speech[voiced].sum())
    scored = _with(
        base, time_in_band=time_in_band, steadiness=steadiness, pitch_calm=pitch_calm,
        overall=overall_score(time_in_band, steadiness, pitch_calm), speech_s=speech_s,
        median_wpm=median_wpm, above_s=above_s, below_s=below_s,
    )
    return PracticeScore.from_detail(scored.to_detail())  # as it is saved: the take's line said 79 % where its row said 80


def _with(score: PracticeScore, **changes: Any) -> PracticeScore:
    return replace(score, **changes)


@dataclass(frozen=True)
class AlignedSeries:
    """A take's pace and pitch from the moment its reading began, for drawing two takes on one axis."""

    t: np.ndarray  # s since the reading began (the middle of each step)
    wpm: np.ndarray  # NaN where there is no pace
    pitch_st: np.ndarray  # semitones from the reader's own median in the take; NaN where unvoiced


def aligned_series(score: PracticeScore) -> AlignedSeries:
    """The score's timeline shifted so that t = 0 is where the reading began."""
    t = np.asarray(score.t, float)
    step = float(t[1] - t[0]) if len(t) > 1 else 1.0
    wpm = np.array([np.nan if v is None else v for v in score.wpm], float)
    pitch = np.array([np.nan if v is None or v <= 0 else v for v in score.pitch_hz], float)
    if score.pitch_median_hz:
        st = 12.0 * np.log2(pitch / float(score.pitch_median_hz))
    else:
        st = np.full(len(pitch), np.nan)
    return AlignedSeries(t + step / 2 - score.speech_start_s, wpm, st)


# --- saved takes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeTake:
    """A take saved in the trainee's history, with its score read back."""

    id: int
    agent: str
    started_at: datetime  # UTC
    script_id: str
    script_title: str
    target_wpm: float
    duration_s: float
    score: PracticeScore
    words_read: int | None = None  # how far the highlight got
    words_total: int | None = None
    recording: Path | None = None  # the take's sound, when it was kept

    @classmethod
    def from_row(cls, row: PracticeTakeRow) -> PracticeTake:
        detail = dict(row.detail)
        detail.setdefault("target_wpm", row.target_wpm)
        builtin = script_by_id(row.script) if row.script != OWN_SCRIPT else None
        title = detail.get("script_title") or (builtin.title if builtin else "Own text")
        return cls(
            id=row.id, agent=row.agent, started_at=row.started_at, script_id=row.script, script_title=title,
            target_wpm=row.target_wpm, duration_s=row.duration_s, score=PracticeScore.from_detail(detail),
            words_read=detail.get("words_read"), words_total=detail.get("words_total"), recording=row.recording,
        )


def save_take(
    store: HistoryStore,
    agent: str,
    script: PracticeScript,
    score: PracticeScore,
    duration_s: float,
    *,
    started_at: datetime | None = None,
    words_read: int | None = None,
    recording: Path | None = None,
) -> int:
    """Save a scored take in `agent`'s history; returns its id (raises `StoreError` with one sentence)."""
    detail = score.to_detail()
    detail["script_title"] = script.title
    if script.id == OWN_SCRIPT or script_by_id(script.id) is None:
        detail["script_text"] = script.text  # a built-in is named by its id; the trainer's own text is kept
    detail["words_total"] = len(script_words(script.text))
    if words_read is not None:
        detail["words_read"] = int(words_read)
    return store.save_practice_take(
        agent, script.id, score.target_wpm, duration_s, score.overall, detail, started_at=started_at,
        recording=recording,
    )


def list_takes(store: HistoryStore, agent: str, limit: int | None = None) -> list[PracticeTake]:
    """`agent`'s saved takes, newest first."""
    return [PracticeTake.from_row(row) for row in store.list_practice_takes(agent, limit)]


@dataclass(frozen=True)
class ScoreTrend:
    """The trainee's overall score over their scored takes, oldest first."""

    times: list[datetime]  # UTC
    scores: list[float]
    change: float | None  # the mean of the last three scores minus the mean of the first three (None under 2 takes)

    def summary(self) -> str:
        """One line: how many takes and which way the score went."""
        n = len(self.scores)
        if n == 0:
            return "No scored takes yet."
        if n == 1 or self.change is None:
            return f"1 take, score {self.scores[0]:.0f}."
        way = "up" if self.change > 0.5 else "down" if self.change < -0.5 else "level"
        return f"{n} takes, latest {self.scores[-1]:.0f}, best {max(self.scores):.0f}; " + (
            f"{way} {abs(self.change):.0f} points since the first takes." if way != "level" else "level since the first takes."
        )


TREND_EDGE_TAKES = 3  # takes averaged at each end of the trend (one take is too noisy to compare)


def score_trend(takes: list[PracticeTake]) -> ScoreTrend:
    """The scored takes oldest first, and how much the score moved from the first ones to the last ones."""
    scored = sorted((t for t in takes if t.score.overall is not None), key=lambda t: (t.started_at, t.id))
    scores = [float(t.score.overall) for t in scored]  # type: ignore[arg-type]
    change = None
    if len(scores) >= 2:
        k = min(TREND_EDGE_TAKES, len(scores) // 2)
        change = float(np.mean(scores[-k:]) - np.mean(scores[:k]))
    return ScoreTrend([t.started_at for t in scored], scores, change)


@dataclass(frozen=True)
class ScoreLine:
    """One measure of two takes side by side."""

    label: str
    first: float | None
    second: float | None
    unit: str  # "" for a 0-100 score, "%" for a share, "wpm"
    higher_is_better: bool = True

    @property
    def change(self) -> float | None:
        if self.first is None or self.second is None:
            return None
        return self.second - self.first

    def verdict(self) -> str:
        """"better", "worse" or "same" for the second take (a 1-point change is noise)."""
        delta = self.change
        if delta is None or not self.higher_is_better:
            return ""
        return "better" if delta >= 1 else "worse" if delta <= -1 else "same"


def compare_takes(first: PracticeTake, second: PracticeTake) -> list[ScoreLine]:
    """The score and its parts for two takes (shares as percentages), first then second."""

    def pct(v: float | None) -> float | None:
        return None if v is None else 100.0 * v

    a, b = first.score, second.score
    return [
        ScoreLine("Score", a.overall, b.overall, ""),
        ScoreLine("Time on pace", pct(a.time_in_band), pct(b.time_in_band), "%"),
        ScoreLine("Pace steadiness", pct(a.steadiness), pct(b.steadiness), "%"),
        ScoreLine("Pitch calm", pct(a.pitch_calm), pct(b.pitch_calm), "%"),
        ScoreLine("Median pace", a.median_wpm, b.median_wpm, "wpm", higher_is_better=False),
    ]


# --- a take's audio ---------------------------------------------------------------------------------

TAKE_AUDIO_MAX_S = 600.0  # s: a take's audio kept in memory is capped at 10 min (38 MB); the rest is not kept
TAKES_FOLDER = "practice"  # under the data folder, apart from call recordings (history's orphan sweep looks there)
PLAY_GAP_S = 0.8  # s of silence between two takes played one after the other


class TakeAudio:
    """The agent audio of one take, kept as the practice call reads it (`practice_call(audio=...)`).

    The source is wrapped, not changed: the call sees the same blocks and attributes.
    """

    def __init__(self, max_s: float = TAKE_AUDIO_MAX_S) -> None:
        self._blocks: list[np.ndarray] = []
        self._samples = 0
        self._max = int(max_s * SAMPLE_RATE)
        self._lock = threading.Lock()

    def wrap(self, source: Iterable[Block]) -> _TeeSource:
        """`source`, its agent audio copied here as it is read."""
        return _TeeSource(source, self)

    def _keep(self, block: Block) -> None:
        with self._lock:
            room = self._max - self._samples
            if room > 0:
                part = np.array(block.agent[:room], np.float32)
                self._blocks.append(part)
                self._samples += len(part)

    @property
    def duration_s(self) -> float:
        return self._samples / SAMPLE_RATE

    def samples(self) -> np.ndarray:
        """The take's audio so far, float32 mono at `SAMPLE_RATE`."""
        with self._lock:
            return np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.float32)

    def save(self, folder: Path | None = None, started_at: datetime | None = None) -> Path:
        """Write the take as a 16-bit WAV in `folder` (default: the data folder's practice takes); its path.

        Raises OSError (or `paths.DataDirError`) when it cannot be written.
        """
        import soundfile as sf

        folder = Path(folder) if folder is not None else paths.data_dir() / TAKES_FOLDER
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        when = (started_at or datetime.now()).astimezone()
        path = folder / f"take-{when:%Y%m%d-%H%M%S}.wav"
        n = 2
        while path.exists():
            path = folder / f"take-{when:%Y%m%d-%H%M%S}-{n}.wav"
            n += 1
        sf.write(path, self.samples(), SAMPLE_RATE, subtype="PCM_16")
        return path


class _TeeSource:
    """An agent source whose blocks are also kept by a `TakeAudio`; everything else is the source's."""

    _OWN = ("_source", "_audio")

    def __init__(self, source: Iterable[Block], audio: TakeAudio) -> None:
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_audio", audio)

    def __iter__(self) -> Iterator[Block]:
        for block in self._source:
            self._audio._keep(block)
            yield block

    def __getattr__(self, name: str) -> Any:  # start, stop, info, call, gaps, on_status ...
        return getattr(self._source, name)

    def __setattr__(self, name: str, value: Any) -> None:  # the call sets on_status / on_gap on the source
        setattr(self._source, name, value)


def practice_call(
    source: AgentSource | None = None,
    *,
    on_event: EventListener | None = None,
    on_state: StateListener | None = None,
    audio: TakeAudio | None = None,
) -> LiveCall:
    """The read-along's call: the reader's live pace.

    History keeps no call of a practice (`history.POLICY`), so the call does not open it; the
    take is saved as a practice take instead (`save_take`). With `audio`, the take's sound is
    kept there as it is read (to play takes back).
    """
    if audio is None:
        return agent_call(CallKind.PRACTICE, source, on_event=on_event, on_state=on_state, save=False)
    if source is None:
        settings = load_settings()
        spec = CallSpec.from_settings(CallKind.PRACTICE, settings, caller_device=None, agent=settings.agent)

        def source() -> Iterable[Block]:
            return open_source(spec)

    inner = source
    return agent_call(CallKind.PRACTICE, lambda: audio.wrap(inner()), on_event=on_event, on_state=on_state, save=False)


def keeps_take_audio() -> bool:
    """Whether takes are recorded: the same *Keep audio* setting as calls."""
    return bool(load_settings().keep_audio)


def take_audio(take: PracticeTake) -> np.ndarray | None:
    """A saved take's sound (16 kHz mono), or None when it has no recording or the file is gone."""
    if take.recording is None or not Path(take.recording).is_file():
        return None
    from ..audio.sources import load_call

    return load_call(take.recording).agent


def one_after_the_other(first: np.ndarray, second: np.ndarray, gap_s: float = PLAY_GAP_S) -> tuple[np.ndarray, float]:
    """Two takes' sound in one stream with a short silence between; and where the second starts (s)."""
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    joined = np.concatenate([np.asarray(first, np.float32), gap, np.asarray(second, np.float32)])
    return joined, (len(first) + len(gap)) / SAMPLE_RATE


@dataclass(frozen=True)
class Playhead:
    """Where two takes played one after the other are, on the compare view's axis."""

    take: int  # 0: the first take, 1: the second
    x: float  # s on the aligned axis (from where that take's reading began)


def playhead_at(elapsed_s: float, first: PracticeTake, first_len_s: float, second: PracticeTake,
                second_at_s: float, second_len_s: float) -> Playhead | None:
    """The playhead `elapsed_s` into `one_after_the_other(first, second)`; None in the gap or after the end."""
    if 0.0 <= elapsed_s < first_len_s:
        return Playhead(0, elapsed_s - first.score.speech_start_s)
    if second_at_s <= elapsed_s < second_at_s + second_len_s:
        return Playhead(1, elapsed_s - second_at_s - second.score.speech_start_s)
    return None


def delete_take(store: HistoryStore, take: PracticeTake) -> bool:
    """Remove a take from history and its recording from disk; True if the take was there."""
    removed = store.delete_practice_take(take.id)
    if take.recording is not None:
        try:
            Path(take.recording).unlink(missing_ok=True)
        except OSError:
            pass  # the row is gone; a file that cannot be removed is left (it is in the practice folder)
    return removed


__all__ = [
    "CALMING_FAMILIES", "FAMILY_LABELS", "OWN_SCRIPT", "PACE_TOLERANCE", "PITCH_CALM_ST", "PhraseMark",
    "AlignedSeries", "PracticeScore", "PracticeScript", "PracticeTake", "aligned_series", "SCORE_WEIGHTS", "ScoreLine", "ScoreTrend",
    "Playhead", "TakeAudio", "compare_takes", "playhead_at", "delete_take", "keeps_take_audio", "list_takes", "one_after_the_other",
    "take_audio", "overall_score", "save_take", "score_take", "score_trend",
    "ScriptFileError", "TARGET_WPM_DEFAULT", "TARGET_WPM_RANGE", "builtin_scripts", "pace_band",
    "pace_verdict", "phrase_marks", "practice_call", "script_by_id", "script_words", "word_interval_ms",
]
