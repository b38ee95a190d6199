"""The summary `poise analyze` prints in the terminal."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..audio.report import _int
from ..audio.types import AnalysisResult, RoleStats
from .format import (DEFAULT_WPM_BAND, band_note, call_numbers, cue_evidence, finite, fmt_clock, fmt_duration,
                     fmt_durations_alike, fmt_number, no_cues_sentence)
from ..language.summary import summarize

_BOLD, _RED, _RESET = "\033[1m", "\033[31m", "\033[0m"


def format_summary(result: AnalysisResult, color: bool | None = None) -> str:
    """The human summary `poise analyze` prints; ANSI colour only when `color` (default: stdout is a TTY)."""
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def bold(s: str) -> str:
        return f"{_BOLD}{s}{_RESET}" if color else s

    def red(s: str) -> str:
        return f"{_RED}{s}{_RESET}" if color else s

    src, conv = result.source, result.conversation
    roles: list[tuple[str, RoleStats]] = [("Agent", result.agent)]
    if result.caller is not None:
        roles.append(("Caller", result.caller))

    lines = [bold("Poise call summary")]
    lines.append(f"File     {src.path}")
    ch = "mono, agent only" if result.caller is None else f"{src.channels} channels"
    shown = call_numbers(result)  # the strings the app, the report and history show (format.call_numbers)
    lines.append(f"Length   {shown.length}  ({src.sample_rate} Hz, {ch})")
    lines.append("")

    share = finite(conv.agent_talk_share)

    talk_times = dict(zip((name for name, _ in roles), fmt_durations_alike(*(st.talk_time_s for _, st in roles))))

    def talk(name: str, st: RoleStats) -> str:
        s = talk_times[name]
        if share is not None:
            pct = share if name == "Agent" else 1.0 - share
            s += f" ({pct * 100:.0f} %)"
        return s

    def pace(name: str, st: RoleStats) -> str:
        s = shown.pace if name == "Agent" else fmt_number(st.wpm, ".0f", " wpm")
        note = band_note(st.wpm) if name == "Agent" else ""
        return f"{s}  {note}" if note else s

    def pitch(_: str, st: RoleStats) -> str:
        s = fmt_number(st.pitch_median_hz, ".0f", " Hz")
        if finite(st.pitch_p10_hz) is not None and finite(st.pitch_p90_hz) is not None:
            s += f" ({st.pitch_p10_hz:.0f}–{st.pitch_p90_hz:.0f})"
        return s

    rows: list[tuple[str, Any]] = [
        ("Talk time", talk),
        ("Words", lambda _, st: "—" if _int(st.words) is None else str(_int(st.words))),
        ("Pace", pace),
        ("Syllable rate", lambda _, st: fmt_number(st.articulation_rate_sps, ".1f", " syllables/s")),
        ("Pitch median", pitch),
        ("Loudness", lambda _, st: fmt_number(st.volume_median_dbfs, ".1f", " dBFS")),
    ]
    label_w, col_w = 15, 24
    lines.append(bold(" " * label_w + "".join(f"{name:<{col_w}}" for name, _ in roles).rstrip()))
    for label, fn in rows:
        cells = "".join(f"{fn(name, st):<{col_w}}" for name, st in roles)
        lines.append(f"{label:<{label_w}}{cells}".rstrip())
    lo, hi = DEFAULT_WPM_BAND
    lines.append(f"{'':<{label_w}}comfortable pace {lo:.0f}–{hi:.0f} wpm, pauses included")
    lines.append(f"{'':<{label_w}}loudness in dB under the loudest a recording can hold (0 dBFS)")
    if result.caller is None:
        lines.append(f"{'':<{label_w}}caller: none (mono recording is the agent alone)")
    lines.append("")

    lines.append(bold("Conversation"))
    conv_rows = [
        ("Agent talk share", shown.talk_share),
        ("Agent interruptions", shown.interruptions),
        ("Cues per 10 min", shown.cues_per_10min),
        ("Longest agent monologue", fmt_duration(conv.longest_agent_monologue_s)),
        ("Dead air", fmt_duration(conv.dead_air_s)),
        ("Overlap", fmt_duration(conv.overlap_s)),
    ]
    for label, value in conv_rows:
        lines.append(f"  {label:<25}{value}")
    lines.append("")

    cues = sorted(result.cues, key=lambda c: c.t)
    if not cues:
        lines.append(no_cues_sentence(result))
    else:
        lines.append(bold(f"Cues ({len(cues)})"))
        msg_w = max(len(c.message) for c in cues) + 2
        for c in cues:
            ev = cue_evidence(c)
            line = f"  {fmt_clock(c.t)}  {red(f'{c.message:<{msg_w}}')}{ev}".rstrip()
            lines.append(line)
    if result.segments:  # what was said (issue 10): acknowledgement, defensive phrases, next steps
        lines.append("")
        lines.append(bold("What was said"))
        lines.extend(f"  {line}" for line in summarize(result.segments, result.cues).lines())
    return "\n".join(lines)
