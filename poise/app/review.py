"""Reviewing a recording: the same cues the agent would have seen live with the same settings.

Both doors review through `review_call`: the cue rules of the spec (the user's), the
agent's saved voice profile as the starting normal (so pace, pitch and volume cues can
come in the first 30 s, as live), and the history policy for reviews.
"""

from __future__ import annotations

import csv
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.analysis import Cancelled, Progress, analyze_file
from ..audio.coach import SYLLABLES_PER_WORD
from ..audio.recorder import Gap
from ..audio.sources import LoadedCall, load_call
from ..audio.types import SAMPLE_RATE, AnalysisResult, Segment
from ..audio.store import HistoryStore, StoreError
from .. import paths
from ..report.format import (BAND_WORDS, DEAD_AIR_NOTE, CallNumbers, band_verdict, call_numbers, explain_cue, fmt_clock,
                             fmt_duration, numbers, transcript_lines)
from .errors import describe, is_bad_input
from .history import History
from .redact import for_storage
from .spec import CallKind, CallOutcome, CallSpec


def review_call(
    spec: CallSpec,
    *,
    history: History | None = None,
    save: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    keep_numbers: bool | None = None,
) -> CallOutcome:
    """Analyse `spec.file` (blocking; run it off a UI thread). Never raises: a failure is
    the outcome's `error`, a cancel is the error "Analysis cancelled.". History gets the
    transcript redacted unless `keep_numbers` (None: the setting); the outcome keeps the words."""
    assert spec.kind is CallKind.REVIEW and spec.file is not None
    history = history if history is not None else History()
    prior = history.prior(CallKind.REVIEW, spec.agent)
    try:
        result = analyze_file(
            spec.file, spec.caller_file, spec.agent_channel,
            model_path=spec.model_dir, config=spec.config, baseline=prior,
            transcribe=spec.transcribe, progress=progress, cancel=cancel,
        )
    except Cancelled:
        return CallOutcome(error="Analysis cancelled.")
    except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
        return CallOutcome(error=describe(exc, "review"), warning=history.warning, bad_input=is_bad_input(exc))
    if not save:
        return CallOutcome(result=result, warning=history.warning)
    saved = history.record(
        CallKind.REVIEW, spec.agent, for_storage(result, keep_numbers), recording=Path(spec.file).absolute()
    )
    return CallOutcome(result=result, call_id=saved.call_id, warning=saved.warning, note=saved.note)




@dataclass(frozen=True)
class KeptNumbers(CallNumbers):
    """The headline numbers history keeps for a call, and the kind of call it was saved as ("live", "demo", "review")."""

    kind: str = ""


def kept_numbers(recording: Path, history_path: Path | None = None) -> KeptNumbers | None:
    """The headline numbers history keeps for the call made from `recording` (a live call's own audio, or
    an earlier review), or None when it is not in history. Opens the history file; run it off a UI thread."""
    path = history_path if history_path is not None else History().path
    if path is None or not Path(path).exists():
        return None
    try:
        with HistoryStore(Path(path)) as store:
            call_id = store.call_with_recording(Path(recording).absolute())
            if call_id is None:
                return None
            doc = store.load_call(call_id)
    except StoreError:
        return None
    conv = doc.get("conversation") or {}
    shown = numbers(doc["call"]["duration_s"], (doc.get("agent") or {}).get("wpm"), conv.get("agent_talk_share"),
                    conv.get("agent_interruptions"), len(doc.get("cues") or []))
    return KeptNumbers(**vars(shown), kind=str(doc["call"].get("kind") or ""))


_KEPT_AS = {  # why history's numbers for a call can differ from a review of its audio, by the kind it was saved as
    CallKind.LIVE.value: ("as it ran live", "the live transcript was counted then; this review transcribed the recording "
                          "again."),
    CallKind.DEMO.value: ("as it ran in the demo", "the demo's live transcript was counted then; this review transcribed "
                          "the recording again."),
    CallKind.REVIEW.value: ("as it was analysed when saved", "that analysis ran with the settings and voice profile of "
                            "then; this review ran with today's."),
}
_KEPT_OTHER = ("as it was first saved", "this review analysed the recording again.")


def numbers_note(review: CallNumbers, kept: CallNumbers | None) -> str:
    """One sentence when history keeps other numbers for this call than the review shows, saying why for the kind of
    call it was saved as (a live or demo call counted the words of its live transcript; an earlier review, such as
    `poise analyze --save`, ran with the settings and voice profile of then), else ''."""
    if kept is None:
        return ""
    differ = [(name, k) for name, r, k in (("pace", review.pace, kept.pace), ("length", review.length, kept.length),
                                           ("cues", str(review.cues), str(kept.cues))) if r != k]
    if not differ:
        return ""
    said = ", ".join(f"{name} {value}" for name, value in differ)
    kind = getattr(kept, "kind", "") or CallKind.LIVE.value  # plain CallNumbers: a live call's, as before
    how, why = _KEPT_AS.get(kind, _KEPT_OTHER)
    return f"History keeps this call {how} ({said}): {why}"


# --- what the review window shows, without Qt ------------------------------------------------

