"""The trainer's replay: a recording at another pace, its pitch kept, and how fast that is.

Qt-free; every method may block (a stretch of a minute of speech takes about a second)
and is meant to run off a UI thread. The stretched copies and the measured rates are
cached per speed and side, behind a lock, so a play and a measurement can overlap.
Both sides, the agent only or the caller only can be heard, as in the review's player;
the pace is always measured on the agent's side.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.playback import play_audio, stop_audio
from ..audio.player import Listen
from ..audio.sources import LoadedCall, load_call
from ..audio.tempo import articulation_rate, time_stretch
from ..audio.types import SAMPLE_RATE

RATE_MIN, RATE_MAX, RATE_STEP = 0.70, 1.30, 0.05  # × normal: the brief's demonstration range, in its steps
REPLAY_RATES = tuple(round(RATE_MIN + i * RATE_STEP, 2) for i in range(round((RATE_MAX - RATE_MIN) / RATE_STEP) + 1))
RATE_DIGITS = 2  # a rate is kept to 0.01×, so 0.7 + 0.05 and 0.75 are the same cached copy


def replay_rate(rate: float) -> float:
    """`rate` as the replay keys it (two decimals); ValueError outside REPLAY_RATES' range."""
    r = round(float(rate), RATE_DIGITS)
    if not RATE_MIN - 1e-9 <= r <= RATE_MAX + 1e-9:
        raise ValueError(f"the replay plays at {RATE_MIN:g}× to {RATE_MAX:g}×, not {rate:g}×")
    return r


@dataclass(frozen=True)
class ReplayPace:
    """The agent's articulation rate (syll/s of speech) in the original and at `rate`; None: too little speech."""

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
    """One loaded recording, stretched per side and measured on demand."""

    def __init__(self, call: LoadedCall) -> None:
        self.call = call
        self._stretched: dict[tuple[float, Listen], np.ndarray] = {}
        self._rates: dict[float, float | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> Replay:
        return cls(load_call(path))

    @property
    def has_caller(self) -> bool:
        """Whether the recording has a caller's side to hear."""
        return self.call.caller is not None

    def side(self, listen: Listen | str) -> Listen:
        """What `listen` plays on this recording: a one-sided recording has only its agent side."""
        listen = Listen(listen)
        return listen if self.has_caller else Listen.AGENT

    def original(self, listen: Listen | str = Listen.AGENT) -> np.ndarray:
        """The side(s) at normal speed: both sides mixed as the agent heard them, as the review's player plays them."""
        listen = self.side(listen)
        agent, caller = self.call.agent, self.call.caller
        if listen is Listen.AGENT or caller is None:
            return agent
        if listen is Listen.CALLER:
            return caller
        return np.clip(agent + caller, -1.0, 1.0)

    def stretched(self, rate: float, listen: Listen | str = Listen.AGENT) -> np.ndarray:
        """The side(s) `rate` times faster, same pitch (cached)."""
        key = (replay_rate(rate), self.side(listen))
        with self._lock:
            cached = self._stretched.get(key)
        if cached is None:
            source = self.original(key[1])
            cached = source if key[0] == 1.0 else time_stretch(source, key[0])
            with self._lock:
                self._stretched[key] = cached
        return cached

    def measured(self, rate: float) -> float | None:
        """The agent's articulation rate at `rate`, if already measured (else None)."""
        with self._lock:
            return self._rates.get(replay_rate(rate))

    def measure(self, rate: float) -> ReplayPace:
        """Measure the agent side of the original and of the copy at `rate` with the live pipeline (cached)."""
        rate = replay_rate(rate)
        for r in (1.0, rate):
            with self._lock:
                known = r in self._rates
            if not known:
                value = articulation_rate(self.stretched(r, Listen.AGENT))
                with self._lock:
                    self._rates[r] = value
        with self._lock:
            return ReplayPace(rate, self._rates[1.0], self._rates[rate])

    def play(self, rate: float, device: str | int | None = None, listen: Listen | str = Listen.AGENT) -> tuple[str | None, float]:
        """Start playing `listen` at `rate` on `device` (None: the default output).

        Returns (None, seconds it lasts), or (one sentence why nothing plays, 0.0).
        """
        samples = self.stretched(rate, listen)
        error = play_audio(samples, device)
        return (error, 0.0) if error else (None, len(samples) / SAMPLE_RATE)

    @staticmethod
    def stop() -> None:
        stop_audio()


__all__ = ["RATE_MAX", "RATE_MIN", "RATE_STEP", "REPLAY_RATES", "Replay", "ReplayPace", "replay_rate"]
