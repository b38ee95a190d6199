"""The report's pictures as inline SVG: the call's timeline with its cues, the pace band, the talk share.

Built in Python (the geometry is arithmetic on the timeline's arrays); every piece of
text from the call (cue messages, evidence) is escaped here before it enters markup.
"""

from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np

from .. import theme
from ..audio.types import AnalysisResult, Cue
from .format import DEFAULT_WPM_BAND, cue_evidence, finite, fmt_clock

SVG_MAX_POINTS = 1200  # points per trace: about one per pixel of the drawn timeline; keeps long calls light



def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _as_array(values: Sequence[Any]) -> np.ndarray:
    """List with Nones → float array with NaN for missing values."""
    return np.array([np.nan if finite(v) is None else float(v) for v in values], dtype=float)


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
        if finite(e) is not None:
            lo, hi = min(lo, e), max(hi, e)
    pad = max((hi - lo) * 0.12, min_span / 2 - (hi - lo) / 2, 0.0)
    lo, hi = lo - pad, hi + pad
    if floor is not None:
        lo = max(lo, floor)
    return float(lo), float(hi)


def timeline_svg(result: AnalysisResult) -> str:
    tl = result.timeline
    t = _as_array(tl.t)
    step = finite(tl.step_s) or (float(t[1] - t[0]) if len(t) > 1 else 1.0)
    ends = [result.source.duration_s, (t[-1] + step) if len(t) else 0.0]
    ends += [s.end for s in result.segments] + [c.t for c in result.cues]
    duration = max((finite(e) or 0.0) for e in ends) or 1.0
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
    body += _lane(svg, t, _as_array(tl.agent_speaking), step, y, lane_h, theme.AGENT)
    y += lane_h + 5
    label("Caller", y + 14)
    body.append(f'<rect class="lanebg" x="{svg.LEFT}" y="{y}" width="{svg.pw}" height="{lane_h}"/>')
    if result.caller is None:
        body.append(f'<text class="note" x="{svg.LEFT + 8}" y="{y + 14}">mono recording: agent only</text>')
    else:
        body += _lane(svg, t, _as_array(tl.caller_speaking), step, y, lane_h, theme.CALLER)
    y += lane_h + 16

    panel_h = 62.0
    panels = [
        ("Pace", "syllables/s", [(_as_array(tl.agent_rate_sps), theme.AGENT, "")], base.rate_sps, 0.0, 2.0, "{:.1f}"),
        ("Pitch", "Hz, agent", [(_as_array(tl.agent_pitch_hz), theme.AGENT, "")], base.pitch_hz, 0.0, 40.0, "{:.0f}"),
        (
            "Loudness",
            "dBFS",
            [(_as_array(tl.caller_db), theme.CALLER, "caller"), (_as_array(tl.agent_db), theme.AGENT, "")],
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
            if finite(baseline) is not None:
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
        tip = f"{fmt_clock(cue.t)} {cue.message}" + (f" ({ev})" if (ev := cue_evidence(cue)) else "")
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



def band_svg(wpm: float | None) -> str:
    """A small scale 80–240 wpm with the comfortable band shaded and the agent's pace marked."""
    lo_s, hi_s, w = 80.0, 240.0, 160.0

    def x(v: float) -> float:
        return 6 + (min(max(v, lo_s), hi_s) - lo_s) / (hi_s - lo_s) * (w - 12)

    lo, hi = DEFAULT_WPM_BAND
    parts = [
        f'<svg class="band" viewBox="0 0 {w:.0f} 30" width="100%" aria-hidden="true">',
        f'<rect x="{x(lo_s):.1f}" y="7" width="{x(hi_s) - x(lo_s):.1f}" height="6" rx="3" fill="#e7eaee"/>',
        f'<rect x="{x(lo):.1f}" y="7" width="{x(hi) - x(lo):.1f}" height="6" fill="#a9d3b5"/>',
        f'<text x="{x(lo):.1f}" y="27" text-anchor="middle">{lo:.0f}</text>',
        f'<text x="{x(hi):.1f}" y="27" text-anchor="middle">{hi:.0f}</text>',
    ]
    v = finite(wpm)
    if v is not None:
        colour = "#2e8b57" if lo <= v <= hi else theme.CUE
        parts.append(f'<circle cx="{x(v):.1f}" cy="10" r="5.5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def share_svg(share: float | None) -> str:
    s = finite(share)
    if s is None:
        return ""
    s = min(max(s, 0.0), 1.0)
    return (
        '<svg class="band" viewBox="0 0 200 14" width="100%" aria-hidden="true">'
        f'<rect x="0" y="4" width="200" height="6" rx="3" fill="{theme.CALLER}" fill-opacity="0.55"/>'
        f'<rect x="0" y="4" width="{200 * s:.1f}" height="6" rx="3" fill="{theme.AGENT}"/></svg>'
    )