CUE_LEAD_S = 2.0  # s: a clicked cue plays from a little before it, to hear what led up to it
LEVEL_STEP_S = 0.1  # s per point of the audio level lane: 18,000 points for 30 minutes, drawn at once
LEVEL_FLOOR_DB = -60.0  # dBFS: quieter steps are drawn as silence
PACE_MIN_WORDS = 4  # words: a shorter agent turn gives no pace of its own (two words say nothing)
PACE_SPAN_WORDS = 15  # words per span of a long turn (~5 s): the demo's 24 s turn read one flat 216 wpm where its
#   fast stretch, the one "Slow down" is about, reads 285-331 wpm
PACE_TURN_GAP_S = 2.0  # s: a longer pause ends a turn, as RoleStats.wpm counts "pauses under 2 s included"
CUES_PER_MINUTES = 10.0  # minutes: cue rate is given per 10 minutes, as in the README's numbers
CUES_WARN_PER_10_MIN = 3.0  # cues per 10 min shown in the warning colour: one every ~3 minutes is already a lot to hear live


def load_audio(spec: CallSpec) -> LoadedCall:
    """The call's audio at 16 kHz per side (for the first lanes and playback); raises AudioInputError."""
    assert spec.file is not None
    return load_call(spec.file, spec.caller_file, spec.agent_channel)  # type: ignore[arg-type]


def level_db(audio: np.ndarray, step_s: float = LEVEL_STEP_S) -> np.ndarray:
    """RMS level per `step_s` in dBFS, floored at LEVEL_FLOOR_DB (the audio lane)."""
    n = int(step_s * SAMPLE_RATE)
    k = len(audio) // n
    if k == 0:
        return np.zeros(0, np.float32)
    blocks = np.asarray(audio[: k * n], np.float32).reshape(k, n)
    rms = np.sqrt(np.einsum("ij,ij->i", blocks, blocks) / n)
    return np.maximum(20 * np.log10(np.maximum(rms, 1e-9)), LEVEL_FLOOR_DB).astype(np.float32)


def semitones(hz: float, reference_hz: float) -> float:
    """How far `hz` is from `reference_hz`, in semitones (12 per octave)."""
    return 12.0 * math.log2(hz / reference_hz)


@dataclass
class PaceSpan:
    """The agent's pace over one transcript segment: words per minute, as the cards count it."""

    start: float
    end: float
    wpm: float


def pace_spans(result: AnalysisResult) -> list[PaceSpan]:
    """The agent's pace through her turns, counted as the cards count it: words over their span, pauses
    under PACE_TURN_GAP_S included (from the words' times); a long turn in spans of PACE_SPAN_WORDS words
    (a shorter last piece joins the one before).

    Without a transcript, the articulation rate of the timeline in words per minute (each step
    with speech a span of its own), which reads higher: it leaves the pauses out.
    """
    words = sorted((w for seg in result.segments if seg.role == "agent" for w in seg.words), key=lambda w: w.start)
    spans: list[PaceSpan] = []
    run: list = []

    def close() -> None:
        if len(run) < PACE_MIN_WORDS:
            return
        cuts = list(range(0, len(run), PACE_SPAN_WORDS))
        if len(cuts) > 1 and len(run) - cuts[-1] < PACE_MIN_WORDS:
            cuts.pop()
        for a, b in zip(cuts, cuts[1:] + [len(run)]):
            piece = run[a:b]
            if piece[-1].end > piece[0].start:
                spans.append(PaceSpan(piece[0].start, piece[-1].end, 60.0 * len(piece) / (piece[-1].end - piece[0].start)))

    for w in words:
        if run and w.start - run[-1].end >= PACE_TURN_GAP_S:
            close()
            run = []
        run.append(w)
    close()
    if spans or any(s.role == "agent" for s in result.segments):
        return spans
    tl = result.timeline
    return [
        PaceSpan(t, t + tl.step_s, sps * 60.0 / SYLLABLES_PER_WORD)
        for t, sps in zip(tl.t, tl.agent_rate_sps) if sps is not None
    ]


@dataclass
class SummaryCard:
    """One number of the review: its title, value, a short note and one line on why it matters."""

    key: str
    title: str
    value: str
    note: str
    why: str
    warn: bool = False


