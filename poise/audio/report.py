"""The call report: contract JSON (`poise.analysis/1`), a terminal summary, a self-contained HTML page.

Standard library and NumPy only (no Qt, no network, no JS): the HTML carries its CSS and
SVG inline, so it opens offline and prints as it looks on screen.
"""

from __future__ import annotations

import html
import json
import math
import os
import sys
import tempfile
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from poise.audio.types import AnalysisResult, Cue, RoleStats, Segment, Timeline

SCHEMA_ID = "poise.analysis/1"
WPM_BAND = (125.0, 165.0)  # wpm over turns, pauses included: comfortable phone pace (design.md)

TIME_DIGITS = 3  # s: millisecond resolution is finer than any frame we compute
LEVEL_DIGITS = 1  # Hz, dB and wpm: a tenth is below what anyone can hear or count
RATE_DIGITS = 2  # syllables/s: values are ~3-7, so a hundredth keeps two significant figures
SHARE_DIGITS = 3  # 0..1 shares: a tenth of a percent

SVG_MAX_POINTS = 1200  # points per trace: about one per pixel of the drawn timeline; keeps long calls light

AGENT_COLOUR = "#2f6fb5"
CALLER_COLOUR = "#e08a3c"
CUE_COLOUR = "#d1403a"


# --------------------------------------------------------------------------- JSON


def _num(value: Any, digits: int) -> float | None:
    """A finite float rounded to `digits`, or None for None/NaN/inf/non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    rounded = round(number, digits)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the file


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(round(number)) if math.isfinite(number) else None


def _plain(obj: Any) -> Any:
    """Evidence and other free-form values → JSON types; floats rounded, NaN/inf → None."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _num(obj, TIME_DIGITS)
    if isinstance(obj, np.ndarray):
        return [_plain(v) for v in obj.tolist()]
    if is_dataclass(obj) and not isinstance(obj, type):
        return _plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    return str(obj)


