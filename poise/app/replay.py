"""The trainer's replay: a recording's agent side at another pace, its pitch kept, and how fast that is.

Qt-free; every method may block (a stretch of a minute of speech takes about a second)
and is meant to run off a UI thread. The stretched copies and the measured rates are
cached per speed, behind a lock, so a play and a measurement can overlap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.playback import play_audio, stop_audio
from ..audio.sources import LoadedCall, load_call
from ..audio.tempo import articulation_rate, time_stretch
from ..audio.types import SAMPLE_RATE

REPLAY_RATES = (0.8, 1.0, 1.25, 1.5)  # playback speeds offered: a noticeable step either way of normal


@dataclass(frozen=True)
class ReplayPace:
    """The articulation rate (syll/s of speech) of the original and at `rate`; None: too little speech."""

    rate: float
    original_sps: float | None
    stretched_sps: float | None

    @property
    def change_pct(self) -> float | None:
        """How much faster (+) or slower (-) the stretched copy measures than the original, %."""
        if not (self.original_sps and self.stretched_sps):
            return None
        return (self.stretched_sps / self.original_sps - 1) * 100


class Replay:
    """One loaded recording's agent side, stretched and measured on demand."""

    def __init__(self, call: LoadedCall) -> None:
        self.call = call
        self._stretched: dict[float, np.ndarray] = {1.0: call.agent}
        self._rates: dict[float, float | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> Replay:
        return cls(load_call(path))

    def stretched(self, rate: float) -> np.ndarray:
        """The agent side `rate` times faster, same pitch (cached)."""
        with self._lock:
            cached = self._stretched.get(rate)
        if cached is None:
            cached = time_stretch(self.call.agent, rate)
            with self._lock:
                self._stretched[rate] = cached
        return cached

    def measured(self, rate: float) -> float | None:
        """The articulation rate at `rate`, if already measured (else None)."""
        with self._lock:
            return self._rates.get(rate)

    def measure(self, rate: float) -> ReplayPace:
        """Measure the original and the copy at `rate` with the live pipeline (cached)."""
        for r in (1.0, rate):
            with self._lock:
                known = r in self._rates
            if not known:
                value = articulation_rate(self.stretched(r))
                with self._lock:
                    self._rates[r] = value
        with self._lock:
            return ReplayPace(rate, self._rates[1.0], self._rates[rate])

    def play(self, rate: float, device: str | int | None = None) -> tuple[str | None, float]:
        """Start playing the copy at `rate` on `device` (None: the default output).

        Returns (None, seconds it lasts), or (one sentence why nothing plays, 0.0).
        """
        samples = self.stretched(rate)
        error = play_audio(samples, device)
        return (error, 0.0) if error else (None, len(samples) / SAMPLE_RATE)

    @staticmethod
    def stop() -> None:
        stop_audio()


__all__ = ["REPLAY_RATES", "Replay", "ReplayPace"]
