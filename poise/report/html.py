"""The self-contained HTML call report: data prepared here, markup in templates/report.html.

Rendered with Jinja2 with autoescaping on, so a file name, a transcript line or a cue
message can never inject markup; only the SVG pictures (built and escaped in
`timeline.py`) are passed in as markup. The page carries its CSS and SVG inline (no
JS, no network): it opens offline and prints as it looks on screen.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .. import theme
from ..audio.report import _int, write_atomic
from ..audio.types import AnalysisResult, Cue, RoleStats
from .format import (DEAD_AIR_NOTE, DEFAULT_WPM_BAND, LOUDNESS_NOTE, band_verdict, call_numbers, cue_evidence, finite, fmt_clock, fmt_duration,
                     fmt_durations_alike, fmt_number, no_cues_sentence, transcript_lines)
from .timeline import band_svg, share_svg, timeline_svg
from ..language.summary import FAMILY_NAMES, join_said, summarize

CUES_WARN_PER_10_MIN = 3.0  # cues per 10 min in the warning colour, as the review's card (poise.app.review)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("poise.report", "templates"),
        autoescape=True,  # every value is escaped unless it is Markup (only our SVG is)
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the render instead of printing nothing
        keep_trailing_newline=True,
    )


def _cards(result: AnalysisResult) -> list[dict[str, Any]]:
    conv = result.conversation
    lo, hi = DEFAULT_WPM_BAND
    shown = call_numbers(result)  # the strings the app, the terminal and history show (format.call_numbers)
    wpm = shown.wpm
    verdict = band_verdict(wpm)
    comfortable = f"comfortable {lo:.0f}–{hi:.0f} wpm"
    share = finite(conv.agent_talk_share)
    inter = _int(conv.agent_interruptions)
    minutes = finite(result.source.duration_s)
    return [
        {"title": "Agent pace", "value": shown.pace_value, "unit": "" if wpm is None else "wpm",
         "note": {"in": f"within the {comfortable} range", "below": f"slower than the {comfortable} range",
                  "above": f"faster than the {comfortable} range"}.get(verdict, comfortable),
         "svg": Markup(band_svg(wpm)), "cls": "" if verdict in ("", "in") else "warn"},
        {"title": "Agent talk share", "value": shown.talk_share.removesuffix(" %"),
         "unit": "" if share is None else "%", "svg": Markup(share_svg(share)), "cls": "",
         "note": "agent vs caller" if result.caller is not None else "mono: agent only"},
        {"title": "Interruptions", "value": shown.interruptions, "unit": "", "svg": "",
         "note": "agent talked over the caller", "cls": "warn" if inter else ""},
        {"title": "Cues per 10 min", "value": shown.cues_per_10min, "unit": "", "svg": "",
         "note": f"{shown.cues} cue{'s' if shown.cues != 1 else ''} in {shown.length}" if minutes else "no length",
         "cls": "warn" if shown.cue_rate is not None and shown.cue_rate > CUES_WARN_PER_10_MIN else ""},
        {"title": "Longest monologue", "value": fmt_duration(conv.longest_agent_monologue_s), "unit": "", "svg": "",
         "note": "agent without a caller turn", "cls": ""},
        {"title": "Dead air", "value": fmt_duration(conv.dead_air_s), "unit": "", "svg": "", "note": DEAD_AIR_NOTE, "cls": ""},
        {"title": "Overlap", "value": fmt_duration(conv.overlap_s), "unit": "", "svg": "", "note": "both speaking at once", "cls": ""},
    ]


def _voice(result: AnalysisResult) -> dict[str, Any]:
    roles = [("agent", "Agent", result.agent)]
    if result.caller is not None:
        roles.append(("caller", "Caller", result.caller))

    def pitch(st: RoleStats) -> dict[str, str]:
        known = finite(st.pitch_p10_hz) is not None and finite(st.pitch_p90_hz) is not None
        return {"text": fmt_number(st.pitch_median_hz, ".0f", " Hz"),
                "range": f"{st.pitch_p10_hz:.0f}–{st.pitch_p90_hz:.0f}" if known else ""}

    talk_times = dict(zip((id(st) for *_, st in roles), fmt_durations_alike(*(st.talk_time_s for *_, st in roles))))

    def plain(text: str) -> dict[str, str]:
        return {"text": text, "range": ""}

    rows = [
        ("Talk time", lambda st: plain(talk_times[id(st)])),
        ("Words", lambda st: plain("—" if _int(st.words) is None else str(_int(st.words)))),
        ("Pace", lambda st: plain(fmt_number(st.wpm, ".0f", " wpm"))),
        ("Syllable rate", lambda st: plain(fmt_number(st.articulation_rate_sps, ".1f", " syllables/s"))),
        ("Pitch median (p10–p90)", pitch),
        ("Loudness (median)", lambda st: plain(fmt_number(st.volume_median_dbfs, ".1f", " dBFS"))),
    ]
    base = result.baseline
    normal = (
        f"Agent normal at the end of the call (learnt from {fmt_duration(base.speech_s)} of speech; "
        "a cue compares with the normal as it stood then): "
        f"pitch {fmt_number(base.pitch_hz, '.0f', ' Hz')}, volume {fmt_number(base.db, '.1f', ' dBFS')}, "
        f"articulation {fmt_number(base.rate_sps, '.1f', ' syllables/s')}. {LOUDNESS_NOTE}"
        if base.is_ready() or finite(base.pitch_hz) is not None
        else f"No baseline yet: not enough agent speech to learn their normal voice. {LOUDNESS_NOTE}"
    )
    return {
        "roles": [(key, title) for key, title, _ in roles],
        "rows": [(label, [fn(st) for _, _, st in roles]) for label, fn in rows],
        "normal": normal,
    }


def _cue_rows(cues: list[Cue]) -> list[dict[str, Any]]:
    return [
        {"cue": True, "n": n, "t": c.t, "time": fmt_clock(c.t), "message": c.message, "evidence": cue_evidence(c)}
        for n, c in enumerate(cues, 1)
    ]


def _transcript(result: AnalysisResult, cue_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript lines and cues in time order; a cue goes after every line that had started
    by its time: where the agent would have seen it."""
    # a recording's batched segment holds up to 30 s of one side's speech across the other's turns: split at pauses
    segs = transcript_lines(result.segments, at_sentences=False)
    entries: list[tuple[float, int, int, dict[str, Any]]] = [
        (s.start, 0, i, {"cue": False, "role": "agent" if s.role == "agent" else "caller",
                         "time": fmt_clock(s.start), "text": s.text.strip()})
        for i, s in enumerate(segs)
    ]
    entries += [(row["t"], 1, row["n"], row) for row in cue_rows]
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return [row for *_, row in entries]