def _role_json(stats: RoleStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    return {
        "talk_time_s": _num(stats.talk_time_s, TIME_DIGITS) or 0.0,
        "words": _int(stats.words),
        "wpm": _num(stats.wpm, LEVEL_DIGITS),
        "articulation_rate_sps": _num(stats.articulation_rate_sps, RATE_DIGITS),
        "pitch_median_hz": _num(stats.pitch_median_hz, LEVEL_DIGITS),
        "pitch_p10_hz": _num(stats.pitch_p10_hz, LEVEL_DIGITS),
        "pitch_p90_hz": _num(stats.pitch_p90_hz, LEVEL_DIGITS),
        "volume_median_dbfs": _num(stats.volume_median_dbfs, LEVEL_DIGITS),
    }


def _cue_json(cue: Cue) -> dict[str, Any]:
    return {
        "t": _num(cue.t, TIME_DIGITS) or 0.0,
        "kind": str(cue.kind),
        "message": str(cue.message),
        "evidence": _plain(cue.evidence or {}),
    }


def _segment_json(seg: Segment) -> dict[str, Any]:
    return {
        "role": seg.role,
        "start": _num(seg.start, TIME_DIGITS) or 0.0,
        "end": _num(seg.end, TIME_DIGITS) or 0.0,
        "text": str(seg.text),
        "words": [
            {"word": str(w.word), "start": _num(w.start, TIME_DIGITS), "end": _num(w.end, TIME_DIGITS)}
            for w in seg.words
        ],
    }


def _series(values: Iterable[Any], digits: int) -> list[float | None]:
    return [_num(v, digits) for v in values]


def _timeline_json(tl: Timeline) -> dict[str, Any]:
    return {
        "step_s": _num(tl.step_s, TIME_DIGITS),
        "t": _series(tl.t, TIME_DIGITS),
        "agent_speaking": _series(tl.agent_speaking, SHARE_DIGITS),
        "caller_speaking": _series(tl.caller_speaking, SHARE_DIGITS),
        "agent_rate_sps": _series(tl.agent_rate_sps, RATE_DIGITS),
        "agent_pitch_hz": _series(tl.agent_pitch_hz, LEVEL_DIGITS),
        "agent_db": _series(tl.agent_db, LEVEL_DIGITS),
        "caller_db": _series(tl.caller_db, LEVEL_DIGITS),
    }


def to_json(result: AnalysisResult) -> dict[str, Any]:
    """The call as a `poise.analysis/1` document (plus `baseline` and `timeline`); never NaN or inf."""
    src, conv, base = result.source, result.conversation, result.baseline
    return {
        "schema": SCHEMA_ID,
        "source": {
            "path": str(src.path),
            "duration_s": _num(src.duration_s, TIME_DIGITS) or 0.0,
            "sample_rate": _int(src.sample_rate) or 1,
            "channels": _int(src.channels) or 1,
        },
        "agent": _role_json(result.agent),
        "caller": _role_json(result.caller),
        "conversation": {
            "agent_talk_share": _num(conv.agent_talk_share, SHARE_DIGITS),
            "agent_interruptions": _int(conv.agent_interruptions),
            "longest_agent_monologue_s": _num(conv.longest_agent_monologue_s, TIME_DIGITS),
            "dead_air_s": _num(conv.dead_air_s, TIME_DIGITS),
            "overlap_s": _num(conv.overlap_s, TIME_DIGITS),
        },
        "cues": [_cue_json(c) for c in sorted(result.cues, key=lambda c: c.t)],
        "segments": [_segment_json(s) for s in sorted(result.segments, key=lambda s: (s.start, s.end))],
        "baseline": {
            "pitch_hz": _num(base.pitch_hz, LEVEL_DIGITS),
            "db": _num(base.db, LEVEL_DIGITS),
            "rate_sps": _num(base.rate_sps, RATE_DIGITS),
            "speech_s": _num(base.speech_s, TIME_DIGITS),
            "ready": bool(base.is_ready()),
        },
        "timeline": _timeline_json(result.timeline),
    }


def _write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` through a temp file in the same folder, so readers see all or nothing."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a report is an ordinary document.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return target


def write_json(result: AnalysisResult, path: str | os.PathLike[str]) -> Path:
    """Write `to_json(result)` to `path` atomically (UTF-8, indented); returns the path."""
    text = json.dumps(to_json(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return _write_atomic(path, text)


def write_html(result: AnalysisResult, path: str | os.PathLike[str]) -> Path:
    """Write `render_html(result)` to `path` atomically; returns the path."""
    return _write_atomic(path, render_html(result))


# --------------------------------------------------------------------------- formatting helpers


def _finite(value: Any) -> float | None:
    return _num(value, 12)


def fmt_clock(seconds: float | None) -> str:
    """Audio time as m:ss (h:mm:ss past an hour); '—' when unknown."""
    s = _finite(seconds)
    if s is None:
        return "—"
    total = int(math.floor(max(0.0, s) + 1e-6))  # floor, as players show time: 1:41.9 is still 01:41
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def _fmt_duration(seconds: float | None) -> str:
    """A length: '14.2 s' under a minute, '3:02' above."""
    s = _finite(seconds)
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    total = int(s + 0.5)
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _fmt(value: Any, fmt: str, unit: str = "") -> str:
    v = _finite(value)
    if v is None:
        return "—"
    return f"{v:{fmt}}{unit}"


def _fmt_value(value: Any) -> str:
    """A free-form evidence value in a few significant characters."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return "—" if value is None else str(value)
    v = _finite(value)
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
        if isinstance(value, (dict, list, tuple, set)) or (value is not None and _fmt_value(value) == "—"):
            continue
        if value is None:
            continue
        words = str(key).split("_")
        unit = _EVIDENCE_UNITS.get(words[-1].lower())
        if unit:
            name = " ".join(words[:-1])
            parts.append(f"{name} {_fmt_value(value)} {unit}".strip())
        else:
            parts.append(f"{' '.join(words)} {_fmt_value(value)}")
    return " · ".join(parts)


def _band_note(wpm: float | None) -> str:
    v = _finite(wpm)
    if v is None:
        return ""
    lo, hi = WPM_BAND
    if v < lo:
        return "below band"
    if v > hi:
        return "above band"
    return "in band"


# --------------------------------------------------------------------------- terminal summary

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
    lines.append(f"Length   {_fmt_duration(src.duration_s)}  ({src.sample_rate} Hz, {ch})")
    lines.append("")

    share = _finite(conv.agent_talk_share)

    def talk(name: str, st: RoleStats) -> str:
        s = _fmt_duration(st.talk_time_s)
        if share is not None:
            pct = share if name == "Agent" else 1.0 - share
            s += f" ({pct * 100:.0f} %)"
        return s

    def pace(name: str, st: RoleStats) -> str:
        s = _fmt(st.wpm, ".0f", " wpm")
        note = _band_note(st.wpm) if name == "Agent" else ""
        return f"{s}  {note}" if note else s

    def pitch(_: str, st: RoleStats) -> str:
        s = _fmt(st.pitch_median_hz, ".0f", " Hz")
        if _finite(st.pitch_p10_hz) is not None and _finite(st.pitch_p90_hz) is not None:
            s += f" ({st.pitch_p10_hz:.0f}–{st.pitch_p90_hz:.0f})"
        return s

    rows: list[tuple[str, Any]] = [
        ("Talk time", talk),
        ("Words", lambda _, st: "—" if _int(st.words) is None else str(_int(st.words))),
        ("Pace", pace),
        ("Articulation", lambda _, st: _fmt(st.articulation_rate_sps, ".1f", " syl/s")),
        ("Pitch median", pitch),
        ("Volume", lambda _, st: _fmt(st.volume_median_dbfs, ".1f", " dBFS")),
    ]
    label_w, col_w = 15, 24
    lines.append(bold(" " * label_w + "".join(f"{name:<{col_w}}" for name, _ in roles).rstrip()))
    for label, fn in rows:
        cells = "".join(f"{fn(name, st):<{col_w}}" for name, st in roles)
        lines.append(f"{label:<{label_w}}{cells}".rstrip())
    lo, hi = WPM_BAND
    lines.append(f"{'':<{label_w}}comfortable pace {lo:.0f}–{hi:.0f} wpm, pauses included")
    if result.caller is None:
        lines.append(f"{'':<{label_w}}caller: none (mono recording is the agent alone)")
    lines.append("")

    lines.append(bold("Conversation"))
    conv_rows = [
        ("Agent talk share", "—" if share is None else f"{share * 100:.0f} %"),
        ("Agent interruptions", "—" if _int(conv.agent_interruptions) is None else str(_int(conv.agent_interruptions))),
        ("Longest agent monologue", _fmt_duration(conv.longest_agent_monologue_s)),
        ("Dead air", _fmt_duration(conv.dead_air_s)),
        ("Overlap", _fmt_duration(conv.overlap_s)),
    ]
    for label, value in conv_rows:
        lines.append(f"  {label:<25}{value}")
    lines.append("")

    cues = sorted(result.cues, key=lambda c: c.t)
    if not cues:
        lines.append("No cues: calm and clear throughout.")
    else:
        lines.append(bold(f"Cues ({len(cues)})"))
        msg_w = max(len(c.message) for c in cues) + 2
        for c in cues:
            ev = format_evidence(c.evidence)
            line = f"  {fmt_clock(c.t)}  {red(f'{c.message:<{msg_w}}')}{ev}".rstrip()
            lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML: SVG timeline


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _as_array(values: Sequence[Any]) -> np.ndarray:
    """List with Nones → float array with NaN for missing values."""
    return np.array([np.nan if _finite(v) is None else float(v) for v in values], dtype=float)


def _downsample(t: np.ndarray, values: np.ndarray, max_points: int = SVG_MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Bin-average a series to at most `max_points` (NaN where a whole bin is missing)."""
    n = len(values)
    if n <= max_points:
        return t, values
    k = math.ceil(n / max_points)
    pad = (-n) % k
    v = np.concatenate([values, np.full(pad, np.nan)]).reshape(-1, k)
    tt = np.concatenate([t, np.full(pad, np.nan)]).reshape(-1, k)
    counts = np.sum(np.isfinite(v), axis=1)
    sums = np.nansum(v, axis=1)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return tt[:, 0], means


def _nice_tick_step(duration: float, max_ticks: int = 10) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= max_ticks:
            return float(step)
    return 3600.0 * math.ceil(duration / 3600 / max_ticks)


class _Svg:
    """Geometry of the timeline drawing (viewBox units)."""

    W = 1000.0
    LEFT = 96.0  # room for lane labels
    RIGHT = 14.0

    def __init__(self, duration: float) -> None:
        self.duration = max(duration, 1e-6)
        self.pw = self.W - self.LEFT - self.RIGHT

    def x(self, t: float) -> float:
        return self.LEFT + min(max(t, 0.0), self.duration) / self.duration * self.pw


def _cue_label_rows(cues: list[Cue], svg: _Svg, max_rows: int = 3) -> list[tuple[int, str, bool]]:
    """Place cue labels in staggered rows so they don't overlap: (row, text, anchor_end) per cue."""
    ends = [-1e9] * max_rows
    placed = []
    for i, cue in enumerate(cues, 1):
        x = svg.x(cue.t)
        choices = [f"{i} {cue.message}", f"{i}"]
        chosen = None
        for text in choices:
            width = 6.2 * len(text) + 14
            anchor_end = x + width > svg.W - svg.RIGHT
            left, right = (x - width, x) if anchor_end else (x - 6, x + width)
            for row in range(max_rows):
                if left > ends[row] + 6:
                    chosen = (row, text, anchor_end, right)
                    break
            if chosen:
                break
        if chosen is None:  # crowded: share the row that frees up first, number only
            row = int(np.argmin(ends))
            chosen = (row, f"{i}", False, x + 20)
        row, text, anchor_end, right = chosen
        ends[row] = right
        placed.append((row, text, anchor_end))
    return placed


def _lane(svg: _Svg, t: np.ndarray, share: np.ndarray, step: float, y: float, h: float, colour: str) -> list[str]:
    """Who-speaks-when lane: runs of equal (quantised) speaking share as blocks; opacity = share."""
    out = []
    if len(share) == 0:
        return out
    if len(share) > SVG_MAX_POINTS:
        t, share = _downsample(t, share)
        step = float(t[1] - t[0])
    q = np.nan_to_num(np.round(np.clip(share, 0, 1) * 4) / 4)  # 5 levels: faint backchannel ... solid turn
    start = 0
    for i in range(1, len(q) + 1):
        if i == len(q) or q[i] != q[start]:
            if q[start] > 0:
                x0, x1 = svg.x(t[start]), svg.x(t[i - 1] + step)
                out.append(
                    f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.8):.1f}" height="{h:.1f}" '
                    f'fill="{colour}" fill-opacity="{0.25 + 0.75 * q[start]:.2f}" rx="1.5"/>'
                )
            start = i
    return out


def _trace_path(svg: _Svg, t: np.ndarray, v: np.ndarray, y0: float, h: float, lo: float, hi: float) -> str:
    """SVG path of a series in a panel [y0, y0+h], broken where values are missing."""
    parts: list[str] = []
    run = 0  # points in the current unbroken run
    span = hi - lo if hi > lo else 1.0
    for ti, vi in zip(t, v):
        if not np.isfinite(vi) or not np.isfinite(ti):
            if run == 1:
                parts.append("l0.1,0")  # a lone value: a zero-length round-capped stroke draws it as a dot
            run = 0
            continue
        y = y0 + h - (min(max(vi, lo), hi) - lo) / span * h
        parts.append(f"{'L' if run else 'M'}{svg.x(ti):.1f},{y:.1f}")
        run += 1
    if run == 1:
        parts.append("l0.1,0")
    return " ".join(parts)


def _range(values: list[np.ndarray], extra: list[float | None], floor: float | None, min_span: float) -> tuple[float, float] | None:
    data = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if data.size == 0:
        return None
    lo, hi = np.percentile(data, 2), np.percentile(data, 98)
    for e in extra:
        if _finite(e) is not None:
            lo, hi = min(lo, e), max(hi, e)
    pad = max((hi - lo) * 0.12, min_span / 2 - (hi - lo) / 2, 0.0)
    lo, hi = lo - pad, hi + pad
    if floor is not None:
        lo = max(lo, floor)
    return float(lo), float(hi)


def _timeline_svg(result: AnalysisResult) -> str:
    tl = result.timeline
    t = _as_array(tl.t)
    step = _finite(tl.step_s) or (float(t[1] - t[0]) if len(t) > 1 else 1.0)
    ends = [result.source.duration_s, (t[-1] + step) if len(t) else 0.0]
    ends += [s.end for s in result.segments] + [c.t for c in result.cues]
    duration = max((_finite(e) or 0.0) for e in ends) or 1.0
    svg = _Svg(duration)
    cues = sorted(result.cues, key=lambda c: c.t)
    labels = _cue_label_rows(cues, svg)
    rows_used = max((r for r, _, _ in labels), default=-1) + 1

    row_h = 17.0
    y = 6.0 + rows_used * row_h + (4.0 if rows_used else 0.0)
    plot_top = y
    body: list[str] = []
    lane_h = 20.0
    base = result.baseline

    def label(text: str, yy: float, sub: str = "") -> None:
        body.append(f'<text class="lbl" x="8" y="{yy:.1f}">{_e(text)}</text>')
        if sub:
            body.append(f'<text class="sub" x="8" y="{yy + 12:.1f}">{_e(sub)}</text>')

    # Who speaks when.
    label("Agent", y + 14)
    body.append(f'<rect class="lanebg" x="{svg.LEFT}" y="{y}" width="{svg.pw}" height="{lane_h}"/>')
    body += _lane(svg, t, _as_array(tl.agent_speaking), step, y, lane_h, AGENT_COLOUR)
    y += lane_h + 5
    label("Caller", y + 14)
    body.append(f'<rect class="lanebg" x="{svg.LEFT}" y="{y}" width="{svg.pw}" height="{lane_h}"/>')
    if result.caller is None:
        body.append(f'<text class="note" x="{svg.LEFT + 8}" y="{y + 14}">mono recording: agent only</text>')
    else:
        body += _lane(svg, t, _as_array(tl.caller_speaking), step, y, lane_h, CALLER_COLOUR)
    y += lane_h + 16

    panel_h = 62.0
    panels = [
        ("Pace", "syllables/s", [(_as_array(tl.agent_rate_sps), AGENT_COLOUR, "")], base.rate_sps, 0.0, 2.0, "{:.1f}"),
        ("Pitch", "Hz, agent", [(_as_array(tl.agent_pitch_hz), AGENT_COLOUR, "")], base.pitch_hz, 0.0, 40.0, "{:.0f}"),
        (
            "Volume",
            "dBFS",
            [(_as_array(tl.caller_db), CALLER_COLOUR, "caller"), (_as_array(tl.agent_db), AGENT_COLOUR, "")],
            base.db,
            None,
            12.0,
            "{:.0f}",
        ),
    ]
    for name, unit, series, baseline, floor, min_span, vfmt in panels:
        label(name, y + 14, unit)
        body.append(f'<rect class="panelbg" x="{svg.LEFT}" y="{y}" width="{svg.pw}" height="{panel_h}"/>')
        present = [(v, c, k) for v, c, k in series if np.isfinite(v).any()]
        rng = _range([v for v, _, _ in present], [baseline], floor, min_span)
        if rng is None:
            body.append(f'<text class="note" x="{svg.LEFT + 8}" y="{y + panel_h / 2 + 4}">no agent speech measured</text>')
        else:
            lo, hi = rng
            body.append(f'<text class="ax" x="{svg.LEFT - 4}" y="{y + 9:.1f}" text-anchor="end">{vfmt.format(hi)}</text>')
            body.append(f'<text class="ax" x="{svg.LEFT - 4}" y="{y + panel_h:.1f}" text-anchor="end">{vfmt.format(lo)}</text>')
            for v, colour, kind in present:
                tt, vv = _downsample(t[: len(v)], v)
                d = _trace_path(svg, tt, vv, y, panel_h, lo, hi)
                cls = "trace thin" if kind == "caller" else "trace"
                body.append(f'<path class="{cls}" d="{d}" stroke="{colour}"/>')
            if _finite(baseline) is not None:
                by = y + panel_h - (baseline - lo) / (hi - lo) * panel_h
                body.append(
                    f'<line class="base" x1="{svg.LEFT}" x2="{svg.W - svg.RIGHT}" y1="{by:.1f}" y2="{by:.1f}"/>'
                    f'<text class="basel" x="{svg.W - svg.RIGHT - 4}" y="{by - 3:.1f}" text-anchor="end">'
                    f"agent normal {vfmt.format(baseline)}</text>"
                )
        y += panel_h + 12
    plot_bottom = y - 12

    # Time ticks and grid.
    tick_step = _nice_tick_step(duration)
    grid, ticks = [], []
    tk = 0.0
    while tk <= duration + 1e-9:
        x = svg.x(tk)
        grid.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{plot_top}" y2="{plot_bottom + 4}"/>')
        anchor = "start" if tk == 0 else ("end" if x > svg.W - svg.RIGHT - 20 else "middle")
        ticks.append(f'<text class="ax" x="{x:.1f}" y="{plot_bottom + 17}" text-anchor="{anchor}">{fmt_clock(tk)}</text>')
        tk += tick_step

    # Cue markers on top of everything.
    marks = []
    for i, (cue, (row, text, anchor_end)) in enumerate(zip(cues, labels), 1):
        x = svg.x(cue.t)
        ly = 6.0 + row * row_h
        tip = f"{fmt_clock(cue.t)} {cue.message}" + (f" ({format_evidence(cue.evidence)})" if cue.evidence else "")
        tx = x - 5 if anchor_end else x + 5
        anchor = "end" if anchor_end else "start"
        marks.append(
            f'<a href="#cue-{i}"><g class="cue"><title>{_e(tip)}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{ly + 6:.1f}" y2="{plot_bottom:.1f}"/>'
            f'<circle cx="{x:.1f}" cy="{ly + 6:.1f}" r="2.6"/>'
            f'<text x="{tx:.1f}" y="{ly + 10:.1f}" text-anchor="{anchor}">{_e(text)}</text></g></a>'
        )

    height = plot_bottom + 24
    return (
        f'<svg class="timeline" viewBox="0 0 {svg.W:.0f} {height:.0f}" width="100%" role="img" '
        f'aria-label="Call timeline">'
        + "".join(grid + body + ticks + marks)
        + "</svg>"
    )


# --------------------------------------------------------------------------- HTML: page


def _band_svg(wpm: float | None) -> str:
    """A small scale 80–240 wpm with the comfortable band shaded and the agent's pace marked."""
    lo_s, hi_s, w = 80.0, 240.0, 160.0

    def x(v: float) -> float:
        return 6 + (min(max(v, lo_s), hi_s) - lo_s) / (hi_s - lo_s) * (w - 12)

    lo, hi = WPM_BAND
    parts = [
        f'<svg class="band" viewBox="0 0 {w:.0f} 30" width="100%" aria-hidden="true">',
        f'<rect x="{x(lo_s):.1f}" y="7" width="{x(hi_s) - x(lo_s):.1f}" height="6" rx="3" fill="#e7eaee"/>',
        f'<rect x="{x(lo):.1f}" y="7" width="{x(hi) - x(lo):.1f}" height="6" fill="#a9d3b5"/>',
        f'<text x="{x(lo):.1f}" y="27" text-anchor="middle">{lo:.0f}</text>',
        f'<text x="{x(hi):.1f}" y="27" text-anchor="middle">{hi:.0f}</text>',
    ]
    v = _finite(wpm)
    if v is not None:
        colour = "#2e8b57" if lo <= v <= hi else CUE_COLOUR
        parts.append(f'<circle cx="{x(v):.1f}" cy="10" r="5.5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def _share_svg(share: float | None) -> str:
    s = _finite(share)
    if s is None:
        return ""
    s = min(max(s, 0.0), 1.0)
    return (
        '<svg class="band" viewBox="0 0 200 14" width="100%" aria-hidden="true">'
        f'<rect x="0" y="4" width="200" height="6" rx="3" fill="{CALLER_COLOUR}" fill-opacity="0.55"/>'
        f'<rect x="0" y="4" width="{200 * s:.1f}" height="6" rx="3" fill="{AGENT_COLOUR}"/></svg>'
    )


def _card(title: str, value: str, note: str = "", extra: str = "", cls: str = "") -> str:
    return (
        f'<div class="card {cls}"><div class="ct">{_e(title)}</div><div class="cv">{value}</div>'
        f"{extra}<div class=\"cn\">{_e(note)}</div></div>"
    )


def _cards(result: AnalysisResult) -> str:
    a, conv = result.agent, result.conversation
    lo, hi = WPM_BAND
    wpm = _finite(a.wpm)
    band = _band_note(wpm)
    pace_cls = "" if wpm is None or band == "in band" else "warn"
    share = _finite(conv.agent_talk_share)
    share_note = "agent vs caller" if result.caller is not None else "mono: agent only"
    inter = _int(conv.agent_interruptions)
    cards = [
        _card(
            "Agent pace",
            "—" if wpm is None else f'{wpm:.0f}<small> wpm</small>',
            f"{band}: comfortable {lo:.0f}–{hi:.0f} wpm" if band else f"comfortable {lo:.0f}–{hi:.0f} wpm",
            _band_svg(wpm),
            pace_cls,
        ),
        _card(
            "Agent talk share",
            "—" if share is None else f"{share * 100:.0f}<small> %</small>",
            share_note,
            _share_svg(share),
        ),
        _card(
            "Interruptions",
            "—" if inter is None else str(inter),
            "agent talked over the caller",
            cls="warn" if inter else "",
        ),
        _card("Longest monologue", _e(_fmt_duration(conv.longest_agent_monologue_s)), "agent without a caller turn"),
        _card("Dead air", _e(_fmt_duration(conv.dead_air_s)), "nobody speaking"),
        _card("Overlap", _e(_fmt_duration(conv.overlap_s)), "both speaking at once"),
    ]
    return '<section class="cards">' + "".join(cards) + "</section>"


def _voice_table(result: AnalysisResult) -> str:
    roles = [("agent", "Agent", result.agent)]
    if result.caller is not None:
        roles.append(("caller", "Caller", result.caller))
    base = result.baseline

    def pitch(st: RoleStats) -> str:
        s = _fmt(st.pitch_median_hz, ".0f", " Hz")
        if _finite(st.pitch_p10_hz) is not None and _finite(st.pitch_p90_hz) is not None:
            s += f' <span class="muted">({st.pitch_p10_hz:.0f}–{st.pitch_p90_hz:.0f})</span>'
        return s

    rows = [
        ("Talk time", lambda st: _e(_fmt_duration(st.talk_time_s))),
        ("Words", lambda st: "—" if _int(st.words) is None else str(_int(st.words))),
        ("Pace", lambda st: _e(_fmt(st.wpm, ".0f", " wpm"))),
        ("Articulation rate", lambda st: _e(_fmt(st.articulation_rate_sps, ".1f", " syllables/s"))),
        ("Pitch median (p10–p90)", pitch),
        ("Volume median", lambda st: _e(_fmt(st.volume_median_dbfs, ".1f", " dBFS"))),
    ]
    head = "".join(f'<th class="{k}">{_e(n)}</th>' for k, n, _ in roles)
    body = "".join(
        f"<tr><td>{_e(label)}</td>" + "".join(f"<td>{fn(st)}</td>" for _, _, st in roles) + "</tr>"
        for label, fn in rows
    )
    normal = (
        f"Agent normal (baseline from {_fmt_duration(base.speech_s)} of speech): "
        f"pitch {_fmt(base.pitch_hz, '.0f', ' Hz')}, volume {_fmt(base.db, '.1f', ' dBFS')}, "
        f"articulation {_fmt(base.rate_sps, '.1f', ' syllables/s')}."
        if base.is_ready() or _finite(base.pitch_hz) is not None
        else "No baseline yet: not enough agent speech to learn their normal voice."
    )
    return (
        f'<table class="voice"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'<p class="muted small">{_e(normal)}</p>'
    )


def _cue_list(cues: list[Cue]) -> str:
    if not cues:
        return '<p class="calm">No cues: calm and clear throughout.</p>'
    items = []
    for i, c in enumerate(cues, 1):
        ev = format_evidence(c.evidence)
        items.append(
            f'<li><a href="#cue-{i}"><span><span class="num">{i}</span></span>'
            f'<span class="time">{fmt_clock(c.t)}</span><span><span class="msg">{_e(c.message)}</span>'
            f'<span class="ev">{_e(ev)}</span></span></a></li>'
        )
    return '<ol class="cues">' + "".join(items) + "</ol>"


def _transcript(result: AnalysisResult, cues: list[Cue]) -> str:
    segs = sorted(result.segments, key=lambda s: (s.start, s.end))
    # A cue goes after every segment that had started by its time: where the agent would have seen it.
    entries: list[tuple[float, int, int, Any]] = [(s.start, 0, i, s) for i, s in enumerate(segs)]
    entries += [(c.t, 1, i, c) for i, c in enumerate(cues, 1)]
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    rows = []
    for _, is_cue, idx, item in entries:
        if is_cue:
            ev = format_evidence(item.evidence)
            rows.append(
                f'<div class="row cue" id="cue-{idx}"><span class="time">{fmt_clock(item.t)}</span>'
                f'<span class="who"><span class="num">{idx}</span></span>'
                f'<span class="text"><b>{_e(item.message)}</b> <span class="ev">{_e(ev)}</span></span></div>'
            )
        else:
            role = "agent" if item.role == "agent" else "caller"
            rows.append(
                f'<div class="row {role}"><span class="time">{fmt_clock(item.start)}</span>'
                f'<span class="who">{role.capitalize()}</span><span class="text">{_e(item.text.strip())}</span></div>'
            )
    if not segs:
        rows.insert(0, '<p class="muted">No transcript: no words were recognised in this call.</p>')
    return '<div class="transcript">' + "".join(rows) + "</div>"


_CSS = """
:root { --agent: %(agent)s; --caller: %(caller)s; --cue: %(cue)s; --ink: #1f2933; --muted: #6b7785;
        --line: #e3e7ec; --bg: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 40px; }
header { display: flex; justify-content: space-between; align-items: flex-end; gap: 24px;
         border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 20px; }
header h1 { font-size: 22px; margin: 0; font-weight: 600; word-break: break-all; }
header .brand { color: var(--muted); font-size: 12px; letter-spacing: .08em; text-transform: uppercase; }
header .meta { color: var(--muted); text-align: right; white-space: nowrap; font-size: 13px; }
h2 { font-size: 15px; font-weight: 600; margin: 28px 0 10px; }
.muted { color: var(--muted); } .small { font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px;
        break-inside: avoid; }
.card .ct { color: var(--muted); font-size: 12px; }
.card .cv { font-size: 26px; font-weight: 600; line-height: 1.25; font-variant-numeric: tabular-nums; }
.card .cv small { font-size: 13px; font-weight: 500; color: var(--muted); }
.card .cn { color: var(--muted); font-size: 11.5px; line-height: 1.3; }
.card.warn .cv { color: var(--cue); }
svg.band { display: block; margin: 2px 0 2px; }
svg.band text { font-size: 10px; fill: var(--muted); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
svg.timeline { display: block; font-family: inherit; }
svg.timeline .lbl { font-size: 12px; font-weight: 600; fill: var(--ink); }
svg.timeline .sub { font-size: 10px; fill: var(--muted); }
svg.timeline .ax { font-size: 10px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.timeline .note { font-size: 11px; fill: var(--muted); font-style: italic; }
svg.timeline .lanebg { fill: #f3f5f7; }
svg.timeline .panelbg { fill: #fafbfc; stroke: #eef0f3; }
svg.timeline .grid { stroke: #e9ecf0; stroke-width: 1; }
svg.timeline .trace { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg.timeline .trace.thin { stroke-width: 1.1; stroke-opacity: .75; }
svg.timeline .base { stroke: var(--agent); stroke-width: 1; stroke-dasharray: 5 4; opacity: .8; }
svg.timeline .basel { font-size: 9.5px; fill: var(--agent); paint-order: stroke; stroke: #fafbfc;
                      stroke-width: 3px; stroke-linejoin: round; }
svg.timeline .cue line { stroke: var(--cue); stroke-width: 1.2; stroke-opacity: .85; }
svg.timeline .cue circle { fill: var(--cue); }
svg.timeline .cue text { font-size: 11px; fill: var(--cue); font-weight: 600;
                         paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.legend { display: flex; gap: 18px; color: var(--muted); font-size: 12px; margin: 6px 0 0 96px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 14px; height: 4px; border-radius: 2px; vertical-align: middle; margin-right: 6px; }
.legend i.dash { background: none; border-top: 1.5px dashed var(--agent); height: 0; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
table.voice { width: 100%%; border-collapse: collapse; background: #fff; border: 1px solid var(--line);
              border-radius: 10px; overflow: hidden; font-variant-numeric: tabular-nums; }
table.voice th, table.voice td { text-align: left; padding: 6px 12px; border-bottom: 1px solid var(--line); }
table.voice tr:last-child td { border-bottom: 0; }
table.voice th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
table.voice th.agent { color: var(--agent); } table.voice th.caller { color: var(--caller); }
ol.cues { list-style: none; margin: 0; padding: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; }
ol.cues li { padding: 7px 12px; border-bottom: 1px solid var(--line); }
ol.cues li:last-child { border-bottom: 0; }
ol.cues a { color: inherit; text-decoration: none; display: grid; grid-template-columns: 26px 46px 1fr;
            align-items: baseline; }
ol.cues .ev { display: block; }
.num { display: inline-block; min-width: 18px; height: 18px; line-height: 18px; border-radius: 9px; background: var(--cue);
       color: #fff; font-size: 11px; font-weight: 600; text-align: center; padding: 0 4px; }
.time { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 12.5px; }
.msg { color: var(--cue); font-weight: 600; }
.ev { color: var(--muted); font-size: 12px; }
.calm { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; margin: 0; color: #2e8b57; }
.transcript { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 6px 0; }
.transcript .row { display: grid; grid-template-columns: 58px 64px 1fr; gap: 8px; padding: 5px 14px;
                   border-left: 3px solid transparent; break-inside: avoid; }
.transcript .row.agent { border-left-color: var(--agent); }
.transcript .row.agent .who { color: var(--agent); font-weight: 600; }
.transcript .row.caller { border-left-color: var(--caller); background: #fdf8f3; }
.transcript .row.caller .who { color: var(--caller); font-weight: 600; }
.transcript .row.cue { border-left-color: var(--cue); background: #fdf1f0; }
.transcript .row.cue b { color: var(--cue); }
.transcript .who { font-size: 12.5px; }
.transcript .time { padding-top: 1px; }
.transcript .text { white-space: pre-wrap; }
.transcript > p { padding: 8px 14px; margin: 0; }
footer { margin-top: 28px; color: var(--muted); font-size: 11.5px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(3, 1fr); } .two { grid-template-columns: 1fr; } }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  .cards { grid-template-columns: repeat(3, 1fr); gap: 8px; }
  .card .cv { font-size: 22px; }
  .panel, .card, table.voice, ol.cues, .transcript { border-color: #d5dae0; }
  .panel, .card, table.voice, ol.cues li { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  @page { margin: 14mm 12mm; }
}
""" % {"agent": AGENT_COLOUR, "caller": CALLER_COLOUR, "cue": CUE_COLOUR}


def render_html(result: AnalysisResult, generated: datetime | None = None) -> str:
    """A self-contained HTML call report: numbers, SVG timeline with cues, cue list, transcript."""
    src = result.source
    generated = generated or datetime.now()
    cues = sorted(result.cues, key=lambda c: c.t)
    name = Path(src.path).name or src.path or "call"
    channels = "mono (agent only)" if result.caller is None else f"{src.channels} channels"
    meta = (
        f"{_e(_fmt_duration(src.duration_s))} · {_e(src.sample_rate)} Hz · {_e(channels)}<br>"
        f"analysed {_e(generated.strftime('%Y-%m-%d %H:%M'))}"
    )
    base = result.baseline
    has_base = any(_finite(v) is not None for v in (base.pitch_hz, base.db, base.rate_sps))
    legend = (
        '<div class="legend"><span><i style="background:var(--agent)"></i>agent</span>'
        + ('<span><i style="background:var(--caller)"></i>caller</span>' if result.caller is not None else "")
        + ('<span><i class="dash"></i>agent\'s normal (baseline)</span>' if has_base else "")
        + ('<span><i style="background:var(--cue)"></i>cue, when it would have appeared live</span>' if cues else "")
        + "</div>"
    )
    n = len(cues)
    cue_title = f"Cues ({n})" if n else "Cues"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Poise report: {_e(name)}</title><style>{_CSS}</style></head><body><main>"
        f'<header><div><div class="brand">Poise call report</div><h1 title="{_e(src.path)}">{_e(name)}</h1></div>'
        f'<div class="meta">{meta}</div></header>'
        f"{_cards(result)}"
        f'<h2>Timeline</h2><div class="panel">{_timeline_svg(result)}{legend}</div>'
        f'<div class="two"><div><h2>{_e(cue_title)}</h2>{_cue_list(cues)}</div>'
        f"<div><h2>Voice</h2>{_voice_table(result)}</div></div>"
        f"<h2>Transcript</h2>{_transcript(result, cues)}"
        "<footer>Made by Poise on this computer; nothing left it. Times are audio time from the start of the call. "
        "Pace in wpm counts words over the speaker's turns, pauses under 2 s included; "
        "articulation rate counts syllables per second of speech, pauses excluded.</footer>"
        "</main></body></html>\n"
    )
