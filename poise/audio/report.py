"""The call as data: the contract JSON (`poise.analysis/1`) that `poise analyze --json` writes
and the history stores. Standard library and NumPy only.

What Poise writes for people (the terminal summary, the HTML report, formatting) is
in `poise.report`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .types import AnalysisResult, Cue, RoleStats, Segment, Timeline
from poise import paths
from poise.language.summary import language_json

SCHEMA_ID = "poise.analysis/1"

TIME_DIGITS = 3  # s: millisecond resolution is finer than any frame we compute
LEVEL_DIGITS = 1  # Hz, dB and wpm: a tenth is below what anyone can hear or count
RATE_DIGITS = 2  # syllables/s: values are ~3-7, so a hundredth keeps two significant figures
SHARE_DIGITS = 3  # 0..1 shares: a tenth of a percent


# --------------------------------------------------------------------------- JSON


def _finite(value: Any) -> float | None:
    """`value` as a finite float, or None for None/bools/NaN/inf/non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _num(value: Any, digits: int) -> float | None:
    """A finite float rounded to `digits`, or None for None/NaN/inf/non-numbers."""
    number = _finite(value)
    if number is None:
        return None
    rounded = round(number, digits)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the file


def _int(value: Any) -> int | None:
    """A finite number rounded to an int, or None."""
    number = _finite(value)
    return None if number is None else int(round(number))


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


def _gap_json(gap: Any) -> dict[str, Any]:
    """A capture gap (`recorder.Gap`): that side's device delivered nothing from `start` to `end` (s)."""
    return {"role": str(gap.role), "start": _num(gap.start_s, TIME_DIGITS) or 0.0, "end": _num(gap.end_s, TIME_DIGITS)}


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
            "agent_channel": src.agent_channel,  # additions to the contract's source: how to open the call again
            "caller_path": src.caller_path,
            "notes": list(src.notes),  # e.g. "cut short: the header promises 182.8 s but the file holds 93.7 s"
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
        "gaps": [_gap_json(g) for g in sorted(result.gaps, key=lambda g: (g.start_s, g.role))],  # issue 9: device lost
        "language": _plain(language_json(result.segments, result.cues)),  # phrase moments, summary, draft notes (issue 10)
    }


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` through a temp file in the same folder, so readers see all or nothing."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; a new report gets what the user's own umask allows (not the
        # 077 Poise sets for its data folder; inside that folder 0600), an existing one keeps its mode.
        mode = target.stat().st_mode & 0o777 if target.exists() else paths.user_file_mode(target)
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
    return write_atomic(path, text)
