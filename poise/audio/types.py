"""Data that flows through the engine: audio blocks, frames, words, cues, events.

Every time in here is *audio time*: seconds from the start of the call, never the
wall clock (except `wall` fields that record when something was emitted live).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

SAMPLE_RATE = 16_000  # Hz: the engine's internal rate; sources resample once to it
FRAME_HOP_S = 0.01  # s: one prosody frame every 10 ms
FRAME_HOP = int(SAMPLE_RATE * FRAME_HOP_S)  # samples

Role = Literal["agent", "caller"]
ROLES: tuple[Role, Role] = ("agent", "caller")


class AudioInputError(Exception):
    """A recording or device that cannot be used; the message is one plain sentence for the user."""


@dataclass
class Block:
    """A stretch of call audio for both roles, float32 mono at `SAMPLE_RATE`.

    `caller` is None for a mono (agent-only) call. Both arrays have the same length.
    """

    t0: float  # audio time of the first sample, s
    agent: np.ndarray
    caller: np.ndarray | None = None

    @property
    def duration(self) -> float:
        return len(self.agent) / SAMPLE_RATE


@dataclass
class SourceInfo:
    """What a source is, for the report's `source` object."""

    path: str
    duration_s: float
    sample_rate: int  # the rate of the original recording / device
    channels: int
    agent_channel: str | None = None  # a stereo file: the side that is the agent ("left" / "right")
    caller_path: str | None = None  # the caller's side as a file of its own
    notes: list[str] = field(default_factory=list)  # what the user should know about the input (cut short, channels used)


@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0


@dataclass
class Segment:
    """A final piece of transcript for one role."""

    role: Role
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [
                {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3)} for w in self.words
            ],
        }


@dataclass
class Cue:
    """A prompt the agent would see (or saw) at audio time `t`."""

    t: float
    kind: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "kind": self.kind, "message": self.message, "evidence": self.evidence}


@dataclass
class Meters:
    """A snapshot for live displays, emitted about ten times a second."""

    t: float
    agent_speaking: bool
    caller_speaking: bool
    agent_db: float | None  # loudness of the agent's recent speech, dBFS
    agent_pitch_hz: float | None  # median F0 of the agent's recent voiced speech
    agent_rate_sps: float | None  # syllables per second over the recent ~8 s of agent speech
    agent_wpm_est: float | None  # the rate above in words per minute (see pace.SYLLABLES_PER_WORD)
    caller_db: float | None
    baseline_ready: bool
    baseline_pitch_hz: float | None
    baseline_db: float | None
    baseline_rate_sps: float | None
    caller_heat: float | None = None  # how heated the caller sounds, 0..1 (poise.language.heat); None: no caller or not measured yet


@dataclass
class Status:
    """Something the user should know that is not a cue: a device lost, the disk full."""

    t: float
    level: Literal["info", "warning", "error"]
    message: str


Event = Cue | Segment | Meters | Status


def to_jsonable(obj: Any) -> Any:
    """Dataclass → plain JSON types (NumPy scalars become floats)."""
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


@dataclass
class RoleStats:
    """Per-role numbers of a whole call (the contract's `agent` / `caller` objects)."""

    talk_time_s: float
    words: int | None
    wpm: float | None  # words over the role's turns, pauses under 2 s included
    articulation_rate_sps: float | None  # syllables per second of speech, pauses excluded
    pitch_median_hz: float | None
    pitch_p10_hz: float | None
    pitch_p90_hz: float | None
    volume_median_dbfs: float | None


@dataclass
class ConversationStats:
    agent_talk_share: float | None
    agent_interruptions: int | None
    longest_agent_monologue_s: float | None
    dead_air_s: float | None
    overlap_s: float | None


@dataclass
class Timeline:
    """Per-step series for plots (None where the role was silent in that step)."""

    step_s: float
    t: list[float]  # start of each step, s
    agent_speaking: list[float]  # share of the step with agent speech, 0..1
    caller_speaking: list[float]
    agent_rate_sps: list[float | None]
    agent_pitch_hz: list[float | None]
    agent_db: list[float | None]
    caller_db: list[float | None]


@dataclass
class Baseline:
    """The agent's own normal: what pitch, volume and pace cues compare against."""

    pitch_hz: float | None = None
    db: float | None = None
    rate_sps: float | None = None
    speech_s: float = 0.0  # how much agent speech it was measured on

    def is_ready(self) -> bool:
        return self.pitch_hz is not None and self.db is not None and self.rate_sps is not None


@dataclass
class AnalysisResult:
    """Everything `poise analyze` knows about one call."""

    source: SourceInfo
    agent: RoleStats
    caller: RoleStats | None
    conversation: ConversationStats
    cues: list[Cue]
    segments: list[Segment]
    timeline: Timeline
    baseline: Baseline
    caller_heat: list[tuple[float, float]] = field(default_factory=list)  # (t s, heat 0..1) as the live coach measured it (poise.language)
    gaps: list[Any] = field(default_factory=list)  # recorder.Gap: where a capture device delivered nothing (issue 9)