def summary_cards(result: AnalysisResult, band: tuple[float, float]) -> list[SummaryCard]:
    """The review's cards; pace, length, talk share, interruptions and cue rate are `call_numbers`' strings,
    as the end-of-call message, the HTML report, the terminal summary and history show them."""
    r, c = result, result.conversation
    lo, hi = band
    shown = call_numbers(r)
    wpm = shown.wpm
    verdict = band_verdict(wpm, band)
    cards = [
        SummaryCard("wpm", "Agent pace", shown.pace,  # word joiners (U+2060): the range never breaks at its dash
                    (f"comfortable ({lo:.0f}\u2060–\u2060{hi:.0f})" if verdict == "in"  # not "comfortable · comfortable 125-165"
                     else BAND_WORDS[verdict] + f" · comfortable {lo:.0f}\u2060–\u2060{hi:.0f}")
                    if verdict else "no words",
                    "Callers follow a pace inside the comfortable range; faster sounds rushed.", verdict not in ("in", "")),
        SummaryCard("length", "Length", shown.length, "the whole call",
                    "The time the caller spent with you."),
    ]
    lo_hz, hi_hz = r.agent.pitch_p10_hz, r.agent.pitch_p90_hz
    if lo_hz and hi_hz and lo_hz > 0:
        span = semitones(hi_hz, lo_hz)
        cards.append(SummaryCard("pitch_range", "Pitch range", f"{span:.1f} semitones", f"{lo_hz:.0f}–{hi_hz:.0f} Hz",
                                 "A few semitones sound engaged; very narrow sounds flat."))
    else:
        cards.append(SummaryCard("pitch_range", "Pitch range", "—", "too little voiced speech",
                                 "A few semitones sound engaged; very narrow sounds flat."))
    n = shown.cues
    rate = shown.cue_rate or 0.0
    cards.append(SummaryCard("cues", "Cues per 10 min", shown.cues_per_10min if shown.cue_rate is not None else "0.0",
                             f"{n} cue{'s' if n != 1 else ''} in the call",
                             "How often Poise would prompt you live; fewer is calmer.", rate > CUES_WARN_PER_10_MIN))
    cards.append(SummaryCard("share", "Agent talk share", shown.talk_share,
                             "of all talk", "Callers who talk feel heard; far over half is a lecture."))
    cards.append(SummaryCard("interruptions", "Interruptions", shown.interruptions,
                             "you over the caller", "Each one tells the caller they are not heard.",
                             bool(c.agent_interruptions)))
    cards.append(SummaryCard("monologue", "Longest monologue", fmt_duration(c.longest_agent_monologue_s), "without the caller",
                             "Long stretches lose the caller: pause, check in."))
    cards.append(SummaryCard("dead_air", "Dead air", fmt_duration(c.dead_air_s), DEAD_AIR_NOTE,
                             "Silence without a word: is anyone still there?"))
    return cards


def find_segments(segments: list[Segment], query: str) -> list[int]:
    """Indices of the segments whose text contains `query` (case-insensitive; empty finds nothing)."""
    q = query.strip().casefold()
    if not q:
        return []
    return [i for i, seg in enumerate(segments) if q in seg.text.casefold()]


def write_cues_csv(result: AnalysisResult, path: Path) -> None:
    """The cues as CSV: time (s and mm:ss), kind, message, the evidence in plain words."""
    existed = Path(path).exists()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "time", "kind", "message", "evidence"])
        for cue in sorted(result.cues, key=lambda c: c.t):
            w.writerow([f"{cue.t:.3f}", fmt_clock(cue.t), cue.kind, cue.message, explain_cue(cue)])
    paths.give_to_user(Path(path), existed)  # the user's umask, not the data folder's 077


def write_segments_csv(result: AnalysisResult, path: Path) -> None:
    """The transcript as CSV, one line per turn as the review shows it (`transcript_lines`; a recording's batched
    segment runs up to 30 s across the other side's turns): start and end (s), who spoke, words, text."""
    existed = Path(path).exists()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["start_s", "end_s", "start", "role", "words", "text"])
        for seg in transcript_lines(result.segments):
            w.writerow([f"{seg.start:.3f}", f"{seg.end:.3f}", fmt_clock(seg.start), seg.role,
                        len(seg.words) or len(seg.text.split()), seg.text.strip()])
    paths.give_to_user(Path(path), existed)  # the user's umask, not the data folder's 077


GAP_SOURCE = {"agent": "Microphone", "caller": "Caller audio"}  # what each role's capture device is to the agent


def gap_label(gap: Gap) -> str:
    """What the review says over a device gap: "Microphone silent (device lost) 12:03–12:12"."""
    who = GAP_SOURCE.get(gap.role, gap.role.capitalize())
    end = fmt_clock(gap.end_s) if gap.end_s is not None else "the end"
    return f"{who} silent (device lost) {fmt_clock(gap.start_s)}–{end}"


def marker_rows(xs: list[float], min_gap: float, max_rows: int = 3) -> list[int]:
    """Rows for markers at positions `xs` (sorted or not) so that markers on one row are at least
    `min_gap` apart; when all `max_rows` are taken, the row that frees up first."""
    rows_end = [-math.inf] * max_rows
    out = [0] * len(xs)
    for i in sorted(range(len(xs)), key=lambda i: xs[i]):
        x = xs[i]
        free = [r for r in range(max_rows) if x - rows_end[r] >= min_gap]
        row = free[0] if free else min(range(max_rows), key=lambda r: rows_end[r])
        out[i] = row
        rows_end[row] = x
    return out


__all__ = [
    "CUE_LEAD_S", "CUES_PER_MINUTES", "LEVEL_STEP_S", "PaceSpan", "SummaryCard", "explain_cue", "find_segments", "gap_label",
    "KeptNumbers", "kept_numbers", "level_db", "load_audio", "numbers_note", "marker_rows", "pace_spans", "review_call", "semitones",
    "summary_cards", "transcript_lines",
    "write_cues_csv", "write_segments_csv",
]