def _language(result: AnalysisResult) -> dict[str, Any]:
    """What was said (issue 10): the summary lines, the draft notes and the phrase moments."""
    summary = summarize(result.segments, result.cues)
    notes = summary.notes
    return {
        "lines": summary.lines() if result.segments else [],
        "concern": notes.concern,
        "offered": join_said(notes.offered),
        "follow_up": join_said([f.said for f in notes.follow_up]),
        "moments": [{"time": fmt_clock(m.t), "role": m.role, "family": FAMILY_NAMES.get(m.family, m.family), "text": m.text}
                    for m in summary.moments],
    }


def render_html(result: AnalysisResult, generated: datetime | None = None) -> str:
    """A self-contained HTML call report: numbers, SVG timeline with cues, cue list, transcript."""
    src = result.source
    generated = generated or datetime.now()
    cues = _cue_rows(sorted(result.cues, key=lambda c: c.t))
    base = result.baseline
    return _environment().get_template("report.html").render(
        name=Path(src.path).name or src.path or "call",
        path=str(src.path),
        length=call_numbers(result).length,
        sample_rate=src.sample_rate,
        channels="mono (agent only)" if result.caller is None else f"{src.channels} channels",
        input_notes=src.notes,
        generated=generated.strftime("%Y-%m-%d %H:%M"),
        colours={"agent": theme.AGENT, "caller": theme.CALLER, "cue": theme.CUE},
        cards=_cards(result),
        timeline=Markup(timeline_svg(result)),
        has_caller=result.caller is not None,
        has_baseline=any(finite(v) is not None for v in (base.pitch_hz, base.db, base.rate_sps)),
        cues=cues,
        no_cues=no_cues_sentence(result),
        voice=_voice(result),
        has_transcript=bool(result.segments),
        transcript=_transcript(result, cues),
        language=_language(result),
    )


def write_html(result: AnalysisResult, path: str | os.PathLike[str]) -> Path:
    """Write `render_html(result)` to `path` atomically; returns the path."""
    return write_atomic(path, render_html(result))


__all__ = ["render_html", "write_html"]
