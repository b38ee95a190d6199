"""Voice calibration: the agent reads a paragraph; their normal is measured, then kept or discarded.

A calibration call is a `LiveCall` of kind "calibration" on the agent's audio alone,
run with `save=False`: the measured normal is shown first, and only `save()` folds it
into the agent's voice profile (the history policy: calibration refines the profile,
it is never saved as a call). The view polls `speech_s`, `level_dbfs` and `enough()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio.baseline import CALIBRATION_SPEECH_S
from ..audio.types import Baseline, Block
from .calls import AgentSource, LiveCall, StateListener, agent_call
from .history import History, Saved
from .spec import CallKind

GIVE_UP_AFTER_S = 90.0  # s of audio: without enough speech by then, something is wrong (muted mic, wrong device)
SILENCE_RMS = 1e-6  # the quietest level measured (-120 dBFS), so a silent block has a finite level


class LevelTap:
    """Passes a source's blocks through, remembering the loudness of the newest one (for a meter)."""

    def __init__(self, source: Iterable[Block]) -> None:
        self.source = source
        self.level_dbfs: float | None = None  # written on the pipeline thread, read by the view

    @property
    def info(self) -> Any:
        return getattr(self.source, "info", None)

    def start(self) -> None:
        start = getattr(self.source, "start", None)
        if start is not None:
            start()

    def stop(self) -> None:
        stop = getattr(self.source, "stop", None)
        if stop is not None:
            stop()

    def __iter__(self) -> Iterator[Block]:
        for block in self.source:
            agent = np.asarray(block.agent, np.float32)
            if len(agent):
                rms = float(np.sqrt(np.mean(agent.astype(np.float64) ** 2)))
                self.level_dbfs = 20.0 * math.log10(max(rms, SILENCE_RMS))
            yield block


@dataclass(frozen=True)
class Measurement:
    """What a finished calibration measured: a ready `baseline`, or one sentence why not."""

    baseline: Baseline | None = None
    problem: str | None = None  # an error, or "not enough speech" (trying again can help either way)
    is_error: bool = False  # the problem is a failure (a device, the pipeline), not the reading


class CalibrationCall:
    """One attempt at calibrating `agent`'s voice (see the module docstring)."""

    def __init__(
        self,
        agent: str,
        source: AgentSource | None = None,
        *,
        on_state: StateListener | None = None,
        history: History | None = None,
    ) -> None:
        self.agent = agent
        self.tap: LevelTap | None = None
        self.history = history if history is not None else History()

        def tapped() -> Iterable[Block]:
            if source is not None:
                made = source()
            else:
                from .calls import open_source

                made = open_source(self.call.spec)
            self.tap = LevelTap(made)
            return self.tap

        self.call: LiveCall = agent_call(
            CallKind.CALIBRATION, tapped, on_state=on_state, agent=agent, history=self.history, save=False
        )

    # ---- while it runs (any thread) ------------------------------------------------------

    def begin(self) -> None:
        self.call.begin()

    def stop(self) -> None:
        self.call.stop()

    def close(self, timeout: float) -> None:
        """Stop and wait up to `timeout` s; nothing is saved."""
        self.call.close(timeout)

    @property
    def runner(self) -> Any:
        return self.call.runner

    @property
    def speech_s(self) -> float:
        """Seconds of agent speech the baseline tracker has heard so far."""
        session = self.call.session
        return float(session.baseline_tracker.speech_s) if session is not None else 0.0

    @property
    def time_s(self) -> float:
        """Seconds of audio heard so far."""
        session = self.call.session
        return float(session.time_s) if session is not None else 0.0

    @property
    def level_dbfs(self) -> float | None:
        return self.tap.level_dbfs if self.tap is not None else None

    def enough(self) -> bool:
        """Whether to stop now: enough speech heard, or so much audio without it that more will not help."""
        return self.speech_s >= CALIBRATION_SPEECH_S or self.time_s >= GIVE_UP_AFTER_S

    # ---- once it ended -------------------------------------------------------------------

    def measurement(self) -> Measurement:
        """The measured normal (after FINISHED or FAILED)."""
        outcome = self.call.outcome
        if outcome is not None and outcome.error:
            return Measurement(problem=outcome.error, is_error=True)
        session = self.call.session
        if session is None:
            return Measurement(problem="Poise could not start listening: try again.", is_error=True)
        own = session.baseline_tracker.own()
        result = outcome.result if outcome is not None else None
        measured = result.baseline if result is not None else own
        if not (own.is_ready() and measured.is_ready()):
            heard = session.baseline_tracker.speech_s
            return Measurement(problem=(
                f"Poise heard only {heard:.0f} of the {CALIBRATION_SPEECH_S:.0f} seconds of speech it needs: "
                "check that the right microphone is chosen and not muted, then try again, reading the whole paragraph."
            ))
        return Measurement(baseline=measured)

    def save(self, baseline: Baseline) -> Saved:
        """Fold `baseline` into the agent's voice profile (blocking: run it off a UI thread)."""
        return self.history.record(CallKind.CALIBRATION, self.agent, baseline=baseline)


__all__ = ["GIVE_UP_AFTER_S", "CalibrationCall", "LevelTap", "Measurement"]
