"""What a call is (`CallSpec`), where it is in its life (`CallState`) and how it ended (`CallOutcome`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from ..audio.coach import CoachConfig
from ..audio.types import AnalysisResult


class CallKind(str, Enum):
    """What a run of the pipeline is for (the value is the history's `kind` where it is saved)."""

    LIVE = "live"  # the agent's microphone (and the caller's audio) now
    DEMO = "demo"  # a recording played through the live pipeline in real time
    REVIEW = "review"  # a recording analysed as fast as it goes, with one Whisper pass
    CALIBRATION = "calibration"  # the agent reads a paragraph: measures their normal
    PRACTICE = "practice"  # the trainer: reading a script at a target pace


class CallState(str, Enum):
    """IDLE → PREPARING → RUNNING → STOPPING → FINISHED, or FAILED from any of them."""

    IDLE = "idle"
    PREPARING = "preparing"  # loading the model, opening devices (off the caller's thread)
    RUNNING = "running"
    STOPPING = "stopping"  # asked to stop; the pipeline is finishing the session
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in (CallState.FINISHED, CallState.FAILED)


@dataclass(frozen=True)
class CallSpec:
    """Everything needed to run one call; built by the CLI from flags, by the desktop from settings."""

    kind: CallKind
    agent_device: str | None = None  # live: the agent's microphone (None = system default)
    caller_device: str | None = None  # live: the caller's audio (None = agent only)
    file: Path | None = None  # demo / review: the recording
    caller_file: Path | None = None  # review: the caller's side as a separate file
    agent_channel: str = "left"  # review: which stereo side is the agent
    speed: float = 1.0  # demo: playback speed (1.0 = real time)
    config: CoachConfig = field(default_factory=CoachConfig)  # the cue rules
    model_dir: str | None = None  # Whisper model folder (None = the bundled tiny.en)
    transcribe: bool = True
    keep_audio: bool = False  # live: record the call to disk
    record_dir: Path | None = None  # where recordings go (None = Poise's data folder)
    agent: str = "default"  # whose voice profile and history

    @classmethod
    def from_settings(cls, kind: CallKind, settings: Any, **overrides: Any) -> CallSpec:
        """A spec from the user's `AppSettings`, with explicit choices (flags, dialogs) on top.

        Pass in `overrides` only what the user chose for this call (None is a choice too).
        """
        base = cls(
            kind=kind,
            agent_device=settings.agent_device or None,
            caller_device=settings.caller_device or None,
            config=settings.coach,
            model_dir=settings.model_path,
            keep_audio=settings.keep_audio and kind is CallKind.LIVE,
            agent=settings.agent,
        )
        return replace(base, **overrides)

    @property
    def has_caller(self) -> bool | None:
        """Live: whether a caller device is chosen; None for recordings (the file decides)."""
        return self.caller_device is not None if self.kind is CallKind.LIVE else None

    def describe(self) -> str:
        """What the window title and the status bar call this call."""
        return {
            CallKind.LIVE: "live call",
            CallKind.DEMO: "demo call",
            CallKind.REVIEW: f"review of {self.file.name if self.file else 'a recording'}",
            CallKind.CALIBRATION: "voice calibration",
            CallKind.PRACTICE: "pacing practice",
        }[self.kind]


@dataclass(frozen=True)
class CallOutcome:
    """How a call ended. `result` can be set with `error` too: what was measured before it failed."""

    result: AnalysisResult | None = None
    error: str | None = None  # one plain sentence
    recording: Path | None = None  # the saved audio, if any
    call_id: int | None = None  # the history row, if the call was saved
    warning: str | None = None  # one sentence when history could not be used
    note: str | None = None  # a sentence for the user that is not a problem (the recording was in history already)
    bad_input: bool = False  # the recording or a device was unusable (the CLI exits 2, not 1)


__all__ = ["CallKind", "CallOutcome", "CallSpec", "CallState"]
